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
    use crate::search::extract::extract;
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
}
