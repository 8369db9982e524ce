//! Several `serve` processes on one database act as one server: the built
//! binary, started twice on one fresh database (a PostgreSQL schema when
//! `CONNECT_SESSIONS_TEST_DATABASE` is set, else one SQLite file), raced through
//! both at once.
//!
//! - a client secret is claimed exactly once across the processes;
//! - an idempotency key in flight anywhere gets 409 on every process, and once
//!   done replays on every process; one key raced through both executes once;
//! - what one process writes the other reads at once, and concurrent updates
//!   through both lose nothing;
//! - background pruning on both processes deletes every row once, without errors;
//! - PostgreSQL only: servers starting together on an empty database both start,
//!   and one creates the default platform; while PostgreSQL is down or stalled,
//!   requests fail fast with a retryable 500 and the server recovers by itself.
//!
//! Tests that apply only to PostgreSQL are ignored unless asked for, and fail
//! when asked for without PostgreSQL: scripts/test runs them in its PostgreSQL
//! pass. The servers are started by the one fixture that starts the binary
//! (`crate::fixture`).

mod proxy;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connect_sessions::clock::{Clock, SystemClock, Timestamp};
use connect_sessions::domain::account::{AccountType, Controller, NewAccount};
use connect_sessions::domain::account_session::{ClientSecret, NewAccountSession};
use connect_sessions::domain::catalog::{ComponentsRequest, ResolvedComponents};
use connect_sessions::domain::embedded_session::NewEmbeddedSession;
use connect_sessions::domain::ids::PlatformId;
use connect_sessions::domain::keys::random_alphanumeric;
use connect_sessions::domain::mode::Mode;
use connect_sessions::domain::onboarding::verification::Verifier;
use connect_sessions::domain::platform::{NewPlatform, Tenant};
use connect_sessions::domain::webhooks::RequestRef;
use connect_sessions::http::form::{self, FormLimits};
use connect_sessions::idempotency::{
    Attempt, BeginOutcome, Fingerprint, IdempotencyKey, IdempotencyScope, KeyRealm, LEASE,
    LeaseToken, RETENTION, SavedResponse,
};
use connect_sessions::keyring::{Keyring, MasterKey};
use connect_sessions::store::{ClaimOutcome, SessionInsertOutcome, Store};
use reqwest::Url;
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};

use crate::database::{TEST_DATABASE_ENV, TestDatabase, postgres_server};
use crate::fixture::ServerProcess;
use crate::helpers::{TestResponse, join_all};
use proxy::Proxy;
use sqlx_core::query::query;
use sqlx_core::row::Row;

/// Short database timeouts, so an outage is noticed in a test's time (a call
/// then never waits longer than 1 s + 2 × 2 s), and a pool of two connections,
/// so that a connection lost for good (say, one stuck in a ping to a vanished
/// server) shows as a server that never recovers.
const OUTAGE_OPTIONS: [&str; 6] = [
    "--database-acquire-timeout",
    "1s",
    "--database-statement-timeout",
    "2s",
    "--database-pool-size",
    "2",
];

/// The longest a request may take while the database is unreachable: the call
/// deadline above, plus slack for a loaded machine.
const OUTAGE_ANSWER_BOUND: Duration = Duration::from_secs(10);

/// Where the PostgreSQL-only tests run: the configured server, or a failure
/// that says how to configure one. These tests are ignored unless asked for
/// (`--ignored`), and scripts/test asks for them in its PostgreSQL pass.
fn required_postgres_server() -> String {
    postgres_server().unwrap_or_else(|| {
        panic!(
            "this test needs PostgreSQL: set {TEST_DATABASE_ENV} to a postgres:// URL \
             (scripts/test runs it on the local server)"
        )
    })
}

/// One `connect-sessions serve` process on `database`, logging JSON lines.
async fn start_server(
    name: &'static str,
    database: &str,
    master_keys: &str,
    extra: &[&str],
) -> ServerProcess {
    ServerProcess::command(name)
        .args(["--log-format", "json", "--database", database])
        .args(extra)
        .env("CONNECT_SESSIONS_MASTER_KEYS", master_keys)
        .start()
        .await
}

