//! Proof on real data: every non-conformance example of the official R4 package
//! (`hl7.fhir.r4.examples@4.0.1`) is written through HTTP, read back and compared with the
//! input, on every backend; and broken variants are refused with a 400 that names the
//! problem, leaving nothing stored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use crate::common::{each_backend, fhir_request, send};

/// Conformance resources are definitions, not examples of data.
const CONFORMANCE_TYPES: [&str; 14] = [
    "SearchParameter",
    "ValueSet",
    "CodeSystem",
    "StructureDefinition",
    "ConceptMap",
    "OperationDefinition",
    "CapabilityStatement",
    "CompartmentDefinition",
    "ImplementationGuide",
    "NamingSystem",
    "MessageDefinition",
    "GraphDefinition",
    "StructureMap",
    "TerminologyCapabilities",
];

fn package_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/r4-examples/package");
    if !dir.join("package.json").exists() {
        let status = std::process::Command::new("bash")
            .arg(root.join("scripts/fetch-r4-examples.sh"))
            .status()
            .expect("run scripts/fetch-r4-examples.sh (needs npm)");
        assert!(status.success(), "fetching the R4 examples package failed");
    }
    dir
}

/// The examples known to be invalid R4, with the reason (`conformance/r4-example-exceptions.json`).
pub fn exceptions() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/r4-example-exceptions.json");
    match std::fs::read_to_string(path) {
        Ok(text) => {
            serde_json::from_str(&text).expect("exceptions file is a JSON object of reasons")
        }
        Err(_) => BTreeMap::new(),
    }
}

/// Every non-conformance example of the package, `(file name, resource)`, sorted by name.
pub fn examples() -> Vec<(String, Value)> {
    let dir = package_dir();
    let mut list = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("read package") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        let resource_type = name.split('-').next().unwrap_or("");
        if !name.ends_with(".json")
            || !name.contains('-')
            || CONFORMANCE_TYPES.contains(&resource_type)
        {
            continue;
        }
        let value: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read example"))
                .expect("example JSON");
        // Package metadata (ig-r4.json, package.json) is not an example of its own type.
        if value["resourceType"].as_str() == Some(resource_type) {
            list.push((name, value));
        }
    }
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

/// The resource as read back, without what the server sets.
fn without_server_fields(mut value: Value, had_meta: Option<&Value>) -> Value {
    if let Some(meta) = value.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("lastUpdated");
        meta.remove("versionId");
        if let Some(original) = had_meta {
            for key in ["lastUpdated", "versionId"] {
                if let Some(v) = original.get(key) {
                    meta.insert(key.to_owned(), v.clone());
                }
            }
        }
        if meta.is_empty() {
            value.as_object_mut().map(|m| m.remove("meta"));
        }
    }
    value
}

#[actix_rt::test]
async fn every_official_example_round_trips() {
    let examples = examples();
    let exceptions = exceptions();
    assert!(
        examples.len() > 500,
        "expected the whole examples package, found {}",
        examples.len()
    );
    each_backend(|t| {
        let examples = examples.clone();
        let exceptions = exceptions.clone();
        async move {
            let app = test::init_service(carnet::build_app(t.state())).await;
            let token = t.token();
            let mut passed = 0;
            let mut failures = Vec::new();
            let mut refused_exceptions = 0;
            for (name, example) in &examples {
                let resource_type = example["resourceType"].as_str().unwrap_or("");
                let id = example["id"].as_str().unwrap_or("");
                let reply = send(&app, fhir_request(Method::PUT, &format!("/fhir/{resource_type}/{id}"), &token, Some(example))).await;
                if exceptions.contains_key(name) {
                    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{name} is listed as invalid but was accepted");
                    refused_exceptions += 1;
                    continue;
                }
                if !reply.status.is_success() {
                    failures.push(format!("{name}: {} {}", reply.status, String::from_utf8_lossy(&reply.body)));
                    continue;
                }
                let read = send(&app, fhir_request(Method::GET, &format!("/fhir/{resource_type}/{id}"), &token, None)).await;
                let stored = without_server_fields(read.json(), example.get("meta"));
                if &stored == example {
                    passed += 1;
                } else {
                    failures.push(format!("{name}: read back differs"));
                }
            }
            eprintln!("{} backend: {passed} examples round-tripped, {refused_exceptions} known exceptions refused", t.database.label);
            assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
            assert_eq!(passed + refused_exceptions, examples.len());
        }
    })
    .await;
}

