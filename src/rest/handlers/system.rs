//! System-level handlers: batch/transaction (`POST [base]`) and system history.

use actix_web::{HttpRequest, HttpResponse, web};

use super::blocking;
use super::instance::history_response;
use crate::interaction::audit_trail::audited;
use crate::interaction::bundle::process_bundle;
use crate::rest::bundles::bundle_response;
use crate::rest::errors::RestError;
use crate::rest::format::{BodyKind, output_format, read_json_body};
use crate::rest::headers::{ReturnPreference, return_preference};
use crate::rest::principal::{Authenticated, context};
use crate::rest::state::AppState;

pub async fn batch_or_transaction(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    payload: web::Payload,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let body = read_json_body(&request, payload, BodyKind::Resource, state.max_body_bytes).await?;
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let outcome =
        blocking(move || audited(&services, &ctx, || process_bundle(&services, &ctx, body)))
            .await?;
    let preference = return_preference(&request, ReturnPreference::Minimal);
    let body = bundle_response(&state.base_url(&request), outcome, preference)?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type)
        .body(format.render_text(body)))
}

pub async fn system_history(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, RestError> {
    history_response(request, state, principal, None, None).await
}
