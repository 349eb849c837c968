//! The stamp of a patient's record: the current version of its Patient and of every live
//! Consent whose `patient` is that Patient. Any write that can change what the consent
//! engine reads of a record (the Patient: status, médecin traitant; a Consent created,
//! changed, deleted or moved to another patient) changes the stamp, because every write
//! makes a new version and a deletion or a move drops the Consent's `patient` index row.
//! One small indexed query for any number of records: cheaper than reading and parsing
//! them, so that a cache of parsed records can be checked on every request. A search
//! naming its patients also needs the other records sharing a resource with theirs: the
//! same round trip answers both.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::conn::{Conn, on_conn};
use super::error::StorageError;
use super::schema::{current_resources, resource_compartment, search_reference};

/// What a record's stamp is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordStamp {
    /// The Patient's current version and whether it is a deletion; `None` when never stored.
    pub patient: Option<(i64, bool)>,
    /// `(id, version)` of the live Consents of the patient, sorted by id.
    pub consents: Vec<(String, i64)>,
}

/// The stamps of `patients`' records and, when `sharing_types` is given, the other
/// patients whose compartments share a resource of those types (any when empty) with
/// theirs (sorted).
pub struct StampsAndSharing {
    pub stamps: HashMap<String, RecordStamp>,
    pub sharing: Vec<String>,
}

/// Most patients named by one query (each is bound three times; SQLite binds at most
/// 32,766 values).
const MOST_PATIENTS_PER_QUERY: usize = 5_000;

/// A row of the union: `(patient, type, id, version, deleted)`; a sharing patient is a
/// row of type `SHARING`.
type StampRow = (String, String, String, i64, bool);

/// The type column of a row naming a patient that shares a resource (constant columns are
/// bound values, not SQL text, so that the statement stays cacheable: prepared once per
/// connection).
const SHARING: &str = "";

diesel::alias!(resource_compartment as sharing: SharingCompartment);

/// An always-true condition written as SQL text, which diesel never prepares: the statement
/// carrying it is planned by PostgreSQL for its actual values on every run.
fn planned_each_time() -> diesel::expression::SqlLiteral<Bool> {
    diesel::dsl::sql::<Bool>("TRUE")
}

/// The stamp of `patient_id`'s record, read inside the caller's transaction (one query).
pub fn record_stamp(conn: &mut Conn<'_>, patient_id: &str) -> Result<RecordStamp, StorageError> {
    let patients = [patient_id.to_owned()];
    let mut found = stamps_and_sharing(conn, &patients, None)?;
    Ok(found.stamps.remove(patient_id).unwrap_or_default())
}

