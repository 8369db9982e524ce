//! PostgreSQL's bank-account statements.

use sqlx_core::query::query;

use crate::domain::external_account::{BankAccount, HolderType};
use crate::domain::ids::{AccountId, ExternalAccountId};
use crate::store::StoreError;
use crate::store::bank_accounts::BankAccountRows;
use crate::store::paging::Bound;
use crate::store::rows::{self, RowReader};

use super::PgConn;

impl BankAccountRows for PgConn {
    async fn any_fingerprint(
        &mut self,
        account: &AccountId,
        fingerprints: &[String],
    ) -> Result<bool, StoreError> {
        self.fetch_one_or_none(
            query(
                "select exists (
                     select 1 from external_accounts
                     where account_id = $1 and fingerprint = any($2)
                 )",
            )
            .bind(account.as_str())
            .bind(fingerprints),
            |row| row.boolean(0),
        )
        .await
        .map(|exists| exists.unwrap_or(false))
    }

    async fn insert_bank_account(&mut self, bank: &BankAccount) -> Result<u64, StoreError> {
        self.run(
            query(
                "insert into external_accounts (id, account_id, country, currency,
                         account_holder_name, routing_number, last4, fingerprint, created)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     on conflict (account_id, fingerprint) do nothing",
            )
            .bind(bank.id.as_str())
            .bind(bank.account.as_str())
            .bind(bank.country.as_str())
            .bind(bank.currency.as_str())
            .bind(bank.account_holder_name.as_deref())
            .bind(bank.routing_number.as_deref())
            .bind(bank.last4.as_str())
            .bind(bank.fingerprint.as_str())
            .bind(bank.created.as_secs()),
        )
        .await
    }

    async fn update_bank_account(&mut self, bank: &BankAccount) -> Result<(), StoreError> {
        self.run(
            query(
                "update external_accounts
                 set account_holder_name = $2, account_holder_type = $3, default_for_currency = $4
                 where id = $1",
            )
            .bind(bank.id.as_str())
            .bind(bank.account_holder_name.as_deref())
            .bind(bank.account_holder_type.map(HolderType::as_str))
            .bind(bank.default_for_currency),
        )
        .await
        .map(drop)
    }

    async fn select_bank_accounts_of(
        &mut self,
        accounts: &[AccountId],
    ) -> Result<Vec<BankAccount>, StoreError> {
        let ids: Vec<&str> = accounts.iter().map(AccountId::as_str).collect();
        self.fetch_every(
            query(concat!(
                "select ",
                rows::bank_account_columns!(),
                " from external_accounts where account_id = any($1) order by seq"
            ))
            .bind(ids),
            rows::bank_account,
        )
        .await
    }

    async fn bank_account_seq(
        &mut self,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> Result<Option<i64>, StoreError> {
        self.fetch_one_or_none(
            query("select seq from external_accounts where id = $1 and account_id = $2")
                .bind(id.as_str())
                .bind(account.as_str()),
            |row| row.integer(0),
        )
        .await
    }

    async fn select_bank_accounts(
        &mut self,
        account: &AccountId,
        bound: Bound,
        fetch: i64,
    ) -> Result<Vec<BankAccount>, StoreError> {
        let page = match bound {
            Bound::Newest => query(concat!(
                "select ",
                rows::bank_account_columns!(),
                " from external_accounts where account_id = $1
                 order by seq desc limit $2"
            )),
            Bound::OlderThan(_) => query(concat!(
                "select ",
                rows::bank_account_columns!(),
                " from external_accounts where account_id = $1 and seq < $3
                 order by seq desc limit $2"
            )),
            Bound::NewerThan(_) => query(concat!(
                "select ",
                rows::bank_account_columns!(),
                " from external_accounts where account_id = $1 and seq > $3
                 order by seq asc limit $2"
            )),
        };
        let mut page = page.bind(account.as_str()).bind(fetch);
        if let Bound::OlderThan(seq) | Bound::NewerThan(seq) = bound {
            page = page.bind(seq);
        }
        self.fetch_every(page, rows::bank_account).await
    }

    async fn delete_bank_account(
        &mut self,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> Result<u64, StoreError> {
        self.run(
            query("delete from external_accounts where id = $1 and account_id = $2")
                .bind(id.as_str())
                .bind(account.as_str()),
        )
        .await
    }
}
