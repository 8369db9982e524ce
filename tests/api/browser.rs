//! The browser side: the claim of a client secret (once) for an `em_` key, the
//! client-side API that key may call and nothing more, logout, revocation,
//! expiry, CORS, and the pruning of expired sessions.

use std::time::Duration;

use connect_sessions::keyring::{Keyring, MasterKey};
use connect_sessions::maintenance::{PruneSettings, prune_once};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::json;

use crate::helpers::{
    DEFAULT_TTL_SECS, Exchange, FORM, SEED_COMPONENTS, START, TestApp, bank_account_id,
    contains_bytes, embedded_key, embedded_message_filters, embedded_session_id, exactly,
    external_accounts_url, is_embedded_key, join_all, mask, spawn_app,
};

/// Account onboarding: reads and edits the account, collects bank accounts.
const ONBOARDING: &str = "components[account_onboarding][enabled]=true";
/// Account management: as onboarding.
const MANAGEMENT: &str = "components[account_management][enabled]=true";
/// The notification banner: reads the account (and collects bank accounts, by default).
const BANNER: &str = "components[notification_banner][enabled]=true";
/// Payments: nothing of the client-side account API.
const PAYMENTS: &str = "components[payments][enabled]=true";
/// Payouts, with `external_account_collection` at its default (true).
const PAYOUTS: &str = "components[payouts][enabled]=true";
/// Payouts without bank-account collection.
const PAYOUTS_WITHOUT_COLLECTION: &str = "components[payouts][enabled]=true\
    &components[payouts][features][external_account_collection]=false";
/// Onboarding named but disabled.
const ONBOARDING_DISABLED: &str = "components[account_onboarding][enabled]=false";

/// The account number of every bank account these tests attach: distinctive
/// enough that finding it in a file cannot be chance.
const ACCOUNT_NUMBER: &str = "987654321012";
/// A US bank account as Connect.js would post it.
const BANK_ACCOUNT: &str = "country=US&currency=usd&account_holder_name=Jenny+Rosen\
    &routing_number=110000000&account_number=987654321012";

/// A well-formed client secret that no session has.
const UNKNOWN_SECRET: &str = "accs_secret__AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// `GET path` with an `em_` key (Bearer).
async fn em_get(app: &TestApp, path: &str, key: &str) -> crate::helpers::TestResponse {
    app.get(path, key).await
}

/// Calls every client-side endpoint once with `key` and records what came back:
/// the object's type for a 200, the error object otherwise.
async fn access_rows(app: &TestApp, key: &str) -> Vec<Exchange> {
    let mut rows = Vec::new();
    let calls: [(Method, &str, &str); 6] = [
        (Method::GET, "/v1/embedded_session", ""),
        (Method::GET, "/v1/account", ""),
        (Method::POST, "/v1/account", "email=jenny%40example.com"),
        (Method::GET, "/v1/account/external_accounts", ""),
        (Method::POST, "/v1/account/external_accounts", BANK_ACCOUNT),
        (
            Method::DELETE,
            "/v1/account/external_accounts/ba_0000000000000000",
            "",
        ),
    ];
    for (method, path, body) in calls {
        let mut request = app
            .request(method.clone(), path)
            .header(AUTHORIZATION, format!("Bearer {key}"));
        if method == Method::POST {
            request = request.header(CONTENT_TYPE, FORM).body(body.to_owned());
        }
        let response = app.send(request).await;
        let answer = if response.status == 200 {
            response.body["object"].clone()
        } else {
            response.body["error"].clone()
        };
        rows.push(Exchange {
            request: format!("{method} {path}"),
            status: response.status,
            answer,
        });
    }
    rows
}

/// The statuses of [`access_rows`], by request.
fn statuses(rows: &[Exchange]) -> Vec<(String, u16)> {
    rows.iter()
        .map(|row| (row.request.clone(), row.status))
        .collect()
}

// --- The claim --------------------------------------------------------------------------

#[tokio::test]
async fn claiming_a_client_secret_returns_an_embedded_session_with_a_new_em_key() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, created) = app
        .create_session(&app.platform.secret, &account, SEED_COMPONENTS)
        .await;

    // Act
    let response = app.claim(&app.platform.publishable, &secret).await;

    // Assert
    assert_eq!(response.body["components"], created["components"]);
    let key = response.body["secret"].as_str().unwrap();
    assert!(key.starts_with("em_test_") && is_embedded_key(key), "{key}");
    insta::assert_json_snapshot!(response.snapshot(), {
        ".body.id" => embedded_session_id(),
        ".body.account" => exactly(account.as_str(), "[account_id]"),
        ".body.components" => "[components as created]",
        ".body.expires_at" => exactly(START + DEFAULT_TTL_SECS, "[START + 30 min]"),
        ".body.secret" => embedded_key(),
    }, @r#"
    {
      "status": 200,
      "body": {
        "account": "[account_id]",
        "components": "[components as created]",
        "expires_at": "[START + 30 min]",
        "id": "[embedded_session_id]",
        "livemode": false,
        "object": "embedded_session",
        "secret": "[em_key]"
      }
    }
    "#);
}

#[tokio::test]
async fn a_claim_may_authenticate_with_basic_auth_as_well() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;

    // Act
    let response = app
        .send(
            app.request(Method::POST, "/v1/account_sessions/claim")
                .basic_auth(&app.platform.publishable, None::<&str>)
                .header(CONTENT_TYPE, FORM)
                .body(format!("client_secret={secret}")),
        )
        .await;

    // Assert
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(is_embedded_key(response.body["secret"].as_str().unwrap()));
}

