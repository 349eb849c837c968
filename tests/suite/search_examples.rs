//! Every search parameter Carnet supports, exercised through HTTP against the official R4
//! examples (`hl7.fhir.r4.examples@4.0.1`, loaded as `examples.rs` loads them). The R4
//! SearchParameter definitions carry no example queries, so each parameter gets its own:
//! the first example of its base type for which Carnet's extraction yields a value (the
//! library only picks the example and locates the element with the parameter's FHIRPath
//! expression), a query derived from that element's JSON by the parameter's type
//! (`search_examples_queries`), and `GET [type]?query&_id=[id]` must find the example;
//! `:missing=false` must too, `:missing=true` and a value the example does not hold must
//! not. Parameters without any value in the examples, or whose value gives no query, are
//! counted and listed with the reason.

use std::collections::BTreeSet;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::test;
use serde_json::Value;

use carnet::search::registry::{SearchParamType, SearchRegistry};

use crate::common::{each_backend, entry_ids, fhir_request, send};
use crate::search_examples_plan::{Example, Plan, Planned, Tally, Values, load_examples, plan};
use crate::search_examples_queries::{Probe, derive};

#[actix_rt::test]
async fn every_supported_search_parameter_finds_an_official_example() {
    let registry = SearchRegistry::r4().unwrap();
    let examples = load_examples(&registry);
    let Planned {
        plans,
        tallies,
        skipped,
        missed,
        unsupported,
    } = plan(&registry, &examples);
    eprintln!(
        "parameter type: exercised / no example has a value / value gives no query / unsupported"
    );
    for (ty, t) in &tallies {
        eprintln!(
            "  {ty}: {} / {} / {} / {}",
            t.exercised, t.no_value, t.not_derivable, t.unsupported
        );
    }
    let total = |f: fn(&Tally) -> usize| tallies.values().map(f).sum::<usize>();
    eprintln!(
        "  all: {} / {} / {} / {}",
        total(|t| t.exercised),
        total(|t| t.no_value),
        total(|t| t.not_derivable),
        total(|t| t.unsupported)
    );
    for line in skipped
        .iter()
        .filter(|l| !l.ends_with("no example has a value"))
    {
        eprintln!("  skipped: {line}");
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
    for ty in SearchParamType::ALL {
        if ty != SearchParamType::Special {
            assert!(
                plans.iter().any(|p| p.param_type == ty),
                "no {} parameter exercised",
                ty.code()
            );
        }
    }
    let (plans, examples, unsupported) = (&plans, &examples, &unsupported);
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let started = Instant::now();
        let last_updated = store_all(&app, &token, examples).await;
        let loaded = started.elapsed();
        let mut failures = capability_failures(&app, plans, examples, unsupported).await;
        let mut requests = 0;
        for plan in plans {
            let stamp = &last_updated[plan.example];
            let example = &examples[plan.example];
            requests += check(&app, &token, plan, example, stamp, &mut failures).await;
        }
        let (stored, queried) = (examples.len(), plans.len());
        let label = t.database.label;
        eprintln!("{label}: {stored} examples stored in {loaded:.1?}");
        eprintln!(
            "{label}: {queried} parameters, {requests} queries in {:.1?}, {} failures",
            started.elapsed() - loaded,
            failures.len()
        );
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    })
    .await;
}

/// PUT every example; the `meta.lastUpdated` the server gave each.
async fn store_all<S, B>(app: &S, token: &str, examples: &[Example]) -> Vec<String>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut stamps = Vec::with_capacity(examples.len());
    for example in examples {
        let path = format!("/fhir/{}/{}", example.resource_type, example.id);
        let request = fhir_request(Method::PUT, &path, token, Some(&example.json));
        let reply = send(app, request).await;
        assert!(reply.status.is_success(), "{path}: {}", reply.status);
        stamps.push(
            reply.json()["meta"]["lastUpdated"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    stamps
}

/// The CapabilityStatement lists every exercised parameter and no unsupported one.
async fn capability_failures<S, B>(
    app: &S,
    plans: &[Plan],
    examples: &[Example],
    unsupported: &[(String, String)],
) -> Vec<String>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let statement = send(app, test::TestRequest::get().uri("/fhir/metadata"))
        .await
        .json();
    let mut listed = BTreeSet::new();
    for resource in statement["rest"][0]["resource"].as_array().unwrap() {
        for param in resource["searchParam"].as_array().unwrap() {
            let ty = resource["type"].as_str().unwrap().to_owned();
            listed.insert((ty, param["name"].as_str().unwrap().to_owned()));
        }
    }
    let mut failures = Vec::new();
    for plan in plans {
        let pair = (
            examples[plan.example].resource_type.clone(),
            plan.code.clone(),
        );
        if !listed.contains(&pair) {
            failures.push(format!(
                "{pair:?} is supported but not in the CapabilityStatement"
            ));
        }
    }
    for pair in unsupported.iter().filter(|pair| listed.contains(*pair)) {
        failures.push(format!(
            "{pair:?} is not supported but in the CapabilityStatement"
        ));
    }
    failures
}

/// Run the queries of one parameter against its example (`last_updated`: the example's
/// `meta.lastUpdated`); failures are appended. The number of queries sent.
async fn check<S, B>(
    app: &S,
    token: &str,
    plan: &Plan,
    example: &Example,
    last_updated: &str,
    failures: &mut Vec<String>,
) -> usize
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let derived = match &plan.values {
        Values::Derived(d) => d.clone(),
        Values::LastUpdated => {
            let stamp = Value::from(last_updated);
            derive("date", "_lastUpdated", &[], &stamp, Some("instant")).unwrap()
        }
    };
    let mut checks: Vec<(Probe, bool)> = derived.matching.into_iter().map(|p| (p, true)).collect();
    checks.push((derived.not_matching, false));
    if plan.with_missing {
        for (value, found) in [("false", true), ("true", false)] {
            let name = format!("{}:missing", plan.code);
            let probe = Probe {
                label: ":missing",
                pairs: vec![(name, value.to_owned())],
            };
            checks.push((probe, found));
        }
    }
    let target = format!("{}/{}", example.resource_type, example.id);
    let sent = checks.len();
    for (probe, found) in checks {
        let mut query = probe.query_string();
        if plan.code != "_id" {
            query.push_str(&format!("&_id={}", example.id));
        }
        let uri = format!("/fhir/{}?{query}", example.resource_type);
        let request = fhir_request(Method::GET, &uri, token, None)
            .insert_header(("Prefer", "handling=strict"));
        let reply = send(app, request).await;
        let label = probe.label;
        if !reply.status.is_success() {
            let body = String::from_utf8_lossy(&reply.body);
            failures.push(format!("{uri} ({label}): {} {body}", reply.status));
            continue;
        }
        let ids = entry_ids(&reply.json());
        let expected = if found {
            vec![target.clone()]
        } else {
            Vec::new()
        };
        if ids != expected {
            let want = if found { "must find" } else { "must not find" };
            failures.push(format!("{uri} ({label}) {want} the example, got {ids:?}"));
        }
    }
    sent
}
