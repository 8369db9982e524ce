//! `/v1/test_helpers/{clock,faults,requests,reset}`: the test double's
//! controls, for a platform's test-mode secret key, each answering only when
//! its `serve` switch is on: the server's clock (moved forward on request),
//! fault rules, the request log, and the reset of the platform's test-mode
//! objects.

use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::clock::{Clock, OffsetClock, SystemClock};
use crate::domain::platform::Tenant;
use crate::http::error::ApiError;
use crate::http::extract::{FromParams, NoParams, SecretKeyAuth, StripeForm, StripeQuery};
use crate::http::form::Params;
use crate::http::idempotent::{Idempotent, Written};
use crate::http::params::read_expand;
use crate::http::responses::ListResponse;
use crate::http::state::AppState;
use crate::http::test_double::{
    FAULT_STATUSES, FaultEffect, FaultRule, FaultTrigger, Faults, NewFaultRule, RequestLog,
};
use crate::idempotency::KeyRealm;

/// The longest one advance may move the clock: ten years.
const MAX_ADVANCE_SECS: i64 = 10 * 365 * 24 * 3600;

/// The longest delay a fault may add: a minute (more than any client waits).
const MAX_FAULT_DELAY_MS: i64 = 60_000;

/// The test helper routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/test_helpers/clock", get(get_clock))
        .route("/v1/test_helpers/clock/advance", post(advance_clock))
        .route(
            "/v1/test_helpers/faults",
            get(list_faults).post(create_fault).delete(clear_faults),
        )
        .route("/v1/test_helpers/requests", get(list_requests))
        .route("/v1/test_helpers/reset", post(reset))
}

/// The tenant, if its key is a test-mode one.
fn test_mode(auth: &SecretKeyAuth) -> Result<&Tenant, ApiError> {
    if auth.tenant.mode.is_live() {
        Err(ApiError::TestModeOnly)
    } else {
        Ok(&auth.tenant)
    }
}

// --- Clock --------------------------------------------------------------------------

/// The test clock, or the error saying it is off.
fn test_clock(state: &AppState) -> Result<&OffsetClock, ApiError> {
    state
        .test_double
        .clock
        .as_ref()
        .ok_or(ApiError::TestHelperOff {
            what: "The test clock",
            flag: "--test-clock",
        })
}

/// The clock as the helpers show it.
fn clock_object(clock: &OffsetClock) -> Value {
    json!({
        "object": "test_helpers.clock",
        "now": clock.now().as_secs(),
        "offset_seconds": clock.offset_secs(),
        "livemode": false,
    })
}

#[tracing::instrument(skip_all)]
async fn get_clock(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<Value>, ApiError> {
    test_mode(&auth)?;
    let clock = test_clock(&state)?;
    Ok(Json(clock_object(clock)))
}

/// `POST /v1/test_helpers/clock/advance` parameters: one of `seconds` or `to`.
#[derive(Debug)]
pub enum AdvanceParams {
    /// Move forward this many seconds.
    Seconds(i64),
    /// Move forward to this Unix time.
    To(i64),
}

impl FromParams for AdvanceParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let seconds = params.optional_integer("seconds", 1..=MAX_ADVANCE_SECS);
        let to = params.optional_integer("to", 0..=i64::MAX / 2);
        read_expand(params, &[])?;
        match (seconds, to) {
            (Some(_), Some(_)) => {
                params.reject(ApiError::ParametersExclusive {
                    params: vec!["seconds", "to"],
                });
                None
            }
            (Some(seconds), None) => Some(Self::Seconds(seconds)),
            (None, Some(to)) => Some(Self::To(to)),
            (None, None) => {
                params.reject(ApiError::ParameterMissing {
                    param: "seconds".to_owned(),
                });
                None
            }
        }
    }
}

