//! The rules of DMP-RULES.md §3–§6 through `Policy::decide`, `record_access` and
//! `search_constraint`, one test per rule (named after it), on the bundled matrix.

use serde_json::{Value, json};

use super::*;
use crate::auth::PurposeOfUse;

pub(super) const NOW: i64 = 1_800_000_000_000;
pub(super) const DAY: i64 = 24 * 60 * 60 * 1_000;
const LOINC: &str = "http://loinc.org";

pub(super) fn policy() -> Policy {
    Policy::new(AccessMatrix::bundled().unwrap(), PolicyConfig::default())
}

pub(super) fn professional(id: &str, profession: &str, purposes: &[PurposeOfUse]) -> Context {
    Context {
        requester: Requester::Professional(Professional {
            practitioner_id: id.into(),
            profession: Some(profession.into()),
            organization: Some("Organization/hospital".into()),
        }),
        purposes: purposes.to_vec(),
        now_millis: NOW,
    }
}

pub(super) fn doctor(id: &str) -> Context {
    professional(id, "10", &[PurposeOfUse::Treat])
}

pub(super) fn patient() -> Context {
    Context {
        requester: Requester::Patient {
            patient_id: "p1".into(),
        },
        purposes: vec![PurposeOfUse::Treat],
        now_millis: NOW,
    }
}

pub(super) fn representative() -> Context {
    Context {
        requester: Requester::Representative {
            related_person_id: "rp1".into(),
            patient_id: "p1".into(),
            until_majority: false,
        },
        ..patient()
    }
}

pub(super) fn consent(id: &str, provision: Value) -> ConsentPolicy {
    ConsentPolicy::from_json(
        &json!({"resourceType": "Consent", "id": id, "status": "active",
        "patient": {"reference": "Patient/p1"}, "provision": provision}),
    )
    .unwrap()
}

pub(super) fn actor(reference: &str) -> Value {
    json!([{"reference": {"reference": reference}}])
}

pub(super) fn record(consents: Vec<ConsentPolicy>) -> RecordFacts {
    RecordFacts {
        patient_id: "p1".into(),
        status: RecordStatus::Open,
        general_practitioners: vec!["Practitioner/gp".into()],
        consents,
        majority_millis: None,
    }
}

pub(super) fn document(loinc: &str, labels: &[(LabelCode, Option<i64>)]) -> ResourceFacts {
    ResourceFacts {
        resource_type: "DocumentReference".into(),
        id: Some("d1".into()),
        patient: Some("p1".into()),
        document_class: Some("10".into()),
        document_types: vec![(LOINC.into(), loinc.into())],
        categories: vec![],
        authors: vec!["Practitioner/author".into()],
        date_millis: Some(NOW - 10 * DAY),
        labels: labels
            .iter()
            .map(|(code, set_at_millis)| Label {
                code: code.clone(),
                set_at_millis: *set_at_millis,
            })
            .collect(),
    }
}

pub(super) fn read(context: &Context, record: &RecordFacts, resource: &ResourceFacts) -> Decision {
    policy().decide(context, &Action::Read, Some(record), Some(resource))
}

pub(super) fn rules(decision: &Decision) -> Vec<&'static str> {
    decision.reasons.iter().map(|r| r.rule.as_str()).collect()
}

pub(super) fn consult() -> ResourceFacts {
    document("11488-4", &[])
}

#[test]
fn system_outside_consent() {
    let system = Context {
        requester: Requester::System {
            name: "feed".into(),
        },
        ..patient()
    };
    let blocked = record(vec![consent("b", json!({"type": "deny"}))]);
    let decision = read(&system, &blocked, &consult());
    assert!(decision.is_permit());
    assert_eq!(rules(&decision), ["system.outside-consent"]);
}

#[test]
fn directory_data_is_read_by_all_and_written_by_systems() {
    let practitioner = ResourceFacts {
        resource_type: "Practitioner".into(),
        patient: None,
        ..consult()
    };
    let policy = policy();
    for context in [patient(), doctor("x")] {
        assert!(
            policy
                .decide(&context, &Action::Read, None, Some(&practitioner))
                .is_permit()
        );
        let write = policy.decide(&context, &Action::Update, None, Some(&practitioner));
        assert_eq!(rules(&write), ["dmp.directory.write-system-only"]);
    }
}

