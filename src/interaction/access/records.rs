//! Looking up what the consent engine decides on, from storage: the record of a patient
//! (`consent::RecordFacts`: status, médecin traitant, parsed Consents), the subject's own
//! facts (the patient a RelatedPerson represents, a Practitioner's stored profession), and
//! the records a professional can reach (as médecin traitant or named by a Consent).

use serde_json::Value;

use crate::auth::{Principal, Subject};
use crate::consent::{
    ConsentPolicy, RecordFacts, RecordStatus, SubjectLookup, general_practitioners_of,
    legal_representation_of, majority_of, profession_of,
};
use crate::interaction::context::Services;
use crate::interaction::error::InteractionError;
use crate::search::query::{Handling, parse_search};
use crate::storage::search::{AccessFilter, FoundRow, PagePosition, PageRequest, search};
use crate::storage::{Conn, versions};

/// Most Consents of one patient, or records of one professional, read for a decision.
const LOOKUP_LIMIT: i64 = 10_000;

/// The record of `patient_id`: `None` when the Patient was never stored.
pub(crate) fn load_record(
    conn: &mut Conn<'_>,
    services: &Services,
    patient_id: &str,
    now_millis: i64,
) -> Result<Option<RecordFacts>, InteractionError> {
    let Some(row) = versions::current(conn, "Patient", patient_id)? else {
        return Ok(None);
    };
    let patient: Value = match row.content.as_deref() {
        Some(json) if !row.is_deleted => serde_json::from_str(json).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let status = if row.is_deleted {
        RecordStatus::Destroyed
    } else if patient.get("active").and_then(Value::as_bool) == Some(false)
        || patient.get("deceasedBoolean").and_then(Value::as_bool) == Some(true)
        || patient.get("deceasedDateTime").is_some()
    {
        RecordStatus::Closed
    } else {
        RecordStatus::Open
    };
    let consents = find(
        conn,
        services,
        "Consent",
        &[("patient", &format!("Patient/{patient_id}"))],
        now_millis,
    )?
    .into_iter()
    .map(|row| {
        let parsed = row
            .content
            .as_deref()
            .and_then(|json| serde_json::from_str::<Value>(json).ok())
            .ok_or_else(|| {
                crate::consent::ConsentError::InvalidConsent("its json cannot be read".to_owned())
            })
            .and_then(|value| ConsentPolicy::from_json(&value));
        parsed.unwrap_or_else(|error| {
            log::warn!("Consent/{} cannot be read: {error}", row.res_id);
            ConsentPolicy::unreadable(
                Some(row.res_id.clone()),
                Some(patient_id.to_owned()),
                &error,
            )
        })
    })
    .collect();
    Ok(Some(RecordFacts {
        patient_id: patient_id.to_owned(),
        status,
        general_practitioners: general_practitioners_of(&patient),
        consents,
        majority_millis: majority_of(&patient),
    }))
}

/// What the policy needs to know of the subject beyond its token.
pub(crate) fn subject_lookup(
    conn: &mut Conn<'_>,
    principal: &Principal,
) -> Result<SubjectLookup, InteractionError> {
    let stored = |conn: &mut Conn<'_>,
                  res_type: &str,
                  id: &str|
     -> Result<Option<Value>, InteractionError> {
        Ok(versions::current(conn, res_type, id)?
            .filter(|row| !row.is_deleted)
            .and_then(|row| row.content)
            .and_then(|json| serde_json::from_str(&json).ok()))
    };
    let mut lookup = SubjectLookup::default();
    match &principal.subject {
        Subject::RelatedPerson(id) => {
            lookup.representation =
                stored(conn, "RelatedPerson", id)?.and_then(|r| legal_representation_of(&r));
        }
        Subject::Practitioner(id) if principal.profession.is_none() => {
            lookup.stored_profession =
                stored(conn, "Practitioner", id)?.and_then(|p| profession_of(&p));
        }
        _ => {}
    }
    Ok(lookup)
}

/// The patients whose record names the professional: as médecin traitant, or as an actor
/// (them or their organization) of a Consent. Which of these they may access is the
/// policy's decision.
pub(crate) fn records_naming(
    conn: &mut Conn<'_>,
    services: &Services,
    practitioner: &str,
    organization: Option<&str>,
    now_millis: i64,
) -> Result<Vec<String>, InteractionError> {
    let mut patients: Vec<String> = find(
        conn,
        services,
        "Patient",
        &[("general-practitioner", practitioner)],
        now_millis,
    )?
    .into_iter()
    .map(|row| row.res_id)
    .collect();
    for actor in std::iter::once(practitioner).chain(organization) {
        for row in find(conn, services, "Consent", &[("actor", actor)], now_millis)? {
            let patient = row
                .content
                .as_deref()
                .and_then(|json| serde_json::from_str::<Value>(json).ok())
                .and_then(|consent| {
                    consent
                        .pointer("/patient/reference")
                        .and_then(Value::as_str)
                        .and_then(|r| r.strip_prefix("Patient/"))
                        .map(str::to_owned)
                });
            patients.extend(patient);
        }
    }
    patients.sort();
    patients.dedup();
    Ok(patients)
}

/// The live RelatedPersons whose `patient` is `Patient/{patient_id}`, as `(id, JSON)` (no
/// access restriction: for the write path's rules, never returned to a client).
pub(crate) fn related_persons_of(
    conn: &mut Conn<'_>,
    services: &Services,
    patient_id: &str,
    now_millis: i64,
) -> Result<Vec<(String, Value)>, InteractionError> {
    let rows = find(
        conn,
        services,
        "RelatedPerson",
        &[("patient", &format!("Patient/{patient_id}"))],
        now_millis,
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let json = serde_json::from_str(row.content.as_deref()?).ok()?;
            Some((row.res_id, json))
        })
        .collect())
}

/// Live resources of `res_type` matching the search `pairs` (no access restriction: for
/// the policy's own lookups only, never returned to a client).
fn find(
    conn: &mut Conn<'_>,
    services: &Services,
    res_type: &str,
    pairs: &[(&str, &str)],
    now_millis: i64,
) -> Result<Vec<FoundRow>, InteractionError> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    let query = parse_search(&services.registry, Some(res_type), &pairs, Handling::Strict)
        .map_err(|e| InteractionError::invalid(e.to_string()))?;
    let page = PageRequest {
        position: PagePosition::Offset(0),
        count: LOOKUP_LIMIT,
        with_total: false,
        first_read: None,
    };
    Ok(search(conn, &query, &AccessFilter::default(), page, now_millis)?.rows)
}
