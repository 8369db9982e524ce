//! The whole router on arbitrary requests (method, path, headers, body), with
//! a real SQLite store: no request may panic the server or get a 5xx.

#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::{Method, Request};
use connect_sessions::clock::{Clock, SystemClock};
use connect_sessions::domain::platform::NewPlatform;
use connect_sessions::http::settings::ApiConfig;
use connect_sessions::http::state::AppState;
use connect_sessions::keyring::Keyring;
use connect_sessions::store::Store;
use connect_sessions::store::sqlite::SqliteStore;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

/// A request as the fuzzer shapes it.
#[derive(Debug, Arbitrary)]
struct FuzzRequest {
    method: u8,
    path: String,
    /// Which key to authenticate with: none, the secret key, the publishable
    /// key, or the raw bytes below.
    auth: u8,
    raw_auth: String,
    headers: Vec<(String, String)>,
    content_type: u8,
    body: Vec<u8>,
}

/// The router, its runtime, and a platform's keys, built once per process.
struct Harness {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    secret_key: String,
    publishable_key: String,
    _dir: tempfile::TempDir,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (router, platform) = runtime.block_on(async {
            let store: Arc<dyn Store> = Arc::new(
                SqliteStore::open(&dir.path().join("fuzz.db"), 2)
                    .await
                    .unwrap(),
            );
            let platform = NewPlatform::generate("fuzz".to_owned());
            store
                .create_platform(&platform, SystemClock.now())
                .await
                .unwrap();
            let state = AppState::new(
                store,
                Arc::new(SystemClock),
                ApiConfig::default(),
                Keyring::generate(),
            );
            (connect_sessions::http::router(state), platform)
        });
        Harness {
            runtime,
            router,
            secret_key: platform.secret_key.expose().to_owned(),
            publishable_key: platform.publishable_key.expose().to_owned(),
            _dir: dir,
        }
    })
}

const PATHS: &[&str] = &[
    "/v1/accounts",
    "/v1/accounts/acct_0000000000000000",
    "/v1/account_sessions",
    "/v1/account_sessions/claim",
    "/v1/account_sessions/revoke",
    "/v1/test_helpers/account_sessions/expire",
    "/v1/embedded_session",
    "/v1/account",
    "/v1/account/external_accounts",
    "/healthz",
];

fuzz_target!(|input: FuzzRequest| {
    let harness = harness();
    let method = [
        Method::GET,
        Method::POST,
        Method::DELETE,
        Method::PUT,
        Method::OPTIONS,
    ][usize::from(input.method) % 5]
        .clone();
    // Half the time a real path with fuzzed query and suffix, half fully fuzzed.
    let path = if input.path.len() % 2 == 0 {
        format!("{}{}", PATHS[input.path.len() % PATHS.len()], input.path)
    } else {
        input.path.clone()
    };
    // An invalid URI makes `body` below fail: such requests never reach a server.
    let mut builder = Request::builder().method(method).uri(path.as_str());
    match input.auth % 4 {
        1 => builder = builder.header("authorization", format!("Bearer {}", harness.secret_key)),
        2 => {
            builder = builder.header(
                "authorization",
                format!("Bearer {}", harness.publishable_key),
            )
        }
        3 => builder = builder.header("authorization", input.raw_auth.as_str()),
        _ => {}
    }
    match input.content_type % 3 {
        0 => builder = builder.header("content-type", "application/x-www-form-urlencoded"),
        1 => builder = builder.header("content-type", "application/json"),
        _ => {}
    }
    for (name, value) in &input.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    // Requests the http crate itself refuses never reach a server.
    let Ok(request) = builder.body(Body::from(input.body.clone())) else {
        return;
    };
    let response = harness
        .runtime
        .block_on(harness.router.clone().oneshot(request))
        .unwrap();
    assert!(
        response.status().as_u16() < 500,
        "{} for {input:?}",
        response.status()
    );
});
