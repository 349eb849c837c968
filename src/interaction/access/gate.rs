//! The consent gate of one request (DMP-RULES.md §3–§6, DESIGN.md flows): it knows who asks
//! (`consent::Context`), loads the records it needs once per request, asks the decision
//! point about each resource read or written, builds the SQL filter of searches from the
//! per-record constraints, and records every decision on the request's audit sink.
//! System clients are outside consent (their scopes govern them): the gate lets them
//! through without lookups.

use std::collections::HashMap;

use serde_json::Value;

use super::facts::ATTACHMENT;
use super::facts::facts_with;
use super::filter_sql::condition_of;
use super::records::{load_record, records_naming, subject_lookup};
use crate::audit::{AccessAction, AccessEvent, AccessOutcome, QueryTrail};
use crate::auth::Principal;
use crate::consent::{
    Action, Context, Decision, Reason, RecordAccess, RecordFacts, Requester, ResourceFacts, RuleId,
};
use crate::interaction::context::{RequestContext, Services};
use crate::interaction::error::InteractionError;
use crate::search::compartment::patient_ids;
use crate::search::extract::extract;
use crate::storage::record_stamp::{RecordStamp, record_stamp, stamps_and_sharing};
use crate::storage::search::{Condition, RecordCondition, RecordsFilter};
use crate::storage::stored_facts::{StoredFacts, decision_facts_of, stored_facts_of};
use crate::storage::{Conn, index, versions};

/// Which version of a resource a decision is about.
enum Version<'a> {
    /// The current version (its facts are stored).
    Current,
    /// Another version, or content about to be stored, with its patient compartment when
    /// the caller knows it.
    Other(Option<&'a [String]>),
}

