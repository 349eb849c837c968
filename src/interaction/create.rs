//! create: `POST [base]/[type]` (FHIR R4 http.html#create), with conditional create
//! (`If-None-Exist`, http.html#ccreate): no match creates, one match returns it, more is
//! 412. The server assigns the id; an id in the body is ignored, as the spec says.

use serde_json::Value;

use super::access;
use super::audit_trail;
use super::conditional::{Match, single_match};
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::stored::StoredResource;
use super::target;
use super::write::{Extracted, NewResource, NextVersion, check_incoming, save};
use crate::auth::Permission;
use crate::fhir::ids::{ResourceId, ResourceType};
use crate::storage::versions::{self, WriteMethod};
use crate::storage::{Conn, StorageError};

/// The `If-None-Exist` of a create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfNoneExist<'a> {
    /// A plain create.
    Absent,
    /// Criteria the create matches first.
    Criteria(&'a str),
    /// Criteria already matched in the same database transaction (a transaction entry
    /// whose `fullUrl` had to be resolved first): their one match, if any.
    Matched(Option<&'a ResourceId>),
}

impl<'a> IfNoneExist<'a> {
    pub(crate) fn from_criteria(criteria: Option<&'a str>) -> IfNoneExist<'a> {
        criteria.map_or(IfNoneExist::Absent, IfNoneExist::Criteria)
    }
}

/// What a create did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created(StoredResource),
    /// `If-None-Exist` matched this existing resource; nothing was written.
    Existing(StoredResource),
}

impl CreateOutcome {
    pub fn resource(&self) -> &StoredResource {
        match self {
            CreateOutcome::Created(r) | CreateOutcome::Existing(r) => r,
        }
    }
}

pub fn create(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    body: Value,
    if_none_exist: Option<&str>,
) -> Result<CreateOutcome, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let content = check_incoming(services, body, &res_type)?;
    let new_id = ResourceId::generate();
    // Extracted outside the writer's lock, when the id is known.
    let resource = NewResource {
        extracted: if_none_exist.is_none().then(|| {
            Extracted::of(
                &services.registry,
                res_type.as_str(),
                new_id.as_str(),
                content.clone(),
            )
        }),
        content,
    };
    audit_trail::write_audited(services, context, |conn| {
        create_in(
            conn,
            services,
            context,
            &res_type,
            resource,
            IfNoneExist::from_criteria(if_none_exist),
            new_id,
        )
    })
}

/// The create itself, inside the caller's transaction; `new_id` is used if it creates.
pub(crate) fn create_in(
    conn: &mut Conn<'_>,
    services: &Services,
    context: &RequestContext,
    res_type: &ResourceType,
    resource: NewResource,
    if_none_exist: IfNoneExist<'_>,
    new_id: ResourceId,
) -> Result<CreateOutcome, InteractionError> {
    access::require(
        services,
        &context.principal,
        res_type.as_str(),
        Permission::Create,
    )?;
    let existing = match if_none_exist {
        IfNoneExist::Absent | IfNoneExist::Matched(None) => None,
        IfNoneExist::Matched(Some(id)) => Some(id.clone()),
        IfNoneExist::Criteria(criteria) => {
            match single_match(conn, services, context, res_type, criteria)? {
                Match::One(id) => Some(id),
                Match::None => None,
            }
        }
    };
    if let Some(id) = existing {
        let row = versions::current(conn, res_type.as_str(), id.as_str())?
            .and_then(StoredResource::from_current)
            .ok_or(StorageError::VersionConflict)?;
        return Ok(CreateOutcome::Existing(row));
    }
    let stored = save(
        conn,
        services,
        context,
        NextVersion {
            res_type: res_type.as_str(),
            id: new_id.as_str(),
            previous: None,
            method: WriteMethod::Create,
        },
        resource,
    )?;
    Ok(CreateOutcome::Created(stored))
}
