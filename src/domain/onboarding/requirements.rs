//! What a connected account must still provide, derived and never stored:
//! one table per country lists the fields each business type needs (in
//! Stripe's requirement strings), every field is read off the account and its
//! checks at one moment, and the requirements hashes, capability statuses and
//! `charges_enabled` / `payouts_enabled` / `details_submitted` follow.
//!
//! Sources (see `docs/ONBOARDING.md`): Stripe's "Required verification
//! information" page, its Country Specs, and real test-mode responses. The
//! United States have their own table; Germany and France share the European
//! one, which also serves every other country as an approximation.

use std::collections::{BTreeMap, BTreeSet};

use crate::clock::Timestamp;
use crate::domain::account::CapabilityStatus;
use crate::domain::ids::PersonId;

use super::identity::{BusinessType, Company, Percent, Person, PersonDetails, TosAcceptance};
use super::verification::{Check, CheckState};

/// Everything the requirements are derived from.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// ISO 3166-1 alpha-2.
    pub country: &'a str,
    /// `business_type`, if known yet.
    pub business_type: Option<BusinessType>,
    /// `business_profile.mcc`
    pub mcc: Option<&'a str>,
    /// `business_profile.url`
    pub url: Option<&'a str>,
    /// `business_profile.product_description`, the alternative to a URL.
    pub product_description: Option<&'a str>,
    /// `settings.payments.statement_descriptor`
    pub statement_descriptor: Option<&'a str>,
    /// `tos_acceptance`
    pub tos_acceptance: &'a TosAcceptance,
    /// `company`
    pub company: &'a Company,
    /// Every person of the account, the individual included.
    pub persons: &'a [Person],
    /// Whether the account has a bank account for payouts.
    pub has_external_account: bool,
    /// The capabilities the platform requested.
    pub requested: &'a [String],
}

/// One entry of `requirements.errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementError {
    /// Stripe's error code.
    pub code: String,
    /// Why, for people.
    pub reason: String,
    /// The requirement string it is about.
    pub requirement: String,
}

/// Fields that would resolve others if provided instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    /// What could be provided instead…
    pub alternative_fields_due: Vec<String>,
    /// …of these.
    pub original_fields_due: Vec<String>,
}

/// A `requirements` (or `future_requirements`) hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    /// `alternatives`
    pub alternatives: Vec<Alternative>,
    /// `current_deadline`: no deadlines are modelled, so always `None`.
    pub current_deadline: Option<Timestamp>,
    /// `currently_due`
    pub currently_due: Vec<String>,
    /// `disabled_reason`
    pub disabled_reason: Option<&'static str>,
    /// `errors`
    pub errors: Vec<RequirementError>,
    /// `eventually_due`
    pub eventually_due: Vec<String>,
    /// `past_due`
    pub past_due: Vec<String>,
    /// `pending_verification`
    pub pending_verification: Vec<String>,
}

/// What one person still has to provide, and how they verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonAssessment {
    /// The person's own `requirements`, with unprefixed strings.
    pub requirements: Requirements,
    /// `verification.status`: `unverified`, `pending` or `verified`.
    pub verification_status: &'static str,
}

/// Everything that follows from an account's data at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// `requirements`
    pub requirements: Requirements,
    /// `future_requirements`: no future requirements are modelled.
    pub future_requirements: Requirements,
    /// Each person's requirements and verification status.
    pub persons: BTreeMap<PersonId, PersonAssessment>,
    /// The status of every requested capability.
    pub capabilities: BTreeMap<String, CapabilityStatus>,
    /// `charges_enabled`
    pub charges_enabled: bool,
    /// `payouts_enabled`
    pub payouts_enabled: bool,
    /// `details_submitted`
    pub details_submitted: bool,
    /// When this assessment next changes by itself (a pending check
    /// verifying), if it does.
    pub changes_at: Option<Timestamp>,
}

