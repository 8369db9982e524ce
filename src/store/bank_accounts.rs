//! Connected accounts' bank accounts: what the store promises
//! ([`BankAccountStore`]), the statements each database provides
//! ([`BankAccountRows`]), and the rules (no duplicate across a key rotation,
//! one default per currency, who may write), written once.

use std::future::Future;

use async_trait::async_trait;

use crate::domain::account::{Account, Forbidden, RequirementCollection, Writer, check_writer};
use crate::domain::external_account::{BankAccount, BankAccountUpdate, NewBankAccount};
use crate::domain::ids::{AccountId, ExternalAccountId};
use crate::domain::platform::Tenant;

use super::accounts::{AccountRows, Author, lock_for_change};
use super::engine::{Backend, Lock, SqlStore, Tx};
use super::events::{Before, record_changes};
use super::idempotency_keys::{Receipt, save_completion};
use super::paging::{Bound, Cursor, Page};
use super::{Save, StoreError};

/// The result of attaching a bank account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankAccountInsertOutcome {
    /// Stored, as it now is (with the response, if the request was idempotent).
    Created(BankAccount, Receipt),
    /// The account already has a bank account with this fingerprint.
    Duplicate,
    /// The connected account no longer exists.
    AccountMissing,
    /// The writer may not change this account's bank accounts.
    Forbidden(Forbidden),
}

/// The result of changing or removing a bank account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankAccountChangeOutcome<T> {
    /// Done.
    Done(T),
    /// No such bank account on one of the tenant's accounts.
    NotFound,
    /// The writer may not change this account's bank accounts.
    Forbidden(Forbidden),
}

/// Bank accounts.
#[async_trait]
pub trait BankAccountStore {
    /// Attaches a bank account to one of the tenant's accounts, unless the
    /// account already has it (under any of its known fingerprints). It
    /// becomes the default for its currency if it is the first, or if asked.
    async fn insert_bank_account(
        &self,
        tenant: &Tenant,
        new: &NewBankAccount,
        author: &Author,
        save: Save<BankAccount>,
    ) -> Result<BankAccountInsertOutcome, StoreError>;

    /// Changes a bank account of one of the tenant's accounts.
    async fn update_bank_account(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        id: &ExternalAccountId,
        update: &BankAccountUpdate,
        author: &Author,
        save: Save<BankAccount>,
    ) -> Result<BankAccountChangeOutcome<(BankAccount, Receipt)>, StoreError>;

    /// A page of an account's bank accounts, newest first; `None` if the account
    /// or the cursor's bank account is not the tenant's.
    async fn list_bank_accounts(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        cursor: &Cursor<ExternalAccountId>,
        limit: u32,
    ) -> Result<Option<Page<BankAccount>>, StoreError>;

    /// Removes a bank account from one of the tenant's accounts. If it was
    /// the default for its currency, the oldest other one there becomes it.
    async fn delete_bank_account(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        id: &ExternalAccountId,
        author: &Author,
    ) -> Result<BankAccountChangeOutcome<BankAccount>, StoreError>;
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

