//! What a patient (or their legal representative) reads of the AuditEvents of their record
//! (DMP-RULES.md §8): the event whole but for the raw query of a search (`entity.query`,
//! base64, BALP). The query is the requester's own text and may name other patients
//! (`_id=…`, another patient's INS, a name), so it stays with the auditors (system clients
//! with an AuditEvent read scope); the entity itself stays, so the patient still sees that
//! a search returned their data. An event shown without its query is tagged SUBSETTED.
//! Applied wherever a resource passes the consent check on its way out: reads and vreads
//! (`readable_in`), searches and their includes (`searching::recheck`), histories
//! (`history::visible_versions`).

use serde_json::Value;

use super::gate::Gate;
use crate::fhir::resource::mark_subsetted;

/// `json` as the gate's subject may read it: `None` when it is theirs whole, else the
/// redacted JSON.
pub(crate) fn for_reader(gate: &Gate<'_>, res_type: &str, json: &str) -> Option<String> {
    if res_type != "AuditEvent" || !gate.is_patient_side() || !json.contains("\"query\"") {
        return None;
    }
    let Ok(mut value) = serde_json::from_str::<Value>(json) else {
        return None;
    };
    if !without_queries(&mut value) {
        return None;
    }
    serde_json::to_string(&value).ok()
}

/// Redacts a stored row's `content` in place for the gate's subject (see `for_reader`).
pub(crate) fn content_for_reader(gate: &Gate<'_>, res_type: &str, content: &mut Option<String>) {
    if let Some(json) = content
        .as_deref()
        .and_then(|json| for_reader(gate, res_type, json))
    {
        *content = Some(json);
    }
}

/// Removes `entity.query` from an AuditEvent; true when there was one (the event is then
/// tagged SUBSETTED).
fn without_queries(audit: &mut Value) -> bool {
    let Some(entities) = audit.get_mut("entity").and_then(Value::as_array_mut) else {
        return false;
    };
    let mut removed = false;
    for entity in entities {
        if let Some(entity) = entity.as_object_mut() {
            removed |= entity.remove("query").is_some();
        }
    }
    if removed && let Some(audit) = audit.as_object_mut() {
        mark_subsetted(audit);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_query_of_a_search_is_removed_and_the_event_tagged() {
        let mut audit = json!({"resourceType": "AuditEvent", "entity": [
            {"what": {"reference": "Patient/a"}},
            {"role": {"code": "24"}, "query": "X2lkPWEsYg=="}
        ]});
        assert!(without_queries(&mut audit));
        assert_eq!(audit["entity"][1], json!({"role": {"code": "24"}}));
        assert_eq!(audit["entity"][0]["what"]["reference"], "Patient/a");
        assert_eq!(audit["meta"]["tag"][0]["code"], "SUBSETTED");
    }

    #[test]
    fn an_event_without_query_is_left_whole() {
        let mut audit = json!({"resourceType": "AuditEvent", "entity": [
            {"what": {"reference": "Patient/a"}}
        ]});
        let before = audit.clone();
        assert!(!without_queries(&mut audit));
        assert_eq!(audit, before);
    }
}
