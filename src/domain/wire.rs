//! Stripe's JSON shapes of the domain's objects (`account`, `person`,
//! `bank_account`), rendered from domain values at one moment. They live here,
//! not in the HTTP layer, because an object is rendered wherever it is shown:
//! in responses, and in the events a change records with itself.
//!
//! Shapes and key order follow Stripe's API reference and real test-mode
//! responses (see `docs/ONBOARDING.md`); fields this server does not model are
//! rendered as Stripe renders them on a fresh account (nulls, empty lists).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::clock::Timestamp;

use super::account::{Account, BusinessProfile, Metadata};
use super::external_account::BankAccount;
use super::ids::{AccountId, ExternalAccountId, PersonId};
use super::onboarding::identity::{
    Address, BusinessType, Company, Dob, Person, PersonDetails, Relationship, TosAcceptance,
};
use super::onboarding::requirements::{Assessment, PersonAssessment, Requirements};

/// The Stripe API version objects are rendered as: the specification version
/// this server implements.
pub const API_VERSION: &str = "2026-07-29.dahlia";

/// Who is looking at an account: what differs is the platform's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The platform, with its secret key: sees everything.
    Platform,
    /// The connected account itself, through an embedded session: does not
    /// see the platform's metadata.
    Account,
}

/// The `account` object.
#[derive(Debug, Clone, Serialize)]
pub struct AccountObject {
    id: AccountId,
    object: &'static str,
    business_profile: BusinessProfileObject,
    business_type: Option<&'static str>,
    capabilities: BTreeMap<String, &'static str>,
    charges_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    company: Option<CompanyObject>,
    controller: ControllerObject,
    country: String,
    created: i64,
    default_currency: &'static str,
    details_submitted: bool,
    email: Option<String>,
    external_accounts: ListObject<BankAccountObject>,
    future_requirements: RequirementsObject,
    #[serde(skip_serializing_if = "Option::is_none")]
    individual: Option<PersonObject>,
    /// The platform's own data: absent from the connected account's view.
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
    payouts_enabled: bool,
    requirements: RequirementsObject,
    settings: SettingsObject,
    tos_acceptance: TosAcceptanceObject,
    #[serde(rename = "type")]
    account_type: &'static str,
}

impl AccountObject {
    /// The account as `viewer` sees it at `now`.
    pub fn new(account: &Account, now: Timestamp, viewer: Viewer) -> Self {
        Self::assessed(account, &account.assess(now), viewer)
    }

    /// The account with an assessment already made.
    pub fn assessed(account: &Account, assessment: &Assessment, viewer: Viewer) -> Self {
        let profile = &account.profile;
        let identity = &profile.identity;
        let controller = account.controller;
        let business_type = identity.business_type;
        let company = match business_type {
            Some(BusinessType::Individual) | None => None,
            Some(_) => Some(CompanyObject::new(&identity.company, &account.country)),
        };
        let individual = identity
            .individual()
            .map(|person| PersonObject::new(person, account, assessment));
        Self {
            id: account.id.clone(),
            object: "account",
            business_profile: BusinessProfileObject::new(&profile.business_profile),
            business_type: business_type.map(BusinessType::as_str),
            capabilities: assessment
                .capabilities
                .iter()
                .map(|(name, status)| (name.clone(), status.as_str()))
                .collect(),
            charges_enabled: assessment.charges_enabled,
            company,
            // Every account is created by, and so controlled by, its platform.
            controller: ControllerObject {
                fees: FeesObject {
                    payer: controller.fees_payer.as_str(),
                },
                is_controller: true,
                losses: LossesObject {
                    payments: controller.losses_payments.as_str(),
                },
                requirement_collection: controller.requirement_collection.as_str(),
                stripe_dashboard: DashboardObject {
                    dashboard_type: controller.stripe_dashboard.as_str(),
                },
                controller_type: "application",
            },
            country: account.country.clone(),
            created: account.created.as_secs(),
            default_currency: default_currency(&account.country),
            details_submitted: assessment.details_submitted,
            email: account.email.clone(),
            external_accounts: ListObject {
                object: "list",
                total_count: account.external_accounts.len(),
                data: account
                    .external_accounts
                    .iter()
                    .map(BankAccountObject::new)
                    .collect(),
                has_more: false,
                url: format!("/v1/accounts/{}/external_accounts", account.id),
            },
            future_requirements: RequirementsObject::new(&assessment.future_requirements),
            individual,
            metadata: match viewer {
                Viewer::Platform => Some(account.metadata.clone()),
                Viewer::Account => None,
            },
            payouts_enabled: assessment.payouts_enabled,
            requirements: RequirementsObject::new(&assessment.requirements),
            settings: SettingsObject::new(account),
            tos_acceptance: TosAcceptanceObject::new(&identity.tos_acceptance),
            account_type: account.account_type().as_str(),
        }
    }
}

