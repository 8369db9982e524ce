//! Connected accounts: what the store promises ([`AccountStore`]), the
//! statements each database provides ([`AccountRows`]), and the rules,
//! written once.

use std::future::Future;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::domain::account::{Account, AccountUpdate, Forbidden, RequirementCollection, Writer};
use crate::domain::external_account::NewBankAccount;
use crate::domain::ids::{AccountId, PersonId, PlatformId};
use crate::domain::onboarding::changes::{PersonUpdate, Refusal};
use crate::domain::onboarding::identity::Person;
use crate::domain::onboarding::verification::Verifier;
use crate::domain::platform::Tenant;
use crate::domain::webhooks::RequestRef;

use super::bank_accounts::attach_bank_account;
use super::engine::{Backend, Lock, SqlStore, Tx};
use super::events::{Before, record_changes};
use super::idempotency_keys::{Receipt, save_completion};
use super::paging::{Bound, Cursor, Page};
use super::{Save, StoreError};

/// Who makes a change, when, and on which API request: what every write of
/// an account (or of its persons and bank accounts) needs besides the
/// change itself.
#[derive(Debug, Clone)]
pub struct Author {
    /// The platform or the account itself.
    pub writer: Writer,
    /// Verifies changed identity values; its `now` is the change's time.
    pub verifier: Verifier,
    /// The request, named by the events the change records.
    pub request: RequestRef,
}

impl Author {
    /// When the change is made.
    pub fn now(&self) -> Timestamp {
        self.verifier.now
    }
}

/// A change to an account: the update, who makes it, and a bank account to
/// attach with it (`external_account`).
#[derive(Debug, Clone)]
pub struct AccountChange {
    /// The fields to change.
    pub update: AccountUpdate,
    /// Who makes it.
    pub author: Author,
    /// A bank account that becomes the default for its currency.
    pub external_account: Option<NewBankAccount>,
}

impl AccountChange {
    /// The identity parameters the change sends, for the writer check.
    fn identity_params(&self) -> Vec<&'static str> {
        let identity = &self.update.identity;
        let mut sent = Vec::new();
        if identity.business_type.is_some() {
            sent.push("business_type");
        }
        if identity.company.is_some() {
            sent.push("company");
        }
        if self.external_account.is_some() {
            sent.push("external_account");
        }
        if identity.individual.is_some() {
            sent.push("individual");
        }
        if identity.tos_acceptance.is_some() {
            sent.push("tos_acceptance");
        }
        sent
    }
}

/// The result of updating an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountUpdateOutcome {
    /// Updated and stored (with the response, if the request was idempotent).
    Updated(Box<Account>, Receipt),
    /// No such account for this tenant.
    NotFound,
    /// The writer may not make this change; nothing changed.
    Forbidden(Forbidden),
    /// Stripe refuses the change; nothing changed.
    Invalid(Refusal),
    /// The bank account sent is the account's already; nothing changed.
    DuplicateBankAccount,
}

/// A change to one person of an account.
#[derive(Debug, Clone)]
pub enum PersonChange {
    /// Add a person with this id.
    Create(PersonId, PersonUpdate),
    /// Change this person.
    Update(PersonId, PersonUpdate),
    /// Remove this person.
    Delete(PersonId),
}

/// The result of changing a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonOutcome {
    /// Done: the person (as it was, for a deletion) and its account as they
    /// now are (with the response, if the request was idempotent).
    Done(Box<(Person, Account)>, Receipt),
    /// No such account for this tenant.
    AccountNotFound,
    /// No such person on the account.
    PersonNotFound,
    /// The writer may not change this account's persons.
    Forbidden(Forbidden),
    /// Stripe refuses the change; nothing changed.
    Invalid(Refusal),
}

/// Connected accounts.
#[async_trait]
pub trait AccountStore {
    /// Stores a new account, with the bank account its creation sent; the
    /// account as stored, bank account included.
    async fn insert_account(
        &self,
        account: &Account,
        external_account: Option<&NewBankAccount>,
        now: Timestamp,
        request: &RequestRef,
        save: Save<Account>,
    ) -> Result<(Account, Receipt), StoreError>;

    /// The platform's account with this id, in either mode, unless deleted,
    /// with its bank accounts.
    async fn find_account(
        &self,
        platform: &PlatformId,
        id: &AccountId,
    ) -> Result<Option<Account>, StoreError>;

