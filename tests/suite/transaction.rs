//! Batch and transaction bundles through HTTP: urn:uuid resolution, processing order,
//! all-or-nothing transactions, independent batch entries, conditional references, PATCH
//! entries.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use base64::Engine;
use serde_json::{Value, json};

use crate::common::{assert_found, each_backend, fhir_request, get, put_all, send, typed_ids};

fn transaction(entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

#[actix_rt::test]
async fn transaction_resolves_temporary_ids_and_is_atomic() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let bundle = transaction(vec![
            json!({"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
                   "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "t"},
                                "subject": {"reference": "urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059"}},
                   "request": {"method": "POST", "url": "Observation"}}),
            json!({"fullUrl": "urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059",
                   "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:s", "value": "tx-1"}]},
                   "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:s|tx-1"}}),
        ]);
        let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&bundle)).insert_header(("Prefer", "return=representation"))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        let response = reply.json();
        assert_eq!(response["type"], "transaction-response");
        assert_eq!(response["entry"][0]["response"]["status"], "201 Created");
        let patient_id = response["entry"][1]["resource"]["id"].as_str().unwrap().to_owned();
        assert_eq!(response["entry"][0]["resource"]["subject"]["reference"], format!("Patient/{patient_id}"));
        assert!(response["entry"][1]["response"]["location"].as_str().unwrap().starts_with(&format!("Patient/{patient_id}/_history/1")));

        // Run again: the conditional create matches, the reference points to the same patient.
        let again = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&bundle)).insert_header(("Prefer", "return=representation"))).await;
        let response = again.json();
        assert_eq!(response["entry"][1]["response"]["status"], "200 OK");
        assert_eq!(response["entry"][0]["resource"]["subject"]["reference"], format!("Patient/{patient_id}"));

        // One invalid entry: nothing of the transaction is stored.
        let broken = transaction(vec![
            json!({"resource": {"resourceType": "Patient", "id": "tx-keep", "gender": "female"}, "request": {"method": "PUT", "url": "Patient/tx-keep"}}),
            json!({"resource": {"resourceType": "Patient", "birthDate": "2020-02-30"}, "request": {"method": "POST", "url": "Patient"}}),
        ]);
        let failed = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&broken))).await;
        assert_eq!(failed.status, StatusCode::BAD_REQUEST);
        assert!(failed.issues().iter().any(|(at, _)| at == "Bundle.entry[1].resource.birthDate"), "{:?}", failed.issues());
        let absent = send(&app, fhir_request(Method::GET, "/fhir/Patient/tx-keep", &token, None)).await;
        assert_eq!(absent.status, StatusCode::NOT_FOUND);

        // A failure while writing (If-Match on a missing resource) rolls back earlier entries.
        let late_failure = transaction(vec![
            json!({"resource": {"resourceType": "Patient", "id": "tx-keep", "gender": "female"}, "request": {"method": "PUT", "url": "Patient/tx-keep"}}),
            json!({"resource": {"resourceType": "Patient", "id": "tx-other"}, "request": {"method": "PUT", "url": "Patient/tx-other", "ifMatch": "W/\"4\""}}),
        ]);
        let failed = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&late_failure))).await;
        assert_eq!(failed.status, StatusCode::PRECONDITION_FAILED);
        let absent = send(&app, fhir_request(Method::GET, "/fhir/Patient/tx-keep", &token, None)).await;
        assert_eq!(absent.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[actix_rt::test]
async fn transaction_runs_in_the_spec_order() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let seed = json!({"resourceType": "Patient", "id": "order-1", "active": true});
        send(&app, fhir_request(Method::PUT, "/fhir/Patient/order-1", &token, Some(&seed))).await;
        // GET listed first still runs last (after the DELETE and the PUT).
        let bundle = transaction(vec![
            json!({"request": {"method": "GET", "url": "Patient/order-2"}}),
            json!({"resource": {"resourceType": "Patient", "id": "order-2", "active": false}, "request": {"method": "PUT", "url": "Patient/order-2"}}),
            json!({"request": {"method": "DELETE", "url": "Patient/order-1"}}),
        ]);
        let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&bundle))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        let response = reply.json();
        assert_eq!(response["entry"][0]["resource"]["id"], "order-2");
        assert_eq!(response["entry"][1]["response"]["status"], "201 Created");
        assert_eq!(response["entry"][2]["response"]["status"], "204 No Content");

        let twice = transaction(vec![
            json!({"request": {"method": "DELETE", "url": "Patient/order-2"}}),
            json!({"resource": {"resourceType": "Patient", "id": "order-2"}, "request": {"method": "PUT", "url": "Patient/order-2"}}),
        ]);
        let refused = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&twice))).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[actix_rt::test]
