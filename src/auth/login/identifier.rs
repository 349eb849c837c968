//! The login identifier of a patient account: 4 digits then 4 letters (`1234ABCD`). What a
//! user types is normalised before anything else (letters upper-cased; spaces, hyphens and
//! dots dropped), so `1234 abcd` and `1234-ABCD` name the same account and share its
//! lockout. `auth` does authentication only: it may use `crate::error`, std and crates,
//! never storage, HTTP or consent.

use std::fmt;

use super::random;
use crate::auth::AuthError;

/// Typed input longer than this is not an identifier (and is not worked on).
const MAX_INPUT_BYTES: usize = 64;
/// Letters of generated identifiers: no I or O, which read like 1 and 0.
const GENERATED_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A normalised, valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identifier(String);

impl Identifier {
    /// The identifier a user typed, normalised; `None` when it is not 4 digits and 4
    /// letters once spaces, hyphens and dots are dropped.
    pub fn parse(typed: &str) -> Option<Identifier> {
        if typed.len() > MAX_INPUT_BYTES {
            return None;
        }
        let normalised: String = typed
            .chars()
            .filter(|c| !(c.is_whitespace() || *c == '-' || *c == '.'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = normalised.as_bytes();
        let valid = bytes.len() == 8
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && bytes[4..].iter().all(u8::is_ascii_uppercase);
        valid.then_some(Identifier(normalised))
    }

    /// A new random identifier (from the CSPRNG).
    pub fn generate() -> Result<Identifier, AuthError> {
        let digits = random::string_from(b"0123456789", 4)?;
        let letters = random::string_from(GENERATED_LETTERS, 4)?;
        Ok(Identifier(format!("{digits}{letters}")))
    }

    /// The normalised form, `1234ABCD`: the key of the account.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The form shown to people: `1234-ABCD`.
impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..4], &self.0[4..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_spacing_do_not_change_the_identifier() {
        let expected = Identifier::parse("1234ABCD").unwrap();
        for typed in [
            "1234abcd",
            "1234 ABCD",
            " 1234-abcd ",
            "12.34.ab.cd",
            "1 2 3 4 a B c D",
            "1234\tABCD",
        ] {
            assert_eq!(
                Identifier::parse(typed).as_ref(),
                Some(&expected),
                "{typed}"
            );
        }
        assert_eq!(expected.as_str(), "1234ABCD");
        assert_eq!(expected.to_string(), "1234-ABCD");
    }

    #[test]
    fn anything_else_is_not_an_identifier() {
        for typed in [
            "",
            "1234ABC",
            "1234ABCDE",
            "ABCD1234",
            "12345BCD",
            "1234ABC1",
            "1234_ABCD",
            "1234ÀBCD",
            "1234ABCD\u{0}",
            &format!("1234ABCD{}", " ".repeat(100)),
        ] {
            assert_eq!(Identifier::parse(typed), None, "{typed:?}");
        }
    }

    #[test]
    fn generated_identifiers_are_valid_and_differ() {
        let first = Identifier::generate().unwrap();
        assert_eq!(Identifier::parse(first.as_str()).as_ref(), Some(&first));
        assert!(!first.as_str().contains(['I', 'O']));
        let others: Vec<Identifier> = (0..20).map(|_| Identifier::generate().unwrap()).collect();
        assert!(others.iter().any(|other| other != &first));
    }
}