/// Two servers on one fresh database, with a platform the test created.
#[derive(Debug)]
struct Cluster {
    database: TestDatabase,
    /// The test's own store on the same database, for looking underneath.
    store: Arc<dyn Store>,
    keyring: Keyring,
    platform: PlatformId,
    secret_key: String,
    publishable_key: String,
    servers: Vec<ServerProcess>,
}

/// The database, the test's store on it and a platform: everything but servers.
async fn prepare() -> (TestDatabase, Arc<dyn Store>, NewPlatform, String) {
    let database = TestDatabase::create().await;
    let store = database.open_store().await;
    let platform = NewPlatform::generate("Multiprocess platform".to_owned());
    store
        .create_platform(&platform, SystemClock.now())
        .await
        .unwrap();
    let master_keys = MasterKey::generate().encode();
    (database, store, platform, master_keys)
}

impl Cluster {
    /// Two servers with `extra` options on a fresh database.
    async fn start(extra: &[&str]) -> Self {
        let (database, store, platform, master_keys) = prepare().await;
        Self::start_on(database, store, &platform, &master_keys, extra).await
    }

    /// Two servers started at once on `database`, which `store` has migrated.
    async fn start_on(
        database: TestDatabase,
        store: Arc<dyn Store>,
        platform: &NewPlatform,
        master_keys: &str,
        extra: &[&str],
    ) -> Self {
        let url = database.url();
        let (a, b) = tokio::join!(
            start_server("A", &url, master_keys, extra),
            start_server("B", &url, master_keys, extra),
        );
        Self {
            database,
            store,
            keyring: Keyring::parse(master_keys).unwrap(),
            platform: platform.id.clone(),
            secret_key: platform.secret_key.expose().to_owned(),
            publishable_key: platform.publishable_key.expose().to_owned(),
            servers: vec![a, b],
        }
    }

    fn a(&self) -> &ServerProcess {
        &self.servers[0]
    }

    fn b(&self) -> &ServerProcess {
        &self.servers[1]
    }

    /// Server A for even `i`, B for odd.
    fn alternate(&self, i: usize) -> &ServerProcess {
        &self.servers[i % 2]
    }

    fn tenant(&self) -> Tenant {
        Tenant {
            platform: self.platform.clone(),
            mode: Mode::Test,
        }
    }
}

// PostgreSQL only: two processes creating one new SQLite file at once is not supported.
#[tokio::test]
#[ignore = "needs PostgreSQL: set CONNECT_SESSIONS_TEST_DATABASE (scripts/test runs it)"]
async fn two_servers_starting_together_on_an_empty_database_create_one_default_platform() {
    // Arrange: a schema with nothing in it, not even the migrations table.
    let database = TestDatabase::create_postgres(&required_postgres_server()).await;
    let master_keys = MasterKey::generate().encode();
    let url = database.url();

    // Act: both servers migrate and look for a platform at the same moment.
    let (a, b) = tokio::join!(
        start_server("A", &url, &master_keys, &[]),
        start_server("B", &url, &master_keys, &[]),
    );

    // Assert: both serve, and exactly one made (and printed) the default platform.
    let printed: Vec<String> = [&a, &b].iter().map(|server| server.stdout()).collect();
    let creators = printed
        .iter()
        .filter(|text| text.contains("Created the default platform"))
        .count();
    assert_eq!(creators, 1, "{printed:?}");
    assert_eq!(database.count("platforms").await, 1);
    // Each migration applied once.
    assert_eq!(database.count("_sqlx_migrations").await, 5);
    let secret_key = printed
        .iter()
        .flat_map(|text| text.lines())
        .find_map(|line| line.trim().strip_prefix("secret key:"))
        .unwrap()
        .trim()
        .to_owned();
    for server in [&a, &b] {
        let created = server
            .post("/v1/accounts", &secret_key, "type=custom")
            .await
            .ok();
        assert_eq!(created["object"], "account");
    }
}

