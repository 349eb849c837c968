//! The errors of `consent`: a Consent or an access matrix that cannot be read. Deciding
//! never fails: an evaluation problem is a deny with `policy.error` (DMP-RULES.md §9).

use crate::error::{Categorized, ErrorCategory};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    /// A Consent resource Carnet cannot turn into a policy (a client's input).
    #[error("the consent is not usable: {0}")]
    InvalidConsent(String),
    /// The access matrix is malformed (Carnet's own data: a fault).
    #[error("the access matrix is not usable: {0}")]
    InvalidMatrix(String),
}

impl Categorized for ConsentError {
    fn category(&self) -> ErrorCategory {
        match self {
            Self::InvalidConsent(_) => ErrorCategory::Unprocessable,
            Self::InvalidMatrix(_) => ErrorCategory::Fault,
        }
    }
}
