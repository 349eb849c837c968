//! Composite search parameters through HTTP on every backend: the components of one value
//! are matched together (never one component from one repetition and the other from
//! another), with prefixes on the quantity, OR between values, `:missing`, and the
//! CapabilityStatement listing them.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use carnet::storage::index;

use crate::common::{each_backend, fhir_request, send};

const LOINC: &str = "http://loinc.org";

fn blood_pressure(id: &str, systolic: f64, diastolic: f64) -> Value {
    let component = |code: &str, value: f64| {
        json!({"code": {"coding": [{"system": LOINC, "code": code}]},
               "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}})
    };
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "component": [component("8480-6", systolic), component("8462-4", diastolic)]
    })
}

fn world() -> Vec<Value> {
    vec![
        blood_pressure("bp1", 150.0, 90.0),
        // The values swapped: a per-component match would confuse the two.
        blood_pressure("bp2", 90.0, 150.0),
        // A code with a text, the same words as its coding's display: one composite value
        // (the text alone, a token without code, makes none) and one `:text` row.
        json!({"resourceType": "Observation", "id": "glucose", "status": "final",
               "code": {"coding": [{"system": LOINC, "code": "2339-0", "display": "Glucose"}], "text": "Glucose"},
               "valueQuantity": {"value": 6.3, "system": "http://unitsofmeasure.org", "code": "mmol/L"}}),
        json!({"resourceType": "Observation", "id": "smoker", "status": "final",
               "code": {"coding": [{"system": LOINC, "code": "72166-2"}]},
               "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "77176002"}]}}),
        json!({"resourceType": "Observation", "id": "onset", "status": "final",
               "code": {"coding": [{"system": LOINC, "code": "11368-8"}]},
               "valueDateTime": "2026-03-14"}),
    ]
}

fn ids(bundle: &Value) -> Vec<String> {
    let mut ids: Vec<String> = bundle["entry"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

#[actix_rt::test]
async fn composite_values_match_within_one_repetition() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        for resource in world() {
            let url = format!("/fhir/Observation/{}", resource["id"].as_str().unwrap());
            let reply = send(&app, fhir_request(Method::PUT, &url, &token, Some(&resource))).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{url}");
        }
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("component-code-value-quantity=http://loinc.org|8480-6$gt140", vec!["bp1"]),
            ("component-code-value-quantity=http://loinc.org|8462-4$gt140", vec!["bp2"]),
            ("component-code-value-quantity=8480-6$lt100", vec!["bp2"]),
            ("component-code-value-quantity=8480-6$150|http://unitsofmeasure.org|mm[Hg]", vec!["bp1"]),
            ("component-code-value-quantity=8480-6$150|http://unitsofmeasure.org|kg", vec![]),
            // OR between values, AND between repetitions of the parameter.
            ("component-code-value-quantity=8480-6$gt140,8462-4$gt140", vec!["bp1", "bp2"]),
            ("component-code-value-quantity=8480-6$gt140&component-code-value-quantity=8462-4$lt100", vec!["bp1"]),
            ("code-value-quantity=http://loinc.org|2339-0$ge6.3", vec!["glucose"]),
            ("code-value-quantity=2339-0$lt6", vec![]),
            ("code:text=glucose", vec!["glucose"]),
            // The `combo-*` parameters have no rows of their own: they read those of
            // the parameters whose values they unite (the code and the components').
            ("combo-code=8480-6", vec!["bp1", "bp2"]),
            ("combo-code=http://loinc.org|2339-0", vec!["glucose"]),
            ("combo-code=2339-0,72166-2", vec!["glucose", "smoker"]),
            ("combo-code:text=glucose", vec!["glucose"]),
            ("combo-code:not=8480-6", vec!["glucose", "onset", "smoker"]),
            ("combo-value-quantity=gt100", vec!["bp1", "bp2"]),
            ("combo-value-quantity=6.3", vec!["glucose"]),
            ("combo-value-concept=http://snomed.info/sct|77176002", vec!["smoker"]),
            ("combo-code-value-quantity=8480-6$gt140", vec!["bp1"]),
            ("combo-code-value-quantity=85354-9$gt140", vec![]),
            ("combo-value-quantity:missing=true", vec!["onset", "smoker"]),
            ("combo-code:missing=false", vec!["bp1", "bp2", "glucose", "onset", "smoker"]),
            ("combo-code-value-quantity=2339-0$6.3", vec!["glucose"]),
            ("combo-code-value-quantity=8462-4$90", vec!["bp1"]),
            ("code-value-concept=72166-2$http://snomed.info/sct|77176002", vec!["smoker"]),
            ("code-value-concept=72166-2$http://snomed.info/sct|8517006", vec![]),
            ("code-value-date=11368-8$2026-03", vec!["onset"]),
            ("code-value-date=11368-8$gt2026-04", vec![]),
            ("code-value-quantity:missing=false", vec!["glucose"]),
            ("component-code-value-quantity:missing=true", vec!["glucose", "onset", "smoker"]),
        ];
        for (query, expected) in cases {
            let reply = send(&app, fhir_request(Method::GET, &format!("/fhir/Observation?{query}"), &token, None)).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {}", String::from_utf8_lossy(&reply.body));
            assert_eq!(ids(&reply.json()), expected, "{query}");
        }
        // Sorted by the smallest code of the code and the components'.
        let sorted = send(&app, fhir_request(Method::GET, "/fhir/Observation?_sort=combo-code,_id", &token, None)).await.json();
        let order: Vec<&str> = sorted["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap()).collect();
        assert_eq!(order, ["onset", "glucose", "smoker", "bp1", "bp2"]);
        let descending = send(&app, fhir_request(Method::GET, "/fhir/Observation?_sort=-combo-code,_id", &token, None)).await.json();
        let order: Vec<&str> = descending["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap()).collect();
        assert_eq!(order, ["bp1", "bp2", "smoker", "glucose", "onset"]);
        let params = t.services.store.read(|c| index::indexed_params(c, "Observation", "bp1")).unwrap();
        for kept in ["code", "component-code", "component-value-quantity", "component-code-value-quantity"] {
            assert!(params.contains(kept), "{kept}: {params:?}");
        }
        assert!(!params.iter().any(|p| p.starts_with("combo-")), "{params:?}");
        // A bad component is a 400 naming the parameter.
        let reply = send(&app, fhir_request(Method::GET, "/fhir/Observation?code-value-quantity=2339-0$abc", &token, None)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.issues().iter().any(|(_, text)| text.contains("code-value-quantity")));
        // So is an empty component.
        let reply = send(&app, fhir_request(Method::GET, "/fhir/Observation?code-value-quantity=$ge6", &token, None)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.issues().iter().any(|(_, text)| text.contains("code-value-quantity") && text.contains("empty")));
        // The CapabilityStatement lists composite parameters now.
        let reply = send(&app, test::TestRequest::get().uri("/fhir/metadata")).await;
        let statement = reply.json();
        let observation = statement["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "Observation")
            .unwrap()
            .clone();
        assert!(observation["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "component-code-value-quantity" && p["type"] == "composite"));
    })
    .await;
}