#[test]
fn record_none_and_record_closed() {
    let policy = policy();
    let decision = policy.decide(&doctor("gp"), &Action::Read, None, Some(&consult()));
    assert_eq!(rules(&decision), ["dmp.record.none"]);
    assert_eq!(
        policy.record_access(&doctor("gp"), None),
        RecordAccess::NoRecord
    );
    let mut closed = record(vec![]);
    closed.status = RecordStatus::Closed;
    for context in [doctor("gp"), patient()] {
        assert_eq!(
            rules(&read(&context, &closed, &consult())),
            ["dmp.record.closed"]
        );
        assert_eq!(
            policy.record_access(&context, Some(&closed)),
            RecordAccess::Closed
        );
    }
    closed.status = RecordStatus::Destroyed;
    assert_eq!(
        policy.record_access(&patient(), Some(&closed)),
        RecordAccess::NoRecord
    );
}

#[test]
fn record_general_practitioner() {
    let decision = read(&doctor("gp"), &record(vec![]), &consult());
    assert!(decision.is_permit());
    assert_eq!(rules(&decision), ["dmp.record.general-practitioner"]);
    assert!(decision.obligations.is_empty());
}

#[test]
fn consent_default_deny_without_access_right() {
    let decision = read(&doctor("stranger"), &record(vec![]), &consult());
    assert_eq!(rules(&decision), ["consent.default-deny"]);
    assert!(matches!(
        policy().record_access(&doctor("stranger"), Some(&record(vec![]))),
        RecordAccess::NotAuthorized(_)
    ));
}

#[test]
fn record_consent_permit_names_the_professional_or_organization() {
    for reference in ["Practitioner/pr1", "Organization/hospital"] {
        let r = record(vec![consent(
            "c1",
            json!({"type": "permit", "actor": actor(reference)}),
        )]);
        let decision = read(&doctor("pr1"), &r, &consult());
        assert!(decision.is_permit(), "{reference}");
        assert_eq!(decision.reasons[0].rule, RuleId::RecordConsentPermit);
        assert_eq!(
            decision.reasons[0].consent.as_deref(),
            Some("Consent/c1#provision")
        );
    }
    let other = record(vec![consent(
        "c1",
        json!({"type": "permit", "actor": actor("Practitioner/pr2")}),
    )]);
    assert!(!read(&doctor("pr1"), &other, &consult()).is_permit());
}

#[test]
fn record_blocked_wins_over_everything() {
    let block = consent(
        "b1",
        json!({"type": "deny", "actor": actor("Practitioner/gp")}),
    );
    let permit = consent(
        "c1",
        json!({"type": "permit", "actor": actor("Practitioner/gp")}),
    );
    let r = record(vec![permit, block]);
    let bg = professional("gp", "10", &[PurposeOfUse::BreakTheGlass]);
    for context in [doctor("gp"), bg] {
        let decision = read(&context, &r, &consult());
        assert_eq!(rules(&decision), ["dmp.record.blocked"]);
        assert_eq!(
            decision.reasons[0].consent.as_deref(),
            Some("Consent/b1#provision")
        );
        assert!(matches!(
            policy().record_access(&context, Some(&r)),
            RecordAccess::Blocked(_)
        ));
    }
    // A block by role (profession) or organization.
    let by_role = consent(
        "b2",
        json!({"type": "deny", "actor": [{"role": {"coding": [
        {"system": TRE_G15, "code": "60"}]}}]}),
    );
    let r = record(vec![by_role]);
    assert!(
        !read(
            &professional("gp", "60", &[PurposeOfUse::Treat]),
            &r,
            &consult()
        )
        .is_permit()
    );
    assert!(read(&doctor("gp"), &r, &consult()).is_permit());
}