/// A field of a person that a requirement can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PersonField {
    AddressCity,
    AddressLine1,
    AddressPostalCode,
    AddressState,
    DobDay,
    DobMonth,
    DobYear,
    Email,
    FirstName,
    LastName,
    Phone,
    RelationshipExecutive,
    RelationshipTitle,
    SsnLast4,
}

use PersonField as P;

impl PersonField {
    /// The field's requirement string within a person's own hash.
    fn path(self) -> &'static str {
        match self {
            P::AddressCity => "address.city",
            P::AddressLine1 => "address.line1",
            P::AddressPostalCode => "address.postal_code",
            P::AddressState => "address.state",
            P::DobDay => "dob.day",
            P::DobMonth => "dob.month",
            P::DobYear => "dob.year",
            P::Email => "email",
            P::FirstName => "first_name",
            P::LastName => "last_name",
            P::Phone => "phone",
            P::RelationshipExecutive => "relationship.executive",
            P::RelationshipTitle => "relationship.title",
            P::SsnLast4 => "ssn_last_4",
        }
    }

    /// The field's state on `person` at `now`.
    fn state(self, person: &Person, now: Timestamp) -> FieldState<'_> {
        let details: &PersonDetails = &person.details;
        let address = &details.address;
        let dob = &details.dob;
        let checks = &details.checks;
        let present = |value: bool| {
            if value {
                FieldState::Done
            } else {
                FieldState::Missing
            }
        };
        match self {
            P::AddressLine1 => given(address.line1.is_some(), checks.address.as_ref(), now),
            // A failed address check is about its first line only.
            P::AddressCity => given_quietly(address.city.is_some(), checks.address.as_ref(), now),
            P::AddressPostalCode => {
                given_quietly(address.postal_code.is_some(), checks.address.as_ref(), now)
            }
            P::AddressState => given_quietly(address.state.is_some(), checks.address.as_ref(), now),
            P::DobDay => given(dob.day.is_some(), checks.dob.as_ref(), now),
            P::DobMonth => given(dob.month.is_some(), checks.dob.as_ref(), now),
            P::DobYear => given(dob.year.is_some(), checks.dob.as_ref(), now),
            P::SsnLast4 => given(
                details.ssn_last_4_provided || details.id_number_provided,
                checks.id_number.as_ref(),
                now,
            ),
            P::Email => present(details.email.is_some()),
            P::FirstName => present(details.first_name.is_some()),
            P::LastName => present(details.last_name.is_some()),
            P::Phone => present(details.phone.is_some()),
            P::RelationshipExecutive => present(person.relationship.executive),
            P::RelationshipTitle => present(person.relationship.title.is_some()),
        }
    }
}

/// A field of the company that a requirement can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CompanyField {
    AddressCity,
    AddressLine1,
    AddressPostalCode,
    AddressState,
    Name,
    Phone,
    TaxId,
}

use CompanyField as C;

impl CompanyField {
    fn path(self) -> &'static str {
        match self {
            C::AddressCity => "company.address.city",
            C::AddressLine1 => "company.address.line1",
            C::AddressPostalCode => "company.address.postal_code",
            C::AddressState => "company.address.state",
            C::Name => "company.name",
            C::Phone => "company.phone",
            C::TaxId => "company.tax_id",
        }
    }

    fn state(self, company: &Company, now: Timestamp) -> FieldState<'_> {
        let (address, checks) = (&company.address, &company.checks);
        match self {
            C::AddressLine1 => given(address.line1.is_some(), checks.address.as_ref(), now),
            C::AddressCity => given_quietly(address.city.is_some(), checks.address.as_ref(), now),
            C::AddressPostalCode => {
                given_quietly(address.postal_code.is_some(), checks.address.as_ref(), now)
            }
            C::AddressState => given_quietly(address.state.is_some(), checks.address.as_ref(), now),
            C::Name => given(company.name.is_some(), None, now),
            C::Phone => given(company.phone.is_some(), None, now),
            C::TaxId => given(company.tax_id_provided, checks.tax_id.as_ref(), now),
        }
    }
}

