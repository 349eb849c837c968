//! The consent conformance scenarios (`conformance/consent/*.json`, format in its README):
//! each file is a small world stored through HTTP by a system client and checks run through
//! HTTP as patients, representatives and professionals, on every backend. Read checks are
//! also put to the decision point directly on the same facts (`consent_scenarios_pdp`), so
//! the reasons a scenario expects are asserted even where HTTP answers a bare 404. Every
//! failing check is reported with its file and title; a check marked `known_gap` is
//! reported without failing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::test;
use serde::Deserialize;
use serde_json::Value;

use carnet::auth::{Subject, TokenRequest, mint};
use carnet::interaction::Clock;

use crate::common::{Reply, TestApp, TestClock, databases, send};
use crate::consent_scenarios_pdp::{Facts, read_decision};

const DAY_MILLIS: i64 = 24 * 60 * 60 * 1_000;

/// One scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub title: String,
    /// The DMP-RULES.md section or table row it covers.
    pub rule: String,
    /// What the scenario shows, in words.
    #[serde(default, rename = "description")]
    pub _description: Option<String>,
    /// The instant the test clock starts at (RFC 3339), for rules that depend on dates
    /// such as a birth date; the current time when absent.
    #[serde(default)]
    pub start: Option<String>,
    /// Resources with ids, stored in order by a system client (`PUT`).
    pub world: Vec<Value>,
    pub checks: Vec<Check>,
}

/// One request and what must come of it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(rename = "as")]
    pub who: As,
    /// Days since the world was stored (the test clock is moved forward; never back).
    #[serde(default)]
    pub after_days: Option<i64>,
    pub request: Request,
    pub expect: Expect,
    /// Why the server does not (yet) do what DMP-RULES.md says: reported, not failed.
    #[serde(default)]
    pub known_gap: Option<String>,
}

/// Who asks: the token's claims.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct As {
    /// `Patient/{id}`, `Practitioner/{id}`, `RelatedPerson/{id}` or `system`.
    pub subject: String,
    #[serde(default)]
    pub profession: Option<String>,
    /// v3-ActReason codes; none means TREAT.
    #[serde(default)]
    pub purpose: Vec<String>,
    #[serde(default)]
    pub organization: Option<String>,
    /// SMART scopes; `user/*.cruds` (`system/*.cruds` for `system`) when absent.
    #[serde(default)]
    pub scope: Option<String>,
    /// The patient in context of the token.
    #[serde(default)]
    pub patient: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub method: String,
    /// Relative to the FHIR base: `DocumentReference/d1`, `Observation?patient=p1`.
    pub url: String,
    #[serde(default)]
    pub body: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub status: u16,
    /// The exact set of `Type/id` of the Bundle's entries.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    /// `Bundle.total`.
    #[serde(default)]
    pub total: Option<u64>,
    /// The exact list of `Type/id/_history/v` of a history Bundle's entries, in order.
    #[serde(default)]
    pub versions: Option<Vec<String>>,
    /// Rule ids that must be among the decision point's reasons (reads, creates) or in
    /// the OperationOutcome of a refused write.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// Every scenario file, sorted by name.
fn load_scenarios() -> Vec<(String, Scenario)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/consent");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let scenario: Scenario =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, scenario)
        })
        .collect()
}

/// What the run found.
#[derive(Default)]
struct Report {
    checks: usize,
    failures: Vec<String>,
    gaps: Vec<String>,
    fixed_gaps: Vec<String>,
}