#[test]
fn record_deny_without_actor_or_purpose_refuses_every_professional() {
    let r = record(vec![consent("all", json!({"type": "deny"}))]);
    for context in [
        doctor("gp"),
        professional("x", "10", &[PurposeOfUse::EmergencyTreat]),
    ] {
        assert_eq!(
            rules(&read(&context, &r, &consult())),
            ["dmp.record.blocked"]
        );
    }
    assert!(
        read(&patient(), &r, &consult()).is_permit(),
        "not the patient"
    );
}

#[test]
fn record_break_glass() {
    let bg = professional("urgentiste", "10", &[PurposeOfUse::EmergencyTreat]);
    let decision = read(&bg, &record(vec![]), &consult());
    assert!(decision.is_permit());
    assert_eq!(rules(&decision), ["dmp.record.break-glass"]);
    assert_eq!(decision.obligations, [Obligation::BreakGlass]);
    let at_record = policy().decide(&bg, &Action::Read, Some(&record(vec![])), None);
    assert_eq!(at_record.obligations, [Obligation::BreakGlass]);
    // Non-health professions cannot break the glass.
    let psy = professional("psy", "PSYCHOLOGUE", &[PurposeOfUse::BreakTheGlass]);
    assert!(!read(&psy, &record(vec![]), &document("60591-5", &[])).is_permit());
}

#[test]
fn record_break_glass_opposed() {
    let opposition = consent(
        "o1",
        json!({"type": "deny", "purpose": [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "BTG"},
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "ETREAT"}]}),
    );
    let r = record(vec![opposition]);
    let bg = professional("urgentiste", "10", &[PurposeOfUse::BreakTheGlass]);
    let decision = read(&bg, &r, &consult());
    assert_eq!(rules(&decision), ["dmp.record.break-glass-opposed"]);
    assert!(matches!(
        policy().record_access(&bg, Some(&r)),
        RecordAccess::NotAuthorized(_)
    ));
    assert!(
        read(&doctor("gp"), &r, &consult()).is_permit(),
        "treatment is not opposed"
    );
}

#[test]
fn subject_administrative_is_always_denied() {
    let payer = professional("gp", "10", &[PurposeOfUse::Payment]);
    assert_eq!(
        rules(&read(&payer, &record(vec![]), &consult())),
        ["dmp.subject.administrative"]
    );
    let mut staff = doctor("gp");
    if let Requester::Professional(p) = &mut staff.requester {
        p.profession = None;
    }
    assert_eq!(
        rules(&read(&staff, &record(vec![]), &consult())),
        ["dmp.subject.administrative"]
    );
}

#[test]
fn subject_unknown_profession_is_denied() {
    let unknown = professional("gp", "99", &[PurposeOfUse::Treat]);
    assert_eq!(
        rules(&read(&unknown, &record(vec![]), &consult())),
        ["dmp.subject.unknown-profession"]
    );
}

#[test]
fn subject_unrecognised_and_other_patients() {
    let stranger = Context {
        requester: Requester::Unrecognised {
            reference: "RelatedPerson/x".into(),
        },
        ..patient()
    };
    assert_eq!(
        rules(&read(&stranger, &record(vec![]), &consult())),
        ["dmp.subject.unrecognised"]
    );
    let other = Context {
        requester: Requester::Patient {
            patient_id: "p2".into(),
        },
        ..patient()
    };
    assert_eq!(
        rules(&read(&other, &record(vec![]), &consult())),
        ["dmp.record.other-patient"]
    );
}

#[test]
fn resource_matrix_applies_to_the_profession() {
    let pedicure = professional("gp", "80", &[PurposeOfUse::Treat]);
    let decision = read(&pedicure, &record(vec![]), &document("34112-3", &[]));
    assert_eq!(rules(&decision), ["dmp.resource.matrix"]);
    assert!(read(&pedicure, &record(vec![]), &consult()).is_permit());
}

