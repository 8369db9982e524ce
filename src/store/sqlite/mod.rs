//! The embedded backend: one SQLite file in WAL mode, with every commit synced.
//!
//! Writes go to one writer thread that owns the only writing connection and
//! practises group commit: it takes every write queued while the previous commit
//! was syncing, runs each in its own savepoint inside one `BEGIN IMMEDIATE`
//! transaction, commits once (one fsync), and only then answers each caller. A
//! caller therefore hears `Ok` only once its write is durable, and a failing write
//! is rolled back to its savepoint without disturbing its neighbours. The writer
//! holds the database's write lock for the whole batch, so no rule here needs a
//! row lock.
//!
//! Reads go to a few reader threads, each with its own read-only connection; in WAL
//! mode they never wait for the writer. Threads own their connections, so no call
//! pays for `spawn_blocking` or a pool checkout. (sqlx's SQLite driver would run
//! every statement through its own worker channel and cannot give one caller
//! control of a connection across a batch; rusqlite gives us both.)
//!
//! The statements of each aggregate are in the module of its name; the rules
//! that use them are shared with PostgreSQL (see [`super::engine`]).

mod accounts;
mod bank_accounts;
mod events;
mod idempotency_keys;
mod platforms;
mod sessions;
mod test_double;
mod webhooks;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, Row};
use rusqlite_migration::{M, Migrations};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::engine::{Backend, SqlStore, Work, run_to_completion};
use super::rows::RowReader;

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
        M::up(include_str!("../../../migrations/sqlite/0001_initial.sql")),
        M::up(include_str!(
            "../../../migrations/sqlite/0002_browser_side.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0003_idempotency.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0004_sequential_sessions.sql"
        ))
        .foreign_key_check(),
        M::up(include_str!(
            "../../../migrations/sqlite/0005_onboarding.sql"
        )),
        M::up(include_str!("../../../migrations/sqlite/0006_events.sql")),
        M::up(include_str!(
            "../../../migrations/sqlite/0007_test_double.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0008_key_expiry.sql"
        )),
    ]
}

/// The SQLite store: the shared rules over [`SqliteBackend`].
pub type SqliteStore = SqlStore<SqliteBackend>;

/// One SQLite database: its writer thread and reader threads.
#[derive(Debug)]
pub struct SqliteBackend {
    path: PathBuf,
    writer: mpsc::Sender<WriteJob>,
    readers: crossbeam_channel::Sender<ReadJob>,
}

/// A connection owned by the writer or a reader thread. Its statements run
/// synchronously when their future is first polled (see
/// [`run_to_completion`]).
#[derive(Debug)]
pub struct SqliteConn {
    conn: Connection,
}

/// Called once the batch holding a write has committed (`None`) or failed.
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;
/// A read: runs on a reader connection and answers its caller itself.
type ReadJob = Box<dyn FnOnce(&mut SqliteConn) + Send>;
/// A queued write job, boxed so the writer can hold jobs of every result type.
type WriteJob = Box<dyn QueuedWrite>;

/// A write waiting for the writer thread.
trait QueuedWrite: Send {
    /// Runs the write inside the batch transaction; says whether it succeeded and
    /// returns what answers the caller once the batch's fate is known.
    fn run(self: Box<Self>, conn: &mut SqliteConn) -> (bool, Finish);
    /// Answers the caller without running: the batch could not start.
    fn fail(self: Box<Self>, message: &str);
}

/// A unit of work and the channel its caller waits on.
struct Write<W, R> {
    work: W,
    reply: oneshot::Sender<Result<R, StoreError>>,
}

impl<W, R> QueuedWrite for Write<W, R>
where
    R: Send + 'static,
    W: Work<SqliteConn, R>,
{
    fn run(self: Box<Self>, conn: &mut SqliteConn) -> (bool, Finish) {
        let Self { work, reply } = *self;
        let result = run_to_completion(work(conn));
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
        SqliteBackend::open(path, reader_threads)
            .await
            .map(SqlStore::new)
    }

    /// Applies pending migrations to the database at `path` and returns.
    pub fn migrate(path: &Path) -> Result<(), StoreError> {
        open_writer(path).map(drop)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.backend().path
    }
}

impl SqliteBackend {
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
            .spawn(move || run_writer(SqliteConn { conn: writer_conn }, write_rx))
            .map_err(|e| StoreError::Unavailable(format!("starting the writer: {e}")))?;

