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
pub struct AuditSink {
    events: Arc<Mutex<Vec<AccessEvent>>>,
    coalescing: bool,
}

impl AuditSink {
    /// A sink that merges events of the same action, outcome and break-glass into one
    /// (their patients, resources and reasons together): a bulk load is one AuditEvent per
    /// transaction, not one per resource.
    pub fn coalescing() -> Self {
        Self {
            events: Arc::default(),
            coalescing: true,
        }
    }

    /// Records `event`.
    pub fn push(&self, event: AccessEvent) {
        let Ok(mut events) = self.events.lock() else {
            log::error!("the audit sink is poisoned: an access event is lost");
            return;
        };
        let same = |e: &&mut AccessEvent| {
            e.action == event.action
                && e.outcome == event.outcome
                && e.break_glass == event.break_glass
        };
        match events.iter_mut().find(|e| self.coalescing && same(e)) {
            Some(earlier) => {
                for patient in event.patients {
                    if !earlier.patients.contains(&patient) {
                        earlier.patients.push(patient);
                    }
                }
                earlier.resources.extend(event.resources);
                for reason in event.reasons {
                    if !earlier.reasons.contains(&reason) {
                        earlier.reasons.push(reason);
                    }
                }
            }
            None => events.push(event),
        }
    }

    /// Takes the events recorded so far.
    pub fn take(&self) -> Vec<AccessEvent> {
        self.events
            .lock()
            .map(|mut events| std::mem::take(&mut *events))
            .unwrap_or_default()
    }
}
