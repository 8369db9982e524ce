//! The client-side API: what a browser may call with the `em_` key it got by
//! claiming an account session's client secret. Every endpoint checks that the
//! session's components grant it, and acts only on the session's account.

use axum::extract::State;
use axum::routing::{delete, get};
use axum::{Extension, Json, Router};

use crate::clock::Timestamp;
use crate::domain::account::{Account, AccountUpdate, FieldUpdate, Writer};
use crate::domain::embedded_session::Capability;
use crate::domain::external_account::{BankAccount, BankAccountDetails};
use crate::domain::ids::{EmbeddedSessionId, ExternalAccountId, PersonId};
use crate::domain::onboarding::changes::PersonUpdate;
use crate::domain::onboarding::identity::Person;
use crate::domain::wire::{AccountObject, BankAccountObject, PersonObject, Viewer, person_object};
use crate::http::account_changes::{
    PersonListParams, PersonParams, author, forbidden, list_persons, new_bank_account,
    no_such_person, person_answer, refused, retrieve_person,
};
use crate::http::body::BrowserEndpoint;
use crate::http::error::ApiError;
use crate::http::extract::{
    EmbeddedAuth, EventRequest, FromParams, NoParams, Path, RequestOrigin, StripeForm, StripeQuery,
};
use crate::http::form::Params;
use crate::http::idempotent::{Idempotent, Written};
use crate::http::onboarding_params::{
    read_bank_fields, read_business_profile, read_identity, read_settings,
};
use crate::http::params::{ACCOUNT_EXPANDABLE, ListParams, read_email_update, read_expand};
use crate::http::responses::{DeletedResponse, EmbeddedSessionResponse, ListResponse};
use crate::http::state::AppState;
use crate::idempotency::KeyRealm;
use crate::store::{
    AccountChange, AccountUpdateOutcome, BankAccountChangeOutcome, BankAccountInsertOutcome,
    PersonChange,
};

/// The client-side routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/embedded_session",
            get(retrieve_embedded_session).delete(log_out),
        )
        .route(
            "/v1/account",
            get(retrieve_own_account).post(update_own_account),
        )
        .route(
            "/v1/account/external_accounts",
            get(list_own_bank_accounts).post(create_own_bank_account),
        )
        .route(
            "/v1/account/external_accounts/{id}",
            delete(delete_own_bank_account),
        )
        .route(
            "/v1/account/persons",
            get(list_own_persons).post(create_own_person),
        )
        .route(
            "/v1/account/persons/{person}",
            get(retrieve_own_person)
                .post(update_own_person)
                .delete(delete_own_person),
        )
        // Everything here is called by the browser: a few fields at most.
        .layer(Extension(BrowserEndpoint))
}

#[tracing::instrument(skip_all)]
async fn retrieve_embedded_session(
    auth: EmbeddedAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Json<EmbeddedSessionResponse> {
    Json(EmbeddedSessionResponse::new(auth.session, None))
}

#[tracing::instrument(skip_all)]
async fn log_out(
    State(state): State<AppState>,
    auth: EmbeddedAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<DeletedResponse<EmbeddedSessionId>>, ApiError> {
    state
        .store
        .log_out_embedded_session(auth.key.hash(), state.clock.now())
        .await?;
    tracing::info!(embedded_session = %auth.session.id, "logged out");
    Ok(Json(DeletedResponse::new(
        auth.session.id,
        "embedded_session",
    )))
}

/// Query parameters of `GET /v1/account`: only `expand[]`.
#[derive(Debug)]
pub struct RetrieveOwnAccountParams;

impl FromParams for RetrieveOwnAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        read_expand(params, ACCOUNT_EXPANDABLE)?;
        Some(Self)
    }
}

/// The session's account. Its deletion revokes the session, so a missing
/// account means the key has just stopped working.
async fn own_account(
    state: &AppState,
    auth: &EmbeddedAuth,
) -> Result<crate::domain::account::Account, ApiError> {
    state
        .store
        .find_account(&auth.session.platform, &auth.session.account)
        .await?
        .ok_or_else(|| ApiError::InvalidApiKey {
            masked: auth.key.masked(),
        })
}

