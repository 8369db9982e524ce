//! The domain: Stripe's objects and rules as plain Rust types, with no HTTP or SQL in sight.

/// Implements `as_str`, `parse` and the list of accepted wire values for a
/// fieldless enum, so that one table serves parsing, rendering and messages.
/// Defined before the modules below so that each of them can use it.
macro_rules! wire_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every value with its wire spelling.
            pub const VALUES: &'static [(&'static str, Self)] = &[$(($text, Self::$variant)),+];

            /// The wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The value spelled `text`.
            pub fn parse(text: &str) -> Option<Self> {
                Self::VALUES.iter().find(|(spelling, _)| *spelling == text).map(|(_, value)| *value)
            }
        }
    };
}

pub mod account;
pub mod account_session;
pub mod capability;
pub mod catalog;
pub mod country;
pub mod embedded_session;
pub mod external_account;
pub mod ids;
pub mod keys;
pub mod mode;
pub mod platform;
