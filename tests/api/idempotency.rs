//! Idempotent requests as Stripe runs them: a POST with an `Idempotency-Key`
//! executes once per (platform, mode, key); repeats replay the saved answer,
//! misuses get Stripe's exact `idempotency_error` texts, a key in flight gets a
//! 409, and saved answers are sealed so a copy of the database yields nothing.

use std::time::Duration;

use connect_sessions::clock::Clock;
use connect_sessions::idempotency::{
    Attempt, BeginOutcome, Fingerprint, IdempotencyKey, IdempotencyScope, KeyRealm, LEASE,
    LeaseToken, RETENTION,
};
use connect_sessions::keyring::Keyring;
use connect_sessions::maintenance::{PruneSettings, prune_once};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{
    FORM, SEED_COMPONENTS, TestApp, TestResponse, contains_bytes, encode_brackets, exactly,
    is_request_id, join_all, spawn_app,
};

/// A bank account, for the request-fingerprint test.
const BANK_ACCOUNT: &str =
    "country=US&currency=usd&routing_number=110000000&account_number=000123456789";

/// The headers of a response that idempotency concerns (`-` written `_`),
/// absent ones as null.
fn idempotency_headers(response: &TestResponse) -> Value {
    let header = |name: &str| {
        response
            .headers
            .get(name)
            .map(|value| Value::from(value.to_str().unwrap()))
            .unwrap_or(Value::Null)
    };
    json!({
        "idempotency_key": header("idempotency-key"),
        "idempotent_replayed": header("idempotent-replayed"),
        "original_request": header("original-request"),
        "request_id": header("request-id"),
        "stripe_should_retry": header("stripe-should-retry"),
    })
}

/// Whether a response is a replay.
fn replayed(response: &TestResponse) -> bool {
    response.headers.get("idempotent-replayed").is_some()
}

/// How many test-mode accounts the platform has.
async fn account_count(app: &TestApp, key: &str) -> usize {
    app.get("/v1/accounts?limit=100", key).await.ok()["data"]
        .as_array()
        .unwrap()
        .len()
}

/// Marks `key` in flight for the platform's test mode, as a request that began
/// now and is still executing would: its lease runs for [`LEASE`].
async fn hold_in_flight(app: &TestApp, key: &str) {
    let scope = IdempotencyScope {
        tenant: app.tenant_of(&app.platform.secret).await,
        realm: KeyRealm::Secret,
        key: IdempotencyKey::parse(key).unwrap().unwrap(),
    };
    let now = app.clock.now();
    let attempt = Attempt {
        path: "/v1/accounts".to_owned(),
        fingerprint: Fingerprint([0; 32]),
        request_id: "req_00000000000000".to_owned(),
        token: LeaseToken::generate(),
        now,
        lease_until: now.plus(LEASE),
        retention_cutoff: now.minus(RETENTION),
    };
    let begun = app.store.begin_idempotent(&scope, &attempt).await.unwrap();
    assert_eq!(begun, BeginOutcome::Proceed);
}

// --- Replays -------------------------------------------------------------------------------

