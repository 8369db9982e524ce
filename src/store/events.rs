//! Events: what the store promises ([`EventStore`]), the statements each
//! database provides ([`EventRows`]), and the one rule that records a change
//! (`record_changes`): every write of an account renders its snapshot,
//! and the difference from the last one is recorded as events, with their
//! deliveries, in the write's own transaction.

use std::future::Future;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::domain::account::Account;
use crate::domain::events::{self, Snapshot};
use crate::domain::ids::{AccountId, EventId, PlatformId, WebhookEndpointId};
use crate::domain::platform::Tenant;
use crate::domain::webhooks::{Event, RequestRef};
use crate::domain::wire::API_VERSION;

use super::StoreError;
use super::accounts::{AccountRows, with_its_bank_accounts};
use super::engine::{Backend, SqlStore, Tx};
use super::paging::{Bound, Cursor, Page};
use super::rows::to_json;
use super::webhooks::WebhookRows;

/// Which events a list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Types, `*` matching anything (`account.*`); empty: every type.
    pub types: Vec<String>,
    /// The earliest `created`, inclusive.
    pub created_from: Option<Timestamp>,
    /// The latest `created`, inclusive.
    pub created_to: Option<Timestamp>,
    /// `delivery_success`: only events every delivery of which succeeded
    /// (`true`), or only those with a delivery pending or failed (`false`).
    pub delivery_success: Option<bool>,
}

impl EventFilter {
    /// The types as SQL `like` patterns (with a backslash escaping `_` and `%`),
    /// each `*` a wildcard: `account.*` becomes `account.%`; no type, `%`.
    pub fn like_patterns(&self) -> Vec<String> {
        if self.types.is_empty() {
            return vec!["%".to_owned()];
        }
        self.types
            .iter()
            .map(|pattern| {
                pattern
                    .chars()
                    .flat_map(|c| match c {
                        '\\' | '%' | '_' => vec!['\\', c],
                        '*' => vec!['%'],
                        c => vec![c],
                    })
                    .collect()
            })
            .collect()
    }

    /// The bounds of `created`, inclusive, as Unix seconds.
    pub fn created_bounds(&self) -> (i64, i64) {
        (
            self.created_from.map_or(i64::MIN, Timestamp::as_secs),
            self.created_to.map_or(i64::MAX, Timestamp::as_secs),
        )
    }
}

/// Events.
#[async_trait]
pub trait EventStore {
    /// A page of the tenant's events, newest first; `None` if the cursor's
    /// event is not one of the tenant's.
    async fn list_events(
        &self,
        tenant: &Tenant,
        filter: &EventFilter,
        cursor: &Cursor<EventId>,
        limit: u32,
    ) -> Result<Option<Page<Event>>, StoreError>;

    /// One of the tenant's events.
    async fn find_event(&self, tenant: &Tenant, id: &EventId) -> Result<Option<Event>, StoreError>;

    /// The platform and mode an event belongs to (for operators, who name
    /// an event by its id alone).
    async fn event_tenant(&self, id: &EventId) -> Result<Option<Tenant>, StoreError>;

    /// Records the events of up to `batch` accounts whose pending
    /// verification completed by `now` (nobody wrote them: time did); how
    /// many accounts it settled.
    async fn settle_accounts(&self, now: Timestamp, batch: u32) -> Result<u64, StoreError>;

    /// Queues one of the tenant's events again, for `endpoint` or for every
    /// endpoint that wants it; how many deliveries it queued, or `None` if
    /// there is no such event.
    async fn resend_event(
        &self,
        tenant: &Tenant,
        id: &EventId,
        endpoint: Option<&WebhookEndpointId>,
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError>;

    /// Deletes up to `batch` events created before `created_before` (with
    /// their deliveries); how many it deleted.
    async fn prune_events(&self, created_before: Timestamp, batch: u32) -> Result<u64, StoreError>;
}

/// An event about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// `evt_…`
    pub id: EventId,
    /// The platform.
    pub platform: PlatformId,
    /// Whether it is a live-mode event.
    pub livemode: bool,
    /// The connected account it is about.
    pub account: Option<AccountId>,
    /// `type`
    pub event_type: &'static str,
    /// The version its object was rendered as.
    pub api_version: &'static str,
    /// `data` as JSON text.
    pub data: String,
    /// The request behind it.
    pub request: RequestRef,
    /// Creation time.
    pub created: Timestamp,
}

