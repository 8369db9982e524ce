//! Benchmark helpers for connect-sessions (driven by `bench/run`):
//!
//! - `serve`: the ceiling. The server's own HTTP stack (axum + hyper, served by
//!   `connect_sessions::server::serve` with the default `ConnectionLimits`, on the
//!   same multi-threaded tokio runtime the binary builds) answering
//!   `POST /v1/account_sessions` with fixed response bytes held in memory. It reads
//!   the whole request body, as the real handler does, and does nothing else: no
//!   authentication, no form decoding, no store, no JSON rendering, no logging.
//! - `fill`: creates N account sessions through the API over C keep-alive
//!   connections, checks every answer is a 200, and keeps client secrets for claims.
//! - `startup`: spawns a command N times and times each start until the first
//!   `GET /healthz` answers 200, polling as fast as possible.
//!
//! Every subcommand prints one JSON object on stdout.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header;
use axum::routing::{get, post};
use bytes::Bytes;
use connect_sessions::server::{ConnectionLimits, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("usage: bench-ceiling serve|fill|startup [options]");
        return ExitCode::from(2);
    };
    let outcome = match command.as_str() {
        "serve" => run_serve(rest),
        "fill" => run_fill(rest),
        "startup" => run_startup(rest),
        other => Err(format!("unknown command {other:?}").into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-ceiling {command}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` options, in any order; `--` ends them and the rest is returned.
struct Options {
    pairs: Vec<(String, String)>,
    rest: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut pairs = Vec::new();
        let mut iter = args.iter();
        let mut rest = Vec::new();
        while let Some(arg) = iter.next() {
            if arg == "--" {
                rest = iter.cloned().collect();
                break;
            }
            let name = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("expected an option, got {arg:?}"))?;
            let value = iter
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            pairs.push((name.to_owned(), value.clone()));
        }
        Ok(Self { pairs, rest })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn required(&self, name: &str) -> Result<&str> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required").into())
    }

    fn number(&self, name: &str, default: Option<u64>) -> Result<u64> {
        match (self.get(name), default) {
            (Some(value), _) => Ok(value.parse().map_err(|e| format!("--{name}: {e}"))?),
            (None, Some(default)) => Ok(default),
            (None, None) => Err(format!("--{name} is required").into()),
        }
    }
}

/// The same runtime the server binary builds (`cli::run`).
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

// ---------------------------------------------------------------- serve

fn run_serve(args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;
    let listen: SocketAddr = options.required("listen")?.parse()?;
    let body: &'static [u8] = std::fs::read(options.required("response")?)?.leak();
    runtime()?.block_on(async move {
        let router = Router::new()
            .route(
                "/v1/account_sessions",
                post(move |request_body: Bytes| async move {
                    // The body is read whole, as the real handler's extractor does.
                    drop(request_body);
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        Bytes::from_static(body),
                    )
                }),
            )
            .route("/healthz", get(|| async { "{\"status\":\"ok\"}" }));
        let listener = TcpListener::bind(listen).await?;
        eprintln!("ceiling listening on {}", listener.local_addr()?);
        serve(listener, router, ConnectionLimits::default(), async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        Ok(())
    })
}

// ---------------------------------------------------------------- a minimal HTTP/1.1 client

/// One keep-alive HTTP/1.1 connection: sends a request, reads one response.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(8192),
        })
    }

    /// Sends `request` whole and returns the response's status and body.
    async fn exchange(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>)> {
        self.stream.write_all(request).await?;
        self.buffer.clear();
        let head_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end])?;
        let status: u16 = head.split(' ').nth(1).ok_or("no status line")?.parse()?;
        let mut length = None;
        for line in head.split("\r\n").skip(1) {
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = Some(value.trim().parse::<usize>()?);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err("chunked responses are not supported".into());
                }
            }
        }
        let length = length.ok_or("response without content-length")?;
        while self.buffer.len() < head_end + length {
            self.fill().await?;
        }
        Ok((status, self.buffer[head_end..head_end + length].to_vec()))
    }

    async fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; 16384];
        let read = self.stream.read(&mut chunk).await?;
        if read == 0 {
            return Err("connection closed by the server".into());
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn post_request(addr: SocketAddr, path: &str, key: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

// ---------------------------------------------------------------- fill

/// The seed's example body, for `account`.
fn seed_body(account: &str) -> String {
    format!(
        "account={account}\
         &components%5Baccount_onboarding%5D%5Benabled%5D=true\
         &components%5Bpayments%5D%5Benabled%5D=true\
         &components%5Bpayouts%5D%5Benabled%5D=true\
         &components%5Bbalances%5D%5Benabled%5D=true"
    )
}

fn run_fill(args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;
    let addr: SocketAddr = options.required("addr")?.parse()?;
    let key = options.required("key")?.to_owned();
    let account = options.required("account")?.to_owned();
    let count = options.number("count", None)?;
    let concurrency = options.number("concurrency", Some(32))?.max(1);
    let keep_last = options.number("keep-last", Some(0))? as usize;
    let secrets_out = options.get("secrets-out").map(str::to_owned);
    let body = options
        .get("body")
        .map_or_else(|| seed_body(&account), str::to_owned);

    let request: Arc<[u8]> = post_request(addr, "/v1/account_sessions", &key, &body).into();
    let remaining = Arc::new(AtomicU64::new(count));
    let failed = Arc::new(AtomicU64::new(0));
    let kept: Arc<Mutex<VecDeque<String>>> = Arc::new(Mutex::new(VecDeque::new()));
    let started = Instant::now();
    let outcome: Result<()> = runtime()?.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..concurrency.min(count.max(1)) {
            let request = request.clone();
            let remaining = remaining.clone();
            let failed = failed.clone();
            let kept = kept.clone();
            tasks.push(tokio::spawn(async move {
                let mut connection = Connection::open(addr).await?;
                // Takes one unit of work at a time, so exactly `count` are sent.
                while remaining
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let (status, body) = connection.exchange(&request).await?;
                    if status != 200 {
                        failed.fetch_add(1, Ordering::Relaxed);
                        if failed.load(Ordering::Relaxed) <= 3 {
                            eprintln!("fill: status {status}: {}", String::from_utf8_lossy(&body));
                        }
                        continue;
                    }
                    if keep_last > 0 {
                        let secret = client_secret(&body).ok_or("no client_secret in a 200")?;
                        let mut kept = kept.lock().map_err(|_| "poisoned")?;
                        if kept.len() == keep_last {
                            kept.pop_front();
                        }
                        kept.push_back(secret);
                    }
                }
                Result::<()>::Ok(())
            }));
        }
        for task in tasks {
            task.await??;
        }
        Ok(())
    });
    outcome?;
    let seconds = started.elapsed().as_secs_f64();
    let kept = std::mem::take(&mut *kept.lock().map_err(|_| "poisoned")?);
    if let Some(path) = secrets_out {
        let mut text = String::with_capacity(kept.len() * 61);
        for secret in &kept {
            text.push_str(secret);
            text.push('\n');
        }
        std::fs::write(path, text)?;
    }
    let failed = failed.load(Ordering::Relaxed);
    println!(
        "{}",
        serde_json::json!({
            "count": count,
            "non_200": failed,
            "seconds": seconds,
            "per_second": count as f64 / seconds,
            "secrets_kept": kept.len(),
        })
    );
    if failed > 0 {
        return Err(format!("{failed} of {count} requests did not answer 200").into());
    }
    Ok(())
}

fn client_secret(body: &[u8]) -> Option<String> {
    let marker = b"\"client_secret\":\"";
    let start = find(body, marker)? + marker.len();
    let length = body[start..].iter().position(|&b| b == b'"')?;
    String::from_utf8(body[start..start + length].to_vec()).ok()
}

// ---------------------------------------------------------------- startup

fn run_startup(args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;
    let addr: SocketAddr = options.required("addr")?.parse()?;
    let runs = options.number("runs", Some(10))?;
    let timeout = Duration::from_millis(options.number("timeout-ms", Some(10_000))?);
    let Some((program, template)) = options.rest.split_first() else {
        return Err("give the command after --".into());
    };
    let probe = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
    let mut millis = Vec::new();
    for run in 0..runs {
        let arguments: Vec<String> = template
            .iter()
            .map(|arg| arg.replace("{run}", &run.to_string()))
            .collect();
        let started = Instant::now();
        let mut child = Command::new(program)
            .args(&arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let served = loop {
            if started.elapsed() > timeout {
                break None;
            }
            if let Some(status) = child.try_wait()? {
                return Err(format!("the server exited ({status}) before serving").into());
            }
            if probe_once(addr, &probe) {
                break Some(started.elapsed());
            }
            // As fast as possible: a refused connect returns at once; no sleep.
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait()?;
        let served = served.ok_or("no 200 from /healthz before the timeout")?;
        millis.push(served.as_secs_f64() * 1000.0);
    }
    let mut sorted = millis.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "{}",
        serde_json::json!({"runs_ms": millis, "median_ms": median, "min_ms": sorted.first(), "max_ms": sorted.last()})
    );
    Ok(())
}

/// One blocking `GET /healthz`: true on a 200.
fn probe_once(addr: SocketAddr, request: &[u8]) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => read += n,
        }
    }
    &head == b"HTTP/1.1 200"
}
