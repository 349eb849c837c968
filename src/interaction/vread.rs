//! vread: `GET [base]/[type]/[id]/_history/[vid]` (FHIR R4 http.html#vread). A version that
//! records a deletion is 410 Gone; a version the subject may not see is answered like a
//! missing one (scopes and consent, `access::readable_in`), and the decision is audited.

use super::access;
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::stored::StoredResource;
use super::target;
use crate::auth::Permission;
use crate::storage::{StorageError, versions};

pub fn vread(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    id: &str,
    version: &str,
) -> Result<StoredResource, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let id = target::resource_id(id)?;
    let version = target::version_id(version)?;
    access::require(
        services,
        &context.principal,
        res_type.as_str(),
        Permission::Read,
    )?;
    services.store.read(|conn| {
        let missing = || {
            InteractionError::NotFound(format!(
                "version `{version}` of `{res_type}/{id}` is not known"
            ))
        };
        let row = versions::version(conn, res_type.as_str(), id.as_str(), version.0)?;
        let current = versions::current(conn, res_type.as_str(), id.as_str())?
            .is_some_and(|c| c.version_id == version.0);
        match row {
            None => Err(missing()),
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
                let resource = StoredResource::from_version(row).ok_or_else(|| {
                    StorageError::Corrupt(format!(
                        "version `{version}` of `{res_type}/{id}` has no content"
                    ))
                })?;
                access::readable_in(conn, services, context, resource, current).map_err(|error| {
                    match error {
                        InteractionError::NotFound(_) => missing(),
                        other => other,
                    }
                })
            }
        }
    })
}
