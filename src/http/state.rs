//! The state every handler and extractor reaches: the store, the clock, the
//! settings, the keyring, the rate limiter, the caches and the test double. It lives in the HTTP
//! layer because only the HTTP layer reads it; `app` builds one and hands it to
//! [`super::router`].

use std::sync::Arc;

use super::body::BodyBudget;
use super::cache::Caches;
use super::idempotent::LocalAttempts;
use super::rate_limit::RateLimiter;
use super::settings::ApiConfig;
use super::test_double::{Faults, RequestLog, TestDouble};
use crate::clock::{Clock, OffsetClock};
use crate::keyring::Keyring;
use crate::store::Store;

/// What every request handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// The one clock every expiry decision reads.
    pub clock: Arc<dyn Clock>,
    /// Request-time settings.
    pub config: Arc<ApiConfig>,
    /// Server-held keys (fingerprints, sealed responses).
    pub keyring: Arc<Keyring>,
    /// Per-platform rate limiting, when `config.rate_limits` enables it.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    /// The keyed requests executing in this process.
    pub local_attempts: Arc<LocalAttempts>,
    /// The server-wide budget of buffered request bytes.
    pub body_budget: Arc<BodyBudget>,
    /// Facts that never change, kept in memory (see [`super::cache`]).
    pub caches: Arc<Caches>,
    /// The test double's clock, faults and request log, where switched on.
    pub test_double: Arc<TestDouble>,
}

impl AppState {
    /// The state for `store`, `clock`, `config` and `keyring`, with a rate
    /// limiter if the config enables one.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: ApiConfig,
        keyring: Keyring,
    ) -> Self {
        Self {
            rate_limiter: config
                .rate_limits
                .map(|limits| Arc::new(RateLimiter::new(limits))),
            local_attempts: Arc::new(LocalAttempts::default()),
            body_budget: Arc::new(BodyBudget::new(config.max_buffered_body_bytes)),
            caches: Arc::new(Caches::default()),
            test_double: Arc::new(TestDouble {
                clock: None,
                faults: config.test_double.faults.then(Faults::default),
                requests: config.test_double.request_log.then(RequestLog::default),
            }),
            store,
            clock,
            config: Arc::new(config),
            keyring: Arc::new(keyring),
        }
    }

    /// The state with `clock` as its clock, which the test helpers move
    /// (`serve --test-clock`).
    #[must_use]
    pub fn with_test_clock(mut self, clock: OffsetClock) -> Self {
        self.clock = Arc::new(clock.clone());
        self.test_double = Arc::new(TestDouble {
            clock: Some(clock),
            faults: self.config.test_double.faults.then(Faults::default),
            requests: self
                .config
                .test_double
                .request_log
                .then(RequestLog::default),
        });
        self
    }
}
