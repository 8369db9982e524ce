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

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use sqlx_core::connection::Connection;
use sqlx_core::migrate::{Migration, MigrationType, Migrator};
use sqlx_core::query::query;
use sqlx_core::row::Row;
use sqlx_core::sql_str::SqlSafeStr;
use sqlx_postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow, Postgres};

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
use crate::idempotency::{
    Attempt, BeginOutcome, CompletedAttempt, Fingerprint, IdempotencyScope, LeaseToken,
    SavedResponse,
};

use super::columns;
use super::{
    AccountSessionRecord, AccountUpdateOutcome, BankAccountInsertOutcome, ClaimOutcome, Cursor,
    Page, Save, SessionInsertOutcome, Store, StoreError,
};

/// A transaction on a pooled connection.
type Tx<'c> = sqlx_core::transaction::Transaction<'c, Postgres>;

/// The migrations, embedded in the binary and applied in order by sqlx's
/// migrator, which records them in `_sqlx_migrations` and holds an advisory lock
/// while it runs, so servers starting together apply each migration once.
///
/// (Listed by hand rather than with `sqlx::migrate!`: the `sqlx` facade crate
/// cannot be a dependency beside rusqlite, see `Cargo.toml`. The checksums are
/// the same as the macro's.)
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "initial",
    include_str!("../../migrations/postgres/0001_initial.sql"),
)];

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

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    deadline: Duration,
}

