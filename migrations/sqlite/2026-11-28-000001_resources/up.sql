-- Every version of every resource, in commit order (seq), and the current version of each.
CREATE TABLE resource_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    version_id BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    method TEXT NOT NULL,
    is_deleted BOOLEAN NOT NULL,
    content TEXT,
    author TEXT
);
CREATE UNIQUE INDEX resource_versions_key ON resource_versions (res_type, res_id, version_id);
CREATE INDEX resource_versions_type_seq ON resource_versions (res_type, seq);
CREATE INDEX resource_versions_time ON resource_versions (last_updated);

CREATE TABLE current_resources (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    version_id BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    is_deleted BOOLEAN NOT NULL,
    content TEXT,
    PRIMARY KEY (res_type, res_id)
);

-- Token values of the current version (identifiers for now; the search issue adds the rest).
CREATE TABLE search_token (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    system TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL,
    PRIMARY KEY (res_type, res_id, param, system, code)
);
CREATE INDEX search_token_lookup ON search_token (res_type, param, code, system);
