//! SQLite's account statements.

use rusqlite::params;

use crate::clock::Timestamp;
use crate::domain::account::Account;
use crate::domain::ids::{AccountId, PlatformId};
use crate::domain::platform::Tenant;
use crate::store::StoreError;
use crate::store::accounts::{AccountRows, LockedAccount, locked_account, locked_account_columns};
use crate::store::engine::Lock;
use crate::store::paging::Bound;
use crate::store::rows;

use super::SqliteConn;

impl AccountRows for SqliteConn {
    async fn insert_account(&mut self, account: &Account) -> Result<(), StoreError> {
        self.execute(
            "insert into accounts (id, platform_id, livemode, fees_payer, losses_payments,
                 requirement_collection, stripe_dashboard, country, email, metadata,
                 capabilities, profile, created)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                account.id.as_str(),
                account.platform.as_str(),
                account.mode.is_live(),
                account.controller.fees_payer.as_str(),
                account.controller.losses_payments.as_str(),
                account.controller.requirement_collection.as_str(),
                account.controller.stripe_dashboard.as_str(),
                account.country,
                account.email,
                rows::to_json(&account.metadata)?,
                rows::capabilities_json(account)?,
                rows::profile_json(account)?,
                account.created.as_secs(),
            ],
        )?;
        Ok(())
    }

    async fn select_account(
        &mut self,
        platform: &PlatformId,
        id: &AccountId,
    ) -> Result<Option<Account>, StoreError> {
        self.select_one(
            concat!(
                "select ",
                rows::account_columns!(),
                " from accounts where id = ?1 and platform_id = ?2 and deleted_at is null"
            ),
            params![id.as_str(), platform.as_str()],
            |row| rows::account(row),
        )
    }

    async fn select_tenant_account(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        _lock: Lock,
    ) -> Result<Option<Account>, StoreError> {
        // No row locks: the writer holds the database for the whole batch.
        self.select_one(
            concat!(
                "select ",
                rows::account_columns!(),
                " from accounts
                 where id = ?1 and platform_id = ?2 and livemode = ?3 and deleted_at is null"
            ),
            params![id.as_str(), tenant.platform.as_str(), tenant.mode.is_live()],
            |row| rows::account(row),
        )
    }

    async fn lock_tenant_account(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        _lock: Lock,
    ) -> Result<Option<LockedAccount>, StoreError> {
        self.select_one(
            concat!(
                "select ",
                locked_account_columns!(),
                " from accounts
                 where id = ?1 and platform_id = ?2 and livemode = ?3 and deleted_at is null"
            ),
            params![id.as_str(), tenant.platform.as_str(), tenant.mode.is_live()],
            |row| locked_account(row),
        )
    }

    async fn update_account_fields(&mut self, account: &Account) -> Result<(), StoreError> {
        self.execute(
            "update accounts
             set email = ?2, metadata = ?3, capabilities = ?4, profile = ?5
             where id = ?1",
            params![
                account.id.as_str(),
                account.email,
                rows::to_json(&account.metadata)?,
                rows::capabilities_json(account)?,
                rows::profile_json(account)?,
            ],
        )?;
        Ok(())
    }

    async fn mark_account_deleted(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.execute(
            "update accounts set deleted_at = ?4
             where id = ?1 and platform_id = ?2 and livemode = ?3 and deleted_at is null",
            params![
                id.as_str(),
                tenant.platform.as_str(),
                tenant.mode.is_live(),
                at.as_secs()
            ],
        )
    }

    async fn revoke_account_sessions(
        &mut self,
        id: &AccountId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.execute(
            "update account_sessions set revoked_at = ?2
             where account_id = ?1 and revoked_at is null",
            params![id.as_str(), at.as_secs()],
        )?;
        Ok(())
    }

    async fn account_seq(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
    ) -> Result<Option<i64>, StoreError> {
        self.select_one(
            "select seq from accounts
             where id = ?1 and platform_id = ?2 and livemode = ?3 and deleted_at is null",
            params![id.as_str(), tenant.platform.as_str(), tenant.mode.is_live()],
            |row| Ok(row.get(0)?),
        )
    }

    async fn select_accounts(
        &mut self,
        tenant: &Tenant,
        bound: Bound,
        fetch: i64,
    ) -> Result<Vec<Account>, StoreError> {
        let (sql, seq) = match bound {
            Bound::Newest => (
                concat!(
                    "select ",
                    rows::account_columns!(),
                    " from accounts
                     where platform_id = ?1 and livemode = ?2 and deleted_at is null
                     order by seq desc limit ?4"
                ),
                // Unused by this statement: SQLite numbers parameters up
                // to the largest index, so ?3 is bound and ignored.
                0,
            ),
            Bound::OlderThan(seq) => (
                concat!(
                    "select ",
                    rows::account_columns!(),
                    " from accounts
                     where platform_id = ?1 and livemode = ?2 and deleted_at is null and seq < ?3
                     order by seq desc limit ?4"
                ),
                seq,
            ),
            Bound::NewerThan(seq) => (
                concat!(
                    "select ",
                    rows::account_columns!(),
                    " from accounts
                     where platform_id = ?1 and livemode = ?2 and deleted_at is null and seq > ?3
                     order by seq asc limit ?4"
                ),
                seq,
            ),
        };
        self.select_all(
            sql,
            params![tenant.platform.as_str(), tenant.mode.is_live(), seq, fetch],
            |row| rows::account(row),
        )
    }
}