/// Moves the server's clock forward, for every process on the database:
/// expiry, pruning, idempotency retention, verification delays and webhook
/// retries all see the new time at once. It never moves back.
#[tracing::instrument(skip_all)]
async fn advance_clock(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    form: StripeForm<AdvanceParams>,
) -> Idempotent<Value> {
    let (tenant, clock) = match (test_mode(&auth), test_clock(&state)) {
        (Ok(tenant), Ok(clock)) => (tenant.clone(), clock.clone()),
        (Err(error), _) | (_, Err(error)) => return error.into(),
    };
    let now = clock.now().as_secs();
    let offset = clock.offset_secs();
    let target = match form.params {
        AdvanceParams::Seconds(seconds) => offset.saturating_add(seconds),
        AdvanceParams::To(to) if to < now => {
            return ApiError::invalid(
                "to",
                format!("The clock never goes back: to must be at least the server's now ({now})."),
            )
            .into();
        }
        AdvanceParams::To(to) => to.saturating_sub(SystemClock.now().as_secs()),
    };
    form.run_idempotent(&state, &tenant, KeyRealm::Secret, async |_, _| {
        let stored = state.store.raise_clock_offset(target).await?;
        clock.raise_offset(stored);
        tracing::info!(offset_seconds = stored, "test clock advanced");
        Ok(Written::new(clock_object(&clock), None))
    })
    .await
}

// --- Faults ------------------------------------------------------------------------

/// The fault rules, or the error saying they are off.
fn faults(state: &AppState) -> Result<&Faults, ApiError> {
    state
        .test_double
        .faults
        .as_ref()
        .ok_or(ApiError::TestHelperOff {
            what: "Fault injection",
            flag: "--test-faults",
        })
}

/// A rule as the helpers show it.
fn fault_object(rule: &FaultRule) -> Value {
    let mut object = serde_json::to_value(rule).unwrap_or(Value::Null);
    object["object"] = json!("test_helpers.fault");
    object
}

impl FromParams for NewFaultRule {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let method = params
            .optional_string("method")
            .map(|m| m.to_ascii_uppercase());
        let path = params.required_string("path");
        let status = params.optional_integer("status", 100..=599);
        let delay_ms = params.optional_integer("delay_ms", 1..=MAX_FAULT_DELAY_MS);
        let drop = params.optional_bool("drop").unwrap_or(false);
        let count = params.optional_integer("count", 1..=10_000);
        let rate = params.optional_string("rate");
        read_expand(params, &[])?;
        if let Some(method) = &method
            && !["GET", "POST", "DELETE"].contains(&method.as_str())
        {
            params.reject(ApiError::invalid(
                "method",
                "Invalid method: must be one of GET, POST or DELETE",
            ));
            return None;
        }
        let path = path?;
        if !path.starts_with('/') {
            params.reject(ApiError::invalid(
                "path",
                "Invalid path: a path prefix starts with / (such as /v1/account_sessions).",
            ));
            return None;
        }
        if let Some(status) = status
            && !FAULT_STATUSES.contains(&(status as u16))
        {
            params.reject(ApiError::invalid(
                "status",
                "Invalid status: must be one of 429, 500, 502, 503 or 504",
            ));
            return None;
        }
        if status.is_some() && drop {
            params.reject(ApiError::ParametersExclusive {
                params: vec!["status", "drop"],
            });
            return None;
        }
        if status.is_none() && delay_ms.is_none() && !drop {
            params.reject(ApiError::invalid(
                "status",
                "A fault needs an effect: status, delay_ms or drop=true.",
            ));
            return None;
        }
        let trigger = match (count, rate) {
            (Some(_), Some(_)) => {
                params.reject(ApiError::ParametersExclusive {
                    params: vec!["count", "rate"],
                });
                return None;
            }
            (None, Some(rate)) => match rate.parse::<f64>() {
                Ok(rate) if rate > 0.0 && rate <= 1.0 => FaultTrigger::Rate(rate),
                _ => {
                    params.reject(ApiError::invalid(
                        "rate",
                        "Invalid rate: a number greater than 0 and at most 1",
                    ));
                    return None;
                }
            },
            (count, None) => {
                let count = u32::try_from(count.unwrap_or(1)).unwrap_or(1);
                FaultTrigger::Count {
                    count,
                    remaining: count,
                }
            }
        };
        Some(Self {
            method,
            path,
            effect: FaultEffect {
                status: status.and_then(|s| u16::try_from(s).ok()),
                delay: delay_ms
                    .and_then(|ms| u64::try_from(ms).ok())
                    .map(Duration::from_millis),
                drop,
            },
            trigger,
        })
    }
}

