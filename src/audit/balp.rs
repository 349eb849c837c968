//! The AuditEvent of one access decision (DMP-RULES.md §8), shaped by IHE BALP's RESTful
//! patterns: type `audit-event-type|rest`, subtype the `restful-interaction`, action
//! C/R/U/D/E, outcome 0 (granted) or 4 (denied) with `outcomeDesc` summarising the
//! reasons, `purposeOfEvent` (v3-ActReason; BTG for a break-glass access), the requestor
//! as agent (plus the organization it acts for), Carnet as source, and the entities: each
//! patient, each resource, the query (base64, BALP), the request id, and one entity per
//! reason of the decision.
//!
//! A reason is an entity (type 2 "System Object", role 13 "Security Resource") whose
//! `name` is the rule id (`dmp.record.blocked`: searchable with `entity-name`), whose
//! `description` is the reason's sentence, whose `what` is the deciding Consent when one
//! decided (searchable with `entity=Consent/{id}`), and whose `detail` carries the
//! provision (`type` "consent-provision", `valueString` `Consent/{id}#provision…`). R4's
//! `entity.detail.type` is a plain string, so rule and provision are not codings.
//! Pure: no clock (the time is an input), no storage, no auth types (the requestor is
//! described by `Requestor`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::event::{AccessAction, AccessEvent, AccessOutcome};
use super::{AuditOutcome, DICOM, coding, patient_entity, request_entity, source};
use crate::consent::{Reason, TRE_G15};
use crate::fhir::instant::format_instant;

/// The code system of `AuditEvent.type` for RESTful operations.
pub const AUDIT_EVENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-event-type";
/// The code system of `AuditEvent.subtype` for RESTful operations.
pub const RESTFUL_INTERACTION: &str = "http://hl7.org/fhir/restful-interaction";
/// v3-ActReason, the purposes of use.
pub const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
const ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";
const PARTICIPATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
const ROLE_CLASS: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleClass";
/// `entity.detail.type` of the Consent provision that decided.
pub const PROVISION_DETAIL: &str = "consent-provision";

/// Who made the request, as the audit trail describes them.
#[derive(Debug, Clone, Copy)]
pub struct Requestor<'a> {
    /// `Practitioner/{id}`, `Patient/{id}` or `RelatedPerson/{id}`; `None` for a system
    /// client.
    pub reference: Option<&'a str>,
    /// The system client's name (used when there is no reference).
    pub name: &'a str,
    /// Purposes of use: v3-ActReason codes, or `system|code` for another system's code.
    pub purposes: &'a [&'a str],
    /// TRE_G15 profession code, when known.
    pub profession: Option<&'a str>,
    /// `Organization/{id}` the requestor acts for, when known.
    pub organization: Option<&'a str>,
}

/// The request an access belongs to.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    pub requestor: Requestor<'a>,
    /// `X-Request-Id`.
    pub request_id: &'a str,
    /// When the decision was made, in milliseconds since the epoch.
    pub recorded_millis: i64,
}

/// The BALP AuditEvent of `event`, without id and meta (the write path sets them).
pub fn access_event(event: &AccessEvent, request: &AccessRequest<'_>) -> Map<String, Value> {
    let (subtype, action) = interaction(event);
    let mut resource = Map::new();
    resource.insert("resourceType".into(), json!("AuditEvent"));
    resource.insert(
        "type".into(),
        coding(AUDIT_EVENT_TYPE, "rest", "Restful Operation"),
    );
    resource.insert("subtype".into(), json!([subtype]));
    resource.insert("action".into(), json!(action));
    resource.insert(
        "recorded".into(),
        json!(format_instant(request.recorded_millis)),
    );
    resource.insert("outcome".into(), json!(outcome(event).code()));
    resource.insert("outcomeDesc".into(), json!(outcome_description(event)));
    let purposes = purposes(request.requestor.purposes, event.break_glass);
    if !purposes.is_empty() {
        resource.insert("purposeOfEvent".into(), Value::Array(purposes.clone()));
    }
    resource.insert(
        "agent".into(),
        Value::Array(agents(event, &request.requestor, purposes)),
    );
    resource.insert("source".into(), source());
    let entities = entities(event, request.request_id);
    if !entities.is_empty() {
        resource.insert("entity".into(), Value::Array(entities));
    }
    resource
}

/// The subtype coding and the action code of `event`.
fn interaction(event: &AccessEvent) -> (Value, &'static str) {
    let restful = |code: &str, display: &str| coding(RESTFUL_INTERACTION, code, display);
    match &event.action {
        AccessAction::Read if event.resources.iter().any(|r| r.contains("/_history/")) => {
            (restful("vread", "vread"), "R")
        }
        AccessAction::Read => (restful("read", "read"), "R"),
        // A search, a compartment search or a history: `search` is the parent code of
        // them all (the event does not say which).
        AccessAction::Query => (restful("search", "search"), "E"),
        AccessAction::Create => (restful("create", "create"), "C"),
        AccessAction::Update => (restful("update", "update"), "U"),
        AccessAction::Delete => (restful("delete", "delete"), "D"),
        AccessAction::Operation(name) => (
            restful("operation", &format!("operation {}", operation_name(name))),
            "E",
        ),
    }
}

/// `$name` whether or not `name` starts with `$`.
fn operation_name(name: &str) -> String {
    format!("${}", name.trim_start_matches('$'))
}

fn outcome(event: &AccessEvent) -> AuditOutcome {
    match event.outcome {
        AccessOutcome::Granted => AuditOutcome::Success,
        AccessOutcome::Denied => AuditOutcome::MinorFailure,
    }
}

