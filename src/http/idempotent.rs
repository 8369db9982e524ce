//! Runs POST requests under Stripe's idempotency rules (see [`crate::idempotency`]):
//! begin the key, replay or refuse, execute, and save what was answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::RequestId;
use super::error::ApiError;
use super::state::AppState;
use crate::domain::platform::Tenant;
use crate::idempotency::{
    Attempt, BeginOutcome, CompletedAttempt, Completion, Fingerprint, IdempotencyKey,
    IdempotencyScope, KeyRealm, LEASE, LeaseToken, RETENTION, SavedResponse,
};
use crate::keyring::Keyring;
use crate::store::Save;

/// What a POST needs to run idempotently; built by the form extractor.
#[derive(Debug, Clone)]
pub struct IdempotencyContext {
    /// The key and the request's fingerprints (under every master key,
    /// current first), when a key was sent.
    keyed: Option<(IdempotencyKey, Vec<Fingerprint>)>,
    /// The request path.
    path: String,
    /// This request's id.
    request_id: RequestId,
}

impl IdempotencyContext {
    /// The context of a request to `path` with id `request_id`.
    pub fn new(
        keyed: Option<(IdempotencyKey, Vec<Fingerprint>)>,
        path: String,
        request_id: RequestId,
    ) -> Self {
        Self {
            keyed,
            path,
            request_id,
        }
    }

    /// Runs `execute` at most once per key: a completed key replays its saved
    /// response, a key in flight gets a 409, and a key used with other
    /// parameters or on another endpoint gets Stripe's `idempotency_error`.
    pub async fn run(
        self,
        state: &AppState,
        tenant: &Tenant,
        realm: KeyRealm,
        execute: impl AsyncFnOnce(&Saver) -> Result<Response, ApiError>,
    ) -> Response {
        let Some((key, fingerprints)) = self.keyed else {
            return execute(&Saver::default()).await.into_response();
        };
        let Some(&fingerprint) = fingerprints.first() else {
            return execute(&Saver::default()).await.into_response();
        };
        let scope = IdempotencyScope {
            tenant: tenant.clone(),
            realm,
            key,
        };
        let now = state.clock.now();
        let token = LeaseToken::generate();
        let attempt = Attempt {
            path: self.path.clone(),
            fingerprint,
            request_id: self.request_id.0.clone(),
            token,
            now,
            lease_until: now.plus(LEASE),
            retention_cutoff: now.minus(RETENTION),
        };
        match state.store.begin_idempotent(&scope, &attempt).await {
            Err(error) => return ApiError::from(error).into_response(),
            Ok(BeginOutcome::InFlight) => {
                return ApiError::IdempotencyKeyInUse {
                    key: scope.key.as_str().to_owned(),
                }
                .into_response();
            }
            Ok(BeginOutcome::Completed(done)) => {
                return replay_or_refuse(&state.keyring, &scope, &self.path, &fingerprints, done);
            }
            Ok(BeginOutcome::Proceed) => {}
        }
        let saver = Saver(Some(SaverInner {
            scope: scope.clone(),
            token,
            keyring: state.keyring.clone(),
            handed_out: Arc::new(AtomicBool::new(false)),
        }));
        let result = execute(&saver).await;
        let saved_with_write = result.is_ok() && saver.handed_out();
        let mut response = result.into_response();
        if !saved_with_write {
            response = save_separately(state, &scope, token, response).await;
        }
        if let Ok(value) = HeaderValue::from_str(&self.request_id.0) {
            response.headers_mut().insert("original-request", value);
        }
        response
    }
}

/// Saves a response that no write carried (an error, or a success that wrote
/// nothing), then gives it back. If saving fails the client still gets the
/// answer; the key's lease then runs out and a retry executes again.
async fn save_separately(
    state: &AppState,
    scope: &IdempotencyScope,
    token: LeaseToken,
    response: Response,
) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let saved = SavedResponse {
        status: parts.status.as_u16(),
        sealed_body: state.keyring.seal(&bytes, &scope.seal_context()),
    };
    if let Err(error) = state.store.complete_idempotent(scope, token, &saved).await {
        tracing::warn!(error = %error, "could not save an idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Answers a key that already has a result: its replay if this request matches
/// the first one, else Stripe's `idempotency_error`.
fn replay_or_refuse(
    keyring: &Keyring,
    scope: &IdempotencyScope,
    path: &str,
    fingerprints: &[Fingerprint],
    done: CompletedAttempt,
) -> Response {
    let key = scope.key.as_str().to_owned();
    if done.path != path {
        return ApiError::IdempotencyEndpointMismatch {
            key,
            original_path: done.path,
            path: path.to_owned(),
        }
        .into_response();
    }
    // Opened first: a body no configured key opens means the keyring is wrong
    // (or rotated too far), which no change of parameters could fix.
    let Some(body) = keyring.open(&done.response.sealed_body, &scope.seal_context()) else {
        return ApiError::Internal {
            cause: anyhow::anyhow!(
                "a saved response cannot be opened with the configured master keys (rotated out?)"
            ),
            retryable: false,
        }
        .into_response();
    };
    // Under any key still in the keyring: a rotation must not break a replay.
    if !fingerprints.contains(&done.fingerprint) {
        return ApiError::IdempotencyParamsMismatch { key }.into_response();
    }
    let status =
        StatusCode::from_u16(done.response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Ok(original) = HeaderValue::from_str(&done.original_request_id) {
        headers.insert("original-request", original);
    }
    if !status.is_success() {
        // A replay always answers the same: retrying it changes nothing.
        headers.insert("stripe-should-retry", HeaderValue::from_static("false"));
    }
    response
}

/// Hands the store what it saves with a successful write. A no-op without a key.
#[derive(Debug, Clone, Default)]
pub struct Saver(Option<SaverInner>);

#[derive(Debug, Clone)]
struct SaverInner {
    scope: IdempotencyScope,
    token: LeaseToken,
    keyring: Arc<Keyring>,
    handed_out: Arc<AtomicBool>,
}

impl Saver {
    /// What the store saves if the write succeeds: a 200 whose body is
    /// `body(result)` — the same object the handler then returns.
    pub fn on_success<T, R>(&self, body: impl FnOnce(&T) -> R + Send + 'static) -> Save<T>
    where
        R: Serialize,
    {
        let inner = self.0.as_ref()?;
        inner.handed_out.store(true, Ordering::SeqCst);
        let keyring = inner.keyring.clone();
        let context = inner.scope.seal_context();
        Some(Completion::new(
            inner.scope.clone(),
            inner.token,
            move |value: &T| {
                // Our response types always serialize; an empty body would only
                // make a replay fail loudly rather than answer wrongly.
                let bytes = serde_json::to_vec(&body(value)).unwrap_or_default();
                SavedResponse {
                    status: 200,
                    sealed_body: keyring.seal(&bytes, &context),
                }
            },
        ))
    }

    /// Like [`Saver::on_success`] for a body known before the write: `body` is
    /// only called when there is a key to save under, so requests without one
    /// pay nothing.
    pub fn on_success_with<T, R>(&self, body: impl FnOnce() -> R) -> Save<T>
    where
        R: Serialize + Send + 'static,
    {
        self.0.as_ref()?;
        let body = body();
        self.on_success(move |_: &T| body)
    }

    fn handed_out(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|inner| inner.handed_out.load(Ordering::SeqCst))
    }
}
