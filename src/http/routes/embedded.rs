//! The client-side API: what a browser may call with the `em_` key it got by
//! claiming an account session's client secret. Every endpoint checks that the
//! session's components grant it, and acts only on the session's account.

use axum::extract::{Path, State};
use axum::routing::{delete, get};
use axum::{Json, Router};

use crate::domain::account::Account;
use crate::domain::embedded_session::Capability;
use crate::domain::external_account::{BankAccount, BankAccountDetails};
use crate::domain::ids::{EmbeddedSessionId, ExternalAccountId};
use crate::http::error::ApiError;
use crate::http::extract::{EmbeddedAuth, FromParams, NoParams, StripeForm, StripeQuery};
use crate::http::form::Params;
use crate::http::idempotent::{Idempotent, Written};
use crate::http::params::{
    ACCOUNT_EXPANDABLE, ListParams, read_business_profile, read_email_update, read_expand,
};
use crate::http::responses::{
    AccountResponse, BankAccountResponse, DeletedResponse, EmbeddedSessionResponse, ListResponse,
};
use crate::http::state::AppState;
use crate::idempotency::KeyRealm;
use crate::store::{AccountUpdateOutcome, BankAccountInsertOutcome};

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
) -> Result<Json<AccountResponse>, ApiError> {
    auth.require(Capability::ReadAccount)?;
    let account = own_account(&state, &auth).await?;
    Ok(Json(AccountResponse::for_connected_account(account)))
}

/// `POST /v1/account` parameters: what the connected account may edit itself.
#[derive(Debug)]
pub struct UpdateOwnAccountParams(crate::domain::account::AccountUpdate);

impl FromParams for UpdateOwnAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let email = read_email_update(params);
        let (business_profile_name, business_profile_url) = read_business_profile(params);
        read_expand(params, ACCOUNT_EXPANDABLE)?;
        Some(Self(crate::domain::account::AccountUpdate {
            email,
            business_profile_name,
            business_profile_url,
            ..Default::default()
        }))
    }
}

#[tracing::instrument(skip_all)]
async fn update_own_account(
    State(state): State<AppState>,
    auth: EmbeddedAuth,
    form: StripeForm<UpdateOwnAccountParams>,
) -> Idempotent<AccountResponse> {
    if let Err(denied) = auth.require(Capability::UpdateAccount) {
        return denied.into();
    }
    let tenant = auth.tenant();
    form.run_idempotent(
        &state,
        &tenant,
        KeyRealm::Embedded(auth.session.id.clone()),
        async |UpdateOwnAccountParams(update), saver| {
            let save = saver.on_success(|account: &Account| {
                AccountResponse::for_connected_account(account.clone())
            });
            match state
                .store
                .update_account(&tenant, &auth.session.account, &update, save)
                .await?
            {
                AccountUpdateOutcome::Updated(account, saved) => Ok(Written::new(
                    AccountResponse::for_connected_account(account),
                    saved,
                )),
                AccountUpdateOutcome::NotFound => Err(ApiError::InvalidApiKey {
                    masked: auth.key.masked(),
                }),
                AccountUpdateOutcome::Invalid(invalid) => {
                    Err(ApiError::invalid(invalid.param(), invalid.to_string()))
                }
            }
        },
    )
    .await
}

#[tracing::instrument(skip_all)]
async fn list_own_bank_accounts(
    State(state): State<AppState>,
    auth: EmbeddedAuth,
    StripeQuery(params): StripeQuery<ListParams>,
) -> Result<Json<ListResponse<BankAccountResponse>>, ApiError> {
    auth.require(Capability::ManageExternalAccounts)?;
    let cursor = params.cursor("external account", ExternalAccountId::parse)?;
    let page = state
        .store
        .list_bank_accounts(&auth.tenant(), &auth.session.account, &cursor, params.limit)
        .await?
        .ok_or_else(|| params.cursor_missing("external account"))?;
    Ok(Json(ListResponse::new(
        page.data
            .into_iter()
            .map(BankAccountResponse::from)
            .collect(),
        page.has_more,
        "/v1/account/external_accounts",
    )))
}

/// `POST /v1/account/external_accounts` parameters.
#[derive(Debug)]
pub struct CreateBankAccountParams(BankAccountDetails);

impl FromParams for CreateBankAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let country = params.required_string("country");
        let currency = params.required_string("currency");
        let account_holder_name = params.optional_string("account_holder_name");
        let routing_number = params.optional_string("routing_number");
        let account_number = params.required_string("account_number");
        read_expand(params, &[])?;
        let details = BankAccountDetails::parse(
            &country?,
            &currency?,
            account_holder_name,
            routing_number,
            &account_number?,
        );
        match details {
            Ok(details) => Some(Self(details)),
            Err(invalid) => {
                params.reject(ApiError::invalid(invalid.param, invalid.message));
                None
            }
        }
    }
}

#[tracing::instrument(skip_all)]
async fn create_own_bank_account(
    State(state): State<AppState>,
    auth: EmbeddedAuth,
    form: StripeForm<CreateBankAccountParams>,
) -> Idempotent<BankAccountResponse> {
    if let Err(denied) = auth.require(Capability::ManageExternalAccounts) {
        return denied.into();
    }
    let tenant = auth.tenant();
    form.run_idempotent(
        &state,
        &tenant,
        KeyRealm::Embedded(auth.session.id.clone()),
        async |CreateBankAccountParams(details), saver| {
            // Under every master key, current first: the store refuses a
            // duplicate stored under a key since rotated out.
            let known_fingerprints = state.keyring.fingerprints(&details.fingerprint_input());
            let bank = details.into_bank_account(
                auth.session.account.clone(),
                known_fingerprints.first().cloned().unwrap_or_default(),
                state.clock.now(),
            );
            let save =
                saver.on_success(|bank: &BankAccount| BankAccountResponse::from(bank.clone()));
            match state
                .store
                .insert_bank_account(&tenant, &bank, &known_fingerprints, save)
                .await?
            {
                BankAccountInsertOutcome::Created(saved) => {
                    tracing::info!(bank_account = %bank.id, "bank account attached");
                    Ok(Written::new(BankAccountResponse::from(bank), saved))
                }
                BankAccountInsertOutcome::Duplicate => Err(ApiError::BankAccountExists),
                BankAccountInsertOutcome::AccountMissing => Err(ApiError::InvalidApiKey {
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
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<DeletedResponse<ExternalAccountId>>, ApiError> {
    auth.require(Capability::ManageExternalAccounts)?;
    let missing = || ApiError::NoSuchObject {
        object: "external account",
        id: id.clone(),
    };
    let parsed = ExternalAccountId::parse(&id).ok_or_else(missing)?;
    if !state
        .store
        .delete_bank_account(&auth.tenant(), &auth.session.account, &parsed)
        .await?
    {
        return Err(missing());
    }
    Ok(Json(DeletedResponse::new(parsed, "bank_account")))
}
