-- Resources whose search rows (the `search_*` tables) are not written yet: the AuditEvents
-- of reads and searches are stored with their versions, compartment, labels and facts
-- before the answer, and their search rows are written later by the deferred indexer, or
-- before any search that reads them (ARCHITECTURE.md, "Deferred search rows"). A row here
-- means the current version of that resource has no search rows; writing them removes it
-- in the same transaction, and so does any change or deletion of the resource.
CREATE TABLE index_backlog (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    PRIMARY KEY (res_type, res_id)
) WITHOUT ROWID;
