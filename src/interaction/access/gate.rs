//! The consent gate of one request (DMP-RULES.md §3–§6, DESIGN.md flows): it knows who asks
//! (`consent::Context`), loads the records it needs once per request, asks the decision
//! point about each resource read or written, builds the SQL filter of searches from the
//! per-record constraints, and records every decision on the request's audit sink.
//! System clients are outside consent (their scopes govern them): the gate lets them
//! through without lookups.

use std::collections::HashMap;

use serde_json::Value;

use super::facts::stored_facts;
use super::filter_sql::condition_of;
use super::records::{load_record, records_naming, subject_lookup};
use crate::audit::{AccessAction, AccessEvent, AccessOutcome};
use crate::consent::{
    Action, Context, Decision, Obligation, RecordAccess, RecordFacts, Requester, ResourceFacts,
};
use crate::interaction::context::{RequestContext, Services};
use crate::interaction::error::InteractionError;
use crate::search::compartment::patient_ids;
use crate::search::extract::extract;
use crate::storage::Conn;
use crate::storage::search::{Condition, RecordCondition, RecordsFilter};

/// The consent side of one request.
pub(crate) struct Gate<'a> {
    services: &'a Services,
    request: &'a RequestContext,
    context: Context,
    records: HashMap<String, Option<RecordFacts>>,
}

/// The decision about one stored resource, with the patients whose records hold it.
pub(crate) struct Verdict {
    pub decision: Decision,
    pub patients: Vec<String>,
}

impl<'a> Gate<'a> {
    /// The gate of `request`, looking up the subject's facts on `conn`.
    pub(crate) fn open(
        conn: &mut Conn<'_>,
        services: &'a Services,
        request: &'a RequestContext,
    ) -> Result<Self, InteractionError> {
        let lookup = subject_lookup(conn, &request.principal)?;
        Ok(Self {
            services,
            request,
            context: Context::from_principal(&request.principal, &lookup, request.now_millis),
            records: HashMap::new(),
        })
    }

    /// Whether the subject is a professional.
    pub(crate) fn is_professional(&self) -> bool {
        matches!(self.context.requester, Requester::Professional(_))
    }

    /// Whether consent does not apply (a system client).
    pub(crate) fn is_system(&self) -> bool {
        matches!(self.context.requester, Requester::System { .. })
    }

    /// The record of `patient`, loaded once per request.
    pub(crate) fn record(
        &mut self,
        conn: &mut Conn<'_>,
        patient: &str,
    ) -> Result<Option<RecordFacts>, InteractionError> {
        if let Some(record) = self.records.get(patient) {
            return Ok(record.clone());
        }
        let record = load_record(conn, self.services, patient, self.request.now_millis)?;
        self.records.insert(patient.to_owned(), record.clone());
        Ok(record)
    }

    /// The patients whose compartment holds `resource`.
    pub(crate) fn patients_of(&self, res_type: &str, id: &str, resource: &Value) -> Vec<String> {
        let entries = extract(&self.services.registry, res_type, resource);
        patient_ids(&self.services.registry, res_type, id, &entries)
    }

    /// `action` on a resource of type `res_type` with id `id` and content `resource`
    /// (`current`: the stored current version, whose label times storage knows). A resource
    /// in several patients' compartments needs every record's permit (deny overrides).
    pub(crate) fn decide(
        &mut self,
        conn: &mut Conn<'_>,
        action: &Action,
        res_type: &str,
        id: &str,
        resource: &Value,
        current: bool,
    ) -> Result<Verdict, InteractionError> {
        let patients = self.patients_of(res_type, id, resource);
        if self.is_system() {
            let decision = self
                .services
                .policy
                .decide(&self.context, action, None, None);
            return Ok(Verdict { decision, patients });
        }
        if patients.is_empty() {
            let facts = stored_facts(conn, res_type, id, resource, None, current)?;
            let decision = self
                .services
                .policy
                .decide(&self.context, action, None, Some(&facts));
            return Ok(Verdict { decision, patients });
        }
        let mut decision: Option<Decision> = None;
        for patient in &patients {
            let facts = stored_facts(conn, res_type, id, resource, Some(patient), current)?;
            let one = self.decide_on(conn, action, patient, &facts)?;
            decision = Some(match decision {
                None => one,
                Some(earlier) => earlier.and(one),
            });
        }
        let decision = decision.unwrap_or_else(|| Decision::error("no record to decide on"));
        Ok(Verdict { decision, patients })
    }

    /// `action` on a resource of `patient`'s record whose facts are given.
    pub(crate) fn decide_on(
        &mut self,
        conn: &mut Conn<'_>,
        action: &Action,
        patient: &str,
        facts: &ResourceFacts,
    ) -> Result<Decision, InteractionError> {
        let record = self.record(conn, patient)?;
        Ok(self
            .services
            .policy
            .decide(&self.context, action, record.as_ref(), Some(facts)))
    }

    /// The `$access` status of the subject on `patient`'s record.
    pub(crate) fn record_access(
        &mut self,
        conn: &mut Conn<'_>,
        patient: &str,
    ) -> Result<RecordAccess, InteractionError> {
        let record = self.record(conn, patient)?;
        Ok(self
            .services
            .policy
            .record_access(&self.context, record.as_ref()))
    }

    /// The SQL filter of a search: what the subject may see of each record it may reach
    /// (its own for a patient or representative; for a professional, the records naming
    /// them plus `named`, the patients the query itself names). `None` for system clients.
    pub(crate) fn records_filter(
        &mut self,
        conn: &mut Conn<'_>,
        named: &[String],
    ) -> Result<Option<RecordsFilter>, InteractionError> {
        let candidates: Vec<String> = match &self.context.requester {
            Requester::System { .. } => return Ok(None),
            Requester::Patient { patient_id } | Requester::Representative { patient_id, .. } => {
                vec![patient_id.clone()]
            }
            Requester::Professional(professional) => {
                let mut patients = records_naming(
                    conn,
                    self.services,
                    &professional.reference(),
                    professional.organization.as_deref(),
                    self.request.now_millis,
                )?;
                patients.extend(named.iter().cloned());
                patients.sort();
                patients.dedup();
                patients
            }
            Requester::Unrecognised { .. } => Vec::new(),
        };
        let mut groups: Vec<RecordCondition> = Vec::new();
        for patient in candidates {
            let Some(record) = self.record(conn, &patient)? else {
                continue;
            };
            let Some(constraint) = self
                .services
                .policy
                .search_constraint(&self.context, &record)
            else {
                continue;
            };
            let condition = condition_of(&constraint.filter);
            if condition == Condition::Nothing {
                continue;
            }
            match groups.iter_mut().find(|g| g.condition == condition) {
                Some(group) => group.patients.push(patient),
                None => groups.push(RecordCondition {
                    patients: vec![patient],
                    condition,
                }),
            }
        }
        // Directory data (outside every compartment) is readable by any subject.
        Ok(Some(RecordsFilter {
            records: groups,
            outside: Condition::All,
        }))
    }

    /// Records a decision on the audit sink.
    pub(crate) fn audit(
        &self,
        action: AccessAction,
        decision: &Decision,
        patients: &[String],
        resources: Vec<String>,
        query: Option<String>,
    ) {
        self.request.audit.push(AccessEvent {
            action,
            outcome: if decision.is_permit() {
                AccessOutcome::Granted
            } else {
                AccessOutcome::Denied
            },
            patients: patients.to_vec(),
            resources,
            query,
            reasons: decision.reasons.clone(),
            break_glass: decision
                .obligations
                .iter()
                .any(|o| matches!(o, Obligation::BreakGlass)),
        });
    }
}
