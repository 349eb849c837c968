//! Consent inside searches (DESIGN.md "search"): before the query runs, the records the
//! subject may reach become the `RecordsFilter` of its SQL (so totals, counts, sort order
//! and pages only ever see what the subject may see); after it, every resource found is
//! decided again, and a drop at that stage is a bug, logged at error level. A compartment
//! search of a record a professional has no access to is 403, as the DMP's status check
//! discloses it. The search is audited with one AuditEvent per patient whose record it
//! showed (BALP Query, `audit::QueryTrail`).

use serde_json::Value;

use super::gate::Gate;
use super::record_forbidden;
use crate::audit::{AccessAction, QueryTrail};
use crate::consent::{Action, Decision};
use crate::fhir::ids::versioned_reference;
use crate::interaction::error::InteractionError;
use crate::search::query::{Column, Criterion, Match, ReferenceValue, SearchQuery};
use crate::storage::Conn;
use crate::storage::search::{AccessFilter, FoundRow};

/// Narrows `access` to what the gate's subject may see; `compartment` is the patient of a
/// compartment search.
pub(crate) fn narrow(
    conn: &mut Conn<'_>,
    gate: &mut Gate<'_>,
    query: &SearchQuery,
    compartment: Option<&str>,
    access: &mut AccessFilter,
) -> Result<(), InteractionError> {
    if let Some(patient) = compartment
        && let Some(forbidden) = record_forbidden(conn, gate, patient)?
    {
        let denied = Decision::deny(crate::consent::Reason::new(
            crate::consent::RuleId::DefaultDeny,
            forbidden.to_string(),
        ));
        gate.audit(
            AccessAction::Query,
            &denied,
            &[patient.to_owned()],
            Vec::new(),
            None,
        );
        return Err(forbidden);
    }
    let mut named = named_patients(query);
    named.extend(compartment.map(str::to_owned));
    let types: Vec<String> = query
        .resource_type
        .iter()
        .chain(query.types.iter())
        .cloned()
        .collect();
    access.records = gate.records_filter(conn, &named, &types)?;
    Ok(())
}

/// The rows the subject may read, each decided again and shown on the query's `trail`
/// (with the patients whose records hold it, for the audit).
pub(crate) fn recheck(
    conn: &mut Conn<'_>,
    gate: &mut Gate<'_>,
    rows: Vec<FoundRow>,
    trail: &mut QueryTrail,
) -> Result<Vec<FoundRow>, InteractionError> {
    let keys: Vec<(String, String)> = rows
        .iter()
        .map(|row| (row.res_type.clone(), row.res_id.clone()))
        .collect();
    gate.prefetch(conn, &keys)?;
    let mut kept = Vec::with_capacity(rows.len());
    for mut row in rows {
        let value: Option<Value> = row
            .content
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok());
        let Some(value) = value else {
            log::error!(
                "`{}/{}` has unreadable content: dropped",
                row.res_type,
                row.res_id
            );
            continue;
        };
        let verdict = gate.decide(
            conn,
            &Action::Read,
            &row.res_type,
            &row.res_id,
            &value,
            true,
        )?;
        if verdict.decision.is_permit() {
            let break_glass = verdict.decision.is_break_glass();
            trail.show(
                versioned_reference(&row.res_type, &row.res_id, row.version_id),
                verdict.patients,
                verdict.decision.reasons,
                break_glass,
            );
            super::redact::content_for_reader(gate, &row.res_type, &mut row.content);
            kept.push(row);
        } else {
            log::error!(
                "BUG: `{}/{}` passed the search's consent filter but the decision point denies it ({}): dropped",
                row.res_type,
                row.res_id,
                verdict
                    .decision
                    .reasons
                    .iter()
                    .map(|r| r.rule.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(kept)
}

/// The patients a query names: references to a Patient (`subject=Patient/1`,
/// `patient=1`) and `_id` on Patient.
fn named_patients(query: &SearchQuery) -> Vec<String> {
    let mut patients = Vec::new();
    let searching_patients = query.resource_type.as_deref() == Some("Patient");
    for criterion in &query.criteria {
        let Criterion::Param(param) = criterion else {
            continue;
        };
        match (&param.matcher, param.column) {
            (Match::Reference(values), _) => {
                for value in values {
                    if let ReferenceValue::Local {
                        target_type, id, ..
                    } = value
                        && target_type.as_deref().is_none_or(|t| t == "Patient")
                    {
                        patients.push(id.clone());
                    }
                }
            }
            (Match::Token { not: false, values }, Column::Id) if searching_patients => {
                patients.extend(values.iter().filter_map(|v| v.code.clone()));
            }
            _ => {}
        }
    }
    patients
}
