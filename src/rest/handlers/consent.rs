//! The consent operations over HTTP, answered as `Parameters`:
//! `GET [base]/Patient/{id}/$access` (the caller's status on the record) and
//! `GET [base]/[type]/[id]/$explain[?subject=Practitioner/1&purpose=BTG]` (the decision on
//! reading the resource and its reasons).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::blocking;
use crate::interaction::audit_trail::audited;
use crate::interaction::consent_operations::{access_status, explain};
use crate::rest::errors::RestError;
use crate::rest::format::output_format;
use crate::rest::principal::{Authenticated, context};
use crate::rest::state::AppState;
use crate::search::query_string::parse_pairs;

pub async fn access(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let patient = path.into_inner();
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let status =
        blocking(move || audited(&services, &ctx, || access_status(&services, &ctx, &patient)))
            .await?;
    Ok(parameters(format, &status.to_parameters()))
}

pub async fn explain_access(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let (type_name, id) = path.into_inner();
    let pairs = parse_pairs(request.query_string());
    let subject = pairs
        .iter()
        .find(|(n, _)| n == "subject")
        .map(|(_, v)| v.clone());
    let purposes: Vec<String> = pairs
        .iter()
        .filter(|(n, _)| n == "purpose")
        .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let explanation = blocking(move || {
        audited(&services, &ctx, || {
            explain(
                &services,
                &ctx,
                &type_name,
                &id,
                subject.as_deref(),
                &purposes,
            )
        })
    })
    .await?;
    Ok(parameters(format, &explanation.to_parameters()))
}

fn parameters(format: crate::rest::format::OutputFormat, body: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(format.content_type)
        .body(format.render(body))
}
