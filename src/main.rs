//! The `carnet` command: parses the command line into a `Config`, starts logging, and calls
//! into the library (serve, migrate, token, import, demo, reindex, account, outbox). See
//! CONTRACT.md for the interface.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use carnet::auth::{Subject, TokenRequest, mint};
use carnet::config::Config;
use carnet::fhir::instant::format_instant;
use carnet::interaction::login::{self, Contact, NewAccount};
use carnet::server;

/// The process's allocator: mimalloc, which (crate feature `override`) also serves the C
/// code linked in, SQLite first. glibc's malloc took about a quarter of `carnet import`'s
/// CPU (its arenas and consolidation, with several threads allocating); see
/// ARCHITECTURE.md, "Memory allocator". A `static` because Rust asks for one here; it
/// holds no state of Carnet's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "carnet",
    version,
    about = "A FHIR R4 server for shared medical records"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Common {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, env = "CARNET_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Data directory: SQLite file (by default) and the token signing key.
    #[arg(
        long,
        env = "CARNET_DATA_DIR",
        global = true,
        default_value = "carnet-data"
    )]
    data_dir: PathBuf,
    /// A JSON file of trusted external token issuers and their keys (see the README).
    #[arg(long, env = "CARNET_TRUSTED_ISSUERS", global = true)]
    trusted_issuers: Option<PathBuf>,
    /// Issuer (`iss`) of the tokens Carnet mints and trusts.
    #[arg(long, env = "CARNET_ISSUER", global = true, default_value = carnet::config::DEFAULT_ISSUER)]
    issuer: String,
}

#[derive(Subcommand)]
enum Command {
    /// Run the FHIR server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "CARNET_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Public base URL used in links (default: derived from each request).
        #[arg(long, env = "CARNET_BASE_URL")]
        base_url: Option<String>,
        /// HTTP worker threads (default: one per core).
        #[arg(long, env = "CARNET_WORKERS")]
        workers: Option<usize>,
        #[command(flatten)]
        tls: TlsArgs,
        #[command(flatten)]
        login: LoginArgs,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a signed access token.
    Token(TokenArgs),
    /// Rebuild the search index of every live resource.
    Reindex,
    /// Manage patient accounts (login with a password and a one-time code).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Print the messages waiting in the notification outbox.
    Outbox {
        /// Also print messages already sent.
        #[arg(long)]
        all: bool,
        /// Mark the printed pending messages sent (once you have delivered them).
        #[arg(long)]
        mark_sent: bool,
    },
    /// Load a small DMP demo and print a token per subject and example requests.
    Demo {
        /// The FHIR base of `carnet serve`, used in the printed requests.
        #[arg(
            long,
            env = "CARNET_BASE_URL",
            default_value = "http://127.0.0.1:8080/fhir"
        )]
        base_url: String,
        /// Lifetime of the printed tokens, in seconds.
        #[arg(long, default_value_t = 43_200)]
        ttl: i64,
    },
    /// Load FHIR bundles and NDJSON files or folders.
    Import {
        /// Files or folders (searched recursively for .json and .ndjson files).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct TlsArgs {
    /// Server certificate chain (PEM): with --tls-key, serve HTTPS.
    #[arg(long, env = "CARNET_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) of the server certificate.
    #[arg(long, env = "CARNET_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// CA certificates (PEM) of professional card certificates: opens the professionals'
    /// listener, which requires a client certificate they issued.
    #[arg(long, env = "CARNET_TLS_CLIENT_CA")]
    tls_client_ca: Option<PathBuf>,
    /// Certificate revocation list (PEM) of the client CA: revoked certificates are refused.
    #[arg(long, env = "CARNET_TLS_CRL")]
    tls_crl: Option<PathBuf>,
    /// Address of the professionals' listener (mutual TLS), used with --tls-client-ca.
    #[arg(long, env = "CARNET_LISTEN_PRO", default_value = carnet::config::DEFAULT_LISTEN_PRO)]
    listen_pro: String,
}

