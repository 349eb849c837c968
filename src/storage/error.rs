//! Errors of the storage layer and their categories. Database text never leaves the
//! server: `rest` shows a generic message for `Fault` and logs the cause.

use crate::error::{Categorized, ErrorCategory};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Another writer changed the resource between our read and our write.
    #[error("the resource was changed by another request, retry with the current version")]
    VersionConflict,
    /// The database is locked or out of connections for longer than we wait.
    #[error("the database is busy, retry later")]
    Busy,
    /// A search that cannot be run as asked (a ValueSet Carnet cannot expand): the message
    /// names the parameter and why.
    #[error("{0}")]
    Query(String),
    /// A search feature the SQL translation does not handle yet.
    #[error("{0} is not supported yet")]
    Unsupported(String),
    /// The configured database URL is not one Carnet can use.
    #[error("unsupported database url `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A stored row could not be decoded: the database holds something Carnet did not write.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(diesel::result::Error),
    #[error("database connection error: {0}")]
    Connection(String),
    #[error("migration error: {0}")]
    Migration(String),
}

impl Categorized for StorageError {
    fn category(&self) -> ErrorCategory {
        match self {
            StorageError::VersionConflict => ErrorCategory::Conflict,
            StorageError::Busy => ErrorCategory::Busy,
            StorageError::UnsupportedUrl(_)
            | StorageError::Unsupported(_)
            | StorageError::Query(_) => ErrorCategory::Invalid,
            StorageError::Corrupt(_)
            | StorageError::Database(_)
            | StorageError::Connection(_)
            | StorageError::Migration(_) => ErrorCategory::Fault,
        }
    }
}

impl From<diesel::result::Error> for StorageError {
    fn from(error: diesel::result::Error) -> Self {
        classify(error)
    }
}

/// Maps diesel's errors to ours: unique violations are version conflicts (two writers
/// creating the same version), lock time-outs are `Busy`.
fn classify(error: diesel::result::Error) -> StorageError {
    use diesel::result::{DatabaseErrorKind, Error};
    match &error {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
        | Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
            StorageError::VersionConflict
        }
        Error::DatabaseError(_, info) if is_lock_message(info.message()) => StorageError::Busy,
        _ => StorageError::Database(error),
    }
}

fn is_lock_message(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database table is locked")
}

impl From<r2d2::Error> for StorageError {
    fn from(error: r2d2::Error) -> Self {
        log::warn!("connection pool: {error}");
        StorageError::Busy
    }
}