/// Where a field stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldState<'a> {
    /// Not provided: due.
    Missing,
    /// Provided, waiting for verification.
    Pending,
    /// Provided, failed verification: due again, with this error.
    Failed { code: &'a str, reason: &'a str },
    /// Provided (and verified, where it is checked).
    Done,
}

/// A provided field's state under its check (none: nothing to verify).
fn given(provided: bool, check: Option<&Check>, now: Timestamp) -> FieldState<'_> {
    if !provided {
        return FieldState::Missing;
    }
    match check.map(|check| check.state_at(now)) {
        None | Some(CheckState::Verified) => FieldState::Done,
        Some(CheckState::Pending) => FieldState::Pending,
        Some(CheckState::Failed { code, reason }) => FieldState::Failed { code, reason },
    }
}

/// Like [`given`], for the parts of a check that a failure does not name.
fn given_quietly(provided: bool, check: Option<&Check>, now: Timestamp) -> FieldState<'_> {
    match given(provided, check, now) {
        FieldState::Failed { .. } => FieldState::Done,
        state => state,
    }
}

/// Which capabilities need a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The account itself (payouts, and every capability).
    All,
    /// Only this capability.
    Capability(&'static str),
}

/// One requirement, read off the account.
#[derive(Debug, Clone)]
struct Item<'a> {
    /// Its string in the account's hash.
    path: String,
    state: FieldState<'a>,
    scope: Scope,
    /// The person it belongs to, and its string in their own hash.
    person: Option<(&'a PersonId, &'static str)>,
}

/// What one country asks of each business type.
#[derive(Debug)]
struct CountryRules {
    /// The representative's fields while the business type is unknown.
    unknown_type_representative: &'static [PersonField],
    individual: &'static [PersonField],
    company: &'static [CompanyField],
    representative: &'static [PersonField],
    owner: &'static [PersonField],
    /// Directors' fields, where directors must be listed.
    director: Option<&'static [PersonField]>,
    /// Whether card payments need a statement descriptor.
    statement_descriptor_for_cards: bool,
    /// Whether a product description may stand in for a website.
    url_alternative: bool,
}

const US_ADDRESS_AND_IDENTITY: &[PersonField] = &[
    P::AddressCity,
    P::AddressLine1,
    P::AddressPostalCode,
    P::AddressState,
    P::DobDay,
    P::DobMonth,
    P::DobYear,
    P::Email,
    P::FirstName,
    P::LastName,
    P::Phone,
    P::SsnLast4,
];

const EU_ADDRESS_AND_IDENTITY: &[PersonField] = &[
    P::AddressCity,
    P::AddressLine1,
    P::AddressPostalCode,
    P::DobDay,
    P::DobMonth,
    P::DobYear,
    P::Email,
    P::FirstName,
    P::LastName,
    P::Phone,
];

/// The United States (Stripe's "Required verification information", US).
const UNITED_STATES: CountryRules = CountryRules {
    unknown_type_representative: &[
        P::DobDay,
        P::DobMonth,
        P::DobYear,
        P::Email,
        P::FirstName,
        P::LastName,
    ],
    individual: US_ADDRESS_AND_IDENTITY,
    company: &[
        C::AddressCity,
        C::AddressLine1,
        C::AddressPostalCode,
        C::AddressState,
        C::Name,
        C::Phone,
        C::TaxId,
    ],
    representative: &[
        P::AddressCity,
        P::AddressLine1,
        P::AddressPostalCode,
        P::AddressState,
        P::DobDay,
        P::DobMonth,
        P::DobYear,
        P::Email,
        P::FirstName,
        P::LastName,
        P::Phone,
        P::RelationshipExecutive,
        P::RelationshipTitle,
        P::SsnLast4,
    ],
    owner: US_ADDRESS_AND_IDENTITY,
    director: None,
    statement_descriptor_for_cards: true,
    url_alternative: true,
};

