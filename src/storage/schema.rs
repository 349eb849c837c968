//! Diesel table definitions, shared by the SQLite and PostgreSQL backends. Must match
//! `migrations/sqlite` and `migrations/postgres` (which differ only in dialect).

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

diesel::allow_tables_to_appear_in_same_query!(resource_versions, current_resources, search_token);
