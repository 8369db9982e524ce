//! `POST /v1/account_sessions`: create an account session for a connected account.

use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Router};
use serde::Serialize;

use crate::domain::account_session::AccountSessionRecord;
use crate::domain::account_session::{ClientSecret, NewAccountSession};
use crate::domain::catalog::{
    self, ComponentRequest, ComponentsRequest, Feature, ResolvedComponents,
};
use crate::domain::embedded_session::{EmbeddedSession, NewEmbeddedSession};
use crate::domain::ids::AccountId;
use crate::http::body::BrowserEndpoint;
use crate::http::cache::AccountLookup;
use crate::http::error::ApiError;
use crate::http::extract::{FromParams, PublishableKeyAuth, SecretKeyAuth, StripeForm};
use crate::http::form::Params;
use crate::http::idempotent::{Idempotent, Written};
use crate::http::params::read_expand;
use crate::http::responses::EmbeddedSessionResponse;
use crate::http::state::AppState;
use crate::idempotency::KeyRealm;
use crate::store::{ClaimOutcome, SessionInsertOutcome};

/// The account-session routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/account_sessions", post(create_account_session))
        // The browser's claim carries one field: its body limit is the browser's.
        .route(
            "/v1/account_sessions/claim",
            post(claim_account_session).layer(Extension(BrowserEndpoint)),
        )
        .route("/v1/account_sessions/revoke", post(revoke_account_session))
        .route(
            "/v1/test_helpers/account_sessions/expire",
            post(expire_account_session),
        )
}

/// `POST /v1/account_sessions` parameters.
#[derive(Debug)]
pub struct CreateAccountSessionParams {
    account: String,
    components: ComponentsRequest,
}

impl FromParams for CreateAccountSessionParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let account = params.required_string("account");
        let components = read_components(params);
        read_expand(params, &["components"])?;
        Some(Self {
            account: account?,
            components: components?,
        })
    }
}

/// Reads `components[NAME][enabled]` and `components[NAME][features][FEATURE]`
/// against the catalog, in request order.
fn read_components(params: &mut Params<'_>) -> Option<ComponentsRequest> {
    let mut components = params.required_hash("components")?;
    let mut requested = Vec::new();
    for (name, value) in components.drain() {
        let Some(spec) = catalog::lookup(&name) else {
            components.reject_unknown(&name);
            continue;
        };
        let Some(mut config) = components.child(&name, value) else {
            continue;
        };
        let enabled = config.required_bool("enabled");
        let mut features = Vec::new();
        if let Some(mut requested_features) = config.optional_hash("features") {
            for (feature_name, feature_value) in requested_features.drain() {
                match Feature::from_name(&feature_name).filter(|feature| spec.accepts(*feature)) {
                    Some(feature) => {
                        if let Some(value) =
                            requested_features.bool_from(&feature_name, feature_value)
                        {
                            features.push((feature, value));
                        }
                    }
                    None => requested_features.reject_unknown(&feature_name),
                }
            }
        }
        if let Some(enabled) = enabled {
            requested.push(ComponentRequest {
                spec,
                enabled,
                features,
            });
        }
    }
    Some(ComponentsRequest(requested))
}

/// The `account_session` object.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSessionResponse {
    object: &'static str,
    account: AccountId,
    client_secret: String,
    expires_at: i64,
    livemode: bool,
    components: ResolvedComponents,
}

/// Creates a session: resolves the components against the account's controller,
/// stores the session (its secret only as a hash), and returns the secret once.
#[tracing::instrument(skip_all)]
async fn create_account_session(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    form: StripeForm<CreateAccountSessionParams>,
) -> Idempotent<AccountSessionResponse> {
    form.run_idempotent(
        &state,
        &auth.tenant,
        KeyRealm::Secret,
        async |params, saver| {
            let tenant = &auth.tenant;
            let missing = |exists_in| ApiError::ResourceMissing {
                object: "account",
                id: params.account.clone(),
                param: Some("account".to_owned()),
                exists_in,
            };
            let account_id = AccountId::parse(&params.account).ok_or_else(|| missing(None))?;
            // Whether the account still exists, the store re-checks as it inserts.
            let lookup = state
                .caches
                .account_controller(state.store.as_ref(), tenant, &account_id)
                .await?;
            let controller = match lookup {
                AccountLookup::Found(controller) => controller,
                AccountLookup::Missing => return Err(missing(None)),
                AccountLookup::OtherMode(mode) => return Err(missing(Some(mode))),
            };
            let components = ResolvedComponents::resolve(&params.components, &controller)
                .map_err(|violation| ApiError::invalid(violation.param(), violation.to_string()))?;
            let secret = ClientSecret::generate();
            let created = state.clock.now();
            let session = NewAccountSession {
                account: account_id,
                components,
                secret_hash: secret.hash(),
                created,
                expires_at: created.plus(state.config.session_ttl),
            };
            let response = AccountSessionResponse {
                object: "account_session",
                account: session.account.clone(),
                client_secret: secret.expose().to_owned(),
                expires_at: session.expires_at.as_secs(),
                livemode: tenant.mode.is_live(),
                components: session.components.clone(),
            };
            let save = saver.on_success_with(|| response.clone());
            let saved = match state
                .store
                .insert_account_session(tenant, &session, save)
                .await?
            {
                SessionInsertOutcome::Created(saved) => saved,
                SessionInsertOutcome::AccountMissing => return Err(missing(None)),
            };
            tracing::debug!(account = %session.account, "account session created");
            Ok(Written::new(response, saved))
        },
    )
    .await
}

