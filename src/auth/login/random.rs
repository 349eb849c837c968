//! Random choices from the operating system's CSPRNG (through OpenSSL), uniform over an
//! alphabet by rejection sampling. `auth` does authentication only: it may use
//! `crate::error`, std and crates, never storage, HTTP or consent.

use crate::auth::AuthError;

/// `count` random bytes from the CSPRNG.
pub(super) fn bytes(count: usize) -> Result<Vec<u8>, AuthError> {
    let mut buffer = vec![0u8; count];
    openssl::rand::rand_bytes(&mut buffer)
        .map_err(|e| AuthError::key("could not draw random bytes", e))?;
    Ok(buffer)
}

/// `count` characters drawn uniformly from `alphabet` (at most 256 ASCII characters).
pub(super) fn string_from(alphabet: &[u8], count: usize) -> Result<String, AuthError> {
    let size = alphabet.len();
    debug_assert!(size > 0 && size <= 256);
    // The largest multiple of `size` that fits in a byte: bytes at or above it are dropped
    // so that every character is equally likely.
    let limit = 256 - (256 % size);
    let mut out = String::with_capacity(count);
    while out.len() < count {
        for byte in bytes(count * 2)? {
            if usize::from(byte) < limit && out.len() < count {
                out.push(char::from(alphabet[usize::from(byte) % size]));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_use_only_the_alphabet_and_vary() {
        let first = string_from(b"AB", 64).unwrap();
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|b| b == b'A' || b == b'B'));
        assert!(first.contains('A') && first.contains('B'));
        assert_ne!(first, string_from(b"AB", 64).unwrap());
        assert_eq!(string_from(b"0123456789", 6).unwrap().len(), 6);
    }
}
