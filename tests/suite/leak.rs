//! The leak suite (issue 5 item 6): random DMP worlds (`leak_world`), and for every subject
//! reads, vreads, Binary reads (also raw), searches with random parameters (`_id`,
//! `patient`, `category`, `type`, `active`, `general-practitioner`, `_has`, chains,
//! `_sort`, `_count` with paging to the end, `_total`, `_summary=count`, `_include`,
//! `_revinclude`), compartment searches, instance, type and system history and
//! `Patient/$everything`, each answer compared with the oracle (`leak_oracle`: the
//! decision point applied to the whole world). A hidden resource must also answer exactly
//! like a missing one.
//!
//! Where the server may narrow more than the oracle, by design: a break-glass
//! professional's searches span the records that name them and the patients the query
//! names (records reached by break-glass alone may be left out), and searches leave
//! Binaries out (they are read by id). Nothing else may be missing.
//!
//! A failure names the seed, the backend, the subject, the request and the ids: `LEAK` when
//! the server shows what the oracle hides (a resource, a count, an existence), `HIDES` when
//! it hides what the oracle permits, `WRONG` for other disagreements (status, order,
//! duplicates, entries that do not match the parameters).
//!
//! Seeds: 1, 2, 3 by default; `CARNET_LEAK_SEEDS=N` runs seeds 1..=N, `CARNET_LEAK_SEED=x`
//! replays seed x alone.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::Value;

use carnet::consent::RecordAccess;

use crate::common::{Reply, each_backend, fhir_request, link, send};
use crate::leak_oracle::{Asker, Oracle, askers, compartments, subject_patient};
use crate::leak_world::{
    ALLERGY_CATEGORIES, CLASSES, DOCUMENT_TYPES, Entity, LOINC, OBSERVATION_CATEGORIES,
    OBSERVATION_CATEGORY, Rng, TRE_A03, World,
};

/// Check classes whose failures only warn, each with the reason (a TODO for the server).
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// Random searches per subject.
const SEARCHES_PER_SUBJECT: usize = 12;
/// Random instance histories per subject (besides every resource with several versions).
const INSTANCE_HISTORIES: usize = 3;
/// The most pages followed before a paging loop counts as a failure.
const MAX_PAGES: usize = 200;

const SEARCH_TYPES: [&str; 8] = [
    "DocumentReference",
    "Observation",
    "AllergyIntolerance",
    "Consent",
    "RelatedPerson",
    "Patient",
    "Practitioner",
    "Binary",
];
/// The types of the world: whole-compartment searches are limited to them, leaving out
/// the AuditEvents the server writes about the test's own requests (a patient may read
/// those of their record; they are not part of the generated world).
const WORLD_TYPES: &str = "&_type=AllergyIntolerance,Binary,Consent,DocumentReference,Observation,Organization,Patient,Practitioner,RelatedPerson";

const COMPARTMENT_TYPES: [&str; 6] = [
    "DocumentReference",
    "Observation",
    "AllergyIntolerance",
    "Consent",
    "RelatedPerson",
    "*",
];

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("CARNET_LEAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let count = std::env::var("CARNET_LEAK_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3u64);
    (1..=count).collect()
}

/// One failure: its check class, its kind and the sentence.
struct Failure {
    class: &'static str,
    kind: &'static str,
    text: String,
}

/// The state of one seed on one backend.
struct Run<'a, S> {
    app: &'a S,
    world: &'a World,
    oracle: Oracle<'a>,
    backend: &'static str,
    failures: Vec<Failure>,
    notes: BTreeSet<String>,
    checks: u64,
}

/// `Type/id` of an entry's resource.
fn reference_of(resource: &Value) -> String {
    format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap_or("?"),
        resource["id"].as_str().unwrap_or("?")
    )
}