/// The event statements a database provides.
pub trait EventRows {
    /// The account's last snapshot, as stored.
    fn select_snapshot(
        &mut self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Stores the account's snapshot and when a pending check of it next
    /// completes by itself.
    fn write_snapshot(
        &mut self,
        account: &AccountId,
        snapshot: &str,
        next_check_at: Option<Timestamp>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts an event.
    fn insert_event(
        &mut self,
        event: &NewEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// One of the tenant's events, with its count of unfinished deliveries.
    fn select_event(
        &mut self,
        tenant: &Tenant,
        id: &EventId,
    ) -> impl Future<Output = Result<Option<Event>, StoreError>> + Send;

    /// The platform and mode of an event.
    fn select_event_tenant(
        &mut self,
        id: &EventId,
    ) -> impl Future<Output = Result<Option<Tenant>, StoreError>> + Send;

    /// The list position of one of the tenant's events.
    fn event_seq(
        &mut self,
        tenant: &Tenant,
        id: &EventId,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Up to `fetch` of the tenant's events within `bound` that pass
    /// `filter`, in its order.
    fn select_events(
        &mut self,
        tenant: &Tenant,
        filter: &EventFilter,
        bound: Bound,
        fetch: i64,
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;

    /// Up to `batch` accounts (not deleted) whose next check is due by
    /// `now`, locked for this transaction and skipped by others.
    fn due_accounts(
        &mut self,
        now: Timestamp,
        batch: u32,
    ) -> impl Future<Output = Result<Vec<(PlatformId, AccountId)>, StoreError>> + Send;

    /// Deletes up to `batch` events created before `created_before`.
    fn delete_old_events(
        &mut self,
        created_before: Timestamp,
        batch: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// What a change's account was before it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Before<'a> {
    /// Nothing: the change created it.
    New,
    /// This, unless a snapshot of it is stored (which is then what the
    /// platform last saw).
    Was(&'a Account),
    /// Whatever its stored snapshot says (time changed it, not a request).
    Unknown,
}

/// Records what changed on `account` (as it now is, at `now`): its snapshot
/// is compared with the last one stored (or, where none was, with `before`,
/// the account before this change; `None` for a new account), and the
/// difference is stored as events, each with a delivery for every endpoint
/// that wants it. The new snapshot, and when the account next changes by
/// itself (a pending check completing), are stored with them.
pub(super) async fn record_changes<T: Tx + Send>(
    tx: &mut T,
    account: &Account,
    before: Before<'_>,
    now: Timestamp,
    request: &RequestRef,
) -> Result<(), StoreError> {
    let stored: Option<Snapshot> = match before {
        Before::New => None,
        Before::Was(_) | Before::Unknown => tx
            .select_snapshot(&account.id)
            .await?
            .and_then(|json| serde_json::from_str(&json).ok()),
    };
    let previous = match (stored, before) {
        (Some(stored), _) => Some(stored),
        (None, Before::Was(before)) => Some(Snapshot::of(before, now)),
        (None, Before::New) => None,
        (None, Before::Unknown) => {
            // An account from before events were recorded, changed by
            // time alone: what changed is unknown, so nothing is reported;
            // from now on its changes are.
            let assessment = account.assess(now);
            let after = Snapshot::assessed(account, &assessment);
            return tx
                .write_snapshot(&account.id, &to_json(&after)?, assessment.changes_at)
                .await;
        }
    };
    let assessment = account.assess(now);
    let after = Snapshot::assessed(account, &assessment);
    let changes = events::changes(previous.as_ref(), &after, &account.id);
    tx.write_snapshot(&account.id, &to_json(&after)?, assessment.changes_at)
        .await?;
    if changes.is_empty() {
        return Ok(());
    }
    let endpoints = tx.select_endpoints(&account.platform, account.mode).await?;
    for change in changes {
        let mut data = serde_json::json!({"object": change.object});
        if let Some(previous) = change.previous_attributes {
            data["previous_attributes"] = previous;
        }
        let event = NewEvent {
            id: EventId::generate(),
            platform: account.platform.clone(),
            livemode: account.mode.is_live(),
            account: Some(account.id.clone()),
            event_type: change.event_type.as_str(),
            api_version: API_VERSION,
            data: to_json(&data)?,
            request: request.clone(),
            created: now,
        };
        tx.insert_event(&event).await?;
        // Every event here is about a connected account: it goes to the
        // platform's Connect endpoints.
        for endpoint in endpoints
            .iter()
            .filter(|endpoint| endpoint.wants(event.event_type, true))
        {
            tx.insert_delivery(&event.id, &endpoint.id, now).await?;
        }
    }
    Ok(())
}

#[async_trait]
impl<B: Backend> EventStore for SqlStore<B> {
    async fn list_events(
        &self,
        tenant: &Tenant,
        filter: &EventFilter,
        cursor: &Cursor<EventId>,
        limit: u32,
    ) -> Result<Option<Page<Event>>, StoreError> {
        let (tenant, filter, cursor) = (tenant.clone(), filter.clone(), cursor.clone());
        self.backend
            .snapshot(move |tx| {
                Box::pin(async move {
                    let seq = match cursor.id() {
                        None => None,
                        Some(id) => match tx.event_seq(&tenant, id).await? {
                            Some(seq) => Some(seq),
                            None => return Ok(None),
                        },
                    };
                    let bound = Bound::new(&cursor, seq);
                    let rows = tx
                        .select_events(&tenant, &filter, bound, Bound::fetch(limit))
                        .await?;
                    Ok(Some(bound.page(rows, limit)))
                })
            })
            .await
    }

    async fn find_event(&self, tenant: &Tenant, id: &EventId) -> Result<Option<Event>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.backend
            .read(move |tx| Box::pin(async move { tx.select_event(&tenant, &id).await }))
            .await
    }

    async fn event_tenant(&self, id: &EventId) -> Result<Option<Tenant>, StoreError> {
        let id = id.clone();
        self.backend
            .read(move |tx| Box::pin(async move { tx.select_event_tenant(&id).await }))
            .await
    }

    async fn settle_accounts(&self, now: Timestamp, batch: u32) -> Result<u64, StoreError> {
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let due = tx.due_accounts(now, batch).await?;
                    let settled = due.len() as u64;
                    for (platform, id) in due {
                        let account = tx.select_account(&platform, &id).await?;
                        let Some(account) = with_its_bank_accounts(tx, account).await? else {
                            continue;
                        };
                        record_changes(tx, &account, Before::Unknown, now, &RequestRef::default())
                            .await?;
                    }
                    Ok(settled)
                })
            })
            .await
    }

    async fn resend_event(
        &self,
        tenant: &Tenant,
        id: &EventId,
        endpoint: Option<&WebhookEndpointId>,
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError> {
        let (tenant, id, endpoint) = (tenant.clone(), id.clone(), endpoint.cloned());
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let Some(event) = tx.select_event(&tenant, &id).await? else {
                        return Ok(None);
                    };
                    let endpoints = tx.select_endpoints(&tenant.platform, tenant.mode).await?;
                    let mut queued = 0;
                    for target in endpoints.iter().filter(|candidate| match &endpoint {
                        // A named endpoint gets it whatever it subscribed to.
                        Some(named) => candidate.id == *named,
                        None => candidate.wants(&event.event_type, event.account.is_some()),
                    }) {
                        tx.insert_delivery(&event.id, &target.id, now).await?;
                        queued += 1;
                    }
                    Ok(Some(queued))
                })
            })
            .await
    }

    async fn prune_events(&self, created_before: Timestamp, batch: u32) -> Result<u64, StoreError> {
        self.backend
            .statement(move |tx| {
                Box::pin(async move { tx.delete_old_events(created_before, batch).await })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_patterns_become_escaped_like_patterns() {
        let filter = EventFilter {
            types: vec!["account.*".to_owned(), "person.created".to_owned()],
            ..EventFilter::default()
        };
        assert_eq!(filter.like_patterns(), ["account.%", "person.created"]);
        let underscores = EventFilter {
            types: vec!["account.external_account.created".to_owned()],
            ..EventFilter::default()
        };
        assert_eq!(
            underscores.like_patterns(),
            ["account.external\\_account.created"]
        );
        assert_eq!(EventFilter::default().like_patterns(), ["%"]);
    }
}
