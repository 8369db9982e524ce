//! Crash safety: the real binary is killed with SIGKILL while clients create
//! accounts and sessions and claim them, then restarted on the same database.
//! Everything it acknowledged with a 200 must be there, usable exactly as
//! promised, and nothing may be half-written.
//!
//! Runs on SQLite, the embedded default (the PostgreSQL backend has its own
//! restart test). Three rounds on one database, each killed at a random moment.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngExt;
use serde_json::Value;

use crate::fixture::{ServerProcess, create_platform};

/// A session the server acknowledged: its secret, and the key it was created with.
#[derive(Debug, Clone)]
struct AckedSession {
    idempotency_key: String,
    body: String,
    secret: String,
}

/// What the server acknowledged before it died.
#[derive(Debug, Default)]
struct Acknowledged {
    accounts: Vec<String>,
    sessions: Vec<AckedSession>,
    /// (client secret, em_ key) of claims answered with a 200.
    claims: Vec<(String, String)>,
}

/// The server binary on the SQLite file `database`, with the master key file
/// the first start creates beside it.
async fn start_server(database: &Path) -> ServerProcess {
    ServerProcess::command("crash")
        .args(["--database", &format!("sqlite://{}", database.display())])
        .start()
        .await
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    key: &str,
    idempotency_key: Option<&str>,
    body: &str,
) -> Option<(u16, Value)> {
    let mut request = client
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(idempotency_key) = idempotency_key {
        request = request.header("idempotency-key", idempotency_key);
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.json().await.ok()?;
    Some((status, body))
}

/// One client: creates an account, a session for it (idempotently), and claims
/// every other session, until the server stops answering.
async fn client_loop(
    base: String,
    sk: String,
    pk: String,
    worker: usize,
    acked: Arc<Mutex<Acknowledged>>,
) {
    let client = crate::helpers::http_client();
    for round in 0.. {
        let Some((200, account)) =
            post(&client, &base, "/v1/accounts", &sk, None, "type=custom").await
        else {
            return;
        };
        let account = account["id"].as_str().unwrap().to_owned();
        acked.lock().unwrap().accounts.push(account.clone());

        let key = format!("crash-{worker}-{round}-{}", rand::rng().random::<u64>());
        let body = format!("account={account}&components[account_onboarding][enabled]=true");
        let Some((200, session)) = post(
            &client,
            &base,
            "/v1/account_sessions",
            &sk,
            Some(&key),
            &body,
        )
        .await
        else {
            return;
        };
        let secret = session["client_secret"].as_str().unwrap().to_owned();
        acked.lock().unwrap().sessions.push(AckedSession {
            idempotency_key: key,
            body,
            secret: secret.clone(),
        });

        if round % 2 == 0 {
            let Some((200, claim)) = post(
                &client,
                &base,
                "/v1/account_sessions/claim",
                &pk,
                None,
                &format!("client_secret={secret}"),
            )
            .await
            else {
                return;
            };
            let em = claim["secret"].as_str().unwrap().to_owned();
            acked.lock().unwrap().claims.push((secret, em));
        }
    }
}

/// Everything acknowledged so far, across rounds, and what is known of each
/// session's claim.
#[derive(Debug, Default)]
struct Ledger {
    accounts: Vec<String>,
    /// Each session, whether it is known to be claimed, and its em_ key if a
    /// claim's answer reached a client.
    sessions: Vec<(AckedSession, bool, Option<String>)>,
}

impl Ledger {
    fn record(&mut self, round: Acknowledged) {
        self.accounts.extend(round.accounts);
        for session in round.sessions {
            let em = round
                .claims
                .iter()
                .find(|(secret, _)| *secret == session.secret)
                .map(|(_, em)| em.clone());
            self.sessions.push((session, em.is_some(), em));
        }
    }
}

/// Checks, after a restart, everything acknowledged so far; claims every
/// session not yet known to be claimed (so later rounds know them as claimed).
async fn verify(base: &str, sk: &str, pk: &str, ledger: &mut Ledger) {
    let client = crate::helpers::http_client();
    for account in &ledger.accounts {
        let status = client
            .get(format!("{base}/v1/accounts/{account}"))
            .bearer_auth(sk)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "acknowledged account {account} is gone");
    }
    // Sessions are checked concurrently, 16 at a time: each check is several
    // writes, and a few hundred of them one by one would take long.
    let sessions = std::mem::take(&mut ledger.sessions);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(16));
    let checks: Vec<_> = sessions
        .into_iter()
        .map(|entry| {
            let (base, sk, pk) = (base.to_owned(), sk.to_owned(), pk.to_owned());
            let semaphore = semaphore.clone();
            tokio::spawn(async move {
                let _permit = semaphore.acquire().await.unwrap();
                verify_session(&base, &sk, &pk, entry).await
            })
        })
        .collect();
    for check in checks {
        ledger.sessions.push(check.await.unwrap());
    }
}

