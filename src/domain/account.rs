//! Connected accounts: the `controller` properties that decide what a platform may
//! do with an account, the account types they stand for, and the account's
//! editable data (email, metadata, business profile).

use std::collections::{BTreeMap, BTreeSet};

use crate::clock::Timestamp;

use super::external_account::BankAccount;
use super::ids::{AccountId, PlatformId};
use super::mode::Mode;
use super::onboarding::changes::{Identity, IdentityUpdate, Refusal};
use super::onboarding::identity::{PayoutInterval, PayoutSchedule, Weekday};
use super::onboarding::requirements::{self, Assessment, Subject};
use super::onboarding::verification::Verifier;

// At its old path too, where the stores import it from.
pub use super::capability::CapabilityStatus;

/// Stripe's account types. `None` means the controller matches none of the three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountType {
    /// Stripe collects requirements and covers losses; full dashboard.
    Standard,
    /// Stripe collects requirements; the platform covers losses; Express dashboard.
    Express,
    /// The platform does everything; no Stripe dashboard.
    Custom,
    /// Created with controller properties that match none of the three.
    None,
}
wire_enum!(AccountType { Standard => "standard", Express => "express", Custom => "custom", None => "none" });

impl AccountType {
    /// The types an account may be created with, as `type` spells them:
    /// `none` is only ever an answer.
    pub const CREATABLE: &'static [(&'static str, Self)] = &[
        (Self::Custom.as_str(), Self::Custom),
        (Self::Express.as_str(), Self::Express),
        (Self::Standard.as_str(), Self::Standard),
    ];
}

/// Who pays Stripe's fees (`controller.fees.payer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeePayer {
    /// The connected account.
    Account,
    /// The platform.
    Application,
    /// The platform, for an account created with `type=custom`.
    ApplicationCustom,
    /// The platform, for an account created with `type=express`.
    ApplicationExpress,
}
wire_enum!(FeePayer {
    Account => "account",
    Application => "application",
    ApplicationCustom => "application_custom",
    ApplicationExpress => "application_express",
});

impl FeePayer {
    /// The payers `controller[fees][payer]` may name at creation: the
    /// `application_*` ones only describe accounts created with a `type`.
    pub const CREATABLE: &'static [(&'static str, Self)] = &[
        (Self::Account.as_str(), Self::Account),
        (Self::Application.as_str(), Self::Application),
    ];

    /// Whether the platform pays, however the account was created.
    pub const fn is_application(self) -> bool {
        !matches!(self, Self::Account)
    }
}

/// Who covers negative balances (`controller.losses.payments`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossesPayer {
    /// The platform.
    Application,
    /// Stripe.
    Stripe,
}
wire_enum!(LossesPayer { Application => "application", Stripe => "stripe" });

/// Who collects requirements (`controller.requirement_collection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequirementCollection {
    /// The platform.
    Application,
    /// Stripe.
    Stripe,
}
wire_enum!(RequirementCollection { Application => "application", Stripe => "stripe" });

/// Which Stripe dashboard the account has (`controller.stripe_dashboard.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardType {
    /// The Express dashboard.
    Express,
    /// The full Stripe dashboard.
    Full,
    /// No dashboard.
    None,
}
wire_enum!(DashboardType { Express => "express", Full => "full", None => "none" });

/// An account's controller properties, fixed at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Controller {
    /// `controller.fees.payer`
    pub fees_payer: FeePayer,
    /// `controller.losses.payments`
    pub losses_payments: LossesPayer,
    /// `controller.requirement_collection`
    pub requirement_collection: RequirementCollection,
    /// `controller.stripe_dashboard.type`
    pub stripe_dashboard: DashboardType,
}

/// The controller properties a creation request set; unset ones take defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControllerProperties {
    /// `controller[fees][payer]`: only `account` or `application` at creation.
    pub fees_payer: Option<FeePayer>,
    /// `controller[losses][payments]`
    pub losses_payments: Option<LossesPayer>,
    /// `controller[requirement_collection]`
    pub requirement_collection: Option<RequirementCollection>,
    /// `controller[stripe_dashboard][type]`
    pub stripe_dashboard: Option<DashboardType>,
}

/// A combination of controller properties Stripe does not support.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UnsupportedController {
    /// What is wrong and what is allowed.
    pub message: &'static str,
    /// The parameter to change.
    pub param: &'static str,
}

