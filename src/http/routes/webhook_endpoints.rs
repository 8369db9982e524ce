//! `/v1/webhook_endpoints`: where a platform's events are delivered. The
//! signing secret is generated here, answered once (on creation) and stored
//! sealed with the master keys; the delivery attempts of an endpoint are
//! listed at `/v1/webhook_endpoints/{id}/attempts` (this server's own).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::domain::account::{FieldUpdate, Metadata};
use crate::domain::ids::WebhookEndpointId;
use crate::domain::keys::random_alphanumeric;
use crate::domain::mode::Mode;
use crate::domain::webhooks::{
    EndpointStatus, MAX_ENDPOINTS, UrlRefusal, WebhookEndpoint, check_url, is_event_type_pattern,
    secret_seal_context,
};
use crate::http::error::ApiError;
use crate::http::extract::{FromParams, NoParams, Path, SecretKeyAuth, StripeForm, StripeQuery};
use crate::http::form::Params;
use crate::http::idempotent::{Idempotent, Written};
use crate::http::params::{ListParams, read_expand, read_metadata};
use crate::http::responses::{DeletedResponse, ListResponse};
use crate::http::state::AppState;
use crate::http::version;
use crate::idempotency::KeyRealm;
use crate::store::{EndpointInsertOutcome, EndpointUpdate, NewEndpoint};

/// The length of a signing secret after `whsec_`.
const SECRET_LEN: usize = 32;

/// Most attempts one page of `/attempts` lists.
const MAX_ATTEMPTS_PAGE: i64 = 100;

/// The webhook endpoint routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/webhook_endpoints",
            get(list_endpoints).post(create_endpoint),
        )
        .route(
            "/v1/webhook_endpoints/{id}",
            get(retrieve_endpoint)
                .post(update_endpoint)
                .delete(delete_endpoint),
        )
        .route("/v1/webhook_endpoints/{id}/attempts", get(list_attempts))
}

/// Checks `url` for an endpoint in `mode`.
fn check_endpoint_url(url: String, mode: Mode, refuse_private: bool) -> Result<String, ApiError> {
    match check_url(&url, mode, refuse_private) {
        Ok(_) => Ok(url),
        Err(UrlRefusal::NotAUrl) => Err(ApiError::InvalidUrl {
            param: "url".to_owned(),
        }),
        Err(UrlRefusal::NotHttps) => Err(ApiError::invalid(
            "url",
            "Invalid URL: webhook endpoints in live mode must use HTTPS.",
        )),
        Err(UrlRefusal::PrivateAddress) => Err(ApiError::invalid(
            "url",
            "Invalid URL: URL must be publicly accessible. Consider using a tool like the Stripe CLI to test webhooks locally: https://github.com/stripe/stripe-cli",
        )),
    }
}

/// `enabled_events[]`: at least one, each `*` or an event type. `None` if
/// absent or refused (the error is recorded).
fn read_enabled_events(params: &mut Params<'_>) -> Option<Vec<String>> {
    let entries = params.optional_string_list("enabled_events")?;
    if entries.is_empty() {
        params.reject(ApiError::ParameterInvalidEmpty {
            param: "enabled_events".to_owned(),
        });
        return None;
    }
    let mut events = Vec::with_capacity(entries.len());
    for (param, event) in entries {
        if !is_event_type_pattern(&event) {
            params.reject(ApiError::invalid(
                param.clone(),
                format!("Invalid {param}: {event:?} is not an event type (or `*` for all)."),
            ));
            return None;
        }
        if !events.contains(&event) {
            events.push(event);
        }
    }
    Some(events)
}

/// `POST /v1/webhook_endpoints` parameters, before the mode is known.
#[derive(Debug)]
pub struct CreateEndpointParams {
    url: String,
    enabled_events: Vec<String>,
    connect: bool,
    api_version: Option<String>,
    description: Option<String>,
    metadata: Metadata,
}

