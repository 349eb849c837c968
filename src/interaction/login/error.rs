//! Errors of login and of account administration. Every refused login attempt, whatever
//! the reason (unknown identifier, wrong password, wrong or expired code, locked account),
//! is the one `Refused` error with the one message, so that an unauthenticated caller
//! learns nothing about which accounts exist or are locked.

use crate::auth::AuthError;
use crate::error::{Categorized, ErrorCategory};
use crate::interaction::InteractionError;
use crate::storage::StorageError;

/// The message of every refused attempt.
pub const REFUSED: &str = "login refused: the identifier, the password or the code is wrong, or the account is locked for now";

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// A refused attempt (401), always with the same message.
    #[error("{REFUSED}")]
    Refused,
    /// The code was right but the provisional password must be replaced first (422).
    #[error("{0}")]
    PasswordChangeRequired(String),
    /// A malformed request or operator command (400).
    #[error("{0}")]
    Invalid(String),
    /// An operator command names something that does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// An operator command would duplicate an account (409).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Interaction(#[from] InteractionError),
}

impl From<StorageError> for LoginError {
    fn from(error: StorageError) -> Self {
        LoginError::Interaction(InteractionError::Storage(error))
    }
}

impl Categorized for LoginError {
    fn category(&self) -> ErrorCategory {
        match self {
            LoginError::Refused => ErrorCategory::Unauthorized,
            LoginError::PasswordChangeRequired(_) => ErrorCategory::Unprocessable,
            LoginError::Invalid(_) => ErrorCategory::Invalid,
            LoginError::NotFound(_) => ErrorCategory::NotFound,
            LoginError::Conflict(_) => ErrorCategory::Conflict,
            // Minting or hashing problems are the server's, never the caller's.
            LoginError::Auth(_) => ErrorCategory::Fault,
            LoginError::Interaction(e) => e.category(),
        }
    }
}
