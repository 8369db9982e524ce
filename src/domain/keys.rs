//! API keys and other bearer secrets: generation from a CSPRNG, classification by
//! prefix, hashing for storage, and Stripe's masking for error messages.
//!
//! Secrets are 256-bit-or-more random values, not passwords, so a fast
//! cryptographic hash (BLAKE3) is the right tool: nothing can be brute-forced, and
//! the hash is computed on every request. The database holds only these hashes and
//! finds a key by its hash through an index, so no secret is ever compared
//! byte-by-byte in a way that leaks timing about it.

use std::fmt;
use std::sync::{Mutex, OnceLock, PoisonError};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use secrecy::{ExposeSecret, SecretString};

use super::mode::Mode;

/// Characters of a generated API key after its prefix. With 62 symbols this is
/// about 589 bits, and it gives keys the 107-character length of Stripe's modern
/// keys (so masks look like Stripe's).
const API_KEY_RANDOM_LEN: usize = 99;

/// What a key is for, read from its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// `sk_`: the platform's secret key, for its backend.
    Secret,
    /// `pk_`: the platform's publishable key, safe to ship to browsers.
    Publishable,
    /// `rk_`: Stripe's restricted keys. This server issues none.
    Restricted,
    /// `em_`: the key of an embedded session, held by a browser.
    Embedded,
}

impl KeyKind {
    /// The two letters before the mode in a key of this kind.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Secret => "sk",
            Self::Publishable => "pk",
            Self::Restricted => "rk",
            Self::Embedded => "em",
        }
    }

    /// The stored name of this kind.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Publishable => "publishable",
            Self::Restricted => "restricted",
            Self::Embedded => "embedded",
        }
    }

    /// The kind a stored name stands for.
    pub fn from_stored(name: &str) -> Option<Self> {
        [
            Self::Secret,
            Self::Publishable,
            Self::Restricted,
            Self::Embedded,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == name)
    }
}

/// The hash under which a secret is stored and looked up.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// Hashes a secret's text.
    pub fn of(secret: &str) -> Self {
        Self(*blake3::hash(secret.as_bytes()).as_bytes())
    }

    /// The raw hash, as stored.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Rebuilds a hash read back from storage.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A short prefix is enough to tell hashes apart in a debugger.
        write!(
            f,
            "SecretHash({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// A key as presented by a client: possibly malformed, possibly unknown.
#[derive(Clone)]
pub struct PresentedKey(SecretString);

impl PresentedKey {
    /// Wraps the text a client sent.
    pub fn new(text: &str) -> Self {
        Self(SecretString::from(text))
    }

    /// The key's kind and mode, if its prefix is one Stripe uses.
    pub fn classify(&self) -> Option<(KeyKind, Mode)> {
        classify(self.0.expose_secret())
    }

    /// The hash under which this key would be stored.
    pub fn hash(&self) -> SecretHash {
        SecretHash::of(self.0.expose_secret())
    }

    /// The key's text, for the one rule that reads it: a test double
    /// deriving the platform of a key it accepts on first use.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// The key as Stripe prints it in error messages.
    pub fn masked(&self) -> String {
        mask(self.0.expose_secret())
    }
}

impl fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PresentedKey").field(&self.masked()).finish()
    }
}

/// A newly generated key, shown once to its owner and then stored only as a hash.
#[derive(Clone)]
pub struct GeneratedKey {
    text: SecretString,
    hash: SecretHash,
}

impl GeneratedKey {
    /// A fresh key of `kind` for `mode`: `sk_test_` followed by 99 random alphanumerics.
    pub fn generate(kind: KeyKind, mode: Mode) -> Self {
        let text = format!(
            "{}_{}_{}",
            kind.prefix(),
            mode.as_str(),
            random_alphanumeric(API_KEY_RANDOM_LEN)
        );
        let hash = SecretHash::of(&text);
        Self {
            text: SecretString::from(text),
            hash,
        }
    }

    /// The key's text, to be shown to its owner exactly once.
    pub fn expose(&self) -> &str {
        self.text.expose_secret()
    }

    /// The hash to store.
    pub const fn hash(&self) -> SecretHash {
        self.hash
    }
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GeneratedKey")
            .field(&mask(self.expose()))
            .finish()
    }
}

/// Reads a key's kind and mode from its prefix (`sk_test_…`).
fn classify(text: &str) -> Option<(KeyKind, Mode)> {
    let (kind, rest) = text.split_once('_')?;
    let (mode, body) = rest.split_once('_')?;
    let kind = match kind {
        "sk" => KeyKind::Secret,
        "pk" => KeyKind::Publishable,
        "rk" => KeyKind::Restricted,
        "em" => KeyKind::Embedded,
        _ => return None,
    };
    let mode = match mode {
        "test" => Mode::Test,
        "live" => Mode::Live,
        _ => return None,
    };
    (!body.is_empty()).then_some((kind, mode))
}

/// Masks a key the way Stripe does in `Invalid API Key provided: …`: the first 8
/// characters, stars for the rest keeping the length, then the last 4 characters
/// (last 6 for keys of 40 characters or more, like Stripe's 107-character keys).
///
/// Keys too short to show both ends keep only a recognised `xx_mode_` prefix, so a
/// short typo'd password is never echoed back.
pub fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len();
    let tail = if len >= 40 { 6 } else { 4 };
    let head = 8;
    if len > head + tail {
        let mut masked: String = chars[..head].iter().collect();
        masked.extend(std::iter::repeat_n('*', len - head - tail));
        masked.extend(&chars[len - tail..]);
        return masked;
    }
    let shown = if has_known_prefix(text) { head } else { 0 };
    let mut masked: String = chars[..shown].iter().collect();
    masked.extend(std::iter::repeat_n('*', len - shown));
    masked
}

