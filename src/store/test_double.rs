//! What a test double needs from the store (`serve --test-clock`,
//! `POST /v1/test_helpers/reset`): the clock's offset, shared by every
//! process on the database, and the removal of one platform's test-mode
//! objects at once. The promise ([`TestDoubleStore`]), the statements
//! ([`TestDoubleRows`]), the rules, once.

use std::future::Future;

use async_trait::async_trait;

use crate::domain::ids::PlatformId;

use super::StoreError;
use super::engine::{Backend, SqlStore};

/// The test double's state.
#[async_trait]
pub trait TestDoubleStore {
    /// How far ahead of the operating system's clock the test clock runs (0
    /// until it is first advanced).
    async fn clock_offset(&self) -> Result<i64, StoreError>;

    /// Raises the test clock's offset to at least `offset_secs` (never
    /// lowers it); the offset now.
    async fn raise_clock_offset(&self, offset_secs: i64) -> Result<i64, StoreError>;

    /// Deletes every test-mode object of `platform` (accounts with their
    /// persons and bank accounts, account and embedded sessions, idempotency
    /// keys, events with their deliveries, webhook endpoints), leaving its
    /// keys and everything in live mode; how many rows went.
    async fn reset_test_mode(&self, platform: &PlatformId) -> Result<u64, StoreError>;
}

/// The statements a database provides for the test double.
pub trait TestDoubleRows {
    /// The stored offset, if any.
    fn select_clock_offset(
        &mut self,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Stores the larger of the stored offset and `offset_secs`; returns it.
    fn upsert_clock_offset(
        &mut self,
        offset_secs: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Deletes the platform's test-mode rows, children first; how many.
    fn delete_test_mode(
        &mut self,
        platform: &PlatformId,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

#[async_trait]
impl<B: Backend> TestDoubleStore for SqlStore<B> {
    async fn clock_offset(&self) -> Result<i64, StoreError> {
        self.backend
            .read(|tx| Box::pin(async move { Ok(tx.select_clock_offset().await?.unwrap_or(0)) }))
            .await
    }

    async fn raise_clock_offset(&self, offset_secs: i64) -> Result<i64, StoreError> {
        self.backend
            .statement(move |tx| Box::pin(async move { tx.upsert_clock_offset(offset_secs).await }))
            .await
    }

    async fn reset_test_mode(&self, platform: &PlatformId) -> Result<u64, StoreError> {
        let platform = platform.clone();
        self.backend
            .transaction(move |tx| Box::pin(async move { tx.delete_test_mode(&platform).await }))
            .await
    }
}
