//! How domain values are written to columns and read back, the same way in
//! both backends: metadata and capabilities as JSON text, components in their
//! compact bit layout, ids checked on the way out.

use std::collections::BTreeMap;

use crate::domain::account::{Account, CapabilityStatus, Metadata};
use crate::domain::catalog::ResolvedComponents;
use crate::domain::ids::AccountId;

use super::StoreError;

/// A value as JSON text.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Database(Box::new(error)))
}

/// An account's capabilities as JSON text: `{"card_payments": "inactive", …}`.
pub(crate) fn capabilities_json(account: &Account) -> Result<String, StoreError> {
    let plain: BTreeMap<&str, &str> = account
        .capabilities
        .iter()
        .map(|(name, status)| (name.as_str(), status.as_str()))
        .collect();
    to_json(&plain)
}

/// Metadata read back from its JSON text.
pub(crate) fn metadata(json: &str) -> Result<Metadata, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt("account metadata", json))
}

/// Capabilities read back from their JSON text.
pub(crate) fn capabilities(json: &str) -> Result<BTreeMap<String, CapabilityStatus>, StoreError> {
    let raw: BTreeMap<String, String> =
        serde_json::from_str(json).map_err(|_| corrupt("account capabilities", json))?;
    raw.into_iter()
        .map(|(name, status)| {
            CapabilityStatus::parse(&status)
                .map(|status| (name, status))
                .ok_or_else(|| corrupt("capability status", &status))
        })
        .collect()
}

/// An account id read back.
pub(crate) fn account_id(text: &str) -> Result<AccountId, StoreError> {
    AccountId::parse(text).ok_or_else(|| corrupt("account id", text))
}

/// Resolved components read back from their bit layout.
pub(crate) fn components(bytes: &[u8]) -> Result<ResolvedComponents, StoreError> {
    ResolvedComponents::from_bytes(bytes)
        .ok_or_else(|| StoreError::Corrupt("stored components".to_owned()))
}

/// A stored value that cannot be what this server writes.
pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}