/// Whether `text` starts with one of the eight-character prefixes Stripe uses
/// (`sk_test_`, `pk_live_`, …).
fn has_known_prefix(text: &str) -> bool {
    text.get(..8)
        .is_some_and(|prefix| classify(&format!("{prefix}x")).is_some())
}

/// The generator of `--seed`, when the server runs as a deterministic test
/// double; otherwise every draw comes from the thread-local CSPRNG.
static SEEDED: OnceLock<Mutex<StdRng>> = OnceLock::new();

/// Makes every id, key and secret this process generates from now on come
/// from a generator seeded with `seed`: the same sequence on every run, and
/// therefore guessable. For test doubles only (the server refuses live mode
/// with it). `false` if randomness was seeded already.
pub fn seed_randomness(seed: u64) -> bool {
    SEEDED.set(Mutex::new(StdRng::seed_from_u64(seed))).is_ok()
}

/// Runs `draw` on the seeded generator if there is one, else on the
/// thread-local CSPRNG.
fn with_rng<T>(draw: impl FnOnce(&mut dyn rand::Rng) -> T) -> T {
    match SEEDED.get() {
        // A panic while drawing leaves the generator usable.
        Some(seeded) => draw(&mut *seeded.lock().unwrap_or_else(PoisonError::into_inner)),
        None => draw(&mut rand::rng()),
    }
}

/// A number drawn uniformly from `[0, 1)` (by the seeded generator under
/// `--seed`, so a fault rule's rate fires the same way on every run).
pub fn random_fraction() -> f64 {
    with_rng(|rng| rng.random::<f64>())
}

/// `len` characters drawn uniformly from `[A-Za-z0-9]` by the thread-local CSPRNG
/// (ChaCha, seeded and periodically reseeded from the operating system).
pub fn random_alphanumeric(len: usize) -> String {
    with_rng(|rng| {
        (0..len)
            .map(|_| char::from(rng.sample(rand::distr::Alphanumeric)))
            .collect()
    })
}

/// `len` characters drawn uniformly from the URL-safe base64 alphabet
/// (`[A-Za-z0-9_-]`, 6 bits each) by the thread-local CSPRNG.
pub fn random_url_safe(len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    with_rng(|rng| {
        (0..len)
            // 256 is a multiple of 64, so masking a uniform byte keeps it uniform.
            .map(|_| char::from(ALPHABET[usize::from(rng.random::<u8>() & 63)]))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_keys_have_the_prefix_length_and_alphabet_promised() {
        let key = GeneratedKey::generate(KeyKind::Secret, Mode::Test);
        assert!(key.expose().starts_with("sk_test_"));
        assert_eq!(key.expose().len(), 107);
        assert!(key.expose()[8..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(key.hash(), SecretHash::of(key.expose()));
        assert_ne!(
            key.expose(),
            GeneratedKey::generate(KeyKind::Secret, Mode::Test).expose()
        );
    }

    #[test]
    fn keys_are_classified_by_prefix() {
        assert_eq!(classify("sk_live_abc"), Some((KeyKind::Secret, Mode::Live)));
        assert_eq!(
            classify("pk_test_abc"),
            Some((KeyKind::Publishable, Mode::Test))
        );
        assert_eq!(
            classify("em_test_abc"),
            Some((KeyKind::Embedded, Mode::Test))
        );
        assert_eq!(
            classify("rk_live_abc"),
            Some((KeyKind::Restricted, Mode::Live))
        );
        assert_eq!(classify("sk_prod_abc"), None);
        assert_eq!(classify("sk_test_"), None);
        assert_eq!(classify("garbage"), None);
    }

    #[test]
    fn masks_match_stripes_published_examples() {
        // Stripe: `sk_test_********************1234` for a 32-character key.
        assert_eq!(
            mask("sk_test_abcdefghijklmnopqrst1234"),
            "sk_test_********************1234"
        );
        // Stripe: `rk_test_` + 93 stars + last 6 for a 107-character key.
        let long = format!("rk_test_{}0wwMmD", "x".repeat(93));
        assert_eq!(mask(&long), format!("rk_test_{}0wwMmD", "*".repeat(93)));
    }

    #[test]
    fn short_keys_reveal_nothing_but_a_known_prefix() {
        assert_eq!(mask("sk_test_123"), "sk_test_***");
        assert_eq!(mask("hunter2"), "*******");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn url_safe_secrets_use_only_the_url_safe_alphabet() {
        let secret = random_url_safe(47);
        assert_eq!(secret.len(), 47);
        assert!(
            secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    proptest! {
        #[test]
        fn masking_keeps_the_length_and_hides_the_middle(key in "[a-z]{2}_(test|live)_[A-Za-z0-9]{0,120}") {
            let masked = mask(&key);
            prop_assert_eq!(masked.chars().count(), key.chars().count());
            let hidden = masked.chars().filter(|c| *c == '*').count();
            prop_assert!(hidden >= key.len().saturating_sub(14));
        }

        #[test]
        fn masking_never_panics(key in "\\PC{0,64}") {
            let _ = mask(&key);
        }
    }
}
