//! Webhook endpoints and the delivery outbox: what the store promises
//! ([`WebhookStore`]), the statements each database provides
//! ([`WebhookRows`]), and the rules (at most 16 endpoints, deliveries leased
//! to one worker at a time, retried on a schedule), written once.

use std::future::Future;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::domain::account::{FieldUpdate, Metadata, MetadataUpdate};
use crate::domain::ids::{EventId, PlatformId, WebhookEndpointId};
use crate::domain::mode::Mode;
use crate::domain::platform::Tenant;
use crate::domain::webhooks::{EndpointStatus, Event, MAX_ENDPOINTS, WebhookEndpoint, retry_delay};
use crate::idempotency::LeaseToken;

use super::engine::{Backend, Lock, SqlStore};
use super::idempotency_keys::{Receipt, save_completion};
use super::paging::{Bound, Cursor, Page};
use super::rows::{self, RowReader, Shifted};
use super::{Save, StoreError};

/// A new endpoint with its sealed signing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// Its `whsec_…` secret, sealed with the master keys.
    pub sealed_secret: Vec<u8>,
}

/// Changes to an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointUpdate {
    /// `url`, already checked.
    pub url: Option<String>,
    /// `enabled_events[]`
    pub enabled_events: Option<Vec<String>>,
    /// `description`
    pub description: FieldUpdate,
    /// `disabled`
    pub disabled: Option<bool>,
    /// `metadata[...]`
    pub metadata: MetadataUpdate,
}

/// The result of creating an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointInsertOutcome {
    /// Stored (with the response, if the request was idempotent).
    Created(Receipt),
    /// The platform has its 16 endpoints in this mode already.
    TooMany,
}

/// How many deliveries one claim may lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLimits {
    /// In all.
    pub total: u32,
    /// To any one endpoint.
    pub per_endpoint: u32,
}

/// A delivery leased to one worker.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    /// The delivery's row.
    pub seq: i64,
    /// Proof of the lease: only its holder records the attempt.
    pub token: LeaseToken,
    /// Attempts made before this one.
    pub attempts: u32,
    /// The event to send.
    pub event: Event,
    /// Where to send it.
    pub endpoint: WebhookEndpoint,
    /// The endpoint's sealed secret.
    pub sealed_secret: Vec<u8>,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    /// The HTTP status answered, if any.
    pub http_status: Option<u16>,
    /// What went wrong (refused, timed out, not 2xx), if anything.
    pub error: Option<String>,
    /// How long it took.
    pub latency_ms: u64,
    /// When it was made.
    pub at: Timestamp,
}

impl AttemptResult {
    /// Whether the endpoint took the event: any 2xx.
    pub fn succeeded(&self) -> bool {
        self.http_status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// One recorded attempt, as the platform lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAttempt {
    /// The attempt's row.
    pub seq: i64,
    /// The event sent.
    pub event: EventId,
    /// The endpoint it was sent to.
    pub endpoint: WebhookEndpointId,
    /// 1 for the first attempt of a delivery.
    pub attempt: u32,
    /// How it went.
    pub result: AttemptResult,
}

/// Webhook endpoints and deliveries.
#[async_trait]
pub trait WebhookStore {
    /// Stores an endpoint, unless the platform has [`MAX_ENDPOINTS`] in its mode.
    async fn create_endpoint(
        &self,
        new: &NewEndpoint,
        save: Save<WebhookEndpoint>,
    ) -> Result<EndpointInsertOutcome, StoreError>;