    /// Writes a bank account's holder and default flag.
    fn update_bank_account(
        &mut self,
        bank_account: &BankAccount,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The bank accounts of these accounts, oldest first.
    fn select_bank_accounts_of(
        &mut self,
        accounts: &[AccountId],
    ) -> impl Future<Output = Result<Vec<BankAccount>, StoreError>> + Send;

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

    /// Deletes one of an account's bank accounts; how many rows it deleted.
    fn delete_bank_account(
        &mut self,
        account: &AccountId,
        id: &ExternalAccountId,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Who may write an account's bank accounts: the account itself always, the
/// platform as it may write the account's identity.
fn check_bank_writer(account: &Account, writer: Writer) -> Result<(), Forbidden> {
    check_writer(
        platform_collects(account),
        account.onboarding_started,
        writer,
        &["external_account"],
    )
}

/// Whether the platform collects the account's requirements.
fn platform_collects(account: &Account) -> bool {
    account.controller.requirement_collection == RequirementCollection::Application
}

/// Records the events of a bank-account change: `before` is the account
/// before it, `banks` its bank accounts after.
async fn record_bank_change<T: Tx + Send>(
    tx: &mut T,
    before: &Account,
    banks: Vec<BankAccount>,
    author: &Author,
) -> Result<(), StoreError> {
    let after = Account {
        external_accounts: banks,
        ..before.clone()
    };
    record_changes(
        tx,
        &after,
        Before::Was(before),
        author.now(),
        &author.request,
    )
    .await
}

/// The bank accounts of `account`, oldest first.
async fn banks_of<T: Tx + Send>(
    tx: &mut T,
    account: &AccountId,
) -> Result<Vec<BankAccount>, StoreError> {
    tx.select_bank_accounts_of(std::slice::from_ref(account))
        .await
}

/// Makes `id` the one default bank account of its currency among `banks`,
/// writing every flag that changes; returns the bank accounts as they now are.
async fn make_default<T: Tx + Send>(
    tx: &mut T,
    mut banks: Vec<BankAccount>,
    id: &ExternalAccountId,
) -> Result<Vec<BankAccount>, StoreError> {
    let Some(currency) = banks
        .iter()
        .find(|b| b.id == *id)
        .map(|b| b.currency.clone())
    else {
        return Ok(banks);
    };
    for bank in banks.iter_mut().filter(|b| b.currency == currency) {
        let default = bank.id == *id;
        if bank.default_for_currency != default {
            bank.default_for_currency = default;
            tx.update_bank_account(bank).await?;
        }
    }
    Ok(banks)
}

/// Attaches the bank account an account creation or update sent
/// (`external_account`): it becomes the default for its currency, and the old
/// default there is removed, as Stripe does. `false` if the account has it
/// already. `account.external_accounts` is brought up to date.
pub(super) async fn attach_bank_account<T: Tx + Send>(
    tx: &mut T,
    account: &mut Account,
    new: &NewBankAccount,
) -> Result<bool, StoreError> {
    if tx
        .any_fingerprint(&account.id, &new.known_fingerprints)
        .await?
        || tx.insert_bank_account(&new.bank).await? != 1
    {
        return Ok(false);
    }
    let replaced: Vec<ExternalAccountId> = account
        .external_accounts
        .iter()
        .filter(|b| b.currency == new.bank.currency && b.default_for_currency)
        .map(|b| b.id.clone())
        .collect();
    for id in &replaced {
        tx.delete_bank_account(&account.id, id).await?;
    }
    let banks = banks_of(tx, &account.id).await?;
    account.external_accounts = make_default(tx, banks, &new.bank.id).await?;
    Ok(true)
}

#[async_trait]
impl<B: Backend> BankAccountStore for SqlStore<B> {
    async fn insert_bank_account(
        &self,
        tenant: &Tenant,
        new: &NewBankAccount,
        author: &Author,
        save: Save<BankAccount>,
    ) -> Result<BankAccountInsertOutcome, StoreError> {
        let (tenant, new, author) = (tenant.clone(), new.clone(), author.clone());
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let account = &new.bank.account;
                    // The account's row lock makes bank-account inserts for one
                    // account take turns, so the duplicate check and the insert
                    // are one step (fingerprints under other master keys differ,
                    // so a unique constraint alone cannot catch those), and keeps
                    // the account from being deleted meanwhile.
                    let Some(before) = lock_for_change(tx, &tenant, account).await? else {
                        return Ok(BankAccountInsertOutcome::AccountMissing);
                    };
                    if let Err(forbidden) = check_bank_writer(&before, author.writer) {
                        return Ok(BankAccountInsertOutcome::Forbidden(forbidden));
                    }
                    if tx.any_fingerprint(account, &new.known_fingerprints).await?
                        || tx.insert_bank_account(&new.bank).await? != 1
                    {
                        return Ok(BankAccountInsertOutcome::Duplicate);
                    }
                    let mut banks = banks_of(tx, account).await?;
                    let first_in_currency = !banks.iter().any(|b| {
                        b.currency == new.bank.currency
                            && b.id != new.bank.id
                            && b.default_for_currency
                    });
                    if new.make_default || first_in_currency {
                        banks = make_default(tx, banks, &new.bank.id).await?;
                    }
                    let Some(bank) = banks.iter().find(|b| b.id == new.bank.id).cloned() else {
                        return Err(StoreError::Corrupt(
                            "a bank account vanished in its own transaction".to_owned(),
                        ));
                    };
                    record_bank_change(tx, &before, banks, &author).await?;
                    let receipt = save_completion(tx, save, &bank).await?;
                    Ok(BankAccountInsertOutcome::Created(bank, receipt))
                })
            })
            .await
    }

    async fn update_bank_account(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        id: &ExternalAccountId,
        update: &BankAccountUpdate,
        author: &Author,
        save: Save<BankAccount>,
    ) -> Result<BankAccountChangeOutcome<(BankAccount, Receipt)>, StoreError> {
        let (tenant, account, id, update, author) = (
            tenant.clone(),
            account.clone(),
            id.clone(),
            update.clone(),
            author.clone(),
        );
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let Some(before) = lock_for_change(tx, &tenant, &account).await? else {
                        return Ok(BankAccountChangeOutcome::NotFound);
                    };
                    // Changing a bank account needs the platform to collect
                    // requirements, whatever the state of onboarding.
                    if !platform_collects(&before) {
                        return Ok(BankAccountChangeOutcome::Forbidden(Forbidden::Parameters(
                            vec!["external_account"],
                        )));
                    }
                    let mut banks = before.external_accounts.clone();
                    let Some(bank) = banks.iter_mut().find(|b| b.id == id) else {
                        return Ok(BankAccountChangeOutcome::NotFound);
                    };
                    bank.account_holder_name =
                        update.account_holder_name.apply(&bank.account_holder_name);
                    if let Some(holder_type) = update.account_holder_type {
                        bank.account_holder_type = Some(holder_type);
                    }
                    tx.update_bank_account(bank).await?;
                    if update.make_default {
                        banks = make_default(tx, banks, &id).await?;
                    }
                    let Some(bank) = banks.iter().find(|b| b.id == id).cloned() else {
                        return Ok(BankAccountChangeOutcome::NotFound);
                    };
                    record_bank_change(tx, &before, banks, &author).await?;
                    let receipt = save_completion(tx, save, &bank).await?;
                    Ok(BankAccountChangeOutcome::Done((bank, receipt)))
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
                    if tx
                        .lock_tenant_account(&tenant, &account, Lock::None)
                        .await?
                        .is_none()
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
        author: &Author,
    ) -> Result<BankAccountChangeOutcome<BankAccount>, StoreError> {
        let (tenant, account, id, author) =
            (tenant.clone(), account.clone(), id.clone(), author.clone());
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let Some(before) = lock_for_change(tx, &tenant, &account).await? else {
                        return Ok(BankAccountChangeOutcome::NotFound);
                    };
                    if let Err(forbidden) = check_bank_writer(&before, author.writer) {
                        return Ok(BankAccountChangeOutcome::Forbidden(forbidden));
                    }
                    let banks = before.external_accounts.clone();
                    let Some(deleted) = banks.iter().find(|b| b.id == id).cloned() else {
                        return Ok(BankAccountChangeOutcome::NotFound);
                    };
                    tx.delete_bank_account(&account, &id).await?;
                    if deleted.default_for_currency {
                        let heir = banks
                            .iter()
                            .find(|b| b.id != id && b.currency == deleted.currency)
                            .map(|b| b.id.clone());
                        if let Some(heir) = heir {
                            let rest = banks.iter().filter(|b| b.id != id).cloned().collect();
                            make_default(tx, rest, &heir).await?;
                        }
                    }
                    let rest = banks_of(tx, &account).await?;
                    record_bank_change(tx, &before, rest, &author).await?;
                    Ok(BankAccountChangeOutcome::Done(deleted))
                })
            })
            .await
    }
}
