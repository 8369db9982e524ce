//! One validation of strings for both backends: control characters (NUL above
//! all, which PostgreSQL cannot store in text) and Stripe's 5,000-character cap
//! are refused when the form is decoded, with the same 400 on SQLite and
//! PostgreSQL, whoever sends them (a secret key or an `em_` key).

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, spawn_app};

/// The account onboarding component: the whole client-side API.
const ONBOARDING: &str = "components[account_onboarding][enabled]=true";

/// Asserts Stripe's 400 for a control character in `param`.
fn assert_control_character(response: &TestResponse, param: &str, code_point: &str) {
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(
        response.body,
        json!({"error": {
            "type": "invalid_request_error",
            "param": param,
            "message": format!("Invalid string: {param} contains the control character {code_point}; only tab, line feed and carriage return are allowed in values."),
        }}),
    );
}

/// Strips fields a snapshot cannot pin, leaving `error` only.
fn error_of(response: &TestResponse) -> Value {
    response.body["error"].clone()
}

#[tokio::test]
async fn a_nul_byte_in_an_email_is_the_same_400_on_every_backend() {
    let app = spawn_app().await;

    let response = app
        .post_form(
            "/v1/accounts",
            &app.platform.secret,
            "type=custom&email=jenny%00@example.com",
        )
        .await;

    assert_control_character(&response, "email", "U+0000");
}

#[tokio::test]
async fn a_nul_byte_from_an_embedded_key_in_the_business_profile_or_a_holder_name_is_refused() {
    // Arrange: the browser of an onboarding session.
    let app = spawn_app().await;
    let (account, key) = app.embedded_key_for(ONBOARDING).await;

    // Act
    let profile = app
        .post_form("/v1/account", &key, "business_profile[name]=Rocket%00Rides")
        .await;
    let bank_account = app
        .post_form(
            "/v1/account/external_accounts",
            &key,
            "country=US&currency=usd&account_holder_name=Jenny%00Rosen\
             &routing_number=110000000&account_number=000123456789",
        )
        .await;
    let platform_side = app
        .post_form(
            &format!("/v1/accounts/{account}/external_accounts"),
            &app.platform.secret,
            "external_account[object]=bank_account&external_account[country]=US\
             &external_account[currency]=usd&external_account[account_holder_name]=A%00\
             &external_account[routing_number]=110000000&external_account[account_number]=000123456789",
        )
        .await;

    // Assert: refused, and nothing was stored.
    assert_control_character(&profile, "business_profile[name]", "U+0000");
    assert_control_character(&bank_account, "account_holder_name", "U+0000");
    assert_control_character(
        &platform_side,
        "external_account[account_holder_name]",
        "U+0000",
    );
    let stored = app.get("/v1/account", &key).await.ok();
    assert_eq!(stored["business_profile"]["name"], Value::Null);
    assert_eq!(stored["external_accounts"]["data"], json!([]));
}

#[tokio::test]
async fn other_control_characters_are_refused_but_tabs_and_line_ends_are_kept() {
    let app = spawn_app().await;

    let escape = app
        .post_form(
            "/v1/accounts",
            &app.platform.secret,
            "type=custom&metadata[note]=a%1Bb",
        )
        .await;
    let in_a_key = app
        .post_form(
            "/v1/accounts",
            &app.platform.secret,
            "type=custom&metadata[no%07te]=x",
        )
        .await;
    let kept = app
        .create_account(
            &app.platform.secret,
            "type=custom&metadata[note]=line%09one%0D%0Aline+two",
        )
        .await;

    assert_control_character(&escape, "metadata[note]", "U+001B");
    assert_eq!(in_a_key.status, 400, "{}", in_a_key.body);
    assert_eq!(error_of(&in_a_key)["param"], "metadata[no\u{7}te]");
    assert_eq!(kept["metadata"]["note"], "line\tone\r\nline two");
}

