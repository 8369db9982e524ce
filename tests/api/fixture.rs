//! The one way tests start the server binary: `connect-sessions serve` on
//! port 0, its real address read from its own `listening` log line, and
//! readiness judged by the binary's own `healthcheck`, as a container probe
//! would. No test picks a port itself: a port picked, released and then handed
//! to the server can be taken by someone else in between.
//!
//! `compat/run.sh` starts the server for the official clients the same way,
//! through `scripts/lib/server.sh`.
//!
//! The process is killed when its [`ServerProcess`] is dropped, so a failing
//! test leaves no server behind. Everything it prints is kept, for assertions
//! and for the message of a test that fails.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

use crate::helpers::{FORM, PlatformKeys, TestResponse};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_connect-sessions");

/// How long a server may take to print its listening line: it migrates its
/// database first, and several tests start servers at once on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a listening server may take to pass its health check.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a stopped server may take to drain and exit.
const STOP_TIMEOUT: Duration = Duration::from_secs(40);

/// A `connect-sessions serve` to be started: its options and environment.
#[derive(Debug)]
pub(crate) struct ServeCommand {
    name: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl ServeCommand {
    /// An option (or several) after `serve --listen 127.0.0.1:0`.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// An environment variable of the server process.
    pub(crate) fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Starts the server and waits until it is healthy; panics, with what it
    /// printed, if it exits or does not get there in time.
    pub(crate) async fn start(self) -> ServerProcess {
        let mut command = Command::new(BIN);
        without_caller_settings(&mut command);
        // The listening line is an info event; a caller's RUST_LOG must not hide it.
        command.env("RUST_LOG", "info");
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&self.args)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start the server binary");

        let (listening, address) = tokio::sync::oneshot::channel();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            read_stderr(child.stderr.take(), stderr.clone(), listening),
            read_stdout(child.stdout.take(), stdout.clone()),
        ];
        let mut server = ServerProcess {
            name: self.name,
            child,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            stderr,
            stdout,
            readers,
            client: crate::helpers::http_client_builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("cannot build an HTTP client"),
        };

        server.address = match tokio::time::timeout(START_TIMEOUT, address).await {
            Ok(Ok(address)) => address,
            Ok(Err(_closed)) => server.fail("exited before it listened"),
            Err(_elapsed) => server.fail("printed no listening line in time"),
        };
        server.wait_until_healthy().await;
        server
    }
}

/// A running `connect-sessions serve`, killed when dropped.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    name: String,
    child: Child,
    address: SocketAddr,
    /// Every stderr line: the log.
    stderr: Arc<Mutex<Vec<String>>>,
    /// Everything printed on stdout.
    stdout: Arc<Mutex<String>>,
    /// The threads copying stdout and stderr; they end when the process does.
    readers: Vec<JoinHandle<()>>,
    client: reqwest::Client,
}

impl ServerProcess {
    /// `connect-sessions serve --listen 127.0.0.1:0`, to be given options and
    /// started; `name` tells servers apart in messages.
    pub(crate) fn command(name: &str) -> ServeCommand {
        ServeCommand {
            name: name.to_owned(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The name given at start.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The server's process id (to read its memory from /proc).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The address the server listens on, as it said.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.address())
    }

    /// An HTTP client with a generous timeout, shared by this server's requests.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Everything the server printed on stdout so far.
    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// The log so far, one line per line.
    pub(crate) fn log_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// The `fields` of every JSON log line whose message is `message` (for a
    /// server started with `--log-format json`).
    pub(crate) fn log_events(&self, message: &str) -> Vec<Value> {
        self.stderr
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| event["fields"]["message"] == message)
            .map(|event| event["fields"].clone())
            .collect()
    }

    /// Panics, with the log, unless the process is still running.
    pub(crate) fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("cannot poll the server") {
            panic!(
                "server {} exited ({status}); its log:\n{}",
                self.name,
                self.log_text()
            );
        }
    }

