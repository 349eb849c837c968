//! Tests of extraction: each parameter type, the tricky R4 expressions (choice types,
//! `where(resolve() is Patient)`, unions, `extension()`), and every non-conformance
//! example of the official R4 package when it is unpacked in `target/r4-examples`.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{IndexEntry, extract, extract_with_issues};
use crate::fhir::schema::Schema;
use crate::search::registry::SearchRegistry;

fn registry() -> SearchRegistry {
    SearchRegistry::r4().expect("the embedded registry loads")
}

/// The entries of `param` extracted from `resource`.
fn of(registry: &SearchRegistry, resource: &Value, param: &str) -> Vec<IndexEntry> {
    let ty = resource["resourceType"].as_str().expect("a resource");
    let (entries, issues) = extract_with_issues(registry, ty, resource);
    assert!(issues.is_empty(), "{issues:?}");
    entries.into_iter().filter(|e| e.param() == param).collect()
}

fn string(param: &str, normalized: &str, exact: &str) -> IndexEntry {
    IndexEntry::String {
        param: param.into(),
        normalized: normalized.into(),
        exact: exact.into(),
    }
}

fn token(param: &str, system: Option<&str>, code: &str, text: Option<&str>) -> IndexEntry {
    IndexEntry::Token {
        param: param.into(),
        system: system.map(Into::into),
        code: code.into(),
        text: text.map(Into::into),
        of_type: None,
    }
}

fn reference(param: &str, ty: Option<&str>, id: Option<&str>, url: Option<&str>) -> IndexEntry {
    IndexEntry::Reference {
        param: param.into(),
        reference_type: ty.map(Into::into),
        reference_id: id.map(Into::into),
        version: None,
        url: url.map(Into::into),
        identifier: None,
    }
}

fn date(param: &str, low_ms: i64, high_ms: i64) -> IndexEntry {
    IndexEntry::Date {
        param: param.into(),
        low_ms,
        high_ms,
    }
}

