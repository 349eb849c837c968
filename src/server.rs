//! Assembling Carnet from a `Config`: open and migrate the database, load the R4 schema and
//! the signing key, build the services and the HTTP server (its listeners and their TLS in
//! `tls`). Used by `main` (serve, migrate, token, import), the tests and the benchmark.

mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::Server;

use crate::auth::login::RateLimiter;
use crate::auth::{AuthError, LocalIssuer, SigningKey, TrustStore, TrustedIssuer};
use crate::config::Config;
use crate::consent::{AccessMatrix, ConsentError, Policy, PolicyConfig};
use crate::fhir::schema::{Schema, SchemaError};
use crate::interaction::deferred_index::DeferredIndexer;
use crate::interaction::{Limits, Services, SystemClock};
use crate::notify::Deliverer;
use crate::notify::webhook::Webhook;
use crate::rest::AppState;
use crate::rest::capability::capability_statement;
use crate::rest::client_certificate::on_professional_connect;
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
    #[error("consent policy: {0}")]
    Policy(#[from] ConsentError),
    #[error("R4 search parameters: {0}")]
    Registry(#[from] RegistryError),
    #[error("TLS: {0}")]
    Tls(String),
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
        policy: Arc::new(Policy::new(
            AccessMatrix::bundled()?,
            PolicyConfig::default(),
        )),
        records: Arc::default(),
        known_accesses: Arc::default(),
        deferred_index: Arc::default(),
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
        deferred_indexer: Arc::new(DeferredIndexer::start(services.clone())),
        services,
    })
}

/// A server bound to its listeners, not running yet: await (or spawn) `server` to run it.
pub struct BoundServer {
    pub server: Server,
    /// The address of the main listener (`listen`).
    pub address: SocketAddr,
    /// Whether the main listener serves HTTPS.
    pub https: bool,
    /// The address of the professionals' listener, when `tls_client_ca` is set.
    pub professional_address: Option<SocketAddr>,
}

/// Binds the listeners of `config` for the app over `state`: `listen` (HTTPS when
/// `tls_cert` and `tls_key` are set, else HTTP) and, with `tls_client_ca`, `listen_pro`
/// (HTTPS requiring a professional card certificate). Port 0 picks a free port; the bound
/// addresses are returned.
pub fn bind(config: &Config, state: AppState) -> Result<BoundServer, StartError> {
    let files = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::TlsFiles { cert, key }),
        (None, None) => None,
        _ => {
            return Err(StartError::Tls(
                "CARNET_TLS_CERT and CARNET_TLS_KEY go together".to_owned(),
            ));
        }
    };
    if config.tls_crl.is_some() && config.tls_client_ca.is_none() {
        return Err(StartError::Tls(
            "CARNET_TLS_CRL needs CARNET_TLS_CLIENT_CA".to_owned(),
        ));
    }
    let professional = match (&config.tls_client_ca, files) {
        (None, _) => None,
        (Some(client_ca), Some(files)) => Some(tls::professional_acceptor(
            files,
            client_ca,
            config.tls_crl.as_deref(),
        )?),
        (Some(_), None) => {
            return Err(StartError::Tls(
                "CARNET_TLS_CLIENT_CA needs CARNET_TLS_CERT and CARNET_TLS_KEY".to_owned(),
            ));
        }
    };
    let mut server =
        HttpServer::new(move || crate::build_app(state.clone())).workers(config.workers);
    server = match files {
        Some(files) => server.bind_openssl(&config.listen, tls::acceptor(files)?)?,
        None => server.bind(&config.listen)?,
    };
    let main_count = server.addrs().len();
    if let Some(acceptor) = professional {
        // The callback is captured by the listeners bound after it: the professionals' only.
        server = server
            .on_connect(on_professional_connect)
            .bind_openssl(&config.listen_pro, acceptor)?;
    }
    let addresses = server.addrs();
    let address = *addresses
        .first()
        .ok_or_else(|| std::io::Error::other(format!("`{}` bound no address", config.listen)))?;
    let professional_address = addresses.get(main_count).copied();
    Ok(BoundServer {
        server: server.run(),
        address,
        https: files.is_some(),
        professional_address,
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
    let bound = bind(&config, state)?;
    let scheme = if bound.https { "https" } else { "http" };
    log::info!("serving FHIR R4 on {scheme}://{}/fhir", bound.address);
    if let Some(address) = bound.professional_address {
        log::info!(
            "serving professionals with card certificates on https://{address}/fhir (mutual TLS)"
        );
    }
    bound.server.await?;
    Ok(())
}
