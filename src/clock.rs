//! Wall-clock time behind a trait, so that tests can move time instead of sleeping.
//!
//! Every expiry decision (account sessions, embedded sessions, idempotency keys,
//! pruning) reads the one [`Clock`] held by the application state.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, the unit of every timestamp in Stripe's API
/// (and in JSON, a plain integer).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Wraps a number of seconds since the Unix epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// The number of seconds since the Unix epoch.
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// This instant moved forward by `duration` (whole seconds, saturating).
    pub fn plus(self, duration: Duration) -> Self {
        let secs = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(secs))
    }

    /// This instant moved back by `duration` (whole seconds, saturating).
    pub fn minus(self, duration: Duration) -> Self {
        let secs = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
        Self(self.0.saturating_sub(secs))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}

/// A clock that stands still until a test moves it. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock that starts at `start`.
    pub fn starting_at(start: Timestamp) -> Self {
        Self {
            now: Arc::new(AtomicI64::new(start.as_secs())),
        }
    }

    /// A clock that starts at the operating system's current time.
    pub fn starting_now() -> Self {
        Self::starting_at(SystemClock.now())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.now.fetch_add(secs, Ordering::SeqCst);
    }

    /// Sets the clock to an exact time.
    pub fn set(&self, to: Timestamp) {
        self.now.store(to.as_secs(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.now.load(Ordering::SeqCst))
    }
}

/// The operating system's clock moved forward by an offset that only grows:
/// the clock of a test double (`serve --test-clock`). Time keeps running;
/// advancing it adds to the offset, so it never goes back. Clones share the
/// offset.
#[derive(Debug, Clone, Default)]
pub struct OffsetClock {
    offset_secs: Arc<AtomicI64>,
}

impl OffsetClock {
    /// How far ahead of the operating system's clock this one runs.
    pub fn offset_secs(&self) -> i64 {
        self.offset_secs.load(Ordering::SeqCst)
    }

    /// Raises the offset to at least `offset_secs` (a smaller one is kept:
    /// the clock never goes back); the offset now.
    pub fn raise_offset(&self, offset_secs: i64) -> i64 {
        let before = self.offset_secs.fetch_max(offset_secs, Ordering::SeqCst);
        before.max(offset_secs)
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        let system = SystemClock.now().as_secs();
        Timestamp(system.saturating_add(self.offset_secs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_clock_runs_ahead_and_never_goes_back() {
        let clock = OffsetClock::default();
        let before = SystemClock.now().as_secs();
        assert_eq!(clock.raise_offset(3_600), 3_600);
        assert_eq!(clock.clone().raise_offset(60), 3_600);
        let now = clock.now().as_secs();
        assert!((before + 3_600..=SystemClock.now().as_secs() + 3_600).contains(&now));
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let clock = ManualClock::starting_at(Timestamp::from_secs(100));
        let other = clock.clone();
        other.advance(Duration::from_secs(30));
        assert_eq!(clock.now(), Timestamp::from_secs(130));
    }

    #[test]
    fn timestamp_arithmetic_saturates() {
        let late = Timestamp::from_secs(i64::MAX - 1);
        assert_eq!(late.plus(Duration::from_secs(10)).as_secs(), i64::MAX);
    }
}
