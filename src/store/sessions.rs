//! Account sessions and the embedded sessions their claims create: what the
//! store promises ([`SessionStore`]), the statements each database provides
//! ([`SessionRows`]), and the rules (claim once, revoke, expire, prune),
//! written once.

use std::future::Future;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::domain::account_session::{AccountSessionRecord, ClaimRefusal, NewAccountSession};
use crate::domain::embedded_session::{EmbeddedSession, NewEmbeddedSession};
use crate::domain::keys::SecretHash;
use crate::domain::platform::Tenant;

use super::engine::{Backend, SqlStore, unit_of_work};
use super::idempotency_keys::{Receipt, ResponseToSave, Saved, save_completion};
use super::rows::ClaimedSession;
use super::{Save, StoreError};

/// The result of storing an account session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionInsertOutcome {
    /// Stored (with the response, if the request was idempotent).
    Created(Receipt),
    /// The account no longer exists for this tenant (deleted meanwhile); nothing stored.
    AccountMissing,
}

/// The result of claiming a client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This claim won: the embedded session now exists (stored with the
    /// response, if the request was idempotent).
    Claimed(EmbeddedSession, Receipt),
    /// No session with this secret for this platform and mode.
    NotFound,
    /// The session exists but cannot be claimed, for this reason.
    Refused(ClaimRefusal),
}

/// How a platform changes one of its sessions, by the session's secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChange {
    /// Revoke it (a second revocation keeps the first time).
    Revoke,
    /// Move its expiry to the given time, if that is earlier.
    Expire,
}

/// Account sessions and embedded sessions.
#[async_trait]
pub trait SessionStore {
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
    ) -> Result<Option<(AccountSessionRecord, Receipt)>, StoreError>;

    /// Moves one of the tenant's account sessions' expiry to `at` (if later),
    /// for the test helper. `None` if there is no such session.
    async fn expire_account_session(
        &self,
        tenant: &Tenant,
        secret: SecretHash,
        at: Timestamp,
        save: Save<AccountSessionRecord>,
    ) -> Result<Option<(AccountSessionRecord, Receipt)>, StoreError>;

    /// Deletes up to `batch` account sessions (and their embedded sessions) that
    /// expired before `expired_before`; returns how many it deleted.
    async fn prune_expired_sessions(
        &self,
        expired_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError>;
}

