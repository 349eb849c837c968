//! The patient compartment of a resource (FHIR R4 CompartmentDefinition-patient): a Patient
//! is in its own; another resource is in the compartment of every Patient its compartment
//! parameters reference (e.g. Observation `subject` and `performer`).

use super::extract::IndexEntry;
use super::registry::SearchRegistry;

/// Ids of the patients whose compartment holds the resource, from its extracted entries.
pub fn patient_ids(
    registry: &SearchRegistry,
    resource_type: &str,
    resource_id: &str,
    entries: &[IndexEntry],
) -> Vec<String> {
    if resource_type == "Patient" {
        return vec![resource_id.to_owned()];
    }
    let params = registry.patient_compartment_params(resource_type);
    let mut ids: Vec<String> = entries
        .iter()
        .filter_map(|entry| match entry {
            IndexEntry::Reference {
                param,
                reference_type,
                reference_id: Some(id),
                url,
                ..
            } if reference_type.as_deref() == Some("Patient")
                && !url.as_deref().is_some_and(|u| u.starts_with('#'))
                && params.iter().any(|p| p == param) =>
            {
                Some(id.clone())
            }
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::extract::{extract, extract_params};
    use serde_json::json;

    #[test]
    fn observations_belong_to_their_subject_and_performer_patients() {
        let registry = SearchRegistry::r4().expect("registry");
        let observation = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "subject": {"reference": "Patient/p1"}, "performer": [{"reference": "Patient/p2"}, {"reference": "Practitioner/d"}],
            "focus": [{"reference": "Patient/p3"}]});
        let entries = extract(&registry, "Observation", &observation);
        assert_eq!(
            patient_ids(&registry, "Observation", "o1", &entries),
            vec!["p1", "p2"]
        );
        assert_eq!(patient_ids(&registry, "Patient", "p9", &[]), vec!["p9"]);
        let practitioner = json!({"resourceType": "Practitioner", "id": "d"});
        let entries = extract(&registry, "Practitioner", &practitioner);
        assert!(patient_ids(&registry, "Practitioner", "d", &entries).is_empty());
    }

    #[test]
    fn the_compartment_params_alone_give_the_same_compartment() {
        let registry = SearchRegistry::r4().expect("registry");
        // The AuditEvent of a search (BALP Query) for one patient, as `audit::balp` writes it.
        let audit = json!({"resourceType": "AuditEvent",
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
            "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": "search"}],
            "action": "E", "recorded": "2026-11-30T04:21:09.005Z", "outcome": "0",
            "agent": [{"who": {"reference": "Practitioner/d"}, "requestor": true}],
            "source": {"observer": {"display": "carnet"}},
            "entity": [
                {"what": {"reference": "Patient/p1"}, "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1"}},
                {"what": {"reference": "Patient/p1/_history/3"}, "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "4"}},
                {"what": {"reference": "Consent/c1"}}]});
        let params = registry.patient_compartment_params("AuditEvent");
        assert!(!params.is_empty());
        let some = extract_params(&registry, "AuditEvent", &audit, params);
        let all = extract(&registry, "AuditEvent", &audit);
        assert!(some.len() < all.len(), "{some:?}");
        assert!(some.iter().all(|e| params.iter().any(|p| p == e.param())));
        assert_eq!(
            patient_ids(&registry, "AuditEvent", "a1", &some),
            patient_ids(&registry, "AuditEvent", "a1", &all)
        );
        assert_eq!(
            patient_ids(&registry, "AuditEvent", "a1", &some),
            vec!["p1"]
        );
    }
}