impl FromParams for CreateEndpointParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let url = params.required_string("url");
        let sent_events = params.contains("enabled_events");
        let enabled_events = read_enabled_events(params);
        let connect = params.optional_bool("connect").unwrap_or(false);
        let api_version = params.optional_string("api_version");
        let description = match params.string_update("description") {
            FieldUpdate::Set(text) => Some(text),
            FieldUpdate::Keep | FieldUpdate::Clear => None,
        };
        let metadata = read_metadata(params).apply(&Metadata::default());
        read_expand(params, &[])?;
        if let Some(version) = &api_version
            && !version::is_well_formed(version)
        {
            params.reject(ApiError::invalid(
                "api_version",
                format!("Invalid api_version: {version:?} is not a Stripe API version."),
            ));
            return None;
        }
        if !sent_events {
            params.reject(ApiError::ParameterMissing {
                param: "enabled_events".to_owned(),
            });
            return None;
        }
        let metadata = match metadata {
            Ok(metadata) => metadata,
            Err(error) => {
                params.reject(ApiError::invalid("metadata", error.to_string()));
                return None;
            }
        };
        Some(Self {
            url: url?,
            enabled_events: enabled_events?,
            connect,
            api_version,
            description,
            metadata,
        })
    }
}

#[tracing::instrument(skip_all)]
async fn create_endpoint(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    form: StripeForm<CreateEndpointParams>,
) -> Idempotent<Value> {
    let tenant = auth.tenant.clone();
    let refuse_private = !state.config.allow_private_webhook_addresses;
    let url = match check_endpoint_url(form.params.url.clone(), tenant.mode, refuse_private) {
        Ok(url) => url,
        Err(error) => return error.into(),
    };
    form.run_idempotent(&state, &tenant, KeyRealm::Secret, async |params, saver| {
        let endpoint = WebhookEndpoint {
            id: WebhookEndpointId::generate(),
            platform: tenant.platform.clone(),
            mode: tenant.mode,
            url,
            enabled_events: params.enabled_events,
            connect: params.connect,
            api_version: params.api_version,
            description: params.description,
            metadata: params.metadata,
            status: EndpointStatus::Enabled,
            created: state.clock.now(),
        };
        let secret = format!("whsec_{}", random_alphanumeric(SECRET_LEN));
        let new = NewEndpoint {
            sealed_secret: state
                .keyring
                .seal(secret.as_bytes(), &secret_seal_context(&endpoint.id)),
            endpoint,
        };
        let shown = secret.clone();
        let save =
            saver.on_success(move |endpoint: &WebhookEndpoint| endpoint.to_json(Some(&shown)));
        match state.store.create_endpoint(&new, save).await? {
            EndpointInsertOutcome::Created(saved) => {
                tracing::info!(webhook_endpoint = %new.endpoint.id, "webhook endpoint created");
                Ok(Written::new(new.endpoint.to_json(Some(&secret)), saved))
            }
            EndpointInsertOutcome::TooMany => Err(ApiError::InvalidRequest {
                message: format!(
                    "You have reached the maximum of {MAX_ENDPOINTS} webhook endpoints in {} mode.",
                    if tenant.mode.is_live() {
                        "live"
                    } else {
                        "test"
                    }
                ),
            }),
        }
    })
    .await
}

/// Stripe's answer for an endpoint this key cannot see.
fn no_such_endpoint(id: &str) -> ApiError {
    ApiError::NoSuchObject {
        object: "webhook endpoint",
        id: id.to_owned(),
    }
}

/// The tenant's endpoint `id`.
async fn tenant_endpoint(
    state: &AppState,
    auth: &SecretKeyAuth,
    id: &str,
) -> Result<WebhookEndpoint, ApiError> {
    let parsed = WebhookEndpointId::parse(id).ok_or_else(|| no_such_endpoint(id))?;
    state
        .store
        .find_endpoint(&auth.tenant, &parsed)
        .await?
        .ok_or_else(|| no_such_endpoint(id))
}

#[tracing::instrument(skip_all, fields(webhook_endpoint = %id))]
async fn retrieve_endpoint(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        tenant_endpoint(&state, &auth, &id).await?.to_json(None),
    ))
}

/// `POST /v1/webhook_endpoints/{id}` parameters.
#[derive(Debug)]
pub struct UpdateEndpointParams(EndpointUpdate);

impl FromParams for UpdateEndpointParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let url = params.optional_string("url");
        let enabled_events = read_enabled_events(params);
        let description = params.string_update("description");
        let disabled = params.optional_bool("disabled");
        let metadata = read_metadata(params);
        read_expand(params, &[])?;
        Some(Self(EndpointUpdate {
            url,
            enabled_events,
            description,
            disabled,
            metadata,
        }))
    }
}

