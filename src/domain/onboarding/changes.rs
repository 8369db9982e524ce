//! Changes to what an account tells about itself, as commands, and the rules
//! for applying them: which combinations Stripe refuses, and which checks a
//! changed value re-runs. Secrets arrive here (ID numbers, tax IDs), are
//! checked, and leave only as "provided" flags and check outcomes.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::clock::Timestamp;
use crate::domain::account::{FieldUpdate, Metadata, MetadataError, MetadataUpdate};
use crate::domain::ids::PersonId;

use super::identity::{
    Address, BusinessType, Company, Dob, Percent, Person, PersonDetails, Relationship,
    ServiceAgreement, TosAcceptance,
};
use super::verification::Verifier;

/// A secret the API accepts but never returns or stores: an ID number, an SSN
/// or a tax ID. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a submitted value.
    pub fn new(value: &str) -> Self {
        Self(SecretString::from(value))
    }

    fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

/// Changes to an address, line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressUpdate {
    /// `city`
    pub city: FieldUpdate,
    /// `country`
    pub country: FieldUpdate,
    /// `line1`
    pub line1: FieldUpdate,
    /// `line2`
    pub line2: FieldUpdate,
    /// `postal_code`
    pub postal_code: FieldUpdate,
    /// `state`
    pub state: FieldUpdate,
}

impl AddressUpdate {
    fn apply(&self, current: &Address) -> Address {
        Address {
            city: self.city.apply(&current.city),
            country: self.country.apply(&current.country),
            line1: self.line1.apply(&current.line1),
            line2: self.line2.apply(&current.line2),
            postal_code: self.postal_code.apply(&current.postal_code),
            state: self.state.apply(&current.state),
        }
    }
}

/// A date of birth in a request: set whole, or cleared (`dob=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DobUpdate {
    /// Replace it.
    Set(Dob),
    /// Remove it.
    Clear,
}

/// A change to a share of ownership: leave it, clear it or set it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PercentUpdate {
    /// Not in the request.
    #[default]
    Keep,
    /// Sent empty: unset.
    Clear,
    /// A new share.
    Set(Percent),
}

/// Changes to a person's relationship.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelationshipUpdate {
    /// `authorizer`
    pub authorizer: Option<bool>,
    /// `director`
    pub director: Option<bool>,
    /// `executive`
    pub executive: Option<bool>,
    /// `legal_guardian`
    pub legal_guardian: Option<bool>,
    /// `owner`
    pub owner: Option<bool>,
    /// `percent_ownership`
    pub percent_ownership: PercentUpdate,
    /// `representative`
    pub representative: Option<bool>,
    /// `title`
    pub title: FieldUpdate,
}

impl RelationshipUpdate {
    fn apply(&self, current: &Relationship) -> Relationship {
        let or = |update: Option<bool>, current: bool| update.unwrap_or(current);
        Relationship {
            authorizer: or(self.authorizer, current.authorizer),
            director: or(self.director, current.director),
            executive: or(self.executive, current.executive),
            legal_guardian: or(self.legal_guardian, current.legal_guardian),
            owner: or(self.owner, current.owner),
            percent_ownership: match self.percent_ownership {
                PercentUpdate::Keep => current.percent_ownership,
                PercentUpdate::Clear => None,
                PercentUpdate::Set(share) => Some(share),
            },
            representative: or(self.representative, current.representative),
            title: self.title.apply(&current.title),
        }
    }
}

/// Changes to a person (`individual[...]`, or a Persons API request).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonUpdate {
    /// `first_name`
    pub first_name: FieldUpdate,
    /// `last_name`
    pub last_name: FieldUpdate,
    /// `email`
    pub email: FieldUpdate,
    /// `phone`
    pub phone: FieldUpdate,
    /// `dob`
    pub dob: Option<DobUpdate>,
    /// `address`
    pub address: AddressUpdate,
    /// `id_number`: checked, then forgotten.
    pub id_number: Option<Secret>,
    /// `ssn_last_4`: checked, then forgotten.
    pub ssn_last_4: Option<Secret>,
    /// `relationship`
    pub relationship: RelationshipUpdate,
    /// `metadata`
    pub metadata: MetadataUpdate,
}

