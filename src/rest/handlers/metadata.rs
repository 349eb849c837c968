//! `GET [base]/metadata`: the CapabilityStatement, open to everyone.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::rest::errors::RestError;
use crate::rest::format::output_format;
use crate::rest::state::AppState;

pub async fn capabilities(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, RestError> {
    let format = output_format(&request)?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type)
        .body(format.render(&state.capability_statement)))
}
