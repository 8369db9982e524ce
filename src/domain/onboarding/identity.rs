//! Who a connected account is: its business type, the people behind it and
//! the company they run, its terms acceptance and payout settings, as the
//! server keeps them. Secrets (full ID numbers, SSNs, tax IDs) are never kept:
//! only that they were provided, and how they verified.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::domain::account::Metadata;
use crate::domain::ids::PersonId;

use super::verification::Check;

/// What kind of legal entity the account is (`business_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusinessType {
    /// A person doing business in their own name.
    Individual,
    /// A company.
    Company,
    /// A non-profit organisation.
    NonProfit,
    /// A government body.
    GovernmentEntity,
}
wire_enum!(BusinessType {
    Company => "company",
    GovernmentEntity => "government_entity",
    Individual => "individual",
    NonProfit => "non_profit",
});

/// A date of birth; each part may still be missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dob {
    /// 1 to 31.
    pub day: Option<u8>,
    /// 1 to 12.
    pub month: Option<u8>,
    /// Four digits.
    pub year: Option<u16>,
}

impl Dob {
    /// The full date, once every part is there.
    pub fn complete(&self) -> Option<(u16, u8, u8)> {
        Some((self.year?, self.month?, self.day?))
    }
}

/// A postal address; each line may still be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// City, district, suburb, town or village.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Street address.
    pub line1: Option<String>,
    /// Apartment, suite, unit or building.
    pub line2: Option<String>,
    /// ZIP or postal code.
    pub postal_code: Option<String>,
    /// State, county, province or region.
    pub state: Option<String>,
}

/// A share of ownership in hundredths of a percent (`80.5` is 8050), so
/// that it compares and sums exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Percent(pub u32);

impl Percent {
    /// All of it.
    pub const WHOLE: Self = Self(10_000);

    /// As Stripe renders it: a number of percent.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

/// How a person relates to the account's legal entity (`relationship`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    /// Authorised to act for the entity.
    pub authorizer: bool,
    /// A member of the governing board.
    pub director: bool,
    /// Has significant management responsibility.
    pub executive: bool,
    /// The legal guardian of the account's representative.
    pub legal_guardian: bool,
    /// Owns part of the entity.
    pub owner: bool,
    /// How much of it.
    pub percent_ownership: Option<Percent>,
    /// The one person who represents the entity to Stripe.
    pub representative: bool,
    /// Their job title.
    pub title: Option<String>,
}

/// A person's identity checks, one per group of fields that verifies as one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonChecks {
    /// The keyed identity check (date of birth with the name).
    pub dob: Option<Check>,
    /// The address check.
    pub address: Option<Check>,
    /// The ID number or the last four of the SSN.
    pub id_number: Option<Check>,
}

/// A person's identity, as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDetails {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Date of birth.
    pub dob: Dob,
    /// Residential address.
    pub address: Address,
    /// Whether a (full) ID number was provided; the number itself is never kept.
    pub id_number_provided: bool,
    /// Whether the last four of the SSN were provided (a full ID number counts).
    pub ssn_last_4_provided: bool,
    /// How what was provided verified.
    pub checks: PersonChecks,
}

/// A person of the account: its individual, representative, owners, directors…
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// `person_…`
    pub id: PersonId,
    /// Who they are.
    pub details: PersonDetails,
    /// What they are to the entity.
    pub relationship: Relationship,
    /// The platform's key-value pairs.
    pub metadata: Metadata,
    /// Creation time.
    pub created: Timestamp,
}

/// The company's checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyChecks {
    /// The tax ID check.
    pub tax_id: Option<Check>,
    /// The address check.
    pub address: Option<Check>,
}

