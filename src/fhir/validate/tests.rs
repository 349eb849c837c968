//! Tests of `validate_resource`: shared helpers and resource-level checks.

use std::sync::OnceLock;

use serde_json::Value;

use super::{IssueType, validate_resource};
use crate::fhir::schema::Schema;

/// The schema, loaded once for all tests.
pub(crate) fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::r4().expect("the embedded schema loads"))
}

/// The (code, expression) of every issue found in `json`.
pub(crate) fn issues(json: &str) -> Vec<(IssueType, String)> {
    let value: Value = serde_json::from_str(json).expect("test json parses");
    validate_resource(schema(), &value)
        .into_iter()
        .map(|i| (i.code, i.expression))
        .collect()
}

pub(crate) fn one(code: IssueType, expression: &str) -> Vec<(IssueType, String)> {
    vec![(code, expression.to_owned())]
}

const PATIENT: &str = r#"{
    "resourceType": "Patient",
    "id": "example",
    "meta": {"versionId": "1", "lastUpdated": "2023-01-01T10:00:00.000Z"},
    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">John</div>"},
    "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "1234567890123"}],
    "active": true,
    "name": [{"use": "official", "family": "Doe", "given": ["John", "Paul"]}],
    "telecom": [{"system": "phone", "value": "+33 1 23 45 67 89", "use": "home"}],
    "gender": "male",
    "birthDate": "1970-01-01",
    "deceasedBoolean": false,
    "address": [{"line": ["1 rue de la Paix"], "city": "Paris", "postalCode": "75002", "country": "FR"}],
    "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]},
    "contact": [{"relationship": [{"text": "sister"}], "name": {"family": "Doe"}}],
    "communication": [{"language": {"text": "French"}, "preferred": true}]
}"#;

#[test]
fn a_valid_patient_has_no_issue() {
    assert_eq!(issues(PATIENT), vec![]);
}

#[test]
fn the_root_must_be_an_object() {
    assert_eq!(issues("[]"), one(IssueType::Structure, "Resource"));
    assert_eq!(issues("\"Patient\""), one(IssueType::Structure, "Resource"));
}