        let (read_tx, read_rx) = crossbeam_channel::unbounded::<ReadJob>();
        for index in 0..reader_threads.max(1) {
            let mut conn = SqliteConn {
                conn: open_reader(path)?,
            };
            let jobs = read_rx.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{index}"))
                .spawn(move || {
                    // Ends when the store, the only sender, is dropped.
                    while let Ok(job) = jobs.recv() {
                        job(&mut conn);
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

    /// Runs `work` in the next write batch; answers once the batch is durable.
    async fn write<R, W>(&self, work: W) -> Result<R, StoreError>
    where
        R: Send + 'static,
        W: Work<SqliteConn, R>,
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

    /// Runs `work` on a reader connection; with `snapshot`, inside one read
    /// transaction, so its statements see one state of the database.
    async fn read_on_reader<R, W>(&self, snapshot: bool, work: W) -> Result<R, StoreError>
    where
        R: Send + 'static,
        W: Work<SqliteConn, R>,
    {
        let (reply, answer) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let result = catch_unwind(AssertUnwindSafe(|| {
                if !snapshot {
                    return run_to_completion(work(conn));
                }
                exec(&conn.conn, "begin")?;
                let result = run_to_completion(work(conn));
                // A read transaction has nothing to keep: ending it either way
                // only releases the snapshot.
                let _ = exec(&conn.conn, "commit");
                result
            }))
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

impl Backend for SqliteBackend {
    type Conn = SqliteConn;

    async fn transaction<R: Send + 'static>(
        &self,
        work: impl Work<SqliteConn, R>,
    ) -> Result<R, StoreError> {
        self.write(work).await
    }

    async fn statement<R: Send + 'static>(
        &self,
        work: impl Work<SqliteConn, R>,
    ) -> Result<R, StoreError> {
        // Every write goes through the writer's batch: a single statement
        // gains nothing from going elsewhere.
        self.write(work).await
    }

    async fn read<R: Send + 'static>(
        &self,
        work: impl Work<SqliteConn, R>,
    ) -> Result<R, StoreError> {
        self.read_on_reader(false, work).await
    }

    async fn snapshot<R: Send + 'static>(
        &self,
        work: impl Work<SqliteConn, R>,
    ) -> Result<R, StoreError> {
        self.read_on_reader(true, work).await
    }
}

impl RowReader for Row<'_> {
    fn text(&self, index: usize) -> Result<String, StoreError> {
        Ok(self.get(index)?)
    }

    fn optional_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        Ok(self.get(index)?)
    }

    fn integer(&self, index: usize) -> Result<i64, StoreError> {
        Ok(self.get(index)?)
    }

    fn optional_integer(&self, index: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.get(index)?)
    }

    fn boolean(&self, index: usize) -> Result<bool, StoreError> {
        Ok(self.get(index)?)
    }

    fn bytes(&self, index: usize) -> Result<Vec<u8>, StoreError> {
        Ok(self.get(index)?)
    }

    fn optional_bytes(&self, index: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get(index)?)
    }
}

impl SqliteConn {
    /// The first row `sql` selects with `params`, decoded by `decode`.
    fn select_one<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        decode: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        rows.next()?.map(decode).transpose()
    }

    /// Every row `sql` selects with `params`, decoded by `decode`.
    fn select_all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        decode: impl Fn(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        let mut all = Vec::new();
        while let Some(row) = rows.next()? {
            all.push(decode(row)?);
        }
        Ok(all)
    }

    /// Runs `sql` with `params`; how many rows it changed.
    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<u64, StoreError> {
        Ok(self.conn.prepare_cached(sql)?.execute(params)? as u64)
    }
}

