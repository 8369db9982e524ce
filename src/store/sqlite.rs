//! The embedded backend: one SQLite file in WAL mode, with every commit synced.
//!
//! Writes go to one writer thread that owns the only writing connection and
//! practises group commit: it takes every write queued while the previous commit
//! was syncing, runs each in its own savepoint inside one `BEGIN IMMEDIATE`
//! transaction, commits once (one fsync), and only then answers each caller. A
//! caller therefore hears `Ok` only once its write is durable, and a failing write
//! is rolled back to its savepoint without disturbing its neighbours.
//!
//! Reads go to a few reader threads, each with its own read-only connection; in WAL
//! mode they never wait for the writer. Threads own their connections, so no call
//! pays for `spawn_blocking` or a pool checkout. (sqlx's SQLite driver would run
//! every statement through its own worker channel and cannot give one caller
//! control of a connection across a batch; rusqlite gives us both.)

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use rusqlite_migration::{M, Migrations};
use tokio::sync::{mpsc, oneshot};

use crate::clock::Timestamp;
use crate::domain::account::{
    Account, AccountUpdate, BusinessProfile, Controller, DashboardType, FeePayer, LossesPayer,
    RequirementCollection,
};
use crate::domain::account_session::NewAccountSession;
use crate::domain::embedded_session::{EmbeddedSession, NewEmbeddedSession};
use crate::domain::external_account::BankAccount;
use crate::domain::ids::{AccountId, EmbeddedSessionId, ExternalAccountId, PlatformId};
use crate::domain::keys::{KeyKind, SecretHash};
use crate::domain::mode::Mode;
use crate::domain::platform::{KeyGrant, NewPlatform, Tenant};

use super::columns;
use super::{
    AccountSessionRecord, AccountUpdateOutcome, BankAccountInsertOutcome, ClaimOutcome, Cursor,
    Page, Save, SessionInsertOutcome, Store, StoreError,
};
use crate::idempotency::{
    Attempt, BeginOutcome, CompletedAttempt, Fingerprint, IdempotencyScope, LeaseToken,
    SavedResponse,
};

/// Most writes one transaction takes; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;
/// Writes that may wait for the writer before callers feel back-pressure.
const WRITE_QUEUE: usize = 4096;
/// How long a connection waits for another process's lock before failing.
const BUSY_TIMEOUT_MS: u32 = 5_000;

/// The migrations, embedded in the binary and applied in order.
fn migrations() -> Migrations<'static> {
    Migrations::new(migration_steps())
}

/// Each migration, in order (tests replay a prefix to build older databases).
fn migration_steps() -> Vec<M<'static>> {
    vec![
        M::up(include_str!("../../migrations/sqlite/0001_initial.sql")),
        M::up(include_str!(
            "../../migrations/sqlite/0002_browser_side.sql"
        )),
        M::up(include_str!("../../migrations/sqlite/0003_idempotency.sql")),
        M::up(include_str!(
            "../../migrations/sqlite/0004_sequential_sessions.sql"
        ))
        .foreign_key_check(),
    ]
}

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: mpsc::Sender<WriteJob>,
    readers: crossbeam_channel::Sender<ReadJob>,
}

/// Called once the batch holding a write has committed (`None`) or failed.
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;
/// A read: runs on a reader connection and answers its caller itself.
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;
/// A queued write job, boxed so the writer can hold jobs of every result type.
type WriteJob = Box<dyn QueuedWrite>;

/// A write waiting for the writer thread.
trait QueuedWrite: Send {
    /// Runs the write inside the batch transaction; says whether it succeeded and
    /// returns what answers the caller once the batch's fate is known.
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Finish);
    /// Answers the caller without running: the batch could not start.
    fn fail(self: Box<Self>, message: &str);
}

/// A write closure and the channel its caller waits on.
struct Write<F, R> {
    work: F,
    reply: oneshot::Sender<Result<R, StoreError>>,
}

impl<F, R> QueuedWrite for Write<F, R>
where
    R: Send + 'static,
    F: FnOnce(&Connection) -> Result<R, StoreError> + Send,
{
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Finish) {
        let Self { work, reply } = *self;
        let result = work(conn);
        let succeeded = result.is_ok();
        let finish: Finish = Box::new(move |commit_error| {
            let outcome = match commit_error {
                None => result,
                Some(message) => Err(commit_failed(message)),
            };
            // The caller may have gone (client disconnected); the write stands.
            let _ = reply.send(outcome);
        });
        (succeeded, finish)
    }

    fn fail(self: Box<Self>, message: &str) {
        let _ = self.reply.send(Err(commit_failed(message)));
    }
}

