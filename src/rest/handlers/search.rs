//! Search handlers: `GET [base]/[type]?…`, `POST [base]/[type]/_search` (form-encoded body
//! and URL parameters together), system search `GET [base]?…`, compartment search (GET, and
//! POST to `…/_search`) and `Patient/{id}/$everything` (GET, or POST with a `Parameters`
//! body); `Prefer: handling`.

use actix_web::web::{self, Payload};
use actix_web::{HttpRequest, HttpResponse};

use super::blocking;
use crate::error::ErrorCategory;
use crate::interaction::audit_trail::audited;
use crate::interaction::search;
use crate::rest::bundles::searchset_bundle;
use crate::rest::errors::RestError;
use crate::rest::format::{BodyKind, output_format, read_body, read_json_body};
use crate::rest::headers::handling;
use crate::rest::principal::{Authenticated, context};
use crate::rest::state::AppState;
use crate::search::operation_parameters::pairs_of_parameters;
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

/// Compartment search: `GET [base]/Patient/{id}/{type}`, `GET [base]/Patient/{id}/*` and
/// `GET [base]/Patient/{id}/$everything`.
pub async fn search_compartment(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, RestError> {
    let scope = compartment_scope(path.into_inner())?;
    let pairs = parse_pairs(request.query_string());
    run(request, state, principal, scope, pairs).await
}

/// `POST [base]/Patient/{id}/$everything`: the operation's parameters in a `Parameters`
/// body (or form-encoded), with those of the URL. Other compartment URLs take no POST.
pub async fn everything_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String, String)>,
    payload: Payload,
) -> Result<HttpResponse, RestError> {
    let scope = compartment_scope(path.into_inner())?;
    let posted = posted_compartment_pairs(&request, &state, &scope, true, payload).await?;
    run(request, state, principal, scope, posted).await
}

/// `POST [base]/Patient/{id}/{type}/_search` (and `…/*/_search`): compartment search with
/// form-encoded parameters.
pub async fn search_compartment_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String, String)>,
    payload: Payload,
) -> Result<HttpResponse, RestError> {
    let scope = compartment_scope(path.into_inner())?;
    let posted = posted_compartment_pairs(&request, &state, &scope, false, payload).await?;
    run(request, state, principal, scope, posted).await
}

/// The parameters of a POST to a compartment URL, those of the URL first: `$everything`
/// is POSTed to its own URL (`at_operation`), with a form or a `Parameters` body; a
/// search to `…/_search`, with a form. Anything else is 405.
async fn posted_compartment_pairs(
    request: &HttpRequest,
    state: &AppState,
    scope: &Scope,
    at_operation: bool,
    payload: Payload,
) -> Result<Vec<(String, String)>, RestError> {
    match (scope.everything, at_operation) {
        (true, false) => {
            return Err(RestError::new(
                ErrorCategory::MethodNotAllowed,
                "`$everything` is invoked at `Patient/{id}/$everything`, not with `/_search`",
            ));
        }
        (false, true) => {
            return Err(RestError::new(
                ErrorCategory::MethodNotAllowed,
                "a compartment is searched with GET, or POST to `Patient/{id}/{type}/_search`",
            ));
        }
        _ => {}
    }
    let mut pairs = parse_pairs(request.query_string());
    if scope.everything && !is_form(request) {
        let body =
            read_json_body(request, payload, BodyKind::Resource, state.max_body_bytes).await?;
        let posted = pairs_of_parameters(&body)
            .map_err(|message| RestError::new(ErrorCategory::Invalid, message))?;
        pairs.extend(posted);
    } else {
        pairs.extend(form_pairs(request, state, payload).await?);
    }
    Ok(pairs)
}

/// The scope of `[compartment]/{id}/{type}`: the Patient compartment only; `*` is every
/// type, `$everything` the operation.
fn compartment_scope(
    (compartment, id, type_name): (String, String, String),
) -> Result<Scope, RestError> {
    if compartment != "Patient" {
        return Err(RestError::new(
            ErrorCategory::Invalid,
            format!(
                "compartment search is supported in the `Patient` compartment, not `{compartment}`"
            ),
        ));
    }
    // `Patient/{id}/$everything` (FHIR R4 patient-operation-everything): the compartment,
    // every type, the Patient included, as the subject may see it.
    let everything = type_name == "$everything";
    let type_name = (type_name != "*" && !everything).then_some(type_name);
    Ok(Scope {
        type_name,
        patient: Some(id),
        everything,
    })
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
    let mut pairs = parse_pairs(request.query_string());
    pairs.extend(form_pairs(&request, &state, payload).await?);
    let scope = Scope {
        type_name: Some(path.into_inner()),
        patient: None,
        everything: false,
    };
    run(request, state, principal, scope, pairs).await
}

/// Whether the body is form-encoded.
fn is_form(request: &HttpRequest) -> bool {
    content_type(request).starts_with("application/x-www-form-urlencoded")
}

fn content_type(request: &HttpRequest) -> &str {
    request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The pairs of a form-encoded body (415 for any other content type).
async fn form_pairs(
    request: &HttpRequest,
    state: &AppState,
    payload: Payload,
) -> Result<Vec<(String, String)>, RestError> {
    if !is_form(request) {
        return Err(RestError::new(
            ErrorCategory::UnsupportedMediaType,
            format!(
                "a search is POSTed as `application/x-www-form-urlencoded`, not `{}`",
                content_type(request)
            ),
        ));
    }
    let body = read_body(payload, state.max_body_bytes).await?;
    Ok(parse_pairs(&String::from_utf8_lossy(&body)))
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