/// The session statements a database provides.
pub trait SessionRows {
    /// Inserts an account session for the tenant's account, unless that
    /// account is missing or deleted (then it answers `false` and writes
    /// nothing). The account is held from deletion until the transaction ends
    /// (so `delete_account` revokes the new session too), and its onboarding
    /// is recorded as started: from the first session on, where Stripe
    /// collects requirements, the account's identity is its own. With a
    /// `response`, it is saved on its key (still in flight under its token)
    /// only if the session was inserted. One statement where the database
    /// can do it all in one.
    fn insert_session(
        &mut self,
        tenant: &Tenant,
        session: &NewAccountSession,
        response: Option<&ResponseToSave>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Marks the tenant's session with this secret claimed at the claim's
    /// creation time, only if it is unclaimed, unrevoked and unexpired, and
    /// then inserts the embedded session the claim creates; what it learned of
    /// the session, if it won. A concurrent claim (from any process) waits for
    /// the row, then finds it claimed.
    fn claim_session(
        &mut self,
        tenant: &Tenant,
        secret: SecretHash,
        claim: &NewEmbeddedSession,
    ) -> impl Future<Output = Result<Option<ClaimedSession>, StoreError>> + Send;

    /// The tenant's session with this secret.
    fn select_session(
        &mut self,
        tenant: &Tenant,
        secret: SecretHash,
    ) -> impl Future<Output = Result<Option<AccountSessionRecord>, StoreError>> + Send;

    /// Applies `change` at `at` to the tenant's session with this secret and
    /// returns the session as it now is.
    fn change_session(
        &mut self,
        tenant: &Tenant,
        secret: SecretHash,
        change: SessionChange,
        at: Timestamp,
    ) -> impl Future<Output = Result<Option<AccountSessionRecord>, StoreError>> + Send;

    /// The embedded session of the key with this hash, with its account session's state.
    fn select_embedded_session(
        &mut self,
        key: SecretHash,
    ) -> impl Future<Output = Result<Option<EmbeddedSession>, StoreError>> + Send;

    /// Marks the embedded session of this key logged out unless it was
    /// already; how many rows it changed.
    fn log_out(
        &mut self,
        key: SecretHash,
        at: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes up to `batch` sessions that expired before `expired_before`
    /// (their embedded sessions go with them), skipping rows another process
    /// is deleting; how many it deleted.
    fn delete_expired_sessions(
        &mut self,
        expired_before: Timestamp,
        batch: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

#[async_trait]
impl<B: Backend> SessionStore for SqlStore<B> {
    async fn insert_account_session(
        &self,
        tenant: &Tenant,
        session: &NewAccountSession,
        save: Save<()>,
    ) -> Result<SessionInsertOutcome, StoreError> {
        let (tenant, session) = (tenant.clone(), session.clone());
        // A create's response depends on nothing the insert returns, so it is
        // rendered first and saved by the insert itself: one statement either
        // way, and PostgreSQL needs no round trips for begin and commit.
        let response = ResponseToSave::rendered(save);
        self.backend
            .statement(move |tx| {
                Box::pin(async move {
                    if !tx
                        .insert_session(&tenant, &session, response.as_ref())
                        .await?
                    {
                        return Ok(SessionInsertOutcome::AccountMissing);
                    }
                    let receipt = response.map(|_| Saved::by_statement());
                    Ok(SessionInsertOutcome::Created(receipt))
                })
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
        let (tenant, claim) = (tenant.clone(), claim.clone());
        let unsaved = save.is_none();
        let work = unit_of_work::<B::Conn, _, _>(move |tx| {
            Box::pin(async move {
                // The conditional update is the single-use guarantee.
                let Some(won) = tx.claim_session(&tenant, secret, &claim).await? else {
                    // Why it lost: the session's state, read after the update
                    // found nothing to claim. Claimed, revoked and expired
                    // never revert, so the reason read is the reason it lost.
                    return Ok(match tx.select_session(&tenant, secret).await? {
                        Some(record) => ClaimOutcome::Refused(record.refusal()),
                        None => ClaimOutcome::NotFound,
                    });
                };
                let session = EmbeddedSession {
                    id: claim.id,
                    platform: tenant.platform,
                    mode: tenant.mode,
                    account: won.account,
                    components: won.components,
                    expires_at: won.expires_at,
                    logged_out_at: None,
                    revoked_at: None,
                };
                let receipt = save_completion(tx, save, &session).await?;
                Ok(ClaimOutcome::Claimed(session, receipt))
            })
        });
        // Without a response to save, the claim writes with one statement
        // (the refusal read only follows a statement that changed nothing).
        if unsaved {
            self.backend.statement(work).await
        } else {
            self.backend.transaction(work).await
        }
    }

    async fn find_embedded_session(
        &self,
        key: SecretHash,
    ) -> Result<Option<EmbeddedSession>, StoreError> {
        self.backend
            .read(move |tx| Box::pin(async move { tx.select_embedded_session(key).await }))
            .await
    }

    async fn log_out_embedded_session(
        &self,
        key: SecretHash,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.backend
            .statement(move |tx| Box::pin(async move { Ok(tx.log_out(key, at).await? == 1) }))
            .await
    }

    async fn revoke_account_session(
        &self,
        tenant: &Tenant,
        secret: SecretHash,
        at: Timestamp,
        save: Save<AccountSessionRecord>,
    ) -> Result<Option<(AccountSessionRecord, Receipt)>, StoreError> {
        change_session(self, tenant, secret, SessionChange::Revoke, at, save).await
    }

    async fn expire_account_session(
        &self,
        tenant: &Tenant,
        secret: SecretHash,
        at: Timestamp,
        save: Save<AccountSessionRecord>,
    ) -> Result<Option<(AccountSessionRecord, Receipt)>, StoreError> {
        change_session(self, tenant, secret, SessionChange::Expire, at, save).await
    }

    async fn prune_expired_sessions(
        &self,
        expired_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        self.backend
            .statement(move |tx| {
                Box::pin(async move { tx.delete_expired_sessions(expired_before, batch).await })
            })
            .await
    }
}

/// Applies `change` to one of the tenant's sessions and saves the session's
/// new state as the idempotent response.
async fn change_session<B: Backend>(
    store: &SqlStore<B>,
    tenant: &Tenant,
    secret: SecretHash,
    change: SessionChange,
    at: Timestamp,
    save: Save<AccountSessionRecord>,
) -> Result<Option<(AccountSessionRecord, Receipt)>, StoreError> {
    let tenant = tenant.clone();
    store
        .backend
        .transaction(move |tx| {
            Box::pin(async move {
                let Some(record) = tx.change_session(&tenant, secret, change, at).await? else {
                    return Ok(None);
                };
                let receipt = save_completion(tx, save, &record).await?;
                Ok(Some((record, receipt)))
            })
        })
        .await
}
