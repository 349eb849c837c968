//! The one table from error category to HTTP status, and the error type handlers return:
//! any module error becomes a status and an OperationOutcome here. Faults show a generic
//! message; their cause is logged with the request id, never sent.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::auth::AuthError;
use crate::error::{Categorized, ErrorCategory};
use crate::fhir::outcome::{OutcomeIssue, operation_outcome};
use crate::interaction::InteractionError;

/// The HTTP status of each category: the single mapping of the server.
pub fn status_of(category: ErrorCategory) -> StatusCode {
    match category {
        ErrorCategory::Invalid => StatusCode::BAD_REQUEST,
        ErrorCategory::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCategory::Forbidden => StatusCode::FORBIDDEN,
        ErrorCategory::NotFound => StatusCode::NOT_FOUND,
        ErrorCategory::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCategory::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
        ErrorCategory::Conflict => StatusCode::CONFLICT,
        ErrorCategory::Gone => StatusCode::GONE,
        ErrorCategory::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        ErrorCategory::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCategory::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCategory::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorCategory::Busy => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCategory::Fault => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The FHIR issue-type code used when an error brings no issues of its own.
fn issue_code_of(category: ErrorCategory) -> &'static str {
    match category {
        ErrorCategory::Invalid => "invalid",
        ErrorCategory::Unauthorized => "login",
        ErrorCategory::Forbidden => "forbidden",
        ErrorCategory::NotFound => "not-found",
        ErrorCategory::MethodNotAllowed
        | ErrorCategory::NotAcceptable
        | ErrorCategory::UnsupportedMediaType => "not-supported",
        ErrorCategory::Conflict | ErrorCategory::PreconditionFailed => "conflict",
        ErrorCategory::Gone => "deleted",
        ErrorCategory::Unprocessable => "business-rule",
        ErrorCategory::TooManyRequests => "throttled",
        ErrorCategory::Busy => "transient",
        ErrorCategory::Fault => "exception",
    }
}

/// An error answered as an OperationOutcome.
#[derive(Debug)]
pub struct RestError {
    pub category: ErrorCategory,
    pub issues: Vec<OutcomeIssue>,
}

impl RestError {
    pub fn new(category: ErrorCategory, message: impl Into<String>) -> RestError {
        RestError {
            category,
            issues: vec![OutcomeIssue::error(issue_code_of(category), message)],
        }
    }

    /// Logs the cause of a fault and hides it from the client.
    fn fault(cause: &dyn std::fmt::Display) -> RestError {
        log::error!("internal error: {cause}");
        RestError::new(
            ErrorCategory::Fault,
            "internal error, the cause is in the server log",
        )
    }
}

impl std::fmt::Display for RestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = self.issues.first().map_or("error", |i| i.message.as_str());
        write!(f, "{message}")
    }
}

impl From<InteractionError> for RestError {
    fn from(error: InteractionError) -> Self {
        let category = error.category();
        if category == ErrorCategory::Fault {
            return RestError::fault(&error);
        }
        RestError {
            category,
            issues: error.issues(),
        }
    }
}

impl From<AuthError> for RestError {
    fn from(error: AuthError) -> Self {
        let category = error.category();
        if category == ErrorCategory::Fault {
            return RestError::fault(&error);
        }
        RestError::new(category, error.to_string())
    }
}

impl From<actix_web::error::BlockingError> for RestError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        RestError::fault(&error)
    }
}

impl ResponseError for RestError {
    fn status_code(&self) -> StatusCode {
        status_of(self.category)
    }

    fn error_response(&self) -> HttpResponse {
        let body = operation_outcome(&self.issues).to_string();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(super::format::FHIR_JSON),
        ));
        if self.category == ErrorCategory::Unauthorized {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"carnet\""),
            ));
        }
        response.body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_its_own_status_and_faults_are_500() {
        assert_eq!(status_of(ErrorCategory::Invalid), StatusCode::BAD_REQUEST);
        assert_eq!(status_of(ErrorCategory::Gone), StatusCode::GONE);
        assert_eq!(
            status_of(ErrorCategory::Fault),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let hidden = RestError::from(AuthError::Key {
            problem: "secret detail",
            source: None,
        });
        assert_eq!(hidden.category, ErrorCategory::Fault);
        assert!(!hidden.to_string().contains("secret"));
    }
}