#[derive(Args)]
struct LoginArgs {
    /// Requests a minute each client may make to /auth/… (0: no limit).
    #[arg(long, env = "CARNET_LOGIN_RATE_PER_MINUTE", default_value_t = 10)]
    login_rate_per_minute: u32,
    /// Requests a client may make to /auth/… at once.
    #[arg(long, env = "CARNET_LOGIN_RATE_BURST", default_value_t = 5)]
    login_rate_burst: u32,
    /// Take the client address from X-Forwarded-For (only behind a proxy that sets it).
    #[arg(long, env = "CARNET_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
    /// http:// URL of an SMS/mail gateway the outbox is POSTed to.
    #[arg(long, env = "CARNET_NOTIFY_WEBHOOK")]
    notify_webhook: Option<String>,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create the account of a patient (or of their legal representative) and print its
    /// identifier and provisional password.
    Create {
        /// The patient: Patient/ID (must be stored).
        #[arg(long)]
        patient: String,
        /// The account is the legal representative's: RelatedPerson/ID (must be stored).
        #[arg(long)]
        representative: Option<String>,
        /// Send login codes to this e-mail address.
        #[arg(long, conflicts_with = "phone", required_unless_present = "phone")]
        email: Option<String>,
        /// Send login codes by SMS to this number.
        #[arg(long)]
        phone: Option<String>,
    },
    /// Give an account a new provisional password and unlock it.
    Reset {
        /// The account identifier (4 digits and 4 letters).
        identifier: String,
    },
    /// List the accounts.
    List,
}

#[derive(Args)]
struct TokenArgs {
    /// The subject as a FHIR reference: Practitioner/ID, Patient/ID or RelatedPerson/ID.
    #[arg(long, conflicts_with = "system", required_unless_present = "system")]
    sub: Option<String>,
    /// A system client name (a backend service), instead of --sub.
    #[arg(long)]
    system: Option<String>,
    /// SMART scopes, space separated.
    #[arg(long, default_value = "user/*.cruds")]
    scope: String,
    /// Purpose of use: TREAT, ETREAT or BTG (repeatable).
    #[arg(long, default_value = "TREAT")]
    purpose: Vec<String>,
    /// TRE_G15 profession code of a professional.
    #[arg(long)]
    profession: Option<String>,
    /// The Organization the professional acts for (Organization/ID).
    #[arg(long)]
    organization: Option<String>,
    /// The patient in context (an id), for `patient/` scopes of a practitioner or a
    /// representative (a patient's own token has it already).
    #[arg(long)]
    patient: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: i64,
}

fn config(common: Common) -> Config {
    let mut config = Config::with_defaults();
    config.database_url = common
        .database_url
        .unwrap_or_else(|| format!("sqlite://{}", common.data_dir.join("carnet.db").display()));
    config.data_dir = common.data_dir;
    config.issuer = common.issuer;
    config.trusted_issuers = common.trusted_issuers;
    config
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let mut config = config(cli.common);
    let outcome = match cli.command {
        Command::Serve {
            listen,
            base_url,
            workers,
            tls,
            login,
        } => {
            config.login_rate_per_minute = login.login_rate_per_minute;
            config.login_rate_burst = login.login_rate_burst;
            config.trust_forwarded_for = login.trust_forwarded_for;
            config.notify_webhook = login.notify_webhook;
            config.listen = listen;
            config.base_url = base_url;
            config.tls_cert = tls.tls_cert;
            config.tls_key = tls.tls_key;
            config.tls_client_ca = tls.tls_client_ca;
            config.tls_crl = tls.tls_crl;
            config.listen_pro = tls.listen_pro;
            if let Some(workers) = workers {
                config.workers = workers.max(1);
            }
            actix_web::rt::System::new()
                .block_on(server::serve(config))
                .map_err(|e| e.to_string())
        }
        Command::Migrate => server::open_store(&config)
            .map(|_| println!("database is up to date"))
            .map_err(|e| e.to_string()),
        Command::Token(args) => token(&config, args),
        Command::Import { paths } => import(&config, &paths),
        Command::Demo { base_url, ttl } => demo(&config, &base_url, ttl),
        Command::Reindex => reindex(&config),
        Command::Account(command) => account(&config, command),
        Command::Outbox { all, mark_sent } => outbox(&config, all, mark_sent),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("carnet: {message}");
            ExitCode::FAILURE
        }
    }
}

fn token(config: &Config, args: TokenArgs) -> Result<(), String> {
    let subject = match (&args.sub, &args.system) {
        (Some(reference), _) => Subject::from_reference(reference).ok_or_else(|| {
            format!("`{reference}` is not Patient/ID, Practitioner/ID or RelatedPerson/ID")
        })?,
        (None, Some(name)) => Subject::System(name.clone()),
        (None, None) => return Err("give --sub or --system".to_owned()),
    };
    let key = server::signing_key(config).map_err(|e| e.to_string())?;
    let request = TokenRequest {
        subject,
        scope: args.scope,
        purposes: args.purpose,
        profession: args.profession,
        organization: args.organization,
        patient: args.patient,
        ttl_seconds: args.ttl,
    };
    let now = chrono::Utc::now().timestamp();
    let token = mint(&key, &config.issuer, &request, now).map_err(|e| e.to_string())?;
    println!("{token}");
    Ok(())
}

