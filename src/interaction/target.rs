//! Reading the target of an interaction from the URL: the resource type (an R4 type Carnet
//! stores) and the logical id. Bad ones are client errors that name what was wrong.

use super::context::Services;
use super::error::InteractionError;
use crate::fhir::ids::{ResourceId, ResourceType, VersionId};

pub fn resource_type(services: &Services, name: &str) -> Result<ResourceType, InteractionError> {
    ResourceType::parse(&services.schema, name).ok_or_else(|| {
        InteractionError::invalid(format!(
            "`{name}` is not a FHIR R4 resource type supported by this server"
        ))
    })
}

pub fn resource_id(text: &str) -> Result<ResourceId, InteractionError> {
    ResourceId::parse(text).ok_or_else(|| {
        InteractionError::invalid(format!(
            "`{text}` is not a valid resource id (1 to 64 of A-Z, a-z, 0-9, `-` and `.`)"
        ))
    })
}

pub fn version_id(text: &str) -> Result<VersionId, InteractionError> {
    VersionId::parse(text)
        .ok_or_else(|| InteractionError::invalid(format!("`{text}` is not a valid version id")))
}