/// Creates the database file, if it does not exist yet, readable and writable
/// by its owner only (0600), whatever the umask: it holds hashes, sealed
/// responses and personal data. SQLite gives the `-wal` and `-shm` files it
/// creates beside it the same mode. An existing file is left as the operator
/// set it. (An empty file is an empty SQLite database; several processes may
/// race here, and the losers find the file made.)
fn create_private(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        match created {
            // The umask can only have removed bits from 0600; set it exactly.
            Ok(file) => file
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| {
                    StoreError::Unavailable(format!("setting the database file's mode: {e}"))
                }),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(error) => Err(StoreError::Unavailable(format!(
                "creating the database file {}: {error}",
                path.display()
            ))),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Opens the writing connection: WAL, every commit synced, migrations applied,
/// also when several processes open one new file at once.
fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    create_private(path)?;
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
    // The writer checkpoints itself, passively, at a commit that leaves more
    // than 1,000 WAL pages (SQLite's automatic checkpoint): that bounds the
    // WAL, which restarts from its beginning at the next write. A thread of
    // its own that checkpointed every 100 ms from another connection was
    // measured and dropped (docs/benchmarks.md): under continuous load with
    // readers it rarely let the WAL restart, which grew to over 1 GB, and its
    // syncs of the database file stalled the writer's (p99 of 100-400 ms
    // against 10-30 ms). journal_size_limit gives the file back after a reset.
    retry_while_contended(|| {
        conn.execute_batch(
            "pragma journal_mode = wal;
             pragma synchronous = full;
             pragma cache_size = -16384;
             pragma wal_autocheckpoint = 1000;
             pragma journal_size_limit = 67108864;
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
fn run_writer(mut conn: SqliteConn, mut jobs: mpsc::Receiver<WriteJob>) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&mut conn, batch);
    }
}

/// Runs one batch: a savepoint per job, one commit for all, then the answers.
fn run_batch(writer: &mut SqliteConn, batch: Vec<WriteJob>) {
    if let Err(error) = exec(&writer.conn, "begin immediate") {
        let message = error.to_string();
        for job in batch {
            job.fail(&message);
        }
        return;
    }
    let mut finishes = Vec::with_capacity(batch.len());
    for job in batch {
        if let Err(error) = exec(&writer.conn, "savepoint job") {
            job.fail(&error.to_string());
            continue;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| job.run(writer)));
        let conn = &writer.conn;
        match outcome {
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
    let commit = exec(&writer.conn, "commit").map_err(|error| error.to_string());
    if commit.is_err() {
        let _ = exec(&writer.conn, "rollback");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::domain::platform::NewPlatform;
    use crate::store::PlatformStore;

    /// Continuous writes keep the WAL bounded: the writer checkpoints, and
    /// the WAL starts over instead of growing with every commit.
    #[tokio::test]
    async fn the_wal_stays_bounded_under_continuous_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoints.db");
        let store = SqliteStore::open(&path, 1).await.unwrap();
        // Each commit appends at least two 4 KiB pages: 2,000 of them would
        // make a WAL of more than 16 MiB without checkpoints.
        for n in 0..2_000 {
            let platform = NewPlatform::generate(format!("platform {n}"));
            store
                .create_platform(&platform, Timestamp::from_secs(n))
                .await
                .unwrap();
        }
        let wal = std::fs::metadata(dir.path().join("checkpoints.db-wal"))
            .unwrap()
            .len();
        assert!(wal <= 8 << 20, "the WAL grew to {wal} bytes");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_database_and_its_wal_and_shm_files_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.db");
        let store = SqliteStore::open(&path, 1).await.unwrap();
        store
            .create_platform(
                &NewPlatform::generate("Private".to_owned()),
                Timestamp::from_secs(1),
            )
            .await
            .unwrap();
        for name in ["private.db", "private.db-wal", "private.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
        }
    }

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
        assert_eq!(version, 8);
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

    /// Migration 5 moves the business profile into the account's document
    /// and turns capability statuses into requested names: an account made
    /// before it reads back as it was, with nothing onboarded yet, and its
    /// oldest bank account becomes the default for its currency.
    #[tokio::test]
    async fn accounts_from_before_onboarding_read_back_whole() {
        use crate::domain::ids::{AccountId, PlatformId};
        use crate::store::AccountStore;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v4.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            Migrations::new(migration_steps().into_iter().take(4).collect())
                .to_latest(&mut conn)
                .unwrap();
            conn.execute_batch(
                "insert into platforms values ('acct_plat1', 'p', 1);
                 insert into accounts (id, platform_id, livemode, fees_payer, losses_payments,
                     requirement_collection, stripe_dashboard, country, email, metadata,
                     business_profile_name, business_profile_url, capabilities, created)
                 values ('acct_old1', 'acct_plat1', 0, 'application', 'application',
                     'application', 'none', 'US', 'a@example.com', '{\"k\":\"v\"}',
                     'Acme', 'https://acme.example',
                     '{\"card_payments\":\"inactive\",\"transfers\":\"inactive\"}', 7);
                 insert into external_accounts (id, account_id, country, currency, last4,
                     fingerprint, created)
                 values ('ba_old1', 'acct_old1', 'US', 'usd', '6789', 'fp1', 8),
                        ('ba_old2', 'acct_old1', 'US', 'usd', '1116', 'fp2', 9);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path, 1).await.unwrap();

        let account = store
            .find_account(
                &PlatformId::parse("acct_plat1").unwrap(),
                &AccountId::parse("acct_old1").unwrap(),
            )
            .await
            .unwrap()
            .unwrap();

        let profile = &account.profile.business_profile;
        assert_eq!(profile.name.as_deref(), Some("Acme"));
        assert_eq!(profile.url.as_deref(), Some("https://acme.example"));
        assert_eq!(profile.mcc, None);
        assert_eq!(
            account.requested_capabilities.iter().collect::<Vec<_>>(),
            ["card_payments", "transfers"]
        );
        assert_eq!(account.email.as_deref(), Some("a@example.com"));
        assert_eq!(account.metadata.get("k").map(String::as_str), Some("v"));
        assert_eq!(account.profile.identity.business_type, None);
        assert!(!account.onboarding_started);
        let defaults: Vec<(&str, bool)> = account
            .external_accounts
            .iter()
            .map(|bank| (bank.id.as_str(), bank.default_for_currency))
            .collect();
        assert_eq!(defaults, [("ba_old1", true), ("ba_old2", false)]);
    }
}
