//! Durable state behind one trait, so the SQLite and PostgreSQL backends are
//! interchangeable and pass the same tests.
//!
//! Every method that returns `Ok` after a write has made that write durable. Domain
//! outcomes (not found, limits exceeded) are values; [`StoreError`] is only for the
//! store itself failing.

use std::fmt;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::domain::account::{Account, AccountUpdate, MetadataError};
use crate::domain::account_session::NewAccountSession;
use crate::domain::ids::{AccountId, PlatformId};
use crate::domain::keys::SecretHash;
use crate::domain::platform::{KeyGrant, NewPlatform, Tenant};

pub mod sqlite;

/// The store itself failed: the request could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database cannot be reached now (closed, restarting, or its worker gone).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored row could not be decoded; the database was changed by something else.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Where a page of a list starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The newest objects.
    Start,
    /// Objects older than this one.
    StartingAfter(AccountId),
    /// Objects newer than this one.
    EndingBefore(AccountId),
}

/// One page of a list, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The objects.
    pub data: Vec<T>,
    /// Whether more objects lie beyond this page in the direction of travel.
    pub has_more: bool,
}

/// The result of updating an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountUpdateOutcome {
    /// Updated and stored.
    Updated(Account),
    /// No such account for this tenant.
    NotFound,
    /// The update breaks a metadata limit; nothing changed.
    Invalid(MetadataError),
}

/// The result of storing an account session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionInsertOutcome {
    /// Stored.
    Created,
    /// The account no longer exists for this tenant (deleted meanwhile); nothing stored.
    AccountMissing,
}

/// Durable state: platforms, keys, accounts and account sessions.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Stores a platform and the hashes of its keys.
    async fn create_platform(
        &self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> Result<(), StoreError>;

    /// Stores `platform` only if there is no platform yet, atomically (several
    /// servers may start on one empty database); `true` if it was stored.
    async fn create_platform_if_none(
        &self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Whether any platform exists.
    async fn has_platforms(&self) -> Result<bool, StoreError>;

    /// What the platform key with this hash grants, if it exists.
    async fn find_key(&self, hash: SecretHash) -> Result<Option<KeyGrant>, StoreError>;

    /// Stores a new account.
    async fn insert_account(&self, account: &Account) -> Result<(), StoreError>;

    /// The platform's account with this id, in either mode, unless deleted.
    async fn find_account(
        &self,
        platform: &PlatformId,
        id: &AccountId,
    ) -> Result<Option<Account>, StoreError>;

    /// Applies an update to one of the tenant's accounts, atomically.
    async fn update_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        update: &AccountUpdate,
    ) -> Result<AccountUpdateOutcome, StoreError>;

    /// Deletes one of the tenant's accounts; `false` if there was none.
    async fn delete_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// A page of the tenant's accounts, newest first; `None` if the cursor's
    /// account is not one of the tenant's.
    async fn list_accounts(
        &self,
        tenant: &Tenant,
        cursor: &Cursor,
        limit: u32,
    ) -> Result<Option<Page<Account>>, StoreError>;

    /// Stores a new account session for one of the tenant's accounts.
    async fn insert_account_session(
        &self,
        tenant: &Tenant,
        session: &NewAccountSession,
    ) -> Result<SessionInsertOutcome, StoreError>;
}
