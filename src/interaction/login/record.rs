//! Recording a login attempt: the AuditEvent `audit::login` builds, stored through the
//! ordinary write path (version, search index, patient compartment) inside the caller's
//! transaction, so that it commits with the account change it describes.

use super::Client;
use crate::audit::login::{LoginEvent, LoginOutcome, login_event};
use crate::interaction::audit_trail::save_audit_event;
use crate::interaction::context::Services;
use crate::interaction::error::InteractionError;
use crate::storage::Conn;
use crate::storage::accounts::AccountRow;

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
    save_audit_event(
        conn,
        services,
        SERVICE,
        &client.request_id,
        now,
        login_event(&event),
    )?;
    Ok(())
}
