//! Connected accounts: what the store promises ([`AccountStore`]), the
//! statements each database provides ([`AccountRows`]), and the rules,
//! written once.

use std::future::Future;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::domain::account::{Account, AccountUpdate, MetadataError};
use crate::domain::ids::{AccountId, PlatformId};
use crate::domain::platform::Tenant;

use super::engine::{Backend, Lock, SqlStore};
use super::idempotency_keys::{Receipt, save_completion};
use super::paging::{Bound, Cursor, Page};
use super::{Save, StoreError};

/// The result of updating an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountUpdateOutcome {
    /// Updated and stored (with the response, if the request was idempotent).
    Updated(Account, Receipt),
    /// No such account for this tenant.
    NotFound,
    /// The update breaks a metadata limit; nothing changed.
    Invalid(MetadataError),
}

/// Connected accounts.
#[async_trait]
pub trait AccountStore {
    /// Stores a new account.
    async fn insert_account(
        &self,
        account: &Account,
        save: Save<Account>,
    ) -> Result<Receipt, StoreError>;

    /// The platform's account with this id, in either mode, unless deleted.
    async fn find_account(
        &self,
        platform: &PlatformId,
        id: &AccountId,
    ) -> Result<Option<Account>, StoreError>;

    /// Applies an update to one of the tenant's accounts, atomically.
    async fn update_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        update: &AccountUpdate,
        save: Save<Account>,
    ) -> Result<AccountUpdateOutcome, StoreError>;

    /// Deletes one of the tenant's accounts and revokes its account sessions
    /// (their embedded session keys stop working); `false` if there was none.
    async fn delete_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// A page of the tenant's accounts, newest first; `None` if the cursor's
    /// account is not one of the tenant's.
    async fn list_accounts(
        &self,
        tenant: &Tenant,
        cursor: &Cursor<AccountId>,
        limit: u32,
    ) -> Result<Option<Page<Account>>, StoreError>;
}

/// The account statements a database provides.
pub trait AccountRows {
    /// Inserts an account.
    fn insert_account(
        &mut self,
        account: &Account,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The platform's account with this id, in either mode, unless deleted.
    fn select_account(
        &mut self,
        platform: &PlatformId,
        id: &AccountId,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;

    /// The tenant's account with this id, unless deleted, with `lock` on its row.
    fn select_tenant_account(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        lock: Lock,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;

    /// Whether the tenant has this account (not deleted), taking `lock` on its
    /// row: the cheap check before writing something that belongs to it.
    fn lock_tenant_account(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        lock: Lock,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Writes an account's editable fields.
    fn update_account_fields(
        &mut self,
        account: &Account,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks one of the tenant's accounts deleted; how many rows it changed.
    fn mark_account_deleted(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        at: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Revokes every unrevoked session of an account.
    fn revoke_account_sessions(
        &mut self,
        id: &AccountId,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The list position of one of the tenant's accounts.
    fn account_seq(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Up to `fetch` of the tenant's accounts within `bound`, in its order.
    fn select_accounts(
        &mut self,
        tenant: &Tenant,
        bound: Bound,
        fetch: i64,
    ) -> impl Future<Output = Result<Vec<Account>, StoreError>> + Send;
}

#[async_trait]
impl<B: Backend> AccountStore for SqlStore<B> {
    async fn insert_account(
        &self,
        account: &Account,
        save: Save<Account>,
    ) -> Result<Receipt, StoreError> {
        let account = account.clone();
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    tx.insert_account(&account).await?;
                    save_completion(tx, save, &account).await
                })
            })
            .await
    }

    async fn find_account(
        &self,
        platform: &PlatformId,
        id: &AccountId,
    ) -> Result<Option<Account>, StoreError> {
        let (platform, id) = (platform.clone(), id.clone());
        self.backend
            .read(move |tx| Box::pin(async move { tx.select_account(&platform, &id).await }))
            .await
    }

    async fn update_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        update: &AccountUpdate,
        save: Save<Account>,
    ) -> Result<AccountUpdateOutcome, StoreError> {
        let (tenant, id, update) = (tenant.clone(), id.clone(), update.clone());
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    // Read-modify-write: the row lock makes concurrent updates
                    // (from any process) apply one after the other, each on the
                    // other's result.
                    let Some(current) =
                        tx.select_tenant_account(&tenant, &id, Lock::Update).await?
                    else {
                        return Ok(AccountUpdateOutcome::NotFound);
                    };
                    let updated = match current.updated(&update) {
                        Ok(updated) => updated,
                        Err(invalid) => return Ok(AccountUpdateOutcome::Invalid(invalid)),
                    };
                    tx.update_account_fields(&updated).await?;
                    let receipt = save_completion(tx, save, &updated).await?;
                    Ok(AccountUpdateOutcome::Updated(updated, receipt))
                })
            })
            .await
    }

    async fn delete_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    if tx.mark_account_deleted(&tenant, &id, at).await? != 1 {
                        return Ok(false);
                    }
                    // A deleted account's sessions must stop working with it.
                    // Sessions being inserted hold a share lock on the account
                    // (see `insert_account_session`), so this sees all of them.
                    tx.revoke_account_sessions(&id, at).await?;
                    Ok(true)
                })
            })
            .await
    }

    async fn list_accounts(
        &self,
        tenant: &Tenant,
        cursor: &Cursor<AccountId>,
        limit: u32,
    ) -> Result<Option<Page<Account>>, StoreError> {
        let (tenant, cursor) = (tenant.clone(), cursor.clone());
        self.backend
            .snapshot(move |tx| {
                Box::pin(async move {
                    let seq = match cursor.id() {
                        None => None,
                        Some(id) => match tx.account_seq(&tenant, id).await? {
                            Some(seq) => Some(seq),
                            None => return Ok(None),
                        },
                    };
                    let bound = Bound::new(&cursor, seq);
                    let rows = tx
                        .select_accounts(&tenant, bound, Bound::fetch(limit))
                        .await?;
                    Ok(Some(bound.page(rows, limit)))
                })
            })
            .await
    }
}
