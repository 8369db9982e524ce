//! Account sessions: a connected account, the components it may show, and the
//! single-use client secret a browser trades for client-side access.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::clock::Timestamp;

use super::catalog::ResolvedComponents;
use super::ids::AccountId;
use super::keys::{SecretHash, random_url_safe};

/// Every client secret starts with this.
pub const CLIENT_SECRET_PREFIX: &str = "accs_secret__";
/// Random URL-safe characters after the prefix (282 bits), 60 characters in all as
/// Stripe's secrets are.
const CLIENT_SECRET_RANDOM_LEN: usize = 47;

/// The single-use secret of an account session. Its `Debug` never shows it.
#[derive(Clone)]
pub struct ClientSecret(SecretString);

impl ClientSecret {
    /// A new secret from the CSPRNG.
    pub fn generate() -> Self {
        Self(SecretString::from(format!(
            "{CLIENT_SECRET_PREFIX}{}",
            random_url_safe(CLIENT_SECRET_RANDOM_LEN)
        )))
    }

    /// Parses a presented secret; `None` unless it has exactly the shape this
    /// server generates, so malformed input never reaches the database.
    pub fn parse(text: &str) -> Option<Self> {
        let random = text.strip_prefix(CLIENT_SECRET_PREFIX)?;
        let valid = random.len() == CLIENT_SECRET_RANDOM_LEN
            && random
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| Self(SecretString::from(text)))
    }

    /// The secret's text, for the one response that hands it out.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The hash under which the session is stored.
    pub fn hash(&self) -> SecretHash {
        SecretHash::of(self.0.expose_secret())
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(accs_secret__[REDACTED])")
    }
}

/// A session about to be stored.
#[derive(Debug, Clone)]
pub struct NewAccountSession {
    /// The connected account.
    pub account: AccountId,
    /// Every component, resolved against the account's controller.
    pub components: ResolvedComponents,
    /// The hash of the client secret; the secret itself is never stored in clear.
    pub secret_hash: SecretHash,
    /// Creation time.
    pub created: Timestamp,
    /// Creation time plus the session TTL.
    pub expires_at: Timestamp,
}

/// An account session as its platform sees it after creation: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSessionRecord {
    /// The connected account.
    pub account: AccountId,
    /// As resolved at creation.
    pub components: ResolvedComponents,
    /// Creation time.
    pub created: Timestamp,
    /// Expiry (moved to now by the test helper).
    pub expires_at: Timestamp,
    /// When its secret was claimed, if it was.
    pub claimed_at: Option<Timestamp>,
    /// When the platform revoked it, if it did.
    pub revoked_at: Option<Timestamp>,
}

/// Why a client secret cannot be claimed (any more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    /// It was claimed before (and may have expired since).
    AlreadyClaimed,
    /// It passed its `expires_at` unclaimed.
    Expired,
    /// The platform revoked it.
    Revoked,
}

impl AccountSessionRecord {
    /// Why a claim of this session fails, once the claim's conditional update
    /// found it unclaimable. A revoked session says so even if it was claimed or
    /// has expired since; a claimed one says so even once expired: the most
    /// useful answer first.
    pub fn refusal(&self) -> ClaimRefusal {
        if self.revoked_at.is_some() {
            ClaimRefusal::Revoked
        } else if self.claimed_at.is_some() {
            ClaimRefusal::AlreadyClaimed
        } else {
            ClaimRefusal::Expired
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sixty_url_safe_characters_after_stripes_prefix() {
        let secret = ClientSecret::generate();
        assert_eq!(secret.expose().len(), 60);
        assert!(secret.expose().starts_with("accs_secret__"));
        assert!(ClientSecret::parse(secret.expose()).is_some());
        assert_ne!(secret.expose(), ClientSecret::generate().expose());
    }

    #[test]
    fn parse_rejects_anything_else() {
        assert!(ClientSecret::parse("accs_secret__short").is_none());
        assert!(ClientSecret::parse(&format!("accs_secret__{}", "=".repeat(47))).is_none());
        assert!(ClientSecret::parse(&format!("xxxx_secret__{}", "a".repeat(47))).is_none());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = ClientSecret::generate();
        assert!(!format!("{secret:?}").contains(&secret.expose()[13..]));
    }
}
