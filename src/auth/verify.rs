//! Verifying access tokens (RFC 7515 compact JWS, RFC 7519 JWT) into a `Principal`: strict
//! parsing, the `alg` of the key only (never `none` or HMAC), the signature, the trusted
//! issuer, and the times, which are an input (no clock here). A `Verifier` trusts the
//! local issuer and can trust more issuers with their keys (several per issuer, chosen by
//! `kid`, for rotation). `auth` does authentication only: it may use `crate::error`, std
//! and crates, never storage, HTTP or consent.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::error::AuthError;
use super::keys::{Algorithm, SigningKey, VerifyingKey};
use super::principal::Principal;

/// How far in the future `nbf` and `iat` may lie, for clock skew between issuers.
pub const CLOCK_LEEWAY_SECONDS: i64 = 60;
/// Longer tokens are refused before any decoding.
pub const MAX_TOKEN_LENGTH: usize = 16 * 1024;

/// An issuer Carnet trusts, with the keys it signs with.
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    issuer: String,
    keys: Vec<VerifyingKey>,
    audience: Option<String>,
}

impl TrustedIssuer {
    /// Trusts tokens whose `iss` is exactly `issuer` and that one of `keys` signed.
    pub fn new(issuer: &str, keys: Vec<VerifyingKey>) -> Self {
        Self {
            issuer: issuer.to_owned(),
            keys,
            audience: None,
        }
    }

    /// Also requires `audience` in the token's `aud` (a string or an array of strings).
    #[must_use]
    pub fn with_audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
        self
    }

    /// The `iss` value.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The keys a token with this `kid` (or without one) and `alg` may be signed with.
    fn candidates(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Vec<&VerifyingKey>, AuthError> {
        let candidates: Vec<&VerifyingKey> = match kid {
            Some(kid) => {
                let key = self
                    .keys
                    .iter()
                    .find(|key| key.kid() == kid)
                    .ok_or(AuthError::UnknownKey)?;
                vec![key]
            }
            None => self.keys.iter().collect(),
        };
        let candidates: Vec<&VerifyingKey> = candidates
            .into_iter()
            .filter(|key| key.algorithm() == alg)
            .collect();
        if candidates.is_empty() {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        Ok(candidates)
    }
}

/// Verifies tokens of the issuers it trusts.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    issuers: Vec<TrustedIssuer>,
}

impl Verifier {
    /// A verifier that trusts no one yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A verifier that trusts Carnet's own tokens: `issuer` signing with `key`.
    pub fn local(issuer: &str, key: &SigningKey) -> Self {
        let mut verifier = Self::new();
        verifier.trust(TrustedIssuer::new(
            issuer,
            vec![key.verifying_key().clone()],
        ));
        verifier
    }

    /// Trusts `issuer`, replacing what was trusted for the same `iss` (new keys after a
    /// rotation, for one).
    pub fn trust(&mut self, issuer: TrustedIssuer) {
        self.issuers.retain(|known| known.issuer != issuer.issuer);
        self.issuers.push(issuer);
    }

    /// The principal of a valid `token` at `now_unix` (Unix seconds).
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<Principal, AuthError> {
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        if token.len() > MAX_TOKEN_LENGTH {
            return Err(AuthError::Malformed("it is too long"));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed(
                "it is not a compact JWS of three parts",
            ));
        };
        let header = decode_object(header_b64).ok_or(AuthError::Malformed(
            "its header is not a base64url JSON object",
        ))?;
        let (alg, kid) = check_header(&header)?;
        let claims = decode_object(payload_b64).ok_or(AuthError::Malformed(
            "its payload is not a base64url JSON object",
        ))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .ok()
            .filter(|signature| !signature.is_empty())
            .ok_or(AuthError::Malformed("its signature is not base64url"))?;

        let issuer = match claims.get("iss") {
            Some(Value::String(issuer)) => issuer,
            _ => return Err(invalid("the `iss` claim is missing or not a string")),
        };
        let trusted = self
            .issuers
            .iter()
            .find(|trusted| &trusted.issuer == issuer)
            .ok_or(AuthError::UnknownIssuer)?;
        let signing_input = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
        let signed = trusted
            .candidates(kid, alg)?
            .iter()
            .any(|key| key.verifies(signing_input, &signature));
        if !signed {
            return Err(AuthError::BadSignature);
        }

        let expires_at = check_times(&claims, now_unix)?;
        if let Some(audience) = &trusted.audience {
            check_audience(&claims, audience)?;
        }
        Principal::from_claims(issuer, &claims, expires_at)
    }
}

/// The `alg` and `kid` of a JOSE header Carnet understands.
fn check_header(header: &Map<String, Value>) -> Result<(Algorithm, Option<&str>), AuthError> {
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => {
            Algorithm::from_name(alg).ok_or(AuthError::UnsupportedAlgorithm)?
        }
        _ => return Err(AuthError::Malformed("its header has no `alg`")),
    };
    if header.contains_key("crit") {
        return Err(AuthError::Malformed("it has critical header extensions"));
    }
    match header.get("typ") {
        None => {}
        Some(Value::String(typ))
            if ["JWT", "at+jwt", "application/at+jwt"]
                .iter()
                .any(|known| typ.eq_ignore_ascii_case(known)) => {}
        Some(_) => return Err(AuthError::Malformed("its `typ` is not a JWT")),
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(_) => return Err(AuthError::Malformed("its `kid` is not a string")),
    };
    Ok((alg, kid))
}

/// Checks `exp` (required), `nbf` and `iat`; returns `exp`.
fn check_times(claims: &Map<String, Value>, now: i64) -> Result<i64, AuthError> {
    let expires_at =
        numeric_date(claims, "exp")?.ok_or_else(|| invalid("the `exp` claim is missing"))?;
    if now >= expires_at {
        return Err(AuthError::Expired);
    }
    let latest_start = now.saturating_add(CLOCK_LEEWAY_SECONDS);
    for name in ["nbf", "iat"] {
        if numeric_date(claims, name)?.is_some_and(|start| start > latest_start) {
            return Err(AuthError::NotYetValid);
        }
    }
    Ok(expires_at)
}

fn check_audience(claims: &Map<String, Value>, audience: &str) -> Result<(), AuthError> {
    let found = match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud == audience),
        _ => false,
    };
    if found {
        Ok(())
    } else {
        Err(AuthError::WrongAudience)
    }
}

/// A NumericDate claim, in whole seconds.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
        Some(_) => Err(invalid(&format!(
            "the `{name}` claim is not a whole number of seconds"
        ))),
    }
}

fn invalid(detail: &str) -> AuthError {
    AuthError::InvalidClaims(detail.to_owned())
}

/// The JSON object a base64url part encodes; `None` when it is not one, or when a member
/// name repeats (RFC 7515 §5.2 allows refusing that, and Carnet does).
fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice::<StrictObject>(&bytes)
        .ok()
        .map(|object| object.0)
}

/// A JSON object whose member names are unique.
struct StrictObject(Map<String, Value>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StrictObjectVisitor)
    }
}

struct StrictObjectVisitor;

impl<'de> Visitor<'de> for StrictObjectVisitor {
    type Value = StrictObject;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object with unique member names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StrictObject, A::Error> {
        let mut object = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            if object.contains_key(&name) {
                return Err(de::Error::custom("a member name repeats"));
            }
            let value = access.next_value::<Value>()?;
            object.insert(name, value);
        }
        Ok(StrictObject(object))
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
