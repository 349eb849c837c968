//! `cargo bench --bench throughput`: creates/s, reads/s and first-page name searches/s
//! through HTTP with 1 and 8 keep-alive clients, and `carnet import` resources/s, on SQLite (and on PostgreSQL when
//! `CARNET_BENCH_DATABASE_URL` is set). Authentication is on; creates are durable before
//! they are acknowledged. Results go to stdout and to BENCHMARKS.md.
//! `CARNET_BENCH_SECONDS` sets each phase's length (default 10).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::HttpServer;
use serde_json::json;

use carnet::auth::{Subject, TokenRequest, mint};
use carnet::config::Config;
use carnet::server;

/// What one client does per request; false when the request failed.
type Work = Arc<dyn Fn(&mut Client, usize) -> bool + Send + Sync>;

struct Phase {
    name: String,
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        self.latencies_us[index] as f64 / 1000.0
    }

    fn row(&self) -> String {
        format!(
            "| {} | {:.0} | {:.2} | {:.2} | {} |",
            self.name,
            self.rate(),
            self.percentile(0.5),
            self.percentile(0.99),
            self.errors
        )
    }
}

/// A minimal HTTP/1.1 keep-alive client: enough for a load generator.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    token: String,
}

impl Client {
    fn connect(port: u16, token: &str) -> std::io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            token: token.to_owned(),
        })
    }

    /// Sends a request; returns the status and the body.
    fn call(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nAccept: application/fhir+json\r\n",
            self.token
        );
        if let Some(body) = body {
            head.push_str(&format!(
                "Content-Type: application/fhir+json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        self.writer.write_all(head.as_bytes())?;
        if let Some(body) = body {
            self.writer.write_all(body)?;
        }
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line)?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }
}

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

/// Runs `clients` threads doing `work` for `seconds`.
fn run_phase(
    name: &str,
    port: u16,
    token: &str,
    clients: usize,
    seconds: u64,
    work: Work,
) -> Phase {
    // `CARNET_BENCH_ONLY=W6` runs only the phases whose name contains it (for profiling);
    // the others are reported with no requests.
    let wanted = std::env::var("CARNET_BENCH_ONLY").map_or(true, |only| name.contains(&only));
    let seconds = if wanted { seconds } else { 0 };
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let stop = stop.clone();
            let work = work.clone();
            let token = token.to_owned();
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut errors = 0;
                let Ok(mut client) = Client::connect(port, &token) else {
                    return (latencies, 1);
                };
                let mut i = c * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if work(&mut client, i) {
                        latencies.push(t.elapsed().as_micros() as u64);
                    } else {
                        errors += 1;
                    }
                    i += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    for thread in threads {
        if let Ok((l, e)) = thread.join() {
            latencies_us.extend(l);
            errors += e;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies_us.sort_unstable();
    Phase {
        name: name.to_owned(),
        requests: latencies_us.len(),
        errors,
        seconds,
        latencies_us,
    }
}

fn bench_backend(label: &str, database_url: &str, data_dir: &Path, seconds: u64) -> Vec<Phase> {
    let mut config = Config::with_defaults();
    config.database_url = database_url.to_owned();
    config.data_dir = data_dir.to_owned();
    config.workers = 2;
    let store = server::open_store(&config).expect("open database");
    let services = server::services(store).expect("services");
    let key = server::signing_key(&config).expect("signing key");
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
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        let _ = system.block_on(async move {
            HttpServer::new(move || carnet::build_app(state.clone()))
                .workers(2)
                .listen(listener)?
                .run()
                .await
        });
    });
    std::thread::sleep(Duration::from_millis(300));

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
    // (two types) for the 200 patients read above.
    for (n, id) in ids.iter().enumerate() {
        for d in 0..5 {
            let code = if d % 2 == 0 { "11488-4" } else { "34112-3" };
            let document = json!({"resourceType": "DocumentReference", "status": "current",
                "type": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": {"reference": format!("Patient/{id}")},
                "date": format!("2024-0{}-1{}T10:00:00+01:00", 1 + d % 9, n % 10),
                "content": [{"attachment": {"contentType": "text/plain", "data": "Ym9uam91cg=="}}]});
            let body = serde_json::to_vec(&document).unwrap_or_default();
            let _ = setup.call("POST", "/fhir/DocumentReference", Some(&body));
        }
    }
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
    // fully permitted subject (a system client), back to back.
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
        for (who, token) in [
            ("system client", &token),
            ("professional under DMP rules", &professional),
        ] {
            phases.push(run_phase(
                &format!("{label}: W6 {what} as {who}, 8 clients"),
                port,
                token,
                8,
                seconds,
                work.clone(),
            ));
        }
    }
    phases.push(bench_import(label, &services, data_dir));
    phases
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

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
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
         creates are durable (SQLite `synchronous=FULL`, PostgreSQL default commit) before the 201. {} s per phase.\n\n\
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