/// Germany and France (their Country Specs), and every other country.
const EUROPE: CountryRules = CountryRules {
    unknown_type_representative: EU_ADDRESS_AND_IDENTITY,
    individual: EU_ADDRESS_AND_IDENTITY,
    company: &[
        C::AddressCity,
        C::AddressLine1,
        C::AddressPostalCode,
        C::Name,
        C::Phone,
        C::TaxId,
    ],
    representative: &[
        P::AddressCity,
        P::AddressLine1,
        P::AddressPostalCode,
        P::DobDay,
        P::DobMonth,
        P::DobYear,
        P::Email,
        P::FirstName,
        P::LastName,
        P::Phone,
        P::RelationshipTitle,
    ],
    owner: &[
        P::AddressCity,
        P::AddressLine1,
        P::AddressPostalCode,
        P::DobDay,
        P::DobMonth,
        P::DobYear,
        P::Email,
        P::FirstName,
        P::LastName,
    ],
    director: Some(&[
        P::DobDay,
        P::DobMonth,
        P::DobYear,
        P::FirstName,
        P::LastName,
    ]),
    statement_descriptor_for_cards: false,
    url_alternative: false,
};

impl CountryRules {
    fn of(country: &str) -> &'static Self {
        match country {
            "US" => &UNITED_STATES,
            _ => &EUROPE,
        }
    }
}

/// The capabilities Stripe couples: if either is inactive, both are.
const COUPLED: [&str; 2] = ["card_payments", "transfers"];

/// Everything that follows from `subject` at `now`.
pub fn assess(subject: &Subject<'_>, now: Timestamp) -> Assessment {
    let rules = CountryRules::of(subject.country);
    let items: Vec<Item<'_>> = items(subject, rules, now)
        .into_iter()
        .filter(|item| match item.scope {
            Scope::All => true,
            Scope::Capability(name) => subject.requested.iter().any(|r| r == name),
        })
        .collect();

    let requirements = requirements_of(
        items.iter().map(|item| (item.path.as_str(), item.state)),
        rules.url_alternative,
    );

    let mut capabilities: BTreeMap<String, CapabilityStatus> = subject
        .requested
        .iter()
        .map(|name| {
            let relevant = items.iter().filter(|item| match item.scope {
                Scope::All => true,
                Scope::Capability(scope) => scope == name,
            });
            (name.clone(), status_of(relevant.map(|item| item.state)))
        })
        .collect();
    let coupled_inactive = COUPLED
        .iter()
        .any(|name| capabilities.get(*name) == Some(&CapabilityStatus::Inactive));
    if coupled_inactive {
        for name in COUPLED {
            if let Some(status) = capabilities.get_mut(name) {
                *status = CapabilityStatus::Inactive;
            }
        }
    }

    let persons = subject
        .persons
        .iter()
        .map(|person| {
            let own = items.iter().filter_map(|item| match item.person {
                Some((id, path)) if *id == person.id => Some((path, item.state)),
                _ => None,
            });
            let assessment = PersonAssessment {
                requirements: requirements_of(own, false),
                verification_status: verification_status(&person.details, now),
            };
            (person.id.clone(), assessment)
        })
        .collect();

    let active = |name: &str| capabilities.get(name) == Some(&CapabilityStatus::Active);
    let charges_enabled = COUPLED.iter().any(|name| active(name));
    let payouts_enabled = subject.has_external_account
        && capabilities
            .values()
            .any(|status| *status == CapabilityStatus::Active);
    let details_submitted = requirements.currently_due.is_empty();
    Assessment {
        future_requirements: Requirements::default(),
        persons,
        capabilities,
        charges_enabled,
        payouts_enabled,
        details_submitted,
        changes_at: changes_at(subject, now),
        requirements,
    }
}

