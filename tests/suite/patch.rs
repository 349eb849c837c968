//! JSON Patch through HTTP (FHIR R4 http.html#patch), plain and conditional.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::json;

use crate::common::{each_backend, fhir_request, send};

fn patch_request(uri: &str, token: &str, document: &serde_json::Value) -> test::TestRequest {
    fhir_request(Method::PATCH, uri, token, None)
        .insert_header(("Content-Type", "application/json-patch+json"))
        .set_payload(serde_json::to_vec(document).unwrap())
}

#[actix_rt::test]
async fn json_patch_plain_and_conditional() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let patient = json!({"resourceType": "Patient", "id": "p1", "identifier": [{"system": "urn:s", "value": "v1"}], "active": true});
        send(&app, fhir_request(Method::PUT, "/fhir/Patient/p1", &token, Some(&patient))).await;

        let patched = send(&app, patch_request("/fhir/Patient/p1", &token, &json!([{"op": "replace", "path": "/active", "value": false}]))).await;
        assert_eq!(patched.status, StatusCode::OK);
        assert_eq!(patched.json()["active"], false);
        assert_eq!(patched.json()["meta"]["versionId"], "2");

        let conditional = send(&app, patch_request("/fhir/Patient?identifier=urn:s|v1", &token, &json!([{"op": "add", "path": "/gender", "value": "female"}]))).await;
        assert_eq!(conditional.status, StatusCode::OK);
        assert_eq!(conditional.json()["gender"], "female");

        let no_match = send(&app, patch_request("/fhir/Patient?identifier=urn:s|nobody", &token, &json!([]))).await;
        assert_eq!(no_match.status, StatusCode::NOT_FOUND);

        let failing_test = send(&app, patch_request("/fhir/Patient/p1", &token, &json!([{"op": "test", "path": "/active", "value": true}]))).await;
        assert_eq!(failing_test.status, StatusCode::UNPROCESSABLE_ENTITY);

        let invalid_result = send(&app, patch_request("/fhir/Patient/p1", &token, &json!([{"op": "add", "path": "/gender", "value": "robot"}]))).await;
        assert_eq!(invalid_result.status, StatusCode::BAD_REQUEST);
        assert_eq!(invalid_result.issues()[0].0, "Patient.gender");

        let not_a_patch = send(&app, patch_request("/fhir/Patient/p1", &token, &json!({"op": "x"}))).await;
        assert_eq!(not_a_patch.status, StatusCode::BAD_REQUEST);

        let stale = send(&app, patch_request("/fhir/Patient/p1", &token, &json!([])).insert_header(("If-Match", "W/\"1\""))).await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);

        let wrong_type = send(&app, fhir_request(Method::PATCH, "/fhir/Patient/p1", &token, Some(&json!([])))).await;
        assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

        let current = send(&app, fhir_request(Method::GET, "/fhir/Patient/p1", &token, None)).await;
        assert_eq!(current.json()["meta"]["versionId"], "3");
    })
    .await;
}