/// The references of `field` (an object or a list of objects with `reference`).
fn references(content: &Value, field: &str) -> Vec<String> {
    let items: Vec<&Value> = match &content[field] {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    items
        .into_iter()
        .filter_map(|i| i["reference"].as_str().map(str::to_owned))
        .collect()
}

fn joined(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// A random search.
struct Search {
    res_type: &'static str,
    params: Vec<(String, String)>,
    sort: Option<&'static str>,
    /// `(parameter name, value, source type, field, forward)`: `_include` or `_revinclude`.
    include: Option<(&'static str, &'static str, &'static str, &'static str, bool)>,
    /// A `_has` or a chain, computed on the authorised set only.
    link: Option<Link>,
    count: Option<usize>,
    total: bool,
    summary_count: bool,
}

impl Search {
    fn uri(&self) -> String {
        let mut pairs = self.params.clone();
        pairs.extend(self.link.as_ref().map(Link::pair));
        if let Some(sort) = self.sort {
            pairs.push(("_sort".into(), sort.into()));
        }
        if let Some((name, value, ..)) = self.include {
            pairs.push((name.into(), value.into()));
        }
        if let Some(count) = self.count {
            pairs.push(("_count".into(), count.to_string()));
        }
        if self.total {
            pairs.push(("_total".into(), "accurate".into()));
        }
        if self.summary_count {
            pairs.push(("_summary".into(), "count".into()));
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(n, v)| format!("{n}={}", v.replace('|', "%7C")))
            .collect();
        format!("/fhir/{}?{}", self.res_type, query.join("&"))
    }

    /// The patients the query names (`patient=`, `_id` of a Patient search).
    fn named_patients(&self) -> BTreeSet<String> {
        self.params
            .iter()
            .filter(|(name, _)| name == "patient" || (name == "_id" && self.res_type == "Patient"))
            .flat_map(|(_, value)| value.split(','))
            .map(|v| v.trim_start_matches("Patient/").to_owned())
            .collect()
    }

    /// Whether the current content of `entity` matches the parameters; a `_has` or chain
    /// counts only the linked resources `allowed` lets through.
    fn matches(&self, world: &World, entity: &Entity, allowed: &dyn Fn(&Entity) -> bool) -> bool {
        if entity.res_type != self.res_type || entity.current().is_none() {
            return false;
        }
        let plain = self
            .params
            .iter()
            .all(|(name, value)| param_matches(entity, name, value));
        plain
            && self.link.as_ref().is_none_or(|link| {
                let (name, value) = &link.inner;
                let linked: Vec<&Entity> = if link.reverse {
                    world
                        .entities
                        .iter()
                        .filter(|s| s.res_type == link.other_type)
                        .filter(|s| {
                            s.current().is_some_and(|c| {
                                references(c, link.field).contains(&entity.reference())
                            })
                        })
                        .collect()
                } else {
                    entity
                        .current()
                        .map(|c| references(c, link.field))
                        .unwrap_or_default()
                        .iter()
                        .filter(|r| r.starts_with(&format!("{}/", link.other_type)))
                        .filter_map(|r| world.entity(r))
                        .collect()
                };
                linked
                    .into_iter()
                    .any(|l| param_matches(l, name, value) && allowed(l))
            })
    }
}

/// A `_has` (reverse) or a chain (forward) through `field` to resources of `other_type`
/// matching `inner`.
struct Link {
    reverse: bool,
    other_type: &'static str,
    field: &'static str,
    inner: (String, String),
}

impl Link {
    fn pair(&self) -> (String, String) {
        let (name, value) = &self.inner;
        if self.reverse {
            (
                format!("_has:{}:{}:{name}", self.other_type, self.field),
                value.clone(),
            )
        } else {
            (
                format!("{}:{}.{name}", self.field, self.other_type),
                value.clone(),
            )
        }
    }
}

/// Whether the current content of `entity` matches one search parameter.
fn param_matches(entity: &Entity, name: &str, value: &str) -> bool {
    let Some(content) = entity.current() else {
        return false;
    };
    let values: Vec<&str> = value.split(',').collect();
    match name {
        "_id" => values.contains(&entity.id.as_str()),
        "patient" => subject_patient(&entity.res_type, content)
            .is_some_and(|p| values.contains(&format!("Patient/{p}").as_str())),
        "category" => {
            let codes: Vec<String> = match &content["category"] {
                Value::Array(items) => items
                    .iter()
                    .flat_map(|c| match c {
                        Value::String(code) => vec![code.clone()],
                        concept => concept["coding"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .flat_map(|coding| {
                                let code = coding["code"].as_str().unwrap_or("");
                                let system = coding["system"].as_str().unwrap_or("");
                                [code.to_owned(), format!("{system}|{code}")]
                            })
                            .collect(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            values.iter().any(|v| codes.iter().any(|c| c == v))
        }
        "type" => content["type"]["coding"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| {
                values.contains(
                    &format!(
                        "{}|{}",
                        c["system"].as_str().unwrap_or(""),
                        c["code"].as_str().unwrap_or("")
                    )
                    .as_str(),
                )
            }),
        "active" => values.contains(&content["active"].to_string().as_str()),
        "gender" => content["gender"]
            .as_str()
            .is_some_and(|g| values.contains(&g)),
        "general-practitioner" => references(content, "generalPractitioner")
            .iter()
            .any(|r| values.contains(&r.as_str())),
        other => panic!("the oracle does not know the parameter `{other}`"),
    }
}

impl<'a, S, B> Run<'a, S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    fn fail(&mut self, class: &'static str, kind: &'static str, asker: &Asker, what: String) {
        self.failures.push(Failure {
            class,
            kind,
            text: format!(
                "seed {} [{}] {}: {kind} {what}",
                self.world.seed, self.backend, asker.label
            ),
        });
    }

    async fn get(&mut self, uri: &str, asker: &Asker) -> Reply {
        self.checks += 1;
        send(self.app, fhir_request(Method::GET, uri, &asker.token, None)).await
    }

    /// Compares the answer to a read (or vread) of content the oracle decided on.
    #[expect(clippy::too_many_arguments, reason = "one comparison, its parts named")]
    fn compare_read(
        &mut self,
        class: &'static str,
        asker: &Asker,
        uri: &str,
        reply: &Reply,
        entity: &Entity,
        permitted: bool,
        deleted: bool,
    ) {
        let status = reply.status;
        let may_forbid = entity.res_type == "Patient" && asker.is_professional();
        match (permitted, deleted, status) {
            (true, false, StatusCode::OK) => {
                let got = reference_of(&reply.json());
                if got != entity.reference() {
                    self.fail(class, "WRONG", asker, format!("GET {uri}: answered {got}"));
                }
            }
            (true, true, StatusCode::GONE) | (false, _, StatusCode::NOT_FOUND) => {}
            (false, false, StatusCode::FORBIDDEN) if may_forbid => {}
            (false, _, StatusCode::OK | StatusCode::GONE) => self.fail(
                class,
                "LEAK",
                asker,
                format!("GET {uri}: {status} for {} the oracle hides", entity.reference()),
            ),
            (true, _, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN) => self.fail(
                class,
                "HIDES",
                asker,
                format!("GET {uri}: {status} for {} the oracle permits", entity.reference()),
            ),
            _ => self.fail(
                class,
                "WRONG",
                asker,
                format!(
                    "GET {uri}: unexpected {status} (oracle permits: {permitted}, deleted: {deleted}): {}",
                    String::from_utf8_lossy(&reply.body)
                ),
            ),
        }
    }

    /// Reads every resource, vreads every version, and reads Binaries as raw content.
    async fn reads(&mut self, asker: &Asker) {
        let world = self.world;
        let mut missing = BTreeMap::new();
        for entity in &world.entities {
            let class = if entity.res_type == "Binary" {
                "binary"
            } else {
                "read"
            };
            let uri = format!("/fhir/{}", entity.reference());
            let last = entity.versions.len() - 1;
            let permitted = self.oracle.permits_version(&asker.context, entity, last);
            let reply = self.get(&uri, asker).await;
            let deleted = entity.current().is_none();
            self.compare_read(class, asker, &uri, &reply, entity, permitted, deleted);
            if !permitted && reply.status == StatusCode::NOT_FOUND {
                self.same_as_missing(class, asker, &uri, &reply, entity, None, &mut missing)
                    .await;
            }
            if entity.res_type == "Binary" {
                self.checks += 1;
                let raw = send(
                    self.app,
                    fhir_request(Method::GET, &uri, &asker.token, None)
                        .insert_header(("Accept", "text/plain")),
                )
                .await;
                if raw.status == StatusCode::OK && !permitted {
                    self.fail(
                        "binary",
                        "LEAK",
                        asker,
                        format!(
                            "GET {uri} (Accept: text/plain): 200 for {} the oracle hides",
                            entity.reference()
                        ),
                    );
                }
            }
            for (index, version) in entity.versions.iter().enumerate() {
                if version.is_none() || (index == last && entity.versions.len() == 1) {
                    continue;
                }
                let class = if entity.res_type == "Binary" {
                    "binary"
                } else {
                    "vread"
                };
                let uri = format!("/fhir/{}/_history/{}", entity.reference(), index + 1);
                let permitted = self.oracle.permits_version(&asker.context, entity, index);
                let reply = self.get(&uri, asker).await;
                self.compare_read(class, asker, &uri, &reply, entity, permitted, false);
                if !permitted && reply.status == StatusCode::NOT_FOUND {
                    let version = Some(index + 1);
                    self.same_as_missing(class, asker, &uri, &reply, entity, version, &mut missing)
                        .await;
                }
            }
        }
    }

    /// A hidden resource must answer exactly as a missing one (DMP-RULES.md §9): the body
    /// of its 404, its id aside, is the body of a read of an id nobody stored.
    #[expect(clippy::too_many_arguments, reason = "one comparison, its parts named")]
    async fn same_as_missing(
        &mut self,
        class: &'static str,
        asker: &Asker,
        uri: &str,
        reply: &Reply,
        entity: &Entity,
        version: Option<usize>,
        missing: &mut BTreeMap<(String, Option<usize>), String>,
    ) {
        let key = (entity.res_type.clone(), version);
        let absent_id = format!("nx{}", entity.id);
        if !missing.contains_key(&key) {
            let suffix = version.map_or(String::new(), |v| format!("/_history/{v}"));
            let missing_uri = format!("/fhir/{}/{absent_id}{suffix}", entity.res_type);
            let absent = self.get(&missing_uri, asker).await;
            let body = String::from_utf8_lossy(&absent.body).replace(&absent_id, "{id}");
            missing.insert(key.clone(), format!("{} {body}", absent.status));
        }
        let body = String::from_utf8_lossy(&reply.body).replace(&entity.id, "{id}");
        let got = format!("{} {body}", reply.status);
        if missing.get(&key) != Some(&got) {
            self.fail(
                class,
                "LEAK",
                asker,
                format!(
                    "GET {uri}: the 404 of hidden {} differs from a missing one's: {got} / {}",
                    entity.reference(),
                    missing.get(&key).map_or("", String::as_str)
                ),
            );
        }
    }

    fn random_search(&self, rng: &mut Rng) -> Search {
        let world = self.world;
        let res_type = *rng.pick(&SEARCH_TYPES);
        let mut params: Vec<(String, String)> = Vec::new();
        let of_type: Vec<&Entity> = world
            .entities
            .iter()
            .filter(|e| e.res_type == res_type)
            .collect();
        if rng.chance(35) && !of_type.is_empty() {
            let mut ids: Vec<String> = (0..rng.between(1, 4))
                .map(|_| rng.pick(&of_type).id.clone())
                .collect();
            if rng.chance(20) {
                ids.push("nowhere".into());
            }
            ids.sort();
            ids.dedup();
            params.push(("_id".into(), ids.join(",")));
        }
        let has_patient = !matches!(res_type, "Patient" | "Practitioner" | "Binary");
        if has_patient && rng.chance(40) {
            params.push((
                "patient".into(),
                format!("Patient/{}", rng.pick(&world.patients)),
            ));
        }
        match res_type {
            "DocumentReference" if rng.chance(35) => {
                params.push((
                    "category".into(),
                    format!("{TRE_A03}|{}", rng.pick(&CLASSES)),
                ));
            }
            "DocumentReference" if rng.chance(25) => {
                params.push((
                    "type".into(),
                    format!("{LOINC}|{}", rng.pick(&DOCUMENT_TYPES)),
                ));
            }
            "Observation" if rng.chance(40) => {
                let code = *rng.pick(&OBSERVATION_CATEGORIES);
                let value = if rng.chance(50) {
                    code.to_owned()
                } else {
                    format!("{OBSERVATION_CATEGORY}|{code}")
                };
                params.push(("category".into(), value));
            }
            "AllergyIntolerance" if rng.chance(40) => {
                params.push((
                    "category".into(),
                    (*rng.pick(&ALLERGY_CATEGORIES)).to_owned(),
                ));
            }
            "Patient" if rng.chance(30) => {
                params.push(("active".into(), rng.chance(50).to_string()));
            }
            "Patient" if rng.chance(30) => {
                params.push((
                    "general-practitioner".into(),
                    format!("Practitioner/{}", rng.pick(&world.practitioners).id),
                ));
            }
            _ => {}
        }
        let sort = if rng.chance(60) {
            Some(*rng.pick(&["_id", "-_id", "_lastUpdated", "-_lastUpdated"]))
        } else {
            None
        };
        let include = match res_type {
            "DocumentReference" if rng.chance(40) => Some(*rng.pick(&[
                (
                    "_include",
                    "DocumentReference:subject",
                    "DocumentReference",
                    "subject",
                    true,
                ),
                (
                    "_include",
                    "DocumentReference:author",
                    "DocumentReference",
                    "author",
                    true,
                ),
            ])),
            "Observation" if rng.chance(30) => Some((
                "_include",
                "Observation:subject",
                "Observation",
                "subject",
                true,
            )),
            "Patient" if rng.chance(50) => Some(*rng.pick(&[
                (
                    "_revinclude",
                    "DocumentReference:subject",
                    "DocumentReference",
                    "subject",
                    false,
                ),
                (
                    "_revinclude",
                    "Observation:subject",
                    "Observation",
                    "subject",
                    false,
                ),
                (
                    "_revinclude",
                    "AllergyIntolerance:patient",
                    "AllergyIntolerance",
                    "patient",
                    false,
                ),
                (
                    "_revinclude",
                    "Consent:patient",
                    "Consent",
                    "patient",
                    false,
                ),
            ])),
            _ => None,
        };
        let summary_count = include.is_none() && rng.chance(15);
        let link = match res_type {
            "Patient" if rng.chance(40) => Some(self.random_has(rng)),
            "DocumentReference" | "Observation" | "AllergyIntolerance" if rng.chance(25) => {
                let inner = match rng.below(3) {
                    0 => ("active".to_owned(), rng.chance(50).to_string()),
                    1 => (
                        "gender".to_owned(),
                        (*rng.pick(&["female", "male"])).to_owned(),
                    ),
                    _ => (
                        "general-practitioner".to_owned(),
                        format!("Practitioner/{}", rng.pick(&world.practitioners).id),
                    ),
                };
                Some(Link {
                    reverse: false,
                    other_type: "Patient",
                    field: if res_type == "AllergyIntolerance" {
                        "patient"
                    } else {
                        "subject"
                    },
                    inner,
                })
            }
            _ => None,
        };
        Search {
            res_type,
            params,
            sort,
            include,
            link,
            count: if rng.chance(70) {
                Some(rng.between(1, 4))
            } else {
                None
            },
            total: rng.chance(50),
            summary_count,
        }
    }

    /// A `_has` on Patient through the documents, observations or allergies of the record.
    fn random_has(&self, rng: &mut Rng) -> Link {
        let world = self.world;
        let (other_type, field, inner) = match rng.below(5) {
            0 => (
                "DocumentReference",
                "subject",
                (
                    "type".to_owned(),
                    format!("{LOINC}|{}", rng.pick(&DOCUMENT_TYPES)),
                ),
            ),
            1 => (
                "DocumentReference",
                "subject",
                (
                    "category".to_owned(),
                    format!("{TRE_A03}|{}", rng.pick(&CLASSES)),
                ),
            ),
            2 => {
                let documents: Vec<&Entity> = world
                    .entities
                    .iter()
                    .filter(|e| e.res_type == "DocumentReference")
                    .collect();
                (
                    "DocumentReference",
                    "subject",
                    ("_id".to_owned(), rng.pick(&documents).id.clone()),
                )
            }
            3 => (
                "Observation",
                "subject",
                (
                    "category".to_owned(),
                    (*rng.pick(&OBSERVATION_CATEGORIES)).to_owned(),
                ),
            ),
            _ => (
                "AllergyIntolerance",
                "patient",
                (
                    "category".to_owned(),
                    (*rng.pick(&ALLERGY_CATEGORIES)).to_owned(),
                ),
            ),
        };
        Link {
            reverse: true,
            other_type,
            field,
            inner,
        }
    }

    /// Follows `next` links from `uri` to the end: every page's entries with their mode,
    /// and the totals the pages stated.
    async fn pages(
        &mut self,
        class: &'static str,
        asker: &Asker,
        uri: &str,
    ) -> Option<(Vec<Vec<(String, Value)>>, Vec<u64>)> {
        let mut next = Some(uri.to_owned());
        let mut pages = Vec::new();
        let mut totals = Vec::new();
        while let Some(url) = next {
            if pages.len() == MAX_PAGES {
                self.fail(
                    class,
                    "WRONG",
                    asker,
                    format!("GET {uri}: more than {MAX_PAGES} pages"),
                );
                return None;
            }
            let reply = self.get(&url, asker).await;
            if reply.status != StatusCode::OK {
                self.fail(
                    class,
                    "WRONG",
                    asker,
                    format!(
                        "GET {url}: {} {}",
                        reply.status,
                        String::from_utf8_lossy(&reply.body)
                    ),
                );
                return None;
            }
            let bundle = reply.json();
            totals.extend(bundle["total"].as_u64());
            let entries = bundle["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| !is_audit(e))
                .map(|e| {
                    let mode = e["search"]["mode"].as_str().unwrap_or("match").to_owned();
                    (mode, e["resource"].clone())
                })
                .collect();
            pages.push(entries);
            next = link(&bundle, "next");
        }
        Some((pages, totals))
    }

    /// Sorts the failure of an unexpected set: what the oracle hides is a leak, a
    /// permitted resource that does not belong there is a wrong answer.
    #[expect(clippy::too_many_arguments, reason = "one comparison, its parts named")]
    fn compare_sets(
        &mut self,
        class: &'static str,
        asker: &Asker,
        what: &str,
        got: &BTreeSet<String>,
        expected: &BTreeSet<String>,
        optional: &BTreeSet<String>,
        hidden: &BTreeSet<String>,
    ) {
        let extra: BTreeSet<String> = got
            .difference(expected)
            .filter(|r| !optional.contains(*r))
            .cloned()
            .collect();
        let (leaked, wrong): (BTreeSet<String>, BTreeSet<String>) =
            extra.into_iter().partition(|r| hidden.contains(r));
        let missing: BTreeSet<String> = expected.difference(got).cloned().collect();
        // Binaries inherit their document's decision: a separate check class.
        let (binaries, leaked): (BTreeSet<String>, BTreeSet<String>) =
            leaked.into_iter().partition(|r| r.starts_with("Binary/"));
        if !binaries.is_empty() {
            self.fail(
                "binary",
                "LEAK",
                asker,
                format!("{what}: shows hidden {}", joined(&binaries)),
            );
        }
        if !leaked.is_empty() {
            self.fail(
                class,
                "LEAK",
                asker,
                format!("{what}: shows hidden {}", joined(&leaked)),
            );
        }
        if !missing.is_empty() {
            self.fail(
                class,
                "HIDES",
                asker,
                format!("{what}: misses permitted {}", joined(&missing)),
            );
        }
        if !wrong.is_empty() {
            self.fail(
                class,
                "WRONG",
                asker,
                format!("{what}: shows unexpected {}", joined(&wrong)),
            );
        }
    }

    /// Whether the oracle hides the current (or last live) content of `reference`.
    fn hides(&self, asker: &Asker, reference: &str) -> bool {
        match self.world.entity(reference) {
            Some(entity) => {
                !self
                    .oracle
                    .permits_version(&asker.context, entity, entity.versions.len() - 1)
            }
            None => false,
        }
    }

    /// The references among `items` whose content the oracle hides.
    fn hidden_among(&self, asker: &Asker, items: &BTreeSet<String>) -> BTreeSet<String> {
        items
            .iter()
            .filter(|r| self.hides(asker, r))
            .cloned()
            .collect()
    }

    fn permits_current(&self, asker: &Asker, entity: &Entity) -> bool {
        entity
            .current()
            .is_some_and(|c| self.oracle.permits(&asker.context, &entity.res_type, c))
    }

    /// Whether a search naming `named` patients may leave out this permitted resource: a
    /// break-glass professional's searches span the records that name them and the
    /// patients the query names, not every record of the server (break-glass is about one
    /// patient); a record they reach by break-glass alone is searched when named.
    fn optional_in_search(&self, asker: &Asker, entity: &Entity, named: &BTreeSet<String>) -> bool {
        let patients = entity
            .current()
            .map(|c| compartments(&entity.res_type, c))
            .unwrap_or_default();
        patients
            .iter()
            .any(|p| !named.contains(p) && self.oracle.break_glass_only(&asker.context, p))
    }

    /// Compares the totals stated with what the pages showed and the oracle permits.
    #[expect(clippy::too_many_arguments, reason = "one comparison, its parts named")]
    fn compare_total(
        &mut self,
        class: &'static str,
        asker: &Asker,
        uri: &str,
        total: u64,
        shown: Option<usize>,
        required: usize,
        optional: usize,
    ) {
        let total = total as usize;
        let oracle = if optional == 0 {
            format!("the oracle permits {required}")
        } else {
            format!("the oracle permits {required} (and {optional} reached by break-glass alone)")
        };
        if total > required + optional {
            self.fail(
                class,
                "LEAK",
                asker,
                format!("GET {uri}: total {total}, {oracle}"),
            );
        } else if total < required {
            self.fail(
                class,
                "HIDES",
                asker,
                format!("GET {uri}: total {total}, {oracle}"),
            );
        } else if shown.is_some_and(|shown| shown != total) {
            self.fail(
                class,
                "WRONG",
                asker,
                format!(
                    "GET {uri}: total {total}, the pages show {}",
                    shown.unwrap_or(0)
                ),
            );
        }
    }

    async fn search(&mut self, asker: &Asker, search: &Search) {
        let world = self.world;
        let uri = search.uri();
        let binary = search.res_type == "Binary";
        let class = if binary { "binary" } else { "search" };
        let total_class = if binary { "binary" } else { "total" };
        let named = search.named_patients();
        let allowed = |e: &Entity| self.permits_current(asker, e);
        let permitted: Vec<&Entity> = world
            .entities
            .iter()
            .filter(|e| search.matches(world, e, &allowed) && self.permits_current(asker, e))
            .collect();
        let (optional, required): (Vec<&Entity>, Vec<&Entity>) = permitted
            .into_iter()
            .partition(|e| e.res_type == "Binary" || self.optional_in_search(asker, e, &named));
        let required: BTreeSet<String> = required.into_iter().map(Entity::reference).collect();
        let optional: BTreeSet<String> = optional.into_iter().map(Entity::reference).collect();
        if search.summary_count {
            let reply = self.get(&uri, asker).await;
            if reply.status != StatusCode::OK {
                self.fail(
                    class,
                    "WRONG",
                    asker,
                    format!("GET {uri}: {}", reply.status),
                );
                return;
            }
            let bundle = reply.json();
            match bundle["total"].as_u64() {
                Some(total) => self.compare_total(
                    total_class,
                    asker,
                    &uri,
                    total,
                    None,
                    required.len(),
                    optional.len(),
                ),
                None => self.fail(total_class, "WRONG", asker, format!("GET {uri}: no total")),
            }
            let listed = bundle["entry"].as_array().map_or(0, Vec::len);
            if listed > 0 {
                self.fail(
                    total_class,
                    "WRONG",
                    asker,
                    format!("GET {uri}: {listed} entries"),
                );
            }
            return;
        }
        let Some((pages, totals)) = self.pages(class, asker, &uri).await else {
            return;
        };
        let mut seen: Vec<Value> = Vec::new();
        let mut duplicates = BTreeSet::new();
        for page in &pages {
            let matches: Vec<&Value> = page
                .iter()
                .filter(|(mode, _)| mode == "match")
                .map(|(_, r)| r)
                .collect();
            for resource in &matches {
                let reference = reference_of(resource);
                if seen.iter().any(|s| reference_of(s) == reference) {
                    duplicates.insert(reference);
                }
                seen.push((*resource).clone());
            }
            if let Some((name, value, source, field, forward)) = search.include {
                let page_refs: BTreeSet<String> = matches.iter().map(|r| reference_of(r)).collect();
                let got: BTreeSet<String> = page
                    .iter()
                    .filter(|(mode, _)| mode == "include")
                    .map(|(_, r)| reference_of(r))
                    .collect();
                let targets: BTreeSet<String> = if forward {
                    page_refs
                        .iter()
                        .filter_map(|r| world.entity(r).and_then(Entity::current))
                        .flat_map(|c| references(c, field))
                        .collect()
                } else {
                    world
                        .entities
                        .iter()
                        .filter(|e| e.res_type == source)
                        .filter(|e| {
                            e.current().is_some_and(|c| {
                                references(c, field).iter().any(|r| page_refs.contains(r))
                            })
                        })
                        .map(Entity::reference)
                        .collect()
                };
                let permitted: Vec<&Entity> = targets
                    .iter()
                    .filter(|r| !page_refs.contains(*r))
                    .filter_map(|r| world.entity(r))
                    .filter(|e| self.permits_current(asker, e))
                    .collect();
                let (optional, required): (Vec<&Entity>, Vec<&Entity>) = permitted
                    .into_iter()
                    .partition(|e| self.optional_in_search(asker, e, &named));
                let required: BTreeSet<String> =
                    required.into_iter().map(Entity::reference).collect();
                let optional: BTreeSet<String> =
                    optional.into_iter().map(Entity::reference).collect();
                let what = format!("GET {uri} ({name}={value}, a page)");
                let hidden = self.hidden_among(asker, &got);
                self.compare_sets("include", asker, &what, &got, &required, &optional, &hidden);
            }
        }
        if !duplicates.is_empty() {
            self.fail(
                class,
                "WRONG",
                asker,
                format!("GET {uri}: repeated across pages {}", joined(&duplicates)),
            );
        }
        let mut got: BTreeSet<String> = seen.iter().map(reference_of).collect();
        // A `_has` or a chain must not see what the subject may not see.
        let through_hidden: BTreeSet<String> = got
            .iter()
            .filter(|r| {
                search.link.is_some()
                    && world.entity(r).is_some_and(|e| {
                        search.matches(world, e, &|_| true)
                            && !search.matches(world, e, &|l| self.permits_current(asker, l))
                    })
            })
            .cloned()
            .collect();
        if !through_hidden.is_empty() {
            self.fail(
                class,
                "LEAK",
                asker,
                format!(
                    "GET {uri}: matches only through resources the oracle hides: {}",
                    joined(&through_hidden)
                ),
            );
            got.retain(|r| !through_hidden.contains(r));
        }
        let hidden = self.hidden_among(asker, &got);
        let what = format!("GET {uri}");
        self.compare_sets(class, asker, &what, &got, &required, &optional, &hidden);
        if let Some(total) = totals.first() {
            self.compare_total(
                total_class,
                asker,
                &uri,
                *total,
                Some(got.len()),
                required.len(),
                optional.len(),
            );
        }
        if totals.windows(2).any(|w| w[0] != w[1]) {
            self.fail(
                total_class,
                "WRONG",
                asker,
                format!("GET {uri}: totals change across pages {totals:?}"),
            );
        }
        if let Some(sort) = search.sort {
            let key = |r: &Value| -> String {
                if sort.ends_with("_id") {
                    r["id"].as_str().unwrap_or("").to_owned()
                } else {
                    r["meta"]["lastUpdated"].as_str().unwrap_or("").to_owned()
                }
            };
            let keys: Vec<String> = seen.iter().map(key).collect();
            let ordered = keys.windows(2).all(|w| {
                if sort.starts_with('-') {
                    w[0] >= w[1]
                } else {
                    w[0] <= w[1]
                }
            });
            if !ordered {
                self.fail(
                    class,
                    "WRONG",
                    asker,
                    format!("GET {uri}: not sorted by {sort}: {keys:?}"),
                );
            }
        }
    }

    /// `Patient/{id}/{type}` for every patient and a random type.
    async fn compartments(&mut self, asker: &Asker, rng: &mut Rng) {
        let world = self.world;
        for patient in &world.patients {
            let res_type = *rng.pick(&COMPARTMENT_TYPES);
            let mut uri = format!(
                "/fhir/Patient/{patient}/{res_type}?_count={}",
                rng.between(2, 6)
            );
            if res_type == "*" {
                uri.push_str(WORLD_TYPES);
            }
            self.compartment(asker, "compartment", patient, res_type, &uri)
                .await;
        }
    }

    /// A compartment search (`res_type` `*`: every type) of `patient`'s record: 403 for a
    /// professional without access to the record, else exactly what the oracle permits
    /// of the compartment (`Patient/$everything` may add resources outside it that the
    /// oracle permits).
    async fn compartment(
        &mut self,
        asker: &Asker,
        class: &'static str,
        patient: &str,
        res_type: &str,
        uri: &str,
    ) {
        let world = self.world;
        let access = self.oracle.record_access(&asker.context, patient);
        let forbidden = asker.is_professional()
            && !matches!(access, RecordAccess::Authorized(_) | RecordAccess::NoRecord);
        if forbidden {
            let reply = self.get(uri, asker).await;
            match reply.status {
                StatusCode::FORBIDDEN => {}
                StatusCode::OK => {
                    let shown: BTreeSet<String> = reply.json()["entry"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|e| reference_of(&e["resource"]))
                        .collect();
                    let kind = if shown.iter().any(|r| self.hides(asker, r)) {
                        "LEAK"
                    } else {
                        "WRONG"
                    };
                    self.fail(
                        class,
                        kind,
                        asker,
                        format!(
                            "GET {uri}: 200 without record access ({access:?}), shows [{}]",
                            joined(&shown)
                        ),
                    );
                }
                status => self.fail(
                    class,
                    "WRONG",
                    asker,
                    format!("GET {uri}: {status}, 403 expected"),
                ),
            }
            return;
        }
        let everything = res_type == "*" || res_type == "$everything";
        let expected: BTreeSet<String> = world
            .entities
            .iter()
            .filter(|e| everything || e.res_type == res_type)
            .filter(|e| {
                e.current()
                    .is_some_and(|c| compartments(&e.res_type, c).iter().any(|p| p == patient))
            })
            .filter(|e| self.permits_current(asker, e))
            .map(Entity::reference)
            .collect();
        let optional: BTreeSet<String> = if res_type == "$everything" {
            world
                .entities
                .iter()
                .filter(|e| {
                    e.current()
                        .is_some_and(|c| compartments(&e.res_type, c).is_empty())
                })
                .filter(|e| self.permits_current(asker, e))
                .map(Entity::reference)
                .collect()
        } else {
            BTreeSet::new()
        };
        let Some((pages, totals)) = self.pages(class, asker, uri).await else {
            return;
        };
        let got: BTreeSet<String> = pages
            .iter()
            .flatten()
            .filter(|(mode, _)| mode == "match")
            .map(|(_, r)| reference_of(r))
            .collect();
        let hidden = self.hidden_among(asker, &got);
        let what = format!("GET {uri}");
        self.compare_sets(class, asker, &what, &got, &expected, &optional, &hidden);
        if let Some(total) = totals.first() {
            self.compare_total(
                class,
                asker,
                uri,
                *total,
                Some(got.len()),
                expected.len(),
                optional.len(),
            );
        }
    }

    /// History of `uri` (instance, type or system) against the versions of `entities`.
    async fn history(&mut self, asker: &Asker, uri: &str, entities: &[&Entity]) {
        let expected: BTreeSet<String> = entities
            .iter()
            .flat_map(|e| {
                (0..e.versions.len())
                    .filter(|i| self.oracle.permits_version(&asker.context, e, *i))
                    .map(|i| format!("{}@{}", e.reference(), i + 1))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut next = Some(uri.to_owned());
        let mut got = BTreeSet::new();
        let mut pages = 0;
        while let Some(url) = next {
            pages += 1;
            if pages > MAX_PAGES {
                self.fail(
                    "history",
                    "WRONG",
                    asker,
                    format!("GET {uri}: more than {MAX_PAGES} pages"),
                );
                return;
            }
            let reply = self.get(&url, asker).await;
            if reply.status == StatusCode::NOT_FOUND && expected.is_empty() {
                return;
            }
            if reply.status != StatusCode::OK {
                self.fail(
                    "history",
                    "WRONG",
                    asker,
                    format!("GET {url}: {}", reply.status),
                );
                return;
            }
            let bundle = reply.json();
            if let Some(total) = bundle["total"].as_u64()
                && total as usize != expected.len()
            {
                let kind = if total as usize > expected.len() {
                    "LEAK"
                } else {
                    "HIDES"
                };
                self.fail(
                    "history",
                    kind,
                    asker,
                    format!(
                        "GET {url}: total {total}, the oracle permits {}",
                        expected.len()
                    ),
                );
            }
            for entry in bundle["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| !is_audit(e))
            {
                let reference = entry["fullUrl"]
                    .as_str()
                    .unwrap_or("")
                    .trim_start_matches("http://carnet.test/fhir/")
                    .to_owned();
                let version = entry["response"]["etag"]
                    .as_str()
                    .unwrap_or("")
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_owned();
                got.insert(format!("{reference}@{version}"));
            }
            next = link(&bundle, "next");
        }
        let world = self.world;
        let hidden: BTreeSet<String> = got
            .iter()
            .filter(|r| {
                let (reference, version) = r.split_once('@').unwrap_or((r, "0"));
                let index: usize = version.parse().unwrap_or(0);
                world.entity(reference).is_some_and(|e| {
                    index >= 1
                        && index <= e.versions.len()
                        && !self.oracle.permits_version(&asker.context, e, index - 1)
                })
            })
            .cloned()
            .collect();
        self.compare_sets(
            "history",
            asker,
            &format!("GET {uri}"),
            &got,
            &expected,
            &BTreeSet::new(),
            &hidden,
        );
    }

    async fn histories(&mut self, asker: &Asker, rng: &mut Rng) {
        let world = self.world;
        for res_type in SEARCH_TYPES {
            let of_type: Vec<&Entity> = world
                .entities
                .iter()
                .filter(|e| e.res_type == res_type)
                .collect();
            self.history(
                asker,
                &format!("/fhir/{res_type}/_history?_count=7"),
                &of_type,
            )
            .await;
        }
        let everyone: Vec<&Entity> = world.entities.iter().collect();
        self.history(asker, "/fhir/_history?_count=40", &everyone)
            .await;
        let mut chosen: Vec<&Entity> = world
            .entities
            .iter()
            .filter(|e| e.versions.len() > 1)
            .collect();
        for _ in 0..INSTANCE_HISTORIES {
            chosen.push(rng.pick(&world.entities));
        }
        for entity in chosen {
            self.history(
                asker,
                &format!("/fhir/{}/_history", entity.reference()),
                &[entity],
            )
            .await;
        }
    }

    /// `Patient/{id}/$everything` of every patient, when the server has it.
    async fn everything(&mut self, asker: &Asker, rng: &mut Rng) {
        let world = self.world;
        for patient in &world.patients {
            let uri = format!(
                "/fhir/Patient/{patient}/$everything?_count={}{WORLD_TYPES}",
                rng.between(3, 9)
            );
            self.compartment(asker, "everything", patient, "$everything", &uri)
                .await;
        }
    }

    /// Whether the server answers `Patient/{id}/$everything` (probed with the system token).
    async fn has_everything(&mut self, system: &str) -> bool {
        let uri = format!("/fhir/Patient/{}/$everything", self.world.patients[0]);
        let reply = send(self.app, fhir_request(Method::GET, &uri, system, None)).await;
        let present = reply.status == StatusCode::OK;
        if !present {
            self.notes.insert(format!(
                "Patient/$everything is not implemented ({}): its check is ready and skipped",
                reply.status
            ));
        }
        present
    }
}

async fn run_seed(app: crate::common::TestApp, seed: u64) -> (Vec<Failure>, BTreeSet<String>) {
    let started = Instant::now();
    let service = test::init_service(carnet::build_app(app.state())).await;
    let system = app.token();
    let mut world = World::generate(seed);
    world.store(&service, &system).await;
    let stored_in = started.elapsed();
    if std::env::var("CARNET_LEAK_DUMP").is_ok() {
        for entity in &world.entities {
            eprintln!("{}: {:?}", entity.reference(), entity.versions);
        }
    }
    let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(7));
    let now = chrono::Utc::now().timestamp_millis();
    let askers = askers(&world, &app, &mut rng, now);
    let mut run = Run {
        app: &service,
        world: &world,
        oracle: Oracle::new(&world),
        backend: app.database.label,
        failures: Vec::new(),
        notes: BTreeSet::new(),
        checks: 0,
    };
    let everything = run.has_everything(&system).await;
    for asker in &askers {
        run.reads(asker).await;
        for _ in 0..SEARCHES_PER_SUBJECT {
            let search = run.random_search(&mut rng);
            run.search(asker, &search).await;
        }
        run.compartments(asker, &mut rng).await;
        run.histories(asker, &mut rng).await;
        if everything {
            run.everything(asker, &mut rng).await;
        }
    }
    let versions: usize = world.entities.iter().map(|e| e.versions.len()).sum();
    eprintln!(
        "leak seed {seed} [{}]: {} resources ({versions} versions), {} subjects, {} requests compared, {} failures; stored in {:.1?}, total {:.1?}",
        run.backend,
        world.entities.len(),
        askers.len(),
        run.checks,
        run.failures.len(),
        stored_in,
        started.elapsed()
    );
    (run.failures, run.notes)
}

#[actix_web::test]
async fn nothing_leaks_in_random_worlds() {
    let mut failures: Vec<Failure> = Vec::new();
    let mut notes: BTreeSet<String> = BTreeSet::new();
    for seed in seeds() {
        let found = std::sync::Mutex::new((Vec::new(), BTreeSet::new()));
        each_backend(|app| {
            let found = &found;
            async move {
                let (f, n) = run_seed(app, seed).await;
                let mut found = found.lock().unwrap();
                found.0.extend(f);
                found.1.extend(n);
            }
        })
        .await;
        let (f, n) = found.into_inner().unwrap();
        failures.extend(f);
        notes.extend(n);
    }
    for note in &notes {
        eprintln!("leak: note: {note}");
    }
    let mut by_class: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for f in &failures {
        *by_class.entry((f.class, f.kind)).or_default() += 1;
    }
    let (known, real): (Vec<&Failure>, Vec<&Failure>) = failures
        .iter()
        .partition(|f| KNOWN_GAPS.iter().any(|(class, _)| *class == f.class));
    for (class, reason) in KNOWN_GAPS {
        let count = known.iter().filter(|f| f.class == *class).count();
        if count == 0 {
            eprintln!(
                "leak: WARNING: known gap `{class}` no longer fails: remove it from KNOWN_GAPS"
            );
        } else {
            eprintln!(
                "leak: WARNING: known gap `{class}` ({reason}): {count} failures skipped, e.g. {}",
                known
                    .iter()
                    .find(|f| f.class == *class)
                    .map_or("", |f| f.text.as_str())
            );
        }
    }
    if !real.is_empty() {
        let shown: Vec<&str> = real.iter().take(40).map(|f| f.text.as_str()).collect();
        panic!(
            "{} failures ({by_class:?}); replay one with CARNET_LEAK_SEED=<seed>:\n{}",
            real.len(),
            shown.join("\n")
        );
    }
}

/// The leak the random worlds found first (seed 1): `_has` looked through every resource,
/// so a patient learned that their record holds a laboratory result hidden from them.
#[actix_web::test]
async fn has_looks_only_through_visible_resources() {
    each_backend(|app| async move {
        let service = test::init_service(carnet::build_app(app.state())).await;
        let system = app.token();
        let hidden = serde_json::json!({"resourceType": "Observation", "id": "hidden-lab",
            "status": "final", "subject": {"reference": "Patient/p1"},
            "meta": {"security": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument", "code": "INVISIBLE_PATIENT"}]},
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory"}]}],
            "code": {"text": "result to announce"}});
        for (uri, body) in [
            ("/fhir/Patient/p1", serde_json::json!({"resourceType": "Patient", "id": "p1", "active": true})),
            ("/fhir/Observation/hidden-lab", hidden),
        ] {
            let reply = send(&service, fhir_request(Method::PUT, uri, &system, Some(&body))).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{uri}");
        }
        let patient = app.token_with(carnet::auth::TokenRequest {
            subject: carnet::auth::Subject::Patient("p1".into()),
            scope: "user/*.rs".into(),
            purposes: vec!["TREAT".into()],
            profession: None,
            organization: None,
            patient: None,
            ttl_seconds: 600,
        });
        let uri = "/fhir/Patient?_has:Observation:subject:category=laboratory&_total=accurate";
        for (token, expected) in [(&system, 1), (&patient, 0)] {
            let bundle = send(&service, fhir_request(Method::GET, uri, token, None))
                .await
                .json();
            assert_eq!(bundle["total"], expected, "{bundle}");
            assert_eq!(
                bundle["entry"].as_array().map_or(0, Vec::len),
                expected as usize
            );
        }
    })
    .await;
}

/// Found by the random worlds (seed 8 of `CARNET_LEAK_SEEDS=8`): a search that names a
/// patient is narrowed to that patient's record alone (`Gate::records_filter`), so a
/// resource also in another compartment the professional may read (an observation whose
/// performer is another patient) is hidden although the decision point permits it.
#[actix_web::test]
async fn a_resource_in_two_compartments_shows_when_one_is_named() {
    each_backend(|app| async move {
        let service = test::init_service(carnet::build_app(app.state())).await;
        let system = app.token();
        let patient = |id: &str| {
            serde_json::json!({"resourceType": "Patient", "id": id, "active": true,
                "generalPractitioner": [{"reference": "Practitioner/gp"}]})
        };
        let shared = serde_json::json!({"resourceType": "Observation", "id": "shared",
            "status": "final", "subject": {"reference": "Patient/a"},
            "performer": [{"reference": "Patient/b"}],
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
            "code": {"text": "blood pressure"}});
        for (uri, body) in [
            ("/fhir/Patient/a", patient("a")),
            ("/fhir/Patient/b", patient("b")),
            ("/fhir/Observation/shared", shared),
        ] {
            let reply = send(
                &service,
                fhir_request(Method::PUT, uri, &system, Some(&body)),
            )
            .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{uri}");
        }
        let gp = app.token_with(carnet::auth::TokenRequest {
            subject: carnet::auth::Subject::Practitioner("gp".into()),
            scope: "user/*.rs".into(),
            purposes: vec!["TREAT".into()],
            profession: Some("10".into()),
            organization: None,
            patient: None,
            ttl_seconds: 600,
        });
        let read = send(
            &service,
            fhir_request(Method::GET, "/fhir/Observation/shared", &gp, None),
        )
        .await;
        assert_eq!(
            read.status,
            StatusCode::OK,
            "the médecin traitant of both reads it"
        );
        for uri in [
            "/fhir/Observation?_id=shared",
            "/fhir/Observation?patient=a",
            "/fhir/Patient/a/Observation",
            "/fhir/Patient/b/Observation",
        ] {
            let bundle = send(&service, fhir_request(Method::GET, uri, &gp, None))
                .await
                .json();
            assert_eq!(bundle["total"], 1, "{uri}: {bundle}");
        }
    })
    .await;
}

/// Whether a Bundle entry is one of the AuditEvents the server writes about the test's
/// own requests (not part of the generated world).
fn is_audit(entry: &Value) -> bool {
    entry["resource"]["resourceType"] == "AuditEvent"
        || entry["fullUrl"]
            .as_str()
            .is_some_and(|u| u.contains("/AuditEvent/"))
}
