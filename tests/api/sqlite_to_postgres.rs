//! `scripts/sqlite-to-postgres.sh`, the move from SQLite to PostgreSQL that
//! docs/OPERATIONS.md describes, done as an operator would: a server on a fresh
//! SQLite file is given a platform's data through the API (something in every
//! table), stopped; `connect-sessions migrate` prepares a fresh PostgreSQL
//! schema; the script copies; a server on PostgreSQL, started with the SQLite
//! server's key file, answers exactly as the SQLite server did.
//!
//! It also keeps the script in step with the schema: every column of every
//! PostgreSQL table must be in the script's list (a new migration without a
//! script update fails here), and every copied row must equal its original.
//!
//! PostgreSQL only (ignored unless asked for, as in `crate::multiprocess`);
//! needs the `sqlite3` and `psql` programs, which scripts/test installs.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sqlx_core::query::query;
use sqlx_core::row::Row;
use sqlx_core::sql_str::AssertSqlSafe;

use crate::database::{TEST_DATABASE_ENV, TestDatabase, postgres_server};
use crate::fixture::{BIN, ServerProcess, create_platform, without_caller_settings};
use crate::helpers::PlatformKeys;
use crate::webhooks::Receiver;

/// The script under test.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sqlite-to-postgres.sh")
}

/// The script's tables and their columns, read from its `TABLES` list: lines
/// `"table: column column:hex …"`.
fn columns_in_script() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(script()).expect("cannot read the script");
    let mut tables = BTreeMap::new();
    for line in text.lines() {
        let Some(spec) = line
            .trim()
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
        else {
            continue;
        };
        let Some((table, columns)) = spec.split_once(": ") else {
            continue;
        };
        if table.is_empty() || !table.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            continue;
        }
        let columns = columns
            .split_whitespace()
            .map(|column| column.trim_end_matches(":hex").to_owned())
            .collect();
        assert!(
            tables.insert(table.to_owned(), columns).is_none(),
            "{table} is listed twice in the script"
        );
    }
    tables
}

/// Every table of the test's PostgreSQL schema (sqlx's own table aside) with
/// its columns and their types.
async fn postgres_columns(database: &TestDatabase) -> BTreeMap<String, BTreeMap<String, String>> {
    let TestDatabase::Postgres { schema, .. } = database else {
        panic!("not PostgreSQL");
    };
    let mut conn = database.connect().await;
    let rows = query(
        "select table_name::text, column_name::text, data_type::text
         from information_schema.columns
         where table_schema = $1 and table_name <> '_sqlx_migrations'",
    )
    .bind(schema.as_str())
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut tables: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for row in &rows {
        tables
            .entry(row.get(0))
            .or_default()
            .insert(row.get(1), row.get(2));
    }
    tables
}

/// Runs a program to its end; panics, with what it printed, unless it succeeds.
fn run(command: &mut Command, what: &str) -> String {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {what}: {error}"));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{stderr}",
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

/// Every row of `table`, each value as text (NULL as `None`; binary values as
/// lowercase hex, booleans as 0/1, as SQLite keeps them), sorted.
fn sqlite_rows(path: &Path, table: &str, columns: &[String]) -> Vec<Vec<Option<String>>> {
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let select: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "case when typeof({c}) = 'blob' then lower(hex({c})) else cast({c} as text) end"
            )
        })
        .collect();
    let mut rows: Vec<Vec<Option<String>>> = db
        .prepare(&format!("select {} from {table}", select.join(", ")))
        .unwrap()
        .query_map([], |row| {
            (0..columns.len())
                .map(|i| row.get::<_, Option<String>>(i))
                .collect()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    rows
}

/// [`sqlite_rows`] for PostgreSQL: the same text for the same value.
async fn postgres_rows(
    database: &TestDatabase,
    table: &str,
    columns: &[(String, String)],
) -> Vec<Vec<Option<String>>> {
    let mut conn = database.connect().await;
    let select: Vec<String> = columns
        .iter()
        .map(|(c, kind)| match kind.as_str() {
            "bytea" => format!("encode({c}, 'hex')"),
            "boolean" => format!("{c}::int::text"),
            _ => format!("{c}::text"),
        })
        .collect();
    let mut rows: Vec<Vec<Option<String>>> = query(AssertSqlSafe(format!(
        "select {} from {table}",
        select.join(", ")
    )))
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|row| (0..columns.len()).map(|i| row.get(i)).collect())
    .collect();
    rows.sort();
    rows
}

