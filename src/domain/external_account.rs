//! Bank accounts attached to connected accounts (Stripe's `bank_account`
//! external accounts). Only the last four digits and a keyed fingerprint of the
//! account number are kept; the number itself is never stored.

use crate::clock::Timestamp;

use super::ids::{AccountId, ExternalAccountId, PlatformId};

/// Whose bank account it is (`account_holder_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderType {
    /// A company's.
    Company,
    /// A person's.
    Individual,
}
wire_enum!(HolderType { Company => "company", Individual => "individual" });

/// Bank details as a request sent them, checked.
#[derive(Clone, PartialEq, Eq)]
pub struct BankAccountDetails {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// ISO 4217, lower case.
    pub currency: String,
    /// The holder's name.
    pub account_holder_name: Option<String>,
    /// Whose account it is.
    pub account_holder_type: Option<HolderType>,
    /// The bank's routing number (9 digits in the US).
    pub routing_number: Option<String>,
    account_number: String,
}

impl std::fmt::Debug for BankAccountDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankAccountDetails")
            .field("country", &self.country)
            .field("currency", &self.currency)
            .field("routing_number", &self.routing_number)
            .field("last4", &self.last4())
            .finish_non_exhaustive()
    }
}

/// A bank detail that cannot be right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidBankAccount {
    /// The parameter to fix.
    pub param: &'static str,
    /// What is wrong.
    pub message: String,
}

fn invalid(param: &'static str, message: impl Into<String>) -> InvalidBankAccount {
    InvalidBankAccount {
        param,
        message: message.into(),
    }
}

impl BankAccountDetails {
    /// Checks bank details: a two-letter country, a three-letter currency, an
    /// account number of 4 to 34 letters and digits (an IBAN at most), and, for
    /// US accounts, a nine-digit routing number.
    pub fn parse(
        country: &str,
        currency: &str,
        account_holder_name: Option<String>,
        routing_number: Option<String>,
        account_number: &str,
    ) -> Result<Self, InvalidBankAccount> {
        let Some(country) = super::country::parse(country) else {
            return Err(invalid(
                "country",
                format!("Invalid country: '{country}' is not an ISO 3166-1 alpha-2 country code."),
            ));
        };
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(invalid(
                "currency",
                format!("Invalid currency: '{currency}' is not a three-letter currency code."),
            ));
        }
        let account_number: String = account_number
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if !(4..=34).contains(&account_number.len())
            || !account_number.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(invalid(
                "account_number",
                "Invalid account number: it must be 4 to 34 letters and digits.",
            ));
        }
        let routing_number = routing_number.map(|number| number.trim().to_owned());
        match (&routing_number, country.as_str()) {
            (None, "US") => {
                return Err(invalid(
                    "routing_number",
                    "Routing number is required for bank accounts in the US.",
                ));
            }
            (Some(number), "US")
                if number.len() != 9 || !number.bytes().all(|b| b.is_ascii_digit()) =>
            {
                return Err(invalid(
                    "routing_number",
                    format!(
                        "Invalid routing number: '{number}'. US routing numbers have nine digits."
                    ),
                ));
            }
            (Some(number), _)
                if number.is_empty()
                    || number.len() > 20
                    || !number.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                return Err(invalid(
                    "routing_number",
                    format!("Invalid routing number: '{number}'."),
                ));
            }
            _ => {}
        }
        Ok(Self {
            country,
            currency: currency.to_ascii_lowercase(),
            account_holder_name,
            account_holder_type: None,
            routing_number,
            account_number,
        })
    }

    /// The last four characters of the account number.
    pub fn last4(&self) -> String {
        let chars: Vec<char> = self.account_number.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    }

    /// What the fingerprint is computed over: the same bank account of the
    /// same platform gives the same text, however it was typed. The platform is
    /// part of it, as in Stripe, where fingerprints are scoped to one platform:
    /// two platforms cannot tell from fingerprints that their accounts share a
    /// bank account.
    pub fn fingerprint_input(&self, platform: &PlatformId) -> String {
        format!("{platform}|{}", self.unscoped_fingerprint_input())
    }

    /// The fingerprint input before fingerprints were scoped to a platform:
    /// bank accounts stored then carry it, and a duplicate check must still
    /// find them.
    pub fn unscoped_fingerprint_input(&self) -> String {
        format!(
            "{}|{}|{}",
            self.country,
            self.routing_number.as_deref().unwrap_or_default(),
            self.account_number.to_ascii_uppercase()
        )
    }

    /// The bank account these details describe, attached to `account` with a
    /// fresh id. `fingerprint` is the keyed hash of [`Self::fingerprint_input`]
    /// (keys are not the domain's to hold); of the account number only the last
    /// four characters are kept.
    pub fn into_bank_account(
        self,
        account: AccountId,
        fingerprint: String,
        created: Timestamp,
    ) -> BankAccount {
        BankAccount {
            id: ExternalAccountId::generate(),
            account,
            fingerprint,
            last4: self.last4(),
            country: self.country,
            currency: self.currency,
            account_holder_name: self.account_holder_name,
            account_holder_type: self.account_holder_type,
            default_for_currency: false,
            routing_number: self.routing_number,
            created,
        }
    }
}