#[tracing::instrument(skip_all)]
async fn retrieve_own_account(
    State(state): State<AppState>,
    auth: EmbeddedAuth,
    StripeQuery(_): StripeQuery<RetrieveOwnAccountParams>,
) -> Result<Json<AccountObject>, ApiError> {
    auth.require(Capability::ReadAccount)?;
    let account = own_account(&state, &auth).await?;
    Ok(Json(AccountObject::new(
        &account,
        state.clock.now(),
        Viewer::Account,
    )))
}

/// `POST /v1/account` parameters: what the connected account may edit itself
/// (its identity included, wherever requirements are collected; not the
/// platform's metadata or capabilities).
#[derive(Debug)]
pub struct UpdateOwnAccountParams(AccountUpdate);

impl FromParams for UpdateOwnAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let email = read_email_update(params);
        let business_profile = read_business_profile(params);
        let identity = read_identity(params);
        let settings = read_settings(params);
        read_expand(params, ACCOUNT_EXPANDABLE)?;
        Some(Self(AccountUpdate {
            email,
            business_profile,
            identity,
            settings,
            ..AccountUpdate::default()
        }))
    }
}

/// Fills in where and when the terms were accepted, as Stripe's embedded
/// onboarding does: a `tos_acceptance` sent without `date` or `ip` takes the
/// request's time and address (and browser, without `user_agent`).
fn fill_terms(update: &mut AccountUpdate, origin: &RequestOrigin, now: Timestamp) {
    let Some(tos) = update.identity.tos_acceptance.as_mut() else {
        return;
    };
    if tos.date.is_none() {
        tos.date = Some(now);
    }
    if tos.ip == FieldUpdate::Keep
        && let Some(ip) = origin.ip
    {
        tos.ip = FieldUpdate::Set(ip.to_string());
    }
    if tos.user_agent == FieldUpdate::Keep
        && let Some(agent) = &origin.user_agent
    {
        tos.user_agent = FieldUpdate::Set(agent.clone());
    }
}

#[tracing::instrument(skip_all)]
async fn update_own_account(
    State(state): State<AppState>,
    auth: EmbeddedAuth,
    origin: RequestOrigin,
    request: EventRequest,
    form: StripeForm<UpdateOwnAccountParams>,
) -> Idempotent<AccountObject> {
    if let Err(denied) = auth.require(Capability::UpdateAccount) {
        return denied.into();
    }
    let tenant = auth.tenant();
    let author = author(&state, tenant.mode, Writer::Account, &request);
    form.run_idempotent(
        &state,
        &tenant,
        KeyRealm::Embedded(auth.session.id.clone()),
        async |UpdateOwnAccountParams(mut update), saver| {
            let now = author.now();
            fill_terms(&mut update, &origin, now);
            let change = AccountChange {
                update,
                author,
                external_account: None,
            };
            let save = saver.on_success(move |account: &Account| {
                AccountObject::new(account, now, Viewer::Account)
            });
            match state
                .store
                .update_account(&tenant, &auth.session.account, &change, save)
                .await?
            {
                AccountUpdateOutcome::Updated(account, saved) => Ok(Written::new(
                    AccountObject::new(&account, now, Viewer::Account),
                    saved,
                )),
                AccountUpdateOutcome::NotFound => Err(ApiError::InvalidApiKey {
                    masked: auth.key.masked(),
                }),
                AccountUpdateOutcome::Forbidden(refusal) => {
                    Err(forbidden(refusal, &auth.session.account, auth.key.masked()))
                }
                AccountUpdateOutcome::Invalid(refusal) => Err(refused(refusal)),
                AccountUpdateOutcome::DuplicateBankAccount => Err(ApiError::BankAccountExists),
            }
        },
    )
    .await
}

