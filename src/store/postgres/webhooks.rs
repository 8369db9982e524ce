//! PostgreSQL's webhook-endpoint and delivery statements, with the row locks
//! (`for update skip locked`) that let several processes deliver from one
//! outbox, each delivery by one of them.

use sqlx_core::query::query;

use crate::clock::Timestamp;
use crate::domain::ids::{EventId, PlatformId, WebhookEndpointId};
use crate::domain::mode::Mode;
use crate::domain::platform::Tenant;
use crate::domain::webhooks::WebhookEndpoint;
use crate::idempotency::LeaseToken;
use crate::store::StoreError;
use crate::store::engine::Lock;
use crate::store::paging::Bound;
use crate::store::rows::{self, RowReader};
use crate::store::webhooks::{
    AttemptResult, ClaimLimits, ClaimedDelivery, NewEndpoint, RecordedAttempt, WebhookRows,
    claimed_delivery, claimed_delivery_columns, recorded_attempt, recorded_attempt_columns,
};

use super::PgConn;

/// A page of the tenant's endpoints: `$1` platform, `$2` livemode, `$3`
/// the cursor's sequence, `$4` the limit.
macro_rules! endpoints_page {
    ($seq:literal, $order:literal) => {
        concat!(
            "select ",
            rows::webhook_endpoint_columns!(),
            " from webhook_endpoints
             where platform_id = $1 and livemode = $2 and deleted_at is null and ",
            $seq,
            " order by seq ",
            $order,
            " limit $4"
        )
    };
}

/// One of the tenant's endpoints: `$1` id, `$2` platform, `$3` livemode.
macro_rules! tenant_endpoint {
    ($lock:literal) => {
        concat!(
            "select ",
            rows::webhook_endpoint_columns!(),
            " from webhook_endpoints
             where id = $1 and platform_id = $2 and livemode = $3 and deleted_at is null ",
            $lock
        )
    };
}

/// How many candidates a claim locks for each delivery it may lease: room
/// for the per-endpoint cap to pass over some.
const CANDIDATES_PER_LEASE: i64 = 4;

impl WebhookRows for PgConn {
    async fn select_endpoints(
        &mut self,
        platform: &PlatformId,
        mode: Mode,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.fetch_every(
            query(concat!(
                "select ",
                rows::webhook_endpoint_columns!(),
                " from webhook_endpoints
                 where platform_id = $1 and livemode = $2 and deleted_at is null
                 order by seq"
            ))
            .bind(platform.as_str())
            .bind(mode.is_live()),
            rows::webhook_endpoint,
        )
        .await
    }

    async fn lock_endpoints(
        &mut self,
        platform: &PlatformId,
        _mode: Mode,
    ) -> Result<(), StoreError> {
        // Creations for one platform take turns on its row, so the count
        // of its endpoints and the insert are one step across processes.
        self.run(query("select 1 from platforms where id = $1 for update").bind(platform.as_str()))
            .await
            .map(drop)
    }

    async fn insert_endpoint(&mut self, new: &NewEndpoint) -> Result<(), StoreError> {
        let endpoint = &new.endpoint;
        self.run(
            query(
                "insert into webhook_endpoints (id, platform_id, livemode, url, enabled_events,
                     connect, api_version, description, metadata, status, secret, created)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(endpoint.id.as_str())
            .bind(endpoint.platform.as_str())
            .bind(endpoint.mode.is_live())
            .bind(endpoint.url.as_str())
            .bind(rows::to_json(&endpoint.enabled_events)?)
            .bind(endpoint.connect)
            .bind(endpoint.api_version.as_deref())
            .bind(endpoint.description.as_deref())
            .bind(rows::to_json(&endpoint.metadata)?)
            .bind(endpoint.status.as_str())
            .bind(new.sealed_secret.as_slice())
            .bind(endpoint.created.as_secs()),
        )
        .await
        .map(drop)
    }

    async fn select_endpoint(
        &mut self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
        lock: Lock,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let sql = match lock {
            Lock::None => tenant_endpoint!(""),
            Lock::Share => tenant_endpoint!("for share"),
            Lock::Update => tenant_endpoint!("for update"),
        };
        self.fetch_one_or_none(
            query(sql)
                .bind(id.as_str())
                .bind(tenant.platform.as_str())
                .bind(tenant.mode.is_live()),
            rows::webhook_endpoint,
        )
        .await
    }

    async fn update_endpoint(&mut self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        self.run(
            query(
                "update webhook_endpoints
                 set url = $2, enabled_events = $3, description = $4, metadata = $5, status = $6
                 where id = $1",
            )
            .bind(endpoint.id.as_str())
            .bind(endpoint.url.as_str())
            .bind(rows::to_json(&endpoint.enabled_events)?)
            .bind(endpoint.description.as_deref())
            .bind(rows::to_json(&endpoint.metadata)?)
            .bind(endpoint.status.as_str()),
        )
        .await
        .map(drop)
    }

    async fn delete_endpoint(
        &mut self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let deleted = self
            .run(
                query(
                    "update webhook_endpoints set deleted_at = $4
                     where id = $1 and platform_id = $2 and livemode = $3
                       and deleted_at is null",
                )
                .bind(id.as_str())
                .bind(tenant.platform.as_str())
                .bind(tenant.mode.is_live())
                .bind(at.as_secs()),
            )
            .await?;
        if deleted == 1 {
            self.run(
                query(
                    "update webhook_deliveries set status = 'failed'
                     where endpoint_id = $1 and status = 'pending'",
                )
                .bind(id.as_str()),
            )
            .await?;
        }
        Ok(deleted)
    }

