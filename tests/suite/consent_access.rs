//! The consent engine through HTTP on every backend, end to end: record access (médecin
//! traitant, Consent permit, none), `MASQUE_PS` and its exemptions, break-glass, Binary
//! inheritance, the patient masking a document, writes, `$access`, `$explain` and
//! `$everything`. The conformance scenarios (`conformance/consent/`) cover every rule;
//! this test checks the wiring of each path once.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use carnet::auth::{Subject, TokenRequest};

use crate::common::{TestApp, each_backend, fhir_request, send};

const TRE_A07: &str = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument";
const TRE_A03: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument";

fn practitioner_token(app: &TestApp, id: &str, profession: &str, purpose: &str) -> String {
    app.token_with(TokenRequest {
        subject: Subject::Practitioner(id.to_owned()),
        scope: "user/*.cruds".to_owned(),
        purposes: vec![purpose.to_owned()],
        profession: Some(profession.to_owned()),
        organization: None,
        patient: None,
        ttl_seconds: 600,
    })
}

fn document(id: &str, author: &str, masked: bool, binary: &str) -> Value {
    let mut document = json!({
        "resourceType": "DocumentReference", "id": id, "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
        "category": [{"coding": [{"system": TRE_A03, "code": "10"}]}],
        "subject": {"reference": "Patient/p1"},
        "author": [{"reference": format!("Practitioner/{author}")}],
        "content": [{"attachment": {"contentType": "text/plain", "url": format!("Binary/{binary}")}}]
    });
    if masked {
        document["securityLabel"] = json!([{"coding": [{"system": TRE_A07, "code": "MASQUE_PS"}]}]);
    }
    document
}

fn practitioner(id: &str, profession: &str) -> Value {
    json!({"resourceType": "Practitioner", "id": id, "qualification": [{"code": {"coding": [{
        "system": "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante",
        "code": profession}]}}]})
}

fn world() -> Vec<Value> {
    vec![
        json!({"resourceType": "Patient", "id": "p1",
               "generalPractitioner": [{"reference": "Practitioner/gp"}]}),
        practitioner("gp", "10"),
        practitioner("other", "10"),
        practitioner("nurse", "60"),
        json!({"resourceType": "Consent", "id": "c1", "status": "active",
               "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
               "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
               "patient": {"reference": "Patient/p1"},
               "provision": {"type": "permit", "actor": [{
                   "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}]},
                   "reference": {"reference": "Practitioner/nurse"}}]}}),
        json!({"resourceType": "Binary", "id": "b1", "contentType": "text/plain", "data": "Ym9uam91cg=="}),
        json!({"resourceType": "Binary", "id": "b2", "contentType": "text/plain", "data": "c2VjcmV0"}),
        document("d1", "gp", false, "b1"),
        document("d2", "gp", true, "b2"),
        {
            let mut hidden = document("d3", "gp", false, "b3");
            hidden["securityLabel"] = json!([{"coding": [{"system": TRE_A07, "code": "INVISIBLE_PATIENT"},
                                   {"system": TRE_A07, "code": "MASQUE_PS"}]}]);
            hidden
        },
    ]
}

use crate::common::entry_ids as ids;

fn parameter<'a>(parameters: &'a Value, name: &str) -> Vec<&'a Value> {
    parameters["parameter"]
        .as_array()
        .map(|p| p.iter().filter(|p| p["name"] == name).collect())
        .unwrap_or_default()
}

fn rules(parameters: &Value) -> Vec<String> {
    parameter(parameters, "reason")
        .iter()
        .filter_map(|reason| {
            reason["part"]
                .as_array()?
                .iter()
                .find(|p| p["name"] == "rule")
                .and_then(|p| p["valueCode"].as_str())
                .map(str::to_owned)
        })
        .collect()
}

