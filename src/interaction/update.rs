//! update: `PUT [base]/[type]/[id]` (FHIR R4 http.html#update), update as create with a
//! client id, `If-Match` (412 on mismatch), and conditional update `PUT [base]/[type]?…`
//! (http.html#cond-update: no match creates, one match updates it, more is 412).

use serde_json::{Map, Value};

use super::audit_trail;
use super::conditional::{Match, single_match};
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::stored::StoredResource;
use super::target;
use super::write::{Extracted, NewResource, NextVersion, check_if_match, check_incoming, save};
use crate::fhir::ids::{ResourceId, ResourceType};
use crate::fhir::outcome::OutcomeIssue;
use crate::storage::Conn;
use crate::storage::versions::{self, WriteMethod};

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateOutcome {
    pub resource: StoredResource,
    /// True when the resource did not exist (or was deleted) before: 201 rather than 200.
    pub created: bool,
}

pub fn update(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    id: &str,
    body: Value,
    if_match: Option<i64>,
) -> Result<UpdateOutcome, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let id = target::resource_id(id)?;
    let content = check_incoming(services, body, &res_type)?;
    check_body_id(&content, &res_type, Some(&id))?;
    // Extracted outside the writer's lock.
    let resource = NewResource {
        extracted: Some(Extracted::of(
            &services.registry,
            res_type.as_str(),
            id.as_str(),
            content.clone(),
        )),
        content,
    };
    audit_trail::write_audited(services, context, |conn| {
        update_in(conn, services, context, &res_type, &id, resource, if_match)
    })
}

/// Conditional update: the criteria pick the resource to update.
pub fn update_conditional(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    criteria: &str,
    body: Value,
    if_match: Option<i64>,
) -> Result<UpdateOutcome, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let content = check_incoming(services, body, &res_type)?;
    audit_trail::write_audited(services, context, |conn| {
        update_conditional_in(
            conn, services, context, &res_type, criteria, content, if_match,
        )
    })
}

/// Conditional update inside the caller's transaction: no match creates (with the body's
/// id, or a new one), one match updates it, more is 412.
fn update_conditional_in(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &ResourceType,
    criteria: &str,
    content: Map<String, Value>,
    if_match: Option<i64>,
) -> Result<UpdateOutcome, InteractionError> {
    let id = conditional_update_target(conn, services, context, res_type, criteria, &content)?;
    update_in(
        conn,
        services,
        context,
        res_type,
        &id,
        content.into(),
        if_match,
    )
}

/// The id a conditional update of `content` writes: the one resource the criteria match
/// (412 for several; 400 when the body names another id), else the body's id, else a new
/// one.
pub(crate) fn conditional_update_target(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &ResourceType,
    criteria: &str,
    content: &Map<String, Value>,
) -> Result<ResourceId, InteractionError> {
    let body_id = content.get("id").and_then(Value::as_str);
    match (
        single_match(conn, services, context, res_type, criteria)?,
        body_id,
    ) {
        (Match::None, Some(id)) => target::resource_id(id),
        (Match::None, None) => Ok(ResourceId::generate()),
        (Match::One(found), Some(id)) if found.as_str() != id => Err(InteractionError::invalid(
            format!("the resource id `{id}` differs from the id `{found}` the criteria match"),
        )),
        (Match::One(found), _) => Ok(found),
    }
}

/// The body of an update must carry the id of the URL (400 otherwise, as the spec says).
pub(crate) fn check_body_id(
    content: &Map<String, Value>,
    res_type: &ResourceType,
    url_id: Option<&ResourceId>,
) -> Result<(), InteractionError> {
    let body_id = content.get("id").and_then(Value::as_str);
    match (body_id, url_id) {
        (None, _) => Err(InteractionError::Invalid(vec![
            OutcomeIssue::error("required", "an update needs the resource `id` in the body")
                .at(format!("{res_type}.id")),
        ])),
        (Some(body), Some(url)) if body != url.as_str() => Err(InteractionError::Invalid(vec![
            OutcomeIssue::error(
                "invalid",
                format!("the resource id `{body}` does not match the id `{url}` of the url"),
            )
            .at(format!("{res_type}.id")),
        ])),
        _ => Ok(()),
    }
}

/// The update itself, inside the caller's transaction.
pub(crate) fn update_in(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &ResourceType,
    id: &ResourceId,
    resource: NewResource,
    if_match: Option<i64>,
) -> Result<UpdateOutcome, InteractionError> {
    let current = versions::current(conn, res_type.as_str(), id.as_str())?;
    check_if_match(if_match, current.as_ref())?;
    let created = current.as_ref().is_none_or(|row| row.is_deleted);
    let method = if current.is_some() {
        WriteMethod::Update
    } else {
        WriteMethod::Create
    };
    let resource = save(
        conn,
        services,
        context,
        NextVersion {
            res_type: res_type.as_str(),
            id: id.as_str(),
            previous: current.as_ref(),
            method,
        },
        resource,
    )?;
    Ok(UpdateOutcome { resource, created })
}
