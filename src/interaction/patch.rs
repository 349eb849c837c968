//! patch: `PATCH [base]/[type]/[id]` with a JSON Patch document
//! (`application/json-patch+json`, FHIR R4 http.html#patch), and conditional patch
//! `PATCH [base]/[type]?…` (no match is 404, more than one is 412). The patched resource
//! is validated like any write; it must keep its type and id.

use serde_json::Value;

use super::access;
use super::audit_trail;
use super::conditional::{Match, single_match};
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::stored::StoredResource;
use super::target;
use super::write::{NextVersion, check_if_match, check_incoming, save};
use crate::fhir::ids::{ResourceId, ResourceType};
use crate::storage::Conn;
use crate::storage::versions::{self, WriteMethod};

pub fn patch(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    id: &str,
    patch_document: Value,
    if_match: Option<i64>,
) -> Result<StoredResource, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let id = target::resource_id(id)?;
    let operations = parse_patch(patch_document)?;
    audit_trail::write_audited(services, context, |conn| {
        patch_in(
            conn,
            services,
            context,
            &res_type,
            &id,
            &operations,
            if_match,
        )
    })
}

pub fn patch_conditional(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    criteria: &str,
    patch_document: Value,
    if_match: Option<i64>,
) -> Result<StoredResource, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let operations = parse_patch(patch_document)?;
    audit_trail::write_audited(services, context, |conn| {
        patch_conditional_in(
            conn,
            services,
            context,
            &res_type,
            criteria,
            &operations,
            if_match,
        )
    })
}

/// Conditional patch inside the caller's transaction: no match is 404, more than one 412.
pub(crate) fn patch_conditional_in(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &ResourceType,
    criteria: &str,
    operations: &json_patch::Patch,
    if_match: Option<i64>,
) -> Result<StoredResource, InteractionError> {
    match single_match(conn, services, context, res_type, criteria)? {
        Match::None => Err(InteractionError::NotFound(format!(
            "no `{res_type}` matches the criteria `{criteria}`"
        ))),
        Match::One(id) => patch_in(conn, services, context, res_type, &id, operations, if_match),
    }
}

/// The first path a PATCH of a DocumentReference may not touch: DMP-RULES.md §6 (PDSm)
/// limits it to the status, the security labels and the archive flag (`status`).
fn outside_pdsm(res_type: &ResourceType, operations: &json_patch::Patch) -> Option<String> {
    if res_type.as_str() != "DocumentReference" {
        return None;
    }
    const ALLOWED: [&str; 3] = ["/status", "/securityLabel", "/meta/security"];
    let allowed = |path: &str| {
        ALLOWED
            .iter()
            .any(|a| path == *a || path.starts_with(&format!("{a}/")))
    };
    operations.0.iter().find_map(|operation| {
        use json_patch::PatchOperation as Op;
        let paths: Vec<String> = match operation {
            Op::Test(_) => Vec::new(),
            Op::Add(o) => vec![o.path.to_string()],
            Op::Remove(o) => vec![o.path.to_string()],
            Op::Replace(o) => vec![o.path.to_string()],
            Op::Move(o) => vec![o.from.to_string(), o.path.to_string()],
            Op::Copy(o) => vec![o.path.to_string()],
        };
        paths.into_iter().find(|p| !allowed(p))
    })
}

/// Reads a JSON Patch document (400 when it is not one).
pub(crate) fn parse_patch(document: Value) -> Result<json_patch::Patch, InteractionError> {
    if !document.is_array() {
        return Err(InteractionError::invalid(
            "a JSON Patch document must be an array of operations",
        ));
    }
    serde_json::from_value(document)
        .map_err(|e| InteractionError::invalid(format!("invalid JSON Patch document: {e}")))
}

/// The patch itself, inside the caller's transaction.
pub(crate) fn patch_in(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &ResourceType,
    id: &ResourceId,
    operations: &json_patch::Patch,
    if_match: Option<i64>,
) -> Result<StoredResource, InteractionError> {
    let current = versions::current(conn, res_type.as_str(), id.as_str())?;
    check_if_match(if_match, current.as_ref())?;
    let row = match current {
        None => {
            return Err(InteractionError::NotFound(format!(
                "resource `{res_type}/{id}` is not known"
            )));
        }
        Some(row) if row.is_deleted => {
            return Err(InteractionError::Gone {
                reference: format!("{res_type}/{id}"),
                version: row.version_id,
                last_updated: row.last_updated,
            });
        }
        Some(row) => row,
    };
    if let Some(path) = outside_pdsm(res_type, operations) {
        // Who may not see the document learns nothing of it: 404 first.
        access::writing::check_readable(conn, services, context, &row)?;
        return Err(InteractionError::MethodNotAllowed(format!(
            "a PATCH of a DocumentReference may only change `status`, `securityLabel` and `meta.security` (PDSm), not `{path}`"
        )));
    }
    let text = row.content.as_deref().unwrap_or("{}");
    let mut document: Value = serde_json::from_str(text).map_err(|e| {
        InteractionError::Storage(crate::storage::StorageError::Corrupt(e.to_string()))
    })?;
    json_patch::patch(&mut document, operations).map_err(|e| {
        InteractionError::Unprocessable(format!("the patch cannot be applied: {e}"))
    })?;
    if document.get("id").and_then(Value::as_str) != Some(id.as_str()) {
        return Err(InteractionError::Unprocessable(
            "a patch may not change or remove the resource id".to_owned(),
        ));
    }
    let content = check_incoming(services, document, res_type)?;
    save(
        conn,
        services,
        context,
        NextVersion {
            res_type: res_type.as_str(),
            id: id.as_str(),
            previous: Some(&row),
            method: WriteMethod::Patch,
        },
        content.into(),
    )
}
