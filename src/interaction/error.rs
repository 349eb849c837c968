//! Errors of interactions. Each reports an `ErrorCategory` (mapped to HTTP once, in
//! `rest`) and the OperationOutcome issues that explain it.

use crate::error::{Categorized, ErrorCategory};
use crate::fhir::outcome::OutcomeIssue;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum InteractionError {
    /// The request or its resource is invalid; every problem is listed.
    #[error("{}", .0.first().map(|i| i.message.as_str()).unwrap_or("invalid request"))]
    Invalid(Vec<OutcomeIssue>),
    #[error("{0}")]
    NotFound(String),
    /// The resource was deleted; `version` is the deletion's version.
    #[error("resource `{reference}` was deleted")]
    Gone {
        reference: String,
        version: i64,
        last_updated: i64,
    },
    /// The request is not allowed (scopes, consent rules); the message says what.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl InteractionError {
    /// A single invalid-request problem.
    pub fn invalid(message: impl Into<String>) -> InteractionError {
        InteractionError::Invalid(vec![OutcomeIssue::error("invalid", message)])
    }

    /// The OperationOutcome issues for this error (`rest` replaces them for faults).
    pub fn issues(&self) -> Vec<OutcomeIssue> {
        match self {
            InteractionError::Invalid(issues) => issues.clone(),
            InteractionError::NotFound(m) => vec![OutcomeIssue::error("not-found", m)],
            InteractionError::Gone { .. } => vec![OutcomeIssue::error("deleted", self.to_string())],
            InteractionError::Forbidden(m) => vec![OutcomeIssue::error("forbidden", m)],
            InteractionError::Conflict(m) => vec![OutcomeIssue::error("conflict", m)],
            InteractionError::PreconditionFailed(m) => vec![OutcomeIssue::error("conflict", m)],
            InteractionError::Unprocessable(m) => vec![OutcomeIssue::error("business-rule", m)],
            InteractionError::MethodNotAllowed(m) => vec![OutcomeIssue::error("not-supported", m)],
            InteractionError::Storage(StorageError::VersionConflict) => {
                vec![OutcomeIssue::error("conflict", self.to_string())]
            }
            // Our own sentences about the query (never database text).
            InteractionError::Storage(e @ StorageError::Query(_)) => {
                vec![OutcomeIssue::error("invalid", e.to_string())]
            }
            InteractionError::Storage(StorageError::Busy) => {
                vec![OutcomeIssue::error("transient", self.to_string())]
            }
            // What storage cannot do for a query is the client's to know (its own text).
            InteractionError::Storage(error @ StorageError::Unsupported(_)) => {
                vec![OutcomeIssue::error("not-supported", error.to_string())]
            }
            InteractionError::Storage(_) => {
                vec![OutcomeIssue::error("exception", "internal error")]
            }
        }
    }
}

impl Categorized for InteractionError {
    fn category(&self) -> ErrorCategory {
        match self {
            InteractionError::Invalid(_) => ErrorCategory::Invalid,
            InteractionError::NotFound(_) => ErrorCategory::NotFound,
            InteractionError::Gone { .. } => ErrorCategory::Gone,
            InteractionError::Forbidden(_) => ErrorCategory::Forbidden,
            InteractionError::Conflict(_) => ErrorCategory::Conflict,
            InteractionError::PreconditionFailed(_) => ErrorCategory::PreconditionFailed,
            InteractionError::Unprocessable(_) => ErrorCategory::Unprocessable,
            InteractionError::MethodNotAllowed(_) => ErrorCategory::MethodNotAllowed,
            InteractionError::Storage(e) => e.category(),
        }
    }
}
