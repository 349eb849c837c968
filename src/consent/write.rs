//! Who may change what (DMP-RULES.md §6): professionals with record access create; the
//! patient or representative create patient-entered data (the matrix's `patientEntered`);
//! updates and deletes are the author's; `MASQUE_PS` is the patient's (or
//! representative's); `INVISIBLE_PATIENT` and `INVISIBLE_REPRESENTANTS_LEGAUX` are the
//! author professional's; Consents are changed by the patient, the representative or the
//! médecin traitant; the patient or representative closes and reactivates the record.

use super::decision::{Decision, Reason, RuleId};
use super::facts::{LabelCode, RecordFacts, RecordStatus, ResourceFacts};
use super::matrix::AccessMatrix;
use super::record::{self, WRITE_ACTIONS};
use super::requester::{Context, Requester};
use super::{PolicyConfig, resource};

/// Create `facts` in `record` (its labels count as labels being set).
pub(crate) fn create(
    context: &Context,
    record: &RecordFacts,
    facts: &ResourceFacts,
    matrix: &AccessMatrix,
) -> Decision {
    let decision = match &context.requester {
        Requester::Professional(professional) => {
            let access = record::professional_record_decision(
                context,
                professional,
                record,
                matrix,
                WRITE_ACTIONS,
            );
            if !access.is_permit() {
                return access;
            }
            let mut permit = Decision::permit(vec![Reason::new(
                RuleId::WriteProfessional,
                "a professional with access to the record writes in it",
            )]);
            permit.obligations = access.obligations;
            permit
        }
        Requester::Patient { .. } | Requester::Representative { .. } => {
            if let Some(deny) =
                record::closed(record).or_else(|| record::own_record(context, record))
            {
                return deny;
            }
            if !matrix.is_patient_entered(facts) {
                return Decision::deny(Reason::new(
                    RuleId::WriteNotPatientEntered,
                    format!(
                        "the patient may not enter this kind of data (`{}`)",
                        facts.resource_type
                    ),
                ));
            }
            Decision::permit(vec![Reason::new(
                RuleId::WritePatientEntered,
                "the patient enters their own data",
            )])
        }
        Requester::Unrecognised { .. } => return record::unrecognised(),
        Requester::System { .. } => return Decision::error("system clients are decided before"),
    };
    let added: Vec<LabelCode> = facts.labels.iter().map(|l| l.code.clone()).collect();
    match label_rules(context, record, facts, &added) {
        Some(labels) => decision.and(labels),
        None => decision,
    }
}

/// Update or delete `facts`: its author only (the patient and representative count as
/// one author), with record access for a professional.
pub(crate) fn modify(
    context: &Context,
    record: &RecordFacts,
    facts: &ResourceFacts,
    matrix: &AccessMatrix,
) -> Decision {
    let obligations = match &context.requester {
        Requester::Professional(professional) => {
            let access = record::professional_record_decision(
                context,
                professional,
                record,
                matrix,
                WRITE_ACTIONS,
            );
            if !access.is_permit() {
                return access;
            }
            access.obligations
        }
        Requester::Patient { .. } | Requester::Representative { .. } => {
            if let Some(deny) =
                record::closed(record).or_else(|| record::own_record(context, record))
            {
                return deny;
            }
            Vec::new()
        }
        Requester::Unrecognised { .. } => return record::unrecognised(),
        Requester::System { .. } => return Decision::error("system clients are decided before"),
    };
    if is_author(context, facts) {
        let mut permit = Decision::permit(vec![Reason::new(
            RuleId::WriteAuthor,
            "the author changes their resource",
        )]);
        permit.obligations = obligations;
        permit
    } else {
        Decision::deny(Reason::new(
            RuleId::WriteAuthorOnly,
            "only the author may update or delete a resource",
        ))
    }
}

/// Add and remove labels of `facts`: the requester must see it, then each label has its owner.
pub(crate) fn change_labels(
    context: &Context,
    record: &RecordFacts,
    facts: &ResourceFacts,
    changed: &[LabelCode],
    matrix: &AccessMatrix,
    config: &PolicyConfig,
) -> Decision {
    let read = resource::read(context, record, facts, matrix, config);
    if !read.is_permit() {
        return read;
    }
    label_rules(context, record, facts, changed).unwrap_or(read)
}

