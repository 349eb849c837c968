//! What the HTTP layer holds for every request: the interaction services, the token
//! verifier, and HTTP settings. Built once by `build_app`'s caller and shared.

use std::sync::Arc;

use actix_web::HttpRequest;

use crate::auth::login::RateLimiter;
use crate::auth::{LocalIssuer, TrustStore};
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
    /// Carnet's own issuer, minting the tokens of patient logins.
    pub token_issuer: Arc<LocalIssuer>,
    /// The per-client rate limit of the login endpoints (`/auth/…`).
    pub login_limiter: Arc<RateLimiter>,
    /// Whether the client address comes from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// The thread writing deferred search rows; it stops with the last clone of the state.
    pub deferred_indexer: Arc<crate::interaction::deferred_index::DeferredIndexer>,
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
