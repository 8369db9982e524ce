//! Stripe's idempotency, independent of HTTP and SQL: the key, the request's
//! fingerprint, and how a request's result is saved with its write.
//!
//! A POST that carries an `Idempotency-Key` runs at most once per (platform,
//! mode, key):
//!
//! 1. *Begin*: one write claims the key as in flight under a lease token (see
//!    [`Attempt`]). If the key is already completed, its saved response is
//!    replayed (or refused when the endpoint or parameters differ); if it is in
//!    flight under a live lease, the request gets a 409.
//! 2. *Execute*: the operation's own write carries a [`Completion`], rendered
//!    and saved **in the same transaction**, so a committed write always has its
//!    saved response (exactly once even across a crash).
//! 3. Outcomes without a write (errors, no-ops) are saved by a separate
//!    conditional update. A lease that runs out (the process died) lets the next
//!    attempt take the key over; nothing it wrote was committed.
//!
//! Saved bodies are sealed with the server's keyring, so a copy of the database
//! alone never yields a claimable client secret or an `em_` key.

use std::fmt;
use std::time::Duration;

use rand::RngExt;

use crate::clock::Timestamp;
use crate::domain::ids::EmbeddedSessionId;
use crate::domain::keys::SecretHash;
use crate::domain::platform::Tenant;

/// How long a key stays in flight if its request never completes (its process
/// died). Longer than any request may run, so a live request never loses it.
pub const LEASE: Duration = Duration::from_secs(60);
/// How long keys are kept: Stripe's "at least 24 hours". Older keys are pruned,
/// and a key reused after that starts a new request.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// Stripe's limit on idempotency key length.
pub const MAX_KEY_LEN: usize = 255;

/// An `Idempotency-Key` header value: 1 to 255 visible ASCII characters
/// (`!` to `~`), as Stripe's keys (UUIDs and the like) are. Keys are compared
/// byte for byte, so no decoding may make two different headers one key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why a header value is not a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKey {
    /// Longer than [`MAX_KEY_LEN`].
    #[error("idempotency key of {len} characters")]
    TooLong {
        /// Its length in characters (bytes, as every character is ASCII).
        len: usize,
    },
    /// A byte outside visible ASCII: a space, a control character, or
    /// anything not ASCII (which a lossy decoding would have merged).
    #[error("idempotency key with a character outside visible ASCII")]
    NotVisibleAscii,
}

impl IdempotencyKey {
    /// Parses a header value's bytes; `Ok(None)` for an empty one (no key).
    pub fn parse(bytes: impl AsRef<[u8]>) -> Result<Option<Self>, InvalidKey> {
        let bytes = bytes.as_ref();
        if !bytes.iter().all(u8::is_ascii_graphic) {
            return Err(InvalidKey::NotVisibleAscii);
        }
        if bytes.len() > MAX_KEY_LEN {
            return Err(InvalidKey::TooLong { len: bytes.len() });
        }
        // Visible ASCII is UTF-8: this never fails, and never replaces a byte.
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| InvalidKey::NotVisibleAscii)?;
        Ok((!text.is_empty()).then_some(Self(text)))
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are client-chosen and not secret, but can be long: show a prefix.
        let shown: String = self.0.chars().take(32).collect();
        write!(f, "IdempotencyKey({shown:?})")
    }
}

/// A keyed hash of a request's decoded parameters: equal for the same
/// parameters whatever their order or encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Fingerprint({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// Proof of holding a key's lease: only its holder may complete the key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LeaseToken(pub [u8; 16]);

impl LeaseToken {
    /// A new random token.
    pub fn generate() -> Self {
        Self(rand::rng().random())
    }
}

impl fmt::Debug for LeaseToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LeaseToken(…)")
    }
}

/// Whose requests a key belongs to within a platform and mode. Keys of
/// different realms never meet, so a browser (holding the public publishable
/// key, or an `em_` key) can neither probe nor squat the keys the platform's
/// backend uses, nor (claims being scoped by the secret they claim) the keys of
/// another browser of the same platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyRealm {
    /// Requests made with the platform's secret key.
    Secret,
    /// Claims, made with the platform's publishable key, of the client secret
    /// with this hash: only a holder of that secret can use or probe the key.
    Claim(SecretHash),
    /// Requests made with one embedded session's key.
    Embedded(EmbeddedSessionId),
}

