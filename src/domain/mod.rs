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

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {}: {text:?}", stringify!($name)))
                })
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
pub mod events;
pub mod external_account;
pub mod ids;
pub mod keys;
pub mod mode;
pub mod onboarding;
pub mod platform;
pub mod webhooks;
pub mod wire;
