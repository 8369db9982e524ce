//! Runs POST requests under Stripe's idempotency rules (see [`crate::idempotency`]):
//! begin the key, replay or refuse, execute, and save what was answered.
//!
//! The network may drop a request's client at any point. A keyed POST runs in
//! its own task (`middleware::run_to_completion`), so once its key is taken
//! the work finishes and its answer is saved whoever is still listening; and a
//! retry that finds the key in flight in this process waits for that work
//! (as long as a request may run if the first client has gone, five seconds
//! if it is still connected) instead of getting a 409 for it. A key in
//! flight in another process still gets Stripe's 409.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::watch;

use super::RequestId;
use super::error::ApiError;
use super::extract::StripeForm;
use super::state::AppState;
use crate::domain::platform::Tenant;
use crate::idempotency::{
    Attempt, BeginOutcome, CompletedAttempt, Completion, Fingerprint, IdempotencyKey,
    IdempotencyScope, KeyRealm, LEASE, LeaseToken, RETENTION, SavedResponse,
};
use crate::keyring::Keyring;
use crate::store::{Receipt, Save};

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
    /// Set if the request's client goes away before its answer.
    client: ClientGone,
}

/// Set when a request's client went away before its answer (its connection
/// closed, or the deadline answered for it) while its work goes on.
#[derive(Debug, Clone, Default)]
pub struct ClientGone(Arc<AtomicBool>);

impl ClientGone {
    /// Records that nobody is waiting for the answer any more.
    pub fn mark(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The keyed requests executing in this process, so that a retry can wait
/// for one whose client has gone (see the module's documentation).
#[derive(Debug, Default)]
pub struct LocalAttempts(Mutex<HashMap<IdempotencyScope, LocalAttempt>>);

#[derive(Debug)]
struct LocalAttempt {
    token: LeaseToken,
    client: ClientGone,
    /// Closed (its sender dropped) when the attempt ends.
    done: watch::Receiver<()>,
}

impl LocalAttempts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IdempotencyScope, LocalAttempt>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records an attempt about to begin `scope` (before it begins, so that a
    /// retry finding the key in flight always finds its attempt here too),
    /// until the guard drops. An attempt already recorded for `scope` stays:
    /// this one is then not recorded, and its guard does nothing.
    fn register(
        &self,
        scope: &IdempotencyScope,
        token: LeaseToken,
        client: ClientGone,
    ) -> Registered<'_> {
        let (sender, done) = watch::channel(());
        self.lock().entry(scope.clone()).or_insert(LocalAttempt {
            token,
            client,
            done,
        });
        Registered {
            attempts: self,
            scope: scope.clone(),
            token,
            _done: sender,
        }
    }

    /// The end of the attempt holding `scope` here, if any, and how long a
    /// retry may wait for it: as long as a request may run if its client has
    /// gone (nobody else will take its answer), else briefly, since its client
    /// may be going right now (a reset is noticed a moment after the retry
    /// can arrive) and a short wait beats a 409 for work about to finish.
    fn wait_for(
        &self,
        scope: &IdempotencyScope,
        own: LeaseToken,
        request_timeout: Duration,
    ) -> Option<(watch::Receiver<()>, Duration)> {
        let attempts = self.lock();
        // Our own record means the key is held by another process.
        let attempt = attempts.get(scope).filter(|attempt| attempt.token != own)?;
        let patience = if attempt.client.is_set() {
            request_timeout
        } else {
            request_timeout.min(LOCAL_WAIT)
        };
        Some((attempt.done.clone(), patience))
    }
}

/// How long a retry waits for a request with its key that is running here
/// and whose client is still connected, before answering 409.
const LOCAL_WAIT: Duration = Duration::from_secs(5);

/// An attempt in [`LocalAttempts`], removed (and its waiters woken) on drop.
struct Registered<'a> {
    attempts: &'a LocalAttempts,
    scope: IdempotencyScope,
    token: LeaseToken,
    _done: watch::Sender<()>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        let mut attempts = self.attempts.lock();
        if attempts
            .get(&self.scope)
            .is_some_and(|attempt| attempt.token == self.token)
        {
            attempts.remove(&self.scope);
        }
    }
}

/// Whether an error means the request failed validation, so that (as at
/// Stripe) nothing is saved under its key and a retry runs afresh. An unknown
/// client secret is one: anyone holding the publishable key could otherwise
/// fill the store with saved refusals, one per fresh key.
fn failed_validation(error: &ApiError) -> bool {
    matches!(error, ApiError::UnknownClientSecret)
}

/// A handler's successful answer: its body, and the store's proof that the
/// response was saved with the write (see [`crate::store::Saved`]), if it was.
#[derive(Debug)]
pub struct Written<T> {
    body: T,
    saved: Receipt,
}

impl<T> Written<T> {
    /// `body`, with the receipt of the write that saved it (`None` when the
    /// store saved nothing: no key, or no write).
    pub fn new(body: T, saved: Receipt) -> Self {
        Self { body, saved }
    }

    /// The body, for an answer that is not idempotent (a deletion).
    pub fn into_body(self) -> T {
        self.body
    }
}

