-- PostgreSQL only (multi-column planner statistics of the index tables): SQLite plans
-- searches by rules (see `storage::search`), so this migration changes nothing here and
-- exists to keep both backends at the same migration level.
SELECT 1;
