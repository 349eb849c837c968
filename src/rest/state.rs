//! What the HTTP layer holds for every request: the interaction services, the token
//! verifier, and HTTP settings. Built once by `build_app`'s caller and shared.

use std::sync::Arc;

use actix_web::HttpRequest;

use crate::auth::TrustStore;
use crate::interaction::Services;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub verifier: Arc<TrustStore>,
    /// The public base URL (`https://host/fhir`); derived from the request when `None`.
    pub base_url: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The CapabilityStatement, rendered once at start.
    pub capability_statement: Arc<serde_json::Value>,
    /// The `iss` of Carnet's own tokens.
    pub issuer: String,
    /// The public JWK of Carnet's signing key (`.well-known/jwks.json`).
    pub public_jwk: Arc<serde_json::Value>,
}

impl AppState {
    /// The FHIR base URL for links, `Location` and `fullUrl`.
    pub fn base_url(&self, request: &HttpRequest) -> String {
        match &self.base_url {
            Some(base) => base.trim_end_matches('/').to_owned(),
            None => {
                let info = request.connection_info();
                format!("{}://{}/fhir", info.scheme(), info.host())
            }
        }
    }
}
