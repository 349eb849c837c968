//! Authentication: Carnet's own access tokens (JWT signed ES256 or RS256 with the key in the
//! data directory), minted for `carnet token` and verified on every request into a
//! `Principal` (CONTRACT.md "Tokens", DMP-RULES.md §3), and the holder named by a verified
//! professional card certificate (`certificate`). `auth` does authentication only:
//! it may use `crate::error`, std and crates, never storage, HTTP or consent (what a
//! principal may do is decided elsewhere).

mod certificate;
mod error;
mod issuer;
mod issuers;
mod keys;
pub mod login;
mod principal;
mod scopes;
mod token;
mod verify;

pub use certificate::{
    CERTIFICATE_ISSUER, CERTIFICATE_SCOPES, CertificateHolder, IDNATPS_SYSTEM, RPPS_SYSTEM,
};
pub use error::AuthError;
pub use issuer::LocalIssuer;
pub use issuers::{RELOAD_INTERVAL_SECONDS, TrustStore, read_trusted_issuers};
pub use keys::{Algorithm, KEY_FILE_NAME, SigningKey, VerifyingKey};
pub use principal::{Principal, PurposeOfUse, Subject};
pub use scopes::{Permission, ScopeContext, SmartScope, parse_scope, parse_scopes};
pub use token::{TokenRequest, mint};
pub use verify::{CLOCK_LEEWAY_SECONDS, MAX_TOKEN_LENGTH, TrustedIssuer, Verifier};

/// The token of an `Authorization` header value `Bearer <token>` (the scheme in any case,
/// RFC 6750 §2.1). The token must be non-empty `b64token` characters.
pub fn bearer_token(authorization_header: &str) -> Result<&str, AuthError> {
    let header = authorization_header.trim();
    if header.is_empty() {
        return Err(AuthError::Missing);
    }
    let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::UnsupportedScheme);
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    let body = token.trim_end_matches('=');
    let is_b64token = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if !is_b64token {
        return Err(AuthError::Malformed(
            "the bearer token has forbidden characters",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc.def.ghi").unwrap(), "abc.def.ghi");
        assert_eq!(bearer_token("bearer abc").unwrap(), "abc");
        assert_eq!(bearer_token("BEARER  abc== ").unwrap(), "abc==");
    }

    #[test]
    fn other_headers_are_refused() {
        assert!(matches!(bearer_token(""), Err(AuthError::Missing)));
        assert!(matches!(bearer_token("Bearer"), Err(AuthError::Missing)));
        assert!(matches!(bearer_token("Bearer   "), Err(AuthError::Missing)));
        assert!(matches!(
            bearer_token("Basic dXNlcjpwYXNz"),
            Err(AuthError::UnsupportedScheme)
        ));
        assert!(matches!(
            bearer_token("Bearerabc"),
            Err(AuthError::UnsupportedScheme)
        ));
        for bad in ["Bearer a b", "Bearer a,b", "Bearer ===", "Bearer a\tb"] {
            assert!(
                matches!(bearer_token(bad), Err(AuthError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
