-- The index tables that have a primary key become WITHOUT ROWID tables: the rows are
-- stored in their key's b-tree, instead of in a rowid table plus a b-tree of the key.
-- Every row then costs one b-tree write less (two, with the lookup index, instead of
-- three): `carnet import` writes about twenty index rows per resource, and an
-- Observation's composite values, tokens and compartment are rows of these tables.
-- Their rows are small (no long text), as WITHOUT ROWID tables want; `search_text`
-- (a resource's words, long) keeps its rowid. The lookup indexes are made again as they
-- were; in a WITHOUT ROWID table an index holds the primary key, which a search reads
-- (res_type, res_id) from the index alone, as before.
CREATE TABLE search_token_rebuilt (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    system TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL,
    PRIMARY KEY (res_type, res_id, param, system, code)
) WITHOUT ROWID;
INSERT INTO search_token_rebuilt (res_type, res_id, param, system, code) SELECT res_type, res_id, param, system, code FROM search_token;
DROP TABLE search_token;
ALTER TABLE search_token_rebuilt RENAME TO search_token;
CREATE INDEX search_token_lookup ON search_token (res_type, param, code, system, res_id);

CREATE TABLE search_composite_rebuilt (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    grp INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    normalized TEXT NOT NULL,
    exact TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    version TEXT NOT NULL,
    url TEXT NOT NULL,
    value TEXT NOT NULL,
    unit TEXT NOT NULL,
    low DOUBLE PRECISION NOT NULL,
    high DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (res_type, res_id, param, grp, pos)
) WITHOUT ROWID;
INSERT INTO search_composite_rebuilt (res_type, res_id, param, grp, pos, system, code, normalized, exact, target_type, target_id, version, url, value, unit, low, high) SELECT res_type, res_id, param, grp, pos, system, code, normalized, exact, target_type, target_id, version, url, value, unit, low, high FROM search_composite;
DROP TABLE search_composite;
ALTER TABLE search_composite_rebuilt RENAME TO search_composite;
CREATE INDEX search_composite_lookup ON search_composite (res_type, param, pos, code);

CREATE TABLE search_position_rebuilt (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (res_type, res_id, param)
) WITHOUT ROWID;
INSERT INTO search_position_rebuilt (res_type, res_id, param, latitude, longitude) SELECT res_type, res_id, param, latitude, longitude FROM search_position;
DROP TABLE search_position;
ALTER TABLE search_position_rebuilt RENAME TO search_position;
CREATE INDEX search_position_lookup ON search_position (res_type, param, latitude);

CREATE TABLE resource_compartment_rebuilt (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    PRIMARY KEY (res_type, res_id, patient_id)
) WITHOUT ROWID;
INSERT INTO resource_compartment_rebuilt (res_type, res_id, patient_id) SELECT res_type, res_id, patient_id FROM resource_compartment;
DROP TABLE resource_compartment;
ALTER TABLE resource_compartment_rebuilt RENAME TO resource_compartment;
CREATE INDEX resource_compartment_patient ON resource_compartment (patient_id, res_type);

CREATE TABLE resource_label_rebuilt (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    set_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (res_type, res_id, system, code)
) WITHOUT ROWID;
INSERT INTO resource_label_rebuilt (res_type, res_id, system, code, set_at) SELECT res_type, res_id, system, code, set_at FROM resource_label;
DROP TABLE resource_label;
ALTER TABLE resource_label_rebuilt RENAME TO resource_label;
CREATE INDEX resource_label_code ON resource_label (system, code);
