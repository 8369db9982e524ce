//! Object identifiers: Stripe-shaped prefixes followed by random alphanumerics.

use std::fmt;

use super::keys::random_alphanumeric;

/// Random characters after the prefix of a generated id. Stripe's `acct_` ids have 16.
const ID_RANDOM_LEN: usize = 16;

/// Defines an id newtype with a fixed prefix, a generator and a parser that
/// accepts only `prefix` followed by ASCII alphanumerics.
macro_rules! prefixed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new random id.
            pub fn generate() -> Self {
                Self(format!("{}{}", Self::PREFIX, random_alphanumeric(ID_RANDOM_LEN)))
            }

            /// Parses an id, accepting only the prefix followed by 1 to 64 ASCII
            /// alphanumerics. Anything else cannot name an object of ours.
            pub fn parse(text: &str) -> Option<Self> {
                let rest = text.strip_prefix(Self::PREFIX)?;
                let valid = (1..=64).contains(&rest.len())
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric());
                valid.then(|| Self(text.to_owned()))
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("not a {} id: {text:?}", Self::PREFIX))
                })
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A connected account (`acct_…`). Platforms are Stripe accounts too and share the prefix.
    AccountId,
    "acct_"
);
prefixed_id!(
    /// An embedded session, the browser's side of a claimed account session (`emsess_…`).
    EmbeddedSessionId,
    "emsess_"
);
prefixed_id!(
    /// A bank account attached to a connected account (`ba_…`).
    ExternalAccountId,
    "ba_"
);

prefixed_id!(
    /// A person of a connected account: its representative, an owner, a director… (`person_…`).
    PersonId,
    "person_"
);

prefixed_id!(
    /// An event: one change of one object (`evt_…`).
    EventId,
    "evt_"
);
prefixed_id!(
    /// A webhook endpoint of a platform (`we_…`).
    WebhookEndpointId,
    "we_"
);

/// A platform: the Connect application that owns connected accounts. In Stripe a
/// platform is itself an account, so its id is an [`AccountId`].
pub type PlatformId = AccountId;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_account_ids_look_like_stripes() {
        let id = AccountId::generate();
        assert!(id.as_str().starts_with("acct_"));
        assert_eq!(id.as_str().len(), 5 + 16);
        assert_eq!(AccountId::parse(id.as_str()), Some(id));
    }

    #[test]
    fn parse_rejects_other_prefixes_and_characters() {
        assert!(AccountId::parse("acct_").is_none());
        assert!(AccountId::parse("cus_123").is_none());
        assert!(AccountId::parse("acct_12 3").is_none());
        assert!(AccountId::parse("acct_1NkDjjJyhOZfPCWt").is_some());
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_prefix_and_alphanumerics(text in "\\PC{0,80}") {
            let parsed = AccountId::parse(&text);
            let expected = text.strip_prefix("acct_").is_some_and(|rest| {
                (1..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            });
            prop_assert_eq!(parsed.is_some(), expected);
        }
    }
}
