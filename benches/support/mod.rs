//! What the benchmarks share: a minimal keep-alive HTTP client, timed phases of
//! concurrent clients with their latency percentiles, the server started in-process, and
//! the machine and commit the results were measured on.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::HttpServer;

/// What one client does per request; false when the request failed.
pub type Work = Arc<dyn Fn(&mut Client, usize) -> bool + Send + Sync>;

pub struct Phase {
    pub name: String,
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub latencies_us: Vec<u64>,
}

impl Phase {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        self.latencies_us[index] as f64 / 1000.0
    }

    pub fn row(&self) -> String {
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
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    token: String,
}

impl Client {
    pub fn connect(port: u16, token: &str) -> std::io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            token: token.to_owned(),
        })
    }

    /// Sends a request; returns the status and the body.
    pub fn call(
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

/// Runs `clients` threads doing `work` for `seconds`.
pub fn run_phase(
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
    let threads = {
        let stop = stop.clone();
        spawn_clients(port, token, clients, move |c, client| {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut i = c * 1_000_000;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                if work(client, i) {
                    latencies.push(t.elapsed().as_micros() as u64);
                } else {
                    errors += 1;
                }
                i += 1;
            }
            (latencies, errors)
        })
    };
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    Phase::of_clients(name, started, threads)
}

/// What one client thread measured: its latencies (µs) and its failed requests.
pub type ClientResult = (Vec<u64>, usize);

/// `clients` threads, each on its own keep-alive connection, running `drive(c, client)`
/// (`c`: the thread's number); a thread that cannot connect reports one failed request.
pub fn spawn_clients(
    port: u16,
    token: &str,
    clients: usize,
    drive: impl Fn(usize, &mut Client) -> ClientResult + Send + Sync + 'static,
) -> Vec<std::thread::JoinHandle<ClientResult>> {
    let drive = Arc::new(drive);
    (0..clients)
        .map(|c| {
            let drive = drive.clone();
            let token = token.to_owned();
            std::thread::spawn(move || match Client::connect(port, &token) {
                Ok(mut client) => drive(c, &mut client),
                Err(_) => (Vec::new(), 1),
            })
        })
        .collect()
}

impl Phase {
    /// The phase `name` begun at `started`, once its client threads have ended.
    pub fn of_clients(
        name: &str,
        started: Instant,
        threads: Vec<std::thread::JoinHandle<ClientResult>>,
    ) -> Phase {
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
}

/// An opened backend: its configuration, interaction services and signing key.
pub struct Opened {
    pub config: carnet::config::Config,
    pub services: carnet::interaction::Services,
    pub key: carnet::auth::SigningKey,
}

/// Opens (and migrates) the database at `database_url` with its data in `data_dir`.
pub fn open(database_url: &str, data_dir: &std::path::Path) -> Opened {
    let mut config = carnet::config::Config::with_defaults();
    config.database_url = database_url.to_owned();
    config.data_dir = data_dir.to_owned();
    config.workers = 2;
    let store = carnet::server::open_store(&config).expect("open database");
    let services = carnet::server::services(store).expect("services");
    let key = carnet::server::signing_key(&config).expect("signing key");
    Opened {
        config,
        services,
        key,
    }
}

/// Serves `state` on a free local port with two workers, on a thread of its own; returns
/// the port once it listens.
pub fn start_server(state: carnet::rest::AppState) -> u16 {
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
    port
}

pub fn machine() -> String {
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

pub fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}
