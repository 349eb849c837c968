//! Consent on writes (DMP-RULES.md §6, DESIGN.md "write"): before a version is stored, the
//! decision point says whether the subject may create it, change it (author only), change
//! its labels (`MASQUE_PS` is the patient's, invisibility labels the author's) or the
//! patient's Consents. A resource the subject may not read is answered like a missing one,
//! a refused change is 403 with the reasons, and nothing is written. The decision is
//! audited in the transaction of the write.

use serde_json::Value;

use super::gate::{Gate, Verdict};
use super::hidden;
use crate::audit::AccessAction;
use crate::consent::{Action, Decision, LabelCode};
use crate::fhir::labels::security_labels;
use crate::interaction::context::{RequestContext, Services};
use crate::interaction::error::InteractionError;
use crate::storage::Conn;
use crate::storage::versions::CurrentRow;

/// Content about to be stored as `res_type/id`, with the patient compartment extracted
/// from it (with its index rows).
#[derive(Clone, Copy)]
pub(crate) struct NewContent<'a> {
    pub res_type: &'a str,
    pub id: &'a str,
    pub value: &'a Value,
    pub compartment: &'a [String],
}

/// Whether `new` may be stored as the next version after `previous` (the current row,
/// `None` for a resource never stored).
pub(crate) fn check_save(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    previous: Option<&CurrentRow>,
    new_content: NewContent<'_>,
) -> Result<(), InteractionError> {
    let NewContent {
        res_type,
        id,
        value: new,
        compartment,
    } = new_content;
    let mut gate = Gate::open(conn, services, context)?;
    let previous = live_content(previous)?;
    let (action, verdict) = match &previous {
        None => (
            AccessAction::Create,
            gate.decide_new(conn, &Action::Create, (res_type, id, new), compartment)?,
        ),
        // Closing or reactivating a record is a change of `Patient.active` alone (§7).
        Some(before) if let Some(lifecycle) = lifecycle_change(res_type, before, new) => (
            AccessAction::Update,
            gate.decide_record(conn, &lifecycle, id)?,
        ),
        Some(before) => {
            readable_before(conn, &mut gate, res_type, id, before)?;
            (
                AccessAction::Update,
                change(conn, &mut gate, before, &new_content)?,
            )
        }
    };
    conclude(&gate, action, res_type, id, verdict)
}

/// Whether the live resource `current` may be deleted.
pub(crate) fn check_delete(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    current: &CurrentRow,
) -> Result<(), InteractionError> {
    let mut gate = Gate::open(conn, services, context)?;
    let Some(before) = live_content(Some(current))? else {
        return Ok(());
    };
    let (res_type, id) = (current.res_type.as_str(), current.res_id.as_str());
    readable_before(conn, &mut gate, res_type, id, &before)?;
    let verdict = gate.decide(conn, &Action::Delete, res_type, id, &before, true)?;
    conclude(&gate, AccessAction::Delete, res_type, id, verdict)
}

/// 404 (as for a missing resource) when the subject may not read the live resource `row`.
pub(crate) fn check_readable(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    row: &CurrentRow,
) -> Result<(), InteractionError> {
    let Some(before) = live_content(Some(row))? else {
        return Ok(());
    };
    let mut gate = Gate::open(conn, services, context)?;
    readable_before(conn, &mut gate, &row.res_type, &row.res_id, &before)
}

/// The content of a live current row.
fn live_content(row: Option<&CurrentRow>) -> Result<Option<Value>, InteractionError> {
    match row {
        Some(row) if !row.is_deleted => {
            let json = row.content.as_deref().unwrap_or("null");
            Ok(Some(serde_json::from_str(json).map_err(|e| {
                crate::storage::StorageError::Corrupt(format!(
                    "{}/{}: {e}",
                    row.res_type, row.res_id
                ))
            })?))
        }
        _ => Ok(None),
    }
}

/// A resource the subject may not read cannot be changed, and its existence is not told.
fn readable_before(
    conn: &mut Conn<'_>,
    gate: &mut Gate<'_>,
    res_type: &str,
    id: &str,
    before: &Value,
) -> Result<(), InteractionError> {
    let read = gate.decide(conn, &Action::Read, res_type, id, before, true)?;
    if read.decision.is_permit() {
        Ok(())
    } else {
        Err(hidden(res_type, id))
    }
}