/// A Custom US account with a business profile, requested capabilities,
/// metadata and an individual whose verification is pending.
const ACCOUNT: &str = "type=custom&country=US&email=jenny@example.com\
    &business_profile[name]=Rocket+Rides&business_profile[url]=https://rocket.example.com\
    &business_profile[mcc]=5734\
    &capabilities[card_payments][requested]=true&capabilities[transfers][requested]=true\
    &metadata[order]=6735&metadata[note]=%22quoted%22,+comma+and%0Anewline\
    &business_type=individual&individual[first_name]=Jenny&individual[last_name]=Rosen\
    &individual[dob][day]=1&individual[dob][month]=1&individual[dob][year]=1901\
    &tos_acceptance[date]=1780272000&tos_acceptance[ip]=8.8.8.8";

/// A bank account, added by the platform.
const BANK_ACCOUNT: &str = "external_account[object]=bank_account&external_account[country]=US\
    &external_account[currency]=usd&external_account[routing_number]=110000000\
    &external_account[account_number]=000123456789\
    &external_account[account_holder_name]=Jenny+Rosen\
    &external_account[account_holder_type]=individual";

/// A person of a company account.
const PERSON: &str = "first_name=Jane&last_name=Roe&email=jane@example.com\
    &relationship[representative]=true&relationship[title]=CEO";

/// What the test made, to be read back.
#[derive(Debug)]
struct Made {
    /// (path, key) of every GET whose answer must not change with the move.
    reads: Vec<(String, String)>,
    /// The idempotent request: its body, key and first answer.
    idempotent: (String, String, Value),
    /// The unclaimed session's client secret and its account.
    unclaimed: (String, String),
    /// The embedded session key claimed on SQLite.
    embedded_key: String,
}

