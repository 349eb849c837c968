//! Patient login through HTTP (issue 4 items 4 and 5): accounts created with the library
//! call `carnet account create` uses, the password step, the code read from the outbox,
//! the first-login password change, the token on the FHIR API; the lockout (3 failures,
//! 15 minutes, per account whatever the case or spacing of the identifier) on a test clock;
//! one answer for every refusal; code expiry; the per-client rate limit; the AuditEvents.

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use carnet::auth::login::{CODE_TTL_MILLIS, LOCK_MILLIS};
use carnet::interaction::login::{self, Contact, Credentials, LoginError, NewAccount, REFUSED};
use carnet::interaction::outbox;

use crate::common::{Reply, TestApp, TestClock, each_backend, fhir_request, send};

/// The app with a test clock and no rate limit (unless a test sets one).
fn with_test_clock(mut app: TestApp) -> (TestApp, Arc<TestClock>) {
    let clock = Arc::new(TestClock::now());
    app.services.clock = clock.clone();
    app.config.login_rate_per_minute = 0;
    (app, clock)
}

const CLIENT: &str = "192.0.2.10:40000";

fn post_json(uri: &str, body: &Value) -> test::TestRequest {
    post_json_from(uri, body, CLIENT)
}

fn post_json_from(uri: &str, body: &Value, peer: &str) -> test::TestRequest {
    test::TestRequest::post()
        .uri(uri)
        .peer_addr(peer.parse::<SocketAddr>().unwrap())
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string())
}

