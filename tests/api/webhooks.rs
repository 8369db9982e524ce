//! Events and webhooks, end to end: endpoints managed as Stripe's are, the
//! events an onboarding records (with exactly what changed), signed
//! deliveries to a receiver on loopback, retries on the movable clock,
//! resends, and the secret kept out of logs and plain columns.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use connect_sessions::http::settings::ApiConfig;
use connect_sessions::keyring::MasterKey;
use connect_sessions::webhooks::worker::DeliverySettings;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::database::TestDatabase;
use crate::fixture::{ServerProcess, create_platform};
use crate::helpers::{START, TestApp, spawn_app, spawn_app_delivering};

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Delivery {
    /// The body as JSON.
    pub(crate) fn event(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// What the receiver shares with its handler.
#[derive(Debug, Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<Delivery>>>,
    /// Statuses to answer, in order; 200 once they run out.
    script: Arc<Mutex<VecDeque<u16>>>,
}

/// A webhook receiver on loopback that keeps every delivery.
#[derive(Debug)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    inbox: Inbox,
}

async fn receive(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inbox.received.lock().unwrap().push(Delivery {
        headers,
        body: String::from_utf8(body.to_vec()).expect("a UTF-8 body"),
    });
    let status = inbox.script.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    /// Listens on a free loopback port, answering 200.
    pub(crate) async fn start() -> Self {
        let inbox = Inbox::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/hooks", post(receive))
            .with_state(inbox.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, inbox }
    }

    /// Answers the next deliveries with these statuses, then 200.
    pub(crate) fn answer_with(&self, statuses: &[u16]) {
        self.inbox.script.lock().unwrap().extend(statuses);
    }

    /// Everything received so far.
    pub(crate) fn received(&self) -> Vec<Delivery> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// Waits until at least `count` deliveries arrived (panics after
    /// `within`); returns all of them.
    pub(crate) async fn wait_for(&self, count: usize, within: Duration) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} deliveries after {within:?}, expected {count}: {:#?}",
                received.len(),
                received
                    .iter()
                    .map(|d| d.event()["type"].clone())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Checks a `Stripe-Signature` header as the official SDKs do: `t=…,v1=…`,
/// HMAC-SHA256 of `"{t}.{body}"` keyed with the whole secret. Returns `t`.
pub(crate) fn verify_signature(delivery: &Delivery, secret: &str) -> i64 {
    let header = delivery.headers["stripe-signature"].to_str().unwrap();
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.split_once('=').expect("key=value");
        match key {
            "t" => timestamp = Some(value.to_owned()),
            "v1" => signatures.push(value.to_owned()),
            other => panic!("unexpected element {other} in {header}"),
        }
    }
    let timestamp = timestamp.expect("a timestamp");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{}", delivery.body).as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    assert!(
        signatures.contains(&expected),
        "no v1 signature matches: {header}"
    );
    timestamp.parse().expect("a decimal timestamp")
}

/// An application whose webhook worker looks for work every 20 ms.
async fn delivering_app() -> TestApp {
    spawn_app_delivering(
        ApiConfig::default(),
        DeliverySettings {
            poll_interval: Duration::from_millis(20),
            ..DeliverySettings::default()
        },
    )
    .await
}

/// Creates a Connect endpoint for every event at `url`; returns it (with its secret).
async fn connect_endpoint(app: &TestApp, url: &str) -> Value {
    app.post_form(
        "/v1/webhook_endpoints",
        &app.platform.secret,
        &format!("url={url}&enabled_events[]=*&connect=true"),
    )
    .await
    .ok()
}

/// How long a delivery that is due may take to arrive.
const PROMPTLY: Duration = Duration::from_secs(10);

/// A Custom US account requesting card payments and transfers.
const CUSTOM_US: &str = "type=custom&country=US\
    &capabilities[card_payments][requested]=true\
    &capabilities[transfers][requested]=true";

/// An individual with Stripe's test values that verify after the delay, and
/// the rest of what a US account needs, a bank account included.
const ONBOARDING: &str = "business_type=individual\
    &individual[first_name]=Jenny&individual[last_name]=Rosen\
    &individual[email]=jenny@example.com&individual[phone]=0000000000\
    &individual[dob][day]=1&individual[dob][month]=1&individual[dob][year]=1901\
    &individual[address][line1]=address_full_match&individual[address][city]=Schenectady\
    &individual[address][state]=NY&individual[address][postal_code]=12345\
    &individual[ssn_last_4]=0000\
    &business_profile[mcc]=5734&business_profile[url]=https://accessible.stripe.com\
    &settings[payments][statement_descriptor]=ROCKET+RIDES\
    &tos_acceptance[date]=1780272000&tos_acceptance[ip]=8.8.8.8\
    &external_account[object]=bank_account&external_account[country]=US\
    &external_account[currency]=usd&external_account[routing_number]=110000000\
    &external_account[account_number]=000123456789";

