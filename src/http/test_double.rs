//! The test double's runtime (`serve --test-clock`, `--test-faults`,
//! `--request-log`, `--test-reset`): the shared clock kept in step with the
//! database, fault rules that answer a platform's matching requests the way
//! Stripe fails, and the log of a platform's latest requests. One middleware
//! applies them; `routes::test_helpers` manages them. All of it is off unless
//! switched on, and a server with any of it on refuses live mode.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use super::RequestId;
use super::error::ApiError;
use super::extract::{accept_on_first_use, presented_key};
use super::form::{self, FormValue};
use super::state::AppState;
use crate::clock::{Clock, OffsetClock, SystemClock, Timestamp};
use crate::domain::keys::{KeyKind, random_alphanumeric, random_fraction};
use crate::domain::platform::{KeyValidity, Tenant};
use crate::server::DropConnection;

/// Which parts of the test double are on. With any of them, the server
/// refuses live-mode keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestDoubleSwitches {
    /// `--test-clock`: the clock moves on request.
    pub clock: bool,
    /// `--test-faults`: fault rules.
    pub faults: bool,
    /// `--request-log`: the request log.
    pub request_log: bool,
    /// `--test-reset`: deleting a platform's test-mode objects on request.
    pub reset: bool,
    /// `--seed`: ids and secrets from a seeded generator.
    pub seeded: bool,
    /// `--accept-any-test-key`: any well-formed test key is a platform.
    pub accept_any_test_key: bool,
    /// `--test-keys-from` / `--test-keys`: platforms with known test keys.
    pub known_keys: bool,
}

impl TestDoubleSwitches {
    /// Whether the server runs as a test double at all (and so refuses live mode).
    pub fn any(&self) -> bool {
        self.clock
            || self.faults
            || self.request_log
            || self.reset
            || self.seeded
            || self.accept_any_test_key
            || self.known_keys
    }

    /// The flags that are on, for messages: `--test-clock, --seed`.
    pub fn flags(&self) -> String {
        let flags = [
            (self.clock, "--test-clock"),
            (self.faults, "--test-faults"),
            (self.request_log, "--request-log"),
            (self.reset, "--test-reset"),
            (self.seeded, "--seed"),
            (self.accept_any_test_key, "--accept-any-test-key"),
            (self.known_keys, "--test-keys-from"),
        ];
        flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, flag)| *flag)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The test double's state, shared by every request of one process.
#[derive(Debug, Default)]
pub struct TestDouble {
    /// The movable clock (the same one the state's `clock` reads).
    pub clock: Option<OffsetClock>,
    /// The fault rules.
    pub faults: Option<Faults>,
    /// The request log.
    pub requests: Option<RequestLog>,
}

// --- Faults -------------------------------------------------------------------------

/// What a fault does to a request it matches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultEffect {
    /// Answer this status with Stripe's body for it, instead of handling.
    pub status: Option<u16>,
    /// Wait this long first.
    pub delay: Option<Duration>,
    /// Close the connection without answering.
    pub drop: bool,
}

/// The statuses a fault may answer, each with Stripe's body for it.
pub const FAULT_STATUSES: &[u16] = &[429, 500, 502, 503, 504];

/// When a rule fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultTrigger {
    /// The next `remaining` matching requests (of `count`).
    Count {
        /// How many it was given.
        count: u32,
        /// How many are left.
        remaining: u32,
    },
    /// Each matching request with this probability.
    Rate(f64),
}

/// One fault rule of a platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultRule {
    /// `flt_…`
    pub id: String,
    #[serde(skip)]
    tenant: Tenant,
    /// The method it matches (any if `None`).
    pub method: Option<String>,
    /// The path prefix it matches.
    pub path: String,
    /// The status it answers.
    pub status: Option<u16>,
    /// The delay it adds, in milliseconds.
    pub delay_ms: Option<u64>,
    /// Whether it closes the connection unanswered.
    pub drop: bool,
    /// `count` given, if counted.
    pub count: Option<u32>,
    /// How many more requests it will fault, if counted.
    pub remaining: Option<u32>,
    /// Its probability, if by rate.
    pub rate: Option<f64>,
    /// How many requests it faulted.
    pub hits: u64,
    /// When it was installed.
    pub created: Timestamp,
}

