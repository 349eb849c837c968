//! A change of what the consent engine reads of a record takes effect on the very next
//! request, although parsed records are kept across requests: a Consent created, made
//! inactive, reactivated, moved to another patient or deleted; a change of médecin
//! traitant. Each step is checked on a read and on a search of the same document.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use carnet::auth::{Subject, TokenRequest};

use crate::common::{TestApp, each_backend, entry_ids, fhir_request, send};

fn practitioner_token(app: &TestApp, id: &str) -> String {
    app.token_with(TokenRequest {
        subject: Subject::Practitioner(id.to_owned()),
        scope: "user/*.cruds".to_owned(),
        purposes: vec!["TREAT".to_owned()],
        profession: Some("10".to_owned()),
        organization: None,
        patient: None,
        ttl_seconds: 600,
    })
}

fn consent(patient: &str, kind: &str, status: &str, actor: &str) -> Value {
    json!({"resourceType": "Consent", "id": "c1", "status": status,
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": format!("Patient/{patient}")},
        "provision": {"type": kind, "actor": [{
            "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}]},
            "reference": {"reference": format!("Practitioner/{actor}")}}]}})
}

fn patient(id: &str, gp: &str) -> Value {
    json!({"resourceType": "Patient", "id": id,
           "generalPractitioner": [{"reference": format!("Practitioner/{gp}")}]})
}

#[actix_web::test]
async fn consent_changes_take_effect_on_the_next_request() {
    each_backend(|app| async move {
        let service = test::init_service(carnet::build_app(app.state())).await;
        let system = app.token();
        let owner = app.token_for(Subject::Patient("p1".into()), "patient/*.cruds");
        let put = |token: &str, resource: Value| {
            let url = format!(
                "/fhir/{}/{}",
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            fhir_request(Method::PUT, &url, token, Some(&resource))
        };
        for resource in [
            json!({"resourceType": "Practitioner", "id": "gp"}),
            json!({"resourceType": "Practitioner", "id": "other"}),
            patient("p1", "gp"),
            patient("p2", "gp"),
            json!({"resourceType": "DocumentReference", "id": "d1", "status": "current",
                   "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
                   "subject": {"reference": "Patient/p1"},
                   "content": [{"attachment": {"contentType": "text/plain", "data": "Ym9uam91cg=="}}]}),
        ] {
            let reply = send(&service, put(&system, resource)).await;
            assert!(reply.status.is_success(), "{}", String::from_utf8_lossy(&reply.body));
        }
        let gp = practitioner_token(&app, "gp");
        let other = practitioner_token(&app, "other");
        // What `token` sees of the document: by id, and in a search of the patient's
        // documents.
        let sees = |token: String| {
            let service = &service;
            async move {
                let read = send(
                    service,
                    fhir_request(Method::GET, "/fhir/DocumentReference/d1", &token, None),
                )
                .await;
                let search = send(
                    service,
                    fhir_request(
                        Method::GET,
                        "/fhir/DocumentReference?patient=p1",
                        &token,
                        None,
                    ),
                )
                .await;
                let found = search.status == StatusCode::OK
                    && entry_ids(&search.json()).contains(&"DocumentReference/d1".to_owned());
                assert_eq!(
                    read.status == StatusCode::OK,
                    found,
                    "a read and a search disagree: {} / {}",
                    read.status,
                    String::from_utf8_lossy(&search.body)
                );
                found
            }
        };
        assert!(sees(gp.clone()).await, "the médecin traitant sees the record");
        assert!(!sees(other.clone()).await, "nobody let the other professional in");

        let step = |resource: Value| send(&service, put(&owner, resource));
        // A permit for the other professional: in at once.
        assert!(step(consent("p1", "permit", "active", "other")).await.status.is_success());
        assert!(sees(other.clone()).await, "the new permit applies at once");
        // Made inactive: out at once; active again: in.
        assert!(step(consent("p1", "permit", "inactive", "other")).await.status.is_success());
        assert!(!sees(other.clone()).await, "an inactive Consent has no effect");
        assert!(step(consent("p1", "permit", "active", "other")).await.status.is_success());
        assert!(sees(other.clone()).await);
        // The permit turned into a block of the médecin traitant: both change at once.
        assert!(step(consent("p1", "deny", "active", "gp")).await.status.is_success());
        assert!(!sees(gp.clone()).await, "the block wins over the médecin traitant");
        assert!(!sees(other.clone()).await, "the permit is gone");
        // The Consent moved to another patient: p1's record is open to its GP again.
        let moved = send(&service, put(&system, consent("p2", "deny", "active", "gp"))).await;
        assert!(moved.status.is_success(), "{}", String::from_utf8_lossy(&moved.body));
        assert!(sees(gp.clone()).await, "a Consent moved away no longer applies");
        // Back on p1 (p1 may not change p2's Consent: the system moves it), then deleted.
        let back = send(&service, put(&system, consent("p1", "deny", "active", "gp"))).await;
        assert!(back.status.is_success(), "{}", String::from_utf8_lossy(&back.body));
        assert!(!sees(gp.clone()).await);
        let deleted = send(
            &service,
            fhir_request(Method::DELETE, "/fhir/Consent/c1", &owner, None),
        )
        .await;
        assert!(deleted.status.is_success(), "{}", String::from_utf8_lossy(&deleted.body));
        assert!(sees(gp.clone()).await, "a deleted Consent no longer applies");
        // A new médecin traitant: the former one is out, the new one in.
        assert!(send(&service, put(&system, patient("p1", "other"))).await.status.is_success());
        assert!(!sees(gp.clone()).await, "the former médecin traitant is out");
        assert!(sees(other.clone()).await, "the new médecin traitant is in");
    })
    .await;
}