/// Parameters of claim, revoke and expire: the client secret.
#[derive(Debug)]
pub struct ClientSecretParams {
    client_secret: String,
}

impl FromParams for ClientSecretParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let client_secret = params.required_string("client_secret");
        read_expand(params, &[])?;
        Some(Self {
            client_secret: client_secret?,
        })
    }
}

impl ClientSecretParams {
    /// The secret, if it has the shape of one we issue: a malformed secret is
    /// answered exactly like an unknown one, without touching the database.
    fn secret(&self) -> Result<ClientSecret, ApiError> {
        ClientSecret::parse(&self.client_secret).ok_or(ApiError::UnknownClientSecret)
    }
}

/// The browser trades a client secret, once, for an embedded session key.
///
/// Two rules keep anonymous callers (anyone has the publishable key) from
/// using the idempotency store: a malformed secret is refused before any key
/// is taken, and an unknown one is a validation failure whose key is released
/// unsaved; and a claim's key lives in the realm of the secret it claims. A
/// replay answers the embedded session without its `em_` key: whoever replays
/// holds only a copy of the request, which proves nothing.
#[tracing::instrument(skip_all)]
async fn claim_account_session(
    State(state): State<AppState>,
    auth: PublishableKeyAuth,
    form: StripeForm<ClientSecretParams>,
) -> Idempotent<EmbeddedSessionResponse> {
    let secret = match form.params.secret() {
        Ok(secret) => secret,
        Err(error) => return error.into(),
    };
    let realm = KeyRealm::Claim(secret.hash());
    form.run_idempotent(&state, &auth.tenant, realm, async |_, saver| {
            let claim = NewEmbeddedSession::generate(auth.tenant.mode, state.clock.now());
            let key = claim.key.expose().to_owned();
            // Saved for replay without the key (see above).
            let save = saver.on_success(move |session: &EmbeddedSession| {
                EmbeddedSessionResponse::new(session.clone(), None)
            });
            match state
                .store
                .claim_account_session(&auth.tenant, secret.hash(), &claim, save)
                .await?
            {
                ClaimOutcome::Claimed(session, saved) => {
                    tracing::debug!(embedded_session = %session.id, account = %session.account, "client secret claimed");
                    Ok(Written::new(EmbeddedSessionResponse::new(session, Some(key)), saved))
                }
                ClaimOutcome::NotFound => Err(ApiError::UnknownClientSecret),
                ClaimOutcome::Refused(refusal) => Err(ApiError::ClaimRefused(refusal)),
            }
        })
        .await
}

/// An account session as its platform sees it after creation: never its secret.
#[derive(Debug, Serialize)]
pub struct AccountSessionStateResponse {
    object: &'static str,
    account: AccountId,
    claimed: bool,
    components: ResolvedComponents,
    expires_at: i64,
    livemode: bool,
    revoked: bool,
}

impl AccountSessionStateResponse {
    fn new(record: AccountSessionRecord, livemode: bool) -> Self {
        Self {
            object: "account_session",
            account: record.account,
            claimed: record.claimed_at.is_some(),
            components: record.components,
            expires_at: record.expires_at.as_secs(),
            livemode,
            revoked: record.revoked_at.is_some(),
        }
    }
}

/// The platform revokes a session: unclaimable from now on, and its embedded
/// session key (if claimed) stops working at once.
#[tracing::instrument(skip_all)]
async fn revoke_account_session(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    form: StripeForm<ClientSecretParams>,
) -> Idempotent<AccountSessionStateResponse> {
    change_session(&state, &auth, form, SessionChange::Revoke).await
}

/// Test mode only: the session, and its embedded session key, expire now, so a
/// platform can exercise its `fetchClientSecret` refresh path without waiting.
#[tracing::instrument(skip_all)]
async fn expire_account_session(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    form: StripeForm<ClientSecretParams>,
) -> Idempotent<AccountSessionStateResponse> {
    if auth.tenant.mode.is_live() {
        return ApiError::TestModeOnly.into();
    }
    change_session(&state, &auth, form, SessionChange::Expire).await
}

/// What a platform can do to one of its sessions, by the session's secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionChange {
    /// Revoke it.
    Revoke,
    /// Expire it now.
    Expire,
}

/// Applies `change` to the session named by the form's client secret and
/// answers with the session's state.
async fn change_session(
    state: &AppState,
    auth: &SecretKeyAuth,
    form: StripeForm<ClientSecretParams>,
    change: SessionChange,
) -> Idempotent<AccountSessionStateResponse> {
    let livemode = auth.tenant.mode.is_live();
    form.run_idempotent(
        state,
        &auth.tenant,
        KeyRealm::Secret,
        async |params, saver| {
            let secret = params.secret()?;
            let save = saver.on_success(move |record: &AccountSessionRecord| {
                AccountSessionStateResponse::new(record.clone(), livemode)
            });
            let (store, now) = (&state.store, state.clock.now());
            let (record, saved) = match change {
                SessionChange::Revoke => {
                    store
                        .revoke_account_session(&auth.tenant, secret.hash(), now, save)
                        .await?
                }
                SessionChange::Expire => {
                    store
                        .expire_account_session(&auth.tenant, secret.hash(), now, save)
                        .await?
                }
            }
            .ok_or(ApiError::UnknownClientSecret)?;
            tracing::info!(account = %record.account, ?change, "account session changed");
            Ok(Written::new(
                AccountSessionStateResponse::new(record, livemode),
                saved,
            ))
        },
    )
    .await
}