#[tokio::test]
async fn a_repeated_request_replays_the_first_answer_with_stripes_headers() {
    // Arrange
    let app = spawn_app().await;
    let body = "type=custom&email=jenny%40example.com";
    let first = app
        .post_idempotent("/v1/accounts", &app.platform.secret, "key-1", body)
        .await;

    // Act
    let second = app
        .post_idempotent("/v1/accounts", &app.platform.secret, "key-1", body)
        .await;

    // Assert
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(second.status, first.status);
    assert_eq!(second.body, first.body);
    let first_id = first.header("request-id").to_owned();
    assert!(is_request_id(&first_id));
    assert_eq!(first.header("original-request"), first_id);
    assert!(!replayed(&first));
    let second_id = second.header("request-id");
    assert!(is_request_id(second_id));
    assert_ne!(second_id, first_id);
    insta::assert_json_snapshot!(idempotency_headers(&second), {
        ".original_request" => exactly(first_id.as_str(), "[the first request's id]"),
        ".request_id" => exactly(second_id, "[a new request id]"),
    }, @r#"
    {
      "idempotency_key": "key-1",
      "idempotent_replayed": "true",
      "original_request": "[the first request's id]",
      "request_id": "[a new request id]",
      "stripe_should_retry": null
    }
    "#);
    assert_eq!(account_count(&app, &app.platform.secret).await, 1);
}

#[tokio::test]
async fn the_same_parameters_replay_whatever_their_order_or_bracket_encoding() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let base = format!(
        "account={account}&components[payouts][enabled]=true\
         &components[payments][enabled]=true&expand[0]=components"
    );
    let reordered = format!(
        "components[payments][enabled]=true&expand[0]=components\
         &account={account}&components[payouts][enabled]=true"
    );
    let first = app
        .post_idempotent(
            "/v1/account_sessions",
            &app.platform.secret,
            "same-params",
            &base,
        )
        .await
        .ok();
    let variants = [
        ("reordered", reordered.clone()),
        ("percent-encoded brackets", encode_brackets(&base)),
        (
            "expand[] for expand[0]",
            base.replace("expand[0]", "expand[]"),
        ),
        (
            "all of them",
            encode_brackets(&reordered.replace("expand[0]", "expand[]")),
        ),
    ];

    for (label, body) in variants {
        // Act
        let response = app
            .post_idempotent(
                "/v1/account_sessions",
                &app.platform.secret,
                "same-params",
                &body,
            )
            .await;

        // Assert
        assert_eq!(response.status, 200, "{label}: {}", response.body);
        assert!(replayed(&response), "{label}");
        assert_eq!(response.body, first, "{label}");
    }
}

#[tokio::test]
async fn a_replayed_account_session_has_the_same_client_secret_which_is_claimable_once() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let body = format!("account={account}&{SEED_COMPONENTS}");
    let first = app
        .post_idempotent("/v1/account_sessions", &app.platform.secret, "sess", &body)
        .await
        .ok();

    // Act: the SDK lost the first response and retries.
    let retry = app
        .post_idempotent("/v1/account_sessions", &app.platform.secret, "sess", &body)
        .await;

    // Assert
    assert!(replayed(&retry));
    let secret = first["client_secret"].as_str().unwrap();
    assert_eq!(retry.body["client_secret"], secret);
    assert_eq!(
        app.claim(&app.platform.publishable, secret).await.status,
        200
    );
    let again = app.claim(&app.platform.publishable, secret).await;
    assert_eq!(
        again.body["error"]["code"],
        "account_session_already_claimed"
    );
    // A later replay still hands out the same (now used) secret, nothing new.
    let late = app
        .post_idempotent("/v1/account_sessions", &app.platform.secret, "sess", &body)
        .await;
    assert_eq!(late.body["client_secret"], secret);
}

#[tokio::test]
async fn a_replayed_claim_answers_the_session_without_its_em_key() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, SEED_COMPONENTS)
        .await;
    let body = format!("client_secret={secret}");
    let first = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "claim-1",
            &body,
        )
        .await
        .ok();

    // Act
    let retry = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "claim-1",
            &body,
        )
        .await;
    let other_key = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "claim-2",
            &body,
        )
        .await;

    // Assert: a retry of the one claim replays the session but never its key
    // (a copy of the request proves nothing); any other claim is refused.
    assert!(replayed(&retry));
    let mut without_key = first.clone();
    without_key.as_object_mut().unwrap().remove("secret");
    assert!(first["secret"].is_string());
    assert_eq!(retry.body, without_key);
    assert_eq!(
        other_key.body["error"]["code"],
        "account_session_already_claimed"
    );
}

// --- Misuse --------------------------------------------------------------------------------

#[tokio::test]
async fn the_same_key_with_other_parameters_is_an_idempotency_error() {
    // Arrange
    let app = spawn_app().await;
    app.post_idempotent("/v1/accounts", &app.platform.secret, "abc", "type=custom")
        .await
        .ok();

    // Act
    let response = app
        .post_idempotent("/v1/accounts", &app.platform.secret, "abc", "type=express")
        .await;

    // Assert: Stripe's text, byte for byte (stripe-behaviour.md §4), and nothing done.
    assert_eq!(
        response.message(),
        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'abc' if you meant to execute a different request."
    );
    assert_eq!(response.header("stripe-should-retry"), "false");
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "message": "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'abc' if you meant to execute a different request.",
          "type": "idempotency_error"
        }
      }
    }
    "#);
    assert_eq!(account_count(&app, &app.platform.secret).await, 1);
}

