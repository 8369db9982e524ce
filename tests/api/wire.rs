//! Stripe's v1 wire protocol: authentication, headers, routing, body encoding
//! and the error envelope, the same on every endpoint.

use base64::Engine;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use connect_sessions::keyring::MasterKey;

use crate::database::TestDatabase;
use crate::fixture::{ServerProcess, create_platform};
use crate::helpers::{
    FORM, SEED_COMPONENTS, TestApp, encode_brackets, is_request_id, mask, spawn_app, spawn_app_with,
};

/// An account id of the right shape that no platform has.
const UNKNOWN_ACCOUNT: &str = "acct_0000000000000000";

/// A request to `GET /v1/accounts` with this raw `Authorization` header.
async fn list_with_authorization(
    app: &TestApp,
    authorization: &str,
) -> crate::helpers::TestResponse {
    app.send(
        app.request(Method::GET, "/v1/accounts")
            .header(AUTHORIZATION, authorization),
    )
    .await
}

// --- Authentication -------------------------------------------------------------

#[tokio::test]
async fn a_request_without_a_key_is_refused_with_stripes_message() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let list = app.send(app.request(Method::GET, "/v1/accounts")).await;
    let session = app
        .send(
            app.request(Method::POST, "/v1/account_sessions")
                .header(CONTENT_TYPE, FORM)
                .body(format!("account={UNKNOWN_ACCOUNT}&{SEED_COMPONENTS}")),
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(list.snapshot(), @r#"
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
    assert_eq!(session.snapshot().status, 401);
    assert_eq!(session.body, list.body);
}

#[tokio::test]
async fn an_empty_bearer_or_an_unknown_scheme_counts_as_no_key() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let empty_bearer = list_with_authorization(&app, "Bearer ").await;
    let digest = list_with_authorization(&app, "Digest abc").await;

    // Assert
    for response in [&empty_bearer, &digest] {
        assert_eq!(response.status, 401);
        assert!(
            response
                .message()
                .starts_with("You did not provide an API key.")
        );
    }
}

