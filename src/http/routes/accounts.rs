//! `/v1/accounts`: create, retrieve, update, delete and list connected
//! accounts, and their bank accounts (`external_accounts`).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::domain::account::{
    Account, AccountType, AccountUpdate, Controller, ControllerChoice, ControllerProperties,
    DashboardType, FeePayer, LossesPayer, NewAccount, RequirementCollection, Writer, check_writer,
};
use crate::domain::capability;
use crate::domain::external_account::{
    BankAccount, BankAccountDetails, BankAccountUpdate, HolderType,
};
use crate::domain::ids::{AccountId, ExternalAccountId};
use crate::domain::wire::{AccountObject, BankAccountObject, Viewer};
use crate::http::account_changes::{author, forbidden, new_bank_account, refused, verifier};
use crate::http::error::ApiError;
use crate::http::extract::{
    EventRequest, FromParams, NoParams, Path, SecretKeyAuth, StripeForm, StripeQuery,
};
use crate::http::form::{Params, first_leaf_param};
use crate::http::idempotent::{Idempotent, Written};
use crate::http::onboarding_params::{
    read_business_profile, read_external_account, read_identity, read_settings,
};
use crate::http::params::{
    ACCOUNT_EXPANDABLE, ListParams, read_email, read_email_update, read_expand, read_metadata,
};
use crate::http::responses::{DeletedResponse, ListResponse};
use crate::http::state::AppState;
use crate::idempotency::KeyRealm;
use crate::store::{
    AccountChange, AccountUpdateOutcome, BankAccountChangeOutcome, BankAccountInsertOutcome,
};

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
            get(list_bank_accounts).post(create_bank_account),
        )
        .route(
            "/v1/accounts/{id}/external_accounts/{bank_account}",
            get(retrieve_bank_account)
                .post(update_bank_account)
                .delete(delete_bank_account),
        )
}

/// The fields an account creation and a platform's update both take, read
/// in one order.
fn read_account_fields(params: &mut Params<'_>) -> (AccountUpdate, Option<BankAccountDetails>) {
    let email = read_email_update(params);
    let metadata = read_metadata(params);
    let business_profile = read_business_profile(params);
    let capabilities = read_capabilities(params);
    let identity = read_identity(params);
    let settings = read_settings(params);
    let external_account = read_external_account(params, "external_account");
    let update = AccountUpdate {
        email,
        metadata,
        business_profile,
        capabilities,
        identity,
        settings,
    };
    (update, external_account)
}

/// `POST /v1/accounts` parameters, checked into the account to create: the
/// controller combination and metadata limits are validation, so a request
/// that breaks them never begins executing (and is not saved for idempotency).
#[derive(Debug)]
pub struct CreateAccountParams {
    account: NewAccount,
    external_account: Option<BankAccountDetails>,
}

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
        // An empty email at creation means none, as before.
        let email = read_email(params);
        let (mut fields, external_account) = read_account_fields(params);
        fields.email =
            email.map_or_else(Default::default, crate::domain::account::FieldUpdate::Set);
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
        if let Err(invalid) = fields.metadata.validate() {
            params.reject(ApiError::invalid(invalid.param(), invalid.to_string()));
            return None;
        }
        Some(Self {
            account: NewAccount {
                controller,
                country: country.unwrap_or_else(|| "US".to_owned()),
                fields,
            },
            external_account,
        })
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

/// `capabilities[NAME][requested]`: each capability sent, requested or not.
fn read_capabilities(params: &mut Params<'_>) -> Vec<(String, bool)> {
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
            && let Some(wanted) = capability.optional_bool("requested")
        {
            requested.push((name, wanted));
        }
    }
    requested
}

/// `POST /v1/accounts/{id}` parameters.
#[derive(Debug)]
pub struct UpdateAccountParams {
    update: AccountUpdate,
    external_account: Option<BankAccountDetails>,
}