#[tokio::test]
async fn the_same_key_on_another_endpoint_is_an_idempotency_error() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            "985c7d9e",
            "email=jenny%40example.com",
        )
        .await
        .ok();
    let id = account["id"].as_str().unwrap();

    // Act
    let response = app
        .post_idempotent(
            &format!("/v1/accounts/{id}"),
            &app.platform.secret,
            "985c7d9e",
            "email=jenny%40example.com",
        )
        .await;

    // Assert
    assert_eq!(
        response.message(),
        format!(
            "Keys for idempotent requests can only be used for the same endpoint they were first used for ('/v1/accounts' vs '/v1/accounts/{id}'). Try using a key other than '985c7d9e' if you meant to execute a different request."
        )
    );
    insta::with_settings!({filters => vec![(r"acct_[A-Za-z0-9]{16}", "[account_id]")]}, {
        insta::assert_json_snapshot!(response.snapshot(), @r#"
        {
          "status": 400,
          "body": {
            "error": {
              "message": "Keys for idempotent requests can only be used for the same endpoint they were first used for ('/v1/accounts' vs '/v1/accounts/[account_id]'). Try using a key other than '985c7d9e' if you meant to execute a different request.",
              "type": "idempotency_error"
            }
          }
        }
        "#);
    });
}

#[tokio::test]
async fn a_key_in_flight_gets_409_until_its_lease_runs_out() {
    // Arrange: another request holds the key and is still executing.
    let app = spawn_app().await;
    hold_in_flight(&app, "770434815658t5litna").await;

    // Act
    let busy = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            "770434815658t5litna",
            "type=custom",
        )
        .await;

    // Assert: Stripe's body, with a retry hint.
    assert_eq!(busy.header("stripe-should-retry"), "true");
    assert_eq!(
        busy.body,
        json!({"error": {
            "code": "idempotency_key_in_use",
            "doc_url": "https://stripe.com/docs/error-codes/idempotency-key-in-use",
            "message": "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): 770434815658t5litna. Please try again later.",
            "type": "invalid_request_error"
        }})
    );
    insta::assert_json_snapshot!(busy.snapshot(), @r#"
    {
      "status": 409,
      "body": {
        "error": {
          "code": "idempotency_key_in_use",
          "doc_url": "https://stripe.com/docs/error-codes/idempotency-key-in-use",
          "message": "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): 770434815658t5litna. Please try again later.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(account_count(&app, &app.platform.secret).await, 0);

    // Still held a second before the lease ends …
    app.clock.advance(LEASE - Duration::from_secs(1));
    let still_busy = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            "770434815658t5litna",
            "type=custom",
        )
        .await;
    assert_eq!(still_busy.status, 409);

    // … and taken over once it has run out: that holder died.
    app.clock.advance(Duration::from_secs(2));
    let taken_over = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            "770434815658t5litna",
            "type=custom",
        )
        .await;
    assert_eq!(taken_over.status, 200, "{}", taken_over.body);
    assert!(!replayed(&taken_over));
    assert_eq!(
        taken_over.header("original-request"),
        taken_over.header("request-id")
    );
    let replay = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            "770434815658t5litna",
            "type=custom",
        )
        .await;
    assert!(replayed(&replay));
    assert_eq!(replay.body, taken_over.body);
    assert_eq!(account_count(&app, &app.platform.secret).await, 1);
}

#[tokio::test]
async fn two_concurrent_requests_with_one_key_execute_once() {
    // Arrange
    let app = spawn_app().await;
    let rounds = 20;

    for round in 0..rounds {
        // Act
        let key = format!("race-{round}");
        let (a, b) = tokio::join!(
            app.post_idempotent("/v1/accounts", &app.platform.secret, &key, "type=custom"),
            app.post_idempotent("/v1/accounts", &app.platform.secret, &key, "type=custom"),
        );

        // Assert: one executed; the other waited its turn (409) or replayed it.
        let (executed, other) = if replayed(&a) || a.status == 409 {
            (b, a)
        } else {
            (a, b)
        };
        assert_eq!(executed.status, 200, "{}", executed.body);
        assert!(!replayed(&executed));
        match other.status {
            409 => assert_eq!(other.body["error"]["code"], "idempotency_key_in_use"),
            200 => {
                assert!(replayed(&other), "both executed: {}", other.body);
                assert_eq!(other.body, executed.body);
            }
            status => panic!("unexpected {status}: {}", other.body),
        }
    }
    assert_eq!(account_count(&app, &app.platform.secret).await, rounds);
}

