//! The key lifecycle: `connect-sessions keys roll` and `keys revoke` on the
//! database of a running server, which refuses the old key within the
//! documented bound (`KEY_TRUST`, 2 s) and takes the new one at once.

use std::time::{Duration, Instant};

use connect_sessions::clock::{Clock, SystemClock};
use connect_sessions::domain::keys::{GeneratedKey, KeyKind, SecretHash};
use connect_sessions::domain::mode::Mode;
use connect_sessions::domain::platform::StoredKey;
use connect_sessions::http::cache::KEY_TRUST;
use connect_sessions::store::KeyChange;
use serde_json::Value;

use crate::fixture::run_command;
use crate::helpers::{TestApp, mask, spawn_app};

/// How long past `KEY_TRUST` a test waits for a refusal: a loaded machine.
const SLACK: Duration = Duration::from_secs(3);

/// Runs `keys ARGS --database <the app's database>`; the output, parsed when it succeeded.
fn keys(app: &TestApp, args: &[&str]) -> Result<Value, String> {
    let url = app.database.url();
    let mut all = vec!["keys"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--database", &url]);
    let output = run_command(&all);
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout).expect("one JSON object"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Polls `GET /v1/accounts` with `key` until it answers 401, and returns that
/// answer and how long it took; fails the test past `KEY_TRUST` and slack.
async fn first_refusal(app: &TestApp, key: &str) -> (Value, Duration) {
    let start = Instant::now();
    loop {
        let response = app.get("/v1/accounts", key).await;
        if response.status == 401 {
            return (response.body, start.elapsed());
        }
        assert_eq!(response.status, 200, "{}", response.body);
        assert!(
            start.elapsed() < KEY_TRUST + SLACK,
            "the old key still works after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_rolled_secret_key_is_refused_within_the_bound_and_its_successor_works_at_once() {
    // Arrange: the key is in use (so its grant is cached) and owns an account.
    let app = spawn_app().await;
    let old = app.platform.live_secret.clone();
    let account = app.create_account_id(&old, "type=custom").await;

    // Act
    let rolled = keys(&app, &["roll", &old]).unwrap();

    // Assert: a live secret key of the same platform, printed once.
    let new = rolled["key"].as_str().unwrap().to_owned();
    assert!(new.starts_with("sk_live_"), "{rolled}");
    assert_eq!(new.len(), old.len());
    assert_eq!(rolled["kind"], "secret");
    assert_eq!(rolled["livemode"], true);
    let listed = app.get("/v1/accounts", &new).await.ok();
    assert_eq!(listed["data"][0]["id"], account.as_str());
    let (refusal, _) = first_refusal(&app, &old).await;
    assert_eq!(refusal["error"]["code"], "api_key_expired", "{refusal}");
    assert_eq!(
        refusal["error"]["message"],
        format!("Expired API Key provided: {}", mask(&old))
    );
}

#[tokio::test]
async fn a_rolled_key_keeps_working_through_its_grace_period_then_expires() {
    // Arrange
    let app = spawn_app().await;
    let old = app.platform.secret.clone();
    app.get("/v1/accounts", &old).await.ok();

    // Act: rolled with two seconds of grace, straight through the store.
    let now = SystemClock.now();
    let new = GeneratedKey::generate(KeyKind::Secret, Mode::Test);
    let change = app
        .store
        .roll_key(
            SecretHash::of(&old),
            StoredKey {
                hash: new.hash(),
                kind: KeyKind::Secret,
                mode: Mode::Test,
            },
            now.plus(Duration::from_secs(2)),
            now,
        )
        .await
        .unwrap();

    // Assert: both work during the grace period; then only the new one.
    assert!(matches!(change, KeyChange::Changed(_)), "{change:?}");
    app.get("/v1/accounts", &old).await.ok();
    app.get("/v1/accounts", new.expose()).await.ok();
    let (refusal, _) = first_refusal(&app, &old).await;
    assert_eq!(refusal["error"]["code"], "api_key_expired", "{refusal}");
    app.get("/v1/accounts", new.expose()).await.ok();
    // An expired key cannot be rolled again.
    let error = keys(&app, &["roll", &old]).unwrap_err();
    assert!(error.contains("has expired"), "{error}");
}

#[tokio::test]
async fn a_revoked_key_is_refused_as_invalid_within_the_bound() {
    // Arrange
    let app = spawn_app().await;
    let key = app.platform.secret.clone();
    app.get("/v1/accounts", &key).await.ok();

    // Act
    let revoked = keys(&app, &["revoke", &key]).unwrap();

    // Assert: refused like an unknown key; the other keys are untouched.
    assert_eq!(revoked["revoked"], mask(&key));
    let (refusal, _) = first_refusal(&app, &key).await;
    assert_eq!(
        refusal["error"]["message"],
        format!("Invalid API Key provided: {}", mask(&key))
    );
    app.get("/v1/accounts", &app.platform.live_secret)
        .await
        .ok();
    let error = keys(&app, &["roll", &key]).unwrap_err();
    assert!(error.contains("is revoked"), "{error}");
}

#[tokio::test]
async fn rolling_keeps_a_publishable_key_publishable_and_refuses_what_it_cannot_roll() {
    let app = spawn_app().await;

    // A publishable key gives a publishable key of the same mode.
    let rolled = keys(
        &app,
        &[
            "roll",
            &app.platform.live_publishable,
            "--expire-old-in",
            "1h",
        ],
    )
    .unwrap();
    assert!(rolled["key"].as_str().unwrap().starts_with("pk_live_"));
    assert_eq!(rolled["kind"], "publishable");

    // More than Stripe's seven days of grace is refused, and nothing changes.
    let error = keys(
        &app,
        &["roll", &app.platform.secret, "--expire-old-in", "8d"],
    )
    .unwrap_err();
    assert!(error.contains("at most 7 days"), "{error}");
    app.get("/v1/accounts", &app.platform.secret).await.ok();
    // Unknown keys and keys that are not platform keys.
    let error = keys(&app, &["roll", &format!("{}x", app.platform.secret)]).unwrap_err();
    assert!(error.contains("no such key"), "{error}");
    let error = keys(&app, &["revoke", "em_test_abc"]).unwrap_err();
    assert!(error.contains("not a platform key"), "{error}");
}
