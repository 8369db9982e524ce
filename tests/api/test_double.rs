//! The server as a test double for CI, through the real binary: a clock the
//! tests move, faults on demand, the request log, reset, seeded ids, and live
//! mode refused whenever any of it is on.

use std::time::{Duration, Instant};

use connect_sessions::keyring::MasterKey;
use serde_json::{Value, json};

use crate::database::TestDatabase;
use crate::fixture::{ServerProcess, create_platform};
use crate::helpers::{PlatformKeys, SEED_COMPONENTS};

/// A server on `database` with `flags`, and fixed master keys.
async fn start(name: &str, database: &str, master_keys: &str, flags: &[&str]) -> ServerProcess {
    ServerProcess::command(name)
        .args(["--database", database])
        .args(flags)
        .env("CONNECT_SESSIONS_MASTER_KEYS", master_keys)
        .start()
        .await
}

/// A fresh database with a platform; its URL, the platform's keys and master keys.
async fn fixture() -> (TestDatabase, String, PlatformKeys, String) {
    let database = TestDatabase::create().await;
    let url = database.url();
    let platform = create_platform(&url);
    (database, url, platform, MasterKey::generate().encode())
}

async fn account_session(server: &ServerProcess, sk: &str) -> String {
    let account = server.post("/v1/accounts", sk, "type=custom").await.ok();
    let session = server
        .post(
            "/v1/account_sessions",
            sk,
            &format!(
                "account={}&{SEED_COMPONENTS}",
                account["id"].as_str().unwrap()
            ),
        )
        .await
        .ok();
    session["client_secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_session_claimed_after_the_clock_moves_31_minutes_is_expired_at_once() {
    // Arrange
    let (_database, url, platform, keys) = fixture().await;
    let server = start("clock", &url, &keys, &["--test-clock"]).await;
    let secret = account_session(&server, &platform.secret).await;
    let before = server
        .get("/v1/test_helpers/clock", &platform.secret)
        .await
        .ok();

    // Act: no waiting; the server's own time moves.
    let started = Instant::now();
    let advanced = server
        .post(
            "/v1/test_helpers/clock/advance",
            &platform.secret,
            "seconds=1860",
        )
        .await
        .ok();
    let claim = server
        .post(
            "/v1/account_sessions/claim",
            &platform.publishable,
            &format!("client_secret={secret}"),
        )
        .await;
    let backwards = server
        .post(
            "/v1/test_helpers/clock/advance",
            &platform.secret,
            &format!("to={}", before["now"].as_i64().unwrap()),
        )
        .await;
    let both = server
        .post(
            "/v1/test_helpers/clock/advance",
            &platform.secret,
            "seconds=1&to=1",
        )
        .await;
    let live = server.get("/v1/accounts", &platform.live_secret).await;

    // Assert
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(before["offset_seconds"], 0);
    assert_eq!(advanced["offset_seconds"], 1860);
    assert_eq!(advanced["object"], "test_helpers.clock");
    assert!(advanced["now"].as_i64().unwrap() >= before["now"].as_i64().unwrap() + 1860);
    assert_eq!(claim.status, 400);
    assert_eq!(claim.body["error"]["code"], "account_session_expired");
    assert_eq!(backwards.status, 400);
    assert_eq!(backwards.body["error"]["param"], "to");
    assert_eq!(both.body["error"]["code"], "parameters_exclusive");
    assert_eq!(live.status, 401);
    assert!(
        live.message()
            .starts_with("Live mode is refused: this server runs as a test double (--test-clock)."),
        "{}",
        live.message()
    );

    // And the offset outlives a restart: stored times stay coherent.
    drop(server);
    let again = start("clock-again", &url, &keys, &["--test-clock"]).await;
    let clock = again
        .get("/v1/test_helpers/clock", &platform.secret)
        .await
        .ok();
    assert_eq!(clock["offset_seconds"], 1860);
}

#[tokio::test]
async fn two_500s_then_the_real_answer_under_one_idempotency_key_all_in_the_request_log() {
    // Arrange
    let (_database, url, platform, keys) = fixture().await;
    let server = start("faults", &url, &keys, &["--test-faults", "--request-log"]).await;
    let sk = &platform.secret;
    let account = server.post("/v1/accounts", sk, "type=custom").await.ok();
    let account = account["id"].as_str().unwrap();
    let rule = server
        .post(
            "/v1/test_helpers/faults",
            sk,
            "method=POST&path=/v1/account_sessions&status=500&count=2",
        )
        .await
        .ok();
    let body = format!(
        "account={account}&components[payouts][enabled]=true\
         &components[payouts][features][instant_payouts]=false"
    );

    // Act: what an SDK does, retrying with the same key.
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(
            server
                .post_idempotent("/v1/account_sessions", sk, &body, "retry-me")
                .await,
        );
    }
    let listed = server.get("/v1/test_helpers/faults", sk).await.ok();
    let log = server
        .get("/v1/test_helpers/requests?limit=3", sk)
        .await
        .ok();
    let other = server
        .get("/v1/test_helpers/requests", &create_platform(&url).secret)
        .await
        .ok();

    // Assert
    assert_eq!(rule["object"], "test_helpers.fault");
    assert_eq!(
        (rule["count"].clone(), rule["remaining"].clone()),
        (json!(2), json!(2))
    );
    for faulted in &answers[..2] {
        assert_eq!(faulted.status, 500);
        assert_eq!(faulted.header("stripe-should-retry"), "true");
        assert_eq!(faulted.body["error"]["type"], "api_error");
        assert_eq!(
            faulted.message(),
            "An error occurred with our connection to the database or another internal service. You can safely retry this request."
        );
        assert!(faulted.header("request-id").starts_with("req_"));
    }
    assert_eq!(answers[2].status, 200);
    assert_eq!(answers[2].body["object"], "account_session");
    assert_eq!(
        (
            listed["data"][0]["hits"].clone(),
            listed["data"][0]["remaining"].clone()
        ),
        (json!(2), json!(0))
    );
    let entries = log["data"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(log["has_more"], true, "the account creation is older");
    let statuses: Vec<u64> = entries
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 500, 500]);
    assert!(entries.iter().all(|e| e["idempotency_key"] == "retry-me"
        && e["method"] == "POST"
        && e["path"] == "/v1/account_sessions"));
    assert_eq!(entries[0]["faulted"], false);
    assert_eq!(entries[1]["faulted"], true);
    assert_eq!(
        entries[0]["params"]["components"]["payouts"]["features"]["instant_payouts"],
        "false"
    );
    assert_eq!(entries[0]["request_id"], answers[2].header("request-id"));
    assert_eq!(other["data"], json!([]));
}

