//! Isolation, endpoint by endpoint: another platform's keys and the other
//! mode's keys see nothing of an object, and get exactly what Stripe answers
//! for an object that does not exist.

use serde_json::Value;

use crate::helpers::{SEED_COMPONENTS, TestApp, TestResponse, spawn_app};

/// The keys that must not see the platform's test-mode objects, with a name
/// for failure messages.
fn outsiders(app: &TestApp) -> [(&'static str, String); 3] {
    [
        (
            "the other platform's test key",
            app.other_platform.secret.clone(),
        ),
        (
            "the other platform's live key",
            app.other_platform.live_secret.clone(),
        ),
        (
            "the same platform's live key",
            app.platform.live_secret.clone(),
        ),
    ]
}

/// What `key` is told about an account path it cannot see: Stripe's 403.
fn assert_no_access(response: &TestResponse, key: &str, account: &str, who: &str) {
    assert_eq!(response.status, 403, "{who}: {}", response.body);
    assert_eq!(response.body["error"]["code"], "account_invalid", "{who}");
    assert_eq!(
        response.body["error"]["message"],
        format!(
            "The provided key '{}' does not have access to account '{account}' (or that account does not exist). Application access may have been revoked.",
            crate::helpers::mask(key)
        ),
        "{who}"
    );
}

/// The answer for an account id that exists nowhere, for comparison.
async fn answers_for_a_missing_account(
    app: &TestApp,
    key: &str,
    path_of: impl Fn(&str) -> String,
) -> Value {
    app.get(&path_of("acct_0000000000000000"), key).await.body
}

#[tokio::test]
async fn account_paths_look_the_same_to_outsiders_as_a_missing_account() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;

    for (who, key) in outsiders(&app) {
        // Act
        let retrieve = app.get(&format!("/v1/accounts/{account}"), &key).await;
        let update = app
            .post_form(&format!("/v1/accounts/{account}"), &key, "metadata[x]=1")
            .await;
        let delete = app.delete(&format!("/v1/accounts/{account}"), &key).await;
        let banks = app
            .get(&format!("/v1/accounts/{account}/external_accounts"), &key)
            .await;

        // Assert: the same answer as for an id that exists nowhere.
        for response in [&retrieve, &update, &delete, &banks] {
            assert_no_access(response, &key, &account, who);
        }
        let missing =
            answers_for_a_missing_account(&app, &key, |id| format!("/v1/accounts/{id}")).await;
        assert_eq!(
            retrieve.body["error"]["code"], missing["error"]["code"],
            "{who}"
        );
    }
    // Nothing changed for the owner.
    let own = app
        .get(&format!("/v1/accounts/{account}"), &app.platform.secret)
        .await;
    assert_eq!(own.status, 200);
    assert_eq!(own.body["metadata"], serde_json::json!({}));
}

#[tokio::test]
async fn lists_never_show_another_platforms_or_modes_accounts() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;

    for (who, key) in outsiders(&app) {
        // Act
        let list = app.get("/v1/accounts?limit=100", &key).await;
        let after = app
            .get(&format!("/v1/accounts?starting_after={account}"), &key)
            .await;

        // Assert
        assert_eq!(list.status, 200, "{who}");
        assert!(
            !list.body.to_string().contains(&account),
            "{who} sees the account in a list"
        );
        assert_eq!(after.status, 400, "{who}: a cursor naming the account");
        assert_eq!(after.body["error"]["code"], "resource_missing", "{who}");
    }
}

#[tokio::test]
async fn a_session_for_an_outsiders_account_is_no_such_account() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;
    let body = format!("account={account}&{SEED_COMPONENTS}");

    for (who, key) in outsiders(&app) {
        // Act
        let response = app.create_account_session(&key, &body).await;

        // Assert: the other platform learns nothing; only the owner's other mode
        // hears that the object exists in test mode (as Stripe tells it).
        assert_eq!(response.status, 400, "{who}");
        assert_eq!(response.body["error"]["code"], "resource_missing", "{who}");
        assert_eq!(response.body["error"]["param"], "account", "{who}");
        let message = response.body["error"]["message"].as_str().unwrap();
        if key == app.platform.live_secret {
            assert_eq!(
                message,
                format!(
                    "No such account: '{account}'; a similar object exists in test mode, but a live mode key was used to make this request."
                )
            );
        } else {
            assert_eq!(message, format!("No such account: '{account}'"), "{who}");
        }
    }
}

