//! The test harness: [`spawn_app`] starts the real application on a random port
//! with its own database (see [`TestDatabase`]) and a clock the test moves by hand, and
//! [`TestApp`] speaks to it over HTTP the way Stripe's clients do.
//!
//! Also here: the shape checks that run before a snapshot hides a generated
//! value ([`account_id`], [`client_secret`], [`exactly`]), and the filters that
//! hide generated values inside error messages ([`message_filters`]).

use std::sync::{Arc, Once};

use connect_sessions::app::App;
use connect_sessions::clock::{ManualClock, Timestamp};
use connect_sessions::domain::platform::NewPlatform;
use connect_sessions::http::settings::ApiConfig;
use connect_sessions::http::state::AppState;
use connect_sessions::keyring::Keyring;
use connect_sessions::store::Store;
use connect_sessions::telemetry::{self, LogFormat};
use connect_sessions::webhooks::worker::DeliverySettings;
use insta::internals::{Content, Redaction, SettingsBindDropGuard};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use serde::Serialize;
use serde_json::Value;

use crate::database::TestDatabase;

/// Where every test's clock starts: 2026-06-01T00:00:00Z. A fixed instant makes
/// every `created` and `expires_at` exact.
pub(crate) const START: i64 = 1_780_272_000;

/// Stripe's default session lifetime in this server: 30 minutes.
pub(crate) const DEFAULT_TTL_SECS: i64 = 30 * 60;

/// The content type every Stripe client sends.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// The seed's curl example, without its account.
pub(crate) const SEED_COMPONENTS: &str = "components[account_onboarding][enabled]=true\
    &components[payments][enabled]=true\
    &components[payouts][enabled]=true\
    &components[balances][enabled]=true";

/// The four keys of one platform, as `connect-sessions platforms create` prints them.
#[derive(Debug, Clone)]
pub(crate) struct PlatformKeys {
    /// `sk_test_…`
    pub(crate) secret: String,
    /// `pk_test_…`
    pub(crate) publishable: String,
    /// `sk_live_…`
    pub(crate) live_secret: String,
    /// `pk_live_…`
    pub(crate) live_publishable: String,
}

impl PlatformKeys {
    fn of(platform: &NewPlatform) -> Self {
        Self {
            secret: platform.secret_key.expose().to_owned(),
            publishable: platform.publishable_key.expose().to_owned(),
            live_secret: platform.live_secret_key.expose().to_owned(),
            live_publishable: platform.live_publishable_key.expose().to_owned(),
        }
    }
}

/// A running application and what a test needs to drive it.
#[derive(Debug)]
pub(crate) struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub(crate) address: String,
    /// The clock the application reads; advance it instead of sleeping.
    pub(crate) clock: ManualClock,
    /// The settings the application runs with.
    pub(crate) config: ApiConfig,
    /// The database: a SQLite file, or a PostgreSQL schema when
    /// `CONNECT_SESSIONS_TEST_DATABASE` is set. Dropped when the test ends.
    pub(crate) database: TestDatabase,
    /// The platform most tests act as.
    pub(crate) platform: PlatformKeys,
    /// A second platform, to check that platforms never see each other's accounts.
    pub(crate) other_platform: PlatformKeys,
    client: reqwest::Client,
    /// The application's store, for tests that look underneath the API.
    pub(crate) store: Arc<dyn Store>,
    /// The application's master keys.
    pub(crate) keyring: Arc<Keyring>,
}

/// A response: status, headers and the JSON body.
#[derive(Debug)]
pub(crate) struct TestResponse {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The response headers.
    pub(crate) headers: HeaderMap,
    /// The body, parsed as JSON.
    pub(crate) body: Value,
}

/// What a snapshot pins: the status first, then the body.
#[derive(Debug, Serialize)]
pub(crate) struct Snapshot<'a> {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The JSON body.
    pub(crate) body: &'a Value,
}

