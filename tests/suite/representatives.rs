//! DMP-RULES.md §3: at most one active legal representative (RelatedPerson CUR, GRD or
//! CURTL) per patient. A second one is a 422 OperationOutcome on a create, an update, a
//! transaction (refused whole) and a batch entry; the same representative may be updated;
//! one set inactive makes room for another; and concurrent creates never both succeed.

use std::sync::Arc;

use actix_web::http::{Method, StatusCode};

use serde_json::{Value, json};

use crate::common::{TestApp, databases, each_backend, fhir_request, send};
use crate::concurrency::context;
use carnet::interaction::{InteractionError, update};

const RELATIONSHIP: &str = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-contact-relationship";

fn related(id: &str, patient: &str, code: &str, active: bool) -> Value {
    json!({"resourceType": "RelatedPerson", "id": id, "active": active,
        "patient": {"reference": format!("Patient/{patient}")},
        "relationship": [{"coding": [{"system": RELATIONSHIP, "code": code}]}]})
}

fn put(resource: &Value) -> Value {
    let url = format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap(),
        resource["id"].as_str().unwrap()
    );
    json!({"resource": resource, "request": {"method": "PUT", "url": url}})
}

#[actix_rt::test]
async fn a_second_active_legal_representative_is_refused() {
    each_backend(|t| async move {
        let app = actix_web::test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let store = |resource: Value| {
            let url = format!("/fhir/RelatedPerson/{}", resource["id"].as_str().unwrap());
            fhir_request(Method::PUT, &url, &token, Some(&resource))
        };
        for patient in ["p1", "p2"] {
            let body = json!({"resourceType": "Patient", "id": patient});
            let url = format!("/fhir/Patient/{patient}");
            let reply = send(&app, fhir_request(Method::PUT, &url, &token, Some(&body))).await;
            assert!(reply.status.is_success());
        }
        let reply = send(&app, store(related("mother", "p1", "CUR", true))).await;
        assert_eq!(reply.status, StatusCode::CREATED);

        // A second active one, by update-as-create and by create: 422, naming the rule.
        let reply = send(&app, store(related("father", "p1", "CUR", true))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        let issues = reply.issues();
        assert!(
            issues
                .iter()
                .any(|(_, d)| d.contains("dmp.representative.one-active")
                    && d.contains("Patient/p1")),
            "{issues:?}"
        );
        assert_eq!(reply.json()["issue"][0]["code"], "business-rule");
        let mut posted = related("x", "p1", "GRD", true);
        posted.as_object_mut().unwrap().remove("id");
        let reply = send(
            &app,
            fhir_request(Method::POST, "/fhir/RelatedPerson", &token, Some(&posted)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);

        // Not a legal representative, inactive, or of another patient: stored.
        for ok in [
            related("aunt", "p1", "ECON", true),
            related("father", "p1", "CUR", false),
            related("tutor", "p2", "GRD", true),
        ] {
            let reply = send(&app, store(ok)).await;
            assert_eq!(
                reply.status,
                StatusCode::CREATED,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
        }
        // Making an inactive one active, or turning a contact into a representative: 422.
        let reply = send(&app, store(related("father", "p1", "CUR", true))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        let reply = send(&app, store(related("aunt", "p1", "CURTL", true))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The representative itself may be updated.
        let reply = send(&app, store(related("mother", "p1", "GRD", true))).await;
        assert_eq!(reply.status, StatusCode::OK);

        // A transaction that would add a second one is refused whole.
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            put(&json!({"resourceType": "Patient", "id": "p3"})),
            put(&related("rep-a", "p3", "CUR", true)),
            put(&related("rep-b", "p3", "CURTL", true)),
        ]});
        let reply = send(
            &app,
            fhir_request(Method::POST, "/fhir", &token, Some(&bundle)),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        for gone in ["Patient/p3", "RelatedPerson/rep-a", "RelatedPerson/rep-b"] {
            let reply = send(
                &app,
                fhir_request(Method::GET, &format!("/fhir/{gone}"), &token, None),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{gone} must not be stored"
            );
        }
        // Deactivating the representative and naming another in one transaction works.
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            put(&related("mother", "p1", "CUR", false)),
            put(&related("father", "p1", "CUR", true)),
        ]});
        let reply = send(
            &app,
            fhir_request(Method::POST, "/fhir", &token, Some(&bundle)),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );

        // In a batch, only the offending entry fails, with 422.
        let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
            put(&related("grandma", "p1", "GRD", true)),
            put(&related("friend", "p1", "ECON", true)),
        ]});
        let reply = send(
            &app,
            fhir_request(Method::POST, "/fhir", &token, Some(&bundle)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        let response = reply.json();
        assert!(
            response["entry"][0]["response"]["status"]
                .as_str()
                .unwrap()
                .starts_with("422"),
            "{response}"
        );
        assert!(
            response["entry"][1]["response"]["status"]
                .as_str()
                .unwrap()
                .starts_with("201")
        );
    })
    .await;
}

#[test]
fn concurrent_representatives_of_one_patient_are_never_both_stored() {
    for database in databases() {
        let app = Arc::new(TestApp::new(database));
        let services = app.services.clone();
        let patient = json!({"resourceType": "Patient", "id": "race"});
        update::update(&services, &context(), "Patient", "race", patient, None).unwrap();
        for round in 0..5 {
            let patient = format!("race-{round}");
            let writers: Vec<_> = (0..6)
                .map(|i| {
                    let services = services.clone();
                    let id = format!("rep-{round}-{i}");
                    let body = related(&id, &patient, "CUR", true);
                    std::thread::spawn(move || {
                        match update::update(
                            &services,
                            &context(),
                            "RelatedPerson",
                            &id,
                            body,
                            None,
                        ) {
                            Ok(_) => true,
                            Err(InteractionError::Unprocessable(_)) => false,
                            Err(other) => panic!("unexpected error: {other}"),
                        }
                    })
                })
                .collect();
            let stored = writers
                .into_iter()
                .map(|w| w.join().unwrap())
                .filter(|stored| *stored)
                .count();
            assert_eq!(
                stored, 1,
                "[{}] round {round}: one representative only",
                app.database.label
            );
        }
    }
}