#[tracing::instrument(skip_all, fields(webhook_endpoint = %id))]
async fn update_endpoint(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    mut form: StripeForm<UpdateEndpointParams>,
) -> Idempotent<Value> {
    let refuse_private = !state.config.allow_private_webhook_addresses;
    if let Some(url) = form.params.0.url.take() {
        match check_endpoint_url(url, auth.tenant.mode, refuse_private) {
            Ok(url) => form.params.0.url = Some(url),
            Err(error) => return error.into(),
        }
    }
    form.run_idempotent(
        &state,
        &auth.tenant,
        KeyRealm::Secret,
        async |UpdateEndpointParams(update), saver| {
            let parsed = WebhookEndpointId::parse(&id).ok_or_else(|| no_such_endpoint(&id))?;
            let save = saver.on_success(|endpoint: &WebhookEndpoint| endpoint.to_json(None));
            match state
                .store
                .update_endpoint(&auth.tenant, &parsed, &update, save)
                .await?
            {
                Some((endpoint, saved)) => Ok(Written::new(endpoint.to_json(None), saved)),
                None => Err(no_such_endpoint(&id)),
            }
        },
    )
    .await
}

#[tracing::instrument(skip_all, fields(webhook_endpoint = %id))]
async fn delete_endpoint(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<DeletedResponse<WebhookEndpointId>>, ApiError> {
    let parsed = WebhookEndpointId::parse(&id).ok_or_else(|| no_such_endpoint(&id))?;
    if !state
        .store
        .delete_endpoint(&auth.tenant, &parsed, state.clock.now())
        .await?
    {
        return Err(no_such_endpoint(&id));
    }
    tracing::info!("webhook endpoint deleted");
    Ok(Json(DeletedResponse::new(parsed, "webhook_endpoint")))
}

#[tracing::instrument(skip_all)]
async fn list_endpoints(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    StripeQuery(params): StripeQuery<ListParams>,
) -> Result<Json<ListResponse<Value>>, ApiError> {
    let cursor = params.cursor("webhook endpoint", WebhookEndpointId::parse)?;
    let page = state
        .store
        .list_endpoints(&auth.tenant, &cursor, params.limit)
        .await?
        .ok_or_else(|| params.cursor_missing("webhook endpoint"))?;
    Ok(Json(ListResponse::new(
        page.data
            .iter()
            .map(|endpoint| endpoint.to_json(None))
            .collect(),
        page.has_more,
        "/v1/webhook_endpoints",
    )))
}

/// `GET /v1/webhook_endpoints/{id}/attempts` parameters: `limit` (1 to 100,
/// default 10).
#[derive(Debug)]
pub struct AttemptListParams {
    limit: u32,
}

impl FromParams for AttemptListParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let limit = params
            .optional_integer("limit", 1..=MAX_ATTEMPTS_PAGE)
            .unwrap_or(10);
        read_expand(params, &[])?;
        Some(Self {
            limit: u32::try_from(limit).unwrap_or(10),
        })
    }
}

/// The latest delivery attempts to one endpoint, newest first: when, which
/// event, the attempt's number, the HTTP status answered, the error (refused,
/// timed out, not 2xx), and how long it took.
#[tracing::instrument(skip_all, fields(webhook_endpoint = %id))]
async fn list_attempts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    StripeQuery(params): StripeQuery<AttemptListParams>,
) -> Result<Json<ListResponse<Value>>, ApiError> {
    let parsed = WebhookEndpointId::parse(&id).ok_or_else(|| no_such_endpoint(&id))?;
    let mut attempts = state
        .store
        .list_attempts(&auth.tenant, &parsed, params.limit + 1)
        .await?
        .ok_or_else(|| no_such_endpoint(&id))?;
    let has_more = attempts.len() > params.limit as usize;
    attempts.truncate(params.limit as usize);
    let data = attempts
        .iter()
        .map(|attempt| {
            json!({
                "object": "webhook_endpoint_attempt",
                "webhook_endpoint": attempt.endpoint,
                "event": attempt.event,
                "attempt": attempt.attempt,
                "created": attempt.result.at.as_secs(),
                "http_status": attempt.result.http_status,
                "error": attempt.result.error,
                "latency_ms": attempt.result.latency_ms,
                "succeeded": attempt.result.succeeded(),
            })
        })
        .collect();
    Ok(Json(ListResponse::new(
        data,
        has_more,
        format!("/v1/webhook_endpoints/{id}/attempts"),
    )))
}