/// The stamps of `patients`' records (every patient has one) and, with `sharing_types`,
/// the patients sharing a resource of those types with them, read inside the caller's
/// transaction in one query.
pub fn stamps_and_sharing(
    conn: &mut Conn<'_>,
    patients: &[String],
    sharing_types: Option<&[String]>,
) -> Result<StampsAndSharing, StorageError> {
    let mut found = StampsAndSharing {
        stamps: patients
            .iter()
            .map(|p| (p.clone(), RecordStamp::default()))
            .collect(),
        sharing: Vec::new(),
    };
    if patients.is_empty() {
        return Ok(found);
    }
    if patients.len() > MOST_PATIENTS_PER_QUERY {
        for chunk in patients.chunks(MOST_PATIENTS_PER_QUERY) {
            let part = stamps_and_sharing(conn, chunk, sharing_types)?;
            found.stamps.extend(part.stamps);
            found.sharing.extend(part.sharing);
        }
        found.sharing.retain(|p| !found.stamps.contains_key(p));
        found.sharing.sort();
        found.sharing.dedup();
        return Ok(found);
    }
    // One patient (a read, a search naming its patient) is compared with `=`: the statement
    // stays prepared and PostgreSQL's generic plan probes the indexes. Several are compared
    // with `= ANY` in a statement planned for its actual values (`planned_each_time`): a
    // generic plan over an array of unknown length hashed the whole compartment table.
    let one = match patients {
        [patient] => Some(patient),
        _ => None,
    };
    macro_rules! stamp_query {
        () => {{
            let mut patient_rows = current_resources::table
                .filter(current_resources::res_type.eq("Patient"))
                .select((
                    current_resources::res_id,
                    current_resources::res_type,
                    current_resources::res_id,
                    current_resources::version_id,
                    current_resources::is_deleted,
                ))
                .into_boxed();
            let mut consent_rows = search_reference::table
                .inner_join(
                    current_resources::table.on(current_resources::res_type
                        .eq(search_reference::res_type)
                        .and(current_resources::res_id.eq(search_reference::res_id))),
                )
                .filter(search_reference::res_type.eq("Consent"))
                .filter(search_reference::param.eq("patient"))
                .filter(search_reference::target_type.eq("Patient"))
                .filter(current_resources::is_deleted.eq(false))
                .select((
                    search_reference::target_id,
                    current_resources::res_type,
                    current_resources::res_id,
                    current_resources::version_id,
                    current_resources::is_deleted,
                ))
                .into_boxed();
            match one {
                Some(patient) => {
                    patient_rows = patient_rows.filter(current_resources::res_id.eq(patient));
                    consent_rows = consent_rows.filter(search_reference::target_id.eq(patient));
                }
                None => {
                    patient_rows = patient_rows
                        .filter(current_resources::res_id.eq_any(patients))
                        .filter(planned_each_time());
                    consent_rows =
                        consent_rows.filter(search_reference::target_id.eq_any(patients));
                }
            }
            patient_rows.union_all(consent_rows)
        }};
    }
    macro_rules! union_query {
        ($types:expr) => {{
            let types: &[String] = $types;
            let stamp_rows = stamp_query!();
            let mut sharing_rows = resource_compartment::table
                .inner_join(
                    sharing.on(sharing
                        .field(resource_compartment::res_type)
                        .eq(resource_compartment::res_type)
                        .and(
                            sharing
                                .field(resource_compartment::res_id)
                                .eq(resource_compartment::res_id),
                        )),
                )
                .select((
                    sharing.field(resource_compartment::patient_id),
                    SHARING.into_sql::<Text>(),
                    "".into_sql::<Text>(),
                    0_i64.into_sql::<BigInt>(),
                    false.into_sql::<Bool>(),
                ))
                .distinct()
                .into_boxed();
            sharing_rows = match one {
                Some(patient) => sharing_rows
                    .filter(resource_compartment::patient_id.eq(patient))
                    .filter(sharing.field(resource_compartment::patient_id).ne(patient)),
                None => sharing_rows
                    .filter(resource_compartment::patient_id.eq_any(patients))
                    .filter(
                        sharing
                            .field(resource_compartment::patient_id)
                            .ne_all(patients),
                    ),
            };
            // (the type too is compared with `=` when there is one: both columns of the
            // compartment index then bound the scan, past the record's many AuditEvents)
            sharing_rows = match types {
                [] => sharing_rows,
                [one_type] => sharing_rows.filter(resource_compartment::res_type.eq(one_type)),
                _ => sharing_rows.filter(resource_compartment::res_type.eq_any(types)),
            };
            stamp_rows.union_all(sharing_rows)
        }};
    }
    let rows = match sharing_types {
        Some(types) => on_conn!(conn, c => union_query!(types).load::<StampRow>(c))?,
        None => on_conn!(conn, c => stamp_query!().load::<StampRow>(c))?,
    };
    for (patient, res_type, id, version, deleted) in rows {
        if res_type == SHARING {
            found.sharing.push(patient);
            continue;
        }
        let Some(stamp) = found.stamps.get_mut(&patient) else {
            continue;
        };
        if res_type == "Patient" {
            stamp.patient = Some((version, deleted));
        } else {
            stamp.consents.push((id, version));
        }
    }
    for stamp in found.stamps.values_mut() {
        // A Consent naming the patient twice is one Consent.
        stamp.consents.sort();
        stamp.consents.dedup();
    }
    found.sharing.sort();
    found.sharing.dedup();
    Ok(found)
}