#[tracing::instrument(skip_all)]
async fn list_own_persons(
    State(state): State<AppState>,
    auth: EmbeddedAuth,
    StripeQuery(params): StripeQuery<PersonListParams>,
) -> Result<Json<ListResponse<PersonObject>>, ApiError> {
    auth.require(Capability::ReadAccount)?;
    let account = own_account(&state, &auth).await?;
    list_persons(
        &account,
        &params,
        state.clock.now(),
        "/v1/account/persons".to_owned(),
    )
    .map(Json)
}

#[tracing::instrument(skip_all, fields(person = %person))]
async fn retrieve_own_person(
    State(state): State<AppState>,
    Path(person): Path<String>,
    auth: EmbeddedAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<PersonObject>, ApiError> {
    auth.require(Capability::ReadAccount)?;
    let account = own_account(&state, &auth).await?;
    retrieve_person(&account, &person, state.clock.now()).map(Json)
}

/// Runs a change of one of the session's account's persons.
async fn change_own_person(
    state: &AppState,
    auth: &EmbeddedAuth,
    person: &str,
    request: &EventRequest,
    form: StripeForm<PersonParams>,
    change: fn(PersonId, PersonUpdate) -> PersonChange,
) -> Idempotent<PersonObject> {
    if let Err(denied) = auth.require(Capability::UpdateAccount) {
        return denied.into();
    }
    let tenant = auth.tenant();
    let author = author(state, tenant.mode, Writer::Account, request);
    form.run_idempotent(
        state,
        &tenant,
        KeyRealm::Embedded(auth.session.id.clone()),
        async |PersonParams(update), saver| {
            let person_id = PersonId::parse(person).ok_or_else(|| no_such_person(person))?;
            let now = author.now();
            let save = saver.on_success(move |(person, account): &(Person, Account)| {
                person_object(person, account, now)
            });
            let outcome = state
                .store
                .change_person(
                    &tenant,
                    &auth.session.account,
                    &change(person_id, update),
                    &author,
                    save,
                )
                .await?;
            person_answer(
                outcome,
                |person, account| person_object(person, account, now),
                person,
                || ApiError::InvalidApiKey {
                    masked: auth.key.masked(),
                },
                auth.key.masked(),
                &auth.session.account,
            )
        },
    )
    .await
}

#[tracing::instrument(skip_all)]
async fn create_own_person(
    State(state): State<AppState>,
    auth: EmbeddedAuth,
    request: EventRequest,
    form: StripeForm<PersonParams>,
) -> Idempotent<PersonObject> {
    let new_id = PersonId::generate();
    let person = new_id.as_str();
    change_own_person(&state, &auth, person, &request, form, PersonChange::Create).await
}

#[tracing::instrument(skip_all, fields(person = %person))]
async fn update_own_person(
    State(state): State<AppState>,
    Path(person): Path<String>,
    auth: EmbeddedAuth,
    request: EventRequest,
    form: StripeForm<PersonParams>,
) -> Idempotent<PersonObject> {
    change_own_person(&state, &auth, &person, &request, form, PersonChange::Update).await
}

#[tracing::instrument(skip_all, fields(person = %person))]
async fn delete_own_person(
    State(state): State<AppState>,
    Path(person): Path<String>,
    auth: EmbeddedAuth,
    request: EventRequest,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<DeletedResponse<PersonId>>, ApiError> {
    auth.require(Capability::UpdateAccount)?;
    let person_id = PersonId::parse(&person).ok_or_else(|| no_such_person(&person))?;
    let outcome = state
        .store
        .change_person(
            &auth.tenant(),
            &auth.session.account,
            &PersonChange::Delete(person_id),
            &author(&state, auth.session.mode, Writer::Account, &request),
            None,
        )
        .await?;
    person_answer(
        outcome,
        |person, _| DeletedResponse::new(person.id.clone(), "person"),
        &person,
        || ApiError::InvalidApiKey {
            masked: auth.key.masked(),
        },
        auth.key.masked(),
        &auth.session.account,
    )
    .map(|written| Json(written.into_body()))
}

#[tracing::instrument(skip_all)]
async fn list_own_bank_accounts(
    State(state): State<AppState>,
    auth: EmbeddedAuth,
    StripeQuery(params): StripeQuery<ListParams>,
) -> Result<Json<ListResponse<BankAccountObject>>, ApiError> {
    auth.require(Capability::ManageExternalAccounts)?;
    let cursor = params.cursor("external account", ExternalAccountId::parse)?;
    let page = state
        .store
        .list_bank_accounts(&auth.tenant(), &auth.session.account, &cursor, params.limit)
        .await?
        .ok_or_else(|| params.cursor_missing("external account"))?;
    Ok(Json(ListResponse::new(
        page.data.iter().map(BankAccountObject::new).collect(),
        page.has_more,
        "/v1/account/external_accounts",
    )))
}

/// `POST /v1/account/external_accounts` parameters: the bank account's
/// fields, flat, and `default_for_currency`.
#[derive(Debug)]
pub struct CreateOwnBankAccountParams {
    details: BankAccountDetails,
    make_default: bool,
}

impl FromParams for CreateOwnBankAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let details = read_bank_fields(params);
        let make_default = params
            .optional_bool("default_for_currency")
            .unwrap_or(false);
        read_expand(params, &[])?;
        Some(Self {
            details: details?,
            make_default,
        })
    }
}