impl Controller {
    /// The controller Stripe gives an account created with `type` (its table of
    /// account types to controller properties).
    pub const fn for_type(account_type: AccountType) -> Self {
        match account_type {
            AccountType::Custom => Self {
                fees_payer: FeePayer::ApplicationCustom,
                losses_payments: LossesPayer::Application,
                requirement_collection: RequirementCollection::Application,
                stripe_dashboard: DashboardType::None,
            },
            AccountType::Express => Self {
                fees_payer: FeePayer::ApplicationExpress,
                losses_payments: LossesPayer::Application,
                requirement_collection: RequirementCollection::Stripe,
                stripe_dashboard: DashboardType::Express,
            },
            AccountType::Standard | AccountType::None => Self {
                fees_payer: FeePayer::Account,
                losses_payments: LossesPayer::Stripe,
                requirement_collection: RequirementCollection::Stripe,
                stripe_dashboard: DashboardType::Full,
            },
        }
    }

    /// The controller for explicit properties: Stripe's defaults for those unset
    /// (`stripe` losses, `account` fees, `stripe` requirements, `full` dashboard),
    /// then its list of unsupported combinations.
    pub fn from_properties(
        properties: ControllerProperties,
    ) -> Result<Self, UnsupportedController> {
        let controller = Self {
            fees_payer: properties.fees_payer.unwrap_or(FeePayer::Account),
            losses_payments: properties.losses_payments.unwrap_or(LossesPayer::Stripe),
            requirement_collection: properties
                .requirement_collection
                .unwrap_or(RequirementCollection::Stripe),
            stripe_dashboard: properties.stripe_dashboard.unwrap_or(DashboardType::Full),
        };
        controller.check_supported()?;
        Ok(controller)
    }

    /// Stripe's "unsupported configurations", checked in a fixed order so the
    /// same request always gets the same message.
    fn check_supported(&self) -> Result<(), UnsupportedController> {
        use DashboardType as D;
        let platform_collects = self.requirement_collection == RequirementCollection::Application;
        let platform_covers_losses = self.losses_payments == LossesPayer::Application;
        let platform_pays_fees = self.fees_payer.is_application();
        let reject = |message, param| Err(UnsupportedController { message, param });
        if self.stripe_dashboard == D::None && !platform_collects && platform_covers_losses {
            return reject(
                "When stripe_dashboard[type]=none and requirement_collection=stripe, Stripe must be liable for negative balances or refunds and chargebacks.",
                "controller[losses][payments]",
            );
        }
        if self.stripe_dashboard == D::Express && !(platform_covers_losses && platform_pays_fees) {
            return reject(
                "When stripe_dashboard[type]=express, your platform must collect fees and be liable for negative balances or refunds and chargebacks.",
                "controller[stripe_dashboard][type]",
            );
        }
        if platform_collects && self.stripe_dashboard != D::None {
            return reject(
                "When requirement_collection=application, stripe_dashboard[type] must be none.",
                "controller[stripe_dashboard][type]",
            );
        }
        if platform_collects && !platform_covers_losses {
            return reject(
                "When requirement_collection=application, your platform must be liable for negative balances or refunds and chargebacks (losses[payments]=application).",
                "controller[losses][payments]",
            );
        }
        if platform_collects && !platform_pays_fees {
            return reject(
                "When requirement_collection=application, your platform must collect fees (fees[payer]=application).",
                "controller[fees][payer]",
            );
        }
        if self.stripe_dashboard == D::Full && (platform_covers_losses || platform_pays_fees) {
            return reject(
                "When stripe_dashboard[type]=full, Stripe must be liable for negative balances or refunds and chargebacks, and the account must pay its own fees.",
                "controller[stripe_dashboard][type]",
            );
        }
        Ok(())
    }

    /// The account type these properties stand for; `None` unless they match one
    /// of Stripe's three types exactly.
    pub fn account_type(&self) -> AccountType {
        [
            AccountType::Standard,
            AccountType::Express,
            AccountType::Custom,
        ]
        .into_iter()
        .find(|account_type| Self::for_type(*account_type) == *self)
        .unwrap_or(AccountType::None)
    }
}