/// A stored Patient; returns its id.
async fn store_patient<S, B>(app: &S, token: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let patient = json!({"resourceType": "Patient", "name": [{"family": "Durand"}]});
    let reply = send(
        app,
        fhir_request(Method::POST, "/fhir/Patient", token, Some(&patient)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    reply.json()["id"].as_str().unwrap().to_owned()
}

fn create_account(app: &TestApp, patient_id: &str) -> Credentials {
    login::create_account(
        &app.services,
        &NewAccount {
            patient: format!("Patient/{patient_id}"),
            representative: None,
            contact: Contact::email("helene@example.org").unwrap(),
        },
    )
    .unwrap()
}

/// The code of the newest pending outbox message, with its address.
fn last_code(app: &TestApp) -> (String, String) {
    let messages = outbox::list(&app.services, false).unwrap();
    let message = messages.last().expect("a message in the outbox");
    let code: String = message
        .body
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .expect("a 6-digit code in the message")
        .to_owned();
    (code, message.address.clone())
}

fn assert_refused(reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{:?}",
        reply.issues()
    );
    assert_eq!(reply.issues()[0].1, REFUSED);
}

#[actix_web::test]
async fn patient_logs_in_changes_the_provisional_password_and_reads_their_record() {
    each_backend(|app| async move {
        let (app, _clock) = with_test_clock(app);
        let service = test::init_service(carnet::build_app(app.state())).await;
        let patient = store_patient(&service, &app.token()).await;
        let credentials = create_account(&app, &patient);
        assert_eq!(credentials.subject, format!("Patient/{patient}"));
        assert!(credentials.password.len() >= 8);

        let start = json!({"identifier": credentials.identifier.to_string(), "password": credentials.password});
        let reply = send(&service, post_json("/auth/login", &start)).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json());
        assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
        let answer = reply.json();
        assert_eq!(answer["delivery"], "email");
        assert_eq!(answer["expires_in"], 300);
        let challenge = answer["challenge"].as_str().unwrap().to_owned();
        let (code, address) = last_code(&app);
        assert_eq!(address, "helene@example.org");

        // The provisional password must be replaced, by one of at least 8 characters.
        for body in [
            json!({"challenge": challenge, "code": code}),
            json!({"challenge": challenge, "code": code, "new_password": "short"}),
            json!({"challenge": challenge, "code": code, "new_password": credentials.password}),
        ] {
            let reply = send(&service, post_json("/auth/login/verify", &body)).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
            let message = &reply.issues()[0].1;
            assert!(
                message.contains("at least 8 characters") || message.contains("differ"),
                "{message}"
            );
        }
        let body = json!({"challenge": challenge, "code": code, "new_password": "a new long secret"});
        let reply = send(&service, post_json("/auth/login/verify", &body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json());
        let grant = reply.json();
        assert_eq!(grant["token_type"], "Bearer");
        assert_eq!(grant["scope"], "patient/*.cruds");
        assert_eq!(grant["patient"], patient.as_str());
        assert_eq!(grant["expires_in"], 3600);
        let token = grant["access_token"].as_str().unwrap().to_owned();

        let read = send(&service, fhir_request(Method::GET, &format!("/fhir/Patient/{patient}"), &token, None)).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.json()["id"], patient.as_str());

        // A code serves once.
        let again = send(&service, post_json("/auth/login/verify", &body)).await;
        assert_refused(&again);
        // The provisional password is gone; the new one works, form-encoded too, and
        // needs no change any more.
        let old = send(&service, post_json("/auth/login", &start)).await;
        assert_refused(&old);
        let form = test::TestRequest::post()
            .uri("/auth/login")
            .peer_addr(CLIENT.parse().unwrap())
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(format!(
                "identifier={}&password=a+new+long+secret",
                credentials.identifier.as_str().to_lowercase()
            ));
        let reply = send(&service, form).await;
        assert_eq!(reply.status, StatusCode::OK);
        let challenge = reply.json()["challenge"].as_str().unwrap().to_owned();
        let (code, _) = last_code(&app);
        let body = json!({"challenge": challenge, "code": code});
        let reply = send(&service, post_json("/auth/login/verify", &body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json());
    })
    .await;
}

#[actix_web::test]
async fn three_failures_lock_the_account_for_fifteen_minutes_whatever_the_spelling() {
    each_backend(|app| async move {
        let (app, clock) = with_test_clock(app);
        let service = test::init_service(carnet::build_app(app.state())).await;
        let patient = store_patient(&service, &app.token()).await;
        let credentials = create_account(&app, &patient);
        let id = credentials.identifier.as_str().to_owned();
        let spellings = [
            id.to_lowercase(),
            format!("{} {}", &id[..4], &id[4..]),
            format!(" {}-{} ", &id[..4], id[4..].to_lowercase()),
        ];
        for spelling in &spellings {
            let body = json!({"identifier": spelling, "password": "wrong password"});
            assert_refused(&send(&service, post_json("/auth/login", &body)).await);
        }
        // Locked: even the right password, in any spelling, is refused.
        for spelling in spellings.iter().chain([&id]) {
            let body = json!({"identifier": spelling, "password": credentials.password});
            assert_refused(&send(&service, post_json("/auth/login", &body)).await);
        }
        assert!(outbox::list(&app.services, false).unwrap().is_empty());
        clock.advance(LOCK_MILLIS - 1_000);
        let right = json!({"identifier": id, "password": credentials.password});
        assert_refused(&send(&service, post_json("/auth/login", &right)).await);
        clock.advance(1_000);
        let reply = send(&service, post_json("/auth/login", &right)).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "the lock ends after 15 minutes"
        );
        // The count started again: two more failures do not lock.
        let wrong = json!({"identifier": id, "password": "wrong password"});
        for _ in 0..2 {
            assert_refused(&send(&service, post_json("/auth/login", &wrong)).await);
        }
        let reply = send(&service, post_json("/auth/login", &right)).await;
        assert_eq!(reply.status, StatusCode::OK);
        // The operator's reset unlocks at once.
        for _ in 0..3 {
            assert_refused(&send(&service, post_json("/auth/login", &wrong)).await);
        }
        let reset = login::reset_account(&app.services, &id.to_lowercase()).unwrap();
        assert_ne!(reset.password, credentials.password);
        let body = json!({"identifier": id, "password": reset.password});
        assert_eq!(
            send(&service, post_json("/auth/login", &body)).await.status,
            StatusCode::OK
        );
    })
    .await;
}

