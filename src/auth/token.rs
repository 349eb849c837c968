//! Minting Carnet's own access tokens (`carnet token`, demos, tests): a compact JWS signed
//! with the local `SigningKey`, carrying the claims of CONTRACT.md "Tokens". The time is
//! an input. `auth` does authentication only: it may use `crate::error`, std and crates,
//! never storage, HTTP or consent.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::error::AuthError;
use super::keys::SigningKey;
use super::principal::{Subject, is_reference_to, is_token_text};

/// What a token should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub subject: Subject,
    /// SMART scopes, space separated.
    pub scope: String,
    /// v3-ActReason codes (TREAT, ETREAT, BTG…); none means the default, TREAT.
    pub purposes: Vec<String>,
    /// TRE_G15 profession code.
    pub profession: Option<String>,
    /// `Organization/{id}`.
    pub organization: Option<String>,
    /// The patient in context (an id), for `patient/` scopes of a practitioner or a
    /// representative; a patient's own token has its id without asking.
    pub patient: Option<String>,
    /// Lifetime in seconds, more than zero.
    pub ttl_seconds: i64,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: String,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    #[serde(rename = "fhirUser", skip_serializing_if = "Option::is_none")]
    fhir_user: Option<String>,
    scope: String,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    purpose_of_use: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    profession: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patient: Option<&'a str>,
}

