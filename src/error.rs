//! The categories every error of Carnet falls into. Each module has its own error enum
//! whose variants report one of these; `rest` maps a category to an HTTP status and an
//! OperationOutcome in one table. Depends on nothing.

/// What kind of failure an error is, independent of the module that raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// The client sent something malformed or invalid (400).
    Invalid,
    /// No valid credentials (401).
    Unauthorized,
    /// The subject is authenticated but not allowed (403).
    Forbidden,
    /// The target does not exist, or the subject may not know it exists (404).
    NotFound,
    /// The route exists but not with this HTTP method (405).
    MethodNotAllowed,
    /// None of the formats the client accepts can be produced (406).
    NotAcceptable,
    /// A version conflict with a concurrent writer (409).
    Conflict,
    /// The target existed and was deleted (410).
    Gone,
    /// A conditional header or conditional operation precondition failed (412).
    PreconditionFailed,
    /// The request body is in a format Carnet does not read (415).
    UnsupportedMediaType,
    /// A business rule refused a well-formed request (422).
    Unprocessable,
    /// The client sends too many requests (429).
    TooManyRequests,
    /// The server is temporarily unable to answer (503).
    Busy,
    /// A fault inside the server; the cause is logged, never shown (500).
    Fault,
}

/// Implemented by every module error so that `rest` can map it once.
pub trait Categorized {
    fn category(&self) -> ErrorCategory;
}
