//! PostgreSQL's event statements.

use sqlx_core::query::query;

use crate::clock::Timestamp;
use crate::domain::ids::{AccountId, EventId, PlatformId};
use crate::domain::mode::Mode;
use crate::domain::platform::Tenant;
use crate::domain::webhooks::Event;
use crate::store::StoreError;
use crate::store::events::{EventFilter, EventRows, NewEvent};
use crate::store::paging::Bound;
use crate::store::rows::{self, RowReader};

use super::PgConn;

/// A page of the tenant's events passing a filter: `$1` platform, `$2`
/// livemode, `$3`/`$4` the bounds of `created`, `$5` the type patterns (an
/// array of `like` patterns), `$6` the cursor's sequence, `$7` the limit,
/// `$8` `delivery_success` (or null).
macro_rules! events_page {
    ($seq:literal, $order:literal) => {
        concat!(
            "select ",
            rows::event_columns!(),
            " from events
             where platform_id = $1 and livemode = $2 and created >= $3 and created <= $4
               and type like any($5)
               and ($8::boolean is null or $8 = not exists (
                        select 1 from webhook_deliveries d
                        where d.event_id = events.id and d.status <> 'succeeded'))
               and ",
            $seq,
            " order by seq ",
            $order,
            " limit $7"
        )
    };
}

impl EventRows for PgConn {
    async fn select_snapshot(&mut self, account: &AccountId) -> Result<Option<String>, StoreError> {
        Ok(self
            .fetch_one_or_none(
                query("select snapshot from accounts where id = $1").bind(account.as_str()),
                |row| row.optional_text(0),
            )
            .await?
            .flatten())
    }

    async fn write_snapshot(
        &mut self,
        account: &AccountId,
        snapshot: &str,
        next_check_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.run(
            query("update accounts set snapshot = $2, next_check_at = $3 where id = $1")
                .bind(account.as_str())
                .bind(snapshot)
                .bind(next_check_at.map(Timestamp::as_secs)),
        )
        .await
        .map(drop)
    }

    async fn insert_event(&mut self, event: &NewEvent) -> Result<(), StoreError> {
        self.run(
            query(
                "insert into events (id, platform_id, livemode, account_id, type, api_version,
                     data, request_id, idempotency_key, created)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(event.id.as_str())
            .bind(event.platform.as_str())
            .bind(event.livemode)
            .bind(event.account.as_ref().map(AccountId::as_str))
            .bind(event.event_type)
            .bind(event.api_version)
            .bind(event.data.as_str())
            .bind(event.request.id.as_deref())
            .bind(event.request.idempotency_key.as_deref())
            .bind(event.created.as_secs()),
        )
        .await
        .map(drop)
    }

    async fn select_event(
        &mut self,
        tenant: &Tenant,
        id: &EventId,
    ) -> Result<Option<Event>, StoreError> {
        self.fetch_one_or_none(
            query(concat!(
                "select ",
                rows::event_columns!(),
                " from events where id = $1 and platform_id = $2 and livemode = $3"
            ))
            .bind(id.as_str())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live()),
            rows::event,
        )
        .await
    }

    async fn select_event_tenant(&mut self, id: &EventId) -> Result<Option<Tenant>, StoreError> {
        self.fetch_one_or_none(
            query("select platform_id, livemode from events where id = $1").bind(id.as_str()),
            |row| {
                Ok(Tenant {
                    platform: row.id(0, "event platform", PlatformId::parse)?,
                    mode: Mode::from_livemode(row.boolean(1)?),
                })
            },
        )
        .await
    }

    async fn event_seq(
        &mut self,
        tenant: &Tenant,
        id: &EventId,
    ) -> Result<Option<i64>, StoreError> {
        self.fetch_one_or_none(
            query("select seq from events where id = $1 and platform_id = $2 and livemode = $3")
                .bind(id.as_str())
                .bind(tenant.platform.as_str())
                .bind(tenant.mode.is_live()),
            |row| row.integer(0),
        )
        .await
    }

    async fn select_events(
        &mut self,
        tenant: &Tenant,
        filter: &EventFilter,
        bound: Bound,
        fetch: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let (sql, seq) = match bound {
            // `$6` is bound and compared with nothing smaller.
            Bound::Newest => (events_page!("seq > $6", "desc"), 0),
            Bound::OlderThan(seq) => (events_page!("seq < $6", "desc"), seq),
            Bound::NewerThan(seq) => (events_page!("seq > $6", "asc"), seq),
        };
        let (from, to) = filter.created_bounds();
        self.fetch_every(
            query(sql)
                .bind(tenant.platform.as_str())
                .bind(tenant.mode.is_live())
                .bind(from)
                .bind(to)
                .bind(filter.like_patterns())
                .bind(seq)
                .bind(fetch)
                .bind(filter.delivery_success),
            rows::event,
        )
        .await
    }

    async fn due_accounts(
        &mut self,
        now: Timestamp,
        batch: u32,
    ) -> Result<Vec<(PlatformId, AccountId)>, StoreError> {
        // Another process settling at the same time takes other accounts.
        self.fetch_every(
            query(
                "select platform_id, id from accounts
                 where next_check_at <= $1 and deleted_at is null
                 order by next_check_at limit $2
                 for update skip locked",
            )
            .bind(now.as_secs())
            .bind(i64::from(batch)),
            |row| {
                Ok((
                    row.id(0, "account platform", PlatformId::parse)?,
                    row.id(1, "account id", AccountId::parse)?,
                ))
            },
        )
        .await
    }

    async fn delete_old_events(
        &mut self,
        created_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        // Their deliveries and attempts go with them (on delete cascade).
        self.run(
            query(
                "delete from events where seq in (
                     select seq from events where created < $1 limit $2
                 )",
            )
            .bind(created_before.as_secs())
            .bind(i64::from(batch)),
        )
        .await
    }
}