/// The decision on changing `before` into `after`: a change of labels alone is decided as
/// such (the patient masks a professional's document); any other change needs the author
/// (and the label rules when labels change too); a move to another record is also a
/// creation there.
fn change(
    conn: &mut Conn<'_>,
    gate: &mut Gate<'_>,
    before: &Value,
    new: &NewContent<'_>,
) -> Result<Verdict, InteractionError> {
    let (res_type, id, after) = (new.res_type, new.id, new.value);
    let labels_before = label_codes(before);
    let labels_after = label_codes(after);
    let added: Vec<LabelCode> = labels_after
        .iter()
        .filter(|l| !labels_before.contains(l))
        .cloned()
        .collect();
    let removed: Vec<LabelCode> = labels_before
        .iter()
        .filter(|l| !labels_after.contains(l))
        .cloned()
        .collect();
    let labels_changed = !added.is_empty() || !removed.is_empty();
    let label_action = Action::ChangeLabels { added, removed };
    if labels_changed && without_labels(before) == without_labels(after) {
        return gate.decide(conn, &label_action, res_type, id, before, true);
    }
    let mut verdict = gate.decide(conn, &Action::Update, res_type, id, before, true)?;
    if labels_changed {
        let labels = gate.decide(conn, &label_action, res_type, id, before, true)?;
        verdict.decision = verdict.decision.and(labels.decision);
    }
    if new.compartment != verdict.patients.as_slice() {
        let moved = gate.decide_new(
            conn,
            &Action::Create,
            (res_type, id, after),
            new.compartment,
        )?;
        verdict.decision = verdict.decision.and(moved.decision);
        verdict.patients.extend(moved.patients);
        verdict.patients.sort();
        verdict.patients.dedup();
    }
    Ok(verdict)
}

/// `Close` or `Reactivate` when a Patient changes nothing but `active`.
fn lifecycle_change(res_type: &str, before: &Value, after: &Value) -> Option<Action> {
    if res_type != "Patient" {
        return None;
    }
    let active = |v: &Value| v.get("active").and_then(Value::as_bool).unwrap_or(true);
    let rest = |v: &Value| {
        let mut copy = v.clone();
        if let Value::Object(map) = &mut copy {
            map.remove("meta");
            map.remove("active");
        }
        copy
    };
    if rest(before) != rest(after) {
        return None;
    }
    match (active(before), active(after)) {
        (true, false) => Some(Action::Close),
        (false, true) => Some(Action::Reactivate),
        _ => None,
    }
}

/// The canonical security labels of a resource.
fn label_codes(resource: &Value) -> Vec<LabelCode> {
    security_labels(resource)
        .into_iter()
        .map(|(system, code)| LabelCode { system, code })
        .collect()
}

/// The resource without what a label change touches (`meta`, `securityLabel`).
fn without_labels(resource: &Value) -> Value {
    let mut copy = resource.clone();
    if let Value::Object(map) = &mut copy {
        map.remove("meta");
        map.remove("securityLabel");
    }
    copy
}

/// Audits the decision and turns a refusal into 403 with its reasons.
fn conclude(
    gate: &Gate<'_>,
    action: AccessAction,
    res_type: &str,
    id: &str,
    verdict: Verdict,
) -> Result<(), InteractionError> {
    gate.audit(
        action,
        &verdict.decision,
        &verdict.patients,
        vec![format!("{res_type}/{id}")],
        None,
    );
    if verdict.decision.is_permit() {
        return Ok(());
    }
    Err(InteractionError::Forbidden(refusal(&verdict.decision)))
}

/// The sentence of a refused write: the reasons the decision point gave.
fn refusal(decision: &Decision) -> String {
    let reasons: Vec<String> = decision
        .reasons
        .iter()
        .map(|r| format!("{} ({})", r.text, r.rule.as_str()))
        .collect();
    format!(
        "the access rules do not allow this change: {}",
        reasons.join("; ")
    )
}
