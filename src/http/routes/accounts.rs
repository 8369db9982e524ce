//! `/v1/accounts`: create, retrieve, update, delete and list connected accounts.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::domain::account::{
    Account, AccountType, AccountUpdate, BusinessProfile, Controller, ControllerChoice,
    ControllerProperties, DashboardType, FeePayer, LossesPayer, Metadata, MetadataUpdate,
    NewAccount, RequirementCollection,
};
use crate::domain::capability;
use crate::domain::ids::{AccountId, ExternalAccountId};
use crate::http::error::ApiError;
use crate::http::extract::{FromParams, NoParams, SecretKeyAuth, StripeForm, StripeQuery};
use crate::http::form::{Cleared, FormValue, Params, first_leaf_param};
use crate::http::idempotent::{Idempotent, Written};
use crate::http::params::{
    ACCOUNT_EXPANDABLE, ListParams, read_business_profile, read_email, read_email_update,
    read_expand,
};
use crate::http::responses::{AccountResponse, BankAccountResponse, DeletedResponse, ListResponse};
use crate::http::state::AppState;
use crate::idempotency::KeyRealm;
use crate::store::AccountUpdateOutcome;

/// The account routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/accounts", post(create_account).get(list_accounts))
        .route(
            "/v1/accounts/{id}",
            get(retrieve_account)
                .post(update_account)
                .delete(delete_account),
        )
        .route(
            "/v1/accounts/{id}/external_accounts",
            get(list_bank_accounts),
        )
}

/// `POST /v1/accounts` parameters, checked into the account to create: the
/// controller combination and metadata limits are validation, so a request
/// that breaks them never begins executing (and is not saved for idempotency).
#[derive(Debug)]
pub struct CreateAccountParams(NewAccount);

impl FromParams for CreateAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let account_type = params.optional_enum("type", AccountType::CREATABLE);
        let properties = read_controller(params);
        let choice = match (account_type, properties) {
            (Some(_), Some(_)) => {
                params.reject(ApiError::ParametersExclusive {
                    params: vec!["type", "controller"],
                });
                return None;
            }
            (Some(account_type), None) => ControllerChoice::Type(account_type),
            (None, properties) => ControllerChoice::Properties(properties.unwrap_or_default()),
        };
        let country = read_country(params);
        let email = read_email(params);
        let metadata = read_metadata(params);
        let (name, url) = read_business_profile(params);
        let capabilities = read_capabilities(params);
        read_expand(params, ACCOUNT_EXPANDABLE)?;
        let controller = match choice {
            ControllerChoice::Type(account_type) => Controller::for_type(account_type),
            ControllerChoice::Properties(properties) => {
                match Controller::from_properties(properties) {
                    Ok(controller) => controller,
                    Err(unsupported) => {
                        params.reject(ApiError::invalid(unsupported.param, unsupported.message));
                        return None;
                    }
                }
            }
        };
        let metadata = match metadata.apply(&Metadata::new()) {
            Ok(metadata) => metadata,
            Err(invalid) => {
                params.reject(ApiError::invalid(invalid.param(), invalid.to_string()));
                return None;
            }
        };
        Some(Self(NewAccount {
            controller,
            country: country.unwrap_or_else(|| "US".to_owned()),
            email,
            metadata,
            business_profile: BusinessProfile {
                name: name.apply(&None),
                url: url.apply(&None),
            },
            requested_capabilities: capabilities,
        }))
    }
}

/// `controller[...]`, if sent.
fn read_controller(params: &mut Params<'_>) -> Option<ControllerProperties> {
    let mut controller = params.optional_hash("controller")?;
    let fees_payer = controller
        .optional_hash("fees")
        .and_then(|mut fees| fees.optional_enum("payer", FeePayer::CREATABLE));
    let losses_payments = controller
        .optional_hash("losses")
        .and_then(|mut losses| losses.optional_enum("payments", LossesPayer::VALUES));
    let requirement_collection =
        controller.optional_enum("requirement_collection", RequirementCollection::VALUES);
    let stripe_dashboard = controller
        .optional_hash("stripe_dashboard")
        .and_then(|mut dashboard| dashboard.optional_enum("type", DashboardType::VALUES));
    Some(ControllerProperties {
        fees_payer,
        losses_payments,
        requirement_collection,
        stripe_dashboard,
    })
}