async fn batch_entries_succeed_or_fail_alone() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
            {"resource": {"resourceType": "Patient", "gender": "male"}, "request": {"method": "POST", "url": "Patient"}},
            {"resource": {"resourceType": "Patient", "gender": "robot"}, "request": {"method": "POST", "url": "Patient"}},
            {"request": {"method": "GET", "url": "Patient/does-not-exist"}},
            {"request": {"method": "FETCH", "url": "Patient"}}
        ]});
        let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&bundle))).await;
        assert_eq!(reply.status, StatusCode::OK);
        let response = reply.json();
        assert_eq!(response["type"], "batch-response");
        assert_eq!(response["entry"][0]["response"]["status"], "201 Created");
        assert_eq!(response["entry"][1]["response"]["status"], "400 Bad Request");
        assert_eq!(response["entry"][1]["response"]["outcome"]["resourceType"], "OperationOutcome");
        assert_eq!(response["entry"][2]["response"]["status"], "404 Not Found");
        assert_eq!(response["entry"][3]["response"]["status"], "400 Bad Request");
        let location = response["entry"][0]["response"]["location"].as_str().unwrap();
        let read = send(&app, fhir_request(Method::GET, &format!("/fhir/{}", location.split("/_history").next().unwrap()), &token, None)).await;
        assert_eq!(read.status, StatusCode::OK);

        let not_a_bundle = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&json!({"resourceType": "Patient"})))).await;
        assert_eq!(not_a_bundle.status, StatusCode::BAD_REQUEST);
        let collection = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&json!({"resourceType": "Bundle", "type": "collection"})))).await;
        assert_eq!(collection.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[actix_rt::test]
async fn conditional_references_and_patch_entries() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let patient = json!({"resourceType": "Patient", "id": "cond-1", "identifier": [{"system": "urn:ins", "value": "42"}], "active": true});
        send(&app, fhir_request(Method::PUT, "/fhir/Patient/cond-1", &token, Some(&patient))).await;
        let patch = json!([{"op": "replace", "path": "/active", "value": false}]);
        let data = base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&patch).unwrap());
        let bundle = transaction(vec![
            json!({"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                                "subject": {"reference": "Patient?identifier=urn:ins|42"}},
                   "request": {"method": "POST", "url": "Observation"}}),
            json!({"resource": {"resourceType": "Binary", "contentType": "application/json-patch+json", "data": data},
                   "request": {"method": "PATCH", "url": "Patient/cond-1"}}),
        ]);
        let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&bundle)).insert_header(("Prefer", "return=representation"))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        let response = reply.json();
        assert_eq!(response["entry"][0]["resource"]["subject"]["reference"], "Patient/cond-1");
        assert_eq!(response["entry"][1]["resource"]["active"], false);

        let dangling = transaction(vec![json!({"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "subject": {"reference": "Patient?identifier=urn:ins|nobody"}}, "request": {"method": "POST", "url": "Observation"}})]);
        let failed = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&dangling))).await;
        assert_eq!(failed.status, StatusCode::PRECONDITION_FAILED);
    })
    .await;
}

