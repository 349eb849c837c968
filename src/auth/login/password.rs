//! Passwords: the policy (at least 8 characters), argon2id hashes (RFC 9106, computed by
//! OpenSSL) kept as PHC strings, verification in constant time, and provisional
//! passwords. A hash carries its own parameters, so changing the defaults later keeps old
//! hashes verifiable. `auth` does authentication only: it may use `crate::error`, std and
//! crates, never storage, HTTP or consent.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use super::random;
use crate::auth::AuthError;

/// The fewest characters a chosen password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted, in bytes (hashing more is only a way to burn CPU).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// argon2id parameters of new hashes (the OWASP baseline): memory in KiB, passes, lanes.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;
const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;
/// Bounds on the parameters read back from a stored hash.
const MAX_MEMORY_KIB: u32 = 1 << 20;
const MAX_PASSES: u32 = 16;
const MAX_LANES: u32 = 16;
/// Characters of provisional passwords (no 0/O, 1/l/I), and their length.
const PROVISIONAL_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
const PROVISIONAL_CHARS: usize = 12;
/// A well-formed hash of no password anyone knows, with the default parameters: verifying
/// against it costs what verifying a real hash costs, so an unknown identifier takes as
/// long to refuse as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZHVtbXktc2FsdC1jYXJuZXQ$\
                          AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Whether `password` may be chosen: at least `MIN_PASSWORD_CHARS` characters and at most
/// `MAX_PASSWORD_BYTES` bytes.
pub fn check_policy(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::InvalidRequest(format!(
            "a new password of at least {MIN_PASSWORD_CHARS} characters is required"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::InvalidRequest(format!(
            "the new password is longer than {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// The argon2id hash of `password` with a fresh salt, as a PHC string
/// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = random::bytes(SALT_BYTES)?;
    let params = Params {
        memory_kib: MEMORY_KIB,
        passes: PASSES,
        lanes: LANES,
    };
    let mut hash = [0u8; HASH_BYTES];
    derive(password.as_bytes(), &salt, params, &mut hash)?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.passes,
        params.lanes,
        STANDARD_NO_PAD.encode(&salt),
        STANDARD_NO_PAD.encode(hash)
    ))
}

/// Whether `password` matches the PHC string `stored`; the comparison takes the same time
/// wherever the hashes differ. A malformed stored hash is a fault, not a mismatch.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, AuthError> {
    let (params, salt, expected) = parse(stored)?;
    if password.len() > MAX_PASSWORD_BYTES {
        // Still spend the time of a verification.
        let mut ignored = vec![0u8; expected.len()];
        derive(b"", &salt, params, &mut ignored)?;
        return Ok(false);
    }
    let mut actual = vec![0u8; expected.len()];
    derive(password.as_bytes(), &salt, params, &mut actual)?;
    Ok(openssl::memcmp::eq(&actual, &expected))
}

/// Verifies `password` against `stored`, or against a dummy hash when there is no account
/// (always `false` then), so that both take the same time.
pub fn verify_password_or_dummy(password: &str, stored: Option<&str>) -> Result<bool, AuthError> {
    match stored {
        Some(stored) => verify_password(password, stored),
        None => verify_password(password, DUMMY_HASH).map(|_| false),
    }
}

/// A new provisional password: 12 characters from the CSPRNG over an alphabet without
/// look-alike characters (about 70 bits).
pub fn provisional_password() -> Result<String, AuthError> {
    random::string_from(PROVISIONAL_ALPHABET, PROVISIONAL_CHARS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Params {
    memory_kib: u32,
    passes: u32,
    lanes: u32,
}

fn derive(password: &[u8], salt: &[u8], params: Params, out: &mut [u8]) -> Result<(), AuthError> {
    openssl::kdf::argon2id(
        None,
        password,
        salt,
        None,
        None,
        params.passes,
        params.lanes,
        params.memory_kib,
        out,
    )
    .map_err(|e| AuthError::key("could not compute a password hash", e))
}

/// The parameters, salt and hash of a PHC argon2id string.
fn parse(stored: &str) -> Result<(Params, Vec<u8>, Vec<u8>), AuthError> {
    let corrupt = || AuthError::key_problem("has a malformed stored password hash");
    let parts: Vec<&str> = stored.split('$').collect();
    let ["", "argon2id", "v=19", settings, salt, hash] = parts[..] else {
        return Err(corrupt());
    };
    let mut memory_kib = None;
    let mut passes = None;
    let mut lanes = None;
    for setting in settings.split(',') {
        let (name, value) = setting.split_once('=').ok_or_else(corrupt)?;
        let value: u32 = value.parse().map_err(|_| corrupt())?;
        match name {
            "m" => memory_kib = Some(value),
            "t" => passes = Some(value),
            "p" => lanes = Some(value),
            _ => return Err(corrupt()),
        }
    }
    let params = Params {
        memory_kib: memory_kib.ok_or_else(corrupt)?,
        passes: passes.ok_or_else(corrupt)?,
        lanes: lanes.ok_or_else(corrupt)?,
    };
    let in_bounds = (1..=MAX_PASSES).contains(&params.passes)
        && (1..=MAX_LANES).contains(&params.lanes)
        && params.memory_kib >= 8 * params.lanes
        && params.memory_kib <= MAX_MEMORY_KIB;
    let salt = STANDARD_NO_PAD.decode(salt).map_err(|_| corrupt())?;
    let hash = STANDARD_NO_PAD.decode(hash).map_err(|_| corrupt())?;
    if !in_bounds || salt.len() < 8 || hash.len() < 16 {
        return Err(corrupt());
    }
    Ok((params, salt, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_the_right_password_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse", &hash).unwrap());
        assert!(!verify_password("correct horsE", &hash).unwrap());
        assert!(!verify_password("", &hash).unwrap());
        assert!(!verify_password(&"x".repeat(MAX_PASSWORD_BYTES + 1), &hash).unwrap());
        // A fresh salt each time.
        assert_ne!(hash, hash_password("correct horse").unwrap());
    }

    #[test]
    fn verifies_a_hash_of_the_reference_implementation() {
        // The argon2id known answer of the reference implementation's tests (version
        // 0x13, t=2, m=2^16 KiB, p=1, password `password`, salt `somesalt`).
        let reference = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$\
                         CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
        assert!(verify_password("password", reference).unwrap());
        assert!(!verify_password("passwore", reference).unwrap());
    }

    #[test]
    fn the_dummy_hash_is_usable_and_never_matches() {
        assert!(parse(DUMMY_HASH).is_ok());
        assert!(!verify_password_or_dummy("anything", None).unwrap());
        let hash = hash_password("abcdefgh").unwrap();
        assert!(verify_password_or_dummy("abcdefgh", Some(&hash)).unwrap());
    }

    #[test]
    fn malformed_hashes_are_faults() {
        for bad in [
            "",
            "plain",
            "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=99999999,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=19456,t=0,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=19456,t=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2id$v=19$m=19456,t=2,p=1$!!$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        ] {
            assert!(verify_password("x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policy_wants_eight_characters() {
        assert!(check_policy("1234567").is_err());
        assert!(check_policy("12345678").is_ok());
        // Characters, not bytes.
        assert!(check_policy("ééééééé").is_err());
        assert!(check_policy("éééééééé").is_ok());
        assert!(check_policy(&"a".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn provisional_passwords_are_long_enough_and_differ() {
        let first = provisional_password().unwrap();
        assert_eq!(first.len(), 12);
        assert!(check_policy(&first).is_ok());
        assert_ne!(first, provisional_password().unwrap());
    }
}
