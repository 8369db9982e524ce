//! SQLite's webhook-endpoint and delivery statements.

use rusqlite::params;

use crate::clock::Timestamp;
use crate::domain::ids::{EventId, PlatformId, WebhookEndpointId};
use crate::domain::mode::Mode;
use crate::domain::platform::Tenant;
use crate::domain::webhooks::WebhookEndpoint;
use crate::idempotency::LeaseToken;
use crate::store::StoreError;
use crate::store::engine::Lock;
use crate::store::paging::Bound;
use crate::store::rows;
use crate::store::webhooks::{
    AttemptResult, ClaimLimits, ClaimedDelivery, NewEndpoint, RecordedAttempt, WebhookRows,
    claimed_delivery, claimed_delivery_columns, recorded_attempt, recorded_attempt_columns,
};

use super::SqliteConn;

/// A page of the tenant's endpoints: `?1` platform, `?2` livemode, `?3`
/// the cursor's sequence, `?4` the limit.
macro_rules! endpoints_page {
    ($seq:literal, $order:literal) => {
        concat!(
            "select ",
            rows::webhook_endpoint_columns!(),
            " from webhook_endpoints
             where platform_id = ?1 and livemode = ?2 and deleted_at is null and ",
            $seq,
            " order by seq ",
            $order,
            " limit ?4"
        )
    };
}

impl WebhookRows for SqliteConn {
    async fn select_endpoints(
        &mut self,
        platform: &PlatformId,
        mode: Mode,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.select_all(
            concat!(
                "select ",
                rows::webhook_endpoint_columns!(),
                " from webhook_endpoints
                 where platform_id = ?1 and livemode = ?2 and deleted_at is null
                 order by seq"
            ),
            params![platform.as_str(), mode.is_live()],
            |row| rows::webhook_endpoint(row),
        )
    }

    async fn lock_endpoints(
        &mut self,
        _platform: &PlatformId,
        _mode: Mode,
    ) -> Result<(), StoreError> {
        // The writer holds the whole database for the transaction.
        Ok(())
    }

