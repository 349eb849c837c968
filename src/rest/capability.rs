//! The CapabilityStatement, built from what Carnet really implements: every stored R4 type
//! with the interactions of `routes`, the formats of `format`, FHIR 4.0.1.

use serde_json::{Value, json};

use crate::fhir::instant::format_instant;
use crate::fhir::schema::Schema;
use crate::search::registry::{SearchParamType, SearchRegistry};

/// Interactions every resource type supports (see `routes`).
const TYPE_INTERACTIONS: [&str; 9] = [
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
];

/// What a search parameter supports beyond its type's basics (R4 has no element for the
/// modifiers of a parameter: they are stated in its documentation).
fn search_documentation(code: &str, ty: SearchParamType) -> Option<&'static str> {
    match (code, ty) {
        ("_text", _) => Some(
            "Words of the narrative (text.div without markup), case- and accent-insensitive; every word of a value must appear; OR with commas.",
        ),
        ("_content", _) => Some(
            "Words of all the text of the resource, case- and accent-insensitive; every word of a value must appear; OR with commas.",
        ),
        ("near", _) => Some(
            "latitude|longitude|distance|unit (WGS84; unit km, m, [mi_i] or [nmi_i], km by default; 10 km without distance); equirectangular distance from the searched point.",
        ),
        (_, SearchParamType::Token) => Some(
            "Modifiers: :missing, :not, :text, :of-type (identifiers), :in and :not-in (a ValueSet stored in Carnet, by url or ValueSet/id), :above and :below (by the hierarchy of a CodeSystem stored in Carnet).",
        ),
        _ => None,
    }
}

/// The CapabilityStatement, dated `now_millis` (the server's start).
pub fn capability_statement(
    schema: &Schema,
    registry: &SearchRegistry,
    base_url: Option<&str>,
    now_millis: i64,
) -> Value {
    let resources: Vec<Value> = schema
        .resource_types()
        .map(|resource_type| {
            let search_params: Vec<Value> = registry
                .params_of(resource_type)
                .filter(|p| p.is_supported())
                .map(|p| {
                    let mut param = json!({"name": p.code(), "definition": p.url(), "type": p.param_type().code()});
                    if let Some(documentation) = search_documentation(p.code(), p.param_type()) {
                        param["documentation"] = Value::from(documentation);
                    }
                    param
                })
                .collect();
            // AuditEvents are immutable through the API (no update, patch or delete).
            let immutable = resource_type == "AuditEvent";
            let interactions: Vec<Value> = TYPE_INTERACTIONS
                .iter()
                .filter(|code| !immutable || !matches!(**code, "update" | "patch" | "delete"))
                .map(|code| json!({"code": code}))
                .collect();
            let mut operations = vec![
                json!({"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}),
                json!({"name": "explain", "definition": "urn:carnet:OperationDefinition:explain",
                       "documentation": "GET [type]/[id]/$explain[?subject=&purpose=]: the access decision on the resource and its reasons (see README)"}),
            ];
            if resource_type == "Patient" {
                operations.push(json!({"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}));
                operations.push(json!({"name": "access", "definition": "urn:carnet:OperationDefinition:access",
                       "documentation": "GET Patient/[id]/$access: the caller's status on the record (no-record, authorized, not-authorized, blocked, closed)"}));
            }
            json!({
                "searchParam": search_params,
                "searchInclude": ["*"],
                "searchRevInclude": ["*"],
                "type": resource_type,
                "interaction": interactions,
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": !immutable,
                "conditionalCreate": true,
                "conditionalRead": "full-support",
                "conditionalUpdate": !immutable,
                "conditionalDelete": if immutable { "not-supported" } else { "single" },
                "operation": operations
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
            "documentation": "Every request except metadata and .well-known/smart-configuration needs `Authorization: Bearer <token>` (a JWT of Carnet, of a trusted issuer, or of the patient login) or, on the professionals' listener, a card certificate. SMART scopes (v1, v2, granular) are enforced on every interaction.",
            "security": {
                "cors": false,
                "service": [{
                    "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR"
                    }]
                }, {
                    "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "Certificates"
                    }]
                }],
                "description": "SMART App Launch 2.2 scopes; see [base]/.well-known/smart-configuration. Health professionals may authenticate with an IGC-Sante card certificate over mutual TLS."
            },
            "resource": resources,
            "interaction": [
                {"code": "transaction"},
                {"code": "batch"},
                {"code": "history-system"},
                {"code": "search-system"}
            ]
        }]
    })
}