#[tokio::test]
async fn faults_delay_drop_and_answer_429_and_the_log_redacts_secrets() {
    // Arrange
    let (_database, url, platform, keys) = fixture().await;
    let server = start("faults-2", &url, &keys, &["--test-double"]).await;
    let sk = &platform.secret;
    let secret = account_session(&server, sk).await;
    for rule in [
        "method=GET&path=/v1/accounts&delay_ms=700&count=1",
        "path=/v1/account_sessions/claim&drop=true",
        "method=DELETE&path=/v1/accounts/&status=429&rate=1",
    ] {
        server.post("/v1/test_helpers/faults", sk, rule).await.ok();
    }

    // Act
    let started = Instant::now();
    let slow = server.get("/v1/accounts", sk).await;
    let slow_took = started.elapsed();
    let dropped = server
        .client()
        .post(format!("{}/v1/account_sessions/claim", server.base_url()))
        .bearer_auth(&platform.publishable)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("client_secret={secret}"))
        .send()
        .await;
    let limited = server.delete("/v1/accounts/acct_123", sk).await;
    let bad_rule = server
        .post("/v1/test_helpers/faults", sk, "path=/v1&status=418")
        .await;
    let cleared = server.delete("/v1/test_helpers/faults", sk).await.ok();
    let claimed = server
        .post(
            "/v1/account_sessions/claim",
            &platform.publishable,
            &format!("client_secret={secret}"),
        )
        .await;
    let log = server
        .get("/v1/test_helpers/requests?limit=10", sk)
        .await
        .ok();

    // Assert
    assert_eq!(slow.status, 200);
    assert!(slow_took >= Duration::from_millis(700), "{slow_took:?}");
    assert!(
        dropped.is_err(),
        "the connection closes unanswered: {dropped:?}"
    );
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["error"]["code"], "rate_limit");
    assert_eq!(limited.header("stripe-should-retry"), "false");
    assert_eq!(bad_rule.status, 400);
    assert_eq!(bad_rule.body["error"]["param"], "status");
    assert_eq!(cleared["data"].as_array().unwrap().len(), 3);
    assert_eq!(
        claimed.status, 200,
        "the dropped claim never ran: {}",
        claimed.body
    );
    let entries = log["data"].as_array().unwrap();
    let claims: Vec<&Value> = entries
        .iter()
        .filter(|e| e["path"] == "/v1/account_sessions/claim")
        .collect();
    assert_eq!(claims.len(), 2);
    assert_eq!(claims[1]["status"], 0, "dropped: no status");
    assert_eq!(claims[1]["faulted"], true);
    for claim in claims {
        assert_eq!(claim["params"]["client_secret"], "[REDACTED]");
    }
    let whole_log = log.to_string();
    assert!(!whole_log.contains(&secret[secret.len() - 20..]));
}