#[tracing::instrument(skip_all)]
async fn create_own_bank_account(
    State(state): State<AppState>,
    auth: EmbeddedAuth,
    request: EventRequest,
    form: StripeForm<CreateOwnBankAccountParams>,
) -> Idempotent<BankAccountObject> {
    if let Err(denied) = auth.require(Capability::ManageExternalAccounts) {
        return denied.into();
    }
    let tenant = auth.tenant();
    form.run_idempotent(
        &state,
        &tenant,
        KeyRealm::Embedded(auth.session.id.clone()),
        async |CreateOwnBankAccountParams {
                   details,
                   make_default,
               },
               saver| {
            let new = new_bank_account(
                &state,
                &auth.session.platform,
                auth.session.account.clone(),
                details,
                make_default,
            );
            let save = saver.on_success(|bank: &BankAccount| BankAccountObject::new(bank));
            match state
                .store
                .insert_bank_account(
                    &tenant,
                    &new,
                    &author(&state, tenant.mode, Writer::Account, &request),
                    save,
                )
                .await?
            {
                BankAccountInsertOutcome::Created(bank, saved) => {
                    tracing::info!(bank_account = %bank.id, "bank account attached");
                    Ok(Written::new(BankAccountObject::new(&bank), saved))
                }
                BankAccountInsertOutcome::Duplicate => Err(ApiError::BankAccountExists),
                BankAccountInsertOutcome::AccountMissing
                | BankAccountInsertOutcome::Forbidden(_) => Err(ApiError::InvalidApiKey {
                    masked: auth.key.masked(),
                }),
            }
        },
    )
    .await
}

#[tracing::instrument(skip_all, fields(bank_account = %id))]
async fn delete_own_bank_account(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: EmbeddedAuth,
    request: EventRequest,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<DeletedResponse<ExternalAccountId>>, ApiError> {
    auth.require(Capability::ManageExternalAccounts)?;
    let missing = || ApiError::NoSuchObject {
        object: "external account",
        id: id.clone(),
    };
    let parsed = ExternalAccountId::parse(&id).ok_or_else(missing)?;
    match state
        .store
        .delete_bank_account(
            &auth.tenant(),
            &auth.session.account,
            &parsed,
            &author(&state, auth.session.mode, Writer::Account, &request),
        )
        .await?
    {
        BankAccountChangeOutcome::Done(_) => Ok(Json(DeletedResponse::new(parsed, "bank_account"))),
        BankAccountChangeOutcome::NotFound | BankAccountChangeOutcome::Forbidden(_) => {
            Err(missing())
        }
    }
}
