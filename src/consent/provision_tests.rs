//! FHIR R4 / IHE PCF Consent semantics (DMP-RULES.md §4): period, status, nested
//! provisions, deepest applicable, deny wins, each element of a provision.

use serde_json::{Value, json};

use super::*;
use crate::auth::PurposeOfUse;
use crate::consent::facts::{Label, LabelCode};
use crate::consent::policy::ConsentPolicy;
use crate::consent::tests::{DAY, NOW, actor, consent, document};

fn pro(id: &str) -> Professional {
    Professional {
        practitioner_id: id.into(),
        profession: Some("10".into()),
        organization: Some("Organization/hospital".into()),
    }
}

fn verdict_of(
    consents: &[ConsentPolicy],
    who: &str,
    purposes: &[PurposeOfUse],
    resource: Option<&ResourceFacts>,
) -> (bool, bool, Vec<String>) {
    let professional = pro(who);
    let asking = Asking {
        professional: &professional,
        purposes,
        actions: &["access", "use"],
        now_millis: NOW,
    };
    let verdict = evaluate(consents, &asking, resource);
    let hits = if verdict.is_deny() {
        &verdict.denies
    } else {
        &verdict.permits
    };
    let paths = hits.iter().map(|h| h.provision.path.clone()).collect();
    // The compiled filters must say the same for a resource.
    if let Some(facts) = resource {
        let (denied, permitted) = compile(consents, &asking);
        assert_eq!(denied.matches(facts), verdict.is_deny(), "deny filter");
        assert_eq!(
            !denied.matches(facts) && permitted.matches(facts),
            verdict.is_permit(),
            "permit filter"
        );
    }
    (verdict.is_deny(), verdict.is_permit(), paths)
}

fn treat() -> Vec<PurposeOfUse> {
    vec![PurposeOfUse::Treat]
}

fn doc() -> ResourceFacts {
    document("11488-4", &[])
}

#[test]
fn consent_period_inactive_and_expired_consents_have_no_effect() {
    let permit = |period: Value, status: &str| {
        let mut c = consent(
            "c",
            json!({"type": "permit", "actor": actor("Practitioner/a"), "period": period}),
        );
        c.status = status.into();
        vec![c]
    };
    let day = |offset: i64| crate::fhir::instant::format_instant(NOW + offset * DAY);
    let cases = [
        (json!({"start": day(-1), "end": day(1)}), "active", true),
        (json!({"start": day(1)}), "active", false),
        (json!({"end": day(-1)}), "active", false),
        (json!({"start": day(-1)}), "inactive", false),
        (json!({"start": day(-1)}), "proposed", false),
    ];
    for (period, status, expected) in cases {
        let (_, permit_seen, _) =
            verdict_of(&permit(period.clone(), status), "a", &treat(), Some(&doc()));
        assert_eq!(permit_seen, expected, "{period} {status}");
    }
}

#[test]
fn consent_nested_provision_is_an_exception_to_its_parent() {
    // Base deny for everyone, exception: permit pr1, itself excepting biology.
    let c = consent(
        "n",
        json!({"type": "deny", "provision": [
        {"type": "permit", "actor": actor("Practitioner/pr1"), "provision": [
            {"type": "deny", "code": [{"coding": [{"system": "http://loinc.org", "code": "11502-2"}]}]}]}]}),
    );
    let consents = [c];
    let (deny, permit, paths) = verdict_of(&consents, "pr1", &treat(), Some(&doc()));
    assert!(!deny && permit);
    assert_eq!(paths, ["Consent/n#provision.provision[0]"]);
    let (deny, _, paths) = verdict_of(&consents, "pr1", &treat(), Some(&document("11502-2", &[])));
    assert!(deny);
    assert_eq!(paths, ["Consent/n#provision.provision[0].provision[0]"]);
    let (deny, _, paths) = verdict_of(&consents, "pr2", &treat(), Some(&doc()));
    assert!(deny);
    assert_eq!(paths, ["Consent/n#provision"]);
    // About the whole record: pr1 has access, pr2 is blocked.
    assert!(verdict_of(&consents, "pr1", &treat(), None).1);
    assert!(verdict_of(&consents, "pr2", &treat(), None).0);
}

#[test]
fn consent_deny_wins_across_consents_and_one_consent_with_nesting_means_the_same() {
    let separate = [
        consent(
            "grant",
            json!({"type": "permit", "actor": actor("Practitioner/pr1")}),
        ),
        consent(
            "block",
            json!({"type": "deny", "actor": actor("Practitioner/pr1")}),
        ),
    ];
    let (deny, _, paths) = verdict_of(&separate, "pr1", &treat(), Some(&doc()));
    assert!(deny);
    assert_eq!(paths, ["Consent/block#provision"]);
    let nested = [consent(
        "one",
        json!({"type": "permit", "provision": [
        {"type": "permit", "actor": actor("Practitioner/pr1")},
        {"type": "deny", "actor": actor("Practitioner/pr1")}]}),
    )];
    let (deny, _, paths) = verdict_of(&nested, "pr1", &treat(), Some(&doc()));
    assert!(deny, "among applicable siblings deny wins");
    assert_eq!(paths, ["Consent/one#provision.provision[1]"]);
}

