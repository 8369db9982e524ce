//! Where a test's data lives. By default each test gets a fresh SQLite file;
//! when `CONNECT_SESSIONS_TEST_DATABASE` holds a `postgres://` URL (for example
//! `postgres://postgres@127.0.0.1:5432/test`), each test gets a fresh schema
//! `t_<random>` on that server instead, reached through the URL's
//! `options=-c search_path=…`, and dropped when the test ends.
//!
//! Tests that look underneath the API do it through [`TestDatabase`], so the
//! same assertion runs on either backend.

use std::path::PathBuf;
use std::sync::Arc;

use connect_sessions::domain::keys::random_alphanumeric;
use connect_sessions::store::Store;
use connect_sessions::store::postgres::{PostgresSettings, PostgresStore};
use connect_sessions::store::sqlite::SqliteStore;
use secrecy::SecretString;
use sqlx_core::connection::Connection;
use sqlx_core::query::query;
use sqlx_core::row::Row;
use sqlx_core::sql_str::AssertSqlSafe;
use sqlx_postgres::PgConnection;
use tempfile::TempDir;

/// The environment variable naming the PostgreSQL server tests run on.
pub(crate) const TEST_DATABASE_ENV: &str = "CONNECT_SESSIONS_TEST_DATABASE";

/// The PostgreSQL server URL the tests run on, if one is configured.
pub(crate) fn postgres_server() -> Option<String> {
    let url = std::env::var(TEST_DATABASE_ENV).ok()?;
    if url.is_empty() {
        return None;
    }
    assert!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "{TEST_DATABASE_ENV} must be a postgres:// URL, not {url:?}"
    );
    Some(url)
}

/// A test's own, empty database.
#[derive(Debug)]
pub(crate) enum TestDatabase {
    /// A file in a temporary directory, deleted with it.
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Deleted when the test ends.
        _dir: TempDir,
    },
    /// A schema of its own on the configured server.
    Postgres {
        /// The server, as configured.
        server: String,
        /// `t_<random>`.
        schema: String,
    },
}

/// One row of `account_sessions`, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredAccountSession {
    pub(crate) secret_hash: Vec<u8>,
    pub(crate) account_id: String,
    pub(crate) livemode: bool,
    pub(crate) created: i64,
    pub(crate) expires_at: i64,
    /// The compact layout (`ResolvedComponents::to_bytes`).
    pub(crate) components: Vec<u8>,
}

impl TestDatabase {
    /// A fresh database on the configured backend.
    pub(crate) async fn create() -> Self {
        match postgres_server() {
            Some(server) => Self::create_postgres(&server).await,
            None => Self::create_sqlite(),
        }
    }

    /// A fresh SQLite file.
    pub(crate) fn create_sqlite() -> Self {
        let dir = tempfile::tempdir().expect("cannot create a temporary directory");
        Self::Sqlite {
            path: dir.path().join("connect-sessions.db"),
            _dir: dir,
        }
    }

    /// A fresh schema on the PostgreSQL server at `server`.
    pub(crate) async fn create_postgres(server: &str) -> Self {
        let schema = format!("t_{}", random_alphanumeric(16).to_lowercase());
        let mut admin = PgConnection::connect(server)
            .await
            .unwrap_or_else(|error| panic!("cannot connect to {TEST_DATABASE_ENV}: {error}"));
        query(AssertSqlSafe(format!("create schema {schema}")))
            .execute(&mut admin)
            .await
            .expect("cannot create the test schema");
        let _ = admin.close().await;
        Self::Postgres {
            server: server.to_owned(),
            schema,
        }
    }

    /// The URL a server process takes as `--database`.
    pub(crate) fn url(&self) -> String {
        match self {
            Self::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Self::Postgres { server, schema } => {
                let separator = if server.contains('?') { '&' } else { '?' };
                format!("{server}{separator}options=-c%20search_path%3D{schema}")
            }
        }
    }