#[actix_web::test]
async fn unknown_identifiers_wrong_passwords_and_locked_accounts_get_the_same_answer() {
    each_backend(|app| async move {
        let (app, _clock) = with_test_clock(app);
        let service = test::init_service(carnet::build_app(app.state())).await;
        let patient = store_patient(&service, &app.token()).await;
        let credentials = create_account(&app, &patient);
        let other = if credentials.identifier.as_str() == "0000AAAA" { "0000AAAB" } else { "0000AAAA" };
        let unknown = send(&service, post_json("/auth/login", &json!({"identifier": other, "password": "whatever1"}))).await;
        let malformed = send(&service, post_json("/auth/login", &json!({"identifier": "nobody", "password": "whatever1"}))).await;
        let wrong_body = json!({"identifier": credentials.identifier.as_str(), "password": "whatever1"});
        let wrong = send(&service, post_json("/auth/login", &wrong_body)).await;
        for _ in 0..2 {
            send(&service, post_json("/auth/login", &wrong_body)).await;
        }
        let locked_body = json!({"identifier": credentials.identifier.as_str(), "password": credentials.password});
        let locked = send(&service, post_json("/auth/login", &locked_body)).await;
        let bad_challenge = send(&service, post_json("/auth/login/verify", &json!({"challenge": "0123", "code": "123456"}))).await;
        for reply in [&unknown, &malformed, &wrong, &locked, &bad_challenge] {
            assert_refused(reply);
            assert_eq!(reply.body, unknown.body);
            assert_eq!(reply.header("www-authenticate"), unknown.header("www-authenticate"));
            assert_eq!(reply.header("content-type"), unknown.header("content-type"));
        }
        // Malformed requests are 400/415, before any account is looked at.
        let missing = send(&service, post_json("/auth/login", &json!({"identifier": "1234ABCD"}))).await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST);
        assert!(missing.issues()[0].1.contains("`password`"));
        let text = test::TestRequest::post().uri("/auth/login").insert_header(("Content-Type", "text/plain")).set_payload("x");
        assert_eq!(send(&service, text).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let get = test::TestRequest::get().uri("/auth/login");
        assert_eq!(send(&service, get).await.status, StatusCode::METHOD_NOT_ALLOWED);
    })
    .await;
}

#[actix_web::test]
async fn codes_expire_after_five_minutes_and_wrong_codes_count_as_failures() {
    each_backend(|app| async move {
        let (app, clock) = with_test_clock(app);
        let service = test::init_service(carnet::build_app(app.state())).await;
        let patient = store_patient(&service, &app.token()).await;
        let credentials = create_account(&app, &patient);
        let start = json!({"identifier": credentials.identifier.as_str(), "password": credentials.password});
        let reply = send(&service, post_json("/auth/login", &start)).await;
        let challenge = reply.json()["challenge"].as_str().unwrap().to_owned();
        let (code, _) = last_code(&app);
        clock.advance(CODE_TTL_MILLIS);
        let late = json!({"challenge": challenge, "code": code, "new_password": "long enough!"});
        assert_refused(&send(&service, post_json("/auth/login/verify", &late)).await);

        // A new code replaces the old one; wrong codes lock like wrong passwords.
        let reply = send(&service, post_json("/auth/login", &start)).await;
        assert_eq!(reply.status, StatusCode::OK);
        let challenge = reply.json()["challenge"].as_str().unwrap().to_owned();
        let (code, _) = last_code(&app);
        let wrong_code = if code == "000000" { "000001" } else { "000000" };
        // The expired code was the first failure; two wrong codes make three.
        for _ in 0..2 {
            let body = json!({"challenge": challenge, "code": wrong_code, "new_password": "long enough!"});
            assert_refused(&send(&service, post_json("/auth/login/verify", &body)).await);
        }
        let right = json!({"challenge": challenge, "code": code, "new_password": "long enough!"});
        assert_refused(&send(&service, post_json("/auth/login/verify", &right)).await);
        assert_refused(&send(&service, post_json("/auth/login", &start)).await);
    })
    .await;
}

#[actix_web::test]
async fn login_endpoints_are_rate_limited_per_client() {
    each_backend(|app| async move {
        let (mut app, clock) = with_test_clock(app);
        app.config.login_rate_per_minute = 10;
        app.config.login_rate_burst = 2;
        let service = test::init_service(carnet::build_app(app.state())).await;
        let body = json!({"identifier": "1234ABCD", "password": "whatever1"});
        for _ in 0..2 {
            assert_refused(&send(&service, post_json("/auth/login", &body)).await);
        }
        let limited = send(&service, post_json("/auth/login", &body)).await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.header("retry-after").as_deref(), Some("6"));
        assert_eq!(limited.json()["issue"][0]["code"], "throttled");
        let verify = json!({"challenge": "x", "code": "123456"});
        let limited = send(&service, post_json("/auth/login/verify", &verify)).await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        // Another client is not affected; the first one may go on after the refill.
        let other = send(
            &service,
            post_json_from("/auth/login", &body, "198.51.100.7:1"),
        )
        .await;
        assert_eq!(other.status, StatusCode::UNAUTHORIZED);
        clock.advance(6_000);
        assert_refused(&send(&service, post_json("/auth/login", &body)).await);
        assert_eq!(
            send(&service, post_json("/auth/login", &body)).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
    })
    .await;
}