fn quantity(param: &str, value: &str, low: f64, high: f64, unit: [Option<&str>; 3]) -> IndexEntry {
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

const DAY: i64 = 86_400_000;
const UCUM: Option<&str> = Some("http://unitsofmeasure.org");

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
    assert_eq!(of(&r, &patient, "address-city"), [string("address-city", "orleans", "Orléans")]);
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
              "type": { "text": "MRN", "coding": [{ "system": "http://t.org/v2-0203", "code": "MR" }] } },
            { "value": "no-system" }
        ],
        "telecom": [{ "system": "email", "value": "a@b.org" }, { "system": "phone", "value": "555" }],
        "maritalStatus": { "coding": [{ "system": "http://t.org/ms", "code": "M", "display": "Married" }], "text": "married" }
    });
    assert_eq!(of(&r, &patient, "active"), [token("active", None, "true", None)]);
    assert_eq!(of(&r, &patient, "gender"), [token("gender", None, "female", None)]);
    assert_eq!(of(&r, &patient, "deceased"), [token("deceased", None, "true", None)]);
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
    assert_eq!(of(&r, &patient, "email"), [token("email", None, "a@b.org", None)]);
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
            token("code", Some("http://snomed.info/sct"), "39065001", Some("Burn of ear")),
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
    let mut versioned = reference("depends-on", Some("Library"), None, Some("http://example.org/Library/lib"));
    if let IndexEntry::Reference { version, .. } = &mut versioned {
        *version = Some("1.2".into());
    }
    assert_eq!(
        of(&r, &plan, "depends-on"),
        [
            versioned,
            reference("depends-on", Some("Library"), None, Some("http://example.org/Library/main")),
        ]
    );

    // A resource itself: `Bundle.entry[0].resource`.
    let bundle = json!({
        "resourceType": "Bundle", "type": "document",
        "entry": [{ "resource": { "resourceType": "Composition", "id": "c1" } }]
    });
    assert_eq!(
        of(&r, &bundle, "composition"),
        [reference("composition", Some("Composition"), Some("c1"), None)]
    );
}

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
        of(&r, &obs(json!({ "effectiveDateTime": "2013-04-02T09:30:10+01:00" })), "date"),
        [date("date", at, at + 999)]
    );
    assert_eq!(
        of(&r, &obs(json!({ "effectiveInstant": "2013-04-02T09:30:10.25+01:00" })), "date"),
        [date("date", at + 250, at + 259)]
    );
    let april_2 = 1_364_860_800_000;
    assert_eq!(
        of(&r, &obs(json!({ "effectivePeriod": { "start": "2013-04-02" } })), "date"),
        [date("date", april_2, i64::MAX)]
    );
    assert_eq!(
        of(&r, &obs(json!({ "effectivePeriod": { "end": "2013-02" } })), "date"),
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
    let risk = json!({
        "resourceType": "RiskAssessment",
        "prediction": [
            { "probabilityDecimal": 0.020 },
            { "probabilityRange": { "low": { "value": 1 }, "high": { "value": 5 } } }
        ]
    });
    assert_eq!(
        of(&r, &risk, "probability"),
        [
            IndexEntry::Number { param: "probability".into(), value: "0.020".into(), low: 0.0195, high: 0.0205 },
            IndexEntry::Number { param: "probability".into(), value: "1".into(), low: 0.5, high: 5.5 },
        ]
    );
    let obs = json!({
        "resourceType": "Observation",
        "valueQuantity": { "value": 5.4, "unit": "mmol/l", "system": "http://unitsofmeasure.org", "code": "mmol/L" }
    });
    assert_eq!(
        of(&r, &obs, "value-quantity"),
        [quantity("value-quantity", "5.4", 5.35, 5.45, [UCUM, Some("mmol/L"), Some("mmol/l")])]
    );
    let charge = json!({ "resourceType": "ChargeItem", "priceOverride": { "value": 40, "currency": "EUR" } });
    assert_eq!(
        of(&r, &charge, "price-override"),
        [quantity("price-override", "40", 39.5, 40.5, [Some("urn:iso:std:iso:4217"), Some("EUR"), None])]
    );
    let definition = json!({
        "resourceType": "ActivityDefinition",
        "useContext": [{ "code": { "code": "age" }, "valueRange": { "low": { "value": 18, "unit": "a" } } }]
    });
    assert_eq!(
        of(&r, &definition, "context-quantity"),
        [quantity("context-quantity", "18", 17.5, f64::MAX, [None, None, Some("a")])]
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
            "security": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R" }]
        }
    });
    let uri = |param: &str, value: &str| IndexEntry::Uri { param: param.into(), value: value.into() };
    assert_eq!(of(&r, &vs, "url"), [uri("url", "http://example.org/ValueSet/x")]);
    assert_eq!(of(&r, &vs, "_source"), [uri("_source", "http://example.org/source")]);
    assert_eq!(of(&r, &vs, "_profile"), [uri("_profile", "http://example.org/StructureDefinition/p")]);
    assert_eq!(of(&r, &vs, "_tag"), [token("_tag", Some("http://example.org/tags"), "t1", None)]);
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
            quantity("component-value-quantity", value, low, low + 1.0, [None, Some("mm[Hg]"), None]),
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
            "id": "patient-birth-time", "url": "http://example.org/SearchParameter/bt", "code": "birth-time",
            "type": "date", "base": ["Patient"],
            "expression": { "Patient": "Patient.birthDate.extension.where(url = 'http://example.org/bt').value" }
        }]
    });
    let r = SearchRegistry::from_json(&text.to_string(), schema).expect("registry");
    let patient = json!({
        "resourceType": "Patient",
        "extension": [{ "url": "http://example.org/race", "valueCoding": { "system": "urn:r", "code": "2106-3" } }],
        "birthDate": "1974-12-25",
        "_birthDate": { "extension": [{ "url": "http://example.org/bt", "valueDateTime": "1974-12-25T14:35:45Z" }] }
    });
    assert_eq!(of(&r, &patient, "race"), [token("race", Some("urn:r"), "2106-3", None)]);
    let at = 1_819 * DAY + (14 * 3600 + 35 * 60 + 45) * 1000;
    assert_eq!(of(&r, &patient, "birth-time"), [date("birth-time", at, at + 999)]);
}

