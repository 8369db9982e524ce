//! Idempotency keys: what the store promises ([`IdempotencyStore`]), the
//! statements each database provides ([`IdempotencyRows`]), and the one place
//! a request's response is saved with its write ([`save_completion`]).

use std::future::Future;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::idempotency::{
    Attempt, BeginOutcome, CompletedAttempt, IdempotencyScope, LeaseToken, SavedResponse,
};

use super::engine::{Backend, SqlStore, Tx};
use super::{Save, StoreError};

/// Idempotency keys.
#[async_trait]
pub trait IdempotencyStore {
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

    /// Gives up a key still in flight under `token`, saving nothing: the
    /// request failed validation, and (as at Stripe) a retry with the same key
    /// runs afresh. Does nothing once the key has a result or another lease.
    async fn release_idempotent(
        &self,
        scope: &IdempotencyScope,
        token: LeaseToken,
    ) -> Result<(), StoreError>;

    /// Deletes up to `batch` idempotency keys created before `created_before`;
    /// returns how many it deleted.
    async fn prune_idempotency_keys(
        &self,
        created_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError>;
}

/// The idempotency-key statements a database provides.
pub trait IdempotencyRows {
    /// Takes the key for `attempt` if it is new, past retention, or in flight
    /// past its lease (its process died: nothing it wrote was committed),
    /// locking its row either way; how many rows it took (1 or 0).
    fn take_key(
        &mut self,
        scope: &IdempotencyScope,
        attempt: &Attempt,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The key's state: `Some(None)` while in flight, `Some(Some(…))` once done.
    fn select_key_state(
        &mut self,
        scope: &IdempotencyScope,
    ) -> impl Future<Output = Result<Option<Option<CompletedAttempt>>, StoreError>> + Send;

    /// Saves a response on a key still in flight under `token`.
    fn save_response(
        &mut self,
        scope: &IdempotencyScope,
        token: LeaseToken,
        response: &SavedResponse,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the key if it is still in flight under `token`.
    fn delete_key_in_flight(
        &mut self,
        scope: &IdempotencyScope,
        token: LeaseToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes up to `batch` keys created before `created_before`, skipping
    /// rows another process is deleting; how many it deleted.
    fn delete_old_keys(
        &mut self,
        created_before: Timestamp,
        batch: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Proof that the store saved an idempotent request's response in the
/// transaction of its write. Only the store makes one (its field is private to
/// this module), and only once that transaction committed: a write method
/// answers `Ok` only after its commit. The HTTP layer skips saving a response
/// a second time exactly when it holds one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saved(());

impl Saved {
    /// The proof for a write whose own statement saved the response (see
    /// [`ResponseToSave`]); only the store's rules call it, after that
    /// statement committed.
    pub(super) fn by_statement() -> Self {
        Self(())
    }
}

/// A response rendered before its write, for a write whose result adds
/// nothing to it (a created session's response is rendered by the handler):
/// the database saves it with the write's own statement where it can.
#[derive(Debug, Clone)]
pub struct ResponseToSave {
    /// The key.
    pub scope: IdempotencyScope,
    /// The lease being completed.
    pub token: LeaseToken,
    /// The response.
    pub response: SavedResponse,
}

impl ResponseToSave {
    /// The response `save` renders for a write whose result is `()`.
    pub fn rendered(save: Save<()>) -> Option<Self> {
        save.map(|completion| {
            let (scope, token, response) = completion.render(&());
            Self {
                scope,
                token,
                response,
            }
        })
    }
}

/// What a write that took a [`Save`] hands back: proof that the response was
/// saved with it, or `None` when there was nothing to save (no idempotency key).
pub type Receipt = Option<Saved>;

/// Saves an idempotent request's response for the write's result `value`, in
/// the write's own transaction: a committed write always has its response.
pub async fn save_completion<T, C: Tx + Send>(
    tx: &mut C,
    save: Save<T>,
    value: &T,
) -> Result<Receipt, StoreError> {
    let Some(completion) = save else {
        return Ok(None);
    };
    let (scope, token, response) = completion.render(value);
    tx.save_response(&scope, token, &response).await?;
    Ok(Some(Saved(())))
}

#[async_trait]
impl<B: Backend> IdempotencyStore for SqlStore<B> {
    async fn begin_idempotent(
        &self,
        scope: &IdempotencyScope,
        attempt: &Attempt,
    ) -> Result<BeginOutcome, StoreError> {
        let (scope, attempt) = (scope.clone(), attempt.clone());
        // One statement takes the key or leaves it: concurrent beginners (from
        // any process) take turns on its row, and exactly one proceeds. Only a
        // refused take reads why, afterwards: the key can only have moved on
        // from in flight to done (either answer is true of this attempt), or
        // have been pruned meanwhile, and then it is free to take.
        self.backend
            .statement(move |tx| {
                Box::pin(async move {
                    if tx.take_key(&scope, &attempt).await? == 1 {
                        return Ok(BeginOutcome::Proceed);
                    }
                    match tx.select_key_state(&scope).await? {
                        Some(Some(done)) => Ok(BeginOutcome::Completed(done)),
                        Some(None) => Ok(BeginOutcome::InFlight),
                        None if tx.take_key(&scope, &attempt).await? == 1 => {
                            Ok(BeginOutcome::Proceed)
                        }
                        // Pruned, then taken by another request between our
                        // statements: it is in flight for this attempt.
                        None => Ok(BeginOutcome::InFlight),
                    }
                })
            })
            .await
    }

    async fn complete_idempotent(
        &self,
        scope: &IdempotencyScope,
        token: LeaseToken,
        response: &SavedResponse,
    ) -> Result<(), StoreError> {
        let (scope, response) = (scope.clone(), response.clone());
        self.backend
            .statement(move |tx| {
                Box::pin(async move { tx.save_response(&scope, token, &response).await })
            })
            .await
    }

    async fn release_idempotent(
        &self,
        scope: &IdempotencyScope,
        token: LeaseToken,
    ) -> Result<(), StoreError> {
        let scope = scope.clone();
        self.backend
            .statement(move |tx| {
                Box::pin(async move { tx.delete_key_in_flight(&scope, token).await })
            })
            .await
    }

    async fn prune_idempotency_keys(
        &self,
        created_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        self.backend
            .statement(move |tx| {
                Box::pin(async move { tx.delete_old_keys(created_before, batch).await })
            })
            .await
    }
}
