//! Tests of the FHIRPath parser and evaluator on the shapes the R4 search parameters use.

use std::sync::Arc;

use serde_json::{Value, json};

use super::parse::{BinOp, Node as Ast, parse};
use super::{Expression, Model, Node};
use crate::fhir::schema::Schema;

fn model() -> Model {
    Model::new(Arc::new(Schema::r4().expect("the embedded schema loads")))
}

/// The result of `expr` on `resource`, as JSON (a resolved reference as `{"resolved": T}`).
fn eval(model: &Model, expr: &str, resource: &Value) -> Vec<Value> {
    let expression = Expression::parse(expr).expect("parses");
    let items = expression.evaluate(model, resource).expect("evaluates");
    items
        .iter()
        .map(|i| match i.node() {
            Node::Json(v) => v.clone(),
            Node::Bool(b) => json!(b),
            Node::Integer(n) => json!(n),
            Node::Decimal(d) => json!(d),
            Node::String(s) => json!(s),
            Node::Resolved(t) => json!({ "resolved": t }),
        })
        .collect()
}

#[test]
fn parses_the_shapes_of_the_r4_expressions() {
    for text in [
        "Patient.name",
        "Account.subject.where(resolve() is Patient)",
        "(Observation.value as Quantity) | (Observation.value as SampledData)",
        "Condition.abatement.as(Age) | Condition.abatement.as(Range)",
        "Patient.deceased.exists() and Patient.deceased != false",
        "Bundle.entry[0].resource",
        "ActivityDefinition.relatedArtifact.where(type='composed-of').resource",
        "%resource.referenceSeq.chromosome",
        "value.as(DateTime) | value.as(Period)",
        "(Observation.value as CodeableConcept).text",
        "Patient.extension('http://example.org/x').value",
        "Patient.extension.where(url = 'http://example.org/x').value as string",
        "Patient.telecom.where(system='email' or system = 'phone').first()",
        "Patient.`name`.given",
    ] {
        assert!(parse(text).is_ok(), "{text}: {:?}", parse(text).err());
    }
}

#[test]
fn type_operators_bind_tighter_than_union() {
    let node = parse("a as X | b").expect("parses");
    let Ast::Binary { op, left, .. } = node else {
        panic!("a union");
    };
    assert_eq!(op, BinOp::Union);
    assert!(matches!(*left, Ast::TypeOp { as_: true, .. }));
}

#[test]
fn refuses_what_it_cannot_evaluate() {
    for (text, message) in [
        ("Patient.name.lower()", "unsupported function `lower`"),
        ("Patient.a + 1", "unsupported operator `+`"),
        ("Patient.where(", "unexpected end of expression"),
        ("Patient.name.where(given = 'x'", "expected `)`"),
        ("Patient.name 'x'", "unexpected Str(\"x\")"),
        ("Patient.exists(1, 2)", "expected `)`"),
        ("%vs-x", "unsupported variable `%vs`"),
    ] {
        let err = parse(text).expect_err(text);
        assert_eq!(err.message, message, "{text}");
    }
}

#[test]
fn reads_escapes_and_numbers() {
    assert!(matches!(parse(r"'a\'b\u00e9'"), Ok(Ast::Str(s)) if s == "a'bé"));
    assert!(matches!(parse("12"), Ok(Ast::Int(12))));
    assert!(matches!(parse("1.5"), Ok(Ast::Dec(d)) if d == 1.5));
}

fn observation() -> Value {
    json!({
        "resourceType": "Observation",
        "id": "o1",
        "contained": [{ "resourceType": "Patient", "id": "p1" }],
        "status": "final",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "8480-6" }] },
        "subject": { "reference": "Patient/123" },
        "performer": [
            { "reference": "Practitioner/9" },
            { "reference": "#p1" },
            { "reference": "http://example.org/fhir/Patient/77/_history/2" },
            { "type": "Patient", "identifier": { "value": "x" } },
            { "display": "nobody" }
        ],
        "effectivePeriod": { "start": "2020-01-01" },
        "valueQuantity": { "value": 120, "unit": "mmHg" },
        "component": [
            { "code": { "text": "a" }, "valueQuantity": { "value": 1 } },
            { "code": { "text": "b" }, "valueString": "two" },
            { "code": { "text": "c" }, "valueCodeableConcept": { "text": "three" } }
        ]
    })
}

