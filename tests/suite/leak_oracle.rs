//! The oracle of the leak suite: the decision point (`carnet::consent`) applied to the
//! whole world as the test generated and stored it, independently of the server's SQL,
//! index and gate. Facts are computed the way the server computes them: the patient
//! compartment is the Patient itself or the Patient its `subject`/`patient` references;
//! the authors are those of `ResourceFacts::from_json` (the creator, a system client,
//! adds none); labels are set when the version was written. A `Binary` takes the decision
//! of the resources that point to it (`securityContext`, DocumentReference attachments),
//! and nobody but a system client reads one nothing points to (DMP-RULES.md §5).
//! Also the subjects who ask: each patient, the legal representative, a RelatedPerson who
//! is none, every practitioner with TREAT, some with ETREAT or BTG, one with HPAYMT.

use std::collections::HashMap;

use serde_json::Value;

use carnet::auth::{PurposeOfUse, Subject as TokenSubject, TokenRequest};
use carnet::consent::{
    AccessMatrix, Action, ConsentPolicy, Context, Policy, PolicyConfig, Professional, RecordAccess,
    RecordFacts, RecordStatus, Requester, ResourceFacts, general_practitioners_of,
    legal_representation_of, majority_of, profession_of,
};

use crate::common::TestApp;
use crate::leak_world::{Entity, ORGANIZATION, Rng, World};

/// Someone who asks: the token the server sees and the context the oracle decides for.
pub struct Asker {
    pub label: String,
    pub token: String,
    pub context: Context,
}

impl Asker {
    pub fn is_professional(&self) -> bool {
        matches!(self.context.requester, Requester::Professional(_))
    }
}

/// The decision point over the world.
pub struct Oracle<'w> {
    world: &'w World,
    policy: Policy,
    records: HashMap<String, RecordFacts>,
}

/// The patient a resource is about (its `subject` or `patient`, the `patient` search
/// parameter), or the Patient itself.
pub fn subject_patient(res_type: &str, content: &Value) -> Option<String> {
    if res_type == "Patient" {
        return content["id"].as_str().map(str::to_owned);
    }
    let reference = match res_type {
        "DocumentReference" | "Observation" => content.pointer("/subject/reference"),
        "AllergyIntolerance" | "Consent" | "RelatedPerson" => content.pointer("/patient/reference"),
        _ => None,
    }?;
    reference
        .as_str()?
        .strip_prefix("Patient/")
        .map(str::to_owned)
}

/// The patients whose compartments hold this content of `res_type` (FHIR R4
/// CompartmentDefinition-patient: also a document's Patient author, an observation's
/// Patient performer, an allergy's Patient recorder or asserter).
pub fn compartments(res_type: &str, content: &Value) -> Vec<String> {
    let fields: &[&str] = match res_type {
        "DocumentReference" => &["author"],
        "Observation" => &["performer"],
        "AllergyIntolerance" => &["recorder", "asserter"],
        _ => &[],
    };
    let mut patients: Vec<String> = subject_patient(res_type, content).into_iter().collect();
    for field in fields {
        let items: Vec<&Value> = match &content[*field] {
            Value::Array(items) => items.iter().collect(),
            Value::Null => Vec::new(),
            one => vec![one],
        };
        patients.extend(
            items
                .into_iter()
                .filter_map(|i| i["reference"].as_str()?.strip_prefix("Patient/"))
                .map(str::to_owned),
        );
    }
    patients.sort();
    patients.dedup();
    patients
}

