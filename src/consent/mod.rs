//! The policy decision point of Carnet (DMP-RULES.md §3–§6; docs/consent.md): pure — no
//! I/O, no clock (time is an input), no storage, no HTTP. Given who asks (`Context`), the
//! action, the facts of the record (`RecordFacts`, with the patient's parsed Consents) and
//! of the resource (`ResourceFacts`), `Policy::decide` returns permit or deny with the
//! reasons (rule ids and Consent provisions) and obligations; `Policy::record_access`
//! gives the `$access` status; `Policy::search_constraint` the filter a search of one
//! record runs under, consistent with `decide`. Deny overrides, default deny, and any
//! evaluation error denies (`policy.error`).
//!
//! Parsing is separate from deciding: Consents are parsed once (`ConsentPolicy::from_json`)
//! and the matrix loaded once (`AccessMatrix::bundled`); the caller caches both.

mod constraint;
mod decision;
mod error;
mod facts;
mod filter;
mod matrix;
mod policy;
mod provision;
mod record;
mod requester;
mod resource;
mod write;

pub use constraint::SearchConstraint;
pub use decision::{Decision, Effect, Obligation, Reason, RuleId};
pub use error::ConsentError;
pub use facts::{
    Label, LabelCode, RecordFacts, RecordStatus, ResourceFacts, TRE_A03, general_practitioners_of,
    label_set_times, majority_of,
};
pub use filter::Filter;
pub use matrix::{AccessMatrix, ProfessionRow};
pub use policy::{
    Actor, ConsentPolicy, DataMeaning, DataRef, Provision, ProvisionType, SCOPE_PATIENT_PRIVACY,
    Span,
};
pub use record::RecordAccess;
pub use requester::{
    Context, FR_CORE_RELATIONSHIP, LEGAL_REPRESENTATIVE_CODES, PARENTAL_REPRESENTATIVE_CODE,
    Professional, Representation, Requester, SubjectLookup, TRE_G15, legal_representation_of,
    legal_representative_of, profession_of,
};

/// Thirty days, in milliseconds.
const THIRTY_DAYS_MILLIS: i64 = 30 * 24 * 60 * 60 * 1_000;

/// The tunable parts of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// How long `INVISIBLE_PATIENT` hides a resource after it was set (§5): 30 days.
    pub invisible_patient_expiry_millis: i64,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            invisible_patient_expiry_millis: THIRTY_DAYS_MILLIS,
        }
    }
}

/// What the subject wants to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Read (also vread, history, a search entry, a Binary through its DocumentReference).
    /// Without a resource: may the subject read the record at all.
    Read,
    /// Search the record; decided like `Read` (use `search_constraint` to narrow).
    Search,
    /// Create the resource (its labels count as labels being set).
    Create,
    /// Update the resource (its current facts). If the labels change too, combine with
    /// `ChangeLabels` by `Decision::and`.
    Update,
    /// Delete the resource (its current facts).
    Delete,
    /// Set or remove labels (PDSm `PATCH`) on the resource (its current facts).
    ChangeLabels {
        added: Vec<LabelCode>,
        removed: Vec<LabelCode>,
    },
    /// Create, update or delete one of the patient's Consents (also decided so when
    /// `Create`/`Update`/`Delete` is asked on a `Consent` resource).
    ChangeConsent,
    /// Close the record.
    Close,
    /// Reactivate a closed record.
    Reactivate,
}

/// The reason text of directory reads.
const DIRECTORY_NOTE: &str = "directory data (outside every patient compartment)";

/// The policy: the access matrix and the configuration, loaded once.
#[derive(Debug, Clone)]
pub struct Policy {
    pub matrix: AccessMatrix,
    pub config: PolicyConfig,
}

impl Policy {
    /// A policy over `matrix` with `config`.
    pub fn new(matrix: AccessMatrix, config: PolicyConfig) -> Self {
        Self { matrix, config }
    }