#[test]
fn navigates_choice_elements_by_their_type_suffix() {
    let m = model();
    let obs = observation();
    assert_eq!(
        eval(&m, "Observation.value", &obs),
        [json!({ "value": 120, "unit": "mmHg" })]
    );
    assert_eq!(
        eval(&m, "Observation.effective.start", &obs),
        [json!("2020-01-01")]
    );
    assert_eq!(eval(&m, "Observation.component.value", &obs).len(), 3);
    assert_eq!(
        eval(&m, "Observation.component.value as Quantity", &obs),
        [json!({ "value": 1 })]
    );
    assert_eq!(
        eval(&m, "Observation.component.value.ofType(string)", &obs),
        [json!("two")]
    );
    assert_eq!(
        eval(
            &m,
            "(Observation.component.value as CodeableConcept).text",
            &obs
        ),
        [json!("three")]
    );
    // `DateTime` (a System type name) selects the FHIR `dateTime` choice.
    let cond =
        json!({ "resourceType": "Condition", "onsetDateTime": "2020", "onsetAge": { "value": 3 } });
    assert_eq!(
        eval(&m, "Condition.onset.as(DateTime)", &cond),
        [json!("2020")]
    );
    assert_eq!(
        eval(&m, "Condition.onset.as(Age)", &cond),
        [json!({ "value": 3 })]
    );
    assert_eq!(
        eval(&m, "Condition.onset.as(Quantity)", &cond),
        [json!({ "value": 3 })]
    );
    assert_eq!(
        eval(&m, "Condition.onset.as(Period)", &cond),
        Vec::<Value>::new()
    );
    // An element is not a choice of a longer one: `code` does not find `codeFoo`.
    assert!(eval(&m, "Observation.valueX", &obs).is_empty());
}

#[test]
fn resolves_references_to_their_type() {
    let m = model();
    let obs = observation();
    assert_eq!(
        eval(&m, "Observation.performer.resolve()", &obs),
        [
            json!({ "resolved": "Practitioner" }),
            json!({ "resourceType": "Patient", "id": "p1" }),
            json!({ "resolved": "Patient" }),
            json!({ "resolved": "Patient" }),
        ]
    );
    assert_eq!(
        eval(
            &m,
            "Observation.performer.where(resolve() is Patient)",
            &obs
        ),
        [
            json!({ "reference": "#p1" }),
            json!({ "reference": "http://example.org/fhir/Patient/77/_history/2" }),
            json!({ "type": "Patient", "identifier": { "value": "x" } }),
        ]
    );
    assert_eq!(
        eval(&m, "Observation.subject.where(resolve() is Patient)", &obs).len(),
        1
    );
    assert!(eval(&m, "Observation.subject.where(resolve() is Group)", &obs).is_empty());
    assert_eq!(
        eval(
            &m,
            "Observation.performer.resolve().ofType(Patient).id",
            &obs
        ),
        [json!("p1")]
    );
}

#[test]
fn unions_keep_order_and_drop_duplicates() {
    let m = model();
    let obs = observation();
    let both = eval(
        &m,
        "Observation.subject | Observation.performer[0] | Observation.subject",
        &obs,
    );
    assert_eq!(
        both,
        [
            json!({ "reference": "Patient/123" }),
            json!({ "reference": "Practitioner/9" })
        ]
    );
    assert_eq!(
        eval(&m, "Observation.performer.first().reference", &obs),
        [json!("Practitioner/9")]
    );
    assert_eq!(
        eval(&m, "Observation.component[1].code.text", &obs),
        [json!("b")]
    );
    assert_eq!(eval(&m, "Observation.component.count()", &obs), [json!(3)]);
    assert_eq!(
        eval(&m, "Observation.component.last().code.text", &obs),
        [json!("c")]
    );
    assert_eq!(
        eval(&m, "Observation.component.tail().count()", &obs),
        [json!(2)]
    );
}

#[test]
fn evaluates_the_boolean_logic_of_patient_deceased() {
    let m = model();
    let expr = "Patient.deceased.exists() and Patient.deceased != false";
    let patient = |extra: Value| {
        let mut p = json!({ "resourceType": "Patient" });
        if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(extra.clone());
        }
        p
    };
    assert_eq!(eval(&m, expr, &patient(json!({}))), [json!(false)]);
    assert_eq!(
        eval(&m, expr, &patient(json!({ "deceasedBoolean": false }))),
        [json!(false)]
    );
    assert_eq!(
        eval(&m, expr, &patient(json!({ "deceasedBoolean": true }))),
        [json!(true)]
    );
    assert_eq!(
        eval(&m, expr, &patient(json!({ "deceasedDateTime": "2020" }))),
        [json!(true)]
    );
    // Three-valued logic: unknown `and` true is unknown, unknown `or` true is true.
    let p = patient(json!({}));
    assert!(eval(&m, "Patient.active and true", &p).is_empty());
    assert_eq!(eval(&m, "Patient.active or true", &p), [json!(true)]);
    assert_eq!(
        eval(&m, "Patient.active.empty() implies false", &p),
        [json!(false)]
    );
    assert_eq!(eval(&m, "{}.exists().not()", &p), [json!(true)]);
}