#[tokio::test]
async fn an_outsider_can_neither_claim_nor_revoke_nor_expire_a_session() {
    // Arrange
    let app = spawn_app().await;
    let account = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;
    let session = app
        .create_account_session(
            &app.platform.secret,
            &format!("account={account}&{SEED_COMPONENTS}"),
        )
        .await
        .ok();
    let body = format!(
        "client_secret={}",
        session["client_secret"].as_str().unwrap()
    );
    let unknown_body = format!("client_secret=accs_secret__{}", "A".repeat(47));
    let publishable_outsiders = [
        app.other_platform.publishable.clone(),
        app.other_platform.live_publishable.clone(),
        app.platform.live_publishable.clone(),
    ];

    // Act and assert: the same body as for a secret that exists nowhere.
    for key in &publishable_outsiders {
        let claim = app
            .post_form("/v1/account_sessions/claim", key, &body)
            .await;
        let unknown = app
            .post_form("/v1/account_sessions/claim", key, &unknown_body)
            .await;
        assert_eq!(claim.status, 400);
        assert_eq!(claim.body, unknown.body);
    }
    for (who, key) in outsiders(&app) {
        for path in [
            "/v1/account_sessions/revoke",
            "/v1/test_helpers/account_sessions/expire",
        ] {
            let response = app.post_form(path, &key, &body).await;
            let unknown = app.post_form(path, &key, &unknown_body).await;
            assert_eq!(response.body, unknown.body, "{who} {path}");
            assert!(response.status == 400, "{who} {path}: {}", response.body);
        }
    }
    // The session is untouched: its owner's browser claims it.
    let claimed = app
        .post_form(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            &body,
        )
        .await;
    assert_eq!(claimed.status, 200, "{}", claimed.body);
}

#[tokio::test]
async fn an_em_key_reaches_only_its_own_account() {
    // Arrange: two accounts of the platform, and an em_ key for the first.
    let app = spawn_app().await;
    let mine = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;
    let other = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;
    let session = app
        .create_account_session(
            &app.platform.secret,
            &format!("account={mine}&components[account_management][enabled]=true"),
        )
        .await
        .ok();
    let claimed = app
        .post_form(
            "/v1/account_sessions/claim",
            &app.platform.publishable,
            &format!(
                "client_secret={}",
                session["client_secret"].as_str().unwrap()
            ),
        )
        .await
        .ok();
    let em = claimed["secret"].as_str().unwrap();

    // Act
    let own = app.get("/v1/account", em).await;
    let other_by_path = app.get(&format!("/v1/accounts/{other}"), em).await;
    let banks_of_other = app
        .get(&format!("/v1/accounts/{other}/external_accounts"), em)
        .await;

    // Assert
    assert_eq!(own.body["id"], mine.as_str());
    for response in [&other_by_path, &banks_of_other] {
        assert_eq!(response.status, 403, "{}", response.body);
        assert!(!response.body.to_string().contains(&other));
    }
}

/// `GET path` with `key` and a `Stripe-Account` header naming `account`.
async fn get_as(app: &TestApp, path: &str, key: &str, account: &str) -> TestResponse {
    app.send(
        app.request(reqwest::Method::GET, path)
            .bearer_auth(key)
            .header("Stripe-Account", account),
    )
    .await
}

#[tokio::test]
async fn stripe_account_acts_as_one_connected_account_of_the_caller_and_never_reaches_another() {
    // Arrange: an account of the platform, and one of the other platform.
    let app = spawn_app().await;
    let sk = &app.platform.secret;
    let ours = app.create_account_id(sk, "type=custom").await;
    let theirs = app
        .create_account_id(&app.other_platform.secret, "type=custom")
        .await;
    let sibling = app.create_account_id(sk, "type=custom").await;

    // Act
    let itself = get_as(&app, &format!("/v1/accounts/{ours}"), sk, &ours).await;
    let persons = get_as(&app, &format!("/v1/accounts/{ours}/persons"), sk, &ours).await;
    let other_platform = get_as(&app, &format!("/v1/accounts/{theirs}"), sk, &theirs).await;
    let missing = get_as(
        &app,
        "/v1/accounts/acct_1NoSuchAccount000",
        sk,
        "acct_1NoSuchAccount000",
    )
    .await;
    let other_mode = get_as(
        &app,
        &format!("/v1/accounts/{ours}"),
        &app.platform.live_secret,
        &ours,
    )
    .await;
    let another_of_ours = get_as(&app, &format!("/v1/accounts/{sibling}"), sk, &ours).await;
    let nonsense = get_as(&app, &format!("/v1/accounts/{ours}"), sk, "not an account").await;

    // Assert: its own paths work; everything else is the one "no access" answer.
    assert_eq!(itself.status, 200, "{}", itself.body);
    assert_eq!(itself.body["id"], ours.as_str());
    assert_eq!(itself.header("stripe-account"), ours);
    assert_eq!(persons.status, 200, "{}", persons.body);
    assert_no_access(&other_platform, sk, &theirs, "another platform's account");
    assert_no_access(&missing, sk, "acct_1NoSuchAccount000", "a missing account");
    assert_no_access(
        &other_mode,
        &app.platform.live_secret,
        &ours,
        "the other mode",
    );
    assert_no_access(&another_of_ours, sk, &sibling, "a sibling account");
    assert_no_access(&nonsense, sk, "not an account", "not an id");
    // The other platform's answer is the missing account's, word for word.
    assert_eq!(
        other_platform.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace(&theirs, "X"),
        missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace("acct_1NoSuchAccount000", "X"),
    );
}