    /// Opens the store on this database, applying migrations.
    pub(crate) async fn open_store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite { path, .. } => Arc::new(
                SqliteStore::open(path, 2)
                    .await
                    .expect("cannot open the test database"),
            ),
            Self::Postgres { .. } => Arc::new(self.open_postgres(&test_pool()).await),
        }
    }

    /// Opens a PostgreSQL store on this database with `settings`; panics on SQLite.
    pub(crate) async fn open_postgres(&self, settings: &PostgresSettings) -> PostgresStore {
        assert!(matches!(self, Self::Postgres { .. }), "not PostgreSQL");
        PostgresStore::open(&SecretString::from(self.url()), settings)
            .await
            .expect("cannot open the test database")
    }

    /// Every stored account session, read directly from the database on a
    /// connection of its own: what is there is committed.
    pub(crate) async fn account_sessions(&self) -> Vec<StoredAccountSession> {
        const SQL: &str =
            "select secret_hash, account_id, livemode, created, expires_at, components
                           from account_sessions order by created, account_id, secret_hash";
        match self {
            Self::Sqlite { path, .. } => {
                let db = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .unwrap();
                db.prepare(SQL)
                    .unwrap()
                    .query_map([], |row| {
                        Ok(StoredAccountSession {
                            secret_hash: row.get(0)?,
                            account_id: row.get(1)?,
                            livemode: row.get(2)?,
                            created: row.get(3)?,
                            expires_at: row.get(4)?,
                            components: row.get(5)?,
                        })
                    })
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            Self::Postgres { .. } => {
                let mut conn = self.connect().await;
                let rows = query(SQL).fetch_all(&mut conn).await.unwrap();
                rows.iter()
                    .map(|row| StoredAccountSession {
                        secret_hash: row.get(0),
                        account_id: row.get(1),
                        livemode: row.get(2),
                        created: row.get(3),
                        expires_at: row.get(4),
                        components: row.get(5),
                    })
                    .collect()
            }
        }
    }

    /// How many rows `table` holds; `table` may carry a `where` clause.
    pub(crate) async fn count(&self, table: &str) -> i64 {
        let sql = format!("select count(*) from {table}");
        match self {
            Self::Sqlite { path, .. } => {
                let db = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .unwrap();
                db.query_row(&sql, [], |row| row.get(0)).unwrap()
            }
            Self::Postgres { .. } => {
                let mut conn = self.connect().await;
                query(AssertSqlSafe(sql))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
                    .get(0)
            }
        }
    }

    /// Everything the database holds, as raw bytes, by place: SQLite's files
    /// (main file, WAL, shared memory, journal); on PostgreSQL, per table, the
    /// text of every row followed by the raw bytes of every `bytea` value (a
    /// row's text shows those in hex). What a copy of the database would give.
    pub(crate) async fn raw_contents(&self) -> Vec<(String, Vec<u8>)> {
        match self {
            Self::Sqlite { path, .. } => {
                let files: Vec<(String, Vec<u8>)> = ["", "-wal", "-shm", "-journal"]
                    .iter()
                    .filter_map(|suffix| {
                        let file = format!("{}{suffix}", path.display());
                        std::fs::read(&file).ok().map(|bytes| (file, bytes))
                    })
                    .collect();
                assert!(!files.is_empty(), "no database file at {}", path.display());
                files
            }
            Self::Postgres { schema, .. } => {
                let mut conn = self.connect().await;
                let columns: Vec<(String, String, String)> = query(
                    "select table_name::text, column_name::text, data_type::text
                     from information_schema.columns
                     where table_schema = $1
                     order by table_name, ordinal_position",
                )
                .bind(schema.as_str())
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|row| (row.get(0), row.get(1), row.get(2)))
                .collect();
                let mut tables: Vec<&str> = columns.iter().map(|(t, _, _)| t.as_str()).collect();
                tables.dedup();
                assert!(tables.len() >= 7, "tables missing: {tables:?}");
                let mut contents = Vec::new();
                for table in tables {
                    let mut bytes = Vec::new();
                    let rows = query(AssertSqlSafe(format!(
                        "select t::text from {schema}.{table} t"
                    )))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                    for row in &rows {
                        bytes.extend_from_slice(row.get::<String, _>(0).as_bytes());
                        bytes.push(b'\n');
                    }
                    for (_, column, _) in columns
                        .iter()
                        .filter(|(t, _, kind)| t == table && kind == "bytea")
                    {
                        let rows = query(AssertSqlSafe(format!(
                            "select {column} from {schema}.{table} where {column} is not null"
                        )))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                        for row in &rows {
                            bytes.extend_from_slice(&row.get::<Vec<u8>, _>(0));
                        }
                    }
                    contents.push((format!("{schema}.{table}"), bytes));
                }
                contents
            }
        }
    }

    /// The places where `needle` is stored, as text or as raw bytes (see
    /// [`TestDatabase::raw_contents`]). Empty if it is nowhere.
    pub(crate) async fn places_holding(&self, needle: &str) -> Vec<String> {
        self.raw_contents()
            .await
            .into_iter()
            .filter(|(_, bytes)| {
                bytes
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes())
            })
            .map(|(place, _)| place)
            .collect()
    }

    /// The one blob (SQLite) or `bytea` (PostgreSQL) value `sql` selects.
    pub(crate) async fn bytes(&self, sql: &str) -> Vec<u8> {
        match self {
            Self::Sqlite { path, .. } => {
                let db = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .unwrap();
                db.query_row(sql, [], |row| row.get(0)).unwrap()
            }
            Self::Postgres { .. } => {
                let mut conn = self.connect().await;
                query(AssertSqlSafe(sql.to_owned()))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
                    .get(0)
            }
        }
    }

    /// Runs one statement that changes rows underneath the server (to make
    /// rows as an older version stored them).
    pub(crate) async fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite { path, .. } => {
                let db = rusqlite::Connection::open(path).unwrap();
                db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
                db.execute(sql, []).unwrap();
            }
            Self::Postgres { .. } => {
                let mut conn = self.connect().await;
                query(AssertSqlSafe(sql.to_owned()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
        }
    }

    /// A connection to this test's schema (PostgreSQL only).
    pub(crate) async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url())
            .await
            .expect("cannot connect to the test database")
    }
}

/// The pool an in-process test app uses: small, since tests run in parallel.
pub(crate) fn test_pool() -> PostgresSettings {
    PostgresSettings {
        pool_size: 8,
        ..PostgresSettings::default()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Self::Postgres { server, schema } = self else {
            return;
        };
        // Drop the schema on a thread of its own: this may run inside or outside
        // a runtime. A schema still locked (a server process not yet stopped) is
        // left behind after a few seconds rather than hanging the test.
        let name = schema.clone();
        let (server, schema) = (server.clone(), schema.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&server).await.ok()?;
                query("set lock_timeout = '5s'")
                    .execute(&mut admin)
                    .await
                    .ok()?;
                query(AssertSqlSafe(format!(
                    "drop schema if exists {schema} cascade"
                )))
                .execute(&mut admin)
                .await
                .ok()?;
                let _ = admin.close().await;
                Some(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("note: could not drop the test schema {name}");
        }
    }
}