#[actix_web::test]
async fn logins_failures_and_locks_are_audit_events_of_the_patient() {
    each_backend(|app| async move {
        let (app, _clock) = with_test_clock(app);
        let service = test::init_service(carnet::build_app(app.state())).await;
        let token = app.token();
        let patient = store_patient(&service, &token).await;
        let credentials = create_account(&app, &patient);
        let id = credentials.identifier.as_str();
        let start = json!({"identifier": id, "password": credentials.password});
        let reply = send(&service, post_json("/auth/login", &start)).await;
        let challenge = reply.json()["challenge"].as_str().unwrap().to_owned();
        let (code, _) = last_code(&app);
        let body = json!({"challenge": challenge, "code": code, "new_password": "long enough!"});
        assert_eq!(
            send(&service, post_json("/auth/login/verify", &body))
                .await
                .status,
            StatusCode::OK
        );
        let wrong = json!({"identifier": id, "password": "wrong password"});
        for _ in 0..3 {
            send(&service, post_json("/auth/login", &wrong)).await;
        }
        let locked = json!({"identifier": id, "password": "long enough!"});
        send(&service, post_json("/auth/login", &locked)).await;

        // Login events only (the harness's own writes and searches are audited too).
        let uri = format!(
            "/fhir/AuditEvent?patient=Patient/{patient}&_count=50&type=http://dicom.nema.org/resources/ontology/DCM|110114"
        );
        let bundle = send(&service, fhir_request(Method::GET, &uri, &token, None)).await;
        assert_eq!(bundle.status, StatusCode::OK);
        let bundle = bundle.json();
        let events: Vec<&Value> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .collect();
        let mut outcomes: Vec<&str> = events
            .iter()
            .map(|e| e["outcome"].as_str().unwrap())
            .collect();
        outcomes.sort_unstable();
        // One login, two failures, the locking failure and the attempt while locked.
        assert_eq!(outcomes, ["0", "4", "4", "8", "8"], "{bundle}");
        for event in &events {
            assert_eq!(event["type"]["code"], "110114");
            assert_eq!(event["subtype"][0]["code"], "110122");
            assert_eq!(event["action"], "E");
            assert_eq!(
                event["agent"][0]["who"]["reference"],
                format!("Patient/{patient}")
            );
            assert_eq!(event["agent"][0]["requestor"], true);
            assert_eq!(event["agent"][0]["network"]["address"], "192.0.2.10");
            assert_eq!(
                event["entity"][0]["what"]["reference"],
                format!("Patient/{patient}")
            );
            assert_eq!(event["source"]["observer"]["display"], "carnet");
        }
        let success = events.iter().find(|e| e["outcome"] == "0").unwrap();
        assert_eq!(success["outcomeDesc"], "login, with a new password");
        assert!(events.iter().any(|e| {
            e["outcomeDesc"]
                .as_str()
                .unwrap()
                .contains("locked for 15 minutes")
        }));
        // An unknown identifier is recorded too, with no patient.
        send(
            &service,
            post_json(
                "/auth/login",
                &json!({"identifier": "0000ZZZZ", "password": "x"}),
            ),
        )
        .await;
        let all = send(
            &service,
            fhir_request(
                Method::GET,
                "/fhir/AuditEvent?_count=50&type=http://dicom.nema.org/resources/ontology/DCM|110114",
                &token,
                None,
            ),
        )
        .await;
        assert_eq!(all.json()["total"], 6);
    })
    .await;
}

