//! Test harness: the real app in-process over a fresh database per test — a SQLite file in
//! a temporary directory, and, when `CARNET_TEST_DATABASE_URL` is set, a new PostgreSQL
//! database created on that server and dropped afterwards. `each_backend` runs a test body
//! on every configured backend.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::Value;

use carnet::auth::{SigningKey, Subject, TokenRequest, mint};
use carnet::config::Config;
use carnet::interaction::{Clock, Services};
use carnet::server;

/// A database for one test, removed when dropped.
pub struct TestDatabase {
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    admin: Option<(String, String)>,
}

impl TestDatabase {
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("carnet.db").display());
        TestDatabase {
            url,
            label: "sqlite",
            _dir: Some(dir),
            admin: None,
        }
    }

    pub fn postgres(admin_url: &str) -> TestDatabase {
        let name = format!("carnet_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin =
            PgConnection::establish(admin_url).expect("connect to CARNET_TEST_DATABASE_URL");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        let url = database_url(admin_url, &name);
        TestDatabase {
            url,
            label: "postgres",
            _dir: None,
            admin: Some((admin_url.to_owned(), name)),
        }
    }
}

/// `admin_url` with its database name replaced by `name` (query parameters kept).
fn database_url(admin_url: &str, name: &str) -> String {
    let (without_query, query) = match admin_url.split_once('?') {
        Some((url, query)) => (url, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let authority_start = without_query.find("://").map_or(0, |i| i + 3);
    let server = match without_query[authority_start..].find('/') {
        Some(slash) => &without_query[..authority_start + slash],
        None => without_query,
    };
    format!("{server}/{name}{query}")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.admin
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// The databases every behaviour test runs on.
pub fn databases() -> Vec<TestDatabase> {
    let mut list = vec![TestDatabase::sqlite()];
    if let Ok(url) = std::env::var("CARNET_TEST_DATABASE_URL")
        && !url.is_empty()
    {
        list.push(TestDatabase::postgres(&url));
    }
    list
}

/// The app over one database, with a signing key and tokens.
pub struct TestApp {
    pub database: TestDatabase,
    pub config: Config,
    pub services: Services,
    pub key: Arc<SigningKey>,
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    pub fn new(database: TestDatabase) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temporary directory");
        let mut config = Config::with_defaults();
        config.database_url = database.url.clone();
        config.data_dir = data_dir.path().to_owned();
        config.pool_size = 8;
        config.base_url = Some("http://carnet.test/fhir".to_owned());
        let store = server::open_store(&config).expect("open test database");
        let services = server::services(store).expect("services");
        let key = Arc::new(server::signing_key(&config).expect("signing key"));
        TestApp {
            database,
            config,
            services,
            key,
            _data_dir: data_dir,
        }
    }

    pub fn state(&self) -> carnet::rest::AppState {
        server::app_state(&self.config, self.services.clone(), &self.key).expect("app state")
    }

    /// A token for a system client with full system scopes: it acts outside consent (its
    /// scopes govern it), as the test harness of a FHIR server does.
    pub fn token(&self) -> String {
        self.token_for(Subject::System("test-harness".to_owned()), "system/*.cruds")
    }

    pub fn token_for(&self, subject: Subject, scope: &str) -> String {
        self.token_with(TokenRequest {
            subject,
            scope: scope.to_owned(),
            purposes: vec!["TREAT".to_owned()],
            profession: Some("10".to_owned()),
            organization: None,
            patient: None,
            ttl_seconds: 3600,
        })
    }

    /// A token saying exactly what `request` says.
    pub fn token_with(&self, request: TokenRequest) -> String {
        mint(
            &self.key,
            &self.config.issuer,
            &request,
            chrono::Utc::now().timestamp(),
        )
        .expect("mint token")
    }
}

/// A clock the test moves by hand (set it as `TestApp.services.clock` before `state()`).
pub struct TestClock(AtomicI64);

impl TestClock {
    /// A clock at the current time.
    pub fn now() -> TestClock {
        TestClock(AtomicI64::new(chrono::Utc::now().timestamp_millis()))
    }

    /// A clock at `millis` since the Unix epoch.
    pub fn at(millis: i64) -> TestClock {
        TestClock(AtomicI64::new(millis))
    }

    pub fn advance(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Runs `body` once per configured backend, each with a fresh app.
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for database in databases() {
        let label = database.label;
        eprintln!("-- backend: {label}");
        body(TestApp::new(database)).await;
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The diagnostics of every issue of an OperationOutcome body.
    pub fn issues(&self) -> Vec<(String, String)> {
        let outcome = self.json();
        assert_eq!(
            outcome["resourceType"], "OperationOutcome",
            "expected an OperationOutcome: {outcome}"
        );
        outcome["issue"]
            .as_array()
            .map(|issues| {
                issues
                    .iter()
                    .map(|i| {
                        (
                            i["expression"][0].as_str().unwrap_or("").to_owned(),
                            i["diagnostics"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Sends a request to the in-process app.
pub async fn send<S, B>(app: &S, request: test::TestRequest) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await.to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// A JSON request with the FHIR content type and a bearer token.
pub fn fhir_request(
    method: actix_web::http::Method,
    uri: &str,
    token: &str,
    body: Option<&Value>,
) -> test::TestRequest {
    let mut request = test::TestRequest::default()
        .method(method)
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")));
    if let Some(body) = body {
        request = request
            .insert_header(("Content-Type", "application/fhir+json"))
            .set_payload(serde_json::to_vec(body).expect("serialise body"));
    }
    request
}

/// The `Type/id` of every resource of a Bundle's entries, sorted.
pub fn entry_ids(bundle: &Value) -> Vec<String> {
    let mut ids: Vec<String> = bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    format!(
                        "{}/{}",
                        e["resource"]["resourceType"].as_str().unwrap_or(""),
                        e["resource"]["id"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// `Type/id` of each id, sorted: the expected side of `entry_ids`.
pub fn typed_ids(resource_type: &str, ids: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = ids.iter().map(|i| format!("{resource_type}/{i}")).collect();
    out.sort();
    out
}

/// `GET uri` with a bearer token.
pub async fn get<S, B>(app: &S, uri: &str, token: &str) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(
        app,
        fhir_request(actix_web::http::Method::GET, uri, token, None),
    )
    .await
}

/// `PUT`s each resource at `/fhir/{type}/{id}`; each must be created.
pub async fn put_all<S, B>(app: &S, token: &str, resources: &[Value])
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    for resource in resources {
        let url = format!(
            "/fhir/{}/{}",
            resource["resourceType"].as_str().unwrap_or(""),
            resource["id"].as_str().unwrap_or("")
        );
        let request = fhir_request(actix_web::http::Method::PUT, &url, token, Some(resource));
        let reply = send(app, request).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{url}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
}

/// The searchset `reply` is a 200 that found exactly `expected` (`Type/id`, sorted), its
/// total included.
pub fn assert_found(reply: &Reply, expected: &[String], query: &str) {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{query}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    let bundle = reply.json();
    assert_eq!(entry_ids(&bundle), expected, "{query}");
    assert_eq!(bundle["total"], Value::from(expected.len()), "{query}");
}

/// A link of a bundle (`next`, `previous`…), relative to the test server, ready to send.
pub fn link(bundle: &Value, relation: &str) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == relation)?["url"]
        .as_str()
        .map(|u| u.replace("http://carnet.test", "").replace('|', "%7C"))
}
