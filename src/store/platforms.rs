//! Platforms and their API keys (stored only as hashes): what the store
//! promises ([`PlatformStore`]), the statements each database provides
//! ([`PlatformRows`]), and the rules, written once.

use std::future::Future;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::domain::keys::SecretHash;
use crate::domain::platform::{KeyGrant, NewPlatform};

use super::StoreError;
use super::engine::{Backend, SqlStore};

/// Platforms and their keys.
#[async_trait]
pub trait PlatformStore {
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
}

/// The platform statements a database provides.
pub trait PlatformRows {
    /// Inserts a platform and its key hashes.
    fn insert_platform(
        &mut self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Keeps other transactions from inserting platforms until this one ends,
    /// without blocking reads.
    fn lock_platforms(&mut self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether any platform exists.
    fn any_platform(&mut self) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The grant of the key with this hash.
    fn select_key(
        &mut self,
        hash: SecretHash,
    ) -> impl Future<Output = Result<Option<KeyGrant>, StoreError>> + Send;
}

#[async_trait]
impl<B: Backend> PlatformStore for SqlStore<B> {
    async fn create_platform(
        &self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> Result<(), StoreError> {
        let platform = platform.clone();
        self.backend
            .transaction(move |tx| {
                Box::pin(async move { tx.insert_platform(&platform, created).await })
            })
            .await
    }

    async fn create_platform_if_none(
        &self,
        platform: &NewPlatform,
        created: Timestamp,
    ) -> Result<bool, StoreError> {
        let platform = platform.clone();
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    // Servers starting together take turns here, and no
                    // platform can appear between the check and the insert.
                    tx.lock_platforms().await?;
                    if tx.any_platform().await? {
                        return Ok(false);
                    }
                    tx.insert_platform(&platform, created).await?;
                    Ok(true)
                })
            })
            .await
    }

    async fn has_platforms(&self) -> Result<bool, StoreError> {
        self.backend
            .read(|tx| Box::pin(async move { tx.any_platform().await }))
            .await
    }

    async fn find_key(&self, hash: SecretHash) -> Result<Option<KeyGrant>, StoreError> {
        self.backend
            .read(move |tx| Box::pin(async move { tx.select_key(hash).await }))
            .await
    }
}
