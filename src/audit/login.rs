//! The AuditEvent of a login attempt (IHE BALP pattern of a user authentication): type
//! DICOM 110114 "User Authentication", subtype 110122 "Login", action E; outcome 0 for a
//! login, 4 for a refused attempt, 8 when the account is or becomes locked; the account's
//! subject as the requesting agent with the client address; the patient as entity. May use
//! `storage`, `consent` (types), `fhir` and `error`; never HTTP.

use serde_json::{Map, Value, json};

use super::{AuditOutcome, DICOM, coding, network, patient_entity, request_entity, source};
use crate::fhir::instant::format_instant;

/// How a login attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The subject logged in (a token was issued).
    Success,
    /// Wrong identifier, password or code: refused.
    Failure,
    /// The account is locked, or this failure locked it.
    Locked,
}

impl LoginOutcome {
    fn audit_outcome(self) -> AuditOutcome {
        match self {
            LoginOutcome::Success => AuditOutcome::Success,
            LoginOutcome::Failure => AuditOutcome::MinorFailure,
            LoginOutcome::Locked => AuditOutcome::SeriousFailure,
        }
    }
}

/// What is known of one attempt.
#[derive(Debug, Clone, Copy)]
pub struct LoginEvent<'a> {
    pub outcome: LoginOutcome,
    /// Why, in one sentence (`outcomeDesc`).
    pub reason: &'a str,
    /// The account's subject, `Patient/{id}` or `RelatedPerson/{id}`, when the account exists.
    pub subject: Option<&'a str>,
    /// The patient whose record the account opens, `Patient/{id}`.
    pub patient: Option<&'a str>,
    /// The normalised login identifier, when what was typed was one (`agent.altId`).
    pub identifier: Option<&'a str>,
    /// The client's IP address.
    pub client_address: Option<&'a str>,
    pub request_id: &'a str,
    /// When it happened, in milliseconds since the epoch.
    pub recorded_millis: i64,
}

/// The AuditEvent of `event`, without id and meta (the write path sets them).
pub fn login_event(event: &LoginEvent<'_>) -> Map<String, Value> {
    let mut agent = Map::new();
    if let Some(subject) = event.subject {
        agent.insert("who".into(), json!({"reference": subject}));
    }
    if let Some(identifier) = event.identifier {
        agent.insert("altId".into(), json!(identifier));
    }
    agent.insert("requestor".into(), json!(true));
    if let Some(address) = event.client_address {
        agent.insert("network".into(), network(address));
    }
    let mut entities = Vec::new();
    if let Some(patient) = event.patient {
        entities.push(patient_entity(patient));
    }
    if !event.request_id.is_empty() {
        entities.push(request_entity(event.request_id));
    }
    let mut resource = Map::new();
    resource.insert("resourceType".into(), json!("AuditEvent"));
    resource.insert(
        "type".into(),
        coding(DICOM, "110114", "User Authentication"),
    );
    resource.insert("subtype".into(), json!([coding(DICOM, "110122", "Login")]));
    resource.insert("action".into(), json!("E"));
    resource.insert(
        "recorded".into(),
        json!(format_instant(event.recorded_millis)),
    );
    resource.insert(
        "outcome".into(),
        json!(event.outcome.audit_outcome().code()),
    );
    resource.insert("outcomeDesc".into(), json!(event.reason));
    resource.insert("agent".into(), json!([Value::Object(agent)]));
    resource.insert("source".into(), source());
    if !entities.is_empty() {
        resource.insert("entity".into(), Value::Array(entities));
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::schema::Schema;
    use crate::fhir::validate::validate_resource;

    fn event(outcome: LoginOutcome) -> LoginEvent<'static> {
        LoginEvent {
            outcome,
            reason: "the password is wrong",
            subject: Some("RelatedPerson/rp-1"),
            patient: Some("Patient/p-1"),
            identifier: Some("1234ABCD"),
            client_address: Some("192.0.2.7"),
            request_id: "req-1",
            recorded_millis: 1_700_000_000_123,
        }
    }

    #[test]
    fn login_events_are_valid_r4_audit_events() {
        let schema = Schema::r4().unwrap();
        let minimal = LoginEvent {
            subject: None,
            patient: None,
            identifier: None,
            client_address: None,
            request_id: "",
            ..event(LoginOutcome::Failure)
        };
        for event in [
            event(LoginOutcome::Success),
            event(LoginOutcome::Failure),
            event(LoginOutcome::Locked),
            minimal,
        ] {
            let resource = Value::Object(login_event(&event));
            let issues = validate_resource(&schema, &resource);
            assert!(issues.is_empty(), "{issues:?} in {resource}");
        }
    }

    #[test]
    fn the_event_has_the_balp_shape() {
        let resource = Value::Object(login_event(&event(LoginOutcome::Locked)));
        assert_eq!(resource["type"]["code"], "110114");
        assert_eq!(resource["type"]["system"], DICOM);
        assert_eq!(resource["subtype"][0]["code"], "110122");
        assert_eq!(resource["action"], "E");
        assert_eq!(resource["outcome"], "8");
        assert_eq!(resource["recorded"], "2023-11-14T22:13:20.123Z");
        assert_eq!(resource["outcomeDesc"], "the password is wrong");
        let agent = &resource["agent"][0];
        assert_eq!(agent["who"]["reference"], "RelatedPerson/rp-1");
        assert_eq!(agent["requestor"], true);
        assert_eq!(agent["altId"], "1234ABCD");
        assert_eq!(agent["network"]["address"], "192.0.2.7");
        assert_eq!(resource["source"]["observer"]["display"], "carnet");
        let entity = &resource["entity"][0];
        assert_eq!(entity["what"]["reference"], "Patient/p-1");
        assert_eq!(entity["type"]["code"], "1");
        assert_eq!(entity["role"]["code"], "1");
        assert_eq!(
            resource["entity"][1]["what"]["identifier"]["value"],
            "req-1"
        );
        let outcomes: Vec<Value> = [LoginOutcome::Success, LoginOutcome::Failure]
            .into_iter()
            .map(|o| Value::Object(login_event(&event(o)))["outcome"].clone())
            .collect();
        assert_eq!(outcomes, [json!("0"), json!("4")]);
    }
}
