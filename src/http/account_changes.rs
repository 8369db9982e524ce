//! What the platform's endpoints and the account's own (through an embedded
//! session) share when they change an account: the verifier its checks run
//! with, new bank accounts with their fingerprints, and Stripe's errors for a
//! change the writer may not make or Stripe refuses.

use crate::clock::Timestamp;
use crate::domain::account::{Account, Forbidden, Writer};
use crate::domain::external_account::{BankAccountDetails, NewBankAccount};
use crate::domain::ids::{AccountId, PersonId, PlatformId};
use crate::domain::mode::Mode;
use crate::domain::onboarding::changes::{PersonUpdate, Refusal};
use crate::domain::onboarding::identity::Person;
use crate::domain::onboarding::verification::Verifier;
use crate::domain::wire::{PersonObject, person_object};
use crate::store::{Author, Cursor, PersonOutcome};

use super::error::ApiError;
use super::extract::{EventRequest, FromParams};
use super::form::Params;
use super::idempotent::Written;
use super::onboarding_params::read_person;
use super::params::{ListParams, read_expand};
use super::responses::ListResponse;
use super::state::AppState;

/// How checks of values written now run, for an account in `mode`.
pub fn verifier(state: &AppState, mode: Mode) -> Verifier {
    Verifier {
        mode,
        now: state.clock.now(),
        delay: state.config.verification_delay,
    }
}

/// Who makes a change: `writer`, now, on `request`.
pub fn author(state: &AppState, mode: Mode, writer: Writer, request: &EventRequest) -> Author {
    Author {
        writer,
        verifier: verifier(state, mode),
        request: request.0.clone(),
    }
}

/// A bank account for `account` of `platform` from checked details: its
/// fingerprint (scoped to the platform) under every master key, current first,
/// then the unscoped fingerprints rows stored before scoping carry, so that
/// the store refuses a duplicate stored under a key since rotated out or
/// before fingerprints were scoped.
pub fn new_bank_account(
    state: &AppState,
    platform: &PlatformId,
    account: AccountId,
    details: BankAccountDetails,
    make_default: bool,
) -> NewBankAccount {
    let mut known_fingerprints = state
        .keyring
        .fingerprints(&details.fingerprint_input(platform));
    let fingerprint = known_fingerprints.first().cloned().unwrap_or_default();
    known_fingerprints.extend(
        state
            .keyring
            .fingerprints(&details.unscoped_fingerprint_input()),
    );
    let bank = details.into_bank_account(account, fingerprint, state.clock.now());
    NewBankAccount {
        bank,
        known_fingerprints,
        make_default,
    }
}

/// Stripe's error for a change the writer may not make on `account`; an
/// endpoint refused whole names the key (`masked_key`).
pub fn forbidden(forbidden: Forbidden, account: &AccountId, masked_key: String) -> ApiError {
    match forbidden {
        Forbidden::TermsOfService => ApiError::TermsOfServiceForbidden,
        Forbidden::Parameters(params) => ApiError::ParametersForbidden {
            params,
            account: account.to_string(),
        },
        Forbidden::Endpoint => ApiError::EndpointForbidden {
            masked_key,
            account: account.to_string(),
        },
    }
}

/// Stripe's error for a change it refuses.
pub fn refused(refusal: Refusal) -> ApiError {
    ApiError::invalid(refusal.param, refusal.message)
}

/// Parameters of a person's creation or update: its fields and `expand[]`.
#[derive(Debug)]
pub struct PersonParams(pub PersonUpdate);

impl FromParams for PersonParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let update = read_person(params);
        read_expand(params, &[])?;
        Some(Self(update))
    }
}

