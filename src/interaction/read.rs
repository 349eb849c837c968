//! read: `GET [base]/[type]/[id]` (FHIR R4 http.html#read). A deleted resource is 410
//! Gone, a missing one 404; one the subject may not see is answered like a missing one
//! (scopes and consent, `access::readable_in`), and the decision is audited.

use super::access;
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::stored::StoredResource;
use super::target;
use crate::auth::Permission;
use crate::storage::{StorageError, versions};

pub fn read(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    id: &str,
) -> Result<StoredResource, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let id = target::resource_id(id)?;
    access::require(
        services,
        &context.principal,
        res_type.as_str(),
        Permission::Read,
    )?;
    services.store.read(|conn| {
        let row = versions::current(conn, res_type.as_str(), id.as_str())?;
        match row {
            None => Err(access::hidden(res_type.as_str(), id.as_str())),
            Some(row) if row.is_deleted => Err(access::deleted_in(
                conn,
                services,
                context,
                res_type.as_str(),
                id.as_str(),
                row.version_id,
                InteractionError::Gone {
                    reference: format!("{res_type}/{id}"),
                    version: row.version_id,
                    last_updated: row.last_updated,
                },
            )?),
            Some(row) => {
                let resource = StoredResource::from_current(row).ok_or_else(|| {
                    StorageError::Corrupt(format!("live resource `{res_type}/{id}` has no content"))
                })?;
                access::readable_in(conn, services, context, resource, true)
            }
        }
    })
}
