-- The planner's statistics of the index tables know each column alone; their keys are
-- strongly correlated (a code belongs to one parameter of one type), so it multiplied
-- their selectivities and took a code shared by thousands of documents for one row,
-- driving `DocumentReference?patient=…&type=…` from the type instead of the patient.
-- Multi-column statistics (most common combinations, functional dependencies) give it
-- the real counts. They are computed by the next ANALYZE (autovacuum's, or the one
-- `carnet import` runs after a load).
CREATE STATISTICS search_token_keys (mcv, dependencies) ON res_type, param, system, code FROM search_token;
CREATE STATISTICS search_reference_keys (mcv, dependencies) ON res_type, param, target_type FROM search_reference;
CREATE STATISTICS search_string_keys (mcv, dependencies) ON res_type, param FROM search_string;
CREATE STATISTICS search_date_keys (mcv, dependencies) ON res_type, param FROM search_date;
