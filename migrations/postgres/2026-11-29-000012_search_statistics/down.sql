DROP STATISTICS IF EXISTS search_token_keys;
DROP STATISTICS IF EXISTS search_reference_keys;
DROP STATISTICS IF EXISTS search_string_keys;
DROP STATISTICS IF EXISTS search_date_keys;
