//! `carnet demo` through the real binary, on each backend: the tokens it prints work with
//! the app `carnet serve` runs on the same data (built in-process from the same `Config`),
//! every printed example answers what the guide says, and a second run changes nothing.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use serde_json::Value;

use carnet::auth::{Subject, TokenRequest, mint};
use carnet::config::Config;
use carnet::server;

use crate::common::{databases, entry_ids, fhir_request, send};

const BASE: &str = "http://carnet.test/fhir";

fn run_demo(data_dir: &Path, database_url: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_carnet"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--database-url", database_url, "demo", "--base-url", BASE])
        .output()
        .expect("run carnet demo");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "carnet demo failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The `export NAME='token'` lines of the demo's output.
fn printed_tokens(stdout: &str) -> HashMap<String, String> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|rest| rest.split_once('='))
        .map(|(name, token)| (name.to_owned(), token.trim_matches('\'').to_owned()))
        .collect()
}

/// Every `valueCode` in `value`.
fn value_codes(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("valueCode", Value::String(code)) => found.push(code.clone()),
                    _ => value_codes(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| value_codes(i, found)),
        _ => {}
    }
}

/// What is stored of the demo world, seen by a system client: each resource's version id,
/// then each of its types' count.
async fn stored_state<S, B>(app: &S, system: &str) -> Vec<(String, Value)>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let world = carnet::demo::world().unwrap();
    let references: Vec<String> = world["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request"]["url"].as_str().unwrap().to_owned())
        .collect();
    let mut types: Vec<String> = references
        .iter()
        .map(|r| r.split('/').next().unwrap().to_owned())
        .collect();
    types.sort();
    types.dedup();
    let mut state = Vec::new();
    let read = |uri: String| send(app, fhir_request(Method::GET, &uri, system, None));
    for reference in references {
        let reply = read(format!("/fhir/{reference}")).await;
        state.push((reference, reply.json()["meta"]["versionId"].clone()));
    }
    for res_type in types {
        let reply = read(format!("/fhir/{res_type}?_summary=count")).await;
        state.push((res_type, reply.json()["total"].clone()));
    }
    state
}

#[actix_rt::test]
async fn the_demo_tokens_give_the_documented_answers_and_a_second_run_changes_nothing() {
    for database in databases() {
        let label = database.label;
        let data_dir = tempfile::tempdir().unwrap();
        let stdout = run_demo(data_dir.path(), &database.url);
        assert!(
            stdout.contains("# Carnet DMP demo: 23 resource(s) written, 0 already in place."),
            "[{label}] {stdout}"
        );
        let tokens = printed_tokens(&stdout);
        assert_eq!(
            tokens.len(),
            carnet::demo::SUBJECTS.len(),
            "[{label}] {stdout}"
        );

        // The app `carnet serve` runs on the same database and data directory.
        let mut config = Config::with_defaults();
        config.database_url = database.url.clone();
        config.data_dir = data_dir.path().to_owned();
        let store = server::open_store(&config).unwrap();
        let key = server::signing_key(&config).unwrap();
        let state = server::app_state(&config, server::services(store).unwrap(), &key).unwrap();
        let app = actix_web::test::init_service(carnet::build_app(state)).await;

        for example in carnet::demo::EXAMPLES {
            let name = format!("[{label}] {} {}", example.subject, example.path);
            assert!(
                stdout.contains(&carnet::demo::curl(BASE, example)),
                "{name}: not printed"
            );
            let token = &tokens[example.subject];
            let uri = format!("/fhir/{}", example.path);
            let reply = send(&app, fhir_request(Method::GET, &uri, token, None)).await;
            let body = String::from_utf8_lossy(&reply.body);
            assert_eq!(reply.status.as_u16(), example.status, "{name}: {body}");
            if let Some(ids) = example.ids {
                let mut expected: Vec<String> = ids.iter().map(|i| (*i).to_owned()).collect();
                expected.sort();
                assert_eq!(entry_ids(&reply.json()), expected, "{name}");
            }
            let mut codes = Vec::new();
            value_codes(&reply.json(), &mut codes);
            for code in example.codes {
                assert!(
                    codes.iter().any(|c| c == code),
                    "{name}: no `{code}` in {body}"
                );
            }
        }

        // What is stored, seen by a system client: each resource's version, each type's count.
        let system = mint(
            &key,
            &config.issuer,
            &TokenRequest {
                subject: Subject::System("demo-test".to_owned()),
                scope: "system/*.rs".to_owned(),
                purposes: vec!["TREAT".to_owned()],
                profession: None,
                organization: None,
                patient: None,
                ttl_seconds: 600,
            },
            chrono::Utc::now().timestamp(),
        )
        .unwrap();
        let before = stored_state(&app, &system).await;
        assert!(
            before.iter().all(|(_, v)| !v.is_null()),
            "[{label}] {before:?}"
        );
        let again = run_demo(data_dir.path(), &database.url);
        assert!(
            again.contains("# Carnet DMP demo: 0 resource(s) written, 23 already in place."),
            "[{label}] {again}"
        );
        let after = stored_state(&app, &system).await;
        assert_eq!(
            after, before,
            "[{label}] a second run changed what is stored"
        );
        // The tokens of the second run work too (same signing key).
        let token = &printed_tokens(&again)["DR_MARTIN"];
        let reply = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient/demo-lea", token, None),
        )
        .await;
        assert_eq!(reply.status.as_u16(), 200, "[{label}]");
    }
}
