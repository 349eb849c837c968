//! The search constraint (DMP-RULES.md §5, §9; DESIGN.md "search"): for one subject and
//! one patient record, the `Filter` a resource of the record must pass to be seen, so that
//! storage narrows the query itself (totals, paging and sorting never see the rest). It is
//! built from the same parts as `decide(Read)` — matrix row, labels with their exemptions
//! and expiry, Consent provisions — and a resource passes it exactly when `decide(Read)`
//! permits it (checked by the property test of `constraint_tests.rs`).

use super::PolicyConfig;
use super::decision::{Obligation, Reason, RuleId};
use super::facts::{LabelCode, RecordFacts};
use super::filter::Filter;
use super::matrix::AccessMatrix;
use super::provision::{self, Asking};
use super::record::{self, READ_ACTIONS};
use super::requester::{Context, Requester};
use super::resource::invisibility_cutoff;

/// What a subject may see of one patient's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchConstraint {
    pub patient_id: String,
    /// A resource of the record (in the patient's compartment) is visible iff it passes.
    pub filter: Filter,
    /// Why the record is accessible (for the audit of the search).
    pub reasons: Vec<Reason>,
    /// `BreakGlass` when some resources may be seen through break-glass only.
    pub obligations: Vec<Obligation>,
}

/// The constraint of the context's requester on `record`; `None` when nothing of the
/// record is accessible.
pub(crate) fn search_constraint(
    context: &Context,
    record: &RecordFacts,
    matrix: &AccessMatrix,
    config: &PolicyConfig,
) -> Option<SearchConstraint> {
    let constraint = |filter: Filter, reasons: Vec<Reason>, obligations: Vec<Obligation>| {
        Some(SearchConstraint {
            patient_id: record.patient_id.clone(),
            filter,
            reasons,
            obligations,
        })
    };
    match &context.requester {
        Requester::System { .. } => constraint(
            Filter::All,
            vec![Reason::new(
                RuleId::SystemOutsideConsent,
                "a system client acts outside consent, within its scopes",
            )],
            Vec::new(),
        ),
        Requester::Unrecognised { .. } => None,
        Requester::Patient { .. } | Requester::Representative { .. } => {
            if record::closed(record).is_some() || record::own_record(context, record).is_some() {
                return None;
            }
            let mut filter = Filter::LabelSetAfter {
                label: LabelCode::invisible_patient(),
                cutoff_millis: invisibility_cutoff(context.now_millis, config),
            }
            .negate();
            if matches!(context.requester, Requester::Representative { .. }) {
                filter = filter
                    .and(Filter::HasLabel(vec![LabelCode::invisible_representatives()]).negate());
            }
            constraint(
                filter,
                vec![Reason::new(RuleId::RecordOwn, "the patient's own record")],
                Vec::new(),
            )
        }
        Requester::Professional(professional) => {
            let access = record::professional_record_decision(
                context,
                professional,
                record,
                matrix,
                READ_ACTIONS,
            );
            if !access.is_permit() {
                return None;
            }
            let standing = record::standing(context, professional, record, matrix).ok()?;
            let asking = Asking {
                professional,
                purposes: &context.purposes,
                actions: READ_ACTIONS,
                now_millis: context.now_millis,
            };
            let (denied, permitted) = provision::compile(&record.consents, &asking);
            let gp = standing.general_practitioner;
            let basis = if gp || standing.break_glass {
                Filter::All
            } else {
                permitted.clone()
            };
            let masked = if gp {
                Filter::All
            } else {
                Filter::HasLabel(vec![LabelCode::masque_ps()])
                    .negate()
                    .or(Filter::AuthoredBy(vec![professional.reference()]))
            };
            let confidentiality = if gp {
                Filter::All
            } else {
                Filter::HasLabel(LabelCode::restricted_confidentiality().to_vec())
                    .negate()
                    .or(permitted)
            };
            let filter = denied
                .negate()
                .and(basis)
                .and(standing.row.filter.clone())
                .and(masked)
                .and(confidentiality);
            let obligations = if !gp && standing.break_glass {
                vec![Obligation::BreakGlass]
            } else {
                Vec::new()
            };
            constraint(filter, access.reasons, obligations)
        }
    }
}

#[cfg(test)]
#[path = "constraint_tests.rs"]
mod tests;
