-- The first access of each professional to each patient's record (DMP-RULES.md §8): written
-- in the transaction of the access's AuditEvent; a row that already exists means the
-- access was not the first, so the patient is notified once.
CREATE TABLE professional_first_access (
    patient_id TEXT NOT NULL,
    practitioner TEXT NOT NULL,
    first_at BIGINT NOT NULL,
    PRIMARY KEY (patient_id, practitioner)
);