#[tokio::test]
async fn a_client_secret_is_claimed_exactly_once_across_two_servers() {
    // Arrange: the account on A, its session on B.
    let cluster = Cluster::start(&[]).await;
    let sk = &cluster.secret_key;
    let account = cluster
        .a()
        .post("/v1/accounts", sk, "type=custom&country=US")
        .await
        .ok();
    let account = account["id"].as_str().unwrap();
    let session = cluster
        .b()
        .post(
            "/v1/account_sessions",
            sk,
            &format!("account={account}&components[account_management][enabled]=true"),
        )
        .await
        .ok();
    let secret = session["client_secret"].as_str().unwrap();

    // Act: 25 claims through each server, all at once.
    let body = format!("client_secret={secret}");
    let claims = join_all((0..50).map(|i| {
        cluster.alternate(i).post(
            "/v1/account_sessions/claim",
            &cluster.publishable_key,
            &body,
        )
    }))
    .await;

    // Assert: one claim won; every other was told it came too late.
    let (won, lost): (Vec<_>, Vec<_>) = claims.iter().partition(|claim| claim.status == 200);
    assert_eq!(won.len(), 1, "{claims:#?}");
    for claim in &lost {
        assert_eq!(claim.status, 400, "{}", claim.body);
        assert_eq!(
            claim.body["error"]["code"],
            "account_session_already_claimed"
        );
    }
    assert_eq!(cluster.database.count("embedded_sessions").await, 1);
    // The winner's key works on both servers.
    let key = won[0].body["secret"].as_str().unwrap();
    for server in &cluster.servers {
        let session = server.get("/v1/embedded_session", key).await.ok();
        assert_eq!(session["account"], account);
    }
}

/// An `Attempt` as a server with `keyring` would make it for `POST path` with `body`.
fn attempt_for(keyring: &Keyring, path: &str, body: &str, request_id: &str) -> Attempt {
    let decoded = form::parse(body.as_bytes(), FormLimits::default()).unwrap();
    let now = SystemClock.now();
    Attempt {
        path: path.to_owned(),
        fingerprint: Fingerprint(
            keyring.request_fingerprints(&form::canonical_bytes(&decoded.tree))[0],
        ),
        request_id: request_id.to_owned(),
        token: LeaseToken::generate(),
        now,
        lease_until: now.plus(LEASE),
        retention_cutoff: now.minus(RETENTION),
    }
}

fn assert_in_use(response: &TestResponse) {
    assert_eq!(response.status, 409, "{}", response.body);
    assert_eq!(response.body["error"]["code"], "idempotency_key_in_use");
    assert_eq!(response.header("stripe-should-retry"), "true");
}

#[tokio::test]
async fn an_idempotency_key_in_flight_gets_409_on_every_server_and_replays_on_every_server_once_done()
 {
    // Arrange: the test's own process holds a key in flight, as a server
    // executing the first request would.
    let cluster = Cluster::start(&[]).await;
    let sk = &cluster.secret_key;
    let body = "type=custom&country=US";
    let key = format!("held-{}", random_alphanumeric(12));
    let scope = IdempotencyScope {
        tenant: cluster.tenant(),
        realm: KeyRealm::Secret,
        key: IdempotencyKey::parse(&key).unwrap().unwrap(),
    };
    let attempt = attempt_for(&cluster.keyring, "/v1/accounts", body, "req_heldbythetest1");
    let begun = cluster
        .store
        .begin_idempotent(&scope, &attempt)
        .await
        .unwrap();
    assert_eq!(begun, BeginOutcome::Proceed);

    // Act and assert: both servers see it in flight.
    for server in &cluster.servers {
        assert_in_use(&server.post_idempotent("/v1/accounts", sk, body, &key).await);
    }

    // Act: the first request finishes.
    let answer = json!({"id": "acct_finishedbythetest", "object": "account"});
    let saved = SavedResponse {
        status: 200,
        sealed_body: cluster
            .keyring
            .seal(answer.to_string().as_bytes(), &scope.seal_context()),
    };
    cluster
        .store
        .complete_idempotent(&scope, attempt.token, &saved)
        .await
        .unwrap();

    // Assert: both servers replay its answer.
    for server in [cluster.b(), cluster.a()] {
        let replay = server.post_idempotent("/v1/accounts", sk, body, &key).await;
        assert_eq!(replay.status, 200, "{}", replay.body);
        assert_eq!(replay.body, answer);
        assert_eq!(replay.header("idempotent-replayed"), "true");
        assert_eq!(replay.header("original-request"), "req_heldbythetest1");
    }

    // Arrange: a real request through A.
    let key = format!("real-{}", random_alphanumeric(12));
    let first = cluster
        .a()
        .post_idempotent("/v1/accounts", sk, body, &key)
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());

    // Act: the retry lands on B.
    let replay = cluster
        .b()
        .post_idempotent("/v1/accounts", sk, body, &key)
        .await;
    let other_parameters = cluster
        .b()
        .post_idempotent("/v1/accounts", sk, "type=express", &key)
        .await;

    // Assert
    assert_eq!(replay.status, 200);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.header("idempotent-replayed"), "true");
    assert_eq!(
        replay.header("original-request"),
        first.header("request-id")
    );
    assert_eq!(other_parameters.status, 400);
    assert_eq!(other_parameters.body["error"]["type"], "idempotency_error");
}

