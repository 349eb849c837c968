//! `carnet account` and `carnet outbox` as an operator runs them, with `carnet serve`
//! answering a patient's login on a real socket: create an account, log in, read the code
//! from the outbox, finish the login, mark the outbox sent, reset the account.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn carnet(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_carnet"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("CARNET_DATABASE_URL")
        .env_remove("CARNET_NOTIFY_WEBHOOK");
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

/// A plain HTTP/1.1 request with a JSON body; returns the status and the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    Some((status, body))
}

fn line_value(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` in {out}"))
        .trim()
        .to_owned()
}

#[test]
fn operator_creates_an_account_and_reads_the_code_from_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let patient = dir.path().join("patient.json");
    std::fs::write(
        &patient,
        json!({"resourceType": "Patient", "id": "cli-p"}).to_string(),
    )
    .unwrap();
    let (ok, out, err) = run(carnet(&data).arg("import").arg(&patient));
    assert!(ok, "{out}{err}");

    let (ok, _, err) = run(carnet(&data).args([
        "account",
        "create",
        "--patient",
        "Patient/absent",
        "--email",
        "a@b.example",
    ]));
    assert!(!ok);
    assert!(err.contains("Patient/absent"), "{err}");
    let (ok, out, err) = run(carnet(&data).args([
        "account",
        "create",
        "--patient",
        "Patient/cli-p",
        "--phone",
        "+33 6 00 00 00 01",
    ]));
    assert!(ok, "{err}");
    let identifier = line_value(&out, "identifier:");
    let password = line_value(&out, "provisional password:");
    assert_eq!(identifier.len(), 9, "shown as 1234-ABCD: {identifier}");
    let (ok, out, _) = run(carnet(&data).args(["account", "list"]));
    assert!(ok);
    assert!(
        out.contains("Patient/cli-p") && out.contains("provisional password"),
        "{out}"
    );
    assert!(out.contains("1 account(s)"));

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
    while http(port, "GET", "/fhir/metadata", None, None).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let login = http(
        port,
        "POST",
        "/auth/login",
        Some(&json!({"identifier": identifier, "password": password})),
        None,
    );
    let (ok, outbox, _) = run(carnet(&data).arg("outbox"));
    let code = outbox
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .map(str::to_owned);
    let challenge = login
        .as_ref()
        .and_then(|(_, body)| serde_json::from_str::<Value>(body).ok())
        .and_then(|v| v["challenge"].as_str().map(str::to_owned));
    let verify = match (&challenge, &code) {
        (Some(challenge), Some(code)) => http(
            port,
            "POST",
            "/auth/login/verify",
            Some(&json!({"challenge": challenge, "code": code, "new_password": "my own password"})),
            None,
        ),
        _ => None,
    };
    let token = verify
        .as_ref()
        .and_then(|(_, body)| serde_json::from_str::<Value>(body).ok())
        .and_then(|v| v["access_token"].as_str().map(str::to_owned));
    let read = token
        .as_deref()
        .and_then(|t| http(port, "GET", "/fhir/Patient/cli-p", None, Some(t)));
    let _ = server.kill();
    let _ = server.wait();

    assert_eq!(login.as_ref().map(|l| l.0), Some(200), "{login:?}");
    assert!(ok);
    assert!(outbox.contains("pending sms +33600000001"), "{outbox}");
    assert!(code.is_some(), "{outbox}");
    assert_eq!(verify.as_ref().map(|v| v.0), Some(200), "{verify:?}");
    assert_eq!(read.map(|r| r.0), Some(200));

    let (ok, out, _) = run(carnet(&data).args(["outbox", "--mark-sent"]));
    assert!(ok && out.contains("1 message(s) marked sent"), "{out}");
    let (_, out, _) = run(carnet(&data).arg("outbox"));
    assert!(out.contains("0 message(s)"), "{out}");
    let (_, out, _) = run(carnet(&data).args(["outbox", "--all"]));
    assert!(
        out.contains(" sent sms ") && out.contains("1 message(s)"),
        "{out}"
    );

    let (ok, out, err) = run(carnet(&data).args(["account", "reset", &identifier.to_lowercase()]));
    assert!(ok, "{err}");
    assert_ne!(line_value(&out, "provisional password:"), password);
    let (ok, _, err) = run(carnet(&data).args(["account", "reset", "0000ZZZZ"]));
    assert!(!ok && err.contains("0000-ZZZZ"), "{err}");
}
