-- Composite search parameters (search.html#composite): one row per component of each
-- composite value of a resource, `grp` numbering the values of the resource and `pos` the
-- component, so that the components of one value are matched together. The columns are
-- named as in the table of each component's type (token: system, code; string:
-- normalized, exact; reference: target_type, target_id, version, url; number and
-- quantity: value, low, high, system, code, unit; date: low, high in ms).
CREATE TABLE search_composite (
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
);
CREATE INDEX search_composite_lookup ON search_composite (res_type, param, pos, code);