#[tokio::test]
async fn a_second_claim_of_the_same_secret_is_refused_as_already_claimed() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    app.claim_key(&app.platform.publishable, &secret).await;

    // Act
    let response = app.claim(&app.platform.publishable, &secret).await;

    // Assert
    assert_eq!(response.header("stripe-should-retry"), "false");
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "account_session_already_claimed",
          "message": "This account session's client secret has already been claimed. Client secrets are single-use: create a new account session for every page load.",
          "param": "client_secret",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn a_claim_at_the_sessions_expiry_is_refused_as_expired_but_a_second_before_succeeds() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (early, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let (late, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;

    // Act
    app.clock
        .advance(Duration::from_secs((DEFAULT_TTL_SECS - 1) as u64));
    let in_time = app.claim(&app.platform.publishable, &early).await;
    app.clock.advance(Duration::from_secs(1));
    let too_late = app.claim(&app.platform.publishable, &late).await;

    // Assert
    assert_eq!(in_time.status, 200, "{}", in_time.body);
    insta::assert_json_snapshot!(too_late.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "account_session_expired",
          "message": "This account session has expired. Create a new account session and claim its client secret.",
          "param": "client_secret",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn a_claim_of_a_revoked_session_is_refused_as_revoked() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let revoked = app
        .post_form(
            "/v1/account_sessions/revoke",
            &app.platform.secret,
            &format!("client_secret={secret}"),
        )
        .await;

    // Act
    let response = app.claim(&app.platform.publishable, &secret).await;

    // Assert
    insta::assert_json_snapshot!(revoked.snapshot(), {
        ".body.account" => exactly(account.as_str(), "[account_id]"),
        ".body.components" => "[components as created]",
        ".body.expires_at" => exactly(START + DEFAULT_TTL_SECS, "[START + 30 min]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "account": "[account_id]",
        "claimed": false,
        "components": "[components as created]",
        "expires_at": "[START + 30 min]",
        "livemode": false,
        "object": "account_session",
        "revoked": true
      }
    }
    "#);
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "account_session_revoked",
          "message": "This account session has been revoked by the platform. Create a new account session and claim its client secret.",
          "param": "client_secret",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn malformed_unknown_other_platforms_and_other_modes_secrets_all_get_the_same_resource_missing()
 {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (test_secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let other_account = app
        .create_account_id(&app.other_platform.secret, "type=custom")
        .await;
    let (other_platforms, _) = app
        .create_session(&app.other_platform.secret, &other_account, ONBOARDING)
        .await;
    let live_account = app
        .create_account_id(&app.platform.live_secret, "type=custom")
        .await;
    let (live_secret, _) = app
        .create_session(&app.platform.live_secret, &live_account, ONBOARDING)
        .await;
    let cases: [(&str, &str, &str); 8] = [
        ("malformed", &app.platform.publishable, "nonsense"),
        (
            "malformed: too short",
            &app.platform.publishable,
            "accs_secret__abc",
        ),
        (
            "malformed: empty-ish",
            &app.platform.publishable,
            "accs_secret__",
        ),
        ("unknown", &app.platform.publishable, UNKNOWN_SECRET),
        (
            "the other platform's",
            &app.platform.publishable,
            &other_platforms,
        ),
        (
            "a live secret with the test key",
            &app.platform.publishable,
            &live_secret,
        ),
        (
            "a test secret with the live key",
            &app.platform.live_publishable,
            &test_secret,
        ),
        (
            "a secret with the other platform's key",
            &app.other_platform.publishable,
            &test_secret,
        ),
    ];

    // Act
    let mut rows = Vec::new();
    for (label, pk, secret) in cases {
        let response = app.claim(pk, secret).await;
        rows.push(Exchange {
            request: label.to_owned(),
            status: response.status,
            answer: response.body,
        });
    }

    // Assert: one answer for all, so nobody learns whether a secret ever existed.
    let first = json!({"status": rows[0].status, "body": rows[0].answer});
    for row in &rows {
        assert_eq!(
            json!({"status": row.status, "body": row.answer}),
            first,
            "{}",
            row.request
        );
    }
    insta::assert_json_snapshot!(first, @r#"
    {
      "body": {
        "error": {
          "code": "resource_missing",
          "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
          "message": "No such account session: no session matches this client secret.",
          "param": "client_secret",
          "type": "invalid_request_error"
        }
      },
      "status": 400
    }
    "#);
    // … and none of those refusals used up the secrets they named.
    for (pk, secret) in [
        (&app.platform.publishable, &test_secret),
        (&app.other_platform.publishable, &other_platforms),
        (&app.platform.live_publishable, &live_secret),
    ] {
        assert_eq!(app.claim(pk, secret).await.status, 200);
    }
}

#[tokio::test]
async fn a_claim_with_a_secret_key_is_refused_with_publishable_key_required() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;

    // Act
    let response = app.claim(&app.platform.secret, &secret).await;

    // Assert: refused before the secret was looked at, so it is still claimable.
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 401,
      "body": {
        "error": {
          "code": "publishable_key_required",
          "message": "This API call must be made with a publishable API key (pk_test_… or pk_live_…): it runs in the browser, where a secret key must never be.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(
        app.claim(&app.platform.publishable, &secret).await.status,
        200
    );
}

#[tokio::test]
async fn a_claim_with_an_embedded_session_key_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let (account, key) = app.embedded_key_for(ONBOARDING).await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;

    // Act
    let response = app.claim(&key, &secret).await;

    // Assert: a permission error, and the secret is still claimable.
    assert_eq!(response.status, 403, "{}", response.body);
    assert_eq!(response.body["error"]["type"], "invalid_request_error");
    assert!(
        response
            .message()
            .starts_with(&format!("The provided key '{}' does not have the required permissions for this endpoint on account '{account}'.", mask(&key))),
        "{}",
        response.body
    );
    assert_eq!(
        app.claim(&app.platform.publishable, &secret).await.status,
        200
    );
}

#[tokio::test]
async fn a_claim_with_an_embedded_session_key_is_told_to_use_a_publishable_key() {
    // Arrange
    let app = spawn_app().await;
    let (account, key) = app.embedded_key_for(ONBOARDING).await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;

    // Act
    let response = app.claim(&key, &secret).await;

    // Assert: the claim runs in the browser, so the remedy is the publishable
    // key, never "call this endpoint from your server with a secret key".
    assert_eq!(response.status, 403);
    let message = response.message();
    assert!(message.contains("publishable"), "{message}");
    assert!(!message.contains("secret key"), "{message}");
}

#[tokio::test]
async fn a_claim_without_a_key_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;

    // Act
    let response = app
        .send(
            app.request(Method::POST, "/v1/account_sessions/claim")
                .header(CONTENT_TYPE, FORM)
                .body(format!("client_secret={secret}")),
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 401,
      "body": {
        "error": {
          "message": "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn a_claim_without_a_client_secret_names_the_missing_parameter() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_form("/v1/account_sessions/claim", &app.platform.publishable, "")
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "parameter_missing",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-missing",
          "message": "Missing required param: client_secret.",
          "param": "client_secret",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn fifty_concurrent_claims_of_one_secret_succeed_exactly_once() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;

    // Act: fifty requests in flight at once.
    let responses = join_all((0..50).map(|_| app.claim(&app.platform.publishable, &secret))).await;

    // Assert
    let winners: Vec<_> = responses.iter().filter(|r| r.status == 200).collect();
    assert_eq!(winners.len(), 1);
    for response in responses.iter().filter(|r| r.status != 200) {
        assert_eq!(response.status, 400, "{}", response.body);
        assert_eq!(
            response.body["error"]["code"], "account_session_already_claimed",
            "{}",
            response.body
        );
    }
    let key = winners[0].body["secret"].as_str().unwrap();
    assert_eq!(em_get(&app, "/v1/embedded_session", key).await.status, 200);
}

// --- The client-side API ----------------------------------------------------------------

#[tokio::test]
async fn the_embedded_session_is_shown_to_its_key_without_the_secret() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, created) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let claimed = app.claim(&app.platform.publishable, &secret).await.ok();
    let key = claimed["secret"].as_str().unwrap();

    // Act
    let response = em_get(&app, "/v1/embedded_session", key).await;

    // Assert
    assert_eq!(response.body["id"], claimed["id"]);
    assert_eq!(response.body["components"], created["components"]);
    assert!(!response.body.to_string().contains(key));
    insta::assert_json_snapshot!(response.snapshot(), {
        ".body.id" => embedded_session_id(),
        ".body.account" => exactly(account.as_str(), "[account_id]"),
        ".body.components" => "[components as created]",
        ".body.expires_at" => exactly(START + DEFAULT_TTL_SECS, "[START + 30 min]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "account": "[account_id]",
        "components": "[components as created]",
        "expires_at": "[START + 30 min]",
        "id": "[embedded_session_id]",
        "livemode": false,
        "object": "embedded_session"
      }
    }
    "#);
}

#[tokio::test]
async fn account_onboarding_and_account_management_grant_the_whole_client_side_api() {
    // Arrange
    let app = spawn_app().await;
    let (_, onboarding) = app.embedded_key_for(ONBOARDING).await;
    let (_, management) = app.embedded_key_for(MANAGEMENT).await;

    // Act
    let onboarding_rows = access_rows(&app, &onboarding).await;
    let management_rows = access_rows(&app, &management).await;

    // Assert: the unknown bank account's 404 shows the request got past the
    // permission check.
    assert_eq!(onboarding_rows, management_rows);
    insta::assert_json_snapshot!(onboarding_rows, @r#"
    [
      {
        "request": "GET /v1/embedded_session",
        "status": 200,
        "answer": "embedded_session"
      },
      {
        "request": "GET /v1/account",
        "status": 200,
        "answer": "account"
      },
      {
        "request": "POST /v1/account",
        "status": 200,
        "answer": "account"
      },
      {
        "request": "GET /v1/account/external_accounts",
        "status": 200,
        "answer": "list"
      },
      {
        "request": "POST /v1/account/external_accounts",
        "status": 200,
        "answer": "bank_account"
      },
      {
        "request": "DELETE /v1/account/external_accounts/ba_0000000000000000",
        "status": 404,
        "answer": {
          "code": "resource_missing",
          "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
          "message": "No such external account: 'ba_0000000000000000'",
          "param": "id",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn the_notification_banner_reads_the_account_but_may_not_edit_it() {
    // Arrange
    let app = spawn_app().await;
    let (_, key) = app.embedded_key_for(BANNER).await;

    // Act
    let rows = access_rows(&app, &key).await;

    // Assert
    let _filters = embedded_message_filters();
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "GET /v1/embedded_session",
        "status": 200,
        "answer": "embedded_session"
      },
      {
        "request": "GET /v1/account",
        "status": 200,
        "answer": "account"
      },
      {
        "request": "POST /v1/account",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Enabling the 'account_management' or 'account_onboarding' component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "GET /v1/account/external_accounts",
        "status": 200,
        "answer": "list"
      },
      {
        "request": "POST /v1/account/external_accounts",
        "status": 200,
        "answer": "bank_account"
      },
      {
        "request": "DELETE /v1/account/external_accounts/ba_0000000000000000",
        "status": 404,
        "answer": {
          "code": "resource_missing",
          "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
          "message": "No such external account: 'ba_0000000000000000'",
          "param": "id",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn payments_grant_nothing_of_the_account_api() {
    // Arrange
    let app = spawn_app().await;
    let (_, key) = app.embedded_key_for(PAYMENTS).await;

    // Act
    let rows = access_rows(&app, &key).await;

    // Assert
    let _filters = embedded_message_filters();
    insta::assert_json_snapshot!(rows, @r#"
    [
      {
        "request": "GET /v1/embedded_session",
        "status": 200,
        "answer": "embedded_session"
      },
      {
        "request": "GET /v1/account",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Enabling the 'account_management', 'account_onboarding' or 'notification_banner' component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "POST /v1/account",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Enabling the 'account_management' or 'account_onboarding' component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "GET /v1/account/external_accounts",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Having the 'external_account_collection' feature set to true on an enabled component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "POST /v1/account/external_accounts",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Having the 'external_account_collection' feature set to true on an enabled component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "DELETE /v1/account/external_accounts/ba_0000000000000000",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Having the 'external_account_collection' feature set to true on an enabled component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn payouts_grant_bank_accounts_only_while_external_account_collection_is_true() {
    // Arrange
    let app = spawn_app().await;
    let (_, with) = app.embedded_key_for(PAYOUTS).await;
    let (_, without) = app.embedded_key_for(PAYOUTS_WITHOUT_COLLECTION).await;

    // Act
    let with_rows = access_rows(&app, &with).await;
    let without_rows = access_rows(&app, &without).await;

    // Assert
    let _filters = embedded_message_filters();
    insta::assert_json_snapshot!(statuses(&with_rows), @r#"
    [
      [
        "GET /v1/embedded_session",
        200
      ],
      [
        "GET /v1/account",
        403
      ],
      [
        "POST /v1/account",
        403
      ],
      [
        "GET /v1/account/external_accounts",
        200
      ],
      [
        "POST /v1/account/external_accounts",
        200
      ],
      [
        "DELETE /v1/account/external_accounts/ba_0000000000000000",
        404
      ]
    ]
    "#);
    insta::assert_json_snapshot!(without_rows, @r#"
    [
      {
        "request": "GET /v1/embedded_session",
        "status": 200,
        "answer": "embedded_session"
      },
      {
        "request": "GET /v1/account",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Enabling the 'account_management', 'account_onboarding' or 'notification_banner' component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "POST /v1/account",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Enabling the 'account_management' or 'account_onboarding' component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "GET /v1/account/external_accounts",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Having the 'external_account_collection' feature set to true on an enabled component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "POST /v1/account/external_accounts",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Having the 'external_account_collection' feature set to true on an enabled component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      },
      {
        "request": "DELETE /v1/account/external_accounts/ba_0000000000000000",
        "status": 403,
        "answer": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Having the 'external_account_collection' feature set to true on an enabled component would allow this request to continue.",
          "type": "invalid_request_error"
        }
      }
    ]
    "#);
}

#[tokio::test]
async fn a_disabled_component_grants_nothing() {
    // Arrange
    let app = spawn_app().await;
    let (_, key) = app
        .embedded_key_for(&format!("{ONBOARDING_DISABLED}&{PAYMENTS}"))
        .await;

    // Act
    let rows = access_rows(&app, &key).await;

    // Assert
    insta::assert_json_snapshot!(statuses(&rows), @r#"
    [
      [
        "GET /v1/embedded_session",
        200
      ],
      [
        "GET /v1/account",
        403
      ],
      [
        "POST /v1/account",
        403
      ],
      [
        "GET /v1/account/external_accounts",
        403
      ],
      [
        "POST /v1/account/external_accounts",
        403
      ],
      [
        "DELETE /v1/account/external_accounts/ba_0000000000000000",
        403
      ]
    ]
    "#);
}

#[tokio::test]
async fn the_account_as_its_session_sees_it_hides_the_platforms_metadata() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .create_account_id(
            &app.platform.secret,
            "type=custom&country=US&email=jenny%40example.com\
             &metadata[internal_risk]=high&business_profile[name]=Jenny%27s",
        )
        .await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, BANNER)
        .await;
    let key = app.claim_key(&app.platform.publishable, &secret).await;

    // Act
    let own = em_get(&app, "/v1/account", &key).await;
    let platforms = app
        .get(&format!("/v1/accounts/{account}"), &app.platform.secret)
        .await
        .ok();

    // Assert
    assert_eq!(platforms["metadata"], json!({"internal_risk": "high"}));
    assert!(own.body.get("metadata").is_none(), "{}", own.body);
    assert!(!own.body.to_string().contains("internal_risk"));
    insta::assert_json_snapshot!(own.snapshot(), {
        ".body.external_accounts.url" => external_accounts_url(),
        ".body.id" => exactly(account.as_str(), "[account_id]"),
        ".body.created" => exactly(START, "[START]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "business_profile": {
          "annual_revenue": null,
          "estimated_worker_count": null,
          "mcc": null,
          "minority_owned_business_designation": null,
          "name": "Jenny's",
          "product_description": null,
          "support_address": null,
          "support_email": null,
          "support_phone": null,
          "support_url": null,
          "url": null
        },
        "business_type": null,
        "capabilities": {},
        "charges_enabled": false,
        "controller": {
          "fees": {
            "payer": "application_custom"
          },
          "is_controller": true,
          "losses": {
            "payments": "application"
          },
          "requirement_collection": "application",
          "stripe_dashboard": {
            "type": "none"
          },
          "type": "application"
        },
        "country": "US",
        "created": "[START]",
        "default_currency": "usd",
        "details_submitted": false,
        "email": "jenny@example.com",
        "external_accounts": {
          "data": [],
          "has_more": false,
          "object": "list",
          "total_count": 0,
          "url": "/v1/accounts/[account_id]/external_accounts"
        },
        "future_requirements": {
          "alternatives": [],
          "current_deadline": null,
          "currently_due": [],
          "disabled_reason": null,
          "errors": [],
          "eventually_due": [],
          "past_due": [],
          "pending_verification": []
        },
        "id": "[account_id]",
        "object": "account",
        "payouts_enabled": false,
        "requirements": {
          "alternatives": [
            {
              "alternative_fields_due": [
                "business_profile.product_description"
              ],
              "original_fields_due": [
                "business_profile.url"
              ]
            }
          ],
          "current_deadline": null,
          "currently_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "disabled_reason": "requirements.past_due",
          "errors": [],
          "eventually_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "past_due": [
            "business_profile.mcc",
            "business_profile.url",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "pending_verification": []
        },
        "settings": {
          "bacs_debit_payments": {
            "display_name": null,
            "service_user_number": null
          },
          "branding": {
            "icon": null,
            "logo": null,
            "primary_color": null,
            "secondary_color": null
          },
          "card_issuing": {
            "tos_acceptance": {
              "date": null,
              "ip": null
            }
          },
          "card_payments": {
            "decline_on": {
              "avs_failure": false,
              "cvc_failure": false
            },
            "statement_descriptor_prefix": null,
            "statement_descriptor_prefix_kana": null,
            "statement_descriptor_prefix_kanji": null
          },
          "dashboard": {
            "display_name": "Jenny's",
            "timezone": "Etc/UTC"
          },
          "invoices": {
            "default_account_tax_ids": null,
            "hosted_payment_method_save": "always"
          },
          "payments": {
            "statement_descriptor": null,
            "statement_descriptor_kana": null,
            "statement_descriptor_kanji": null
          },
          "payouts": {
            "debit_negative_balances": false,
            "schedule": {
              "delay_days": 2,
              "interval": "daily"
            },
            "statement_descriptor": null
          },
          "sepa_debit_payments": {}
        },
        "tos_acceptance": {
          "date": null,
          "ip": null,
          "user_agent": null
        },
        "type": "custom"
      }
    }
    "#);
}

#[tokio::test]
async fn the_account_can_update_its_email_and_business_profile_and_the_platform_sees_it() {
    // Arrange
    let app = spawn_app().await;
    let (account, key) = app.embedded_key_for(MANAGEMENT).await;

    // Act
    let response = app
        .post_form(
            "/v1/account",
            &key,
            "email=new%40example.com&business_profile[name]=Rosen+Bikes\
             &business_profile[url]=https%3A%2F%2Fbikes.example.com",
        )
        .await;
    let refused = app.post_form("/v1/account", &key, "metadata[a]=b").await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), {
        ".body.external_accounts.url" => external_accounts_url(),
        ".body.id" => exactly(account.as_str(), "[account_id]"),
        ".body.created" => exactly(START, "[START]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "business_profile": {
          "annual_revenue": null,
          "estimated_worker_count": null,
          "mcc": null,
          "minority_owned_business_designation": null,
          "name": "Rosen Bikes",
          "product_description": null,
          "support_address": null,
          "support_email": null,
          "support_phone": null,
          "support_url": null,
          "url": "https://bikes.example.com"
        },
        "business_type": null,
        "capabilities": {},
        "charges_enabled": false,
        "controller": {
          "fees": {
            "payer": "application_custom"
          },
          "is_controller": true,
          "losses": {
            "payments": "application"
          },
          "requirement_collection": "application",
          "stripe_dashboard": {
            "type": "none"
          },
          "type": "application"
        },
        "country": "US",
        "created": "[START]",
        "default_currency": "usd",
        "details_submitted": false,
        "email": "new@example.com",
        "external_accounts": {
          "data": [],
          "has_more": false,
          "object": "list",
          "total_count": 0,
          "url": "/v1/accounts/[account_id]/external_accounts"
        },
        "future_requirements": {
          "alternatives": [],
          "current_deadline": null,
          "currently_due": [],
          "disabled_reason": null,
          "errors": [],
          "eventually_due": [],
          "past_due": [],
          "pending_verification": []
        },
        "id": "[account_id]",
        "object": "account",
        "payouts_enabled": false,
        "requirements": {
          "alternatives": [],
          "current_deadline": null,
          "currently_due": [
            "business_profile.mcc",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "disabled_reason": "requirements.past_due",
          "errors": [],
          "eventually_due": [
            "business_profile.mcc",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "past_due": [
            "business_profile.mcc",
            "business_type",
            "external_account",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "tos_acceptance.date",
            "tos_acceptance.ip"
          ],
          "pending_verification": []
        },
        "settings": {
          "bacs_debit_payments": {
            "display_name": null,
            "service_user_number": null
          },
          "branding": {
            "icon": null,
            "logo": null,
            "primary_color": null,
            "secondary_color": null
          },
          "card_issuing": {
            "tos_acceptance": {
              "date": null,
              "ip": null
            }
          },
          "card_payments": {
            "decline_on": {
              "avs_failure": false,
              "cvc_failure": false
            },
            "statement_descriptor_prefix": null,
            "statement_descriptor_prefix_kana": null,
            "statement_descriptor_prefix_kanji": null
          },
          "dashboard": {
            "display_name": "Rosen Bikes",
            "timezone": "Etc/UTC"
          },
          "invoices": {
            "default_account_tax_ids": null,
            "hosted_payment_method_save": "always"
          },
          "payments": {
            "statement_descriptor": null,
            "statement_descriptor_kana": null,
            "statement_descriptor_kanji": null
          },
          "payouts": {
            "debit_negative_balances": false,
            "schedule": {
              "delay_days": 2,
              "interval": "daily"
            },
            "statement_descriptor": null
          },
          "sepa_debit_payments": {}
        },
        "tos_acceptance": {
          "date": null,
          "ip": null,
          "user_agent": null
        },
        "type": "custom"
      }
    }
    "#);
    insta::assert_json_snapshot!(refused.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameter: metadata",
          "param": "metadata",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    let platforms = app
        .get(&format!("/v1/accounts/{account}"), &app.platform.secret)
        .await
        .ok();
    assert_eq!(platforms["email"], "new@example.com");
    assert_eq!(platforms["business_profile"]["name"], "Rosen Bikes");
}

// --- Bank accounts ----------------------------------------------------------------------

#[tokio::test]
async fn a_bank_account_is_stored_only_as_last4_and_a_fingerprint() {
    // Arrange
    let app = spawn_app().await;
    let (account, key) = app.embedded_key_for(PAYOUTS).await;

    // Act
    let response = app
        .post_form("/v1/account/external_accounts", &key, BANK_ACCOUNT)
        .await;

    // Assert
    assert!(!response.body.to_string().contains(ACCOUNT_NUMBER));
    let fingerprint = response.body["fingerprint"].as_str().unwrap();
    assert!(
        fingerprint.len() >= 16 && !fingerprint.contains(ACCOUNT_NUMBER),
        "{fingerprint}"
    );
    insta::assert_json_snapshot!(response.snapshot(), {
        ".body.id" => bank_account_id(),
        ".body.account" => exactly(account.as_str(), "[account_id]"),
        ".body.fingerprint" => "[fingerprint]",
    }, @r#"
    {
      "status": 200,
      "body": {
        "account": "[account_id]",
        "account_holder_name": "Jenny Rosen",
        "account_holder_type": null,
        "account_type": null,
        "available_payout_methods": [
          "standard",
          "instant"
        ],
        "bank_name": "STRIPE TEST BANK",
        "country": "US",
        "currency": "usd",
        "default_for_currency": true,
        "fingerprint": "[fingerprint]",
        "future_requirements": {
          "currently_due": [],
          "errors": [],
          "past_due": [],
          "pending_verification": []
        },
        "id": "[bank_account_id]",
        "last4": "1012",
        "metadata": {},
        "object": "bank_account",
        "requirements": {
          "currently_due": [],
          "errors": [],
          "past_due": [],
          "pending_verification": []
        },
        "routing_number": "110000000",
        "status": "new"
      }
    }
    "#);
    // The full number is nowhere in the database: not in SQLite's files, not in
    // any PostgreSQL row.
    for (path, bytes) in app.database_bytes().await {
        assert!(
            !contains_bytes(&bytes, ACCOUNT_NUMBER.as_bytes()),
            "{path} holds the full account number"
        );
    }
}

#[tokio::test]
async fn the_same_bank_account_twice_is_refused_however_it_is_typed() {
    // Arrange
    let app = spawn_app().await;
    let (_, key) = app.embedded_key_for(PAYOUTS).await;
    app.post_form("/v1/account/external_accounts", &key, BANK_ACCOUNT)
        .await
        .ok();

    // Act
    let duplicate = app
        .post_form("/v1/account/external_accounts", &key, BANK_ACCOUNT)
        .await;
    let spaced = app
        .post_form(
            "/v1/account/external_accounts",
            &key,
            &BANK_ACCOUNT.replace(ACCOUNT_NUMBER, "9876+5432+1012"),
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(duplicate.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "bank_account_exists",
          "doc_url": "https://stripe.com/docs/error-codes/bank-account-exists",
          "message": "A bank account with that routing number and account number already exists for this account.",
          "param": "account_number",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(spaced.status, 400);
    assert_eq!(spaced.body, duplicate.body);
}

#[tokio::test]
async fn the_same_bank_account_is_still_a_duplicate_after_the_master_keys_rotate() {
    // Arrange: a bank account attached under the original master key.
    let app = spawn_app().await;
    let (_, key) = app.embedded_key_for(PAYOUTS).await;
    app.post_form("/v1/account/external_accounts", &key, BANK_ACCOUNT)
        .await
        .ok();
    // The documented rotation: a new key prepended, the old one kept.
    let mut keys = vec![MasterKey::generate()];
    keys.extend(app.keyring.keys().iter().cloned());
    let rotated = app.spawn_sibling(Keyring::new(keys).unwrap()).await;

    // Act: the same bank account, through the server with the rotated keys.
    let again = app
        .send(
            app.request_to(&rotated, Method::POST, "/v1/account/external_accounts")
                .header(AUTHORIZATION, format!("Bearer {key}"))
                .header(CONTENT_TYPE, FORM)
                .body(BANK_ACCOUNT),
        )
        .await;

    // Assert: still the same bank account, as Stripe's fingerprints are stable.
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(again.body["error"]["code"], "bank_account_exists");
}

#[tokio::test]
async fn bank_accounts_are_listed_to_the_browser_and_to_the_platform() {
    // Arrange
    let app = spawn_app().await;
    let (account, key) = app.embedded_key_for(ONBOARDING).await;
    let first = app
        .post_form("/v1/account/external_accounts", &key, BANK_ACCOUNT)
        .await
        .ok();
    app.clock.advance(Duration::from_secs(1));
    let second = app
        .post_form(
            "/v1/account/external_accounts",
            &key,
            "country=DE&currency=eur&account_number=DE89370400440532013000",
        )
        .await
        .ok();

    // Act
    let own = em_get(&app, "/v1/account/external_accounts", &key).await;
    let platforms = app
        .get(
            &format!("/v1/accounts/{account}/external_accounts"),
            &app.platform.secret,
        )
        .await;
    let other_platform = app
        .get(
            &format!("/v1/accounts/{account}/external_accounts"),
            &app.other_platform.secret,
        )
        .await;

    // Assert: newest first, the same objects for both, never a full number.
    assert_eq!(own.body["data"], json!([second, first]));
    assert_eq!(platforms.body["data"], own.body["data"]);
    assert!(!own.body.to_string().contains(ACCOUNT_NUMBER));
    assert!(!own.body.to_string().contains("DE89370400440532013000"));
    assert_eq!(
        platforms.body["url"],
        format!("/v1/accounts/{account}/external_accounts")
    );
    insta::assert_json_snapshot!(own.snapshot(), {
        ".body.data[].id" => bank_account_id(),
        ".body.data[].account" => exactly(account.as_str(), "[account_id]"),
        ".body.data[].fingerprint" => "[fingerprint]",
    }, @r#"
    {
      "status": 200,
      "body": {
        "data": [
          {
            "account": "[account_id]",
            "account_holder_name": null,
            "account_holder_type": null,
            "account_type": null,
            "available_payout_methods": [
              "standard",
              "instant"
            ],
            "bank_name": null,
            "country": "DE",
            "currency": "eur",
            "default_for_currency": true,
            "fingerprint": "[fingerprint]",
            "future_requirements": {
              "currently_due": [],
              "errors": [],
              "past_due": [],
              "pending_verification": []
            },
            "id": "[bank_account_id]",
            "last4": "3000",
            "metadata": {},
            "object": "bank_account",
            "requirements": {
              "currently_due": [],
              "errors": [],
              "past_due": [],
              "pending_verification": []
            },
            "routing_number": null,
            "status": "new"
          },
          {
            "account": "[account_id]",
            "account_holder_name": "Jenny Rosen",
            "account_holder_type": null,
            "account_type": null,
            "available_payout_methods": [
              "standard",
              "instant"
            ],
            "bank_name": "STRIPE TEST BANK",
            "country": "US",
            "currency": "usd",
            "default_for_currency": true,
            "fingerprint": "[fingerprint]",
            "future_requirements": {
              "currently_due": [],
              "errors": [],
              "past_due": [],
              "pending_verification": []
            },
            "id": "[bank_account_id]",
            "last4": "1012",
            "metadata": {},
            "object": "bank_account",
            "requirements": {
              "currently_due": [],
              "errors": [],
              "past_due": [],
              "pending_verification": []
            },
            "routing_number": "110000000",
            "status": "new"
          }
        ],
        "has_more": false,
        "object": "list",
        "url": "/v1/account/external_accounts"
      }
    }
    "#);
    assert_eq!(other_platform.status, 403, "{}", other_platform.body);
}

#[tokio::test]
async fn a_bank_account_can_be_deleted_once_and_unknown_ids_are_404() {
    // Arrange
    let app = spawn_app().await;
    let (_, key) = app.embedded_key_for(PAYOUTS).await;
    let bank = app
        .post_form("/v1/account/external_accounts", &key, BANK_ACCOUNT)
        .await
        .ok();
    let id = bank["id"].as_str().unwrap();
    let path = format!("/v1/account/external_accounts/{id}");

    // Act
    let deleted = app.delete(&path, &key).await;
    let again = app.delete(&path, &key).await;
    let malformed = app
        .delete("/v1/account/external_accounts/nonsense", &key)
        .await;

    // Assert
    assert_eq!(deleted.body["id"], id);
    insta::assert_json_snapshot!(deleted.snapshot(), {
        ".body.id" => bank_account_id(),
    }, @r#"
    {
      "status": 200,
      "body": {
        "deleted": true,
        "id": "[bank_account_id]",
        "object": "bank_account"
      }
    }
    "#);
    insta::with_settings!({filters => vec![(r"ba_[A-Za-z0-9]{16}", "[bank_account_id]")]}, {
        insta::assert_json_snapshot!(again.snapshot(), @r#"
        {
          "status": 404,
          "body": {
            "error": {
              "code": "resource_missing",
              "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
              "message": "No such external account: '[bank_account_id]'",
              "param": "id",
              "type": "invalid_request_error"
            }
          }
        }
        "#);
    });
    insta::assert_json_snapshot!(malformed.snapshot(), @r#"
    {
      "status": 404,
      "body": {
        "error": {
          "code": "resource_missing",
          "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
          "message": "No such external account: 'nonsense'",
          "param": "id",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    let list = em_get(&app, "/v1/account/external_accounts", &key)
        .await
        .ok();
    assert_eq!(list["data"], json!([]));
    // The number can be attached again once its bank account is gone.
    assert_eq!(
        app.post_form("/v1/account/external_accounts", &key, BANK_ACCOUNT)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn another_accounts_bank_account_cannot_be_deleted() {
    // Arrange
    let app = spawn_app().await;
    let (_, owner) = app.embedded_key_for(PAYOUTS).await;
    let (_, stranger) = app.embedded_key_for(PAYOUTS).await;
    let bank = app
        .post_form("/v1/account/external_accounts", &owner, BANK_ACCOUNT)
        .await
        .ok();
    let path = format!(
        "/v1/account/external_accounts/{}",
        bank["id"].as_str().unwrap()
    );

    // Act
    let response = app.delete(&path, &stranger).await;

    // Assert
    assert_eq!(response.status, 404, "{}", response.body);
    let list = em_get(&app, "/v1/account/external_accounts", &owner)
        .await
        .ok();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

// --- Logout, revocation, expiry -----------------------------------------------------------

#[tokio::test]
async fn after_logout_the_key_is_an_invalid_key() {
    // Arrange
    let app = spawn_app().await;
    let (_, key) = app.embedded_key_for(ONBOARDING).await;
    let session = em_get(&app, "/v1/embedded_session", &key).await.ok();

    // Act
    let logout = app.delete("/v1/embedded_session", &key).await;
    let later = em_get(&app, "/v1/account", &key).await;
    let again = app.delete("/v1/embedded_session", &key).await;

    // Assert
    assert_eq!(logout.body["id"], session["id"]);
    insta::assert_json_snapshot!(logout.snapshot(), {
        ".body.id" => embedded_session_id(),
    }, @r#"
    {
      "status": 200,
      "body": {
        "deleted": true,
        "id": "[embedded_session_id]",
        "object": "embedded_session"
      }
    }
    "#);
    assert_eq!(
        later.message(),
        format!("Invalid API Key provided: {}", mask(&key))
    );
    let _filters = embedded_message_filters();
    insta::assert_json_snapshot!(later.snapshot(), @r#"
    {
      "status": 401,
      "body": {
        "error": {
          "message": "Invalid API Key provided: [masked_em_key]",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(again.status, 401);
}

#[tokio::test]
async fn revoking_a_claimed_session_stops_its_key_at_once() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let key = app.claim_key(&app.platform.publishable, &secret).await;
    assert_eq!(em_get(&app, "/v1/account", &key).await.status, 200);

    // Act
    let revoked = app
        .post_form(
            "/v1/account_sessions/revoke",
            &app.platform.secret,
            &format!("client_secret={secret}"),
        )
        .await;
    let after = em_get(&app, "/v1/account", &key).await;

    // Assert
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.body["claimed"], true);
    assert_eq!(revoked.body["revoked"], true);
    assert_eq!(after.status, 401);
    assert_eq!(
        after.message(),
        format!("Invalid API Key provided: {}", mask(&key))
    );
    assert_eq!(
        app.claim(&app.platform.publishable, &secret).await.body["error"]["code"],
        "account_session_revoked"
    );
}

#[tokio::test]
async fn only_the_sessions_own_platform_can_revoke_it() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let key = app.claim_key(&app.platform.publishable, &secret).await;
    let body = format!("client_secret={secret}");

    // Act
    let other_platform = app
        .post_form(
            "/v1/account_sessions/revoke",
            &app.other_platform.secret,
            &body,
        )
        .await;
    let other_mode = app
        .post_form(
            "/v1/account_sessions/revoke",
            &app.platform.live_secret,
            &body,
        )
        .await;
    let unknown = app
        .post_form(
            "/v1/account_sessions/revoke",
            &app.platform.secret,
            &format!("client_secret={UNKNOWN_SECRET}"),
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(unknown.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "resource_missing",
          "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
          "message": "No such account session: no session matches this client secret.",
          "param": "client_secret",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(other_platform.body, unknown.body);
    assert_eq!(other_mode.body, unknown.body);
    assert_eq!(em_get(&app, "/v1/account", &key).await.status, 200);
}

#[tokio::test]
async fn after_expires_at_the_key_is_expired_with_stripes_masking() {
    // Arrange
    let app = spawn_app().await;
    let (_, key) = app.embedded_key_for(ONBOARDING).await;
    app.clock
        .advance(Duration::from_secs((DEFAULT_TTL_SECS - 1) as u64));
    assert_eq!(em_get(&app, "/v1/account", &key).await.status, 200);

    // Act
    app.clock.advance(Duration::from_secs(1));
    let response = em_get(&app, "/v1/account", &key).await;

    // Assert
    let message = response.message().to_owned();
    assert_eq!(message, format!("Expired API Key provided: {}", mask(&key)));
    assert!(message.starts_with(&format!(
        "Expired API Key provided: em_test_{}",
        "*".repeat(93)
    )));
    let _filters = embedded_message_filters();
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 401,
      "body": {
        "error": {
          "code": "api_key_expired",
          "doc_url": "https://stripe.com/docs/error-codes/api-key-expired",
          "message": "Expired API Key provided: [masked_em_key]",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn the_expire_test_helper_expires_a_claimed_key_now() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let key = app.claim_key(&app.platform.publishable, &secret).await;
    app.clock.advance(Duration::from_secs(60));

    // Act
    let expired = app
        .post_form(
            "/v1/test_helpers/account_sessions/expire",
            &app.platform.secret,
            &format!("client_secret={secret}"),
        )
        .await;
    let after = em_get(&app, "/v1/embedded_session", &key).await;

    // Assert
    insta::assert_json_snapshot!(expired.snapshot(), {
        ".body.account" => exactly(account.as_str(), "[account_id]"),
        ".body.components" => "[components as created]",
        ".body.expires_at" => exactly(START + 60, "[START + 60 s]"),
    }, @r#"
    {
      "status": 200,
      "body": {
        "account": "[account_id]",
        "claimed": true,
        "components": "[components as created]",
        "expires_at": "[START + 60 s]",
        "livemode": false,
        "object": "account_session",
        "revoked": false
      }
    }
    "#);
    assert_eq!(after.status, 401);
    assert_eq!(after.body["error"]["code"], "api_key_expired");
    assert_eq!(
        after.message(),
        format!("Expired API Key provided: {}", mask(&key))
    );
}

#[tokio::test]
async fn an_unclaimed_session_expired_by_the_test_helper_can_no_longer_be_claimed() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    app.post_form(
        "/v1/test_helpers/account_sessions/expire",
        &app.platform.secret,
        &format!("client_secret={secret}"),
    )
    .await
    .ok();

    // Act
    let response = app.claim(&app.platform.publishable, &secret).await;

    // Assert
    assert_eq!(response.status, 400);
    assert_eq!(response.body["error"]["code"], "account_session_expired");
    assert_eq!(response.body["error"]["param"], "client_secret");
}

#[tokio::test]
async fn the_expire_test_helper_refuses_live_keys_and_publishable_keys() {
    // Arrange
    let app = spawn_app().await;
    let live_account = app
        .create_account_id(&app.platform.live_secret, "type=custom")
        .await;
    let (live_secret, _) = app
        .create_session(&app.platform.live_secret, &live_account, ONBOARDING)
        .await;
    let body = format!("client_secret={live_secret}");

    // Act
    let live = app
        .post_form(
            "/v1/test_helpers/account_sessions/expire",
            &app.platform.live_secret,
            &body,
        )
        .await;
    let publishable = app
        .post_form(
            "/v1/test_helpers/account_sessions/expire",
            &app.platform.live_publishable,
            &body,
        )
        .await;

    // Assert: the live session is untouched.
    insta::assert_json_snapshot!(live.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "message": "Test helpers can only be used in test mode: use a test-mode secret key (sk_test_…).",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    insta::assert_json_snapshot!(publishable.snapshot(), @r#"
    {
      "status": 401,
      "body": {
        "error": {
          "code": "secret_key_required",
          "doc_url": "https://stripe.com/docs/error-codes/secret-key-required",
          "message": "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(
        app.claim(&app.platform.live_publishable, &live_secret)
            .await
            .status,
        200
    );
}

// --- Keys where they do not belong -------------------------------------------------------

#[tokio::test]
async fn embedded_session_keys_are_refused_on_every_platform_endpoint() {
    // Arrange
    let app = spawn_app().await;
    let (account, key) = app.embedded_key_for(ONBOARDING).await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let calls: Vec<(Method, String, String)> = vec![
        (Method::POST, "/v1/accounts".into(), "type=custom".into()),
        (Method::GET, "/v1/accounts".into(), String::new()),
        (
            Method::GET,
            format!("/v1/accounts/{account}"),
            String::new(),
        ),
        (
            Method::POST,
            format!("/v1/accounts/{account}"),
            "email=x%40example.com".into(),
        ),
        (
            Method::DELETE,
            format!("/v1/accounts/{account}"),
            String::new(),
        ),
        (
            Method::GET,
            format!("/v1/accounts/{account}/external_accounts"),
            String::new(),
        ),
        (
            Method::POST,
            "/v1/account_sessions".into(),
            format!("account={account}&{ONBOARDING}"),
        ),
        (
            Method::POST,
            "/v1/account_sessions/revoke".into(),
            format!("client_secret={secret}"),
        ),
        (
            Method::POST,
            "/v1/test_helpers/account_sessions/expire".into(),
            format!("client_secret={secret}"),
        ),
    ];

    // Act
    let mut responses = Vec::new();
    for (method, path, body) in &calls {
        let mut request = app
            .request(method.clone(), path)
            .header(AUTHORIZATION, format!("Bearer {key}"));
        if *method == Method::POST {
            request = request.header(CONTENT_TYPE, FORM).body(body.clone());
        }
        responses.push((format!("{method} {path}"), app.send(request).await));
    }

    // Assert: one answer everywhere, and nothing was done.
    let (_, first) = &responses[0];
    for (request, response) in &responses {
        assert_eq!(response.status, 403, "{request}: {}", response.body);
        assert_eq!(response.body, first.body, "{request}");
    }
    let _filters = embedded_message_filters();
    insta::assert_json_snapshot!(first.snapshot(), @r#"
    {
      "status": 403,
      "body": {
        "error": {
          "message": "The provided key '[masked_em_key]' does not have the required permissions for this endpoint on account '[account_id]'. Embedded session keys can only call the client-side API (/v1/embedded_session, /v1/account and /v1/account/external_accounts); call this endpoint from your server with a secret key.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    let accounts = app.get("/v1/accounts", &app.platform.secret).await.ok();
    assert_eq!(accounts["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.claim(&app.platform.publishable, &secret).await.status,
        200
    );
}

#[tokio::test]
async fn platform_keys_are_refused_on_the_client_side_api() {
    // Arrange
    let app = spawn_app().await;
    let keys = [
        app.platform.secret.clone(),
        app.platform.publishable.clone(),
        app.platform.live_secret.clone(),
    ];

    // Act
    let mut rows = Vec::new();
    for key in &keys {
        for path in ["/v1/embedded_session", "/v1/account"] {
            let response = app.get(path, key).await;
            rows.push((key.clone(), path, response));
        }
    }
    let logout = app
        .delete("/v1/embedded_session", &app.platform.secret)
        .await;

    // Assert
    for (key, path, response) in &rows {
        assert_eq!(response.status, 403, "{path}: {}", response.body);
        assert_eq!(
            response.message(),
            rows[0].2.message().replace(&mask(&keys[0]), &mask(key)),
            "{path}"
        );
    }
    assert_eq!(logout.status, 403);
    let _filters = embedded_message_filters();
    insta::assert_json_snapshot!(rows[0].2.snapshot(), @r#"
    {
      "status": 403,
      "body": {
        "error": {
          "message": "The provided key '[masked_key]' cannot call the client-side API. It takes embedded session keys (em_test_… or em_live_…), which a browser gets by claiming an account session's client secret at POST /v1/account_sessions/claim.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn an_unknown_embedded_session_key_is_an_invalid_key() {
    // Arrange
    let app = spawn_app().await;
    let key = format!("em_test_{}", "a".repeat(99));

    // Act
    let response = em_get(&app, "/v1/embedded_session", &key).await;

    // Assert
    assert_eq!(response.status, 401);
    assert_eq!(
        response.message(),
        format!("Invalid API Key provided: {}", mask(&key))
    );
}

#[tokio::test]
async fn deleting_the_account_revokes_its_sessions() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (claimed, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let (unclaimed, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let key = app.claim_key(&app.platform.publishable, &claimed).await;

    // Act
    app.delete(&format!("/v1/accounts/{account}"), &app.platform.secret)
        .await
        .ok();

    // Assert
    let after = em_get(&app, "/v1/embedded_session", &key).await;
    assert_eq!(after.status, 401, "{}", after.body);
    assert_eq!(
        after.message(),
        format!("Invalid API Key provided: {}", mask(&key))
    );
    let claim = app.claim(&app.platform.publishable, &unclaimed).await;
    assert_eq!(claim.status, 400);
    assert_eq!(claim.body["error"]["code"], "account_session_revoked");
}

// --- CORS ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_preflight_from_another_origin_is_answered_with_stripes_cors_headers() {
    // Arrange
    let app = spawn_app().await;

    for path in [
        "/v1/account_sessions/claim",
        "/v1/account",
        "/v1/embedded_session",
    ] {
        // Act
        let response = app
            .request(Method::OPTIONS, path)
            .header("origin", "https://platform.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type,stripe-version",
            )
            .send()
            .await
            .unwrap();

        // Assert
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .unwrap_or_else(|| panic!("{path}: no {name}"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(header("access-control-allow-origin"), "*");
        assert_eq!(header("access-control-allow-credentials"), "true");
        assert_eq!(
            header("access-control-allow-methods"),
            "GET, HEAD, PUT, PATCH, POST, DELETE"
        );
        assert_eq!(
            header("access-control-expose-headers"),
            "Request-Id, Stripe-Manage-Version, Stripe-Should-Retry, X-Stripe-External-Auth-Required, X-Stripe-Privileged-Session-Required"
        );
        assert_eq!(header("access-control-max-age"), "300");
        let allowed: Vec<String> = header("access-control-allow-headers")
            .split(',')
            .map(|name| name.trim().to_ascii_lowercase())
            .collect();
        for needed in ["authorization", "content-type", "stripe-version"] {
            assert!(
                allowed.iter().any(|name| name == needed),
                "{path}: {allowed:?}"
            );
        }
    }
}

#[tokio::test]
async fn cross_origin_responses_carry_the_allow_origin_and_expose_headers() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let claim = |secret: String| {
        app.send(
            app.request(Method::POST, "/v1/account_sessions/claim")
                .header("origin", "https://platform.example")
                .header(
                    AUTHORIZATION,
                    format!("Bearer {}", app.platform.publishable),
                )
                .header(CONTENT_TYPE, FORM)
                .body(format!("client_secret={secret}")),
        )
    };

    // Act
    let success = claim(secret.clone()).await;
    let failure = claim(secret).await;

    // Assert: errors too, or a browser could not read why it was refused.
    for response in [&success, &failure] {
        assert_eq!(response.header("access-control-allow-origin"), "*");
        assert_eq!(response.header("access-control-allow-credentials"), "true");
        assert!(
            response
                .header("access-control-expose-headers")
                .contains("Request-Id")
        );
    }
    assert_eq!(success.status, 200);
    assert_eq!(failure.status, 400);
}

// --- Pruning -------------------------------------------------------------------------------

#[tokio::test]
async fn expired_sessions_are_pruned_after_the_grace_period_and_not_before() {
    // Arrange: A unclaimed and B claimed, both expiring at START + 30 min; E
    // created later so that it has expired, but less than the grace period ago,
    // when pruning runs; C still live.
    let app = spawn_app().await;
    let settings = PruneSettings::default();
    let grace = settings.grace.as_secs() as i64;
    let account = app.create_account_of_type("custom").await;
    let (a, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let (b, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    let key_b = app.claim_key(&app.platform.publishable, &b).await;

    // Inside the grace period nothing goes.
    app.clock
        .advance(Duration::from_secs((DEFAULT_TTL_SECS + grace - 1) as u64));
    let early = prune_once(app.store.as_ref(), &app.clock, &settings)
        .await
        .unwrap();
    assert_eq!(early, 0);
    assert_eq!(
        app.claim(&app.platform.publishable, &a).await.body["error"]["code"],
        "account_session_expired"
    );

    // E: created now, it expires at START + 2·TTL + grace − 1.
    let (e, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;
    // Past A's and B's grace, and past E's expiry, but within E's grace.
    app.clock
        .advance(Duration::from_secs((DEFAULT_TTL_SECS + 2) as u64));
    let (c, _) = app
        .create_session(&app.platform.secret, &account, ONBOARDING)
        .await;

    // Act
    let pruned = prune_once(app.store.as_ref(), &app.clock, &settings)
        .await
        .unwrap();

    // Assert
    assert_eq!(pruned, 2);
    let gone = app.claim(&app.platform.publishable, &a).await;
    assert_eq!(gone.status, 400);
    assert_eq!(gone.body["error"]["code"], "resource_missing");
    let key_b_now = em_get(&app, "/v1/embedded_session", &key_b).await;
    assert_eq!(key_b_now.status, 401);
    assert_eq!(
        key_b_now.message(),
        format!("Invalid API Key provided: {}", mask(&key_b))
    );
    assert_eq!(
        app.claim(&app.platform.publishable, &e).await.body["error"]["code"],
        "account_session_expired"
    );
    assert_eq!(app.claim(&app.platform.publishable, &c).await.status, 200);
}

// --- Live mode and the whole flow ----------------------------------------------------------

#[tokio::test]
async fn a_live_mode_session_works_with_live_keys_and_is_invisible_to_test_keys() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .create_account_id(&app.platform.live_secret, "type=custom")
        .await;
    let (secret, created) = app
        .create_session(&app.platform.live_secret, &account, ONBOARDING)
        .await;
    assert_eq!(created["livemode"], true);

    // Act
    let claimed = app
        .claim(&app.platform.live_publishable, &secret)
        .await
        .ok();
    let key = claimed["secret"].as_str().unwrap();
    let session = em_get(&app, "/v1/embedded_session", key).await.ok();
    let own = em_get(&app, "/v1/account", key).await.ok();
    let bank = app
        .post_form("/v1/account/external_accounts", key, BANK_ACCOUNT)
        .await
        .ok();

    // Assert
    assert!(key.starts_with("em_live_") && is_embedded_key(key), "{key}");
    assert_eq!(claimed["livemode"], true);
    assert_eq!(session["livemode"], true);
    assert_eq!(own["id"], account.as_str());
    assert_eq!(bank["object"], "bank_account");
    let test_list = app.get("/v1/accounts", &app.platform.secret).await.ok();
    assert_eq!(test_list["data"], json!([]));
    let test_view = app
        .get(
            &format!("/v1/accounts/{account}/external_accounts"),
            &app.platform.secret,
        )
        .await;
    assert_eq!(test_view.status, 403, "{}", test_view.body);
    let body = format!("client_secret={secret}");
    for path in [
        "/v1/account_sessions/revoke",
        "/v1/test_helpers/account_sessions/expire",
    ] {
        let response = app.post_form(path, &app.platform.secret, &body).await;
        assert_eq!(response.status, 400, "{path}");
        assert_eq!(response.body["error"]["code"], "resource_missing", "{path}");
    }
    let live_view = app
        .get(
            &format!("/v1/accounts/{account}/external_accounts"),
            &app.platform.live_secret,
        )
        .await
        .ok();
    assert_eq!(live_view["data"][0]["id"], bank["id"]);
    assert_eq!(em_get(&app, "/v1/account", key).await.status, 200);
}

#[tokio::test]
async fn the_whole_flow_create_claim_use_expire_and_refresh() {
    // Arrange: the platform's backend creates an account and a session.
    let app = spawn_app().await;
    let account = app.create_account_of_type("custom").await;
    let (secret, _) = app
        .create_session(
            &app.platform.secret,
            &account,
            &format!("{ONBOARDING}&{PAYOUTS}"),
        )
        .await;

    // The browser claims the secret and calls the client-side API.
    let claimed = app.claim(&app.platform.publishable, &secret).await.ok();
    let key = claimed["secret"].as_str().unwrap().to_owned();
    let session = em_get(&app, "/v1/embedded_session", &key).await.ok();
    assert_eq!(session["account"], account.as_str());
    let own = em_get(&app, "/v1/account", &key).await.ok();
    assert_eq!(own["id"], account.as_str());
    app.post_form("/v1/account", &key, "email=jenny%40example.com")
        .await
        .ok();
    let bank = app
        .post_form("/v1/account/external_accounts", &key, BANK_ACCOUNT)
        .await
        .ok();

    // Act: the session expires; the key stops working, the secret stays used.
    app.clock
        .advance(Duration::from_secs(DEFAULT_TTL_SECS as u64));
    let expired = em_get(&app, "/v1/account", &key).await;
    let reclaim = app.claim(&app.platform.publishable, &secret).await;

    // … and Connect.js refreshes: fetchClientSecret asks the backend for a new session.
    let (fresh, _) = app
        .create_session(
            &app.platform.secret,
            &account,
            &format!("{ONBOARDING}&{PAYOUTS}"),
        )
        .await;
    let fresh_key = app.claim_key(&app.platform.publishable, &fresh).await;

    // Assert
    assert_eq!(expired.status, 401);
    assert_eq!(expired.body["error"]["code"], "api_key_expired");
    assert_eq!(reclaim.status, 400);
    assert_eq!(
        reclaim.body["error"]["code"],
        "account_session_already_claimed"
    );
    assert_ne!(fresh_key, key);
    let own = em_get(&app, "/v1/account", &fresh_key).await.ok();
    assert_eq!(own["email"], "jenny@example.com");
    let banks = em_get(&app, "/v1/account/external_accounts", &fresh_key)
        .await
        .ok();
    assert_eq!(banks["data"][0]["id"], bank["id"]);
    assert_eq!(
        em_get(&app, "/v1/account", &key).await.status,
        401,
        "the old key stays expired"
    );
    let platform_view = app
        .get(&format!("/v1/accounts/{account}"), &app.platform.secret)
        .await
        .ok();
    assert_eq!(platform_view["email"], "jenny@example.com");
}

/// The Connect.js runtime is served from the binary: the file in the
/// repository, as JavaScript, to any origin, cacheable and revalidated by
/// its ETag.
#[tokio::test]
async fn the_connect_js_runtime_is_served_cacheable_to_any_origin() {
    let app = spawn_app().await;
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/web/connect-js/connect.js"
    ))
    .expect("the runtime's source");
    let response = app
        .request(Method::GET, "/connect-js/v1.0/connect.js")
        .header("Origin", "https://platform.example")
        .send()
        .await
        .expect("the request failed");
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["cache-control"], "public, max-age=300");
    let etag = headers["etag"].to_str().expect("an ASCII ETag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
        "{etag}"
    );
    assert_eq!(response.text().await.expect("the body"), source);

    let revalidated = app
        .request(Method::GET, "/connect-js/v1.0/connect.js")
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("the request failed");
    assert_eq!(revalidated.status().as_u16(), 304);
    assert_eq!(revalidated.headers()["etag"].to_str().unwrap(), etag);
    assert!(revalidated.bytes().await.unwrap().is_empty());

    let stale = app
        .request(Method::GET, "/connect-js/v1.0/connect.js")
        .header("If-None-Match", "\"something-else\"")
        .send()
        .await
        .expect("the request failed");
    assert_eq!(stale.status().as_u16(), 200);

    // The API itself stays uncacheable.
    let health = app.send(app.request(Method::GET, "/healthz")).await;
    assert_eq!(health.headers["cache-control"], "no-cache, no-store");
}
