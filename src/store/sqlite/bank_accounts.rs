//! SQLite's bank-account statements.

use rusqlite::params;

use crate::domain::external_account::BankAccount;
use crate::domain::ids::{AccountId, ExternalAccountId};
use crate::domain::platform::Tenant;
use crate::store::StoreError;
use crate::store::bank_accounts::BankAccountRows;
use crate::store::paging::Bound;
use crate::store::rows;

use super::SqliteConn;

impl BankAccountRows for SqliteConn {
    async fn any_fingerprint(
        &mut self,
        account: &AccountId,
        fingerprints: &[String],
    ) -> Result<bool, StoreError> {
        for fingerprint in fingerprints {
            let found = self.select_one(
                "select 1 from external_accounts where account_id = ?1 and fingerprint = ?2",
                params![account.as_str(), fingerprint],
                |_| Ok(()),
            )?;
            if found.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn insert_bank_account(&mut self, bank: &BankAccount) -> Result<u64, StoreError> {
        self.execute(
            "insert into external_accounts (id, account_id, country, currency,
                 account_holder_name, routing_number, last4, fingerprint, created)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             on conflict (account_id, fingerprint) do nothing",
            params![
                bank.id.as_str(),
                bank.account.as_str(),
                bank.country,
                bank.currency,
                bank.account_holder_name,
                bank.routing_number,
                bank.last4,
                bank.fingerprint,
                bank.created.as_secs(),
            ],
        )
    }

    async fn bank_account_seq(
        &mut self,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> Result<Option<i64>, StoreError> {
        self.select_one(
            "select seq from external_accounts where id = ?1 and account_id = ?2",
            params![id.as_str(), account.as_str()],
            |row| Ok(row.get(0)?),
        )
    }

    async fn select_bank_accounts(
        &mut self,
        account: &AccountId,
        bound: Bound,
        fetch: i64,
    ) -> Result<Vec<BankAccount>, StoreError> {
        let (sql, seq) = match bound {
            // ?2 is unused here: SQLite numbers parameters up to the largest
            // index, so it is bound and ignored.
            Bound::Newest => (
                concat!(
                    "select ",
                    rows::bank_account_columns!(),
                    " from external_accounts where account_id = ?1
                     order by seq desc limit ?3"
                ),
                0,
            ),
            Bound::OlderThan(seq) => (
                concat!(
                    "select ",
                    rows::bank_account_columns!(),
                    " from external_accounts where account_id = ?1 and seq < ?2
                     order by seq desc limit ?3"
                ),
                seq,
            ),
            Bound::NewerThan(seq) => (
                concat!(
                    "select ",
                    rows::bank_account_columns!(),
                    " from external_accounts where account_id = ?1 and seq > ?2
                     order by seq asc limit ?3"
                ),
                seq,
            ),
        };
        self.select_all(sql, params![account.as_str(), seq, fetch], |row| {
            rows::bank_account(row)
        })
    }

    async fn delete_bank_account(
        &mut self,
        tenant: &Tenant,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> Result<u64, StoreError> {
        self.execute(
            "delete from external_accounts
             where id = ?1 and account_id = ?2
               and exists (
                   select 1 from accounts a
                   where a.id = ?2 and a.platform_id = ?3 and a.livemode = ?4
                     and a.deleted_at is null
               )",
            params![
                id.as_str(),
                account.as_str(),
                tenant.platform.as_str(),
                tenant.mode.is_live()
            ],
        )
    }
}
