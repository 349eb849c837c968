//! Trusted external issuers (CONTRACT.md "Tokens"): the file named by
//! `CARNET_TRUSTED_ISSUERS` lists OIDC/OAuth servers whose tokens Carnet accepts (Pro Santé
//! Connect, a regional exchange's authorization server…), each with its `iss`, an optional
//! required audience and its public keys as a JWKS (inline or in a file next to it).
//! `TrustStore` verifies tokens against Carnet's own key and these issuers, and re-reads
//! the file when it changes (checked at most every `RELOAD_INTERVAL_SECONDS`), so that a
//! key rotation needs no restart. `auth` does authentication only: it may use
//! `crate::error`, std and crates, never storage, HTTP or consent.
//!
//! ```json
//! { "issuers": [
//!     { "issuer": "https://auth.example.org/realms/pro", "audience": "carnet",
//!       "jwks": { "keys": [ { "kty": "RSA", "kid": "2026-11", "n": "…", "e": "AQAB" } ] } },
//!     { "issuer": "https://exchange.example.org", "jwks_file": "exchange-jwks.json" } ] }
//! ```

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use serde_json::Value;

use super::error::AuthError;
use super::keys::VerifyingKey;
use super::principal::Principal;
use super::verify::{TrustedIssuer, Verifier};

/// How often, at most, the issuers file is looked at for changes.
pub const RELOAD_INTERVAL_SECONDS: i64 = 10;

/// The issuers of a trusted-issuers file. Every problem is an error naming what is wrong
/// (never key material); an issuer equal to `local_issuer` is refused (Carnet's own
/// tokens are verified with its own key only).
pub fn read_trusted_issuers(
    path: &Path,
    local_issuer: &str,
) -> Result<Vec<TrustedIssuer>, AuthError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AuthError::IssuerFile(format!("`{}` cannot be read: {e}", path.display())))?;
    let document: Value = serde_json::from_str(&text)
        .map_err(|e| AuthError::IssuerFile(format!("`{}` is not JSON: {e}", path.display())))?;
    let entries = document
        .get("issuers")
        .and_then(Value::as_array)
        .ok_or_else(|| AuthError::IssuerFile("it has no `issuers` array".to_owned()))?;
    let directory = path.parent().unwrap_or(Path::new("."));
    let mut issuers: Vec<TrustedIssuer> = Vec::new();
    for (n, entry) in entries.iter().enumerate() {
        let issuer = read_issuer(entry, directory)
            .map_err(|problem| AuthError::IssuerFile(format!("issuer #{}: {problem}", n + 1)))?;
        if issuer.issuer() == local_issuer {
            return Err(AuthError::IssuerFile(format!(
                "issuer #{} is Carnet's own issuer `{local_issuer}`",
                n + 1
            )));
        }
        if issuers
            .iter()
            .any(|known| known.issuer() == issuer.issuer())
        {
            return Err(AuthError::IssuerFile(format!(
                "issuer `{}` is listed twice",
                issuer.issuer()
            )));
        }
        issuers.push(issuer);
    }
    Ok(issuers)
}

fn read_issuer(entry: &Value, directory: &Path) -> Result<TrustedIssuer, String> {
    let issuer = entry
        .get("issuer")
        .and_then(Value::as_str)
        .filter(|i| !i.is_empty())
        .ok_or("`issuer` is missing")?;
    let jwks = match (entry.get("jwks"), entry.get("jwks_file")) {
        (Some(jwks), None) => jwks.clone(),
        (None, Some(Value::String(file))) => {
            let path = directory.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("`{}` cannot be read: {e}", path.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("`{}` is not JSON: {e}", path.display()))?
        }
        _ => return Err("give exactly one of `jwks` and `jwks_file`".to_owned()),
    };
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .filter(|keys| !keys.is_empty())
        .ok_or("the JWKS has no `keys`")?;
    let keys = keys
        .iter()
        .enumerate()
        .map(|(n, jwk)| VerifyingKey::from_jwk(jwk).map_err(|e| format!("key #{}: {e}", n + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut trusted = TrustedIssuer::new(issuer, keys);
    match entry.get("audience") {
        None => {}
        Some(Value::String(audience)) if !audience.is_empty() => {
            trusted = trusted.with_audience(audience);
        }
        Some(_) => return Err("`audience` is not a non-empty string".to_owned()),
    }
    Ok(trusted)
}

/// Carnet's own issuer plus the issuers of an optional file, re-read when it changes.
#[derive(Debug)]
pub struct TrustStore {
    local: TrustedIssuer,
    local_issuer: String,
    file: Option<PathBuf>,
    loaded: RwLock<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    verifier: Verifier,
    modified: Option<SystemTime>,
    checked_at: i64,
}

impl TrustStore {
    /// Trusts `local` and, when given, the issuers of `file` (read now: a broken file at
    /// start is an error).
    pub fn new(local: TrustedIssuer, file: Option<PathBuf>) -> Result<Self, AuthError> {
        let local_issuer = local.issuer().to_owned();
        let mut verifier = Verifier::new();
        verifier.trust(local.clone());
        let mut modified = None;
        if let Some(path) = &file {
            for issuer in read_trusted_issuers(path, &local_issuer)? {
                verifier.trust(issuer);
            }
            modified = modified_time(path);
        }
        Ok(Self {
            local,
            local_issuer,
            file,
            loaded: RwLock::new(Loaded {
                verifier,
                modified,
                checked_at: i64::MIN,
            }),
        })
    }

    /// The principal of a valid `token` at `now_unix`, after re-reading the issuers file
    /// if it changed (a file broken by an edit is logged and the previous issuers stay).
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<Principal, AuthError> {
        self.reload_if_changed(now_unix);
        let loaded = self
            .loaded
            .read()
            .map_err(|_| AuthError::IssuerFile("the trusted issuers are unavailable".to_owned()))?;
        loaded.verifier.verify(token, now_unix)
    }

    fn reload_if_changed(&self, now_unix: i64) {
        let Some(path) = &self.file else {
            return;
        };
        let due = self
            .loaded
            .read()
            .is_ok_and(|l| now_unix.saturating_sub(l.checked_at) >= RELOAD_INTERVAL_SECONDS);
        if !due {
            return;
        }
        let Ok(mut loaded) = self.loaded.write() else {
            return;
        };
        loaded.checked_at = now_unix;
        let modified = modified_time(path);
        if modified == loaded.modified {
            return;
        }
        match read_trusted_issuers(path, &self.local_issuer) {
            Ok(issuers) => {
                let mut verifier = Verifier::new();
                verifier.trust(self.local.clone());
                let count = issuers.len();
                for issuer in issuers {
                    verifier.trust(issuer);
                }
                loaded.verifier = verifier;
                loaded.modified = modified;
                log::info!("trusted issuers re-read from `{}`: {count}", path.display());
            }
            Err(error) => log::warn!(
                "trusted issuers file `{}` changed but is unusable, keeping the previous issuers: {error}",
                path.display()
            ),
        }
    }
}

fn modified_time(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
#[path = "issuers_tests.rs"]
mod tests;