#[tokio::test]
async fn reset_removes_the_platforms_test_objects_and_nothing_else() {
    // Arrange: live objects and another platform's, made by an ordinary server.
    let (database, url, platform, keys) = fixture().await;
    let other = create_platform(&url);
    let plain = start("plain", &url, &keys, &[]).await;
    let live_account = plain
        .post("/v1/accounts", &platform.live_secret, "type=custom")
        .await
        .ok();
    let other_account = plain
        .post("/v1/accounts", &other.secret, "type=custom")
        .await
        .ok();
    drop(plain);
    let server = start("reset", &url, &keys, &["--test-reset"]).await;
    let sk = &platform.secret;
    let secret = account_session(&server, sk).await;
    let account = server
        .post(
            "/v1/accounts",
            sk,
            "type=custom&country=US&business_type=company",
        )
        .await
        .ok();
    let account_id = account["id"].as_str().unwrap();
    server
        .post(
            &format!("/v1/accounts/{account_id}/persons"),
            sk,
            "first_name=Jane",
        )
        .await
        .ok();
    server
        .post(
            "/v1/webhook_endpoints",
            sk,
            "url=http://127.0.0.1:9/h&enabled_events[]=*&connect=true",
        )
        .await
        .ok();
    server
        .post_idempotent(
            &format!("/v1/accounts/{account_id}"),
            sk,
            "email=a@example.com",
            "k1",
        )
        .await
        .ok();

    // Act
    let reset = server.post("/v1/test_helpers/reset", sk, "").await.ok();
    let accounts = server.get("/v1/accounts", sk).await.ok();
    let events = server.get("/v1/events", sk).await.ok();
    let endpoints = server.get("/v1/webhook_endpoints", sk).await.ok();
    let claim = server
        .post(
            "/v1/account_sessions/claim",
            &platform.publishable,
            &format!("client_secret={secret}"),
        )
        .await;
    let theirs = server.get("/v1/accounts", &other.secret).await.ok();
    let key_again = server
        .post_idempotent(
            &format!("/v1/accounts/{account_id}"),
            sk,
            "email=b@example.com",
            "k1",
        )
        .await;

    // Assert
    assert_eq!(reset["object"], "test_helpers.reset");
    assert!(reset["deleted"].as_u64().unwrap() >= 6, "{reset}");
    assert_eq!(accounts["data"], json!([]));
    assert_eq!(events["data"], json!([]));
    assert_eq!(endpoints["data"], json!([]));
    assert_eq!(claim.status, 400);
    assert_eq!(claim.body["error"]["code"], "resource_missing");
    assert_eq!(theirs["data"][0]["id"], other_account["id"]);
    // The idempotency key is forgotten too: the request runs (and finds no account).
    assert_eq!(key_again.status, 403);
    assert_eq!(key_again.body["error"]["code"], "account_invalid");
    // The live account is still there, untouched.
    assert!(
        !database
            .places_holding(live_account["id"].as_str().unwrap())
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn helpers_whose_switch_is_off_say_which_flag_turns_them_on() {
    // Arrange
    let (_database, url, platform, keys) = fixture().await;
    let server = start("off", &url, &keys, &[]).await;
    let sk = &platform.secret;

    // Act
    let clock = server.get("/v1/test_helpers/clock", sk).await;
    let faults = server
        .post("/v1/test_helpers/faults", sk, "path=/v1&status=500")
        .await;
    let log = server.get("/v1/test_helpers/requests", sk).await;
    let reset = server.post("/v1/test_helpers/reset", sk, "").await;
    let live = server.get("/v1/accounts", &platform.live_secret).await;

    // Assert
    assert_eq!(
        clock.message(),
        "The test clock is off: start the server with --test-clock to use it."
    );
    assert_eq!(
        faults.message(),
        "Fault injection is off: start the server with --test-faults to use it."
    );
    assert_eq!(
        log.message(),
        "The request log is off: start the server with --request-log to use it."
    );
    assert_eq!(
        reset.message(),
        "Reset is off: start the server with --test-reset to use it."
    );
    assert!(
        [clock.status, faults.status, log.status, reset.status]
            .iter()
            .all(|s| *s == 400)
    );
    assert_eq!(live.status, 200, "without a test double, live mode works");
}

#[tokio::test]
async fn a_seeded_server_draws_the_same_ids_and_secrets_on_every_run() {
    // Arrange: two fresh databases, one seed.
    let mut outputs = Vec::new();
    for run in 0..2 {
        let database = TestDatabase::create_sqlite();
        let platform = create_platform(&database.url());
        let server = start(
            &format!("seed-{run}"),
            &database.url(),
            &MasterKey::generate().encode(),
            &["--seed", "7"],
        )
        .await;
        let account = server
            .post("/v1/accounts", &platform.secret, "type=custom")
            .await
            .ok();
        let session = server
            .post(
                "/v1/account_sessions",
                &platform.secret,
                &format!(
                    "account={}&{SEED_COMPONENTS}",
                    account["id"].as_str().unwrap()
                ),
            )
            .await
            .ok();
        let live = server.get("/v1/accounts", &platform.live_secret).await;
        outputs.push((
            account["id"].clone(),
            session["client_secret"].clone(),
            live.status,
        ));
        drop(server);
        drop(database);
    }

    // Assert
    assert_eq!(outputs[0].0, outputs[1].0);
    assert_eq!(outputs[0].1, outputs[1].1);
    assert_eq!(outputs[0].2, 401, "live mode is refused with --seed");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: two processes share one clock"]
async fn two_replicas_on_postgres_share_the_test_clock() {
    // Arrange
    let Some(server_url) = crate::database::postgres_server() else {
        panic!("CONNECT_SESSIONS_TEST_DATABASE is not set");
    };
    let database = TestDatabase::create_postgres(&server_url).await;
    let url = database.url();
    let platform = create_platform(&url);
    let keys = MasterKey::generate().encode();
    let a = start("clock-a", &url, &keys, &["--test-clock"]).await;
    let b = start("clock-b", &url, &keys, &["--test-clock"]).await;
    let secret = account_session(&b, &platform.secret).await;

    // Act: moved through A, seen at once through B.
    a.post(
        "/v1/test_helpers/clock/advance",
        &platform.secret,
        "seconds=1860",
    )
    .await
    .ok();
    let seen = b.get("/v1/test_helpers/clock", &platform.secret).await.ok();
    let claim = b
        .post(
            "/v1/account_sessions/claim",
            &platform.publishable,
            &format!("client_secret={secret}"),
        )
        .await;
    let seeded = std::process::Command::new(crate::fixture::BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            url.as_str(),
            "--seed",
            "1",
        ])
        .env("CONNECT_SESSIONS_MASTER_KEYS", &keys)
        .output()
        .expect("cannot run the binary");

    // Assert
    assert_eq!(seen["offset_seconds"], 1860);
    assert_eq!(claim.body["error"]["code"], "account_session_expired");
    assert!(!seeded.status.success());
    assert!(
        String::from_utf8_lossy(&seeded.stderr).contains("--seed is refused with PostgreSQL"),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
}

#[tokio::test]
async fn any_test_key_is_a_platform_of_its_own_created_on_first_use() {
    // Arrange: a database nobody set up, as in CI.
    let database = TestDatabase::create_sqlite();
    let url = database.url();
    let keys = MasterKey::generate().encode();
    let server = start("any-key", &url, &keys, &["--accept-any-test-key"]).await;

    // Act: stripe-mock's keys, as the SDKs' own tests use them.
    let account = server
        .post("/v1/accounts", "sk_test_123", "type=custom")
        .await
        .ok();
    let session = server
        .post(
            "/v1/account_sessions",
            "sk_test_123",
            &format!(
                "account={}&{SEED_COMPONENTS}",
                account["id"].as_str().unwrap()
            ),
        )
        .await
        .ok();
    let claim = server
        .post(
            "/v1/account_sessions/claim",
            "pk_test_123",
            &format!(
                "client_secret={}",
                session["client_secret"].as_str().unwrap()
            ),
        )
        .await;
    let neighbour = server.get("/v1/accounts", "sk_test_456").await.ok();
    let publishable_first = server.get("/v1/accounts", "pk_test_789").await;
    let live = server.get("/v1/accounts", "sk_live_123").await;
    let malformed = server.get("/v1/accounts", "sk_test_1-2").await;
    drop(server);
    let again = start("any-key-again", &url, &keys, &["--accept-any-test-key"]).await;
    let after_restart = again.get("/v1/accounts", "sk_test_123").await.ok();

    // Assert
    assert_eq!(claim.status, 200, "{}", claim.body);
    assert_eq!(
        neighbour["data"],
        json!([]),
        "sk_test_456 is another platform"
    );
    assert_eq!(
        publishable_first.status, 401,
        "a publishable key is no secret key"
    );
    assert_eq!(
        publishable_first.body["error"]["code"],
        "secret_key_required"
    );
    assert_eq!(live.status, 401);
    assert_eq!(malformed.status, 401);
    assert_eq!(after_restart["data"][0]["id"], account["id"]);
    assert!(
        database.places_holding("sk_test_123").await.is_empty(),
        "keys are stored as hashes"
    );
}

#[tokio::test]
async fn the_request_that_creates_a_platform_on_first_use_is_in_its_request_log() {
    // Arrange: a database nobody set up, as in CI.
    let database = TestDatabase::create_sqlite();
    let keys = MasterKey::generate().encode();
    let server = start(
        "any-key-log",
        &database.url(),
        &keys,
        &["--accept-any-test-key", "--request-log"],
    )
    .await;

    // Act: the key's very first request, then the log.
    let account = server
        .post("/v1/accounts", "sk_test_first", "type=custom")
        .await
        .ok();
    let log = server
        .get("/v1/test_helpers/requests", "sk_test_first")
        .await
        .ok();

    // Assert
    let entries = log["data"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["method"], "POST");
    assert_eq!(entries[0]["path"], "/v1/accounts");
    assert_eq!(entries[0]["params"]["type"], "custom");
    assert_eq!(entries[0]["status"], 200);
    assert!(account["id"].as_str().unwrap().starts_with("acct_"));
}

#[tokio::test]
async fn platforms_declared_with_known_keys_are_created_on_start() {
    // Arrange
    let database = TestDatabase::create_sqlite();
    let url = database.url();
    let keys = MasterKey::generate().encode();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.json");
    std::fs::write(
        &file,
        r#"[{"id": "acct_ci", "name": "CI", "secret_key": "sk_test_ci_backend", "publishable_key": "pk_test_ci_browser"},
            {"secret_key": "sk_test_other", "publishable_key": "pk_test_other"}]"#,
    )
    .unwrap();
    let path = file.display().to_string();

    // Act
    let server = start("known-keys", &url, &keys, &["--test-keys-from", &path]).await;
    let account = server
        .post("/v1/accounts", "sk_test_ci_backend", "type=custom")
        .await
        .ok();
    let other = server.get("/v1/accounts", "sk_test_other").await.ok();
    let unknown = server.get("/v1/accounts", "sk_test_123").await;
    let stdout = server.stdout();
    drop(server);
    let restarted = start(
        "known-keys-again",
        &url,
        &keys,
        &["--test-keys-from", &path],
    )
    .await;
    let kept = restarted
        .get("/v1/accounts", "sk_test_ci_backend")
        .await
        .ok();
    drop(restarted);
    let live = std::process::Command::new(crate::fixture::BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            url.as_str(),
        ])
        .args([
            "--test-keys",
            r#"[{"secret_key": "sk_live_nope", "publishable_key": "pk_test_x"}]"#,
        ])
        .env("CONNECT_SESSIONS_MASTER_KEYS", &keys)
        .output()
        .unwrap();

    // Assert
    assert_eq!(account["object"], "account");
    assert_eq!(other["data"], json!([]));
    assert_eq!(
        unknown.status, 401,
        "only declared keys, without --accept-any-test-key"
    );
    assert!(
        !stdout.contains("Created the default platform"),
        "declared platforms stand in for the default one: {stdout}"
    );
    assert_eq!(kept["data"][0]["id"], account["id"]);
    assert!(!live.status.success());
    assert!(
        String::from_utf8_lossy(&live.stderr).contains("is not a test-mode secret key"),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
}