#[actix_rt::test]
async fn placeholders_must_name_an_entry_of_the_bundle() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let observation = |subject: &str| {
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": subject}})
        };
        let count_observations = || async {
            let reply = send(&app, fhir_request(Method::GET, "/fhir/Observation?_summary=count", &token, None)).await;
            reply.json()["total"].as_u64().unwrap()
        };
        let before = count_observations().await;

        // A placeholder no entry names: 400, nothing stored.
        let dangling = transaction(vec![
            json!({"resource": {"resourceType": "Patient", "id": "ph-kept"}, "request": {"method": "PUT", "url": "Patient/ph-kept"}}),
            json!({"resource": observation("urn:uuid:00000000-0000-4000-8000-000000000404"), "request": {"method": "POST", "url": "Observation"}}),
        ]);
        let failed = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&dangling))).await;
        assert_eq!(failed.status, StatusCode::BAD_REQUEST);
        let issues = failed.issues();
        assert!(
            issues.iter().any(|(at, text)| at == "Bundle.entry[1].resource" && text.contains("urn:uuid:00000000-0000-4000-8000-000000000404")),
            "{issues:?}"
        );
        assert_eq!(send(&app, fhir_request(Method::GET, "/fhir/Patient/ph-kept", &token, None)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(count_observations().await, before);

        // Two entries with one fullUrl: 400.
        let twice = transaction(vec![
            json!({"fullUrl": "urn:uuid:a", "resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}}),
            json!({"fullUrl": "urn:uuid:a", "resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}}),
        ]);
        let failed = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&twice))).await;
        assert_eq!(failed.status, StatusCode::BAD_REQUEST);
        assert!(failed.issues().iter().any(|(at, text)| at == "Bundle.entry[1].fullUrl" && text.contains("entries 0 and 1")), "{:?}", failed.issues());

        // The fullUrl of a conditional update resolves to the resource it writes: created
        // when nothing matches, the match otherwise.
        let conditional = transaction(vec![
            json!({"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:ph", "value": "1"}]},
                   "request": {"method": "PUT", "url": "Patient?identifier=urn:ph|1"}}),
            json!({"resource": observation("urn:uuid:p"), "request": {"method": "POST", "url": "Observation"}}),
        ]);
        let mut subjects = Vec::new();
        for round in ["created", "matched"] {
            let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&conditional)).insert_header(("Prefer", "return=representation"))).await;
            assert_eq!(reply.status, StatusCode::OK, "{round}: {}", String::from_utf8_lossy(&reply.body));
            let response = reply.json();
            let patient = response["entry"][0]["resource"]["id"].as_str().unwrap().to_owned();
            assert_eq!(response["entry"][1]["resource"]["subject"]["reference"], format!("Patient/{patient}"), "{round}");
            subjects.push(patient);
        }
        assert_eq!(subjects[0], subjects[1], "the second run updates the patient the first created");

        // In a batch, entries may not refer to each other: that entry fails alone.
        let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
            {"fullUrl": "urn:uuid:b", "resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}},
            {"resource": observation("urn:uuid:b"), "request": {"method": "POST", "url": "Observation"}}
        ]});
        let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&batch))).await;
        assert_eq!(reply.status, StatusCode::OK);
        let response = reply.json();
        assert_eq!(response["entry"][0]["response"]["status"], "201 Created");
        assert_eq!(response["entry"][1]["response"]["status"], "400 Bad Request");
        let outcome = response["entry"][1]["response"]["outcome"].to_string();
        assert!(outcome.contains("may not refer to each other"), "{outcome}");
    })
    .await;
}

