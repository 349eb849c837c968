//! The authenticated caller as an extractor: every handler that takes `Authenticated` runs
//! only after the caller was authenticated (401 with an OperationOutcome otherwise): by the
//! bearer token when the request has an `Authorization` header (on any listener), else, on
//! the professionals' listener, by the verified client certificate
//! (`client_certificate`).

use futures_util::future::LocalBoxFuture;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::client_certificate::{ProfessionalConnection, certificate_principal};
use super::errors::RestError;
use super::state::AppState;
use crate::auth::{AuthError, Principal, bearer_token};
use crate::error::ErrorCategory;
use crate::interaction::RequestContext;
use crate::interaction::audit_trail::authentication_failure;

/// The verified principal of the request.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

/// The request id (from `X-Request-Id`, or generated), put in extensions by the middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl FromRequest for Authenticated {
    type Error = RestError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let has_bearer = request.headers().contains_key(header::AUTHORIZATION);
        let connection = request.conn_data::<ProfessionalConnection>().cloned();
        let state = request.app_data::<web::Data<AppState>>().cloned();
        match (connection, state) {
            (Some(connection), Some(state)) if !has_bearer => Box::pin(async move {
                certificate_principal(&connection, &state)
                    .await
                    .map(Authenticated)
            }),
            _ => {
                let outcome = authenticate(request).map(Authenticated);
                Box::pin(async move { outcome })
            }
        }
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
    let now = state.services.clock.now_millis() / 1000;
    bearer_token(header_value)
        .and_then(|token| state.verifier.verify(token, now))
        .map_err(|error| {
            log::info!("authentication refused: {error}");
            audit_refusal(request, state, &error);
            RestError::from(error)
        })
}

/// Records a refused authentication in the audit trail, on the blocking pool (the 401 does
/// not wait for it). Requests without credentials are not attempts and are not recorded.
pub(crate) fn audit_refusal(request: &HttpRequest, state: &AppState, error: &AuthError) {
    if matches!(error, AuthError::Missing) {
        return;
    }
    let services = state.services.clone();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let reason = error.to_string();
    let address = request.peer_addr().map(|a| a.ip().to_string());
    drop(actix_web::rt::task::spawn_blocking(move || {
        authentication_failure(&services, &request_id, &reason, address.as_deref());
    }));
}

/// The interaction context of this request.
pub fn context(request: &HttpRequest, state: &AppState, principal: Principal) -> RequestContext {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    RequestContext::new(principal, request_id, state.services.clock.now_millis())
}
