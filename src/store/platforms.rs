//! Platforms and their API keys (stored only as hashes): what the store
//! promises ([`PlatformStore`]), the statements each database provides
//! ([`PlatformRows`]), and the rules, written once.

use std::future::Future;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::domain::ids::PlatformId;
use crate::domain::keys::SecretHash;
use crate::domain::platform::{DeclaredPlatform, KeyGrant, KeyValidity, NewPlatform, StoredKey};

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

    /// Rolls the key with hash `old`: stores `new` for the same platform, and
    /// makes the old key expire at `expires_at` (or sooner, if it already
    /// expires sooner). Refused, with nothing changed, if the old key is
    /// unknown, revoked or expired at `now`, or `new` is not of its kind and mode.
    async fn roll_key(
        &self,
        old: SecretHash,
        new: StoredKey,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<KeyChange, StoreError>;

    /// Revokes the key with hash `hash`: refused from now on. Revoking a
    /// revoked or expired key is allowed (and changes nothing it did not).
    async fn revoke_key(&self, hash: SecretHash) -> Result<KeyChange, StoreError>;

    /// Stores a platform with declared keys unless it exists (a test
    /// double's known keys, or a key accepted on first use). Idempotent, and
    /// safe when several processes declare the same platform at once.
    async fn ensure_declared_platform(
        &self,
        platform: &DeclaredPlatform,
        created: Timestamp,
    ) -> Result<DeclaredOutcome, StoreError>;
}

/// What declaring a platform did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclaredOutcome {
    /// It was stored now.
    Created,
    /// It was there already, with these keys.
    Existed,
    /// One of its keys belongs to another platform; nothing was stored.
    KeyTaken(PlatformId),
}

/// What rolling or revoking a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// Done; the key belongs to this platform.
    Changed(PlatformId),
    /// No key has this hash.
    Unknown,
    /// The key can no longer be rolled: it is expired or revoked.
    Refused(KeyValidity),
    /// The new key is not of the old key's kind and mode.
    Mismatch,
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

    /// Inserts a platform unless one with its id exists.
    fn insert_platform_if_absent(
        &mut self,
        id: &PlatformId,
        name: &str,
        created: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts a key of `platform` unless a key with its hash exists.
    fn insert_key_if_absent(
        &mut self,
        platform: &PlatformId,
        key: &StoredKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets when the key with this hash expires.
    fn update_key_expiry(
        &mut self,
        hash: SecretHash,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks the key with this hash revoked.
    fn update_key_revoked(
        &mut self,
        hash: SecretHash,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

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

    async fn roll_key(
        &self,
        old: SecretHash,
        new: StoredKey,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<KeyChange, StoreError> {
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let Some(grant) = tx.select_key(old).await? else {
                        return Ok(KeyChange::Unknown);
                    };
                    match grant.validity(now) {
                        KeyValidity::Usable => {}
                        refused => return Ok(KeyChange::Refused(refused)),
                    }
                    if (grant.kind, grant.mode) != (new.kind, new.mode) {
                        return Ok(KeyChange::Mismatch);
                    }
                    tx.insert_key_if_absent(&grant.platform, &new).await?;
                    // Rolling twice never lengthens the first grace period.
                    let expires_at = grant.expires_at.map_or(expires_at, |at| at.min(expires_at));
                    tx.update_key_expiry(old, expires_at).await?;
                    Ok(KeyChange::Changed(grant.platform))
                })
            })
            .await
    }

    async fn revoke_key(&self, hash: SecretHash) -> Result<KeyChange, StoreError> {
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let Some(grant) = tx.select_key(hash).await? else {
                        return Ok(KeyChange::Unknown);
                    };
                    tx.update_key_revoked(hash).await?;
                    Ok(KeyChange::Changed(grant.platform))
                })
            })
            .await
    }

    async fn ensure_declared_platform(
        &self,
        platform: &DeclaredPlatform,
        created: Timestamp,
    ) -> Result<DeclaredOutcome, StoreError> {
        let platform = platform.clone();
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let mut existing = 0;
                    for key in &platform.keys {
                        if let Some(grant) = tx.select_key(key.hash).await? {
                            if grant.platform != platform.id {
                                return Ok(DeclaredOutcome::KeyTaken(grant.platform));
                            }
                            existing += 1;
                        }
                    }
                    if existing == platform.keys.len() {
                        return Ok(DeclaredOutcome::Existed);
                    }
                    // "If absent" all the way: a process declaring the same
                    // platform at the same moment makes this a no-op.
                    tx.insert_platform_if_absent(&platform.id, &platform.name, created)
                        .await?;
                    for key in &platform.keys {
                        tx.insert_key_if_absent(&platform.id, key).await?;
                    }
                    Ok(DeclaredOutcome::Created)
                })
            })
            .await
    }
}
