//! `cargo bench --bench throughput`: creates/s, reads/s and first-page name searches/s
//! through HTTP with 1 and 8 keep-alive clients, and `carnet import` resources/s, on SQLite (and on PostgreSQL when
//! `CARNET_BENCH_DATABASE_URL` is set). Authentication is on; creates are durable before
//! they are acknowledged. Results go to stdout and to BENCHMARKS.md.
//! `CARNET_BENCH_SECONDS` sets each phase's length (default 10).

mod support;

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use support::{Client, Phase, Work, commit, machine, run_phase, start_server};

use carnet::auth::{Subject, TokenRequest, mint};
use carnet::server;

fn patient_body(i: usize) -> Vec<u8> {
    patient_json(i).to_string().into_bytes()
}

/// A patient whose médecin traitant is `Practitioner/bench-gp` (for W6).
fn patient_of_gp_body(i: usize) -> Vec<u8> {
    let mut patient = patient_json(i);
    patient["generalPractitioner"] = json!([{"reference": "Practitioner/bench-gp"}]);
    patient.to_string().into_bytes()
}

fn patient_json(i: usize) -> serde_json::Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.10", "value": format!("bench-{i}")}],
        "name": [{"family": format!("Family{i}"), "given": ["Hélène", "Marie"]}],
        "gender": if i.is_multiple_of(2) { "female" } else { "male" },
        "birthDate": "1970-03-02",
        "address": [{"line": ["1 rue de la Paix"], "city": "Paris", "postalCode": "75002", "country": "FR"}],
        "telecom": [{"system": "phone", "value": "+33100000000", "use": "home"}]
    })
}

