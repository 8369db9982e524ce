//! The store's contract, case by case, against the `Store` trait itself: the
//! same cases run on SQLite in a plain `cargo test` and on PostgreSQL when
//! `CONNECT_SESSIONS_TEST_DATABASE` is set, so both backends keep every
//! promise the trait documents, including the ones the API cannot show
//! (durability across a reopen, what a lost claim reports, leases).

use std::sync::Arc;
use std::time::Duration;

use connect_sessions::clock::Timestamp;
use connect_sessions::domain::account::{
    Account, AccountType, AccountUpdate, BusinessProfileUpdate, Controller, FieldUpdate,
    MetadataUpdate, NewAccount, Writer,
};
use connect_sessions::domain::account_session::{ClaimRefusal, ClientSecret, NewAccountSession};
use connect_sessions::domain::catalog::{ComponentsRequest, ResolvedComponents};
use connect_sessions::domain::embedded_session::NewEmbeddedSession;
use connect_sessions::domain::external_account::{BankAccount, NewBankAccount};
use connect_sessions::domain::ids::{AccountId, ExternalAccountId};
use connect_sessions::domain::keys::{KeyKind, SecretHash};
use connect_sessions::domain::mode::Mode;
use connect_sessions::domain::onboarding::verification::Verifier;
use connect_sessions::domain::platform::{NewPlatform, Tenant};
use connect_sessions::domain::webhooks::RequestRef;
use connect_sessions::idempotency::{
    Attempt, BeginOutcome, Completion, Fingerprint, IdempotencyKey, IdempotencyScope, KeyRealm,
    LeaseToken, SavedResponse,
};
use connect_sessions::store::{
    AccountChange, AccountUpdateOutcome, Author, BankAccountChangeOutcome,
    BankAccountInsertOutcome, ClaimOutcome, Cursor, SessionInsertOutcome, Store,
};

use crate::database::TestDatabase;

/// 2026-06-01T00:00:00Z, as in the API tests.
const NOW: Timestamp = Timestamp::from_secs(1_780_272_000);

/// A store on a fresh database, with one platform, acting in test mode.
struct Fixture {
    database: TestDatabase,
    store: Arc<dyn Store>,
    platform: NewPlatform,
    tenant: Tenant,
}

impl Fixture {
    async fn new() -> Self {
        let database = TestDatabase::create().await;
        let store = database.open_store().await;
        let platform = NewPlatform::generate("Contract".to_owned());
        store.create_platform(&platform, NOW).await.unwrap();
        let tenant = Tenant {
            platform: platform.id.clone(),
            mode: Mode::Test,
        };
        Self {
            database,
            store,
            platform,
            tenant,
        }
    }

    /// A Custom account of the tenant, stored.
    async fn account(&self) -> Account {
        let account = new_account(&self.tenant);
        let (stored, receipt) = self
            .store
            .insert_account(&account, None, NOW, &RequestRef::default(), None)
            .await
            .unwrap();
        assert_eq!((&stored, receipt), (&account, None));
        account
    }

    /// Attaches a bank account through the bank-account endpoint's rule.
    async fn attach(
        &self,
        bank: &BankAccount,
        known: &[&str],
        writer: Writer,
    ) -> BankAccountInsertOutcome {
        let new = NewBankAccount {
            bank: bank.clone(),
            known_fingerprints: known.iter().map(|k| (*k).to_owned()).collect(),
            make_default: false,
        };
        self.store
            .insert_bank_account(&self.tenant, &new, &author(writer, self.tenant.mode), None)
            .await
            .unwrap()
    }

    /// A session of `account` expiring ten minutes from `NOW`, stored; its secret's hash.
    async fn session(&self, account: &Account) -> SecretHash {
        let session = NewAccountSession {
            account: account.id.clone(),
            components: components(),
            secret_hash: ClientSecret::generate().hash(),
            created: NOW,
            expires_at: NOW.plus(Duration::from_secs(600)),
        };
        let outcome = self
            .store
            .insert_account_session(&self.tenant, &session, None)
            .await
            .unwrap();
        assert_eq!(outcome, SessionInsertOutcome::Created(None));
        session.secret_hash
    }