/// One request of a table-driven test and what came back, in that order.
#[derive(Debug, PartialEq, Serialize)]
pub(crate) struct Exchange {
    /// The request body or query string.
    pub(crate) request: String,
    /// The HTTP status.
    pub(crate) status: u16,
    /// The part of the body the test looks at.
    pub(crate) answer: Value,
}

impl TestResponse {
    /// The status and body, for `insta::assert_json_snapshot!`.
    pub(crate) fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            status: self.status,
            body: &self.body,
        }
    }

    /// A response header as text; panics if it is absent.
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .expect("header is not text")
    }

    /// The `error.message` of an error body.
    pub(crate) fn message(&self) -> &str {
        self.body["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.body))
    }

    /// Panics unless the status is 200; returns the body.
    pub(crate) fn ok(self) -> Value {
        assert_eq!(self.status, 200, "unexpected answer: {}", self.body);
        self.body
    }
}

/// An HTTP client builder for tests. The package's reqwest speaks TLS with
/// rustls and no built-in provider, so the provider the server installs is
/// installed first.
pub(crate) fn http_client_builder() -> reqwest::ClientBuilder {
    connect_sessions::webhooks::worker::install_tls_provider();
    reqwest::Client::builder()
}

/// An HTTP client for tests (see [`http_client_builder`]).
pub(crate) fn http_client() -> reqwest::Client {
    http_client_builder()
        .build()
        .expect("cannot build an HTTP client")
}

/// Starts the application with the default settings.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(ApiConfig::default()).await
}

/// Starts the application with `config`; its webhook worker looks for work
/// every second.
pub(crate) async fn spawn_app_with(config: ApiConfig) -> TestApp {
    spawn_app_delivering(config, DeliverySettings::default()).await
}

/// Starts the application with `config` and a webhook worker run by `webhooks`.
pub(crate) async fn spawn_app_delivering(config: ApiConfig, webhooks: DeliverySettings) -> TestApp {
    init_logs();
    let database = TestDatabase::create().await;
    let store = database.open_store().await;
    let clock = ManualClock::starting_at(Timestamp::from_secs(START));

    let platform = NewPlatform::generate("Test platform".to_owned());
    let other_platform = NewPlatform::generate("Other platform".to_owned());
    for new in [&platform, &other_platform] {
        store
            .create_platform(new, Timestamp::from_secs(START))
            .await
            .expect("cannot create a platform");
    }

    let state = AppState::new(
        store.clone(),
        Arc::new(clock.clone()),
        config.clone(),
        Keyring::generate(),
    );
    let keyring = state.keyring.clone();
    // Tests prune by calling `maintenance::prune_once`, at the instant they choose.
    let app = App::build("127.0.0.1:0".parse().expect("valid address"), state)
        .await
        .expect("cannot build the application")
        .with_pruning(None)
        .with_webhooks(Some(webhooks));
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));

    TestApp {
        address,
        clock,
        config,
        database,
        platform: PlatformKeys::of(&platform),
        other_platform: PlatformKeys::of(&other_platform),
        client: http_client(),
        store,
        keyring,
    }
}

/// Prints the application's logs to stdout when `TEST_LOG` is set.
fn init_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            telemetry::init(LogFormat::Text, "debug", std::io::stdout, false);
        }
    });
}