#[tokio::test]
async fn stripe_account_is_refused_where_the_platform_acts_for_itself_never_ignored() {
    let app = spawn_app().await;
    let sk = &app.platform.secret;
    let account = app.create_account_id(sk, "type=custom").await;

    let list = get_as(&app, "/v1/accounts", sk, &account).await;
    let session = app
        .send(
            app.request(reqwest::Method::POST, "/v1/account_sessions")
                .bearer_auth(sk)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("Stripe-Account", &account)
                .body(format!(
                    "account={account}&components[account_onboarding][enabled]=true"
                )),
        )
        .await;
    let events = get_as(&app, "/v1/events", sk, &account).await;

    for (response, what) in [
        (&list, "GET /v1/accounts"),
        (&session, "POST /v1/account_sessions"),
        (&events, "GET /v1/events"),
    ] {
        assert_eq!(response.status, 400, "{what}: {}", response.body);
        assert_eq!(response.body["error"]["type"], "invalid_request_error");
        let message = response.body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!(
                "The Stripe-Account header is not supported on {what}"
            )),
            "{message}"
        );
    }
    // Nothing was created.
    assert_eq!(app.database.count("account_sessions").await, 0);
}

#[tokio::test]
async fn stripe_account_with_an_embedded_key_may_name_its_own_account_only() {
    let app = spawn_app().await;
    let (account, key) = app
        .embedded_key_for("components[account_onboarding][enabled]=true")
        .await;
    let other = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;

    let own = get_as(&app, "/v1/account", &key, &account).await;
    let another = get_as(&app, "/v1/account", &key, &other).await;

    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(another.status, 403, "{}", another.body);
    assert_eq!(another.body["error"]["code"], "account_invalid");
}

/// A US bank account as a platform attaches it.
const EXTERNAL_BANK_ACCOUNT: &str = "external_account[object]=bank_account\
    &external_account[country]=US&external_account[currency]=usd\
    &external_account[routing_number]=110000000&external_account[account_number]=000123456789";

/// Attaches the bank account above to `account` with `key`.
async fn attach(app: &TestApp, key: &str, account: &str) -> TestResponse {
    app.post_form(
        &format!("/v1/accounts/{account}/external_accounts"),
        key,
        EXTERNAL_BANK_ACCOUNT,
    )
    .await
}

#[tokio::test]
async fn bank_account_fingerprints_are_scoped_to_one_platform() {
    // Arrange: two accounts of one platform, one of another.
    let app = spawn_app().await;
    let sk = &app.platform.secret;
    let first = app.create_account_id(sk, "type=custom").await;
    let second = app.create_account_id(sk, "type=custom").await;
    let other = &app.other_platform.secret;
    let theirs = app.create_account_id(other, "type=custom").await;

    // Act: the same bank account on all three.
    let mut seen = Vec::new();
    for (key, account) in [(sk, &first), (sk, &second), (other, &theirs)] {
        let attached = attach(&app, key, account).await.ok();
        seen.push(attached["fingerprint"].as_str().unwrap().to_owned());
    }

    // Assert: stable within the platform, unrelated across platforms.
    assert_eq!(seen[0], seen[1]);
    assert_ne!(seen[0], seen[2]);
}

#[tokio::test]
async fn a_bank_account_stored_with_an_unscoped_fingerprint_is_still_a_duplicate() {
    // Arrange: a bank account as a version before scoping stored it: its
    // fingerprint over the bank details alone.
    let app = spawn_app().await;
    let sk = &app.platform.secret;
    let account = app.create_account_id(sk, "type=custom").await;
    let attached = attach(&app, sk, &account).await.ok();
    let unscoped = &app.keyring.fingerprints("US|110000000|000123456789")[0];
    assert_ne!(attached["fingerprint"], unscoped.as_str());
    app.database
        .execute(&format!(
            "update external_accounts set fingerprint = '{unscoped}' where id = '{}'",
            attached["id"].as_str().unwrap()
        ))
        .await;

    // Act
    let again = attach(&app, sk, &account).await;

    // Assert
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(again.body["error"]["code"], "bank_account_exists");
}
