-- The token lookup index also holds the resource id, so that a token search reads it
-- alone: without it SQLite (with no statistics) prefers scanning every token of the type
-- through the primary key, which covers the query.
DROP INDEX search_token_lookup;
CREATE INDEX search_token_lookup ON search_token (res_type, param, code, system, res_id);