    async fn claim(&self, secret: SecretHash, at: Timestamp) -> ClaimOutcome {
        let claim = NewEmbeddedSession::generate(self.tenant.mode, at);
        self.store
            .claim_account_session(&self.tenant, secret, &claim, None)
            .await
            .unwrap()
    }
}

fn verifier(mode: Mode) -> Verifier {
    Verifier {
        mode,
        now: NOW,
        delay: Duration::from_secs(5),
    }
}

/// `writer` making a change at `NOW`, on no particular request.
fn author(writer: Writer, mode: Mode) -> Author {
    Author {
        writer,
        verifier: verifier(mode),
        request: RequestRef::default(),
    }
}

fn new_account(tenant: &Tenant) -> Account {
    NewAccount {
        controller: Controller::for_type(AccountType::Custom),
        country: "US".to_owned(),
        fields: AccountUpdate {
            email: FieldUpdate::Set("jenny@example.com".to_owned()),
            ..AccountUpdate::default()
        },
    }
    .into_account(tenant.platform.clone(), &verifier(tenant.mode))
    .unwrap()
}

/// A change of the account's fields by its platform.
fn change(update: AccountUpdate) -> AccountChange {
    AccountChange {
        update,
        author: author(Writer::Platform, Mode::Test),
        external_account: None,
    }
}

fn components() -> ResolvedComponents {
    ResolvedComponents::resolve(
        &ComponentsRequest::default(),
        &Controller::for_type(AccountType::Custom),
    )
    .unwrap()
}

fn bank_account(account: &AccountId, fingerprint: &str) -> BankAccount {
    BankAccount {
        id: ExternalAccountId::generate(),
        account: account.clone(),
        country: "US".to_owned(),
        currency: "usd".to_owned(),
        account_holder_name: Some("Jenny Rosen".to_owned()),
        account_holder_type: None,
        default_for_currency: false,
        routing_number: Some("110000000".to_owned()),
        last4: "6789".to_owned(),
        fingerprint: fingerprint.to_owned(),
        created: NOW,
    }
}

