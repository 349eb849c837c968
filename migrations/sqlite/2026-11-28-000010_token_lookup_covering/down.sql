DROP INDEX search_token_lookup;
CREATE INDEX search_token_lookup ON search_token (res_type, param, code, system);