/// How a creation request chose the controller: `type` or `controller[...]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControllerChoice {
    /// `type=standard|express|custom`.
    Type(AccountType),
    /// `controller[...]` properties (or nothing: all defaults).
    Properties(ControllerProperties),
}

/// Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500.
pub const METADATA_MAX_KEYS: usize = 50;
/// Longest metadata key.
pub const METADATA_MAX_KEY_LEN: usize = 40;
/// Longest metadata value.
pub const METADATA_MAX_VALUE_LEN: usize = 500;

/// Key-value pairs a platform attaches to an account.
pub type Metadata = BTreeMap<String, String>;

/// A metadata change, with Stripe's semantics: keys are merged in, a key with an
/// empty value is removed, and `metadata=` (empty) removes every key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetadataUpdate {
    /// No change.
    #[default]
    Keep,
    /// Remove every key.
    Clear,
    /// Set (`Some`) or remove (`None`) these keys.
    Merge(Vec<(String, Option<String>)>),
}

/// Metadata that breaks Stripe's limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// More than 50 keys after the change.
    #[error(
        "Invalid metadata: metadata can have up to 50 keys, but this request would leave {count}."
    )]
    TooManyKeys {
        /// How many there would be.
        count: usize,
    },
    /// A key longer than 40 characters.
    #[error("Invalid metadata: keys can be up to 40 characters long, but '{key}' has {len}.")]
    KeyTooLong {
        /// The key.
        key: String,
        /// Its length in characters.
        len: usize,
    },
    /// A value longer than 500 characters.
    #[error(
        "Invalid metadata: values can be up to 500 characters long, but the value of '{key}' has {len}."
    )]
    ValueTooLong {
        /// The key whose value is too long.
        key: String,
        /// Its length in characters.
        len: usize,
    },
}

impl MetadataError {
    /// The parameter to change.
    pub fn param(&self) -> String {
        match self {
            Self::TooManyKeys { .. } => "metadata".to_owned(),
            Self::KeyTooLong { key, .. } | Self::ValueTooLong { key, .. } => {
                format!("metadata[{key}]")
            }
        }
    }
}

impl MetadataUpdate {
    /// Checks each key and value against Stripe's length limits.
    pub fn validate(&self) -> Result<(), MetadataError> {
        let Self::Merge(entries) = self else {
            return Ok(());
        };
        for (key, value) in entries {
            let key_len = key.chars().count();
            if key_len > METADATA_MAX_KEY_LEN {
                return Err(MetadataError::KeyTooLong {
                    key: key.clone(),
                    len: key_len,
                });
            }
            let value_len = value.as_deref().map_or(0, |value| value.chars().count());
            if value_len > METADATA_MAX_VALUE_LEN {
                return Err(MetadataError::ValueTooLong {
                    key: key.clone(),
                    len: value_len,
                });
            }
        }
        Ok(())
    }

    /// The metadata after this change.
    pub fn apply(&self, current: &Metadata) -> Result<Metadata, MetadataError> {
        self.validate()?;
        let mut next = match self {
            Self::Keep => return Ok(current.clone()),
            Self::Clear => return Ok(Metadata::new()),
            Self::Merge(_) => current.clone(),
        };
        if let Self::Merge(entries) = self {
            for (key, value) in entries {
                match value {
                    Some(value) => next.insert(key.clone(), value.clone()),
                    None => next.remove(key),
                };
            }
        }
        if next.len() > METADATA_MAX_KEYS {
            return Err(MetadataError::TooManyKeys { count: next.len() });
        }
        Ok(next)
    }
}

/// The public business details of an account (`business_profile`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct BusinessProfile {
    /// `mcc`: the merchant category code.
    pub mcc: Option<String>,
    /// `name`
    pub name: Option<String>,
    /// `product_description`: what the business sells, where it has no website.
    pub product_description: Option<String>,
    /// `support_email`
    pub support_email: Option<String>,
    /// `support_phone`
    pub support_phone: Option<String>,
    /// `support_url`
    pub support_url: Option<String>,
    /// `url`
    pub url: Option<String>,
}