fn label_rules(
    context: &Context,
    record: &RecordFacts,
    facts: &ResourceFacts,
    changed: &[LabelCode],
) -> Option<Decision> {
    let own = context.requester.own_patient() == Some(record.patient_id.as_str());
    let professional_author =
        matches!(context.requester, Requester::Professional(_)) && is_author(context, facts);
    let mut decision: Option<Decision> = None;
    let invisible = [
        LabelCode::invisible_patient(),
        LabelCode::invisible_representatives(),
    ];
    for label in changed {
        let (allowed, rule, text) = if *label == LabelCode::masque_ps() {
            (
                own,
                RuleId::LabelMasquePs,
                "only the patient or representative sets or removes `MASQUE_PS`",
            )
        } else if invisible.contains(label) {
            (
                professional_author,
                RuleId::LabelAuthorProfessional,
                "only the author professional sets or removes an invisibility label",
            )
        } else {
            (
                is_author(context, facts),
                RuleId::WriteAuthorOnly,
                "only the author sets or removes this label",
            )
        };
        let text = format!("{text} (`{}`)", label.code);
        let one = if allowed {
            Decision::permit(vec![Reason::new(rule, text)])
        } else {
            Decision::deny(Reason::new(rule, text))
        };
        decision = Some(match decision {
            Some(before) => before.and(one),
            None => one,
        });
    }
    decision
}

/// Create, update or delete one of the patient's Consents.
pub(crate) fn change_consent(
    context: &Context,
    record: &RecordFacts,
    matrix: &AccessMatrix,
) -> Decision {
    match &context.requester {
        Requester::Patient { .. } | Requester::Representative { .. } => {
            if let Some(deny) =
                record::closed(record).or_else(|| record::own_record(context, record))
            {
                return deny;
            }
            Decision::permit(vec![Reason::new(
                RuleId::ConsentChange,
                "the patient manages their consents",
            )])
        }
        Requester::Professional(professional) => {
            let access = record::professional_record_decision(
                context,
                professional,
                record,
                matrix,
                WRITE_ACTIONS,
            );
            if !access.is_permit() {
                return access;
            }
            if record
                .general_practitioners
                .contains(&professional.reference())
            {
                Decision::permit(vec![Reason::new(
                    RuleId::ConsentChange,
                    "the médecin traitant changes a consent on the patient's request",
                )])
            } else {
                Decision::deny(Reason::new(
                    RuleId::ConsentChange,
                    "only the patient, the representative or the médecin traitant change consents",
                ))
            }
        }
        Requester::Unrecognised { .. } => record::unrecognised(),
        Requester::System { .. } => Decision::error("system clients are decided before"),
    }
}

/// Close (`to_closed`) or reactivate the record.
pub(crate) fn lifecycle(context: &Context, record: &RecordFacts, to_closed: bool) -> Decision {
    if context.requester.own_patient().is_none() {
        return Decision::deny(Reason::new(
            RuleId::RecordLifecycle,
            "only the patient or representative closes or reactivates the record",
        ));
    }
    if let Some(deny) = record::own_record(context, record) {
        return deny;
    }
    let expected = if to_closed {
        RecordStatus::Open
    } else {
        RecordStatus::Closed
    };
    if record.status != expected {
        return Decision::deny(Reason::new(
            RuleId::RecordLifecycle,
            if to_closed {
                "the record is not open"
            } else {
                "the record is not closed"
            },
        ));
    }
    Decision::permit(vec![Reason::new(
        RuleId::RecordLifecycle,
        if to_closed {
            "the patient closes their record"
        } else {
            "the patient reactivates their record"
        },
    )])
}

fn is_author(context: &Context, facts: &ResourceFacts) -> bool {
    context
        .requester
        .author_references()
        .iter()
        .any(|r| facts.authors.contains(r))
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
