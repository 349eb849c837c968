//! Tests of extraction of dates, numbers, quantities, uris and composites, and of custom
//! parameters using `extension()`, with exact expected entries.

use std::sync::Arc;

use serde_json::{Value, json};

use super::IndexEntry;
use super::tests::{DAY, UCUM, date, of, quantity, registry, token};
use crate::fhir::schema::Schema;
use crate::search::registry::SearchRegistry;

#[test]
fn dates_cover_their_precision_periods_and_timings() {
    let r = registry();
    let obs = |effective: Value| {
        let mut o = json!({ "resourceType": "Observation" });
        if let (Some(o), Some(e)) = (o.as_object_mut(), effective.as_object()) {
            o.extend(e.clone());
        }
        o
    };
    let at = 1_364_891_410_000;
    assert_eq!(
        of(
            &r,
            &obs(json!({ "effectiveDateTime": "2013-04-02T09:30:10+01:00" })),
            "date"
        ),
        [date("date", at, at + 999)]
    );
    assert_eq!(
        of(
            &r,
            &obs(json!({ "effectiveInstant": "2013-04-02T09:30:10.25+01:00" })),
            "date"
        ),
        [date("date", at + 250, at + 259)]
    );
    let april_2 = 1_364_860_800_000;
    assert_eq!(
        of(
            &r,
            &obs(json!({ "effectivePeriod": { "start": "2013-04-02" } })),
            "date"
        ),
        [date("date", april_2, i64::MAX)]
    );
    assert_eq!(
        of(
            &r,
            &obs(json!({ "effectivePeriod": { "end": "2013-02" } })),
            "date"
        ),
        [date("date", i64::MIN, 1_362_095_999_999)]
    );
    let plan = json!({
        "resourceType": "CarePlan",
        "activity": [
            { "detail": { "status": "scheduled", "scheduledTiming": {
                "event": ["2012-09-20", "2012-09-17"],
                "repeat": { "boundsPeriod": { "start": "2012-09-18", "end": "2012-09-24" } } } } },
            { "detail": { "status": "scheduled", "scheduledString": "daily" } }
        ]
    });
    assert_eq!(
        of(&r, &plan, "activity-date"),
        [date("activity-date", 1_347_840_000_000, 1_348_531_199_999)]
    );
    let patient = json!({ "resourceType": "Patient", "birthDate": "2011" });
    assert_eq!(
        of(&r, &patient, "birthdate"),
        [date("birthdate", 1_293_840_000_000, 1_325_375_999_999)]
    );
}

#[test]
fn numbers_and_quantities_keep_their_text_and_precision() {
    let r = registry();
    // Parsed from text: `json!` would turn 0.020 into an f64 and lose the trailing zero.
    let risk: Value = serde_json::from_str(
        r#"{ "resourceType": "RiskAssessment", "prediction": [
            { "probabilityDecimal": 0.020 },
            { "probabilityRange": { "low": { "value": 1 }, "high": { "value": 5 } } } ] }"#,
    )
    .expect("json");
    assert_eq!(
        of(&r, &risk, "probability"),
        [
            IndexEntry::Number {
                param: "probability".into(),
                value: "0.020".into(),
                low: 0.0195,
                high: 0.0205
            },
            IndexEntry::Number {
                param: "probability".into(),
                value: "1".into(),
                low: 0.5,
                high: 5.5
            },
        ]
    );
    let obs = json!({
        "resourceType": "Observation",
        "valueQuantity": {
            "value": 5.4, "unit": "mmol/l", "system": "http://unitsofmeasure.org", "code": "mmol/L"
        }
    });
    assert_eq!(
        of(&r, &obs, "value-quantity"),
        [quantity(
            "value-quantity",
            "5.4",
            5.35,
            5.45,
            [UCUM, Some("mmol/L"), Some("mmol/l")]
        )]
    );
    let charge = json!({
        "resourceType": "ChargeItem",
        "priceOverride": { "value": 40, "currency": "EUR" }
    });
    assert_eq!(
        of(&r, &charge, "price-override"),
        [quantity(
            "price-override",
            "40",
            39.5,
            40.5,
            [Some("urn:iso:std:iso:4217"), Some("EUR"), None]
        )]
    );
    let definition = json!({
        "resourceType": "ActivityDefinition",
        "useContext": [{
            "code": { "code": "age" },
            "valueRange": { "low": { "value": 18, "unit": "a" } }
        }]
    });
    assert_eq!(
        of(&r, &definition, "context-quantity"),
        [quantity(
            "context-quantity",
            "18",
            17.5,
            f64::MAX,
            [None, None, Some("a")]
        )]
    );
}

