//! Recording a login attempt: the AuditEvent `audit::login` builds, stored through the
//! ordinary write path (version, search index, patient compartment) inside the caller's
//! transaction, so that it commits with the account change it describes.

use super::Client;
use crate::audit::AuditSink;
use crate::audit::login::{LoginEvent, LoginOutcome, login_event};
use crate::auth::{Principal, PurposeOfUse, Subject};
use crate::fhir::ids::ResourceId;
use crate::interaction::context::{RequestContext, Services};
use crate::interaction::error::InteractionError;
use crate::interaction::write::{NextVersion, save};
use crate::storage::Conn;
use crate::storage::accounts::AccountRow;
use crate::storage::versions::WriteMethod;

/// The name of the login service, as the author of what it writes.
const SERVICE: &str = "carnet-login";

/// What to record about one attempt.
#[derive(Debug, Clone, Copy)]
pub(super) struct Attempt<'a> {
    pub outcome: LoginOutcome,
    pub reason: &'a str,
    pub account: Option<&'a AccountRow>,
    /// The normalised identifier, when one was given.
    pub identifier: Option<&'a str>,
}

/// Stores the AuditEvent of `attempt` at `now`.
pub(super) fn record(
    conn: &mut Conn<'_>,
    services: &Services,
    client: &Client,
    now: i64,
    attempt: Attempt<'_>,
) -> Result<(), InteractionError> {
    let event = LoginEvent {
        outcome: attempt.outcome,
        reason: attempt.reason,
        subject: attempt.account.map(|a| a.subject.as_str()),
        patient: attempt.account.map(|a| a.patient.as_str()),
        identifier: attempt
            .identifier
            .or(attempt.account.map(|a| a.identifier.as_str())),
        client_address: client.address.as_deref(),
        request_id: &client.request_id,
        recorded_millis: now,
    };
    let context = RequestContext {
        principal: service_principal(),
        request_id: client.request_id.clone(),
        now_millis: now,
        audit: AuditSink::default(),
    };
    let id = ResourceId::generate();
    save(
        conn,
        services,
        &context,
        NextVersion {
            res_type: "AuditEvent",
            id: id.as_str(),
            previous: None,
            method: WriteMethod::Create,
        },
        login_event(&event),
    )?;
    Ok(())
}

fn service_principal() -> Principal {
    Principal {
        subject: Subject::System(SERVICE.to_owned()),
        issuer: SERVICE.to_owned(),
        token_id: None,
        // It writes its own audit trail and nothing else.
        scopes: vec!["system/AuditEvent.c".to_owned()],
        purposes: vec![PurposeOfUse::Operations],
        profession: None,
        organization: None,
        patient: None,
        expires_at: 0,
    }
}
