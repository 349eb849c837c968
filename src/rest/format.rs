//! Formats: which media types Carnet reads and writes (FHIR JSON; XML is not offered yet),
//! content negotiation with `Accept` and `_format`, `_pretty`, and reading request bodies
//! (415 for other media types, 400 for malformed JSON, a size limit).

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;
use serde_json::Value;

use super::errors::RestError;
use crate::error::ErrorCategory;
use crate::search::query_string::parse_pairs;

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";
pub const PLAIN_JSON: &str = "application/json; charset=utf-8";
pub const JSON_PATCH: &str = "application/json-patch+json";

/// How to write the response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputFormat {
    /// The Content-Type to answer with (`application/fhir+json` unless the client asked for
    /// plain `application/json`).
    pub content_type: &'static str,
    pub pretty: bool,
}

/// Negotiates the output format from `_format`, `_pretty` and `Accept` (406 when only
/// formats Carnet does not produce are acceptable).
pub fn output_format(request: &HttpRequest) -> Result<OutputFormat, RestError> {
    let params = parse_pairs(request.query_string());
    let pretty = params.iter().any(|(n, v)| n == "_pretty" && v == "true");
    if let Some((_, format)) = params.iter().find(|(n, _)| n == "_format") {
        let content_type = match format.split(';').next().unwrap_or("").trim() {
            "json" | "application/fhir+json" => FHIR_JSON,
            "application/json" => PLAIN_JSON,
            other => {
                return Err(RestError::new(
                    ErrorCategory::NotAcceptable,
                    format!("the format `{other}` is not supported: use `json`"),
                ));
            }
        };
        return Ok(OutputFormat {
            content_type,
            pretty,
        });
    }
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    let mut content_type = None;
    for item in accept.split(',') {
        let media = item.split(';').next().unwrap_or("").trim();
        let chosen = match media {
            "application/fhir+json" | "*/*" | "application/*" | "" => Some(FHIR_JSON),
            "application/json" | "application/json+fhir" => Some(PLAIN_JSON),
            _ => None,
        };
        if chosen.is_some() {
            content_type = chosen;
            break;
        }
    }
    match content_type {
        Some(content_type) => Ok(OutputFormat {
            content_type,
            pretty,
        }),
        None => Err(RestError::new(
            ErrorCategory::NotAcceptable,
            format!(
                "none of the accepted media types `{accept}` is produced here: use `application/fhir+json`"
            ),
        )),
    }
}

impl OutputFormat {
    /// Renders stored JSON text, re-indenting it when `_pretty=true`.
    pub fn render_text(&self, json: String) -> String {
        if !self.pretty {
            return json;
        }
        match serde_json::from_str::<Value>(&json) {
            Ok(value) => self.render(&value),
            Err(_) => json,
        }
    }

    pub fn render(&self, value: &Value) -> String {
        let rendered = if self.pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        };
        rendered.unwrap_or_default()
    }
}

/// Which media types a body may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// A FHIR resource in JSON.
    Resource,
    /// A JSON Patch document.
    JsonPatch,
}

/// Reads and parses a JSON body of the given kind, at most `limit` bytes.
pub async fn read_json_body(
    request: &HttpRequest,
    payload: Payload,
    kind: BodyKind,
    limit: usize,
) -> Result<Value, RestError> {
    check_content_type(request, kind)?;
    let bytes = read_body(payload, limit).await?;
    if bytes.is_empty() {
        return Err(RestError::new(
            ErrorCategory::Invalid,
            "the request has no body",
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        RestError::new(
            ErrorCategory::Invalid,
            format!("the body is not valid JSON: {e}"),
        )
    })
}

fn check_content_type(request: &HttpRequest, kind: BodyKind) -> Result<(), RestError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let accepted = match kind {
        BodyKind::Resource => matches!(
            media.as_str(),
            "application/fhir+json" | "application/json" | "application/json+fhir"
        ),
        BodyKind::JsonPatch => media == JSON_PATCH,
    };
    if accepted {
        return Ok(());
    }
    let expected = match kind {
        BodyKind::Resource => "`application/fhir+json` or `application/json`",
        BodyKind::JsonPatch => "`application/json-patch+json`",
    };
    Err(RestError::new(
        ErrorCategory::UnsupportedMediaType,
        format!("the content type `{content_type}` is not supported here: send {expected}"),
    ))
}

/// Reads a whole body, at most `limit` bytes (400 beyond).
pub async fn read_body(mut payload: Payload, limit: usize) -> Result<Bytes, RestError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            RestError::new(
                ErrorCategory::Invalid,
                format!("the body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(RestError::new(
                ErrorCategory::Invalid,
                format!("the body is larger than the limit of {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
