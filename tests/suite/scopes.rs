//! SMART scopes through HTTP on every backend: type and interaction coverage (v1 and v2),
//! `patient/` scopes limited to the patient in context, granular `?category=` scopes, the
//! SQL narrowing of totals, includes, history, conditional writes, batch and transaction
//! entries, and the `.well-known/smart-configuration` document.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use carnet::auth::{Subject, TokenRequest};

use crate::common::{Reply, TestApp, each_backend, fhir_request, send};

const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

fn observation(id: &str, patient: &str, category: &str) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": category}]}],
        "code": {"text": id},
        "subject": {"reference": format!("Patient/{patient}")}
    })
}

fn patient_token(app: &TestApp, patient: &str, scope: &str) -> String {
    app.token_for(Subject::Patient(patient.to_owned()), scope)
}

/// A practitioner's token with `patient/` scopes for `patient` in context.
fn launch_token(app: &TestApp, patient: Option<&str>, scope: &str) -> String {
    app.token_with(TokenRequest {
        subject: Subject::Practitioner("doc".to_owned()),
        scope: scope.to_owned(),
        purposes: vec!["TREAT".to_owned()],
        profession: Some("10".to_owned()),
        organization: None,
        patient: patient.map(str::to_owned),
        ttl_seconds: 600,
    })
}

use crate::common::entry_ids as ids;

fn assert_forbidden(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}");
    let issues = reply.issues();
    assert!(
        issues.iter().any(|(_, text)| text.contains("scopes")),
        "{what}: {issues:?}"
    );
}

/// Two patients, their observations (laboratory and vital signs), a practitioner.
macro_rules! seed {
    ($service:expr, $admin:expr) => {{
        for (id, resource) in [
            // `doc` is their médecin traitant: the consent engine lets them in, so these
            // tests see the scopes' effect alone.
            ("Patient/p1", json!({"resourceType": "Patient", "id": "p1", "gender": "female",
                "generalPractitioner": [{"reference": "Practitioner/doc"}]})),
            ("Patient/p2", json!({"resourceType": "Patient", "id": "p2", "gender": "male",
                "generalPractitioner": [{"reference": "Practitioner/doc"}]})),
            ("Practitioner/doc", json!({"resourceType": "Practitioner", "id": "doc"})),
            ("Observation/lab1", observation("lab1", "p1", "laboratory")),
            ("Observation/vit1", observation("vit1", "p1", "vital-signs")),
            ("Observation/lab2", observation("lab2", "p2", "laboratory")),
        ] {
            let reply = send(
                $service,
                fhir_request(Method::PUT, &format!("/fhir/{id}"), $admin, Some(&resource)),
            )
            .await;
            assert_eq!(reply.status, StatusCode::CREATED, "seed {id}");
        }
    }};
}

