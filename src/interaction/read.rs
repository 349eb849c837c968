//! read: `GET [base]/[type]/[id]` (FHIR R4 http.html#read). A deleted resource is 410
//! Gone, a missing one 404.

use super::access;
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::stored::StoredResource;
use super::target;
use crate::auth::Permission;
use crate::storage::versions;

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
    let row = services
        .store
        .read(|conn| versions::current(conn, res_type.as_str(), id.as_str()))?;
    match row {
        None => Err(InteractionError::NotFound(format!(
            "resource `{res_type}/{id}` is not known"
        ))),
        Some(row) if row.is_deleted => Err(access::deleted(
            services,
            &context.principal,
            res_type.as_str(),
            id.as_str(),
            InteractionError::Gone {
                reference: format!("{res_type}/{id}"),
                version: row.version_id,
                last_updated: row.last_updated,
            },
        )),
        Some(row) => StoredResource::from_current(row)
            .ok_or_else(|| {
                InteractionError::Storage(crate::storage::StorageError::Corrupt(format!(
                    "live resource `{res_type}/{id}` has no content"
                )))
            })
            .and_then(|resource| access::readable(services, &context.principal, resource)),
    }
}