    /// SIGKILL: no shutdown, no flush, no goodbye. Returns once the process is
    /// reaped.
    pub(crate) fn kill_hard(mut self) {
        self.child.kill().expect("cannot kill the server");
        self.child.wait().expect("cannot reap the server");
    }

    /// SIGTERM, then waits for the graceful exit; returns the whole log, every
    /// line the process wrote before it ended.
    pub(crate) async fn stop(mut self) -> String {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("cannot run kill");
        assert!(sent.success(), "kill -TERM failed: {sent}");
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("cannot poll the server") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "server {} did not stop within {STOP_TIMEOUT:?}; its log:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(
            status.success(),
            "server {} exited with {status}; its log:\n{}",
            self.name,
            self.log_text()
        );
        // The pipes are closed: the readers end once they have copied the rest.
        for reader in std::mem::take(&mut self.readers) {
            reader.join().expect("an output reader panicked");
        }
        self.log_text()
    }

    /// Runs `connect-sessions healthcheck --listen ADDRESS` until it exits 0.
    async fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let check = healthcheck(self.address).await;
            if check.success() {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("cannot poll the server") {
                self.fail(&format!("exited ({status}) before it was healthy"));
            }
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "failed its health check for {READY_TIMEOUT:?} (last: {check})"
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the process and panics with `what` and everything it printed.
    fn fail(&mut self, what: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in std::mem::take(&mut self.readers) {
            let _ = reader.join();
        }
        panic!(
            "server {} {what}; its stdout:\n{}\nits log:\n{}",
            self.name,
            self.stdout(),
            self.log_text()
        );
    }

    /// Sends a request and reads the JSON answer; panics if there is none.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> TestResponse {
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("request to server {} failed: {error}", self.name));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
            panic!(
                "server {}: the body is not JSON ({error}): {}",
                self.name,
                String::from_utf8_lossy(&bytes)
            )
        });
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// A request to `path`, authenticated with `key` as Bearer, to be completed
    /// and passed to [`ServerProcess::send`].
    pub(crate) fn request(&self, method: Method, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base_url()))
            .header(AUTHORIZATION, format!("Bearer {key}"))
    }

    /// `GET path`, authenticated with `key`.
    pub(crate) async fn get(&self, path: &str, key: &str) -> TestResponse {
        self.send(self.request(Method::GET, path, key)).await
    }

    /// `DELETE path`, authenticated with `key`.
    pub(crate) async fn delete(&self, path: &str, key: &str) -> TestResponse {
        self.send(self.request(Method::DELETE, path, key)).await
    }

    /// `POST path` with a form body, authenticated with `key`.
    pub(crate) async fn post(&self, path: &str, key: &str, body: &str) -> TestResponse {
        self.send(
            self.request(Method::POST, path, key)
                .header(CONTENT_TYPE, FORM)
                .body(body.to_owned()),
        )
        .await
    }

    /// `POST path` with a form body and an `Idempotency-Key`.
    pub(crate) async fn post_idempotent(
        &self,
        path: &str,
        key: &str,
        body: &str,
        idempotency_key: &str,
    ) -> TestResponse {
        self.send(
            self.request(Method::POST, path, key)
                .header(CONTENT_TYPE, FORM)
                .header("Idempotency-Key", idempotency_key)
                .body(body.to_owned()),
        )
        .await
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Already reaped after `kill_hard` or `stop`; then both calls fail harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a platform on `database` (a `--database` URL) with
/// `connect-sessions platforms create`; returns the keys it printed.
pub(crate) fn create_platform(database: &str) -> PlatformKeys {
    let mut command = Command::new(BIN);
    without_caller_settings(&mut command);
    let output = command
        .args(["platforms", "create", "--database", database])
        .stdin(Stdio::null())
        .output()
        .expect("cannot run platforms create");
    assert!(
        output.status.success(),
        "platforms create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let keys: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    let key = |name: &str| {
        keys[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {keys}"))
            .to_owned()
    };
    PlatformKeys {
        secret: key("secret_key"),
        publishable: key("publishable_key"),
        live_secret: key("live_secret_key"),
        live_publishable: key("live_publishable_key"),
    }
}

/// Runs `connect-sessions ARGS` to completion (a one-shot command such as
/// `keys roll`), without the caller's settings; returns what it printed.
pub(crate) fn run_command(args: &[&str]) -> std::process::Output {
    let mut command = Command::new(BIN);
    without_caller_settings(&mut command);
    command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run connect-sessions")
}

/// Removes the caller's own `CONNECT_SESSIONS_*` settings (and log filter)
/// from `command`: they must not leak into the process under test.
pub(crate) fn without_caller_settings(command: &mut Command) {
    for (variable, _) in std::env::vars_os() {
        let name = variable.to_string_lossy();
        if name.starts_with("CONNECT_SESSIONS_") || name == "RUST_LOG" {
            command.env_remove(&variable);
        }
    }
}

/// Runs the binary's own health check against `address`.
async fn healthcheck(address: SocketAddr) -> ExitStatus {
    let mut command = tokio::process::Command::new(BIN);
    without_caller_settings(command.as_std_mut());
    command
        .args(["healthcheck", "--listen", &address.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .expect("cannot run connect-sessions healthcheck")
}

/// Copies the log, line by line, and sends the address of the first
/// `listening` line.
fn read_stderr(
    stderr: Option<ChildStderr>,
    lines: Arc<Mutex<Vec<String>>>,
    listening: tokio::sync::oneshot::Sender<SocketAddr>,
) -> JoinHandle<()> {
    let stderr = stderr.expect("stderr is piped");
    std::thread::spawn(move || {
        let mut listening = Some(listening);
        let mut reader = BufReader::new(stderr);
        let mut line = Vec::new();
        while reader
            .read_until(b'\n', &mut line)
            .is_ok_and(|read| read > 0)
        {
            let text = String::from_utf8_lossy(&line).trim_end().to_owned();
            if let Some(address) = listening_address(&text)
                && let Some(sender) = listening.take()
            {
                let _ = sender.send(address);
            }
            lines.lock().unwrap().push(text);
            line.clear();
        }
    })
}

/// Copies stdout.
fn read_stdout(stdout: Option<ChildStdout>, text: Arc<Mutex<String>>) -> JoinHandle<()> {
    let stdout = stdout.expect("stdout is piped");
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut chunk = [0; 4096];
        while let Ok(read @ 1..) = reader.read(&mut chunk) {
            text.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..read]));
        }
    })
}

