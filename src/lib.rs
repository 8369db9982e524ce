//! connect-sessions: a self-hostable, Stripe-compatible Account Sessions server.
//!
//! The crate is laid out in layers that only point down (`docs/ARCHITECTURE.md`
//! draws them, and a test enforces them): [`cli`] is the command line the thin
//! `main` calls; [`app`] opens the store and serves, with settings from
//! [`config`]; [`http`] speaks Stripe's v1 wire protocol; [`store`] keeps state
//! durably behind one trait, with [`idempotency`]'s rules; [`domain`] holds
//! Stripe's objects and rules with no I/O; [`maintenance`] prunes in the
//! background. [`clock`], [`keyring`], [`server`] and [`telemetry`] are
//! leaves anyone may use.

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
pub mod webhooks;