#[actix_web::test]
async fn scopes_cover_types_and_interactions() {
    each_backend(|app| async move {
        let service = test::init_service(carnet::build_app(app.state())).await;
        let admin = app.token();
        seed!(&service, &admin);
        let get = |uri: &str, token: &str| fhir_request(Method::GET, uri, token, None);

        // v2 `rs` on one type.
        let token = app.token_for(Subject::Practitioner("doc".into()), "user/Observation.rs");
        let reply = send(&service, get("/fhir/Observation/lab1", &token)).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_forbidden(
            &send(&service, get("/fhir/Patient/p1", &token)).await,
            "read Patient",
        );
        assert_forbidden(
            &send(&service, get("/fhir/Patient/nope", &token)).await,
            "403 before 404",
        );
        assert_forbidden(
            &send(&service, get("/fhir/Patient?gender=male", &token)).await,
            "search Patient",
        );
        let body = observation("new", "p1", "laboratory");
        let reply = send(
            &service,
            fhir_request(Method::POST, "/fhir/Observation", &token, Some(&body)),
        )
        .await;
        assert_forbidden(&reply, "create without c");
        let reply = send(
            &service,
            fhir_request(Method::DELETE, "/fhir/Observation/lab1", &token, None),
        )
        .await;
        assert_forbidden(&reply, "delete without d");
        // A chain through a type the scopes exclude.
        let reply = send(
            &service,
            get("/fhir/Observation?subject:Patient.gender=male", &token),
        )
        .await;
        assert_forbidden(&reply, "chain through Patient");
        // `r` without `s`: reads but no search, no type history.
        let token = app.token_for(Subject::Practitioner("doc".into()), "user/Observation.r");
        assert_eq!(
            send(&service, get("/fhir/Observation/lab1", &token))
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            send(&service, get("/fhir/Observation/lab1/_history", &token))
                .await
                .status,
            StatusCode::OK
        );
        assert_forbidden(
            &send(&service, get("/fhir/Observation", &token)).await,
            "search without s",
        );
        assert_forbidden(
            &send(&service, get("/fhir/Observation/_history", &token)).await,
            "type history without s",
        );

        // v1 `read` is r + s, `write` is c + u + d.
        let token = app.token_for(Subject::Practitioner("doc".into()), "user/*.read");
        assert_eq!(
            send(&service, get("/fhir/Patient?gender=male", &token))
                .await
                .status,
            StatusCode::OK
        );
        let reply = send(
            &service,
            fhir_request(Method::POST, "/fhir/Observation", &token, Some(&body)),
        )
        .await;
        assert_forbidden(&reply, "v1 read cannot create");
        let token = app.token_for(
            Subject::Practitioner("doc".into()),
            "user/Observation.write",
        );
        let reply = send(
            &service,
            fhir_request(Method::POST, "/fhir/Observation", &token, Some(&body)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        assert_forbidden(
            &send(&service, get("/fhir/Observation/lab1", &token)).await,
            "v1 write cannot read",
        );

        // Conditional create searches: `c` without `s` is refused, nothing is written.
        let token = app.token_for(Subject::Practitioner("doc".into()), "user/Observation.c");
        let reply = send(
            &service,
            fhir_request(Method::POST, "/fhir/Observation", &token, Some(&body))
                .insert_header(("If-None-Exist", "code:text=new")),
        )
        .await;
        assert_forbidden(&reply, "conditional create without s");

        // A system scope does not serve a practitioner; no scope at all grants nothing.
        let token = app.token_for(Subject::Practitioner("doc".into()), "system/*.cruds");
        assert_forbidden(
            &send(&service, get("/fhir/Observation/lab1", &token)).await,
            "system scope for a user",
        );
        let token = app.token_for(Subject::Practitioner("doc".into()), "openid fhirUser");
        assert_forbidden(
            &send(&service, get("/fhir/Observation/lab1", &token)).await,
            "no resource scope",
        );
        // A system client with system scopes.
        let token = app.token_for(Subject::System("feed".into()), "system/Observation.rs");
        assert_eq!(
            send(&service, get("/fhir/Observation/lab2", &token))
                .await
                .status,
            StatusCode::OK
        );
        assert_forbidden(
            &send(&service, get("/fhir/Patient/p2", &token)).await,
            "system scope on one type",
        );
    })
    .await;
}

#[actix_web::test]
async fn patient_scopes_stay_in_the_patient_compartment() {
    each_backend(|app| async move {
        let service = test::init_service(carnet::build_app(app.state())).await;
        let admin = app.token();
        seed!(&service, &admin);
        let get = |uri: &str, token: &str| fhir_request(Method::GET, uri, token, None);

        for token in [
            patient_token(&app, "p1", "patient/*.rs"),
            launch_token(&app, Some("p1"), "launch/patient patient/*.read"),
        ] {
            assert_eq!(
                send(&service, get("/fhir/Patient/p1", &token)).await.status,
                StatusCode::OK
            );
            assert_eq!(
                send(&service, get("/fhir/Observation/lab1", &token))
                    .await
                    .status,
                StatusCode::OK
            );
            // Another patient's data is answered like a missing resource.
            for hidden in [
                "/fhir/Patient/p2",
                "/fhir/Observation/lab2",
                "/fhir/Observation/lab2/_history/1",
            ] {
                let reply = send(&service, get(hidden, &token)).await;
                assert_eq!(reply.status, StatusCode::NOT_FOUND, "{hidden}");
                let missing = send(&service, get("/fhir/Observation/never-was", &token)).await;
                assert_eq!(reply.issues().len(), missing.issues().len());
            }
            // Directory data is not patient data.
            assert_eq!(
                send(&service, get("/fhir/Practitioner/doc", &token))
                    .await
                    .status,
                StatusCode::OK
            );
            // Searches, their totals and counts are computed on what the patient may see.
            let bundle = send(
                &service,
                get("/fhir/Observation?category=laboratory", &token),
            )
            .await
            .json();
            assert_eq!(ids(&bundle), ["Observation/lab1"]);
            assert_eq!(bundle["total"], 1);
            let bundle = send(&service, get("/fhir/Observation?_summary=count", &token))
                .await
                .json();
            assert_eq!(bundle["total"], 2);
            let bundle = send(&service, get("/fhir/Patient", &token)).await.json();
            assert_eq!(ids(&bundle), ["Patient/p1"]);
            let bundle = send(&service, get("/fhir?_type=Patient,Observation", &token))
                .await
                .json();
            assert_eq!(
                ids(&bundle),
                ["Observation/lab1", "Observation/vit1", "Patient/p1"]
            );
            // Includes do not bring another patient in; revincludes stay in the compartment.
            let bundle = send(
                &service,
                get("/fhir/Patient?_revinclude=Observation:subject", &token),
            )
            .await
            .json();
            assert_eq!(
                ids(&bundle),
                ["Observation/lab1", "Observation/vit1", "Patient/p1"]
            );
            // Compartment search of another patient finds nothing.
            let bundle = send(&service, get("/fhir/Patient/p2/Observation", &token))
                .await
                .json();
            assert_eq!(bundle["total"], 0);
            // Type history keeps only the patient's versions and gives no total.
            let bundle = send(&service, get("/fhir/Observation/_history", &token))
                .await
                .json();
            assert_eq!(ids(&bundle), ["Observation/lab1", "Observation/vit1"]);
            assert!(bundle.get("total").is_none(), "{bundle}");
        }

        // Without a patient in context, `patient/` scopes grant no patient data.
        let token = launch_token(&app, None, "patient/*.rs");
        assert_forbidden(
            &send(&service, get("/fhir/Observation/lab1", &token)).await,
            "no patient in context",
        );

        // Writes stay in the compartment too.
        let token = patient_token(&app, "p1", "patient/Observation.cruds");
        let own = observation("mine", "p1", "vital-signs");
        let reply = send(
            &service,
            fhir_request(Method::PUT, "/fhir/Observation/mine", &token, Some(&own)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        let other = observation("theirs", "p2", "vital-signs");
        let reply = send(
            &service,
            fhir_request(Method::POST, "/fhir/Observation", &token, Some(&other)),
        )
        .await;
        assert_forbidden(&reply, "create for another patient");
        let moved = observation("mine", "p2", "vital-signs");
        let reply = send(
            &service,
            fhir_request(Method::PUT, "/fhir/Observation/mine", &token, Some(&moved)),
        )
        .await;
        assert_forbidden(&reply, "move a resource to another patient");
        let reply = send(
            &service,
            fhir_request(Method::DELETE, "/fhir/Observation/lab2", &token, None),
        )
        .await;
        assert_forbidden(&reply, "delete another patient's resource");
        let reply = send(&service, get("/fhir/Observation/lab2", &admin)).await;
        assert_eq!(reply.status, StatusCode::OK, "nothing was deleted");
    })
    .await;
}

#[actix_web::test]
async fn granular_scopes_restrict_to_matching_resources() {
    each_backend(|app| async move {
        let service = test::init_service(carnet::build_app(app.state())).await;
        let admin = app.token();
        seed!(&service, &admin);
        let get = |uri: &str, token: &str| fhir_request(Method::GET, uri, token, None);
        let scope = format!("patient/Observation.rs?category={CATEGORY}|laboratory patient/Patient.r");
        let token = patient_token(&app, "p1", &scope);

        let bundle = send(&service, get("/fhir/Observation", &token)).await.json();
        assert_eq!(ids(&bundle), ["Observation/lab1"]);
        assert_eq!(bundle["total"], 1);
        assert_eq!(send(&service, get("/fhir/Observation/lab1", &token)).await.status, StatusCode::OK);
        assert_eq!(send(&service, get("/fhir/Observation/vit1", &token)).await.status, StatusCode::NOT_FOUND);
        // `Patient.r` reads but does not search; includes of readable resources are kept.
        assert_forbidden(&send(&service, get("/fhir/Patient", &token)).await, "Patient search");
        let bundle = send(&service, get("/fhir/Observation?_include=Observation:subject", &token)).await.json();
        assert_eq!(ids(&bundle), ["Observation/lab1", "Patient/p1"]);
        // Two granular scopes are OR-ed.
        let scope = "patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs";
        let token = patient_token(&app, "p1", scope);
        let bundle = send(&service, get("/fhir/Observation", &token)).await.json();
        assert_eq!(ids(&bundle), ["Observation/lab1", "Observation/vit1"]);
        // An include of a type the scopes do not let read is left out.
        let bundle = send(&service, get("/fhir/Observation?_include=Observation:subject", &token)).await.json();
        assert_eq!(ids(&bundle), ["Observation/lab1", "Observation/vit1"]);
        // A granular scope on an unknown parameter grants nothing.
        let token = patient_token(&app, "p1", "patient/Observation.rs?colour=blue");
        assert_forbidden(&send(&service, get("/fhir/Observation", &token)).await, "unusable granular scope");
    })
    .await;
}

#[actix_web::test]
async fn batch_and_transaction_entries_are_checked_one_by_one() {
    each_backend(|app| async move {
        let service = test::init_service(carnet::build_app(app.state())).await;
        let admin = app.token();
        seed!(&service, &admin);
        let token = app.token_for(
            Subject::Practitioner("doc".into()),
            "user/Observation.cruds user/Patient.r",
        );
        let entries = json!([
            {"request": {"method": "GET", "url": "Observation/lab1"}},
            {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient", "gender": "other"}},
            {"request": {"method": "POST", "url": "Observation"}, "resource": observation("x", "p1", "laboratory")},
            {"request": {"method": "DELETE", "url": "Patient/p2"}}
        ]);
        let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": entries});
        let reply = send(&service, fhir_request(Method::POST, "/fhir", &token, Some(&batch))).await;
        assert_eq!(reply.status, StatusCode::OK);
        let statuses: Vec<String> = reply.json()["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["response"]["status"].as_str().unwrap().to_owned())
            .collect();
        assert!(statuses[0].starts_with("200"), "{statuses:?}");
        assert!(statuses[1].starts_with("403"), "{statuses:?}");
        assert!(statuses[2].starts_with("201"), "{statuses:?}");
        assert!(statuses[3].starts_with("403"), "{statuses:?}");

        // A transaction with one entry out of scope fails whole: nothing is written.
        let before = send(&service, fhir_request(Method::GET, "/fhir/Observation?_summary=count", &admin, None)).await.json()["total"].clone();
        let transaction = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"request": {"method": "POST", "url": "Observation"}, "resource": observation("y", "p1", "laboratory")},
            {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient"}}
        ]});
        let reply = send(&service, fhir_request(Method::POST, "/fhir", &token, Some(&transaction))).await;
        assert_forbidden(&reply, "transaction with an entry out of scope");
        let after = send(&service, fhir_request(Method::GET, "/fhir/Observation?_summary=count", &admin, None)).await.json()["total"].clone();
        assert_eq!(before, after);
        let patients = send(&service, fhir_request(Method::GET, "/fhir/Patient?_summary=count", &admin, None)).await.json();
        assert_eq!(patients["total"], 2);
    })
    .await;
}

#[actix_web::test]
async fn smart_configuration_is_public() {
    each_backend(|app| async move {
        let service = test::init_service(carnet::build_app(app.state())).await;
        let reply = send(
            &service,
            test::TestRequest::get().uri("/fhir/.well-known/smart-configuration"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        let document = reply.json();
        let capabilities = document["capabilities"].as_array().unwrap();
        for wanted in [
            "permission-v1",
            "permission-v2",
            "permission-patient",
            "permission-user",
        ] {
            assert!(capabilities.iter().any(|c| c == wanted), "{wanted}");
        }
        assert_eq!(document["issuer"], app.config.issuer.as_str());
        let jwks_uri = document["jwks_uri"]
            .as_str()
            .unwrap()
            .replace("http://carnet.test", "");
        let reply = send(&service, test::TestRequest::get().uri(&jwks_uri)).await;
        assert_eq!(reply.status, StatusCode::OK);
        let keys = reply.json()["keys"].clone();
        assert_eq!(keys[0]["kid"], app.key.kid());
        assert!(keys[0].get("d").is_none(), "no private material");
    })
    .await;
}