/// Changes to the business profile, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessProfileUpdate {
    /// `mcc`
    pub mcc: FieldUpdate,
    /// `name`
    pub name: FieldUpdate,
    /// `product_description`
    pub product_description: FieldUpdate,
    /// `support_email`
    pub support_email: FieldUpdate,
    /// `support_phone`
    pub support_phone: FieldUpdate,
    /// `support_url`
    pub support_url: FieldUpdate,
    /// `url`
    pub url: FieldUpdate,
}

impl BusinessProfileUpdate {
    /// The profile after this change.
    pub fn apply(&self, current: &BusinessProfile) -> BusinessProfile {
        BusinessProfile {
            mcc: self.mcc.apply(&current.mcc),
            name: self.name.apply(&current.name),
            product_description: self.product_description.apply(&current.product_description),
            support_email: self.support_email.apply(&current.support_email),
            support_phone: self.support_phone.apply(&current.support_phone),
            support_url: self.support_url.apply(&current.support_url),
            url: self.url.apply(&current.url),
        }
    }
}

/// A change to one optional field: leave it, clear it (empty value) or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FieldUpdate {
    /// Not in the request.
    #[default]
    Keep,
    /// Sent empty: unset.
    Clear,
    /// A new value.
    Set(String),
}

impl FieldUpdate {
    /// The field's value after this change.
    pub fn apply(&self, current: &Option<String>) -> Option<String> {
        match self {
            Self::Keep => current.clone(),
            Self::Clear => None,
            Self::Set(value) => Some(value.clone()),
        }
    }
}

/// An account's settings that onboarding touches (`settings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `settings.payments.statement_descriptor`
    pub statement_descriptor: Option<String>,
    /// `settings.payouts.schedule`, once set; until then the country's
    /// default (see [`Settings::payout_schedule`]).
    pub payout_schedule: Option<PayoutSchedule>,
}

impl Settings {
    /// The payout schedule of an account in `country`.
    pub fn payout_schedule(&self, country: &str) -> PayoutSchedule {
        self.payout_schedule
            .clone()
            .unwrap_or_else(|| PayoutSchedule::default_for(country))
    }
}

/// Changes to the settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsUpdate {
    /// `settings[payments][statement_descriptor]`
    pub statement_descriptor: FieldUpdate,
    /// `settings[payouts][schedule]`
    pub payout_schedule: Option<PayoutScheduleUpdate>,
}

/// `settings[payouts][schedule][delay_days]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelayDays {
    /// `minimum`: the shortest the country allows.
    Minimum,
    /// A number of days.
    Days(u32),
}

/// Changes to the payout schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayoutScheduleUpdate {
    /// `interval`
    pub interval: Option<PayoutInterval>,
    /// `delay_days`
    pub delay_days: Option<DelayDays>,
    /// `weekly_anchor`
    pub weekly_anchor: Option<Weekday>,
    /// `monthly_anchor` (1 to 31)
    pub monthly_anchor: Option<u8>,
}

impl PayoutScheduleUpdate {
    /// The schedule after this change, for an account in `country`: a weekly
    /// schedule needs its day and a monthly one its date, and the delay may
    /// not be shorter than the country's minimum.
    pub fn apply(
        &self,
        current: &PayoutSchedule,
        country: &str,
    ) -> Result<PayoutSchedule, Refusal> {
        const PARAM: &str = "settings[payouts][schedule]";
        let interval = self.interval.unwrap_or(current.interval);
        let minimum = PayoutSchedule::minimum_delay_days(country);
        let delay_days = match self.delay_days {
            None => current.delay_days,
            Some(DelayDays::Minimum) => minimum,
            Some(DelayDays::Days(days)) if days < minimum => {
                return Err(Refusal {
                    param: format!("{PARAM}[delay_days]"),
                    message: format!(
                        "The delay_days for accounts in {country} must be at least {minimum}."
                    ),
                });
            }
            Some(DelayDays::Days(days)) => days,
        };
        // An anchor belongs to its interval: kept while the interval is, dropped otherwise.
        let weekly_anchor = (interval == PayoutInterval::Weekly)
            .then(|| self.weekly_anchor.or(current.weekly_anchor))
            .flatten();
        let monthly_anchor = (interval == PayoutInterval::Monthly)
            .then(|| self.monthly_anchor.or(current.monthly_anchor))
            .flatten();
        let missing = |key: &str| Refusal {
            param: format!("{PARAM}[{key}]"),
            message: format!("Missing required param: {PARAM}[{key}]."),
        };
        if interval == PayoutInterval::Weekly && weekly_anchor.is_none() {
            return Err(missing("weekly_anchor"));
        }
        if interval == PayoutInterval::Monthly && monthly_anchor.is_none() {
            return Err(missing("monthly_anchor"));
        }
        Ok(PayoutSchedule {
            delay_days,
            interval,
            monthly_anchor,
            weekly_anchor,
        })
    }
}