#[test]
fn the_resource_type_must_be_a_known_r4_type() {
    assert_eq!(
        issues("{}"),
        one(IssueType::Required, "Resource.resourceType")
    );
    assert_eq!(
        issues(r#"{"resourceType": "Foo"}"#),
        one(IssueType::Invalid, "Resource.resourceType")
    );
    assert_eq!(
        issues(r#"{"resourceType": "DomainResource"}"#),
        one(IssueType::Invalid, "Resource.resourceType")
    );
    assert_eq!(
        issues(r#"{"resourceType": 1}"#),
        one(IssueType::Structure, "Resource.resourceType")
    );
    assert_eq!(issues(r#"{"resourceType": "Patient"}"#), vec![]);
}

#[test]
fn messages_are_one_lowercase_sentence() {
    let value: Value =
        serde_json::from_str(r#"{"resourceType": "Patient", "foo\nbar": 1, "gender": "Male"}"#)
            .expect("json");
    let found = validate_resource(schema(), &value);
    assert_eq!(found.len(), 2);
    for issue in found {
        assert!(!issue.message.contains('\n'), "{}", issue.message);
        let first = issue.message.chars().next().expect("message");
        assert!(!first.is_uppercase(), "{}", issue.message);
    }
}

#[test]
fn the_resource_id_must_match_the_id_pattern() {
    assert_eq!(
        issues(r#"{"resourceType": "Patient", "id": "a_b"}"#),
        one(IssueType::Value, "Patient.id")
    );
    let long = format!(
        r#"{{"resourceType": "Patient", "id": "{}"}}"#,
        "a".repeat(65)
    );
    assert_eq!(issues(&long), one(IssueType::Value, "Patient.id"));
    assert_eq!(
        issues(r#"{"resourceType": "Patient", "id": "A-1.b"}"#),
        vec![]
    );
}

#[test]
fn unknown_elements_are_reported_everywhere() {
    assert_eq!(
        issues(r#"{"resourceType": "Patient", "foo": 1}"#),
        one(IssueType::Structure, "Patient.foo")
    );
    assert_eq!(
        issues(r#"{"resourceType": "Patient", "name": [{"family": "Doe"}, {"first": "John"}]}"#),
        one(IssueType::Structure, "Patient.name[1].first")
    );
    assert_eq!(
        issues(r#"{"resourceType": "Patient", "contact": [{"gender": "male", "age": 3}]}"#),
        one(IssueType::Structure, "Patient.contact[0].age")
    );
    // `_name` exists only for primitives
    assert_eq!(
        issues(r#"{"resourceType": "Patient", "_name": [{"id": "a"}]}"#),
        one(IssueType::Structure, "Patient._name")
    );
    // a nested `resourceType` is not an element of a datatype
    assert_eq!(
        issues(
            r#"{"resourceType": "Patient", "maritalStatus": {"resourceType": "Patient", "text": "x"}}"#
        ),
        one(IssueType::Structure, "Patient.maritalStatus.resourceType")
    );
}

#[test]
fn every_problem_is_reported() {
    let found = issues(
        r#"{"resourceType": "Patient", "id": "a b", "gender": "nope", "birthDate": "2023-02-30",
            "name": [{"given": [""]}], "foo": null, "active": null}"#,
    );
    assert_eq!(
        found,
        vec![
            (IssueType::Value, "Patient.id".to_owned()),
            (IssueType::CodeInvalid, "Patient.gender".to_owned()),
            (IssueType::Value, "Patient.birthDate".to_owned()),
            (IssueType::Value, "Patient.name[0].given[0]".to_owned()),
            (IssueType::Structure, "Patient.foo".to_owned()),
            (IssueType::Structure, "Patient.active".to_owned()),
        ]
    );
}

#[test]
fn contained_resources_are_validated_as_resources() {
    assert_eq!(
        issues(
            r##"{"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                "subject": {"reference": "#p"},
                "contained": [{"resourceType": "Patient", "id": "p", "birthDate": "1970-13-01"}]}"##
        ),
        one(IssueType::Value, "Observation.contained[0].birthDate")
    );
    assert_eq!(
        issues(r#"{"resourceType": "Patient", "contained": [{"id": "p"}]}"#),
        one(IssueType::Required, "Patient.contained[0].resourceType")
    );
    assert_eq!(
        issues(r#"{"resourceType": "Patient", "contained": [{"resourceType": "Nope"}]}"#),
        one(IssueType::Invalid, "Patient.contained[0].resourceType")
    );
}

#[test]
fn bundle_entries_are_validated_as_resources() {
    let bundle = r#"{"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", "resource": {"resourceType": "Patient"}},
        {"resource": {"resourceType": "Patient", "active": "yes"}},
        {"resource": {"resourceType": "Patient", "birthDate": "1970-02-30"}}
    ]}"#;
    assert_eq!(
        issues(bundle),
        vec![
            (
                IssueType::Value,
                "Bundle.entry[1].resource.active".to_owned()
            ),
            (
                IssueType::Value,
                "Bundle.entry[2].resource.birthDate".to_owned()
            ),
        ]
    );
}

#[test]
fn parameters_resources_are_validated_as_resources() {
    let parameters = r#"{"resourceType": "Parameters", "parameter": [
        {"name": "a", "valueString": "x"},
        {"name": "b", "resource": {"resourceType": "Patient", "gender": "f"}},
        {"name": "c", "part": [{"name": "d", "valueInteger": 1.5}]}
    ]}"#;
    assert_eq!(
        issues(parameters),
        vec![
            (
                IssueType::CodeInvalid,
                "Parameters.parameter[1].resource.gender".to_owned()
            ),
            (
                IssueType::Value,
                "Parameters.parameter[2].part[0].valueInteger".to_owned()
            ),
        ]
    );
}
