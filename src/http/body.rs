//! Reading a request body: within its endpoint's size limit, in time, and
//! within the server-wide budget of buffered request bytes.
//!
//! Every POST buffers its body before decoding it. The per-endpoint limit
//! bounds one request; the budget bounds all of them together, so that many
//! connections (or many HTTP/2 streams) sending large bodies at once cannot
//! grow the process without bound: a request waits for its share of the
//! budget (up to half the body-read timeout), and is answered 503 if none frees.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;
use super::state::AppState;

/// Marks a route the browser calls (the claim, and the `em_` endpoints): its
/// bodies are a few fields, so its limit is `ApiConfig::browser_max_body_bytes`.
#[derive(Debug, Clone, Copy)]
pub struct BrowserEndpoint;

/// The server-wide budget of request bytes being buffered.
#[derive(Debug)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

impl BodyBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        let total = bytes.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }
}

/// A request body, and its share of the budget until it is dropped.
#[derive(Debug)]
pub struct BufferedBody {
    /// The body.
    pub bytes: Bytes,
    _share: OwnedSemaphorePermit,
}

/// Reads `request`'s body within its endpoint's limit and the budget.
pub async fn read(request: Request, state: &AppState) -> Result<BufferedBody, ApiError> {
    let config = &state.config;
    let limit = if request.extensions().get::<BrowserEndpoint>().is_some() {
        config.browser_max_body_bytes
    } else {
        config.max_body_bytes
    };
    // A declared length over the limit is refused before a byte is read; a
    // body without one reserves the whole limit.
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let reserve = match declared {
        Some(length) if length > limit as u64 => return Err(ApiError::BodyTooLarge { limit }),
        Some(length) => usize::try_from(length).unwrap_or(limit).max(1),
        None => limit.max(1),
    };
    let timeout = config.body_read_timeout;
    // A budget smaller than one body still lets that body in, alone.
    let reserve = u32::try_from(reserve.min(state.body_budget.total)).unwrap_or(u32::MAX);
    let started = tokio::time::Instant::now();
    // Under saturation a quick, retryable 503 beats holding the connection:
    // a request waits for its share at most half the body-read timeout.
    let share = tokio::time::timeout(
        timeout / 2,
        state.body_budget.bytes.clone().acquire_many_owned(reserve),
    )
    .await
    .map_err(|_| ApiError::Overloaded)?
    .map_err(|_| ApiError::Overloaded)?;
    // Waiting for the budget counts against the same timeout as reading.
    let remaining = timeout.saturating_sub(started.elapsed());
    let read = axum::body::to_bytes(request.into_body(), limit);
    let bytes = tokio::time::timeout(remaining, read)
        .await
        .map_err(|_| ApiError::BodyReadTimeout { limit: timeout })?
        .map_err(|_| ApiError::BodyTooLarge { limit })?;
    Ok(BufferedBody {
        bytes,
        _share: share,
    })
}