/// A new rule, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFaultRule {
    /// The method matched, upper case; any if `None`.
    pub method: Option<String>,
    /// The path prefix matched.
    pub path: String,
    /// The effect.
    pub effect: FaultEffect,
    /// When it fires.
    pub trigger: FaultTrigger,
}

/// The fault rules of every platform, in this process.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<(FaultRule, FaultTrigger, FaultEffect)>>,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, Vec<(FaultRule, FaultTrigger, FaultEffect)>> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Installs a rule for `tenant`; the rule as listed.
    pub fn install(&self, tenant: &Tenant, new: NewFaultRule, now: Timestamp) -> FaultRule {
        let (count, remaining, rate) = match new.trigger {
            FaultTrigger::Count { count, remaining } => (Some(count), Some(remaining), None),
            FaultTrigger::Rate(rate) => (None, None, Some(rate)),
        };
        let rule = FaultRule {
            id: format!("flt_{}", random_alphanumeric(16)),
            tenant: tenant.clone(),
            method: new.method,
            path: new.path,
            status: new.effect.status,
            delay_ms: new
                .effect
                .delay
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            drop: new.effect.drop,
            count,
            remaining,
            rate,
            hits: 0,
            created: now,
        };
        self.lock().push((rule.clone(), new.trigger, new.effect));
        rule
    }

    /// The tenant's rules, oldest first.
    pub fn list(&self, tenant: &Tenant) -> Vec<FaultRule> {
        self.lock()
            .iter()
            .filter(|(rule, _, _)| rule.tenant == *tenant)
            .map(|(rule, _, _)| rule.clone())
            .collect()
    }

    /// Removes the tenant's rules; those removed.
    pub fn clear(&self, tenant: &Tenant) -> Vec<FaultRule> {
        let mut rules = self.lock();
        let (removed, kept): (Vec<_>, Vec<_>) = rules
            .drain(..)
            .partition(|(rule, _, _)| rule.tenant == *tenant);
        *rules = kept;
        removed.into_iter().map(|(rule, _, _)| rule).collect()
    }

    /// The effect of the first of the tenant's rules that matches the
    /// request and fires, counted as a hit.
    fn take(&self, tenant: &Tenant, method: &Method, path: &str) -> Option<FaultEffect> {
        let mut rules = self.lock();
        for (rule, trigger, effect) in rules.iter_mut() {
            let matches = rule.tenant == *tenant
                && rule.method.as_deref().is_none_or(|m| m == method.as_str())
                && path.starts_with(&rule.path);
            if !matches {
                continue;
            }
            let fires = match trigger {
                FaultTrigger::Count { remaining, .. } if *remaining > 0 => {
                    *remaining -= 1;
                    rule.remaining = Some(*remaining);
                    true
                }
                FaultTrigger::Count { .. } => false,
                FaultTrigger::Rate(rate) => random_fraction() < *rate,
            };
            if fires {
                rule.hits += 1;
                return Some(*effect);
            }
        }
        None
    }
}

// --- Request log -------------------------------------------------------------------

/// Most requests the log keeps, for every platform together, in this process.
pub const REQUEST_LOG_CAPACITY: usize = 10_000;

/// One request as the log shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedRequest {
    /// `"test_helpers.request"`
    pub object: &'static str,
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The parameters (query string and form body), decoded, secrets redacted.
    pub params: Value,
    /// The `Idempotency-Key` sent.
    pub idempotency_key: Option<String>,
    /// The status answered; 0 when the connection was closed unanswered.
    pub status: u16,
    /// `req_…`
    pub request_id: Option<String>,
    /// Whether a fault rule answered it.
    pub faulted: bool,
    /// When it arrived.
    pub created: i64,
    #[serde(skip)]
    tenant: Option<Tenant>,
}

/// The latest requests of every platform, newest last.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, VecDeque<LoggedRequest>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, entry: LoggedRequest) {
        let mut entries = self.lock();
        if entries.len() == REQUEST_LOG_CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The tenant's latest `limit` requests, newest first, and whether there
    /// are more.
    pub fn latest(&self, tenant: &Tenant, limit: usize) -> (Vec<LoggedRequest>, bool) {
        let entries = self.lock();
        let mut mine = entries
            .iter()
            .rev()
            .filter(|entry| entry.tenant.as_ref() == Some(tenant));
        let page: Vec<LoggedRequest> = mine.by_ref().take(limit).cloned().collect();
        let more = mine.next().is_some();
        (page, more)
    }

    /// Forgets the tenant's requests.
    pub fn clear(&self, tenant: &Tenant) {
        self.lock()
            .retain(|entry| entry.tenant.as_ref() != Some(tenant));
    }
}

