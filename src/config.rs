//! Typed configuration, built by `main` from flags and `CARNET_*` variables and passed by
//! value. No globals, no environment reads elsewhere.

use std::path::PathBuf;

/// Everything `carnet serve` needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `host:port` to listen on.
    pub listen: String,
    /// `sqlite://path` or `postgres://…`.
    pub database_url: String,
    /// Where the SQLite file (by default) and the token signing key live.
    pub data_dir: PathBuf,
    /// The `iss` of tokens Carnet mints and trusts.
    pub issuer: String,
    /// The public base URL (`https://host/fhir`); derived from each request when absent.
    pub base_url: Option<String>,
    /// Database connections in the pool.
    pub pool_size: u32,
    /// HTTP worker threads.
    pub workers: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// The trusted external issuers file (`CARNET_TRUSTED_ISSUERS`), if any.
    pub trusted_issuers: Option<PathBuf>,
    /// HTTPS: the server's certificate chain (PEM, leaf first); with `tls_key`, both
    /// listeners serve HTTPS. Plain HTTP on `listen` when absent.
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// CA certificates (PEM) that issue professional card certificates: when set, the
    /// professionals' listener (`listen_pro`) runs and requires a client certificate
    /// issued by one of them. Needs `tls_cert` and `tls_key`.
    pub tls_client_ca: Option<PathBuf>,
    /// A certificate revocation list (PEM) of those CAs: revoked certificates are refused.
    pub tls_crl: Option<PathBuf>,
    /// `host:port` of the professionals' listener (mutual TLS), used with `tls_client_ca`.
    pub listen_pro: String,
    /// Requests a minute each client may make to the login endpoints (`/auth/…`); 0 turns
    /// the limit off.
    pub login_rate_per_minute: u32,
    /// Requests a client may make to the login endpoints at once before the rate applies.
    pub login_rate_burst: u32,
    /// Whether the client address is the last `X-Forwarded-For` entry (only behind a
    /// reverse proxy that sets it) rather than the connection's peer address.
    pub trust_forwarded_for: bool,
    /// `http://` URL of an SMS/mail gateway the outbox is delivered to, when set.
    pub notify_webhook: Option<String>,
}

/// The issuer name of Carnet's own tokens unless configured otherwise.
pub const DEFAULT_ISSUER: &str = "carnet";

/// The professionals' listener unless configured otherwise.
pub const DEFAULT_LISTEN_PRO: &str = "127.0.0.1:8443";

impl Config {
    /// Defaults of CONTRACT.md: `127.0.0.1:8080`, SQLite in `carnet-data/`, no TLS (the
    /// professionals' listener, when enabled, on `127.0.0.1:8443`).
    pub fn with_defaults() -> Config {
        Config {
            listen: "127.0.0.1:8080".to_owned(),
            database_url: "sqlite://carnet-data/carnet.db".to_owned(),
            data_dir: PathBuf::from("carnet-data"),
            issuer: DEFAULT_ISSUER.to_owned(),
            base_url: None,
            pool_size: 16,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_body_bytes: 64 * 1024 * 1024,
            trusted_issuers: None,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            tls_crl: None,
            listen_pro: DEFAULT_LISTEN_PRO.to_owned(),
            login_rate_per_minute: 10,
            login_rate_burst: 5,
            trust_forwarded_for: false,
            notify_webhook: None,
        }
    }
}