fn commit_failed(message: &str) -> StoreError {
    StoreError::Unavailable(format!("commit failed: {message}"))
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path`, applies migrations, and
    /// starts the writer and `reader_threads` reader threads.
    pub async fn open(path: &Path, reader_threads: usize) -> Result<Self, StoreError> {
        let owned = path.to_path_buf();
        let writer_conn = tokio::task::spawn_blocking(move || open_writer(&owned))
            .await
            .map_err(|e| StoreError::Unavailable(format!("opening the database: {e}")))??;

        let (write_tx, write_rx) = mpsc::channel(WRITE_QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || run_writer(&writer_conn, write_rx))
            .map_err(|e| StoreError::Unavailable(format!("starting the writer: {e}")))?;

        let (read_tx, read_rx) = crossbeam_channel::unbounded::<ReadJob>();
        for index in 0..reader_threads.max(1) {
            let conn = open_reader(path)?;
            let jobs = read_rx.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{index}"))
                .spawn(move || {
                    // Ends when the store, the only sender, is dropped.
                    while let Ok(job) = jobs.recv() {
                        job(&conn);
                    }
                })
                .map_err(|e| StoreError::Unavailable(format!("starting a reader: {e}")))?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            writer: write_tx,
            readers: read_tx,
        })
    }

    /// Applies pending migrations to the database at `path` and returns.
    pub fn migrate(path: &Path) -> Result<(), StoreError> {
        open_writer(path).map(drop)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in the next write batch; answers once the batch is durable.
    async fn write<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: WriteJob = Box::new(Write { work, reply });
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the writer thread has stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the write was abandoned".to_owned()))?
    }

    /// Runs `work` on a reader connection.
    async fn read<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let result = catch_unwind(AssertUnwindSafe(|| work(conn)))
                .unwrap_or_else(|_| Err(StoreError::Unavailable("a read panicked".to_owned())));
            let _ = reply.send(result);
        });
        self.readers
            .send(job)
            .map_err(|_| StoreError::Unavailable("the reader threads have stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the read was abandoned".to_owned()))?
    }
}

/// Opens the writing connection: WAL, every commit synced, migrations applied,
/// also when several processes open one new file at once.
fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(database)?;
    conn.busy_timeout(std::time::Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)))
        .map_err(database)?;
    // synchronous=FULL syncs the WAL on every commit: a 200 survives power loss.
    // The writer touches index pages all over the file (secret hashes are
    // random), so it gets a larger page cache than SQLite's 2 MiB default.
    // Switching a new file to WAL does not wait for another process's lock
    // (the busy handler is not consulted), so processes opening one new file
    // at once retry it.
    retry_while_contended(|| {
        conn.execute_batch(
            "pragma journal_mode = wal;
             pragma synchronous = full;
             pragma cache_size = -16384;
             pragma foreign_keys = off;",
        )
    })
    .map_err(database)?;
    // Foreign keys go on only after migrating (the bundled SQLite turns them on
    // by default): a migration that rebuilds a table (SQLite's 12-step
    // procedure) needs them off, and checks them itself.
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    // rusqlite_migration reads the schema version before it opens its (here
    // IMMEDIATE) transaction, so two processes may both try migration 1; the
    // one that loses fails on "table already exists", and on a retry reads the
    // winner's version and finds nothing left to do.
    retry_while_contended(|| migrations().to_latest(&mut conn))
        .map_err(|error| StoreError::Database(Box::new(error)))?;
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Deferred);
    conn.execute_batch("pragma foreign_keys = on;")
        .map_err(database)?;
    Ok(conn)
}

/// Runs `attempt` until it succeeds, a few times with a growing pause: for the
/// steps where several processes opening one new database collide.
fn retry_while_contended<T, E>(mut attempt: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    const ATTEMPTS: u64 = 8;
    let mut tried = 1;
    loop {
        match attempt() {
            Err(_) if tried < ATTEMPTS => {
                tried += 1;
                std::thread::sleep(std::time::Duration::from_millis(20 * tried));
            }
            result => return result,
        }
    }
}

/// Opens a read-only connection.
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(database)?;
    conn.busy_timeout(std::time::Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)))
        .map_err(database)?;
    Ok(conn)
}

/// The writer thread: batches queued writes into one transaction each.
fn run_writer(conn: &Connection, mut jobs: mpsc::Receiver<WriteJob>) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(conn, batch);
    }
}

/// Runs one batch: a savepoint per job, one commit for all, then the answers.
fn run_batch(conn: &Connection, batch: Vec<WriteJob>) {
    if let Err(error) = exec(conn, "begin immediate") {
        let message = error.to_string();
        for job in batch {
            job.fail(&message);
        }
        return;
    }
    let mut finishes = Vec::with_capacity(batch.len());
    for job in batch {
        if let Err(error) = exec(conn, "savepoint job") {
            job.fail(&error.to_string());
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| job.run(conn))) {
            Ok((true, finish)) => {
                let _ = exec(conn, "release job");
                finishes.push(finish);
            }
            Ok((false, finish)) => {
                let _ = exec(conn, "rollback to job").and_then(|()| exec(conn, "release job"));
                finishes.push(finish);
            }
            // The panicking job's caller sees its channel closed: `Unavailable`.
            Err(_) => {
                let _ = exec(conn, "rollback to job").and_then(|()| exec(conn, "release job"));
            }
        }
    }
    let commit = exec(conn, "commit").map_err(|error| error.to_string());
    if commit.is_err() {
        let _ = exec(conn, "rollback");
    }
    for finish in finishes {
        finish(commit.as_ref().err().map(String::as_str));
    }
}

/// Runs one statement through the connection's statement cache: the writer
/// runs the same few transaction statements for every job, and parsing them
/// each time showed in profiles.
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn database(error: rusqlite::Error) -> StoreError {
    StoreError::Database(Box::new(error))
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        database(error)
    }
}

const ACCOUNT_COLUMNS: &str = "id, platform_id, livemode, fees_payer, losses_payments, \
     requirement_collection, stripe_dashboard, country, email, metadata, \
     business_profile_name, business_profile_url, capabilities, created";

/// Reads a text column holding one of an enum's wire spellings.
fn enum_column<T>(
    row: &Row<'_>,
    index: usize,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    let value: String = row.get(index)?;
    parse(&value).ok_or_else(|| StoreError::Corrupt(format!("column {index}: {value:?}")))
}

/// Decodes a row selected with [`ACCOUNT_COLUMNS`].
fn account_from_row(row: &Row<'_>) -> Result<Account, StoreError> {
    let text = |index: usize| -> Result<String, StoreError> { Ok(row.get::<_, String>(index)?) };
    let corrupt =
        |what: &str, value: &str| StoreError::Corrupt(format!("account {what}: {value:?}"));
    let id = text(0)?;
    let controller = Controller {
        fees_payer: enum_column(row, 3, FeePayer::parse)?,
        losses_payments: enum_column(row, 4, LossesPayer::parse)?,
        requirement_collection: enum_column(row, 5, RequirementCollection::parse)?,
        stripe_dashboard: enum_column(row, 6, DashboardType::parse)?,
    };
    let metadata_json = text(9)?;
    let metadata = columns::metadata(&metadata_json)?;
    let capabilities_json = text(12)?;
    let capabilities = columns::capabilities(&capabilities_json)?;
    Ok(Account {
        id: AccountId::parse(&id).ok_or_else(|| corrupt("id", &id))?,
        platform: PlatformId::parse(&text(1)?).ok_or_else(|| corrupt("platform", &id))?,
        mode: Mode::from_livemode(row.get(2)?),
        controller,
        country: text(7)?,
        email: row.get(8)?,
        metadata,
        business_profile: BusinessProfile {
            name: row.get(10)?,
            url: row.get(11)?,
        },
        capabilities,
        created: Timestamp::from_secs(row.get(13)?),
    })
}

/// Inserts a platform and its key hashes.
fn insert_platform(
    conn: &Connection,
    platform: &NewPlatform,
    created: Timestamp,
) -> Result<(), StoreError> {
    let id = platform.id.as_str();
    conn.prepare_cached("insert into platforms (id, name, created) values (?1, ?2, ?3)")?
        .execute(params![id, platform.name, created.as_secs()])?;
    let mut insert_key = conn.prepare_cached(
        "insert into api_keys (key_hash, platform_id, kind, livemode) values (?1, ?2, ?3, ?4)",
    )?;
    for key in platform.stored_keys() {
        insert_key.execute(params![
            key.hash.as_bytes().as_slice(),
            id,
            key.kind.as_str(),
            key.mode.is_live()
        ])?;
    }
    Ok(())
}

/// The tenant's live (not deleted) account with this id, read on `conn`.
fn select_tenant_account(
    conn: &Connection,
    tenant: &Tenant,
    id: &AccountId,
) -> Result<Option<Account>, StoreError> {
    let sql = format!(
        "select {ACCOUNT_COLUMNS} from accounts
         where id = ?1 and platform_id = ?2 and livemode = ?3 and deleted_at is null"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query(params![
        id.as_str(),
        tenant.platform.as_str(),
        tenant.mode.is_live()
    ])?;
    match rows.next()? {
        Some(row) => account_from_row(row).map(Some),
        None => Ok(None),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_platform(
        &self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> Result<(), StoreError> {
        let platform = platform.clone();
        self.write(move |conn| insert_platform(conn, &platform, created))
            .await
    }

    async fn create_platform_if_none(
        &self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> Result<bool, StoreError> {
        let platform = platform.clone();
        self.write(move |conn| {
            // Runs inside the writer's `begin immediate`: no other process can
            // insert between this check and the insert.
            let exists: bool = conn
                .prepare_cached("select exists (select 1 from platforms)")?
                .query_row([], |row| row.get(0))?;
            if exists {
                return Ok(false);
            }
            insert_platform(conn, &platform, created)?;
            Ok(true)
        })
        .await
    }

    async fn has_platforms(&self) -> Result<bool, StoreError> {
        self.read(|conn| {
            let exists: bool = conn
                .prepare_cached("select exists (select 1 from platforms)")?
                .query_row([], |row| row.get(0))?;
            Ok(exists)
        })
        .await
    }

    async fn find_key(&self, hash: SecretHash) -> Result<Option<KeyGrant>, StoreError> {
        self.read(move |conn| {
            let row = conn
                .prepare_cached(
                    "select platform_id, kind, livemode from api_keys where key_hash = ?1",
                )?
                .query_row([hash.as_bytes().as_slice()], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, bool>(2)?,
                    ))
                })
                .optional()?;
            let Some((platform, kind, livemode)) = row else {
                return Ok(None);
            };
            let platform = PlatformId::parse(&platform)
                .ok_or_else(|| StoreError::Corrupt(format!("api key platform {platform:?}")))?;
            let kind = KeyKind::from_stored(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("api key kind {kind:?}")))?;
            Ok(Some(KeyGrant {
                platform,
                kind,
                mode: Mode::from_livemode(livemode),
            }))
        })
        .await
    }

    async fn insert_account(
        &self,
        account: &Account,
        save: Save<Account>,
    ) -> Result<(), StoreError> {
        let account = account.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "insert into accounts (id, platform_id, livemode, fees_payer, losses_payments,
                     requirement_collection, stripe_dashboard, country, email, metadata,
                     business_profile_name, business_profile_url, capabilities, created)
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                account.id.as_str(),
                account.platform.as_str(),
                account.mode.is_live(),
                account.controller.fees_payer.as_str(),
                account.controller.losses_payments.as_str(),
                account.controller.requirement_collection.as_str(),
                account.controller.stripe_dashboard.as_str(),
                account.country,
                account.email,
                columns::to_json(&account.metadata)?,
                account.business_profile.name,
                account.business_profile.url,
                columns::capabilities_json(&account)?,
                account.created.as_secs(),
            ])?;
            save_completion(conn, save, &account)
        })
        .await
    }

    async fn find_account(
        &self,
        platform: &PlatformId,
        id: &AccountId,
    ) -> Result<Option<Account>, StoreError> {
        let platform = platform.clone();
        let id = id.clone();
        self.read(move |conn| {
            let sql = format!(
                "select {ACCOUNT_COLUMNS} from accounts
                 where id = ?1 and platform_id = ?2 and deleted_at is null"
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let mut rows = statement.query(params![id.as_str(), platform.as_str()])?;
            match rows.next()? {
                Some(row) => account_from_row(row).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn update_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        update: &AccountUpdate,
        save: Save<Account>,
    ) -> Result<AccountUpdateOutcome, StoreError> {
        let tenant = tenant.clone();
        let id = id.clone();
        let update = update.clone();
        self.write(move |conn| {
            let Some(current) = select_tenant_account(conn, &tenant, &id)? else {
                return Ok(AccountUpdateOutcome::NotFound);
            };
            let updated = match current.updated(&update) {
                Ok(updated) => updated,
                Err(invalid) => return Ok(AccountUpdateOutcome::Invalid(invalid)),
            };
            conn.prepare_cached(
                "update accounts
                 set email = ?2, metadata = ?3, business_profile_name = ?4, business_profile_url = ?5
                 where id = ?1",
            )?
            .execute(params![
                updated.id.as_str(),
                updated.email,
                columns::to_json(&updated.metadata)?,
                updated.business_profile.name,
                updated.business_profile.url,
            ])?;
            save_completion(conn, save, &updated)?;
            Ok(AccountUpdateOutcome::Updated(updated))
        })
        .await
    }

    async fn delete_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let tenant = tenant.clone();
        let id = id.clone();
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "update accounts set deleted_at = ?4
                     where id = ?1 and platform_id = ?2 and livemode = ?3 and deleted_at is null",
                )?
                .execute(params![
                    id.as_str(),
                    tenant.platform.as_str(),
                    tenant.mode.is_live(),
                    at.as_secs()
                ])?;
            if changed == 1 {
                // A deleted account's sessions must stop working with it.
                conn.prepare_cached(
                    "update account_sessions set revoked_at = ?2
                     where account_id = ?1 and revoked_at is null",
                )?
                .execute(params![id.as_str(), at.as_secs()])?;
            }
            Ok(changed == 1)
        })
        .await
    }

    async fn list_accounts(
        &self,
        tenant: &Tenant,
        cursor: &Cursor<AccountId>,
        limit: u32,
    ) -> Result<Option<Page<Account>>, StoreError> {
        let tenant = tenant.clone();
        let cursor = cursor.clone();
        self.read(move |conn| {
            // One read transaction, so the cursor and the page see the same snapshot.
            let tx = conn.unchecked_transaction()?;
            let cursor_seq = |id: &AccountId| -> Result<Option<i64>, StoreError> {
                Ok(tx
                    .prepare_cached(
                        "select seq from accounts
                         where id = ?1 and platform_id = ?2 and livemode = ?3 and deleted_at is null",
                    )?
                    .query_row(params![id.as_str(), tenant.platform.as_str(), tenant.mode.is_live()], |row| row.get(0))
                    .optional()?)
            };
            let (condition, order, bound) = match &cursor {
                Cursor::Start => ("", "desc", None),
                Cursor::StartingAfter(id) => match cursor_seq(id)? {
                    Some(seq) => ("and seq < ?3", "desc", Some(seq)),
                    None => return Ok(None),
                },
                Cursor::EndingBefore(id) => match cursor_seq(id)? {
                    Some(seq) => ("and seq > ?3", "asc", Some(seq)),
                    None => return Ok(None),
                },
            };
            let sql = format!(
                "select {ACCOUNT_COLUMNS} from accounts
                 where platform_id = ?1 and livemode = ?2 and deleted_at is null {condition}
                 order by seq {order} limit ?4"
            );
            let mut statement = tx.prepare_cached(&sql)?;
            let fetch = i64::from(limit) + 1;
            let mut rows = statement.query(params![
                tenant.platform.as_str(),
                tenant.mode.is_live(),
                bound.unwrap_or(0),
                fetch
            ])?;
            let mut data = Vec::new();
            while let Some(row) = rows.next()? {
                data.push(account_from_row(row)?);
            }
            let has_more = data.len() > limit as usize;
            data.truncate(limit as usize);
            if matches!(cursor, Cursor::EndingBefore(_)) {
                data.reverse();
            }
            Ok(Some(Page { data, has_more }))
        })
        .await
    }

    async fn insert_account_session(
        &self,
        tenant: &Tenant,
        session: &NewAccountSession,
        save: Save<()>,
    ) -> Result<SessionInsertOutcome, StoreError> {
        let tenant = tenant.clone();
        let account = session.account.clone();
        let secret_hash = session.secret_hash;
        let components = session.components.to_bytes();
        let (created, expires_at) = (session.created, session.expires_at);
        self.write(move |conn| {
            // Inserting through a select on the account makes "the account exists"
            // and "the session is stored" one atomic fact.
            let inserted = conn
                .prepare_cached(
                    "insert into account_sessions
                         (secret_hash, platform_id, livemode, account_id, components, created, expires_at)
                     select ?1, platform_id, livemode, id, ?5, ?6, ?7 from accounts
                     where id = ?4 and platform_id = ?2 and livemode = ?3 and deleted_at is null",
                )?
                .execute(params![
                    secret_hash.as_bytes().as_slice(),
                    tenant.platform.as_str(),
                    tenant.mode.is_live(),
                    account.as_str(),
                    components,
                    created.as_secs(),
                    expires_at.as_secs(),
                ])?;
            if inserted == 0 {
                return Ok(SessionInsertOutcome::AccountMissing);
            }
            save_completion(conn, save, &())?;
            Ok(SessionInsertOutcome::Created)
        })
        .await
    }
    async fn claim_account_session(
        &self,
        tenant: &Tenant,
        secret: SecretHash,
        claim: &NewEmbeddedSession,
        save: Save<EmbeddedSession>,
    ) -> Result<ClaimOutcome, StoreError> {
        let tenant = tenant.clone();
        let id = claim.id.clone();
        let key_hash = claim.key.hash();
        let now = claim.created;
        self.write(move |conn| {
            // The conditional update is the single-use guarantee: inside the
            // writer's `begin immediate`, only one claim can see `claimed_at` null.
            let won = conn
                .prepare_cached(
                    "update account_sessions set claimed_at = ?4
                     where secret_hash = ?1 and platform_id = ?2 and livemode = ?3
                       and claimed_at is null and revoked_at is null and expires_at > ?4
                     returning account_id, components, expires_at",
                )?
                .query_row(
                    params![
                        secret.as_bytes().as_slice(),
                        tenant.platform.as_str(),
                        tenant.mode.is_live(),
                        now.as_secs()
                    ],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, Vec<u8>>(1)?,
                            row.get::<_, i64>(2)?,
                        ))
                    },
                )
                .optional()?;
            let Some((account, components, expires_at)) = won else {
                return claim_refusal(conn, &tenant, secret);
            };
            conn.prepare_cached(
                "insert into embedded_sessions (id, key_hash, account_session_hash, created)
                 values (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                id.as_str(),
                key_hash.as_bytes().as_slice(),
                secret.as_bytes().as_slice(),
                now.as_secs()
            ])?;
            let session = EmbeddedSession {
                id,
                platform: tenant.platform,
                mode: tenant.mode,
                account: columns::account_id(&account)?,
                components: columns::components(&components)?,
                expires_at: Timestamp::from_secs(expires_at),
                logged_out_at: None,
                revoked_at: None,
            };
            save_completion(conn, save, &session)?;
            Ok(ClaimOutcome::Claimed(session))
        })
        .await
    }

    async fn find_embedded_session(
        &self,
        key: SecretHash,
    ) -> Result<Option<EmbeddedSession>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "select e.id, s.platform_id, s.livemode, s.account_id, s.components, s.expires_at,
                        e.logged_out_at, s.revoked_at
                 from embedded_sessions e
                 join account_sessions s on s.secret_hash = e.account_session_hash
                 where e.key_hash = ?1",
            )?;
            let mut rows = statement.query([key.as_bytes().as_slice()])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let id: String = row.get(0)?;
            let platform: String = row.get(1)?;
            Ok(Some(EmbeddedSession {
                id: EmbeddedSessionId::parse(&id)
                    .ok_or_else(|| StoreError::Corrupt(format!("embedded session id {id:?}")))?,
                platform: PlatformId::parse(&platform)
                    .ok_or_else(|| StoreError::Corrupt(format!("platform id {platform:?}")))?,
                mode: Mode::from_livemode(row.get(2)?),
                account: columns::account_id(&row.get::<_, String>(3)?)?,
                components: columns::components(&row.get::<_, Vec<u8>>(4)?)?,
                expires_at: Timestamp::from_secs(row.get(5)?),
                logged_out_at: row.get::<_, Option<i64>>(6)?.map(Timestamp::from_secs),
                revoked_at: row.get::<_, Option<i64>>(7)?.map(Timestamp::from_secs),
            }))
        })
        .await
    }

    async fn log_out_embedded_session(
        &self,
        key: SecretHash,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("update embedded_sessions set logged_out_at = ?2 where key_hash = ?1 and logged_out_at is null")?
                .execute(params![key.as_bytes().as_slice(), at.as_secs()])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn revoke_account_session(
        &self,
        tenant: &Tenant,
        secret: SecretHash,
        at: Timestamp,
        save: Save<AccountSessionRecord>,
    ) -> Result<Option<AccountSessionRecord>, StoreError> {
        let tenant = tenant.clone();
        self.write(move |conn| {
            change_session(
                conn,
                "update account_sessions set revoked_at = coalesce(revoked_at, ?4)
                 where secret_hash = ?1 and platform_id = ?2 and livemode = ?3",
                &tenant,
                secret,
                at,
                save,
            )
        })
        .await
    }

    async fn expire_account_session(
        &self,
        tenant: &Tenant,
        secret: SecretHash,
        at: Timestamp,
        save: Save<AccountSessionRecord>,
    ) -> Result<Option<AccountSessionRecord>, StoreError> {
        let tenant = tenant.clone();
        self.write(move |conn| {
            change_session(
                conn,
                "update account_sessions set expires_at = min(expires_at, ?4)
                 where secret_hash = ?1 and platform_id = ?2 and livemode = ?3",
                &tenant,
                secret,
                at,
                save,
            )
        })
        .await
    }

    async fn prune_expired_sessions(
        &self,
        expired_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        self.write(move |conn| {
            // Embedded sessions go with their account session (on delete cascade).
            let deleted = conn
                .prepare_cached(
                    "delete from account_sessions where seq in (
                         select seq from account_sessions where expires_at < ?1 limit ?2
                     )",
                )?
                .execute(params![expired_before.as_secs(), batch])?;
            Ok(deleted as u64)
        })
        .await
    }

    async fn insert_bank_account(
        &self,
        tenant: &Tenant,
        bank_account: &BankAccount,
        known_fingerprints: &[String],
        save: Save<BankAccount>,
    ) -> Result<BankAccountInsertOutcome, StoreError> {
        let tenant = tenant.clone();
        let bank = bank_account.clone();
        let known = known_fingerprints.to_vec();
        self.write(move |conn| {
            if select_tenant_account(conn, &tenant, &bank.account)?.is_none() {
                return Ok(BankAccountInsertOutcome::AccountMissing);
            }
            let mut exists = conn.prepare_cached(
                "select exists (select 1 from external_accounts where account_id = ?1 and fingerprint = ?2)",
            )?;
            for fingerprint in &known {
                if exists.query_row(params![bank.account.as_str(), fingerprint], |row| row.get::<_, bool>(0))? {
                    return Ok(BankAccountInsertOutcome::Duplicate);
                }
            }
            let inserted = conn
                .prepare_cached(
                    "insert into external_accounts (id, account_id, country, currency, account_holder_name,
                         routing_number, last4, fingerprint, created)
                     values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     on conflict (account_id, fingerprint) do nothing",
                )?
                .execute(params![
                    bank.id.as_str(),
                    bank.account.as_str(),
                    bank.country,
                    bank.currency,
                    bank.account_holder_name,
                    bank.routing_number,
                    bank.last4,
                    bank.fingerprint,
                    bank.created.as_secs(),
                ])?;
            if inserted == 0 {
                return Ok(BankAccountInsertOutcome::Duplicate);
            }
            save_completion(conn, save, &bank)?;
            Ok(BankAccountInsertOutcome::Created)
        })
        .await
    }

    async fn list_bank_accounts(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        cursor: &Cursor<ExternalAccountId>,
        limit: u32,
    ) -> Result<Option<Page<BankAccount>>, StoreError> {
        let tenant = tenant.clone();
        let account = account.clone();
        let cursor = cursor.clone();
        self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            if select_tenant_account(&tx, &tenant, &account)?.is_none() {
                return Ok(None);
            }
            let cursor_seq = |id: &ExternalAccountId| -> Result<Option<i64>, StoreError> {
                Ok(tx
                    .prepare_cached("select seq from external_accounts where id = ?1 and account_id = ?2")?
                    .query_row(params![id.as_str(), account.as_str()], |row| row.get(0))
                    .optional()?)
            };
            let (condition, order, bound) = match &cursor {
                Cursor::Start => ("", "desc", None),
                Cursor::StartingAfter(id) => match cursor_seq(id)? {
                    Some(seq) => ("and seq < ?2", "desc", Some(seq)),
                    None => return Ok(None),
                },
                Cursor::EndingBefore(id) => match cursor_seq(id)? {
                    Some(seq) => ("and seq > ?2", "asc", Some(seq)),
                    None => return Ok(None),
                },
            };
            let sql = format!(
                "select id, account_id, country, currency, account_holder_name, routing_number, last4,
                        fingerprint, created
                 from external_accounts where account_id = ?1 {condition}
                 order by seq {order} limit ?3"
            );
            let mut statement = tx.prepare_cached(&sql)?;
            let mut rows = statement.query(params![account.as_str(), bound.unwrap_or(0), i64::from(limit) + 1])?;
            let mut data = Vec::new();
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                data.push(BankAccount {
                    id: ExternalAccountId::parse(&id)
                        .ok_or_else(|| StoreError::Corrupt(format!("bank account id {id:?}")))?,
                    account: columns::account_id(&row.get::<_, String>(1)?)?,
                    country: row.get(2)?,
                    currency: row.get(3)?,
                    account_holder_name: row.get(4)?,
                    routing_number: row.get(5)?,
                    last4: row.get(6)?,
                    fingerprint: row.get(7)?,
                    created: Timestamp::from_secs(row.get(8)?),
                });
            }
            let has_more = data.len() > limit as usize;
            data.truncate(limit as usize);
            if matches!(cursor, Cursor::EndingBefore(_)) {
                data.reverse();
            }
            Ok(Some(Page { data, has_more }))
        })
        .await
    }

    async fn delete_bank_account(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> Result<bool, StoreError> {
        let tenant = tenant.clone();
        let account = account.clone();
        let id = id.clone();
        self.write(move |conn| {
            if select_tenant_account(conn, &tenant, &account)?.is_none() {
                return Ok(false);
            }
            let deleted = conn
                .prepare_cached("delete from external_accounts where id = ?1 and account_id = ?2")?
                .execute(params![id.as_str(), account.as_str()])?;
            Ok(deleted == 1)
        })
        .await
    }

    async fn begin_idempotent(
        &self,
        scope: &IdempotencyScope,
        attempt: &Attempt,
    ) -> Result<BeginOutcome, StoreError> {
        let scope = scope.clone();
        let attempt = attempt.clone();
        self.write(move |conn| {
            // Take the key if it is new, past retention, or in flight past its
            // lease (its process died: nothing it wrote was committed).
            let taken = conn
                .prepare_cached(
                    "insert into idempotency_keys (platform_id, livemode, key, path, fingerprint,
                         original_request_id, lease_token, locked_until, status, body, created, realm)
                     values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, null, null, ?9, ?11)
                     on conflict (platform_id, livemode, realm, key) do update set
                         path = excluded.path, fingerprint = excluded.fingerprint,
                         original_request_id = excluded.original_request_id,
                         lease_token = excluded.lease_token, locked_until = excluded.locked_until,
                         status = null, body = null, created = excluded.created
                     where idempotency_keys.created < ?10
                        or (idempotency_keys.status is null and idempotency_keys.locked_until <= ?9)",
                )?
                .execute(params![
                    scope.tenant.platform.as_str(),
                    scope.tenant.mode.is_live(),
                    scope.key.as_str(),
                    attempt.path,
                    attempt.fingerprint.0.as_slice(),
                    attempt.request_id,
                    attempt.token.0.as_slice(),
                    attempt.lease_until.as_secs(),
                    attempt.now.as_secs(),
                    attempt.retention_cutoff.as_secs(),
                    scope.realm.as_stored(),
                ])?;
            if taken == 1 {
                return Ok(BeginOutcome::Proceed);
            }
            let (path, fingerprint, original_request_id, status, body) = conn
                .prepare_cached(
                    "select path, fingerprint, original_request_id, status, body from idempotency_keys
                     where platform_id = ?1 and livemode = ?2 and key = ?3 and realm = ?4",
                )?
                .query_row(
                    params![scope.tenant.platform.as_str(), scope.tenant.mode.is_live(), scope.key.as_str(), scope.realm.as_stored()],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, Vec<u8>>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, Option<u16>>(3)?,
                            row.get::<_, Option<Vec<u8>>>(4)?,
                        ))
                    },
                )?;
            let (Some(status), Some(sealed_body)) = (status, body) else {
                return Ok(BeginOutcome::InFlight);
            };
            let fingerprint: [u8; 32] = fingerprint
                .try_into()
                .map_err(|_| StoreError::Corrupt("idempotency fingerprint".to_owned()))?;
            Ok(BeginOutcome::Completed(CompletedAttempt {
                path,
                fingerprint: Fingerprint(fingerprint),
                original_request_id,
                response: SavedResponse { status, sealed_body },
            }))
        })
        .await
    }

    async fn complete_idempotent(
        &self,
        scope: &IdempotencyScope,
        token: LeaseToken,
        response: &SavedResponse,
    ) -> Result<(), StoreError> {
        let scope = scope.clone();
        let response = response.clone();
        self.write(move |conn| store_response(conn, &scope, token, &response))
            .await
    }

    async fn prune_idempotency_keys(
        &self,
        created_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached(
                    "delete from idempotency_keys where (platform_id, livemode, realm, key) in (
                         select platform_id, livemode, realm, key from idempotency_keys
                         where created < ?1 limit ?2
                     )",
                )?
                .execute(params![created_before.as_secs(), batch])?;
            Ok(deleted as u64)
        })
        .await
    }
}

/// Why a claim lost: the session's state, read in the same transaction.
fn claim_refusal(
    conn: &Connection,
    tenant: &Tenant,
    secret: SecretHash,
) -> Result<ClaimOutcome, StoreError> {
    Ok(select_session_record(conn, tenant, secret)?
        .map_or(ClaimOutcome::NotFound, |record| record.refusal()))
}

/// Applies `update` to one of the tenant's sessions (`?1` its secret hash, `?2`
/// the platform, `?3` livemode, `?4` the time) and returns the session as it
/// now is, saving `save` with it when there is one.
fn change_session(
    conn: &Connection,
    update: &str,
    tenant: &Tenant,
    secret: SecretHash,
    at: Timestamp,
    save: Save<AccountSessionRecord>,
) -> Result<Option<AccountSessionRecord>, StoreError> {
    conn.prepare_cached(update)?.execute(params![
        secret.as_bytes().as_slice(),
        tenant.platform.as_str(),
        tenant.mode.is_live(),
        at.as_secs()
    ])?;
    let record = select_session_record(conn, tenant, secret)?;
    if let Some(record) = &record {
        save_completion(conn, save, record)?;
    }
    Ok(record)
}

/// The tenant's account session with this secret hash.
fn select_session_record(
    conn: &Connection,
    tenant: &Tenant,
    secret: SecretHash,
) -> Result<Option<AccountSessionRecord>, StoreError> {
    let mut statement = conn.prepare_cached(
        "select account_id, components, created, expires_at, claimed_at, revoked_at from account_sessions
         where secret_hash = ?1 and platform_id = ?2 and livemode = ?3",
    )?;
    let mut rows = statement.query(params![
        secret.as_bytes().as_slice(),
        tenant.platform.as_str(),
        tenant.mode.is_live()
    ])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(AccountSessionRecord {
        account: columns::account_id(&row.get::<_, String>(0)?)?,
        components: columns::components(&row.get::<_, Vec<u8>>(1)?)?,
        created: Timestamp::from_secs(row.get(2)?),
        expires_at: Timestamp::from_secs(row.get(3)?),
        claimed_at: row.get::<_, Option<i64>>(4)?.map(Timestamp::from_secs),
        revoked_at: row.get::<_, Option<i64>>(5)?.map(Timestamp::from_secs),
    }))
}

/// Saves an idempotent request's response for the write's result `value`, in
/// the write's own transaction.
fn save_completion<T>(conn: &Connection, save: Save<T>, value: &T) -> Result<(), StoreError> {
    let Some(completion) = save else {
        return Ok(());
    };
    let (scope, token, response) = completion.render(value);
    store_response(conn, &scope, token, &response)
}

/// Saves a response on a key still in flight under `token`.
fn store_response(
    conn: &Connection,
    scope: &IdempotencyScope,
    token: LeaseToken,
    response: &SavedResponse,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "update idempotency_keys set status = ?5, body = ?6
         where platform_id = ?1 and livemode = ?2 and key = ?3 and lease_token = ?4 and status is null
           and realm = ?7",
    )?
    .execute(params![
        scope.tenant.platform.as_str(),
        scope.tenant.mode.is_live(),
        scope.key.as_str(),
        token.0.as_slice(),
        response.status,
        response.sealed_body,
        scope.realm.as_stored(),
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_processes_may_create_one_new_database_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || SqliteStore::migrate(&path))
            })
            .collect();
        for opener in openers {
            opener.join().unwrap().unwrap();
        }
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn
            .query_row("pragma user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, 4);
    }

    /// Migration 4 rebuilds `account_sessions`; a database made by the first
    /// three keeps every session, claim and embedded session, and the foreign
    /// key from embedded sessions still points at (and cascades from) the new table.
    #[test]
    fn rebuilding_the_sessions_table_keeps_every_row_and_the_cascade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            let first_three = migrations_before_4();
            first_three.to_latest(&mut conn).unwrap();
            conn.execute_batch(
                "pragma foreign_keys = on;
                 insert into platforms values ('plat_1', 'p', 1);
                 insert into accounts (id, platform_id, livemode, fees_payer, losses_payments,
                     requirement_collection, stripe_dashboard, country, metadata, capabilities, created)
                 values ('acct_1', 'plat_1', 0, 'application', 'application', 'application', 'none',
                     'US', '{}', '{}', 1);
                 insert into account_sessions (secret_hash, platform_id, livemode, account_id,
                     components, created, expires_at, claimed_at, revoked_at)
                 values (x'02', 'plat_1', 0, 'acct_1', x'0a0b', 20, 1820, 25, null),
                        (x'01', 'plat_1', 0, 'acct_1', x'0c', 10, 1810, null, 30);
                 insert into embedded_sessions (id, key_hash, account_session_hash, created)
                 values ('ems_1', x'ee', x'02', 25);",
            )
            .unwrap();
        }
        SqliteStore::migrate(&path).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("pragma foreign_keys = on").unwrap();
        let rows: Vec<StoredSession> = conn
            .prepare(
                "select secret_hash, components, created, expires_at, claimed_at, revoked_at
                 from account_sessions order by seq",
            )
            .unwrap()
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (vec![1], vec![0x0c], 10, 1810, None, Some(30)),
                (vec![2], vec![0x0a, 0x0b], 20, 1820, Some(25), None),
            ]
        );
        let parent: String = conn
            .query_row(
                "select \"table\" from pragma_foreign_key_list('embedded_sessions')",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(parent, "account_sessions");
        let embedded: (String, Vec<u8>, i64) = conn
            .query_row(
                "select id, account_session_hash, created from embedded_sessions where key_hash = x'ee'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .unwrap();
        assert_eq!(embedded, ("ems_1".to_owned(), vec![2], 25));
        conn.execute("delete from account_sessions where secret_hash = x'02'", [])
            .unwrap();
        let embedded: i64 = conn
            .query_row("select count(*) from embedded_sessions", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(
            embedded, 0,
            "deleting a session deletes its embedded session"
        );
    }

    /// secret_hash, components, created, expires_at, claimed_at, revoked_at.
    type StoredSession = (Vec<u8>, Vec<u8>, i64, i64, Option<i64>, Option<i64>);

    /// The migrations as they were before migration 4.
    fn migrations_before_4() -> Migrations<'static> {
        Migrations::new(migration_steps().into_iter().take(3).collect())
    }
}
