//! The worlds of the leak suite (`leak.rs`): a tiny seeded generator (`Rng`, splitmix64, no
//! crate) and a random DMP world — patients (some with a médecin traitant, some closed),
//! a legal representative and a RelatedPerson who is none, practitioners of several
//! professions, an Organization, documents of several classes and types with random
//! authors and labels, Observations, AllergyIntolerances, Binaries of documents, random
//! Consents (permits, blocks, break-glass oppositions, nested exceptions), some second
//! versions and some deletions. `World::store` writes it through HTTP with a system token
//! and keeps every version exactly as the server stored it.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{fhir_request, send};

pub const TRE_A03: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument";
pub const TRE_G15: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante";
const TRE_A07: &str = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument";
/// The ANS typo of the TRE_A07 URL, an accepted alias.
const TRE_A07_TYPO: &str = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument";
const V3_CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
const FR_RELATIONSHIP: &str =
    "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-contact-relationship";
const ROLE_CLASS: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R260-HL7RoleClass/FHIR/TRE-R260-HL7RoleClass";
pub const LOINC: &str = "http://loinc.org";
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

pub const PROFESSIONS: [&str; 5] = ["10", "21", "28", "60", "80"];
pub const CLASSES: [&str; 4] = ["10", "11", "42", "90"];
pub const DOCUMENT_TYPES: [&str; 3] = ["34112-3", "11502-2", "11488-4"];
pub const OBSERVATION_CATEGORIES: [&str; 2] = ["laboratory", "vital-signs"];
pub const ALLERGY_CATEGORIES: [&str; 2] = ["food", "medication"];
pub const ORGANIZATION: &str = "org01";

/// splitmix64: small, seeded, good enough to pick worlds and requests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One stored resource: every version as the server stored it (`None` = a deletion).
#[derive(Debug, Clone)]
pub struct Entity {
    pub res_type: String,
    pub id: String,
    pub versions: Vec<Option<Value>>,
}

impl Entity {
    pub fn reference(&self) -> String {
        format!("{}/{}", self.res_type, self.id)
    }

    /// The current content, `None` when deleted.
    pub fn current(&self) -> Option<&Value> {
        self.versions.last().and_then(Option::as_ref)
    }
}

/// A practitioner of the world.
#[derive(Debug, Clone)]
pub struct Practitioner {
    pub id: String,
    pub profession: &'static str,
}

/// A random world.
pub struct World {
    pub seed: u64,
    pub patients: Vec<String>,
    pub practitioners: Vec<Practitioner>,
    /// The legal representative (RelatedPerson id) and the patient it represents.
    pub representative: (String, String),
    /// A RelatedPerson who is not a legal representative.
    pub other_related: String,
    /// Every resource in the order it was written (`store` fills in the versions).
    pub entities: Vec<Entity>,
    /// The writes to make, in order: `(type, id, body or None for a delete)`.
    writes: Vec<(String, String, Option<Value>)>,
}

fn a07(rng: &mut Rng, code: &str) -> Value {
    let system = if rng.chance(20) {
        TRE_A07_TYPO
    } else {
        TRE_A07
    };
    json!({"system": system, "code": code})
}

/// Random labels: `(meta.security, DocumentReference.securityLabel concepts)`.
fn random_labels(rng: &mut Rng, is_document: bool) -> (Vec<Value>, Vec<Value>) {
    let mut meta = Vec::new();
    let mut concepts = Vec::new();
    for code in [
        "MASQUE_PS",
        "INVISIBLE_PATIENT",
        "INVISIBLE_REPRESENTANTS_LEGAUX",
    ] {
        if rng.chance(18) {
            meta.push(a07(rng, code));
        }
    }
    if rng.chance(25) {
        let code = if rng.chance(50) { "R" } else { "V" };
        let label = json!({"system": V3_CONFIDENTIALITY, "code": code});
        if is_document && rng.chance(50) {
            concepts.push(json!({"coding": [label]}));
        } else {
            meta.push(label);
        }
    }
    (meta, concepts)
}