/// What the server keeps of an account beyond its columns, as one document:
/// everything onboarding fills. Every part has a default, so older documents
/// (and the empty one older rows migrated to) read as a fresh account's.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Profile {
    /// The business profile.
    pub business_profile: BusinessProfile,
    /// Business type, company, persons, terms acceptance.
    pub identity: Identity,
    /// Statement descriptor and payout schedule.
    pub settings: Settings,
}

/// A connected account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `acct_…`
    pub id: AccountId,
    /// The platform that created it and controls it.
    pub platform: PlatformId,
    /// Test or live.
    pub mode: Mode,
    /// Fixed at creation.
    pub controller: Controller,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Contact email.
    pub email: Option<String>,
    /// The platform's key-value pairs.
    pub metadata: Metadata,
    /// The capabilities the platform requested; their statuses are derived.
    pub requested_capabilities: BTreeSet<String>,
    /// Everything onboarding fills.
    pub profile: Profile,
    /// Whether an account session was ever created for it: from then on,
    /// where Stripe collects requirements, only the account itself may
    /// change its identity.
    pub onboarding_started: bool,
    /// Its bank accounts, oldest first.
    pub external_accounts: Vec<BankAccount>,
    /// Creation time.
    pub created: Timestamp,
}

/// Who is changing an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// The platform, with its secret key.
    Platform,
    /// The connected account itself, through an embedded session.
    Account,
}

/// The identity parameters a platform may not set where Stripe collects
/// requirements once onboarding started, in Stripe's order.
pub const IDENTITY_PARAMS: [&str; 5] = [
    "business_type",
    "company",
    "external_account",
    "individual",
    "tos_acceptance",
];