impl PersonUpdate {
    /// The person's details after this change, with the checks of every
    /// changed value run again.
    fn apply_details(&self, current: &PersonDetails, verifier: &Verifier) -> PersonDetails {
        let mut next = PersonDetails {
            first_name: self.first_name.apply(&current.first_name),
            last_name: self.last_name.apply(&current.last_name),
            email: self.email.apply(&current.email),
            phone: self.phone.apply(&current.phone),
            dob: match self.dob {
                None => current.dob,
                Some(DobUpdate::Set(dob)) => dob,
                Some(DobUpdate::Clear) => Dob::default(),
            },
            address: self.address.apply(&current.address),
            ..current.clone()
        };
        if next.dob != current.dob {
            next.checks.dob = verifier.date_of_birth(&next.dob);
        }
        if next.address.line1 != current.address.line1 {
            next.checks.address = verifier.address(&next.address);
        }
        // A full ID number decides the identity check over its last four.
        if let Some(number) = self.id_number.as_ref().or(self.ssn_last_4.as_ref()) {
            next.checks.id_number = Some(verifier.id_number(number.expose()));
        }
        if self.id_number.is_some() {
            next.id_number_provided = true;
            next.ssn_last_4_provided = true;
        }
        if self.ssn_last_4.is_some() {
            next.ssn_last_4_provided = true;
        }
        next
    }
}

/// Changes to the company (`company[...]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyUpdate {
    /// `name`
    pub name: FieldUpdate,
    /// `phone`
    pub phone: FieldUpdate,
    /// `structure`
    pub structure: FieldUpdate,
    /// `address`
    pub address: AddressUpdate,
    /// `tax_id`: checked, then forgotten.
    pub tax_id: Option<Secret>,
    /// `directors_provided`
    pub directors_provided: Option<bool>,
    /// `executives_provided`
    pub executives_provided: Option<bool>,
    /// `owners_provided`
    pub owners_provided: Option<bool>,
}

impl CompanyUpdate {
    fn apply(&self, current: &Company, verifier: &Verifier) -> Company {
        let mut next = Company {
            name: self.name.apply(&current.name),
            phone: self.phone.apply(&current.phone),
            structure: self.structure.apply(&current.structure),
            address: self.address.apply(&current.address),
            directors_provided: self
                .directors_provided
                .unwrap_or(current.directors_provided),
            executives_provided: self
                .executives_provided
                .unwrap_or(current.executives_provided),
            owners_provided: self.owners_provided.unwrap_or(current.owners_provided),
            ..current.clone()
        };
        if next.address.line1 != current.address.line1 {
            next.checks.address = verifier.address(&next.address);
        }
        if let Some(tax_id) = &self.tax_id {
            next.tax_id_provided = true;
            next.checks.tax_id = Some(verifier.tax_id(tax_id.expose()));
        }
        next
    }
}

/// Changes to the terms acceptance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TosUpdate {
    /// `date`
    pub date: Option<Timestamp>,
    /// `ip`
    pub ip: FieldUpdate,
    /// `user_agent`
    pub user_agent: FieldUpdate,
    /// `service_agreement`
    pub service_agreement: Option<ServiceAgreement>,
}

impl TosUpdate {
    fn apply(&self, current: &TosAcceptance) -> TosAcceptance {
        TosAcceptance {
            date: self.date.or(current.date),
            ip: self.ip.apply(&current.ip),
            user_agent: self.user_agent.apply(&current.user_agent),
            service_agreement: self.service_agreement.or(current.service_agreement),
        }
    }
}

/// A change Stripe refuses, with the parameter to blame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// The parameter, in bracket form.
    pub param: String,
    /// Stripe's message.
    pub message: String,
}

impl Refusal {
    fn new(param: &str, message: impl Into<String>) -> Self {
        Self {
            param: param.to_owned(),
            message: message.into(),
        }
    }
}

impl From<MetadataError> for Refusal {
    fn from(error: MetadataError) -> Self {
        Self {
            param: error.param(),
            message: error.to_string(),
        }
    }
}

/// What an account tells about itself, as changed by requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Identity {
    /// `business_type`
    pub business_type: Option<BusinessType>,
    /// `company`
    pub company: Company,
    /// Every person, newest last; the individual is the representative of an
    /// `individual` account.
    pub persons: Vec<Person>,
    /// `tos_acceptance`
    pub tos_acceptance: TosAcceptance,
}

/// Changes to an account's identity in one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityUpdate {
    /// `business_type`
    pub business_type: Option<BusinessType>,
    /// `individual[...]`
    pub individual: Option<PersonUpdate>,
    /// `company[...]`
    pub company: Option<CompanyUpdate>,
    /// `tos_acceptance[...]`
    pub tos_acceptance: Option<TosUpdate>,
}