fn types(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| d.event()["type"].as_str().unwrap().to_owned())
        .collect()
}

/// The delivered event of `type`; panics unless there is exactly one.
fn only(deliveries: &[Delivery], event_type: &str) -> Value {
    let matching: Vec<Value> = deliveries
        .iter()
        .map(Delivery::event)
        .filter(|event| event["type"] == event_type)
        .collect();
    assert_eq!(matching.len(), 1, "{event_type} in {:?}", types(deliveries));
    matching[0].clone()
}

// --- Endpoints ----------------------------------------------------------------

#[tokio::test]
async fn an_endpoint_shows_its_secret_once_and_is_managed_like_stripes() {
    // Arrange
    let app = spawn_app().await;
    let sk = &app.platform.secret;

    // Act
    let created = app
        .post_form(
            "/v1/webhook_endpoints",
            sk,
            "url=https://hooks.example.com/stripe&enabled_events[]=account.updated\
             &enabled_events[]=capability.updated&connect=true&description=Onboarding\
             &metadata[team]=growth&api_version=2026-07-29.dahlia",
        )
        .await
        .ok();
    let id = created["id"].as_str().unwrap().to_owned();
    let retrieved = app
        .get(&format!("/v1/webhook_endpoints/{id}"), sk)
        .await
        .ok();
    let disabled = app
        .post_form(
            &format!("/v1/webhook_endpoints/{id}"),
            sk,
            "disabled=true&enabled_events[]=*&description=&url=https://hooks.example.com/v2",
        )
        .await
        .ok();
    let listed = app.get("/v1/webhook_endpoints", sk).await.ok();
    let foreign = app
        .get(
            &format!("/v1/webhook_endpoints/{id}"),
            &app.other_platform.secret,
        )
        .await;
    let other_mode = app
        .get(
            &format!("/v1/webhook_endpoints/{id}"),
            &app.platform.live_secret,
        )
        .await;
    let deleted = app
        .delete(&format!("/v1/webhook_endpoints/{id}"), sk)
        .await
        .ok();
    let gone = app.get(&format!("/v1/webhook_endpoints/{id}"), sk).await;

    // Assert
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 38,
        "{secret}"
    );
    assert!(id.starts_with("we_"));
    assert_eq!(
        created,
        json!({
            "id": id, "object": "webhook_endpoint", "api_version": "2026-07-29.dahlia",
            "application": null, "created": START, "description": "Onboarding",
            "enabled_events": ["account.updated", "capability.updated"],
            "livemode": false, "metadata": {"team": "growth"}, "secret": secret,
            "status": "enabled", "url": "https://hooks.example.com/stripe",
        })
    );
    let mut without_secret = created.clone();
    without_secret.as_object_mut().unwrap().remove("secret");
    assert_eq!(retrieved, without_secret);
    assert_eq!(disabled["status"], "disabled");
    assert_eq!(disabled["enabled_events"], json!(["*"]));
    assert_eq!(disabled["description"], Value::Null);
    assert_eq!(disabled["url"], "https://hooks.example.com/v2");
    assert_eq!(disabled.get("secret"), None);
    assert_eq!(listed["data"], json!([disabled]));
    assert_eq!(listed["url"], "/v1/webhook_endpoints");
    for refused in [&foreign, &other_mode] {
        assert_eq!(refused.status, 404);
        assert_eq!(refused.body["error"]["code"], "resource_missing");
        assert_eq!(
            refused.message(),
            format!("No such webhook endpoint: '{id}'")
        );
    }
    assert_eq!(
        deleted,
        json!({"id": id, "object": "webhook_endpoint", "deleted": true})
    );
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn endpoint_parameters_are_checked_as_stripe_checks_them() {
    // Arrange
    let app = spawn_app().await;
    let (sk, live) = (&app.platform.secret, &app.platform.live_secret);
    let create = |key: &str, body: &str| {
        let (key, body) = (key.to_owned(), body.to_owned());
        let app = &app;
        async move { app.post_form("/v1/webhook_endpoints", &key, &body).await }
    };

    // Act
    let no_url = create(sk, "enabled_events[]=*").await;
    let no_events = create(sk, "url=https://example.com/hooks").await;
    let not_a_url = create(sk, "url=hooks&enabled_events[]=*").await;
    let bad_event = create(
        sk,
        "url=https://example.com/h&enabled_events[]=Account.Updated",
    )
    .await;
    let live_http = create(live, "url=http://example.com/h&enabled_events[]=*").await;
    let live_loopback = create(live, "url=https://127.0.0.1/h&enabled_events[]=*").await;
    let live_metadata_ip = create(live, "url=https://169.254.169.254/h&enabled_events[]=*").await;
    let test_loopback = create(sk, "url=http://localhost:9/h&enabled_events[]=*").await;
    let live_public = create(live, "url=https://hooks.example.com/h&enabled_events[]=*").await;

    // Assert
    assert_eq!(
        (
            no_url.status,
            no_url.body["error"]["code"].as_str(),
            no_url.body["error"]["param"].as_str()
        ),
        (400, Some("parameter_missing"), Some("url"))
    );
    assert_eq!(no_events.body["error"]["param"], "enabled_events");
    assert_eq!(no_events.body["error"]["code"], "parameter_missing");
    assert_eq!(not_a_url.message(), "Not a valid URL");
    assert_eq!(not_a_url.body["error"]["code"], "url_invalid");
    assert_eq!(bad_event.status, 400);
    assert_eq!(bad_event.body["error"]["param"], "enabled_events[0]");
    assert_eq!(
        live_http.message(),
        "Invalid URL: webhook endpoints in live mode must use HTTPS."
    );
    for private in [&live_loopback, &live_metadata_ip] {
        assert_eq!(private.status, 400);
        assert!(
            private
                .message()
                .contains("URL must be publicly accessible")
        );
    }
    assert_eq!(test_loopback.status, 200);
    assert_eq!(live_public.status, 200);
    assert_eq!(live_public.body["livemode"], true);
}

