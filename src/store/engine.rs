//! How the store's rules run on a database: a [`Backend`] runs a unit of work
//! (a transaction, one statement, or a read) on one of its connections, and
//! [`SqlStore`] implements [`Store`](super::Store) once, over any backend.
//!
//! A unit of work is an `async` function over [`Tx`], the statements of every
//! aggregate that each backend provides. PostgreSQL's statements really wait
//! on the network; SQLite's run synchronously on the thread that owns the
//! connection (its writer or a reader), so a unit of work there completes in
//! its first poll and never needs an executor ([`run_to_completion`]). That is
//! what lets one copy of each rule serve both: the rule is written once as
//! async code, and SQLite runs it to completion in place.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::StoreError;
use super::accounts::AccountRows;
use super::bank_accounts::BankAccountRows;
use super::events::EventRows;
use super::idempotency_keys::IdempotencyRows;
use super::platforms::PlatformRows;
use super::sessions::SessionRows;
use super::test_double::TestDoubleRows;
use super::webhooks::WebhookRows;

/// A boxed, sendable future borrowing for `'a`: what a unit of work returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A unit of work on connection `C` with result `R`: an async function of
/// the connection (boxed, so any backend can hold it).
pub trait Work<C, R>:
    for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, Result<R, StoreError>> + Send + 'static
{
}

impl<C, R, W> Work<C, R> for W where
    W: for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, Result<R, StoreError>> + Send + 'static
{
}

/// `work`, typed as a unit of work: lets a closure be built before the
/// guarantee it runs with is chosen (a transaction, or one statement).
pub fn unit_of_work<C, R, W: Work<C, R>>(work: W) -> W {
    work
}

/// A database connection inside a unit of work: every aggregate's statements.
pub trait Tx:
    PlatformRows
    + AccountRows
    + SessionRows
    + BankAccountRows
    + IdempotencyRows
    + EventRows
    + WebhookRows
    + TestDoubleRows
{
}

impl<T> Tx for T where
    T: PlatformRows
        + AccountRows
        + SessionRows
        + BankAccountRows
        + IdempotencyRows
        + EventRows
        + WebhookRows
        + TestDoubleRows
{
}

/// One database: runs units of work on its connections, with the guarantee
/// each method names. Every method answers `Ok` only once a write is durable.
pub trait Backend: Send + Sync + fmt::Debug + 'static {
    /// The connection a unit of work runs on.
    type Conn: Tx + Send + 'static;

    /// Runs `work` in one transaction, committed (and synced) before this
    /// answers; if `work` fails, nothing it wrote stays.
    fn transaction<R: Send + 'static>(
        &self,
        work: impl Work<Self::Conn, R>,
    ) -> impl Future<Output = Result<R, StoreError>> + Send;

    /// Runs `work`, which writes with exactly one statement: atomic by
    /// itself, so a backend may skip the transaction around it.
    fn statement<R: Send + 'static>(
        &self,
        work: impl Work<Self::Conn, R>,
    ) -> impl Future<Output = Result<R, StoreError>> + Send;

    /// Runs `work`, which only reads, with one statement.
    fn read<R: Send + 'static>(
        &self,
        work: impl Work<Self::Conn, R>,
    ) -> impl Future<Output = Result<R, StoreError>> + Send;

    /// Runs `work`, which only reads, with several statements that must see
    /// one snapshot (a list's cursor and its page).
    fn snapshot<R: Send + 'static>(
        &self,
        work: impl Work<Self::Conn, R>,
    ) -> impl Future<Output = Result<R, StoreError>> + Send;
}

/// The store: every aggregate's rules, written once, run on backend `B`.
#[derive(Debug)]
pub struct SqlStore<B> {
    pub(super) backend: B,
}

impl<B: Backend> SqlStore<B> {
    /// The store over `backend`.
    pub fn new(backend: B) -> Self {
        Self { backend }
    }

    /// The backend, for its own operations (paths, pools).
    pub fn backend(&self) -> &B {
        &self.backend
    }
}

/// The row lock a read inside a transaction takes. SQLite needs none (its
/// writer holds the whole database); PostgreSQL takes the named row lock, so a
/// rule holds across processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// A plain read.
    None,
    /// The row may not be updated or deleted until the transaction ends.
    Share,
    /// Only this transaction may change the row until it ends.
    Update,
}

/// Runs a unit of work whose statements never wait (SQLite's) to its end, on
/// the calling thread. A unit of work that waits on anything else is a bug;
/// it is reported as unavailable rather than blocking the thread.
pub fn run_to_completion<R>(
    mut work: BoxFuture<'_, Result<R, StoreError>>,
) -> Result<R, StoreError> {
    let mut context = Context::from_waker(Waker::noop());
    match work.as_mut().poll(&mut context) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(StoreError::Unavailable(
            "a unit of work waited on something other than its connection".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_that_never_waits_runs_to_its_result() {
        let work: BoxFuture<'_, Result<u8, StoreError>> = Box::pin(async { Ok(7) });
        assert_eq!(run_to_completion(work).unwrap(), 7);
    }

    #[test]
    fn work_that_waits_is_refused_not_blocked_on() {
        let work: BoxFuture<'_, Result<u8, StoreError>> = Box::pin(async {
            std::future::pending::<()>().await;
            Ok(7)
        });
        assert!(matches!(
            run_to_completion(work),
            Err(StoreError::Unavailable(_))
        ));
    }
}
