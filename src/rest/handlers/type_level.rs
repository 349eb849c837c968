//! Type-level handlers: create (and conditional create), conditional update / patch /
//! delete on `[type]?criteria`, type history, and `$validate`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::blocking;
use super::instance::{delete_response, history_response};
use crate::error::ErrorCategory;
use crate::interaction::audit_trail::audited;
use crate::interaction::create::CreateOutcome;
use crate::interaction::{create, delete, patch, update, validate};
use crate::rest::errors::RestError;
use crate::rest::format::{BodyKind, output_format, read_json_body};
use crate::rest::headers::{ReturnPreference, if_match, if_none_exist, return_preference};
use crate::rest::principal::{Authenticated, context};
use crate::rest::respond::{information, write_response};
use crate::rest::state::AppState;

/// The criteria of a conditional operation: the query string without format parameters
/// (400 when there are none, since the operation would then apply to every resource).
fn criteria(request: &HttpRequest) -> Result<String, RestError> {
    let query = request.query_string().to_owned();
    if query.is_empty() {
        return Err(RestError::new(
            ErrorCategory::Invalid,
            "a conditional operation on a type needs search criteria in the url",
        ));
    }
    Ok(query)
}

pub async fn create(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let type_name = path.into_inner();
    let body = read_json_body(&request, payload, BodyKind::Resource, state.max_body_bytes).await?;
    let condition = if_none_exist(&request);
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let outcome = blocking(move || {
        audited(&services, &ctx, || {
            create::create(&services, &ctx, &type_name, body, condition.as_deref())
        })
    })
    .await?;
    let (status, message) = match &outcome {
        CreateOutcome::Created(_) => (StatusCode::CREATED, "resource created"),
        CreateOutcome::Existing(_) => (
            StatusCode::OK,
            "a resource matching If-None-Exist already exists",
        ),
    };
    let resource = match outcome {
        CreateOutcome::Created(r) | CreateOutcome::Existing(r) => r,
    };
    Ok(write_response(
        status,
        &state.base_url(&request),
        format,
        return_preference(&request, ReturnPreference::Representation),
        resource,
        message,
    ))
}

pub async fn conditional_update(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let type_name = path.into_inner();
    let query = criteria(&request)?;
    let body = read_json_body(&request, payload, BodyKind::Resource, state.max_body_bytes).await?;
    let expected = if_match(&request)?;
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let outcome = blocking(move || {
        audited(&services, &ctx, || {
            update::update_conditional(&services, &ctx, &type_name, &query, body, expected)
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

pub async fn conditional_patch(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let type_name = path.into_inner();
    let query = criteria(&request)?;
    let document =
        read_json_body(&request, payload, BodyKind::JsonPatch, state.max_body_bytes).await?;
    let expected = if_match(&request)?;
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let resource = blocking(move || {
        audited(&services, &ctx, || {
            patch::patch_conditional(&services, &ctx, &type_name, &query, document, expected)
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

pub async fn conditional_delete(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let type_name = path.into_inner();
    let query = criteria(&request)?;
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    let outcome = blocking(move || {
        audited(&services, &ctx, || {
            delete::delete_conditional(&services, &ctx, &type_name, &query)
        })
    })
    .await?;
    Ok(delete_response(&request, format, outcome))
}

pub async fn type_history(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let type_name = path.into_inner();
    history_response(request, state, principal, Some(type_name), None).await
}

pub async fn validate(
    request: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    let type_name = path.into_inner();
    let body = read_json_body(&request, payload, BodyKind::Resource, state.max_body_bytes).await?;
    let ctx = context(&request, &state, principal);
    let services = state.services.clone();
    blocking(move || {
        audited(&services, &ctx, || {
            validate::validate(&services, &ctx, &type_name, body)
        })
    })
    .await?;
    Ok(information(StatusCode::OK, format, "the resource is valid"))
}
