//! Connected accounts' bank accounts: what the store promises
//! ([`BankAccountStore`]), the statements each database provides
//! ([`BankAccountRows`]), and the rules (no duplicate across a key rotation),
//! written once.

use std::future::Future;

use async_trait::async_trait;

use crate::domain::external_account::BankAccount;
use crate::domain::ids::{AccountId, ExternalAccountId};
use crate::domain::platform::Tenant;

use super::accounts::AccountRows;
use super::engine::{Backend, Lock, SqlStore};
use super::idempotency_keys::{Receipt, save_completion};
use super::paging::{Bound, Cursor, Page};
use super::{Save, StoreError};

/// The result of attaching a bank account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankAccountInsertOutcome {
    /// Stored (with the response, if the request was idempotent).
    Created(Receipt),
    /// The account already has a bank account with this fingerprint.
    Duplicate,
    /// The connected account no longer exists.
    AccountMissing,
}

/// Bank accounts.
#[async_trait]
pub trait BankAccountStore {
    /// Attaches a bank account to one of the tenant's accounts, unless the
    /// account already has it: one stored with any of `known_fingerprints` (the
    /// bank account's fingerprints under every master key, so that duplicates
    /// are found across a key rotation).
    async fn insert_bank_account(
        &self,
        tenant: &Tenant,
        bank_account: &BankAccount,
        known_fingerprints: &[String],
        save: Save<BankAccount>,
    ) -> Result<BankAccountInsertOutcome, StoreError>;

    /// A page of an account's bank accounts, newest first; `None` if the account
    /// or the cursor's bank account is not the tenant's.
    async fn list_bank_accounts(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        cursor: &Cursor<ExternalAccountId>,
        limit: u32,
    ) -> Result<Option<Page<BankAccount>>, StoreError>;

    /// Removes a bank account from one of the tenant's accounts; `false` if
    /// there was none.
    async fn delete_bank_account(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> Result<bool, StoreError>;
}

/// The bank-account statements a database provides.
pub trait BankAccountRows {
    /// Whether the account has a bank account with any of these fingerprints.
    fn any_fingerprint(
        &mut self,
        account: &AccountId,
        fingerprints: &[String],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Inserts a bank account unless its account has its fingerprint; how
    /// many rows it inserted.
    fn insert_bank_account(
        &mut self,
        bank_account: &BankAccount,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The list position of one of an account's bank accounts.
    fn bank_account_seq(
        &mut self,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Up to `fetch` of an account's bank accounts within `bound`, in its order.
    fn select_bank_accounts(
        &mut self,
        account: &AccountId,
        bound: Bound,
        fetch: i64,
    ) -> impl Future<Output = Result<Vec<BankAccount>, StoreError>> + Send;

    /// Deletes a bank account of one of the tenant's (undeleted) accounts, in
    /// one statement; how many rows it deleted.
    fn delete_bank_account(
        &mut self,
        tenant: &Tenant,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

#[async_trait]
impl<B: Backend> BankAccountStore for SqlStore<B> {
    async fn insert_bank_account(
        &self,
        tenant: &Tenant,
        bank_account: &BankAccount,
        known_fingerprints: &[String],
        save: Save<BankAccount>,
    ) -> Result<BankAccountInsertOutcome, StoreError> {
        let (tenant, bank, known) = (
            tenant.clone(),
            bank_account.clone(),
            known_fingerprints.to_vec(),
        );
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    // The account's row lock makes bank-account inserts for one
                    // account take turns, so the duplicate check and the insert
                    // are one step (fingerprints under other master keys differ,
                    // so a unique constraint alone cannot catch those), and keeps
                    // the account from being deleted meanwhile.
                    if !tx
                        .lock_tenant_account(&tenant, &bank.account, Lock::Update)
                        .await?
                    {
                        return Ok(BankAccountInsertOutcome::AccountMissing);
                    }
                    if tx.any_fingerprint(&bank.account, &known).await?
                        || tx.insert_bank_account(&bank).await? != 1
                    {
                        return Ok(BankAccountInsertOutcome::Duplicate);
                    }
                    let receipt = save_completion(tx, save, &bank).await?;
                    Ok(BankAccountInsertOutcome::Created(receipt))
                })
            })
            .await
    }

    async fn list_bank_accounts(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        cursor: &Cursor<ExternalAccountId>,
        limit: u32,
    ) -> Result<Option<Page<BankAccount>>, StoreError> {
        let (tenant, account, cursor) = (tenant.clone(), account.clone(), cursor.clone());
        self.backend
            .snapshot(move |tx| {
                Box::pin(async move {
                    if !tx
                        .lock_tenant_account(&tenant, &account, Lock::None)
                        .await?
                    {
                        return Ok(None);
                    }
                    let seq = match cursor.id() {
                        None => None,
                        Some(id) => match tx.bank_account_seq(&account, id).await? {
                            Some(seq) => Some(seq),
                            None => return Ok(None),
                        },
                    };
                    let bound = Bound::new(&cursor, seq);
                    let rows = tx
                        .select_bank_accounts(&account, bound, Bound::fetch(limit))
                        .await?;
                    Ok(Some(bound.page(rows, limit)))
                })
            })
            .await
    }

    async fn delete_bank_account(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> Result<bool, StoreError> {
        let (tenant, account, id) = (tenant.clone(), account.clone(), id.clone());
        self.backend
            .statement(move |tx| {
                Box::pin(
                    async move { Ok(tx.delete_bank_account(&tenant, &account, &id).await? == 1) },
                )
            })
            .await
    }
}
