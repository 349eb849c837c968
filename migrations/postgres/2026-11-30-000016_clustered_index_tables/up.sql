-- SQLite only (its index tables with a primary key become WITHOUT ROWID tables): a
-- PostgreSQL table is a heap with separate indexes either way, so this migration changes
-- nothing here and exists to keep both backends at the same migration level.
SELECT 1;