#[tokio::test]
async fn one_idempotency_key_raced_through_two_servers_executes_once() {
    // Arrange
    let cluster = Cluster::start(&[]).await;
    let sk = &cluster.secret_key;
    let key = format!("race-{}", random_alphanumeric(12));
    let body = "type=custom&country=US&email=race%40example.com";

    // Act: ten requests through each server at once, one key.
    let responses = join_all((0..20).map(|i| {
        cluster
            .alternate(i)
            .post_idempotent("/v1/accounts", sk, body, &key)
    }))
    .await;

    // Assert: one executed; the others were told to retry or got its replay.
    let executed: Vec<&TestResponse> = responses
        .iter()
        .filter(|response| {
            response.status == 200 && response.headers.get("idempotent-replayed").is_none()
        })
        .collect();
    assert_eq!(executed.len(), 1, "{responses:#?}");
    let account = &executed[0].body;
    for response in &responses {
        if response.status == 409 {
            assert_in_use(response);
        } else {
            assert_eq!(response.status, 200, "{}", response.body);
            assert_eq!(&response.body, account);
        }
    }
    let listed = cluster.b().get("/v1/accounts", sk).await.ok();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["id"], account["id"]);
}

#[tokio::test]
async fn what_one_server_writes_the_other_reads_at_once_and_concurrent_updates_lose_nothing() {
    // Arrange
    let cluster = Cluster::start(&[]).await;
    let sk = &cluster.secret_key;
    let (a, b) = (cluster.a(), cluster.b());

    // Act and assert: created on A, read on B at once.
    let created = a
        .post("/v1/accounts", sk, "type=express&country=FR")
        .await
        .ok();
    let id = created["id"].as_str().unwrap();
    assert_eq!(b.get(&format!("/v1/accounts/{id}"), sk).await.ok(), created);
    let listed = b.get("/v1/accounts", sk).await.ok();
    assert_eq!(listed["data"][0], created);

    // Act: twenty metadata updates through each server at once, each adding a key.
    let path = format!("/v1/accounts/{id}");
    let bodies: Vec<String> = (0..40)
        .map(|i| format!("metadata[key{i:02}]=value{i}"))
        .collect();
    let updates = join_all(
        bodies
            .iter()
            .enumerate()
            .map(|(i, body)| cluster.alternate(i).post(&path, sk, body)),
    )
    .await;

    // Assert: every update applied on top of the others: none was lost.
    for update in updates {
        update.ok();
    }
    let metadata = a.get(&path, sk).await.ok()["metadata"].clone();
    let expected: serde_json::Map<String, Value> = (0..40)
        .map(|i| (format!("key{i:02}"), Value::from(format!("value{i}"))))
        .collect();
    assert_eq!(metadata, Value::Object(expected));

    // Act and assert: deleted on B, gone on A at once.
    b.delete(&path, sk).await.ok();
    // Stripe's answer for an account the key cannot see.
    assert_eq!(a.get(&path, sk).await.status, 403);
}

