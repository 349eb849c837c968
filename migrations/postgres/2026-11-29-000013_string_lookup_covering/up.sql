-- The string lookup index also holds the resource id, so that a string search and its
-- count can read the index alone (index-only scans) instead of one table row per match.
DROP INDEX search_string_lookup;
CREATE INDEX search_string_lookup ON search_string (res_type, param, normalized text_pattern_ops, res_id);
