//! The `carnet` binary as users run it: `token`, `import` (good and bad files, nothing
//! half-written), `migrate`, and `serve` answering on a real socket with a minted token.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

fn carnet(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_carnet"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("CARNET_DATABASE_URL");
    command
}

fn run(command: &mut Command) -> (bool, String, String) {
    let output = command.output().expect("run carnet");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A plain HTTP/1.1 GET; returns the status and the body.
fn http_get(port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    Some((status, body))
}

#[test]
fn token_import_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let (ok, token, err) = run(carnet(&data).args([
        "token",
        "--system",
        "cli-harness",
        "--scope",
        "system/*.cruds",
    ]));
    assert!(ok, "{err}");
    let token = token.trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    assert!(data.join("token-signing-key.pem").exists());
    let (ok, _, err) = run(carnet(&data).args(["token", "--sub", "Nobody/1"]));
    assert!(!ok);
    assert!(err.contains("Nobody/1"), "{err}");

    let files = dir.path().join("files");
    std::fs::create_dir_all(files.join("nested")).unwrap();
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0b4b5f0e-3f9d-4d2e-9c9a-2a3b4c5d6e7f", "resource": {"resourceType": "Patient", "id": "ignored"}, "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": "urn:uuid:0b4b5f0e-3f9d-4d2e-9c9a-2a3b4c5d6e7f"}}, "request": {"method": "POST", "url": "Observation"}}
    ]});
    std::fs::write(files.join("bundle.json"), bundle.to_string()).unwrap();
    let ndjson = [
        json!({"resourceType": "Patient", "id": "nd-1"}),
        json!({"resourceType": "Patient", "id": "nd-2", "gender": "male"}),
    ]
    .iter()
    .map(|v| v.to_string())
    .collect::<Vec<_>>()
    .join("\n");
    std::fs::write(files.join("nested/patients.ndjson"), ndjson).unwrap();
    // A bad file: its first resource is fine, its second is not; neither may be stored.
    let bad = [
        json!({"resourceType": "Patient", "id": "bad-1"}),
        json!({"resourceType": "Patient", "id": "bad-2", "birthDate": "1990-02-31"}),
    ]
    .iter()
    .map(|v| v.to_string())
    .collect::<Vec<_>>()
    .join("\n");
    std::fs::write(files.join("nested/bad.ndjson"), bad).unwrap();
    std::fs::write(files.join("not-json.json"), "{ nope").unwrap();
    std::fs::write(files.join("readme.txt"), "ignored").unwrap();

    let (ok, out, err) = run(carnet(&data).arg("import").arg(&files));
    assert!(!ok, "bad files make the import exit non-zero");
    assert!(
        out.contains("imported 2 file(s), 4 resource(s)"),
        "{out}{err}"
    );
    assert!(
        out.contains("bad.ndjson") && out.contains("birthDate"),
        "{out}"
    );
    assert!(out.contains("not-json.json"), "{out}");

    let (ok, out, err) = run(carnet(&data).arg("reindex"));
    assert!(ok, "{err}");
    // The 4 resources imported, and the AuditEvents of the two imports (one per file).
    assert!(out.contains("re-indexed 6 resource(s)"), "{out}");

    let (ok, out, err) = run(carnet(&data).arg("migrate"));
    assert!(ok, "{err}");
    assert!(out.contains("up to date"));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = carnet(&data)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start carnet serve");
    let started = Instant::now();
    let metadata = loop {
        if let Some(reply) = http_get(port, "/fhir/metadata", None) {
            break reply;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(metadata.0, 200);
    assert!(metadata.1.contains("\"fhirVersion\":\"4.0.1\""));
    let imported = http_get(port, "/fhir/Patient/nd-2", Some(&token));
    let refused = http_get(port, "/fhir/Patient/bad-1", Some(&token));
    let anonymous = http_get(port, "/fhir/Patient/nd-2", None);
    let _ = server.kill();
    let _ = server.wait();
    let (status, body) = imported.expect("read imported patient");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"gender\":\"male\""));
    assert_eq!(
        refused.map(|r| r.0),
        Some(404),
        "nothing of a bad file is stored"
    );
    assert_eq!(anonymous.map(|r| r.0), Some(401));
}
