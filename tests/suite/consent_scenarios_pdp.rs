//! The pure half of the consent scenarios: the facts of a check as the decision point
//! takes them (`consent::RecordFacts`, `ResourceFacts`, `Context`), read back from the
//! stored world with a system token (so writes of earlier checks count), and the decision
//! of `Policy::decide` on them. Label set times come from the version history
//! (`label_set_times`), the creator of a resource from the checks that created it.

use std::collections::HashMap;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use serde_json::Value;

use carnet::auth::PurposeOfUse;
use carnet::consent::{
    Action, ConsentPolicy, Context, Decision, LabelCode, Professional, RecordFacts, RecordStatus,
    Requester, ResourceFacts, general_practitioners_of, label_set_times, legal_representation_of,
    majority_of, profession_of,
};
use carnet::fhir::labels::security_labels;
use carnet::search::compartment::patient_ids;
use carnet::search::extract::extract;

use crate::common::{TestApp, send};
use crate::consent_scenarios::{As, request};

/// What the decision point's facts are read from.
pub struct Facts<'a, S> {
    pub service: &'a S,
    pub app: &'a TestApp,
    pub now_millis: i64,
    pub system_token: &'a str,
    /// `Type/id` -> the subject who created it in a check.
    pub creators: &'a HashMap<String, String>,
}

impl<S, B> Facts<'_, S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// The JSON a system client reads at `url`, `None` when it is not there.
    async fn get(&self, url: &str) -> Option<Value> {
        let reply = send(self.service, request("GET", url, self.system_token, None)).await;
        reply
            .status
            .is_success()
            .then(|| serde_json::from_slice(&reply.body).ok())
            .flatten()
    }

    /// The record of `patient` as the server keeps it.
    async fn record(&self, patient: &str) -> Result<Option<RecordFacts>, String> {
        let reply = send(
            self.service,
            request(
                "GET",
                &format!("Patient/{patient}"),
                self.system_token,
                None,
            ),
        )
        .await;
        let (status, json) = match reply.status.as_u16() {
            200 => {
                let json: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
                let closed = json["active"] == Value::Bool(false)
                    || json["deceasedBoolean"] == Value::Bool(true)
                    || json.get("deceasedDateTime").is_some();
                let status = if closed {
                    RecordStatus::Closed
                } else {
                    RecordStatus::Open
                };
                (status, json)
            }
            410 => (RecordStatus::Destroyed, Value::Null),
            404 => return Ok(None),
            other => return Err(format!("reading Patient/{patient} answered {other}")),
        };
        let bundle = self
            .get(&format!("Consent?patient=Patient/{patient}&_count=1000"))
            .await
            .ok_or_else(|| format!("searching the consents of {patient} failed"))?;
        let consents = bundle["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| {
                let consent = &entry["resource"];
                ConsentPolicy::from_json(consent).unwrap_or_else(|error| {
                    ConsentPolicy::unreadable(
                        consent["id"].as_str().map(str::to_owned),
                        Some(patient.to_owned()),
                        &error,
                    )
                })
            })
            .collect();
        Ok(Some(RecordFacts {
            patient_id: patient.to_owned(),
            status,
            general_practitioners: general_practitioners_of(&json),
            consents,
            majority_millis: majority_of(&json),
        }))
    }

    /// The requester `who` is, looked up as the server does.
    async fn requester(&self, who: &As) -> Requester {
        let (kind, id) = who.subject.split_once('/').unwrap_or(("system", ""));
        match kind {
            "Patient" => Requester::Patient {
                patient_id: id.to_owned(),
            },
            "RelatedPerson" => {
                let stored = self.get(&who.subject).await;
                match stored.as_ref().and_then(legal_representation_of) {
                    Some(representation) => Requester::Representative {
                        related_person_id: id.to_owned(),
                        patient_id: representation.patient_id,
                        until_majority: representation.until_majority,
                    },
                    None => Requester::Unrecognised {
                        reference: who.subject.clone(),
                    },
                }
            }
            "Practitioner" => {
                let profession = match &who.profession {
                    Some(p) => Some(p.clone()),
                    None => self
                        .get(&who.subject)
                        .await
                        .as_ref()
                        .and_then(profession_of),
                };
                Requester::Professional(Professional {
                    practitioner_id: id.to_owned(),
                    profession,
                    organization: who.organization.clone(),
                })
            }
            _ => Requester::System {
                name: "scenario-harness".to_owned(),
            },
        }
    }

    /// When each label of the current version of `reference` was set, from its history.
    async fn label_times(&self, reference: &str) -> Vec<carnet::consent::Label> {
        let Some(history) = self.get(&format!("{reference}/_history?_count=1000")).await else {
            return Vec::new();
        };
        let mut versions: Vec<(i64, Vec<LabelCode>)> = history["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let resource = entry.get("resource")?;
                let at = resource["meta"]["lastUpdated"].as_str()?;
                let at = chrono::DateTime::parse_from_rfc3339(at)
                    .ok()?
                    .timestamp_millis();
                let labels = security_labels(resource)
                    .into_iter()
                    .map(|(system, code)| LabelCode { system, code })
                    .collect();
                Some((at, labels))
            })
            .collect();
        versions.sort_by_key(|(at, _)| *at);
        label_set_times(&versions)
    }
}