impl IdentityUpdate {
    /// Whether the request changes nothing here.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl Identity {
    /// The individual of an `individual` account: its representative.
    pub fn individual(&self) -> Option<&Person> {
        (self.business_type == Some(BusinessType::Individual))
            .then(|| self.persons.iter().find(|p| p.relationship.representative))
            .flatten()
    }

    /// The identity after `update`, or Stripe's refusal.
    pub fn updated(&self, update: &IdentityUpdate, verifier: &Verifier) -> Result<Self, Refusal> {
        let business_type = update.business_type.or(self.business_type);
        if update.individual.is_some() || update.company.is_some() {
            let Some(business_type) = business_type else {
                let param = if update.individual.is_some() {
                    "individual"
                } else {
                    "company"
                };
                return Err(Refusal::new(
                    param,
                    "The `business_type` must be provided when sending either of `individual` or `company` parameters.",
                ));
            };
            if update.individual.is_some() && business_type != BusinessType::Individual {
                return Err(Refusal::new(
                    "individual",
                    "You can only provide `individual` parameters for accounts with `business_type` of 'individual'.",
                ));
            }
        }
        let mut next = Self {
            business_type,
            company: match &update.company {
                Some(company) => company.apply(&self.company, verifier),
                None => self.company.clone(),
            },
            tos_acceptance: match &update.tos_acceptance {
                Some(tos) => tos.apply(&self.tos_acceptance),
                None => self.tos_acceptance.clone(),
            },
            persons: self.persons.clone(),
        };
        if let Some(individual) = &update.individual {
            let existing = next.individual().map(|person| person.id.clone());
            let mut as_individual = individual.clone();
            as_individual.relationship.representative = Some(true);
            match existing {
                Some(id) => {
                    next.update_person(&id, &as_individual, verifier)?;
                }
                None => {
                    next.add_person(&as_individual, PersonId::generate(), verifier.now, verifier)?;
                }
            }
        }
        Ok(next)
    }

    /// Adds a person; returns it as stored.
    pub fn add_person(
        &mut self,
        update: &PersonUpdate,
        id: PersonId,
        created: Timestamp,
        verifier: &Verifier,
    ) -> Result<Person, Refusal> {
        let person = Person {
            id,
            details: update.apply_details(&PersonDetails::default(), verifier),
            relationship: update.relationship.apply(&Relationship::default()),
            metadata: update.metadata.apply(&Metadata::new())?,
            created,
        };
        let mut next = self.clone();
        next.persons.push(person.clone());
        next.settle_roles(&person)?;
        *self = next;
        Ok(person)
    }

    /// Changes one person; `None` if the account has no such person.
    pub fn update_person(
        &mut self,
        id: &PersonId,
        update: &PersonUpdate,
        verifier: &Verifier,
    ) -> Result<Option<Person>, Refusal> {
        let Some(index) = self.persons.iter().position(|p| p.id == *id) else {
            return Ok(None);
        };
        let current = &self.persons[index];
        let person = Person {
            details: update.apply_details(&current.details, verifier),
            relationship: update.relationship.apply(&current.relationship),
            metadata: update.metadata.apply(&current.metadata)?,
            ..current.clone()
        };
        let mut next = self.clone();
        next.persons[index] = person.clone();
        next.settle_roles(&person)?;
        *self = next;
        Ok(Some(person))
    }

    /// Removes one person; `None` if there is no such person.
    pub fn remove_person(&mut self, id: &PersonId) -> Result<Option<Person>, Refusal> {
        let Some(index) = self.persons.iter().position(|p| p.id == *id) else {
            return Ok(None);
        };
        if self.persons[index].relationship.representative {
            return Err(Refusal::new(
                "person",
                "You cannot delete the representative of an account. Make another person the representative first.",
            ));
        }
        Ok(Some(self.persons.remove(index)))
    }

