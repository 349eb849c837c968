//! Tests of `verify.rs`.

use super::*;
use crate::auth::principal::{PurposeOfUse, Subject};
use crate::auth::token::{TokenRequest, mint};
use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde_json::json;

const ISSUER: &str = "https://carnet.test";
const NOW: i64 = 1_700_000_000;

fn practitioner_request() -> TokenRequest {
    TokenRequest {
        subject: Subject::Practitioner("123".into()),
        scope: "user/*.cruds".into(),
        purposes: vec!["ETREAT".into()],
        profession: Some("10".into()),
        organization: Some("Organization/o1".into()),
        patient: None,
        ttl_seconds: 3600,
    }
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// A token with any header and claims, signed by `key`.
fn forge(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn header(key: &SigningKey) -> Value {
    json!({"alg": key.algorithm().name(), "typ": "JWT", "kid": key.kid()})
}

fn claims() -> Value {
    json!({"iss": ISSUER, "sub": "Patient/1", "exp": NOW + 60, "iat": NOW, "nbf": NOW})
}

fn es256() -> SigningKey {
    SigningKey::generate(Algorithm::Es256).unwrap()
}

#[test]
fn verifier_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Verifier>();
    shareable::<SigningKey>();
}

#[test]
fn round_trip_es256_and_rs256() {
    for algorithm in [Algorithm::Es256, Algorithm::Rs256] {
        let key = SigningKey::generate(algorithm).unwrap();
        let token = mint(&key, ISSUER, &practitioner_request(), NOW).unwrap();
        let principal = Verifier::local(ISSUER, &key).verify(&token, NOW).unwrap();
        assert_eq!(principal.subject, Subject::Practitioner("123".into()));
        assert_eq!(principal.issuer, ISSUER);
        assert_eq!(principal.scopes, ["user/*.cruds"]);
        assert_eq!(principal.purposes, [PurposeOfUse::EmergencyTreat]);
        assert_eq!(principal.profession.as_deref(), Some("10"));
        assert_eq!(principal.organization.as_deref(), Some("Organization/o1"));
        assert_eq!(principal.expires_at, NOW + 3600);
        assert!(principal.token_id.is_some());
    }
}

#[test]
fn system_client_round_trips() {
    let key = es256();
    let request = TokenRequest {
        subject: Subject::System("insurer-feed".into()),
        scope: "system/Claim.c".into(),
        purposes: Vec::new(),
        profession: None,
        organization: None,
        patient: None,
        ttl_seconds: 60,
    };
    let token = mint(&key, ISSUER, &request, NOW).unwrap();
    let principal = Verifier::local(ISSUER, &key).verify(&token, NOW).unwrap();
    assert_eq!(principal.subject, Subject::System("insurer-feed".into()));
    assert_eq!(principal.purposes, [PurposeOfUse::Treat]);
}

#[test]
fn expired_token_is_refused() {
    let key = es256();
    let token = mint(&key, ISSUER, &practitioner_request(), NOW).unwrap();
    let verifier = Verifier::local(ISSUER, &key);
    assert!(verifier.verify(&token, NOW + 3599).is_ok());
    for now in [NOW + 3600, NOW + 100_000] {
        assert!(matches!(
            verifier.verify(&token, now),
            Err(AuthError::Expired)
        ));
    }
}

#[test]
fn future_nbf_and_iat_are_refused_beyond_the_leeway() {
    let key = es256();
    let verifier = Verifier::local(ISSUER, &key);
    for name in ["nbf", "iat"] {
        let mut early = claims();
        early[name] = json!(NOW + CLOCK_LEEWAY_SECONDS);
        early["exp"] = json!(NOW + 3600);
        assert!(
            verifier
                .verify(&forge(&key, &header(&key), &early), NOW)
                .is_ok()
        );
        early[name] = json!(NOW + CLOCK_LEEWAY_SECONDS + 1);
        let result = verifier.verify(&forge(&key, &header(&key), &early), NOW);
        assert!(matches!(result, Err(AuthError::NotYetValid)), "{name}");
    }
    // A token minted a little in the future of this server's clock is accepted.
    let token = mint(&key, ISSUER, &practitioner_request(), NOW + 30).unwrap();
    assert!(verifier.verify(&token, NOW).is_ok());
}

#[test]
fn wrong_issuer_is_refused() {
    let key = es256();
    let token = mint(&key, "https://elsewhere.test", &practitioner_request(), NOW).unwrap();
    let result = Verifier::local(ISSUER, &key).verify(&token, NOW);
    assert!(matches!(result, Err(AuthError::UnknownIssuer)));
    // The right issuer name with another key is a bad signature, not a trusted token.
    let token = mint(&es256(), ISSUER, &practitioner_request(), NOW).unwrap();
    let verifier = Verifier::local(ISSUER, &key);
    assert!(matches!(
        verifier.verify(&token, NOW),
        Err(AuthError::UnknownKey)
    ));
    let mut other_header = header(&key);
    other_header.as_object_mut().unwrap().remove("kid");
    let forged = forge(&es256(), &other_header, &claims());
    assert!(matches!(
        verifier.verify(&forged, NOW),
        Err(AuthError::BadSignature)
    ));
}

#[test]
fn tampered_payload_is_refused() {
    let key = es256();
    let token = mint(&key, ISSUER, &practitioner_request(), NOW).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["fhirUser"] = json!("Practitioner/666");
    claims["sub"] = json!("Practitioner/666");
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    let result = Verifier::local(ISSUER, &key).verify(&tampered, NOW);
    assert!(matches!(result, Err(AuthError::BadSignature)));
}

#[test]
fn tampered_signature_is_refused() {
    for algorithm in [Algorithm::Es256, Algorithm::Rs256] {
        let key = SigningKey::generate(algorithm).unwrap();
        let verifier = Verifier::local(ISSUER, &key);
        let token = mint(&key, ISSUER, &practitioner_request(), NOW).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[10] ^= 1;
        let flipped = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert!(matches!(
            verifier.verify(&flipped, NOW),
            Err(AuthError::BadSignature)
        ));
        bytes.pop();
        let short = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert!(matches!(
            verifier.verify(&short, NOW),
            Err(AuthError::BadSignature)
        ));
    }
}

#[test]
fn alg_none_is_refused() {
    let key = es256();
    let verifier = Verifier::local(ISSUER, &key);
    let unsigned = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims()));
    assert!(verifier.verify(&unsigned, NOW).is_err());
    let with_signature = format!("{unsigned}AAAA");
    let result = verifier.verify(&with_signature, NOW);
    assert!(matches!(result, Err(AuthError::UnsupportedAlgorithm)));
}