    /// Applies a change to one of the tenant's accounts, atomically.
    async fn update_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        change: &AccountChange,
        save: Save<Account>,
    ) -> Result<AccountUpdateOutcome, StoreError>;

    /// Applies a change to one person of one of the tenant's accounts,
    /// atomically with the account's derived state.
    async fn change_person(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        change: &PersonChange,
        author: &Author,
        save: Save<(Person, Account)>,
    ) -> Result<PersonOutcome, StoreError>;

    /// Deletes one of the tenant's accounts and revokes its account sessions
    /// (their embedded session keys stop working); `false` if there was none.
    async fn delete_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// A page of the tenant's accounts, newest first, with their bank
    /// accounts; `None` if the cursor's account is not one of the tenant's.
    async fn list_accounts(
        &self,
        tenant: &Tenant,
        cursor: &Cursor<AccountId>,
        limit: u32,
    ) -> Result<Option<Page<Account>>, StoreError>;
}

/// The tenant's account as locked by [`AccountRows::lock_tenant_account`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockedAccount {
    /// Whether an account session was ever created for it.
    pub onboarding_started: bool,
    /// Whether the platform collects its requirements.
    pub platform_collects: bool,
}

/// The columns [`locked_account`] reads, in order.
macro_rules! locked_account_columns {
    () => {
        "exists (select 1 from account_onboardings o where o.account_id = accounts.id), \
         requirement_collection"
    };
}
pub(crate) use locked_account_columns;

/// Decodes a row selected with `locked_account_columns!`.
pub fn locked_account(row: &impl super::rows::RowReader) -> Result<LockedAccount, StoreError> {
    Ok(LockedAccount {
        onboarding_started: row.boolean(0)?,
        platform_collects: row.spelling(1, RequirementCollection::parse)?
            == RequirementCollection::Application,
    })
}

