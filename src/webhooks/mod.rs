//! Webhooks: how a delivery is signed, and when a failed one is tried again.

pub mod signature;