#[actix_web::test]
async fn consent_scenarios_hold_through_http_and_the_decision_point() {
    let scenarios = load_scenarios();
    assert!(!scenarios.is_empty(), "no scenario in conformance/consent");
    let mut report = Report::default();
    for (file, scenario) in &scenarios {
        assert!(!scenario.checks.is_empty(), "{file}: no check");
        assert!(!scenario.rule.is_empty(), "{file}: no rule");
        for database in databases() {
            run_scenario(database, file, scenario, &mut report).await;
        }
    }
    let checks: usize = scenarios.iter().map(|(_, s)| s.checks.len()).sum();
    eprintln!(
        "consent scenarios: {} files, {checks} checks, {} check runs, {} failures, {} known gaps",
        scenarios.len(),
        report.checks,
        report.failures.len(),
        report.gaps.len()
    );
    for gap in &report.gaps {
        eprintln!("KNOWN GAP {gap}");
    }
    for fixed in &report.fixed_gaps {
        eprintln!("KNOWN GAP NOW PASSES (remove the mark): {fixed}");
    }
    assert!(
        report.failures.is_empty(),
        "{} failing checks:\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
}

async fn run_scenario(
    database: crate::common::TestDatabase,
    file: &str,
    scenario: &Scenario,
    report: &mut Report,
) {
    let backend = database.label;
    let mut app = TestApp::new(database);
    let clock = match &scenario.start {
        None => TestClock::now(),
        Some(start) => match chrono::DateTime::parse_from_rfc3339(start) {
            Ok(at) => TestClock::at(at.timestamp_millis()),
            Err(e) => {
                report.failures.push(format!(
                    "{file} [{backend}] {}: `start` {start:?} is not RFC 3339: {e}",
                    scenario.title
                ));
                return;
            }
        },
    };
    let clock = Arc::new(clock);
    app.services.clock = clock.clone();
    let service = test::init_service(carnet::build_app(app.state())).await;
    let start = clock.now_millis();
    let system = As {
        subject: "system".to_owned(),
        profession: None,
        purpose: Vec::new(),
        organization: None,
        scope: None,
        patient: None,
    };
    for resource in &scenario.world {
        let (Some(res_type), Some(id)) =
            (resource["resourceType"].as_str(), resource["id"].as_str())
        else {
            report.failures.push(format!(
                "{file} [{backend}] {}: a world resource has no type or id",
                scenario.title
            ));
            return;
        };
        let token = token(&app, clock.as_ref(), &system);
        let url = format!("{res_type}/{id}");
        let reply = send(&service, request("PUT", &url, &token, Some(resource))).await;
        if !reply.status.is_success() {
            report.failures.push(format!(
                "{file} [{backend}] {}: storing {url} answered {}: {}",
                scenario.title,
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
            return;
        }
    }
    // Who created what in the checks (the decision point counts the creator as an author).
    let mut creators: HashMap<String, String> = HashMap::new();
    for (index, check) in scenario.checks.iter().enumerate() {
        report.checks += 1;
        let name = format!(
            "{file} [{backend}] {} / check {} ({} {} as {}){}",
            scenario.title,
            index + 1,
            check.request.method,
            check.request.url,
            check.who.subject,
            check
                .title
                .as_ref()
                .map(|t| format!(": {t}"))
                .unwrap_or_default()
        );
        let mut problems = Vec::new();
        if let Some(days) = check.after_days {
            let target = start + days * DAY_MILLIS;
            let now = clock.now_millis();
            if target < now {
                problems.push(format!("after_days {days} moves the clock back"));
            } else {
                clock.advance(target - now);
            }
        }
        let token = token(&app, clock.as_ref(), &check.who);
        let reply = send(
            &service,
            request(
                &check.request.method,
                &check.request.url,
                &token,
                check.request.body.as_ref(),
            ),
        )
        .await;
        compare_http(check, &reply, &mut problems);
        if reply.status.as_u16() == 201
            && check.who.subject != "system"
            && let Some(created) = created_reference(&reply)
        {
            creators.insert(created, check.who.subject.clone());
        }
        let system_token = token_at(&app, clock.now_millis(), &system);
        let facts = Facts {
            service: &service,
            app: &app,
            now_millis: clock.now_millis(),
            system_token: &system_token,
            creators: &creators,
        };
        compare_decision(&facts, check, &mut problems).await;
        match (&check.known_gap, problems.is_empty()) {
            (None, true) => {}
            (None, false) => report
                .failures
                .push(format!("{name}: {}", problems.join("; "))),
            (Some(why), false) => report
                .gaps
                .push(format!("{name}: {} [{why}]", problems.join("; "))),
            (Some(_), true) => report.fixed_gaps.push(name),
        }
    }
}

/// The status, the Bundle's ids, total and versions, and a refusal's reasons.
fn compare_http(check: &Check, reply: &Reply, problems: &mut Vec<String>) {
    let expect = &check.expect;
    let body_text = String::from_utf8_lossy(&reply.body);
    if reply.status.as_u16() != expect.status {
        problems.push(format!(
            "status {} instead of {}: {}",
            reply.status.as_u16(),
            expect.status,
            truncate(&body_text)
        ));
        return;
    }
    let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    if let Some(ids) = &expect.ids {
        let mut expected = ids.clone();
        expected.sort();
        let found = bundle_ids(&body);
        if found != expected {
            problems.push(format!("ids {found:?} instead of {expected:?}"));
        }
    }
    if let Some(total) = expect.total
        && body["total"].as_u64() != Some(total)
    {
        problems.push(format!("total {} instead of {total}", body["total"]));
    }
    if let Some(versions) = &expect.versions {
        let found = bundle_versions(&body);
        if &found != versions {
            problems.push(format!("versions {found:?} instead of {versions:?}"));
        }
    }
    if is_write(&check.request.method) && !reply.status.is_success() {
        for rule in &expect.reasons {
            if !body_text.contains(&format!("({rule})")) {
                problems.push(format!(
                    "the refusal does not give `{rule}`: {}",
                    truncate(&body_text)
                ));
            }
        }
    }
}

/// The decision point on the same facts: reads of one resource (and creates) must decide
/// as the expected status says, with the expected reasons.
async fn compare_decision<S, B>(facts: &Facts<'_, S>, check: &Check, problems: &mut Vec<String>)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let method = check.request.method.as_str();
    let expect = &check.expect;
    // A Binary is decided on the DocumentReference pointing to it, which the server finds:
    // its checks are HTTP only (the DocumentReference's own read check asks the point).
    let single_read = method == "GET"
        && single_resource_path(&check.request.url).is_some()
        && !check
            .request
            .url
            .trim_start_matches('/')
            .starts_with("Binary/");
    let create = matches!(method, "POST" | "PUT") && expect.status == 201;
    if !single_read && !create {
        let refused_write = is_write(method) && expect.status >= 400;
        if !expect.reasons.is_empty() && !refused_write {
            problems.push(
                "`reasons` apply to reads of one resource, creates and refused writes".to_owned(),
            );
        }
        return;
    }
    if create && expect.reasons.is_empty() {
        return;
    }
    let decision = if single_read {
        let path = single_resource_path(&check.request.url).unwrap_or_default();
        match read_decision(facts, &check.who, &path, None).await {
            Ok(Some(decision)) => decision,
            Ok(None) => {
                if !expect.reasons.is_empty() {
                    problems.push("no stored resource to ask the decision point about".to_owned());
                }
                return;
            }
            Err(e) => {
                problems.push(e);
                return;
            }
        }
    } else {
        let Some(body) = &check.request.body else {
            problems.push("a create without body".to_owned());
            return;
        };
        match read_decision(facts, &check.who, "", Some(body)).await {
            Ok(Some(decision)) => decision,
            Ok(None) => return,
            Err(e) => {
                problems.push(e);
                return;
            }
        }
    };
    let permitted = (200..300).contains(&expect.status);
    // A 403 on a read is consent's only for a Patient (the record's status); otherwise it
    // is the scopes' refusal, which the decision point does not see.
    let consent_status = !single_read
        || expect.status != 403
        || check
            .request
            .url
            .trim_start_matches('/')
            .starts_with("Patient/");
    if consent_status && decision.is_permit() != permitted {
        problems.push(format!(
            "the decision point {} (reasons {:?}) where status {} is expected",
            if decision.is_permit() {
                "permits"
            } else {
                "denies"
            },
            rule_ids(&decision),
            expect.status
        ));
    }
    let found = rule_ids(&decision);
    for rule in &expect.reasons {
        if !found.contains(rule) {
            problems.push(format!(
                "the decision point's reasons {found:?} lack `{rule}`"
            ));
        }
    }
}

fn rule_ids(decision: &carnet::consent::Decision) -> Vec<String> {
    decision
        .reasons
        .iter()
        .map(|r| r.rule.as_str().to_owned())
        .collect()
}

fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

/// `Type/id` or `Type/id/_history/v` of a read URL, without query.
fn single_resource_path(url: &str) -> Option<String> {
    if url.contains('?') {
        return None;
    }
    let parts: Vec<&str> = url.trim_start_matches('/').split('/').collect();
    let is_type = |s: &str| s.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    let ok = match parts.as_slice() {
        [t, id] => is_type(t) && !id.starts_with('$') && !id.starts_with('_'),
        [t, _, h, _] => is_type(t) && *h == "_history",
        _ => false,
    };
    ok.then(|| parts.join("/"))
}

fn truncate(text: &str) -> String {
    text.chars().take(400).collect()
}

/// `Type/id` of every entry resource (sorted).
fn bundle_ids(bundle: &Value) -> Vec<String> {
    let mut ids: Vec<String> = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let resource = &e["resource"];
            Some(format!(
                "{}/{}",
                resource["resourceType"].as_str()?,
                resource["id"].as_str()?
            ))
        })
        .filter(|r| !r.starts_with("OperationOutcome/"))
        .collect();
    ids.sort();
    ids
}

/// `Type/id/_history/v` of every history entry, in order.
fn bundle_versions(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let full = e["fullUrl"].as_str().unwrap_or("");
            let reference: Vec<&str> = full.rsplitn(3, '/').collect();
            let reference = match reference.as_slice() {
                [id, t, _] => format!("{t}/{id}"),
                _ => full.to_owned(),
            };
            let version = e["response"]["etag"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned();
            format!("{reference}/_history/{version}")
        })
        .collect()
}

