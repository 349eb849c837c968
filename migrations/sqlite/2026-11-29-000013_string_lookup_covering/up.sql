-- The string lookup index also holds the resource id, so that a string search and its
-- count read the index alone instead of one table row per match (a name shared by 200
-- patients: 200 reads of rows scattered over the table).
DROP INDEX search_string_lookup;
CREATE INDEX search_string_lookup ON search_string (res_type, param, normalized, res_id);