#[tokio::test]
async fn a_platform_has_at_most_sixteen_endpoints_in_each_mode() {
    // Arrange
    let app = spawn_app().await;
    for n in 0..16 {
        app.post_form(
            "/v1/webhook_endpoints",
            &app.platform.secret,
            &format!("url=https://example.com/{n}&enabled_events[]=*"),
        )
        .await
        .ok();
    }

    // Act
    let seventeenth = app
        .post_form(
            "/v1/webhook_endpoints",
            &app.platform.secret,
            "url=https://example.com/17&enabled_events[]=*",
        )
        .await;
    let live = app
        .post_form(
            "/v1/webhook_endpoints",
            &app.platform.live_secret,
            "url=https://example.com/live&enabled_events[]=*",
        )
        .await;
    let page = app
        .get("/v1/webhook_endpoints?limit=10", &app.platform.secret)
        .await
        .ok();

    // Assert
    assert_eq!(seventeenth.status, 400);
    assert_eq!(
        seventeenth.message(),
        "You have reached the maximum of 16 webhook endpoints in test mode."
    );
    assert_eq!(live.status, 200);
    assert_eq!(page["data"].as_array().unwrap().len(), 10);
    assert_eq!(page["has_more"], true);
    assert_eq!(page["data"][0]["url"], "https://example.com/15");
}

// --- Events delivered ---------------------------------------------------------

