//! delete: `DELETE [base]/[type]/[id]` (FHIR R4 http.html#delete) and conditional delete
//! `DELETE [base]/[type]?…` (http.html#cdelete: one match at most, more is 412). Deleting
//! a missing or already deleted resource succeeds without writing anything; a later read
//! is 410 and the deletion is a version in the history.

use super::access;
use super::audit_trail;
use super::conditional::{Match, single_match};
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::immutable;
use super::target;
use super::write::{check_if_match, save_deletion};
use crate::auth::Permission;
use crate::fhir::ids::{ResourceId, ResourceType};
use crate::storage::Conn;
use crate::storage::versions::{self, WriteMethod};

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteOutcome {
    /// The version recording the deletion; `None` when there was nothing live to delete.
    pub deleted_version: Option<i64>,
}

pub fn delete(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    id: &str,
    if_match: Option<i64>,
) -> Result<DeleteOutcome, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let id = target::resource_id(id)?;
    audit_trail::write_audited(services, context, |conn| {
        delete_in(conn, services, context, &res_type, &id, if_match)
    })
}

pub fn delete_conditional(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    criteria: &str,
) -> Result<DeleteOutcome, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    audit_trail::write_audited(services, context, |conn| {
        delete_conditional_in(conn, services, context, &res_type, criteria)
    })
}

/// Conditional delete inside the caller's transaction: nothing to do without a match, the
/// match deleted, 412 for more than one.
pub(crate) fn delete_conditional_in(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &ResourceType,
    criteria: &str,
) -> Result<DeleteOutcome, InteractionError> {
    match single_match(conn, services, context, res_type, criteria)? {
        Match::None => Ok(DeleteOutcome {
            deleted_version: None,
        }),
        Match::One(id) => delete_in(conn, services, context, res_type, &id, None),
    }
}

/// The delete itself, inside the caller's transaction.
pub(crate) fn delete_in(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &ResourceType,
    id: &ResourceId,
    if_match: Option<i64>,
) -> Result<DeleteOutcome, InteractionError> {
    immutable::check(
        &context.principal,
        res_type.as_str(),
        WriteMethod::Delete,
        true,
    )?;
    access::require(
        services,
        &context.principal,
        res_type.as_str(),
        Permission::Delete,
    )?;
    let current = versions::current(conn, res_type.as_str(), id.as_str())?;
    check_if_match(if_match, current.as_ref())?;
    match current {
        Some(row) if !row.is_deleted => Ok(DeleteOutcome {
            deleted_version: Some(save_deletion(conn, services, context, &row)?),
        }),
        _ => Ok(DeleteOutcome {
            deleted_version: None,
        }),
    }
}
