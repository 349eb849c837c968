//! Tokens of trusted external issuers through HTTP: a configured issuer's token works, and
//! expired, not-yet-valid, unknown-issuer, bad-signature and `alg: none` tokens are 401
//! with an OperationOutcome that says why.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use carnet::auth::{Algorithm, SigningKey, Subject, TokenRequest, mint};

use crate::common::{each_backend, fhir_request, send};

const EXTERNAL: &str = "https://psc.example.org/realms/pro";

fn request() -> TokenRequest {
    TokenRequest {
        subject: Subject::Practitioner("ext-1".into()),
        scope: "openid user/*.rs".into(),
        purposes: vec!["TREAT".into()],
        profession: Some("60".into()),
        organization: None,
        patient: None,
        ttl_seconds: 300,
    }
}

#[actix_web::test]
async fn external_issuers_are_trusted_as_configured() {
    each_backend(|mut app| async move {
        let external = SigningKey::generate(Algorithm::Rs256).unwrap();
        let file = app.config.data_dir.join("issuers.json");
        let document = json!({"issuers": [{"issuer": EXTERNAL, "jwks": {"keys": [external.public_jwk()]}}]});
        std::fs::write(&file, document.to_string()).unwrap();
        app.config.trusted_issuers = Some(file);
        let service = test::init_service(carnet::build_app(app.state())).await;
        let now = chrono::Utc::now().timestamp();
        let reply = send(
            &service,
            fhir_request(Method::PUT, "/fhir/Patient/p1", &app.token(), Some(&json!({"resourceType": "Patient", "id": "p1", "generalPractitioner": [{"reference": "Practitioner/ext-1"}]}))),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED);

        let good = mint(&external, EXTERNAL, &request(), now).unwrap();
        let reply = send(&service, fhir_request(Method::GET, "/fhir/Patient/p1", &good, None)).await;
        assert_eq!(reply.status, StatusCode::OK);
        // Its scopes are enforced like any other.
        let reply = send(&service, fhir_request(Method::DELETE, "/fhir/Patient/p1", &good, None)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);

        let stranger = SigningKey::generate(Algorithm::Es256).unwrap();
        let b64 = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let claims = json!({"iss": EXTERNAL, "sub": "Practitioner/ext-1", "exp": now + 60, "scope": "user/*.rs"});
        let unsigned = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims));
        let mut tampered = good.clone();
        tampered.replace_range(tampered.len() - 5.., "AAAAA");
        for (what, token, says) in [
            ("expired", mint(&external, EXTERNAL, &request(), now - 3600).unwrap(), "expired"),
            ("not yet valid", mint(&external, EXTERNAL, &request(), now + 3600).unwrap(), "not valid yet"),
            ("unknown issuer", mint(&external, "https://evil.example.org", &request(), now).unwrap(), "issuer"),
            ("unknown key", mint(&stranger, EXTERNAL, &request(), now).unwrap(), "key"),
            ("bad signature", tampered, "signature"),
            ("alg none", unsigned, "algorithm"),
        ] {
            let reply = send(&service, fhir_request(Method::GET, "/fhir/Patient/p1", &token, None)).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
            let issues = reply.issues();
            assert!(issues.iter().any(|(_, text)| text.contains(says)), "{what}: {issues:?}");
        }
        // Each refusal is in the audit trail (written off the request's path: wait for it).
        let query = "/fhir/AuditEvent?type=http://dicom.nema.org/resources/ontology/DCM|110114&outcome=4&_summary=count";
        let mut recorded = 0;
        for _ in 0..50 {
            let reply = send(&service, fhir_request(Method::GET, query, &app.token(), None)).await;
            recorded = reply.json()["total"].as_i64().unwrap();
            if recorded >= 6 {
                break;
            }
            actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(recorded, 6, "one AuditEvent per refused token");
    })
    .await;
}