/// Parameters of a list of persons: paging, and `relationship[ROLE]=true|false`
/// filters.
#[derive(Debug)]
pub struct PersonListParams {
    list: ListParams,
    roles: Vec<(&'static str, bool)>,
}

/// The roles a list of persons filters on.
const ROLES: [&str; 6] = [
    "authorizer",
    "director",
    "executive",
    "legal_guardian",
    "owner",
    "representative",
];

impl FromParams for PersonListParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let mut roles = Vec::new();
        if let Some(mut relationship) = params.optional_hash("relationship") {
            for role in ROLES {
                if let Some(wanted) = relationship.optional_bool(role) {
                    roles.push((role, wanted));
                }
            }
        }
        let list = ListParams::from_params(params)?;
        Some(Self { list, roles })
    }
}

/// Whether `person` has `role`.
fn has_role(person: &Person, role: &str) -> bool {
    let relationship = &person.relationship;
    match role {
        "authorizer" => relationship.authorizer,
        "director" => relationship.director,
        "executive" => relationship.executive,
        "legal_guardian" => relationship.legal_guardian,
        "owner" => relationship.owner,
        _ => relationship.representative,
    }
}

/// A page of `account`'s persons, newest first, as `url` lists them.
pub fn list_persons(
    account: &Account,
    params: &PersonListParams,
    now: Timestamp,
    url: String,
) -> Result<ListResponse<PersonObject>, ApiError> {
    let assessment = account.assess(now);
    // Persons are kept oldest first; a list is newest first.
    let persons: Vec<&Person> = account
        .profile
        .identity
        .persons
        .iter()
        .rev()
        .filter(|person| {
            params
                .roles
                .iter()
                .all(|(role, wanted)| has_role(person, role) == *wanted)
        })
        .collect();
    let position = |id: &PersonId| persons.iter().position(|person| person.id == *id);
    let cursor = params.list.cursor("person", PersonId::parse)?;
    let missing = || params.list.cursor_missing("person");
    let limit = params.list.limit as usize;
    let (page, has_more): (Vec<&Person>, bool) = match &cursor {
        Cursor::Start => (
            persons.iter().take(limit).copied().collect(),
            persons.len() > limit,
        ),
        Cursor::StartingAfter(id) => {
            let after = position(id).ok_or_else(missing)? + 1;
            let rest = &persons[after..];
            (
                rest.iter().take(limit).copied().collect(),
                rest.len() > limit,
            )
        }
        Cursor::EndingBefore(id) => {
            let before = position(id).ok_or_else(missing)?;
            let start = before.saturating_sub(limit);
            (persons[start..before].to_vec(), start > 0)
        }
    };
    Ok(ListResponse::new(
        page.into_iter()
            .map(|person| PersonObject::new(person, account, &assessment))
            .collect(),
        has_more,
        url,
    ))
}

/// Stripe's answer for a person the account does not have.
pub fn no_such_person(id: &str) -> ApiError {
    ApiError::NoSuchObject {
        object: "person",
        id: id.to_owned(),
    }
}

/// The person `id` of `account`, rendered.
pub fn retrieve_person(
    account: &Account,
    id: &str,
    now: Timestamp,
) -> Result<PersonObject, ApiError> {
    let person = account
        .profile
        .identity
        .persons
        .iter()
        .find(|person| person.id.as_str() == id)
        .ok_or_else(|| no_such_person(id))?;
    Ok(person_object(person, account, now))
}

/// What a person's creation, update or deletion answers, from the store's
/// outcome; `account_missing` is the error for an account the caller cannot see.
pub fn person_answer<T>(
    outcome: PersonOutcome,
    render: impl FnOnce(&Person, &Account) -> T,
    person_id: &str,
    account_missing: impl FnOnce() -> ApiError,
    masked_key: String,
    account_id: &AccountId,
) -> Result<Written<T>, ApiError> {
    match outcome {
        PersonOutcome::Done(done, saved) => {
            let (person, account) = *done;
            Ok(Written::new(render(&person, &account), saved))
        }
        PersonOutcome::AccountNotFound => Err(account_missing()),
        PersonOutcome::PersonNotFound => Err(no_such_person(person_id)),
        PersonOutcome::Forbidden(refusal) => Err(forbidden(refusal, account_id, masked_key)),
        PersonOutcome::Invalid(refusal) => Err(refused(refusal)),
    }
}