/// Every requirement of the account, whether met or not.
fn items<'a>(subject: &Subject<'a>, rules: &CountryRules, now: Timestamp) -> Vec<Item<'a>> {
    let mut items = Vec::new();
    let mut account = |path: &str, provided: bool, scope: Scope| {
        items.push(Item {
            path: path.to_owned(),
            state: given(provided, None, now),
            scope,
            person: None,
        });
    };
    account("business_profile.mcc", subject.mcc.is_some(), Scope::All);
    account(
        "business_profile.url",
        subject.url.is_some() || subject.product_description.is_some(),
        Scope::All,
    );
    account("external_account", subject.has_external_account, Scope::All);
    account(
        "tos_acceptance.date",
        subject.tos_acceptance.date.is_some(),
        Scope::All,
    );
    account(
        "tos_acceptance.ip",
        subject.tos_acceptance.ip.is_some(),
        Scope::All,
    );
    if rules.statement_descriptor_for_cards {
        account(
            "settings.payments.statement_descriptor",
            subject.statement_descriptor.is_some(),
            Scope::Capability("card_payments"),
        );
    }

    let with_role = |role: fn(&Person) -> bool| -> Vec<&'a Person> {
        subject.persons.iter().filter(|p| role(p)).collect()
    };
    let representatives = with_role(|p| p.relationship.representative);
    match subject.business_type {
        None => {
            account("business_type", false, Scope::All);
            role_items(
                &mut items,
                "representative",
                &representatives,
                rules.unknown_type_representative,
                true,
                now,
            );
        }
        Some(BusinessType::Individual) => {
            for field in rules.individual {
                let individual = representatives.first();
                items.push(Item {
                    path: format!("individual.{}", field.path()),
                    state: individual.map_or(FieldState::Missing, |p| field.state(p, now)),
                    scope: Scope::All,
                    person: individual.map(|p| (&p.id, field.path())),
                });
            }
        }
        Some(business_type) => {
            let company = subject.company;
            for field in rules.company {
                items.push(Item {
                    path: field.path().to_owned(),
                    state: field.state(company, now),
                    scope: Scope::All,
                    person: None,
                });
            }
            role_items(
                &mut items,
                "representative",
                &representatives,
                rules.representative,
                true,
                now,
            );
            if business_type == BusinessType::Company {
                let owners = with_role(|p| p.relationship.owner);
                let owned: u32 = owners
                    .iter()
                    .filter_map(|p| p.relationship.percent_ownership)
                    .map(|Percent(share)| share)
                    .sum();
                let listed = company.owners_provided || owned >= Percent::WHOLE.0;
                role_items(&mut items, "owners", &owners, rules.owner, !listed, now);
                items.push(Item {
                    path: "company.owners_provided".to_owned(),
                    state: given(listed, None, now),
                    scope: Scope::All,
                    person: None,
                });
                if let Some(director_fields) = rules.director {
                    let directors = with_role(|p| p.relationship.director);
                    let listed = company.directors_provided;
                    role_items(
                        &mut items,
                        "directors",
                        &directors,
                        director_fields,
                        !listed,
                        now,
                    );
                    items.push(Item {
                        path: "company.directors_provided".to_owned(),
                        state: given(listed, None, now),
                        scope: Scope::All,
                        person: None,
                    });
                }
            }
        }
    }
    items
}

/// The requirements of one role: each person's fields, prefixed with their
/// id; while nobody has the role (and `placeholder` says it must be filled),
/// the role's fields as `role.field`.
fn role_items<'a>(
    items: &mut Vec<Item<'a>>,
    role: &str,
    people: &[&'a Person],
    fields: &[PersonField],
    placeholder: bool,
    now: Timestamp,
) {
    if people.is_empty() {
        if placeholder {
            for field in fields {
                items.push(Item {
                    path: format!("{role}.{}", field.path()),
                    state: FieldState::Missing,
                    scope: Scope::All,
                    person: None,
                });
            }
        }
        return;
    }
    for person in people {
        for field in fields {
            items.push(Item {
                path: format!("{}.{}", person.id, field.path()),
                state: field.state(person, now),
                scope: Scope::All,
                person: Some((&person.id, field.path())),
            });
        }
    }
}

