//! Instance-level handlers: `[type]/[id]` read, update, patch, delete; vread; instance history.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::blocking;
use crate::interaction::audit_trail::audited;
use crate::interaction::{delete, history, patch, read, update, vread};
use crate::rest::bundles::history_bundle;
use crate::rest::errors::RestError;
use crate::rest::format::{BodyKind, output_format, read_json_body};
use crate::rest::headers::{ReturnPreference, if_match, return_preference};
use crate::rest::principal::{Authenticated, context};
use crate::rest::respond::{etag, information, read_response, write_response};
use crate::rest::state::AppState;
use crate::search::query_string::parse_pairs;

pub async fn read(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let (type_name, id) = path.into_inner();
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let resource = blocking(move || {
        audited(&services, &ctx, || {
            read::read(&services, &ctx, &type_name, &id)
        })
    })
    .await?;
    Ok(read_response(&request, format, resource))
}

pub async fn vread(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let (type_name, id, version) = path.into_inner();
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let resource = blocking(move || {
        audited(&services, &ctx, || {
            vread::vread(&services, &ctx, &type_name, &id, &version)
        })
    })
    .await?;
    Ok(read_response(&request, format, resource))
}

pub async fn update(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let (type_name, id) = path.into_inner();
    let body = read_json_body(&request, payload, BodyKind::Resource, state.max_body_bytes).await?;
    let expected = if_match(&request)?;
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let outcome = blocking(move || {
        audited(&services, &ctx, || {
            update::update(&services, &ctx, &type_name, &id, body, expected)
        })
    })
    .await?;
    let (status, message) = if outcome.created {
        (StatusCode::CREATED, "resource created")
    } else {
        (StatusCode::OK, "resource updated")
    };
    Ok(write_response(
        status,
        &state.base_url(&request),
        format,
        return_preference(&request, ReturnPreference::Representation),
        outcome.resource,
        message,
    ))
}

pub async fn patch(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let (type_name, id) = path.into_inner();
    let document =
        read_json_body(&request, payload, BodyKind::JsonPatch, state.max_body_bytes).await?;
    let expected = if_match(&request)?;
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let resource = blocking(move || {
        audited(&services, &ctx, || {
            patch::patch(&services, &ctx, &type_name, &id, document, expected)
        })
    })
    .await?;
    Ok(write_response(
        StatusCode::OK,
        &state.base_url(&request),
        format,
        return_preference(&request, ReturnPreference::Representation),
        resource,
        "resource patched",
    ))
}

pub async fn delete(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let (type_name, id) = path.into_inner();
    let expected = if_match(&request)?;
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let outcome = blocking(move || {
        audited(&services, &ctx, || {
            delete::delete(&services, &ctx, &type_name, &id, expected)
        })
    })
    .await?;
    Ok(delete_response(&request, format, outcome))
}

/// 204, or 200 with an OperationOutcome under `Prefer: return=OperationOutcome`; the ETag
/// names the version that records the deletion.
pub(crate) fn delete_response(
    request: &HttpRequest,
    format: crate::rest::format::OutputFormat,
    outcome: delete::DeleteOutcome,
) -> HttpResponse {
    let message = match outcome.deleted_version {
        Some(_) => "resource deleted",
        None => "nothing to delete",
    };
    let mut response = match return_preference(request, ReturnPreference::Minimal) {
        ReturnPreference::OperationOutcome => information(StatusCode::OK, format, message),
        _ => HttpResponse::NoContent().finish(),
    };
    if let Some(version) = outcome.deleted_version
        && let Ok(value) = header::HeaderValue::from_str(&etag(version))
    {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

pub async fn instance_history(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, RestError> {
    let (type_name, id) = path.into_inner();
    history_response(request, state, principal, Some(type_name), Some(id)).await
}

/// Runs a history interaction and renders its Bundle.
pub(crate) async fn history_response(
    request: HttpRequest,
    state: web::Data<AppState>,
    principal: crate::auth::Principal,
    type_name: Option<String>,
    id: Option<String>,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let parameters = parse_pairs(request.query_string());
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let page = blocking(move || {
        audited(&services, &ctx, || {
            let target = history::HistoryTarget {
                type_name: type_name.as_deref(),
                id: id.as_deref(),
            };
            history::history(&services, &ctx, target, &parameters)
        })
    })
    .await?;
    let body = history_bundle(
        &state.base_url(&request),
        request.path(),
        request.query_string(),
        page,
    )?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type)
        .body(format.render_text(body)))
}
