//! Black-box API tests: the real application on a random port, its own
//! database (SQLite, or PostgreSQL when `CONNECT_SESSIONS_TEST_DATABASE` is set),
//! a clock the tests move, and every response body pinned by an inline snapshot.

// Test code states its expectations with unwrap/expect: a panic is a failure
// with a message, which is what a test wants. (`#![expect]` cannot be used for
// crate-level lints in a test harness, so this is an allow.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_sessions;
mod accounts;
mod browser;
mod catalog;
mod connections;
mod crash;
mod database;
mod fixture;
mod hardening;
mod helpers;
mod idempotency;
mod isolation;
mod keys;
mod multiprocess;
mod network_idempotency;
mod onboarding;
mod openapi;
mod sqlite_to_postgres;
mod store_contract;
mod store_races;
mod test_double;
mod validation;
mod webhooks;
mod wire;
