-- The facts the consent engine decides on (consent::ResourceFacts: document class and
-- types, categories, authors, clinical date) for the current version of each resource,
-- written with its index rows, so that the access filter of a search reads exactly what
-- the decision point reads. `kind` is class, doctype, category, author or date (`at`, ms).
CREATE TABLE resource_fact (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX resource_fact_owner ON resource_fact (res_type, res_id);
CREATE INDEX resource_fact_lookup ON resource_fact (kind, code);
