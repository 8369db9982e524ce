//! In-memory caches of facts that never change once stored, so the hot path
//! (every request's key, every session's account) skips a database round trip.
//!
//! Only immutable facts are cached, and only facts that exist: a platform key's
//! grant (keys are never edited or removed), and an account's mode and
//! controller (fixed at creation). Whether an account still exists is never
//! taken from here: the store re-checks that atomically when it writes.
//! Embedded sessions are never cached, since logout and revocation must take
//! effect at once, in every process.

use quick_cache::sync::Cache;

use crate::domain::account::Controller;
use crate::domain::ids::{AccountId, PlatformId};
use crate::domain::keys::SecretHash;
use crate::domain::mode::Mode;
use crate::domain::platform::KeyGrant;

/// Most platform keys remembered (four per platform).
const KEY_CAPACITY: usize = 10_000;
/// Most accounts remembered.
const ACCOUNT_CAPACITY: usize = 100_000;

/// The caches.
pub struct Caches {
    keys: Cache<SecretHash, KeyGrant>,
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
    /// The grant of a known platform key.
    pub fn key(&self, hash: &SecretHash) -> Option<KeyGrant> {
        self.keys.get(hash)
    }

    /// Remembers a platform key's grant.
    pub fn remember_key(&self, hash: SecretHash, grant: KeyGrant) {
        self.keys.insert(hash, grant);
    }

    /// The mode and controller of one of the platform's accounts, if seen.
    pub fn account(&self, platform: &PlatformId, id: &AccountId) -> Option<(Mode, Controller)> {
        self.accounts.get(&(platform.clone(), id.clone()))
    }

    /// Remembers an account's mode and controller.
    pub fn remember_account(
        &self,
        platform: PlatformId,
        id: AccountId,
        mode: Mode,
        controller: Controller,
    ) {
        self.accounts.insert((platform, id), (mode, controller));
    }
}