/// `Type/id` of a created resource, from the body.
fn created_reference(reply: &Reply) -> Option<String> {
    let body: Value = serde_json::from_slice(&reply.body).ok()?;
    Some(format!(
        "{}/{}",
        body["resourceType"].as_str()?,
        body["id"].as_str()?
    ))
}

/// A token saying what `who` says, minted at the test clock's time.
fn token(app: &TestApp, clock: &TestClock, who: &As) -> String {
    token_at(app, clock.now_millis(), who)
}

fn token_at(app: &TestApp, now_millis: i64, who: &As) -> String {
    let (subject, default_scope) = if who.subject == "system" {
        (
            Subject::System("scenario-harness".to_owned()),
            "system/*.cruds",
        )
    } else {
        (
            Subject::from_reference(&who.subject)
                .unwrap_or_else(|| panic!("`{}` is not a subject", who.subject)),
            "user/*.cruds",
        )
    };
    let request = TokenRequest {
        subject,
        scope: who
            .scope
            .clone()
            .unwrap_or_else(|| default_scope.to_owned()),
        purposes: if who.purpose.is_empty() {
            vec!["TREAT".to_owned()]
        } else {
            who.purpose.clone()
        },
        profession: who.profession.clone(),
        organization: who.organization.clone(),
        patient: who.patient.clone(),
        ttl_seconds: 3600,
    };
    mint(&app.key, &app.config.issuer, &request, now_millis / 1000).expect("mint token")
}

/// A request to the FHIR base; a JSON array body is a JSON Patch.
pub fn request(method: &str, url: &str, token: &str, body: Option<&Value>) -> test::TestRequest {
    let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    let uri = format!("/fhir/{}", url.trim_start_matches('/'));
    let mut request = test::TestRequest::default()
        .method(method)
        .uri(&uri)
        .insert_header(("Authorization", format!("Bearer {token}")));
    if let Some(body) = body {
        let content_type = if body.is_array() {
            "application/json-patch+json"
        } else {
            "application/fhir+json"
        };
        request = request
            .insert_header(("Content-Type", content_type))
            .set_payload(serde_json::to_vec(body).expect("serialise body"));
    }
    request
}