#[test]
fn resource_masque_ps_and_its_exemptions() {
    let masked = document("11488-4", &[(LabelCode::masque_ps(), Some(NOW))]);
    let permit = |id: &str| {
        record(vec![consent(
            "c",
            json!({"type": "permit", "actor": actor(&format!("Practitioner/{id}"))}),
        )])
    };
    assert_eq!(
        rules(&read(&doctor("pr1"), &permit("pr1"), &masked)),
        ["dmp.resource.masque-ps"]
    );
    let author = read(&doctor("author"), &permit("author"), &masked);
    assert!(
        author.has_rule(RuleId::ResourceMasquePsAuthorExemption),
        "{author:?}"
    );
    let gp = read(&doctor("gp"), &record(vec![]), &masked);
    assert!(gp.has_rule(RuleId::ResourceMasquePsGeneralPractitionerExemption));
    let bg = professional("x", "10", &[PurposeOfUse::BreakTheGlass]);
    assert_eq!(
        rules(&read(&bg, &record(vec![]), &masked)),
        ["dmp.resource.masque-ps"]
    );
    assert!(read(&patient(), &record(vec![]), &masked).is_permit());
}

#[test]
fn resource_confidentiality_btg_not_under_break_glass_alone() {
    let restricted = document(
        "11488-4",
        &[(
            LabelCode::new(crate::fhir::labels::V3_CONFIDENTIALITY, "V"),
            None,
        )],
    );
    let bg = professional("x", "10", &[PurposeOfUse::BreakTheGlass]);
    assert_eq!(
        rules(&read(&bg, &record(vec![]), &restricted)),
        ["dmp.resource.confidentiality-btg"]
    );
    let bg_gp = professional("gp", "10", &[PurposeOfUse::BreakTheGlass]);
    assert!(read(&bg_gp, &record(vec![]), &restricted).is_permit());
}

#[test]
fn resource_invisible_patient_expires_after_thirty_days() {
    let recent = document(
        "11502-2",
        &[(LabelCode::invisible_patient(), Some(NOW - 29 * DAY))],
    );
    let old = document(
        "11502-2",
        &[(LabelCode::invisible_patient(), Some(NOW - 30 * DAY))],
    );
    let unknown = document("11502-2", &[(LabelCode::invisible_patient(), None)]);
    for context in [patient(), representative()] {
        assert_eq!(
            rules(&read(&context, &record(vec![]), &recent)),
            ["dmp.resource.invisible-patient"]
        );
        assert_eq!(
            rules(&read(&context, &record(vec![]), &unknown)),
            ["dmp.resource.invisible-patient"]
        );
        let expired = read(&context, &record(vec![]), &old);
        assert!(expired.has_rule(RuleId::ResourceInvisiblePatientExpired));
        assert_eq!(
            expired.obligations,
            [Obligation::InvisibilityExpired {
                set_at_millis: NOW - 30 * DAY
            }]
        );
    }
    assert!(
        read(&doctor("gp"), &record(vec![]), &recent).is_permit(),
        "professionals see it"
    );
    let short = Policy::new(
        AccessMatrix::bundled().unwrap(),
        PolicyConfig {
            invisible_patient_expiry_millis: DAY,
        },
    );
    assert!(
        short
            .decide(
                &patient(),
                &Action::Read,
                Some(&record(vec![])),
                Some(&recent)
            )
            .is_permit()
    );
}

#[test]
fn representative_majority_ends_a_parental_representative_only() {
    let parent = Context {
        requester: Requester::Representative {
            related_person_id: "rp1".into(),
            patient_id: "p1".into(),
            until_majority: true,
        },
        ..patient()
    };
    let minor = RecordFacts {
        majority_millis: Some(NOW + DAY),
        ..record(vec![])
    };
    let adult = RecordFacts {
        majority_millis: Some(NOW),
        ..record(vec![])
    };
    let policy = policy();
    assert!(read(&parent, &minor, &consult()).is_permit());
    assert!(matches!(
        policy.record_access(&parent, Some(&minor)),
        RecordAccess::Authorized(_)
    ));
    assert!(policy.search_constraint(&parent, &minor).is_some());
    let ended = read(&parent, &adult, &consult());
    assert_eq!(rules(&ended), ["dmp.representative.majority"]);
    let record_read = policy.decide(&parent, &Action::Read, Some(&adult), None);
    assert_eq!(rules(&record_read), ["dmp.representative.majority"]);
    assert!(matches!(
        policy.record_access(&parent, Some(&adult)),
        RecordAccess::NotAuthorized(_)
    ));
    assert!(policy.search_constraint(&parent, &adult).is_none());
    let consent_change = policy.decide(&parent, &Action::ChangeConsent, Some(&adult), None);
    assert_eq!(rules(&consent_change), ["dmp.representative.majority"]);
    assert!(
        !policy
            .decide(&parent, &Action::Close, Some(&adult), None)
            .is_permit()
    );
    // A guardian (GRD/CURTL) of a protected adult, and the patient, continue.
    assert!(read(&representative(), &adult, &consult()).is_permit());
    assert!(read(&patient(), &adult, &consult()).is_permit());
    // Without a birth date, nothing says the patient came of age.
    let unknown = record(vec![]);
    assert!(read(&parent, &unknown, &consult()).is_permit());
}