    /// One of the tenant's endpoints, unless deleted.
    async fn find_endpoint(
        &self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StoreError>;

    /// Changes one of the tenant's endpoints; `None` if there is none.
    async fn update_endpoint(
        &self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
        update: &EndpointUpdate,
        save: Save<WebhookEndpoint>,
    ) -> Result<Option<(WebhookEndpoint, Receipt)>, StoreError>;

    /// Deletes one of the tenant's endpoints (its pending deliveries stop);
    /// `false` if there was none.
    async fn delete_endpoint(
        &self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// A page of the tenant's endpoints, newest first.
    async fn list_endpoints(
        &self,
        tenant: &Tenant,
        cursor: &Cursor<WebhookEndpointId>,
        limit: u32,
    ) -> Result<Option<Page<WebhookEndpoint>>, StoreError>;

    /// Leases up to `limit` deliveries due by `now` until `lease_until`: at
    /// most `per_endpoint` to one endpoint, none to the endpoints in `busy`
    /// (nor to disabled or deleted ones). Of concurrent workers, on any
    /// number of processes, each delivery goes to one.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limits: ClaimLimits,
        busy: &[WebhookEndpointId],
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// Records an attempt of a leased delivery: done if it succeeded, due
    /// again on the retry schedule if not, failed for good after the last
    /// retry. Nothing happens if the lease was lost (another worker took the
    /// delivery over after it ran out).
    async fn finish_delivery(
        &self,
        delivery: &ClaimedDelivery,
        result: &AttemptResult,
    ) -> Result<(), StoreError>;

    /// A page of the attempts made to one of the tenant's endpoints, newest
    /// first; `None` if the endpoint is not the tenant's.
    async fn list_attempts(
        &self,
        tenant: &Tenant,
        endpoint: &WebhookEndpointId,
        limit: u32,
    ) -> Result<Option<Vec<RecordedAttempt>>, StoreError>;
}

/// The columns [`claimed_delivery`] reads, in order, from
/// `webhook_deliveries d` joined with its `events` and `webhook_endpoints`.
macro_rules! claimed_delivery_columns {
    () => {
        concat!(
            "d.seq, d.attempts, webhook_endpoints.secret, ",
            rows::event_columns!(),
            ", ",
            rows::webhook_endpoint_columns!()
        )
    };
}
pub(crate) use claimed_delivery_columns;

/// Decodes a row selected with `claimed_delivery_columns!`, leased with `token`.
pub fn claimed_delivery(
    row: &impl RowReader,
    token: LeaseToken,
) -> Result<ClaimedDelivery, StoreError> {
    let attempts = row.integer(1)?;
    Ok(ClaimedDelivery {
        seq: row.integer(0)?,
        token,
        attempts: u32::try_from(attempts)
            .map_err(|_| rows::corrupt("delivery attempts", &attempts.to_string()))?,
        sealed_secret: row.bytes(2)?,
        event: rows::event(&Shifted { row, by: 3 })?,
        endpoint: rows::webhook_endpoint(&Shifted { row, by: 14 })?,
    })
}

/// The columns [`recorded_attempt`] reads, in order, from `webhook_attempts`.
macro_rules! recorded_attempt_columns {
    () => {
        "seq, event_id, endpoint_id, attempt, attempted_at, http_status, error, latency_ms"
    };
}
pub(crate) use recorded_attempt_columns;

/// Decodes a row selected with `recorded_attempt_columns!`.
pub fn recorded_attempt(row: &impl RowReader) -> Result<RecordedAttempt, StoreError> {
    let number = |index: usize, what: &str| -> Result<u64, StoreError> {
        let value = row.integer(index)?;
        u64::try_from(value).map_err(|_| rows::corrupt(what, &value.to_string()))
    };
    Ok(RecordedAttempt {
        seq: row.integer(0)?,
        event: row.id(1, "attempt event", EventId::parse)?,
        endpoint: row.id(2, "attempt endpoint", WebhookEndpointId::parse)?,
        attempt: u32::try_from(number(3, "attempt number")?).unwrap_or(u32::MAX),
        result: AttemptResult {
            http_status: row
                .optional_integer(5)?
                .map(|status| {
                    u16::try_from(status)
                        .map_err(|_| rows::corrupt("attempt status", &status.to_string()))
                })
                .transpose()?,
            error: row.optional_text(6)?,
            latency_ms: number(7, "attempt latency")?,
            at: row.time(4)?,
        },
    })
}

/// The webhook statements a database provides.
pub trait WebhookRows {
    /// The platform's endpoints in `mode` (enabled or not, not deleted).
    fn select_endpoints(
        &mut self,
        platform: &PlatformId,
        mode: Mode,
    ) -> impl Future<Output = Result<Vec<WebhookEndpoint>, StoreError>> + Send;

    /// Locks the platform's endpoints in `mode` for counting and inserting.
    fn lock_endpoints(
        &mut self,
        platform: &PlatformId,
        mode: Mode,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts an endpoint.
    fn insert_endpoint(
        &mut self,
        new: &NewEndpoint,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// One of the tenant's endpoints (not deleted), with the row lock `lock`.
    fn select_endpoint(
        &mut self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
        lock: Lock,
    ) -> impl Future<Output = Result<Option<WebhookEndpoint>, StoreError>> + Send;

    /// Writes an endpoint's editable fields.
    fn update_endpoint(
        &mut self,
        endpoint: &WebhookEndpoint,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks one of the tenant's endpoints deleted and fails its pending
    /// deliveries; how many endpoints it deleted.
    fn delete_endpoint(
        &mut self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
        at: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The list position of one of the tenant's endpoints.
    fn endpoint_seq(
        &mut self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Up to `fetch` of the tenant's endpoints within `bound`, in its order.
    fn select_endpoint_page(
        &mut self,
        tenant: &Tenant,
        bound: Bound,
        fetch: i64,
    ) -> impl Future<Output = Result<Vec<WebhookEndpoint>, StoreError>> + Send;

    /// Queues a delivery of an event to an endpoint, due at once.
    fn insert_delivery(
        &mut self,
        event: &EventId,
        endpoint: &WebhookEndpointId,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Leases due deliveries (see [`WebhookStore::claim_deliveries`]).
    fn lease_deliveries(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        token: LeaseToken,
        limits: ClaimLimits,
        busy: &[WebhookEndpointId],
    ) -> impl Future<Output = Result<Vec<ClaimedDelivery>, StoreError>> + Send;

    /// Records the outcome of an attempt under `token`: the delivery's new
    /// status, attempt count and due time, and the attempt itself; how many
    /// deliveries it changed (0: the lease was lost).
    fn record_attempt(
        &mut self,
        delivery: &ClaimedDelivery,
        status: &'static str,
        next_attempt_at: Timestamp,
        result: &AttemptResult,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The latest `limit` attempts to an endpoint, newest first.
    fn select_attempts(
        &mut self,
        endpoint: &WebhookEndpointId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<RecordedAttempt>, StoreError>> + Send;
}

/// The endpoint after `update`.
fn updated(
    endpoint: &WebhookEndpoint,
    update: &EndpointUpdate,
) -> Result<WebhookEndpoint, StoreError> {
    let metadata: Metadata = update
        .metadata
        .apply(&endpoint.metadata)
        .map_err(|error| StoreError::Corrupt(format!("endpoint metadata: {error}")))?;
    Ok(WebhookEndpoint {
        url: update.url.clone().unwrap_or_else(|| endpoint.url.clone()),
        enabled_events: update
            .enabled_events
            .clone()
            .unwrap_or_else(|| endpoint.enabled_events.clone()),
        description: update.description.apply(&endpoint.description),
        status: match update.disabled {
            Some(true) => EndpointStatus::Disabled,
            Some(false) => EndpointStatus::Enabled,
            None => endpoint.status,
        },
        metadata,
        ..endpoint.clone()
    })
}

#[async_trait]
impl<B: Backend> WebhookStore for SqlStore<B> {
    async fn create_endpoint(
        &self,
        new: &NewEndpoint,
        save: Save<WebhookEndpoint>,
    ) -> Result<EndpointInsertOutcome, StoreError> {
        let new = new.clone();
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let endpoint = &new.endpoint;
                    tx.lock_endpoints(&endpoint.platform, endpoint.mode).await?;
                    let existing = tx
                        .select_endpoints(&endpoint.platform, endpoint.mode)
                        .await?;
                    if existing.len() >= MAX_ENDPOINTS {
                        return Ok(EndpointInsertOutcome::TooMany);
                    }
                    tx.insert_endpoint(&new).await?;
                    let receipt = save_completion(tx, save, endpoint).await?;
                    Ok(EndpointInsertOutcome::Created(receipt))
                })
            })
            .await
    }

    async fn find_endpoint(
        &self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.backend
            .read(move |tx| {
                Box::pin(async move { tx.select_endpoint(&tenant, &id, Lock::None).await })
            })
            .await
    }

    async fn update_endpoint(
        &self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
        update: &EndpointUpdate,
        save: Save<WebhookEndpoint>,
    ) -> Result<Option<(WebhookEndpoint, Receipt)>, StoreError> {
        let (tenant, id, update) = (tenant.clone(), id.clone(), update.clone());
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let Some(current) = tx.select_endpoint(&tenant, &id, Lock::Update).await?
                    else {
                        return Ok(None);
                    };
                    let next = updated(&current, &update)?;
                    tx.update_endpoint(&next).await?;
                    let receipt = save_completion(tx, save, &next).await?;
                    Ok(Some((next, receipt)))
                })
            })
            .await
    }

    async fn delete_endpoint(
        &self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        // Deleted endpoints keep their row: attempts and deliveries name it.
        self.backend
            .transaction(move |tx| {
                Box::pin(async move { Ok(tx.delete_endpoint(&tenant, &id, at).await? == 1) })
            })
            .await
    }

    async fn list_endpoints(
        &self,
        tenant: &Tenant,
        cursor: &Cursor<WebhookEndpointId>,
        limit: u32,
    ) -> Result<Option<Page<WebhookEndpoint>>, StoreError> {
        let (tenant, cursor) = (tenant.clone(), cursor.clone());
        self.backend
            .snapshot(move |tx| {
                Box::pin(async move {
                    let seq = match cursor.id() {
                        None => None,
                        Some(id) => match tx.endpoint_seq(&tenant, id).await? {
                            Some(seq) => Some(seq),
                            None => return Ok(None),
                        },
                    };
                    let bound = Bound::new(&cursor, seq);
                    let rows = tx
                        .select_endpoint_page(&tenant, bound, Bound::fetch(limit))
                        .await?;
                    Ok(Some(bound.page(rows, limit)))
                })
            })
            .await
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limits: ClaimLimits,
        busy: &[WebhookEndpointId],
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let busy = busy.to_vec();
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let token = LeaseToken::generate();
                    tx.lease_deliveries(now, lease_until, token, limits, &busy)
                        .await
                })
            })
            .await
    }

    async fn finish_delivery(
        &self,
        delivery: &ClaimedDelivery,
        result: &AttemptResult,
    ) -> Result<(), StoreError> {
        let (delivery, result) = (delivery.clone(), result.clone());
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let attempts = delivery.attempts + 1;
                    let (status, next) = if result.succeeded() {
                        ("succeeded", result.at)
                    } else {
                        match retry_delay(delivery.endpoint.mode, attempts) {
                            Some(delay) => ("pending", result.at.plus(delay)),
                            None => ("failed", result.at),
                        }
                    };
                    tx.record_attempt(&delivery, status, next, &result).await?;
                    Ok(())
                })
            })
            .await
    }

    async fn list_attempts(
        &self,
        tenant: &Tenant,
        endpoint: &WebhookEndpointId,
        limit: u32,
    ) -> Result<Option<Vec<RecordedAttempt>>, StoreError> {
        let (tenant, endpoint) = (tenant.clone(), endpoint.clone());
        self.backend
            .snapshot(move |tx| {
                Box::pin(async move {
                    if tx
                        .select_endpoint(&tenant, &endpoint, Lock::None)
                        .await?
                        .is_none()
                    {
                        return Ok(None);
                    }
                    tx.select_attempts(&endpoint, limit).await.map(Some)
                })
            })
            .await
    }
}