/// The requirements hash for these fields.
fn requirements_of<'s, 'a: 's>(
    fields: impl Iterator<Item = (&'s str, FieldState<'a>)>,
    url_alternative: bool,
) -> Requirements {
    let mut due = BTreeSet::new();
    let mut pending = BTreeSet::new();
    let mut errors = Vec::new();
    for (path, state) in fields {
        match state {
            FieldState::Done => {}
            FieldState::Missing => {
                due.insert(path.to_owned());
            }
            FieldState::Pending => {
                pending.insert(path.to_owned());
            }
            FieldState::Failed { code, reason } => {
                due.insert(path.to_owned());
                errors.push(RequirementError {
                    code: code.to_owned(),
                    reason: reason.to_owned(),
                    requirement: path.to_owned(),
                });
            }
        }
    }
    errors.sort_by(|a, b| a.requirement.cmp(&b.requirement));
    errors.dedup();
    let alternatives = if url_alternative && due.contains("business_profile.url") {
        vec![Alternative {
            alternative_fields_due: vec!["business_profile.product_description".to_owned()],
            original_fields_due: vec!["business_profile.url".to_owned()],
        }]
    } else {
        Vec::new()
    };
    let disabled_reason = if !due.is_empty() {
        Some("requirements.past_due")
    } else if !pending.is_empty() {
        Some("requirements.pending_verification")
    } else {
        None
    };
    let currently_due: Vec<String> = due.into_iter().collect();
    Requirements {
        alternatives,
        current_deadline: None,
        // No deadlines are modelled: what is due now is due already, as on a
        // fresh Stripe account, and there are no later thresholds.
        eventually_due: currently_due.clone(),
        past_due: currently_due.clone(),
        currently_due,
        disabled_reason,
        errors,
        pending_verification: pending.into_iter().collect(),
    }
}

/// A capability's status from the states of the fields it needs.
fn status_of<'a>(states: impl Iterator<Item = FieldState<'a>>) -> CapabilityStatus {
    let mut status = CapabilityStatus::Active;
    for state in states {
        match state {
            FieldState::Missing | FieldState::Failed { .. } => return CapabilityStatus::Inactive,
            FieldState::Pending => status = CapabilityStatus::Pending,
            FieldState::Done => {}
        }
    }
    status
}

/// A person's `verification.status`: `verified` once the identity check and
/// every other check they have verified, `pending` while any is pending,
/// `unverified` otherwise.
fn verification_status(details: &PersonDetails, now: Timestamp) -> &'static str {
    let checks = &details.checks;
    let states: Vec<CheckState<'_>> = [&checks.dob, &checks.address, &checks.id_number]
        .into_iter()
        .flatten()
        .map(|check| check.state_at(now))
        .collect();
    if checks.dob.is_none()
        || states
            .iter()
            .any(|s| matches!(s, CheckState::Failed { .. }))
    {
        "unverified"
    } else if states.contains(&CheckState::Pending) {
        "pending"
    } else {
        "verified"
    }
}

