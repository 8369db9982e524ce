//! The state every handler and extractor reaches: the store, the clock, the
//! settings, the keyring, the rate limiter and the caches. It lives in the HTTP
//! layer because only the HTTP layer reads it; `app` builds one and hands it to
//! [`super::router`].

use std::sync::Arc;

use super::cache::Caches;
use super::rate_limit::RateLimiter;
use super::settings::ApiConfig;
use crate::clock::Clock;
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
    /// Facts that never change, kept in memory (see [`super::cache`]).
    pub caches: Arc<Caches>,
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
            caches: Arc::new(Caches::default()),
            store,
            clock,
            config: Arc::new(config),
            keyring: Arc::new(keyring),
        }
    }
}
