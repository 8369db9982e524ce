//! Test mode and live mode: every key, object and request belongs to exactly one.

use std::fmt;

/// Stripe's two worlds. Objects of one mode are invisible to keys of the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Test mode (`sk_test_`, `pk_test_`, `em_test_` keys; `livemode: false`).
    Test,
    /// Live mode (`sk_live_`, `pk_live_`, `em_live_` keys; `livemode: true`).
    Live,
}

impl Mode {
    /// The value of the `livemode` field of objects in this mode.
    pub const fn is_live(self) -> bool {
        matches!(self, Self::Live)
    }

    /// The mode whose `livemode` field is `livemode`.
    pub const fn from_livemode(livemode: bool) -> Self {
        if livemode { Self::Live } else { Self::Test }
    }

    /// `"test"` or `"live"`, as key prefixes and Stripe's messages spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Live => "live",
        }
    }

    /// The other mode.
    pub const fn other(self) -> Self {
        match self {
            Self::Test => Self::Live,
            Self::Live => Self::Test,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
