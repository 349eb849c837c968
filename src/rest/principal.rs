//! The authenticated caller as an extractor: every handler that takes `Authenticated` runs
//! only after the bearer token was verified (401 with an OperationOutcome otherwise).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::errors::RestError;
use super::state::AppState;
use crate::auth::{AuthError, Principal, bearer_token};
use crate::error::ErrorCategory;
use crate::interaction::RequestContext;

/// The verified principal of the request.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

/// The request id (from `X-Request-Id`, or generated), put in extensions by the middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl FromRequest for Authenticated {
    type Error = RestError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(authenticate(request).map(Authenticated))
    }
}

fn authenticate(request: &HttpRequest) -> Result<Principal, RestError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| RestError::new(ErrorCategory::Fault, "internal error"))?;
    let header_value = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthError::Missing)?;
    let token = bearer_token(header_value)?;
    let now = state.services.clock.now_millis() / 1000;
    state.verifier.verify(token, now).map_err(|error| {
        log::info!("authentication refused: {error}");
        RestError::from(error)
    })
}

/// The interaction context of this request.
pub fn context(request: &HttpRequest, state: &AppState, principal: Principal) -> RequestContext {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    RequestContext {
        principal,
        request_id,
        now_millis: state.services.clock.now_millis(),
    }
}