#[test]
fn hs256_with_the_public_key_as_secret_is_refused() {
    for algorithm in [Algorithm::Es256, Algorithm::Rs256] {
        let key = SigningKey::generate(algorithm).unwrap();
        let secret = PKey::hmac(&key.verifying_key().public_pem()).unwrap();
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": key.kid()});
        let input = format!("{}.{}", b64(&header), b64(&claims()));
        let mut signer = Signer::new(openssl::hash::MessageDigest::sha256(), &secret).unwrap();
        signer.update(input.as_bytes()).unwrap();
        let mac = signer.sign_to_vec().unwrap();
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac));
        let result = Verifier::local(ISSUER, &key).verify(&token, NOW);
        assert!(matches!(result, Err(AuthError::UnsupportedAlgorithm)));
    }
}

#[test]
fn alg_must_be_the_keys() {
    let key = es256();
    let mut wrong = header(&key);
    wrong["alg"] = json!("RS256");
    let token = forge(&key, &wrong, &claims());
    let result = Verifier::local(ISSUER, &key).verify(&token, NOW);
    assert!(matches!(result, Err(AuthError::UnsupportedAlgorithm)));
    for alg in ["es256", "ES384", "PS256", "EdDSA"] {
        let mut other = header(&key);
        other["alg"] = json!(alg);
        let token = forge(&key, &other, &claims());
        let result = Verifier::local(ISSUER, &key).verify(&token, NOW);
        assert!(
            matches!(result, Err(AuthError::UnsupportedAlgorithm)),
            "{alg}"
        );
    }
}

#[test]
fn missing_exp_is_refused() {
    let key = es256();
    let verifier = Verifier::local(ISSUER, &key);
    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    let result = verifier.verify(&forge(&key, &header(&key), &no_exp), NOW);
    assert!(matches!(result, Err(AuthError::InvalidClaims(_))));
    for exp in [json!("soon"), json!(NOW as f64 + 60.5), json!(null)] {
        let mut odd = claims();
        odd["exp"] = exp;
        let result = verifier.verify(&forge(&key, &header(&key), &odd), NOW);
        assert!(matches!(result, Err(AuthError::InvalidClaims(_))));
    }
}