/// Which parameters of `sent` the writer may not set on an account, as Stripe
/// decides: where Stripe collects requirements (`platform_collects` false),
/// the platform may prefill identity until onboarding starts (but never accept
/// the terms), and after that only the account itself may change it.
pub fn check_writer(
    platform_collects: bool,
    onboarding_started: bool,
    writer: Writer,
    sent: &[&'static str],
) -> Result<(), Forbidden> {
    if writer == Writer::Account || platform_collects {
        return Ok(());
    }
    if onboarding_started {
        let refused: Vec<&'static str> = IDENTITY_PARAMS
            .iter()
            .copied()
            .filter(|param| sent.contains(param))
            .collect();
        if refused.is_empty() {
            return Ok(());
        }
        return Err(Forbidden::Parameters(refused));
    }
    if sent.contains(&"tos_acceptance") {
        return Err(Forbidden::TermsOfService);
    }
    Ok(())
}

/// A change the writer may not make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forbidden {
    /// Terms may not be accepted for an account where Stripe collects requirements.
    TermsOfService,
    /// These identity parameters belong to the account once onboarding started.
    Parameters(Vec<&'static str>),
    /// The whole endpoint (persons) belongs to the account once onboarding started.
    Endpoint,
}

impl Account {
    /// The account type its controller stands for.
    pub fn account_type(&self) -> AccountType {
        self.controller.account_type()
    }

    /// Whether the platform collects this account's requirements (Custom).
    pub fn platform_collects(&self) -> bool {
        self.controller.requirement_collection == RequirementCollection::Application
    }

    /// Whether the platform may no longer write this account's identity:
    /// Stripe collects its requirements and onboarding started.
    pub fn identity_belongs_to_account(&self) -> bool {
        !self.platform_collects() && self.onboarding_started
    }

    /// Which parameters of `sent` the writer may not set on this account (see
    /// [`check_writer`]).
    pub fn check_writer(&self, writer: Writer, sent: &[&'static str]) -> Result<(), Forbidden> {
        check_writer(
            self.platform_collects(),
            self.onboarding_started,
            writer,
            sent,
        )
    }

    /// Whether the writer may use the endpoints of the account's persons:
    /// the platform may not, once the identity belongs to the account.
    pub fn check_person_writer(&self, writer: Writer) -> Result<(), Forbidden> {
        if writer == Writer::Platform && self.identity_belongs_to_account() {
            Err(Forbidden::Endpoint)
        } else {
            Ok(())
        }
    }

    /// The account after `update`, or why the update is not allowed.
    pub fn updated(&self, update: &AccountUpdate, verifier: &Verifier) -> Result<Self, Refusal> {
        let mut capabilities = self.requested_capabilities.clone();
        for (name, requested) in &update.capabilities {
            if *requested {
                capabilities.insert(name.clone());
            } else {
                capabilities.remove(name);
            }
        }
        Ok(Self {
            email: update.email.apply(&self.email),
            metadata: update.metadata.apply(&self.metadata)?,
            requested_capabilities: capabilities,
            profile: Profile {
                business_profile: update
                    .business_profile
                    .apply(&self.profile.business_profile),
                identity: self.profile.identity.updated(&update.identity, verifier)?,
                settings: Settings {
                    statement_descriptor: update
                        .settings
                        .statement_descriptor
                        .apply(&self.profile.settings.statement_descriptor),
                    payout_schedule: match &update.settings.payout_schedule {
                        None => self.profile.settings.payout_schedule.clone(),
                        Some(change) => Some(change.apply(
                            &self.profile.settings.payout_schedule(&self.country),
                            &self.country,
                        )?),
                    },
                },
            },
            ..self.clone()
        })
    }

    /// What follows from the account's data at `now`: requirements,
    /// capability statuses, and whether it can take charges and pay out.
    pub fn assess(&self, now: Timestamp) -> Assessment {
        let profile = &self.profile;
        let requested: Vec<String> = self.requested_capabilities.iter().cloned().collect();
        requirements::assess(
            &Subject {
                country: &self.country,
                business_type: profile.identity.business_type,
                mcc: profile.business_profile.mcc.as_deref(),
                url: profile.business_profile.url.as_deref(),
                product_description: profile.business_profile.product_description.as_deref(),
                statement_descriptor: profile.settings.statement_descriptor.as_deref(),
                tos_acceptance: &profile.identity.tos_acceptance,
                company: &profile.identity.company,
                persons: &profile.identity.persons,
                has_external_account: !self.external_accounts.is_empty(),
                requested: &requested,
            },
            now,
        )
    }
}

/// A request to create an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// The controller, already checked.
    pub controller: Controller,
    /// ISO 3166-1 alpha-2, default `US`.
    pub country: String,
    /// Everything else a creation may set, as an update of a blank account.
    pub fields: AccountUpdate,
}

impl NewAccount {
    /// The account this request creates, with a fresh id, or why it cannot be.
    pub fn into_account(
        self,
        platform: PlatformId,
        verifier: &Verifier,
    ) -> Result<Account, Refusal> {
        let blank = Account {
            id: AccountId::generate(),
            platform,
            mode: verifier.mode,
            controller: self.controller,
            profile: Profile::default(),
            country: self.country,
            email: None,
            metadata: Metadata::new(),
            requested_capabilities: BTreeSet::new(),
            onboarding_started: false,
            external_accounts: Vec::new(),
            created: verifier.now,
        };
        blank.updated(&self.fields, verifier)
    }
}

/// A request to change an account's editable fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    /// `email`
    pub email: FieldUpdate,
    /// `metadata[...]`
    pub metadata: MetadataUpdate,
    /// `business_profile[...]`
    pub business_profile: BusinessProfileUpdate,
    /// `capabilities[NAME][requested]`, in request order.
    pub capabilities: Vec<(String, bool)>,
    /// `business_type`, `individual`, `company`, `tos_acceptance`.
    pub identity: IdentityUpdate,
    /// `settings[...]`
    pub settings: SettingsUpdate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn properties(
        fees: Option<FeePayer>,
        losses: Option<LossesPayer>,
        collection: Option<RequirementCollection>,
        dashboard: Option<DashboardType>,
    ) -> ControllerProperties {
        ControllerProperties {
            fees_payer: fees,
            losses_payments: losses,
            requirement_collection: collection,
            stripe_dashboard: dashboard,
        }
    }

    #[test]
    fn types_map_to_stripes_controller_table_and_back() {
        for account_type in [
            AccountType::Standard,
            AccountType::Express,
            AccountType::Custom,
        ] {
            assert_eq!(
                Controller::for_type(account_type).account_type(),
                account_type
            );
        }
        let custom = Controller::for_type(AccountType::Custom);
        assert_eq!(custom.fees_payer, FeePayer::ApplicationCustom);
        assert_eq!(custom.stripe_dashboard, DashboardType::None);
    }

    #[test]
    fn no_properties_means_a_standard_account() {
        let controller = Controller::from_properties(ControllerProperties::default()).unwrap();
        assert_eq!(controller.account_type(), AccountType::Standard);
    }

    #[test]
    fn custom_like_properties_give_type_none() {
        let controller = Controller::from_properties(properties(
            Some(FeePayer::Application),
            Some(LossesPayer::Application),
            Some(RequirementCollection::Application),
            Some(DashboardType::None),
        ))
        .unwrap();
        assert_eq!(controller.account_type(), AccountType::None);
    }

    #[test]
    fn stripes_observed_message_for_dashboard_none_with_stripe_collection() {
        let err = Controller::from_properties(properties(
            Some(FeePayer::Application),
            Some(LossesPayer::Application),
            None,
            Some(DashboardType::None),
        ))
        .unwrap_err();
        assert_eq!(
            err.message,
            "When stripe_dashboard[type]=none and requirement_collection=stripe, Stripe must be liable for negative balances or refunds and chargebacks."
        );
    }

    #[test]
    fn every_documented_unsupported_combination_is_rejected() {
        use DashboardType as D;
        use FeePayer as F;
        use LossesPayer as L;
        use RequirementCollection as R;
        let rejected = [
            (None, Some(L::Stripe), Some(R::Application), Some(D::None)),
            (
                Some(F::Account),
                Some(L::Application),
                Some(R::Application),
                Some(D::None),
            ),
            (
                Some(F::Application),
                Some(L::Application),
                Some(R::Application),
                Some(D::Express),
            ),
            (
                Some(F::Application),
                Some(L::Application),
                Some(R::Application),
                Some(D::Full),
            ),
            (
                Some(F::Application),
                Some(L::Stripe),
                None,
                Some(D::Express),
            ),
            (
                Some(F::Account),
                Some(L::Application),
                None,
                Some(D::Express),
            ),
            (None, Some(L::Application), None, Some(D::Full)),
            (Some(F::Application), None, None, Some(D::Full)),
            (None, Some(L::Application), Some(R::Stripe), Some(D::None)),
        ];
        for (fees, losses, collection, dashboard) in rejected {
            assert!(
                Controller::from_properties(properties(fees, losses, collection, dashboard))
                    .is_err(),
                "{fees:?} {losses:?} {collection:?} {dashboard:?}"
            );
        }
        let express_like = properties(
            Some(F::Application),
            Some(L::Application),
            None,
            Some(D::Express),
        );
        assert!(Controller::from_properties(express_like).is_ok());
    }

    #[test]
    fn metadata_merges_unsets_and_clears() {
        let current: Metadata = [("a".into(), "1".into()), ("b".into(), "2".into())].into();
        let update =
            MetadataUpdate::Merge(vec![("a".into(), None), ("c".into(), Some("3".into()))]);
        let next = update.apply(&current).unwrap();
        assert_eq!(
            next,
            [("b".into(), "2".into()), ("c".into(), "3".into())].into()
        );
        assert!(MetadataUpdate::Clear.apply(&current).unwrap().is_empty());
        assert_eq!(MetadataUpdate::Keep.apply(&current).unwrap(), current);
    }

    #[test]
    fn metadata_limits_are_enforced() {
        let many = MetadataUpdate::Merge(
            (0..51)
                .map(|i| (format!("k{i}"), Some("v".into())))
                .collect(),
        );
        assert!(matches!(
            many.apply(&Metadata::new()),
            Err(MetadataError::TooManyKeys { count: 51 })
        ));
        let long_key = MetadataUpdate::Merge(vec![("k".repeat(41), Some("v".into()))]);
        assert_eq!(
            long_key.apply(&Metadata::new()).unwrap_err().param(),
            format!("metadata[{}]", "k".repeat(41))
        );
    }
}
