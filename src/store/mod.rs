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
use crate::domain::catalog::ResolvedComponents;
use crate::domain::embedded_session::{EmbeddedSession, NewEmbeddedSession};
use crate::domain::external_account::BankAccount;
use crate::domain::ids::{AccountId, ExternalAccountId, PlatformId};
use crate::domain::keys::SecretHash;
use crate::domain::platform::{KeyGrant, NewPlatform, Tenant};
use crate::idempotency::{
    Attempt, BeginOutcome, Completion, IdempotencyScope, LeaseToken, SavedResponse,
};

pub(crate) mod columns;
pub mod postgres;
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

/// Where a page of a list starts, by the id of an object of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor<Id> {
    /// The newest objects.
    Start,
    /// Objects older than this one.
    StartingAfter(Id),
    /// Objects newer than this one.
    EndingBefore(Id),
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

/// An account session as its platform sees it after creation: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSessionRecord {
    /// The connected account.
    pub account: AccountId,
    /// As resolved at creation.
    pub components: ResolvedComponents,
    /// Creation time.
    pub created: Timestamp,
    /// Expiry (moved to now by the test helper).
    pub expires_at: Timestamp,
    /// When its secret was claimed, if it was.
    pub claimed_at: Option<Timestamp>,
    /// When the platform revoked it, if it did.
    pub revoked_at: Option<Timestamp>,
}

impl AccountSessionRecord {
    /// Why a claim of this session fails, when the claim's conditional update
    /// found it unclaimable. A revoked session says so even if it was claimed or
    /// has expired since; a claimed one says so even once expired: the most
    /// useful answer first.
    pub fn refusal(&self) -> ClaimOutcome {
        if self.revoked_at.is_some() {
            ClaimOutcome::Revoked
        } else if self.claimed_at.is_some() {
            ClaimOutcome::AlreadyClaimed
        } else {
            ClaimOutcome::Expired
        }
    }
}

/// The result of claiming a client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This claim won: the embedded session now exists.
    Claimed(EmbeddedSession),
    /// No session with this secret for this platform and mode.
    NotFound,
    /// Claimed before.
    AlreadyClaimed,
    /// Past its expiry.
    Expired,
    /// Revoked by the platform.
    Revoked,
}

/// The result of attaching a bank account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankAccountInsertOutcome {
    /// Stored.
    Created,
    /// The account already has a bank account with this fingerprint.
    Duplicate,
    /// The connected account no longer exists.
    AccountMissing,
}

/// A response to save with a write, if the request carried an idempotency key.
pub type Save<T> = Option<Completion<T>>;

/// Durable state: platforms, keys, accounts, account sessions, embedded
/// sessions, bank accounts and idempotency keys.
///
/// Methods that write on behalf of an idempotent request take a [`Save`]: when
/// the write succeeds, the store renders the response from the write's result
/// and saves it in the same transaction.
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
    async fn insert_account(
        &self,
        account: &Account,
        save: Save<Account>,
    ) -> Result<(), StoreError>;

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
        save: Save<Account>,
    ) -> Result<AccountUpdateOutcome, StoreError>;

    /// Deletes one of the tenant's accounts and revokes its account sessions
    /// (their embedded session keys stop working); `false` if there was none.
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
        cursor: &Cursor<AccountId>,
        limit: u32,
    ) -> Result<Option<Page<Account>>, StoreError>;

    /// Stores a new account session for one of the tenant's accounts.
    async fn insert_account_session(
        &self,
        tenant: &Tenant,
        session: &NewAccountSession,
        save: Save<()>,
    ) -> Result<SessionInsertOutcome, StoreError>;

    /// Claims a client secret, atomically: of any number of concurrent claims of
    /// one secret, across processes, exactly one gets `Claimed`. The claim's
    /// `created` time is "now" for the expiry check.
    async fn claim_account_session(
        &self,
        tenant: &Tenant,
        secret: SecretHash,
        claim: &NewEmbeddedSession,
        save: Save<EmbeddedSession>,
    ) -> Result<ClaimOutcome, StoreError>;

    /// The embedded session whose key has this hash, in any state.
    async fn find_embedded_session(
        &self,
        key: SecretHash,
    ) -> Result<Option<EmbeddedSession>, StoreError>;

    /// Ends the embedded session of the key with this hash (logout); `false`
    /// if it had already ended.
    async fn log_out_embedded_session(
        &self,
        key: SecretHash,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Revokes one of the tenant's account sessions: it can no longer be claimed,
    /// and its embedded session key, if any, stops working. Revoking twice is
    /// harmless. `None` if there is no such session.
    async fn revoke_account_session(
        &self,
        tenant: &Tenant,
        secret: SecretHash,
        at: Timestamp,
        save: Save<AccountSessionRecord>,
    ) -> Result<Option<AccountSessionRecord>, StoreError>;

    /// Moves one of the tenant's account sessions' expiry to `at` (if later),
    /// for the test helper. `None` if there is no such session.
    async fn expire_account_session(
        &self,
        tenant: &Tenant,
        secret: SecretHash,
        at: Timestamp,
        save: Save<AccountSessionRecord>,
    ) -> Result<Option<AccountSessionRecord>, StoreError>;

    /// Deletes up to `batch` account sessions (and their embedded sessions) that
    /// expired before `expired_before`; returns how many it deleted.
    async fn prune_expired_sessions(
        &self,
        expired_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError>;

    /// Attaches a bank account to one of the tenant's accounts, unless the
    /// account already has it: one stored with any of `known_fingerprints` (the
    /// bank account's fingerprints under every master key, so that duplicates
    /// are found across a key rotation).
    async fn insert_bank_account(
        &self,
        tenant: &Tenant,
        bank_account: &BankAccount,
        known_fingerprints: &[String],
        save: Save<BankAccount>,
    ) -> Result<BankAccountInsertOutcome, StoreError>;

    /// A page of an account's bank accounts, newest first; `None` if the account
    /// or the cursor's bank account is not the tenant's.
    async fn list_bank_accounts(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        cursor: &Cursor<ExternalAccountId>,
        limit: u32,
    ) -> Result<Option<Page<BankAccount>>, StoreError>;

    /// Removes a bank account from one of the tenant's accounts; `false` if
    /// there was none.
    async fn delete_bank_account(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> Result<bool, StoreError>;

    /// Begins an idempotent request: claims the key in flight under
    /// `attempt.token` unless it has a result or a live lease. A key created
    /// before `attempt.retention_cutoff`, or in flight past its lease, is taken
    /// over as new.
    async fn begin_idempotent(
        &self,
        scope: &IdempotencyScope,
        attempt: &Attempt,
    ) -> Result<BeginOutcome, StoreError>;

    /// Saves the response of an idempotent request whose outcome wrote nothing
    /// (errors, no-ops). Does nothing unless the key is still in flight under
    /// `token`, so saving twice, or after the write saved it, is harmless.
    async fn complete_idempotent(
        &self,
        scope: &IdempotencyScope,
        token: LeaseToken,
        response: &SavedResponse,
    ) -> Result<(), StoreError>;

    /// Deletes up to `batch` idempotency keys created before `created_before`;
    /// returns how many it deleted.
    async fn prune_idempotency_keys(
        &self,
        created_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError>;
}
