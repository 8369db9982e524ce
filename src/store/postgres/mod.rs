//! The server backend: PostgreSQL through a connection pool, so that several
//! server processes behind a load balancer share one database and act as one
//! server.
//!
//! SQLite gets its guarantees from its single writer; here every guarantee is
//! a row lock or a single statement, so it holds across processes:
//!
//! - a client secret is claimed by a conditional
//!   `update … where claimed_at is null … returning`: of concurrent claims, one
//!   updates the row, the others wait on its lock and then find it claimed;
//! - an idempotency key is begun by `insert … on conflict … do update … where …
//!   returning`, which locks the key's row whether or not it takes it over;
//! - an account update reads its row `for update`, so concurrent updates apply
//!   one after the other instead of losing one;
//! - account sessions are inserted under a `for share` lock on their account,
//!   so an account deleted meanwhile never gains an unrevoked session; bank
//!   accounts under a `for update` lock, so the duplicate check and the insert
//!   are one step;
//! - `create_platform_if_none` locks the platforms table, so of several servers
//!   starting on one empty database exactly one creates the default platform;
//! - pruning deletes batches picked `for update skip locked`, so several
//!   processes prune at once without waiting on each other or failing.
//!
//! Failures of the database itself (refused or reset connections, a pool that
//! cannot hand out a connection in time, a statement timeout, a server shutting
//! down) are [`StoreError::Unavailable`], and no call waits longer than a fixed
//! deadline: while PostgreSQL is down or unreachable requests fail fast with a
//! retryable 500, and the pool reconnects by itself once it is back.

mod accounts;
mod bank_accounts;
mod events;
mod idempotency_keys;
mod platforms;
mod sessions;
mod test_double;
mod webhooks;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx_core::connection::Connection;
use sqlx_core::executor::Executor;
use sqlx_core::migrate::{Migration, MigrationType, Migrator};
use sqlx_core::pool::PoolConnection;
use sqlx_core::query::Query;
use sqlx_core::row::Row;
use sqlx_core::sql_str::SqlSafeStr;
use sqlx_postgres::{
    PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow, Postgres,
};

use super::StoreError;
use super::engine::{Backend, SqlStore, Work};
use super::rows::RowReader;

/// The migrations, embedded in the binary and applied in order by sqlx's
/// migrator, which records them in `_sqlx_migrations` and holds an advisory lock
/// while it runs, so servers starting together apply each migration once.
///
/// (Listed by hand rather than with `sqlx::migrate!`: the `sqlx` facade crate
/// cannot be a dependency beside rusqlite, see `Cargo.toml`. The checksums are
/// the same as the macro's.)
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "onboarding",
        include_str!("../../../migrations/postgres/0002_onboarding.sql"),
    ),
    (
        3,
        "events",
        include_str!("../../../migrations/postgres/0003_events.sql"),
    ),
    (
        4,
        "test double",
        include_str!("../../../migrations/postgres/0004_test_double.sql"),
    ),
    (
        5,
        "key expiry",
        include_str!("../../../migrations/postgres/0005_key_expiry.sql"),
    ),
];

/// How the pool talks to PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresSettings {
    /// Most connections this process opens.
    pub pool_size: u32,
    /// The session `statement_timeout`: the server cancels any statement
    /// running (or waiting for a lock) longer than this.
    pub statement_timeout: Duration,
    /// How long a call waits for a pooled connection (including connecting)
    /// before it fails as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        Self {
            pool_size: 16,
            statement_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

impl PostgresSettings {
    /// The longest a store call may work on its connection once it has one:
    /// two statement timeouts (a call runs a few statements, and one may wait
    /// for a lock that long). It bounds calls on a connection whose server
    /// vanished without closing it, where no statement timeout can fire. With
    /// the wait for a connection, no call takes longer than the acquire timeout
    /// plus this.
    pub fn work_deadline(&self) -> Duration {
        2 * self.statement_timeout
    }

    /// How long an idle transaction may hold its locks: a process that stalls
    /// mid-transaction must not block others for long.
    fn idle_in_transaction_timeout(&self) -> Duration {
        (2 * self.statement_timeout).max(Duration::from_secs(10))
    }
}

/// The PostgreSQL store: the shared rules over [`PostgresBackend`].
pub type PostgresStore = SqlStore<PostgresBackend>;

/// One PostgreSQL database, through a connection pool.
#[derive(Debug, Clone)]
pub struct PostgresBackend {
    pool: PgPool,
    deadline: Duration,
}

/// A pooled connection inside a unit of work.
#[derive(Debug)]
pub struct PgConn {
    conn: PoolConnection<Postgres>,
}

impl PostgresStore {
    /// Connects to the database at `url`, applies pending migrations, and
    /// returns a store whose pool connects on demand.
    pub async fn open(url: &SecretString, settings: &PostgresSettings) -> Result<Self, StoreError> {
        PostgresBackend::open(url, settings)
            .await
            .map(SqlStore::new)
    }