fn account(config: &Config, command: AccountCommand) -> Result<(), String> {
    let store = server::open_store(config).map_err(|e| e.to_string())?;
    let services = server::services(store).map_err(|e| e.to_string())?;
    let credentials = match command {
        AccountCommand::Create {
            patient,
            representative,
            email,
            phone,
        } => {
            let contact = match (email, phone) {
                (Some(email), _) => Contact::email(&email),
                (None, Some(phone)) => Contact::phone(&phone),
                (None, None) => return Err("give --email or --phone".to_owned()),
            }
            .map_err(|e| e.to_string())?;
            let new = NewAccount {
                patient,
                representative,
                contact,
            };
            login::create_account(&services, &new).map_err(|e| e.to_string())?
        }
        AccountCommand::Reset { identifier } => {
            login::reset_account(&services, &identifier).map_err(|e| e.to_string())?
        }
        AccountCommand::List => {
            let accounts = login::list_accounts(&services).map_err(|e| e.to_string())?;
            let now = chrono::Utc::now().timestamp_millis();
            for a in &accounts {
                let state = match a.locked_until {
                    Some(until) if until > now => format!("locked until {}", format_instant(until)),
                    _ if a.must_change_password => "provisional password".to_owned(),
                    _ => "active".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{} {}\t{state}",
                    a.identifier, a.subject, a.patient, a.channel, a.address
                );
            }
            println!("{} account(s)", accounts.len());
            return Ok(());
        }
    };
    println!("identifier: {}", credentials.identifier);
    println!("provisional password: {}", credentials.password);
    println!("subject: {}", credentials.subject);
    println!("patient: {}", credentials.patient);
    println!("the password must be changed at first login");
    Ok(())
}

fn outbox(config: &Config, all: bool, mark_sent: bool) -> Result<(), String> {
    let store = server::open_store(config).map_err(|e| e.to_string())?;
    let services = server::services(store).map_err(|e| e.to_string())?;
    let messages = carnet::interaction::outbox::list(&services, all).map_err(|e| e.to_string())?;
    for m in &messages {
        let state = if m.sent { "sent" } else { "pending" };
        println!(
            "#{} {} {state} {} {}: {}",
            m.id,
            format_instant(m.created),
            m.channel,
            m.address,
            m.body
        );
    }
    if mark_sent {
        let pending: Vec<i64> = messages.iter().filter(|m| !m.sent).map(|m| m.id).collect();
        let marked = carnet::interaction::outbox::mark_sent(&services, &pending)
            .map_err(|e| e.to_string())?;
        println!("{marked} message(s) marked sent");
    } else {
        println!("{} message(s)", messages.len());
    }
    Ok(())
}

fn reindex(config: &Config) -> Result<(), String> {
    let store = server::open_store(config).map_err(|e| e.to_string())?;
    let services = server::services(store).map_err(|e| e.to_string())?;
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} resources {elapsed_precise}")
    {
        bar.set_style(style);
    }
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let count =
        carnet::interaction::reindex::reindex(&services, &progress).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    println!("re-indexed {count} resource(s)");
    Ok(())
}

fn demo(config: &Config, base_url: &str, ttl: i64) -> Result<(), String> {
    let store = server::open_store(config).map_err(|e| e.to_string())?;
    let services = server::services(store).map_err(|e| e.to_string())?;
    let summary = carnet::demo::load(&services).map_err(|e| e.to_string())?;
    let key = server::signing_key(config).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp();
    let tokens = carnet::demo::tokens(&key, &config.issuer, now, ttl).map_err(|e| e.to_string())?;
    println!(
        "# Carnet DMP demo: {} resource(s) written, {} already in place.",
        summary.written, summary.unchanged
    );
    println!("# Serve it on the same data (the tokens below are valid {ttl} s):");
    println!(
        "#   carnet --data-dir {} serve    (with the same --database-url, if you gave one)",
        config.data_dir.display()
    );
    print!("{}", carnet::demo::render(base_url, &tokens));
    println!(
        "\n# The patients are notified of first accesses and break-glass: carnet --data-dir {} outbox",
        config.data_dir.display()
    );
    Ok(())
}

fn import(config: &Config, paths: &[PathBuf]) -> Result<(), String> {
    let store = server::open_store(config).map_err(|e| e.to_string())?;
    let services = server::services(store).map_err(|e| e.to_string())?;
    let summary = carnet::import::import_paths(&services, paths, true);
    println!("{summary}");
    if summary.failed_files.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} file(s) could not be imported",
            summary.failed_files.len()
        ))
    }
}
