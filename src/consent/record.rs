//! Access to a record as a whole (DMP-RULES.md §4): open record; payers and staff without a
//! profession never; a block of the patient wins over everything; then the médecin
//! traitant, a Consent permit, or break-glass (ETREAT/BTG, health professions) the patient
//! did not oppose. Also the `$access` status (no record, authorized, not authorized,
//! blocked, closed) and the professional's checks shared by resource-level decisions.

use super::decision::{Decision, Obligation, Reason, RuleId};
use super::facts::{RecordFacts, RecordStatus};
use super::matrix::{AccessMatrix, ProfessionRow};
use super::provision::{self, Asking, Hit, Verdict};
use super::requester::{Context, Professional, Requester};

/// A subject's status on a record, as `Patient/{id}/$access` tells it (§4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordAccess {
    /// There is no record (never created, or destroyed).
    NoRecord,
    /// The subject may access the record, for these reasons.
    Authorized(Vec<Reason>),
    /// The subject has no access right (or may not have one: payers, unknown professions,
    /// opposition to break-glass), for these reasons.
    NotAuthorized(Vec<Reason>),
    /// The patient blocked this subject.
    Blocked(Vec<Reason>),
    /// The record is closed.
    Closed,
}

/// What a professional brings to a record once the checks that do not depend on the
/// resource passed.
pub(crate) struct Standing<'a> {
    pub row: &'a ProfessionRow,
    /// The declared médecin traitant.
    pub general_practitioner: bool,
    /// Break-glass is asked (ETREAT/BTG) and possible (a health profession).
    pub break_glass: bool,
}

/// The deny of a record that is not open, if it is not.
pub(crate) fn closed(record: &RecordFacts) -> Option<Decision> {
    match record.status {
        RecordStatus::Open => None,
        RecordStatus::Closed => Some(Decision::deny(Reason::new(
            RuleId::RecordClosed,
            "the record is closed",
        ))),
        RecordStatus::Destroyed => Some(Decision::deny(Reason::new(
            RuleId::RecordNone,
            "the record was destroyed",
        ))),
    }
}

/// The professional's checks that do not depend on a resource or on Consent verdicts.
pub(crate) fn standing<'a>(
    context: &Context,
    professional: &'a Professional,
    record: &RecordFacts,
    matrix: &'a AccessMatrix,
) -> Result<Standing<'a>, Decision> {
    if let Some(deny) = closed(record) {
        return Err(deny);
    }
    if context.is_administrative_purpose() {
        return Err(Decision::deny(Reason::new(
            RuleId::SubjectAdministrative,
            "payment and operations purposes never give access to medical data",
        )));
    }
    let Some(profession) = &professional.profession else {
        return Err(Decision::deny(Reason::new(
            RuleId::SubjectAdministrative,
            "a practitioner without a profession never has access to medical data",
        )));
    };
    let Some(row) = matrix.profession(profession) else {
        return Err(Decision::deny(Reason::new(
            RuleId::SubjectUnknownProfession,
            format!("the profession `{profession}` is not in the access matrix"),
        )));
    };
    check_consents(record)?;
    Ok(Standing {
        row,
        general_practitioner: record
            .general_practitioners
            .contains(&professional.reference()),
        break_glass: context.is_break_glass() && row.health,
    })
}

/// Every Consent is readable and about this record's patient; else the decision fails closed.
pub(crate) fn check_consents(record: &RecordFacts) -> Result<(), Decision> {
    for consent in &record.consents {
        if consent.unreadable.is_some() {
            return Err(Decision::error("a consent of the record could not be read"));
        }
        if consent
            .patient_id
            .as_ref()
            .is_some_and(|p| *p != record.patient_id)
        {
            return Err(Decision::error(
                "a consent of the record is about another patient",
            ));
        }
    }
    Ok(())
}