#[tokio::test]
async fn background_pruning_on_two_servers_deletes_every_expired_row_once_without_conflict() {
    // Arrange: many expired sessions (some claimed) and old idempotency keys,
    // more than one pruning batch (1000) of each, plus rows that must stay.
    let (database, store, platform, master_keys) = prepare().await;
    let keyring = Keyring::parse(&master_keys).unwrap();
    let tenant = Tenant {
        platform: platform.id.clone(),
        mode: Mode::Test,
    };
    let now = SystemClock.now();
    let hour = Duration::from_secs(3600);
    let account = NewAccount {
        controller: Controller::for_type(AccountType::Custom),
        country: "US".to_owned(),
        fields: Default::default(),
    }
    .into_account(
        platform.id.clone(),
        &Verifier {
            mode: Mode::Test,
            now: now.minus(3 * hour),
            delay: Duration::from_secs(5),
        },
    )
    .unwrap();
    store
        .insert_account(
            &account,
            None,
            account.created,
            &RequestRef::default(),
            None,
        )
        .await
        .unwrap();
    let components = ResolvedComponents::resolve(
        &ComponentsRequest::default(),
        &Controller::for_type(AccountType::Custom),
    )
    .unwrap();
    let session = |created: Timestamp, expires_at: Timestamp| NewAccountSession {
        account: account.id.clone(),
        components: components.clone(),
        secret_hash: ClientSecret::generate().hash(),
        created,
        expires_at,
    };
    const EXPIRED_SESSIONS: usize = 2_400;
    const CLAIMED: usize = 300;
    const OLD_KEYS: usize = 1_200;
    let expired: Vec<NewAccountSession> = (0..EXPIRED_SESSIONS)
        .map(|_| session(now.minus(2 * hour), now.minus(hour)))
        .collect();
    for chunk in expired.chunks(50) {
        for outcome in join_all(
            chunk
                .iter()
                .map(|session| store.insert_account_session(&tenant, session, None)),
        )
        .await
        {
            assert_eq!(outcome.unwrap(), SessionInsertOutcome::Created(None));
        }
    }
    let claims: Vec<NewEmbeddedSession> = (0..CLAIMED)
        .map(|_| NewEmbeddedSession::generate(Mode::Test, now.minus(2 * hour)))
        .collect();
    for outcome in join_all(expired.iter().zip(&claims).map(|(session, claim)| {
        store.claim_account_session(&tenant, session.secret_hash, claim, None)
    }))
    .await
    {
        assert!(matches!(outcome.unwrap(), ClaimOutcome::Claimed(_, _)));
    }
    let keys: Vec<(IdempotencyScope, Attempt)> = (0..OLD_KEYS)
        .map(|i| {
            let scope = IdempotencyScope {
                tenant: tenant.clone(),
                realm: KeyRealm::Secret,
                key: IdempotencyKey::parse(format!("old-{i}")).unwrap().unwrap(),
            };
            let mut attempt = attempt_for(&keyring, "/v1/accounts", "type=custom", "req_old");
            attempt.now = now.minus(RETENTION + hour);
            attempt.lease_until = attempt.now.plus(LEASE);
            attempt.retention_cutoff = attempt.now.minus(RETENTION);
            (scope, attempt)
        })
        .collect();
    for chunk in keys.chunks(50) {
        for outcome in join_all(
            chunk
                .iter()
                .map(|(scope, attempt)| store.begin_idempotent(scope, attempt)),
        )
        .await
        {
            assert_eq!(outcome.unwrap(), BeginOutcome::Proceed);
        }
    }
    let live = session(now, now.plus(hour));
    store
        .insert_account_session(&tenant, &live, None)
        .await
        .unwrap();
    let fresh_scope = IdempotencyScope {
        tenant: tenant.clone(),
        realm: KeyRealm::Secret,
        key: IdempotencyKey::parse("fresh").unwrap().unwrap(),
    };
    store
        .begin_idempotent(
            &fresh_scope,
            &attempt_for(&keyring, "/v1/accounts", "", "req_fresh"),
        )
        .await
        .unwrap();
    assert_eq!(
        database.count("account_sessions").await,
        (EXPIRED_SESSIONS + 1) as i64
    );

    // Act: two servers pruning every second, starting at the same moment.
    let mut cluster = Cluster::start_on(
        database,
        store,
        &platform,
        &master_keys,
        &["--prune-interval", "1s", "--prune-grace", "0s"],
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sessions = cluster.database.count("account_sessions").await;
        let keys = cluster.database.count("idempotency_keys").await;
        if sessions == 1 && keys == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {sessions} sessions and {keys} keys; logs:\nA: {}\nB: {}",
            cluster.a().log_text(),
            cluster.b().log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // One more interval, so any pruning pass still running finishes (and logs).
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    // Assert: only the live rows are left, and between them the servers deleted
    // each expired row exactly once, without a single failure.
    assert_eq!(cluster.database.count("embedded_sessions").await, 0);
    let mut pruned_by = Vec::new();
    for server in &mut cluster.servers {
        server.assert_running();
        let failures = server.log_events("pruning failed; will retry");
        assert!(
            failures.is_empty(),
            "server {}: {failures:?}",
            server.name()
        );
        let pruned: u64 = server
            .log_events("pruned expired sessions, idempotency keys and events")
            .iter()
            .map(|event| event["pruned"].as_u64().unwrap())
            .sum();
        pruned_by.push(pruned);
    }
    assert_eq!(
        pruned_by.iter().sum::<u64>(),
        (EXPIRED_SESSIONS + OLD_KEYS) as u64,
        "pruned by A and B: {pruned_by:?}"
    );
    let claim = cluster
        .store
        .claim_account_session(
            &cluster.tenant(),
            live.secret_hash,
            &NewEmbeddedSession::generate(Mode::Test, SystemClock.now()),
            None,
        )
        .await
        .unwrap();
    assert!(matches!(claim, ClaimOutcome::Claimed(_, _)));
}

/// Where the configured PostgreSQL server listens.
async fn postgres_address(server: &str) -> SocketAddr {
    let url = Url::parse(server).unwrap();
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port().unwrap_or(5432);
    tokio::net::lookup_host((host, port))
        .await
        .unwrap()
        .next()
        .unwrap()
}

/// `url` with its host and port replaced by `address`, and TLS required:
/// outages must be survived on the TLS path too (a stalled TLS close is what
/// once held a connection), whatever `sslmode` the suite itself runs with.
fn through(url: &str, address: SocketAddr) -> String {
    let mut url = Url::parse(url).unwrap();
    url.set_host(Some(&address.ip().to_string())).unwrap();
    url.set_port(Some(address.port())).unwrap();
    let query: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| name != "sslmode")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(query)
        .append_pair("sslmode", "require");
    url.to_string()
}

