//! Who may do what, for every interaction: the SMART scopes of the token (`scopes`) today,
//! the consent engine's decision next to them. Each interaction asks here before it touches
//! data (a type-level grant, or 403), narrows its SQL with the grant's restrictions
//! (`AccessFilter`), and checks every resource again before it leaves the server. Must not
//! depend on `rest`.

mod facts;
mod filter_sql;
mod gate;
pub(crate) mod history;
pub(crate) mod identity;
mod record_cache;
mod records;
mod redact;
mod scopes;
pub(crate) mod searching;
pub(crate) mod writing;

pub(crate) use facts::{attachment_rows, fact_rows, facts_of};
pub(crate) use gate::Gate;
pub use record_cache::RecordCache;
pub(crate) use records::related_persons_of;

pub(crate) use scopes::{TypeGrant, require};

use serde_json::Value;

use crate::audit::AccessAction;
use crate::auth::Permission;
use crate::consent::{Action, RecordAccess};
use crate::fhir::ids::versioned_reference;
use crate::interaction::context::{RequestContext, Services};
use crate::interaction::error::InteractionError;
use crate::interaction::stored::StoredResource;
use crate::storage::{Conn, StorageError, versions};

/// The answer for a resource the subject may not see: exactly the answer for a missing one.
pub(crate) fn hidden(res_type: &str, id: &str) -> InteractionError {
    InteractionError::NotFound(format!("resource `{res_type}/{id}` is not known"))
}

/// `resource` (any version of a stored resource; `current` for the current one) when the
/// subject may read it: scopes first (403 when no scope covers reading its type; outside
/// the grant, the answer for a missing resource), then consent (denied: the answer for a
/// missing resource, except a professional's read of a Patient whose record they have no
/// access to, which is 403 saying so, as the DMP discloses). The decision is audited.
pub(crate) fn readable_in(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    resource: StoredResource,
    current: bool,
) -> Result<StoredResource, InteractionError> {
    let grant = require(
        services,
        &context.principal,
        &resource.res_type,
        Permission::Read,
    )?;
    if !grant.permits_json(services, &resource.id, &resource.json) {
        return Err(hidden(&resource.res_type, &resource.id));
    }
    let value: Value = serde_json::from_str(&resource.json).map_err(|e| {
        StorageError::Corrupt(format!("{}/{}: {e}", resource.res_type, resource.id))
    })?;
    let mut gate = Gate::open(conn, services, context)?;
    let mut verdict = gate.decide(
        conn,
        &Action::Read,
        &resource.res_type,
        &resource.id,
        &value,
        current,
    )?;
    if !current && verdict.decision.is_permit() {
        // An older version of a resource the subject may not see now (masked or hidden
        // since) is hidden too (DMP-RULES.md §9).
        if let Some(deny) = denied_now(conn, &mut gate, &resource.res_type, &resource.id)? {
            verdict.decision = deny;
        }
    }
    let reference = versioned_reference(&resource.res_type, &resource.id, resource.version_id);
    gate.audit(
        AccessAction::Read,
        &verdict.decision,
        &verdict.patients,
        vec![reference],
        None,
    );
    if verdict.decision.is_permit() {
        let json = redact::for_reader(&gate, &resource.res_type, &resource.json);
        return Ok(match json {
            Some(json) => StoredResource { json, ..resource },
            None => resource,
        });
    }
    if resource.res_type == "Patient"
        && let Some(forbidden) = record_forbidden(conn, &mut gate, &resource.id)?
    {
        return Err(forbidden);
    }
    Err(hidden(&resource.res_type, &resource.id))
}

/// The deny of reading the current version of `res_type/id`, if the subject may not read
/// it (`None` too when it is deleted or unknown: the version at hand then decides alone).
fn denied_now(
    conn: &mut Conn<'_>,
    gate: &mut Gate<'_>,
    res_type: &str,
    id: &str,
) -> Result<Option<crate::consent::Decision>, InteractionError> {
    let Some(current) = versions::current(conn, res_type, id)? else {
        return Ok(None);
    };
    let live: Option<Value> = current
        .content
        .as_deref()
        .filter(|_| !current.is_deleted)
        .and_then(|json| serde_json::from_str(json).ok());
    let Some(value) = live else {
        return Ok(None);
    };
    let verdict = gate.decide(conn, &Action::Read, res_type, id, &value, true)?;
    Ok((!verdict.decision.is_permit()).then_some(verdict.decision))
}

/// The 403 of a professional without access to `patient`'s record (the DMP discloses the
/// authorization status), or `None` when the refusal is not about the record.
pub(crate) fn record_forbidden(
    conn: &mut Conn<'_>,
    gate: &mut Gate<'_>,
    patient: &str,
) -> Result<Option<InteractionError>, InteractionError> {
    if !gate.is_professional() {
        return Ok(None);
    }
    let status = match gate.record_access(conn, patient)? {
        RecordAccess::Authorized(_) | RecordAccess::NoRecord => return Ok(None),
        RecordAccess::NotAuthorized(_) => "you are not authorized on this patient's record",
        RecordAccess::Blocked(_) => "the patient has blocked your access to their record",
        RecordAccess::Closed => "this patient's record is closed",
    };
    Ok(Some(InteractionError::Forbidden(status.to_owned())))
}

/// The answer for a deleted resource: 410 when the subject could read its last live
/// version (or is a system client), else the answer for a missing resource.
pub(crate) fn deleted_in(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &str,
    id: &str,
    deletion_version: i64,
    gone: InteractionError,
) -> Result<InteractionError, InteractionError> {
    let grant = require(services, &context.principal, res_type, Permission::Read)?;
    let last_live = (1..deletion_version)
        .rev()
        .find_map(|v| versions::version(conn, res_type, id, v).ok().flatten())
        .and_then(StoredResource::from_version);
    let Some(last_live) = last_live else {
        return Ok(hidden(res_type, id));
    };
    if !grant.permits_json(services, id, &last_live.json) {
        return Ok(hidden(res_type, id));
    }
    let value: Value = serde_json::from_str(&last_live.json).unwrap_or(Value::Null);
    let mut gate = Gate::open(conn, services, context)?;
    let verdict = gate.decide(conn, &Action::Read, res_type, id, &value, false)?;
    Ok(if verdict.decision.is_permit() {
        gone
    } else {
        hidden(res_type, id)
    })
}
