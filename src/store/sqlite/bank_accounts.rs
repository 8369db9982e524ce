//! SQLite's bank-account statements.

use rusqlite::params;

use crate::domain::external_account::{BankAccount, HolderType};
use crate::domain::ids::{AccountId, ExternalAccountId};
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
                 account_holder_name, routing_number, last4, fingerprint, created,
                 account_holder_type, default_for_currency)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
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
                bank.account_holder_type.map(HolderType::as_str),
                bank.default_for_currency,
            ],
        )
    }

    async fn update_bank_account(&mut self, bank: &BankAccount) -> Result<(), StoreError> {
        self.execute(
            "update external_accounts
             set account_holder_name = ?2, account_holder_type = ?3, default_for_currency = ?4
             where id = ?1",
            params![
                bank.id.as_str(),
                bank.account_holder_name,
                bank.account_holder_type.map(HolderType::as_str),
                bank.default_for_currency,
            ],
        )?;
        Ok(())
    }

    async fn select_bank_accounts_of(
        &mut self,
        accounts: &[AccountId],
    ) -> Result<Vec<BankAccount>, StoreError> {
        let ids: Vec<&str> = accounts.iter().map(AccountId::as_str).collect();
        self.select_all(
            concat!(
                "select ",
                rows::bank_account_columns!(),
                " from external_accounts
                 where account_id in (select value from json_each(?1))
                 order by seq"
            ),
            [rows::to_json(&ids)?],
            |row| rows::bank_account(row),
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
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> Result<u64, StoreError> {
        self.execute(
            "delete from external_accounts where id = ?1 and account_id = ?2",
            params![id.as_str(), account.as_str()],
        )
    }
}