fn with_labels(mut resource: Value, labels: (Vec<Value>, Vec<Value>)) -> Value {
    let (meta, concepts) = labels;
    if !meta.is_empty() {
        resource["meta"] = json!({"security": meta});
    }
    if !concepts.is_empty() {
        resource["securityLabel"] = Value::Array(concepts);
    }
    resource
}

fn actor(reference: &str) -> Value {
    json!([{
        "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}]},
        "reference": {"reference": reference}
    }])
}

impl World {
    /// The world of `seed`.
    pub fn generate(seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let mut writes: Vec<(String, String, Option<Value>)> = Vec::new();
        let put =
            |writes: &mut Vec<(String, String, Option<Value>)>, t: &str, id: &str, body: Value| {
                writes.push((t.to_owned(), id.to_owned(), Some(body)));
            };
        put(
            &mut writes,
            "Organization",
            ORGANIZATION,
            json!({"resourceType": "Organization", "id": ORGANIZATION, "name": "Clinique"}),
        );
        let practitioners: Vec<Practitioner> = (0..rng.between(4, 8))
            .map(|n| Practitioner {
                id: format!("pra{n:02}"),
                // The first is a médecin, so that every world has one.
                profession: if n == 0 {
                    PROFESSIONS[0]
                } else {
                    PROFESSIONS[rng.below(PROFESSIONS.len())]
                },
            })
            .collect();
        for p in &practitioners {
            put(
                &mut writes,
                "Practitioner",
                &p.id,
                json!({"resourceType": "Practitioner", "id": p.id,
                    "qualification": [{"code": {"coding": [{"system": TRE_G15, "code": p.profession}]}}]}),
            );
        }
        let patients: Vec<String> = (0..rng.between(3, 6))
            .map(|n| format!("pat{n:02}"))
            .collect();
        for (n, id) in patients.iter().enumerate() {
            let mut patient = json!({"resourceType": "Patient", "id": id,
                "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8",
                    "value": format!("{}{:012}", 1 + n % 2, seed * 100 + n as u64)}],
                "gender": if rng.chance(50) { "female" } else { "male" },
                // The represented patient stays open; the others are closed one time in four.
                "active": n == 0 || !rng.chance(25)});
            if rng.chance(50) {
                let gp = rng.pick(&practitioners).id.clone();
                patient["generalPractitioner"] =
                    json!([{"reference": format!("Practitioner/{gp}")}]);
            }
            put(&mut writes, "Patient", id, patient);
        }
        let representative = ("rel01".to_owned(), patients[0].clone());
        put(
            &mut writes,
            "RelatedPerson",
            "rel01",
            json!({"resourceType": "RelatedPerson", "id": "rel01", "active": true,
                "patient": {"reference": format!("Patient/{}", patients[0])},
                "relationship": [{"coding": [{"system": FR_RELATIONSHIP, "code": "CUR"}]}]}),
        );
        put(
            &mut writes,
            "RelatedPerson",
            "rel02",
            json!({"resourceType": "RelatedPerson", "id": "rel02", "active": true,
                "patient": {"reference": format!("Patient/{}", patients[1])},
                "relationship": [{"coding": [{"system": ROLE_CLASS, "code": "ECON"}]}]}),
        );

        let mut documents = 0;
        let mut observations = 0;
        let mut allergies = 0;
        let mut consents = 0;
        let mut changeable: Vec<(String, String, Value)> = Vec::new();
        for patient in &patients {
            let subject = json!({"reference": format!("Patient/{patient}")});
            for _ in 0..rng.between(2, 5) {
                documents += 1;
                let id = format!("doc{documents:02}");
                let class = *rng.pick(&CLASSES);
                let author = if class == "90" && rng.chance(60) {
                    format!("Patient/{patient}")
                } else {
                    format!("Practitioner/{}", rng.pick(&practitioners).id)
                };
                let mut document = json!({"resourceType": "DocumentReference", "id": id,
                    "status": "current", "subject": subject,
                    "category": [{"coding": [{"system": TRE_A03, "code": class}]}],
                    "type": {"coding": [{"system": LOINC, "code": rng.pick(&DOCUMENT_TYPES)}]},
                    "author": [{"reference": author}],
                    "date": format!("2026-0{}-1{}T10:00:00Z", rng.between(1, 9), rng.below(10)),
                    "content": [{"attachment": {"contentType": "text/plain",
                        "url": format!("Binary/bin{documents:02}")}}]});
                document = with_labels(document, random_labels(&mut rng, true));
                changeable.push(("DocumentReference".into(), id.clone(), document.clone()));
                put(&mut writes, "DocumentReference", &id, document);
                let mut binary = json!({"resourceType": "Binary", "id": format!("bin{documents:02}"),
                    "contentType": "text/plain", "data": "c2VjcmV0"});
                if rng.chance(70) {
                    binary["securityContext"] =
                        json!({"reference": format!("DocumentReference/{id}")});
                }
                put(&mut writes, "Binary", &format!("bin{documents:02}"), binary);
            }
            for _ in 0..rng.between(1, 3) {
                observations += 1;
                let id = format!("obs{observations:02}");
                let category = *rng.pick(&OBSERVATION_CATEGORIES);
                let observation = json!({"resourceType": "Observation", "id": id,
                    "status": "final", "subject": subject,
                    "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
                    "code": {"text": format!("measure {id}")},
                    "performer": [{"reference": format!("Practitioner/{}", rng.pick(&practitioners).id)}],
                    "effectiveDateTime": "2026-03-01T08:00:00Z"});
                let mut observation = with_labels(observation, random_labels(&mut rng, false));
                // Sometimes another patient performed it: the observation is then in two
                // compartments, and both records must let it through.
                if rng.chance(15) {
                    let other = rng.pick(&patients).clone();
                    if let Some(performers) = observation["performer"].as_array_mut() {
                        performers.push(json!({"reference": format!("Patient/{other}")}));
                    }
                }
                changeable.push(("Observation".into(), id.clone(), observation.clone()));
                put(&mut writes, "Observation", &id, observation);
            }
            for _ in 0..rng.between(0, 2) {
                allergies += 1;
                let id = format!("all{allergies:02}");
                let recorder = if rng.chance(40) {
                    format!("Patient/{patient}")
                } else {
                    format!("Practitioner/{}", rng.pick(&practitioners).id)
                };
                let allergy = json!({"resourceType": "AllergyIntolerance", "id": id,
                    "patient": subject, "category": [rng.pick(&ALLERGY_CATEGORIES)],
                    "code": {"text": "pollen"}, "recorder": {"reference": recorder}});
                let allergy = with_labels(allergy, random_labels(&mut rng, false));
                changeable.push(("AllergyIntolerance".into(), id.clone(), allergy.clone()));
                put(&mut writes, "AllergyIntolerance", &id, allergy);
            }
            for _ in 0..rng.between(0, 3) {
                consents += 1;
                let id = format!("con{consents:02}");
                let provision = random_provision(&mut rng, &practitioners);
                let status = if rng.chance(10) { "inactive" } else { "active" };
                put(
                    &mut writes,
                    "Consent",
                    &id,
                    json!({"resourceType": "Consent", "id": id, "status": status,
                        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
                        "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}],
                        "patient": subject,
                        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
                        "provision": provision}),
                );
            }
        }
        // A Binary nothing points to: for system clients only.
        put(
            &mut writes,
            "Binary",
            "orphan",
            json!({"resourceType": "Binary", "id": "orphan", "contentType": "text/plain", "data": "c2VjcmV0"}),
        );
        // Second versions with other labels, and some deletions.
        for (res_type, id, mut body) in changeable {
            if rng.chance(25) {
                let is_document = res_type == "DocumentReference";
                if let Some(object) = body.as_object_mut() {
                    object.remove("meta");
                    object.remove("securityLabel");
                }
                body = with_labels(body, random_labels(&mut rng, is_document));
                put(&mut writes, &res_type, &id, body);
            }
            if res_type != "DocumentReference" && rng.chance(10) {
                writes.push((res_type.clone(), id.clone(), None));
            }
        }
        let mut entities: Vec<Entity> = Vec::new();
        for (res_type, id, _) in &writes {
            if !entities
                .iter()
                .any(|e| &e.res_type == res_type && &e.id == id)
            {
                entities.push(Entity {
                    res_type: res_type.clone(),
                    id: id.clone(),
                    versions: Vec::new(),
                });
            }
        }
        World {
            seed,
            patients,
            practitioners,
            representative,
            other_related: "rel02".to_owned(),
            entities,
            writes,
        }
    }

    /// Writes the world with `token` (a system client), keeping every stored version.
    pub async fn store<S, B>(&mut self, app: &S, token: &str)
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        for (res_type, id, body) in std::mem::take(&mut self.writes) {
            let uri = format!("/fhir/{res_type}/{id}");
            let stored = match &body {
                Some(body) => {
                    let reply = send(app, fhir_request(Method::PUT, &uri, token, Some(body))).await;
                    assert!(
                        reply.status == StatusCode::CREATED || reply.status == StatusCode::OK,
                        "seed {}: storing {uri}: {} {}",
                        self.seed,
                        reply.status,
                        String::from_utf8_lossy(&reply.body)
                    );
                    let read = send(app, fhir_request(Method::GET, &uri, token, None)).await;
                    assert_eq!(
                        read.status,
                        StatusCode::OK,
                        "seed {}: read back {uri}",
                        self.seed
                    );
                    Some(read.json())
                }
                None => {
                    let reply = send(app, fhir_request(Method::DELETE, &uri, token, None)).await;
                    assert!(
                        reply.status.is_success(),
                        "seed {}: deleting {uri}: {}",
                        self.seed,
                        reply.status
                    );
                    None
                }
            };
            let entity = self
                .entities
                .iter_mut()
                .find(|e| e.res_type == res_type && e.id == id)
                .expect("every write has its entity");
            entity.versions.push(stored);
        }
    }

    pub fn entity(&self, reference: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.reference() == reference)
    }
}