    async fn endpoint_seq(
        &mut self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
    ) -> Result<Option<i64>, StoreError> {
        self.fetch_one_or_none(
            query(
                "select seq from webhook_endpoints
                 where id = $1 and platform_id = $2 and livemode = $3 and deleted_at is null",
            )
            .bind(id.as_str())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live()),
            |row| row.integer(0),
        )
        .await
    }

    async fn select_endpoint_page(
        &mut self,
        tenant: &Tenant,
        bound: Bound,
        fetch: i64,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let (sql, seq) = match bound {
            Bound::Newest => (endpoints_page!("seq > $3", "desc"), 0),
            Bound::OlderThan(seq) => (endpoints_page!("seq < $3", "desc"), seq),
            Bound::NewerThan(seq) => (endpoints_page!("seq > $3", "asc"), seq),
        };
        self.fetch_every(
            query(sql)
                .bind(tenant.platform.as_str())
                .bind(tenant.mode.is_live())
                .bind(seq)
                .bind(fetch),
            rows::webhook_endpoint,
        )
        .await
    }

    async fn insert_delivery(
        &mut self,
        event: &EventId,
        endpoint: &WebhookEndpointId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            query(
                "insert into webhook_deliveries
                     (event_id, endpoint_id, status, attempts, next_attempt_at, locked_until,
                      created)
                 values ($1, $2, 'pending', 0, $3, 0, $3)",
            )
            .bind(event.as_str())
            .bind(endpoint.as_str())
            .bind(now.as_secs()),
        )
        .await
        .map(drop)
    }

    async fn lease_deliveries(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        token: LeaseToken,
        limits: ClaimLimits,
        busy: &[WebhookEndpointId],
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let busy: Vec<String> = busy.iter().map(|id| id.as_str().to_owned()).collect();
        // Candidates are locked with `skip locked`: a concurrent claim (in
        // any process) passes over them, so no delivery is leased twice;
        // once leased, `locked_until` keeps the others off it until the
        // lease runs out.
        let leased = self
            .run(
                query(
                    "with candidates as (
                         select d.seq, d.endpoint_id, d.next_attempt_at
                         from webhook_deliveries d
                         join webhook_endpoints e on e.id = d.endpoint_id
                         where d.status = 'pending' and d.next_attempt_at <= $1
                           and d.locked_until <= $1
                           and e.deleted_at is null and e.status = 'enabled'
                           and not (d.endpoint_id = any($6))
                         order by d.next_attempt_at, d.seq
                         limit $7
                         for update of d skip locked
                     ),
                     ranked as (
                         select seq, next_attempt_at,
                                row_number() over (
                                    partition by endpoint_id order by next_attempt_at, seq
                                ) as place
                         from candidates
                     )
                     update webhook_deliveries set locked_until = $2, lease_token = $3
                     where seq in (
                         select seq from ranked where place <= $5
                         order by next_attempt_at, seq limit $4
                     )",
                )
                .bind(now.as_secs())
                .bind(lease_until.as_secs())
                .bind(token.0.as_slice())
                .bind(i64::from(limits.total))
                .bind(i64::from(limits.per_endpoint))
                .bind(busy)
                .bind(i64::from(limits.total) * CANDIDATES_PER_LEASE),
            )
            .await?;
        if leased == 0 {
            return Ok(Vec::new());
        }
        self.fetch_every(
            query(concat!(
                "select ",
                claimed_delivery_columns!(),
                " from webhook_deliveries d
                 join events on events.id = d.event_id
                 join webhook_endpoints on webhook_endpoints.id = d.endpoint_id
                 where d.lease_token = $1
                 order by d.next_attempt_at, d.seq"
            ))
            .bind(token.0.as_slice()),
            |row| claimed_delivery(row, token),
        )
        .await
    }

    async fn record_attempt(
        &mut self,
        delivery: &ClaimedDelivery,
        status: &'static str,
        next_attempt_at: Timestamp,
        result: &AttemptResult,
    ) -> Result<u64, StoreError> {
        let changed = self
            .run(
                query(
                    "update webhook_deliveries
                     set status = $3, attempts = attempts + 1, next_attempt_at = $4,
                         locked_until = 0, lease_token = null
                     where seq = $1 and lease_token = $2",
                )
                .bind(delivery.seq)
                .bind(delivery.token.0.as_slice())
                .bind(status)
                .bind(next_attempt_at.as_secs()),
            )
            .await?;
        if changed == 1 {
            self.run(
                query(
                    "insert into webhook_attempts (delivery_seq, endpoint_id, event_id, attempt,
                         attempted_at, http_status, error, latency_ms)
                     values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(delivery.seq)
                .bind(delivery.endpoint.id.as_str())
                .bind(delivery.event.id.as_str())
                .bind(i64::from(delivery.attempts) + 1)
                .bind(result.at.as_secs())
                .bind(result.http_status.map(i64::from))
                .bind(result.error.as_deref())
                .bind(i64::try_from(result.latency_ms).unwrap_or(i64::MAX)),
            )
            .await?;
        }
        Ok(changed)
    }

    async fn select_attempts(
        &mut self,
        endpoint: &WebhookEndpointId,
        limit: u32,
    ) -> Result<Vec<RecordedAttempt>, StoreError> {
        self.fetch_every(
            query(concat!(
                "select ",
                recorded_attempt_columns!(),
                " from webhook_attempts where endpoint_id = $1 order by seq desc limit $2"
            ))
            .bind(endpoint.as_str())
            .bind(i64::from(limit)),
            recorded_attempt,
        )
        .await
    }
}
