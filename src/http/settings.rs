//! The HTTP layer's settings: what serving a request needs to know (session
//! lifetime, body and form limits, timeouts, rate limits, the default API
//! version) and the limits on each connection. `config` fills them in from the
//! command line; nothing here reads the environment.

use std::time::Duration;

use super::form::FormLimits;
use super::rate_limit::RateLimits;
use super::test_double::TestDoubleSwitches;
use super::version::DEFAULT_API_VERSION;
use crate::server::ConnectionLimits;

/// What the API needs at request time.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long an account session lives.
    pub session_ttl: Duration,
    /// How long test mode takes to verify what Stripe verifies asynchronously.
    pub verification_delay: Duration,
    /// The `Stripe-Version` answered when a request names none.
    pub default_api_version: &'static str,
    /// Bounds on form decoding.
    pub form_limits: FormLimits,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// The largest body of an endpoint the browser calls (the claim and the
    /// `em_` endpoints), which need a few fields at most.
    pub browser_max_body_bytes: usize,
    /// Request bytes buffered at once across the server (see `http::body`).
    pub max_buffered_body_bytes: usize,
    /// Per-platform rate limits, if enabled.
    pub rate_limits: Option<RateLimits>,
    /// Time allowed to receive a request's body once its headers are in.
    pub body_read_timeout: Duration,
    /// Time allowed to handle a request, body included.
    pub request_timeout: Duration,
    /// Limits on each connection (header timeout and size, shutdown grace).
    pub connection: ConnectionLimits,
    /// Whether live-mode webhook endpoints may name private, loopback and
    /// link-local addresses (refused by default: server-side request forgery).
    pub allow_private_webhook_addresses: bool,
    /// Which parts of the test double are on (none by default).
    pub test_double: TestDoubleSwitches,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(30 * 60),
            verification_delay: crate::domain::onboarding::verification::DEFAULT_VERIFICATION_DELAY,
            default_api_version: DEFAULT_API_VERSION,
            form_limits: FormLimits::default(),
            max_body_bytes: 256 * 1024,
            browser_max_body_bytes: 8 * 1024,
            max_buffered_body_bytes: 32 * 1024 * 1024,
            rate_limits: None,
            body_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            connection: ConnectionLimits::default(),
            allow_private_webhook_addresses: false,
            test_double: TestDoubleSwitches::default(),
        }
    }
}