/// The consent side of one request.
pub(crate) struct Gate<'a> {
    services: &'a Services,
    request: &'a RequestContext,
    context: Context,
    records: HashMap<String, Option<RecordFacts>>,
    /// Stored facts of current versions read ahead for a page of results (`prefetch`).
    prefetched: HashMap<(String, String), StoredFacts>,
    /// Stamps of records read ahead, in one query, for the records a search decides on.
    stamps: HashMap<String, RecordStamp>,
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
        Self::open_for(conn, services, request, &request.principal)
    }

    /// The gate of `principal` (another subject than the caller's, for an explanation),
    /// recording on `request`'s audit sink.
    pub(crate) fn open_for(
        conn: &mut Conn<'_>,
        services: &'a Services,
        request: &'a RequestContext,
        principal: &Principal,
    ) -> Result<Self, InteractionError> {
        let lookup = subject_lookup(conn, principal)?;
        Ok(Self {
            services,
            request,
            context: Context::from_principal(principal, &lookup, request.now_millis),
            records: HashMap::new(),
            prefetched: HashMap::new(),
            stamps: HashMap::new(),
        })
    }

    /// Whether the subject is the patient, or their legal representative, of `patient`'s
    /// record.
    pub(crate) fn is_patient_side_of(&self, patient: &str) -> bool {
        match &self.context.requester {
            Requester::Patient { patient_id } | Requester::Representative { patient_id, .. } => {
                patient_id == patient
            }
            _ => false,
        }
    }

    /// Whether the subject is a professional.
    pub(crate) fn is_professional(&self) -> bool {
        matches!(self.context.requester, Requester::Professional(_))
    }

    /// Whether the subject reads as the patient: the patient or their legal representative.
    pub(crate) fn is_patient_side(&self) -> bool {
        matches!(
            self.context.requester,
            Requester::Patient { .. } | Requester::Representative { .. }
        )
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
        let stamp = match self.stamps.remove(patient) {
            Some(stamp) => stamp,
            None => record_stamp(conn, patient)?,
        };
        let record = match self.services.records.get(patient, &stamp) {
            Some(kept) => kept,
            None => {
                let loaded = load_record(conn, self.services, patient, self.request.now_millis)?;
                self.services.records.put(patient, stamp, loaded.clone());
                loaded
            }
        };
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
        let version = if current {
            Version::Current
        } else {
            Version::Other(None)
        };
        self.decide_version(conn, action, (res_type, id, resource), version)
    }

    /// `decide` on content about to be stored (not the current version) whose patient
    /// compartment the caller has already extracted with its index rows (`compartment`).
    pub(crate) fn decide_new(
        &mut self,
        conn: &mut Conn<'_>,
        action: &Action,
        (res_type, id, resource): (&str, &str, &Value),
        compartment: &[String],
    ) -> Result<Verdict, InteractionError> {
        self.decide_version(
            conn,
            action,
            (res_type, id, resource),
            Version::Other(Some(compartment)),
        )
    }

    fn decide_version(
        &mut self,
        conn: &mut Conn<'_>,
        action: &Action,
        (res_type, id, resource): (&str, &str, &Value),
        version: Version<'_>,
    ) -> Result<Verdict, InteractionError> {
        let current = matches!(version, Version::Current);
        if res_type == "Binary" && !self.is_system() {
            return self.decide_binary(conn, action, id, resource);
        }
        // The current version's facts are stored (read ahead for a page of results, or now
        // in one query); another version's compartment is extracted from it.
        let key = (res_type.to_owned(), id.to_owned());
        let with_facts = !self.is_system();
        let stored = match (current, self.prefetched.remove(&key)) {
            (true, Some(stored)) => stored,
            (true, None) if with_facts => {
                // With the stamps of its records, read in the same round trip.
                let (stored, stamps) = decision_facts_of(conn, res_type, id)?;
                for (patient, stamp) in stamps {
                    if !self.records.contains_key(&patient) {
                        self.stamps.insert(patient, stamp);
                    }
                }
                stored
            }
            (true, None) => stored_facts_of(conn, res_type, &[id.to_owned()], false)?
                .remove(id)
                .unwrap_or_default(),
            (false, _) => StoredFacts {
                compartment: match version {
                    Version::Other(Some(compartment)) => compartment.to_vec(),
                    _ => self.patients_of(res_type, id, resource),
                },
                creator: if with_facts {
                    versions::creator(conn, res_type, id)?
                } else {
                    None
                },
                label_times: Vec::new(),
            },
        };
        if self.is_system() {
            let decision = self
                .services
                .policy
                .decide(&self.context, action, None, None);
            return Ok(Verdict {
                decision,
                patients: stored.compartment,
            });
        }
        self.decide_with(conn, action, resource, stored, current)
    }

    /// Reads ahead the stored facts of the current versions `rows` (`(type, id)`), so that
    /// deciding on each of them (`decide` with `current`) needs no query of its own.
    pub(crate) fn prefetch(
        &mut self,
        conn: &mut Conn<'_>,
        rows: &[(String, String)],
    ) -> Result<(), InteractionError> {
        let mut by_type: HashMap<&str, Vec<String>> = HashMap::new();
        for (res_type, id) in rows {
            if res_type != "Binary" {
                by_type.entry(res_type).or_default().push(id.clone());
            }
        }
        // A system client's decisions read no facts: its rows need their compartments only.
        let with_facts = !self.is_system();
        for (res_type, ids) in by_type {
            for (id, stored) in stored_facts_of(conn, res_type, &ids, with_facts)? {
                self.prefetched.insert((res_type.to_owned(), id), stored);
            }
        }
        Ok(())
    }

    /// `action` on `resource` (the current version when `current`) given its stored facts.
    fn decide_with(
        &mut self,
        conn: &mut Conn<'_>,
        action: &Action,
        resource: &Value,
        stored: StoredFacts,
        current: bool,
    ) -> Result<Verdict, InteractionError> {
        // Label times are known for the current version only.
        let times = current.then_some(stored.label_times.as_slice());
        let facts_for =
            |patient: Option<&str>| facts_with(resource, patient, stored.creator.as_deref(), times);
        let patients = stored.compartment.clone();
        if patients.is_empty() {
            let decision =
                self.services
                    .policy
                    .decide(&self.context, action, None, Some(&facts_for(None)));
            return Ok(Verdict { decision, patients });
        }
        let mut decision: Option<Decision> = None;
        for patient in &patients {
            let one = self.decide_on(conn, action, patient, &facts_for(Some(patient)))?;
            decision = Some(match decision {
                None => one,
                Some(earlier) => earlier.and(one),
            });
        }
        let decision = decision.unwrap_or_else(|| Decision::error("no record to decide on"));
        Ok(Verdict { decision, patients })
    }

    /// A Binary inherits the decision of the resources that point to it (its
    /// `securityContext`, the DocumentReferences whose attachment is it): reading it is
    /// reading them, changing it is updating them. Unlinked, it may only be created.
    fn decide_binary(
        &mut self,
        conn: &mut Conn<'_>,
        action: &Action,
        id: &str,
        resource: &Value,
    ) -> Result<Verdict, InteractionError> {
        let mut containers = index::fact_owners(conn, ATTACHMENT, &format!("Binary/{id}"))?;
        if let Some((t, i)) = resource
            .pointer("/securityContext/reference")
            .and_then(Value::as_str)
            .and_then(|r| r.split_once('/'))
            && t != "Binary"
        {
            containers.push((t.to_owned(), i.to_owned()));
        }
        containers.sort();
        containers.dedup();
        let mut verdict: Option<Verdict> = None;
        let container_action = match action {
            Action::Read | Action::Search => Action::Read,
            _ => Action::Update,
        };
        for (t, i) in containers {
            let Some(row) = versions::current(conn, &t, &i)?.filter(|r| !r.is_deleted) else {
                continue;
            };
            let Some(value) = row
                .content
                .as_deref()
                .and_then(|json| serde_json::from_str::<Value>(json).ok())
            else {
                continue;
            };
            let one = self.decide(conn, &container_action, &t, &i, &value, true)?;
            verdict = Some(match verdict {
                None => one,
                Some(mut earlier) => {
                    earlier.decision = earlier.decision.and(one.decision);
                    earlier.patients.extend(one.patients);
                    earlier
                }
            });
        }
        Ok(verdict.unwrap_or_else(|| {
            let reason = |text: &str| Reason::new(RuleId::BinaryUnlinked, text);
            let decision = if matches!(action, Action::Create) {
                Decision::permit(vec![reason(
                    "a Binary is inert until a DocumentReference points to it",
                )])
            } else {
                Decision::deny(reason(
                    "a Binary no DocumentReference points to is for system clients only",
                ))
            };
            Verdict {
                decision,
                patients: Vec::new(),
            }
        }))
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

    /// `action` on `patient`'s record itself (close, reactivate).
    pub(crate) fn decide_record(
        &mut self,
        conn: &mut Conn<'_>,
        action: &Action,
        patient: &str,
    ) -> Result<Verdict, InteractionError> {
        let record = self.record(conn, patient)?;
        let decision = self
            .services
            .policy
            .decide(&self.context, action, record.as_ref(), None);
        Ok(Verdict {
            decision,
            patients: vec![patient.to_owned()],
        })
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
    /// them, or `named`, the patients the query itself names, with the records sharing a
    /// resource of the searched `types` (all when empty) with them). `None` for system
    /// clients.
    pub(crate) fn records_filter(
        &mut self,
        conn: &mut Conn<'_>,
        named: &[String],
        types: &[String],
    ) -> Result<Option<RecordsFilter>, InteractionError> {
        let candidates: Vec<String> = match &self.context.requester {
            Requester::System { .. } => return Ok(None),
            Requester::Patient { patient_id } | Requester::Representative { patient_id, .. } => {
                vec![patient_id.clone()]
            }
            // A query that names its patients (`patient=…`, a compartment) is decided on
            // those records only: the records naming the professional add nothing to it.
            // (and on the records sharing a resource with them, so that a resource in two
            // compartments is decided on both).
            Requester::Professional(_) if !named.is_empty() => {
                let mut patients = named.to_vec();
                patients.sort();
                patients.dedup();
                let found = stamps_and_sharing(conn, &patients, Some(types))?;
                self.stamps.extend(found.stamps);
                if !found.sharing.is_empty() {
                    let shared = stamps_and_sharing(conn, &found.sharing, None)?;
                    self.stamps.extend(shared.stamps);
                }
                patients.extend(found.sharing);
                patients.sort();
                patients.dedup();
                patients
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
                self.stamps
                    .extend(stamps_and_sharing(conn, &patients, None)?.stamps);
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
        // Directory data (outside every compartment) is readable by any subject; Binaries,
        // outside compartments too, are decided one by one through their DocumentReference
        // (read them by id), so searches leave them out.
        Ok(Some(RecordsFilter {
            records: groups,
            outside: Condition::Not(Box::new(Condition::TypeIn(vec!["Binary".to_owned()]))),
        }))
    }

    /// Records the answer of a query (search, history) on the audit sink: one event per
    /// patient whose record it showed (BALP Query, `audit::QueryTrail`).
    pub(crate) fn audit_query(&self, trail: QueryTrail, query: Option<String>) {
        for event in trail.events(query) {
            self.request.audit.push(event);
        }
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
            break_glass: decision.is_break_glass(),
        });
    }
}