/// Broken variants of valid resources: (name, mutate, expected expression).
fn broken_variants() -> Vec<(&'static str, Value, &'static str)> {
    let patient = || {
        json!({"resourceType": "Patient", "id": "broken", "active": true, "gender": "female",
        "birthDate": "1980-05-06", "name": [{"family": "Martin", "given": ["Léa"]}]})
    };
    let observation = || {
        json!({"resourceType": "Observation", "id": "broken", "status": "final",
        "code": {"text": "weight"}, "valueQuantity": {"value": 70.5, "unit": "kg"}})
    };
    let mut variants = Vec::new();
    let mut v = patient();
    v["birthDate"] = json!("1980-02-30");
    variants.push(("impossible date", v, "Patient.birthDate"));
    let mut v = patient();
    v["birthDate"] = json!("06/05/1980");
    variants.push(("date format", v, "Patient.birthDate"));
    let mut v = patient();
    v["favouriteColour"] = json!("blue");
    variants.push(("unknown element", v, "Patient.favouriteColour"));
    let mut v = patient();
    v["active"] = json!("yes");
    variants.push(("wrong primitive type", v, "Patient.active"));
    let mut v = patient();
    v["gender"] = json!("robot");
    variants.push(("code outside required binding", v, "Patient.gender"));
    let mut v = patient();
    v["deceasedBoolean"] = json!("yes");
    variants.push(("bad choice value", v, "Patient.deceasedBoolean"));
    let mut v = patient();
    v["deceasedText"] = json!("no");
    variants.push(("unknown choice type", v, "Patient.deceasedText"));
    let mut v = patient();
    v["active"] = Value::Null;
    variants.push(("null", v, "Patient.active"));
    let mut v = patient();
    v["name"][0]["family"] = json!("");
    variants.push(("empty string", v, "Patient.name[0].family"));
    let mut v = patient();
    v["name"] = json!([]);
    variants.push(("empty array", v, "Patient.name"));
    let mut v = patient();
    v["name"] = json!({"family": "x"});
    variants.push(("single where a list is due", v, "Patient.name"));
    let mut v = patient();
    v["gender"] = json!(["female"]);
    variants.push(("list where a single value is due", v, "Patient.gender"));
    let mut v = observation();
    v["valueQuantity"]["value"] = json!("70.5");
    variants.push(("decimal as string", v, "Observation.valueQuantity.value"));
    let mut v = observation();
    v.as_object_mut().unwrap().remove("status");
    variants.push(("missing required element", v, "Observation.status"));
    let mut v = observation();
    v["effectiveDateTime"] = json!("2020-13-01");
    variants.push(("bad dateTime", v, "Observation.effectiveDateTime"));
    let mut v = observation();
    v["valueString"] = json!("x");
    variants.push(("two choices", v, "Observation.valueString"));
    variants
}

#[actix_rt::test]
async fn broken_variants_are_refused_and_nothing_is_stored() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        for (name, resource, expression) in broken_variants() {
            let resource_type = resource["resourceType"].as_str().unwrap().to_owned();
            for (method, uri) in [
                (Method::POST, format!("/fhir/{resource_type}")),
                (Method::PUT, format!("/fhir/{resource_type}/broken")),
                (Method::POST, format!("/fhir/{resource_type}/$validate")),
            ] {
                let reply = send(
                    &app,
                    fhir_request(method.clone(), &uri, &token, Some(&resource)),
                )
                .await;
                assert_eq!(
                    reply.status,
                    StatusCode::BAD_REQUEST,
                    "{name} via {method} {uri}"
                );
                let issues = reply.issues();
                assert!(
                    issues.iter().any(|(at, _)| at.starts_with(expression)),
                    "{name}: expected an issue at {expression}, got {issues:?}"
                );
            }
            let history = send(
                &app,
                fhir_request(
                    Method::GET,
                    &format!("/fhir/{resource_type}/_history"),
                    &token,
                    None,
                ),
            )
            .await;
            assert_eq!(history.json()["total"], 0, "{name}: something was stored");
        }
        let valid = send(
            &app,
            fhir_request(
                Method::POST,
                "/fhir/Patient/$validate",
                &token,
                Some(&json!({"resourceType": "Patient", "active": true})),
            ),
        )
        .await;
        assert_eq!(valid.status, StatusCode::OK);
    })
    .await;
}

#[actix_rt::test]
async fn every_problem_is_listed_at_once() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let resource = json!({"resourceType": "Patient", "active": "yes", "birthDate": "1980-02-30", "colour": "blue", "gender": null});
        let reply = send(&app, fhir_request(Method::POST, "/fhir/Patient", &token, Some(&resource))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let places: Vec<String> = reply.issues().into_iter().map(|(at, _)| at).collect();
        for expected in ["Patient.active", "Patient.birthDate", "Patient.colour", "Patient.gender"] {
            assert!(places.iter().any(|p| p == expected), "missing {expected} in {places:?}");
        }
    })
    .await;
}