/// The decision point's decision on reading `path` (`Type/id` or `Type/id/_history/v`) as
/// `who`, or on creating `body` when given; `None` when the resource is not stored.
pub async fn read_decision<S, B>(
    facts: &Facts<'_, S>,
    who: &As,
    path: &str,
    body: Option<&Value>,
) -> Result<Option<Decision>, String>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (action, resource, current) = match body {
        Some(body) => (Action::Create, body.clone(), false),
        None => {
            let Some(resource) = facts.get(path).await else {
                return Ok(None);
            };
            let current = match path.split_once("/_history/") {
                None => true,
                Some((base, version)) => {
                    let latest = facts.get(base).await;
                    if latest
                        .as_ref()
                        .is_some_and(|c| c["meta"]["versionId"].as_str() != Some(version))
                    {
                        // An older version of a resource the subject may not see now is
                        // hidden too (§9): both must be readable.
                        let older =
                            Box::pin(decide(facts, who, &resource, Action::Read, false)).await?;
                        let now = Box::pin(read_decision(facts, who, base, None)).await?;
                        return Ok(match (older, now) {
                            (Some(older), Some(now)) => Some(older.and(now)),
                            (older, _) => older,
                        });
                    }
                    true
                }
            };
            (Action::Read, resource, current)
        }
    };
    decide(facts, who, &resource, action, current).await
}

/// The decision on `action` on `resource` (`current`: its current version, whose label
/// times come from the history).
async fn decide<S, B>(
    facts: &Facts<'_, S>,
    who: &As,
    resource: &Value,
    action: Action,
    current: bool,
) -> Result<Option<Decision>, String>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let creating = action == Action::Create;
    let res_type = resource["resourceType"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let id = resource["id"].as_str().unwrap_or_default().to_owned();
    let reference = format!("{res_type}/{id}");
    let registry = &facts.app.services.registry;
    let patients = patient_ids(
        registry,
        &res_type,
        &id,
        &extract(registry, &res_type, resource),
    );
    // The server counts the subject who stored version 1 as an author; a resource being
    // created has none yet.
    let creator = if creating {
        None
    } else {
        facts.creators.get(&reference).cloned()
    };
    let labels = if current {
        Some(facts.label_times(&reference).await)
    } else {
        None
    };
    let resource_facts = |patient: Option<&str>| {
        let mut found = ResourceFacts::from_json(resource, patient);
        if let Some(creator) = &creator
            && who.subject != "system"
            && !found.authors.contains(creator)
        {
            found.authors.push(creator.clone());
            found.authors.sort();
        }
        if let Some(labels) = &labels {
            for label in &mut found.labels {
                label.set_at_millis = labels
                    .iter()
                    .find(|l| l.code == label.code)
                    .and_then(|l| l.set_at_millis);
            }
        }
        found
    };
    let context = Context {
        requester: facts.requester(who).await,
        purposes: if who.purpose.is_empty() {
            vec![PurposeOfUse::Treat]
        } else {
            who.purpose
                .iter()
                .map(|p| PurposeOfUse::from_code(p))
                .collect()
        },
        now_millis: facts.now_millis,
    };
    let policy = &facts.app.services.policy;
    if patients.is_empty() {
        let one = resource_facts(None);
        return Ok(Some(policy.decide(&context, &action, None, Some(&one))));
    }
    let mut decision: Option<Decision> = None;
    for patient in &patients {
        let record = facts.record(patient).await?;
        let one = resource_facts(Some(patient));
        let this = policy.decide(&context, &action, record.as_ref(), Some(&one));
        decision = Some(match decision {
            None => this,
            Some(before) => before.and(this),
        });
    }
    Ok(decision)
}