    /// Applies pending migrations to the database at `url` and returns.
    pub async fn migrate(
        url: &SecretString,
        settings: &PostgresSettings,
    ) -> Result<(), StoreError> {
        migrate_with(&connect_options(url)?, settings, i64::MAX).await
    }

    /// Applies the migrations up to `version` only: for tests that build a
    /// database as an older release left it.
    pub async fn migrate_up_to(
        url: &SecretString,
        settings: &PostgresSettings,
        version: i64,
    ) -> Result<(), StoreError> {
        migrate_with(&connect_options(url)?, settings, version).await
    }
}

impl PostgresBackend {
    /// Connects to the database at `url`, applies pending migrations, and
    /// returns a backend whose pool connects on demand.
    pub async fn open(url: &SecretString, settings: &PostgresSettings) -> Result<Self, StoreError> {
        let options = connect_options(url)?;
        migrate_with(&options, settings, i64::MAX).await?;
        let session = options.options([
            ("statement_timeout", millis(settings.statement_timeout)),
            (
                "idle_in_transaction_session_timeout",
                millis(settings.idle_in_transaction_timeout()),
            ),
        ]);
        let release_ping = settings.statement_timeout;
        let pool = PgPoolOptions::new()
            .max_connections(settings.pool_size.max(1))
            .min_connections(0)
            .acquire_timeout(settings.acquire_timeout)
            // sqlx pings every connection given back to the pool and waits for
            // the answer without a limit: if the server vanishes just then, the
            // pool slot would stay taken until the operating system gives up on
            // the connection (many minutes). Ping here first, bounded; a
            // connection that does not answer is closed instead. (Over TLS,
            // sqlx's close itself reads, and may still wait that long; calls cut
            // short mid-query never come here, see `call`.)
            .after_release(move |conn, _| {
                Box::pin(async move {
                    match tokio::time::timeout(release_ping, conn.ping()).await {
                        Ok(Ok(())) => Ok(true),
                        Ok(Err(error)) => Err(error),
                        Err(_) => Err(sqlx_core::Error::PoolTimedOut),
                    }
                })
            })
            .connect_lazy_with(session);
        Ok(Self {
            pool,
            deadline: settings.work_deadline(),
        })
    }

    /// Runs one unit of work on a pooled connection, between `begin` and
    /// `commit` when `begin` is given. Waiting for the connection is bounded
    /// by the pool's acquire timeout, the work by the deadline. Work cut short
    /// by the deadline leaves its connection mid-conversation (a query or a
    /// rollback still unanswered), so the connection is dropped there and then,
    /// without a word to the server, rather than returned to the pool, where
    /// it would be pinged and waited on, with no limit, before anyone could use
    /// it again. A transaction whose work failed is rolled back before its
    /// connection goes back; one whose rollback fails is closed instead.
    async fn call<R, W>(&self, begin: Option<&'static str>, work: W) -> Result<R, StoreError>
    where
        R: Send + 'static,
        W: Work<PgConn, R>,
    {
        let mut conn = PgConn {
            conn: self.pool.acquire().await?,
        };
        // The work's result, and whether its connection may go back to the pool.
        let outcome = tokio::time::timeout(self.deadline, async {
            let Some(begin) = begin else {
                return (work(&mut conn).await, true);
            };
            if let Err(error) = conn.conn.execute(begin).await {
                return (Err(error.into()), false);
            }
            match work(&mut conn).await {
                Ok(value) => match conn.conn.execute("commit").await {
                    Ok(_) => (Ok(value), true),
                    Err(error) => (Err(error.into()), false),
                },
                // Rolled back at once, rather than by a rollback queued by a
                // drop: its locks go now. If that fails the connection is in
                // an unknown state and must not be reused.
                Err(error) => {
                    let rolled_back = conn.conn.execute("rollback").await.is_ok();
                    (Err(error), rolled_back)
                }
            }
        })
        .await;
        match outcome {
            Ok((result, true)) => result,
            Ok((result, false)) => {
                drop(conn.conn.detach());
                result
            }
            Err(_) => {
                drop(conn.conn.detach());
                Err(StoreError::Unavailable(format!(
                    "no answer from PostgreSQL within {:?}",
                    self.deadline
                )))
            }
        }
    }
}

impl Backend for PostgresBackend {
    type Conn = PgConn;

    async fn transaction<R: Send + 'static>(
        &self,
        work: impl Work<PgConn, R>,
    ) -> Result<R, StoreError> {
        self.call(Some("begin"), work).await
    }

    async fn statement<R: Send + 'static>(
        &self,
        work: impl Work<PgConn, R>,
    ) -> Result<R, StoreError> {
        // One statement commits by itself: no round trips for begin and commit.
        self.call(None, work).await
    }

    async fn read<R: Send + 'static>(&self, work: impl Work<PgConn, R>) -> Result<R, StoreError> {
        self.call(None, work).await
    }

    async fn snapshot<R: Send + 'static>(
        &self,
        work: impl Work<PgConn, R>,
    ) -> Result<R, StoreError> {
        self.call(
            Some("begin isolation level repeatable read, read only"),
            work,
        )
        .await
    }
}

