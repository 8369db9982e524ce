//! SQLite's event statements.

use rusqlite::params;

use crate::clock::Timestamp;
use crate::domain::ids::{AccountId, EventId, PlatformId};
use crate::domain::mode::Mode;
use crate::domain::platform::Tenant;
use crate::domain::webhooks::Event;
use crate::store::StoreError;
use crate::store::events::{EventFilter, EventRows, NewEvent};
use crate::store::paging::Bound;
use crate::store::rows::{self, RowReader};

use super::SqliteConn;

/// A page of the tenant's events passing a filter: `?1` platform, `?2`
/// livemode, `?3`/`?4` the bounds of `created`, `?5` the type patterns (a
/// JSON array of `like` patterns), `?6` the cursor's sequence, `?7` the
/// limit, `?8` `delivery_success` (or null).
macro_rules! events_page {
    ($seq:literal, $order:literal) => {
        concat!(
            "select ",
            rows::event_columns!(),
            " from events
             where platform_id = ?1 and livemode = ?2 and created >= ?3 and created <= ?4
               and exists (select 1 from json_each(?5) j
                           where events.type like j.value escape '\\')
               and (?8 is null or ?8 = not exists (
                        select 1 from webhook_deliveries d
                        where d.event_id = events.id and d.status <> 'succeeded'))
               and ",
            $seq,
            " order by seq ",
            $order,
            " limit ?7"
        )
    };
}

impl EventRows for SqliteConn {
    async fn select_snapshot(&mut self, account: &AccountId) -> Result<Option<String>, StoreError> {
        Ok(self
            .select_one(
                "select snapshot from accounts where id = ?1",
                [account.as_str()],
                |row| Ok(row.get::<_, Option<String>>(0)?),
            )?
            .flatten())
    }

    async fn write_snapshot(
        &mut self,
        account: &AccountId,
        snapshot: &str,
        next_check_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.execute(
            "update accounts set snapshot = ?2, next_check_at = ?3 where id = ?1",
            params![
                account.as_str(),
                snapshot,
                next_check_at.map(Timestamp::as_secs)
            ],
        )?;
        Ok(())
    }

    async fn insert_event(&mut self, event: &NewEvent) -> Result<(), StoreError> {
        self.execute(
            "insert into events (id, platform_id, livemode, account_id, type, api_version, data,
                 request_id, idempotency_key, created)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                event.id.as_str(),
                event.platform.as_str(),
                event.livemode,
                event.account.as_ref().map(AccountId::as_str),
                event.event_type,
                event.api_version,
                event.data,
                event.request.id,
                event.request.idempotency_key,
                event.created.as_secs(),
            ],
        )?;
        Ok(())
    }

    async fn select_event(
        &mut self,
        tenant: &Tenant,
        id: &EventId,
    ) -> Result<Option<Event>, StoreError> {
        self.select_one(
            concat!(
                "select ",
                rows::event_columns!(),
                " from events where id = ?1 and platform_id = ?2 and livemode = ?3"
            ),
            params![id.as_str(), tenant.platform.as_str(), tenant.mode.is_live()],
            |row| rows::event(row),
        )
    }

    async fn select_event_tenant(&mut self, id: &EventId) -> Result<Option<Tenant>, StoreError> {
        self.select_one(
            "select platform_id, livemode from events where id = ?1",
            [id.as_str()],
            |row| {
                Ok(Tenant {
                    platform: row.id(0, "event platform", PlatformId::parse)?,
                    mode: Mode::from_livemode(row.boolean(1)?),
                })
            },
        )
    }

    async fn event_seq(
        &mut self,
        tenant: &Tenant,
        id: &EventId,
    ) -> Result<Option<i64>, StoreError> {
        self.select_one(
            "select seq from events where id = ?1 and platform_id = ?2 and livemode = ?3",
            params![id.as_str(), tenant.platform.as_str(), tenant.mode.is_live()],
            |row| Ok(row.get(0)?),
        )
    }

    async fn select_events(
        &mut self,
        tenant: &Tenant,
        filter: &EventFilter,
        bound: Bound,
        fetch: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let (sql, seq) = match bound {
            // `?6` is bound and compared with nothing smaller.
            Bound::Newest => (events_page!("seq > ?6", "desc"), 0),
            Bound::OlderThan(seq) => (events_page!("seq < ?6", "desc"), seq),
            Bound::NewerThan(seq) => (events_page!("seq > ?6", "asc"), seq),
        };
        let (from, to) = filter.created_bounds();
        self.select_all(
            sql,
            params![
                tenant.platform.as_str(),
                tenant.mode.is_live(),
                from,
                to,
                rows::to_json(&filter.like_patterns())?,
                seq,
                fetch,
                filter.delivery_success,
            ],
            |row| rows::event(row),
        )
    }

    async fn due_accounts(
        &mut self,
        now: Timestamp,
        batch: u32,
    ) -> Result<Vec<(PlatformId, AccountId)>, StoreError> {
        // No row locks: the writer holds the database for the whole transaction.
        self.select_all(
            "select platform_id, id from accounts
             where next_check_at <= ?1 and deleted_at is null
             order by next_check_at limit ?2",
            params![now.as_secs(), batch],
            |row| {
                Ok((
                    row.id(0, "account platform", PlatformId::parse)?,
                    row.id(1, "account id", AccountId::parse)?,
                ))
            },
        )
    }

    async fn delete_old_events(
        &mut self,
        created_before: Timestamp,
        batch: u32,
    ) -> Result<u64, StoreError> {
        // Their deliveries and attempts go with them (on delete cascade).
        self.execute(
            "delete from events where seq in (
                 select seq from events where created < ?1 limit ?2
             )",
            params![created_before.as_secs(), batch],
        )
    }
}