#[actix_rt::test]
async fn patch_entries_resolve_and_check_their_references() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let patch = |operations: Value| {
            let data = base64::engine::general_purpose::STANDARD.encode(operations.to_string());
            json!({"resourceType": "Binary", "contentType": "application/json-patch+json", "data": data})
        };
        let setup = transaction(vec![
            json!({"resource": {"resourceType": "Patient", "id": "pp-old"}, "request": {"method": "PUT", "url": "Patient/pp-old"}}),
            json!({"resource": {"resourceType": "Patient", "id": "pp-known", "identifier": [{"system": "urn:pp", "value": "7"}]},
                   "request": {"method": "PUT", "url": "Patient/pp-known"}}),
            json!({"resource": {"resourceType": "Observation", "id": "pp-obs", "status": "final", "code": {"text": "x"},
                                "subject": {"reference": "Patient/pp-old"}},
                   "request": {"method": "PUT", "url": "Observation/pp-obs"}}),
        ]);
        assert_eq!(send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&setup))).await.status, StatusCode::OK);
        let read_observation = || async {
            send(&app, fhir_request(Method::GET, "/fhir/Observation/pp-obs", &token, None)).await.json()
        };

        // A placeholder in a patch value names the entry the transaction creates.
        let moved = transaction(vec![
            json!({"fullUrl": "urn:uuid:pp-new", "resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}}),
            json!({"resource": patch(json!([{"op": "replace", "path": "/subject/reference", "value": "urn:uuid:pp-new"}])),
                   "request": {"method": "PATCH", "url": "Observation/pp-obs"}}),
        ]);
        let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&moved))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        let created = reply.json()["entry"][0]["response"]["location"].as_str().unwrap().to_owned();
        let subject = read_observation().await["subject"]["reference"].as_str().unwrap().to_owned();
        assert!(created.starts_with(&format!("{subject}/_history/")), "{created} vs {subject}");

        // A conditional reference in a patch value, as an object: the one match.
        let conditional = transaction(vec![
            json!({"resource": patch(json!([{"op": "replace", "path": "/subject", "value": {"reference": "Patient?identifier=urn:pp|7"}}])),
                   "request": {"method": "PATCH", "url": "Observation/pp-obs"}}),
        ]);
        let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&conditional))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        assert_eq!(read_observation().await["subject"]["reference"], "Patient/pp-known");

        // A placeholder no entry names: 400 at the entry, nothing changed.
        let dangling = transaction(vec![
            json!({"resource": {"resourceType": "Patient", "id": "pp-unwritten"}, "request": {"method": "PUT", "url": "Patient/pp-unwritten"}}),
            json!({"resource": patch(json!([{"op": "replace", "path": "/subject/reference", "value": "urn:uuid:pp-404"}])),
                   "request": {"method": "PATCH", "url": "Observation/pp-obs"}}),
        ]);
        let failed = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&dangling))).await;
        assert_eq!(failed.status, StatusCode::BAD_REQUEST);
        assert!(failed.issues().iter().any(|(at, text)| at == "Bundle.entry[1].resource" && text.contains("urn:uuid:pp-404")), "{:?}", failed.issues());
        assert_eq!(read_observation().await["subject"]["reference"], "Patient/pp-known");
        assert_eq!(send(&app, fhir_request(Method::GET, "/fhir/Patient/pp-unwritten", &token, None)).await.status, StatusCode::NOT_FOUND);

        // In a batch, a patch may not refer to another entry either: it fails alone.
        let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
            {"fullUrl": "urn:uuid:pp-b", "resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}},
            {"resource": patch(json!([{"op": "replace", "path": "/subject/reference", "value": "urn:uuid:pp-b"}])),
             "request": {"method": "PATCH", "url": "Observation/pp-obs"}}
        ]});
        let response = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&batch))).await.json();
        assert_eq!(response["entry"][0]["response"]["status"], "201 Created");
        assert_eq!(response["entry"][1]["response"]["status"], "400 Bad Request");
        assert_eq!(read_observation().await["subject"]["reference"], "Patient/pp-known");
    })
    .await;
}

