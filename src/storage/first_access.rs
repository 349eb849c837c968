//! The first access of each professional to each patient's record (table
//! `professional_first_access`), so that the patient is notified of it once
//! (DMP-RULES.md §8). One insert that does nothing when the pair is known: cheap on every
//! access, and two concurrent first accesses cannot both count as the first (the second
//! waits for the first's row on PostgreSQL; SQLite has one writer). Knows nothing of
//! consent, users or HTTP.

use diesel::prelude::*;

use super::conn::{Conn, on_conn};
use super::error::StorageError;
use super::schema::professional_first_access as first_access;

/// Records that `practitioner` (`Practitioner/{id}`) accessed the record of patient
/// `patient_id` at `at`, inside the caller's transaction; returns whether it is the first
/// such access.
pub fn record(
    conn: &mut Conn<'_>,
    patient_id: &str,
    practitioner: &str,
    at: i64,
) -> Result<bool, StorageError> {
    let row = (
        first_access::patient_id.eq(patient_id),
        first_access::practitioner.eq(practitioner),
        first_access::first_at.eq(at),
    );
    let inserted = on_conn!(conn, c => diesel::insert_into(first_access::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}