#[actix_web::test]
async fn a_legal_representative_logs_in_for_the_patient() {
    each_backend(|app| async move {
        let (app, _clock) = with_test_clock(app);
        let service = test::init_service(carnet::build_app(app.state())).await;
        let token = app.token();
        let patient = store_patient(&service, &token).await;
        let mut person = json!({
            "resourceType": "RelatedPerson",
            "patient": {"reference": format!("Patient/{patient}")},
            "relationship": [{"coding": [{
                "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-contact-relationship",
                "code": "CUR"
            }]}]
        });
        let reply = send(&service, fhir_request(Method::POST, "/fhir/RelatedPerson", &token, Some(&person))).await;
        let representative = format!("RelatedPerson/{}", reply.json()["id"].as_str().unwrap());
        person["relationship"][0]["coding"][0]["code"] = json!("FRND");
        let reply = send(&service, fhir_request(Method::POST, "/fhir/RelatedPerson", &token, Some(&person))).await;
        let friend = format!("RelatedPerson/{}", reply.json()["id"].as_str().unwrap());
        let new = |representative: &str| NewAccount {
            patient: format!("Patient/{patient}"),
            representative: Some(representative.to_owned()),
            contact: Contact::phone("+33 6 12 34 56 78").unwrap(),
        };
        let refused = login::create_account(&app.services, &new(&friend)).unwrap_err();
        assert!(matches!(refused, LoginError::Invalid(_)), "{refused}");
        let missing = login::create_account(&app.services, &new("RelatedPerson/nobody")).unwrap_err();
        assert!(matches!(missing, LoginError::NotFound(_)), "{missing}");
        let credentials = login::create_account(&app.services, &new(&representative)).unwrap();
        assert_eq!(credentials.subject, representative);
        let twice = login::create_account(&app.services, &new(&representative)).unwrap_err();
        assert!(matches!(twice, LoginError::Conflict(_)), "{twice}");
        // The patient may have an account of their own too.
        create_account(&app, &patient);

        let start = json!({"identifier": credentials.identifier.as_str(), "password": credentials.password});
        let reply = send(&service, post_json("/auth/login", &start)).await;
        assert_eq!(reply.json()["delivery"], "sms");
        let challenge = reply.json()["challenge"].as_str().unwrap().to_owned();
        let (code, address) = last_code(&app);
        assert_eq!(address, "+33612345678");
        let body = json!({"challenge": challenge, "code": code, "new_password": "long enough!"});
        let grant = send(&service, post_json("/auth/login/verify", &body)).await.json();
        assert_eq!(grant["patient"], patient.as_str());
        assert_eq!(grant["fhirUser"], representative.as_str());
        let token = grant["access_token"].as_str().unwrap();
        let claims = token.split('.').nth(1).unwrap();
        use base64::Engine as _;
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap(),
        )
        .unwrap();
        assert_eq!(claims["sub"], representative.as_str());
        assert_eq!(claims["fhirUser"], representative.as_str());
        assert_eq!(claims["scope"], "patient/*.cruds");

        let unknown = login::create_account(&app.services, &NewAccount {
            patient: "Patient/nobody".into(),
            representative: None,
            contact: Contact::email("a@b.example").unwrap(),
        })
        .unwrap_err();
        assert!(matches!(unknown, LoginError::NotFound(_)), "{unknown}");
        assert!(Contact::email("not an address").is_err());
        assert!(Contact::phone("12").is_err());
        let listed = login::list_accounts(&app.services).unwrap();
        assert_eq!(listed.len(), 2);
    })
    .await;
}

#[actix_web::test]
async fn the_outbox_is_delivered_to_a_webhook() {
    use std::io::{Read, Write};
    each_backend(|app| async move {
        let (app, _clock) = with_test_clock(app);
        let service = test::init_service(carnet::build_app(app.state())).await;
        let patient = store_patient(&service, &app.token()).await;
        let credentials = create_account(&app, &patient);
        let start = json!({"identifier": credentials.identifier.as_str(), "password": credentials.password});
        assert_eq!(send(&service, post_json("/auth/login", &start)).await.status, StatusCode::OK);
        let (code, _) = last_code(&app);

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let gateway = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            loop {
                let n = stream.read(&mut buffer).unwrap();
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                        .unwrap();
                    if body.len() >= length || n == 0 {
                        break;
                    }
                }
            }
            stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n").unwrap();
            String::from_utf8(request).unwrap()
        });
        let webhook = carnet::notify::webhook::Webhook::parse(&format!("http://127.0.0.1:{port}/send")).unwrap();
        let delivered = carnet::notify::deliver_pending(&app.services.store, &webhook).unwrap();
        assert_eq!(delivered, 1);
        let request = gateway.join().unwrap();
        assert!(request.starts_with("POST /send HTTP/1.1\r\n"), "{request}");
        let body: Value = serde_json::from_str(request.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert_eq!(body["channel"], "email");
        assert_eq!(body["address"], "helene@example.org");
        assert!(body["body"].as_str().unwrap().contains(&code));
        assert!(outbox::list(&app.services, false).unwrap().is_empty());
        let all = outbox::list(&app.services, true).unwrap();
        assert!(all[0].sent && all[0].sent_at.is_some());

        // A gateway that does not answer leaves the message pending, counted.
        send(&service, post_json("/auth/login", &start)).await;
        let closed = carnet::notify::webhook::Webhook::parse("http://127.0.0.1:9/none").unwrap();
        assert_eq!(carnet::notify::deliver_pending(&app.services.store, &closed).unwrap(), 0);
        let pending = outbox::list(&app.services, false).unwrap();
        assert_eq!((pending.len(), pending[0].attempts), (1, 1));
    })
    .await;
}