impl<'w> Oracle<'w> {
    pub fn new(world: &'w World) -> Oracle<'w> {
        let policy = Policy::new(
            AccessMatrix::bundled().expect("the bundled matrix"),
            PolicyConfig::default(),
        );
        let mut records = HashMap::new();
        for patient in &world.patients {
            let json = world
                .entity(&format!("Patient/{patient}"))
                .and_then(Entity::current)
                .expect("patients are never deleted");
            let status = if json["active"] == Value::Bool(false) {
                RecordStatus::Closed
            } else {
                RecordStatus::Open
            };
            let consents = world
                .entities
                .iter()
                .filter(|e| e.res_type == "Consent")
                .filter_map(Entity::current)
                .filter(|c| subject_patient("Consent", c).as_deref() == Some(patient.as_str()))
                .map(|c| ConsentPolicy::from_json(c).expect("the world's Consents parse"))
                .collect();
            records.insert(
                patient.clone(),
                RecordFacts {
                    patient_id: patient.clone(),
                    status,
                    general_practitioners: general_practitioners_of(json),
                    consents,
                    majority_millis: majority_of(json),
                },
            );
        }
        Oracle {
            world,
            policy,
            records,
        }
    }

    /// Whether `context` may read this content (one version) of `res_type`.
    pub fn permits(&self, context: &Context, res_type: &str, content: &Value) -> bool {
        if res_type == "Binary" {
            return self.permits_binary(context, content);
        }
        let patients = compartments(res_type, content);
        if patients.is_empty() {
            let facts = ResourceFacts::from_json(content, None);
            return self
                .policy
                .decide(context, &Action::Read, None, Some(&facts))
                .is_permit();
        }
        // In several compartments: every record must permit it (deny overrides).
        patients.iter().all(|patient| {
            let facts = ResourceFacts::from_json(content, Some(patient));
            self.policy
                .decide(
                    context,
                    &Action::Read,
                    self.records.get(patient),
                    Some(&facts),
                )
                .is_permit()
        })
    }

    /// A Binary takes the decision of the resources that point to it: its
    /// `securityContext` and the DocumentReferences whose attachment is it (every one must
    /// permit); a Binary nothing points to is for system clients only.
    fn permits_binary(&self, context: &Context, binary: &Value) -> bool {
        let reference = format!("Binary/{}", binary["id"].as_str().unwrap_or(""));
        let mut containers: Vec<&Entity> = self
            .world
            .entities
            .iter()
            .filter(|e| {
                e.current().is_some_and(|c| {
                    e.res_type == "DocumentReference"
                        && c["content"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|content| {
                                content["attachment"]["url"].as_str() == Some(reference.as_str())
                            })
                })
            })
            .collect();
        let context_reference = binary
            .pointer("/securityContext/reference")
            .and_then(Value::as_str);
        containers.extend(context_reference.and_then(|r| self.world.entity(r)));
        let live: Vec<(&Entity, &Value)> = containers
            .into_iter()
            .filter_map(|e| e.current().map(|c| (e, c)))
            .collect();
        !live.is_empty()
            && live
                .iter()
                .all(|(e, c)| self.permits(context, &e.res_type, c))
    }

    /// Whether `context` may see version `index` (0-based) of `entity`: the version itself
    /// (a deletion: the version it deleted) and, while the resource lives, its current
    /// version too (a resource hidden now is hidden in all its versions, §9).
    pub fn permits_version(&self, context: &Context, entity: &Entity, index: usize) -> bool {
        let content = entity.versions[..=index]
            .iter()
            .rev()
            .find_map(Option::as_ref);
        let visible_now = entity
            .current()
            .is_none_or(|current| self.permits(context, &entity.res_type, current));
        visible_now && content.is_some_and(|c| self.permits(context, &entity.res_type, c))
    }

    /// Whether `context` reaches `patient`'s record by break-glass alone: it has ETREAT or
    /// BTG, and without them it could not read the record.
    pub fn break_glass_only(&self, context: &Context, patient: &str) -> bool {
        if !context.is_break_glass() {
            return false;
        }
        let mut ordinary = context.clone();
        ordinary.purposes.retain(|p| {
            !matches!(
                p,
                PurposeOfUse::EmergencyTreat | PurposeOfUse::BreakTheGlass
            )
        });
        if ordinary.purposes.is_empty() {
            ordinary.purposes.push(PurposeOfUse::Treat);
        }
        !self
            .policy
            .decide(&ordinary, &Action::Read, self.records.get(patient), None)
            .is_permit()
    }

    /// The `$access` status of `context` on `patient`'s record.
    pub fn record_access(&self, context: &Context, patient: &str) -> RecordAccess {
        self.policy
            .record_access(context, self.records.get(patient))
    }
}

fn token_for(
    app: &TestApp,
    subject: TokenSubject,
    purposes: &[&str],
    profession: Option<&str>,
    organization: Option<String>,
) -> String {
    app.token_with(TokenRequest {
        subject,
        scope: "user/*.rs".to_owned(),
        purposes: purposes.iter().map(|p| (*p).to_owned()).collect(),
        profession: profession.map(str::to_owned),
        organization,
        patient: None,
        ttl_seconds: 3600,
    })
}

/// The subjects of the world, with their tokens and contexts at `now_millis`.
pub fn askers(world: &World, app: &TestApp, rng: &mut Rng, now_millis: i64) -> Vec<Asker> {
    let context = |requester: Requester, purposes: &[&str]| Context {
        requester,
        purposes: purposes
            .iter()
            .map(|p| PurposeOfUse::from_code(p))
            .collect(),
        now_millis,
    };
    let mut askers = Vec::new();
    for patient in &world.patients {
        askers.push(Asker {
            label: format!("Patient/{patient}"),
            token: token_for(
                app,
                TokenSubject::Patient(patient.clone()),
                &["TREAT"],
                None,
                None,
            ),
            context: context(
                Requester::Patient {
                    patient_id: patient.clone(),
                },
                &["TREAT"],
            ),
        });
    }
    for related in [&world.representative.0, &world.other_related] {
        let json = world
            .entity(&format!("RelatedPerson/{related}"))
            .and_then(Entity::current)
            .expect("related persons are never deleted");
        let requester = match legal_representation_of(json) {
            Some(representation) => Requester::Representative {
                related_person_id: related.clone(),
                patient_id: representation.patient_id,
                until_majority: representation.until_majority,
            },
            None => Requester::Unrecognised {
                reference: format!("RelatedPerson/{related}"),
            },
        };
        askers.push(Asker {
            label: format!("RelatedPerson/{related}"),
            token: token_for(
                app,
                TokenSubject::RelatedPerson(related.clone()),
                &["TREAT"],
                None,
                None,
            ),
            context: context(requester, &["TREAT"]),
        });
    }
    let professional = |id: &str, purposes: &[&str], rng: &mut Rng| {
        let stored = world
            .entity(&format!("Practitioner/{id}"))
            .and_then(Entity::current)
            .and_then(profession_of);
        // The profession from the token claim, or (half the time) from the stored Practitioner.
        let claim = if rng.chance(50) { stored.clone() } else { None };
        let organization = rng
            .chance(50)
            .then(|| format!("Organization/{ORGANIZATION}"));
        let requester = Requester::Professional(Professional {
            practitioner_id: id.to_owned(),
            profession: claim.clone().or(stored),
            organization: organization.clone(),
        });
        Asker {
            label: format!(
                "Practitioner/{id} ({}; {}; {})",
                purposes.join("+"),
                if claim.is_some() {
                    "profession claimed"
                } else {
                    "stored profession"
                },
                organization.as_deref().unwrap_or("no organization")
            ),
            token: token_for(
                app,
                TokenSubject::Practitioner(id.to_owned()),
                purposes,
                claim.as_deref(),
                organization.clone(),
            ),
            context: context(requester, purposes),
        }
    };
    for p in &world.practitioners {
        askers.push(professional(&p.id, &["TREAT"], rng));
    }
    let emergency = rng.pick(&world.practitioners).id.clone();
    askers.push(professional(&emergency, &["ETREAT"], rng));
    let glass = rng.pick(&world.practitioners).id.clone();
    askers.push(professional(&glass, &["TREAT", "BTG"], rng));
    let payer = rng.pick(&world.practitioners).id.clone();
    askers.push(professional(&payer, &["HPAYMT"], rng));
    askers
}
