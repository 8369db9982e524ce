//! `/v1/accounts/{id}/persons`: the people of a connected account (its
//! representative, owners, directors, executives), for the platform. Where
//! Stripe collects the account's requirements, they are the account's own
//! once onboarding started, and the platform's key is refused.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::account::{Account, Writer};
use crate::domain::ids::{AccountId, PersonId};
use crate::domain::onboarding::identity::Person;
use crate::domain::wire::{PersonObject, person_object};
use crate::http::account_changes::{
    PersonListParams, PersonParams, author, forbidden, list_persons, no_such_person, person_answer,
    retrieve_person,
};
use crate::http::error::ApiError;
use crate::http::extract::{EventRequest, NoParams, Path, SecretKeyAuth, StripeForm, StripeQuery};
use crate::http::idempotent::Idempotent;
use crate::http::responses::{DeletedResponse, ListResponse};
use crate::http::state::AppState;
use crate::idempotency::KeyRealm;
use crate::store::PersonChange;

/// The person routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/accounts/{id}/persons",
            get(list_account_persons).post(create_person),
        )
        .route(
            "/v1/accounts/{id}/persons/{person}",
            get(retrieve_account_person)
                .post(update_person)
                .delete(delete_person),
        )
}

/// Stripe's answer for an account this key cannot see.
fn no_access(auth: &SecretKeyAuth, id: &str) -> ApiError {
    ApiError::AccountInvalid {
        masked_key: auth.key.masked(),
        account: id.to_owned(),
    }
}

/// The tenant's account `id`, if the platform may still see its persons.
async fn persons_account(
    state: &AppState,
    auth: &SecretKeyAuth,
    id: &str,
) -> Result<Account, ApiError> {
    let parsed = AccountId::parse(id).ok_or_else(|| no_access(auth, id))?;
    let account = match state
        .store
        .find_account(&auth.tenant.platform, &parsed)
        .await?
    {
        Some(account) if account.mode == auth.tenant.mode => account,
        _ => return Err(no_access(auth, id)),
    };
    account
        .check_person_writer(Writer::Platform)
        .map_err(|refusal| forbidden(refusal, &account.id, auth.key.masked()))?;
    Ok(account)
}

#[tracing::instrument(skip_all, fields(account = %id))]
async fn list_account_persons(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    StripeQuery(params): StripeQuery<PersonListParams>,
) -> Result<Json<ListResponse<PersonObject>>, ApiError> {
    let account = persons_account(&state, &auth, &id).await?;
    let url = format!("/v1/accounts/{}/persons", account.id);
    list_persons(&account, &params, state.clock.now(), url).map(Json)
}

#[tracing::instrument(skip_all, fields(account = %id, person = %person))]
async fn retrieve_account_person(
    State(state): State<AppState>,
    Path((id, person)): Path<(String, String)>,
    auth: SecretKeyAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<PersonObject>, ApiError> {
    let account = persons_account(&state, &auth, &id).await?;
    retrieve_person(&account, &person, state.clock.now()).map(Json)
}

/// Runs a change of one person of account `id` for the platform.
async fn change_person<T: serde::Serialize + Send + 'static>(
    state: &AppState,
    auth: &SecretKeyAuth,
    (id, person): (&str, &str),
    request: &EventRequest,
    form: StripeForm<PersonParams>,
    change: fn(PersonId, crate::domain::onboarding::changes::PersonUpdate) -> PersonChange,
    render: fn(&Person, &Account, crate::clock::Timestamp) -> T,
) -> Idempotent<T> {
    let author = author(state, auth.tenant.mode, Writer::Platform, request);
    form.run_idempotent(
        state,
        &auth.tenant,
        KeyRealm::Secret,
        async |PersonParams(update), saver| {
            let account = AccountId::parse(id).ok_or_else(|| no_access(auth, id))?;
            let person_id = PersonId::parse(person).ok_or_else(|| no_such_person(person))?;
            let now = author.now();
            let save = saver.on_success(move |(person, account): &(Person, Account)| {
                render(person, account, now)
            });
            let outcome = state
                .store
                .change_person(
                    &auth.tenant,
                    &account,
                    &change(person_id, update),
                    &author,
                    save,
                )
                .await?;
            person_answer(
                outcome,
                |person, account| render(person, account, now),
                person,
                || no_access(auth, id),
                auth.key.masked(),
                &account,
            )
        },
    )
    .await
}

#[tracing::instrument(skip_all, fields(account = %id))]
async fn create_person(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    request: EventRequest,
    form: StripeForm<PersonParams>,
) -> Idempotent<PersonObject> {
    let new_id = PersonId::generate();
    change_person(
        &state,
        &auth,
        (&id, new_id.as_str()),
        &request,
        form,
        PersonChange::Create,
        person_object,
    )
    .await
}

#[tracing::instrument(skip_all, fields(account = %id, person = %person))]
async fn update_person(
    State(state): State<AppState>,
    Path((id, person)): Path<(String, String)>,
    auth: SecretKeyAuth,
    request: EventRequest,
    form: StripeForm<PersonParams>,
) -> Idempotent<PersonObject> {
    change_person(
        &state,
        &auth,
        (&id, &person),
        &request,
        form,
        PersonChange::Update,
        person_object,
    )
    .await
}

#[tracing::instrument(skip_all, fields(account = %id, person = %person))]
async fn delete_person(
    State(state): State<AppState>,
    Path((id, person)): Path<(String, String)>,
    auth: SecretKeyAuth,
    request: EventRequest,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<DeletedResponse<PersonId>>, ApiError> {
    let account = AccountId::parse(&id).ok_or_else(|| no_access(&auth, &id))?;
    let person_id = PersonId::parse(&person).ok_or_else(|| no_such_person(&person))?;
    let outcome = state
        .store
        .change_person(
            &auth.tenant,
            &account,
            &PersonChange::Delete(person_id),
            &author(&state, auth.tenant.mode, Writer::Platform, &request),
            None,
        )
        .await?;
    person_answer(
        outcome,
        |person, _| DeletedResponse::new(person.id.clone(), "person"),
        &person,
        || no_access(&auth, &id),
        auth.key.masked(),
        &account,
    )
    .map(|written| Json(written.into_body()))
}
