//! In-memory caches of facts that never change once stored, so the hot path
//! (every request's key, every session's account) skips a database round trip.
//!
//! Only facts that exist are cached. An account's mode and controller are
//! fixed at creation, so they serve forever. A platform key's grant can change
//! (`keys roll` sets an expiry, `keys revoke` ends it, from another process), so
//! it is trusted for at most [`KEY_TRUST`] and then read again: that is the
//! bound within which every replica refuses a revoked key. Whether an account
//! still exists is never taken from here: the store re-checks that atomically
//! when it writes.
//! Embedded sessions are never cached, since logout and revocation must take
//! effect at once, in every process.

use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

use crate::domain::account::{Account, Controller};
use crate::domain::ids::{AccountId, PlatformId};
use crate::domain::keys::SecretHash;
use crate::domain::mode::Mode;
use crate::domain::platform::{KeyGrant, Tenant};
use crate::store::{Store, StoreError};

/// How long a remembered key grant is trusted before the store is asked again:
/// a key revoked (or rolled with no delay) in the database is refused by every
/// replica at most this long afterwards. One indexed read per key per 2 s and
/// process costs nothing measurable.
pub const KEY_TRUST: Duration = Duration::from_secs(2);

/// Most platform keys remembered (four per platform).
const KEY_CAPACITY: usize = 10_000;
/// Most accounts remembered.
const ACCOUNT_CAPACITY: usize = 100_000;

/// The caches.
pub struct Caches {
    keys: Cache<SecretHash, (KeyGrant, Instant)>,
    accounts: Cache<(PlatformId, AccountId), (Mode, Controller)>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches")
            .field("keys", &self.keys.len())
            .field("accounts", &self.accounts.len())
            .finish()
    }
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            keys: Cache::new(KEY_CAPACITY),
            accounts: Cache::new(ACCOUNT_CAPACITY),
        }
    }
}

impl Caches {
    /// The grant of a known platform key, if it was read from the store less
    /// than [`KEY_TRUST`] ago.
    pub fn key(&self, hash: &SecretHash) -> Option<KeyGrant> {
        let (grant, read_at) = self.keys.get(hash)?;
        (read_at.elapsed() < KEY_TRUST).then_some(grant)
    }

    /// Remembers a platform key's grant, just read from the store.
    pub fn remember_key(&self, hash: SecretHash, grant: KeyGrant) {
        self.keys.insert(hash, (grant, Instant::now()));
    }

    /// Remembers an account's mode and controller (both fixed at creation).
    pub fn remember_account(&self, account: &Account) {
        self.accounts.insert(
            (account.platform.clone(), account.id.clone()),
            (account.mode, account.controller),
        );
    }

    /// The controller of the tenant's account `id`: remembered if seen before,
    /// else read from `store` and remembered. An account's mode and controller
    /// never change, so a remembered pair serves; whether the account still
    /// exists is not answered here, and a write must re-check it atomically.
    pub async fn account_controller(
        &self,
        store: &dyn Store,
        tenant: &Tenant,
        id: &AccountId,
    ) -> Result<AccountLookup, StoreError> {
        let key = (tenant.platform.clone(), id.clone());
        if let Some((mode, controller)) = self.accounts.get(&key)
            && mode == tenant.mode
        {
            return Ok(AccountLookup::Found(controller));
        }
        let Some(account) = store.find_account(&tenant.platform, id).await? else {
            return Ok(AccountLookup::Missing);
        };
        self.remember_account(&account);
        if account.mode != tenant.mode {
            return Ok(AccountLookup::OtherMode(account.mode));
        }
        Ok(AccountLookup::Found(account.controller))
    }
}

/// What [`Caches::account_controller`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountLookup {
    /// The account, in the tenant's mode, has this controller.
    Found(Controller),
    /// The platform has no such account (in either mode).
    Missing,
    /// The platform has the account, but in this other mode.
    OtherMode(Mode),
}
