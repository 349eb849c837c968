-- Search index rows of the current version of each resource, one table per parameter type
-- PostgreSQL only: text_pattern_ops on the columns matched with LIKE 'prefix%', so that a
-- non-C collation still lets those indexes serve starts-with searches.
-- (tokens stay in search_token of the first migration), plus the patient compartment and
-- the security labels of each resource, so that search and the consent filter are joins.
CREATE TABLE search_string (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    normalized TEXT NOT NULL,
    exact TEXT NOT NULL
);
CREATE INDEX search_string_owner ON search_string (res_type, res_id);
CREATE INDEX search_string_lookup ON search_string (res_type, param, normalized text_pattern_ops);

CREATE TABLE search_token_text (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    normalized TEXT NOT NULL
);
CREATE INDEX search_token_text_owner ON search_token_text (res_type, res_id);
CREATE INDEX search_token_text_lookup ON search_token_text (res_type, param, normalized text_pattern_ops);

CREATE TABLE search_token_type (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    type_system TEXT NOT NULL,
    type_code TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX search_token_type_owner ON search_token_type (res_type, res_id);
CREATE INDEX search_token_type_lookup ON search_token_type (res_type, param, value);

CREATE TABLE search_reference (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    version TEXT NOT NULL,
    url TEXT NOT NULL,
    identifier_system TEXT NOT NULL,
    identifier_value TEXT NOT NULL
);
CREATE INDEX search_reference_owner ON search_reference (res_type, res_id);
CREATE INDEX search_reference_lookup ON search_reference (res_type, param, target_id);
CREATE INDEX search_reference_target ON search_reference (target_type, target_id);

CREATE TABLE search_date (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    low BIGINT NOT NULL,
    high BIGINT NOT NULL
);
CREATE INDEX search_date_owner ON search_date (res_type, res_id);
CREATE INDEX search_date_low ON search_date (res_type, param, low);
CREATE INDEX search_date_high ON search_date (res_type, param, high);

CREATE TABLE search_number (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    value TEXT NOT NULL,
    low DOUBLE PRECISION NOT NULL,
    high DOUBLE PRECISION NOT NULL
);
CREATE INDEX search_number_owner ON search_number (res_type, res_id);
CREATE INDEX search_number_lookup ON search_number (res_type, param, low);

CREATE TABLE search_quantity (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    value TEXT NOT NULL,
    low DOUBLE PRECISION NOT NULL,
    high DOUBLE PRECISION NOT NULL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    unit TEXT NOT NULL
);
CREATE INDEX search_quantity_owner ON search_quantity (res_type, res_id);
CREATE INDEX search_quantity_lookup ON search_quantity (res_type, param, code, low);

CREATE TABLE search_uri (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX search_uri_owner ON search_uri (res_type, res_id);
CREATE INDEX search_uri_lookup ON search_uri (res_type, param, value text_pattern_ops);

CREATE TABLE resource_compartment (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    PRIMARY KEY (res_type, res_id, patient_id)
);
CREATE INDEX resource_compartment_patient ON resource_compartment (patient_id, res_type);

CREATE TABLE resource_label (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (res_type, res_id, system, code)
);
CREATE INDEX resource_label_code ON resource_label (system, code);
