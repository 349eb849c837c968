//! The stamp of a patient's record: the current version of its Patient and of every live
//! Consent whose `patient` is that Patient. Any write that can change what the consent
//! engine reads of a record (the Patient: status, médecin traitant; a Consent created,
//! changed, deleted or moved to another patient) changes the stamp, because every write
//! makes a new version and a deletion or a move drops the Consent's `patient` index row.
//! One small indexed query for any number of records: cheaper than reading and parsing
//! them, so that a cache of parsed records can be checked on every request. A search
//! naming its patients also needs the other records sharing a resource with theirs, and a
//! read the facts of the resource read (`storage::stored_facts`): the same round trip
//! answers both, since the stamp's rows are written here once (`stamp_rows`) for any list
//! of patients, given or selected.
//!
//! Patients are bound one by one (`IN (?, ?, …)`), never as one array: the statement of a
//! number of patients is prepared once, and PostgreSQL's generic plan for it probes the
//! indexes (over an array of unknown length, it hashed the whole compartment table).

use std::collections::HashMap;

use super::conn::Conn;
use super::error::StorageError;
use super::search::sql::Sql;
use super::search::{Dialect, dialect_of};
use super::stored_facts::{FactRow, load_fact_rows};

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

/// The `lookup` of a row giving a Patient's version (`at`), `second` set when deleted.
pub(crate) const PATIENT_VERSION: i32 = 10;
/// The `lookup` of a row giving a live Consent (`first`) of the patient and its version.
pub(crate) const CONSENT_VERSION: i32 = 11;
/// The `lookup` of a row naming a patient that shares a resource.
const SHARING: i32 = 12;

/// Most patients named by one query (each is bound three times; SQLite binds at most
/// 32,766 values).
const MOST_PATIENTS_PER_QUERY: usize = 5_000;

/// The stamp of `patient_id`'s record, read inside the caller's transaction (one query).
pub fn record_stamp(conn: &mut Conn<'_>, patient_id: &str) -> Result<RecordStamp, StorageError> {
    let patients = [patient_id.to_owned()];
    let mut found = stamps_and_sharing(conn, &patients, None)?;
    Ok(found.stamps.remove(patient_id).unwrap_or_default())
}

/// The rows of the stamps of the patients `patients` gives (an `IN (…)` list or a
/// subquery, with its binds), as `storage::stored_facts` rows: `PATIENT_VERSION` and
/// `CONSENT_VERSION`, `id` the patient.
pub(crate) fn stamp_rows(patients: &Sql) -> Sql {
    let mut sql = Sql::new(&format!(
        "SELECT {PATIENT_VERSION} AS lookup, p.res_id AS id, NULL AS first, \
         CASE WHEN p.is_deleted THEN 'deleted' END AS second, p.version_id AS at \
         FROM current_resources p WHERE p.res_type = 'Patient' AND p.res_id IN ("
    ));
    sql.append(patients.clone());
    sql.push(&format!(
        ") UNION ALL SELECT {CONSENT_VERSION}, s.target_id, c.res_id, NULL, c.version_id \
         FROM search_reference s JOIN current_resources c \
         ON c.res_type = s.res_type AND c.res_id = s.res_id \
         WHERE s.res_type = 'Consent' AND s.param = 'patient' AND s.target_type = 'Patient' \
         AND NOT c.is_deleted AND s.target_id IN ("
    ));
    sql.append(patients.clone());
    sql.push(")");
    sql
}