/// Installs a fault rule for the calling platform's test-mode requests.
#[tracing::instrument(skip_all)]
async fn create_fault(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    form: StripeForm<NewFaultRule>,
) -> Idempotent<Value> {
    let (tenant, faults) = match (test_mode(&auth), faults(&state)) {
        (Ok(tenant), Ok(faults)) => (tenant.clone(), faults),
        (Err(error), _) | (_, Err(error)) => return error.into(),
    };
    form.run_idempotent(&state, &tenant, KeyRealm::Secret, async |rule, _| {
        let rule = faults.install(&tenant, rule, state.clock.now());
        tracing::info!(fault = %rule.id, "fault rule installed");
        Ok(Written::new(fault_object(&rule), None))
    })
    .await
}

/// The calling platform's fault rules, oldest first, with their hits.
#[tracing::instrument(skip_all)]
async fn list_faults(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<ListResponse<Value>>, ApiError> {
    let tenant = test_mode(&auth)?;
    let rules = faults(&state)?.list(tenant);
    Ok(Json(ListResponse::new(
        rules.iter().map(fault_object).collect(),
        false,
        "/v1/test_helpers/faults",
    )))
}

/// Removes the calling platform's fault rules; answers those removed.
#[tracing::instrument(skip_all)]
async fn clear_faults(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    StripeQuery(NoParams): StripeQuery<NoParams>,
) -> Result<Json<ListResponse<Value>>, ApiError> {
    let tenant = test_mode(&auth)?;
    let removed = faults(&state)?.clear(tenant);
    Ok(Json(ListResponse::new(
        removed.iter().map(fault_object).collect(),
        false,
        "/v1/test_helpers/faults",
    )))
}

// --- Request log -------------------------------------------------------------------

/// The request log, or the error saying it is off.
fn request_log(state: &AppState) -> Result<&RequestLog, ApiError> {
    state
        .test_double
        .requests
        .as_ref()
        .ok_or(ApiError::TestHelperOff {
            what: "The request log",
            flag: "--request-log",
        })
}

/// `GET /v1/test_helpers/requests` parameters: `limit` (1 to 100, default 10).
#[derive(Debug)]
pub struct RequestListParams {
    limit: usize,
}

impl FromParams for RequestListParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        let limit = params.optional_integer("limit", 1..=100).unwrap_or(10);
        read_expand(params, &[])?;
        Some(Self {
            limit: usize::try_from(limit).unwrap_or(10),
        })
    }
}

/// The calling platform's latest test-mode API requests, newest first:
/// method, path, decoded parameters (secrets redacted), idempotency key,
/// status, request id, time; faulted attempts included.
#[tracing::instrument(skip_all)]
async fn list_requests(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    StripeQuery(params): StripeQuery<RequestListParams>,
) -> Result<Json<ListResponse<Value>>, ApiError> {
    let tenant = test_mode(&auth)?;
    let (latest, has_more) = request_log(&state)?.latest(tenant, params.limit);
    Ok(Json(ListResponse::new(
        latest
            .iter()
            .map(|entry| serde_json::to_value(entry).unwrap_or(Value::Null))
            .collect(),
        has_more,
        "/v1/test_helpers/requests",
    )))
}

// --- Reset -------------------------------------------------------------------------

/// `POST /v1/test_helpers/reset` takes no parameters.
#[derive(Debug)]
pub struct ResetParams;

impl FromParams for ResetParams {
    fn from_params(params: &mut Params<'_>) -> Option<Self> {
        read_expand(params, &[])?;
        Some(Self)
    }
}

/// Deletes every test-mode object of the calling platform at once, and
/// forgets its test-mode requests and fault rules; its keys, its live mode
/// and every other platform are untouched. Not run under its idempotency
/// key (a reset deletes the platform's keys, its own included); running it
/// twice leaves the same, empty, state.
#[tracing::instrument(skip_all)]
async fn reset(
    State(state): State<AppState>,
    auth: SecretKeyAuth,
    StripeForm {
        params: ResetParams,
        ..
    }: StripeForm<ResetParams>,
) -> Result<Json<Value>, ApiError> {
    let tenant = test_mode(&auth)?;
    if !state.config.test_double.reset {
        return Err(ApiError::TestHelperOff {
            what: "Reset",
            flag: "--test-reset",
        });
    }
    let deleted = state.store.reset_test_mode(&tenant.platform).await?;
    if let Some(log) = &state.test_double.requests {
        log.clear(tenant);
    }
    if let Some(faults) = &state.test_double.faults {
        faults.clear(tenant);
    }
    tracing::info!(deleted, "test mode reset");
    Ok(Json(
        json!({"object": "test_helpers.reset", "deleted": deleted, "livemode": false}),
    ))
}
