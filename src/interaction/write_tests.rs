//! Tests of search values extracted before a write (`Extracted`): they are exactly what
//! extracting the stored version gives, and are refused for another id or content.

use serde_json::{Map, Value, json};

use super::Extracted;
use crate::fhir::resource::set_server_fields;
use crate::search::extract::extract;
use crate::search::registry::SearchRegistry;

fn content(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("an object"),
    }
}

/// An observation whose meta (tags, labels, profile, source), narrative and references
/// all give search values, as a client sends it: its own id and version are ignored.
fn observation() -> Map<String, Value> {
    content(json!({
        "resourceType": "Observation",
        "id": "from-the-client",
        "meta": {"versionId": "41", "lastUpdated": "2001-01-01T00:00:00Z",
            "source": "urn:example:lab", "profile": ["http://example.org/p"],
            "tag": [{"system": "http://example.org/t", "code": "t1"}],
            "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]},
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Poids 70 kg</div>"},
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02T10:00:00+01:00",
        "valueQuantity": {"value": 70.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}
    }))
}

/// What `save` extracts from `content` stored as version `version` of `id` at `time`.
fn extracted_when_saved(
    registry: &SearchRegistry,
    id: &str,
    version: i64,
    time: &str,
    content: &Map<String, Value>,
) -> Vec<crate::search::extract::IndexEntry> {
    let mut stored = content.clone();
    set_server_fields(&mut stored, id, version, time);
    extract(registry, "Observation", &Value::Object(stored))
}

#[test]
fn values_extracted_in_advance_are_those_of_the_stored_version() {
    let registry = SearchRegistry::r4().expect("registry");
    let observation = observation();
    let entries = Extracted::of(&registry, "Observation", "o1", observation.clone())
        .entries_for("o1", &observation)
        .expect("same id and content");
    let saved = extracted_when_saved(&registry, "o1", 3, "2026-11-30T10:00:00.123Z", &observation);
    assert_eq!(entries, saved);
    // The values cover what the test means to cover.
    let params: Vec<&str> = entries.iter().map(|e| e.param()).collect();
    for param in [
        "_tag",
        "_security",
        "_profile",
        "_source",
        "_text",
        "_content",
        "code",
        "subject",
    ] {
        assert!(params.contains(&param), "{param} missing from {params:?}");
    }
}

#[test]
fn values_extracted_for_another_id_or_content_are_not_used() {
    let registry = SearchRegistry::r4().expect("registry");
    let observation = observation();
    let extracted = || Extracted::of(&registry, "Observation", "o1", observation.clone());
    assert!(extracted().entries_for("o2", &observation).is_none());
    // A reference the transaction resolved otherwise than planned.
    let mut resolved = observation.clone();
    resolved.insert("subject".into(), json!({"reference": "Patient/p2"}));
    assert!(extracted().entries_for("o1", &resolved).is_none());
}
