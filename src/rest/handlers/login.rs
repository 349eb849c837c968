//! Patient login over HTTP, outside the FHIR base and without a bearer token:
//! `POST /auth/login` (identifier + password -> a code is sent, the challenge comes back)
//! and `POST /auth/login/verify` (challenge + code [+ new_password] -> an OAuth-style
//! token answer). Bodies are JSON or form-encoded. Every request is first counted by the
//! per-client rate limiter (429 with `Retry-After`).

use std::collections::HashMap;
use std::net::IpAddr;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::auth::login::client_key;
use crate::error::{Categorized, ErrorCategory};
use crate::fhir::outcome::{OutcomeIssue, operation_outcome};
use crate::interaction::login::{self, Client, LoginError, LoginInput, VerifyInput};
use crate::rest::errors::{RestError, status_of};
use crate::rest::format::{FHIR_JSON, read_body};
use crate::rest::principal::RequestId;
use crate::rest::state::AppState;

/// Largest login request body, in bytes.
const MAX_LOGIN_BODY: usize = 16 * 1024;

/// Registers the `/auth` routes.
pub fn configure(config: &mut web::ServiceConfig) {
    let not_allowed = || {
        web::to(|| async {
            Err::<HttpResponse, _>(RestError::new(
                ErrorCategory::MethodNotAllowed,
                "this method is not supported on this url",
            ))
        })
    };
    config.service(
        web::scope("/auth")
            .service(
                web::resource("/login")
                    .route(web::post().to(start))
                    .default_service(not_allowed()),
            )
            .service(
                web::resource("/login/verify")
                    .route(web::post().to(verify))
                    .default_service(not_allowed()),
            ),
    );
}

/// `POST /auth/login`: `identifier`, `password`.
async fn start(
    request: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, RestError> {
    let client = client(&request, &state);
    if let Some(refusal) = throttle(&request, &state) {
        return Ok(refusal);
    }
    let mut fields = read_fields(&request, payload).await?;
    let input = LoginInput {
        identifier: required(&mut fields, "identifier")?,
        password: required(&mut fields, "password")?,
    };
    let services = state.services.clone();
    let challenge = web::block(move || login::start(&services, &client, &input))
        .await?
        .map_err(login_error)?;
    Ok(no_store(json!({
        "challenge": challenge.id,
        "delivery": challenge.delivery.as_str(),
        "expires_in": challenge.expires_in,
    })))
}

/// `POST /auth/login/verify`: `challenge`, `code`, and `new_password` at first login.
async fn verify(
    request: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, RestError> {
    let client = client(&request, &state);
    if let Some(refusal) = throttle(&request, &state) {
        return Ok(refusal);
    }
    let mut fields = read_fields(&request, payload).await?;
    let input = VerifyInput {
        challenge: required(&mut fields, "challenge")?,
        code: required(&mut fields, "code")?,
        new_password: fields.remove("new_password"),
    };
    let services = state.services.clone();
    let issuer = state.token_issuer.clone();
    let grant = web::block(move || login::verify(&services, &issuer, &client, &input))
        .await?
        .map_err(login_error)?;
    Ok(no_store(json!({
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "expires_in": grant.expires_in,
        "scope": grant.scope,
        "patient": grant.patient,
        "fhirUser": grant.subject,
    })))
}

/// The caller's address: the peer, or the last `X-Forwarded-For` entry when trusted.
fn client_address(request: &HttpRequest, state: &AppState) -> Option<IpAddr> {
    if state.trust_forwarded_for {
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    request.peer_addr().map(|a| a.ip())
}

fn client(request: &HttpRequest, state: &AppState) -> Client {
    Client {
        address: client_address(request, state).map(|a| a.to_string()),
        request_id: request
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
    }
}

/// A 429 answer when the client is over its rate.
fn throttle(request: &HttpRequest, state: &AppState) -> Option<HttpResponse> {
    let key = client_address(request, state).map_or_else(|| "unknown".to_owned(), client_key);
    let now = state.services.clock.now_millis();
    let wait = state.login_limiter.check(&key, now).err()?;
    log::info!("login rate limit reached by {key}");
    let outcome = operation_outcome(&[OutcomeIssue::error(
        "throttled",
        format!("too many login requests from this client: retry in {wait} seconds"),
    )]);
    Some(
        HttpResponse::build(status_of(ErrorCategory::TooManyRequests))
            .insert_header((header::RETRY_AFTER, wait.to_string()))
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON)))
            .body(outcome.to_string()),
    )
}

/// The string fields of a JSON object or form-encoded body.
async fn read_fields(
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<HashMap<String, String>, RestError> {
    let media = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_form = media == "application/x-www-form-urlencoded";
    if !is_form && media != "application/json" {
        return Err(RestError::new(
            ErrorCategory::UnsupportedMediaType,
            "send the login fields as `application/json` or `application/x-www-form-urlencoded`",
        ));
    }
    let body = read_body(payload, MAX_LOGIN_BODY).await?;
    if is_form {
        return Ok(form_urlencoded::parse(&body).into_owned().collect());
    }
    let invalid = || RestError::new(ErrorCategory::Invalid, "the body is not a JSON object");
    let Value::Object(object) = serde_json::from_slice(&body).map_err(|_| invalid())? else {
        return Err(invalid());
    };
    let mut fields = HashMap::new();
    for (name, value) in object {
        match value {
            Value::String(text) => {
                fields.insert(name, text);
            }
            Value::Null => {}
            _ => {
                return Err(RestError::new(
                    ErrorCategory::Invalid,
                    format!("the field `{name}` must be a string"),
                ));
            }
        }
    }
    Ok(fields)
}

fn required(fields: &mut HashMap<String, String>, name: &str) -> Result<String, RestError> {
    fields.remove(name).ok_or_else(|| {
        RestError::new(
            ErrorCategory::Invalid,
            format!("the field `{name}` is missing"),
        )
    })
}

/// A JSON answer that no cache may keep (RFC 6749 §5.1).
fn no_store(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .content_type("application/json")
        .body(body.to_string())
}

fn login_error(error: LoginError) -> RestError {
    match error {
        LoginError::Interaction(inner) => RestError::from(inner),
        other if other.category() == ErrorCategory::Fault => {
            log::error!("internal error during login: {other}");
            RestError::new(
                ErrorCategory::Fault,
                "internal error, the cause is in the server log",
            )
        }
        other => RestError::new(other.category(), other.to_string()),
    }
}