/// The currency an account in `country` is paid out in by default.
pub fn default_currency(country: &str) -> &'static str {
    const EURO: &[&str] = &[
        "AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU", "LV",
        "MT", "NL", "PT", "SI", "SK",
    ];
    const OTHERS: &[(&str, &str)] = &[
        ("AE", "aed"),
        ("AU", "aud"),
        ("BG", "bgn"),
        ("BR", "brl"),
        ("CA", "cad"),
        ("CH", "chf"),
        ("CZ", "czk"),
        ("DK", "dkk"),
        ("GB", "gbp"),
        ("HK", "hkd"),
        ("HU", "huf"),
        ("IN", "inr"),
        ("JP", "jpy"),
        ("MX", "mxn"),
        ("MY", "myr"),
        ("NO", "nok"),
        ("NZ", "nzd"),
        ("PL", "pln"),
        ("RO", "ron"),
        ("SE", "sek"),
        ("SG", "sgd"),
        ("TH", "thb"),
    ];
    if EURO.contains(&country) {
        return "eur";
    }
    OTHERS
        .iter()
        .find(|(code, _)| *code == country)
        .map_or("usd", |(_, currency)| currency)
}

#[derive(Debug, Clone, Serialize)]
struct ControllerObject {
    fees: FeesObject,
    is_controller: bool,
    losses: LossesObject,
    requirement_collection: &'static str,
    stripe_dashboard: DashboardObject,
    #[serde(rename = "type")]
    controller_type: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct FeesObject {
    payer: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct LossesObject {
    payments: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct DashboardObject {
    #[serde(rename = "type")]
    dashboard_type: &'static str,
}

/// A Stripe list object.
#[derive(Debug, Clone, Serialize)]
pub struct ListObject<T> {
    object: &'static str,
    data: Vec<T>,
    has_more: bool,
    total_count: usize,
    url: String,
}

#[derive(Debug, Clone, Serialize)]
struct BusinessProfileObject {
    annual_revenue: Option<()>,
    estimated_worker_count: Option<()>,
    mcc: Option<String>,
    minority_owned_business_designation: Option<()>,
    name: Option<String>,
    product_description: Option<String>,
    support_address: Option<()>,
    support_email: Option<String>,
    support_phone: Option<String>,
    support_url: Option<String>,
    url: Option<String>,
}

impl BusinessProfileObject {
    fn new(profile: &BusinessProfile) -> Self {
        Self {
            annual_revenue: None,
            estimated_worker_count: None,
            mcc: profile.mcc.clone(),
            minority_owned_business_designation: None,
            name: profile.name.clone(),
            product_description: profile.product_description.clone(),
            support_address: None,
            support_email: profile.support_email.clone(),
            support_phone: profile.support_phone.clone(),
            support_url: profile.support_url.clone(),
            url: profile.url.clone(),
        }
    }
}

/// The `requirements` and `future_requirements` hashes.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementsObject {
    alternatives: Vec<AlternativeObject>,
    current_deadline: Option<i64>,
    currently_due: Vec<String>,
    disabled_reason: Option<&'static str>,
    errors: Vec<ErrorObject>,
    eventually_due: Vec<String>,
    past_due: Vec<String>,
    pending_verification: Vec<String>,
}

impl RequirementsObject {
    fn new(requirements: &Requirements) -> Self {
        Self {
            alternatives: alternatives(requirements),
            current_deadline: requirements.current_deadline.map(Timestamp::as_secs),
            currently_due: requirements.currently_due.clone(),
            disabled_reason: requirements.disabled_reason,
            errors: errors(requirements),
            eventually_due: requirements.eventually_due.clone(),
            past_due: requirements.past_due.clone(),
            pending_verification: requirements.pending_verification.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct AlternativeObject {
    alternative_fields_due: Vec<String>,
    original_fields_due: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
struct ErrorObject {
    code: String,
    reason: String,
    requirement: String,
}

fn alternatives(requirements: &Requirements) -> Vec<AlternativeObject> {
    requirements
        .alternatives
        .iter()
        .map(|alternative| AlternativeObject {
            alternative_fields_due: alternative.alternative_fields_due.clone(),
            original_fields_due: alternative.original_fields_due.clone(),
        })
        .collect()
}

fn errors(requirements: &Requirements) -> Vec<ErrorObject> {
    requirements
        .errors
        .iter()
        .map(|error| ErrorObject {
            code: error.code.clone(),
            reason: error.reason.clone(),
            requirement: error.requirement.clone(),
        })
        .collect()
}

/// A person's `requirements` hash: no deadline, no disabled reason.
#[derive(Debug, Clone, Serialize)]
struct PersonRequirementsObject {
    alternatives: Vec<AlternativeObject>,
    currently_due: Vec<String>,
    errors: Vec<ErrorObject>,
    eventually_due: Vec<String>,
    past_due: Vec<String>,
    pending_verification: Vec<String>,
}

impl PersonRequirementsObject {
    fn new(requirements: &Requirements) -> Self {
        Self {
            alternatives: alternatives(requirements),
            currently_due: requirements.currently_due.clone(),
            errors: errors(requirements),
            eventually_due: requirements.eventually_due.clone(),
            past_due: requirements.past_due.clone(),
            pending_verification: requirements.pending_verification.clone(),
        }
    }
}

/// The `person` object.
#[derive(Debug, Clone, Serialize)]
pub struct PersonObject {
    id: PersonId,
    object: &'static str,
    account: AccountId,
    address: AddressObject,
    created: i64,
    dob: Dob,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    first_name: Option<String>,
    future_requirements: PersonRequirementsObject,
    id_number_provided: bool,
    last_name: Option<String>,
    metadata: Metadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    relationship: RelationshipObject,
    requirements: PersonRequirementsObject,
    ssn_last_4_provided: bool,
    verification: VerificationObject,
}

impl PersonObject {
    /// `person` of `account`, as assessed.
    pub fn new(person: &Person, account: &Account, assessment: &Assessment) -> Self {
        let empty = PersonAssessment {
            requirements: Requirements::default(),
            verification_status: "unverified",
        };
        let own = assessment.persons.get(&person.id).unwrap_or(&empty);
        let details: &PersonDetails = &person.details;
        Self {
            id: person.id.clone(),
            object: "person",
            account: account.id.clone(),
            address: AddressObject::new(&details.address, &account.country),
            created: person.created.as_secs(),
            dob: details.dob,
            email: details.email.clone(),
            first_name: details.first_name.clone(),
            future_requirements: PersonRequirementsObject::new(&Requirements::default()),
            id_number_provided: details.id_number_provided,
            last_name: details.last_name.clone(),
            metadata: person.metadata.clone(),
            phone: details.phone.clone(),
            relationship: RelationshipObject::new(&person.relationship),
            requirements: PersonRequirementsObject::new(&own.requirements),
            ssn_last_4_provided: details.ssn_last_4_provided,
            verification: VerificationObject {
                additional_document: DocumentObject::default(),
                details: None,
                details_code: None,
                document: DocumentObject::default(),
                status: own.verification_status,
            },
        }
    }
}

/// An address, its country defaulting to the account's.
#[derive(Debug, Clone, Serialize)]
struct AddressObject {
    city: Option<String>,
    country: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    postal_code: Option<String>,
    state: Option<String>,
}

impl AddressObject {
    fn new(address: &Address, country: &str) -> Self {
        Self {
            city: address.city.clone(),
            country: Some(
                address
                    .country
                    .clone()
                    .unwrap_or_else(|| country.to_owned()),
            ),
            line1: address.line1.clone(),
            line2: address.line2.clone(),
            postal_code: address.postal_code.clone(),
            state: address.state.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct RelationshipObject {
    authorizer: bool,
    director: bool,
    executive: bool,
    legal_guardian: bool,
    owner: bool,
    percent_ownership: Option<f64>,
    representative: bool,
    title: Option<String>,
}

impl RelationshipObject {
    fn new(relationship: &Relationship) -> Self {
        Self {
            authorizer: relationship.authorizer,
            director: relationship.director,
            executive: relationship.executive,
            legal_guardian: relationship.legal_guardian,
            owner: relationship.owner,
            percent_ownership: relationship.percent_ownership.map(|p| p.as_f64()),
            representative: relationship.representative,
            title: relationship.title.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct VerificationObject {
    additional_document: DocumentObject,
    details: Option<String>,
    details_code: Option<String>,
    document: DocumentObject,
    status: &'static str,
}

/// An identity document: none is ever uploaded here.
#[derive(Debug, Clone, Default, Serialize)]
struct DocumentObject {
    back: Option<String>,
    details: Option<String>,
    details_code: Option<String>,
    front: Option<String>,
}

/// The `company` hash.
#[derive(Debug, Clone, Serialize)]
struct CompanyObject {
    address: AddressObject,
    directors_provided: bool,
    executives_provided: bool,
    name: Option<String>,
    owners_provided: bool,
    phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    structure: Option<String>,
    tax_id_provided: bool,
    verification: CompanyVerificationObject,
}

impl CompanyObject {
    fn new(company: &Company, country: &str) -> Self {
        Self {
            address: AddressObject::new(&company.address, country),
            directors_provided: company.directors_provided,
            executives_provided: company.executives_provided,
            name: company.name.clone(),
            owners_provided: company.owners_provided,
            phone: company.phone.clone(),
            structure: company.structure.clone(),
            tax_id_provided: company.tax_id_provided,
            verification: CompanyVerificationObject {
                document: DocumentObject::default(),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct CompanyVerificationObject {
    document: DocumentObject,
}

#[derive(Debug, Clone, Serialize)]
struct TosAcceptanceObject {
    date: Option<i64>,
    ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_agreement: Option<&'static str>,
    user_agent: Option<String>,
}

impl TosAcceptanceObject {
    fn new(tos: &TosAcceptance) -> Self {
        Self {
            date: tos.date.map(Timestamp::as_secs),
            ip: tos.ip.clone(),
            service_agreement: tos.service_agreement.map(|agreement| agreement.as_str()),
            user_agent: tos.user_agent.clone(),
        }
    }
}

/// `settings`, as Stripe renders a fresh account's, with what onboarding sets.
#[derive(Debug, Clone, Serialize)]
struct SettingsObject {
    bacs_debit_payments: serde_json::Value,
    branding: serde_json::Value,
    card_issuing: serde_json::Value,
    card_payments: serde_json::Value,
    dashboard: serde_json::Value,
    invoices: serde_json::Value,
    payments: PaymentsSettingsObject,
    payouts: PayoutsSettingsObject,
    sepa_debit_payments: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
struct PaymentsSettingsObject {
    statement_descriptor: Option<String>,
    statement_descriptor_kana: Option<String>,
    statement_descriptor_kanji: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct PayoutsSettingsObject {
    debit_negative_balances: bool,
    schedule: ScheduleObject,
    statement_descriptor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct ScheduleObject {
    delay_days: u32,
    interval: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    monthly_anchor: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weekly_anchor: Option<&'static str>,
}

impl SettingsObject {
    fn new(account: &Account) -> Self {
        use serde_json::json;
        let settings = &account.profile.settings;
        let schedule = settings.payout_schedule(&account.country);
        Self {
            bacs_debit_payments: json!({"display_name": null, "service_user_number": null}),
            branding: json!({"icon": null, "logo": null, "primary_color": null, "secondary_color": null}),
            card_issuing: json!({"tos_acceptance": {"date": null, "ip": null}}),
            card_payments: json!({
                "decline_on": {"avs_failure": false, "cvc_failure": false},
                "statement_descriptor_prefix": null,
                "statement_descriptor_prefix_kana": null,
                "statement_descriptor_prefix_kanji": null,
            }),
            dashboard: json!({
                "display_name": account.profile.business_profile.name,
                "timezone": "Etc/UTC",
            }),
            invoices: json!({"default_account_tax_ids": null, "hosted_payment_method_save": "always"}),
            payments: PaymentsSettingsObject {
                statement_descriptor: settings.statement_descriptor.clone(),
                statement_descriptor_kana: None,
                statement_descriptor_kanji: None,
            },
            payouts: PayoutsSettingsObject {
                // Stripe debits negative balances from the bank account of
                // accounts with a Stripe dashboard, not of Custom ones.
                debit_negative_balances: account.account_type()
                    != super::account::AccountType::Custom,
                schedule: ScheduleObject {
                    delay_days: schedule.delay_days,
                    interval: schedule.interval.as_str(),
                    monthly_anchor: schedule.monthly_anchor,
                    weekly_anchor: schedule.weekly_anchor.map(|day| day.as_str()),
                },
                statement_descriptor: None,
            },
            sepa_debit_payments: json!({}),
        }
    }
}

/// Stripe's `bank_account` object.
#[derive(Debug, Clone, Serialize)]
pub struct BankAccountObject {
    id: ExternalAccountId,
    object: &'static str,
    account: AccountId,
    account_holder_name: Option<String>,
    account_holder_type: Option<&'static str>,
    account_type: Option<()>,
    available_payout_methods: Vec<&'static str>,
    bank_name: Option<&'static str>,
    country: String,
    currency: String,
    default_for_currency: bool,
    fingerprint: String,
    future_requirements: BankRequirementsObject,
    last4: String,
    metadata: Metadata,
    requirements: BankRequirementsObject,
    routing_number: Option<String>,
    status: &'static str,
}

/// A bank account's requirements: nothing is ever due here.
#[derive(Debug, Clone, Default, Serialize)]
struct BankRequirementsObject {
    currently_due: Vec<String>,
    errors: Vec<String>,
    past_due: Vec<String>,
    pending_verification: Vec<String>,
}

impl BankAccountObject {
    /// `bank` as Stripe renders it.
    pub fn new(bank: &BankAccount) -> Self {
        let test_bank = bank.is_test_bank();
        Self {
            id: bank.id.clone(),
            object: "bank_account",
            account: bank.account.clone(),
            account_holder_name: bank.account_holder_name.clone(),
            account_holder_type: bank.account_holder_type.map(|t| t.as_str()),
            account_type: None,
            // Stripe's test number 000888888883 is the one not eligible for
            // instant payouts; only its last four digits are kept.
            available_payout_methods: if test_bank && bank.last4 == "8883" {
                vec!["standard"]
            } else {
                vec!["standard", "instant"]
            },
            bank_name: test_bank.then_some("STRIPE TEST BANK"),
            country: bank.country.clone(),
            currency: bank.currency.clone(),
            default_for_currency: bank.default_for_currency,
            fingerprint: bank.fingerprint.clone(),
            future_requirements: BankRequirementsObject::default(),
            last4: bank.last4.clone(),
            metadata: Metadata::new(),
            requirements: BankRequirementsObject::default(),
            routing_number: bank.routing_number.clone(),
            // Nothing is ever paid out here, so no payout can fail.
            status: "new",
        }
    }
}

/// A person as seen through the Persons API: requirements from the account's
/// assessment.
pub fn person_object(person: &Person, account: &Account, now: Timestamp) -> PersonObject {
    PersonObject::new(person, account, &account.assess(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_currencies_follow_the_country() {
        assert_eq!(default_currency("US"), "usd");
        assert_eq!(default_currency("DE"), "eur");
        assert_eq!(default_currency("GB"), "gbp");
        assert_eq!(default_currency("ZZ"), "usd");
    }
}