#[tokio::test]
async fn basic_and_bearer_authentication_both_work() {
    // Arrange
    let app = spawn_app().await;
    let key = &app.platform.secret;
    let basic_with_colon = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    let basic_without_colon = base64::engine::general_purpose::STANDARD.encode(key);

    // Act
    let bearer = list_with_authorization(&app, &format!("Bearer {key}")).await;
    let basic = list_with_authorization(&app, &format!("Basic {basic_with_colon}")).await;
    let basic_no_password =
        list_with_authorization(&app, &format!("Basic {basic_without_colon}")).await;
    let reqwest_basic = app
        .send(
            app.request(Method::GET, "/v1/accounts")
                .basic_auth(key, None::<&str>),
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(bearer.snapshot(), @r#"
    {
      "status": 200,
      "body": {
        "data": [],
        "has_more": false,
        "object": "list",
        "url": "/v1/accounts"
      }
    }
    "#);
    for response in [basic, basic_no_password, reqwest_basic] {
        assert_eq!(response.status, 200);
        assert_eq!(response.body, bearer.body);
    }
}

#[tokio::test]
async fn an_unknown_key_is_refused_with_stripes_mask_keeping_the_last_six_characters() {
    // Arrange: the platform's own key with its last character changed, 107 characters.
    let app = spawn_app().await;
    let mut key = app.platform.secret.clone();
    let last = key.pop().unwrap();
    key.push(if last == 'a' { 'b' } else { 'a' });
    assert_eq!(key.len(), 107);

    // Act
    let response = list_with_authorization(&app, &format!("Bearer {key}")).await;

    // Assert
    assert_eq!(
        response.message(),
        format!(
            "Invalid API Key provided: sk_test_{}{}",
            "*".repeat(93),
            &key[101..]
        )
    );
    assert_eq!(
        response.message(),
        format!("Invalid API Key provided: {}", mask(&key))
    );
    let _filters = crate::helpers::message_filters();
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 401,
      "body": {
        "error": {
          "message": "Invalid API Key provided: [masked_key]",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn an_unknown_legacy_length_key_is_masked_keeping_the_last_four_characters() {
    // Arrange: a 32-character key, the length of Stripe's legacy keys.
    let app = spawn_app().await;
    let key = "sk_test_abcdefghijklmnopqrst1234";
    assert_eq!(key.len(), 32);

    // Act
    let response = list_with_authorization(&app, &format!("Bearer {key}")).await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 401,
      "body": {
        "error": {
          "message": "Invalid API Key provided: sk_test_********************1234",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn restricted_and_embedded_keys_are_invalid_keys_here() {
    // Arrange: well-formed keys of the two kinds this endpoint never takes.
    let app = spawn_app().await;
    let tail = "x".repeat(93) + "AbC123";
    let restricted = format!("rk_test_{tail}");
    let embedded = format!("em_live_{tail}");
    let unknown_prefix = format!("xx_test_{tail}");

    // Act
    let responses = [
        list_with_authorization(&app, &format!("Bearer {restricted}")).await,
        list_with_authorization(&app, &format!("Bearer {embedded}")).await,
        list_with_authorization(&app, &format!("Bearer {unknown_prefix}")).await,
    ];

    // Assert
    for (response, key) in responses
        .iter()
        .zip([&restricted, &embedded, &unknown_prefix])
    {
        assert_eq!(response.status, 401, "{key}");
        assert_eq!(
            response.message(),
            format!("Invalid API Key provided: {}", mask(key))
        );
    }
    insta::assert_json_snapshot!(responses[0].snapshot(), @r#"
    {
      "status": 401,
      "body": {
        "error": {
          "message": "Invalid API Key provided: rk_test_*********************************************************************************************AbC123",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn a_publishable_key_is_refused_on_secret_key_endpoints() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_id(&app.platform.secret, "").await;

    // Act
    let list = app.get("/v1/accounts", &app.platform.publishable).await;
    let create = app
        .post_form(
            "/v1/accounts",
            &app.platform.live_publishable,
            "type=custom",
        )
        .await;
    let session = app
        .create_account_session(
            &app.platform.publishable,
            &format!("account={account}&{SEED_COMPONENTS}"),
        )
        .await;
    let retrieve = app
        .get(
            &format!("/v1/accounts/{account}"),
            &app.platform.publishable,
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(list.snapshot(), @r#"
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
    for response in [create, session, retrieve] {
        assert_eq!(response.status, 401);
        assert_eq!(response.body, list.body);
    }
}

// --- Headers --------------------------------------------------------------------

#[tokio::test]
async fn every_response_carries_a_unique_request_id() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let first = app.get("/v1/accounts", &app.platform.secret).await;
    let second = app.get("/v1/accounts", &app.platform.secret).await;
    let error = app.send(app.request(Method::GET, "/v1/accounts")).await;
    let not_found = app.get("/v1/missing", &app.platform.secret).await;

    // Assert
    let ids: Vec<&str> = [&first, &second, &error, &not_found]
        .iter()
        .map(|response| response.header("request-id"))
        .collect();
    for id in &ids {
        assert!(is_request_id(id), "{id}");
    }
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}

#[tokio::test]
async fn stripe_version_defaults_to_the_servers_version_when_absent() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let ok = app.get("/v1/accounts", &app.platform.secret).await;
    let error = app.send(app.request(Method::GET, "/v1/accounts")).await;

    // Assert
    assert_eq!(ok.header("stripe-version"), "2026-07-29.dahlia");
    assert_eq!(error.header("stripe-version"), "2026-07-29.dahlia");
    assert_eq!(app.config.default_api_version, "2026-07-29.dahlia");
}

#[tokio::test]
async fn stripe_version_is_echoed_as_sent_including_flag_suffixes() {
    // Arrange
    let app = spawn_app().await;

    for version in [
        "2024-06-20",
        "2025-08-27.basil",
        "2026-07-29.dahlia; embedded_connect_beta=v2",
    ] {
        // Act
        let response = app
            .send(
                app.request(Method::GET, "/v1/accounts")
                    .bearer_auth(&app.platform.secret)
                    .header("Stripe-Version", version),
            )
            .await;

        // Assert
        assert_eq!(response.status, 200, "{version}");
        assert_eq!(response.header("stripe-version"), version);
    }
}

#[tokio::test]
async fn a_malformed_stripe_version_is_refused_and_the_default_is_answered() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .send(
            app.request(Method::GET, "/v1/accounts")
                .bearer_auth(&app.platform.secret)
                .header("Stripe-Version", "latest"),
        )
        .await;
    let bad_date = app
        .send(
            app.request(Method::GET, "/v1/accounts")
                .bearer_auth(&app.platform.secret)
                .header("Stripe-Version", "2026-02-30.clover"),
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "message": "Invalid Stripe API version: latest",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(response.header("stripe-version"), "2026-07-29.dahlia");
    assert_eq!(bad_date.status, 400);
    assert_eq!(
        bad_date.message(),
        "Invalid Stripe API version: 2026-02-30.clover"
    );
}

#[tokio::test]
async fn every_response_is_uncacheable_json() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let responses = [
        app.get("/v1/accounts", &app.platform.secret).await,
        app.post_form("/v1/accounts", &app.platform.secret, "")
            .await,
        app.send(app.request(Method::GET, "/v1/accounts")).await,
        app.get("/v1/missing", &app.platform.secret).await,
        app.post_form("/v1/accounts", &app.platform.secret, "bogus=1")
            .await,
        app.get(
            &format!("/v1/accounts/{UNKNOWN_ACCOUNT}"),
            &app.platform.secret,
        )
        .await,
        app.post_form(
            "/v1/accounts",
            &app.platform.secret,
            &"a".repeat(app.config.max_body_bytes + 1),
        )
        .await,
        app.send(app.request(Method::GET, "/healthz")).await,
    ];

    // Assert
    let statuses: Vec<u16> = responses.iter().map(|response| response.status).collect();
    assert_eq!(statuses, [200, 200, 401, 404, 400, 403, 413, 200]);
    for response in &responses {
        assert_eq!(response.header("cache-control"), "no-cache, no-store");
        assert_eq!(response.header("content-type"), "application/json");
    }
}

#[tokio::test]
async fn idempotency_key_and_stripe_account_are_echoed_when_sent() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .create_account_id(&app.platform.secret, "type=express")
        .await;

    // Act: acting as the connected account on its own endpoint.
    let with_headers = app
        .send(
            app.request(Method::POST, &format!("/v1/accounts/{account}"))
                .bearer_auth(&app.platform.secret)
                .header(CONTENT_TYPE, FORM)
                .header("Idempotency-Key", "stripe-node-retry-0f1e2d3c")
                .header("Stripe-Account", &account)
                .body("metadata[k]=v"),
        )
        .await;
    let on_error = app
        .send(
            app.request(Method::GET, "/v1/accounts")
                .header("Idempotency-Key", "key-on-an-error"),
        )
        .await;
    let without = app.get("/v1/accounts", &app.platform.secret).await;

    // Assert
    assert_eq!(with_headers.status, 200, "{}", with_headers.body);
    assert_eq!(
        with_headers.header("idempotency-key"),
        "stripe-node-retry-0f1e2d3c"
    );
    assert_eq!(with_headers.header("stripe-account"), account);
    assert_eq!(on_error.header("idempotency-key"), "key-on-an-error");
    assert!(without.headers.get("idempotency-key").is_none());
    assert!(without.headers.get("stripe-account").is_none());
}

#[tokio::test]
async fn client_errors_tell_clients_not_to_retry() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let responses = [
        app.send(app.request(Method::GET, "/v1/accounts")).await,
        app.post_form("/v1/accounts", &app.platform.secret, "bogus=1")
            .await,
        app.get(
            &format!("/v1/accounts/{UNKNOWN_ACCOUNT}"),
            &app.platform.secret,
        )
        .await,
        app.get("/v1/missing", &app.platform.secret).await,
    ];

    // Assert
    let statuses: Vec<u16> = responses.iter().map(|response| response.status).collect();
    assert_eq!(statuses, [401, 400, 403, 404]);
    for response in &responses {
        assert_eq!(response.header("stripe-should-retry"), "false");
    }
}

// --- Routing --------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_url_is_a_404_with_stripes_message() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get("/v1/missing", &app.platform.secret).await;
    let post = app
        .post_form(
            "/v1/files",
            &app.platform.secret,
            "purpose=dispute_evidence",
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 404,
      "body": {
        "error": {
          "message": "Unrecognized request URL (GET: /v1/missing). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(post.status, 404);
    assert_eq!(
        post.message(),
        "Unrecognized request URL (POST: /v1/files). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
    );
}

#[tokio::test]
async fn a_wrong_method_is_a_404_naming_the_method() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let put = app
        .send(
            app.request(Method::PUT, "/v1/accounts")
                .bearer_auth(&app.platform.secret),
        )
        .await;
    let get_sessions = app.get("/v1/account_sessions", &app.platform.secret).await;
    let delete_list = app.delete("/v1/accounts", &app.platform.secret).await;

    // Assert
    insta::assert_json_snapshot!(put.snapshot(), @r#"
    {
      "status": 404,
      "body": {
        "error": {
          "message": "Unrecognized request URL (PUT: /v1/accounts). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    insta::assert_json_snapshot!(get_sessions.snapshot(), @r#"
    {
      "status": 404,
      "body": {
        "error": {
          "message": "Unrecognized request URL (GET: /v1/account_sessions). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(delete_list.status, 404);
    assert_eq!(
        delete_list.message(),
        "Unrecognized request URL (DELETE: /v1/accounts). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
    );
}

#[tokio::test]
async fn a_trailing_slash_adds_stripes_hint() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get("/v1/accounts/", &app.platform.secret).await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 404,
      "body": {
        "error": {
          "message": "Unrecognized request URL (GET: /v1/accounts/). Please see https://stripe.com/docs or we can help at https://support.stripe.com/. If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

// --- Bodies ---------------------------------------------------------------------

#[tokio::test]
async fn a_json_body_is_refused_with_stripes_content_type_message() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_id(&app.platform.secret, "").await;

    // Act
    let response = app
        .send(
            app.request(Method::POST, "/v1/account_sessions")
                .bearer_auth(&app.platform.secret)
                .header(CONTENT_TYPE, "application/json")
                .body(format!(
                    r#"{{"account":"{account}","components":{{"payments":{{"enabled":true}}}}}}"#
                )),
        )
        .await;
    let on_accounts = app
        .send(
            app.request(Method::POST, "/v1/accounts")
                .bearer_auth(&app.platform.secret)
                .header(CONTENT_TYPE, "application/json; charset=utf-8")
                .body(r#"{"type":"custom"}"#),
        )
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "message": "Invalid request (check that your POST content type is application/x-www-form-urlencoded). If you have any questions, we can help at https://support.stripe.com/.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(on_accounts.status, 400);
    assert_eq!(on_accounts.body, response.body);
}

#[tokio::test]
async fn a_form_content_type_with_a_charset_and_no_content_type_are_both_forms() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let with_charset = app
        .send(
            app.request(Method::POST, "/v1/accounts")
                .bearer_auth(&app.platform.secret)
                .header(
                    CONTENT_TYPE,
                    "application/x-www-form-urlencoded; charset=utf-8",
                )
                .body("type=custom"),
        )
        .await;
    let without = app
        .send(
            app.request(Method::POST, "/v1/accounts")
                .bearer_auth(&app.platform.secret)
                .body("type=express"),
        )
        .await;

    // Assert
    assert_eq!(with_charset.ok()["type"], "custom");
    assert_eq!(without.ok()["type"], "express");
}

#[tokio::test]
async fn literal_and_percent_encoded_brackets_mean_the_same() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;
    let literal = format!(
        "account={account}&components[payments][enabled]=true\
         &components[payments][features][refund_management]=false\
         &components[account_onboarding][enabled]=true\
         &components[account_onboarding][features][external_account_collection]=false"
    );
    let encoded = encode_brackets(&literal);
    assert!(encoded.contains("components%5Bpayments%5D%5Benabled%5D=true"));

    // Act
    let from_literal = app
        .create_account_session(&app.platform.secret, &literal)
        .await
        .ok();
    let from_encoded = app
        .create_account_session(&app.platform.secret, &encoded)
        .await
        .ok();

    // Assert
    assert_eq!(from_literal["components"], from_encoded["components"]);
    assert_eq!(
        from_encoded["components"]["payments"]["features"]["refund_management"],
        false
    );
    assert_eq!(
        from_encoded["components"]["account_onboarding"]["features"]["external_account_collection"],
        false
    );
}

#[tokio::test]
async fn plus_and_percent_twenty_are_both_spaces() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let plus = app
        .create_account(
            &app.platform.secret,
            "business_profile[name]=Acme+Widgets+Inc&metadata[note]=two+words",
        )
        .await;
    let percent = app
        .create_account(
            &app.platform.secret,
            "business_profile%5Bname%5D=Acme%20Widgets%20Inc&metadata[note]=two%20words",
        )
        .await;
    let literal_plus = app
        .create_account(&app.platform.secret, "metadata[sum]=1%2B1")
        .await;

    // Assert
    assert_eq!(plus["business_profile"]["name"], "Acme Widgets Inc");
    assert_eq!(plus["metadata"]["note"], "two words");
    assert_eq!(plus["business_profile"], percent["business_profile"]);
    assert_eq!(plus["metadata"], percent["metadata"]);
    assert_eq!(literal_plus["metadata"]["sum"], "1+1");
}

#[tokio::test]
async fn indexed_and_empty_bracket_arrays_are_both_accepted() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account_id(&app.platform.secret, "").await;
    let base = format!("account={account}&components[payments][enabled]=true");

    // Act
    let indexed = app
        .create_account_session(
            &app.platform.secret,
            &format!("{base}&expand[0]=components"),
        )
        .await;
    let bracketed = app
        .create_account_session(&app.platform.secret, &format!("{base}&expand[]=components"))
        .await;
    let encoded = app
        .create_account_session(
            &app.platform.secret,
            &format!("{base}&expand%5B%5D=components"),
        )
        .await;

    let bogus_indexed = app
        .create_account_session(
            &app.platform.secret,
            &format!("{base}&expand[0]=components&expand[1]=bogus"),
        )
        .await;
    let bogus_bracketed = app
        .create_account_session(
            &app.platform.secret,
            &format!("{base}&expand[]=components&expand[]=bogus"),
        )
        .await;

    // Assert: both forms are accepted …
    let indexed = indexed.ok();
    for response in [bracketed, encoded] {
        assert_eq!(response.ok()["components"], indexed["components"]);
    }
    // … and both are read as arrays, entry by entry.
    for response in [bogus_indexed, bogus_bracketed] {
        assert_eq!(response.status, 400);
        assert_eq!(
            response.message(),
            "This property cannot be expanded (bogus)."
        );
        assert_eq!(response.body["error"]["param"], "expand[1]");
    }
}

#[tokio::test]
async fn list_parameters_are_read_from_the_query_string_with_the_same_encoding() {
    // Arrange
    let app = spawn_app().await;
    for _ in 0..3 {
        app.create_account(&app.platform.secret, "").await;
    }

    // Act
    let limited = app
        .get(
            "/v1/accounts?limit=2&expand%5B%5D=data",
            &app.platform.secret,
        )
        .await;
    let unknown = app
        .get("/v1/accounts?limit=2&colour=blue", &app.platform.secret)
        .await;

    // Assert
    let limited = limited.ok();
    assert_eq!(limited["data"].as_array().unwrap().len(), 2);
    assert_eq!(limited["has_more"], true);
    insta::assert_json_snapshot!(unknown.snapshot(), @r#"
    {
      "status": 400,
      "body": {
        "error": {
          "code": "parameter_unknown",
          "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
          "message": "Received unknown parameter: colour",
          "param": "colour",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_in_stripes_envelope() {
    // Arrange
    let app = spawn_app().await;
    let limit = app.config.max_body_bytes;
    assert_eq!(limit, 256 * 1024);
    let body = format!("metadata[big]={}", "a".repeat(limit));

    // Act
    let response = app
        .post_form("/v1/accounts", &app.platform.secret, &body)
        .await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 413,
      "body": {
        "error": {
          "message": "The request body is too large: the limit is 262144 bytes.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(response.header("stripe-should-retry"), "false");
    assert!(crate::helpers::is_request_id(response.header("request-id")));
}

#[tokio::test]
async fn a_body_exactly_at_a_configured_limit_is_read() {
    // Arrange
    let config = connect_sessions::http::settings::ApiConfig {
        max_body_bytes: 64,
        ..connect_sessions::http::settings::ApiConfig::default()
    };
    let app = spawn_app_with(config).await;
    let fits = format!("metadata[k]={}", "v".repeat(64 - "metadata[k]=".len()));
    assert_eq!(fits.len(), 64);
    let too_big = format!("{fits}v");

    // Act
    let accepted = app
        .post_form("/v1/accounts", &app.platform.secret, &fits)
        .await;
    let refused = app
        .post_form("/v1/accounts", &app.platform.secret, &too_big)
        .await;

    // Assert
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(refused.status, 413);
    assert_eq!(
        refused.message(),
        "The request body is too large: the limit is 64 bytes."
    );
}

#[tokio::test]
async fn a_body_that_is_not_utf8_once_decoded_is_refused() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_form("/v1/accounts", &app.platform.secret, "metadata[k]=%FF")
        .await;

    // Assert
    assert_eq!(response.status, 400);
    assert_eq!(
        response.message(),
        "Invalid request: the body is not valid UTF-8 once percent-decoded."
    );
}

#[tokio::test]
async fn errors_about_the_whole_body_carry_no_param() {
    // Arrange
    let app = spawn_app().await;
    let too_many: Vec<String> = (0..1001).map(|i| format!("metadata[k{i}]=v")).collect();

    // Act
    let not_utf8 = app
        .post_form("/v1/accounts", &app.platform.secret, "metadata[k]=%FF")
        .await;
    let too_many = app
        .post_form("/v1/accounts", &app.platform.secret, &too_many.join("&"))
        .await;

    // Assert
    for response in [not_utf8, too_many] {
        assert_eq!(response.status, 400);
        assert!(
            response.body["error"].get("param").is_none(),
            "{}",
            response.body
        );
    }
}

#[tokio::test]
async fn a_posts_query_string_parameters_count_like_body_parameters() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_form("/v1/accounts?type=custom", &app.platform.secret, "")
        .await;

    // Assert: honoured as parameters, as Stripe's Rails-style API does.
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["type"], "custom");
}

#[tokio::test]
async fn health_answers_without_authentication() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.send(app.request(Method::GET, "/healthz")).await;

    // Assert
    insta::assert_json_snapshot!(response.snapshot(), @r#"
    {
      "status": 200,
      "body": {
        "status": "ok"
      }
    }
    "#);
    assert!(is_request_id(response.header("request-id")));
}

// --- Logs -------------------------------------------------------------------------

#[tokio::test]
async fn no_key_or_client_secret_ever_appears_in_the_logs() {
    for format in ["text", "json"] {
        // Arrange: the server binary, logging every event at every level in
        // one of its formats, exactly what an operator's log would hold. (A
        // separate process also gives the scenario the process-wide log
        // subscriber to itself, which concurrent in-process tests would share.)
        let database = TestDatabase::create().await;
        let url = database.url();
        let platform = create_platform(&url);
        let server = ServerProcess::command(&format!("logs-{format}"))
            .args(["--database", url.as_str(), "--log-format", format])
            .env(
                "CONNECT_SESSIONS_MASTER_KEYS",
                &MasterKey::generate().encode(),
            )
            .env("RUST_LOG", "trace")
            .start()
            .await;
        let key = platform.secret.clone();
        let last = if key.ends_with('x') { 'y' } else { 'x' };
        let wrong_key = format!("{}{last}", &key[..key.len() - 1]);

        // Act
        let account = server.post("/v1/accounts", &key, "type=custom").await.ok();
        let account = account["id"].as_str().unwrap();
        let session = server
            .post(
                "/v1/account_sessions",
                &key,
                &format!("account={account}&{SEED_COMPONENTS}"),
            )
            .await
            .ok();
        let wrong = server.get("/v1/accounts", &wrong_key).await;
        let publishable = server.get("/v1/accounts", &platform.publishable).await;
        let basic = server
            .send(
                server
                    .client()
                    .get(format!("{}/v1/accounts", server.base_url()))
                    .basic_auth(&platform.live_secret, None::<&str>),
            )
            .await;
        // The browser side: an idempotent claim (and its replay), the em_ key's
        // calls, a bank account number, logout; then revocation.
        let client_secret = session["client_secret"].as_str().unwrap().to_owned();
        let claim_body = format!("client_secret={client_secret}");
        let claimed = server
            .post_idempotent(
                "/v1/account_sessions/claim",
                &platform.publishable,
                &claim_body,
                "log-claim",
            )
            .await
            .ok();
        let replayed = server
            .post_idempotent(
                "/v1/account_sessions/claim",
                &platform.publishable,
                &claim_body,
                "log-claim",
            )
            .await
            .ok();
        let em_key = claimed["secret"].as_str().unwrap().to_owned();
        // A replayed claim never hands the key out again.
        assert!(replayed.get("secret").is_none());
        assert_eq!(replayed["id"], claimed["id"]);
        let account_number = "000987654321";
        let bank = server
            .post(
                "/v1/account/external_accounts",
                &em_key,
                &format!(
                    "country=US&currency=usd&routing_number=110000000&account_number={account_number}"
                ),
            )
            .await;
        // Identity secrets, sent by the platform and by the account itself.
        let id_number = "987654320";
        let tax_id = "876543219";
        let identity = server
            .post(
                &format!("/v1/accounts/{account}"),
                &key,
                &format!("business_type=company&company[tax_id]={tax_id}"),
            )
            .await;
        let person = server
            .post(
                "/v1/account/persons",
                &em_key,
                &format!("first_name=Jane&id_number={id_number}"),
            )
            .await;
        let own = server.get("/v1/account", &em_key).await;
        let revoked = server
            .post("/v1/account_sessions/revoke", &key, &claim_body)
            .await;
        let after = server.get("/v1/embedded_session", &em_key).await;
        // Every line, up to the last one written before a graceful exit.
        let logs = server.stop().await;

        // Assert
        assert_eq!(
            (wrong.status, publishable.status, basic.status),
            (401, 401, 200)
        );
        assert_eq!(
            (bank.status, own.status, revoked.status, after.status),
            (200, 200, 200, 401)
        );
        assert_eq!((identity.status, person.status), (200, 200));
        assert!(
            logs.contains("account session created"),
            "the capture works ({format}): {logs}"
        );
        let secret = session["client_secret"].as_str().unwrap();
        for (what, text) in [
            ("the secret key", key.as_str()),
            ("the wrong key", wrong_key.as_str()),
            ("the publishable key", platform.publishable.as_str()),
            ("the live secret key", platform.live_secret.as_str()),
            ("the client secret", secret),
            ("the em_ key", em_key.as_str()),
            ("the bank account number", account_number),
            ("the ID number", id_number),
            ("the tax ID", tax_id),
        ] {
            // The random part alone must not appear either.
            let tail = &text[text.len().saturating_sub(20)..];
            assert!(
                !logs.contains(tail),
                "{what} appears in the {format} logs:\n{logs}"
            );
        }
    }
}