#[test]
fn uris_and_common_parameters_from_meta() {
    let r = registry();
    let vs = json!({
        "resourceType": "ValueSet",
        "id": "x",
        "url": "http://example.org/ValueSet/x",
        "meta": {
            "lastUpdated": "2020-01-01T00:00:00Z",
            "source": "http://example.org/source",
            "profile": ["http://example.org/StructureDefinition/p"],
            "tag": [{ "system": "http://example.org/tags", "code": "t1" }],
            "security": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                "code": "R"
            }]
        }
    });
    let uri = |param: &str, value: &str| IndexEntry::Uri {
        param: param.into(),
        value: value.into(),
    };
    assert_eq!(
        of(&r, &vs, "url"),
        [uri("url", "http://example.org/ValueSet/x")]
    );
    assert_eq!(
        of(&r, &vs, "_source"),
        [uri("_source", "http://example.org/source")]
    );
    assert_eq!(
        of(&r, &vs, "_profile"),
        [uri("_profile", "http://example.org/StructureDefinition/p")]
    );
    assert_eq!(
        of(&r, &vs, "_tag"),
        [token("_tag", Some("http://example.org/tags"), "t1", None)]
    );
    assert_eq!(of(&r, &vs, "_security").len(), 1);
    assert!(of(&r, &vs, "_id").is_empty() && of(&r, &vs, "_lastUpdated").is_empty());
}

#[test]
fn composites_pair_values_of_the_same_repetition() {
    let r = registry();
    let obs = json!({
        "resourceType": "Observation",
        "code": { "coding": [{ "system": "http://loinc.org", "code": "85354-9" }] },
        "component": [
            { "code": { "coding": [{ "system": "http://loinc.org", "code": "8480-6" }] },
              "valueQuantity": { "value": 107, "code": "mm[Hg]" } },
            { "code": { "coding": [{ "system": "http://loinc.org", "code": "8462-4" }] },
              "valueQuantity": { "value": 60, "code": "mm[Hg]" } }
        ]
    });
    let pair = |code: &str, value: &str, low: f64| IndexEntry::Composite {
        param: "component-code-value-quantity".into(),
        components: vec![
            token("component-code", Some("http://loinc.org"), code, None),
            quantity(
                "component-value-quantity",
                value,
                low,
                low + 1.0,
                [None, Some("mm[Hg]"), None],
            ),
        ],
    };
    assert_eq!(
        of(&r, &obs, "component-code-value-quantity"),
        [pair("8480-6", "107", 106.5), pair("8462-4", "60", 59.5)]
    );
    // The Observation has no value of its own: no `code-value-quantity`.
    assert!(of(&r, &obs, "code-value-quantity").is_empty());
    assert_eq!(of(&r, &obs, "combo-code-value-quantity").len(), 2);
}

#[test]
fn custom_parameters_may_use_extensions() {
    let schema = Arc::new(Schema::r4().expect("schema"));
    let text = json!({
        "fhirVersion": "4.0.1",
        "parameters": [{
            "id": "patient-race", "url": "http://example.org/SearchParameter/race", "code": "race",
            "type": "token", "base": ["Patient"],
            "expression": { "Patient": "Patient.extension('http://example.org/race').value" }
        }, {
            "id": "patient-birth-time", "url": "http://example.org/SearchParameter/bt",
            "code": "birth-time",
            "type": "date", "base": ["Patient"],
            "expression": {
                "Patient": "Patient.birthDate.extension.where(url = 'http://example.org/bt').value"
            }
        }]
    });
    let r = SearchRegistry::from_json(&text.to_string(), schema).expect("registry");
    let patient = json!({
        "resourceType": "Patient",
        "extension": [{
            "url": "http://example.org/race",
            "valueCoding": { "system": "urn:r", "code": "2106-3" }
        }],
        "birthDate": "1974-12-25",
        "_birthDate": {
            "extension": [{
                "url": "http://example.org/bt",
                "valueDateTime": "1974-12-25T14:35:45Z"
            }]
        }
    });
    assert_eq!(
        of(&r, &patient, "race"),
        [token("race", Some("urn:r"), "2106-3", None)]
    );
    let at = 1_819 * DAY + (14 * 3600 + 35 * 60 + 45) * 1000;
    assert_eq!(
        of(&r, &patient, "birth-time"),
        [date("birth-time", at, at + 999)]
    );
}