fn bench_backend(label: &str, database_url: &str, data_dir: &Path, seconds: u64) -> Vec<Phase> {
    let support::Opened {
        config,
        services,
        key,
    } = support::open(database_url, data_dir);
    let token = mint(
        &key,
        &config.issuer,
        &TokenRequest {
            subject: Subject::System("bench".into()),
            scope: "system/*.cruds".into(),
            purposes: vec!["TREAT".into()],
            profession: Some("10".into()),
            organization: None,
            patient: None,
            ttl_seconds: 3600,
        },
        chrono::Utc::now().timestamp(),
    )
    .expect("token");
    let state = server::app_state(&config, services.clone(), &key).expect("app state");
    let port = start_server(state);

    let create: Work = Arc::new(|client, i| {
        matches!(
            client.call("POST", "/fhir/Patient", Some(&patient_body(i))),
            Ok((201, _))
        )
    });
    let mut phases = Vec::new();
    for clients in [1, 8] {
        phases.push(run_phase(
            &format!("{label}: create Patient, {clients} client(s)"),
            port,
            &token,
            clients,
            seconds,
            create.clone(),
        ));
    }
    // Ids to read: a fixed set created up front.
    let mut setup = Client::connect(port, &token).expect("connect");
    let mut ids = Vec::new();
    for i in 0..200 {
        if let Ok((201, body)) = setup.call("POST", "/fhir/Patient", Some(&patient_of_gp_body(i)))
            && let Some(id) = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_owned))
        {
            ids.push(id);
        }
    }
    assert_eq!(
        ids.len(),
        200,
        "the patients read and searched were not all created"
    );
    let ids = Arc::new(ids);
    let read: Work = {
        let ids = ids.clone();
        Arc::new(move |client, i| {
            let id = &ids[i % ids.len()];
            matches!(
                client.call("GET", &format!("/fhir/Patient/{id}"), None),
                Ok((200, _))
            )
        })
    };
    for clients in [1, 8] {
        phases.push(run_phase(
            &format!("{label}: read Patient, {clients} client(s)"),
            port,
            &token,
            clients,
            seconds,
            read.clone(),
        ));
    }
    // W4-like: first page of a name search over everything created so far.
    let search: Work = Arc::new(|client, i| {
        let path = format!("/fhir/Patient?family=Family{}&_count=20", i % 200);
        matches!(client.call("GET", &path, None), Ok((200, _)))
    });
    for clients in [1, 8] {
        phases.push(run_phase(
            &format!("{label}: search Patient?family=…, {clients} client(s)"),
            port,
            &token,
            clients,
            seconds,
            search.clone(),
        ));
    }
    // W4's second query: a patient's documents of one type. Five documents per patient
    // (two types) for the 200 patients read above. A new connection: the server has
    // closed the first one, idle through the phases above (its creates would all fail).
    let mut setup = Client::connect(port, &token).expect("connect");
    for (n, id) in ids.iter().enumerate() {
        for d in 0..5 {
            let code = if d % 2 == 0 { "11488-4" } else { "34112-3" };
            let document = json!({"resourceType": "DocumentReference", "status": "current",
                "type": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": {"reference": format!("Patient/{id}")},
                "date": format!("2024-0{}-1{}T10:00:00+01:00", 1 + d % 9, n % 10),
                "content": [{"attachment": {"contentType": "text/plain", "data": "Ym9uam91cg=="}}]});
            let body = serde_json::to_vec(&document).unwrap_or_default();
            let created = setup.call("POST", "/fhir/DocumentReference", Some(&body));
            assert!(
                matches!(created, Ok((201, _))),
                "creating the documents searched: {created:?}"
            );
        }
    }
    // The planner's statistics as autovacuum keeps them on a running server (PostgreSQL;
    // nothing on SQLite): measured right after the load, they would still describe the
    // empty database.
    services
        .store
        .analyze()
        .expect("refresh the planner's statistics");
    let documents: Work = {
        let ids = ids.clone();
        Arc::new(move |client, i| {
            let path = format!(
                "/fhir/DocumentReference?patient={}&type=http://loinc.org%7C11488-4",
                ids[i % ids.len()]
            );
            matches!(client.call("GET", &path, None), Ok((200, _)))
        })
    };
    for clients in [1, 8] {
        phases.push(run_phase(
            &format!("{label}: search DocumentReference?patient=…&type=…, {clients} client(s)"),
            port,
            &token,
            clients,
            seconds,
            documents.clone(),
        ));
    }
    // W6: the same reads and searches as a professional under the DMP rules (the médecin
    // traitant of the 200 patients: consent decided, narrowed in SQL, audited) and as a
    // fully permitted subject (a system client), alternately.
    let professional = mint(
        &key,
        &config.issuer,
        &TokenRequest {
            subject: Subject::Practitioner("bench-gp".into()),
            scope: "user/*.cruds".into(),
            purposes: vec!["TREAT".into()],
            profession: Some("10".into()),
            organization: None,
            patient: None,
            ttl_seconds: 3600,
        },
        chrono::Utc::now().timestamp(),
    )
    .expect("token");
    for (what, work) in [
        ("read Patient", read.clone()),
        (
            "search DocumentReference?patient=…&type=…",
            documents.clone(),
        ),
    ] {
        // In slices of half a phase, in ABBA order (system, professional, professional,
        // system), so that neither subject always runs on the larger database (every
        // request adds an AuditEvent) or the warmer caches.
        let subjects = [
            ("system client", &token),
            ("professional under DMP rules", &professional),
        ];
        let mut slices: [Vec<Phase>; 2] = [Vec::new(), Vec::new()];
        for who in [0, 1, 1, 0] {
            let (name, token) = subjects[who];
            slices[who].push(run_phase(
                &format!("{label}: W6 {what} as {name}, 8 clients"),
                port,
                token,
                8,
                seconds.div_ceil(2),
                work.clone(),
            ));
        }
        for parts in slices {
            phases.extend(merged(parts));
        }
    }
    // The AuditEvents of the phases above wait for their search rows (the server's indexer
    // rests under load); an import ends by writing them all, so they are written first,
    // for the import to be measured alone.
    let started = std::time::Instant::now();
    let backlog = carnet::interaction::deferred_index::catch_up(&services).expect("catch up");
    println!(
        "{label}: {backlog} AuditEvents' deferred search rows written before the import in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    phases.push(bench_import(label, &services, data_dir));
    phases
}

