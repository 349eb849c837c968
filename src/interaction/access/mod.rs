//! Who may do what, for every interaction: the SMART scopes of the token (`scopes`) today,
//! the consent engine's decision next to them. Each interaction asks here before it touches
//! data (a type-level grant, or 403), narrows its SQL with the grant's restrictions
//! (`AccessFilter`), and checks every resource again before it leaves the server. Must not
//! depend on `rest`.

mod scopes;

pub(crate) use scopes::{TypeGrant, require};

use crate::auth::{Permission, Principal};
use crate::interaction::context::Services;
use crate::interaction::error::InteractionError;
use crate::interaction::stored::StoredResource;

/// The answer for a resource the subject may not see: exactly the answer for a missing one.
pub(crate) fn hidden(res_type: &str, id: &str) -> InteractionError {
    InteractionError::NotFound(format!("resource `{res_type}/{id}` is not known"))
}

/// `resource` (any version) when `principal` may read it; 403 when no scope covers reading
/// its type, the missing-resource answer when it lies outside the grant.
pub(crate) fn readable(
    services: &Services,
    principal: &Principal,
    resource: StoredResource,
) -> Result<StoredResource, InteractionError> {
    let grant = require(services, principal, &resource.res_type, Permission::Read)?;
    if grant.permits_json(services, &resource.id, &resource.json) {
        Ok(resource)
    } else {
        Err(hidden(&resource.res_type, &resource.id))
    }
}

/// The answer for a deleted resource: 410 when the subject may read the type without
/// restriction, the missing-resource answer when a restriction cannot be checked on a
/// deletion (it has no content).
pub(crate) fn deleted(
    services: &Services,
    principal: &Principal,
    res_type: &str,
    id: &str,
    gone: InteractionError,
) -> InteractionError {
    match require(services, principal, res_type, Permission::Read) {
        Ok(grant) if grant.is_unrestricted() => gone,
        Ok(_) => hidden(res_type, id),
        Err(forbidden) => forbidden,
    }
}