#[actix_web::test]
async fn consent_is_enforced_on_every_path() {
    each_backend(|app| async move {
        let service = test::init_service(carnet::build_app(app.state())).await;
        let system = app.token();
        for resource in world() {
            let url = format!(
                "/fhir/{}/{}",
                resource["resourceType"].as_str().unwrap(),
                resource["id"].as_str().unwrap()
            );
            let reply = send(
                &service,
                fhir_request(Method::PUT, &url, &system, Some(&resource)),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::CREATED,
                "{url}: {}",
                String::from_utf8_lossy(&reply.body)
            );
        }
        let get = |uri: &str, token: &str| fhir_request(Method::GET, uri, token, None);
        let gp = practitioner_token(&app, "gp", "10", "TREAT");
        let other = practitioner_token(&app, "other", "10", "TREAT");
        let nurse = practitioner_token(&app, "nurse", "60", "TREAT");
        let emergency = practitioner_token(&app, "other", "10", "BTG");
        let patient = app.token_for(Subject::Patient("p1".into()), "patient/*.cruds");

        // No access to the record: 403 on the Patient and its compartment, 404 elsewhere.
        assert_eq!(
            send(&service, get("/fhir/Patient/p1", &other)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(&service, get("/fhir/Patient/p1/DocumentReference", &other))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(&service, get("/fhir/DocumentReference/d1", &other))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(&service, get("/fhir/Binary/b1", &other)).await.status,
            StatusCode::NOT_FOUND
        );
        let bundle = send(
            &service,
            get("/fhir/DocumentReference?_total=accurate", &other),
        )
        .await
        .json();
        assert_eq!(bundle["total"], 0);
        let status = send(&service, get("/fhir/Patient/p1/$access", &other))
            .await
            .json();
        assert_eq!(
            parameter(&status, "status")[0]["valueCode"],
            "not-authorized"
        );
        // Directory data stays readable.
        assert_eq!(
            send(&service, get("/fhir/Practitioner/gp", &other))
                .await
                .status,
            StatusCode::OK
        );

        // The médecin traitant sees everything, masked documents included.
        let bundle = send(&service, get("/fhir/DocumentReference?patient=p1", &gp))
            .await
            .json();
        assert_eq!(
            ids(&bundle),
            [
                "DocumentReference/d1",
                "DocumentReference/d2",
                "DocumentReference/d3"
            ]
        );
        let status = send(&service, get("/fhir/Patient/p1/$access", &gp))
            .await
            .json();
        assert_eq!(parameter(&status, "status")[0]["valueCode"], "authorized");
        assert!(rules(&status).contains(&"dmp.record.general-practitioner".to_owned()));

        // The nurse, let in by a Consent, does not see the masked document, nor its Binary;
        // totals and counts agree.
        let bundle = send(
            &service,
            get("/fhir/DocumentReference?_total=accurate", &nurse),
        )
        .await
        .json();
        assert_eq!(ids(&bundle), ["DocumentReference/d1"]);
        assert_eq!(bundle["total"], 1);
        let bundle = send(
            &service,
            get("/fhir/DocumentReference?_summary=count", &nurse),
        )
        .await
        .json();
        assert_eq!(bundle["total"], 1);
        assert_eq!(
            send(&service, get("/fhir/DocumentReference/d2", &nurse))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(&service, get("/fhir/Binary/b1", &nurse)).await.status,
            StatusCode::OK
        );
        assert_eq!(
            send(&service, get("/fhir/Binary/b2", &nurse)).await.status,
            StatusCode::NOT_FOUND
        );
        let bundle = send(
            &service,
            get(
                "/fhir/Patient?_revinclude=DocumentReference:subject",
                &nurse,
            ),
        )
        .await
        .json();
        assert_eq!(ids(&bundle), ["DocumentReference/d1", "Patient/p1"]);
        let bundle = send(&service, get("/fhir/Patient/p1/$everything", &nurse))
            .await
            .json();
        assert!(ids(&bundle).contains(&"DocumentReference/d1".to_owned()));
        assert!(!ids(&bundle).contains(&"DocumentReference/d2".to_owned()));
        let bundle = send(&service, get("/fhir/DocumentReference/d2/_history", &nurse)).await;
        assert_eq!(bundle.status, StatusCode::NOT_FOUND);
        // The nurse explains their own access to what they see; not to what they don't.
        let explained = send(&service, get("/fhir/DocumentReference/d1/$explain", &nurse))
            .await
            .json();
        assert_eq!(parameter(&explained, "decision")[0]["valueCode"], "permit");
        assert!(
            rules(&explained).contains(&"dmp.record.consent-permit".to_owned()),
            "{explained}"
        );
        assert_eq!(
            send(&service, get("/fhir/DocumentReference/d2/$explain", &nurse))
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        // Conditional writes match only what their subject sees: nothing to delete here.
        let reply = send(
            &service,
            fhir_request(
                Method::DELETE,
                "/fhir/DocumentReference?_id=d2",
                &nurse,
                None,
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        assert_eq!(
            send(&service, get("/fhir/DocumentReference/d2", &gp))
                .await
                .status,
            StatusCode::OK
        );

        // Break-glass lets another doctor in, but not into masked documents.
        assert_eq!(
            send(&service, get("/fhir/DocumentReference/d1", &emergency))
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            send(&service, get("/fhir/DocumentReference/d2", &emergency))
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        // The patient sees all, and asks who may see the masked document and why.
        let bundle = send(&service, get("/fhir/DocumentReference", &patient))
            .await
            .json();
        assert_eq!(
            ids(&bundle),
            ["DocumentReference/d1", "DocumentReference/d2"]
        );
        let explained = send(
            &service,
            get(
                "/fhir/DocumentReference/d2/$explain?subject=Practitioner/nurse",
                &patient,
            ),
        )
        .await
        .json();
        assert_eq!(parameter(&explained, "decision")[0]["valueCode"], "deny");
        assert!(
            rules(&explained).contains(&"dmp.resource.masque-ps".to_owned()),
            "{explained}"
        );
        // A professional may not ask about someone else.
        let reply = send(
            &service,
            get(
                "/fhir/DocumentReference/d1/$explain?subject=Practitioner/other",
                &gp,
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);

        // The patient masks d1 (a change of labels only): the nurse loses it and its Binary.
        let mut masked = document("d1", "gp", true, "b1");
        masked["id"] = json!("d1");
        let reply = send(
            &service,
            fhir_request(
                Method::PUT,
                "/fhir/DocumentReference/d1",
                &patient,
                Some(&masked),
            ),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(
            send(&service, get("/fhir/DocumentReference/d1", &nurse))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(&service, get("/fhir/Binary/b1", &nurse)).await.status,
            StatusCode::NOT_FOUND
        );
        // But the patient may not rewrite a professional's document.
        let mut rewritten = masked.clone();
        rewritten["description"] = json!("changed by the patient");
        let reply = send(
            &service,
            fhir_request(
                Method::PUT,
                "/fhir/DocumentReference/d1",
                &patient,
                Some(&rewritten),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(
            reply
                .issues()
                .iter()
                .any(|(_, t)| t.contains("dmp.write.author-only")),
            "{:?}",
            reply.issues()
        );

        // Writes: a professional with access creates; one without is refused.
        let observation = json!({"resourceType": "Observation", "status": "final",
            "code": {"text": "pulse"}, "subject": {"reference": "Patient/p1"}});
        let reply = send(
            &service,
            fhir_request(
                Method::POST,
                "/fhir/Observation",
                &nurse,
                Some(&observation),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        let reply = send(
            &service,
            fhir_request(
                Method::POST,
                "/fhir/Observation",
                &other,
                Some(&observation),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        // Deleting a document is its author's.
        let reply = send(
            &service,
            fhir_request(Method::DELETE, "/fhir/DocumentReference/d2", &patient, None),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        let reply = send(
            &service,
            fhir_request(Method::DELETE, "/fhir/DocumentReference/d2", &gp, None),
        )
        .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
    })
    .await;
}