    /// Decides `action` by `context` on `resource` of `record`.
    ///
    /// - `resource` `None`: the action on the record itself (`Read`/`Search`: may the
    ///   subject read the record at all; `ChangeConsent`, `Close`, `Reactivate`).
    /// - `resource.patient` `None`: directory data — readable by any subject, written by
    ///   system clients only; `record` is not needed.
    /// - otherwise `record` must be the record of `resource.patient` (else `policy.error`);
    ///   `record` `None` means there is no record (`dmp.record.none`).
    ///
    /// System clients are always permitted (`system.outside-consent`): their scopes govern them.
    pub fn decide(
        &self,
        context: &Context,
        action: &Action,
        record: Option<&RecordFacts>,
        resource: Option<&ResourceFacts>,
    ) -> Decision {
        if let Requester::System { .. } = context.requester {
            return Decision::permit(vec![Reason::new(
                RuleId::SystemOutsideConsent,
                "a system client acts outside consent, within its scopes",
            )]);
        }
        if let Some(facts) = resource
            && facts.patient.is_none()
        {
            return if matches!(action, Action::Read | Action::Search) {
                Decision::permit(vec![Reason::new(RuleId::DirectoryRead, DIRECTORY_NOTE)])
            } else {
                Decision::deny(Reason::new(
                    RuleId::DirectoryWriteSystemOnly,
                    "directory data is written by system clients only",
                ))
            };
        }
        let Some(record) = record else {
            return Decision::deny(Reason::new(RuleId::RecordNone, "there is no record"));
        };
        if let Some(facts) = resource
            && facts.patient.as_deref() != Some(record.patient_id.as_str())
        {
            return Decision::error("the resource is not in the compartment of the record given");
        }
        let (matrix, config) = (&self.matrix, &self.config);
        let is_consent = resource.is_some_and(|r| r.resource_type == "Consent");
        let consent_write = matches!(action, Action::ChangeConsent)
            || (is_consent && matches!(action, Action::Create | Action::Update | Action::Delete));
        if consent_write {
            return write::change_consent(context, record, matrix);
        }
        match (action, resource) {
            (Action::Read | Action::Search, None) => {
                record::record_decision(context, record, matrix)
            }
            (Action::Read | Action::Search, Some(facts)) => {
                resource::read(context, record, facts, matrix, config)
            }
            (Action::Create, Some(facts)) => write::create(context, record, facts, matrix),
            (Action::Update | Action::Delete, Some(facts)) => {
                write::modify(context, record, facts, matrix)
            }
            (Action::ChangeLabels { added, removed }, Some(facts)) => {
                let changed: Vec<LabelCode> = added.iter().chain(removed).cloned().collect();
                write::change_labels(context, record, facts, &changed, matrix, config)
            }
            (Action::Close, None) => write::lifecycle(context, record, true),
            (Action::Reactivate, None) => write::lifecycle(context, record, false),
            (
                Action::Create | Action::Update | Action::Delete | Action::ChangeLabels { .. },
                None,
            )
            | (Action::Close | Action::Reactivate, Some(_))
            | (Action::ChangeConsent, _) => {
                Decision::error("the action does not fit the facts given")
            }
        }
    }

    /// The `Patient/{id}/$access` status of the context's requester on `record` (`None`:
    /// there is no record).
    pub fn record_access(&self, context: &Context, record: Option<&RecordFacts>) -> RecordAccess {
        record::record_access(context, record, &self.matrix)
    }

    /// What the context's requester may see of `record`, as a filter storage runs inside
    /// the query; `None` when nothing of the record is accessible. A resource of the
    /// record passes the filter exactly when `decide(Read)` permits it.
    pub fn search_constraint(
        &self,
        context: &Context,
        record: &RecordFacts,
    ) -> Option<SearchConstraint> {
        constraint::search_constraint(context, record, &self.matrix, &self.config)
    }
}

#[cfg(test)]
mod tests;