#[tokio::test]
async fn many_concurrent_requests_with_one_key_create_one_account() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let responses =
        join_all((0..20).map(|_| {
            app.post_idempotent("/v1/accounts", &app.platform.secret, "herd", "type=custom")
        }))
        .await;

    // Assert
    let executed: Vec<_> = responses
        .iter()
        .filter(|r| r.status == 200 && !replayed(r))
        .collect();
    assert_eq!(executed.len(), 1);
    for response in &responses {
        match response.status {
            200 => assert_eq!(response.body, executed[0].body),
            409 => assert_eq!(response.header("stripe-should-retry"), "true"),
            status => panic!("unexpected {status}: {}", response.body),
        }
    }
    assert_eq!(account_count(&app, &app.platform.secret).await, 1);
}

// --- What is saved -------------------------------------------------------------------------

#[tokio::test]
async fn requests_refused_before_execution_are_not_saved() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let session = format!("account={account}&{SEED_COMPONENTS}");
    let cases: Vec<(&str, &str, Option<String>, String, String)> = vec![
        (
            "unknown parameter",
            "/v1/accounts",
            Some(app.platform.secret.clone()),
            "type=custom&bogus=1".into(),
            "type=custom".into(),
        ),
        (
            "missing parameter",
            "/v1/account_sessions",
            Some(app.platform.secret.clone()),
            SEED_COMPONENTS.into(),
            session.clone(),
        ),
        (
            "invalid boolean",
            "/v1/account_sessions",
            Some(app.platform.secret.clone()),
            session.replace("=true", "=yes"),
            session.clone(),
        ),
        (
            "bad API key",
            "/v1/accounts",
            Some(format!("sk_test_{}", "x".repeat(99))),
            "type=custom".into(),
            "type=custom".into(),
        ),
        (
            "no API key",
            "/v1/accounts",
            None,
            "type=custom".into(),
            "type=custom".into(),
        ),
        (
            "publishable key",
            "/v1/accounts",
            Some(app.platform.publishable.clone()),
            "type=custom".into(),
            "type=custom".into(),
        ),
    ];

    for (index, (label, path, key, bad, good)) in cases.into_iter().enumerate() {
        let idempotency_key = format!("not-saved-{index}");
        let mut request = app
            .request(Method::POST, path)
            .header(CONTENT_TYPE, FORM)
            .header("idempotency-key", &idempotency_key)
            .body(bad);
        if let Some(key) = key {
            request = request.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        let refused = app.send(request).await;
        assert!(
            refused.status == 400 || refused.status == 401,
            "{label}: {}",
            refused.body
        );

        // Act: the client fixes the request and retries with the same key.
        let retry = app
            .post_idempotent(path, &app.platform.secret, &idempotency_key, &good)
            .await;

        // Assert
        assert_eq!(retry.status, 200, "{label}: {}", retry.body);
        assert!(!replayed(&retry), "{label}");
    }
}

#[tokio::test]
async fn a_json_body_is_refused_before_execution_and_not_saved() {
    // Arrange
    let app = spawn_app().await;
    let refused = app
        .send(
            app.request(Method::POST, "/v1/accounts")
                .header(AUTHORIZATION, format!("Bearer {}", app.platform.secret))
                .header(CONTENT_TYPE, "application/json")
                .header("idempotency-key", "json")
                .body(r#"{"type":"custom"}"#),
        )
        .await;

    // Act
    let retry = app
        .post_idempotent("/v1/accounts", &app.platform.secret, "json", "type=custom")
        .await;

    // Assert
    assert_eq!(refused.status, 400);
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert!(!replayed(&retry));
}

#[tokio::test]
async fn an_error_of_an_executed_request_is_saved_and_replayed() {
    // Arrange
    let app = spawn_app().await;
    let body = format!("account=acct_0000000000000000&{SEED_COMPONENTS}");
    let first = app
        .post_idempotent(
            "/v1/account_sessions",
            &app.platform.secret,
            "missing",
            &body,
        )
        .await;

    // Act
    let retry = app
        .post_idempotent(
            "/v1/account_sessions",
            &app.platform.secret,
            "missing",
            &body,
        )
        .await;

    // Assert
    assert_eq!(first.status, 400);
    assert_eq!(first.body["error"]["code"], "resource_missing");
    assert!(!replayed(&first));
    assert_eq!(retry.status, 400);
    assert_eq!(retry.body, first.body);
    assert!(replayed(&retry));
    assert_eq!(retry.header("stripe-should-retry"), "false");
    assert_eq!(retry.header("original-request"), first.header("request-id"));
    insta::assert_json_snapshot!(retry.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "resource_missing",
          "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
          "message": "No such account: 'acct_0000000000000000'",
          "param": "account",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn a_refused_claim_is_saved_too() {
    // Arrange: the secret was revoked, so a claim executes and fails.
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, SEED_COMPONENTS)
        .await;
    let body = format!("client_secret={secret}");
    app.post_form("/v1/account_sessions/revoke", &app.platform.secret, &body)
        .await
        .ok();
    let first = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "revoked",
            &body,
        )
        .await;

    // Act
    let retry = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "revoked",
            &body,
        )
        .await;

    // Assert
    assert_eq!(first.body["error"]["code"], "account_session_revoked");
    assert!(replayed(&retry));
    assert_eq!(retry.status, first.status);
    assert_eq!(retry.body, first.body);
}

