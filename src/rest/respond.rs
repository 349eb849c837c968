//! Building responses for single resources: ETag, Last-Modified, Location, the
//! `Prefer: return` choice, and 304 for `If-None-Match` / `If-Modified-Since`.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use super::format::{FHIR_JSON, OutputFormat};
use super::headers::{ReturnPreference, if_modified_since, if_none_match};
use crate::fhir::instant::format_http_date;
use crate::fhir::outcome::{OutcomeIssue, operation_outcome};
use crate::interaction::StoredResource;

/// `W/"3"`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

fn with_version_headers(builder: &mut HttpResponseBuilder, resource: &StoredResource) {
    builder.insert_header((header::ETAG, etag(resource.version_id)));
    builder.insert_header((
        header::LAST_MODIFIED,
        format_http_date(resource.last_updated),
    ));
}

/// `base/Type/id/_history/v`.
pub fn version_location(base: &str, resource: &StoredResource) -> String {
    format!(
        "{base}/{}/{}/_history/{}",
        resource.res_type, resource.id, resource.version_id
    )
}

/// A read or vread answer, or 304 when the client's copy is current.
pub fn read_response(
    request: &HttpRequest,
    format: OutputFormat,
    resource: StoredResource,
) -> HttpResponse {
    let not_modified_by_etag = if_none_match(request)
        .is_some_and(|versions| versions.is_empty() || versions.contains(&resource.version_id));
    let not_modified_by_date = if_modified_since(request)
        .is_some_and(|since| resource.last_updated / 1000 <= since / 1000);
    let mut builder = HttpResponse::Ok();
    with_version_headers(&mut builder, &resource);
    if not_modified_by_etag || (if_none_match(request).is_none() && not_modified_by_date) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(resource.version_id)))
            .insert_header((
                header::LAST_MODIFIED,
                format_http_date(resource.last_updated),
            ))
            .finish();
    }
    builder
        .content_type(format.content_type)
        .body(format.render_text(resource.json))
}

/// The answer to a create or update: status, version headers, `Location`, and the body the
/// client prefers (the resource by default).
pub fn write_response(
    status: StatusCode,
    base: &str,
    format: OutputFormat,
    preference: ReturnPreference,
    resource: StoredResource,
    message: &str,
) -> HttpResponse {
    let mut builder = HttpResponse::build(status);
    with_version_headers(&mut builder, &resource);
    builder.insert_header((header::LOCATION, version_location(base, &resource)));
    match preference {
        ReturnPreference::Minimal => builder.finish(),
        ReturnPreference::Representation => builder
            .content_type(format.content_type)
            .body(format.render_text(resource.json)),
        ReturnPreference::OperationOutcome => builder
            .content_type(FHIR_JSON)
            .body(format.render(&operation_outcome(&[OutcomeIssue::information(message)]))),
    }
}

/// An OperationOutcome with one information issue.
pub fn information(status: StatusCode, format: OutputFormat, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(FHIR_JSON)
        .body(format.render(&operation_outcome(&[OutcomeIssue::information(message)])))
}
