//! The domain: Stripe's objects and rules as plain Rust types, with no HTTP or SQL in sight.

pub mod account;
pub mod account_session;
pub mod catalog;
pub mod country;
pub mod embedded_session;
pub mod external_account;
pub mod ids;
pub mod keys;
pub mod mode;
pub mod platform;
