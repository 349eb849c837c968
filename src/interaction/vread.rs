//! vread: `GET [base]/[type]/[id]/_history/[vid]` (FHIR R4 http.html#vread). A version that
//! records a deletion is 410 Gone.

use super::access;
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::stored::StoredResource;
use super::target;
use crate::auth::Permission;
use crate::storage::versions;

pub fn vread(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    id: &str,
    version: &str,
) -> Result<StoredResource, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let id = target::resource_id(id)?;
    access::require(
        services,
        &context.principal,
        res_type.as_str(),
        Permission::Read,
    )?;
    let version = target::version_id(version)?;
    let row = services
        .store
        .read(|conn| versions::version(conn, res_type.as_str(), id.as_str(), version.0))?;
    match row {
        None => Err(InteractionError::NotFound(format!(
            "version `{version}` of `{res_type}/{id}` is not known"
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
        Some(row) => StoredResource::from_version(row)
            .ok_or_else(|| {
                InteractionError::Storage(crate::storage::StorageError::Corrupt(format!(
                    "version `{version}` of `{res_type}/{id}` has no content"
                )))
            })
            .and_then(|resource| access::readable(services, &context.principal, resource)),
    }
}