/// The address in the server's `listening` log line, in either log format:
/// `… INFO listening address=127.0.0.1:PORT` (text) or
/// `{…"fields":{"message":"listening","address":"127.0.0.1:PORT"}…}` (json).
fn listening_address(line: &str) -> Option<SocketAddr> {
    if let Ok(event) = serde_json::from_str::<Value>(line) {
        if event["fields"]["message"] != "listening" {
            return None;
        }
        return event["fields"]["address"].as_str()?.parse().ok();
    }
    let (_, address) = line.split_once(" listening address=")?;
    address.split_whitespace().next()?.parse().ok()
}

#[test]
fn the_listening_line_is_read_in_both_log_formats() {
    assert_eq!(
        listening_address("2026-06-01T00:00:00.000000Z  INFO listening address=127.0.0.1:4321"),
        Some(SocketAddr::from(([127, 0, 0, 1], 4321)))
    );
    assert_eq!(
        listening_address(
            r#"{"timestamp":"…","level":"INFO","fields":{"message":"listening","address":"127.0.0.1:4321"}}"#
        ),
        Some(SocketAddr::from(([127, 0, 0, 1], 4321)))
    );
    assert_eq!(
        listening_address(r#"{"fields":{"message":"migrations applied"}}"#),
        None
    );
    assert_eq!(listening_address("INFO migrations applied"), None);
}