impl FromParams for UpdateAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let (update, external_account) = read_account_fields(params);
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
        if let Err(invalid) = update.metadata.validate() {
            params.reject(ApiError::invalid(invalid.param(), invalid.to_string()));
            return None;
        }
        Some(Self {
            update,
            external_account,
        })
    }
}

#[tracing::instrument(skip_all)]
async fn create_account(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    request: EventRequest,
    form: StripeForm<CreateAccountParams>,
) -> Idempotent<AccountObject> {
    let tenant = auth.tenant.clone();
    let checks = verifier(&state, tenant.mode);
    let StripeForm {
        params,
        idempotency,
    } = form;
    // Stripe's refusals of a creation are validation: checked before the
    // request begins executing, so never saved for idempotency.
    let sent_terms = params.account.fields.identity.tos_acceptance.is_some();
    let platform_collects =
        params.account.controller.requirement_collection == RequirementCollection::Application;
    let terms = if sent_terms {
        &["tos_acceptance"][..]
    } else {
        &[]
    };
    if let Err(refusal) = check_writer(platform_collects, false, Writer::Platform, terms) {
        return forbidden(refusal, &AccountId::generate(), auth.key.masked()).into();
    }
    let account = match params
        .account
        .into_account(tenant.platform.clone(), &checks)
    {
        Ok(account) => account,
        Err(refusal) => return refused(refusal).into(),
    };
    let bank = params.external_account.map(|details| {
        new_bank_account(&state, &tenant.platform, account.id.clone(), details, true)
    });
    let now = checks.now;
    StripeForm {
        params: (account, bank),
        idempotency,
    }
    .run_idempotent(
        &state,
        &auth.tenant,
        KeyRealm::Secret,
        async |(account, bank), saver| {
            let save = saver.on_success(move |account: &Account| {
                AccountObject::new(account, now, Viewer::Platform)
            });
            let (account, saved) = state
                .store
                .insert_account(&account, bank.as_ref(), now, &request.0, save)
                .await?;
            state.caches.remember_account(&account);
            tracing::info!(account = %account.id, "account created");
            Ok(Written::new(
                AccountObject::new(&account, now, Viewer::Platform),
                saved,
            ))
        },
    )
    .await
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

#[tracing::instrument(skip_all, fields(account = %id))]
async fn retrieve_account(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    StripeQuery(_): StripeQuery<RetrieveAccountParams>,
) -> Result<Json<AccountObject>, ApiError> {
    let account = tenant_account(&state, &auth, &id).await?;
    Ok(Json(AccountObject::new(
        &account,
        state.clock.now(),
        Viewer::Platform,
    )))
}

#[tracing::instrument(skip_all, fields(account = %id))]
async fn update_account(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    request: EventRequest,
    form: StripeForm<UpdateAccountParams>,
) -> Idempotent<AccountObject> {
    let author = author(&state, auth.tenant.mode, Writer::Platform, &request);
    form.run_idempotent(
        &state,
        &auth.tenant,
        KeyRealm::Secret,
        async |UpdateAccountParams {
                   update,
                   external_account,
               },
               saver| {
            let parsed = AccountId::parse(&id).ok_or_else(|| no_access(&auth, &id))?;
            let change = AccountChange {
                update,
                author,
                external_account: external_account.map(|details| {
                    new_bank_account(&state, &auth.tenant.platform, parsed.clone(), details, true)
                }),
            };
            let now = change.author.now();
            let save = saver.on_success(move |account: &Account| {
                AccountObject::new(account, now, Viewer::Platform)
            });
            match state
                .store
                .update_account(&auth.tenant, &parsed, &change, save)
                .await?
            {
                AccountUpdateOutcome::Updated(account, saved) => Ok(Written::new(
                    AccountObject::new(&account, now, Viewer::Platform),
                    saved,
                )),
                AccountUpdateOutcome::NotFound => Err(no_access(&auth, &id)),
                AccountUpdateOutcome::Forbidden(refusal) => {
                    Err(forbidden(refusal, &parsed, auth.key.masked()))
                }
                AccountUpdateOutcome::Invalid(refusal) => Err(refused(refusal)),
                AccountUpdateOutcome::DuplicateBankAccount => Err(ApiError::BankAccountExists),
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
) -> Result<Json<ListResponse<AccountObject>>, ApiError> {
    let cursor = params.cursor("account", AccountId::parse)?;
    let page = state
        .store
        .list_accounts(&auth.tenant, &cursor, params.limit)
        .await?
        .ok_or_else(|| params.cursor_missing("account"))?;
    let now = state.clock.now();
    Ok(Json(ListResponse::new(
        page.data
            .iter()
            .map(|account| AccountObject::new(account, now, Viewer::Platform))
            .collect(),
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
) -> Result<Json<ListResponse<BankAccountObject>>, ApiError> {
    let account = tenant_account(&state, &auth, &id).await?;
    let cursor = params.cursor("external account", ExternalAccountId::parse)?;
    let page = state
        .store
        .list_bank_accounts(&auth.tenant, &account.id, &cursor, params.limit)
        .await?
        .ok_or_else(|| params.cursor_missing("external account"))?;
    Ok(Json(ListResponse::new(
        page.data.iter().map(BankAccountObject::new).collect(),
        page.has_more,
        format!("/v1/accounts/{}/external_accounts", account.id),
    )))
}

/// `POST /v1/accounts/{id}/external_accounts` parameters.
#[derive(Debug)]
pub struct CreateBankAccountParams {
    details: BankAccountDetails,
    make_default: bool,
}

impl FromParams for CreateBankAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let details = if params.contains("external_account") {
            read_external_account(params, "external_account")
        } else {
            params.reject(ApiError::ParameterMissing {
                param: "external_account".to_owned(),
            });
            None
        };
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

/// Stripe's answer for a bank account the account does not have.
fn no_such_bank_account(id: &str) -> ApiError {
    ApiError::NoSuchObject {
        object: "external account",
        id: id.to_owned(),
    }
}

#[tracing::instrument(skip_all, fields(account = %id))]
async fn create_bank_account(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    request: EventRequest,
    form: StripeForm<CreateBankAccountParams>,
) -> Idempotent<BankAccountObject> {
    form.run_idempotent(
        &state,
        &auth.tenant,
        KeyRealm::Secret,
        async |CreateBankAccountParams {
                   details,
                   make_default,
               },
               saver| {
            let account = AccountId::parse(&id).ok_or_else(|| no_access(&auth, &id))?;
            let new = new_bank_account(
                &state,
                &auth.tenant.platform,
                account.clone(),
                details,
                make_default,
            );
            let save = saver.on_success(|bank: &BankAccount| BankAccountObject::new(bank));
            match state
                .store
                .insert_bank_account(
                    &auth.tenant,
                    &new,
                    &author(&state, auth.tenant.mode, Writer::Platform, &request),
                    save,
                )
                .await?
            {
                BankAccountInsertOutcome::Created(bank, saved) => {
                    tracing::info!(bank_account = %bank.id, "bank account attached");
                    Ok(Written::new(BankAccountObject::new(&bank), saved))
                }
                BankAccountInsertOutcome::Duplicate => Err(ApiError::BankAccountExists),
                BankAccountInsertOutcome::AccountMissing => Err(no_access(&auth, &id)),
                BankAccountInsertOutcome::Forbidden(_) => Err(ApiError::EndpointForbidden {
                    masked_key: auth.key.masked(),
                    account: id.clone(),
                }),
            }
        },
    )
    .await
}

#[tracing::instrument(skip_all, fields(account = %id, bank_account = %bank_account))]
async fn retrieve_bank_account(
    State(state): State<AppState>,
    Path((id, bank_account)): Path<(String, String)>,
    auth: SecretKeyAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<BankAccountObject>, ApiError> {
    let account = tenant_account(&state, &auth, &id).await?;
    account
        .external_accounts
        .iter()
        .find(|bank| bank.id.as_str() == bank_account)
        .map(|bank| Json(BankAccountObject::new(bank)))
        .ok_or_else(|| no_such_bank_account(&bank_account))
}

/// `POST /v1/accounts/{id}/external_accounts/{bank_account}` parameters.
#[derive(Debug)]
pub struct UpdateBankAccountParams(BankAccountUpdate);

impl FromParams for UpdateBankAccountParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let account_holder_name = params.string_update("account_holder_name");
        let account_holder_type = params.optional_enum("account_holder_type", HolderType::VALUES);
        let make_default = match params.optional_bool("default_for_currency") {
            Some(false) => {
                params.reject(ApiError::invalid(
                    "default_for_currency",
                    "default_for_currency can only be set to true: make another bank account the default instead.",
                ));
                return None;
            }
            other => other.unwrap_or(false),
        };
        read_expand(params, &[])?;
        Some(Self(BankAccountUpdate {
            account_holder_name,
            account_holder_type,
            make_default,
        }))
    }
}

#[tracing::instrument(skip_all, fields(account = %id, bank_account = %bank_account))]
async fn update_bank_account(
    State(state): State<AppState>,
    Path((id, bank_account)): Path<(String, String)>,
    auth: SecretKeyAuth,
    request: EventRequest,
    form: StripeForm<UpdateBankAccountParams>,
) -> Idempotent<BankAccountObject> {
    form.run_idempotent(
        &state,
        &auth.tenant,
        KeyRealm::Secret,
        async |UpdateBankAccountParams(update), saver| {
            let account = AccountId::parse(&id).ok_or_else(|| no_access(&auth, &id))?;
            let bank_id = ExternalAccountId::parse(&bank_account)
                .ok_or_else(|| no_such_bank_account(&bank_account))?;
            let save = saver.on_success(|bank: &BankAccount| BankAccountObject::new(bank));
            match state
                .store
                .update_bank_account(
                    &auth.tenant,
                    &account,
                    &bank_id,
                    &update,
                    &author(&state, auth.tenant.mode, Writer::Platform, &request),
                    save,
                )
                .await?
            {
                BankAccountChangeOutcome::Done((bank, saved)) => {
                    Ok(Written::new(BankAccountObject::new(&bank), saved))
                }
                BankAccountChangeOutcome::NotFound => Err(no_such_bank_account(&bank_account)),
                BankAccountChangeOutcome::Forbidden(_) => Err(ApiError::EndpointForbidden {
                    masked_key: auth.key.masked(),
                    account: id.clone(),
                }),
            }
        },
    )
    .await
}

#[tracing::instrument(skip_all, fields(account = %id, bank_account = %bank_account))]
async fn delete_bank_account(
    State(state): State<AppState>,
    Path((id, bank_account)): Path<(String, String)>,
    auth: SecretKeyAuth,
    request: EventRequest,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<DeletedResponse<ExternalAccountId>>, ApiError> {
    let account = tenant_account(&state, &auth, &id).await?;
    let bank_id = ExternalAccountId::parse(&bank_account)
        .ok_or_else(|| no_such_bank_account(&bank_account))?;
    match state
        .store
        .delete_bank_account(
            &auth.tenant,
            &account.id,
            &bank_id,
            &author(&state, auth.tenant.mode, Writer::Platform, &request),
        )
        .await?
    {
        BankAccountChangeOutcome::Done(_) => {
            Ok(Json(DeletedResponse::new(bank_id, "bank_account")))
        }
        BankAccountChangeOutcome::NotFound => Err(no_such_bank_account(&bank_account)),
        BankAccountChangeOutcome::Forbidden(_) => Err(ApiError::EndpointForbidden {
            masked_key: auth.key.masked(),
            account: id,
        }),
    }
}
