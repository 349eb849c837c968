//! Tests of element-level checks: null and empty values, cardinality, choice types,
//! primitive companions, extensions, bindings, content references and narrative.

use super::IssueType;
use super::tests::{issues, one};

fn patient(body: &str) -> String {
    format!(r#"{{"resourceType": "Patient", {body}}}"#)
}

#[test]
fn null_is_not_a_value() {
    assert_eq!(
        issues(&patient(r#""gender": null"#)),
        one(IssueType::Structure, "Patient.gender")
    );
    assert_eq!(
        issues(&patient(r#""name": [{"given": ["a", null]}]"#)),
        one(IssueType::Structure, "Patient.name[0].given[1]")
    );
    assert_eq!(
        issues(&patient(r#""name": [null]"#)),
        one(IssueType::Structure, "Patient.name[0]")
    );
}

#[test]
fn empty_strings_objects_and_arrays_are_rejected() {
    assert_eq!(
        issues(&patient(r#""gender": """#)),
        one(IssueType::Value, "Patient.gender")
    );
    assert_eq!(
        issues(&patient(r#""maritalStatus": {}"#)),
        one(IssueType::Structure, "Patient.maritalStatus")
    );
    assert_eq!(
        issues(&patient(r#""name": []"#)),
        one(IssueType::Structure, "Patient.name")
    );
    assert_eq!(
        issues(&patient(r#""name": [{"given": []}]"#)),
        one(IssueType::Structure, "Patient.name[0].given")
    );
    // ele-1: an element with only an id has no value
    assert_eq!(
        issues(&patient(r#""maritalStatus": {"id": "x"}"#)),
        one(IssueType::Invalid, "Patient.maritalStatus")
    );
}

#[test]
fn arrays_and_single_values_follow_the_cardinality() {
    assert_eq!(
        issues(&patient(r#""name": {"family": "Doe"}"#)),
        one(IssueType::Structure, "Patient.name")
    );
    assert_eq!(
        issues(&patient(r#""gender": ["male"]"#)),
        one(IssueType::Structure, "Patient.gender")
    );
    assert_eq!(
        issues(&patient(r#""name": [{"given": "John"}]"#)),
        one(IssueType::Structure, "Patient.name[0].given")
    );
    assert_eq!(
        issues(&patient(r#""maritalStatus": "M""#)),
        one(IssueType::Structure, "Patient.maritalStatus")
    );
}

#[test]
fn required_elements_must_be_present() {
    assert_eq!(
        issues(r#"{"resourceType": "Observation", "code": {"text": "x"}}"#),
        one(IssueType::Required, "Observation.status")
    );
    assert_eq!(
        issues(&patient(r#""communication": [{"preferred": true}]"#)),
        one(IssueType::Required, "Patient.communication[0].language")
    );
    // a primitive with only its `_` companion is present
    assert_eq!(
        issues(
            r#"{"resourceType": "Observation", "code": {"text": "x"},
                "_status": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]}}"#
        ),
        vec![]
    );
}

#[test]
fn elements_constrained_away_by_a_profile_are_rejected() {
    // MedicationRequest.dispenseRequest.quantity is a SimpleQuantity: no comparator
    assert_eq!(
        issues(
            r#"{"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/1"},
                "dispenseRequest": {"quantity": {"value": 1, "comparator": "<"}}}"#
        ),
        one(
            IssueType::Structure,
            "MedicationRequest.dispenseRequest.quantity.comparator"
        )
    );
}

#[test]
fn choice_types_allow_only_their_types_and_one_of_them() {
    assert_eq!(
        issues(&patient(r#""deceasedString": "yes""#)),
        one(IssueType::Structure, "Patient.deceasedString")
    );
    assert_eq!(
        issues(&patient(
            r#""deceasedBoolean": true, "deceasedDateTime": "2020-01-01""#
        )),
        one(IssueType::Structure, "Patient.deceasedDateTime")
    );
    assert_eq!(
        issues(&patient(r#""deceasedBoolean": "yes""#)),
        one(IssueType::Value, "Patient.deceasedBoolean")
    );
    assert_eq!(
        issues(
            r#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                  "valueQuantity": {"value": "1.5"}}"#
        ),
        one(IssueType::Value, "Observation.valueQuantity.value")
    );
    assert_eq!(
        issues(
            r#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                  "valueQuantity": {"value": 1.50, "unit": "mg"}, "effectiveDateTime": "2023-01-01T10:00:00Z"}"#
        ),
        vec![]
    );
}

#[test]
fn decimals_and_integers_are_json_numbers() {
    let obs = |value: &str| {
        format!(
            r#"{{"resourceType": "Observation", "status": "final", "code": {{"text": "x"}}, {value}}}"#
        )
    };
    assert_eq!(
        issues(&obs(r#""valueInteger": 2147483648"#)),
        one(IssueType::Value, "Observation.valueInteger")
    );
    assert_eq!(
        issues(&obs(r#""valueInteger": 1e2"#)),
        one(IssueType::Value, "Observation.valueInteger")
    );
    assert_eq!(issues(&obs(r#""valueInteger": -5"#)), vec![]);
    assert_eq!(issues(&obs(r#""valueQuantity": {"value": 1e400}"#)), vec![]);
    assert_eq!(
        issues(&patient(r#""multipleBirthInteger": "2""#)),
        one(IssueType::Value, "Patient.multipleBirthInteger")
    );
    assert_eq!(
        issues(
            r#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                  "valueSampledData": {"origin": {"value": 0}, "period": 1, "dimensions": 0, "data": "1 2"}}"#
        ),
        one(IssueType::Value, "Observation.valueSampledData.dimensions")
    );
}

#[test]
fn primitive_companions_carry_id_and_extensions() {
    let ext = r#"{"extension": [{"url": "http://example.org/x", "valueString": "y"}]}"#;
    assert_eq!(
        issues(&patient(&format!(
            r#""birthDate": "1970-01-01", "_birthDate": {ext}"#
        ))),
        vec![]
    );
    assert_eq!(issues(&patient(&format!(r#""_birthDate": {ext}"#))), vec![]);
    assert_eq!(
        issues(&patient(
            r#""birthDate": "1970-01-01", "_birthDate": {"foo": 1}"#
        )),
        one(IssueType::Structure, "Patient.birthDate.foo")
    );
    assert_eq!(
        issues(&patient(r#""birthDate": "1970-01-01", "_birthDate": "x""#)),
        one(IssueType::Structure, "Patient.birthDate")
    );
    assert_eq!(
        issues(&patient(
            r#""_birthDate": {"extension": [{"valueString": "y"}]}"#
        )),
        one(IssueType::Required, "Patient.birthDate.extension[0].url")
    );
    assert_eq!(
        issues(&patient(r#""_birthDate": {}"#)),
        one(IssueType::Structure, "Patient.birthDate")
    );
}

#[test]
fn repeating_primitives_align_with_their_companions() {
    let ext = r#"{"extension": [{"url": "http://example.org/x", "valueString": "y"}]}"#;
    assert_eq!(
        issues(&patient(&format!(
            r#""name": [{{"given": ["a", null], "_given": [null, {ext}]}}]"#
        ))),
        vec![]
    );
    assert_eq!(
        issues(&patient(&format!(
            r#""name": [{{"given": ["a", "b"], "_given": [{ext}]}}]"#
        ))),
        one(IssueType::Structure, "Patient.name[0].given")
    );
    assert_eq!(
        issues(&patient(&format!(
            r#""name": [{{"given": [null, "b"], "_given": [null, {ext}]}}]"#
        ))),
        one(IssueType::Structure, "Patient.name[0].given[0]")
    );
    assert_eq!(
        issues(&patient(&format!(
            r#""name": [{{"given": ["a"], "_given": {ext}}}]"#
        ))),
        one(IssueType::Structure, "Patient.name[0].given")
    );
    assert_eq!(
        issues(&patient(
            r#""name": [{"given": ["a"], "_given": [{"id": 5}]}]"#
        )),
        one(IssueType::Value, "Patient.name[0].given[0].id")
    );
}

#[test]
fn extensions_need_a_url_and_a_value_or_nested_extensions() {
    assert_eq!(
        issues(&patient(
            r#""extension": [{"url": "http://example.org/a", "valueCode": "x"}]"#
        )),
        vec![]
    );
    assert_eq!(
        issues(&patient(r#""extension": [{"valueCode": "x"}]"#)),
        one(IssueType::Required, "Patient.extension[0].url")
    );
    assert_eq!(
        issues(&patient(
            r#""extension": [{"url": "http://example.org/a"}]"#
        )),
        one(IssueType::Invalid, "Patient.extension[0]")
    );
    assert_eq!(
        issues(&patient(
            r#""extension": [{"url": "http://example.org/a", "valueCode": "x",
                 "extension": [{"url": "b", "valueBoolean": true}]}]"#
        )),
        one(IssueType::Invalid, "Patient.extension[0]")
    );
    assert_eq!(
        issues(&patient(
            r#""modifierExtension": [{"url": "http://example.org/a",
                 "extension": [{"url": "b", "valueFoo": true}]}]"#
        )),
        vec![
            (
                IssueType::Structure,
                "Patient.modifierExtension[0].extension[0].valueFoo".to_owned()
            ),
            (
                IssueType::Invalid,
                "Patient.modifierExtension[0].extension[0]".to_owned()
            ),
        ]
    );
    assert_eq!(
        issues(&patient(
            r#""extension": [{"url": "http://example.org/a", "valueString": "a", "valueCode": "b"}]"#
        )),
        one(IssueType::Structure, "Patient.extension[0].valueCode")
    );
}

#[test]
fn required_bindings_are_checked() {
    assert_eq!(
        issues(&patient(r#""gender": "M""#)),
        one(IssueType::CodeInvalid, "Patient.gender")
    );
    assert_eq!(
        issues(&patient(
            r#""name": [{"use": "nickname"}, {"use": "nick"}]"#
        )),
        one(IssueType::CodeInvalid, "Patient.name[1].use")
    );
    // CodeableConcept: codings of the bound system are checked, others are not
    let condition = |coding: &str| {
        format!(
            r#"{{"resourceType": "Condition", "subject": {{"reference": "Patient/1"}},
                "clinicalStatus": {{"coding": [{coding}]}}}}"#
        )
    };
    let system = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    assert_eq!(
        issues(&condition(&format!(
            r#"{{"system": "{system}", "code": "active"}}"#
        ))),
        vec![]
    );
    assert_eq!(
        issues(&condition(&format!(
            r#"{{"system": "http://example.org", "code": "x"}}, {{"system": "{system}", "code": "gone"}}"#
        ))),
        one(
            IssueType::CodeInvalid,
            "Condition.clinicalStatus.coding[1].code"
        )
    );
    // a code bound through a choice type is checked too
    assert_eq!(
        issues(
            r#"{"resourceType": "Composition", "status": "final", "type": {"text": "x"}, "date": "2023-01-01",
                "author": [{"display": "a"}], "title": "t", "confidentiality": "X"}"#
        ),
        one(IssueType::CodeInvalid, "Composition.confidentiality")
    );
}

#[test]
fn content_references_reuse_the_referenced_structure() {
    assert_eq!(
        issues(
            r#"{"resourceType": "Questionnaire", "status": "active", "item": [
                {"linkId": "1", "type": "group", "item": [
                    {"linkId": "1.1", "type": "string"},
                    {"type": "bogus", "item": [{"linkId": "1.2.1", "type": "string", "x": 1}]}
                ]}
            ]}"#
        ),
        vec![
            (
                IssueType::CodeInvalid,
                "Questionnaire.item[0].item[1].type".to_owned()
            ),
            (
                IssueType::Structure,
                "Questionnaire.item[0].item[1].item[0].x".to_owned()
            ),
            (
                IssueType::Required,
                "Questionnaire.item[0].item[1].linkId".to_owned()
            ),
        ]
    );
}

#[test]
fn narrative_div_must_be_xhtml() {
    assert_eq!(
        issues(&patient(
            r#""text": {"status": "generated", "div": "John"}"#
        )),
        one(IssueType::Value, "Patient.text.div")
    );
    assert_eq!(
        issues(&patient(r#""text": {"status": "generated"}"#)),
        one(IssueType::Required, "Patient.text.div")
    );
    assert_eq!(
        issues(&patient(
            r#""text": {"status": "made-up", "div": "<div>x</div>"}"#
        )),
        one(IssueType::CodeInvalid, "Patient.text.status")
    );
}

#[test]
fn dates_must_be_real_calendar_dates() {
    assert_eq!(
        issues(&patient(r#""birthDate": "2023-02-30""#)),
        one(IssueType::Value, "Patient.birthDate")
    );
    assert_eq!(issues(&patient(r#""birthDate": "2024-02-29""#)), vec![]);
    assert_eq!(
        issues(&patient(r#""deceasedDateTime": "2023-04-31T10:00:00Z""#)),
        one(IssueType::Value, "Patient.deceasedDateTime")
    );
    assert_eq!(
        issues(&patient(r#""meta": {"lastUpdated": "2023-01-01"}"#)),
        one(IssueType::Value, "Patient.meta.lastUpdated")
    );
}

#[test]
fn every_primitive_format_is_checked_in_place() {
    // Extension.value[x] accepts every primitive but xhtml.
    let cases = [
        ("valueBase64Binary", r#""aGVsbG8=""#, r#""%%%%""#),
        ("valueBoolean", "true", "1"),
        ("valueCanonical", r#""http://x.org/a|1""#, r#""a b""#),
        ("valueCode", r#""a-b""#, r#""a  b""#),
        ("valueDate", r#""2020-02-29""#, r#""2021-02-29""#),
        (
            "valueDateTime",
            r#""2020-01-01T00:00:00Z""#,
            r#""2020-01-01T00:00""#,
        ),
        ("valueDecimal", "0.10", r#""0.10""#),
        ("valueId", r#""a.b-c""#, r#""a/b""#),
        (
            "valueInstant",
            r#""2020-01-01T00:00:00.5+14:00""#,
            r#""2020-01-01T00:00:00+15:00""#,
        ),
        ("valueInteger", "-12", "12.0"),
        ("valueMarkdown", r#""*a*""#, r#""""#),
        ("valueOid", r#""urn:oid:2.16.840""#, r#""urn:oid:3.1""#),
        ("valuePositiveInt", "1", "0"),
        ("valueString", r#""a b""#, r#""\f""#),
        ("valueTime", r#""23:59:60""#, r#""25:00:00""#),
        ("valueUnsignedInt", "0", "-1"),
        ("valueUri", r#""urn:x""#, r#""a b""#),
        ("valueUrl", r#""http://x.org""#, r#""http://x.org/a b""#),
        (
            "valueUuid",
            r#""urn:uuid:c757873d-ec9a-4326-a141-556f43239520""#,
            r#""c757873d-ec9a-4326-a141-556f43239520""#,
        ),
    ];
    for (key, good, bad) in cases {
        let body = |v: &str| {
            patient(&format!(
                r#""extension": [{{"url": "http://x.org/e", "{key}": {v}}}]"#
            ))
        };
        assert_eq!(issues(&body(good)), vec![], "{key} {good}");
        assert_eq!(
            issues(&body(bad)),
            one(IssueType::Value, &format!("Patient.extension[0].{key}")),
            "{key} {bad}"
        );
    }
}
