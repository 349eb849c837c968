//! Request headers with FHIR meaning: `Prefer` (return and handling), `If-Match`,
//! `If-None-Match`, `If-Modified-Since`, `If-None-Exist`, and the request id.

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderName};

use super::errors::RestError;
use crate::error::ErrorCategory;
use crate::fhir::instant::parse_http_date;
use crate::interaction::bundle_entry::parse_etag;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const IF_NONE_EXIST: HeaderName = HeaderName::from_static("if-none-exist");

/// What the client wants back after a write (`Prefer: return=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnPreference {
    Minimal,
    Representation,
    OperationOutcome,
}

fn header_text(request: &HttpRequest, name: impl header::AsHeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `Prefer: return=…`; `default` when absent or unknown.
pub fn return_preference(request: &HttpRequest, default: ReturnPreference) -> ReturnPreference {
    let Some(prefer) = header_text(request, HeaderName::from_static("prefer")) else {
        return default;
    };
    for token in prefer.split([',', ';']) {
        match token.trim().replace(' ', "").as_str() {
            "return=minimal" => return ReturnPreference::Minimal,
            "return=representation" => return ReturnPreference::Representation,
            "return=OperationOutcome" => return ReturnPreference::OperationOutcome,
            _ => {}
        }
    }
    default
}

/// `Prefer: handling=strict|lenient` for search (lenient when absent).
pub fn handling(request: &HttpRequest) -> crate::search::query::Handling {
    use crate::search::query::Handling;
    let strict = header_text(request, HeaderName::from_static("prefer")).is_some_and(|prefer| {
        prefer
            .split([',', ';'])
            .any(|token| token.trim().replace(' ', "") == "handling=strict")
    });
    if strict {
        Handling::Strict
    } else {
        Handling::Lenient
    }
}

/// `If-Match: W/"3"` as a version number (400 when it is not a version ETag).
pub fn if_match(request: &HttpRequest) -> Result<Option<i64>, RestError> {
    match header_text(request, header::IF_MATCH) {
        None => Ok(None),
        Some(text) => parse_etag(text).map(Some).ok_or_else(|| {
            RestError::new(
                ErrorCategory::Invalid,
                format!("If-Match `{text}` is not a version ETag such as `W/\"1\"`"),
            )
        }),
    }
}

/// Versions listed in `If-None-Match` (`*` matches any version: `Some(vec![])`).
pub fn if_none_match(request: &HttpRequest) -> Option<Vec<i64>> {
    let text = header_text(request, header::IF_NONE_MATCH)?;
    if text.trim() == "*" {
        return Some(Vec::new());
    }
    Some(text.split(',').filter_map(parse_etag).collect())
}

/// `If-Modified-Since` in milliseconds.
pub fn if_modified_since(request: &HttpRequest) -> Option<i64> {
    header_text(request, header::IF_MODIFIED_SINCE).and_then(parse_http_date)
}

/// `If-None-Exist` criteria of a conditional create.
pub fn if_none_exist(request: &HttpRequest) -> Option<String> {
    header_text(request, IF_NONE_EXIST).map(|s| s.trim_start_matches('?').to_owned())
}