#[tokio::test]
async fn each_onboarding_step_is_heard_as_signed_events_with_what_changed() {
    // Arrange
    let app = delivering_app().await;
    let receiver = Receiver::start().await;
    let endpoint = connect_endpoint(&app, &receiver.url).await;
    let secret = endpoint["secret"].as_str().unwrap();
    let account = app.create_account_id(&app.platform.secret, CUSTOM_US).await;

    // Act 1: the platform submits the individual, the bank account, the terms.
    let submitted = app
        .send(
            app.request(reqwest::Method::POST, &format!("/v1/accounts/{account}"))
                .bearer_auth(&app.platform.secret)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("idempotency-key", "onboard-1")
                .body(ONBOARDING),
        )
        .await;
    assert_eq!(submitted.status, 200);
    let request_id = submitted.header("request-id").to_owned();
    let first = receiver.wait_for(5, PROMPTLY).await;

    // Assert 1: the account, its two capabilities, its bank account and the
    // individual (a person of the account) changed.
    let mut first_types = types(&first);
    first_types.sort();
    assert_eq!(
        first_types,
        [
            "account.external_account.created",
            "account.updated",
            "capability.updated",
            "capability.updated",
            "person.created",
        ]
    );
    let person = only(&first, "person.created");
    assert_eq!(person["data"]["object"]["first_name"], "Jenny");
    assert_eq!(
        person["data"]["object"]["relationship"]["representative"],
        true
    );
    let updated = only(&first, "account.updated");
    assert_eq!(updated["account"], account.as_str());
    assert_eq!(updated["livemode"], false);
    assert_eq!(updated["api_version"], "2026-07-29.dahlia");
    assert_eq!(
        updated["request"],
        json!({"id": request_id, "idempotency_key": "onboard-1"})
    );
    let object = &updated["data"]["object"];
    assert_eq!(object["id"], account.as_str());
    assert_eq!(object["details_submitted"], true);
    assert_eq!(object["charges_enabled"], false);
    let previous = &updated["data"]["previous_attributes"];
    assert_eq!(previous["business_type"], Value::Null);
    assert_eq!(previous["details_submitted"], false);
    assert!(
        previous["requirements"]["currently_due"]
            .as_array()
            .unwrap()
            .contains(&json!("business_type")),
        "{previous}"
    );
    assert_eq!(
        previous["capabilities"],
        json!({"card_payments": "inactive", "transfers": "inactive"})
    );
    // Only what changed is listed.
    assert_eq!(previous.get("charges_enabled"), None);
    assert_eq!(previous.get("country"), None);
    let bank = only(&first, "account.external_account.created");
    assert_eq!(bank["data"]["object"]["object"], "bank_account");
    assert_eq!(bank["data"]["object"]["last4"], "6789");
    for delivery in &first {
        assert_eq!(verify_signature(delivery, secret), START);
        assert_eq!(
            delivery.headers["content-type"],
            "application/json; charset=utf-8"
        );
        assert_eq!(
            delivery.headers["user-agent"],
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
        );
    }

    // Act 2: the asynchronous checks complete when the clock passes the delay.
    app.clock.advance(Duration::from_secs(5));
    let second = receiver.wait_for(9, PROMPTLY).await;

    // Assert 2: nobody asked for this change; it enabled charges and payouts,
    // and verified the individual.
    let later = &second[5..];
    let verified = only(later, "person.updated");
    assert_eq!(
        verified["data"]["object"]["verification"]["status"],
        "verified"
    );
    assert_eq!(
        verified["data"]["previous_attributes"]["verification"]["status"],
        "pending"
    );
    let updated = only(later, "account.updated");
    assert_eq!(
        updated["request"],
        json!({"id": null, "idempotency_key": null})
    );
    assert_eq!(updated["data"]["object"]["charges_enabled"], true);
    let previous = &updated["data"]["previous_attributes"];
    assert_eq!(previous["charges_enabled"], false);
    assert_eq!(previous["payouts_enabled"], false);
    assert_eq!(
        previous["requirements"]["disabled_reason"],
        "requirements.pending_verification"
    );
    let capabilities: Vec<Value> = later
        .iter()
        .map(Delivery::event)
        .filter(|e| e["type"] == "capability.updated")
        .collect();
    assert_eq!(capabilities.len(), 2);
    for capability in &capabilities {
        assert_eq!(capability["data"]["object"]["status"], "active");
        assert_eq!(
            capability["data"]["previous_attributes"],
            json!({"status": "pending"})
        );
        assert_eq!(capability["data"]["object"]["account"], account.as_str());
    }
    for delivery in later {
        assert_eq!(verify_signature(delivery, secret), START + 5);
    }

    // Act 3: an email change; nothing else.
    app.post_form(
        &format!("/v1/accounts/{account}"),
        &app.platform.secret,
        "email=jenny.rosen@example.com",
    )
    .await
    .ok();
    let third = receiver.wait_for(10, PROMPTLY).await;
    let updated = only(&third[9..], "account.updated");
    assert_eq!(
        updated["data"]["previous_attributes"],
        json!({"email": null})
    );
    // And the list agrees with what was delivered.
    let listed = app
        .get("/v1/events?limit=100", &app.platform.secret)
        .await
        .ok();
    assert_eq!(listed["data"].as_array().unwrap().len(), 10);
    assert_eq!(listed["data"][0]["id"], updated["id"]);
}