/// `country`: an assigned ISO 3166-1 alpha-2 code, upper-cased.
fn read_country(params: &mut Params<'_>) -> Option<String> {
    let country = params.optional_string("country")?;
    if let Some(code) = crate::domain::country::parse(&country) {
        return Some(code);
    }
    params.reject(ApiError::invalid(
        "country",
        format!(
            "Country '{country}' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'. A full list of country codes is available at https://www.iso.org/iso-3166-country-codes.html"
        ),
    ));
    None
}

/// `metadata[...]`: merged key by key; an empty value removes a key, and an
/// empty `metadata` removes them all.
fn read_metadata(params: &mut Params<'_>) -> MetadataUpdate {
    let mut metadata = match params.clearable_hash("metadata") {
        Err(Cleared) => return MetadataUpdate::Clear,
        Ok(None) => return MetadataUpdate::Keep,
        Ok(Some(metadata)) => metadata,
    };
    let mut entries = Vec::new();
    for (key, value) in metadata.drain() {
        match value {
            FormValue::Text(text) if text.is_empty() => entries.push((key, None)),
            FormValue::Text(text) => entries.push((key, Some(text))),
            FormValue::Hash(_) | FormValue::List(_) => {
                let param = metadata.param(&key);
                metadata.reject(ApiError::invalid(param, "Invalid string"));
            }
        }
    }
    MetadataUpdate::Merge(entries)
}

/// `capabilities[NAME][requested]`: the names requested as `true`.
fn read_capabilities(params: &mut Params<'_>) -> Vec<String> {
    let Some(mut capabilities) = params.optional_hash("capabilities") else {
        return Vec::new();
    };
    let mut requested = Vec::new();
    for (name, value) in capabilities.drain() {
        if !capability::is_requestable(&name) {
            capabilities.reject_unknown(&name);
            continue;
        }
        if let Some(mut capability) = capabilities.child(&name, value)
            && capability.optional_bool("requested") == Some(true)
        {
            requested.push(name);
        }
    }
    requested
}

/// `POST /v1/accounts/{id}` parameters.
#[derive(Debug)]
pub struct UpdateAccountParams(AccountUpdate);

impl FromParams for UpdateAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let email = read_email_update(params);
        let metadata = read_metadata(params);
        let (business_profile_name, business_profile_url) = read_business_profile(params);
        if let Some(mut controller) = params.optional_hash("controller") {
            // Controller properties are fixed at creation; name the first one sent.
            let param = match controller.drain().into_iter().next() {
                Some((key, value)) => first_leaf_param(controller.param(&key), &value),
                None => "controller".to_owned(),
            };
            controller.reject(ApiError::invalid(
                param,
                "The controller properties of an account cannot be changed after it is created.",
            ));
        }
        read_expand(params, ACCOUNT_EXPANDABLE)?;
        Some(Self(AccountUpdate {
            email,
            metadata,
            business_profile_name,
            business_profile_url,
        }))
    }
}

/// Query parameters of retrieve and delete: only `expand[]`.
#[derive(Debug)]
pub struct RetrieveAccountParams;

impl FromParams for RetrieveAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        read_expand(params, ACCOUNT_EXPANDABLE)?;
        Some(Self)
    }
}

/// Stripe's answer for an account this key cannot see.
fn no_access(auth: &SecretKeyAuth, id: &str) -> ApiError {
    ApiError::AccountInvalid {
        masked_key: auth.key.masked(),
        account: id.to_owned(),
    }
}

/// The tenant's account `id`, or Stripe's 403 for any account it cannot see.
async fn tenant_account(
    state: &AppState,
    auth: &SecretKeyAuth,
    id: &str,
) -> Result<Account, ApiError> {
    let parsed = AccountId::parse(id).ok_or_else(|| no_access(auth, id))?;
    match state
        .store
        .find_account(&auth.tenant.platform, &parsed)
        .await?
    {
        Some(account) if account.mode == auth.tenant.mode => Ok(account),
        _ => Err(no_access(auth, id)),
    }
}

