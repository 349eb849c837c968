//! DMP-RULES.md §4: a professional may look a patient up by exact INS to learn that the
//! record exists — identity only (INS identifiers, name, gender, birth date, SUBSETTED) —
//! and then asks `$access` for their status; with record access the same search returns
//! the whole Patient. Any other identifier, or an INS search with other criteria, finds
//! nothing of a record they cannot access.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use carnet::auth::{Subject, TokenRequest};

use crate::common::{TestApp, each_backend, fhir_request, send};

const INS: &str = "urn:oid:1.2.250.1.213.1.4.8";

fn practitioner_token(app: &TestApp, id: &str, purpose: &str) -> String {
    app.token_with(TokenRequest {
        subject: Subject::Practitioner(id.to_owned()),
        scope: "user/*.cruds".to_owned(),
        purposes: vec![purpose.to_owned()],
        profession: Some("10".to_owned()),
        organization: None,
        patient: None,
        ttl_seconds: 600,
    })
}

fn resources(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .map(|e| e.iter().map(|e| e["resource"].clone()).collect())
        .unwrap_or_default()
}

#[actix_web::test]
async fn a_professional_looks_a_patient_up_by_ins() {
    each_backend(|app| async move {
        let service = test::init_service(carnet::build_app(app.state())).await;
        let system = app.token();
        let patient = json!({"resourceType": "Patient", "id": "p1",
            "identifier": [{"system": INS, "value": "1234567890123"},
                           {"system": "urn:oid:1.2.250.1.71.4.2.7", "value": "local-42"}],
            "name": [{"family": "Durand", "given": ["Léa"]}], "gender": "female",
            "birthDate": "1980-05-01", "telecom": [{"system": "phone", "value": "+33600000000"}],
            "address": [{"city": "Lyon"}],
            "generalPractitioner": [{"reference": "Practitioner/gp"}]});
        for resource in [
            json!({"resourceType": "Practitioner", "id": "gp"}),
            json!({"resourceType": "Practitioner", "id": "other"}),
            patient,
        ] {
            let url = format!(
                "/fhir/{}/{}",
                resource["resourceType"].as_str().unwrap_or(""),
                resource["id"].as_str().unwrap_or("")
            );
            let reply = send(
                &service,
                fhir_request(Method::PUT, &url, &system, Some(&resource)),
            )
            .await;
            assert!(reply.status.is_success());
        }
        let get = |url: &str, token: &str| fhir_request(Method::GET, url, token, None);
        let lookup = format!("/fhir/Patient?identifier={INS}%7C1234567890123");
        let other = practitioner_token(&app, "other", "TREAT");

        // Without record access: identity only, and the total counts it.
        let found = send(&service, get(&lookup, &other)).await;
        assert_eq!(found.status, StatusCode::OK);
        let bundle = found.json();
        assert_eq!(bundle["total"], 1);
        let shown = resources(&bundle);
        assert_eq!(shown.len(), 1);
        let identity = &shown[0];
        assert_eq!(identity["id"], "p1");
        assert_eq!(identity["name"][0]["family"], "Durand");
        assert_eq!(identity["birthDate"], "1980-05-01");
        assert_eq!(
            identity["identifier"],
            json!([{"system": INS, "value": "1234567890123"}])
        );
        for hidden in ["telecom", "address", "generalPractitioner"] {
            assert!(identity.get(hidden).is_none(), "{hidden} shown: {identity}");
        }
        assert!(identity["meta"]["tag"].to_string().contains("SUBSETTED"));
        // Counting finds it too; the record itself stays closed to them.
        let count = send(&service, get(&format!("{lookup}&_summary=count"), &other))
            .await
            .json();
        assert_eq!(count["total"], 1);
        assert!(resources(&count).is_empty());
        let read = send(&service, get("/fhir/Patient/p1", &other)).await;
        assert_eq!(read.status, StatusCode::FORBIDDEN);
        let status = send(&service, get("/fhir/Patient/p1/$access", &other)).await;
        assert_eq!(status.status, StatusCode::OK);
        assert!(
            String::from_utf8_lossy(&status.body).contains("not-authorized"),
            "{}",
            String::from_utf8_lossy(&status.body)
        );

        // Nothing else finds it: another identifier system, an INS search with another
        // criterion, a name search.
        for url in [
            "/fhir/Patient?identifier=urn:oid:1.2.250.1.71.4.2.7%7Clocal-42".to_owned(),
            "/fhir/Patient?identifier=1234567890123".to_owned(),
            format!("{lookup}&name=durand"),
            "/fhir/Patient?name=durand".to_owned(),
        ] {
            let reply = send(&service, get(&url, &other)).await.json();
            assert!(resources(&reply).is_empty(), "{url}: {reply}");
            assert_eq!(reply["total"], 0, "{url}");
        }

        // The médecin traitant gets the whole Patient from the same search.
        let gp = practitioner_token(&app, "gp", "TREAT");
        let whole = resources(&send(&service, get(&lookup, &gp)).await.json());
        assert_eq!(whole.len(), 1);
        assert_eq!(whole[0]["telecom"][0]["value"], "+33600000000");
        assert!(!whole[0]["meta"].to_string().contains("SUBSETTED"));

        // The lookup is audited with its rule.
        let trail = send(
            &service,
            get(
                "/fhir/AuditEvent?entity=Patient/p1&agent=Practitioner/other",
                &system,
            ),
        )
        .await
        .json();
        assert!(
            trail.to_string().contains("dmp.record.identity-lookup"),
            "no audit of the lookup: {trail}"
        );
    })
    .await;
}