impl PostgresStore {
    /// Connects to the database at `url`, applies pending migrations, and
    /// returns a store whose pool connects on demand.
    pub async fn open(url: &SecretString, settings: &PostgresSettings) -> Result<Self, StoreError> {
        let options = connect_options(url)?;
        migrate_with(&options, settings).await?;
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

    /// Applies pending migrations to the database at `url` and returns.
    pub async fn migrate(
        url: &SecretString,
        settings: &PostgresSettings,
    ) -> Result<(), StoreError> {
        migrate_with(&connect_options(url)?, settings).await
    }

    /// Runs one store call on a pooled connection. Waiting for the connection
    /// is bounded by the pool's acquire timeout, the work by the deadline. Work
    /// cut short by the deadline leaves its connection mid-conversation (a
    /// query or a rollback still unanswered), so the connection is dropped
    /// there and then, without a word to the server, rather than returned to
    /// the pool, where it would be pinged and waited on, with no limit, before
    /// anyone could use it again.
    async fn call<T>(
        &self,
        work: impl AsyncFnOnce(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let outcome = tokio::time::timeout(self.deadline, work(&mut conn)).await;
        match outcome {
            Ok(result) => result,
            Err(_) => {
                drop(conn.detach());
                Err(StoreError::Unavailable(format!(
                    "no answer from PostgreSQL within {:?}",
                    self.deadline
                )))
            }
        }
    }
}

/// A read-only transaction on one snapshot: a list's cursor and its page
/// must agree.
async fn begin_snapshot(conn: &mut PgConnection) -> Result<Tx<'_>, StoreError> {
    Ok(conn
        .begin_with("begin isolation level repeatable read, read only")
        .await?)
}

/// Commits `tx` and returns `value`. Every transaction ends here, on every
/// path, rather than in a rollback queued by a drop: its locks go at once.
async fn finish<T>(tx: Tx<'_>, value: T) -> Result<T, StoreError> {
    tx.commit().await?;
    Ok(value)
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

/// The account columns, in the order [`account_from_row`] reads them.
macro_rules! account_columns {
    () => {
        "id, platform_id, livemode, fees_payer, losses_payments, requirement_collection,
         stripe_dashboard, country, email, metadata, business_profile_name,
         business_profile_url, capabilities, created"
    };
}

/// The bank account columns, in the order [`bank_account_from_row`] reads them.
macro_rules! bank_account_columns {
    () => {
        "id, account_id, country, currency, account_holder_name, routing_number, last4,
         fingerprint, created"
    };
}

/// The account session columns, in the order [`session_record_from_row`] reads them.
macro_rules! session_record_columns {
    () => {
        "account_id, components, created, expires_at, claimed_at, revoked_at"
    };
}

fn get<'r, T>(row: &'r PgRow, index: usize) -> Result<T, StoreError>
where
    T: sqlx_core::decode::Decode<'r, Postgres> + sqlx_core::types::Type<Postgres>,
{
    Ok(row.try_get(index)?)
}

/// Reads a text column holding one of an enum's wire spellings.
fn enum_column<T>(
    row: &PgRow,
    index: usize,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    let value: String = get(row, index)?;
    parse(&value).ok_or_else(|| StoreError::Corrupt(format!("column {index}: {value:?}")))
}

/// Decodes a row selected with [`account_columns`].
fn account_from_row(row: &PgRow) -> Result<Account, StoreError> {
    let corrupt =
        |what: &str, value: &str| StoreError::Corrupt(format!("account {what}: {value:?}"));
    let id: String = get(row, 0)?;
    let platform: String = get(row, 1)?;
    let controller = Controller {
        fees_payer: enum_column(row, 3, FeePayer::parse)?,
        losses_payments: enum_column(row, 4, LossesPayer::parse)?,
        requirement_collection: enum_column(row, 5, RequirementCollection::parse)?,
        stripe_dashboard: enum_column(row, 6, DashboardType::parse)?,
    };
    let metadata_json: String = get(row, 9)?;
    let metadata = columns::metadata(&metadata_json)?;
    let capabilities_json: String = get(row, 12)?;
    let capabilities = columns::capabilities(&capabilities_json)?;
    Ok(Account {
        id: AccountId::parse(&id).ok_or_else(|| corrupt("id", &id))?,
        platform: PlatformId::parse(&platform).ok_or_else(|| corrupt("platform", &platform))?,
        mode: Mode::from_livemode(get(row, 2)?),
        controller,
        country: get(row, 7)?,
        email: get(row, 8)?,
        metadata,
        business_profile: BusinessProfile {
            name: get(row, 10)?,
            url: get(row, 11)?,
        },
        capabilities,
        created: Timestamp::from_secs(get(row, 13)?),
    })
}

/// Decodes a row selected with [`bank_account_columns`].
fn bank_account_from_row(row: &PgRow) -> Result<BankAccount, StoreError> {
    let id: String = get(row, 0)?;
    Ok(BankAccount {
        id: ExternalAccountId::parse(&id)
            .ok_or_else(|| StoreError::Corrupt(format!("bank account id {id:?}")))?,
        account: columns::account_id(&get::<String>(row, 1)?)?,
        country: get(row, 2)?,
        currency: get(row, 3)?,
        account_holder_name: get(row, 4)?,
        routing_number: get(row, 5)?,
        last4: get(row, 6)?,
        fingerprint: get(row, 7)?,
        created: Timestamp::from_secs(get(row, 8)?),
    })
}

/// Decodes a row selected (or returned) with [`session_record_columns`].
fn session_record_from_row(row: &PgRow) -> Result<AccountSessionRecord, StoreError> {
    Ok(AccountSessionRecord {
        account: columns::account_id(&get::<String>(row, 0)?)?,
        components: columns::components(&get::<Vec<u8>>(row, 1)?)?,
        created: Timestamp::from_secs(get(row, 2)?),
        expires_at: Timestamp::from_secs(get(row, 3)?),
        claimed_at: get::<Option<i64>>(row, 4)?.map(Timestamp::from_secs),
        revoked_at: get::<Option<i64>>(row, 5)?.map(Timestamp::from_secs),
    })
}

/// A page's row limit: one more than asked, to learn whether there are more.
fn fetch_limit(limit: u32) -> i64 {
    i64::from(limit) + 1
}

/// Trims the extra row and puts a backwards page in newest-first order.
fn into_page<T>(mut data: Vec<T>, limit: u32, backwards: bool) -> Page<T> {
    let has_more = data.len() > limit as usize;
    data.truncate(limit as usize);
    if backwards {
        data.reverse();
    }
    Page { data, has_more }
}

/// Inserts a platform and its key hashes.
async fn insert_platform(
    conn: &mut PgConnection,
    platform: &NewPlatform,
    created: Timestamp,
) -> Result<(), StoreError> {
    query(
        "insert into platforms (id, name, created)
         values ($1, $2, $3)",
    )
    .bind(platform.id.as_str())
    .bind(platform.name.as_str())
    .bind(created.as_secs())
    .execute(&mut *conn)
    .await?;
    for key in platform.stored_keys() {
        query(
            "insert into api_keys (key_hash, platform_id, kind, livemode)
             values ($1, $2, $3, $4)",
        )
        .bind(key.hash.as_bytes().as_slice())
        .bind(platform.id.as_str())
        .bind(key.kind.as_str())
        .bind(key.mode.is_live())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The tenant's live (not deleted) account with this id; `lock` is appended to
/// the select (`for update`, `for share` or nothing).
async fn select_tenant_account(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &AccountId,
    lock: Lock,
) -> Result<Option<Account>, StoreError> {
    let sql = match lock {
        Lock::None => concat!(
            "select ",
            account_columns!(),
            " from accounts
             where id = $1 and platform_id = $2 and livemode = $3 and deleted_at is null"
        ),
        Lock::Share => concat!(
            "select ",
            account_columns!(),
            " from accounts
             where id = $1 and platform_id = $2 and livemode = $3 and deleted_at is null
             for share"
        ),
        Lock::Update => concat!(
            "select ",
            account_columns!(),
            " from accounts
             where id = $1 and platform_id = $2 and livemode = $3 and deleted_at is null
             for update"
        ),
    };
    let row = query(sql)
        .bind(id.as_str())
        .bind(tenant.platform.as_str())
        .bind(tenant.mode.is_live())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(account_from_row).transpose()
}

/// The row lock a read takes.
#[derive(Debug, Clone, Copy)]
enum Lock {
    /// A plain read.
    None,
    /// The row may not be updated or deleted until the transaction ends.
    Share,
    /// Only this transaction may change the row until it ends.
    Update,
}

/// The tenant's account session with this secret hash.
async fn select_session_record(
    conn: &mut PgConnection,
    tenant: &Tenant,
    secret: SecretHash,
) -> Result<Option<AccountSessionRecord>, StoreError> {
    let row = query(concat!(
        "select ",
        session_record_columns!(),
        " from account_sessions
         where secret_hash = $1 and platform_id = $2 and livemode = $3"
    ))
    .bind(secret.as_bytes().as_slice())
    .bind(tenant.platform.as_str())
    .bind(tenant.mode.is_live())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(session_record_from_row).transpose()
}

/// Why a claim lost: the session's state, read in the same transaction.
async fn claim_refusal(
    conn: &mut PgConnection,
    tenant: &Tenant,
    secret: SecretHash,
) -> Result<ClaimOutcome, StoreError> {
    Ok(select_session_record(conn, tenant, secret)
        .await?
        .map_or(ClaimOutcome::NotFound, |record| record.refusal()))
}

/// Saves an idempotent request's response for the write's result `value`, in
/// the write's own transaction.
async fn save_completion<T>(
    conn: &mut PgConnection,
    save: Save<T>,
    value: &T,
) -> Result<(), StoreError> {
    let Some(completion) = save else {
        return Ok(());
    };
    let (scope, token, response) = completion.render(value);
    store_response(conn, &scope, token, &response).await
}

/// Saves a response on a key still in flight under `token`.
async fn store_response(
    conn: &mut PgConnection,
    scope: &IdempotencyScope,
    token: LeaseToken,
    response: &SavedResponse,
) -> Result<(), StoreError> {
    query(
        "update idempotency_keys set status = $5, body = $6
         where platform_id = $1 and livemode = $2 and realm = $7 and key = $3
           and lease_token = $4 and status is null",
    )
    .bind(scope.tenant.platform.as_str())
    .bind(scope.tenant.mode.is_live())
    .bind(scope.key.as_str())
    .bind(token.0.as_slice())
    .bind(i32::from(response.status))
    .bind(response.sealed_body.as_slice())
    .bind(scope.realm.as_stored())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_platform(
        &self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> Result<(), StoreError> {
        self.call(async |conn| {
            let mut tx = conn.begin().await?;
            insert_platform(&mut tx, platform, created).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn create_platform_if_none(
        &self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> Result<bool, StoreError> {
        self.call(async |conn| {
            let mut tx = conn.begin().await?;
            // Share row exclusive conflicts with itself and with inserts, not with
            // reads: servers starting together take turns here, and no platform
            // can appear between the check and the insert.
            query("lock table platforms in share row exclusive mode")
                .execute(&mut *tx)
                .await?;
            let exists: bool = query("select exists (select 1 from platforms)")
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            if exists {
                return finish(tx, false).await;
            }
            insert_platform(&mut tx, platform, created).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn has_platforms(&self) -> Result<bool, StoreError> {
        self.call(async |conn| {
            let row = query("select exists (select 1 from platforms)")
                .fetch_one(&mut *conn)
                .await?;
            get(&row, 0)
        })
        .await
    }

    async fn find_key(&self, hash: SecretHash) -> Result<Option<KeyGrant>, StoreError> {
        self.call(async |conn| {
            let row = query(
                "select platform_id, kind, livemode from api_keys
                 where key_hash = $1",
            )
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&mut *conn)
            .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let platform: String = get(&row, 0)?;
            let kind: String = get(&row, 1)?;
            let platform = PlatformId::parse(&platform)
                .ok_or_else(|| StoreError::Corrupt(format!("api key platform {platform:?}")))?;
            let kind = KeyKind::from_stored(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("api key kind {kind:?}")))?;
            Ok(Some(KeyGrant {
                platform,
                kind,
                mode: Mode::from_livemode(get(&row, 2)?),
            }))
        })
        .await
    }

    async fn insert_account(
        &self,
        account: &Account,
        save: Save<Account>,
    ) -> Result<(), StoreError> {
        self.call(async |conn| {
            let mut tx = conn.begin().await?;
            query(
                "insert into accounts (id, platform_id, livemode, fees_payer, losses_payments,
                     requirement_collection, stripe_dashboard, country, email, metadata,
                     business_profile_name, business_profile_url, capabilities, created)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(account.id.as_str())
            .bind(account.platform.as_str())
            .bind(account.mode.is_live())
            .bind(account.controller.fees_payer.as_str())
            .bind(account.controller.losses_payments.as_str())
            .bind(account.controller.requirement_collection.as_str())
            .bind(account.controller.stripe_dashboard.as_str())
            .bind(account.country.as_str())
            .bind(account.email.as_deref())
            .bind(columns::to_json(&account.metadata)?)
            .bind(account.business_profile.name.as_deref())
            .bind(account.business_profile.url.as_deref())
            .bind(columns::capabilities_json(account)?)
            .bind(account.created.as_secs())
            .execute(&mut *tx)
            .await?;
            save_completion(&mut tx, save, account).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn find_account(
        &self,
        platform: &PlatformId,
        id: &AccountId,
    ) -> Result<Option<Account>, StoreError> {
        self.call(async |conn| {
            let row = query(concat!(
                "select ",
                account_columns!(),
                " from accounts
                 where id = $1 and platform_id = $2 and deleted_at is null"
            ))
            .bind(id.as_str())
            .bind(platform.as_str())
            .fetch_optional(&mut *conn)
            .await?;
            row.as_ref().map(account_from_row).transpose()
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
        self.call(async |conn| {
            let mut tx = conn.begin().await?;
            // Read-modify-write: the row lock makes concurrent updates (from any
            // process) apply one after the other, each on the other's result.
            let Some(current) = select_tenant_account(&mut tx, tenant, id, Lock::Update).await?
            else {
                return finish(tx, AccountUpdateOutcome::NotFound).await;
            };
            let updated = match current.updated(update) {
                Ok(updated) => updated,
                Err(invalid) => return finish(tx, AccountUpdateOutcome::Invalid(invalid)).await,
            };
            query(
                "update accounts
                 set email = $2, metadata = $3, business_profile_name = $4,
                     business_profile_url = $5
                 where id = $1",
            )
            .bind(updated.id.as_str())
            .bind(updated.email.as_deref())
            .bind(columns::to_json(&updated.metadata)?)
            .bind(updated.business_profile.name.as_deref())
            .bind(updated.business_profile.url.as_deref())
            .execute(&mut *tx)
            .await?;
            save_completion(&mut tx, save, &updated).await?;
            tx.commit().await?;
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
        self.call(async |conn| {
            let mut tx = conn.begin().await?;
            let changed = query(
                "update accounts set deleted_at = $4
                 where id = $1 and platform_id = $2 and livemode = $3 and deleted_at is null",
            )
            .bind(id.as_str())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live())
            .bind(at.as_secs())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed != 1 {
                return finish(tx, false).await;
            }
            // A deleted account's sessions must stop working with it. Sessions
            // being inserted hold a share lock on the account, so this statement
            // (a new snapshot, after the account's row lock) sees all of them.
            query(
                "update account_sessions set revoked_at = $2
                 where account_id = $1 and revoked_at is null",
            )
            .bind(id.as_str())
            .bind(at.as_secs())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn list_accounts(
        &self,
        tenant: &Tenant,
        cursor: &Cursor<AccountId>,
        limit: u32,
    ) -> Result<Option<Page<Account>>, StoreError> {
        self.call(async |conn| {
            let mut tx = begin_snapshot(conn).await?;
            let cursor_seq = match cursor {
                Cursor::Start => None,
                Cursor::StartingAfter(id) | Cursor::EndingBefore(id) => {
                    let row = query(
                        "select seq from accounts
                         where id = $1 and platform_id = $2 and livemode = $3
                           and deleted_at is null",
                    )
                    .bind(id.as_str())
                    .bind(tenant.platform.as_str())
                    .bind(tenant.mode.is_live())
                    .fetch_optional(&mut *tx)
                    .await?;
                    match row {
                        Some(row) => Some(get::<i64>(&row, 0)?),
                        None => return finish(tx, None).await,
                    }
                }
            };
            let sql = match cursor {
                Cursor::Start => concat!(
                    "select ",
                    account_columns!(),
                    " from accounts
                     where platform_id = $1 and livemode = $2 and deleted_at is null
                     order by seq desc limit $3"
                ),
                Cursor::StartingAfter(_) => concat!(
                    "select ",
                    account_columns!(),
                    " from accounts
                     where platform_id = $1 and livemode = $2 and deleted_at is null
                       and seq < $3
                     order by seq desc limit $4"
                ),
                Cursor::EndingBefore(_) => concat!(
                    "select ",
                    account_columns!(),
                    " from accounts
                     where platform_id = $1 and livemode = $2 and deleted_at is null
                       and seq > $3
                     order by seq asc limit $4"
                ),
            };
            let mut page = query(sql)
                .bind(tenant.platform.as_str())
                .bind(tenant.mode.is_live());
            if let Some(seq) = cursor_seq {
                page = page.bind(seq);
            }
            let rows = page.bind(fetch_limit(limit)).fetch_all(&mut *tx).await?;
            tx.commit().await?;
            let data = rows
                .iter()
                .map(account_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            let backwards = matches!(cursor, Cursor::EndingBefore(_));
            Ok(Some(into_page(data, limit, backwards)))
        })
        .await
    }

    async fn insert_account_session(
        &self,
        tenant: &Tenant,
        session: &NewAccountSession,
        save: Save<()>,
    ) -> Result<SessionInsertOutcome, StoreError> {
        self.call(async |conn| {
            let components = session.components.to_bytes();
            let mut tx = conn.begin().await?;
            // The share lock keeps the account from being deleted until this
            // session is committed, so `delete_account` revokes it too.
            if select_tenant_account(&mut tx, tenant, &session.account, Lock::Share)
                .await?
                .is_none()
            {
                return finish(tx, SessionInsertOutcome::AccountMissing).await;
            }
            query(
                "insert into account_sessions
                     (secret_hash, platform_id, livemode, account_id, components, created,
                      expires_at)
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(session.secret_hash.as_bytes().as_slice())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live())
            .bind(session.account.as_str())
            .bind(components)
            .bind(session.created.as_secs())
            .bind(session.expires_at.as_secs())
            .execute(&mut *tx)
            .await?;
            save_completion(&mut tx, save, &()).await?;
            tx.commit().await?;
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
        self.call(async |conn| {
            let now = claim.created;
            let mut tx = conn.begin().await?;
            // The single-use guarantee: the update locks the row, and a concurrent
            // claim (from any process) waits for that lock, then re-checks
            // `claimed_at is null` on the committed row and updates nothing.
            let won = query(
                "update account_sessions set claimed_at = $4
                 where secret_hash = $1 and platform_id = $2 and livemode = $3
                   and claimed_at is null and revoked_at is null and expires_at > $4
                 returning account_id, components, expires_at",
            )
            .bind(secret.as_bytes().as_slice())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live())
            .bind(now.as_secs())
            .fetch_optional(&mut *tx)
            .await?;
            let Some(won) = won else {
                let refusal = claim_refusal(&mut tx, tenant, secret).await?;
                return finish(tx, refusal).await;
            };
            query(
                "insert into embedded_sessions (id, key_hash, account_session_hash, created)
                 values ($1, $2, $3, $4)",
            )
            .bind(claim.id.as_str())
            .bind(claim.key.hash().as_bytes().as_slice())
            .bind(secret.as_bytes().as_slice())
            .bind(now.as_secs())
            .execute(&mut *tx)
            .await?;
            let session = EmbeddedSession {
                id: claim.id.clone(),
                platform: tenant.platform.clone(),
                mode: tenant.mode,
                account: columns::account_id(&get::<String>(&won, 0)?)?,
                components: columns::components(&get::<Vec<u8>>(&won, 1)?)?,
                expires_at: Timestamp::from_secs(get(&won, 2)?),
                logged_out_at: None,
                revoked_at: None,
            };
            save_completion(&mut tx, save, &session).await?;
            tx.commit().await?;
            Ok(ClaimOutcome::Claimed(session))
        })
        .await
    }

    async fn find_embedded_session(
        &self,
        key: SecretHash,
    ) -> Result<Option<EmbeddedSession>, StoreError> {
        self.call(async |conn| {
            let row = query(
                "select e.id, s.platform_id, s.livemode, s.account_id, s.components,
                        s.expires_at, e.logged_out_at, s.revoked_at
                 from embedded_sessions e
                 join account_sessions s on s.secret_hash = e.account_session_hash
                 where e.key_hash = $1",
            )
            .bind(key.as_bytes().as_slice())
            .fetch_optional(&mut *conn)
            .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let id: String = get(&row, 0)?;
            let platform: String = get(&row, 1)?;
            Ok(Some(EmbeddedSession {
                id: EmbeddedSessionId::parse(&id)
                    .ok_or_else(|| StoreError::Corrupt(format!("embedded session id {id:?}")))?,
                platform: PlatformId::parse(&platform)
                    .ok_or_else(|| StoreError::Corrupt(format!("platform id {platform:?}")))?,
                mode: Mode::from_livemode(get(&row, 2)?),
                account: columns::account_id(&get::<String>(&row, 3)?)?,
                components: columns::components(&get::<Vec<u8>>(&row, 4)?)?,
                expires_at: Timestamp::from_secs(get(&row, 5)?),
                logged_out_at: get::<Option<i64>>(&row, 6)?.map(Timestamp::from_secs),
                revoked_at: get::<Option<i64>>(&row, 7)?.map(Timestamp::from_secs),
            }))
        })
        .await
    }

    async fn log_out_embedded_session(
        &self,
        key: SecretHash,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.call(async |conn| {
            let changed = query(
                "update embedded_sessions set logged_out_at = $2
                 where key_hash = $1 and logged_out_at is null",
            )
            .bind(key.as_bytes().as_slice())
            .bind(at.as_secs())
            .execute(&mut *conn)
            .await?
            .rows_affected();
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
        self.call(async |conn| {
            let mut tx = conn.begin().await?;
            let row = query(concat!(
                "update account_sessions set revoked_at = coalesce(revoked_at, $4)
                 where secret_hash = $1 and platform_id = $2 and livemode = $3
                 returning ",
                session_record_columns!()
            ))
            .bind(secret.as_bytes().as_slice())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live())
            .bind(at.as_secs())
            .fetch_optional(&mut *tx)
            .await?;
            let record = row.as_ref().map(session_record_from_row).transpose()?;
            if let Some(record) = &record {
                save_completion(&mut tx, save, record).await?;
            }
            tx.commit().await?;
            Ok(record)
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
        self.call(async |conn| {
            let mut tx = conn.begin().await?;
            let row = query(concat!(
                "update account_sessions set expires_at = least(expires_at, $4)
                 where secret_hash = $1 and platform_id = $2 and livemode = $3
                 returning ",
                session_record_columns!()
            ))
            .bind(secret.as_bytes().as_slice())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live())
            .bind(at.as_secs())
            .fetch_optional(&mut *tx)
            .await?;
            let record = row.as_ref().map(session_record_from_row).transpose()?;
            if let Some(record) = &record {
                save_completion(&mut tx, save, record).await?;
            }
            tx.commit().await?;
            Ok(record)
        })
        .await
    }

    async fn prune_expired_sessions(
        &self,
        expired_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        self.call(async |conn| {
            // Rows another process is pruning (or anyone is writing) are skipped,
            // not waited for: concurrent pruners take disjoint batches. Embedded
            // sessions go with their account session (on delete cascade).
            let deleted = query(
                "delete from account_sessions where secret_hash in (
                     select secret_hash from account_sessions
                     where expires_at < $1
                     limit $2
                     for update skip locked
                 )",
            )
            .bind(expired_before.as_secs())
            .bind(i64::from(batch))
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok(deleted)
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
        self.call(async |conn| {
            let bank = bank_account;
            let mut tx = conn.begin().await?;
            // The account's row lock makes bank-account inserts for one account
            // take turns, so the duplicate check below and the insert are one
            // step (fingerprints under other master keys differ, so the unique
            // constraint alone cannot catch those), and keeps the account from
            // being deleted meanwhile.
            if select_tenant_account(&mut tx, tenant, &bank.account, Lock::Update)
                .await?
                .is_none()
            {
                return finish(tx, BankAccountInsertOutcome::AccountMissing).await;
            }
            let known: bool = query(
                "select exists (
                     select 1 from external_accounts
                     where account_id = $1 and fingerprint = any($2)
                 )",
            )
            .bind(bank.account.as_str())
            .bind(known_fingerprints)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            if known {
                return finish(tx, BankAccountInsertOutcome::Duplicate).await;
            }
            let inserted = query(
                "insert into external_accounts (id, account_id, country, currency,
                     account_holder_name, routing_number, last4, fingerprint, created)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 on conflict (account_id, fingerprint) do nothing",
            )
            .bind(bank.id.as_str())
            .bind(bank.account.as_str())
            .bind(bank.country.as_str())
            .bind(bank.currency.as_str())
            .bind(bank.account_holder_name.as_deref())
            .bind(bank.routing_number.as_deref())
            .bind(bank.last4.as_str())
            .bind(bank.fingerprint.as_str())
            .bind(bank.created.as_secs())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return finish(tx, BankAccountInsertOutcome::Duplicate).await;
            }
            save_completion(&mut tx, save, bank).await?;
            tx.commit().await?;
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
        self.call(async |conn| {
            let mut tx = begin_snapshot(conn).await?;
            if select_tenant_account(&mut tx, tenant, account, Lock::None)
                .await?
                .is_none()
            {
                return finish(tx, None).await;
            }
            let cursor_seq = match cursor {
                Cursor::Start => None,
                Cursor::StartingAfter(id) | Cursor::EndingBefore(id) => {
                    let row = query(
                        "select seq from external_accounts
                         where id = $1 and account_id = $2",
                    )
                    .bind(id.as_str())
                    .bind(account.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                    match row {
                        Some(row) => Some(get::<i64>(&row, 0)?),
                        None => return finish(tx, None).await,
                    }
                }
            };
            let sql = match cursor {
                Cursor::Start => concat!(
                    "select ",
                    bank_account_columns!(),
                    " from external_accounts
                     where account_id = $1
                     order by seq desc limit $2"
                ),
                Cursor::StartingAfter(_) => concat!(
                    "select ",
                    bank_account_columns!(),
                    " from external_accounts
                     where account_id = $1 and seq < $2
                     order by seq desc limit $3"
                ),
                Cursor::EndingBefore(_) => concat!(
                    "select ",
                    bank_account_columns!(),
                    " from external_accounts
                     where account_id = $1 and seq > $2
                     order by seq asc limit $3"
                ),
            };
            let mut page = query(sql).bind(account.as_str());
            if let Some(seq) = cursor_seq {
                page = page.bind(seq);
            }
            let rows = page.bind(fetch_limit(limit)).fetch_all(&mut *tx).await?;
            tx.commit().await?;
            let data = rows
                .iter()
                .map(bank_account_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            let backwards = matches!(cursor, Cursor::EndingBefore(_));
            Ok(Some(into_page(data, limit, backwards)))
        })
        .await
    }

    async fn delete_bank_account(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> Result<bool, StoreError> {
        self.call(async |conn| {
            // One statement: the bank account goes only if its account is the
            // tenant's and not deleted.
            let deleted = query(
                "delete from external_accounts e
                 using accounts a
                 where e.id = $1 and e.account_id = $2
                   and a.id = e.account_id and a.platform_id = $3 and a.livemode = $4
                   and a.deleted_at is null",
            )
            .bind(id.as_str())
            .bind(account.as_str())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live())
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok(deleted == 1)
        })
        .await
    }

    async fn begin_idempotent(
        &self,
        scope: &IdempotencyScope,
        attempt: &Attempt,
    ) -> Result<BeginOutcome, StoreError> {
        self.call(async |conn| {
            let mut tx = conn.begin().await?;
            // Take the key if it is new, past retention, or in flight past its
            // lease (its process died: nothing it wrote was committed). Either
            // way the statement locks the key's row, so the select below reads
            // the state that refused us, and concurrent beginners (from any
            // process) take turns: exactly one proceeds.
            let taken = query(
                "insert into idempotency_keys (platform_id, livemode, realm, key, path,
                     fingerprint, original_request_id, lease_token, locked_until, status, body,
                     created)
                 values ($1, $2, $11, $3, $4, $5, $6, $7, $8, null, null, $9)
                 on conflict (platform_id, livemode, realm, key) do update set
                     path = excluded.path, fingerprint = excluded.fingerprint,
                     original_request_id = excluded.original_request_id,
                     lease_token = excluded.lease_token, locked_until = excluded.locked_until,
                     status = null, body = null, created = excluded.created
                 where idempotency_keys.created < $10
                    or (idempotency_keys.status is null and idempotency_keys.locked_until <= $9)
                 returning 1",
            )
            .bind(scope.tenant.platform.as_str())
            .bind(scope.tenant.mode.is_live())
            .bind(scope.key.as_str())
            .bind(attempt.path.as_str())
            .bind(attempt.fingerprint.0.as_slice())
            .bind(attempt.request_id.as_str())
            .bind(attempt.token.0.as_slice())
            .bind(attempt.lease_until.as_secs())
            .bind(attempt.now.as_secs())
            .bind(attempt.retention_cutoff.as_secs())
            .bind(scope.realm.as_stored())
            .fetch_optional(&mut *tx)
            .await?;
            if taken.is_some() {
                tx.commit().await?;
                return Ok(BeginOutcome::Proceed);
            }
            let row = query(
                "select path, fingerprint, original_request_id, status, body
                 from idempotency_keys
                 where platform_id = $1 and livemode = $2 and realm = $4 and key = $3",
            )
            .bind(scope.tenant.platform.as_str())
            .bind(scope.tenant.mode.is_live())
            .bind(scope.key.as_str())
            .bind(scope.realm.as_stored())
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            let status: Option<i32> = get(&row, 3)?;
            let body: Option<Vec<u8>> = get(&row, 4)?;
            let (Some(status), Some(sealed_body)) = (status, body) else {
                return Ok(BeginOutcome::InFlight);
            };
            let status = u16::try_from(status)
                .map_err(|_| StoreError::Corrupt(format!("idempotency status {status}")))?;
            let fingerprint: [u8; 32] = get::<Vec<u8>>(&row, 1)?
                .try_into()
                .map_err(|_| StoreError::Corrupt("idempotency fingerprint".to_owned()))?;
            Ok(BeginOutcome::Completed(CompletedAttempt {
                path: get(&row, 0)?,
                fingerprint: Fingerprint(fingerprint),
                original_request_id: get(&row, 2)?,
                response: SavedResponse {
                    status,
                    sealed_body,
                },
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
        self.call(async |conn| store_response(conn, scope, token, response).await)
            .await
    }

    async fn prune_idempotency_keys(
        &self,
        created_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        self.call(async |conn| {
            let deleted = query(
                "delete from idempotency_keys where (platform_id, livemode, realm, key) in (
                     select platform_id, livemode, realm, key from idempotency_keys
                     where created < $1
                     limit $2
                     for update skip locked
                 )",
            )
            .bind(created_before.as_secs())
            .bind(i64::from(batch))
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok(deleted)
        })
        .await
    }
}
