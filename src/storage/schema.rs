//! Diesel table definitions, shared by the SQLite and PostgreSQL backends. Must match
//! `migrations/sqlite` and `migrations/postgres` (which differ only in dialect). Index
//! tables have no key of their own: the key declared here is only diesel's handle.

diesel::table! {
    resource_versions (seq) {
        seq -> BigInt,
        res_type -> Text,
        res_id -> Text,
        version_id -> BigInt,
        last_updated -> BigInt,
        method -> Text,
        is_deleted -> Bool,
        content -> Nullable<Text>,
        author -> Nullable<Text>,
    }
}

diesel::table! {
    current_resources (res_type, res_id) {
        res_type -> Text,
        res_id -> Text,
        version_id -> BigInt,
        last_updated -> BigInt,
        is_deleted -> Bool,
        content -> Nullable<Text>,
    }
}

diesel::table! {
    search_token (res_type, res_id, param, system, code) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        system -> Text,
        code -> Text,
    }
}

diesel::table! {
    search_string (res_type, res_id, param) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        normalized -> Text,
        exact -> Text,
    }
}

diesel::table! {
    search_token_text (res_type, res_id, param) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        normalized -> Text,
    }
}

diesel::table! {
    search_token_type (res_type, res_id, param) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        type_system -> Text,
        type_code -> Text,
        value -> Text,
    }
}

diesel::table! {
    search_reference (res_type, res_id, param) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        target_type -> Text,
        target_id -> Text,
        version -> Text,
        url -> Text,
        identifier_system -> Text,
        identifier_value -> Text,
    }
}

diesel::table! {
    search_date (res_type, res_id, param) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        low -> BigInt,
        high -> BigInt,
    }
}

diesel::table! {
    search_number (res_type, res_id, param) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        value -> Text,
        low -> Double,
        high -> Double,
    }
}

diesel::table! {
    search_quantity (res_type, res_id, param) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        value -> Text,
        low -> Double,
        high -> Double,
        system -> Text,
        code -> Text,
        unit -> Text,
    }
}

diesel::table! {
    search_uri (res_type, res_id, param) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        value -> Text,
    }
}

diesel::table! {
    search_composite (res_type, res_id, param, grp, pos) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        grp -> Integer,
        pos -> Integer,
        system -> Text,
        code -> Text,
        normalized -> Text,
        exact -> Text,
        target_type -> Text,
        target_id -> Text,
        version -> Text,
        url -> Text,
        value -> Text,
        unit -> Text,
        low -> Double,
        high -> Double,
    }
}

diesel::table! {
    search_text (res_type, res_id, param) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        words -> Text,
    }
}

diesel::table! {
    search_position (res_type, res_id, param) {
        res_type -> Text,
        res_id -> Text,
        param -> Text,
        latitude -> Double,
        longitude -> Double,
    }
}

diesel::table! {
    resource_fact (res_type, res_id, kind, system, code) {
        res_type -> Text,
        res_id -> Text,
        kind -> Text,
        system -> Text,
        code -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    resource_compartment (res_type, res_id, patient_id) {
        res_type -> Text,
        res_id -> Text,
        patient_id -> Text,
    }
}

diesel::table! {
    resource_label (res_type, res_id, system, code) {
        res_type -> Text,
        res_id -> Text,
        system -> Text,
        code -> Text,
        set_at -> BigInt,
    }
}

diesel::table! {
    accounts (identifier) {
        identifier -> Text,
        subject -> Text,
        patient -> Text,
        password_hash -> Text,
        must_change_password -> Bool,
        failed_attempts -> BigInt,
        locked_until -> Nullable<BigInt>,
        channel -> Text,
        address -> Text,
        created -> BigInt,
        updated -> BigInt,
    }
}

diesel::table! {
    login_challenges (id) {
        id -> Text,
        identifier -> Text,
        code_hash -> Text,
        created -> BigInt,
        expires -> BigInt,
        used -> Bool,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        created -> BigInt,
        channel -> Text,
        address -> Text,
        body -> Text,
        sent -> Bool,
        sent_at -> Nullable<BigInt>,
        attempts -> BigInt,
    }
}

diesel::table! {
    professional_first_access (patient_id, practitioner) {
        patient_id -> Text,
        practitioner -> Text,
        first_at -> BigInt,
    }
}

diesel::table! {
    index_backlog (res_type, res_id) {
        res_type -> Text,
        res_id -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    resource_versions,
    current_resources,
    search_token,
    search_string,
    search_token_text,
    search_token_type,
    search_reference,
    search_date,
    search_number,
    search_quantity,
    search_uri,
    search_composite,
    search_text,
    search_position,
    resource_fact,
    resource_compartment,
    resource_label,
    accounts,
    login_challenges,
    outbox,
    professional_first_access,
    index_backlog,
);