#[tokio::test]
async fn any_string_longer_than_five_thousand_characters_is_refused() {
    let app = spawn_app().await;
    let long = "a".repeat(5_001);

    let description = app
        .post_form(
            "/v1/webhook_endpoints",
            &app.platform.secret,
            &format!("url=https://example.com/hook&enabled_events[]=*&description={long}"),
        )
        .await;
    let at_the_cap = app
        .post_form(
            "/v1/webhook_endpoints",
            &app.platform.secret,
            &format!(
                "url=https://example.com/hook&enabled_events[]=*&description={}",
                "a".repeat(5_000)
            ),
        )
        .await;

    assert_eq!(description.status, 400, "{}", description.body);
    assert_eq!(
        error_of(&description),
        json!({
            "type": "invalid_request_error",
            "param": "description",
            "message": "This value must be at most 5000 characters long.",
        })
    );
    assert_eq!(at_the_cap.status, 200, "{}", at_the_cap.body);
}

#[tokio::test]
async fn a_business_profile_url_must_be_an_http_url() {
    let app = spawn_app().await;

    for url in [
        "javascript:alert(1)",
        "ftp://example.com",
        "data:text/html,x",
        "example.com",
    ] {
        let response = app
            .post_form(
                "/v1/accounts",
                &app.platform.secret,
                &format!("type=custom&business_profile[url]={}", urlencoding(url)),
            )
            .await;
        assert_eq!(response.status, 400, "{url}: {}", response.body);
        assert_eq!(error_of(&response)["param"], "business_profile[url]");
        assert_eq!(error_of(&response)["code"], "url_invalid");
    }
}

/// Percent-encodes the few characters the URLs above need.
fn urlencoding(text: &str) -> String {
    text.replace('%', "%25")
        .replace(':', "%3A")
        .replace('/', "%2F")
        .replace(',', "%2C")
        .replace('(', "%28")
        .replace(')', "%29")
}

#[tokio::test]
async fn an_invalid_email_is_refused_with_stripes_message() {
    let app: TestApp = spawn_app().await;

    let response = app
        .post_form(
            "/v1/accounts",
            &app.platform.secret,
            "type=custom&email=jenny",
        )
        .await;

    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(
        error_of(&response)["message"],
        "Invalid email address: jenny"
    );
    assert_eq!(error_of(&response)["code"], "email_invalid");
}

#[tokio::test]
async fn a_path_id_that_is_not_utf8_gets_what_an_unknown_id_gets_in_stripes_envelope() {
    let app = spawn_app().await;
    let sk = app.platform.secret.clone();
    let (_, em_key) = app.embedded_key_for(ONBOARDING).await;
    let account = app.create_account_id(&sk, "type=custom").await;

    // Each path with undecodable bytes, beside the same path with an unknown id.
    let cases = [
        (
            &sk,
            "/v1/accounts/acct_%FF%FE".to_owned(),
            "/v1/accounts/acct_Unknown0000".to_owned(),
        ),
        (
            &sk,
            format!("/v1/accounts/{account}/external_accounts/ba_%C3"),
            format!("/v1/accounts/{account}/external_accounts/ba_Unknown0000"),
        ),
        (
            &sk,
            format!("/v1/accounts/{account}/persons/person_%FF"),
            format!("/v1/accounts/{account}/persons/person_Unknown0000"),
        ),
        (
            &em_key,
            "/v1/account/persons/person_%FF".to_owned(),
            "/v1/account/persons/person_Unknown0000".to_owned(),
        ),
    ];
    for (key, bad, unknown) in cases {
        let response = app.get(&bad, key).await;
        let expected = app.get(&unknown, key).await;

        assert_eq!(response.status, expected.status, "{bad}: {}", response.body);
        assert!(response.status == 403 || response.status == 404, "{bad}");
        assert_eq!(
            response.headers["content-type"], "application/json",
            "{bad}"
        );
        let (error, expected) = (error_of(&response), error_of(&expected));
        assert_eq!(error["type"], expected["type"], "{bad}");
        assert_eq!(error["code"], expected["code"], "{bad}");
        assert_eq!(error["param"], expected["param"], "{bad}");
        assert!(
            error["message"].as_str().unwrap().contains('\u{FFFD}'),
            "{bad}: {error}"
        );
    }
}