/// A random Consent provision: permit naming a practitioner or the organization, deny
/// naming one, deny with purpose BTG, a deny of everyone, or a permit with a nested
/// exception about a class or a label.
fn random_provision(rng: &mut Rng, practitioners: &[Practitioner]) -> Value {
    let someone = |rng: &mut Rng| format!("Practitioner/{}", rng.pick(practitioners).id);
    let organization = format!("Organization/{ORGANIZATION}");
    match rng.below(9) {
        0 | 1 => json!({"type": "permit", "actor": actor(&someone(rng))}),
        2 => json!({"type": "permit", "actor": actor(&organization)}),
        3 => json!({"type": "deny", "actor": actor(&someone(rng))}),
        4 => json!({"type": "deny", "purpose": [
            {"system": ACT_REASON, "code": if rng.chance(50) { "BTG" } else { "ETREAT" }}]}),
        5 => json!({"type": "permit", "actor": actor(&someone(rng)), "provision": [
            {"type": "deny", "class": [{"system": TRE_A03, "code": rng.pick(&CLASSES)}]}]}),
        6 => json!({"type": "permit", "actor": actor(&organization), "provision": [
            {"type": "deny", "securityLabel": [
                {"system": V3_CONFIDENTIALITY, "code": if rng.chance(50) { "R" } else { "V" }}]}]}),
        7 => json!({"type": "deny", "actor": actor(&organization), "provision": [
            {"type": "permit", "actor": actor(&someone(rng)),
             "class": [{"system": TRE_A03, "code": rng.pick(&CLASSES)}]}]}),
        _ => {
            if rng.chance(30) {
                json!({"type": "deny"})
            } else {
                json!({"type": "deny", "actor": actor(&someone(rng)),
                    "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Observation"}]})
            }
        }
    }
}