/// Sends a few kinds of request at once while the database is unreachable and
/// checks each fails fast with a retryable 500.
async fn assert_requests_fail_fast(server: &ServerProcess, key: &str, account: &str) {
    let started = Instant::now();
    let account_path = format!("/v1/accounts/{account}");
    let session_body = format!("account={account}&components[payments][enabled]=true");
    let (health, retrieve, create, session, list) = tokio::join!(
        server.send(
            server
                .client()
                .get(format!("{}/healthz", server.base_url()))
        ),
        server.get(&account_path, key),
        server.post_idempotent("/v1/accounts", key, "type=custom", "during-outage"),
        server.post("/v1/account_sessions", key, &session_body),
        server.get("/v1/accounts", key),
    );
    let elapsed = started.elapsed();
    for response in [&health, &retrieve, &create, &session, &list] {
        assert_eq!(response.status, 500, "{}", response.body);
        assert_eq!(response.body["error"]["type"], "api_error");
        assert_eq!(response.header("stripe-should-retry"), "true");
        // The generic message only: nothing about the database reaches a client.
        assert!(
            !response
                .body
                .to_string()
                .to_lowercase()
                .contains("postgres")
        );
    }
    assert!(
        elapsed < OUTAGE_ANSWER_BOUND,
        "the answers took {elapsed:?} (bound {OUTAGE_ANSWER_BOUND:?})"
    );
}