/// The account statements a database provides.
pub trait AccountRows {
    /// Inserts an account.
    fn insert_account(
        &mut self,
        account: &Account,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The platform's account with this id, in either mode, unless deleted
    /// (without its bank accounts).
    fn select_account(
        &mut self,
        platform: &PlatformId,
        id: &AccountId,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;

    /// The tenant's account with this id, unless deleted, with `lock` on its
    /// row (without its bank accounts).
    fn select_tenant_account(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        lock: Lock,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;

    /// The tenant's account (not deleted), taking `lock` on its row: the
    /// cheap check before writing something that belongs to it.
    fn lock_tenant_account(
        &mut self,
        tenant: &Tenant,
        id: &AccountId,
        lock: Lock,
    ) -> impl Future<Output = Result<Option<LockedAccount>, StoreError>> + Send;

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

    /// Up to `fetch` of the tenant's accounts within `bound`, in its order
    /// (without their bank accounts).
    fn select_accounts(
        &mut self,
        tenant: &Tenant,
        bound: Bound,
        fetch: i64,
    ) -> impl Future<Output = Result<Vec<Account>, StoreError>> + Send;
}

/// Reads the bank accounts of `accounts` into them, with one statement.
pub(super) async fn with_bank_accounts<T: Tx + Send>(
    tx: &mut T,
    mut accounts: Vec<Account>,
) -> Result<Vec<Account>, StoreError> {
    if accounts.is_empty() {
        return Ok(accounts);
    }
    let ids: Vec<AccountId> = accounts.iter().map(|a| a.id.clone()).collect();
    for bank in tx.select_bank_accounts_of(&ids).await? {
        if let Some(account) = accounts.iter_mut().find(|a| a.id == bank.account) {
            account.external_accounts.push(bank);
        }
    }
    Ok(accounts)
}

/// One account with its bank accounts.
pub(super) async fn with_its_bank_accounts<T: Tx + Send>(
    tx: &mut T,
    account: Option<Account>,
) -> Result<Option<Account>, StoreError> {
    let Some(account) = account else {
        return Ok(None);
    };
    Ok(with_bank_accounts(tx, vec![account]).await?.pop())
}

/// The tenant's account, locked for a read-modify-write, with its bank accounts.
pub(super) async fn lock_for_change<T: Tx + Send>(
    tx: &mut T,
    tenant: &Tenant,
    id: &AccountId,
) -> Result<Option<Account>, StoreError> {
    // The row lock makes concurrent changes (from any process) apply one
    // after the other, each on the other's result.
    let account = tx.select_tenant_account(tenant, id, Lock::Update).await?;
    with_its_bank_accounts(tx, account).await
}

#[async_trait]
impl<B: Backend> AccountStore for SqlStore<B> {
    async fn insert_account(
        &self,
        account: &Account,
        external_account: Option<&NewBankAccount>,
        now: Timestamp,
        request: &RequestRef,
        save: Save<Account>,
    ) -> Result<(Account, Receipt), StoreError> {
        let (mut account, external_account, request) =
            (account.clone(), external_account.cloned(), request.clone());
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    tx.insert_account(&account).await?;
                    if let Some(new) = &external_account {
                        // A new account has no bank account it could duplicate.
                        attach_bank_account(tx, &mut account, new).await?;
                    }
                    record_changes(tx, &account, Before::New, now, &request).await?;
                    let receipt = save_completion(tx, save, &account).await?;
                    Ok((account, receipt))
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
            .snapshot(move |tx| {
                Box::pin(async move {
                    let account = tx.select_account(&platform, &id).await?;
                    with_its_bank_accounts(tx, account).await
                })
            })
            .await
    }

    async fn update_account(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        change: &AccountChange,
        save: Save<Account>,
    ) -> Result<AccountUpdateOutcome, StoreError> {
        let (tenant, id, change) = (tenant.clone(), id.clone(), change.clone());
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let Some(current) = lock_for_change(tx, &tenant, &id).await? else {
                        return Ok(AccountUpdateOutcome::NotFound);
                    };
                    let author = &change.author;
                    if let Err(forbidden) =
                        current.check_writer(author.writer, &change.identity_params())
                    {
                        return Ok(AccountUpdateOutcome::Forbidden(forbidden));
                    }
                    let mut updated = match current.updated(&change.update, &author.verifier) {
                        Ok(updated) => updated,
                        Err(refusal) => return Ok(AccountUpdateOutcome::Invalid(refusal)),
                    };
                    if let Some(new) = &change.external_account
                        && !attach_bank_account(tx, &mut updated, new).await?
                    {
                        return Ok(AccountUpdateOutcome::DuplicateBankAccount);
                    }
                    tx.update_account_fields(&updated).await?;
                    let before = Before::Was(&current);
                    record_changes(tx, &updated, before, author.now(), &author.request).await?;
                    let receipt = save_completion(tx, save, &updated).await?;
                    Ok(AccountUpdateOutcome::Updated(Box::new(updated), receipt))
                })
            })
            .await
    }

    async fn change_person(
        &self,
        tenant: &Tenant,
        account: &AccountId,
        change: &PersonChange,
        author: &Author,
        save: Save<(Person, Account)>,
    ) -> Result<PersonOutcome, StoreError> {
        let (tenant, account_id, change, author) = (
            tenant.clone(),
            account.clone(),
            change.clone(),
            author.clone(),
        );
        self.backend
            .transaction(move |tx| {
                Box::pin(async move {
                    let Some(mut account) = lock_for_change(tx, &tenant, &account_id).await? else {
                        return Ok(PersonOutcome::AccountNotFound);
                    };
                    if let Err(forbidden) = account.check_person_writer(author.writer) {
                        return Ok(PersonOutcome::Forbidden(forbidden));
                    }
                    let before = account.clone();
                    let verifier = author.verifier;
                    let identity = &mut account.profile.identity;
                    let changed = match &change {
                        PersonChange::Create(id, update) => identity
                            .add_person(update, id.clone(), verifier.now, &verifier)
                            .map(Some),
                        PersonChange::Update(id, update) => {
                            identity.update_person(id, update, &verifier)
                        }
                        PersonChange::Delete(id) => identity.remove_person(id),
                    };
                    let person = match changed {
                        Ok(Some(person)) => person,
                        Ok(None) => return Ok(PersonOutcome::PersonNotFound),
                        Err(refusal) => return Ok(PersonOutcome::Invalid(refusal)),
                    };
                    tx.update_account_fields(&account).await?;
                    let before = Before::Was(&before);
                    record_changes(tx, &account, before, author.now(), &author.request).await?;
                    let done = (person, account);
                    let receipt = save_completion(tx, save, &done).await?;
                    Ok(PersonOutcome::Done(Box::new(done), receipt))
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
                    let page = bound.page(rows, limit);
                    Ok(Some(Page {
                        data: with_bank_accounts(tx, page.data).await?,
                        has_more: page.has_more,
                    }))
                })
            })
            .await
    }
}
