//! `cargo bench --bench growth`: search latency as the data grows (TARGETS.md W4). Loads
//! patients (each with one DocumentReference) through `carnet import` up to each size of
//! `CARNET_GROWTH_SIZES` (default `1000,10000,100000`), and at each size measures the first
//! page of `Patient?name=…` and of `DocumentReference?patient=…&type=…` with 8 keep-alive
//! clients as fast as they go, then at a fixed rate (`CARNET_W4_RATE` requests/s, default
//! 200; latency counted from each request's scheduled time, so a stall is not hidden), and
//! prints the database's plan of both searches. SQLite always; PostgreSQL when
//! `CARNET_BENCH_DATABASE_URL` is set (`CARNET_GROWTH_PG_SIZES` overrides its sizes).
//! Every read and search is audited, as in production. Results go to stdout and to
//! BENCHMARKS-growth.md.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use carnet::auth::{Subject, TokenRequest, mint};
use carnet::interaction::search::{SearchScope, explain};
use carnet::server;
use support::{Phase, Work, commit, machine, run_phase, spawn_clients, start_server};

/// Patients per generated transaction bundle.
const PER_FILE: usize = 250;
/// Distinct family names: a name search matches `size / NAMES` patients.
const NAMES: usize = 500;

fn sizes(variable: &str, default: &str) -> Vec<usize> {
    std::env::var(variable)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// Writes the bundles of patients `from..to` (and their documents) under `dir`.
fn write_bundles(dir: &Path, from: usize, to: usize) {
    std::fs::create_dir_all(dir).expect("bundle dir");
    let mut start = from;
    while start < to {
        let end = (start + PER_FILE).min(to);
        let mut entries = Vec::new();
        for i in start..end {
            let id = format!("g{i}");
            entries.push(json!({"resource": {"resourceType": "Patient", "id": id,
                "name": [{"family": format!("Growth{:03}", i % NAMES), "given": [format!("Given{i}")]}],
                "gender": if i % 2 == 0 { "female" } else { "male" }, "birthDate": "1970-03-02"},
                "request": {"method": "PUT", "url": format!("Patient/{id}")}}));
            let code = if i % 2 == 0 { "11488-4" } else { "34112-3" };
            entries.push(
                json!({"resource": {"resourceType": "DocumentReference", "id": format!("gd{i}"),
                "status": "current", "subject": {"reference": format!("Patient/{id}")},
                "type": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "date": "2024-01-10T10:00:00+01:00",
                "content": [{"attachment": {"contentType": "text/plain", "data": "Ym9uam91cg=="}}]},
                "request": {"method": "PUT", "url": format!("DocumentReference/gd{i}")}}),
            );
        }
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        std::fs::write(
            dir.join(format!("growth-{start:07}.json")),
            serde_json::to_vec(&bundle).unwrap_or_default(),
        )
        .expect("write bundle");
        start = end;
    }
}

/// `clients` connections sending `work` at `rate` requests/s in all for `seconds`; each
/// latency counts from the request's scheduled time.
fn fixed_rate(name: &str, port: u16, token: &str, rate: f64, seconds: u64, work: Work) -> Phase {
    let clients = 8;
    let interval = Duration::from_secs_f64(clients as f64 / rate);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let threads = spawn_clients(port, token, clients, move |c, client| {
        let mut latencies = Vec::new();
        let mut errors = 0;
        let mut scheduled = started + interval.mul_f64(c as f64 / clients as f64);
        let mut i = c * 1_000_000;
        while scheduled < deadline {
            if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if work(client, i) {
                latencies.push(scheduled.elapsed().as_micros() as u64);
            } else {
                errors += 1;
            }
            scheduled += interval;
            i += 1;
        }
        (latencies, errors)
    });
    Phase::of_clients(name, started, threads)
}

/// Writes the search rows left waiting after `phase`: first those of one patient's
/// compartment, as the first search of that patient's trail would (`g7`, whom one more name
/// search, `growth007`, just returned: their latest event is at the end of the backlog),
/// then all of them, as the first unbound AuditEvent search would; reports how many there
/// were and how long each took, as a table row.
fn drain_backlog(
    services: &carnet::interaction::Services,
    port: u16,
    token: &str,
    phase: &str,
) -> String {
    let mut client = support::Client::connect(port, token).expect("client");
    let shown = client.call("GET", "/fhir/Patient?name=growth007&_count=20", None);
    assert!(matches!(shown, Ok((200, _))), "the search of g7");
    let waiting = services
        .store
        .read(carnet::storage::index_backlog::size)
        .expect("backlog");
    let started = Instant::now();
    let own = carnet::interaction::deferred_index::catch_up_within(services, &["g7".to_owned()])
        .expect("catch up g7");
    let own_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    carnet::interaction::deferred_index::catch_up(services).expect("catch up");
    let seconds = started.elapsed().as_secs_f64();
    format!(
        "| {phase} | {waiting} | {own} in {own_ms:.1} ms | {seconds:.2} | {:.0} |\n",
        (waiting as usize).saturating_sub(own) as f64 / seconds.max(f64::MIN_POSITIVE)
    )
}

fn grow(label: &str, database_url: &str, data_dir: &Path, sizes: &[usize], report: &mut String) {
    let seconds: u64 = std::env::var("CARNET_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let rate: f64 = std::env::var("CARNET_W4_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200.0);
    let support::Opened {
        config,
        services,
        key,
    } = support::open(database_url, data_dir);
    let request = TokenRequest {
        subject: Subject::System("growth".into()),
        scope: "system/*.cruds".into(),
        purposes: vec!["TREAT".into()],
        profession: None,
        organization: None,
        patient: None,
        ttl_seconds: 36_000,
    };
    let token = mint(
        &key,
        &config.issuer,
        &request,
        chrono::Utc::now().timestamp(),
    )
    .expect("token");
    let state = server::app_state(&config, services.clone(), &key).expect("app state");
    let port = start_server(state);
    let mut loaded = 0;
    for &size in sizes {
        let dir = data_dir.join(format!("bundles-{size}"));
        write_bundles(&dir, loaded, size);
        let summary = carnet::import::import_paths(&services, std::slice::from_ref(&dir), false);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(summary.failed_files.is_empty(), "{summary}");
        loaded = size;
        report.push_str(&format!(
            "\n### {label}, {size} patients ({} resources)\n\nImport of the last {} resources: {:.0} resources/s.\n\n| phase | per second | p50 ms | p99 ms | errors |\n|---|---|---|---|---|\n",
            size * 2,
            summary.resources_written,
            summary.resources_written as f64 / summary.seconds.max(f64::MIN_POSITIVE),
        ));
        let names: Work = Arc::new(|client, i| {
            let path = format!(
                "/fhir/Patient?name=growth{:03}&_count=20",
                (i * 7919) % NAMES
            );
            matches!(client.call("GET", &path, None), Ok((200, _)))
        });
        let documents: Work = Arc::new(move |client, i| {
            let path = format!(
                "/fhir/DocumentReference?patient=g{}&type=http://loinc.org%7C11488-4&_count=20",
                ((i * 7919) % size) & !1
            );
            matches!(client.call("GET", &path, None), Ok((200, _)))
        });
        let mut backlog_rows = String::new();
        for (what, work) in [
            ("Patient?name=…", names),
            ("DocumentReference?patient=…&type=…", documents),
        ] {
            for fixed in [false, true] {
                let phase = if fixed {
                    fixed_rate(
                        &format!("{what}, {rate:.0} req/s fixed rate"),
                        port,
                        &token,
                        rate,
                        seconds,
                        work.clone(),
                    )
                } else {
                    run_phase(
                        &format!("{what}, 8 clients"),
                        port,
                        &token,
                        8,
                        seconds,
                        work.clone(),
                    )
                };
                println!("{label} {size}: {}", phase.row());
                report.push_str(&phase.row());
                report.push('\n');
                let row = drain_backlog(&services, port, &token, &phase.name);
                println!("{label} {size}: deferred {row}");
                backlog_rows.push_str(&row);
            }
        }
        report.push_str(&format!(
            "\nThe AuditEvents' search rows left to the deferred indexer after each phase (under load the indexer rests four times as long as each of its batches takes, until {} are waiting; each phase starts with none waiting: they are written here: first those of the patient g7, whom one more name search just returned, as the first search of g7's trail (`AuditEvent?patient=g7`) would, then the rest, as the first AuditEvent search bound to no patient would):\n\n| after | AuditEvents waiting | g7's, written in | the rest, written in s | per second |\n|---|---|---|---|---|\n{backlog_rows}",
            carnet::interaction::deferred_index::SOFT_LIMIT
        ));
        let context = carnet::import::load_context(&services, "growth");
        for (res_type, pairs) in [
            ("Patient", vec![("name", "growth007"), ("_count", "20")]),
            (
                "DocumentReference",
                vec![
                    ("patient", "g42"),
                    ("type", "http://loinc.org|11488-4"),
                    ("_count", "20"),
                ],
            ),
        ] {
            let pairs: Vec<(String, String)> = pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let scope = SearchScope {
                type_name: Some(res_type),
                patient_compartment: None,
                everything: false,
            };
            let plan = explain(&services, &context, scope, &pairs)
                .map(|lines| lines.join("\n"))
                .unwrap_or_else(|e| format!("no plan: {e}"));
            println!(
                "{label} {size}: plan of {res_type}?{}:\n{plan}",
                carnet::search::query_string::join_pairs(&pairs)
            );
            report.push_str(&format!(
                "\nPlan of `{res_type}?{}`:\n\n```\n{plan}\n```\n",
                carnet::search::query_string::join_pairs(&pairs)
            ));
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut report = format!(
        "# Search as data grows (W4)\n\nMeasured by `cargo bench --bench growth` on {} (UTC), commit `{}`, machine: {}.\n\
         Server and load generator share the machine; every request is authenticated and audited (durably, before the\n\
         answer: one AuditEvent per patient a search returns, IHE BALP). Each patient has one DocumentReference; `Patient?name=` matches size/{NAMES} patients.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        commit(),
        machine(),
    );
    let sqlite_url = format!("sqlite://{}", dir.path().join("growth.db").display());
    grow(
        "SQLite",
        &sqlite_url,
        dir.path(),
        &sizes("CARNET_GROWTH_SIZES", "1000,10000,100000"),
        &mut report,
    );
    if let Ok(url) = std::env::var("CARNET_BENCH_DATABASE_URL") {
        let pg_dir = dir.path().join("pg");
        std::fs::create_dir_all(&pg_dir).expect("dir");
        let default =
            std::env::var("CARNET_GROWTH_SIZES").unwrap_or_else(|_| "1000,10000,100000".to_owned());
        grow(
            "PostgreSQL",
            &url,
            &pg_dir,
            &sizes("CARNET_GROWTH_PG_SIZES", &default),
            &mut report,
        );
    }
    println!("{report}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS-growth.md");
    if let Err(e) = std::fs::write(&path, report) {
        eprintln!("could not write {}: {e}", path.display());
    }
}