/// Adds the stamp rows among `rows` to `stamps` (a patient's entry is created by its
/// first row); other rows are left to the caller.
pub(crate) fn collect_stamps(rows: &[FactRow], stamps: &mut HashMap<String, RecordStamp>) {
    for row in rows {
        match row.lookup {
            PATIENT_VERSION => {
                stamps.entry(row.id.clone()).or_default().patient =
                    Some((row.at, row.second.is_some()));
            }
            CONSENT_VERSION => {
                if let Some(consent) = &row.first {
                    stamps
                        .entry(row.id.clone())
                        .or_default()
                        .consents
                        .push((consent.clone(), row.at));
                }
            }
            _ => {}
        }
    }
    for stamp in stamps.values_mut() {
        // A Consent naming the patient twice is one Consent.
        stamp.consents.sort();
        stamp.consents.dedup();
    }
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
    let sql = stamps_and_sharing_sql(patients, sharing_types, dialect_of(conn));
    let rows = load_fact_rows(conn, &sql)?;
    collect_stamps(&rows, &mut found.stamps);
    found.sharing = rows
        .into_iter()
        .filter(|row| row.lookup == SHARING)
        .map(|row| row.id)
        .collect();
    found.sharing.sort();
    found.sharing.dedup();
    Ok(found)
}

/// The statement of `stamps_and_sharing` for `patients` (at most
/// `MOST_PATIENTS_PER_QUERY`).
fn stamps_and_sharing_sql(
    patients: &[String],
    sharing_types: Option<&[String]>,
    dialect: Dialect,
) -> Sql {
    let mut listed = Sql::new("");
    listed.texts(patients.iter().cloned());
    let mut sql = stamp_rows(&listed);
    if let Some(types) = sharing_types {
        // The named patients' rows (`n`) drive, through the patient index: left to
        // itself, SQLite walked every row of the searched types (of `o`, or of `n` by its
        // primary key), a cost growing with the whole database, and must be told
        // (`INDEXED BY`; `CROSS JOIN` keeps its join order). PostgreSQL picks the index
        // from its statistics and plans the join as any inner join.
        let indexed = match dialect {
            Dialect::Sqlite => " INDEXED BY resource_compartment_patient",
            Dialect::Postgres => "",
        };
        sql.push(&format!(
            " UNION ALL SELECT DISTINCT {SHARING}, o.patient_id, NULL, NULL, CAST(0 AS BIGINT) \
             FROM resource_compartment n{indexed} CROSS JOIN resource_compartment o \
             WHERE o.res_type = n.res_type AND o.res_id = n.res_id AND n.patient_id IN ("
        ));
        sql.append(listed.clone());
        sql.push(") AND o.patient_id NOT IN (");
        sql.append(listed);
        sql.push(")");
        if !types.is_empty() {
            // (with the patient, the type bounds the scan of the compartment index, past
            // the record's many AuditEvents; written as names, the types let PostgreSQL
            // keep one generic plan for the statement: planning it took three times its run)
            sql.push(" AND n.res_type IN (");
            sql.type_names(types);
            sql.push(")");
        }
    }
    sql
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use crate::storage::Store;
    use crate::storage::search::sql::load_plan;

    #[test]
    fn the_named_patients_drive_the_search_for_records_sharing_a_resource() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let store = Store::open(&url, 2).unwrap();
        store.migrate().unwrap();
        let types = ["DocumentReference".to_owned()];
        for patients in [
            vec!["p1".to_owned()],
            vec!["p1".to_owned(), "p2".to_owned()],
        ] {
            for sharing_types in [&types[..], &[]] {
                let mut explain = Sql::new("EXPLAIN QUERY PLAN ");
                explain.append(stamps_and_sharing_sql(
                    &patients,
                    Some(sharing_types),
                    Dialect::Sqlite,
                ));
                let plan: Vec<String> = store
                    .read(|conn| load_plan(conn, &explain))
                    .unwrap()
                    .into_iter()
                    .map(|line| line.trim().to_owned())
                    .collect();
                let position = |table: &str| {
                    plan.iter()
                        .position(|line| line.starts_with(&format!("SEARCH {table} ")))
                };
                let (Some(named), Some(others)) = (position("n"), position("o")) else {
                    panic!("no search of the compartment index in {plan:#?}");
                };
                assert!(
                    named < others
                        && plan[named].contains("resource_compartment_patient (patient_id=?"),
                    "{plan:#?}"
                );
            }
        }
    }
}
