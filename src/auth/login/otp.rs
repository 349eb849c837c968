//! One-time login codes: 6 digits from the CSPRNG, valid for 5 minutes, sent to the
//! patient and kept only as a hash bound to its challenge; compared in constant time.
//! `auth` does authentication only: it may use `crate::error`, std and crates, never
//! storage, HTTP or consent.

use openssl::hash::{MessageDigest, hash};

use super::random;
use crate::auth::AuthError;

/// Digits of a code.
pub const CODE_DIGITS: usize = 6;
/// How long a code may be used after it was sent, in milliseconds.
pub const CODE_TTL_MILLIS: i64 = 5 * 60 * 1000;
/// Random bytes of a challenge id (128 bits).
const CHALLENGE_BYTES: usize = 16;

/// A new code: `CODE_DIGITS` digits, each uniform.
pub fn generate_code() -> Result<String, AuthError> {
    random::string_from(b"0123456789", CODE_DIGITS)
}

/// A new opaque challenge id: 32 lowercase hex characters.
pub fn new_challenge_id() -> Result<String, AuthError> {
    Ok(hex(&random::bytes(CHALLENGE_BYTES)?))
}

/// The stored form of `code` for `challenge_id`: SHA-256 over both, in hex. Binding the
/// challenge means a hash is no use for another challenge.
pub fn hash_code(challenge_id: &str, code: &str) -> Result<String, AuthError> {
    let input = format!("carnet-login-code\0{challenge_id}\0{code}");
    let digest = hash(MessageDigest::sha256(), input.as_bytes())
        .map_err(|e| AuthError::key("could not hash a login code", e))?;
    Ok(hex(&digest))
}

/// Whether the `typed` code (spaces ignored) is the one hashed as `stored` for
/// `challenge_id`; the hashes are compared in constant time.
pub fn code_matches(challenge_id: &str, typed: &str, stored: &str) -> Result<bool, AuthError> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let well_formed = typed.len() == CODE_DIGITS && typed.bytes().all(|b| b.is_ascii_digit());
    let actual = hash_code(challenge_id, &typed)?;
    let same =
        actual.len() == stored.len() && openssl::memcmp::eq(actual.as_bytes(), stored.as_bytes());
    Ok(well_formed && same)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..50 {
            let code = generate_code().unwrap();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        }
    }

    #[test]
    fn challenge_ids_are_long_and_unique() {
        let first = new_challenge_id().unwrap();
        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(first, new_challenge_id().unwrap());
    }

    #[test]
    fn a_code_matches_only_its_own_challenge() {
        let stored = hash_code("c1", "123456").unwrap();
        assert_eq!(stored.len(), 64);
        assert!(code_matches("c1", "123456", &stored).unwrap());
        assert!(code_matches("c1", " 123 456 ", &stored).unwrap());
        assert!(!code_matches("c1", "123457", &stored).unwrap());
        assert!(!code_matches("c2", "123456", &stored).unwrap());
        assert!(!code_matches("c1", "", &stored).unwrap());
        assert!(!code_matches("c1", "123456", "").unwrap());
        // A hash of a malformed code never matches, even if someone stored it.
        let odd = hash_code("c1", "12345").unwrap();
        assert!(!code_matches("c1", "12345", &odd).unwrap());
    }
}
