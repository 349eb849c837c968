//! Search handlers: `GET [base]/[type]?…`, `POST [base]/[type]/_search` (form-encoded body
//! and URL parameters together) and system search `GET [base]?…`; `Prefer: handling`.

use actix_web::web::{self, Payload};
use actix_web::{HttpRequest, HttpResponse};

use super::blocking;
use crate::error::ErrorCategory;
use crate::interaction::audit_trail::audited;
use crate::interaction::search;
use crate::rest::bundles::searchset_bundle;
use crate::rest::errors::RestError;
use crate::rest::format::{output_format, read_body};
use crate::rest::headers::handling;
use crate::rest::principal::{Authenticated, context};
use crate::rest::state::AppState;
use crate::search::query_string::parse_pairs;

pub async fn search_type(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let pairs = parse_pairs(request.query_string());
    let scope = Scope {
        type_name: Some(path.into_inner()),
        patient: None,
        everything: false,
    };
    run(request, state, principal, scope, pairs).await
}

/// Compartment search: `GET [base]/Patient/{id}/{type}` and `GET [base]/Patient/{id}/*`.
pub async fn search_compartment(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, RestError> {
    let (compartment, id, type_name) = path.into_inner();
    if compartment != "Patient" {
        return Err(RestError::new(
            ErrorCategory::Invalid,
            format!(
                "compartment search is supported in the `Patient` compartment, not `{compartment}`"
            ),
        ));
    }
    let pairs = parse_pairs(request.query_string());
    // `Patient/{id}/$everything` (FHIR R4 patient-operation-everything): the compartment,
    // every type, the Patient included, as the subject may see it.
    let everything = type_name == "$everything";
    let type_name = (type_name != "*" && !everything).then_some(type_name);
    let scope = Scope {
        type_name,
        patient: Some(id),
        everything,
    };
    run(request, state, principal, scope, pairs).await
}

/// Owned search scope, moved to the blocking pool.
struct Scope {
    type_name: Option<String>,
    patient: Option<String>,
    everything: bool,
}

pub async fn search_system(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, RestError> {
    let pairs = parse_pairs(request.query_string());
    let scope = Scope {
        type_name: None,
        patient: None,
        everything: false,
    };
    run(request, state, principal, scope, pairs).await
}

/// `POST [type]/_search`: the parameters of the form body and of the URL.
pub async fn search_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
    payload: Payload,
) -> Result<HttpResponse, RestError> {
    let content_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(RestError::new(
            ErrorCategory::UnsupportedMediaType,
            format!(
                "`POST [type]/_search` takes `application/x-www-form-urlencoded`, not `{content_type}`"
            ),
        ));
    }
    let body = read_body(payload, state.max_body_bytes).await?;
    let mut pairs = parse_pairs(request.query_string());
    pairs.extend(parse_pairs(&String::from_utf8_lossy(&body)));
    let scope = Scope {
        type_name: Some(path.into_inner()),
        patient: None,
        everything: false,
    };
    run(request, state, principal, scope, pairs).await
}

async fn run(
    request: HttpRequest,
    state: web::Data<AppState>,
    principal: crate::auth::Principal,
    scope: Scope,
    pairs: Vec<(String, String)>,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let handling = handling(&request);
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let result = blocking(move || {
        audited(&services, &ctx, || {
            let scope = search::SearchScope {
                type_name: scope.type_name.as_deref(),
                patient_compartment: scope.patient.as_deref(),
                everything: scope.everything,
            };
            search::search(&services, &ctx, scope, &pairs, handling)
        })
    })
    .await?;
    let body = searchset_bundle(&state.base_url(&request), request.path(), result)?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type)
        .body(format.render_text(body)))
}