/// Checks one acknowledged session; returns it with what is now known of its claim.
async fn verify_session(
    base: &str,
    sk: &str,
    pk: &str,
    (session, mut claimed, mut em): (AckedSession, bool, Option<String>),
) -> (AckedSession, bool, Option<String>) {
    let client = crate::helpers::http_client();
    // The saved response survived: the same secret comes back.
    let (status, replay) = post(
        &client,
        base,
        "/v1/account_sessions",
        sk,
        Some(&session.idempotency_key),
        &session.body,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{replay}");
    assert_eq!(
        replay["client_secret"],
        session.secret.as_str(),
        "the replay changed the secret"
    );

    // Claimable exactly once. A claim in flight at the kill may have
    // committed without its answer getting out: then it is claimed already.
    let claim = format!("client_secret={}", session.secret);
    let (first, body) = post(
        &client,
        base,
        "/v1/account_sessions/claim",
        pk,
        None,
        &claim,
    )
    .await
    .unwrap();
    if claimed {
        assert_eq!(first, 400, "a claimed session was claimable again: {body}");
        assert_eq!(body["error"]["code"], "account_session_already_claimed");
    } else {
        assert!(
            first == 200 || body["error"]["code"] == "account_session_already_claimed",
            "an acknowledged, unclaimed session cannot be claimed: {body}"
        );
        claimed = true;
        if first == 200 {
            em = body["secret"].as_str().map(str::to_owned);
        }
    }
    let (second, again) = post(
        &client,
        base,
        "/v1/account_sessions/claim",
        pk,
        None,
        &claim,
    )
    .await
    .unwrap();
    assert_eq!(second, 400, "{again}");
    assert_eq!(again["error"]["code"], "account_session_already_claimed");

    // Every em_ key a client received still works.
    if let Some(em) = &em {
        let response = client
            .get(format!("{base}/v1/embedded_session"))
            .bearer_auth(em)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "an acknowledged em_ key stopped working"
        );
    }
    (session, claimed, em)
}

/// SQLite's own checks: no corruption, no dangling references.
fn check_integrity(database: &PathBuf) {
    let db = rusqlite::Connection::open(database).unwrap();
    let integrity: String = db
        .query_row("pragma integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let dangling: i64 = db
        .query_row("select count(*) from pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(dangling, 0, "rows refer to rows that do not exist");
    let claims_without_embedded_session: i64 = db
        .query_row(
            "select count(*) from account_sessions s
             where s.claimed_at is not null
               and not exists (select 1 from embedded_sessions e where e.account_session_hash = s.secret_hash)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        claims_without_embedded_session, 0,
        "a claim was half-written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_acknowledged_survives_sigkill_and_nothing_is_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("crash.db");
    // The first start creates the schema and the master key file beside it.
    start_server(&database).await.kill_hard();
    let keys = create_platform(&format!("sqlite://{}", database.display()));
    let (sk, pk) = (keys.secret, keys.publishable);
    let mut ledger = Ledger::default();

    for round in 0..3 {
        // Arrange: a server under load from several clients.
        let server = start_server(&database).await;
        let acked = Arc::new(Mutex::new(Acknowledged::default()));
        let workers: Vec<_> = (0..8)
            .map(|worker| {
                tokio::spawn(client_loop(
                    server.base_url(),
                    sk.clone(),
                    pk.clone(),
                    worker,
                    acked.clone(),
                ))
            })
            .collect();

        // Act: kill it mid-flight, at a moment the test does not choose,
        // once load has reached it (on a busy machine the first answers can
        // take longer than the whole random delay).
        let loaded_by = Instant::now() + Duration::from_secs(30);
        while acked.lock().unwrap().sessions.is_empty() && Instant::now() < loaded_by {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let delay = rand::rng().random_range(200..800);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        server.kill_hard();
        for worker in workers {
            worker.await.unwrap();
        }
        let acked = std::mem::take(&mut *acked.lock().unwrap());
        assert!(
            !acked.sessions.is_empty(),
            "round {round}: no load reached the server"
        );
        eprintln!(
            "round {round}: {} accounts, {} sessions, {} claims acknowledged before the kill",
            acked.accounts.len(),
            acked.sessions.len(),
            acked.claims.len()
        );
        ledger.record(acked);

        // Assert: this round's acknowledgements and every earlier round's.
        check_integrity(&database);
        let restarted = start_server(&database).await;
        verify(&restarted.base_url(), &sk, &pk, &mut ledger).await;
        restarted.kill_hard();
    }
}
