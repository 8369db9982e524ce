//! Webhooks: how a delivery is signed, and the worker that delivers events
//! from the outbox, retrying on the schedule of [`crate::domain::webhooks`].

pub mod signature;
pub mod worker;