impl KeyRealm {
    /// The realm as stored beside the key.
    pub fn as_stored(&self) -> String {
        match self {
            Self::Secret => "secret".to_owned(),
            Self::Claim(secret) => {
                let hex: String = secret
                    .as_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("claim:{hex}")
            }
            Self::Embedded(id) => format!("embedded:{id}"),
        }
    }
}

/// Where a key lives: keys of different platforms, modes or realms never meet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyScope {
    /// Platform and mode of the request's key.
    pub tenant: Tenant,
    /// Backend, browser claim, or one embedded session.
    pub realm: KeyRealm,
    /// The `Idempotency-Key`.
    pub key: IdempotencyKey,
}

impl IdempotencyScope {
    /// The bytes a saved body is sealed to, so a sealed row cannot be moved to
    /// another platform's, mode's or key's row and still open.
    pub fn seal_context(&self) -> Vec<u8> {
        format!(
            "{}|{}|{}|{}",
            self.tenant.platform,
            self.tenant.mode,
            self.realm.as_stored(),
            self.key.as_str()
        )
        .into_bytes()
    }
}

/// One attempt to begin an idempotent request.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The request path (`/v1/accounts`).
    pub path: String,
    /// The request's parameters.
    pub fingerprint: Fingerprint,
    /// This request's id, reported as `Original-Request` on replays.
    pub request_id: String,
    /// The lease this attempt takes.
    pub token: LeaseToken,
    /// Now.
    pub now: Timestamp,
    /// When the lease runs out if never completed.
    pub lease_until: Timestamp,
    /// Keys created before this are past retention: a new request.
    pub retention_cutoff: Timestamp,
}

/// A response saved for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    /// HTTP status.
    pub status: u16,
    /// The body, sealed with the keyring to the scope's context.
    pub sealed_body: Vec<u8>,
}

/// A key that already has a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedAttempt {
    /// The path it was first used on.
    pub path: String,
    /// The parameters it was first used with.
    pub fingerprint: Fingerprint,
    /// The first request's id.
    pub original_request_id: String,
    /// What it answered.
    pub response: SavedResponse,
}

/// What beginning an idempotent request found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginOutcome {
    /// The key is ours: execute.
    Proceed,
    /// The key has a saved result.
    Completed(CompletedAttempt),
    /// Another request holds the key now.
    InFlight,
}

/// Saves an idempotent request's response in the transaction of its write:
/// the store renders it from the write's result of type `T`.
pub struct Completion<T> {
    /// The key.
    pub scope: IdempotencyScope,
    /// The lease being completed.
    pub token: LeaseToken,
    render: Box<dyn FnOnce(&T) -> SavedResponse + Send>,
}

impl<T> fmt::Debug for Completion<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<T> Completion<T> {
    /// A completion rendering its response with `render`.
    pub fn new(
        scope: IdempotencyScope,
        token: LeaseToken,
        render: impl FnOnce(&T) -> SavedResponse + Send + 'static,
    ) -> Self {
        Self {
            scope,
            token,
            render: Box::new(render),
        }
    }

    /// The response to save for the write's result `value`.
    pub fn render(self, value: &T) -> (IdempotencyScope, LeaseToken, SavedResponse) {
        let response = (self.render)(value);
        (self.scope, self.token, response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_limited_to_255_characters() {
        assert!(
            IdempotencyKey::parse("k".repeat(255).as_bytes())
                .unwrap()
                .is_some()
        );
        assert_eq!(
            IdempotencyKey::parse("k".repeat(256).as_bytes()).unwrap_err(),
            InvalidKey::TooLong { len: 256 }
        );
        assert!(IdempotencyKey::parse(b"").unwrap().is_none());
    }

    #[test]
    fn keys_are_visible_ascii_compared_byte_for_byte() {
        let visible: Vec<u8> = (b'!'..=b'~').collect();
        assert!(IdempotencyKey::parse(visible).unwrap().is_some());
        // Two invalid keys a lossy decoding would make one ("\u{fffd}").
        for bytes in [
            &b"k\xff"[..],
            b"k\xfe",
            "é".as_bytes(),
            b"a b",
            b"a\tb",
            b"\x7f",
        ] {
            assert_eq!(
                IdempotencyKey::parse(bytes).unwrap_err(),
                InvalidKey::NotVisibleAscii,
                "{bytes:?}"
            );
        }
    }
}
