//! Serialising the writes that check a rule across one patient's record (DMP-RULES.md §3:
//! at most one active legal representative per patient), so that two concurrent writers
//! cannot both pass the check: on PostgreSQL a transaction-level advisory lock keyed by the
//! patient id (held until commit or rollback, whether or not the Patient is stored); SQLite
//! has one writer at a time already. Knows nothing of consent or FHIR.

use super::conn::{Conn, Link};
use super::error::StorageError;

/// The advisory lock class of patient records (the first key of PostgreSQL's two-key form),
/// so that these locks never collide with others taken by another use.
const RECORD_LOCK_CLASS: i32 = 0x0DB0;

/// Locks the record of `patient_id` until the caller's transaction ends.
pub fn lock_record(conn: &mut Conn<'_>, patient_id: &str) -> Result<(), StorageError> {
    match &mut conn.link {
        #[cfg(feature = "sqlite")]
        Link::Sqlite(_) => Ok(()),
        #[cfg(feature = "postgres")]
        Link::Postgres(c) => {
            use diesel::RunQueryDsl;
            use diesel::sql_types::Text;
            diesel::sql_query(format!(
                "SELECT pg_advisory_xact_lock({RECORD_LOCK_CLASS}, hashtext($1))"
            ))
            .bind::<Text, _>(patient_id)
            .execute(&mut **c)?;
            Ok(())
        }
    }
}