/// The answer of an idempotent POST whose fresh response body is a `T`: that
/// response, a replay of the one saved for the same request, or an error.
#[derive(Debug)]
pub struct Idempotent<T> {
    response: Response,
    body: PhantomData<fn() -> T>,
}

impl<T> IntoResponse for Idempotent<T> {
    fn into_response(self) -> Response {
        self.response
    }
}

impl<T> From<ApiError> for Idempotent<T> {
    fn from(error: ApiError) -> Self {
        Self::answer(error.into_response())
    }
}

impl<T> Idempotent<T> {
    fn answer(response: Response) -> Self {
        Self {
            response,
            body: PhantomData,
        }
    }
}

impl<P> StripeForm<P> {
    /// Runs `execute` on the parameters at most once per idempotency key: a
    /// completed key replays its saved response, a key in flight gets a 409,
    /// and a key used with other parameters or on another endpoint gets
    /// Stripe's `idempotency_error`. What `execute` answers is saved for
    /// replay, with its write when the store proves it did so, else on its own.
    pub async fn run_idempotent<T: Serialize>(
        self,
        state: &AppState,
        tenant: &Tenant,
        realm: KeyRealm,
        execute: impl AsyncFnOnce(P, &Saver) -> Result<Written<T>, ApiError>,
    ) -> Idempotent<T> {
        let Self {
            params,
            idempotency,
        } = self;
        Idempotent::answer(
            idempotency
                .run(state, tenant, realm, async |saver| {
                    execute(params, saver).await
                })
                .await,
        )
    }
}

impl IdempotencyContext {
    /// The context of a request to `path` with id `request_id`, whose
    /// client's departure `client` records (when the middleware tracks it).
    pub fn new(
        keyed: Option<(IdempotencyKey, Vec<Fingerprint>)>,
        path: String,
        request_id: RequestId,
        client: Option<ClientGone>,
    ) -> Self {
        Self {
            keyed,
            path,
            request_id,
            client: client.unwrap_or_default(),
        }
    }

    /// The steps of [`StripeForm::run_idempotent`], top to bottom.
    async fn run<T: Serialize>(
        self,
        state: &AppState,
        tenant: &Tenant,
        realm: KeyRealm,
        execute: impl AsyncFnOnce(&Saver) -> Result<Written<T>, ApiError>,
    ) -> Response {
        // 1. No key: run, answer.
        let Some((key, fingerprints)) = self.keyed else {
            return answer(execute(&Saver::default()).await).0;
        };
        let Some(&fingerprint) = fingerprints.first() else {
            return answer(execute(&Saver::default()).await).0;
        };
        // 2. Begin: take the key, or learn it is taken or done.
        let scope = IdempotencyScope {
            tenant: tenant.clone(),
            realm,
            key,
        };
        let token = LeaseToken::generate();
        let mut waited = false;
        let _registered;
        loop {
            let registered = state
                .local_attempts
                .register(&scope, token, self.client.clone());
            let now = state.clock.now();
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
                    // The first request runs here (its client perhaps gone):
                    // wait for it, once, then look again.
                    let timeout = state.config.request_timeout;
                    if !waited
                        && let Some((mut done, patience)) =
                            state.local_attempts.wait_for(&scope, token, timeout)
                    {
                        waited = true;
                        let _ = tokio::time::timeout(patience, done.changed()).await;
                        continue;
                    }
                    return ApiError::IdempotencyKeyInUse {
                        key: scope.key.as_str().to_owned(),
                    }
                    .into_response();
                }
                Ok(BeginOutcome::Completed(done)) => {
                    return replay_or_refuse(
                        &state.keyring,
                        &scope,
                        &self.path,
                        &fingerprints,
                        done,
                    );
                }
                Ok(BeginOutcome::Proceed) => {
                    _registered = registered;
                    break;
                }
            }
        }
        // 3. Execute: a write saves the response itself when it can.
        let saver = Saver(Some(SaverInner {
            scope: scope.clone(),
            token,
            keyring: state.keyring.clone(),
        }));
        let result = execute(&saver).await;
        // A validation failure gives the key back instead of saving it.
        if let Err(error) = &result
            && failed_validation(error)
        {
            if let Err(cause) = state.store.release_idempotent(&scope, token).await {
                tracing::warn!(error = %cause, "could not release an idempotency key");
            }
            return answer(result).0;
        }
        let (mut response, saved) = answer(result);
        // 4. Save what no write saved (errors, no-ops).
        if saved.is_none() {
            response = save_separately(state, &scope, token, response).await;
        }
        if let Ok(value) = HeaderValue::from_str(&self.request_id.0) {
            response.headers_mut().insert("original-request", value);
        }
        response
    }
}

/// The response for a handler's result, and the proof that it is saved, if
/// the store gave one.
fn answer<T: Serialize>(result: Result<Written<T>, ApiError>) -> (Response, Receipt) {
    match result {
        Ok(Written { body, saved }) => (Json(body).into_response(), saved),
        Err(error) => (error.into_response(), None),
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
}

impl Saver {
    /// What the store saves if the write succeeds: a 200 whose body is
    /// `body(result)` — the same object the handler then returns.
    pub fn on_success<T, R>(&self, body: impl FnOnce(&T) -> R + Send + 'static) -> Save<T>
    where
        R: Serialize,
    {
        let inner = self.0.as_ref()?;
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
}
