//! PostgreSQL's account statements, with the row locks that make the shared
//! rules hold across processes.

use sqlx_core::query::query;

use crate::clock::Timestamp;
use crate::domain::account::Account;
use crate::domain::ids::{AccountId, PlatformId};
use crate::domain::platform::Tenant;
use crate::store::StoreError;
use crate::store::accounts::{AccountRows, LockedAccount, locked_account, locked_account_columns};
use crate::store::engine::Lock;
use crate::store::paging::Bound;
use crate::store::rows::{self, RowReader};

use super::PgConn;

/// The tenant's account, unless deleted: `$1` id, `$2` platform, `$3` livemode.
macro_rules! tenant_account {
    ($columns:expr, $lock:literal) => {
        concat!(
            "select ",
            $columns,
            " from accounts
             where id = $1 and platform_id = $2 and livemode = $3 and deleted_at is null ",
            $lock
        )
    };
}

impl AccountRows for PgConn {
    async fn insert_account(&mut self, account: &Account) -> Result<(), StoreError> {
        self.run(
            query(
                "insert into accounts (id, platform_id, livemode, fees_payer, losses_payments,
                     requirement_collection, stripe_dashboard, country, email, metadata,
                     capabilities, profile, created)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(account.id.as_str())
            .bind(account.platform.as_str())
            .bind(account.mode.is_live())
            .bind(account.controller.fees_payer.as_str())
            .bind(account.controller.losses_payments.as_str())
            .bind(account.controller.requirement_collection.as_str())
            .bind(account.controller.stripe_dashboard.as_str())
            .bind(account.country.as_str())
            .bind(account.email.as_deref())
            .bind(rows::to_json(&account.metadata)?)
            .bind(rows::capabilities_json(account)?)
            .bind(rows::profile_json(account)?)
            .bind(account.created.as_secs()),
        )
        .await
        .map(drop)
    }

    async fn select_account(
        &mut self,
        platform: &PlatformId,
        id: &AccountId,
    ) -> Result<Option<Account>, StoreError> {
        self.fetch_one_or_none(
            query(concat!(
                "select ",
                rows::account_columns!(),
                " from accounts where id = $1 and platform_id = $2 and deleted_at is null"
            ))
            .bind(id.as_str())
            .bind(platform.as_str()),
            rows::account,
        )
        .await
    }

    async fn select_tenant_account(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        lock: Lock,
    ) -> Result<Option<Account>, StoreError> {
        let sql = match lock {
            Lock::None => tenant_account!(rows::account_columns!(), ""),
            Lock::Share => tenant_account!(rows::account_columns!(), "for share"),
            Lock::Update => tenant_account!(rows::account_columns!(), "for update"),
        };
        self.fetch_one_or_none(
            query(sql)
                .bind(id.as_str())
                .bind(tenant.platform.as_str())
                .bind(tenant.mode.is_live()),
            rows::account,
        )
        .await
    }

    async fn lock_tenant_account(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        lock: Lock,
    ) -> Result<Option<LockedAccount>, StoreError> {
        let sql = match lock {
            Lock::None => tenant_account!(locked_account_columns!(), ""),
            Lock::Share => tenant_account!(locked_account_columns!(), "for share"),
            Lock::Update => tenant_account!(locked_account_columns!(), "for update"),
        };
        self.fetch_one_or_none(
            query(sql)
                .bind(id.as_str())
                .bind(tenant.platform.as_str())
                .bind(tenant.mode.is_live()),
            locked_account,
        )
        .await
    }

    async fn update_account_fields(&mut self, account: &Account) -> Result<(), StoreError> {
        self.run(
            query(
                "update accounts
                 set email = $2, metadata = $3, capabilities = $4, profile = $5
                 where id = $1",
            )
            .bind(account.id.as_str())
            .bind(account.email.as_deref())
            .bind(rows::to_json(&account.metadata)?)
            .bind(rows::capabilities_json(account)?)
            .bind(rows::profile_json(account)?),
        )
        .await
        .map(drop)
    }

    async fn mark_account_deleted(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.run(
            query(
                "update accounts set deleted_at = $4
                     where id = $1 and platform_id = $2 and livemode = $3
                       and deleted_at is null",
            )
            .bind(id.as_str())
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live())
            .bind(at.as_secs()),
        )
        .await
    }

    async fn revoke_account_sessions(
        &mut self,
        id: &AccountId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        // A new snapshot, taken after the account's row lock: it sees every
        // session inserted under that account's share lock.
        self.run(
            query(
                "update account_sessions set revoked_at = $2
                 where account_id = $1 and revoked_at is null",
            )
            .bind(id.as_str())
            .bind(at.as_secs()),
        )
        .await
        .map(drop)
    }

    async fn account_seq(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
    ) -> Result<Option<i64>, StoreError> {
        self.fetch_one_or_none(
            query(tenant_account!("seq", ""))
                .bind(id.as_str())
                .bind(tenant.platform.as_str())
                .bind(tenant.mode.is_live()),
            |row| row.integer(0),
        )
        .await
    }

    async fn select_accounts(
        &mut self,
        tenant: &Tenant,
        bound: Bound,
        fetch: i64,
    ) -> Result<Vec<Account>, StoreError> {
        let page = match bound {
            Bound::Newest => query(concat!(
                "select ",
                rows::account_columns!(),
                " from accounts
                 where platform_id = $1 and livemode = $2 and deleted_at is null
                 order by seq desc limit $3"
            )),
            Bound::OlderThan(_) => query(concat!(
                "select ",
                rows::account_columns!(),
                " from accounts
                 where platform_id = $1 and livemode = $2 and deleted_at is null and seq < $4
                 order by seq desc limit $3"
            )),
            Bound::NewerThan(_) => query(concat!(
                "select ",
                rows::account_columns!(),
                " from accounts
                 where platform_id = $1 and livemode = $2 and deleted_at is null and seq > $4
                 order by seq asc limit $3"
            )),
        };
        let mut page = page
            .bind(tenant.platform.as_str())
            .bind(tenant.mode.is_live())
            .bind(fetch);
        if let Bound::OlderThan(seq) | Bound::NewerThan(seq) = bound {
            page = page.bind(seq);
        }
        self.fetch_every(page, rows::account).await
    }
}
