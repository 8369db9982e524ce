//! Background upkeep: pruning expired account sessions (and the embedded
//! sessions claimed from them) after a grace period, idempotency keys past
//! their 24-hour retention, and events (with their deliveries) past their 30
//! days, so storage stays bounded however long the server runs.
//!
//! Pruning is idempotent and works in small batches, so several server processes
//! on one database can all run it without conflict or long write locks.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::domain::webhooks::EVENT_RETENTION;
use crate::idempotency::RETENTION;
use crate::store::{Store, StoreError};

/// When and what to prune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneSettings {
    /// How often to look for expired rows.
    pub interval: Duration,
    /// How long expired sessions are kept (claims of them still get
    /// `account_session_expired` rather than `resource_missing` meanwhile).
    pub grace: Duration,
    /// Most rows deleted per write transaction.
    pub batch: u32,
}

impl Default for PruneSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            grace: Duration::from_secs(60 * 60),
            batch: 1_000,
        }
    }
}

/// Prunes everything due now, batch by batch; returns how many rows went.
pub async fn prune_once(
    store: &dyn Store,
    clock: &dyn Clock,
    settings: &PruneSettings,
) -> Result<u64, StoreError> {
    let now = clock.now();
    let session_cutoff = now.minus(settings.grace);
    let key_cutoff = now.minus(RETENTION);
    let mut total = 0;
    loop {
        let deleted = store
            .prune_expired_sessions(session_cutoff, settings.batch)
            .await?;
        total += deleted;
        if deleted < u64::from(settings.batch) {
            break;
        }
    }
    loop {
        let deleted = store
            .prune_idempotency_keys(key_cutoff, settings.batch)
            .await?;
        total += deleted;
        if deleted < u64::from(settings.batch) {
            break;
        }
    }
    let event_cutoff = now.minus(EVENT_RETENTION);
    loop {
        let deleted = store.prune_events(event_cutoff, settings.batch).await?;
        total += deleted;
        if deleted < u64::from(settings.batch) {
            return Ok(total);
        }
    }
}

/// Prunes every `interval` until the task is dropped or aborted.
pub async fn run_pruner(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: PruneSettings) {
    let mut ticks = tokio::time::interval(settings.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match prune_once(store.as_ref(), clock.as_ref(), &settings).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(
                pruned,
                "pruned expired sessions, idempotency keys and events"
            ),
            // The next tick retries; a database outage must not stop the server.
            Err(error) => tracing::warn!(error = %error, "pruning failed; will retry"),
        }
    }
}