impl PgConn {
    /// The first row `query` returns, decoded by `decode`.
    async fn fetch_one_or_none<T>(
        &mut self,
        query: Query<'_, Postgres, PgArguments>,
        decode: impl FnOnce(&PgRow) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let row = query.fetch_optional(&mut *self.conn).await?;
        row.as_ref().map(decode).transpose()
    }

    /// Every row `query` returns, decoded by `decode`.
    async fn fetch_every<T>(
        &mut self,
        query: Query<'_, Postgres, PgArguments>,
        decode: impl Fn(&PgRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = query.fetch_all(&mut *self.conn).await?;
        rows.iter().map(decode).collect()
    }

    /// Runs `query`; how many rows it changed.
    async fn run(&mut self, query: Query<'_, Postgres, PgArguments>) -> Result<u64, StoreError> {
        Ok(query.execute(&mut *self.conn).await?.rows_affected())
    }
}

impl RowReader for PgRow {
    fn text(&self, index: usize) -> Result<String, StoreError> {
        Ok(self.try_get(index)?)
    }

    fn optional_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(index)?)
    }

    fn integer(&self, index: usize) -> Result<i64, StoreError> {
        // Most integers are `bigint`; the few `integer` columns (statuses)
        // widen.
        match self.try_get::<i64, _>(index) {
            Ok(value) => Ok(value),
            Err(_) => Ok(i64::from(self.try_get::<i32, _>(index)?)),
        }
    }

    fn optional_integer(&self, index: usize) -> Result<Option<i64>, StoreError> {
        match self.try_get::<Option<i64>, _>(index) {
            Ok(value) => Ok(value),
            Err(_) => Ok(self.try_get::<Option<i32>, _>(index)?.map(i64::from)),
        }
    }

    fn boolean(&self, index: usize) -> Result<bool, StoreError> {
        Ok(self.try_get(index)?)
    }

    fn bytes(&self, index: usize) -> Result<Vec<u8>, StoreError> {
        Ok(self.try_get(index)?)
    }

    fn optional_bytes(&self, index: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.try_get(index)?)
    }
}

/// Parses the URL; the error never shows the URL (it may hold a password).
fn connect_options(url: &SecretString) -> Result<PgConnectOptions, StoreError> {
    let options = PgConnectOptions::from_str(url.expose_secret())
        .map_err(|_| StoreError::Unavailable("the PostgreSQL URL is not valid".to_owned()))?;
    let options = match options.get_application_name() {
        Some(_) => options,
        None => options.application_name("connect-sessions"),
    };
    // Notices ("relation … already exists, skipping" on every start) are not
    // worth a log line; warnings and errors still arrive.
    Ok(options.options([("client_min_messages", "warning")]))
}

fn millis(duration: Duration) -> u128 {
    duration.as_millis()
}

/// Applies the migrations on a connection of its own, without a statement
/// timeout (a migration, or waiting for another server's, may take longer):
/// sqlx's advisory lock is a session lock, which must not stay behind on a
/// pooled connection if a migration fails.
async fn migrate_with(
    options: &PgConnectOptions,
    settings: &PostgresSettings,
    up_to: i64,
) -> Result<(), StoreError> {
    let mut conn = tokio::time::timeout(
        settings.acquire_timeout,
        PgConnection::connect_with(options),
    )
    .await
    .map_err(|_| {
        StoreError::Unavailable(format!(
            "no connection to PostgreSQL within {:?}",
            settings.acquire_timeout
        ))
    })??;
    let migrations = MIGRATIONS
        .iter()
        .filter(|&&(version, _, _)| version <= up_to)
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
        .run(&mut conn)
        .await
        .map_err(|error| StoreError::Database(Box::new(error)))?;
    let _ = conn.close().await;
    Ok(())
}

impl From<sqlx_core::Error> for StoreError {
    fn from(error: sqlx_core::Error) -> Self {
        use sqlx_core::Error as E;
        match &error {
            E::Io(_)
            | E::Tls(_)
            | E::Protocol(_)
            | E::PoolTimedOut
            | E::PoolClosed
            | E::WorkerCrashed => StoreError::Unavailable(error.to_string()),
            E::Database(database) if database.code().as_deref().is_some_and(is_unavailable) => {
                StoreError::Unavailable(error.to_string())
            }
            E::ColumnDecode { .. }
            | E::Decode(_)
            | E::ColumnNotFound(_)
            | E::ColumnIndexOutOfBounds { .. }
            | E::RowNotFound
            | E::TypeNotFound { .. } => StoreError::Corrupt(error.to_string()),
            _ => StoreError::Database(Box::new(error)),
        }
    }
}

/// SQLSTATEs meaning the server cannot serve now, rather than that the request
/// is wrong: connection exceptions, insufficient resources (too many
/// connections), shutdown and startup, and cancellation by `statement_timeout`
/// or `idle_in_transaction_session_timeout`.
fn is_unavailable(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || code == "57014"
        || code == "25P03"
}
