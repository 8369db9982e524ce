//! connect-sessions: a self-hostable, Stripe-compatible Account Sessions server.
//!
//! The crate is laid out by responsibility: [`domain`] holds Stripe's objects
//! and rules with no I/O; [`store`] keeps them durably behind one trait; [`http`]
//! speaks Stripe's v1 wire protocol; [`app`] wires them together; [`cli`] is the
//! command line the thin `main` calls.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod idempotency;
pub mod keyring;
#[cfg(test)]
mod layering;
pub mod maintenance;
pub mod server;
pub mod store;
pub mod telemetry;
