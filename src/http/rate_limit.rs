//! Optional request rate limits per platform, mode and kind of caller, with
//! Stripe's documented defaults: 100 requests per second in live mode, 25 in
//! test mode. Off unless `--rate-limit` is given.
//!
//! Each (platform, mode, caller) has a token bucket (GCRA via `governor`) that
//! refills at the limit and holds at most one second's worth, so bursts up to
//! the limit pass and sustained traffic above it is refused with Stripe's 429.
//! The platform's backend (secret keys), the browsers' claims (the public
//! publishable key) and the client-side API (`em_` keys) have separate
//! buckets, so a flood from the browser side can never starve the backend.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota};

use crate::domain::ids::PlatformId;
use crate::domain::mode::Mode;

/// Requests per second allowed per platform in each mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Live mode (Stripe: 100).
    pub live_per_second: NonZeroU32,
    /// Test mode (Stripe: 25).
    pub test_per_second: NonZeroU32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            live_per_second: NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN),
            test_per_second: NonZeroU32::new(25).unwrap_or(NonZeroU32::MIN),
        }
    }
}

/// Who is calling, as far as rate limits go: each has its own bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    /// The platform's backend, with a secret key.
    Secret,
    /// A browser claiming a client secret, with the publishable key.
    Publishable,
    /// A browser with an embedded session (`em_`) key.
    Embedded,
}

/// The buckets of every platform and caller, one limiter per mode.
pub struct RateLimiter {
    live: DefaultKeyedRateLimiter<(PlatformId, Caller)>,
    test: DefaultKeyedRateLimiter<(PlatformId, Caller)>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Limiters for `limits`.
    pub fn new(limits: RateLimits) -> Self {
        Self {
            live: DefaultKeyedRateLimiter::keyed(Quota::per_second(limits.live_per_second)),
            test: DefaultKeyedRateLimiter::keyed(Quota::per_second(limits.test_per_second)),
        }
    }

    /// Takes one request from the bucket of `caller` at `platform` in `mode`;
    /// `false` if empty.
    pub fn allow(&self, platform: &PlatformId, mode: Mode, caller: Caller) -> bool {
        let limiter = match mode {
            Mode::Live => &self.live,
            Mode::Test => &self.test,
        };
        limiter.check_key(&(platform.clone(), caller)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_and_mode_has_its_own_bucket() {
        let limits = RateLimits {
            live_per_second: NonZeroU32::new(3).unwrap(),
            test_per_second: NonZeroU32::new(2).unwrap(),
        };
        let limiter = RateLimiter::new(limits);
        let (one, two) = (PlatformId::generate(), PlatformId::generate());
        let secret = Caller::Secret;
        assert!(limiter.allow(&one, Mode::Test, secret));
        assert!(limiter.allow(&one, Mode::Test, secret));
        assert!(!limiter.allow(&one, Mode::Test, secret));
        // Another mode and another platform are untouched.
        assert!(limiter.allow(&one, Mode::Live, secret));
        assert!(limiter.allow(&two, Mode::Test, secret));
        assert!(limiter.allow(&one, Mode::Live, secret));
        assert!(limiter.allow(&one, Mode::Live, secret));
        assert!(!limiter.allow(&one, Mode::Live, secret));
    }

    #[test]
    fn each_kind_of_caller_has_its_own_bucket() {
        let limiter = RateLimiter::new(RateLimits {
            live_per_second: NonZeroU32::new(1).unwrap(),
            test_per_second: NonZeroU32::new(1).unwrap(),
        });
        let platform = PlatformId::generate();
        assert!(limiter.allow(&platform, Mode::Test, Caller::Publishable));
        assert!(!limiter.allow(&platform, Mode::Test, Caller::Publishable));
        assert!(limiter.allow(&platform, Mode::Test, Caller::Embedded));
        assert!(!limiter.allow(&platform, Mode::Test, Caller::Embedded));
        assert!(limiter.allow(&platform, Mode::Test, Caller::Secret));
    }
}
