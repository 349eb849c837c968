//! The search constraint agrees with `decide(Read)`: over many generated requesters,
//! records (médecin traitant, Consents with nested provisions) and resources (types,
//! classes, categories, authors, labels with set times), a resource passes the constraint
//! exactly when `decide(Read)` permits it, and there is a constraint exactly when
//! `record_access` says authorized. A fixed-seed xorshift PRNG, no crate.

use serde_json::{Value, json};

use crate::auth::PurposeOfUse;
use crate::consent::tests::{DAY, NOW, policy};
use crate::consent::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const PRACTITIONERS: [&str; 4] = ["gp", "pr1", "pr2", "author"];
const PROFESSIONS: [&str; 6] = ["10", "80", "28", "86", "PSYCHOLOGUE", "99"];

fn requester(rng: &mut Rng) -> Context {
    let purposes = match rng.below(6) {
        0 => vec![PurposeOfUse::BreakTheGlass],
        1 => vec![PurposeOfUse::Treat, PurposeOfUse::EmergencyTreat],
        2 if rng.chance(30) => vec![PurposeOfUse::Payment],
        _ => vec![PurposeOfUse::Treat],
    };
    let requester = match rng.below(12) {
        0 => Requester::Patient {
            patient_id: "p1".into(),
        },
        1 => Requester::Representative {
            related_person_id: "rp1".into(),
            patient_id: "p1".into(),
            until_majority: false,
        },
        2 => Requester::Patient {
            patient_id: "p2".into(),
        },
        3 => Requester::System {
            name: "feed".into(),
        },
        4 => Requester::Unrecognised {
            reference: "RelatedPerson/x".into(),
        },
        _ => Requester::Professional(Professional {
            practitioner_id: (*rng.pick(&PRACTITIONERS)).into(),
            profession: if rng.chance(5) {
                None
            } else {
                Some((*rng.pick(&PROFESSIONS)).into())
            },
            organization: if rng.chance(50) {
                Some("Organization/hospital".into())
            } else {
                None
            },
        }),
    };
    Context {
        requester,
        purposes,
        now_millis: NOW,
    }
}

fn provision(rng: &mut Rng, depth: usize) -> Value {
    let mut p = json!({});
    if depth == 0 || rng.chance(60) {
        p["type"] = json!(if rng.chance(50) { "permit" } else { "deny" });
    }
    if rng.chance(40) {
        let actor = match rng.below(4) {
            0 => json!({"reference": {"reference": "Organization/hospital"}}),
            1 => json!({"role": {"coding": [{"system": TRE_G15, "code": rng.pick(&PROFESSIONS)}]}}),
            _ => {
                json!({"reference": {"reference": format!("Practitioner/{}", rng.pick(&PRACTITIONERS))}})
            }
        };
        p["actor"] = json!([actor]);
    }
    if rng.chance(15) {
        p["purpose"] = json!([{"code": rng.pick(&["BTG", "ETREAT", "TREAT"])}]);
    }
    if rng.chance(15) {
        p["code"] = json!([{"coding": [{"system": "http://loinc.org", "code": rng.pick(&["11502-2", "34112-3", "11488-4"])}]}]);
    }
    if rng.chance(10) {
        p["class"] = json!([{"system": "http://hl7.org/fhir/resource-types", "code": rng.pick(&["Observation", "DocumentReference"])}]);
    }
    if rng.chance(10) {
        p["securityLabel"] = json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]);
    }
    if rng.chance(8) {
        let meaning = rng.pick(&["instance", "authoredby"]);
        let reference = if *meaning == "instance" {
            "DocumentReference/d1"
        } else {
            "Practitioner/author"
        };
        p["data"] = json!([{"meaning": meaning, "reference": {"reference": reference}}]);
    }
    if rng.chance(8) {
        p["dataPeriod"] = json!({"start": crate::fhir::instant::format_instant(NOW - 15 * DAY)});
    }
    if rng.chance(5) {
        p["period"] = json!({"end": crate::fhir::instant::format_instant(NOW - DAY)});
    }
    if depth < 2 && rng.chance(40) {
        let children: Vec<Value> = (0..1 + rng.below(2))
            .map(|_| provision(rng, depth + 1))
            .collect();
        p["provision"] = json!(children);
    }
    p
}

