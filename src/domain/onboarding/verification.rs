//! How submitted identity verifies: in test mode by Stripe's published test
//! values (the "Testing Connect" documentation), on the movable clock; in
//! live mode never, because this server has no identity provider to ask.
//!
//! A check is decided when its value is written, from the value, and only
//! the outcome is kept, so a secret such as an ID number is never stored.
//! Where Stripe verifies asynchronously the outcome is [`Check::Pending`]
//! until a time, after which it reads as verified.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::domain::mode::Mode;

use super::identity::{Address, Dob};

/// How long test mode takes to verify what Stripe verifies asynchronously
/// (every test value but `1902-01-01` and `222222222`), unless configured.
pub const DEFAULT_VERIFICATION_DELAY: Duration = Duration::from_secs(5);

/// The outcome of one identity check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Check {
    /// It verified.
    Verified,
    /// It will verify at `until` (test mode's asynchronous verification).
    Pending {
        /// When it reads as verified.
        until: Timestamp,
    },
    /// It failed: the field stays due, with this error.
    Failed {
        /// Stripe's `requirements.errors[].code`.
        code: String,
        /// Stripe's human-readable reason.
        reason: String,
    },
    /// Live mode: submitted, but nothing here can verify it, so it stays
    /// pending for good.
    Unverifiable,
}

/// What a check amounts to at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState<'a> {
    /// Verified.
    Verified,
    /// Waiting for verification.
    Pending,
    /// Failed, with Stripe's code and reason.
    Failed {
        /// `requirements.errors[].code`
        code: &'a str,
        /// `requirements.errors[].reason`
        reason: &'a str,
    },
}

