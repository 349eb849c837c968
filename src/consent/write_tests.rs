//! Who may change what (DMP-RULES.md §6) through `Policy::decide`: creation by
//! professionals and of patient-entered data, author-only updates and deletes, label
//! owners, Consent changes, record closure.

use crate::consent::tests::{
    NOW, actor, consent, consult, doctor, document, patient, policy, record, representative, rules,
};
use crate::consent::*;
use serde_json::json;

fn decide(context: &Context, action: Action, resource: Option<&ResourceFacts>) -> Decision {
    policy().decide(context, &action, Some(&record(vec![])), resource)
}

#[test]
fn write_professional_with_record_access_creates() {
    assert!(decide(&doctor("gp"), Action::Create, Some(&consult())).is_permit());
    assert_eq!(
        rules(&decide(&doctor("x"), Action::Create, Some(&consult()))),
        ["consent.default-deny"]
    );
}

#[test]
fn write_patient_entered_data_only() {
    let allergy = ResourceFacts {
        resource_type: "AllergyIntolerance".into(),
        document_class: None,
        document_types: vec![],
        ..consult()
    };
    for context in [patient(), representative()] {
        assert!(decide(&context, Action::Create, Some(&allergy)).is_permit());
        let report = decide(&context, Action::Create, Some(&consult()));
        assert_eq!(rules(&report), ["dmp.write.not-patient-entered"]);
    }
    let mut own = consult();
    own.document_class = Some("90".into());
    own.labels = vec![Label {
        code: LabelCode::invisible_patient(),
        set_at_millis: None,
    }];
    let decision = decide(&patient(), Action::Create, Some(&own));
    assert_eq!(rules(&decision), ["dmp.label.author-professional"]);
}

#[test]
fn write_author_only_updates_and_deletes() {
    let mut with_access = record(vec![]);
    with_access
        .general_practitioners
        .push("Practitioner/author".into());
    for action in [Action::Update, Action::Delete] {
        let author = policy().decide(
            &doctor("author"),
            &action,
            Some(&with_access),
            Some(&consult()),
        );
        assert_eq!(rules(&author), ["dmp.write.author"]);
        let other = policy().decide(&doctor("gp"), &action, Some(&with_access), Some(&consult()));
        assert_eq!(rules(&other), ["dmp.write.author-only"]);
        assert_eq!(
            rules(&decide(&patient(), action.clone(), Some(&consult()))),
            ["dmp.write.author-only"]
        );
    }
    let mut by_patient = consult();
    by_patient.authors = vec!["Patient/p1".into()];
    assert!(decide(&representative(), Action::Delete, Some(&by_patient)).is_permit());
}

#[test]
fn label_masque_ps_by_the_patient_only() {
    let change = Action::ChangeLabels {
        added: vec![LabelCode::masque_ps()],
        removed: vec![],
    };
    for context in [patient(), representative()] {
        assert_eq!(
            rules(&decide(&context, change.clone(), Some(&consult()))),
            ["dmp.label.masque-ps"]
        );
        assert!(decide(&context, change.clone(), Some(&consult())).is_permit());
    }
    let mut with_access = record(vec![]);
    with_access
        .general_practitioners
        .push("Practitioner/author".into());
    let author = policy().decide(
        &doctor("author"),
        &change,
        Some(&with_access),
        Some(&consult()),
    );
    assert!(!author.is_permit());
    assert_eq!(rules(&author), ["dmp.label.masque-ps"]);
}

#[test]
fn label_invisible_patient_by_the_author_professional_only() {
    let change = Action::ChangeLabels {
        added: vec![],
        removed: vec![LabelCode::invisible_patient()],
    };
    let hidden = document("11502-2", &[(LabelCode::invisible_patient(), Some(NOW))]);
    let mut with_access = record(vec![]);
    with_access
        .general_practitioners
        .push("Practitioner/author".into());
    let author = policy().decide(
        &doctor("author"),
        &change,
        Some(&with_access),
        Some(&hidden),
    );
    assert_eq!(rules(&author), ["dmp.label.author-professional"]);
    assert!(author.is_permit());
    let gp = policy().decide(&doctor("gp"), &change, Some(&with_access), Some(&hidden));
    assert!(!gp.is_permit());
    // The patient cannot even see it, so cannot change it.
    let mine = policy().decide(&patient(), &change, Some(&with_access), Some(&hidden));
    assert_eq!(rules(&mine), ["dmp.resource.invisible-patient"]);
}

#[test]
fn consent_change_by_patient_representative_or_general_practitioner() {
    let consent_facts = ResourceFacts {
        resource_type: "Consent".into(),
        ..consult()
    };
    for context in [patient(), representative(), doctor("gp")] {
        assert!(decide(&context, Action::ChangeConsent, None).is_permit());
        assert!(decide(&context, Action::Create, Some(&consent_facts)).is_permit());
    }
    let r = record(vec![consent(
        "c",
        json!({"type": "permit", "actor": actor("Practitioner/pr1")}),
    )]);
    let other = policy().decide(&doctor("pr1"), &Action::ChangeConsent, Some(&r), None);
    assert_eq!(rules(&other), ["dmp.consent.change"]);
    assert!(!other.is_permit());
}

#[test]
fn record_lifecycle_by_the_patient() {
    assert!(decide(&patient(), Action::Close, None).is_permit());
    assert!(!decide(&patient(), Action::Reactivate, None).is_permit());
    assert!(!decide(&doctor("gp"), Action::Close, None).is_permit());
    let mut closed = record(vec![]);
    closed.status = RecordStatus::Closed;
    assert!(
        policy()
            .decide(&representative(), &Action::Reactivate, Some(&closed), None)
            .is_permit()
    );
}