#[test]
fn malformed_tokens_are_refused() {
    let key = es256();
    let verifier = Verifier::local(ISSUER, &key);
    let good = forge(&key, &header(&key), &claims());
    assert!(verifier.verify(&good, NOW).is_ok());
    let (h, rest) = good.split_once('.').unwrap();
    let padded = format!("{h}=.{rest}");
    let huge = "a".repeat(MAX_TOKEN_LENGTH + 1);
    let crit = forge(
        &key,
        &json!({"alg": "ES256", "kid": key.kid(), "crit": ["exp"]}),
        &claims(),
    );
    let typ = forge(&key, &json!({"alg": "ES256", "typ": "JWE"}), &claims());
    let array = forge(&key, &header(&key), &json!([1]));
    let duplicate_claims = {
        let payload = format!(
            r#"{{"iss":"{ISSUER}","sub":"Patient/1","sub":"Patient/2","exp":{}}}"#,
            NOW + 60
        );
        let input = format!("{}.{}", b64(&header(&key)), URL_SAFE_NO_PAD.encode(payload));
        let signature = key.sign(input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    };
    for token in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        &format!("{good}.x"),
        &padded,
        &huge,
        &crit,
        &typ,
        &array,
        &duplicate_claims,
        &good.replace('.', ".."),
    ] {
        let result = verifier.verify(token, NOW);
        assert!(
            matches!(result, Err(AuthError::Malformed(_) | AuthError::Missing)),
            "{token:.60}: {result:?}"
        );
    }
    // Accepted `typ` spellings.
    for typ in ["JWT", "jwt", "at+jwt", "application/at+JWT"] {
        let mut h = header(&key);
        h["typ"] = json!(typ);
        assert!(
            verifier.verify(&forge(&key, &h, &claims()), NOW).is_ok(),
            "{typ}"
        );
    }
}

#[test]
fn rotated_keys_are_chosen_by_kid() {
    let old = es256();
    let new = SigningKey::generate(Algorithm::Rs256).unwrap();
    let mut verifier = Verifier::local(ISSUER, &old);
    verifier.trust(TrustedIssuer::new(
        ISSUER,
        vec![old.verifying_key().clone(), new.verifying_key().clone()],
    ));
    for key in [&old, &new] {
        let token = mint(key, ISSUER, &practitioner_request(), NOW).unwrap();
        assert!(verifier.verify(&token, NOW).is_ok());
    }
    // After the old key is retired, its tokens fail.
    verifier.trust(TrustedIssuer::new(
        ISSUER,
        vec![new.verifying_key().clone()],
    ));
    let token = mint(&old, ISSUER, &practitioner_request(), NOW).unwrap();
    assert!(matches!(
        verifier.verify(&token, NOW),
        Err(AuthError::UnknownKey)
    ));
}

#[test]
fn audience_is_checked_when_configured() {
    let key = es256();
    let mut verifier = Verifier::new();
    verifier.trust(
        TrustedIssuer::new(ISSUER, vec![key.verifying_key().clone()])
            .with_audience("https://carnet.test/fhir"),
    );
    let mut with_aud = claims();
    with_aud["aud"] = json!(["other", "https://carnet.test/fhir"]);
    assert!(
        verifier
            .verify(&forge(&key, &header(&key), &with_aud), NOW)
            .is_ok()
    );
    with_aud["aud"] = json!("other");
    let result = verifier.verify(&forge(&key, &header(&key), &with_aud), NOW);
    assert!(matches!(result, Err(AuthError::WrongAudience)));
    let result = verifier.verify(&forge(&key, &header(&key), &claims()), NOW);
    assert!(matches!(result, Err(AuthError::WrongAudience)));
}

#[test]
fn claims_from_an_iua_issuer_are_read() {
    let key = es256();
    let mut iua = claims();
    iua["sub"] = json!("f7c1-opaque");
    iua["fhirUser"] = json!("Practitioner/55");
    iua["extensions"] = json!({"ihe_iua": {"purpose_of_use": [
        {"system": PurposeOfUse::SYSTEM, "code": "BTG"}
    ]}});
    let principal = Verifier::local(ISSUER, &key)
        .verify(&forge(&key, &header(&key), &iua), NOW)
        .unwrap();
    assert_eq!(principal.subject, Subject::Practitioner("55".into()));
    assert_eq!(principal.purposes, [PurposeOfUse::BreakTheGlass]);
}
