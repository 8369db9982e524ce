//! Idempotency against the network and anonymous callers: a client that
//! vanishes mid-request can retry at once, keys are visible ASCII compared
//! byte for byte, claims neither fill the store nor hand a live key out twice,
//! and the browser side has rate-limit buckets of its own.

use std::num::NonZeroU32;

use connect_sessions::clock::Clock;
use connect_sessions::domain::account_session::ClientSecret;
use connect_sessions::http::rate_limit::RateLimits;
use connect_sessions::http::settings::ApiConfig;
use connect_sessions::idempotency::{
    Attempt, BeginOutcome, Fingerprint, IdempotencyKey, IdempotencyScope, KeyRealm, LEASE,
    LeaseToken, RETENTION,
};
use reqwest::Method;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::{SEED_COMPONENTS, TestApp, spawn_app, spawn_app_with};

/// Sends a keyed `POST /v1/accounts` on a raw socket and, before any answer
/// can arrive, resets the connection or (`half_close`) closes its sending side.
/// Returns the socket, so a half-closed one stays open for reading.
async fn send_and_vanish(
    app: &TestApp,
    idempotency_key: &str,
    body: &str,
    half_close: bool,
) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nIdempotency-Key: {idempotency_key}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        app.platform.secret,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    if half_close {
        stream.shutdown().await.unwrap();
        return Some(stream);
    }
    // Abortive close: the server sees the connection reset mid-request.
    stream.set_zero_linger().unwrap();
    drop(stream);
    None
}

#[tokio::test]
async fn a_client_that_vanishes_mid_request_can_retry_at_once() {
    // Arrange
    let app = spawn_app().await;
    let body = "type=custom&metadata[n]=1";
    // Warm the key cache, so the vanishing requests reach their work at once.
    app.get("/v1/accounts", &app.platform.secret).await.ok();

    for attempt in 0..20 {
        let key = format!("vanish-{attempt}");
        // Act
        let _half_closed = send_and_vanish(&app, &key, body, attempt % 2 == 1).await;
        let retry = app
            .post_idempotent("/v1/accounts", &app.platform.secret, &key, body)
            .await;

        // Assert: the answer of the work (replayed or run now), never a 409.
        assert_eq!(retry.status, 200, "attempt {attempt}: {}", retry.body);
    }
    // Each key's work ran exactly once.
    let listed = app
        .get("/v1/accounts?limit=100", &app.platform.secret)
        .await
        .ok();
    assert_eq!(listed["data"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn idempotency_keys_outside_visible_ascii_are_refused() {
    // Arrange
    let app = spawn_app().await;
    let keys: [&[u8]; 4] = [b"k\xff", b"k\xfe", b"with space", b"caf\xc3\xa9"];

    for key in keys {
        // Act
        let response = app
            .send(
                app.request(Method::POST, "/v1/accounts")
                    .bearer_auth(&app.platform.secret)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header(
                        "idempotency-key",
                        reqwest::header::HeaderValue::from_bytes(key).unwrap(),
                    )
                    .body("type=custom"),
            )
            .await;

        // Assert: refused, never saved, never replayed under a lossy decoding.
        assert_eq!(response.status, 400, "{key:?}: {}", response.body);
        assert_eq!(response.body["error"]["type"], "invalid_request_error");
        assert!(response.body["error"].get("param").is_none());
        assert_eq!(
            response.body["error"]["message"],
            "Idempotency keys may only contain visible ASCII characters (letters, digits and punctuation, without spaces or control characters), but the Idempotency-Key header sent has others."
        );
    }
    let listed = app.get("/v1/accounts", &app.platform.secret).await.ok();
    assert_eq!(listed["data"].as_array().unwrap().len(), 0);
}

/// Whether `key` is free in the claim realm of `secret` (nothing saved).
async fn claim_key_is_free(app: &TestApp, secret: &str, key: &str) -> bool {
    let scope = IdempotencyScope {
        tenant: app.tenant_of(&app.platform.publishable).await,
        realm: KeyRealm::Claim(connect_sessions::domain::keys::SecretHash::of(secret)),
        key: IdempotencyKey::parse(key).unwrap().unwrap(),
    };
    let now = app.clock.now();
    let attempt = Attempt {
        path: "/v1/account_sessions/claim".to_owned(),
        fingerprint: Fingerprint([0; 32]),
        request_id: "req_00000000000000".to_owned(),
        token: LeaseToken::generate(),
        now,
        lease_until: now.plus(LEASE),
        retention_cutoff: now.minus(RETENTION),
    };
    app.store.begin_idempotent(&scope, &attempt).await.unwrap() == BeginOutcome::Proceed
}

#[tokio::test]
async fn a_claim_of_an_unknown_secret_saves_nothing_under_its_key() {
    // Arrange
    let app = spawn_app().await;
    let unknown = ClientSecret::generate();
    let unknown = unknown.expose();

    // Act
    let response = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "anonymous-1",
            &format!("client_secret={unknown}"),
        )
        .await;
    let malformed = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "anonymous-2",
            "client_secret=accs_secret__short",
        )
        .await;

    // Assert: refused as validation failures, and the keys stay free.
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    assert_eq!(response.body["error"]["code"], "resource_missing");
    assert!(claim_key_is_free(&app, unknown, "anonymous-1").await);
    assert!(claim_key_is_free(&app, "accs_secret__short", "anonymous-2").await);
}

#[tokio::test]
async fn claim_keys_are_scoped_by_the_secret_they_claim() {
    // Arrange: two browsers of one platform that happen to pick one key.
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (first, _) = app
        .create_session(&app.platform.secret, &account, SEED_COMPONENTS)
        .await;
    let (second, _) = app
        .create_session(&app.platform.secret, &account, SEED_COMPONENTS)
        .await;

    // Act
    let one = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "same-key",
            &format!("client_secret={first}"),
        )
        .await;
    let other = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "same-key",
            &format!("client_secret={second}"),
        )
        .await;

    // Assert: neither squats the other.
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(other.status, 200, "{}", other.body);
    assert!(other.headers.get("idempotent-replayed").is_none());
    assert!(other.body["secret"].is_string());
    assert_ne!(one.body["id"], other.body["id"]);
}

#[tokio::test]
async fn a_flood_of_browser_calls_never_starves_the_secret_key() {
    // Arrange: 2 requests per second in test mode, per kind of caller.
    let app = spawn_app_with(ApiConfig {
        rate_limits: Some(RateLimits {
            live_per_second: NonZeroU32::new(2).unwrap(),
            test_per_second: NonZeroU32::new(2).unwrap(),
        }),
        ..ApiConfig::default()
    })
    .await;
    let unknown = ClientSecret::generate();
    let claim = format!("client_secret={}", unknown.expose());

    // Act: the publishable key's bucket runs dry…
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = app
            .post_form(
                "/v1/account_sessions/claim",
                &app.platform.publishable,
                &claim,
            )
            .await;
        statuses.push(response.status);
    }
    let backend = app.get("/v1/accounts", &app.platform.secret).await;

    // Assert: …and the backend's is untouched.
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(backend.status, 200, "{}", backend.body);
}