#[test]
fn consent_deepest_applicable_provision_decides() {
    let c = [consent(
        "d",
        json!({"type": "permit", "provision": [
        {"type": "deny", "actor": actor("Practitioner/pr1"), "provision": [
            {"type": "permit", "purpose": [{"code": "ETREAT"}]}]}]}),
    )];
    assert!(verdict_of(&c, "pr1", &treat(), Some(&doc())).0);
    assert!(verdict_of(&c, "pr1", &[PurposeOfUse::EmergencyTreat], Some(&doc())).1);
    assert!(verdict_of(&c, "pr2", &treat(), Some(&doc())).1);
}

#[test]
fn consent_elements_about_the_resource() {
    let labelled = |label: LabelCode| {
        let mut d = doc();
        d.labels = vec![Label {
            code: label,
            set_at_millis: None,
        }];
        d
    };
    let deny = |element: &str, value: Value| {
        let mut provision = json!({"type": "deny", "actor": actor("Practitioner/pr1")});
        provision[element] = value;
        [consent(
            "e",
            json!({"type": "permit", "provision": [provision]}),
        )]
    };
    let hit = |consents: &[ConsentPolicy], facts: &ResourceFacts| {
        verdict_of(consents, "pr1", &treat(), Some(facts)).0
    };
    let by_label = deny(
        "securityLabel",
        json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]),
    );
    assert!(hit(
        &by_label,
        &labelled(LabelCode::new(
            "https://mos.esante.gouv.fr/NOS/TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality",
            "R"
        ))
    ));
    assert!(!hit(&by_label, &doc()));
    let by_type = deny(
        "class",
        json!([{"system": "http://hl7.org/fhir/resource-types", "code": "DocumentReference"}]),
    );
    assert!(hit(&by_type, &doc()));
    let by_class = deny(
        "class",
        json!([{"system": crate::consent::facts::TRE_A03, "code": "11"}]),
    );
    assert!(!hit(&by_class, &doc()));
    let by_data = deny(
        "data",
        json!([{"meaning": "instance", "reference": {"reference": "DocumentReference/d1"}}]),
    );
    assert!(hit(&by_data, &doc()));
    let by_author = deny(
        "data",
        json!([{"meaning": "authoredby", "reference": {"reference": "Practitioner/author"}}]),
    );
    assert!(hit(&by_author, &doc()));
    let by_date = |start: i64| {
        deny(
            "dataPeriod",
            json!({"start": crate::fhir::instant::format_instant(NOW + start * DAY)}),
        )
    };
    assert!(hit(&by_date(-20), &doc()));
    assert!(!hit(&by_date(-5), &doc()));
    // Resource-scoped denies do not block the record as a whole.
    assert!(!verdict_of(&by_label, "pr1", &treat(), None).0);
}

#[test]
fn consent_elements_about_the_request() {
    let permit = |element: &str, value: Value| {
        let mut provision = json!({"type": "permit"});
        provision[element] = value;
        [consent("r", provision)]
    };
    let seen = |consents: &[ConsentPolicy], purposes: &[PurposeOfUse]| {
        verdict_of(consents, "pr1", purposes, Some(&doc())).1
    };
    let by_action = permit("action", json!([{"coding": [{"code": "correct"}]}]));
    assert!(!seen(&by_action, &treat()), "a read is not a correction");
    let by_purpose = permit(
        "purpose",
        json!([{"system": "urn:oid:2.16.840.1.113883.5.8", "code": "TREAT"}]),
    );
    assert!(seen(&by_purpose, &treat()));
    assert!(!seen(&by_purpose, &[PurposeOfUse::BreakTheGlass]));
    let other_system = permit("purpose", json!([{"system": "urn:other", "code": "TREAT"}]));
    assert!(!seen(&other_system, &treat()));
    let by_role = permit(
        "actor",
        json!([{"role": {"coding": [{"system": TRE_G15, "code": "10"}]},
        "reference": {"reference": "Organization/hospital"}}]),
    );
    assert!(seen(&by_role, &treat()));
    let wrong_role = permit(
        "actor",
        json!([{"role": {"coding": [{"system": TRE_G15, "code": "21"}]},
        "reference": {"reference": "Organization/hospital"}}]),
    );
    assert!(!seen(&wrong_role, &treat()));
}