/// A signed token for `request`, issued by `issuer` at `now_unix` (Unix seconds). For a
/// FHIR user `sub` and `fhirUser` are its reference; for a system client `sub` is its name
/// and there is no `fhirUser`.
pub fn mint(
    key: &SigningKey,
    issuer: &str,
    request: &TokenRequest,
    now_unix: i64,
) -> Result<String, AuthError> {
    let scope = check(issuer, request)?;
    let exp = now_unix
        .checked_add(request.ttl_seconds)
        .ok_or_else(|| refuse("the lifetime is too long"))?;
    let fhir_user = request.subject.reference();
    let claims = Claims {
        iss: issuer,
        sub: fhir_user
            .clone()
            .unwrap_or_else(|| request.subject.id().to_owned()),
        exp,
        iat: now_unix,
        nbf: now_unix,
        jti: uuid::Uuid::new_v4().to_string(),
        fhir_user,
        scope,
        purpose_of_use: &request.purposes,
        profession: request.profession.as_deref(),
        organization: request.organization.as_deref(),
        patient: request.patient.as_deref().or(match &request.subject {
            Subject::Patient(id) => Some(id.as_str()),
            _ => None,
        }),
    };
    let header = Header {
        alg: key.algorithm().name(),
        typ: "JWT",
        kid: key.kid(),
    };
    let signing_input = format!("{}.{}", encode(&header), encode(&claims));
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// Checks the request so that the token it gives verifies to the same subject; returns
/// the scope with its spaces normalised.
fn check(issuer: &str, request: &TokenRequest) -> Result<String, AuthError> {
    if !is_token_text(issuer) {
        return Err(refuse("the issuer is empty or contains spaces"));
    }
    let scopes: Vec<&str> = request.scope.split_whitespace().collect();
    if let Some(bad) = scopes.iter().find(|s| !s.bytes().all(is_scope_byte)) {
        return Err(refuse(&format!(
            "the scope `{bad}` has forbidden characters"
        )));
    }
    match &request.subject {
        Subject::System(name) => {
            if !is_token_text(name) || Subject::from_reference(name).is_some() {
                return Err(refuse(
                    "a system client's name must be a word that is not a FHIR reference",
                ));
            }
            if scopes.is_empty() || !scopes.iter().all(|s| s.starts_with("system/")) {
                return Err(refuse("a system client needs `system/` scopes only"));
            }
        }
        subject => {
            let round_trips = subject
                .reference()
                .and_then(|r| Subject::from_reference(&r))
                .is_some_and(|parsed| &parsed == subject);
            if !round_trips {
                return Err(refuse("the subject's id is not a valid FHIR id"));
            }
        }
    }
    if let Some(patient) = &request.patient {
        let own = match &request.subject {
            Subject::Patient(id) => Some(id),
            _ => None,
        };
        if !is_reference_to("Patient", &format!("Patient/{patient}"))
            || own.is_some_and(|own| own != patient)
        {
            return Err(refuse(
                "the patient in context must be a patient id (a patient's own, for a patient)",
            ));
        }
    }
    if request.ttl_seconds <= 0 {
        return Err(refuse("the lifetime must be more than zero seconds"));
    }
    if let Some(bad) = request.purposes.iter().find(|p| !is_token_text(p)) {
        return Err(refuse(&format!("the purpose of use `{bad}` is not a code")));
    }
    if request
        .profession
        .as_deref()
        .is_some_and(|p| !is_token_text(p))
    {
        return Err(refuse("the profession is not a code"));
    }
    if request
        .organization
        .as_deref()
        .is_some_and(|o| !is_reference_to("Organization", o))
    {
        return Err(refuse(
            "the organization is not an `Organization/{id}` reference",
        ));
    }
    Ok(scopes.join(" "))
}

/// A scope token's characters (RFC 6749 §3.3).
fn is_scope_byte(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

fn encode<T: Serialize>(part: &T) -> String {
    // INVARIANT: the header and claims are structs of strings and integers, which always
    // serialise to JSON.
    let json = serde_json::to_vec(part).expect("token parts serialise to JSON");
    URL_SAFE_NO_PAD.encode(json)
}

fn refuse(detail: &str) -> AuthError {
    AuthError::InvalidRequest(detail.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::Algorithm;
    use serde_json::{Value, json};

    fn request(subject: Subject, scope: &str) -> TokenRequest {
        TokenRequest {
            subject,
            scope: scope.to_owned(),
            purposes: Vec::new(),
            profession: None,
            organization: None,
            patient: None,
            ttl_seconds: 3600,
        }
    }

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn minted_token_has_the_contract_claims() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let mut request = request(Subject::Practitioner("123".into()), " user/*.cruds  ");
        request.purposes = vec!["BTG".into()];
        request.profession = Some("10".into());
        request.organization = Some("Organization/o1".into());
        let token = mint(&key, "https://carnet.test", &request, 1_000).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            decode(parts[0]),
            json!({"alg": "ES256", "typ": "JWT", "kid": key.kid()})
        );
        let claims = decode(parts[1]);
        let names: Vec<&str> = claims
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            names,
            [
                "iss",
                "sub",
                "exp",
                "iat",
                "nbf",
                "jti",
                "fhirUser",
                "scope",
                "purpose_of_use",
                "profession",
                "organization"
            ]
        );
        assert_eq!(claims["sub"], "Practitioner/123");
        assert_eq!(claims["fhirUser"], "Practitioner/123");
        assert_eq!(claims["exp"], 4_600);
        assert_eq!(claims["scope"], "user/*.cruds");
        assert_eq!(claims["purpose_of_use"], json!(["BTG"]));
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), 64);
    }

    #[test]
    fn system_token_has_no_fhir_user() {
        let key = SigningKey::generate(Algorithm::Rs256).unwrap();
        let request = request(Subject::System("insurer-feed".into()), "system/Claim.c");
        let token = mint(&key, "carnet", &request, 1_000).unwrap();
        let claims = decode(token.split('.').nth(1).unwrap());
        assert_eq!(claims["sub"], "insurer-feed");
        assert!(claims.get("fhirUser").is_none());
        assert!(claims.get("purpose_of_use").is_none());
        assert_eq!(decode(token.split('.').next().unwrap())["alg"], "RS256");
    }

    #[test]
    fn each_token_has_its_own_jti() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let request = request(Subject::Patient("1".into()), "patient/*.rs");
        let jti = |token: String| decode(token.split('.').nth(1).unwrap())["jti"].clone();
        let first = jti(mint(&key, "carnet", &request, 0).unwrap());
        let second = jti(mint(&key, "carnet", &request, 0).unwrap());
        assert_ne!(first, second);
    }

    #[test]
    fn bad_requests_are_refused() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let good = request(Subject::Patient("1".into()), "patient/*.rs");
        let mut bad = Vec::new();
        let mut r = good.clone();
        r.ttl_seconds = 0;
        bad.push(r);
        let mut r = good.clone();
        r.ttl_seconds = i64::MAX;
        bad.push(r);
        let mut r = good.clone();
        r.subject = Subject::Patient("a/b".into());
        bad.push(r);
        let mut r = good.clone();
        r.subject = Subject::System("feed".into());
        bad.push(r);
        bad.push(request(Subject::System("Patient/1".into()), "system/*.rs"));
        bad.push(request(Subject::System("two words".into()), "system/*.rs"));
        let mut r = good.clone();
        r.scope = "patient/*.rs \"quoted\"".into();
        bad.push(r);
        let mut r = good.clone();
        r.purposes = vec![String::new()];
        bad.push(r);
        let mut r = good.clone();
        r.organization = Some("Practitioner/1".into());
        bad.push(r);
        for request in bad {
            let error = mint(&key, "carnet", &request, 1_000).unwrap_err();
            assert!(matches!(error, AuthError::InvalidRequest(_)), "{request:?}");
        }
        assert!(mint(&key, "", &good, 1_000).is_err());
        assert!(mint(&key, "carnet", &good, 1_000).is_ok());
    }
}
