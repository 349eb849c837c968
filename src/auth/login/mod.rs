//! Patient login, the pure rules (issue 4 item 4, DMP-RULES.md §3): the account identifier
//! (4 digits and 4 letters, normalised so that case and spacing never make another
//! account), argon2id password hashes and the password policy, one-time codes, the
//! lockout after failed attempts, and the per-client rate limiter. Time is always an
//! input. `auth` does authentication only: it may use `crate::error`, std and crates,
//! never storage, HTTP or consent.

mod identifier;
mod lockout;
mod otp;
mod password;
mod random;
mod rate;

pub use identifier::Identifier;
pub use lockout::{LOCK_MILLIS, LockState, MAX_FAILURES};
pub use otp::{
    CODE_DIGITS, CODE_TTL_MILLIS, code_matches, generate_code, hash_code, new_challenge_id,
};
pub use password::{
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, check_policy, hash_password, provisional_password,
    verify_password, verify_password_or_dummy,
};
pub use rate::{RateLimiter, client_key};
