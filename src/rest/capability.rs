//! The CapabilityStatement, built from what Carnet really implements: every stored R4 type
//! with the interactions of `routes`, the formats of `format`, FHIR 4.0.1.

use serde_json::{Value, json};

use crate::fhir::instant::format_instant;
use crate::fhir::schema::Schema;

/// Interactions every resource type supports (see `routes`).
const TYPE_INTERACTIONS: [&str; 8] = [
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
];

/// The CapabilityStatement, dated `now_millis` (the server's start).
pub fn capability_statement(schema: &Schema, base_url: Option<&str>, now_millis: i64) -> Value {
    let resources: Vec<Value> = schema
        .resource_types()
        .map(|resource_type| {
            json!({
                "type": resource_type,
                "interaction": TYPE_INTERACTIONS.iter().map(|code| json!({"code": code})).collect::<Vec<_>>(),
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": true,
                "conditionalCreate": true,
                "conditionalRead": "full-support",
                "conditionalUpdate": true,
                "conditionalDelete": "single",
                "operation": [{
                    "name": "validate",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"
                }]
            })
        })
        .collect();
    let mut implementation = json!({"description": "Carnet FHIR R4 server"});
    if let Some(base) = base_url {
        implementation["url"] = Value::from(base);
    }
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": format_instant(now_millis),
        "publisher": "Carnet",
        "kind": "instance",
        "software": {"name": "Carnet", "version": env!("CARGO_PKG_VERSION")},
        "implementation": implementation,
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [{
            "mode": "server",
            "documentation": "Every request except metadata needs `Authorization: Bearer <token>` (a JWT from `carnet token`).",
            "resource": resources,
            "interaction": [
                {"code": "transaction"},
                {"code": "batch"},
                {"code": "history-system"}
            ]
        }]
    })
}
