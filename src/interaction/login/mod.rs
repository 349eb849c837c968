//! Patient login (issue 4): an account per patient (or legal representative), a password
//! step that sends a one-time code through the outbox, a code step that issues an access
//! token; every login, failure and lock recorded as an AuditEvent in the transaction of
//! the account change. Operator commands create and reset accounts. HTTP-free and
//! synchronous; the time comes from `Services.clock`. The rules themselves are
//! `auth::login`'s.

mod accounts;
mod error;
mod record;
mod start;
mod verify;

pub use accounts::{
    AccountSummary, Contact, Credentials, NewAccount, create_account, list_accounts, reset_account,
};
pub use error::{LoginError, REFUSED};
pub use start::{Challenge, LoginInput, start};
pub use verify::{Grant, LOGIN_SCOPE, TOKEN_TTL_SECONDS, VerifyInput, verify};

/// Who is calling, as far as the HTTP layer knows: for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The client's IP address.
    pub address: Option<String>,
    /// The request id (`X-Request-Id`).
    pub request_id: String,
}

/// How codes and messages reach the account holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        match text {
            "sms" => Some(Channel::Sms),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}