/// Fills the SQLite server's database through its API: something in every table.
async fn make_data(server: &ServerProcess, platform: &PlatformKeys, receiver: &Receiver) -> Made {
    let sk = &platform.secret;
    let endpoint = server
        .post(
            "/v1/webhook_endpoints",
            sk,
            &format!(
                "url={}&enabled_events[]=*&connect=true&description=The+platform%27s+hooks\
                 &metadata[team]=payments",
                receiver.url
            ),
        )
        .await
        .ok();
    let endpoint_id = endpoint["id"].as_str().unwrap().to_owned();
    // A second endpoint, deleted: kept as a row with `deleted_at`.
    let deleted = server
        .post(
            "/v1/webhook_endpoints",
            sk,
            "url=https://hooks.example.com/old&enabled_events[]=account.updated",
        )
        .await
        .ok();
    server
        .delete(
            &format!("/v1/webhook_endpoints/{}", deleted["id"].as_str().unwrap()),
            sk,
        )
        .await
        .ok();

    let individual = server.post("/v1/accounts", sk, ACCOUNT).await.ok();
    let individual = individual["id"].as_str().unwrap().to_owned();
    let bank = server
        .post(
            &format!("/v1/accounts/{individual}/external_accounts"),
            sk,
            BANK_ACCOUNT,
        )
        .await
        .ok();
    assert_eq!(bank["account_holder_type"], "individual", "{bank}");
    let company = server
        .post(
            "/v1/accounts",
            sk,
            "type=custom&country=US&business_type=company&company[name]=Roe+Ltd",
        )
        .await
        .ok();
    let company = company["id"].as_str().unwrap().to_owned();
    server
        .post(&format!("/v1/accounts/{company}/persons"), sk, PERSON)
        .await
        .ok();
    let gone = server
        .post("/v1/accounts", sk, "type=express&country=FR")
        .await
        .ok();
    let gone = gone["id"].as_str().unwrap().to_owned();
    server
        .delete(&format!("/v1/accounts/{gone}"), sk)
        .await
        .ok();
    let idempotent_body = "type=standard&country=GB&metadata[via]=retry".to_owned();
    let idempotency_key = "move-to-postgres-1".to_owned();
    let first = server
        .post_idempotent("/v1/accounts", sk, &idempotent_body, &idempotency_key)
        .await
        .ok();
    // (No live-mode data: a server with --test-clock refuses live mode. The live
    // keys' rows carry SQLite's 1 for `livemode` over to PostgreSQL's true.)

    // Two sessions: one claimed (an embedded session), one not.
    let session = |account: String| async move {
        let session = server
            .post(
                "/v1/account_sessions",
                sk,
                &format!(
                    "account={account}&components[account_onboarding][enabled]=true\
                     &components[payments][enabled]=true"
                ),
            )
            .await
            .ok();
        session["client_secret"].as_str().unwrap().to_owned()
    };
    let claimed_secret = session(individual.clone()).await;
    let unclaimed_secret = session(company.clone()).await;
    let claim = server
        .post(
            "/v1/account_sessions/claim",
            &platform.publishable,
            &format!("client_secret={claimed_secret}"),
        )
        .await
        .ok();
    let embedded_key = claim["secret"].as_str().unwrap().to_owned();
    // The account changes its own email: an event with previous attributes.
    server
        .post(
            "/v1/account",
            &embedded_key,
            "email=jenny.rosen@example.com",
        )
        .await
        .ok();

    // The test clock moves (a row in test_clock), less than the verification delay.
    server
        .post("/v1/test_helpers/clock/advance", sk, "seconds=120")
        .await
        .ok();

    // Every event delivered and its attempt recorded.
    let events = server.get("/v1/events?limit=100", sk).await.ok();
    let event_count = events["data"].as_array().unwrap().len();
    assert!(event_count >= 5, "{events}");
    receiver
        .wait_for(event_count, Duration::from_secs(30))
        .await;
    let attempts_path = format!("/v1/webhook_endpoints/{endpoint_id}/attempts?limit=100");
    for _ in 0..300 {
        let attempts = server.get(&attempts_path, sk).await.ok();
        if attempts["data"].as_array().unwrap().len() >= event_count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let reads = vec![
        ("/v1/accounts?limit=100".to_owned(), sk.clone()),
        (format!("/v1/accounts/{individual}"), sk.clone()),
        (format!("/v1/accounts/{company}"), sk.clone()),
        (format!("/v1/accounts/{gone}"), sk.clone()),
        (
            format!("/v1/accounts/{individual}/external_accounts"),
            sk.clone(),
        ),
        (format!("/v1/accounts/{company}/persons"), sk.clone()),
        ("/v1/webhook_endpoints?limit=100".to_owned(), sk.clone()),
        (attempts_path, sk.clone()),
        ("/v1/events?limit=100".to_owned(), sk.clone()),
        ("/v1/embedded_session".to_owned(), embedded_key.clone()),
        ("/v1/account".to_owned(), embedded_key.clone()),
        (
            "/v1/account/external_accounts".to_owned(),
            embedded_key.clone(),
        ),
    ];
    Made {
        reads,
        idempotent: (idempotent_body, idempotency_key, first),
        unclaimed: (unclaimed_secret, company),
        embedded_key,
    }
}

/// Every read of `made`, as `server` answers it (status and body).
async fn read_all(server: &ServerProcess, made: &Made) -> Vec<(String, u16, Value)> {
    let mut answers = Vec::new();
    for (path, key) in &made.reads {
        let answer = server.get(path, key).await;
        answers.push((path.clone(), answer.status, answer.body));
    }
    answers
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set CONNECT_SESSIONS_TEST_DATABASE (scripts/test runs it)"]
async fn the_copy_script_moves_every_table_and_column_from_sqlite_to_postgres() {
    // Arrange: the tools, a platform's data on SQLite, a migrated empty PostgreSQL schema.
    let server_url = postgres_server().unwrap_or_else(|| {
        panic!("this test needs PostgreSQL: set {TEST_DATABASE_ENV} to a postgres:// URL")
    });
    for tool in ["sqlite3", "psql"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        assert!(
            found,
            "this test needs {tool} on PATH (scripts/test installs it)"
        );
    }
    let sqlite = TestDatabase::create_sqlite();
    let TestDatabase::Sqlite {
        path: sqlite_path, ..
    } = &sqlite
    else {
        unreachable!()
    };
    let key_file = format!("{}.key", sqlite_path.display());
    let platform = create_platform(&sqlite.url());
    let receiver = Receiver::start().await;
    // Verifications take an hour: nothing completes by itself during the test.
    let serve_options = [
        "--test-clock",
        "--verification-delay",
        "1h",
        "--webhook-poll-interval",
        "50ms",
    ];
    let before = ServerProcess::command("sqlite")
        .args(["--database", &sqlite.url()])
        .args(serve_options)
        .start()
        .await;
    let made = make_data(&before, &platform, &receiver).await;
    let answers_before = read_all(&before, &made).await;
    before.stop().await;
    assert!(Path::new(&key_file).exists(), "no key file at {key_file}");

    let postgres = TestDatabase::create_postgres(&server_url).await;
    let postgres_url = postgres.url();
    let mut migrate = Command::new(BIN);
    without_caller_settings(&mut migrate);
    run(
        migrate.args(["migrate", "--database", &postgres_url]),
        "connect-sessions migrate",
    );

    // Act
    let summary = run(
        Command::new(script()).args([sqlite_path.as_os_str(), OsStr::new(&postgres_url)]),
        "scripts/sqlite-to-postgres.sh",
    );

    // Assert: the script lists exactly PostgreSQL's tables and columns…
    let in_postgres = postgres_columns(&postgres).await;
    let names: BTreeMap<String, BTreeSet<String>> = in_postgres
        .iter()
        .map(|(table, columns)| (table.clone(), columns.keys().cloned().collect()))
        .collect();
    assert_eq!(
        columns_in_script(),
        names,
        "scripts/sqlite-to-postgres.sh does not copy exactly the PostgreSQL schema's \
         columns: update its TABLES and schema versions with the new migrations"
    );
    // …and every table, something in each, arrived row for row, value for value.
    for (table, columns) in &in_postgres {
        let columns: Vec<(String, String)> = columns
            .iter()
            .map(|(name, kind)| (name.clone(), kind.clone()))
            .collect();
        let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
        let original = sqlite_rows(sqlite_path, table, &names);
        assert!(
            !original.is_empty(),
            "the test made no row in {table}: it must cover every table"
        );
        assert_eq!(
            postgres_rows(&postgres, table, &columns).await,
            original,
            "{table} differs after the copy"
        );
    }
    assert!(summary.contains("copied"), "{summary}");

    // A server on PostgreSQL with the SQLite server's keys answers as it did.
    let after = ServerProcess::command("postgres")
        .args(["--database", &postgres_url, "--master-key-file", &key_file])
        .args(serve_options)
        .start()
        .await;
    let answers_after = read_all(&after, &made).await;
    for (before, after) in answers_before.iter().zip(&answers_after) {
        assert_eq!(after, before, "GET {} answers differently", before.0);
    }
    assert_eq!(
        after
            .get("/v1/test_helpers/clock", &platform.secret)
            .await
            .ok()["offset_seconds"],
        120
    );
    let (body, key, first) = &made.idempotent;
    let replay = after
        .post_idempotent("/v1/accounts", &platform.secret, body, key)
        .await;
    assert_eq!(replay.header("idempotent-replayed"), "true");
    assert_eq!(&replay.body, first);
    let (secret, account) = &made.unclaimed;
    let claim = after
        .post(
            "/v1/account_sessions/claim",
            &platform.publishable,
            &format!("client_secret={secret}"),
        )
        .await
        .ok();
    let session = after
        .get("/v1/embedded_session", claim["secret"].as_str().unwrap())
        .await
        .ok();
    assert_eq!(&session["account"], account);
    assert_eq!(
        after.get("/v1/account", &made.embedded_key).await.ok()["email"],
        "jenny.rosen@example.com"
    );

    // New rows continue the copied order: listed first, events included.
    let new = after
        .post("/v1/accounts", &platform.secret, "type=custom&country=US")
        .await
        .ok();
    let listed = after
        .get("/v1/accounts?limit=1", &platform.secret)
        .await
        .ok();
    assert_eq!(listed["data"][0]["id"], new["id"]);
    after
        .post(
            &format!("/v1/accounts/{}", new["id"].as_str().unwrap()),
            &platform.secret,
            "email=new@example.com",
        )
        .await
        .ok();
    let events = after.get("/v1/events?limit=1", &platform.secret).await.ok();
    assert_eq!(events["data"][0]["type"], "account.updated", "{events}");
    assert_eq!(
        events["data"][0]["data"]["object"]["id"], new["id"],
        "{events}"
    );
    let endpoint = after
        .post(
            "/v1/webhook_endpoints",
            &platform.secret,
            &format!("url={}&enabled_events[]=*&connect=true", receiver.url),
        )
        .await
        .ok();
    let endpoints = after
        .get("/v1/webhook_endpoints?limit=1", &platform.secret)
        .await
        .ok();
    assert_eq!(endpoints["data"][0]["id"], endpoint["id"]);
    after.stop().await;
}