// --- Keys ----------------------------------------------------------------------------------

#[tokio::test]
async fn keys_of_255_characters_are_accepted_and_longer_ones_refused() {
    // Arrange
    let app = spawn_app().await;
    let longest = "k".repeat(255);
    let too_long = "k".repeat(256);

    // Act
    let accepted = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            &longest,
            "type=custom",
        )
        .await;
    let replay = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            &longest,
            "type=custom",
        )
        .await;
    let refused = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            &too_long,
            "type=custom",
        )
        .await;

    // Assert
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert!(replayed(&replay));
    assert_eq!(replay.body, accepted.body);
    insta::assert_json_snapshot!(refused.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "message": "Idempotency keys can be at most 255 characters long, but the Idempotency-Key header sent has 256.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(account_count(&app, &app.platform.secret).await, 1);
}

#[tokio::test]
async fn a_key_is_scoped_to_its_platform_and_mode() {
    // Arrange
    let app = spawn_app().await;
    let first = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            "shared",
            "type=custom",
        )
        .await
        .ok();

    // Act
    let other_platform = app
        .post_idempotent(
            "/v1/accounts",
            &app.other_platform.secret,
            "shared",
            "type=custom",
        )
        .await;
    let other_mode = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.live_secret,
            "shared",
            "type=custom",
        )
        .await;
    let same = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            "shared",
            "type=custom",
        )
        .await;

    // Assert
    for response in [&other_platform, &other_mode] {
        assert_eq!(response.status, 200, "{}", response.body);
        assert!(!replayed(response));
        assert_ne!(response.body["id"], first["id"]);
    }
    assert!(replayed(&same));
    assert_eq!(same.body, first);
    assert_eq!(account_count(&app, &app.other_platform.secret).await, 1);
    assert_eq!(account_count(&app, &app.platform.live_secret).await, 1);
}

#[tokio::test]
async fn keys_used_from_the_browser_never_meet_the_platforms_keys() {
    // Arrange: the platform's backend used a key with its secret key.
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, SEED_COMPONENTS)
        .await;
    let backend = app
        .post_idempotent("/v1/accounts", &app.platform.secret, "k-1", "type=custom")
        .await
        .ok();

    // Act: the browser, holding only public or session-scoped keys, uses the same one.
    let claim = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "k-1",
            &format!("client_secret={secret}"),
        )
        .await;
    let em_key = claim.body["secret"].as_str().unwrap_or_default().to_owned();
    let update = app
        .post_idempotent("/v1/account", &em_key, "k-1", "email=jenny%40example.com")
        .await;

    // Assert: each executes on its own, and the error that would tell the
    // browser which endpoint the backend used the key on never appears.
    assert_eq!(claim.status, 200, "{}", claim.body);
    assert_eq!(update.status, 200, "{}", update.body);
    let replay = app
        .post_idempotent("/v1/accounts", &app.platform.secret, "k-1", "type=custom")
        .await;
    assert!(replayed(&replay));
    assert_eq!(replay.body, backend);
}

