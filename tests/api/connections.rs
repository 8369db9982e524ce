//! The connection layer under silent, slow and greedy clients: sockets that
//! never choose a protocol, idle HTTP/2 connections, the connection cap and
//! HTTP/2's stream limit. `/healthz` must keep answering through all of them.

use std::time::Duration;

use connect_sessions::http::settings::ApiConfig;
use connect_sessions::server::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app_with};

/// The HTTP/2 client preface.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty HTTP/2 SETTINGS frame (the client's first frame after the preface).
const EMPTY_SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

/// An app whose connections time out quickly, with `limits` applied on top.
async fn app_with(limits: impl FnOnce(&mut ConnectionLimits)) -> TestApp {
    let mut connection = ConnectionLimits {
        header_read_timeout: Duration::from_millis(500),
        ..ConnectionLimits::default()
    };
    limits(&mut connection);
    spawn_app_with(ApiConfig {
        connection,
        ..ApiConfig::default()
    })
    .await
}

async fn raw_connection(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection; `None` if it
/// is still open after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut received)).await {
        Ok(_) => Some(received),
        Err(_) => None,
    }
}

/// `GET /healthz` on a new connection: a pooled one may be closing, since
/// these apps close quiet connections after half a second.
async fn healthz(app: &TestApp) -> u16 {
    let fresh = crate::helpers::http_client_builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    fresh
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_silent_socket_is_closed_within_the_header_timeout() {
    // Arrange
    let app = app_with(|_| {}).await;
    let mut stream = raw_connection(&app).await;

    // Act: nothing at all.
    let closed = read_until_closed(&mut stream, Duration::from_secs(3)).await;

    // Assert
    assert_eq!(closed, Some(Vec::new()), "the silent socket stayed open");
    assert_eq!(healthz(&app).await, 200);
}

#[tokio::test]
async fn half_an_http2_preface_is_closed_within_the_header_timeout() {
    // Arrange
    let app = app_with(|_| {}).await;
    let mut stream = raw_connection(&app).await;

    // Act
    stream.write_all(&PREFACE[..10]).await.unwrap();
    let closed = read_until_closed(&mut stream, Duration::from_secs(3)).await;

    // Assert
    assert_eq!(
        closed,
        Some(Vec::new()),
        "the half-preface socket stayed open"
    );
    assert_eq!(healthz(&app).await, 200);
}

#[tokio::test]
async fn hundreds_of_silent_sockets_neither_stop_healthz_nor_outlive_the_timeout() {
    // Arrange
    let app = app_with(|_| {}).await;
    let mut silent = Vec::new();
    for index in 0..300 {
        let mut stream = raw_connection(&app).await;
        if index % 2 == 1 {
            stream.write_all(&PREFACE[..5]).await.unwrap();
        }
        silent.push(stream);
    }

    // Act / Assert: the server answers meanwhile…
    assert_eq!(healthz(&app).await, 200);
    // …and closes every one of them.
    for stream in &mut silent {
        let closed = read_until_closed(stream, Duration::from_secs(5)).await;
        assert!(closed.is_some(), "a silent socket stayed open");
    }
    assert_eq!(healthz(&app).await, 200);
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_the_idle_timeout() {
    // Arrange
    let app = app_with(|limits| limits.idle_timeout = Duration::from_millis(500)).await;
    let mut stream = raw_connection(&app).await;

    // Act: a valid start, then no request.
    stream.write_all(PREFACE).await.unwrap();
    stream.write_all(EMPTY_SETTINGS).await.unwrap();
    let closed = read_until_closed(&mut stream, Duration::from_secs(5)).await;

    // Assert: hyper's keep-alive pings alone would keep it for ever.
    assert!(closed.is_some(), "the idle HTTP/2 connection stayed open");
}

#[tokio::test]
async fn http2_offers_a_browser_sized_stream_limit() {
    // Arrange
    let app = app_with(|_| {}).await;
    let mut stream = raw_connection(&app).await;

    // Act: the server's first frame is its SETTINGS.
    stream.write_all(PREFACE).await.unwrap();
    stream.write_all(EMPTY_SETTINGS).await.unwrap();
    let mut header = [0_u8; 9];
    stream.read_exact(&mut header).await.unwrap();
    let length =
        usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    let mut payload = vec![0_u8; length];
    stream.read_exact(&mut payload).await.unwrap();

    // Assert
    assert_eq!(header[3], 4, "not a SETTINGS frame");
    let settings: Vec<(u16, u32)> = payload
        .chunks_exact(6)
        .map(|pair| {
            (
                u16::from_be_bytes([pair[0], pair[1]]),
                u32::from_be_bytes([pair[2], pair[3], pair[4], pair[5]]),
            )
        })
        .collect();
    // 0x3 SETTINGS_MAX_CONCURRENT_STREAMS, 0x4 SETTINGS_INITIAL_WINDOW_SIZE
    assert!(settings.contains(&(3, 16)), "{settings:?}");
    assert!(settings.contains(&(4, 64 * 1024)), "{settings:?}");
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_are_closed_and_service_resumes() {
    // Arrange: a cap of 4, all of it held by silent sockets.
    let app = app_with(|limits| limits.max_connections = 4).await;
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(raw_connection(&app).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Act
    let mut over = raw_connection(&app).await;
    let refused = read_until_closed(&mut over, Duration::from_millis(300)).await;

    // Assert: closed at once, unanswered; once the silent ones time out, the
    // server answers again.
    assert_eq!(refused, Some(Vec::new()));
    for stream in &mut silent {
        assert!(
            read_until_closed(stream, Duration::from_secs(5))
                .await
                .is_some()
        );
    }
    assert_eq!(healthz(&app).await, 200);
}

#[tokio::test]
async fn browser_endpoints_take_bodies_of_a_few_kib_only() {
    // Arrange
    let app = spawn_app_with(ApiConfig::default()).await;
    let (_, em_key) = app.embedded_key_for(crate::helpers::SEED_COMPONENTS).await;
    let padding = "x".repeat(9 * 1024);

    // Act
    let claim = app
        .post_form(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            &format!("client_secret=accs_secret__{padding}"),
        )
        .await;
    let own_account = app
        .post_form("/v1/account", &em_key, &format!("email={padding}"))
        .await;
    // The same size is fine for the backend (its limit is 256 KiB).
    let backend = app
        .post_form(
            "/v1/accounts",
            &app.platform.secret,
            &format!("type=custom&metadata[note]=x&description={padding}"),
        )
        .await;

    // Assert
    for response in [&claim, &own_account] {
        assert_eq!(response.status, 413, "{}", response.body);
        assert_eq!(
            response.body["error"]["message"],
            "The request body is too large: the limit is 8192 bytes."
        );
    }
    assert_ne!(backend.status, 413, "{}", backend.body);
}

#[tokio::test]
async fn a_full_body_budget_answers_503_and_healthz_carries_on() {
    // Arrange: a budget of 1 KiB, held by a body announced and never sent.
    let app = spawn_app_with(ApiConfig {
        max_buffered_body_bytes: 1024,
        body_read_timeout: Duration::from_millis(500),
        ..ApiConfig::default()
    })
    .await;
    let mut holder = raw_connection(&app).await;
    let request = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1024\r\n\r\ntype=",
        app.platform.secret
    );
    holder.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Act
    let waiting = app
        .post_form("/v1/accounts", &app.platform.secret, "type=custom")
        .await;

    // Assert
    assert_eq!(waiting.status, 503, "{}", waiting.body);
    assert_eq!(waiting.body["error"]["type"], "api_error");
    assert_eq!(waiting.header("stripe-should-retry"), "true");
    assert_eq!(healthz(&app).await, 200);
    // Once the holder times out, its share is back.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let after = app
        .post_form("/v1/accounts", &app.platform.secret, "type=custom")
        .await;
    assert_eq!(after.status, 200, "{}", after.body);
}

/// The resident memory of process `pid`, in KiB (`VmRSS` in /proc).
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("no VmRSS")
}

/// The attack: ten HTTP/2 connections, each with 200 claims in flight
/// carrying maximal bodies, with the public publishable key. Before the limits,
/// ten such connections took a server from 146 MB to over 540 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_http2_connections_of_maximal_claims_raise_memory_by_a_bounded_amount() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("memory.db").display());
    let server = crate::fixture::ServerProcess::command("memory")
        .args(["--database", &database])
        .start()
        .await;
    let keys = crate::fixture::create_platform(&database);
    let url = format!("{}/v1/account_sessions/claim", server.base_url());
    let clients: Vec<reqwest::Client> = (0..10)
        .map(|_| {
            crate::helpers::http_client_builder()
                .http2_prior_knowledge()
                .build()
                .unwrap()
        })
        .collect();
    // A few rounds of ordinary traffic first, so the baseline is a warm server.
    for client in &clients {
        client
            .get(format!("{}/healthz", server.base_url()))
            .send()
            .await
            .unwrap();
    }
    let baseline = resident_kib(server.pid());

    // Act: every stream sends a maximal body; the server must neither buffer
    // nor keep them.
    let mut peak = baseline;
    for round in 0..3 {
        let mut requests = Vec::new();
        for client in &clients {
            for stream in 0..200 {
                // The old limit (refused by its length now) and the new one
                // (read and decoded).
                let size = if (stream + round) % 2 == 0 {
                    256 * 1024
                } else {
                    8 * 1024
                };
                let mut body = b"client_secret=".to_vec();
                body.resize(size, b'a');
                let request = client
                    .post(&url)
                    .bearer_auth(&keys.publishable)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body);
                requests.push(tokio::spawn(request.send()));
            }
        }
        let pid = server.pid();
        let sampler = tokio::spawn(async move {
            let mut high = 0;
            for _ in 0..40 {
                high = high.max(resident_kib(pid));
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            high
        });
        for request in requests {
            // Refusals (413) and resets are both fine; a hang is not.
            let _ = tokio::time::timeout(Duration::from_secs(30), request)
                .await
                .unwrap();
        }
        peak = peak.max(sampler.await.unwrap());
        peak = peak.max(resident_kib(server.pid()));
    }
    drop(clients);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = resident_kib(server.pid());

    // Assert
    println!(
        "memory: baseline {} MiB, peak {} MiB (+{} MiB), after {} MiB",
        baseline / 1024,
        peak / 1024,
        (peak - baseline) / 1024,
        after / 1024
    );
    assert!(
        peak - baseline < 48 * 1024,
        "grew by {} KiB",
        peak - baseline
    );
    // What stays is bounded too (the allocator keeps some of what it got;
    // sampling may also have missed the true peak).
    assert!(
        after.saturating_sub(baseline) < 24 * 1024,
        "kept {} KiB",
        after.saturating_sub(baseline)
    );
    let health = server
        .client()
        .get(format!("{}/healthz", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn reaching_the_connection_cap_is_logged_and_the_flag_sets_it() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("cap.db").display());
    let server = crate::fixture::ServerProcess::command("cap")
        .args(["--database", &database, "--max-connections", "2"])
        .start()
        .await;

    // Act: two silent sockets hold the cap; a third is turned away.
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(TcpStream::connect(server.address()).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = TcpStream::connect(server.address()).await.unwrap();
    let refused = read_until_closed(&mut over, Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Assert
    assert_eq!(refused, Some(Vec::new()));
    assert!(
        server.log_text().contains("connection limit reached"),
        "{}",
        server.log_text()
    );
}
