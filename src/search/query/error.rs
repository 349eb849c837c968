//! Why a search request could not be understood. Every error names the parameter as
//! written; the messages are one lowercase sentence with user input in backticks. All are
//! `ErrorCategory::Invalid` (400): `rest` maps them once.

use std::fmt;

use crate::error::{Categorized, ErrorCategory};

/// A search request the server refuses (or, for the ignorable ones under lenient
/// handling, a parameter it drops).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// No such parameter `code` (in the parameter `name` as written: a chain, `_has`) for
    /// the type(s) in `scope`. Ignorable.
    UnknownParameter {
        name: String,
        code: String,
        scope: String,
    },
    /// A known parameter the server does not support (`_text`, `near`, an expression
    /// Carnet cannot evaluate). Ignorable.
    UnsupportedParameter { name: String },
    /// A modifier that does not exist for the parameter's type. Ignorable.
    UnknownModifier { name: String, modifier: String },
    /// A known modifier the server does not support (`:in`, `:below` on a token). Ignorable.
    UnsupportedModifier { name: String, modifier: String },
    /// A value that is not valid for the parameter: always an error.
    BadValue {
        name: String,
        value: String,
        reason: String,
    },
    /// A parameter name that cannot be read (`_has:Observation`): always an error.
    Malformed { name: String, reason: String },
    /// A chain without a type whose reference has several targets with that parameter.
    AmbiguousChain {
        name: String,
        candidates: Vec<String>,
    },
    /// An `_elements` name that is not a top-level element of the type. Ignorable.
    UnknownElement {
        name: String,
        element: String,
        resource_type: String,
    },
    /// A result parameter given twice (`_count=1&_count=2`). Ignorable.
    Repeated { name: String },
    /// The type searched is not an R4 resource type.
    UnknownType { resource_type: String },
}

impl QueryError {
    /// The parameter the error is about, as written (the type for `UnknownType`).
    pub fn parameter(&self) -> &str {
        match self {
            QueryError::UnknownParameter { name, .. }
            | QueryError::UnsupportedParameter { name }
            | QueryError::UnknownModifier { name, .. }
            | QueryError::UnsupportedModifier { name, .. }
            | QueryError::BadValue { name, .. }
            | QueryError::Malformed { name, .. }
            | QueryError::AmbiguousChain { name, .. }
            | QueryError::UnknownElement { name, .. }
            | QueryError::Repeated { name } => name,
            QueryError::UnknownType { resource_type } => resource_type,
        }
    }

    /// Whether lenient handling drops the parameter instead of refusing the request.
    pub fn is_ignorable(&self) -> bool {
        matches!(
            self,
            QueryError::UnknownParameter { .. }
                | QueryError::UnsupportedParameter { .. }
                | QueryError::UnknownModifier { .. }
                | QueryError::UnsupportedModifier { .. }
                | QueryError::UnknownElement { .. }
                | QueryError::Repeated { .. }
        )
    }

    pub(super) fn bad(name: &str, value: &str, reason: impl Into<String>) -> QueryError {
        QueryError::BadValue {
            name: name.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::UnknownParameter { name, code, scope } if name == code => {
                write!(f, "unknown search parameter `{name}` for {scope}")
            }
            QueryError::UnknownParameter { name, code, scope } => write!(
                f,
                "unknown search parameter `{code}` for {scope} in `{name}`"
            ),
            QueryError::UnsupportedParameter { name } => {
                write!(f, "search parameter `{name}` is not supported")
            }
            QueryError::UnknownModifier { name, modifier } => write!(
                f,
                "search parameter `{name}` has an unknown modifier `{modifier}`"
            ),
            QueryError::UnsupportedModifier { name, modifier } => write!(
                f,
                "modifier `{modifier}` of search parameter `{name}` is not supported"
            ),
            QueryError::BadValue {
                name,
                value,
                reason,
            } => write!(
                f,
                "search parameter `{name}` has an invalid value `{value}`: {reason}"
            ),
            QueryError::Malformed { name, reason } => {
                write!(f, "search parameter `{name}` is malformed: {reason}")
            }
            QueryError::AmbiguousChain { name, candidates } => write!(
                f,
                "chained search parameter `{name}` is ambiguous: name the type with one of `{}`",
                candidates.join("`, `")
            ),
            QueryError::UnknownElement {
                name,
                element,
                resource_type,
            } => write!(
                f,
                "`{name}` names `{element}`, which is not an element of `{resource_type}`"
            ),
            QueryError::Repeated { name } => {
                write!(f, "search parameter `{name}` may appear only once")
            }
            QueryError::UnknownType { resource_type } => {
                write!(f, "`{resource_type}` is not a searchable resource type")
            }
        }
    }
}

impl std::error::Error for QueryError {}

impl Categorized for QueryError {
    fn category(&self) -> ErrorCategory {
        ErrorCategory::Invalid
    }
}