fn record(rng: &mut Rng) -> RecordFacts {
    let consents = (0..rng.below(3))
        .map(|i| {
            let status = if rng.chance(85) { "active" } else { "inactive" };
            ConsentPolicy::from_json(&json!({"resourceType": "Consent", "id": format!("c{i}"),
                "status": status, "patient": {"reference": "Patient/p1"},
                "provision": provision(rng, 0)}))
            .unwrap()
        })
        .collect();
    RecordFacts {
        patient_id: "p1".into(),
        status: if rng.chance(5) {
            RecordStatus::Closed
        } else {
            RecordStatus::Open
        },
        general_practitioners: if rng.chance(70) {
            vec!["Practitioner/gp".into()]
        } else {
            vec![]
        },
        consents,
        majority_millis: None,
    }
}

fn resource(rng: &mut Rng) -> ResourceFacts {
    let kind = rng.below(7);
    let (resource_type, class, types, categories) = match kind {
        0..=2 => (
            "DocumentReference",
            Some((*rng.pick(&["10", "11", "31", "52", "90"])).to_owned()),
            vec![(
                "http://loinc.org".to_owned(),
                (*rng.pick(&["11502-2", "34112-3", "11488-4", "60591-5"])).to_owned(),
            )],
            vec![],
        ),
        3 => (
            "Observation",
            None,
            vec![],
            vec![(*rng.pick(&["laboratory", "vital-signs", "survey"])).to_owned()],
        ),
        4 => ("AllergyIntolerance", None, vec![], vec!["food".to_owned()]),
        5 => (
            *rng.pick(&["Consent", "AuditEvent", "Encounter"]),
            None,
            vec![],
            vec![],
        ),
        _ => ("Condition", None, vec![], vec![]),
    };
    let mut labels = Vec::new();
    let candidates = [
        LabelCode::masque_ps(),
        LabelCode::invisible_patient(),
        LabelCode::invisible_representatives(),
        LabelCode::new(
            "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "R",
        ),
        LabelCode::new(
            "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "V",
        ),
    ];
    for code in candidates {
        if rng.chance(20) {
            let set_at_millis = match rng.below(4) {
                0 => None,
                1 => Some(NOW - 30 * DAY),
                _ => Some(NOW - (rng.below(60) as i64) * DAY),
            };
            labels.push(Label {
                code,
                set_at_millis,
            });
        }
    }
    ResourceFacts {
        resource_type: resource_type.into(),
        id: Some(if rng.chance(50) { "d1" } else { "d2" }.into()),
        patient: Some("p1".into()),
        document_class: class,
        document_types: types,
        categories,
        authors: if rng.chance(40) {
            vec![format!("Practitioner/{}", rng.pick(&PRACTITIONERS))]
        } else {
            vec!["Patient/p1".into()]
        },
        date_millis: if rng.chance(80) {
            Some(NOW - (rng.below(30) as i64) * DAY)
        } else {
            None
        },
        labels,
    }
}

#[test]
fn search_constraint_agrees_with_decide_read() {
    let policy = policy();
    let mut rng = Rng(0x5eed_c0de_1234_5678);
    let (mut permits, mut denies) = (0, 0);
    for _ in 0..400 {
        let record = record(&mut rng);
        for _ in 0..6 {
            let context = requester(&mut rng);
            let constraint = policy.search_constraint(&context, &record);
            let access = policy.record_access(&context, Some(&record));
            // (A system client is outside consent: it searches even a closed record,
            // whose `$access` status is still `Closed`.)
            let system = matches!(context.requester, Requester::System { .. });
            assert_eq!(
                constraint.is_some(),
                system || matches!(access, RecordAccess::Authorized(_)),
                "\ncontext: {context:?}\nrecord: {record:?}\naccess: {access:?}"
            );
            for _ in 0..8 {
                let facts = resource(&mut rng);
                let decision = policy.decide(&context, &Action::Read, Some(&record), Some(&facts));
                let passes = constraint
                    .as_ref()
                    .is_some_and(|c| c.filter.matches(&facts));
                assert_eq!(
                    passes,
                    decision.is_permit(),
                    "\ncontext: {context:?}\nrecord: {record:?}\nresource: {facts:?}\ndecision: {decision:?}\nconstraint: {constraint:?}"
                );
                if decision.is_permit() {
                    permits += 1
                } else {
                    denies += 1
                }
            }
        }
    }
    // The generator exercises both answers in earnest.
    assert!(
        permits > 2_000 && denies > 2_000,
        "{permits} permits, {denies} denies"
    );
}