/// Parameter names whose values the log never shows.
const REDACTED_PARAMS: &[&str] = &[
    "account_number",
    "client_secret",
    "id_number",
    "personal_id_number",
    "secret",
    "ssn_last_4",
    "tax_id",
    "vat_id",
];

/// A decoded form as JSON, with secret values redacted.
fn params_json(tree: form::FormTree) -> Value {
    fn render(key: Option<&str>, value: FormValue) -> Value {
        match value {
            FormValue::Text(_) if key.is_some_and(|k| REDACTED_PARAMS.contains(&k)) => {
                Value::String("[REDACTED]".to_owned())
            }
            FormValue::Text(text) => Value::String(text),
            FormValue::Hash(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let inner = render(Some(&k), v);
                        (k, inner)
                    })
                    .collect::<Map<String, Value>>(),
            ),
            // A list item inherits its list's name: `expand[]` items are not secret,
            // `account_number[]` items would be.
            FormValue::List(items) => {
                Value::Array(items.into_iter().map(|item| render(key, item)).collect())
            }
        }
    }
    render(None, FormValue::Hash(tree))
}

// --- The middleware ----------------------------------------------------------------

/// The platform and mode a request's key belongs to, without the side
/// effects of authentication (rate limits): `None` for no key, an unknown
/// one, or one that no longer works.
async fn tenant_of(state: &AppState, headers: &HeaderMap) -> Option<Tenant> {
    let key = presented_key(headers)?;
    match key.classify()? {
        (KeyKind::Secret | KeyKind::Publishable, _) => {
            let hash = key.hash();
            let grant = match state.caches.key(&hash) {
                Some(grant) => grant,
                None => match state.store.find_key(hash).await.ok()? {
                    Some(grant) => grant,
                    // Under --accept-any-test-key, its first request creates it.
                    None => accept_on_first_use(state, &key).await.ok()??,
                },
            };
            // A rolled key past its grace period, or a revoked one, has no tenant.
            if grant.validity(SystemClock.now()) != KeyValidity::Usable {
                return None;
            }
            Some(Tenant {
                platform: grant.platform,
                mode: grant.mode,
            })
        }
        (KeyKind::Embedded, _) => {
            let session = state.store.find_embedded_session(key.hash()).await.ok()??;
            Some(Tenant {
                platform: session.platform,
                mode: session.mode,
            })
        }
        (KeyKind::Restricted, _) => None,
    }
}

/// Whether `path` is one of the test helpers that manage the test double
/// itself: never faulted, never logged, so a rule on `/v1` cannot lock a
/// test out of removing it.
fn is_own_helper(path: &str) -> bool {
    [
        "/v1/test_helpers/clock",
        "/v1/test_helpers/faults",
        "/v1/test_helpers/requests",
        "/v1/test_helpers/reset",
    ]
    .iter()
    .any(|own| path.starts_with(own))
}

/// Applies the test double to a request: keeps the clock in step with the
/// database (another process may have moved it), then, for a test-mode
/// request of a platform, answers a matching fault and logs the request.
pub(super) async fn apply(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let double = state.test_double.clone();
    if let Some(clock) = &double.clock
        && let Ok(offset) = state.store.clock_offset().await
    {
        clock.raise_offset(offset);
    }
    if (double.faults.is_none() && double.requests.is_none()) || is_own_helper(request.uri().path())
    {
        return next.run(request).await;
    }
    let Some(tenant) = tenant_of(&state, request.headers())
        .await
        .filter(|tenant| !tenant.mode.is_live())
    else {
        return next.run(request).await;
    };
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let created = state.clock.now().as_secs();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone());
    let idempotency_key = request
        .headers()
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);

    // The parameters, for the log: the query string, then the body, read
    // here (within the body limit) and handed on unchanged.
    let (parts, body) = request.into_parts();
    let (request, params) = if double.requests.is_some() {
        let bytes = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return ApiError::BodyTooLarge {
                    limit: state.config.max_body_bytes,
                }
                .into_response();
            }
        };
        let mut input = parts.uri.query().unwrap_or_default().as_bytes().to_vec();
        if !bytes.is_empty() {
            if !input.is_empty() {
                input.push(b'&');
            }
            input.extend_from_slice(&bytes);
        }
        let params = form::parse(&input, state.config.form_limits)
            .map_or(Value::Null, |decoded| params_json(decoded.tree));
        (Request::from_parts(parts, Body::from(bytes)), params)
    } else {
        (Request::from_parts(parts, body), Value::Null)
    };

    let effect = double
        .faults
        .as_ref()
        .and_then(|faults| faults.take(&tenant, &method, &path));
    let response = match effect {
        None => next.run(request).await,
        Some(effect) => {
            if let Some(delay) = effect.delay {
                tokio::time::sleep(delay).await;
            }
            if effect.drop {
                let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                response.extensions_mut().insert(DropConnection);
                response
            } else if let Some(status) = effect.status {
                ApiError::Faulted { status }.into_response()
            } else {
                next.run(request).await
            }
        }
    };
    if let Some(log) = &double.requests {
        let dropped = response.extensions().get::<DropConnection>().is_some();
        log.push(LoggedRequest {
            object: "test_helpers.request",
            method: method.to_string(),
            path,
            params,
            idempotency_key,
            status: if dropped {
                0
            } else {
                response.status().as_u16()
            },
            request_id,
            faulted: effect.is_some_and(|e| e.drop || e.status.is_some()),
            created,
            tenant: Some(tenant),
        });
    }
    response
}