#[tracing::instrument(skip_all)]
async fn create_account(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    form: StripeForm<CreateAccountParams>,
) -> Idempotent<AccountResponse> {
    let tenant = auth.tenant.clone();
    form.run_idempotent(
        &state,
        &auth.tenant,
        KeyRealm::Secret,
        async |CreateAccountParams(new_account), saver| {
            let account = new_account.into_account(tenant.platform, tenant.mode, state.clock.now());
            let save = saver.on_success(|account: &Account| AccountResponse::from(account.clone()));
            let saved = state.store.insert_account(&account, save).await?;
            state.caches.remember_account(&account);
            tracing::info!(account = %account.id, "account created");
            Ok(Written::new(AccountResponse::from(account), saved))
        },
    )
    .await
}

#[tracing::instrument(skip_all, fields(account = %id))]
async fn retrieve_account(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    StripeQuery(_): StripeQuery<RetrieveAccountParams>,
) -> Result<Json<AccountResponse>, ApiError> {
    let account = tenant_account(&state, &auth, &id).await?;
    Ok(Json(account.into()))
}

#[tracing::instrument(skip_all, fields(account = %id))]
async fn update_account(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    form: StripeForm<UpdateAccountParams>,
) -> Idempotent<AccountResponse> {
    form.run_idempotent(
        &state,
        &auth.tenant,
        KeyRealm::Secret,
        async |UpdateAccountParams(update), saver| {
            let parsed = AccountId::parse(&id).ok_or_else(|| no_access(&auth, &id))?;
            let save = saver.on_success(|account: &Account| AccountResponse::from(account.clone()));
            match state
                .store
                .update_account(&auth.tenant, &parsed, &update, save)
                .await?
            {
                AccountUpdateOutcome::Updated(account, saved) => {
                    Ok(Written::new(AccountResponse::from(account), saved))
                }
                AccountUpdateOutcome::NotFound => Err(no_access(&auth, &id)),
                AccountUpdateOutcome::Invalid(invalid) => {
                    Err(ApiError::invalid(invalid.param(), invalid.to_string()))
                }
            }
        },
    )
    .await
}

#[tracing::instrument(skip_all, fields(account = %id))]
async fn delete_account(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<DeletedResponse<AccountId>>, ApiError> {
    let parsed = AccountId::parse(&id).ok_or_else(|| no_access(&auth, &id))?;
    if !state
        .store
        .delete_account(&auth.tenant, &parsed, state.clock.now())
        .await?
    {
        return Err(no_access(&auth, &id));
    }
    tracing::info!("account deleted");
    Ok(Json(DeletedResponse::new(parsed, "account")))
}

#[tracing::instrument(skip_all)]
async fn list_accounts(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    StripeQuery(params): StripeQuery<ListParams>,
) -> Result<Json<ListResponse<AccountResponse>>, ApiError> {
    let cursor = params.cursor("account", AccountId::parse)?;
    let page = state
        .store
        .list_accounts(&auth.tenant, &cursor, params.limit)
        .await?
        .ok_or_else(|| params.cursor_missing("account"))?;
    Ok(Json(ListResponse::new(
        page.data.into_iter().map(AccountResponse::from).collect(),
        page.has_more,
        "/v1/accounts",
    )))
}

#[tracing::instrument(skip_all, fields(account = %id))]
async fn list_bank_accounts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    StripeQuery(params): StripeQuery<ListParams>,
) -> Result<Json<ListResponse<BankAccountResponse>>, ApiError> {
    let account = tenant_account(&state, &auth, &id).await?;
    let cursor = params.cursor("external account", ExternalAccountId::parse)?;
    let page = state
        .store
        .list_bank_accounts(&auth.tenant, &account.id, &cursor, params.limit)
        .await?
        .ok_or_else(|| params.cursor_missing("external account"))?;
    Ok(Json(ListResponse::new(
        page.data
            .into_iter()
            .map(BankAccountResponse::from)
            .collect(),
        page.has_more,
        format!("/v1/accounts/{}/external_accounts", account.id),
    )))
}