#[tokio::test]
async fn platforms_keys_are_found_by_hash_with_their_kind_and_mode() {
    let fixture = Fixture::new().await;
    let keys = [
        (&fixture.platform.secret_key, KeyKind::Secret, Mode::Test),
        (
            &fixture.platform.publishable_key,
            KeyKind::Publishable,
            Mode::Test,
        ),
        (
            &fixture.platform.live_secret_key,
            KeyKind::Secret,
            Mode::Live,
        ),
        (
            &fixture.platform.live_publishable_key,
            KeyKind::Publishable,
            Mode::Live,
        ),
    ];
    for (key, kind, mode) in keys {
        let grant = fixture.store.find_key(key.hash()).await.unwrap().unwrap();
        assert_eq!(
            (grant.platform, grant.kind, grant.mode),
            (fixture.platform.id.clone(), kind, mode)
        );
    }
    assert!(
        fixture
            .store
            .find_key(SecretHash::of("sk_test_unknown"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_key_is_rolled_to_one_of_its_kind_and_mode_and_revoked_keys_stay_taken() {
    use connect_sessions::domain::keys::GeneratedKey;
    use connect_sessions::domain::platform::{KeyValidity, StoredKey};
    use connect_sessions::store::KeyChange;

    let fixture = Fixture::new().await;
    let store = &fixture.store;
    let old = fixture.platform.live_secret_key.hash();
    let stored = |key: &GeneratedKey, kind, mode| StoredKey {
        hash: key.hash(),
        kind,
        mode,
    };
    let now = Timestamp::from_secs(1_000);
    let later = Timestamp::from_secs(5_000);

    // Another kind or mode is refused, and changes nothing.
    let wrong = GeneratedKey::generate(KeyKind::Publishable, Mode::Live);
    let refused = store
        .roll_key(
            old,
            stored(&wrong, KeyKind::Publishable, Mode::Live),
            later,
            now,
        )
        .await
        .unwrap();
    assert_eq!(refused, KeyChange::Mismatch);
    assert!(store.find_key(wrong.hash()).await.unwrap().is_none());

    // Rolled: the new key is the platform's; the old one expires at `later`.
    let new = GeneratedKey::generate(KeyKind::Secret, Mode::Live);
    let rolled = store
        .roll_key(old, stored(&new, KeyKind::Secret, Mode::Live), later, now)
        .await
        .unwrap();
    assert_eq!(rolled, KeyChange::Changed(fixture.platform.id.clone()));
    let grant = store.find_key(new.hash()).await.unwrap().unwrap();
    assert_eq!(
        (grant.platform, grant.kind, grant.mode, grant.expires_at),
        (
            fixture.platform.id.clone(),
            KeyKind::Secret,
            Mode::Live,
            None
        )
    );
    let old_grant = store.find_key(old).await.unwrap().unwrap();
    assert_eq!(old_grant.expires_at, Some(later));
    assert_eq!(old_grant.validity(now), KeyValidity::Usable);
    assert_eq!(old_grant.validity(later), KeyValidity::Expired);

    // Rolling again never lengthens the grace period.
    let third = GeneratedKey::generate(KeyKind::Secret, Mode::Live);
    store
        .roll_key(
            old,
            stored(&third, KeyKind::Secret, Mode::Live),
            Timestamp::from_secs(9_000),
            now,
        )
        .await
        .unwrap();
    let old_grant = store.find_key(old).await.unwrap().unwrap();
    assert_eq!(old_grant.expires_at, Some(later));

    // Revoked: refused, cannot be rolled, and its hash is still taken.
    assert_eq!(
        store.revoke_key(new.hash()).await.unwrap(),
        KeyChange::Changed(fixture.platform.id.clone())
    );
    let revoked = store.find_key(new.hash()).await.unwrap().unwrap();
    assert_eq!(revoked.validity(now), KeyValidity::Revoked);
    let fourth = GeneratedKey::generate(KeyKind::Secret, Mode::Live);
    assert_eq!(
        store
            .roll_key(
                new.hash(),
                stored(&fourth, KeyKind::Secret, Mode::Live),
                later,
                now
            )
            .await
            .unwrap(),
        KeyChange::Refused(KeyValidity::Revoked)
    );
    assert_eq!(
        store
            .revoke_key(SecretHash::of("sk_live_unknown"))
            .await
            .unwrap(),
        KeyChange::Unknown
    );
}

#[tokio::test]
async fn a_default_platform_is_created_only_on_an_empty_database() {
    let database = TestDatabase::create().await;
    let store = database.open_store().await;
    assert!(!store.has_platforms().await.unwrap());
    let first = NewPlatform::generate("First".to_owned());
    let second = NewPlatform::generate("Second".to_owned());
    assert!(store.create_platform_if_none(&first, NOW).await.unwrap());
    assert!(!store.create_platform_if_none(&second, NOW).await.unwrap());
    assert!(store.has_platforms().await.unwrap());
    assert!(
        store
            .find_key(second.secret_key.hash())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_account_reads_back_as_written_and_survives_a_reopen() {
    let fixture = Fixture::new().await;
    let account = fixture.account().await;

    let found = fixture
        .store
        .find_account(&fixture.tenant.platform, &account.id)
        .await
        .unwrap();
    assert_eq!(found.as_ref(), Some(&account));

    drop(fixture.store);
    let reopened = fixture.database.open_store().await;
    let found = reopened
        .find_account(&fixture.tenant.platform, &account.id)
        .await
        .unwrap();
    assert_eq!(found, Some(account));
}

#[tokio::test]
async fn an_update_applies_to_the_tenants_account_only() {
    let fixture = Fixture::new().await;
    let account = fixture.account().await;
    let update = change(AccountUpdate {
        email: FieldUpdate::Clear,
        metadata: MetadataUpdate::default(),
        business_profile: BusinessProfileUpdate {
            name: FieldUpdate::Set("Rocket Rides".to_owned()),
            ..BusinessProfileUpdate::default()
        },
        ..AccountUpdate::default()
    });

    let live = Tenant {
        mode: Mode::Live,
        ..fixture.tenant.clone()
    };
    let other_mode = fixture
        .store
        .update_account(&live, &account.id, &update, None)
        .await
        .unwrap();
    let updated = fixture
        .store
        .update_account(&fixture.tenant, &account.id, &update, None)
        .await
        .unwrap();

    assert_eq!(other_mode, AccountUpdateOutcome::NotFound);
    let AccountUpdateOutcome::Updated(updated, None) = updated else {
        panic!("not updated: {updated:?}");
    };
    assert_eq!(updated.email, None);
    assert_eq!(
        updated.profile.business_profile.name.as_deref(),
        Some("Rocket Rides")
    );
    let stored = fixture
        .store
        .find_account(&fixture.tenant.platform, &account.id)
        .await
        .unwrap();
    assert_eq!(stored, Some(*updated));
}

#[tokio::test]
async fn accounts_list_newest_first_in_pages_both_ways() {
    let fixture = Fixture::new().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(fixture.account().await.id);
    }
    ids.reverse(); // newest first
    let ids_of = |page: &[Account]| page.iter().map(|a| a.id.clone()).collect::<Vec<_>>();

    let first = fixture
        .store
        .list_accounts(&fixture.tenant, &Cursor::Start, 2)
        .await
        .unwrap()
        .unwrap();
    let second = fixture
        .store
        .list_accounts(&fixture.tenant, &Cursor::StartingAfter(ids[1].clone()), 2)
        .await
        .unwrap()
        .unwrap();
    let back = fixture
        .store
        .list_accounts(&fixture.tenant, &Cursor::EndingBefore(ids[4].clone()), 2)
        .await
        .unwrap()
        .unwrap();
    let last = fixture
        .store
        .list_accounts(&fixture.tenant, &Cursor::StartingAfter(ids[3].clone()), 2)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        (ids_of(&first.data), first.has_more),
        (ids[0..2].to_vec(), true)
    );
    assert_eq!(
        (ids_of(&second.data), second.has_more),
        (ids[2..4].to_vec(), true)
    );
    assert_eq!(
        (ids_of(&back.data), back.has_more),
        (ids[2..4].to_vec(), true)
    );
    assert_eq!(
        (ids_of(&last.data), last.has_more),
        (ids[4..5].to_vec(), false)
    );
}

#[tokio::test]
async fn a_cursor_naming_another_tenants_or_a_deleted_account_lists_nothing() {
    let fixture = Fixture::new().await;
    let kept = fixture.account().await;
    let deleted = fixture.account().await;
    assert!(
        fixture
            .store
            .delete_account(&fixture.tenant, &deleted.id, NOW)
            .await
            .unwrap()
    );
    let live = Tenant {
        mode: Mode::Live,
        ..fixture.tenant.clone()
    };

    let after_deleted = fixture
        .store
        .list_accounts(&fixture.tenant, &Cursor::StartingAfter(deleted.id), 10)
        .await
        .unwrap();
    let other_mode = fixture
        .store
        .list_accounts(&live, &Cursor::StartingAfter(kept.id.clone()), 10)
        .await
        .unwrap();
    let all = fixture
        .store
        .list_accounts(&fixture.tenant, &Cursor::Start, 10)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(after_deleted, None);
    assert_eq!(other_mode, None);
    assert_eq!(all.data, vec![kept]);
}

#[tokio::test]
async fn a_secret_is_claimed_once_and_every_later_claim_says_why() {
    let fixture = Fixture::new().await;
    let account = fixture.account().await;
    let claimed = fixture.session(&account).await;
    let expired = fixture.session(&account).await;
    let revoked = fixture.session(&account).await;
    fixture
        .store
        .revoke_account_session(&fixture.tenant, revoked, NOW, None)
        .await
        .unwrap()
        .unwrap();

    let won = fixture.claim(claimed, NOW).await;
    let again = fixture.claim(claimed, NOW).await;
    let late = fixture
        .claim(expired, NOW.plus(Duration::from_secs(600)))
        .await;
    let after_revocation = fixture.claim(revoked, NOW).await;
    let unknown = fixture.claim(SecretHash::of("accs_secret__x"), NOW).await;

    let ClaimOutcome::Claimed(session, None) = won else {
        panic!("the first claim lost: {won:?}");
    };
    assert_eq!(session.account, account.id);
    assert_eq!(session.expires_at, NOW.plus(Duration::from_secs(600)));
    assert_eq!(again, ClaimOutcome::Refused(ClaimRefusal::AlreadyClaimed));
    assert_eq!(late, ClaimOutcome::Refused(ClaimRefusal::Expired));
    assert_eq!(
        after_revocation,
        ClaimOutcome::Refused(ClaimRefusal::Revoked)
    );
    assert_eq!(unknown, ClaimOutcome::NotFound);
}

#[tokio::test]
async fn an_embedded_session_is_found_by_its_key_until_logout_ends_it_once() {
    let fixture = Fixture::new().await;
    let account = fixture.account().await;
    let secret = fixture.session(&account).await;
    let claim = NewEmbeddedSession::generate(Mode::Test, NOW);
    fixture
        .store
        .claim_account_session(&fixture.tenant, secret, &claim, None)
        .await
        .unwrap();

    let found = fixture
        .store
        .find_embedded_session(claim.key.hash())
        .await
        .unwrap()
        .unwrap();
    let first = fixture
        .store
        .log_out_embedded_session(claim.key.hash(), NOW)
        .await
        .unwrap();
    let second = fixture
        .store
        .log_out_embedded_session(claim.key.hash(), NOW)
        .await
        .unwrap();
    let after = fixture
        .store
        .find_embedded_session(claim.key.hash())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(found.id, claim.id);
    assert_eq!(found.platform, fixture.tenant.platform);
    assert_eq!(found.logged_out_at, None);
    assert!(first);
    assert!(!second, "a second logout changes nothing");
    assert_eq!(after.logged_out_at, Some(NOW));
}

#[tokio::test]
async fn revoking_keeps_the_first_time_and_expiring_only_moves_expiry_earlier() {
    let fixture = Fixture::new().await;
    let account = fixture.account().await;
    let secret = fixture.session(&account).await;
    let later = NOW.plus(Duration::from_secs(60));

    let revoked = fixture
        .store
        .revoke_account_session(&fixture.tenant, secret, NOW, None)
        .await
        .unwrap()
        .unwrap();
    let again = fixture
        .store
        .revoke_account_session(&fixture.tenant, secret, later, None)
        .await
        .unwrap()
        .unwrap();
    let expired = fixture
        .store
        .expire_account_session(&fixture.tenant, secret, later, None)
        .await
        .unwrap()
        .unwrap();
    let not_later = fixture
        .store
        .expire_account_session(
            &fixture.tenant,
            secret,
            NOW.plus(Duration::from_secs(900)),
            None,
        )
        .await
        .unwrap()
        .unwrap();
    let unknown = fixture
        .store
        .revoke_account_session(&fixture.tenant, SecretHash::of("x"), NOW, None)
        .await
        .unwrap();

    assert_eq!(revoked.0.revoked_at, Some(NOW));
    assert_eq!(again.0.revoked_at, Some(NOW));
    assert_eq!(expired.0.expires_at, later);
    assert_eq!(not_later.0.expires_at, later);
    assert_eq!(unknown, None);
}

#[tokio::test]
async fn deleting_an_account_revokes_its_sessions_and_refuses_new_ones() {
    let fixture = Fixture::new().await;
    let account = fixture.account().await;
    let secret = fixture.session(&account).await;

    assert!(
        fixture
            .store
            .delete_account(&fixture.tenant, &account.id, NOW)
            .await
            .unwrap()
    );
    let twice = fixture
        .store
        .delete_account(&fixture.tenant, &account.id, NOW)
        .await
        .unwrap();
    let new_session = NewAccountSession {
        account: account.id.clone(),
        components: components(),
        secret_hash: ClientSecret::generate().hash(),
        created: NOW,
        expires_at: NOW.plus(Duration::from_secs(600)),
    };
    let inserted = fixture
        .store
        .insert_account_session(&fixture.tenant, &new_session, None)
        .await
        .unwrap();

    assert!(!twice);
    assert_eq!(
        fixture.claim(secret, NOW).await,
        ClaimOutcome::Refused(ClaimRefusal::Revoked)
    );
    assert_eq!(inserted, SessionInsertOutcome::AccountMissing);
    assert_eq!(
        fixture
            .store
            .find_account(&fixture.tenant.platform, &account.id)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn pruning_deletes_only_sessions_expired_before_the_cutoff_in_batches() {
    let fixture = Fixture::new().await;
    let account = fixture.account().await;
    for _ in 0..3 {
        fixture.session(&account).await;
    }
    let cutoff = NOW.plus(Duration::from_secs(601));

    let before_expiry = fixture.store.prune_expired_sessions(NOW, 10).await.unwrap();
    let first_batch = fixture
        .store
        .prune_expired_sessions(cutoff, 2)
        .await
        .unwrap();
    let rest = fixture
        .store
        .prune_expired_sessions(cutoff, 2)
        .await
        .unwrap();

    assert_eq!((before_expiry, first_batch, rest), (0, 2, 1));
}

#[tokio::test]
async fn a_bank_account_is_refused_as_a_duplicate_under_any_known_fingerprint() {
    let fixture = Fixture::new().await;
    let account = fixture.account().await;
    let first = bank_account(&account.id, "fp-current");
    let same_under_old_key = bank_account(&account.id, "fp-rotated");

    let stored = fixture
        .attach(&first, &["fp-current"], Writer::Platform)
        .await;
    let duplicate = fixture
        .attach(
            &same_under_old_key,
            &["fp-rotated", "fp-current"],
            Writer::Platform,
        )
        .await;
    let unknown_account = fixture
        .attach(
            &bank_account(&AccountId::generate(), "fp-x"),
            &["fp-x"],
            Writer::Platform,
        )
        .await;

    let first_as_default = BankAccount {
        default_for_currency: true,
        ..first
    };
    assert_eq!(
        stored,
        BankAccountInsertOutcome::Created(first_as_default, None)
    );
    assert_eq!(duplicate, BankAccountInsertOutcome::Duplicate);
    assert_eq!(unknown_account, BankAccountInsertOutcome::AccountMissing);
}

#[tokio::test]
async fn bank_accounts_list_newest_first_and_delete_only_for_their_tenant() {
    let fixture = Fixture::new().await;
    let account = fixture.account().await;
    let older = bank_account(&account.id, "fp-1");
    let newer = bank_account(&account.id, "fp-2");
    for bank in [&older, &newer] {
        fixture
            .attach(bank, &[&bank.fingerprint], Writer::Account)
            .await;
    }
    let older = BankAccount {
        default_for_currency: true,
        ..older
    };
    let live = Tenant {
        mode: Mode::Live,
        ..fixture.tenant.clone()
    };

    let page = fixture
        .store
        .list_bank_accounts(&fixture.tenant, &account.id, &Cursor::Start, 1)
        .await
        .unwrap()
        .unwrap();
    let after = fixture
        .store
        .list_bank_accounts(
            &fixture.tenant,
            &account.id,
            &Cursor::StartingAfter(newer.id.clone()),
            1,
        )
        .await
        .unwrap()
        .unwrap();
    let other_mode = fixture
        .store
        .list_bank_accounts(&live, &account.id, &Cursor::Start, 10)
        .await
        .unwrap();
    let deleted_by_other_mode = fixture
        .store
        .delete_bank_account(
            &live,
            &account.id,
            &older.id,
            &author(Writer::Platform, Mode::Test),
        )
        .await
        .unwrap();
    let deleted = fixture
        .store
        .delete_bank_account(
            &fixture.tenant,
            &account.id,
            &older.id,
            &author(Writer::Platform, Mode::Test),
        )
        .await
        .unwrap();
    let deleted_again = fixture
        .store
        .delete_bank_account(
            &fixture.tenant,
            &account.id,
            &older.id,
            &author(Writer::Platform, Mode::Test),
        )
        .await
        .unwrap();
    let heir = fixture
        .store
        .find_account(&fixture.tenant.platform, &account.id)
        .await
        .unwrap()
        .unwrap()
        .external_accounts;

    assert_eq!((page.data, page.has_more), (vec![newer.clone()], true));
    assert_eq!((after.data, after.has_more), (vec![older.clone()], false));
    assert_eq!(other_mode, None);
    assert_eq!(deleted_by_other_mode, BankAccountChangeOutcome::NotFound);
    assert_eq!(deleted, BankAccountChangeOutcome::Done(older));
    assert_eq!(deleted_again, BankAccountChangeOutcome::NotFound);
    let newer_as_default = BankAccount {
        default_for_currency: true,
        ..newer
    };
    assert_eq!(
        heir,
        vec![newer_as_default],
        "the default's heir is the oldest other bank account in its currency"
    );
}

/// An idempotency key of the fixture's tenant in the backend's realm.
fn scope(fixture: &Fixture, key: &str) -> IdempotencyScope {
    IdempotencyScope {
        tenant: fixture.tenant.clone(),
        realm: KeyRealm::Secret,
        key: IdempotencyKey::parse(key).unwrap().unwrap(),
    }
}

fn attempt(now: Timestamp) -> Attempt {
    Attempt {
        path: "/v1/accounts".to_owned(),
        fingerprint: Fingerprint([7; 32]),
        request_id: "req_first".to_owned(),
        token: LeaseToken::generate(),
        now,
        lease_until: now.plus(Duration::from_secs(60)),
        retention_cutoff: now.minus(Duration::from_secs(24 * 60 * 60)),
    }
}

#[tokio::test]
async fn an_idempotency_key_is_taken_once_then_in_flight_then_replayed() {
    let fixture = Fixture::new().await;
    let scope = scope(&fixture, "key-1");
    let first = attempt(NOW);
    let saved = SavedResponse {
        status: 200,
        sealed_body: b"sealed".to_vec(),
    };

    let began = fixture
        .store
        .begin_idempotent(&scope, &first)
        .await
        .unwrap();
    let while_running = fixture
        .store
        .begin_idempotent(&scope, &attempt(NOW))
        .await
        .unwrap();
    fixture
        .store
        .complete_idempotent(&scope, LeaseToken::generate(), &saved)
        .await
        .unwrap();
    let after_a_stranger_saved = fixture
        .store
        .begin_idempotent(&scope, &attempt(NOW))
        .await
        .unwrap();
    fixture
        .store
        .complete_idempotent(&scope, first.token, &saved)
        .await
        .unwrap();
    let replay = fixture
        .store
        .begin_idempotent(&scope, &attempt(NOW))
        .await
        .unwrap();

    assert_eq!(began, BeginOutcome::Proceed);
    assert_eq!(while_running, BeginOutcome::InFlight);
    assert_eq!(
        after_a_stranger_saved,
        BeginOutcome::InFlight,
        "only the lease holder completes a key"
    );
    let BeginOutcome::Completed(done) = replay else {
        panic!("not completed: {replay:?}");
    };
    assert_eq!(done.path, "/v1/accounts");
    assert_eq!(done.fingerprint, Fingerprint([7; 32]));
    assert_eq!(done.original_request_id, "req_first");
    assert_eq!(done.response, saved);
}

#[tokio::test]
async fn a_write_saves_its_response_in_its_own_transaction() {
    let fixture = Fixture::new().await;
    let scope = scope(&fixture, "key-2");
    let first = attempt(NOW);
    fixture
        .store
        .begin_idempotent(&scope, &first)
        .await
        .unwrap();
    let account = new_account(&fixture.tenant);
    let save = Completion::new(scope.clone(), first.token, |stored: &Account| {
        SavedResponse {
            status: 200,
            sealed_body: stored.id.as_str().as_bytes().to_vec(),
        }
    });

    let receipt = fixture
        .store
        .insert_account(&account, None, NOW, &RequestRef::default(), Some(save))
        .await
        .unwrap()
        .1;
    let replay = fixture
        .store
        .begin_idempotent(&scope, &attempt(NOW))
        .await
        .unwrap();

    let BeginOutcome::Completed(done) = replay else {
        panic!("not completed: {replay:?}");
    };
    assert!(receipt.is_some(), "the store proves it saved the response");
    assert_eq!(done.response.sealed_body, account.id.as_str().as_bytes());
}

#[tokio::test]
async fn a_lapsed_lease_or_an_old_key_is_taken_over_and_old_keys_are_pruned() {
    let fixture = Fixture::new().await;
    let stranded = scope(&fixture, "stranded");
    let old = scope(&fixture, "old");
    fixture
        .store
        .begin_idempotent(&stranded, &attempt(NOW))
        .await
        .unwrap();
    let first = attempt(NOW);
    fixture.store.begin_idempotent(&old, &first).await.unwrap();
    fixture
        .store
        .complete_idempotent(
            &old,
            first.token,
            &SavedResponse {
                status: 400,
                sealed_body: Vec::new(),
            },
        )
        .await
        .unwrap();

    let before_lapse = fixture
        .store
        .begin_idempotent(&stranded, &attempt(NOW.plus(Duration::from_secs(59))))
        .await
        .unwrap();
    let after_lapse = fixture
        .store
        .begin_idempotent(&stranded, &attempt(NOW.plus(Duration::from_secs(60))))
        .await
        .unwrap();
    let a_day_later = NOW.plus(Duration::from_secs(24 * 60 * 60 + 1));
    let past_retention = fixture
        .store
        .begin_idempotent(&old, &attempt(a_day_later))
        .await
        .unwrap();
    let pruned = fixture
        .store
        .prune_idempotency_keys(NOW.plus(Duration::from_secs(61)), 10)
        .await
        .unwrap();

    assert_eq!(before_lapse, BeginOutcome::InFlight);
    assert_eq!(after_lapse, BeginOutcome::Proceed);
    assert_eq!(past_retention, BeginOutcome::Proceed);
    assert_eq!(pruned, 1, "only the key taken over at NOW+60 is old enough");
}

/// Migration 2 of PostgreSQL moves the business profile into the account's
/// document and turns capability statuses into requested names: an account
/// made before it reads back as it was, with nothing onboarded yet, and its
/// oldest bank account becomes the default for its currency. (SQLite's
/// migration 5 has the same test beside its store.)
#[tokio::test]
#[ignore = "needs PostgreSQL: set CONNECT_SESSIONS_TEST_DATABASE (scripts/test runs it)"]
async fn postgres_accounts_from_before_onboarding_read_back_whole() {
    use connect_sessions::domain::ids::PlatformId;
    use connect_sessions::store::postgres::{PostgresSettings, PostgresStore};
    use secrecy::SecretString;
    use sqlx_core::executor::Executor;

    let server = crate::database::postgres_server()
        .expect("this test needs PostgreSQL: set CONNECT_SESSIONS_TEST_DATABASE");
    let database = TestDatabase::create_postgres(&server).await;
    let url = SecretString::from(database.url());
    PostgresStore::migrate_up_to(&url, &PostgresSettings::default(), 1)
        .await
        .unwrap();
    let mut conn = database.connect().await;
    conn.execute(
        r#"insert into platforms values ('acct_plat1', 'p', 1);
           insert into accounts (id, platform_id, livemode, fees_payer, losses_payments,
               requirement_collection, stripe_dashboard, country, email, metadata,
               business_profile_name, business_profile_url, capabilities, created)
           values ('acct_old1', 'acct_plat1', false, 'application', 'application',
               'application', 'none', 'US', 'a@example.com', '{"k":"v"}',
               'Acme', 'https://acme.example',
               '{"card_payments":"inactive","transfers":"inactive"}', 7);
           insert into external_accounts (id, account_id, country, currency, last4,
               fingerprint, created)
           values ('ba_old1', 'acct_old1', 'US', 'usd', '6789', 'fp1', 8),
                  ('ba_old2', 'acct_old1', 'US', 'usd', '1116', 'fp2', 9);"#,
    )
    .await
    .unwrap();

    let store = database.open_store().await;
    let account = store
        .find_account(
            &PlatformId::parse("acct_plat1").unwrap(),
            &AccountId::parse("acct_old1").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();

    let profile = &account.profile.business_profile;
    assert_eq!(profile.name.as_deref(), Some("Acme"));
    assert_eq!(profile.url.as_deref(), Some("https://acme.example"));
    assert_eq!(
        account.requested_capabilities.iter().collect::<Vec<_>>(),
        ["card_payments", "transfers"]
    );
    assert_eq!(account.metadata.get("k").map(String::as_str), Some("v"));
    assert!(!account.onboarding_started);
    let defaults: Vec<(&str, bool)> = account
        .external_accounts
        .iter()
        .map(|bank| (bank.id.as_str(), bank.default_for_currency))
        .collect();
    assert_eq!(defaults, [("ba_old1", true), ("ba_old2", false)]);
}