/// `access granted` or `access denied`, then each reason's sentence and rule id.
fn outcome_description(event: &AccessEvent) -> String {
    let verdict = match event.outcome {
        AccessOutcome::Granted => "access granted",
        AccessOutcome::Denied => "access denied",
    };
    let mut text = verdict.to_owned();
    if event.break_glass {
        text.push_str(" under break-glass");
    }
    let reasons: Vec<String> = event
        .reasons
        .iter()
        .map(|r| format!("{} ({})", r.text, r.rule))
        .collect();
    if !reasons.is_empty() {
        text.push_str(": ");
        text.push_str(&reasons.join("; "));
    }
    text
}

/// The purposes as CodeableConcepts, BTG added for a break-glass access; no repeats.
fn purposes(codes: &[&str], break_glass: bool) -> Vec<Value> {
    let mut pairs: Vec<(&str, &str)> = codes
        .iter()
        .map(|code| match code.rsplit_once('|') {
            Some((system, code)) => (system, code),
            None => (ACT_REASON, *code),
        })
        .collect();
    if break_glass {
        pairs.push((ACT_REASON, "BTG"));
    }
    let mut concepts = Vec::new();
    let mut seen = Vec::new();
    for (system, code) in pairs {
        if code.is_empty() || seen.contains(&(system, code)) {
            continue;
        }
        seen.push((system, code));
        concepts.push(json!({"coding": [{"system": system, "code": code}]}));
    }
    concepts
}

/// The requestor, and the organization it acts for as a second agent.
fn agents(event: &AccessEvent, requestor: &Requestor<'_>, purposes: Vec<Value>) -> Vec<Value> {
    let mut agent = Map::new();
    agent.insert(
        "type".into(),
        json!({"coding": [agent_type(event, requestor)]}),
    );
    if let Some(profession) = requestor.profession {
        agent.insert(
            "role".into(),
            json!([{"coding": [{"system": TRE_G15, "code": profession}]}]),
        );
    }
    let who = match requestor.reference {
        Some(reference) => json!({"reference": reference}),
        None => json!({"display": requestor.name}),
    };
    agent.insert("who".into(), who);
    if requestor.reference.is_none() {
        agent.insert("name".into(), json!(requestor.name));
    }
    agent.insert("requestor".into(), json!(true));
    if !purposes.is_empty() {
        agent.insert("purposeOfUse".into(), Value::Array(purposes));
    }
    let mut agents = vec![Value::Object(agent)];
    if let Some(organization) = requestor.organization {
        agents.push(json!({
            "type": {"coding": [coding(ROLE_CLASS, "PROV", "healthcare provider")]},
            "who": {"reference": organization},
            "requestor": false
        }));
    }
    agents
}

/// BALP's user agent types: the patient as such, a system client as an application, an
/// author for changes, an information recipient for reads and queries.
fn agent_type(event: &AccessEvent, requestor: &Requestor<'_>) -> Value {
    let reference = requestor.reference.unwrap_or("");
    if reference.starts_with("Patient/") {
        return coding(ROLE_CLASS, "PAT", "patient");
    }
    if requestor.reference.is_none() {
        return coding(DICOM, "110150", "Application");
    }
    match event.action {
        AccessAction::Create | AccessAction::Update | AccessAction::Delete => {
            coding(PARTICIPATION_TYPE, "AUT", "author (originator)")
        }
        _ => coding(PARTICIPATION_TYPE, "IRCP", "information recipient"),
    }
}

/// Patients, resources, the query, the request id, the reasons.
fn entities(event: &AccessEvent, request_id: &str) -> Vec<Value> {
    let mut entities: Vec<Value> = event
        .patients
        .iter()
        .map(|id| patient_entity(&format!("Patient/{id}")))
        .collect();
    entities.extend(event.resources.iter().map(|reference| {
        json!({
            "what": {"reference": reference},
            "type": coding(ENTITY_TYPE, "2", "System Object"),
            "role": coding(OBJECT_ROLE, "4", "Domain Resource")
        })
    }));
    if let Some(query) = event.query.as_deref() {
        entities.push(json!({
            "type": coding(ENTITY_TYPE, "2", "System Object"),
            "role": coding(OBJECT_ROLE, "24", "Query"),
            "query": STANDARD.encode(query)
        }));
    }
    if !request_id.is_empty() {
        entities.push(request_entity(request_id));
    }
    entities.extend(event.reasons.iter().map(reason_entity));
    entities
}

/// One reason of the decision (see the header of this file).
fn reason_entity(reason: &Reason) -> Value {
    let mut entity = Map::new();
    if let Some(consent) = reason.consent.as_deref().and_then(consent_reference) {
        entity.insert("what".into(), json!({"reference": consent}));
    }
    entity.insert("type".into(), coding(ENTITY_TYPE, "2", "System Object"));
    entity.insert(
        "role".into(),
        coding(OBJECT_ROLE, "13", "Security Resource"),
    );
    entity.insert("name".into(), json!(reason.rule.as_str()));
    if !reason.text.is_empty() {
        entity.insert("description".into(), json!(reason.text));
    }
    if let Some(provision) = reason.consent.as_deref().filter(|p| !p.is_empty()) {
        entity.insert(
            "detail".into(),
            json!([{"type": PROVISION_DETAIL, "valueString": provision}]),
        );
    }
    Value::Object(entity)
}

/// `Consent/{id}` of a provision `Consent/{id}#…`; `None` for a Consent without id.
fn consent_reference(provision: &str) -> Option<&str> {
    let reference = provision.split('#').next()?;
    let id = reference.strip_prefix("Consent/")?;
    (!id.is_empty()).then_some(reference)
}

#[cfg(test)]
#[path = "balp_tests.rs"]
mod tests;
