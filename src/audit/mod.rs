//! Audit: builds the AuditEvent resources Carnet records (IHE BALP, DMP-RULES.md §8), as
//! JSON ready to be stored through the ordinary write path by `interaction` (in the
//! transaction of what they record, so that `AuditEvent?patient=` finds them). One file per
//! kind of event; this one holds what they share. May use `storage`, `consent` (types),
//! `fhir` and `error`; never HTTP.

pub mod balp;
pub mod event;
pub mod login;
pub mod query;

pub use event::{AccessAction, AccessEvent, AccessOutcome, AuditSink};
pub use query::QueryTrail;

use serde_json::{Value, json};

/// The DICOM code system of audit event types and subtypes.
pub const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";
/// The name Carnet gives itself as the observer of its events.
pub const OBSERVER: &str = "carnet";
/// BALP's entity type of the request id (`X-Request-Id`).
const BALP_ENTITY_TYPE: &str = "http://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType";

/// `AuditEvent.outcome` (R4 required binding audit-event-outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    /// 0: success.
    Success,
    /// 4: minor failure (the action was refused, e.g. wrong credentials).
    MinorFailure,
    /// 8: serious failure (e.g. an account locked).
    SeriousFailure,
    /// 12: major failure (the server could not do its job).
    MajorFailure,
}

impl AuditOutcome {
    pub fn code(self) -> &'static str {
        match self {
            AuditOutcome::Success => "0",
            AuditOutcome::MinorFailure => "4",
            AuditOutcome::SeriousFailure => "8",
            AuditOutcome::MajorFailure => "12",
        }
    }
}

/// A Coding.
pub fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({"system": system, "code": code, "display": display})
}

/// `AuditEvent.source`: Carnet, an application server.
pub fn source() -> Value {
    json!({
        "observer": {"display": OBSERVER},
        "type": [coding(
            "http://terminology.hl7.org/CodeSystem/security-source-type",
            "4",
            "Application Server"
        )]
    })
}

/// The entity naming a patient as the subject of the event.
pub fn patient_entity(patient_reference: &str) -> Value {
    json!({
        "what": {"reference": patient_reference},
        "type": coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person"),
        "role": coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient")
    })
}

/// The entity carrying the request id, as BALP records it.
pub fn request_entity(request_id: &str) -> Value {
    json!({
        "what": {"identifier": {"value": request_id}},
        "type": coding(BALP_ENTITY_TYPE, "XrequestId", "XrequestId")
    })
}

/// `agent.network` for a client IP address (type 2, IP address).
pub fn network(address: &str) -> Value {
    json!({"address": address, "type": "2"})
}