/// How long the clock follower waits between reads of the shared offset.
pub const CLOCK_FOLLOW_INTERVAL: Duration = Duration::from_millis(100);

/// Keeps `clock` in step with the offset stored in the database, for the
/// work no request drives (webhook retries, pruning) when another process
/// moves the clock. Runs until aborted.
pub async fn follow_clock(state: AppState, clock: OffsetClock) {
    let mut ticks = tokio::time::interval(CLOCK_FOLLOW_INTERVAL);
    loop {
        ticks.tick().await;
        if let Ok(offset) = state.store.clock_offset().await {
            clock.raise_offset(offset);
        }
    }
}

/// The shared handle to the test double.
pub type SharedTestDouble = Arc<TestDouble>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::PlatformId;
    use crate::domain::mode::Mode;

    fn tenant() -> Tenant {
        Tenant {
            platform: PlatformId::generate(),
            mode: Mode::Test,
        }
    }

    #[test]
    fn a_counted_rule_faults_its_count_of_matching_requests_then_none() {
        let faults = Faults::default();
        let ours = tenant();
        faults.install(
            &ours,
            NewFaultRule {
                method: Some("POST".to_owned()),
                path: "/v1/account_sessions".to_owned(),
                effect: FaultEffect {
                    status: Some(500),
                    delay: None,
                    drop: false,
                },
                trigger: FaultTrigger::Count {
                    count: 2,
                    remaining: 2,
                },
            },
            Timestamp::from_secs(1),
        );
        let post = Method::POST;
        assert!(
            faults
                .take(&ours, &Method::GET, "/v1/account_sessions")
                .is_none()
        );
        assert!(
            faults
                .take(&tenant(), &post, "/v1/account_sessions")
                .is_none()
        );
        assert!(faults.take(&ours, &post, "/v1/accounts").is_none());
        assert!(
            faults
                .take(&ours, &post, "/v1/account_sessions/claim")
                .is_some()
        );
        assert!(faults.take(&ours, &post, "/v1/account_sessions").is_some());
        assert!(faults.take(&ours, &post, "/v1/account_sessions").is_none());
        let listed = faults.list(&ours);
        assert_eq!((listed[0].hits, listed[0].remaining), (2, Some(0)));
        assert_eq!(faults.clear(&ours).len(), 1);
        assert!(faults.list(&ours).is_empty());
    }

    #[test]
    fn secrets_are_redacted_from_logged_parameters() {
        let decoded = form::parse(
            b"client_secret=accs_secret__x&external_account[account_number]=000123456789\
              &individual[id_number]=123&expand[]=components&email=a%40b.c",
            form::FormLimits::default(),
        )
        .unwrap();
        let params = params_json(decoded.tree);
        assert_eq!(params["client_secret"], "[REDACTED]");
        assert_eq!(params["external_account"]["account_number"], "[REDACTED]");
        assert_eq!(params["individual"]["id_number"], "[REDACTED]");
        assert_eq!(params["expand"], serde_json::json!(["components"]));
        assert_eq!(params["email"], "a@b.c");
    }
}
