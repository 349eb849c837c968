//! `$validate`: `POST [base]/[type]/$validate` (FHIR R4 resource-operation-validate) checks a
//! resource exactly as a create would, without storing it: the same OperationOutcome, the
//! same status. The body is the resource, or a Parameters with a `resource` parameter.

use serde_json::Value;

use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::target;
use super::write::check_incoming;

/// `Ok` when the resource would be accepted; otherwise the error a create would give.
pub fn validate(
    services: &Services,
    _context: &RequestContext,
    type_name: &str,
    body: Value,
) -> Result<(), InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let resource = unwrap_parameters(body, type_name);
    check_incoming(services, resource, &res_type).map(|_| ())
}

/// The resource of a `Parameters` body (`parameter[name=resource].resource`), unless the
/// resource validated is itself a Parameters.
fn unwrap_parameters(body: Value, type_name: &str) -> Value {
    if type_name == "Parameters"
        || body.get("resourceType").and_then(Value::as_str) != Some("Parameters")
    {
        return body;
    }
    body.get("parameter")
        .and_then(Value::as_array)
        .and_then(|list| {
            list.iter()
                .find(|p| p.get("name").and_then(Value::as_str) == Some("resource"))
        })
        .and_then(|p| p.get("resource"))
        .cloned()
        .unwrap_or(body)
}