#[tokio::test]
async fn keys_are_kept_24_hours_then_pruned_and_the_key_executes_anew() {
    // Arrange
    let app = spawn_app().await;
    let first = app
        .post_idempotent("/v1/accounts", &app.platform.secret, "daily", "type=custom")
        .await
        .ok();
    app.clock.advance(RETENTION - Duration::from_secs(1));
    let kept = app
        .post_idempotent("/v1/accounts", &app.platform.secret, "daily", "type=custom")
        .await;
    assert!(replayed(&kept));
    assert_eq!(kept.body, first);

    // Act
    app.clock.advance(Duration::from_secs(2));
    let pruned = prune_once(app.store.as_ref(), &app.clock, &PruneSettings::default())
        .await
        .unwrap();
    let anew = app
        .post_idempotent("/v1/accounts", &app.platform.secret, "daily", "type=custom")
        .await;

    // Assert
    assert_eq!(pruned, 1);
    assert_eq!(anew.status, 200, "{}", anew.body);
    assert!(!replayed(&anew));
    assert_ne!(anew.body["id"], first["id"]);
    assert_eq!(account_count(&app, &app.platform.secret).await, 2);
}

#[tokio::test]
async fn a_key_past_retention_executes_anew_even_before_pruning_runs() {
    // Arrange
    let app = spawn_app().await;
    let first = app
        .post_idempotent("/v1/accounts", &app.platform.secret, "stale", "type=custom")
        .await
        .ok();
    app.clock.advance(RETENTION + Duration::from_secs(1));

    // Act
    let anew = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            "stale",
            "type=express",
        )
        .await;

    // Assert: a new request, so other parameters are no error either.
    assert_eq!(anew.status, 200, "{}", anew.body);
    assert!(!replayed(&anew));
    assert_ne!(anew.body["id"], first["id"]);
}

#[tokio::test]
async fn get_and_delete_ignore_the_idempotency_key_but_echo_it() {
    // Arrange
    let app = spawn_app().await;
    let id = app.create_account_of_type("custom").await;
    let path = format!("/v1/accounts/{id}");
    let with_key = |method: Method| {
        app.request(method, &path)
            .header(AUTHORIZATION, format!("Bearer {}", app.platform.secret))
            .header("idempotency-key", "read-key")
    };

    // Act
    let get_1 = app.send(with_key(Method::GET)).await;
    let get_2 = app.send(with_key(Method::GET)).await;
    let delete_1 = app.send(with_key(Method::DELETE)).await;
    let delete_2 = app.send(with_key(Method::DELETE)).await;
    let post = app
        .post_idempotent(
            "/v1/accounts",
            &app.platform.secret,
            "read-key",
            "type=custom",
        )
        .await;

    // Assert
    for response in [&get_1, &get_2, &delete_1, &delete_2] {
        assert_eq!(response.header("idempotency-key"), "read-key");
        assert!(!replayed(response));
    }
    assert_eq!(get_2.status, 200);
    assert_eq!(delete_1.body["deleted"], true);
    assert_eq!(delete_2.status, 403, "not a replay: {}", delete_2.body);
    assert_eq!(post.status, 200);
    assert!(!replayed(&post), "GET and DELETE did not take the key");
}

// --- Sealed answers ------------------------------------------------------------------------