impl Check {
    /// The check's state at `now`: a pending check verifies once its time comes.
    pub fn state_at(&self, now: Timestamp) -> CheckState<'_> {
        match self {
            Self::Verified => CheckState::Verified,
            Self::Pending { until } if now >= *until => CheckState::Verified,
            Self::Pending { .. } | Self::Unverifiable => CheckState::Pending,
            Self::Failed { code, reason } => CheckState::Failed { code, reason },
        }
    }

    /// When this check next changes on its own, if it does.
    pub fn changes_at(&self, now: Timestamp) -> Option<Timestamp> {
        match self {
            Self::Pending { until } if *until > now => Some(*until),
            _ => None,
        }
    }

    fn failed(code: &str, reason: &str) -> Self {
        Self::Failed {
            code: code.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// Stripe's reason when a keyed identity check (name and date of birth) fails.
pub const KEYED_IDENTITY_REASON: &str = "The identity information you entered cannot be verified. Please correct any errors or upload a document that matches the identity fields (e.g., name and date of birth) that you entered.";

/// How checks are decided: the mode of the account, when, and how long
/// asynchronous verification takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verifier {
    /// Test mode verifies test values; live mode verifies nothing.
    pub mode: Mode,
    /// Now.
    pub now: Timestamp,
    /// How long asynchronous verification takes in test mode.
    pub delay: Duration,
}

impl Verifier {
    fn later(&self) -> Check {
        Check::Pending {
            until: self.now.plus(self.delay),
        }
    }

    /// The keyed identity check, run on a complete date of birth: `1901-01-01`
    /// verifies after the delay, `1902-01-01` at once, `1900-01-01` raises a
    /// watch-list alert, and any other date fails, as Stripe documents.
    pub fn date_of_birth(&self, dob: &Dob) -> Option<Check> {
        let date = dob.complete()?;
        if self.mode.is_live() {
            return Some(Check::Unverifiable);
        }
        Some(match date {
            (1902, 1, 1) => Check::Verified,
            (1901, 1, 1) => self.later(),
            (1900, 1, 1) => Check::failed(
                "verification_failed_other",
                "There was a problem with your identity verification.",
            ),
            _ => Check::failed("verification_failed_keyed_identity", KEYED_IDENTITY_REASON),
        })
    }

    /// The address check, run once a first line is given: `address_no_match`
    /// and `address_line1_no_match` fail; anything else (`address_full_match`
    /// included) verifies after the delay.
    pub fn address(&self, address: &Address) -> Option<Check> {
        let line1 = address.line1.as_deref()?;
        if self.mode.is_live() {
            return Some(Check::Unverifiable);
        }
        Some(match line1 {
            "address_no_match" | "address_line1_no_match" => Check::failed(
                "invalid_street_address",
                &format!(
                    "The provided street address cannot be found. Please verify the street name and number are correct in \"{line1}\""
                ),
            ),
            _ => self.later(),
        })
    }

    /// The personal ID number check (a full number, or the last four of an
    /// SSN): `222222222` verifies at once, `111111111` fails as a mismatch,
    /// anything else (`000000000`, `0000`) verifies after the delay.
    pub fn id_number(&self, number: &str) -> Check {
        if self.mode.is_live() {
            return Check::Unverifiable;
        }
        match number {
            "222222222" => Check::Verified,
            "111111111" => Check::failed(
                "verification_failed_id_number_match",
                "The ID number on the document doesn’t match the ID number on the account. Please verify and correct the provided ID number on the account, or upload a document with ID number that matches the account.",
            ),
            _ => self.later(),
        }
    }

    /// The company tax ID check: `222222222` verifies at once; `111111111`
    /// fails as a mismatch and `111111112` as not issued; anything else
    /// (`000000000`, `000000001`) verifies after the delay.
    pub fn tax_id(&self, number: &str) -> Check {
        if self.mode.is_live() {
            return Check::Unverifiable;
        }
        const IRS: &str = "The tax ID that you provided couldn’t be verified with the IRS. Please correct any possible errors in the company name or tax ID, or upload a document that contains those fields.";
        match number {
            "222222222" => Check::Verified,
            "111111111" => Check::failed("verification_failed_tax_id_match", IRS),
            "111111112" => Check::failed("verification_failed_tax_id_not_issued", IRS),
            _ => self.later(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_secs(1_780_272_000);

    fn test_mode() -> Verifier {
        Verifier {
            mode: Mode::Test,
            now: NOW,
            delay: Duration::from_secs(5),
        }
    }

    fn dob(year: u16, month: u8, day: u8) -> Dob {
        Dob {
            day: Some(day),
            month: Some(month),
            year: Some(year),
        }
    }

    #[test]
    fn stripes_test_dates_of_birth_verify_later_at_once_or_fail() {
        let verifier = test_mode();
        let later = verifier.date_of_birth(&dob(1901, 1, 1)).unwrap();
        assert_eq!(later.state_at(NOW), CheckState::Pending);
        assert_eq!(
            later.state_at(NOW.plus(Duration::from_secs(5))),
            CheckState::Verified
        );
        assert_eq!(
            later.changes_at(NOW),
            Some(NOW.plus(Duration::from_secs(5)))
        );
        assert_eq!(
            verifier.date_of_birth(&dob(1902, 1, 1)),
            Some(Check::Verified)
        );
        let other = verifier.date_of_birth(&dob(1990, 5, 17)).unwrap();
        assert!(matches!(
            other.state_at(NOW),
            CheckState::Failed {
                code: "verification_failed_keyed_identity",
                ..
            }
        ));
        assert_eq!(verifier.date_of_birth(&Dob::default()), None);
    }

    #[test]
    fn address_tokens_fail_and_other_addresses_verify_later() {
        let verifier = test_mode();
        let address = |line1: &str| Address {
            line1: Some(line1.to_owned()),
            ..Address::default()
        };
        assert!(matches!(
            verifier.address(&address("address_no_match")),
            Some(Check::Failed { code, .. }) if code == "invalid_street_address"
        ));
        assert_eq!(
            verifier
                .address(&address("address_full_match"))
                .unwrap()
                .state_at(NOW),
            CheckState::Pending
        );
        assert_eq!(verifier.address(&Address::default()), None);
    }

    #[test]
    fn id_numbers_and_tax_ids_follow_stripes_test_values() {
        let verifier = test_mode();
        assert_eq!(verifier.id_number("222222222"), Check::Verified);
        assert!(matches!(
            verifier.id_number("111111111"),
            Check::Failed { code, .. } if code == "verification_failed_id_number_match"
        ));
        assert_eq!(
            verifier.id_number("0000").state_at(NOW),
            CheckState::Pending
        );
        assert_eq!(verifier.tax_id("222222222"), Check::Verified);
        assert!(matches!(
            verifier.tax_id("111111112"),
            Check::Failed { code, .. } if code == "verification_failed_tax_id_not_issued"
        ));
        assert_eq!(
            verifier.tax_id("000000000").state_at(NOW),
            CheckState::Pending
        );
    }

    #[test]
    fn live_mode_verifies_nothing_not_even_test_values() {
        let verifier = Verifier {
            mode: Mode::Live,
            ..test_mode()
        };
        let far_future = NOW.plus(Duration::from_secs(10 * 365 * 24 * 3600));
        for check in [
            verifier.date_of_birth(&dob(1902, 1, 1)).unwrap(),
            verifier.id_number("222222222"),
            verifier.tax_id("222222222"),
        ] {
            assert_eq!(check, Check::Unverifiable);
            assert_eq!(check.state_at(far_future), CheckState::Pending);
            assert_eq!(check.changes_at(NOW), None);
        }
    }
}
