//! The errors of authentication. Every message is one lowercase sentence that is safe to
//! show to a client: it never contains key material, token content or library text (the
//! underlying cause, when there is one, is kept as the error's `source` for the logs).
//! `auth` does authentication only: it may use `crate::error`, std and crates, never
//! storage, HTTP or consent.

use crate::error::{Categorized, ErrorCategory};

/// Why a request could not be authenticated, a token could not be minted, or the signing
/// key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credentials were presented.
    #[error("no access token was presented")]
    Missing,
    /// The `Authorization` header uses another scheme than `Bearer`.
    #[error("the authorization scheme is not `Bearer`")]
    UnsupportedScheme,
    /// The token is not a well-formed compact JWS carrying a JSON claims set. The detail is
    /// a fixed phrase chosen by Carnet.
    #[error("the access token is malformed: {0}")]
    Malformed(&'static str),
    /// The token's `alg` is not the algorithm of the key it must be verified with (this
    /// covers `none` and every HMAC algorithm).
    #[error("the access token's signing algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The issuer is trusted but none of its keys has the token's `kid`.
    #[error("the access token's signing key is unknown")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the access token's signature is invalid")]
    BadSignature,
    /// `exp` has passed.
    #[error("the access token has expired")]
    Expired,
    /// `nbf` or `iat` lies in the future (beyond the clock leeway).
    #[error("the access token is not valid yet")]
    NotYetValid,
    /// `iss` is not a trusted issuer.
    #[error("the access token's issuer is not trusted")]
    UnknownIssuer,
    /// The token is not meant for this server (`aud`, when the issuer is configured with
    /// an audience).
    #[error("the access token is not meant for this server")]
    WrongAudience,
    /// A claim is missing or unusable. The detail is built by Carnet and names the claim.
    #[error("the access token's claims are invalid: {0}")]
    InvalidClaims(String),
    /// The verified client certificate cannot identify a professional. The detail is a
    /// fixed phrase chosen by Carnet.
    #[error("the client certificate is not usable: {0}")]
    Certificate(&'static str),
    /// The client certificate names a professional no Practitioner of Carnet carries.
    #[error("the client certificate's holder is not known to carnet")]
    UnknownCertificateHolder,
    /// The client certificate names a professional several Practitioners carry.
    #[error("the client certificate's holder matches several practitioners")]
    AmbiguousCertificateHolder,
    /// A request to mint a token is invalid (a caller's mistake, not a token problem).
    #[error("the token request is invalid: {0}")]
    InvalidRequest(String),
    /// The trusted-issuers file is unusable; the detail names the problem (never key
    /// material).
    #[error("the trusted issuers file is unusable: {0}")]
    IssuerFile(String),
    /// The signing key file could not be read or written.
    #[error("could not {action} the token signing key file")]
    KeyFile {
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The signing or verification key is unusable (corrupt, unsupported, or the crypto
    /// library failed).
    #[error("the token signing key {problem}")]
    Key {
        problem: &'static str,
        #[source]
        source: Option<openssl::error::ErrorStack>,
    },
}

impl AuthError {
    /// A key problem with the crypto library's error as its cause.
    pub(crate) fn key(problem: &'static str, source: openssl::error::ErrorStack) -> Self {
        Self::Key {
            problem,
            source: Some(source),
        }
    }

    /// A key problem found by Carnet itself.
    pub(crate) fn key_problem(problem: &'static str) -> Self {
        Self::Key {
            problem,
            source: None,
        }
    }

    /// A key file problem with the I/O error as its cause.
    pub(crate) fn key_file(action: &'static str, source: std::io::Error) -> Self {
        Self::KeyFile { action, source }
    }
}

impl Categorized for AuthError {
    fn category(&self) -> ErrorCategory {
        match self {
            Self::Missing
            | Self::UnsupportedScheme
            | Self::Malformed(_)
            | Self::UnsupportedAlgorithm
            | Self::UnknownKey
            | Self::BadSignature
            | Self::Expired
            | Self::NotYetValid
            | Self::UnknownIssuer
            | Self::WrongAudience
            | Self::InvalidClaims(_)
            | Self::Certificate(_)
            | Self::UnknownCertificateHolder
            | Self::AmbiguousCertificateHolder => ErrorCategory::Unauthorized,
            Self::InvalidRequest(_) => ErrorCategory::Invalid,
            Self::KeyFile { .. } | Self::Key { .. } | Self::IssuerFile(_) => ErrorCategory::Fault,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_problems_are_unauthorized_and_key_problems_are_faults() {
        assert_eq!(AuthError::Expired.category(), ErrorCategory::Unauthorized);
        assert_eq!(
            AuthError::InvalidClaims("x".into()).category(),
            ErrorCategory::Unauthorized
        );
        assert_eq!(
            AuthError::InvalidRequest("x".into()).category(),
            ErrorCategory::Invalid
        );
        assert_eq!(
            AuthError::key_problem("is corrupt").category(),
            ErrorCategory::Fault
        );
        let io = std::io::Error::other("disk on fire");
        let error = AuthError::key_file("read", io);
        assert_eq!(error.category(), ErrorCategory::Fault);
        assert!(!error.to_string().contains("disk"));
    }

    #[test]
    fn messages_are_one_lowercase_sentence() {
        for error in [
            AuthError::Missing,
            AuthError::UnsupportedScheme,
            AuthError::Malformed("not three parts"),
            AuthError::UnsupportedAlgorithm,
            AuthError::UnknownKey,
            AuthError::BadSignature,
            AuthError::Expired,
            AuthError::NotYetValid,
            AuthError::UnknownIssuer,
            AuthError::WrongAudience,
            AuthError::Certificate("it names no professional national id"),
            AuthError::UnknownCertificateHolder,
            AuthError::AmbiguousCertificateHolder,
        ] {
            let message = error.to_string();
            assert!(message.starts_with(|c: char| c.is_ascii_lowercase()));
            assert!(!message.contains('\n'));
        }
    }
}