/// The search values of a transaction's resources are extracted while it is planned when
/// the ids they refer to are known then, and again in the transaction when a reference
/// is resolved there (a conditional reference, an entry whose id depends on a match):
/// every resource is found by the references it was stored with, never by a placeholder.
#[actix_rt::test]
async fn transaction_entries_are_indexed_as_stored() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let existing = json!({"resourceType": "Patient", "id": "ix-old", "identifier": [{"system": "urn:ix", "value": "old"}]});
        put_all(&app, &token, &[existing]).await;
        let observation = |full_url: &str, subject: &str, code: &str| {
            json!({"fullUrl": full_url, "resource": {"resourceType": "Observation", "status": "final",
                "code": {"coding": [{"system": "urn:ix-code", "code": code}]}, "subject": {"reference": subject}},
                "request": {"method": "POST", "url": "Observation"}})
        };
        let bundle = transaction(vec![
            // A new patient (id chosen when planned) and one given by PUT.
            json!({"fullUrl": "urn:uuid:a0000000-0000-4000-8000-000000000001",
                   "resource": {"resourceType": "Patient", "name": [{"family": "Ixnew"}]},
                   "request": {"method": "POST", "url": "Patient"}}),
            json!({"fullUrl": "urn:uuid:a0000000-0000-4000-8000-000000000002",
                   "resource": {"resourceType": "Patient", "id": "ix-put", "name": [{"family": "Ixput"}]},
                   "request": {"method": "PUT", "url": "Patient/ix-put"}}),
            // Ids known only in the database: a conditional create that matches, a
            // conditional update that matches.
            json!({"fullUrl": "urn:uuid:a0000000-0000-4000-8000-000000000003",
                   "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:ix", "value": "old"}]},
                   "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:ix|old"}}),
            json!({"fullUrl": "urn:uuid:a0000000-0000-4000-8000-000000000004",
                   "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:ix", "value": "old"}], "name": [{"family": "Ixupdated"}]},
                   "request": {"method": "PUT", "url": "Patient?identifier=urn:ix|old"}}),
            observation("urn:uuid:b0000000-0000-4000-8000-000000000001", "urn:uuid:a0000000-0000-4000-8000-000000000001", "new"),
            observation("urn:uuid:b0000000-0000-4000-8000-000000000002", "urn:uuid:a0000000-0000-4000-8000-000000000002", "put"),
            observation("urn:uuid:b0000000-0000-4000-8000-000000000003", "urn:uuid:a0000000-0000-4000-8000-000000000003", "matched"),
            observation("urn:uuid:b0000000-0000-4000-8000-000000000004", "urn:uuid:a0000000-0000-4000-8000-000000000004", "updated"),
            observation("urn:uuid:b0000000-0000-4000-8000-000000000005", "Patient?identifier=urn:ix|old", "conditional"),
        ]);
        let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&bundle)).insert_header(("Prefer", "return=representation"))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        let response = reply.json();
        let id = |i: usize| response["entry"][i]["resource"]["id"].as_str().unwrap_or("").to_owned();
        let new_patient = id(0);
        assert_eq!((id(2), id(3)), ("ix-old".to_owned(), "ix-old".to_owned()));
        for (code, patient) in [("new", new_patient.as_str()), ("put", "ix-put"), ("matched", "ix-old"), ("updated", "ix-old"), ("conditional", "ix-old")] {
            let entry = (4..9).find(|&i| response["entry"][i]["resource"]["code"]["coding"][0]["code"] == code).expect("entry");
            let expected = vec![format!("Observation/{}", id(entry))];
            for query in [format!("Observation?code=urn:ix-code|{code}&subject=Patient/{patient}"),
                          format!("Observation?code=urn:ix-code|{code}&patient={patient}"),
                          format!("Patient/{patient}/Observation?code=urn:ix-code|{code}")] {
                assert_found(&get(&app, &format!("/fhir/{query}"), &token).await, &expected, &query);
            }
        }
        let placeholder = "/fhir/Observation?subject=urn:uuid:a0000000-0000-4000-8000-000000000001";
        assert_found(&get(&app, placeholder, &token).await, &[], placeholder);
        let names = "/fhir/Patient?name=Ixnew,Ixput,Ixupdated";
        assert_found(&get(&app, names, &token).await, &typed_ids("Patient", &["ix-old", "ix-put", &new_patient]), names);
    })
    .await;
}
