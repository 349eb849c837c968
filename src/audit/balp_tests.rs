//! The BALP shapes of `balp.rs`: valid R4 for every action and outcome, the codes BALP
//! asks for, the reasons, and purpose BTG under break-glass.

use super::*;
use crate::consent::RuleId;
use crate::fhir::schema::Schema;
use crate::fhir::validate::validate_resource;

const PURPOSES: [&str; 1] = ["TREAT"];

fn practitioner() -> Requestor<'static> {
    Requestor {
        reference: Some("Practitioner/dr-1"),
        name: "dr-1",
        purposes: &PURPOSES,
        profession: Some("10"),
        organization: Some("Organization/org-1"),
    }
}

fn request(requestor: Requestor<'static>) -> AccessRequest<'static> {
    AccessRequest {
        requestor,
        request_id: "req-1",
        recorded_millis: 1_700_000_000_123,
    }
}

fn event(action: AccessAction, outcome: AccessOutcome) -> AccessEvent {
    AccessEvent {
        action,
        outcome,
        patients: vec!["p-1".into()],
        resources: vec!["Observation/o-1".into()],
        query: None,
        reasons: vec![
            Reason::new(
                RuleId::RecordGeneralPractitioner,
                "the professional is the médecin traitant",
            ),
            Reason::by_consent(
                RuleId::ResourceConsentDeny,
                "Consent/c-1#provision.provision[0]",
                "a provision of the patient denies this document",
            ),
        ],
        break_glass: false,
    }
}

fn build(event: &AccessEvent, requestor: Requestor<'static>) -> Value {
    Value::Object(access_event(event, &request(requestor)))
}

fn all_actions() -> Vec<AccessAction> {
    vec![
        AccessAction::Read,
        AccessAction::Query,
        AccessAction::Create,
        AccessAction::Update,
        AccessAction::Delete,
        AccessAction::Operation("access".into()),
    ]
}

#[test]
fn every_shape_is_a_valid_r4_audit_event() {
    let schema = Schema::r4().unwrap();
    const SYSTEM_PURPOSES: [&str; 2] = ["HOPERAT", "urn:example:purposes|AUDIT"];
    let system = Requestor {
        reference: None,
        name: "insurer-feed",
        purposes: &SYSTEM_PURPOSES,
        profession: None,
        organization: None,
    };
    let patient = Requestor {
        reference: Some("Patient/p-1"),
        name: "p-1",
        purposes: &[],
        profession: None,
        organization: None,
    };
    for action in all_actions() {
        for outcome in [AccessOutcome::Granted, AccessOutcome::Denied] {
            for requestor in [practitioner(), system, patient] {
                let mut event = event(action.clone(), outcome);
                for variant in 0..3 {
                    match variant {
                        1 => {
                            event.query = Some("code=http://loinc.org|1234-5&_count=10".into());
                            event.break_glass = true;
                            event.resources.push("Observation/o-2/_history/3".into());
                        }
                        2 => {
                            event.patients.clear();
                            event.resources.clear();
                            event.reasons.clear();
                        }
                        _ => {}
                    }
                    let resource = build(&event, requestor);
                    let issues = validate_resource(&schema, &resource);
                    assert!(issues.is_empty(), "{issues:?} in {resource}");
                }
            }
        }
    }
}

#[test]
fn type_subtype_and_action_follow_the_restful_interaction() {
    let expected = [
        ("read", "R"),
        ("search", "E"),
        ("create", "C"),
        ("update", "U"),
        ("delete", "D"),
        ("operation", "E"),
    ];
    for (action, (subtype, code)) in all_actions().into_iter().zip(expected) {
        let resource = build(&event(action, AccessOutcome::Granted), practitioner());
        assert_eq!(resource["type"]["system"], AUDIT_EVENT_TYPE);
        assert_eq!(resource["type"]["code"], "rest");
        assert_eq!(resource["subtype"][0]["system"], RESTFUL_INTERACTION);
        assert_eq!(resource["subtype"][0]["code"], subtype);
        assert_eq!(resource["action"], code);
    }
    let mut vread = event(AccessAction::Read, AccessOutcome::Granted);
    vread.resources = vec!["Observation/o-1/_history/2".into()];
    assert_eq!(build(&vread, practitioner())["subtype"][0]["code"], "vread");
    let operation = build(
        &event(
            AccessAction::Operation("$explain".into()),
            AccessOutcome::Granted,
        ),
        practitioner(),
    );
    assert_eq!(operation["subtype"][0]["display"], "operation $explain");
}

#[test]
fn outcome_and_description_carry_the_decision() {
    let granted = build(
        &event(AccessAction::Read, AccessOutcome::Granted),
        practitioner(),
    );
    assert_eq!(granted["outcome"], "0");
    assert_eq!(granted["recorded"], "2023-11-14T22:13:20.123Z");
    assert_eq!(
        granted["outcomeDesc"],
        "access granted: the professional is the médecin traitant \
         (dmp.record.general-practitioner); a provision of the patient denies this \
         document (dmp.resource.consent-deny)"
    );
    let mut denied = event(AccessAction::Read, AccessOutcome::Denied);
    denied.reasons.clear();
    let denied = build(&denied, practitioner());
    assert_eq!(denied["outcome"], "4");
    assert_eq!(denied["outcomeDesc"], "access denied");
}

#[test]
fn the_requestor_is_the_agent_with_role_purpose_and_organization() {
    let resource = build(
        &event(AccessAction::Read, AccessOutcome::Granted),
        practitioner(),
    );
    let agent = &resource["agent"][0];
    assert_eq!(agent["who"]["reference"], "Practitioner/dr-1");
    assert_eq!(agent["requestor"], true);
    assert_eq!(agent["type"]["coding"][0]["code"], "IRCP");
    assert_eq!(agent["role"][0]["coding"][0]["system"], TRE_G15);
    assert_eq!(agent["role"][0]["coding"][0]["code"], "10");
    assert_eq!(agent["purposeOfUse"][0]["coding"][0]["code"], "TREAT");
    assert_eq!(agent["purposeOfUse"][0]["coding"][0]["system"], ACT_REASON);
    assert_eq!(resource["purposeOfEvent"], agent["purposeOfUse"]);
    let organization = &resource["agent"][1];
    assert_eq!(organization["who"]["reference"], "Organization/org-1");
    assert_eq!(organization["requestor"], false);
    assert_eq!(resource["source"]["observer"]["display"], "carnet");

    let created = build(
        &event(AccessAction::Create, AccessOutcome::Granted),
        practitioner(),
    );
    assert_eq!(created["agent"][0]["type"]["coding"][0]["code"], "AUT");

    const PURPOSES: [&str; 1] = ["urn:example:purposes|AUDIT"];
    let system = Requestor {
        reference: None,
        name: "insurer-feed",
        purposes: &PURPOSES,
        profession: None,
        organization: None,
    };
    let resource = build(&event(AccessAction::Query, AccessOutcome::Granted), system);
    let agent = &resource["agent"][0];
    assert_eq!(agent["who"]["display"], "insurer-feed");
    assert_eq!(agent["name"], "insurer-feed");
    assert_eq!(agent["type"]["coding"][0]["code"], "110150");
    assert_eq!(agent.get("role"), None);
    assert_eq!(
        agent["purposeOfUse"][0]["coding"][0],
        json!({"system": "urn:example:purposes", "code": "AUDIT"})
    );
    assert_eq!(resource["agent"].as_array().unwrap().len(), 1);
}

#[test]
fn break_glass_adds_purpose_btg_once() {
    let mut btg = event(AccessAction::Read, AccessOutcome::Granted);
    btg.break_glass = true;
    let resource = build(&btg, practitioner());
    let codes: Vec<&str> = resource["purposeOfEvent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["coding"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["TREAT", "BTG"]);
    assert!(
        resource["outcomeDesc"]
            .as_str()
            .unwrap()
            .starts_with("access granted under break-glass")
    );
    const ALREADY: [&str; 2] = ["ETREAT", "BTG"];
    let requestor = Requestor {
        purposes: &ALREADY,
        ..practitioner()
    };
    let resource = build(&btg, requestor);
    assert_eq!(resource["purposeOfEvent"].as_array().unwrap().len(), 2);
    let plain = build(
        &event(AccessAction::Read, AccessOutcome::Granted),
        practitioner(),
    );
    assert!(!plain["purposeOfEvent"].to_string().contains("BTG"));
}

#[test]
fn entities_name_patients_resources_query_request_and_reasons() {
    let mut query = event(AccessAction::Query, AccessOutcome::Denied);
    query.query = Some("code=1234-5".into());
    let resource = build(&query, practitioner());
    let entities = resource["entity"].as_array().unwrap();
    assert_eq!(entities.len(), 6, "{resource}");
    assert_eq!(entities[0]["what"]["reference"], "Patient/p-1");
    assert_eq!(entities[0]["role"]["code"], "1");
    assert_eq!(entities[1]["what"]["reference"], "Observation/o-1");
    assert_eq!(entities[1]["role"]["code"], "4");
    assert_eq!(entities[2]["role"]["code"], "24");
    assert_eq!(entities[2]["query"], STANDARD.encode("code=1234-5"));
    assert_eq!(entities[3]["what"]["identifier"]["value"], "req-1");
    let rule = &entities[4];
    assert_eq!(rule["name"], "dmp.record.general-practitioner");
    assert_eq!(
        rule["description"],
        "the professional is the médecin traitant"
    );
    assert_eq!(rule["role"]["code"], "13");
    assert_eq!(rule.get("what"), None);
    assert_eq!(rule.get("detail"), None);
    let provision = &entities[5];
    assert_eq!(provision["name"], "dmp.resource.consent-deny");
    assert_eq!(provision["what"]["reference"], "Consent/c-1");
    assert_eq!(
        provision["detail"][0],
        json!({"type": PROVISION_DETAIL, "valueString": "Consent/c-1#provision.provision[0]"})
    );
}

#[test]
fn a_provision_of_a_consent_without_id_names_no_consent() {
    assert_eq!(
        consent_reference("Consent/c-9#provision"),
        Some("Consent/c-9")
    );
    assert_eq!(consent_reference("Consent#provision"), None);
    assert_eq!(consent_reference("Consent/#provision"), None);
    let mut anonymous = event(AccessAction::Read, AccessOutcome::Denied);
    anonymous.reasons = vec![Reason::by_consent(
        RuleId::RecordBlocked,
        "Consent#provision.provision[1]",
        "the patient blocks this professional",
    )];
    let resource = build(&anonymous, practitioner());
    let reason = resource["entity"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(reason.get("what"), None);
    assert_eq!(
        reason["detail"][0]["valueString"],
        "Consent#provision.provision[1]"
    );
}