    /// Keeps the roles consistent after `changed` was written (on a copy, so
    /// a refusal changes nothing): one
    /// representative at a time (the newest wins), and at most 100% owned.
    fn settle_roles(&mut self, changed: &Person) -> Result<(), Refusal> {
        if changed.relationship.representative {
            for person in &mut self.persons {
                if person.id != changed.id {
                    person.relationship.representative = false;
                }
            }
        }
        let owned: u32 = self
            .persons
            .iter()
            .filter_map(|p| p.relationship.percent_ownership)
            .map(|Percent(share)| share)
            .sum();
        if owned > Percent::WHOLE.0 {
            return Err(Refusal::new(
                "relationship[percent_ownership]",
                "The total combined ownership of the company would exceed 100 percent.",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::mode::Mode;
    use crate::domain::onboarding::verification::{Check, CheckState};

    const NOW: Timestamp = Timestamp::from_secs(1_780_272_000);

    fn verifier() -> Verifier {
        Verifier {
            mode: Mode::Test,
            now: NOW,
            delay: Duration::from_secs(5),
        }
    }

    fn named(first: &str) -> PersonUpdate {
        PersonUpdate {
            first_name: FieldUpdate::Set(first.to_owned()),
            ..PersonUpdate::default()
        }
    }

    #[test]
    fn identity_parameters_need_a_business_type_and_the_right_one() {
        let identity = Identity::default();
        let individual = IdentityUpdate {
            individual: Some(named("Jenny")),
            ..IdentityUpdate::default()
        };
        let refused = identity.updated(&individual, &verifier()).unwrap_err();
        assert_eq!(refused.param, "individual");
        assert!(
            refused
                .message
                .starts_with("The `business_type` must be provided")
        );

        let company = Identity {
            business_type: Some(BusinessType::Company),
            ..Identity::default()
        };
        let refused = company.updated(&individual, &verifier()).unwrap_err();
        assert_eq!(
            refused.message,
            "You can only provide `individual` parameters for accounts with `business_type` of 'individual'."
        );
    }

    #[test]
    fn individual_parameters_create_then_update_the_individual() {
        let update = IdentityUpdate {
            business_type: Some(BusinessType::Individual),
            individual: Some(named("Jenny")),
            ..IdentityUpdate::default()
        };
        let first = Identity::default().updated(&update, &verifier()).unwrap();
        let second = first
            .updated(
                &IdentityUpdate {
                    individual: Some(PersonUpdate {
                        ssn_last_4: Some(Secret::new("0000")),
                        ..PersonUpdate::default()
                    }),
                    ..IdentityUpdate::default()
                },
                &verifier(),
            )
            .unwrap();

        assert_eq!(second.persons.len(), 1);
        let individual = second.individual().unwrap();
        assert_eq!(individual.details.first_name.as_deref(), Some("Jenny"));
        assert!(individual.relationship.representative);
        assert!(individual.details.ssn_last_4_provided);
        assert!(!individual.details.id_number_provided);
        assert_eq!(
            individual
                .details
                .checks
                .id_number
                .as_ref()
                .map(|c| c.state_at(NOW)),
            Some(CheckState::Pending)
        );
    }

    #[test]
    fn a_secret_leaves_only_a_flag_and_an_outcome() {
        let mut identity = Identity::default();
        let person = identity
            .add_person(
                &PersonUpdate {
                    id_number: Some(Secret::new("111111111")),
                    ..PersonUpdate::default()
                },
                PersonId::generate(),
                NOW,
                &verifier(),
            )
            .unwrap();
        let stored = serde_json::to_string(&identity).unwrap();
        assert!(!stored.contains("111111111"));
        assert!(person.details.id_number_provided);
        assert!(matches!(
            person.details.checks.id_number,
            Some(Check::Failed { .. })
        ));
        assert!(!format!("{:?}", Secret::new("123456789")).contains("123456789"));
    }

    #[test]
    fn one_representative_at_a_time_and_no_more_than_all_of_the_company() {
        let mut identity = Identity {
            business_type: Some(BusinessType::Company),
            ..Identity::default()
        };
        let representative = |share: u32| PersonUpdate {
            relationship: RelationshipUpdate {
                representative: Some(true),
                owner: Some(true),
                percent_ownership: PercentUpdate::Set(Percent(share)),
                ..RelationshipUpdate::default()
            },
            ..PersonUpdate::default()
        };
        let first = identity
            .add_person(
                &representative(6_000),
                PersonId::generate(),
                NOW,
                &verifier(),
            )
            .unwrap();
        identity
            .add_person(
                &representative(4_000),
                PersonId::generate(),
                NOW,
                &verifier(),
            )
            .unwrap();
        let too_much =
            identity.add_person(&representative(100), PersonId::generate(), NOW, &verifier());

        assert!(!identity.persons[0].relationship.representative);
        assert!(identity.persons[1].relationship.representative);
        assert_eq!(
            too_much.unwrap_err().param,
            "relationship[percent_ownership]"
        );
        assert!(identity.remove_person(&first.id).unwrap().is_some());
        let representative = identity.persons[0].id.clone();
        assert!(identity.remove_person(&representative).is_err());
    }
}
