//! Tests of `keys.rs`.

use super::*;
use crate::error::Categorized as _;

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("carnet-auth-{}", uuid::Uuid::new_v4()));
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn key_file_is_created_0600_and_reloaded_identical() {
    let temp = TempDir::new();
    let data_dir = temp.0.join("nested").join("data");
    let created = SigningKey::load_or_create(&data_dir).unwrap();
    assert_eq!(created.algorithm(), Algorithm::Es256);
    let path = data_dir.join(KEY_FILE_NAME);
    let first_bytes = fs::read(&path).unwrap();
    assert!(first_bytes.starts_with(b"-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let reloaded = SigningKey::load_or_create(&data_dir).unwrap();
    assert_eq!(reloaded.kid(), created.kid());
    assert_eq!(reloaded.public_jwk(), created.public_jwk());
    assert_eq!(fs::read(&path).unwrap(), first_bytes);
    // What one signs, the other verifies.
    let signature = created.sign(b"input").unwrap();
    assert!(reloaded.verifying_key().verifies(b"input", &signature));
    // No temporary file is left behind.
    assert_eq!(fs::read_dir(&data_dir).unwrap().count(), 1);
}

#[test]
fn corrupt_key_file_is_refused_and_kept() {
    let temp = TempDir::new();
    fs::create_dir_all(&temp.0).unwrap();
    let path = temp.0.join(KEY_FILE_NAME);
    for garbage in [
        &b""[..],
        b"not a key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n",
    ] {
        fs::write(&path, garbage).unwrap();
        let error = SigningKey::load_or_create(&temp.0).unwrap_err();
        assert!(matches!(error, AuthError::Key { .. }), "{error:?}");
        assert_eq!(
            error.category(),
            crate::error::ErrorCategory::Fault,
            "a corrupt key is a server fault"
        );
        assert_eq!(fs::read(&path).unwrap(), garbage, "never overwritten");
    }
}

#[test]
fn rsa_key_loads_from_pem_as_rs256() {
    let key = SigningKey::generate(Algorithm::Rs256).unwrap();
    let pem = key.private.private_key_to_pem_pkcs8().unwrap();
    let loaded = SigningKey::from_pem(&pem).unwrap();
    assert_eq!(loaded.algorithm(), Algorithm::Rs256);
    assert_eq!(loaded.kid(), key.kid());
}

#[test]
fn small_rsa_and_other_curves_are_refused() {
    let small = PKey::from_rsa(Rsa::generate(1024).unwrap()).unwrap();
    let pem = small.private_key_to_pem_pkcs8().unwrap();
    assert!(SigningKey::from_pem(&pem).is_err());
    let group = EcGroup::from_curve_name(Nid::SECP384R1).unwrap();
    let p384 = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let pem = p384.private_key_to_pem_pkcs8().unwrap();
    assert!(SigningKey::from_pem(&pem).is_err());
}

#[test]
fn debug_shows_no_key_material() {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let debug = format!("{key:?}");
    assert!(debug.contains(key.kid()));
    assert!(!debug.contains("PRIVATE"));
}

#[test]
fn es256_signature_is_raw_64_bytes() {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let signature = key.sign(b"payload").unwrap();
    assert_eq!(signature.len(), 64);
    assert!(key.verifying_key().verifies(b"payload", &signature));
    assert!(!key.verifying_key().verifies(b"other", &signature));
    // The DER form is not a JWS signature.
    let digest = hash(MessageDigest::sha256(), b"payload").unwrap();
    let der = EcdsaSig::sign(&digest, &*key.private.ec_key().unwrap())
        .unwrap()
        .to_der()
        .unwrap();
    assert!(!key.verifying_key().verifies(b"payload", &der));
}

#[test]
fn public_jwk_round_trips() {
    for algorithm in [Algorithm::Es256, Algorithm::Rs256] {
        let key = SigningKey::generate(algorithm).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(jwk["alg"], algorithm.name());
        assert_eq!(jwk["kid"], key.kid());
        assert!(jwk.get("d").is_none());
        let public = VerifyingKey::from_jwk(&jwk).unwrap();
        assert_eq!(public.kid(), key.kid());
        assert_eq!(public.algorithm(), algorithm);
        let signature = key.sign(b"input").unwrap();
        assert!(public.verifies(b"input", &signature));
    }
}

#[test]
fn thumbprint_matches_rfc7638_example() {
    // RFC 7638 §3.1, without its `kid` so that the thumbprint becomes the kid.
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256"
    });
    let key = VerifyingKey::from_jwk(&jwk).unwrap();
    assert_eq!(key.kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

#[test]
fn unusable_jwks_are_refused() {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let mut jwk = key.public_jwk();
    jwk["alg"] = json!("HS256");
    assert!(VerifyingKey::from_jwk(&jwk).is_err());
    let mut jwk = key.public_jwk();
    jwk["use"] = json!("enc");
    assert!(VerifyingKey::from_jwk(&jwk).is_err());
    let mut jwk = key.public_jwk();
    jwk["x"] = json!("AAAA");
    assert!(VerifyingKey::from_jwk(&jwk).is_err());
    assert!(VerifyingKey::from_jwk(&json!({"kty": "oct", "k": "c2VjcmV0"})).is_err());
}
