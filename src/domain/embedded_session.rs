//! Embedded sessions: what a browser holds once it has claimed an account
//! session's client secret, namely an `em_` key scoped to one account and to
//! exactly the components and features the session enabled.

use crate::clock::Timestamp;

use super::catalog::{Feature, ResolvedComponents};
use super::ids::{AccountId, EmbeddedSessionId, PlatformId};
use super::keys::{GeneratedKey, KeyKind};
use super::mode::Mode;

/// A claim about to be stored: a new id and key.
#[derive(Debug, Clone)]
pub struct NewEmbeddedSession {
    /// `emsess_…`
    pub id: EmbeddedSessionId,
    /// The `em_test_…` / `em_live_…` key, shown once in the claim's response.
    pub key: GeneratedKey,
    /// Claim time.
    pub created: Timestamp,
}

impl NewEmbeddedSession {
    /// A new id and key for a session in `mode`.
    pub fn generate(mode: Mode, created: Timestamp) -> Self {
        Self {
            id: EmbeddedSessionId::generate(),
            key: GeneratedKey::generate(KeyKind::Embedded, mode),
            created,
        }
    }
}

/// A claimed account session, as the browser's key sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedSession {
    /// `emsess_…`
    pub id: EmbeddedSessionId,
    /// The platform that created the account session.
    pub platform: PlatformId,
    /// Test or live.
    pub mode: Mode,
    /// The connected account it is scoped to.
    pub account: AccountId,
    /// Exactly as resolved when the account session was created.
    pub components: ResolvedComponents,
    /// The account session's expiry.
    pub expires_at: Timestamp,
    /// When the browser logged out, if it did.
    pub logged_out_at: Option<Timestamp>,
    /// When the platform revoked the account session, if it did.
    pub revoked_at: Option<Timestamp>,
}

/// Whether an embedded session's key still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// It works.
    Active,
    /// Past `expires_at`.
    Expired,
    /// Logged out or revoked.
    Ended,
}

impl EmbeddedSession {
    /// The key's state at `now`. An ended session stays ended after it expires.
    pub fn state(&self, now: Timestamp) -> KeyState {
        if self.logged_out_at.is_some() || self.revoked_at.is_some() {
            KeyState::Ended
        } else if now >= self.expires_at {
            KeyState::Expired
        } else {
            KeyState::Active
        }
    }

    /// Whether this session grants `capability`.
    pub fn grants(&self, capability: Capability) -> bool {
        capability.granted_by(&self.components)
    }
}

/// What the client-side API lets an embedded session do, and what grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// `GET /v1/account`: account onboarding, account management or the notification banner.
    ReadAccount,
    /// `POST /v1/account`: account onboarding or account management.
    UpdateAccount,
    /// `/v1/account/external_accounts`: any enabled component whose
    /// `external_account_collection` resolved to true.
    ManageExternalAccounts,
}

/// Components that show the account itself.
const ACCOUNT_VIEWERS: &[&str] = &[
    "account_management",
    "account_onboarding",
    "notification_banner",
];
/// Components that edit the account.
const ACCOUNT_EDITORS: &[&str] = &["account_management", "account_onboarding"];

impl Capability {
    /// Whether `components` grant this capability.
    pub fn granted_by(self, components: &ResolvedComponents) -> bool {
        let enabled = |name: &str| {
            components
                .get(name)
                .is_some_and(|component| component.enabled)
        };
        match self {
            Self::ReadAccount => ACCOUNT_VIEWERS.iter().any(|name| enabled(name)),
            Self::UpdateAccount => ACCOUNT_EDITORS.iter().any(|name| enabled(name)),
            Self::ManageExternalAccounts => components.iter().any(|component| {
                component.enabled
                    && component.feature(Feature::ExternalAccountCollection) == Some(true)
            }),
        }
    }

    /// What would grant this capability, for the permission error's last sentence.
    pub fn remedy(self) -> String {
        let components = |names: &[&str]| match names {
            [init @ .., last] if !init.is_empty() => format!("{} or '{last}'", quoted(init)),
            _ => quoted(names),
        };
        match self {
            Self::ReadAccount => format!(
                "Enabling the {} component would allow this request to continue.",
                components(ACCOUNT_VIEWERS)
            ),
            Self::UpdateAccount => format!(
                "Enabling the {} component would allow this request to continue.",
                components(ACCOUNT_EDITORS)
            ),
            Self::ManageExternalAccounts => "Having the 'external_account_collection' feature set to true on an enabled component would allow this request to continue.".to_owned(),
        }
    }
}

/// `'a', 'b'` for messages.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::{AccountType, Controller};
    use crate::domain::catalog::test_support::{Entry, request};

    fn components(entries: &[Entry<'_>]) -> ResolvedComponents {
        ResolvedComponents::resolve(
            &request(entries),
            &Controller::for_type(AccountType::Custom),
        )
        .unwrap()
    }

    #[test]
    fn the_notification_banner_reads_but_does_not_edit_the_account() {
        let banner = components(&[("notification_banner", true, &[])]);
        assert!(Capability::ReadAccount.granted_by(&banner));
        assert!(!Capability::UpdateAccount.granted_by(&banner));
    }

    #[test]
    fn disabled_components_grant_nothing() {
        let disabled = components(&[("account_onboarding", false, &[])]);
        assert!(!Capability::ReadAccount.granted_by(&disabled));
        assert!(!Capability::ManageExternalAccounts.granted_by(&disabled));
    }

    #[test]
    fn external_accounts_need_the_feature_on_an_enabled_component() {
        let on = components(&[("payouts", true, &[])]);
        assert!(Capability::ManageExternalAccounts.granted_by(&on));
        let off = components(&[(
            "payouts",
            true,
            &[(Feature::ExternalAccountCollection, false)],
        )]);
        assert!(!Capability::ManageExternalAccounts.granted_by(&off));
        let no_feature = components(&[("payments", true, &[])]);
        assert!(!Capability::ManageExternalAccounts.granted_by(&no_feature));
    }

    #[test]
    fn remedies_name_what_would_grant_the_request() {
        assert_eq!(
            Capability::ReadAccount.remedy(),
            "Enabling the 'account_management', 'account_onboarding' or 'notification_banner' component would allow this request to continue."
        );
        assert_eq!(
            Capability::UpdateAccount.remedy(),
            "Enabling the 'account_management' or 'account_onboarding' component would allow this request to continue."
        );
    }

    #[test]
    fn ended_beats_expired() {
        let session = EmbeddedSession {
            id: EmbeddedSessionId::generate(),
            platform: PlatformId::generate(),
            mode: Mode::Test,
            account: AccountId::generate(),
            components: components(&[]),
            expires_at: Timestamp::from_secs(100),
            logged_out_at: Some(Timestamp::from_secs(50)),
            revoked_at: None,
        };
        assert_eq!(session.state(Timestamp::from_secs(200)), KeyState::Ended);
        let active = EmbeddedSession {
            logged_out_at: None,
            ..session
        };
        assert_eq!(active.state(Timestamp::from_secs(99)), KeyState::Active);
        assert_eq!(active.state(Timestamp::from_secs(100)), KeyState::Expired);
    }
}