#[test]
fn filters_with_where_on_codes_and_systems() {
    let m = model();
    let p = json!({
        "resourceType": "Patient",
        "telecom": [
            { "system": "phone", "value": "1" },
            { "system": "email", "value": "a@b" },
            { "system": "email", "value": "c@d", "use": "work" }
        ]
    });
    assert_eq!(
        eval(&m, "Patient.telecom.where(system='email').value", &p),
        [json!("a@b"), json!("c@d")]
    );
    assert_eq!(
        eval(
            &m,
            "Patient.telecom.where(system = 'email' and use = 'work').value",
            &p
        ),
        [json!("c@d")]
    );
    assert_eq!(
        eval(
            &m,
            "Patient.telecom.where(value.startsWith('a') or value ~ 'C@D').value",
            &p
        ),
        [json!("a@b"), json!("c@d")]
    );
    assert_eq!(
        eval(
            &m,
            "Patient.telecom.where(value.matches('^[0-9]+$')).system",
            &p
        ),
        [json!("phone")]
    );
    assert_eq!(
        eval(&m, "Patient.telecom.system.distinct()", &p),
        [json!("phone"), json!("email")]
    );
    assert_eq!(
        eval(&m, "Patient.telecom.exists(system = 'fax')", &p),
        [json!(false)]
    );
    assert_eq!(
        eval(&m, "Patient.telecom.all(value.exists())", &p),
        [json!(true)]
    );
    assert_eq!(
        eval(&m, "'email' in Patient.telecom.system", &p),
        [json!(true)]
    );
}

#[test]
fn finds_extensions_of_elements_and_of_primitives() {
    let m = model();
    let birth = "http://hl7.org/fhir/StructureDefinition/patient-birthTime";
    let p = json!({
        "resourceType": "Patient",
        "extension": [
            { "url": "http://example.org/race", "valueCoding": { "code": "x" } },
            { "url": "http://example.org/other", "valueString": "y" }
        ],
        "birthDate": "1974-12-25",
        "_birthDate": {
            "extension": [{ "url": birth, "valueDateTime": "1974-12-25T14:35:45-05:00" }]
        },
        "name": [{
            "given": ["A", "B"],
            "_given": [null, {
                "extension": [{ "url": "http://example.org/g", "valueString": "z" }]
            }]
        }]
    });
    assert_eq!(
        eval(
            &m,
            "Patient.extension('http://example.org/race').value.code",
            &p
        ),
        [json!("x")]
    );
    assert_eq!(
        eval(
            &m,
            "Patient.extension.where(url = 'http://example.org/other').value as string",
            &p
        ),
        [json!("y")]
    );
    assert_eq!(
        eval(
            &m,
            &format!("Patient.birthDate.extension('{birth}').value"),
            &p
        ),
        [json!("1974-12-25T14:35:45-05:00")]
    );
    assert_eq!(
        eval(
            &m,
            "Patient.name.given.extension('http://example.org/g').value",
            &p
        ),
        [json!("z")]
    );
    assert!(eval(&m, "Patient.extension('http://example.org/none')", &p).is_empty());
}

#[test]
fn starts_from_the_resource_type_or_a_variable() {
    let m = model();
    let obs = observation();
    assert_eq!(eval(&m, "Resource.id", &obs), [json!("o1")]);
    assert_eq!(eval(&m, "DomainResource.id", &obs), [json!("o1")]);
    assert!(eval(&m, "Patient.id", &obs).is_empty());
    assert_eq!(eval(&m, "status", &obs), [json!("final")]);
    assert_eq!(eval(&m, "%resource.status", &obs), [json!("final")]);
    assert_eq!(eval(&m, "Observation.contained.id", &obs), [json!("p1")]);
    assert_eq!(
        eval(&m, "Observation.contained.ofType(Patient).id", &obs),
        [json!("p1")]
    );
    assert_eq!(eval(&m, "Observation is Observation", &obs), [json!(true)]);
    // A composite component is evaluated on one item of its base.
    let expression = Expression::parse("code.text | %resource.id").expect("parses");
    let base = Expression::parse("Observation.component").expect("parses");
    let items = base.evaluate(&m, &obs).expect("evaluates");
    let second = expression
        .evaluate_on(&m, &obs, items[1])
        .expect("evaluates");
    let texts: Vec<_> = second.iter().filter_map(|i| i.as_str()).collect();
    assert_eq!(texts, ["b", "o1"]);
}

#[test]
fn reports_non_singletons_where_one_item_is_needed() {
    let m = model();
    let obs = observation();
    let expression =
        Expression::parse("Observation.component.code is CodeableConcept").expect("parses");
    let err = expression.evaluate(&m, &obs).expect_err("three items");
    assert_eq!(err.to_string(), "`is` needs at most one item, found 3");
}

#[test]
fn reads_reference_targets() {
    use super::reference_target;
    assert_eq!(reference_target("Patient/1"), Some(("Patient", "1")));
    assert_eq!(
        reference_target("http://x.org/fhir/Patient/1/_history/2"),
        Some(("Patient", "1"))
    );
    assert_eq!(
        reference_target("http://hl7.org/fhir/ValueSet/a-b|4.0.1"),
        Some(("ValueSet", "a-b"))
    );
    assert_eq!(reference_target("urn:uuid:1234"), None);
    assert_eq!(reference_target("patient/1"), None);
    assert_eq!(reference_target("#p1"), None);
}
