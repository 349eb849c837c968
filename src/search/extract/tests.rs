//! Tests of extraction of strings, tokens and references, with the tricky R4 expressions
//! (choice types, `where(resolve() is Patient)`, unions), asserting exact entries; the
//! helpers shared by the other test files of `extract`.

use serde_json::{Value, json};

use super::{IndexEntry, extract_with_issues};
use crate::search::registry::SearchRegistry;

pub(super) fn registry() -> SearchRegistry {
    SearchRegistry::r4().expect("the embedded registry loads")
}

/// The entries of `param` extracted from `resource`.
pub(super) fn of(registry: &SearchRegistry, resource: &Value, param: &str) -> Vec<IndexEntry> {
    let ty = resource["resourceType"].as_str().expect("a resource");
    let (entries, issues) = extract_with_issues(registry, ty, resource);
    assert!(issues.is_empty(), "{issues:?}");
    entries.into_iter().filter(|e| e.param() == param).collect()
}

pub(super) fn string(param: &str, normalized: &str, exact: &str) -> IndexEntry {
    IndexEntry::String {
        param: param.into(),
        normalized: normalized.into(),
        exact: exact.into(),
    }
}

pub(super) fn token(
    param: &str,
    system: Option<&str>,
    code: &str,
    text: Option<&str>,
) -> IndexEntry {
    IndexEntry::Token {
        param: param.into(),
        system: system.map(Into::into),
        code: code.into(),
        text: text.map(Into::into),
        of_type: None,
    }
}

pub(super) fn reference(
    param: &str,
    ty: Option<&str>,
    id: Option<&str>,
    url: Option<&str>,
) -> IndexEntry {
    IndexEntry::Reference {
        param: param.into(),
        reference_type: ty.map(Into::into),
        reference_id: id.map(Into::into),
        version: None,
        url: url.map(Into::into),
        identifier: None,
    }
}

pub(super) fn date(param: &str, low_ms: i64, high_ms: i64) -> IndexEntry {
    IndexEntry::Date {
        param: param.into(),
        low_ms,
        high_ms,
    }
}

pub(super) fn quantity(
    param: &str,
    value: &str,
    low: f64,
    high: f64,
    unit: [Option<&str>; 3],
) -> IndexEntry {
    let [system, code, unit] = unit.map(|u| u.map(str::to_owned));
    IndexEntry::Quantity {
        param: param.into(),
        value: value.into(),
        low,
        high,
        system,
        code,
        unit,
    }
}

pub(super) const DAY: i64 = 86_400_000;
pub(super) const UCUM: Option<&str> = Some("http://unitsofmeasure.org");

#[test]
fn strings_are_normalized_and_names_split_into_parts() {
    let r = registry();
    let patient = json!({
        "resourceType": "Patient",
        "name": [{ "text": "Hélène  Dupont", "family": "Dupont", "given": ["Hélène", "Marie"] }],
        "address": [{ "line": ["1 rue de l'Église"], "city": "Orléans", "country": "FR" }]
    });
    assert_eq!(
        of(&r, &patient, "name"),
        [
            string("name", "helene dupont", "Hélène  Dupont"),
            string("name", "dupont", "Dupont"),
            string("name", "helene", "Hélène"),
            string("name", "marie", "Marie"),
        ]
    );
    assert_eq!(of(&r, &patient, "given").len(), 2);
    assert_eq!(
        of(&r, &patient, "address"),
        [
            string("address", "1 rue de l'eglise", "1 rue de l'Église"),
            string("address", "orleans", "Orléans"),
            string("address", "fr", "FR"),
        ]
    );
    assert_eq!(
        of(&r, &patient, "address-city"),
        [string("address-city", "orleans", "Orléans")]
    );
}