#[test]
fn resource_invisible_representatives_hides_from_the_representative_only() {
    let hidden = document("11488-4", &[(LabelCode::invisible_representatives(), None)]);
    assert_eq!(
        rules(&read(&representative(), &record(vec![]), &hidden)),
        ["dmp.resource.invisible-representatives"]
    );
    assert!(read(&patient(), &record(vec![]), &hidden).is_permit());
}

#[test]
fn resource_consent_deny_scoped_to_a_class() {
    let r = record(vec![consent(
        "c",
        json!({"type": "permit", "actor": actor("Practitioner/pr1"),
        "provision": [{"type": "deny", "code": [{"coding": [{"system": LOINC, "code": "11502-2"}]}]}]}),
    )]);
    let decision = read(&doctor("pr1"), &r, &document("11502-2", &[]));
    assert_eq!(rules(&decision), ["dmp.resource.consent-deny"]);
    assert_eq!(
        decision.reasons[0].consent.as_deref(),
        Some("Consent/c#provision.provision[0]")
    );
    assert!(read(&doctor("pr1"), &r, &consult()).is_permit());
    assert!(matches!(
        policy().record_access(&doctor("pr1"), Some(&r)),
        RecordAccess::Authorized(_)
    ));
}

#[test]
fn policy_error_on_unreadable_consents_and_wrong_facts() {
    let broken = ConsentPolicy::unreadable(
        Some("x".into()),
        None,
        &ConsentError::InvalidConsent("bad".into()),
    );
    let r = record(vec![broken]);
    assert_eq!(
        rules(&read(&doctor("gp"), &r, &consult())),
        ["policy.error"]
    );
    assert!(policy().search_constraint(&doctor("gp"), &r).is_none());
    let mut elsewhere = consult();
    elsewhere.patient = Some("p2".into());
    assert_eq!(
        rules(&read(&doctor("gp"), &record(vec![]), &elsewhere)),
        ["policy.error"]
    );
    let mut foreign = consent("f", json!({"type": "permit"}));
    foreign.patient_id = Some("p2".into());
    assert_eq!(
        rules(&read(&doctor("gp"), &record(vec![foreign]), &consult())),
        ["policy.error"]
    );
}

#[test]
fn search_constraint_shapes() {
    let policy = policy();
    let r = record(vec![]);
    assert!(policy.search_constraint(&doctor("stranger"), &r).is_none());
    let gp = policy.search_constraint(&doctor("gp"), &r).unwrap();
    assert_eq!(gp.patient_id, "p1");
    assert_eq!(gp.reasons[0].rule, RuleId::RecordGeneralPractitioner);
    let bg = professional("x", "10", &[PurposeOfUse::BreakTheGlass]);
    assert_eq!(
        policy.search_constraint(&bg, &r).unwrap().obligations,
        [Obligation::BreakGlass]
    );
    let mine = policy.search_constraint(&patient(), &r).unwrap();
    assert_eq!(
        mine.filter,
        Filter::Not(Box::new(Filter::LabelSetAfter {
            label: LabelCode::invisible_patient(),
            cutoff_millis: NOW - 30 * DAY,
        }))
    );
}
