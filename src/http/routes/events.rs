//! `/v1/events`: the platform's events (what changed on its connected
//! accounts), listed and retrieved for 30 days; and resending one to the
//! webhook endpoints (`POST /v1/events/{id}/retry`, the call the Stripe CLI's
//! `events resend` makes, and the test helper of the same effect).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::domain::ids::{EventId, WebhookEndpointId};
use crate::domain::webhooks::{EVENT_RETENTION, Event};
use crate::http::error::ApiError;
use crate::http::extract::{FromParams, NoParams, Path, SecretKeyAuth, StripeForm, StripeQuery};
use crate::http::form::Params;
use crate::http::params::{ListParams, read_created, read_expand};
use crate::http::responses::ListResponse;
use crate::http::state::AppState;
use crate::store::EventFilter;

/// Most entries of `types[]`, as Stripe allows.
const MAX_TYPES: usize = 20;

/// The event routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(list_events))
        .route("/v1/events/{id}", get(retrieve_event))
        .route("/v1/events/{id}/retry", post(resend_event))
        .route("/v1/test_helpers/events/{id}/resend", post(resend_event))
}

/// `GET /v1/events` parameters.
#[derive(Debug)]
pub struct ListEventsParams {
    list: ListParams,
    filter: EventFilter,
}

/// Whether a `type` filter can match any event type: lower-case names,
/// digits, `_`, `.` and the `*` wildcard. Others match nothing.
fn is_type_filter(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.*".contains(&b))
}

impl FromParams for ListEventsParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let single = params.optional_string("type");
        let many = params.optional_string_list("types");
        let created = read_created(params)?;
        let delivery_success = params.optional_bool("delivery_success");
        let list = ListParams::from_params(params)?;
        let types: Vec<String> = match (single, many) {
            (Some(_), Some(_)) => {
                params.reject(ApiError::ParametersExclusive {
                    params: vec!["type", "types"],
                });
                return None;
            }
            (Some(single), None) => vec![single],
            (None, Some(many)) if many.len() > MAX_TYPES => {
                params.reject(ApiError::invalid(
                    "types",
                    format!("You may pass at most {MAX_TYPES} types."),
                ));
                return None;
            }
            (None, Some(many)) => many.into_iter().map(|(_, text)| text).collect(),
            (None, None) => Vec::new(),
        };
        // A filter that can match nothing becomes one that does (a pattern
        // no event type equals), rather than one a database might match
        // loosely (SQLite's `like` ignores case).
        let types = types
            .into_iter()
            .map(|text| {
                if is_type_filter(&text) {
                    text
                } else {
                    String::new()
                }
            })
            .collect();
        Some(Self {
            list,
            filter: EventFilter {
                types,
                created_from: created.from,
                created_to: created.to,
                delivery_success,
            },
        })
    }
}

#[tracing::instrument(skip_all)]
async fn list_events(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    StripeQuery(params): StripeQuery<ListEventsParams>,
) -> Result<Json<ListResponse<Value>>, ApiError> {
    let cursor = params.list.cursor("event", EventId::parse)?;
    // Events older than the retention are not listed, whether or not the
    // pruner has deleted them yet.
    let mut filter = params.filter;
    let oldest = state.clock.now().minus(EVENT_RETENTION);
    filter.created_from = Some(filter.created_from.map_or(oldest, |from| from.max(oldest)));
    let page = state
        .store
        .list_events(&auth.tenant, &filter, &cursor, params.list.limit)
        .await?
        .ok_or_else(|| params.list.cursor_missing("event"))?;
    Ok(Json(ListResponse::new(
        page.data.iter().map(Event::to_json).collect(),
        page.has_more,
        "/v1/events",
    )))
}

/// The tenant's event `id`, unless older than the retention.
async fn tenant_event(state: &AppState, auth: &SecretKeyAuth, id: &str) -> Result<Event, ApiError> {
    let missing = || ApiError::NoSuchObject {
        object: "event",
        id: id.to_owned(),
    };
    let parsed = EventId::parse(id).ok_or_else(missing)?;
    let event = state
        .store
        .find_event(&auth.tenant, &parsed)
        .await?
        .ok_or_else(missing)?;
    if event.created < state.clock.now().minus(EVENT_RETENTION) {
        return Err(missing());
    }
    Ok(event)
}

#[tracing::instrument(skip_all, fields(event = %id))]
async fn retrieve_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(tenant_event(&state, &auth, &id).await?.to_json()))
}

/// `POST /v1/events/{id}/retry` parameters.
#[derive(Debug)]
pub struct ResendParams {
    /// `webhook_endpoint`: send to this endpoint only.
    endpoint: Option<String>,
    /// `account`: the connected account the caller believes it is about.
    account: Option<String>,
}

impl FromParams for ResendParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let endpoint = params.optional_string("webhook_endpoint");
        let account = params.optional_string("account");
        // The Stripe CLI sends this without an endpoint, to replay the event
        // to its listeners; here every endpoint that wants the event is one.
        params.optional_bool("for_stripecli");
        read_expand(params, &[])?;
        Some(Self { endpoint, account })
    }
}

/// Queues the event again: for the named endpoint (whatever it
/// subscribed to), or for every endpoint that wants it. Not idempotent by
/// nature: each call queues new deliveries, as each Dashboard resend does.
#[tracing::instrument(skip_all, fields(event = %id))]
async fn resend_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    auth: SecretKeyAuth,
    StripeForm { params, .. }: StripeForm<ResendParams>,
) -> Result<Json<Value>, ApiError> {
    let event = tenant_event(&state, &auth, &id).await?;
    if let Some(account) = &params.account
        && event.account.as_ref().map(|a| a.as_str()) != Some(account.as_str())
    {
        return Err(ApiError::NoSuchObject {
            object: "event",
            id: id.clone(),
        });
    }
    let endpoint = match &params.endpoint {
        None => None,
        Some(endpoint) => {
            Some(WebhookEndpointId::parse(endpoint).ok_or_else(|| no_such_endpoint(endpoint))?)
        }
    };
    let queued = state
        .store
        .resend_event(
            &auth.tenant,
            &event.id,
            endpoint.as_ref(),
            state.clock.now(),
        )
        .await?
        .ok_or_else(|| ApiError::NoSuchObject {
            object: "event",
            id: id.clone(),
        })?;
    if queued == 0
        && let Some(endpoint) = &params.endpoint
    {
        return Err(no_such_endpoint(endpoint));
    }
    tracing::info!(queued, "event queued again");
    let event = tenant_event(&state, &auth, &id).await?;
    Ok(Json(event.to_json()))
}

/// Stripe's answer for an endpoint this key cannot see.
fn no_such_endpoint(id: &str) -> ApiError {
    ApiError::ResourceMissing {
        object: "webhook endpoint",
        id: id.to_owned(),
        param: Some("webhook_endpoint".to_owned()),
        exists_in: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_filters_are_lower_case_names_with_wildcards() {
        assert!(is_type_filter("account.*"));
        assert!(is_type_filter("*.updated"));
        assert!(is_type_filter("account.external_account.created"));
        assert!(!is_type_filter("Account.Updated"));
        assert!(!is_type_filter("account.updated%"));
        assert!(!is_type_filter(""));
    }
}