    async fn insert_endpoint(&mut self, new: &NewEndpoint) -> Result<(), StoreError> {
        let endpoint = &new.endpoint;
        self.execute(
            "insert into webhook_endpoints (id, platform_id, livemode, url, enabled_events,
                 connect, api_version, description, metadata, status, secret, created)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                endpoint.id.as_str(),
                endpoint.platform.as_str(),
                endpoint.mode.is_live(),
                endpoint.url,
                rows::to_json(&endpoint.enabled_events)?,
                endpoint.connect,
                endpoint.api_version,
                endpoint.description,
                rows::to_json(&endpoint.metadata)?,
                endpoint.status.as_str(),
                new.sealed_secret,
                endpoint.created.as_secs(),
            ],
        )?;
        Ok(())
    }

    async fn select_endpoint(
        &mut self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
        _lock: Lock,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.select_one(
            concat!(
                "select ",
                rows::webhook_endpoint_columns!(),
                " from webhook_endpoints
                 where id = ?1 and platform_id = ?2 and livemode = ?3 and deleted_at is null"
            ),
            params![id.as_str(), tenant.platform.as_str(), tenant.mode.is_live()],
            |row| rows::webhook_endpoint(row),
        )
    }

    async fn update_endpoint(&mut self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        self.execute(
            "update webhook_endpoints
             set url = ?2, enabled_events = ?3, description = ?4, metadata = ?5, status = ?6
             where id = ?1",
            params![
                endpoint.id.as_str(),
                endpoint.url,
                rows::to_json(&endpoint.enabled_events)?,
                endpoint.description,
                rows::to_json(&endpoint.metadata)?,
                endpoint.status.as_str(),
            ],
        )?;
        Ok(())
    }

    async fn delete_endpoint(
        &mut self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let deleted = self.execute(
            "update webhook_endpoints set deleted_at = ?4
             where id = ?1 and platform_id = ?2 and livemode = ?3 and deleted_at is null",
            params![
                id.as_str(),
                tenant.platform.as_str(),
                tenant.mode.is_live(),
                at.as_secs()
            ],
        )?;
        if deleted == 1 {
            self.execute(
                "update webhook_deliveries set status = 'failed'
                 where endpoint_id = ?1 and status = 'pending'",
                [id.as_str()],
            )?;
        }
        Ok(deleted)
    }

    async fn endpoint_seq(
        &mut self,
        tenant: &Tenant,
        id: &WebhookEndpointId,
    ) -> Result<Option<i64>, StoreError> {
        self.select_one(
            "select seq from webhook_endpoints
             where id = ?1 and platform_id = ?2 and livemode = ?3 and deleted_at is null",
            params![id.as_str(), tenant.platform.as_str(), tenant.mode.is_live()],
            |row| Ok(row.get(0)?),
        )
    }

    async fn select_endpoint_page(
        &mut self,
        tenant: &Tenant,
        bound: Bound,
        fetch: i64,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let (sql, seq) = match bound {
            Bound::Newest => (endpoints_page!("seq > ?3", "desc"), 0),
            Bound::OlderThan(seq) => (endpoints_page!("seq < ?3", "desc"), seq),
            Bound::NewerThan(seq) => (endpoints_page!("seq > ?3", "asc"), seq),
        };
        self.select_all(
            sql,
            params![tenant.platform.as_str(), tenant.mode.is_live(), seq, fetch],
            |row| rows::webhook_endpoint(row),
        )
    }

    async fn insert_delivery(
        &mut self,
        event: &EventId,
        endpoint: &WebhookEndpointId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.execute(
            "insert into webhook_deliveries
                 (event_id, endpoint_id, status, attempts, next_attempt_at, locked_until, created)
             values (?1, ?2, 'pending', 0, ?3, 0, ?3)",
            params![event.as_str(), endpoint.as_str(), now.as_secs()],
        )?;
        Ok(())
    }

    async fn lease_deliveries(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        token: LeaseToken,
        limits: ClaimLimits,
        busy: &[WebhookEndpointId],
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let busy: Vec<&str> = busy.iter().map(WebhookEndpointId::as_str).collect();
        let leased = self.execute(
            "update webhook_deliveries set locked_until = ?2, lease_token = ?3
             where seq in (
                 select seq from (
                     select d.seq, d.next_attempt_at,
                            row_number() over (
                                partition by d.endpoint_id order by d.next_attempt_at, d.seq
                            ) as place
                     from webhook_deliveries d
                     join webhook_endpoints e on e.id = d.endpoint_id
                     where d.status = 'pending' and d.next_attempt_at <= ?1
                       and d.locked_until <= ?1
                       and e.deleted_at is null and e.status = 'enabled'
                       and d.endpoint_id not in (select value from json_each(?6))
                 )
                 where place <= ?5
                 order by next_attempt_at, seq
                 limit ?4
             )",
            params![
                now.as_secs(),
                lease_until.as_secs(),
                token.0.as_slice(),
                limits.total,
                limits.per_endpoint,
                rows::to_json(&busy)?,
            ],
        )?;
        if leased == 0 {
            return Ok(Vec::new());
        }
        self.select_all(
            concat!(
                "select ",
                claimed_delivery_columns!(),
                " from webhook_deliveries d
                 join events on events.id = d.event_id
                 join webhook_endpoints on webhook_endpoints.id = d.endpoint_id
                 where d.lease_token = ?1
                 order by d.next_attempt_at, d.seq"
            ),
            [token.0.as_slice()],
            |row| claimed_delivery(row, token),
        )
    }

    async fn record_attempt(
        &mut self,
        delivery: &ClaimedDelivery,
        status: &'static str,
        next_attempt_at: Timestamp,
        result: &AttemptResult,
    ) -> Result<u64, StoreError> {
        let changed = self.execute(
            "update webhook_deliveries
             set status = ?3, attempts = attempts + 1, next_attempt_at = ?4,
                 locked_until = 0, lease_token = null
             where seq = ?1 and lease_token = ?2",
            params![
                delivery.seq,
                delivery.token.0.as_slice(),
                status,
                next_attempt_at.as_secs()
            ],
        )?;
        if changed == 1 {
            self.execute(
                "insert into webhook_attempts (delivery_seq, endpoint_id, event_id, attempt,
                     attempted_at, http_status, error, latency_ms)
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    delivery.seq,
                    delivery.endpoint.id.as_str(),
                    delivery.event.id.as_str(),
                    delivery.attempts + 1,
                    result.at.as_secs(),
                    result.http_status,
                    result.error,
                    i64::try_from(result.latency_ms).unwrap_or(i64::MAX),
                ],
            )?;
        }
        Ok(changed)
    }

    async fn select_attempts(
        &mut self,
        endpoint: &WebhookEndpointId,
        limit: u32,
    ) -> Result<Vec<RecordedAttempt>, StoreError> {
        self.select_all(
            concat!(
                "select ",
                recorded_attempt_columns!(),
                " from webhook_attempts where endpoint_id = ?1 order by seq desc limit ?2"
            ),
            params![endpoint.as_str(), limit],
            |row| recorded_attempt(row),
        )
    }
}