/// One phase of `parts` (slices of the same work): their requests, errors, time and
/// latencies together, under the first one's name; `None` when there are none.
fn merged(parts: Vec<Phase>) -> Option<Phase> {
    let mut parts = parts.into_iter();
    let mut whole = parts.next()?;
    for part in parts {
        whole.requests += part.requests;
        whole.errors += part.errors;
        whole.seconds += part.seconds;
        whole.latencies_us.extend(part.latencies_us);
    }
    whole.latencies_us.sort_unstable();
    Some(whole)
}

/// Imports generated transaction bundles (10 patients with 4 observations each per file).
fn bench_import(label: &str, services: &carnet::interaction::Services, data_dir: &Path) -> Phase {
    let dir = data_dir.join("import");
    std::fs::create_dir_all(&dir).expect("import dir");
    let files = 100;
    for f in 0..files {
        let mut entries = Vec::new();
        for p in 0..10 {
            let patient_url = format!("urn:uuid:{}", uuid::Uuid::new_v4());
            let mut patient: serde_json::Value =
                serde_json::from_slice(&patient_body(f * 10 + p)).unwrap_or_default();
            patient["identifier"][0]["value"] = json!(format!("import-{f}-{p}"));
            entries.push(json!({"fullUrl": patient_url, "resource": patient, "request": {"method": "POST", "url": "Patient"}}));
            for o in 0..4 {
                entries.push(json!({"resource": {
                    "resourceType": "Observation", "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
                    "subject": {"reference": patient_url},
                    "effectiveDateTime": format!("2024-01-{:02}T10:00:00+01:00", o + 1),
                    "valueQuantity": {"value": 70.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}
                }, "request": {"method": "POST", "url": "Observation"}}));
            }
        }
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        std::fs::write(
            dir.join(format!("bundle-{f:03}.json")),
            serde_json::to_vec(&bundle).unwrap_or_default(),
        )
        .expect("write bundle");
    }
    let summary = carnet::import::import_paths(services, &[dir], false);
    Phase {
        name: format!("{label}: import (100 transaction bundles, 5,000 resources)"),
        requests: summary.resources_written,
        errors: summary.failed_files.len(),
        seconds: summary.seconds,
        latencies_us: Vec::new(),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds: u64 = std::env::var("CARNET_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let mut phases = bench_backend("SQLite", &sqlite_url, dir.path(), seconds);
    if let Ok(url) = std::env::var("CARNET_BENCH_DATABASE_URL") {
        let pg_dir = dir.path().join("pg");
        std::fs::create_dir_all(&pg_dir).expect("dir");
        phases.extend(bench_backend("PostgreSQL", &url, &pg_dir, seconds));
    }
    let mut report = format!(
        "# Benchmarks\n\nMeasured by `cargo bench --bench throughput` on {} (UTC), commit `{}`, machine: {}.\n\
         Server and load generator share the machine; HTTP/1.1 keep-alive clients; bearer-token authentication on;\n\
         creates are durable (SQLite `synchronous=FULL`, PostgreSQL default commit) before the 201. {} s per phase.\n\
         W6 runs each subject in two half-phase slices, in ABBA order (system, professional, professional, system).\n\
         The planner's statistics are refreshed after the load (as autovacuum keeps them on a running server).\n\n\
         | phase | per second | p50 ms | p99 ms | errors |\n|---|---|---|---|---|\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        commit(),
        machine(),
        seconds
    );
    for phase in &phases {
        report.push_str(&phase.row());
        report.push('\n');
    }
    report.push_str(
        "\nW6 (professional under DMP rules / fully permitted subject, p50 latency):\n\n",
    );
    for pair in phases
        .iter()
        .filter(|p| p.name.contains(" W6 "))
        .collect::<Vec<_>>()
        .chunks(2)
    {
        if let [permitted, professional] = pair {
            report.push_str(&format!(
                "- {}: {:.2}x latency, {:.2}x throughput\n",
                professional
                    .name
                    .replace(" as professional under DMP rules", ""),
                professional.percentile(0.5) / permitted.percentile(0.5).max(f64::MIN_POSITIVE),
                permitted.rate() / professional.rate().max(f64::MIN_POSITIVE),
            ));
        }
    }
    println!("{report}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    if let Err(e) = std::fs::write(&path, report) {
        eprintln!("could not write {}: {e}", path.display());
    }
}
