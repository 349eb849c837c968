//! What an interaction tells the audit trail about one access decision (DMP-RULES.md §8):
//! the action, granted or denied, the patients and resources concerned, the query, the
//! reasons of the decision (rule ids and Consent provisions) and whether it was a
//! break-glass access. Interactions push them on the request's `AuditSink`; the audit
//! trail turns them into IHE BALP AuditEvents and stores them (in the transaction of a
//! write, and durably before a read's answer).

use std::sync::{Arc, Mutex};

use crate::consent::Reason;

/// The kind of access, as BALP names its patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessAction {
    /// read or vread of one resource (BALP Read).
    Read,
    /// a search, a compartment search or a history (BALP Query).
    Query,
    Create,
    Update,
    Delete,
    /// another operation (`$access`, `$explain`…), by name.
    Operation(String),
}

/// Whether the access was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessOutcome {
    Granted,
    Denied,
}

/// One access decision to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessEvent {
    pub action: AccessAction,
    pub outcome: AccessOutcome,
    /// Ids of the patients whose records were touched.
    pub patients: Vec<String>,
    /// `Type/id` (or `Type/id/_history/v`) of the resources concerned, when known.
    pub resources: Vec<String>,
    /// The query string of a search or history, when there was one.
    pub query: Option<String>,
    /// Why: the rules and Consent provisions that decided.
    pub reasons: Vec<Reason>,
    /// A break-glass access (purpose ETREAT/BTG was needed): audited with purpose BTG and
    /// notified to the patient.
    pub break_glass: bool,
}

/// The access events of one request, shared by everything that serves it.
#[derive(Debug, Clone, Default)]
pub struct AuditSink(Arc<Mutex<Vec<AccessEvent>>>);

impl AuditSink {
    /// Records `event`.
    pub fn push(&self, event: AccessEvent) {
        if let Ok(mut events) = self.0.lock() {
            events.push(event);
        } else {
            log::error!("the audit sink is poisoned: an access event is lost");
        }
    }

    /// Takes the events recorded so far.
    pub fn take(&self) -> Vec<AccessEvent> {
        self.0
            .lock()
            .map(|mut events| std::mem::take(&mut *events))
            .unwrap_or_default()
    }
}