/// The reasons of the Consent provisions that deny.
pub(crate) fn deny_reasons(hits: &[Hit<'_>]) -> Vec<Reason> {
    hits.iter()
        .map(|hit| {
            let (rule, text) = if hit.scoped {
                (
                    RuleId::ResourceConsentDeny,
                    "a consent provision of the patient denies this data",
                )
            } else if hit.break_glass_purpose {
                (
                    RuleId::RecordBreakGlassOpposed,
                    "the patient opposed emergency access",
                )
            } else {
                (
                    RuleId::RecordBlocked,
                    "the patient blocked this professional",
                )
            };
            Reason::by_consent(rule, &hit.provision.path, text)
        })
        .collect()
}

/// The reasons of the Consent provisions that permit.
pub(crate) fn permit_reasons(hits: &[Hit<'_>]) -> Vec<Reason> {
    hits.iter()
        .map(|hit| {
            Reason::by_consent(
                RuleId::RecordConsentPermit,
                &hit.provision.path,
                "a consent of the patient authorizes this professional",
            )
        })
        .collect()
}

/// The professional's access bases given a Consent verdict: a permit with its reasons and
/// obligations, or the default deny. The verdict must not be a deny.
pub(crate) fn bases(standing: &Standing<'_>, verdict: &Verdict<'_>) -> Decision {
    let mut reasons = Vec::new();
    if standing.general_practitioner {
        reasons.push(Reason::new(
            RuleId::RecordGeneralPractitioner,
            "the professional is the patient's médecin traitant",
        ));
    }
    if verdict.is_permit() {
        reasons.extend(permit_reasons(&verdict.permits));
    }
    if !reasons.is_empty() {
        return Decision::permit(reasons);
    }
    if standing.break_glass {
        let mut decision = Decision::permit(vec![Reason::new(
            RuleId::RecordBreakGlass,
            "emergency access the patient did not oppose",
        )]);
        decision.obligations.push(Obligation::BreakGlass);
        return decision;
    }
    Decision::deny(Reason::new(
        RuleId::DefaultDeny,
        "the professional has no access right to this record",
    ))
}

/// A professional's access to the whole record, for a request counting as `actions`.
pub(crate) fn professional_record_decision(
    context: &Context,
    professional: &Professional,
    record: &RecordFacts,
    matrix: &AccessMatrix,
    actions: &[&str],
) -> Decision {
    let standing = match standing(context, professional, record, matrix) {
        Ok(standing) => standing,
        Err(deny) => return deny,
    };
    let asking = Asking {
        professional,
        purposes: &context.purposes,
        actions,
        now_millis: context.now_millis,
    };
    let verdict = provision::evaluate(&record.consents, &asking, None);
    if verdict.is_deny() {
        return Decision::deny_all(deny_reasons(&verdict.denies));
    }
    bases(&standing, &verdict)
}

/// The `$access` status of the context's requester on `record`.
pub(crate) fn record_access(
    context: &Context,
    record: Option<&RecordFacts>,
    matrix: &AccessMatrix,
) -> RecordAccess {
    let Some(record) = record else {
        return RecordAccess::NoRecord;
    };
    match record.status {
        RecordStatus::Destroyed => return RecordAccess::NoRecord,
        RecordStatus::Closed => return RecordAccess::Closed,
        RecordStatus::Open => {}
    }
    let decision = record_decision(context, record, matrix);
    if decision.is_permit() {
        RecordAccess::Authorized(decision.reasons)
    } else if decision.has_rule(RuleId::RecordBlocked) {
        RecordAccess::Blocked(decision.reasons)
    } else {
        RecordAccess::NotAuthorized(decision.reasons)
    }
}

/// May the context's requester read `record` at all (a permit carries `BreakGlass` when
/// that is its basis).
pub(crate) fn record_decision(
    context: &Context,
    record: &RecordFacts,
    matrix: &AccessMatrix,
) -> Decision {
    if let Some(deny) = closed(record) {
        return deny;
    }
    match &context.requester {
        Requester::System { .. } => Decision::permit(vec![Reason::new(
            RuleId::SystemOutsideConsent,
            "a system client acts outside consent, within its scopes",
        )]),
        Requester::Patient { .. } | Requester::Representative { .. } => own_record(context, record)
            .unwrap_or_else(|| {
                Decision::permit(vec![Reason::new(
                    RuleId::RecordOwn,
                    "the patient's own record",
                )])
            }),
        Requester::Unrecognised { .. } => unrecognised(),
        Requester::Professional(professional) => {
            professional_record_decision(context, professional, record, matrix, READ_ACTIONS)
        }
    }
}

/// The consentaction codes of reads and searches.
pub(crate) const READ_ACTIONS: &[&str] = &["access", "use"];
/// The consentaction codes of writes.
pub(crate) const WRITE_ACTIONS: &[&str] = &["collect", "correct"];

/// For a patient or representative: the deny when `record` is not their own, or when a
/// parental representative's patient has come of age (§7: the patient gets their own
/// access and the representative's ends), else `None`.
pub(crate) fn own_record(context: &Context, record: &RecordFacts) -> Option<Decision> {
    match context.requester.own_patient() {
        Some(patient) if patient == record.patient_id => {}
        _ => {
            return Some(Decision::deny(Reason::new(
                RuleId::RecordOtherPatient,
                "a patient or representative may access their own record only",
            )));
        }
    }
    let parental = matches!(
        context.requester,
        Requester::Representative {
            until_majority: true,
            ..
        }
    );
    let of_age = record
        .majority_millis
        .is_some_and(|majority| majority <= context.now_millis);
    (parental && of_age).then(|| {
        Decision::deny(Reason::new(
            RuleId::RepresentativeMajority,
            "the patient has come of age: their parental representative's access ended",
        ))
    })
}

/// The deny of a subject Carnet cannot place.
pub(crate) fn unrecognised() -> Decision {
    Decision::deny(Reason::new(
        RuleId::SubjectUnrecognised,
        "the subject is neither the patient, their legal representative nor a professional",
    ))
}