#[test]
fn tokens_come_from_codes_codings_identifiers_and_contact_points() {
    let r = registry();
    let patient = json!({
        "resourceType": "Patient",
        "active": true,
        "gender": "female",
        "deceasedDateTime": "2020-01-01",
        "identifier": [
            { "system": "urn:oid:1.2", "value": "123",
              "type": {
                  "text": "MRN",
                  "coding": [{ "system": "http://t.org/v2-0203", "code": "MR" }]
              } },
            { "value": "no-system" }
        ],
        "telecom": [
            { "system": "email", "value": "a@b.org" },
            { "system": "phone", "value": "555" }
        ]
    });
    assert_eq!(
        of(&r, &patient, "active"),
        [token("active", None, "true", None)]
    );
    assert_eq!(
        of(&r, &patient, "gender"),
        [token("gender", None, "female", None)]
    );
    assert_eq!(
        of(&r, &patient, "deceased"),
        [token("deceased", None, "true", None)]
    );
    assert_eq!(
        of(&r, &patient, "identifier"),
        [
            IndexEntry::Token {
                param: "identifier".into(),
                system: Some("urn:oid:1.2".into()),
                code: "123".into(),
                text: Some("MRN".into()),
                of_type: Some((Some("http://t.org/v2-0203".into()), "MR".into())),
            },
            token("identifier", None, "no-system", None),
        ]
    );
    assert_eq!(
        of(&r, &patient, "email"),
        [token("email", None, "a@b.org", None)]
    );
    assert_eq!(of(&r, &patient, "telecom").len(), 2);

    let condition = json!({
        "resourceType": "Condition",
        "code": { "coding": [
            { "system": "http://snomed.info/sct", "code": "39065001", "display": "Burn of ear" },
            { "system": "http://example.org/local", "code": "B1" }
        ], "text": "Burnt Ear" }
    });
    assert_eq!(
        of(&r, &condition, "code"),
        [
            token(
                "code",
                Some("http://snomed.info/sct"),
                "39065001",
                Some("Burn of ear")
            ),
            token("code", Some("http://example.org/local"), "B1", None),
            token("code", None, "", Some("Burnt Ear")),
        ]
    );
}

#[test]
fn references_are_relative_absolute_contained_canonical_or_identifiers() {
    let r = registry();
    let obs = json!({
        "resourceType": "Observation",
        "contained": [{ "resourceType": "Practitioner", "id": "pr1" }],
        "subject": { "reference": "Patient/123/_history/4" },
        "performer": [
            { "reference": "#pr1" },
            { "reference": "http://other.org/fhir/Organization/o9" },
            { "reference": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a" },
            { "identifier": { "system": "urn:oid:9", "value": "77" }, "type": "Practitioner" },
            { "display": "only a name" }
        ]
    });
    let mut subject = reference("subject", Some("Patient"), Some("123"), None);
    if let IndexEntry::Reference { version, .. } = &mut subject {
        *version = Some("4".into());
    }
    assert_eq!(of(&r, &obs, "subject"), [subject.clone()]);
    let IndexEntry::Reference { param, .. } = &mut subject else {
        panic!("a reference");
    };
    *param = "patient".into();
    assert_eq!(of(&r, &obs, "patient"), [subject]);
    let mut by_identifier = reference("performer", Some("Practitioner"), None, None);
    if let IndexEntry::Reference { identifier, .. } = &mut by_identifier {
        *identifier = Some((Some("urn:oid:9".into()), "77".into()));
    }
    assert_eq!(
        of(&r, &obs, "performer"),
        [
            reference("performer", Some("Practitioner"), None, Some("#pr1")),
            reference(
                "performer",
                Some("Organization"),
                Some("o9"),
                Some("http://other.org/fhir/Organization/o9")
            ),
            reference(
                "performer",
                None,
                None,
                Some("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a")
            ),
            by_identifier,
        ]
    );

    // `where(resolve() is Patient)`: a Group subject is not a patient.
    let group = json!({ "resourceType": "Observation", "subject": { "reference": "Group/g" } });
    assert!(of(&r, &group, "patient").is_empty());
    assert_eq!(of(&r, &group, "subject").len(), 1);

    // Canonicals keep their version apart; a union adds `library`.
    let plan = json!({
        "resourceType": "PlanDefinition",
        "relatedArtifact": [
            { "type": "depends-on", "resource": "http://example.org/Library/lib|1.2" },
            { "type": "citation", "resource": "http://example.org/Library/other" }
        ],
        "library": ["http://example.org/Library/main"]
    });
    let mut versioned = reference(
        "depends-on",
        Some("Library"),
        None,
        Some("http://example.org/Library/lib"),
    );
    if let IndexEntry::Reference { version, .. } = &mut versioned {
        *version = Some("1.2".into());
    }
    assert_eq!(
        of(&r, &plan, "depends-on"),
        [
            versioned,
            reference(
                "depends-on",
                Some("Library"),
                None,
                Some("http://example.org/Library/main")
            ),
        ]
    );

    // A relative canonical is a relative reference too (an absolute one is not split).
    let response = json!({
        "resourceType": "QuestionnaireResponse", "status": "completed",
        "questionnaire": "Questionnaire/gcs"
    });
    assert_eq!(
        of(&r, &response, "questionnaire"),
        [reference(
            "questionnaire",
            Some("Questionnaire"),
            Some("gcs"),
            Some("Questionnaire/gcs")
        )]
    );

    // A resource itself: `Bundle.entry[0].resource`.
    let bundle = json!({
        "resourceType": "Bundle", "type": "document",
        "entry": [{ "resource": { "resourceType": "Composition", "id": "c1" } }]
    });
    assert_eq!(
        of(&r, &bundle, "composition"),
        [reference(
            "composition",
            Some("Composition"),
            Some("c1"),
            None
        )]
    );
}
