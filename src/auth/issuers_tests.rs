//! Tests of the trusted-issuers file and its reloading.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;
use crate::auth::keys::{Algorithm, SigningKey};
use crate::auth::{PurposeOfUse, Subject};

const LOCAL: &str = "carnet";
const EXTERNAL: &str = "https://psc.example.org/realms/pro";
const NOW: i64 = 1_800_000_000;

fn token(key: &SigningKey, claims: &Value) -> String {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let header = json!({"alg": key.algorithm().name(), "typ": "JWT", "kid": key.kid()});
    let input = format!("{}.{}", b64(&header), b64(claims));
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn external_claims() -> Value {
    json!({
        "iss": EXTERNAL, "sub": "f:550e8400", "fhirUser": "Practitioner/p1", "aud": "carnet-api",
        "exp": NOW + 300, "iat": NOW, "scope": "openid user/*.rs",
        "extensions": {"ihe_iua": {"purpose_of_use": {"system": PurposeOfUse::SYSTEM, "code": "ETREAT"}}},
        "profession": "60", "organization": "Organization/hospital"
    })
}

fn write_file(dir: &Path, keys: &[&SigningKey], audience: Option<&str>) -> PathBuf {
    let jwks = json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()});
    std::fs::write(dir.join("external-jwks.json"), jwks.to_string()).unwrap();
    let mut entry = json!({"issuer": EXTERNAL, "jwks_file": "external-jwks.json"});
    if let Some(audience) = audience {
        entry["audience"] = json!(audience);
    }
    let path = dir.join("issuers.json");
    std::fs::write(&path, json!({"issuers": [entry]}).to_string()).unwrap();
    path
}

fn local_key() -> SigningKey {
    SigningKey::generate(Algorithm::Es256).unwrap()
}

fn store(path: &Path) -> TrustStore {
    let local = local_key();
    TrustStore::new(
        TrustedIssuer::new(LOCAL, vec![local.verifying_key().clone()]),
        Some(path.to_owned()),
    )
    .unwrap()
}

#[test]
fn external_tokens_map_to_a_principal() {
    let dir = tempfile::tempdir().unwrap();
    let rsa = SigningKey::generate(Algorithm::Rs256).unwrap();
    let store = store(&write_file(dir.path(), &[&rsa], Some("carnet-api")));
    let principal = store.verify(&token(&rsa, &external_claims()), NOW).unwrap();
    assert_eq!(principal.subject, Subject::Practitioner("p1".into()));
    assert_eq!(principal.issuer, EXTERNAL);
    assert_eq!(principal.purposes, [PurposeOfUse::EmergencyTreat]);
    assert_eq!(principal.profession.as_deref(), Some("60"));
    assert_eq!(
        principal.organization.as_deref(),
        Some("Organization/hospital")
    );
    assert_eq!(principal.scopes, ["openid", "user/*.rs"]);
}

#[test]
fn bad_external_tokens_are_refused_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let stranger = SigningKey::generate(Algorithm::Es256).unwrap();
    let store = store(&write_file(dir.path(), &[&key], Some("carnet-api")));
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = external_claims();
        change(&mut claims);
        claims
    };
    let expired = with(&|c| c["exp"] = json!(NOW - 1));
    let future = with(&|c| c["nbf"] = json!(NOW + 3600));
    let audience = with(&|c| c["aud"] = json!(["other-api"]));
    let issuer = with(&|c| c["iss"] = json!("https://evil.example.org"));
    assert!(matches!(
        store.verify(&token(&key, &expired), NOW),
        Err(AuthError::Expired)
    ));
    assert!(matches!(
        store.verify(&token(&key, &future), NOW),
        Err(AuthError::NotYetValid)
    ));
    assert!(matches!(
        store.verify(&token(&key, &audience), NOW),
        Err(AuthError::WrongAudience)
    ));
    assert!(matches!(
        store.verify(&token(&key, &issuer), NOW),
        Err(AuthError::UnknownIssuer)
    ));
    // A key the issuer does not publish: unknown kid.
    assert!(matches!(
        store.verify(&token(&stranger, &external_claims()), NOW),
        Err(AuthError::UnknownKey)
    ));
    // `alg: none`.
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none"})),
        b64(&external_claims())
    );
    assert!(store.verify(&none, NOW).is_err());
}

#[test]
fn a_changed_file_is_read_again_for_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let old = SigningKey::generate(Algorithm::Es256).unwrap();
    let new = SigningKey::generate(Algorithm::Rs256).unwrap();
    let path = write_file(dir.path(), &[&old], None);
    let store = store(&path);
    assert!(store.verify(&token(&old, &external_claims()), NOW).is_ok());
    assert!(store.verify(&token(&new, &external_claims()), NOW).is_err());

    write_file(dir.path(), &[&new], None);
    let later = SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    // Not looked at again before the interval…
    assert!(
        store
            .verify(&token(&new, &external_claims()), NOW + 1)
            .is_err()
    );
    // …then the new key is trusted and the retired one is not.
    let after = NOW + RELOAD_INTERVAL_SECONDS + 1;
    assert!(
        store
            .verify(&token(&new, &external_claims()), after)
            .is_ok()
    );
    assert!(matches!(
        store.verify(&token(&old, &external_claims()), after),
        Err(AuthError::UnknownKey)
    ));

    // A broken edit keeps the issuers that worked.
    std::fs::write(&path, "{ not json").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later + std::time::Duration::from_secs(5))
        .unwrap();
    let much_later = after + RELOAD_INTERVAL_SECONDS + 1;
    assert!(
        store
            .verify(&token(&new, &external_claims()), much_later)
            .is_ok()
    );
}

#[test]
fn unusable_files_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let key = local_key();
    let jwk = key.public_jwk();
    for (name, document) in [
        ("no issuers", json!({})),
        (
            "no keys",
            json!({"issuers": [{"issuer": EXTERNAL, "jwks": {"keys": []}}]}),
        ),
        (
            "both",
            json!({"issuers": [{"issuer": EXTERNAL, "jwks": {"keys": [jwk]}, "jwks_file": "x"}]}),
        ),
        (
            "own issuer",
            json!({"issuers": [{"issuer": LOCAL, "jwks": {"keys": [jwk]}}]}),
        ),
        (
            "twice",
            json!({"issuers": [{"issuer": EXTERNAL, "jwks": {"keys": [jwk]}}, {"issuer": EXTERNAL, "jwks": {"keys": [jwk]}}]}),
        ),
        (
            "private key",
            json!({"issuers": [{"issuer": EXTERNAL, "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}]}}]}),
        ),
    ] {
        let path = dir.path().join("issuers.json");
        std::fs::write(&path, document.to_string()).unwrap();
        let error = read_trusted_issuers(&path, LOCAL).unwrap_err();
        assert!(matches!(error, AuthError::IssuerFile(_)), "{name}");
    }
    assert!(read_trusted_issuers(&dir.path().join("missing.json"), LOCAL).is_err());
}
