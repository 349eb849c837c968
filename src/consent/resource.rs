//! Access to one resource of a record (DMP-RULES.md §5). A professional needs a basis for
//! it (médecin traitant, a Consent permit that applies to it, or break-glass), no Consent
//! deny that applies to it, the access matrix of their profession, not `MASQUE_PS` unless
//! author or médecin traitant (even under break-glass), and not R/V confidentiality under
//! break-glass alone. The patient sees their record except `INVISIBLE_PATIENT` until it
//! expires; the representative also not `INVISIBLE_REPRESENTANTS_LEGAUX`.

use super::PolicyConfig;
use super::decision::{Decision, Obligation, Reason, RuleId};
use super::facts::{LabelCode, RecordFacts, ResourceFacts};
use super::matrix::AccessMatrix;
use super::provision::{self, Asking};
use super::record::{self, READ_ACTIONS};
use super::requester::{Context, Professional, Requester};

/// Whether the requester (not a system client) may read `resource` of `record`.
pub(crate) fn read(
    context: &Context,
    record: &RecordFacts,
    resource: &ResourceFacts,
    matrix: &AccessMatrix,
    config: &PolicyConfig,
) -> Decision {
    match &context.requester {
        Requester::Patient { .. } | Requester::Representative { .. } => {
            patient_read(context, record, resource, config)
        }
        Requester::Professional(professional) => {
            professional_read(context, professional, record, resource, matrix)
        }
        Requester::Unrecognised { .. } => record::unrecognised(),
        Requester::System { .. } => Decision::error("system clients are decided before"),
    }
}

fn patient_read(
    context: &Context,
    record: &RecordFacts,
    resource: &ResourceFacts,
    config: &PolicyConfig,
) -> Decision {
    if let Some(deny) = record::closed(record).or_else(|| record::own_record(context, record)) {
        return deny;
    }
    let mut reasons = vec![Reason::new(RuleId::RecordOwn, "the patient's own record")];
    let mut obligations = Vec::new();
    if let Some(set_at) = resource.label_set_at(&LabelCode::invisible_patient()) {
        match set_at {
            Some(at) if !is_invisible(at, context.now_millis, config) => {
                reasons.push(Reason::new(
                    RuleId::ResourceInvisiblePatientExpired,
                    "the invisibility to the patient has expired",
                ));
                obligations.push(Obligation::InvisibilityExpired { set_at_millis: at });
            }
            _ => {
                return Decision::deny(Reason::new(
                    RuleId::ResourceInvisiblePatient,
                    "the resource is hidden from the patient until the announcement consultation",
                ));
            }
        }
    }
    if matches!(context.requester, Requester::Representative { .. })
        && resource.has_label(&LabelCode::invisible_representatives())
    {
        return Decision::deny(Reason::new(
            RuleId::ResourceInvisibleRepresentatives,
            "the resource is hidden from the legal representative",
        ));
    }
    let mut decision = Decision::permit(reasons);
    decision.obligations = obligations;
    decision
}

/// Whether `INVISIBLE_PATIENT` set at `set_at` is still in force at `now`.
pub(crate) fn is_invisible(set_at: i64, now: i64, config: &PolicyConfig) -> bool {
    set_at > invisibility_cutoff(now, config)
}

/// Labels set after this time are still in force.
pub(crate) fn invisibility_cutoff(now: i64, config: &PolicyConfig) -> i64 {
    now.saturating_sub(config.invisible_patient_expiry_millis)
}

fn professional_read(
    context: &Context,
    professional: &Professional,
    record: &RecordFacts,
    resource: &ResourceFacts,
    matrix: &AccessMatrix,
) -> Decision {
    let standing = match record::standing(context, professional, record, matrix) {
        Ok(standing) => standing,
        Err(deny) => return deny,
    };
    let asking = Asking {
        professional,
        purposes: &context.purposes,
        actions: READ_ACTIONS,
        now_millis: context.now_millis,
    };
    let verdict = provision::evaluate(&record.consents, &asking, Some(resource));
    if verdict.is_deny() {
        return Decision::deny_all(record::deny_reasons(&verdict.denies));
    }
    let mut decision = record::bases(&standing, &verdict);
    if !decision.is_permit() {
        return decision;
    }
    let break_glass_alone = !standing.general_practitioner && !verdict.is_permit();
    let mut denials = Vec::new();
    if let Some(category) = standing.row.refusal(resource) {
        denials.push(Reason::new(
            RuleId::ResourceMatrix,
            format!(
                "the access matrix does not show `{category}` to the profession `{}`",
                standing.row.code
            ),
        ));
    }
    if resource.has_label(&LabelCode::masque_ps()) {
        let mine = resource.authors.contains(&professional.reference());
        if mine {
            decision.reasons.push(Reason::new(
                RuleId::ResourceMasquePsAuthorExemption,
                "a masked resource stays visible to its author",
            ));
        } else if standing.general_practitioner {
            decision.reasons.push(Reason::new(
                RuleId::ResourceMasquePsGeneralPractitionerExemption,
                "a masked resource stays visible to the médecin traitant",
            ));
        } else {
            denials.push(Reason::new(
                RuleId::ResourceMasquePs,
                "the patient masked this resource from professionals",
            ));
        }
    }
    if break_glass_alone
        && LabelCode::restricted_confidentiality()
            .iter()
            .any(|label| resource.has_label(label))
    {
        denials.push(Reason::new(
            RuleId::ResourceConfidentialityBreakGlass,
            "restricted or very restricted data is not shown under emergency access alone",
        ));
    }
    if denials.is_empty() {
        decision
    } else {
        Decision::deny_all(denials)
    }
}