#[tokio::test]
async fn persons_and_bank_accounts_have_their_own_events() {
    // Arrange
    let app = delivering_app().await;
    let receiver = Receiver::start().await;
    connect_endpoint(&app, &receiver.url).await;
    let account = app
        .create_account_id(
            &app.platform.secret,
            "type=custom&country=US&business_type=company",
        )
        .await;
    let sk = &app.platform.secret;

    // Act
    let person = app
        .post_form(
            &format!("/v1/accounts/{account}/persons"),
            sk,
            "first_name=Jane&relationship[owner]=true",
        )
        .await
        .ok();
    let person_id = person["id"].as_str().unwrap();
    app.post_form(
        &format!("/v1/accounts/{account}/persons/{person_id}"),
        sk,
        "last_name=Roe",
    )
    .await
    .ok();
    app.delete(&format!("/v1/accounts/{account}/persons/{person_id}"), sk)
        .await
        .ok();
    let bank = app
        .post_form(
            &format!("/v1/accounts/{account}/external_accounts"),
            sk,
            "external_account[object]=bank_account&external_account[country]=US\
             &external_account[currency]=usd&external_account[routing_number]=110000000\
             &external_account[account_number]=000123456789",
        )
        .await
        .ok();
    let bank_id = bank["id"].as_str().unwrap();
    app.post_form(
        &format!("/v1/accounts/{account}/external_accounts/{bank_id}"),
        sk,
        "account_holder_name=Jane+Roe",
    )
    .await
    .ok();
    app.delete(
        &format!("/v1/accounts/{account}/external_accounts/{bank_id}"),
        sk,
    )
    .await
    .ok();
    let listed = app
        .get(
            "/v1/events?types[]=person.*&types[]=account.external_account.*",
            sk,
        )
        .await
        .ok();

    // Assert
    let types: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "account.external_account.deleted",
            "account.external_account.updated",
            "account.external_account.created",
            "person.deleted",
            "person.updated",
            "person.created",
        ]
    );
    let data = &listed["data"];
    // The person's requirements changed with it: both are listed.
    assert_eq!(
        data[4]["data"]["previous_attributes"]["last_name"],
        Value::Null
    );
    assert!(
        data[4]["data"]["previous_attributes"]["requirements"]["currently_due"]
            .as_array()
            .unwrap()
            .contains(&json!("last_name"))
    );
    assert_eq!(data[4]["data"]["object"]["last_name"], "Roe");
    assert_eq!(data[3]["data"]["object"]["deleted"], true);
    assert_eq!(
        data[1]["data"]["previous_attributes"],
        json!({"account_holder_name": null})
    );
    assert_eq!(data[0]["data"]["object"]["id"], bank_id);
    // Every one of them reached the endpoint too (with the account updates).
    let delivered = receiver.wait_for(6, PROMPTLY).await;
    assert!(delivered.len() >= 6);
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt() {
    // Arrange
    let app = delivering_app().await;
    let receiver = Receiver::start().await;
    receiver.answer_with(&[500, 503, 404]);
    let endpoint = app
        .post_form(
            "/v1/webhook_endpoints",
            &app.platform.secret,
            &format!(
                "url={}&enabled_events[]=account.updated&connect=true",
                receiver.url
            ),
        )
        .await
        .ok();
    let endpoint_id = endpoint["id"].as_str().unwrap();
    let account = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;

    // Act: one event; its first attempt fails at once.
    app.post_form(
        &format!("/v1/accounts/{account}"),
        &app.platform.secret,
        "email=jenny@example.com",
    )
    .await
    .ok();
    receiver.wait_for(1, PROMPTLY).await;
    // Not again before the first retry is due (a minute in test mode)...
    app.clock.advance(Duration::from_secs(59));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before_due = receiver.received().len();
    // ...then once per retry, each on the clock, not on the wall.
    app.clock.advance(Duration::from_secs(1));
    receiver.wait_for(2, PROMPTLY).await;
    app.clock.advance(Duration::from_secs(600));
    receiver.wait_for(3, PROMPTLY).await;
    app.clock.advance(Duration::from_secs(3600));
    let all = receiver.wait_for(4, PROMPTLY).await;
    // Done: nothing more, however far the clock moves (within the event's 30 days).
    app.clock.advance(Duration::from_secs(20 * 86_400));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attempts = app
        .get(
            &format!("/v1/webhook_endpoints/{endpoint_id}/attempts"),
            &app.platform.secret,
        )
        .await
        .ok();

    // Assert
    assert_eq!(before_due, 1);
    assert_eq!(receiver.received().len(), 4);
    let ids: Vec<Value> = all.iter().map(|d| d.event()["id"].clone()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one event, four times");
    // A new signature, with the attempt's own time, on every attempt.
    let secret = endpoint["secret"].as_str().unwrap();
    let times: Vec<i64> = all.iter().map(|d| verify_signature(d, secret)).collect();
    assert_eq!(times, [START, START + 60, START + 660, START + 4260]);
    let rows: Vec<(u64, Option<u64>, Value)> = attempts["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["attempt"].as_u64().unwrap(),
                a["http_status"].as_u64(),
                a["error"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (4, Some(200), Value::Null),
            (3, Some(404), json!("HTTP 404")),
            (2, Some(503), json!("HTTP 503")),
            (1, Some(500), json!("HTTP 500")),
        ]
    );
    assert_eq!(attempts["data"][0]["succeeded"], true);
    assert_eq!(attempts["data"][0]["event"], ids[0]);
    let event = app
        .get(
            &format!("/v1/events/{}", ids[0].as_str().unwrap()),
            &app.platform.secret,
        )
        .await
        .ok();
    assert_eq!(event["pending_webhooks"], 0);
}

#[tokio::test]
async fn a_delivery_that_never_succeeds_stops_after_the_last_retry() {
    // Arrange: nothing listens at this port.
    let app = delivering_app().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", closed.local_addr().unwrap());
    drop(closed);
    let endpoint = connect_endpoint(&app, &url).await;
    let endpoint_id = endpoint["id"].as_str().unwrap();
    let account = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;
    app.post_form(
        &format!("/v1/accounts/{account}"),
        &app.platform.secret,
        "email=jenny@example.com",
    )
    .await
    .ok();
    let attempts_url = format!("/v1/webhook_endpoints/{endpoint_id}/attempts");

    // Act: four attempts in test mode, then none.
    for wait in [0, 60, 600, 3600, 86_400] {
        app.clock.advance(Duration::from_secs(wait));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let attempts = app.get(&attempts_url, &app.platform.secret).await.ok();
    let events = app
        .get("/v1/events?delivery_success=false", &app.platform.secret)
        .await
        .ok();
    let succeeded = app
        .get("/v1/events?delivery_success=true", &app.platform.secret)
        .await
        .ok();

    // Assert
    let data = attempts["data"].as_array().unwrap();
    assert_eq!(data.len(), 4, "{attempts}");
    assert!(
        data.iter()
            .all(|a| a["error"] == "could not connect" && a["http_status"].is_null())
    );
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    assert_eq!(events["data"][0]["pending_webhooks"], 1);
    assert_eq!(succeeded["data"], json!([]));
}

#[tokio::test]
async fn disabled_endpoints_get_nothing_and_other_platforms_hear_nothing() {
    // Arrange
    let app = delivering_app().await;
    let ours = Receiver::start().await;
    let theirs = Receiver::start().await;
    let disabled_receiver = Receiver::start().await;
    let platform_only = Receiver::start().await;
    connect_endpoint(&app, &ours.url).await;
    app.post_form(
        "/v1/webhook_endpoints",
        &app.other_platform.secret,
        &format!("url={}&enabled_events[]=*&connect=true", theirs.url),
    )
    .await
    .ok();
    let disabled = connect_endpoint(&app, &disabled_receiver.url).await;
    app.post_form(
        &format!("/v1/webhook_endpoints/{}", disabled["id"].as_str().unwrap()),
        &app.platform.secret,
        "disabled=true",
    )
    .await
    .ok();
    // Not a Connect endpoint: the platform's own events only (none here).
    app.post_form(
        "/v1/webhook_endpoints",
        &app.platform.secret,
        &format!("url={}&enabled_events[]=*", platform_only.url),
    )
    .await
    .ok();
    let account = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;

    // Act
    app.post_form(
        &format!("/v1/accounts/{account}"),
        &app.platform.secret,
        "email=jenny@example.com",
    )
    .await
    .ok();
    ours.wait_for(1, PROMPTLY).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let their_list = app.get("/v1/events", &app.other_platform.secret).await.ok();
    let live_list = app.get("/v1/events", &app.platform.live_secret).await.ok();

    // Assert
    assert_eq!(ours.received().len(), 1);
    assert!(theirs.received().is_empty());
    assert!(disabled_receiver.received().is_empty());
    assert!(platform_only.received().is_empty());
    assert_eq!(their_list["data"], json!([]));
    assert_eq!(live_list["data"], json!([]));
}

// --- Events listed --------------------------------------------------------------

#[tokio::test]
async fn events_are_listed_by_type_and_time_and_kept_thirty_days() {
    // Arrange: three email changes a day apart.
    let app = spawn_app().await;
    let sk = &app.platform.secret;
    let account = app.create_account_id(sk, "type=custom").await;
    for n in 0..3 {
        app.post_form(
            &format!("/v1/accounts/{account}"),
            sk,
            &format!("email=jenny{n}@example.com"),
        )
        .await
        .ok();
        app.clock.advance(Duration::from_secs(86_400));
    }
    let day = |n: i64| START + n * 86_400;

    // Act
    let all = app.get("/v1/events", sk).await.ok();
    let first_id = all["data"][2]["id"].as_str().unwrap().to_owned();
    let exact = app
        .get(&format!("/v1/events?created={}", day(1)), sk)
        .await
        .ok();
    let bounded = app
        .get(
            &format!("/v1/events?created[gt]={}&created[lte]={}", day(0), day(2)),
            sk,
        )
        .await
        .ok();
    let by_type = app.get("/v1/events?type=account.updated", sk).await.ok();
    let wildcard = app.get("/v1/events?type=account.*", sk).await.ok();
    let none = app.get("/v1/events?type=capability.updated", sk).await.ok();
    let both = app
        .get("/v1/events?type=account.updated&types[]=person.created", sk)
        .await;
    let page = app.get("/v1/events?limit=2", sk).await.ok();
    let next = app
        .get(
            &format!(
                "/v1/events?limit=2&starting_after={}",
                page["data"][1]["id"].as_str().unwrap()
            ),
            sk,
        )
        .await
        .ok();
    let retrieved = app.get(&format!("/v1/events/{first_id}"), sk).await.ok();
    let foreign = app
        .get(
            &format!("/v1/events/{first_id}"),
            &app.other_platform.secret,
        )
        .await;
    app.clock.advance(Duration::from_secs(28 * 86_400));
    let after_thirty_days = app.get("/v1/events", sk).await.ok();
    let expired = app.get(&format!("/v1/events/{first_id}"), sk).await;

    // Assert
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    assert_eq!(all["url"], "/v1/events");
    assert_eq!(exact["data"].as_array().unwrap().len(), 1);
    assert_eq!(exact["data"][0]["created"], day(1));
    assert_eq!(bounded["data"].as_array().unwrap().len(), 2);
    assert_eq!(by_type["data"].as_array().unwrap().len(), 3);
    assert_eq!(wildcard["data"].as_array().unwrap().len(), 3);
    assert_eq!(none["data"], json!([]));
    assert_eq!(both.status, 400);
    assert_eq!(
        both.message(),
        "You may only specify one of these parameters: type, types."
    );
    assert_eq!(page["has_more"], true);
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
    assert_eq!(next["has_more"], false);
    assert_eq!(retrieved, all["data"][2]);
    assert_eq!(
        retrieved["data"]["previous_attributes"],
        json!({"email": null})
    );
    assert_eq!(foreign.status, 404);
    assert_eq!(foreign.message(), format!("No such event: '{first_id}'"));
    // 30 days after the first: it is gone, the two later ones remain.
    assert_eq!(after_thirty_days["data"].as_array().unwrap().len(), 2);
    assert_eq!(expired.status, 404);
}

#[tokio::test]
async fn an_event_is_sent_again_on_request() {
    // Arrange
    let app = delivering_app().await;
    let first = Receiver::start().await;
    let second = Receiver::start().await;
    connect_endpoint(&app, &first.url).await;
    // Subscribed to nothing this server emits: only a resend naming it reaches it.
    let named = app
        .post_form(
            "/v1/webhook_endpoints",
            &app.platform.secret,
            &format!(
                "url={}&enabled_events[]=payout.paid&connect=true",
                second.url
            ),
        )
        .await
        .ok();
    let account = app
        .create_account_id(&app.platform.secret, "type=custom")
        .await;
    app.post_form(
        &format!("/v1/accounts/{account}"),
        &app.platform.secret,
        "email=jenny@example.com",
    )
    .await
    .ok();
    let event = first.wait_for(1, PROMPTLY).await[0].event();
    let event_id = event["id"].as_str().unwrap();

    // Act
    let everyone = app
        .post_form(
            &format!("/v1/events/{event_id}/retry"),
            &app.platform.secret,
            "",
        )
        .await
        .ok();
    first.wait_for(2, PROMPTLY).await;
    let only_named = app
        .post_form(
            &format!("/v1/test_helpers/events/{event_id}/resend"),
            &app.platform.secret,
            &format!("webhook_endpoint={}", named["id"].as_str().unwrap()),
        )
        .await
        .ok();
    second.wait_for(1, PROMPTLY).await;
    let unknown_endpoint = app
        .post_form(
            &format!("/v1/events/{event_id}/retry"),
            &app.platform.secret,
            "webhook_endpoint=we_nothere",
        )
        .await;
    let foreign = app
        .post_form(
            &format!("/v1/events/{event_id}/retry"),
            &app.other_platform.secret,
            "",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Assert
    assert_eq!(everyone["id"], event_id);
    assert_eq!(only_named["id"], event_id);
    assert_eq!(first.received().len(), 2);
    assert_eq!(second.received().len(), 1);
    assert_eq!(second.received()[0].event()["id"], event_id);
    assert_eq!(unknown_endpoint.status, 400);
    assert_eq!(unknown_endpoint.body["error"]["param"], "webhook_endpoint");
    assert_eq!(foreign.status, 404);
}

// --- Secrets, crashes, replicas ---------------------------------------------------

#[tokio::test]
async fn the_signing_secret_is_in_no_log_line_and_no_plain_column() {
    // Arrange: the binary, logging everything, delivering to a receiver.
    let database = TestDatabase::create().await;
    let url = database.url();
    let platform = create_platform(&url);
    let receiver = Receiver::start().await;
    let server = ServerProcess::command("webhook-secret")
        .args([
            "--database",
            url.as_str(),
            "--webhook-poll-interval",
            "50ms",
        ])
        .env(
            "CONNECT_SESSIONS_MASTER_KEYS",
            &MasterKey::generate().encode(),
        )
        .env("RUST_LOG", "trace")
        .start()
        .await;

    // Act
    let endpoint = server
        .post(
            "/v1/webhook_endpoints",
            &platform.secret,
            &format!("url={}&enabled_events[]=*&connect=true", receiver.url),
        )
        .await
        .ok();
    let account = server
        .post("/v1/accounts", &platform.secret, "type=custom")
        .await
        .ok();
    server
        .post(
            &format!("/v1/accounts/{}", account["id"].as_str().unwrap()),
            &platform.secret,
            "email=jenny@example.com",
        )
        .await
        .ok();
    let delivered = receiver.wait_for(1, PROMPTLY).await;
    let logs = server.stop().await;

    // Assert
    let secret = endpoint["secret"].as_str().unwrap();
    verify_signature(&delivered[0], secret);
    let random_part = &secret["whsec_".len()..];
    assert!(
        !logs.contains(random_part),
        "the secret is in the logs:\n{logs}"
    );
    assert!(
        logs.contains("webhook endpoint created"),
        "the capture works"
    );
    assert_eq!(
        database.places_holding(random_part).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn deliveries_queued_when_the_server_is_killed_are_made_after_it_restarts() {
    // Arrange: a server whose worker ran once at start and then sleeps.
    let database = TestDatabase::create().await;
    let url = database.url();
    let platform = create_platform(&url);
    let master_keys = MasterKey::generate().encode();
    let receiver = Receiver::start().await;
    let start = |poll: &'static str| {
        ServerProcess::command("webhook-crash")
            .args(["--database", url.as_str(), "--webhook-poll-interval", poll])
            .env("CONNECT_SESSIONS_MASTER_KEYS", &master_keys)
            .start()
    };
    let sleeper = start("1h").await;
    sleeper
        .post(
            "/v1/webhook_endpoints",
            &platform.secret,
            &format!(
                "url={}&enabled_events[]=account.updated&connect=true",
                receiver.url
            ),
        )
        .await
        .ok();
    let mut accounts = Vec::new();
    for n in 0..5 {
        let account = sleeper
            .post("/v1/accounts", &platform.secret, "type=custom")
            .await
            .ok();
        let id = account["id"].as_str().unwrap().to_owned();
        sleeper
            .post(
                &format!("/v1/accounts/{id}"),
                &platform.secret,
                &format!("email=jenny{n}@example.com"),
            )
            .await
            .ok();
        accounts.push(id);
    }

    // Act: SIGKILL with five deliveries queued, then a server that works.
    sleeper.kill_hard();
    assert!(receiver.received().is_empty());
    let restarted = start("50ms").await;
    let delivered = receiver.wait_for(5, PROMPTLY).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Assert: every one of them, each about its own account.
    let mut about: Vec<String> = delivered
        .iter()
        .map(|d| d.event()["account"].as_str().unwrap().to_owned())
        .collect();
    about.sort();
    about.dedup();
    accounts.sort();
    assert_eq!(about, accounts);
    assert_eq!(receiver.received().len(), 5);
    drop(restarted);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: two processes share one outbox"]
async fn two_servers_on_one_postgres_database_deliver_each_event_once() {
    // Arrange: two processes on one database, both delivering every 20 ms.
    let Some(server_url) = crate::database::postgres_server() else {
        panic!("CONNECT_SESSIONS_TEST_DATABASE is not set");
    };
    let database = TestDatabase::create_postgres(&server_url).await;
    let url = database.url();
    let platform = create_platform(&url);
    let master_keys = MasterKey::generate().encode();
    let receiver = Receiver::start().await;
    let mut servers = Vec::new();
    for name in ["replica-a", "replica-b"] {
        servers.push(
            ServerProcess::command(name)
                .args([
                    "--database",
                    url.as_str(),
                    "--webhook-poll-interval",
                    "20ms",
                ])
                .env("CONNECT_SESSIONS_MASTER_KEYS", &master_keys)
                .start()
                .await,
        );
    }
    servers[0]
        .post(
            "/v1/webhook_endpoints",
            &platform.secret,
            &format!(
                "url={}&enabled_events[]=account.updated&connect=true",
                receiver.url
            ),
        )
        .await
        .ok();

    // Act: forty events, written through both replicas.
    let count = 40;
    for n in 0..count {
        let server = &servers[n % 2];
        let account = server
            .post("/v1/accounts", &platform.secret, "type=custom")
            .await
            .ok();
        server
            .post(
                &format!("/v1/accounts/{}", account["id"].as_str().unwrap()),
                &platform.secret,
                &format!("email=jenny{n}@example.com"),
            )
            .await
            .ok();
    }
    receiver.wait_for(count, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Assert: each event once, and once in the attempts.
    let delivered = receiver.received();
    let mut ids: Vec<String> = delivered
        .iter()
        .map(|d| d.event()["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let before = ids.len();
    ids.dedup();
    assert_eq!((before, ids.len()), (count, count));
    assert_eq!(database.count("webhook_attempts").await, count as i64);
}
