//! Consent on history (FHIR R4 http.html#history): each version is shown only when the
//! subject may read that version (its own facts) and, for a live resource, its current
//! version too (DMP-RULES.md §9: a resource the subject may not see now, e.g. masked or
//! hidden from the patient since, shows none of its versions); a deletion only when they
//! could read the version it deleted. History pages of a subject under consent carry no
//! total: a count would include what they may not see.

use std::collections::HashMap;

use serde_json::Value;

use super::gate::Gate;
use crate::audit::QueryTrail;
use crate::consent::Action;
use crate::fhir::ids::versioned_reference;
use crate::interaction::error::InteractionError;
use crate::storage::Conn;
use crate::storage::versions::{self, VersionRow};

/// The versions of `entries` the gate's subject may read.
pub(crate) fn visible_versions(
    conn: &mut Conn<'_>,
    gate: &mut Gate<'_>,
    entries: Vec<VersionRow>,
) -> Result<Vec<VersionRow>, InteractionError> {
    // Per resource: its current version, and whether the subject may read it now.
    let mut latest: HashMap<(String, String), (i64, bool)> = HashMap::new();
    let mut kept = Vec::with_capacity(entries.len());
    for mut row in entries {
        let key = (row.res_type.clone(), row.res_id.clone());
        let (current_version, readable_now) = match latest.get(&key) {
            Some(known) => *known,
            None => {
                let known = match versions::current(conn, &row.res_type, &row.res_id)? {
                    Some(current) => {
                        let live: Option<Value> = current
                            .content
                            .as_deref()
                            .filter(|_| !current.is_deleted)
                            .and_then(|json| serde_json::from_str(json).ok());
                        let readable = match live {
                            Some(value) => gate
                                .decide(
                                    conn,
                                    &Action::Read,
                                    &row.res_type,
                                    &row.res_id,
                                    &value,
                                    true,
                                )?
                                .decision
                                .is_permit(),
                            // Deleted: each version (and the deletion) decides alone.
                            None => true,
                        };
                        (current.version_id, readable)
                    }
                    None => (0, true),
                };
                latest.insert(key, known);
                known
            }
        };
        if !readable_now {
            continue;
        }
        let content = match &row.content {
            Some(json) => Some(json.clone()),
            // A deletion: decided on the version it deleted.
            None => versions::version(conn, &row.res_type, &row.res_id, row.version_id - 1)?
                .and_then(|previous| previous.content),
        };
        let Some(value) = content.and_then(|json| serde_json::from_str::<Value>(&json).ok()) else {
            continue;
        };
        let is_current = row.content.is_some() && row.version_id == current_version;
        let verdict = gate.decide(
            conn,
            &Action::Read,
            &row.res_type,
            &row.res_id,
            &value,
            is_current,
        )?;
        if verdict.decision.is_permit() {
            super::redact::content_for_reader(gate, &row.res_type, &mut row.content);
            kept.push(row);
        }
    }
    Ok(kept)
}

/// The versions shown, each with the patients whose records hold it, for the audit.
pub(crate) fn trail_of_versions(gate: &Gate<'_>, entries: &[VersionRow]) -> QueryTrail {
    let mut trail = QueryTrail::default();
    for row in entries {
        let patients = row
            .content
            .as_deref()
            .and_then(|json| serde_json::from_str::<Value>(json).ok())
            .map(|value| gate.patients_of(&row.res_type, &row.res_id, &value))
            .unwrap_or_default();
        trail.show(
            versioned_reference(&row.res_type, &row.res_id, row.version_id),
            patients,
            Vec::new(),
            false,
        );
    }
    trail
}
