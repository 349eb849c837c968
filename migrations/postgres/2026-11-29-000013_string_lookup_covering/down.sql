DROP INDEX search_string_lookup;
CREATE INDEX search_string_lookup ON search_string (res_type, param, normalized text_pattern_ops);
