//! Carnet's own token issuer: its signing key and `iss`, to mint tokens at login. `auth`
//! does authentication only: it may use `crate::error`, std and crates, never storage,
//! HTTP or consent.

use std::sync::Arc;

use super::error::AuthError;
use super::keys::SigningKey;
use super::token::{TokenRequest, mint};

/// Mints tokens that the local verifier trusts.
#[derive(Debug, Clone)]
pub struct LocalIssuer {
    key: Arc<SigningKey>,
    issuer: String,
}

impl LocalIssuer {
    pub fn new(key: SigningKey, issuer: &str) -> LocalIssuer {
        LocalIssuer {
            key: Arc::new(key),
            issuer: issuer.to_owned(),
        }
    }

    /// The `iss` of the tokens it mints.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A token for `request` issued at `now_unix` (seconds).
    pub fn mint(&self, request: &TokenRequest, now_unix: i64) -> Result<String, AuthError> {
        mint(&self.key, &self.issuer, request, now_unix)
    }
}
