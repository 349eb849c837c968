//! The stamp of a patient's record: the current version of its Patient and of every live
//! Consent whose `patient` is that Patient. Any write that can change what the consent
//! engine reads of a record (the Patient: status, médecin traitant; a Consent created,
//! changed, deleted or moved to another patient) changes the stamp, because every write
//! makes a new version and a deletion or a move drops the Consent's `patient` index row.
//! One small indexed query: cheaper than reading and parsing the record, so that a
//! cache of parsed records can be checked on every request.

use diesel::prelude::*;

use super::conn::{Conn, on_conn};
use super::error::StorageError;
use super::schema::{current_resources, search_reference};

/// What a record's stamp is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordStamp {
    /// The Patient's current version and whether it is a deletion; `None` when never stored.
    pub patient: Option<(i64, bool)>,
    /// `(id, version)` of the live Consents of the patient, sorted by id.
    pub consents: Vec<(String, i64)>,
}

/// The stamp of `patient_id`'s record, read inside the caller's transaction (one query).
pub fn record_stamp(conn: &mut Conn<'_>, patient_id: &str) -> Result<RecordStamp, StorageError> {
    let patient = current_resources::table
        .filter(current_resources::res_type.eq("Patient"))
        .filter(current_resources::res_id.eq(patient_id))
        .select((
            current_resources::res_type,
            current_resources::res_id,
            current_resources::version_id,
            current_resources::is_deleted,
        ));
    let consents = search_reference::table
        .inner_join(
            current_resources::table.on(current_resources::res_type
                .eq(search_reference::res_type)
                .and(current_resources::res_id.eq(search_reference::res_id))),
        )
        .filter(search_reference::res_type.eq("Consent"))
        .filter(search_reference::param.eq("patient"))
        .filter(search_reference::target_type.eq("Patient"))
        .filter(search_reference::target_id.eq(patient_id))
        .filter(current_resources::is_deleted.eq(false))
        .select((
            current_resources::res_type,
            current_resources::res_id,
            current_resources::version_id,
            current_resources::is_deleted,
        ));
    let rows = on_conn!(conn, c => patient
        .union_all(consents)
        .load::<(String, String, i64, bool)>(c))?;
    let mut stamp = RecordStamp {
        patient: None,
        consents: Vec::new(),
    };
    for (res_type, id, version, deleted) in rows {
        if res_type == "Patient" {
            stamp.patient = Some((version, deleted));
        } else {
            stamp.consents.push((id, version));
        }
    }
    // A Consent naming the patient twice is one Consent.
    stamp.consents.sort();
    stamp.consents.dedup();
    Ok(stamp)
}