impl TestApp {
    /// A request to `path` (which may carry a query string), to be completed and
    /// passed to [`TestApp::send`]: the escape hatch for arbitrary headers and bodies.
    pub(crate) fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    /// Sends a request and reads the JSON answer.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> TestResponse {
        let response = request.send().await.expect("the request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("cannot read the body");
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
            panic!(
                "the body is not JSON ({error}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// `POST path` with a form body, authenticated with `key` as Bearer.
    pub(crate) async fn post_form(&self, path: &str, key: &str, body: &str) -> TestResponse {
        self.send(
            self.request(Method::POST, path)
                .header(AUTHORIZATION, format!("Bearer {key}"))
                .header(CONTENT_TYPE, FORM)
                .body(body.to_owned()),
        )
        .await
    }

    /// `GET path`, authenticated with `key`.
    pub(crate) async fn get(&self, path: &str, key: &str) -> TestResponse {
        self.send(
            self.request(Method::GET, path)
                .header(AUTHORIZATION, format!("Bearer {key}")),
        )
        .await
    }

    /// `DELETE path`, authenticated with `key`.
    pub(crate) async fn delete(&self, path: &str, key: &str) -> TestResponse {
        self.send(
            self.request(Method::DELETE, path)
                .header(AUTHORIZATION, format!("Bearer {key}")),
        )
        .await
    }

    /// Creates an account; panics unless it succeeds. Returns the account object.
    pub(crate) async fn create_account(&self, key: &str, body: &str) -> Value {
        self.post_form("/v1/accounts", key, body).await.ok()
    }

    /// Creates an account and returns its id.
    pub(crate) async fn create_account_id(&self, key: &str, body: &str) -> String {
        let account = self.create_account(key, body).await;
        account["id"].as_str().expect("an id").to_owned()
    }

    /// `POST /v1/account_sessions`.
    pub(crate) async fn create_account_session(&self, key: &str, body: &str) -> TestResponse {
        self.post_form("/v1/account_sessions", key, body).await
    }

    /// `POST path` with a form body and an `Idempotency-Key`, authenticated with `key`.
    pub(crate) async fn post_idempotent(
        &self,
        path: &str,
        key: &str,
        idempotency_key: &str,
        body: &str,
    ) -> TestResponse {
        self.send(
            self.request(Method::POST, path)
                .header(AUTHORIZATION, format!("Bearer {key}"))
                .header(CONTENT_TYPE, FORM)
                .header("idempotency-key", idempotency_key)
                .body(body.to_owned()),
        )
        .await
    }

    /// Creates an account of `account_type` (`custom`, `express`, `standard`)
    /// with the platform's test secret key and returns its id.
    pub(crate) async fn create_account_of_type(&self, account_type: &str) -> String {
        self.create_account_id(&self.platform.secret, &format!("type={account_type}"))
            .await
    }

    /// Creates an account session for `account` with `components` (a form
    /// fragment such as [`SEED_COMPONENTS`]); panics unless it succeeds.
    /// Returns the client secret and the whole body.
    pub(crate) async fn create_session(
        &self,
        key: &str,
        account: &str,
        components: &str,
    ) -> (String, Value) {
        let body = self
            .create_account_session(key, &format!("account={account}&{components}"))
            .await
            .ok();
        let secret = body["client_secret"]
            .as_str()
            .expect("a client secret")
            .to_owned();
        (secret, body)
    }

    /// `POST /v1/account_sessions/claim` with publishable key `pk`.
    pub(crate) async fn claim(&self, pk: &str, client_secret: &str) -> TestResponse {
        self.post_form(
            "/v1/account_sessions/claim",
            pk,
            &format!("client_secret={client_secret}"),
        )
        .await
    }

    /// Claims `client_secret` with `pk`; panics unless it succeeds. Returns the
    /// embedded session key (`em_test_…` / `em_live_…`).
    pub(crate) async fn claim_key(&self, pk: &str, client_secret: &str) -> String {
        let body = self.claim(pk, client_secret).await.ok();
        body["secret"].as_str().expect("an em_ key").to_owned()
    }

    /// A test-mode session of a new Custom account with `components`, claimed
    /// with the platform's test publishable key. Returns the account id and the
    /// embedded session key.
    pub(crate) async fn embedded_key_for(&self, components: &str) -> (String, String) {
        let account = self.create_account_of_type("custom").await;
        let (secret, _) = self
            .create_session(&self.platform.secret, &account, components)
            .await;
        let key = self.claim_key(&self.platform.publishable, &secret).await;
        (account, key)
    }

    /// The platform and mode a platform key belongs to, read from the store.
    pub(crate) async fn tenant_of(&self, key: &str) -> connect_sessions::domain::platform::Tenant {
        let grant = self
            .store
            .find_key(connect_sessions::domain::keys::SecretHash::of(key))
            .await
            .expect("the store answers")
            .expect("a known key");
        connect_sessions::domain::platform::Tenant {
            platform: grant.platform,
            mode: grant.mode,
        }
    }

    /// Everything the database holds, as raw bytes, by place: SQLite's files,
    /// or every row (and every `bytea` value) of every PostgreSQL table. See
    /// [`TestDatabase::raw_contents`].
    pub(crate) async fn database_bytes(&self) -> Vec<(String, Vec<u8>)> {
        self.database.raw_contents().await
    }

    /// A request to `path` on another server (see [`TestApp::spawn_sibling`]),
    /// to be completed and passed to [`TestApp::send`].
    pub(crate) fn request_to(
        &self,
        address: &str,
        method: Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{address}{path}"))
    }

    /// Starts a second server on the same store and clock as this one, but
    /// with `keyring` as its master keys; returns its address.
    pub(crate) async fn spawn_sibling(&self, keyring: Keyring) -> String {
        let state = AppState::new(
            self.store.clone(),
            Arc::new(self.clock.clone()),
            self.config.clone(),
            keyring,
        );
        let app = App::build("127.0.0.1:0".parse().expect("valid address"), state)
            .await
            .expect("cannot build the application")
            .with_pruning(None);
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until(std::future::pending()));
        address
    }
}

/// Whether `text` is `acct_` followed by 16 ASCII alphanumerics.
pub(crate) fn is_account_id(text: &str) -> bool {
    text.strip_prefix("acct_")
        .is_some_and(|rest| rest.len() == 16 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether `text` is `accs_secret__` followed by 47 URL-safe characters.
pub(crate) fn is_client_secret(text: &str) -> bool {
    text.len() == 60
        && text.strip_prefix("accs_secret__").is_some_and(|rest| {
            rest.len() == 47
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether `text` is `req_` followed by 14 ASCII alphanumerics.
pub(crate) fn is_request_id(text: &str) -> bool {
    text.strip_prefix("req_")
        .is_some_and(|rest| rest.len() == 14 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A key as Stripe masks it: the first 8 characters, a star for each hidden
/// one, then the last 6 (keys of 40 characters or more) or the last 4.
pub(crate) fn mask(key: &str) -> String {
    let tail = if key.len() >= 40 { 6 } else { 4 };
    format!(
        "{}{}{}",
        &key[..8],
        "*".repeat(key.len() - 8 - tail),
        &key[key.len() - tail..]
    )
}

/// Redacts the `external_accounts.url` of an account object after checking
/// that it names an account's bank accounts.
pub(crate) fn external_accounts_url() -> Redaction {
    insta::dynamic_redaction(|value: Content, path| {
        let text = value.as_str().unwrap_or_default();
        let account = text
            .strip_prefix("/v1/accounts/")
            .and_then(|rest| rest.strip_suffix("/external_accounts"));
        assert!(
            account.is_some_and(is_account_id),
            "{path} is not an account's external accounts URL: {value:?}"
        );
        "/v1/accounts/[account_id]/external_accounts"
    })
}

/// Redacts an `acct_` id after checking its shape.
pub(crate) fn account_id() -> Redaction {
    insta::dynamic_redaction(|value: Content, path| {
        let text = value.as_str().unwrap_or_default();
        assert!(
            is_account_id(text),
            "{path} is not an account id: {value:?}"
        );
        "[account_id]"
    })
}

/// Redacts a client secret after checking its shape.
pub(crate) fn client_secret() -> Redaction {
    insta::dynamic_redaction(|value: Content, path| {
        let text = value.as_str().unwrap_or_default();
        assert!(
            is_client_secret(text),
            "{path} is not a client secret: {value:?}"
        );
        "[client_secret]"
    })
}

/// Redacts a value after checking that it is exactly `expected`; `label` names
/// what it is in the snapshot (`"[START + 1800]"`).
pub(crate) fn exactly(expected: impl Into<Value>, label: &'static str) -> Redaction {
    let expected: Value = expected.into();
    insta::dynamic_redaction(move |value: Content, path| {
        let actual = match (&expected, &value) {
            (Value::Number(_), _) => value.as_i64().map(Value::from),
            (Value::String(_), _) => value.as_str().map(Value::from),
            _ => None,
        };
        assert_eq!(actual.as_ref(), Some(&expected), "{path}: {value:?}");
        label
    })
}

/// Hides generated values inside messages for the rest of the scope: account
/// ids in quotes become `'[account_id]'` and masked keys `[masked_key]`. Tests
/// assert those values exactly before they snapshot.
pub(crate) fn message_filters() -> SettingsBindDropGuard {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"'acct_[A-Za-z0-9]{16}'", "'[account_id]'");
    settings.add_filter(r"[sp]k_(test|live)_\*{93}[A-Za-z0-9]{6}", "[masked_key]");
    settings.bind_to_scope()
}

/// Percent-encodes `[` and `]`, as stripe-node does not and some clients do.
pub(crate) fn encode_brackets(body: &str) -> String {
    body.replace('[', "%5B").replace(']', "%5D")
}

/// Runs every future concurrently on this task and returns their outputs in order.
pub(crate) async fn join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in set.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

/// Whether `text` is `em_test_` or `em_live_` followed by 99 ASCII alphanumerics.
pub(crate) fn is_embedded_key(text: &str) -> bool {
    text.strip_prefix("em_test_")
        .or_else(|| text.strip_prefix("em_live_"))
        .is_some_and(|rest| rest.len() == 99 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether `text` is `emsess_` followed by 16 ASCII alphanumerics.
pub(crate) fn is_embedded_session_id(text: &str) -> bool {
    text.strip_prefix("emsess_")
        .is_some_and(|rest| rest.len() == 16 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether `text` is `ba_` followed by 16 ASCII alphanumerics.
pub(crate) fn is_bank_account_id(text: &str) -> bool {
    text.strip_prefix("ba_")
        .is_some_and(|rest| rest.len() == 16 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Redacts a value after checking it with `shape`; `label` replaces it.
pub(crate) fn shaped(shape: fn(&str) -> bool, label: &'static str) -> Redaction {
    insta::dynamic_redaction(move |value: Content, path| {
        let text = value.as_str().unwrap_or_default();
        assert!(shape(text), "{path} is not a {label}: {value:?}");
        label
    })
}

/// Redacts an `em_test_` / `em_live_` key after checking its shape.
pub(crate) fn embedded_key() -> Redaction {
    shaped(is_embedded_key, "[em_key]")
}

/// Redacts an `emsess_` id after checking its shape.
pub(crate) fn embedded_session_id() -> Redaction {
    shaped(is_embedded_session_id, "[embedded_session_id]")
}

/// Redacts a `ba_` id after checking its shape.
pub(crate) fn bank_account_id() -> Redaction {
    shaped(is_bank_account_id, "[bank_account_id]")
}

/// Like [`message_filters`], and also hides masked embedded session keys
/// (`em_test_` + 93 stars + 6 characters) as `[masked_em_key]`.
pub(crate) fn embedded_message_filters() -> SettingsBindDropGuard {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"'acct_[A-Za-z0-9]{16}'", "'[account_id]'");
    settings.add_filter(r"[sp]k_(test|live)_\*{93}[A-Za-z0-9]{6}", "[masked_key]");
    settings.add_filter(r"em_(test|live)_\*{93}[A-Za-z0-9]{6}", "[masked_em_key]");
    settings.bind_to_scope()
}

/// Whether `needle` occurs anywhere in `haystack`.
pub(crate) fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}
