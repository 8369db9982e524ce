//! Platforms: the Connect applications that own connected accounts, and their keys.

use super::ids::PlatformId;
use super::keys::{GeneratedKey, KeyKind, SecretHash};
use super::mode::Mode;

/// A platform about to be created, with its four freshly generated keys.
#[derive(Debug, Clone)]
pub struct NewPlatform {
    /// `acct_…`: in Stripe a platform is itself an account.
    pub id: PlatformId,
    /// A label for people.
    pub name: String,
    /// `sk_test_…`
    pub secret_key: GeneratedKey,
    /// `pk_test_…`
    pub publishable_key: GeneratedKey,
    /// `sk_live_…`
    pub live_secret_key: GeneratedKey,
    /// `pk_live_…`
    pub live_publishable_key: GeneratedKey,
}

impl NewPlatform {
    /// A platform with a new id and four new keys.
    pub fn generate(name: String) -> Self {
        Self {
            id: PlatformId::generate(),
            name,
            secret_key: GeneratedKey::generate(KeyKind::Secret, Mode::Test),
            publishable_key: GeneratedKey::generate(KeyKind::Publishable, Mode::Test),
            live_secret_key: GeneratedKey::generate(KeyKind::Secret, Mode::Live),
            live_publishable_key: GeneratedKey::generate(KeyKind::Publishable, Mode::Live),
        }
    }

    /// The keys as stored: hash, kind and mode, never the text.
    pub fn stored_keys(&self) -> [StoredKey; 4] {
        let stored = |key: &GeneratedKey, kind, mode| StoredKey {
            hash: key.hash(),
            kind,
            mode,
        };
        [
            stored(&self.secret_key, KeyKind::Secret, Mode::Test),
            stored(&self.publishable_key, KeyKind::Publishable, Mode::Test),
            stored(&self.live_secret_key, KeyKind::Secret, Mode::Live),
            stored(&self.live_publishable_key, KeyKind::Publishable, Mode::Live),
        ]
    }
}

/// A platform key as the database holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredKey {
    /// The key's hash.
    pub hash: SecretHash,
    /// Secret or publishable.
    pub kind: KeyKind,
    /// Test or live.
    pub mode: Mode,
}

/// What a known platform key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    /// The platform the key belongs to.
    pub platform: PlatformId,
    /// Secret or publishable.
    pub kind: KeyKind,
    /// Test or live.
    pub mode: Mode,
}

/// Who is asking: a platform in one mode. Every lookup is scoped by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant {
    /// The platform.
    pub platform: PlatformId,
    /// The mode of the key used.
    pub mode: Mode,
}
