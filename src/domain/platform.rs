//! Platforms: the Connect applications that own connected accounts, and their keys.

use crate::clock::Timestamp;

use super::ids::PlatformId;
use super::keys::{GeneratedKey, KeyKind, SecretHash, mask};
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

/// The longest part after `sk_test_` or `pk_test_` a declared key may have
/// (Stripe's keys are 107 characters in all).
const MAX_DECLARED_KEY_SUFFIX: usize = 247;

/// The part after `prefix` of a test-mode key a test double accepts as
/// declared: letters, digits and `_`, like `sk_test_123` (stripe-mock's key)
/// or a real key's tail.
pub fn declared_key_suffix<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    let suffix = key.strip_prefix(prefix)?;
    let well_formed = !suffix.is_empty()
        && suffix.len() <= MAX_DECLARED_KEY_SUFFIX
        && suffix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    well_formed.then_some(suffix)
}

/// Why a declared platform is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeclarationRefusal {
    /// Not `sk_test_` followed by letters, digits or `_`.
    #[error("{0:?} is not a test-mode secret key (sk_test_ followed by letters, digits or _)")]
    SecretKey(String),
    /// Not `pk_test_` followed by letters, digits or `_`.
    #[error("{0:?} is not a test-mode publishable key (pk_test_ followed by letters, digits or _)")]
    PublishableKey(String),
    /// Not an `acct_` id.
    #[error("{0:?} is not a platform id (acct_ followed by letters and digits)")]
    Id(String),
}

/// A test-mode platform whose keys someone chose rather than this server (a
/// test double's known keys): stored, like every platform, with the hashes
/// of its keys only. It has no live-mode keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredPlatform {
    /// `acct_…`
    pub id: PlatformId,
    /// A label for people.
    pub name: String,
    /// Its test-mode secret and publishable keys.
    pub keys: [StoredKey; 2],
}

impl DeclaredPlatform {
    /// A platform with these keys; its id is `id` or, when none is given,
    /// derived from the secret key (so every replica, and every restart,
    /// names it the same).
    pub fn new(
        id: Option<&str>,
        name: String,
        secret_key: &str,
        publishable_key: &str,
    ) -> Result<Self, DeclarationRefusal> {
        let secret = declared_key_suffix(secret_key, "sk_test_")
            .ok_or_else(|| DeclarationRefusal::SecretKey(mask(secret_key)))?;
        declared_key_suffix(publishable_key, "pk_test_")
            .ok_or_else(|| DeclarationRefusal::PublishableKey(mask(publishable_key)))?;
        let id = match id {
            Some(id) => {
                PlatformId::parse(id).ok_or_else(|| DeclarationRefusal::Id(id.to_owned()))?
            }
            None => derived_id(secret),
        };
        Ok(Self {
            id,
            name,
            keys: [
                StoredKey {
                    hash: SecretHash::of(secret_key),
                    kind: KeyKind::Secret,
                    mode: Mode::Test,
                },
                StoredKey {
                    hash: SecretHash::of(publishable_key),
                    kind: KeyKind::Publishable,
                    mode: Mode::Test,
                },
            ],
        })
    }

    /// The platform a test double invents for an unknown test key of the
    /// form `sk_test_X` or `pk_test_X` (`--accept-any-test-key`): its keys
    /// are both, with the same `X`, so code written against stripe-mock's
    /// `sk_test_123` / `pk_test_123` works. `None` for any other key.
    pub fn for_any_test_key(key: &str) -> Option<Self> {
        let suffix = declared_key_suffix(key, "sk_test_")
            .or_else(|| declared_key_suffix(key, "pk_test_"))?;
        Self::new(
            None,
            // Never the key itself, even in part: a short key would be whole.
            "Test platform (accepted on first use of its key)".to_owned(),
            &format!("sk_test_{suffix}"),
            &format!("pk_test_{suffix}"),
        )
        .ok()
    }
}

/// The id of a declared platform without one: `acct_` and 16 letters and
/// digits derived from its secret key's suffix.
fn derived_id(secret_suffix: &str) -> PlatformId {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest =
        blake3::hash(format!("connect-sessions declared platform\0{secret_suffix}").as_bytes());
    let tail: String = digest.as_bytes()[..16]
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    PlatformId::parse(&format!("acct_{tail}")).unwrap_or_else(PlatformId::generate)
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
    /// When the key stops working, once it has been rolled (`None`: never).
    pub expires_at: Option<Timestamp>,
    /// Revoked: refused from the moment it was.
    pub revoked: bool,
}

/// Whether a platform key may be used at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyValidity {
    /// It works.
    Usable,
    /// It was rolled and its grace period is over (Stripe's "Expired API Key").
    Expired,
    /// It was revoked (Stripe answers a deleted key like an unknown one).
    Revoked,
}

impl KeyGrant {
    /// Whether the key may be used at `now`: a rolled key works until, not at,
    /// its expiry, so rolling with no delay ends it at once.
    pub fn validity(&self, now: Timestamp) -> KeyValidity {
        if self.revoked {
            KeyValidity::Revoked
        } else if self.expires_at.is_some_and(|at| now >= at) {
            KeyValidity::Expired
        } else {
            KeyValidity::Usable
        }
    }
}

/// The longest a rolled key may keep working, as in Stripe's dashboard.
pub const MAX_ROLL_GRACE: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 60 * 60);

/// Who is asking: a platform in one mode. Every lookup is scoped by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant {
    /// The platform.
    pub platform: PlatformId,
    /// The mode of the key used.
    pub mode: Mode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_test_key_names_one_platform_with_both_keys() {
        let from_secret = DeclaredPlatform::for_any_test_key("sk_test_123").unwrap();
        let from_publishable = DeclaredPlatform::for_any_test_key("pk_test_123").unwrap();
        assert_eq!(from_secret, from_publishable);
        assert_eq!(from_secret.keys[0].hash, SecretHash::of("sk_test_123"));
        assert_eq!(from_secret.keys[1].hash, SecretHash::of("pk_test_123"));
        assert!(from_secret.id.as_str().starts_with("acct_"));
        assert_ne!(
            DeclaredPlatform::for_any_test_key("sk_test_124")
                .unwrap()
                .id,
            from_secret.id
        );
        for refused in [
            "sk_live_123",
            "rk_test_123",
            "sk_test_",
            "sk_test_a-b",
            "em_test_1",
        ] {
            assert_eq!(
                DeclaredPlatform::for_any_test_key(refused),
                None,
                "{refused}"
            );
        }
    }

    #[test]
    fn declared_keys_must_be_test_keys() {
        assert!(DeclaredPlatform::new(None, "p".to_owned(), "sk_live_1", "pk_test_1").is_err());
        assert!(DeclaredPlatform::new(None, "p".to_owned(), "sk_test_1", "pk_live_1").is_err());
        assert!(
            DeclaredPlatform::new(Some("acct_x-y"), "p".to_owned(), "sk_test_1", "pk_test_1")
                .is_err()
        );
        let declared =
            DeclaredPlatform::new(Some("acct_ci"), "CI".to_owned(), "sk_test_ci", "pk_test_ci")
                .unwrap();
        assert_eq!(declared.id.as_str(), "acct_ci");
    }
}
