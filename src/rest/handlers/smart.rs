//! `GET [base]/.well-known/smart-configuration` (SMART App Launch 2.2 §"SMART on FHIR
//! Well-Known Configuration") and `GET [base]/.well-known/jwks.json`, open to everyone:
//! what Carnet accepts as a resource server. Carnet has no OAuth authorization endpoint of
//! its own: tokens come from trusted issuers (CARNET_TRUSTED_ISSUERS), from the patient
//! login, or from `carnet token`; so the document states the scopes and capabilities
//! Carnet enforces and where Carnet's own signing keys are published.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::rest::errors::RestError;
use crate::rest::state::AppState;

/// The scope forms Carnet enforces (SMART v1 and v2, granular token restrictions).
const SCOPES_SUPPORTED: [&str; 13] = [
    "openid",
    "fhirUser",
    "launch/patient",
    "patient/*.read",
    "patient/*.rs",
    "patient/*.cruds",
    "user/*.read",
    "user/*.write",
    "user/*.rs",
    "user/*.cruds",
    "system/*.read",
    "system/*.rs",
    "system/*.cruds",
];

pub async fn smart_configuration(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, RestError> {
    let base = state.base_url(&request);
    let document = json!({
        "issuer": state.issuer,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "scopes_supported": SCOPES_SUPPORTED,
        "capabilities": [
            "permission-v1",
            "permission-v2",
            "permission-patient",
            "permission-user",
            "context-standalone-patient"
        ],
        "grant_types_supported": Value::Array(Vec::new()),
        "response_types_supported": Value::Array(Vec::new()),
        "code_challenge_methods_supported": Value::Array(Vec::new()),
        "token_endpoint_auth_methods_supported": Value::Array(Vec::new()),
        "claims_supported": [
            "iss", "sub", "exp", "iat", "nbf", "jti", "aud", "fhirUser", "scope", "patient",
            "purpose_of_use", "extensions.ihe_iua.purpose_of_use", "profession", "organization"
        ],
        "carnet_patient_login_endpoint": format!("{}/auth/login", base.trim_end_matches("/fhir")),
    });
    Ok(json_response(&document))
}

pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, RestError> {
    Ok(json_response(
        &json!({ "keys": [state.public_jwk.as_ref()] }),
    ))
}

fn json_response(document: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.to_string())
}