/// Retries a request until the server answers it with 200 again.
async fn wait_until_recovered(server: &ServerProcess, key: &str, account: &str) -> Duration {
    let started = Instant::now();
    loop {
        let response = server.get(&format!("/v1/accounts/{account}"), key).await;
        if response.status == 200 {
            return started.elapsed();
        }
        assert_eq!(response.status, 500, "{}", response.body);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not recover: {}; its log:\n{}",
            response.body,
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Requests sent back to back by a few clients until stopped, so that the
/// outage begins while queries are in flight.
struct Load {
    stop: tokio::sync::watch::Sender<bool>,
    clients: Vec<tokio::task::JoinHandle<Vec<(u16, Duration)>>>,
}

impl Load {
    fn start(server: &ServerProcess, key: &str, account: &str) -> Self {
        let stop = tokio::sync::watch::channel(false).0;
        let clients = (0..4)
            .map(|i| {
                let client = server.client().clone();
                let url = if i % 2 == 0 {
                    format!("{}/v1/accounts/{account}", server.base_url())
                } else {
                    format!("{}/v1/accounts?limit=3", server.base_url())
                };
                let key = key.to_owned();
                let stopped = stop.subscribe();
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    while !*stopped.borrow() {
                        let started = Instant::now();
                        let status = client
                            .get(&url)
                            .header(AUTHORIZATION, format!("Bearer {key}"))
                            .send()
                            .await
                            .map_or(0, |response| response.status().as_u16());
                        answers.push((status, started.elapsed()));
                    }
                    answers
                })
            })
            .collect();
        Self { stop, clients }
    }

    /// Stops the clients; checks that every answer was a 200 or a 500, and
    /// came within the bound.
    async fn stop(self) {
        self.stop.send_replace(true);
        let mut answers = Vec::new();
        for client in self.clients {
            answers.extend(client.await.unwrap());
        }
        assert!(answers.iter().any(|(status, _)| *status == 200));
        assert!(answers.iter().any(|(status, _)| *status == 500));
        for (status, elapsed) in answers {
            assert!(status == 200 || status == 500, "status {status}");
            assert!(elapsed < OUTAGE_ANSWER_BOUND, "an answer took {elapsed:?}");
        }
    }
}

/// What the outage tests share: a server reaching PostgreSQL through a proxy,
/// under an application name of its own, and an account created before the
/// outage.
struct BehindProxy {
    database: TestDatabase,
    proxy: Proxy,
    server: ServerProcess,
    application_name: String,
    key: String,
    account: String,
}

