//! Durable state behind one trait, written once for every database: each
//! aggregate's rules live in its own module here, over the few statements each
//! backend ([`sqlite`], [`postgres`]) provides in its module of the same name.
//!
//! Every method that returns `Ok` after a write has made that write durable. Domain
//! outcomes (not found, limits exceeded) are values; [`StoreError`] is only for the
//! store itself failing.
//!
//! Reading order: [`engine`] (how a rule runs on a database), [`rows`] (how rows
//! become domain values), [`paging`], then one aggregate at a time:
//! [`platforms`], [`accounts`], [`sessions`], [`bank_accounts`],
//! [`idempotency_keys`], [`events`], [`webhooks`], [`test_double`], each beside `sqlite/<aggregate>.rs` and
//! `postgres/<aggregate>.rs`.

pub mod accounts;
pub mod bank_accounts;
pub mod engine;
pub mod events;
pub mod idempotency_keys;
pub mod paging;
pub mod platforms;
pub mod postgres;
pub mod rows;
pub mod sessions;
pub mod sqlite;
pub mod test_double;
pub mod webhooks;

pub use accounts::{
    AccountChange, AccountStore, AccountUpdateOutcome, Author, PersonChange, PersonOutcome,
};
pub use bank_accounts::{BankAccountChangeOutcome, BankAccountInsertOutcome, BankAccountStore};
pub use engine::SqlStore;
pub use events::{EventFilter, EventStore};
pub use idempotency_keys::{IdempotencyStore, Receipt, Saved};
pub use paging::{Cursor, Page};
pub use platforms::{DeclaredOutcome, KeyChange, PlatformStore};
pub use sessions::{ClaimOutcome, SessionInsertOutcome, SessionStore};
pub use test_double::TestDoubleStore;
pub use webhooks::{
    AttemptResult, ClaimLimits, ClaimedDelivery, EndpointInsertOutcome, EndpointUpdate,
    NewEndpoint, RecordedAttempt, WebhookStore,
};

use std::fmt;

use crate::idempotency::Completion;

/// The store itself failed: the request could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database cannot be reached now (closed, restarting, or its worker gone).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored row could not be decoded; the database was changed by something else.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// A response to save with a write, if the request carried an idempotency key.
pub type Save<T> = Option<Completion<T>>;

/// Durable state: platforms, keys, accounts, account sessions, embedded
/// sessions, bank accounts, idempotency keys, events and webhook endpoints
/// with their deliveries, one trait per aggregate.
///
/// Methods that write on behalf of an idempotent request take a [`Save`]: when
/// the write succeeds, the store renders the response from the write's result
/// and saves it in the same transaction.
pub trait Store:
    PlatformStore
    + AccountStore
    + SessionStore
    + BankAccountStore
    + IdempotencyStore
    + EventStore
    + WebhookStore
    + TestDoubleStore
    + Send
    + Sync
    + fmt::Debug
{
}

impl<T> Store for T where
    T: PlatformStore
        + AccountStore
        + SessionStore
        + BankAccountStore
        + IdempotencyStore
        + EventStore
        + WebhookStore
        + TestDoubleStore
        + Send
        + Sync
        + fmt::Debug
{
}
