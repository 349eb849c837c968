//! Assembling Carnet from a `Config`: open and migrate the database, load the R4 schema and
//! the signing key, build the services and the HTTP server. Used by `main` (serve, migrate,
//! token, import) and by the benchmark.

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;

use crate::auth::login::RateLimiter;
use crate::auth::{AuthError, LocalIssuer, SigningKey, TrustStore, TrustedIssuer};
use crate::config::Config;
use crate::fhir::schema::{Schema, SchemaError};
use crate::interaction::{Limits, Services, SystemClock};
use crate::notify::Deliverer;
use crate::notify::webhook::Webhook;
use crate::rest::AppState;
use crate::rest::capability::capability_statement;
use crate::search::registry::{RegistryError, SearchRegistry};
use crate::storage::{StorageError, Store};

/// How often the outbox is delivered to the webhook.
const OUTBOX_INTERVAL: Duration = Duration::from_secs(2);

/// Why Carnet could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("R4 definitions: {0}")]
    Schema(#[from] SchemaError),
    #[error("R4 search parameters: {0}")]
    Registry(#[from] RegistryError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("notifications: {0}")]
    Notify(String),
}

/// Opens the database of `config` and applies pending migrations.
pub fn open_store(config: &Config) -> Result<Store, StartError> {
    let store = Store::open(&config.database_url, config.pool_size)?;
    let applied = store.migrate()?;
    if applied > 0 {
        log::info!("applied {applied} database migration(s)");
    }
    Ok(store)
}

/// The interaction services over an open store.
pub fn services(store: Store) -> Result<Services, StartError> {
    let schema = Arc::new(Schema::r4()?);
    let registry = Arc::new(SearchRegistry::r4_with_schema(schema.clone())?);
    Ok(Services {
        store,
        schema,
        registry,
        clock: Arc::new(SystemClock),
        limits: Limits::default(),
    })
}

/// The signing key of the data directory (created on first use).
pub fn signing_key(config: &Config) -> Result<SigningKey, StartError> {
    Ok(SigningKey::load_or_create(&config.data_dir)?)
}

/// The HTTP state: services, the verifier trusting Carnet's own key and the issuers of
/// `config.trusted_issuers`, and the CapabilityStatement.
pub fn app_state(
    config: &Config,
    services: Services,
    key: &SigningKey,
) -> Result<AppState, StartError> {
    let now = services.clock.now_millis();
    let capability = capability_statement(
        &services.schema,
        &services.registry,
        config.base_url.as_deref(),
        now,
    );
    let local = TrustedIssuer::new(&config.issuer, vec![key.verifying_key().clone()]);
    let verifier = TrustStore::new(local, config.trusted_issuers.clone())?;
    Ok(AppState {
        verifier: Arc::new(verifier),
        issuer: config.issuer.clone(),
        public_jwk: Arc::new(key.public_jwk()),
        base_url: config.base_url.clone(),
        max_body_bytes: config.max_body_bytes,
        capability_statement: Arc::new(capability),
        token_issuer: Arc::new(LocalIssuer::new(key.clone(), &config.issuer)),
        login_limiter: Arc::new(RateLimiter::new(
            config.login_rate_per_minute,
            config.login_rate_burst,
        )),
        trust_forwarded_for: config.trust_forwarded_for,
        services,
    })
}

/// The thread delivering the outbox to the configured webhook, if there is one.
pub fn outbox_deliverer(config: &Config, store: &Store) -> Result<Option<Deliverer>, StartError> {
    let Some(url) = &config.notify_webhook else {
        return Ok(None);
    };
    let webhook = Webhook::parse(url).map_err(StartError::Notify)?;
    log::info!("delivering the outbox to {url}");
    Ok(Some(Deliverer::start(
        store.clone(),
        Arc::new(webhook),
        OUTBOX_INTERVAL,
    )))
}

/// Runs the server until it is stopped.
pub async fn serve(config: Config) -> Result<(), StartError> {
    let store = open_store(&config)?;
    let key = signing_key(&config)?;
    let _deliverer = outbox_deliverer(&config, &store)?;
    let state = app_state(&config, services(store)?, &key)?;
    log::info!("serving FHIR R4 on http://{}/fhir", config.listen);
    HttpServer::new(move || crate::build_app(state.clone()))
        .workers(config.workers)
        .bind(&config.listen)?
        .run()
        .await?;
    Ok(())
}