#[tokio::test]
async fn a_copy_of_the_database_yields_no_client_secret_and_no_em_key() {
    // Arrange: an idempotent session create and an idempotent claim, both saved.
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let session_body = format!("account={account}&{SEED_COMPONENTS}");
    let created = app
        .post_idempotent(
            "/v1/account_sessions",
            &app.platform.secret,
            "sealed-create",
            &session_body,
        )
        .await
        .ok();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let claim_body = format!("client_secret={secret}");
    let claimed = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "sealed-claim",
            &claim_body,
        )
        .await
        .ok();
    let em_key = claimed["secret"].as_str().unwrap().to_owned();

    // Act: a server with the same database but other master keys.
    let stranger = app.spawn_sibling(Keyring::generate()).await;
    let replay_create = app
        .send(
            app.request_to(&stranger, Method::POST, "/v1/account_sessions")
                .header(AUTHORIZATION, format!("Bearer {}", app.platform.secret))
                .header(CONTENT_TYPE, FORM)
                .header("idempotency-key", "sealed-create")
                .body(session_body.clone()),
        )
        .await;
    let replay_claim = app
        .send(
            app.request_to(&stranger, Method::POST, "/v1/account_sessions/claim")
                .header(
                    AUTHORIZATION,
                    format!("Bearer {}", app.platform.publishable),
                )
                .header(CONTENT_TYPE, FORM)
                .header("idempotency-key", "sealed-claim")
                .body(claim_body.clone()),
        )
        .await;

    // Assert: it fails, generically, and gives away nothing.
    for response in [&replay_create, &replay_claim] {
        assert_eq!(response.status, 500, "{}", response.body);
        assert_eq!(response.header("stripe-should-retry"), "false");
        let text = response.body.to_string();
        assert!(!text.contains(&secret) && !text.contains(&em_key), "{text}");
    }
    insta::assert_json_snapshot!(replay_create.snapshot(), @r#"
    {
      "status": 500,
      "body": {
        "error": {
          "message": "An unexpected error occurred while handling this request. It may or may not have taken effect: check before retrying, or retry with the same Idempotency-Key.",
          "type": "api_error"
        }
      }
    }
    "#);
    // The server with the right keys still replays both.
    let replay_create = app
        .post_idempotent(
            "/v1/account_sessions",
            &app.platform.secret,
            "sealed-create",
            &session_body,
        )
        .await;
    assert_eq!(replay_create.body["client_secret"], secret.as_str());
    let replay_claim = app
        .post_idempotent(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            "sealed-claim",
            &claim_body,
        )
        .await;
    assert!(replayed(&replay_claim));
    assert_eq!(replay_claim.status, 200);
    assert!(replay_claim.body.get("secret").is_none());
    // Neither secret is anywhere in the database, whole or in part: not in
    // SQLite's files, not in any PostgreSQL row.
    let needles = [
        secret.as_str(),
        &secret["accs_secret__".len()..],
        em_key.as_str(),
        &em_key["em_test_".len()..],
    ];
    for (path, bytes) in app.database_bytes().await {
        for needle in needles {
            assert!(
                !contains_bytes(&bytes, needle.as_bytes()),
                "{path} holds a secret"
            );
        }
    }
}

#[tokio::test]
async fn a_saved_answer_opens_only_with_the_servers_keyring() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let created = app
        .post_idempotent(
            "/v1/account_sessions",
            &app.platform.secret,
            "sealed",
            &format!("account={account}&{SEED_COMPONENTS}"),
        )
        .await
        .ok();
    let secret = created["client_secret"].as_str().unwrap();
    let scope = IdempotencyScope {
        tenant: app.tenant_of(&app.platform.secret).await,
        realm: KeyRealm::Secret,
        key: IdempotencyKey::parse("sealed").unwrap().unwrap(),
    };

    // Act
    let sealed = app
        .database
        .bytes("select body from idempotency_keys where key = 'sealed'")
        .await;

    // Assert
    let opened = app.keyring.open(&sealed, &scope.seal_context()).unwrap();
    let saved: Value = serde_json::from_slice(&opened).unwrap();
    assert_eq!(saved, created);
    assert!(!contains_bytes(&sealed, secret.as_bytes()));
    assert!(
        Keyring::generate()
            .open(&sealed, &scope.seal_context())
            .is_none()
    );
    let other_scope = IdempotencyScope {
        key: IdempotencyKey::parse("other").unwrap().unwrap(),
        ..scope
    };
    assert!(
        app.keyring
            .open(&sealed, &other_scope.seal_context())
            .is_none(),
        "a sealed answer moved to another key's row must not open"
    );
}

#[tokio::test]
async fn the_stored_request_fingerprint_is_keyed() {
    // Arrange: two independent servers, each with its own master keys.
    let mut fingerprints = Vec::new();
    for _ in 0..2 {
        let app = spawn_app().await;
        let (_, key) = app
            .embedded_key_for("components[payouts][enabled]=true")
            .await;

        // Act: the same bank account, under the same idempotency key.
        app.post_idempotent(
            "/v1/account/external_accounts",
            &key,
            "bank-1",
            BANK_ACCOUNT,
        )
        .await
        .ok();
        let fingerprint = app
            .database
            .bytes("select fingerprint from idempotency_keys where key = 'bank-1'")
            .await;
        fingerprints.push(fingerprint);
    }

    // Assert: were it unkeyed, equal parameters would give equal stored
    // fingerprints anywhere, and anyone holding the database could test guesses
    // of the (low-entropy) account number against it, as the keyed bank-account
    // fingerprint is designed to prevent.
    assert_ne!(fingerprints[0], fingerprints[1]);
}
