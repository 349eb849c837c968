//! The consent operations over HTTP, answered as `Parameters`:
//! `GET [base]/Patient/{id}/$access` (the caller's status on the record) and
//! `GET [base]/[type]/[id]/$explain[?subject=Practitioner/1&purpose=BTG]` (the decision on
//! reading the resource and its reasons).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::blocking;
use crate::consent::{Effect, Reason};
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
    let status = blocking(move || access_status(&services, &ctx, &patient)).await?;
    let mut parameter = vec![json!({"name": "status", "valueCode": status.status})];
    parameter.extend(status.reasons.iter().map(reason_parameter));
    Ok(parameters(format, parameter))
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
        explain(
            &services,
            &ctx,
            &type_name,
            &id,
            subject.as_deref(),
            &purposes,
        )
    })
    .await?;
    let decision = match explanation.decision.effect {
        Effect::Permit => "permit",
        Effect::Deny => "deny",
    };
    let mut parameter = vec![
        json!({"name": "subject", "valueString": explanation.subject}),
        json!({"name": "decision", "valueCode": decision}),
    ];
    parameter.extend(explanation.decision.reasons.iter().map(reason_parameter));
    Ok(parameters(format, parameter))
}

/// A `reason` parameter: the rule id, the Consent provision when one decided, the sentence.
fn reason_parameter(reason: &Reason) -> Value {
    let mut part = vec![
        json!({"name": "rule", "valueCode": reason.rule.as_str()}),
        json!({"name": "text", "valueString": reason.text}),
    ];
    if let Some(consent) = &reason.consent {
        part.push(json!({"name": "consent", "valueString": consent}));
    }
    json!({"name": "reason", "part": part})
}

fn parameters(format: crate::rest::format::OutputFormat, parameter: Vec<Value>) -> HttpResponse {
    let body = json!({"resourceType": "Parameters", "parameter": parameter});
    HttpResponse::Ok()
        .content_type(format.content_type)
        .body(format.render(&body))
}