async fn server_behind_proxy() -> BehindProxy {
    let server_url = required_postgres_server();
    let (database, _store, platform, master_keys) = prepare().await;
    let proxy = Proxy::start(postgres_address(&server_url).await).await;
    let application_name = format!("outage_{}", random_alphanumeric(12));
    let url = format!(
        "{}&application_name={application_name}",
        through(&database.url(), proxy.address)
    );
    let server = start_server("A", &url, &master_keys, &OUTAGE_OPTIONS).await;
    let key = platform.secret_key.expose().to_owned();
    let account = server.post("/v1/accounts", &key, "type=custom").await.ok();
    let account = account["id"].as_str().unwrap().to_owned();
    BehindProxy {
        database,
        proxy,
        server,
        application_name,
        key,
        account,
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set CONNECT_SESSIONS_TEST_DATABASE (scripts/test runs it)"]
async fn while_postgres_restarts_requests_fail_fast_and_the_server_recovers_by_itself() {
    // Arrange
    let BehindProxy {
        database: _database,
        proxy,
        mut server,
        key,
        account,
        ..
    } = server_behind_proxy().await;

    // Act: PostgreSQL goes away under load: connections cut, new ones refused.
    let load = Load::start(&server, &key, &account);
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.down();

    // Assert: every request is answered quickly, twice over (the second round
    // finds the pool empty and reconnecting), and the server stays up.
    assert_requests_fail_fast(&server, &key, &account).await;
    assert_requests_fail_fast(&server, &key, &account).await;
    server.assert_running();

    // Act: PostgreSQL is back.
    proxy.up().await;

    // Assert: the server recovers by itself, with its data.
    wait_until_recovered(&server, &key, &account).await;
    load.stop().await;
    let created = server.post("/v1/accounts", &key, "type=custom").await.ok();
    assert_eq!(created["object"], "account");
    server.assert_running();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set CONNECT_SESSIONS_TEST_DATABASE (scripts/test runs it)"]
async fn while_postgres_stops_answering_requests_fail_fast_and_the_server_recovers_by_itself() {
    // Arrange: the test holds the account's row lock, and two updates (one per
    // pooled connection) wait for it inside PostgreSQL.
    let BehindProxy {
        database,
        proxy,
        mut server,
        application_name,
        key,
        account,
    } = server_behind_proxy().await;
    let mut holder = database.connect().await;
    query("begin").execute(&mut holder).await.unwrap();
    query("select 1 from accounts where id = $1 for update")
        .bind(account.as_str())
        .execute(&mut holder)
        .await
        .unwrap();
    let path = format!("/v1/accounts/{account}");
    let updates = async {
        let started = Instant::now();
        let (first, second) = tokio::join!(
            server.post(&path, &key, "metadata[first]=1"),
            server.post(&path, &key, "metadata[second]=2"),
        );
        (first, second, started.elapsed())
    };
    let stall_once_both_wait = async {
        let mut observer = database.connect().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let waiting: i64 = query(
                "select count(*) from pg_stat_activity
                 where application_name = $1 and wait_event_type = 'Lock'",
            )
            .bind(application_name.as_str())
            .fetch_one(&mut observer)
            .await
            .unwrap()
            .get(0);
            if waiting == 2 {
                break;
            }
            assert!(Instant::now() < deadline, "{waiting} updates wait");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Act: the network swallows every byte from now on, on open connections
        // and new ones alike. The updates' statement timeouts fire inside
        // PostgreSQL, but their errors never arrive.
        proxy.stall();
        Instant::now()
    };
    let ((first, second, _), stalled_at) = tokio::join!(updates, stall_once_both_wait);

    // Assert: the stuck updates were given up within the bound; so is
    // everything else while the stall lasts; the server stays up.
    let stuck_for = stalled_at.elapsed();
    for response in [&first, &second] {
        assert_eq!(response.status, 500, "{}", response.body);
        assert_eq!(response.header("stripe-should-retry"), "true");
    }
    assert!(stuck_for < OUTAGE_ANSWER_BOUND, "{stuck_for:?}");
    assert_requests_fail_fast(&server, &key, &account).await;
    server.assert_running();

    // Act: the network heals; the test lets go of the row.
    query("rollback").execute(&mut holder).await.unwrap();
    proxy.resume();

    // Assert: the connections that were stuck mid-query were given up, not
    // kept waiting for an answer forever: the two-connection pool serves again.
    wait_until_recovered(&server, &key, &account).await;
    let updated = server.post(&path, &key, "metadata[after]=3").await.ok();
    assert_eq!(updated["metadata"], json!({"after": "3"}));
    server.assert_running();
}

#[tokio::test]
async fn a_rolled_live_secret_key_is_refused_by_two_servers_within_the_documented_bound() {
    // Arrange: both servers have served the leaked live key (so each has its
    // grant cached) before it is rolled by a third process.
    let (database, store, platform, master_keys) = prepare().await;
    let cluster = Cluster::start_on(database, store, &platform, &master_keys, &[]).await;
    let leaked = platform.live_secret_key.expose().to_owned();
    for server in &cluster.servers {
        server.get("/v1/accounts", &leaked).await.ok();
    }

    // Act: `keys roll` with the default, no grace period.
    let url = cluster.database.url();
    let output =
        crate::fixture::run_command(&["keys", "roll", &leaked, "--database", url.as_str()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rolled: Value = serde_json::from_slice(&output.stdout).unwrap();
    let new = rolled["key"].as_str().unwrap();
    let rolled_at = Instant::now();

    // Assert: the new key works on both at once; the old one is refused by both
    // within KEY_TRUST (2 s), plus slack for a loaded machine.
    for server in &cluster.servers {
        server.get("/v1/accounts", new).await.ok();
    }
    let bound = connect_sessions::http::cache::KEY_TRUST + Duration::from_secs(3);
    for server in &cluster.servers {
        loop {
            let response = server.get("/v1/accounts", &leaked).await;
            if response.status == 401 {
                assert_eq!(response.body["error"]["code"], "api_key_expired");
                break;
            }
            assert_eq!(response.status, 200, "{}", response.body);
            assert!(
                rolled_at.elapsed() < bound,
                "server still takes the rolled key after {:?}",
                rolled_at.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