/// A bank account about to be attached, with its fingerprints under every
/// master key (current first), so that a duplicate is found across a key
/// rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBankAccount {
    /// The bank account.
    pub bank: BankAccount,
    /// Its fingerprints under every master key.
    pub known_fingerprints: Vec<String>,
    /// Whether it becomes the default for its currency even if another is.
    pub make_default: bool,
}

/// Changes to a bank account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankAccountUpdate {
    /// `account_holder_name`
    pub account_holder_name: super::account::FieldUpdate,
    /// `account_holder_type`
    pub account_holder_type: Option<HolderType>,
    /// `default_for_currency=true`
    pub make_default: bool,
}

impl BankAccount {
    /// Whether this is Stripe's test bank (routing number `110000000`), which
    /// test mode names `STRIPE TEST BANK`.
    pub fn is_test_bank(&self) -> bool {
        self.routing_number.as_deref() == Some("110000000")
    }
}

/// A stored bank account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    /// `ba_…`
    pub id: ExternalAccountId,
    /// The connected account it belongs to.
    pub account: AccountId,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// ISO 4217, lower case.
    pub currency: String,
    /// The holder's name.
    pub account_holder_name: Option<String>,
    /// Whose account it is.
    pub account_holder_type: Option<HolderType>,
    /// Whether payouts in its currency go to it.
    pub default_for_currency: bool,
    /// The bank's routing number.
    pub routing_number: Option<String>,
    /// The last four characters of the account number.
    pub last4: String,
    /// A keyed hash of routing and account number.
    pub fingerprint: String,
    /// Creation time.
    pub created: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(routing: Option<&str>, number: &str) -> Result<BankAccountDetails, InvalidBankAccount> {
        BankAccountDetails::parse("us", "USD", None, routing.map(str::to_owned), number)
    }

    #[test]
    fn valid_us_details_are_normalised() {
        let details = us(Some("110000000"), "0001 2345 6789").unwrap();
        assert_eq!(details.country, "US");
        assert_eq!(details.currency, "usd");
        assert_eq!(details.last4(), "6789");
        assert_eq!(
            details.unscoped_fingerprint_input(),
            "US|110000000|000123456789"
        );
        let platform = PlatformId::parse("acct_1Platform").unwrap();
        assert_eq!(
            details.fingerprint_input(&platform),
            "acct_1Platform|US|110000000|000123456789"
        );
    }

    #[test]
    fn us_accounts_need_a_nine_digit_routing_number() {
        assert_eq!(
            us(None, "000123456789").unwrap_err().param,
            "routing_number"
        );
        assert_eq!(
            us(Some("12345"), "000123456789").unwrap_err().param,
            "routing_number"
        );
    }

    #[test]
    fn account_numbers_are_checked() {
        assert_eq!(
            us(Some("110000000"), "12").unwrap_err().param,
            "account_number"
        );
        assert_eq!(
            us(Some("110000000"), "1234-5678").unwrap_err().param,
            "account_number"
        );
        let iban =
            BankAccountDetails::parse("DE", "eur", None, None, "DE89370400440532013000").unwrap();
        assert_eq!(iban.last4(), "3000");
    }

    #[test]
    fn a_bank_account_keeps_only_the_last_four_of_the_number() {
        let details = us(Some("110000000"), "0001 2345 6789").unwrap();
        let account = AccountId::generate();
        let bank =
            details.into_bank_account(account.clone(), "fp".to_owned(), Timestamp::from_secs(7));
        assert_eq!(bank.account, account);
        assert_eq!(bank.last4, "6789");
        assert_eq!(bank.fingerprint, "fp");
        assert_eq!(
            (bank.country.as_str(), bank.currency.as_str()),
            ("US", "usd")
        );
        assert_eq!(bank.routing_number.as_deref(), Some("110000000"));
        assert!(!format!("{bank:?}").contains("000123456789"));
    }

    #[test]
    fn debug_never_shows_the_account_number() {
        let details = us(Some("110000000"), "000123456789").unwrap();
        assert!(!format!("{details:?}").contains("000123456789"));
    }
}