/// The unpacked official package, if present.
fn package() -> Option<&'static Path> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/target/r4-examples/package"));
    dir.is_dir().then_some(dir)
}

fn example(name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(package()?.join(name)).ok()?;
    serde_json::from_str(&text).ok()
}

#[test]
fn the_patient_examples_yield_the_expected_values() {
    let (Some(patient), Some(glossy)) = (example("Patient-example.json"), example("Patient-glossy.json")) else {
        eprintln!("the R4 examples package is not unpacked: skipped");
        return;
    };
    let r = registry();
    let family = of(&r, &patient, "family");
    assert_eq!(family, [string("family", "chalmers", "Chalmers"), string("family", "windsor", "Windsor")]);
    let given: Vec<_> = of(&r, &patient, "given").iter().map(|e| format!("{e:?}")).collect();
    assert_eq!(given.len(), 3, "Peter, James, Jim: {given:?}");
    assert_eq!(of(&r, &patient, "name").len(), 5);
    assert_eq!(of(&r, &patient, "birthdate"), [date("birthdate", 1_819 * DAY, 1_820 * DAY - 1)]);
    assert_eq!(of(&r, &patient, "gender"), [token("gender", None, "male", None)]);
    assert_eq!(of(&r, &patient, "deceased"), [token("deceased", None, "false", None)]);
    assert_eq!(
        of(&r, &patient, "identifier"),
        [IndexEntry::Token {
            param: "identifier".into(),
            system: Some("urn:oid:1.2.36.146.595.217.0.1".into()),
            code: "12345".into(),
            text: None,
            of_type: Some((Some("http://terminology.hl7.org/CodeSystem/v2-0203".into()), "MR".into())),
        }]
    );
    assert!(of(&r, &patient, "general-practitioner").is_empty());
    assert_eq!(
        of(&r, &patient, "organization"),
        [reference("organization", Some("Organization"), Some("1"), None)]
    );
    assert_eq!(of(&r, &patient, "phone").len(), 3);
    assert_eq!(
        of(&r, &glossy, "general-practitioner"),
        [reference("general-practitioner", Some("Practitioner"), Some("example"), None)]
    );
    assert_eq!(of(&r, &glossy, "birthdate"), [date("birthdate", -1_176_163_200_000, -1_176_076_800_001)]);
}

/// Conformance resources are definitions, not examples of data.
const CONFORMANCE: [&str; 14] = [
    "CapabilityStatement", "CodeSystem", "CompartmentDefinition", "ConceptMap", "GraphDefinition",
    "ImplementationGuide", "MessageDefinition", "NamingSystem", "OperationDefinition",
    "SearchParameter", "StructureDefinition", "StructureMap", "TerminologyCapabilities", "ValueSet",
];

#[test]
fn every_example_of_the_package_is_extracted_without_error() {
    let Some(dir) = package() else {
        eprintln!("the R4 examples package is not unpacked: skipped");
        return;
    };
    let r = registry();
    let mut files = 0;
    let mut entries = 0;
    let mut problems = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir).expect("dir").filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let Some(resource) = path
            .extension()
            .filter(|e| *e == "json")
            .and_then(|_| std::fs::read_to_string(&path).ok())
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        else {
            continue;
        };
        let Some(ty) = resource.get("resourceType").and_then(Value::as_str) else {
            continue;
        };
        if CONFORMANCE.contains(&ty) || !r.model().schema().is_resource_type(ty) {
            continue;
        }
        files += 1;
        let (found, issues) = extract_with_issues(&r, ty, &resource);
        entries += found.len();
        assert_eq!(extract(&r, ty, &resource), found);
        problems.extend(issues.into_iter().map(|i| format!("{}: {i:?}", path.display())));
    }
    assert!(files > 700, "{files} examples");
    assert!(entries > 20_000, "{entries} entries");
    assert!(problems.is_empty(), "{problems:#?}");
}
