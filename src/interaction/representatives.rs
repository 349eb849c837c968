//! DMP-RULES.md §3: a patient has at most one active legal representative. Storing a
//! RelatedPerson that is an active legal representative (relationship CUR, GRD or CURTL,
//! `consent::legal_representation_of`) of a patient who already has another one is
//! refused as a business rule (422), in the caller's transaction, so a transaction bundle
//! is refused whole. The patient's record is locked first (`storage::record_lock`), so
//! that two concurrent writers cannot both pass the check.

use serde_json::Value;

use super::access;
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use crate::consent::legal_representation_of;
use crate::storage::Conn;
use crate::storage::record_lock::lock_record;

/// Refuses `RelatedPerson/{id}` with content `value` when it would be a second active
/// legal representative of its patient. Other resources pass.
pub(crate) fn check_one_active(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &str,
    id: &str,
    value: &Value,
) -> Result<(), InteractionError> {
    if res_type != "RelatedPerson" {
        return Ok(());
    }
    let Some(representation) = legal_representation_of(value) else {
        return Ok(());
    };
    let patient = representation.patient_id;
    lock_record(conn, &patient)?;
    let others = access::related_persons_of(conn, services, &patient, context.now_millis)?;
    let active = others
        .iter()
        .filter(|(other, _)| other != id)
        .find(|(_, json)| legal_representation_of(json).is_some_and(|r| r.patient_id == patient));
    match active {
        None => Ok(()),
        Some((other, _)) => Err(InteractionError::Unprocessable(format!(
            "Patient/{patient} already has an active legal representative \
             (RelatedPerson/{other}): a patient has at most one (set `active` to false on \
             the other first) (dmp.representative.one-active)"
        ))),
    }
}