/// The legal entity of a company, non-profit or government account (`company`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    /// Legal name.
    pub name: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// The legal structure (`sole_proprietorship`, `private_corporation`, …).
    pub structure: Option<String>,
    /// Registered address.
    pub address: Address,
    /// Whether a tax ID was provided; the number itself is never kept.
    pub tax_id_provided: bool,
    /// The platform says every director has been provided.
    pub directors_provided: bool,
    /// The platform says every executive has been provided.
    pub executives_provided: bool,
    /// The platform says every owner has been provided.
    pub owners_provided: bool,
    /// How what was provided verified.
    pub checks: CompanyChecks,
}

/// The service agreement the account accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAgreement {
    /// Stripe's full agreement: payments and payouts.
    Full,
    /// The recipient agreement: payouts only, no `card_payments`.
    Recipient,
}
wire_enum!(ServiceAgreement { Full => "full", Recipient => "recipient" });

/// When, from where and under which agreement the account accepted Stripe's
/// terms (`tos_acceptance`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TosAcceptance {
    /// When.
    pub date: Option<Timestamp>,
    /// From which IP address.
    pub ip: Option<String>,
    /// With which browser.
    pub user_agent: Option<String>,
    /// Which agreement (`full` when unset).
    pub service_agreement: Option<ServiceAgreement>,
}

/// How often payouts go out (`settings.payouts.schedule.interval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutInterval {
    /// Every day.
    Daily,
    /// Only when the platform asks.
    Manual,
    /// Once a month.
    Monthly,
    /// Once a week.
    Weekly,
}
wire_enum!(PayoutInterval {
    Daily => "daily",
    Manual => "manual",
    Monthly => "monthly",
    Weekly => "weekly",
});

/// A day of the week (`weekly_anchor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}
wire_enum!(Weekday {
    Friday => "friday",
    Monday => "monday",
    Saturday => "saturday",
    Sunday => "sunday",
    Thursday => "thursday",
    Tuesday => "tuesday",
    Wednesday => "wednesday",
});

/// When payouts go out (`settings.payouts.schedule`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutSchedule {
    /// Days funds wait before they can be paid out.
    pub delay_days: u32,
    /// How often.
    pub interval: PayoutInterval,
    /// Day of the month, for monthly payouts.
    pub monthly_anchor: Option<u8>,
    /// Day of the week, for weekly payouts.
    pub weekly_anchor: Option<Weekday>,
}

impl PayoutSchedule {
    /// The shortest delay the account's country allows: two days in the US
    /// and Australia, seven elsewhere (Stripe's defaults for new accounts).
    pub fn minimum_delay_days(country: &str) -> u32 {
        match country {
            "US" | "AU" => 2,
            _ => 7,
        }
    }

    /// A new account's schedule: daily, after the country's minimum delay.
    pub fn default_for(country: &str) -> Self {
        Self {
            delay_days: Self::minimum_delay_days(country),
            interval: PayoutInterval::Daily,
            monthly_anchor: None,
            weekly_anchor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_of_birth_is_complete_only_with_all_three_parts() {
        let partial = Dob {
            day: Some(1),
            month: Some(1),
            year: None,
        };
        assert_eq!(partial.complete(), None);
        let full = Dob {
            year: Some(1901),
            ..partial
        };
        assert_eq!(full.complete(), Some((1901, 1, 1)));
    }

    #[test]
    fn new_accounts_pay_out_daily_after_their_countrys_minimum_delay() {
        assert_eq!(PayoutSchedule::default_for("US").delay_days, 2);
        assert_eq!(PayoutSchedule::default_for("DE").delay_days, 7);
        assert_eq!(
            PayoutSchedule::default_for("FR").interval,
            PayoutInterval::Daily
        );
    }

    #[test]
    fn wire_values_round_trip_through_json() {
        let json = serde_json::to_string(&BusinessType::NonProfit).unwrap();
        assert_eq!(json, "\"non_profit\"");
        let back: BusinessType = serde_json::from_str(&json).unwrap();
        assert_eq!(back, BusinessType::NonProfit);
        assert!(serde_json::from_str::<BusinessType>("\"llc\"").is_err());
    }
}