/// The earliest time any check of the account verifies by itself.
fn changes_at(subject: &Subject<'_>, now: Timestamp) -> Option<Timestamp> {
    let company = &subject.company.checks;
    let person_checks = subject.persons.iter().flat_map(|person| {
        let checks = &person.details.checks;
        [&checks.dob, &checks.address, &checks.id_number]
    });
    [&company.tax_id, &company.address]
        .into_iter()
        .chain(person_checks)
        .flatten()
        .filter_map(|check| check.changes_at(now))
        .min()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::account::Metadata;
    use crate::domain::mode::Mode;
    use crate::domain::onboarding::identity::{Address, Dob, Relationship};
    use crate::domain::onboarding::verification::Verifier;

    const NOW: Timestamp = Timestamp::from_secs(1_780_272_000);

    fn requested() -> Vec<String> {
        vec!["card_payments".to_owned(), "transfers".to_owned()]
    }

    fn blank<'a>(
        country: &'a str,
        tos: &'a TosAcceptance,
        company: &'a Company,
        persons: &'a [Person],
        requested: &'a [String],
    ) -> Subject<'a> {
        Subject {
            country,
            business_type: None,
            mcc: None,
            url: None,
            product_description: None,
            statement_descriptor: None,
            tos_acceptance: tos,
            company,
            persons,
            has_external_account: false,
            requested,
        }
    }

    fn verifier() -> Verifier {
        Verifier {
            mode: Mode::Test,
            now: NOW,
            delay: Duration::from_secs(5),
        }
    }

    /// A person filled with Stripe's test values, checked by `verifier`.
    fn verified_person(relationship: Relationship, verifier: &Verifier) -> Person {
        let dob = Dob {
            day: Some(1),
            month: Some(1),
            year: Some(1901),
        };
        let address = Address {
            city: Some("Schenectady".to_owned()),
            country: Some("US".to_owned()),
            line1: Some("address_full_match".to_owned()),
            line2: None,
            postal_code: Some("12345".to_owned()),
            state: Some("NY".to_owned()),
        };
        Person {
            id: PersonId::generate(),
            details: PersonDetails {
                first_name: Some("Jenny".to_owned()),
                last_name: Some("Rosen".to_owned()),
                email: Some("jenny@example.com".to_owned()),
                phone: Some("0000000000".to_owned()),
                checks: super::super::identity::PersonChecks {
                    dob: verifier.date_of_birth(&dob),
                    address: verifier.address(&address),
                    id_number: Some(verifier.id_number("0000")),
                },
                dob,
                address,
                id_number_provided: false,
                ssn_last_4_provided: true,
            },
            relationship,
            metadata: Metadata::new(),
            created: NOW,
        }
    }

    #[test]
    fn a_fresh_us_account_shows_stripes_list_for_an_unknown_business_type() {
        let (tos, company, requested) = (TosAcceptance::default(), Company::default(), requested());
        let subject = blank("US", &tos, &company, &[], &requested);

        let assessment = assess(&subject, NOW);

        assert_eq!(
            assessment.requirements.currently_due,
            [
                "business_profile.mcc",
                "business_profile.url",
                "business_type",
                "external_account",
                "representative.dob.day",
                "representative.dob.month",
                "representative.dob.year",
                "representative.email",
                "representative.first_name",
                "representative.last_name",
                "settings.payments.statement_descriptor",
                "tos_acceptance.date",
                "tos_acceptance.ip",
            ]
        );
        assert_eq!(
            assessment.requirements.past_due,
            assessment.requirements.currently_due
        );
        assert_eq!(
            assessment.requirements.disabled_reason,
            Some("requirements.past_due")
        );
        assert_eq!(assessment.requirements.alternatives.len(), 1);
        assert_eq!(
            assessment.capabilities.get("card_payments"),
            Some(&CapabilityStatus::Inactive)
        );
        assert!(!assessment.charges_enabled && !assessment.payouts_enabled);
        assert!(!assessment.details_submitted);
    }

    #[test]
    fn a_us_individual_with_test_values_is_pending_then_active() {
        let verifier = verifier();
        let representative = Relationship {
            representative: true,
            ..Relationship::default()
        };
        let persons = [verified_person(representative, &verifier)];
        let tos = TosAcceptance {
            date: Some(NOW),
            ip: Some("8.8.8.8".to_owned()),
            ..TosAcceptance::default()
        };
        let (company, requested) = (Company::default(), requested());
        let subject = Subject {
            business_type: Some(BusinessType::Individual),
            mcc: Some("5734"),
            url: Some("https://accessible.stripe.com"),
            statement_descriptor: Some("ROCKET RIDES"),
            has_external_account: true,
            ..blank("US", &tos, &company, &persons, &requested)
        };

        let during = assess(&subject, NOW);
        let after = assess(&subject, NOW.plus(Duration::from_secs(5)));

        assert!(during.requirements.currently_due.is_empty());
        assert!(
            during
                .requirements
                .pending_verification
                .contains(&"individual.dob.day".to_owned())
        );
        assert_eq!(
            during.capabilities.get("transfers"),
            Some(&CapabilityStatus::Pending)
        );
        assert!(during.details_submitted && !during.charges_enabled);
        assert_eq!(during.changes_at, Some(NOW.plus(Duration::from_secs(5))));
        assert_eq!(after.requirements, Requirements::default());
        assert_eq!(
            after.capabilities.get("card_payments"),
            Some(&CapabilityStatus::Active)
        );
        assert!(after.charges_enabled && after.payouts_enabled && after.details_submitted);
        assert_eq!(
            after.persons[&persons[0].id].verification_status,
            "verified"
        );
    }

    #[test]
    fn a_failed_date_of_birth_stays_due_with_stripes_error() {
        let verifier = verifier();
        let mut person = verified_person(
            Relationship {
                representative: true,
                ..Relationship::default()
            },
            &verifier,
        );
        person.details.dob.year = Some(1990);
        person.details.checks.dob = verifier.date_of_birth(&person.details.dob);
        let persons = [person];
        let (tos, company, requested) = (TosAcceptance::default(), Company::default(), requested());
        let subject = Subject {
            business_type: Some(BusinessType::Individual),
            ..blank("US", &tos, &company, &persons, &requested)
        };

        let assessment = assess(&subject, NOW.plus(Duration::from_secs(60)));

        assert!(
            assessment
                .requirements
                .currently_due
                .contains(&"individual.dob.year".to_owned())
        );
        let error = assessment
            .requirements
            .errors
            .iter()
            .find(|e| e.requirement == "individual.dob.day")
            .unwrap();
        assert_eq!(error.code, "verification_failed_keyed_identity");
        let own = &assessment.persons[&persons[0].id];
        assert!(
            own.requirements
                .currently_due
                .contains(&"dob.day".to_owned())
        );
        assert_eq!(own.verification_status, "unverified");
    }

    #[test]
    fn a_us_company_names_its_people_by_role_then_by_id() {
        let verifier = verifier();
        let (tos, requested) = (TosAcceptance::default(), requested());
        let company = Company::default();
        let subject = Subject {
            business_type: Some(BusinessType::Company),
            ..blank("US", &tos, &company, &[], &requested)
        };
        let before = assess(&subject, NOW);
        assert!(
            before
                .requirements
                .currently_due
                .contains(&"representative.relationship.title".to_owned())
        );
        assert!(
            before
                .requirements
                .currently_due
                .contains(&"owners.first_name".to_owned())
        );
        assert!(
            before
                .requirements
                .currently_due
                .contains(&"company.owners_provided".to_owned())
        );

        let owner = verified_person(
            Relationship {
                owner: true,
                percent_ownership: Some(Percent(8_000)),
                ..Relationship::default()
            },
            &verifier,
        );
        let persons = [owner];
        let subject = Subject {
            persons: &persons,
            ..subject
        };
        let with_owner = assess(&subject, NOW);
        let due = &with_owner.requirements.currently_due;
        assert!(!due.contains(&"owners.first_name".to_owned()));
        assert!(
            due.contains(&"company.owners_provided".to_owned()),
            "80% is not all"
        );
        assert!(
            with_owner
                .requirements
                .pending_verification
                .contains(&format!("{}.dob.day", persons[0].id))
        );
    }

    #[test]
    fn european_companies_list_directors_and_no_state() {
        let (tos, company, requested) = (TosAcceptance::default(), Company::default(), requested());
        let subject = Subject {
            business_type: Some(BusinessType::Company),
            ..blank("DE", &tos, &company, &[], &requested)
        };
        let due = assess(&subject, NOW).requirements.currently_due;
        assert!(due.contains(&"directors.first_name".to_owned()));
        assert!(due.contains(&"company.directors_provided".to_owned()));
        assert!(!due.contains(&"company.address.state".to_owned()));
        assert!(!due.contains(&"settings.payments.statement_descriptor".to_owned()));
    }
}
