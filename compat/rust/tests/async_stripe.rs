//! async-stripe 1.0.0-rc.10 (`async-stripe` + `async-stripe-connect`) against a running
//! connect-sessions server.
//!
//! Environment (exported by `compat/run.sh`):
//! - `CS_API_BASE`   e.g. `http://127.0.0.1:40123`
//! - `CS_SECRET_KEY` a test-mode secret key of a platform in the server's database
//! - `CS_VERIFICATION_DELAY_SECONDS` the server's test-mode verification delay (1 under `run.sh`)
//! - `CS_WEBHOOK_POLL_INTERVAL_MS` how often the server's webhook worker polls (100 under `run.sh`)
//!
//! async-stripe deserialises `AccountSession.components` into a struct with 22 non-optional
//! component fields whose feature flags are all non-optional `bool`s: a successful parse proves
//! the server returned every component with `enabled` and its full `features` object.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use miniserde::json::Value as JsonValue;

use stripe::{AccountId, Client, ClientBuilder, StripeError, StripeRequest};
use stripe_connect::account::{
    CreateAccount, CreateAccountCapabilities, CreateAccountCapabilitiesCardPayments,
    CreateAccountCapabilitiesTransfers, CreateAccountController, CreateAccountControllerFees,
    CreateAccountControllerFeesPayer, CreateAccountControllerLosses,
    CreateAccountControllerLossesPayments, CreateAccountControllerRequirementCollection,
    CreateAccountControllerStripeDashboard, CreateAccountControllerStripeDashboardType,
    CreateAccountIndividual, CreateAccountType, DateOfBirthSpecs as AccountDateOfBirthSpecs,
    DeleteAccount, PaymentsSettingsSpecs, RetrieveAccount, TosAcceptanceSpecs, UpdateAccount,
    UpdateAccountBusinessProfile, UpdateAccountCompany, UpdateAccountCompanyAddress,
    UpdateAccountIndividual, UpdateAccountIndividualAddress, UpdateAccountSettings,
    UpdateAccountSettingsPayouts, UpdateAccountSettingsPayoutsSchedule,
    UpdateAccountSettingsPayoutsScheduleInterval, UpdateAccountSettingsPayoutsScheduleWeeklyAnchor,
};
use stripe_connect::account_session::{
    AccountConfigParam, AccountFeaturesParam, CreateAccountSession,
    CreateAccountSessionComponents, CreateAccountSessionComponentsPayments, PayoutsConfigParam,
};
use stripe_connect::external_account::{
    CreateAccountExternalAccount, DeleteExternalAccount, ListAccountExternalAccount,
    RetrieveExternalAccount, UpdateExternalAccount, UpdateExternalAccountAccountHolderType,
};
use stripe_connect::person::{
    CreateAccountPerson, CreateAccountPersonAddress, DateOfBirthSpecs as PersonDateOfBirthSpecs,
    DeletePerson, ListAccountPerson, ListAccountPersonRelationship, RelationshipSpecs,
    RetrievePerson, UpdatePerson,
};
use stripe_connect::{
    Account, AccountBusinessType, AccountCapabilitiesStatus, AccountRequirements,
    AccountRequirementsDisabledReason, AccountRequirementsErrorCode, AccountSession,
    ExternalAccount, Person,
};
use stripe_shared::{BankAccount, DeletedExternalAccount};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run these tests through compat/run.sh (it starts the server)")
    })
}

fn client_with_key(key: &str) -> Client {
    ClientBuilder::new(key).url(env("CS_API_BASE")).build().expect("client builds")
}

fn client() -> Client {
    client_with_key(&env("CS_SECRET_KEY"))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The seed's request: account_onboarding, payments, payouts and balances enabled.
fn seed_components() -> CreateAccountSessionComponents {
    let mut c = CreateAccountSessionComponents::new();
    c.account_onboarding = Some(AccountConfigParam::new(true));
    c.payments = Some(CreateAccountSessionComponentsPayments::new(true));
    c.payouts = Some(PayoutsConfigParam::new(true));
    c.balances = Some(PayoutsConfigParam::new(true));
    c
}

async fn create_typed_account(client: &Client, type_: CreateAccountType) -> Account {
    let mut metadata = HashMap::new();
    metadata.insert("suite".to_string(), "async-stripe".to_string());
    CreateAccount::new()
        .type_(type_)
        .country("US")
        .email("rust-compat@example.com")
        .metadata(metadata)
        .send(client)
        .await
        .expect("POST /v1/accounts parses as stripe_shared::Account")
}

fn assert_session_shape(session: &AccountSession, account: &Account) {
    assert_eq!(session.account, account.id.as_str());
    assert!(
        session.client_secret.starts_with("accs_secret__"),
        "client_secret prefix: {:?}",
        session.client_secret.get(..13)
    );
    assert_eq!(session.client_secret.len(), 60, "client_secret length");
    assert!(!session.livemode, "test key gives livemode=false");
    let now = now();
    assert!(session.expires_at > now, "expires_at {} must be after now {}", session.expires_at, now);
    assert!(session.expires_at <= now + 24 * 3600, "expires_at {} unreasonably far", session.expires_at);
}

fn stripe_error(err: StripeError) -> (Box<stripe::ApiErrors>, u16) {
    match err {
        StripeError::Stripe(e, status) => (e, status),
        other => panic!("expected an API error from the server, got {other:?}"),
    }
}

#[tokio::test]
async fn custom_account_session_parses_every_component() {
    let client = client();
    let account = create_typed_account(&client, CreateAccountType::Custom).await;
    assert!(account.id.as_str().starts_with("acct_"), "id {}", account.id.as_str());
    assert_eq!(account.id.as_str().len(), "acct_".len() + 16, "id {}", account.id.as_str());
    assert_eq!(account.type_.as_ref().map(|t| t.as_str()), Some("custom"));
    assert_eq!(account.email.as_deref(), Some("rust-compat@example.com"));
    assert_eq!(account.country.as_deref(), Some("US"));
    assert_eq!(
        account.metadata.as_ref().and_then(|m| m.get("suite")).map(String::as_str),
        Some("async-stripe")
    );
    let controller = account.controller.as_ref().expect("controller present");
    assert_eq!(controller.is_controller, Some(true));
    assert_eq!(controller.type_.as_str(), "application");
    assert_eq!(
        controller.losses.as_ref().map(|l| l.payments.as_str()),
        Some("application")
    );
    assert_eq!(controller.requirement_collection.as_ref().map(|r| r.as_str()), Some("application"));

    let session = CreateAccountSession::new(account.id.as_str(), seed_components())
        .send(&client)
        .await
        .expect("POST /v1/account_sessions parses as AccountSession (all 22 components)");
    assert_session_shape(&session, &account);

    let c = &session.components;
    // Requested components are enabled, the others are listed and disabled.
    assert!(c.account_onboarding.enabled);
    assert!(c.payments.enabled);
    assert!(c.payouts.enabled);
    assert!(c.balances.enabled);
    for (name, enabled) in [
        ("account_management", c.account_management.enabled),
        ("balance_report", c.balance_report.enabled),
        ("disputes_list", c.disputes_list.enabled),
        ("documents", c.documents.enabled),
        ("financial_account", c.financial_account.enabled),
        ("financial_account_transactions", c.financial_account_transactions.enabled),
        ("instant_payouts_promotion", c.instant_payouts_promotion.enabled),
        ("issuing_card", c.issuing_card.enabled),
        ("issuing_cards_list", c.issuing_cards_list.enabled),
        ("notification_banner", c.notification_banner.enabled),
        ("payment_details", c.payment_details.enabled),
        ("payment_disputes", c.payment_disputes.enabled),
        ("payment_method_settings", c.payment_method_settings.enabled),
        ("payout_details", c.payout_details.enabled),
        ("payout_reconciliation_report", c.payout_reconciliation_report.enabled),
        ("payouts_list", c.payouts_list.enabled),
        ("tax_registrations", c.tax_registrations.enabled),
        ("tax_settings", c.tax_settings.enabled),
    ] {
        assert!(!enabled, "{name} was not requested and must be disabled");
    }

    // Defaults resolved from a Custom account's controller (losses.payments = application).
    assert!(!c.balances.features.instant_payouts);
    assert!(!c.balances.features.standard_payouts);
    assert!(!c.balances.features.edit_payout_schedule);
    assert!(!c.payouts.features.instant_payouts);
    assert!(!c.instant_payouts_promotion.features.instant_payouts);
    assert!(c.payouts.features.external_account_collection);
    assert!(!c.payouts.features.disable_stripe_user_authentication);
    assert!(c.account_onboarding.features.external_account_collection);
    assert!(!c.account_onboarding.features.disable_stripe_user_authentication);
    // Payment features.
    assert!(c.payments.features.capture_payments);
    assert!(c.payments.features.refund_management);
    assert!(c.payments.features.dispute_management);
    assert!(c.payments.features.smart_disputes_management, "defaults to dispute_management");
    assert!(!c.payments.features.destination_on_behalf_of_charge_management);
    assert!(c.payment_disputes.features.smart_disputes_management);
    assert!(c.disputes_list.features.smart_disputes_management);
    // Money movement / issuing default to false.
    assert!(!c.financial_account.features.send_money);
    assert!(!c.financial_account.features.transfer_balance);
    assert!(!c.issuing_card.features.card_management);
    assert!(!c.financial_account_transactions.features.card_spend_dispute_management);
}

#[tokio::test]
async fn standard_account_gets_stripe_owned_payout_defaults() {
    let client = client();
    let account = create_typed_account(&client, CreateAccountType::Standard).await;
    assert_eq!(account.type_.as_ref().map(|t| t.as_str()), Some("standard"));

    let mut components = CreateAccountSessionComponents::new();
    components.balances = Some(PayoutsConfigParam::new(true));
    let mut payments = CreateAccountSessionComponentsPayments::new(true);
    let mut features = stripe_connect::account_session::CreateAccountSessionComponentsPaymentsFeatures::new();
    features.dispute_management = Some(false);
    features.refund_management = Some(false);
    payments.features = Some(features);
    components.payments = Some(payments);

    let session = CreateAccountSession::new(account.id.as_str(), components)
        .expand(vec!["components".to_string()])
        .send(&client)
        .await
        .expect("session for a standard account");
    assert_session_shape(&session, &account);
    let c = &session.components;
    // losses.payments = stripe for Standard accounts.
    assert!(c.balances.features.instant_payouts);
    assert!(c.balances.features.standard_payouts);
    assert!(c.balances.features.edit_payout_schedule);
    assert!(c.payouts.features.instant_payouts, "defaults apply to components not requested too");
    assert!(!c.payouts.enabled);
    // Explicit feature values are kept; smart_disputes_management follows dispute_management.
    assert!(!c.payments.features.dispute_management);
    assert!(!c.payments.features.refund_management);
    assert!(!c.payments.features.smart_disputes_management);
    assert!(c.payments.features.capture_payments);
    // Not requested: its own defaults.
    assert!(c.payment_details.features.dispute_management);
}

#[tokio::test]
async fn controller_account_disables_stripe_auth_session_wide() {
    let client = client();
    let mut controller = CreateAccountController::new();
    let mut fees = CreateAccountControllerFees::new();
    fees.payer = Some(CreateAccountControllerFeesPayer::Application);
    controller.fees = Some(fees);
    let mut losses = CreateAccountControllerLosses::new();
    losses.payments = Some(CreateAccountControllerLossesPayments::Application);
    controller.losses = Some(losses);
    controller.requirement_collection = Some(CreateAccountControllerRequirementCollection::Application);
    let mut dashboard = CreateAccountControllerStripeDashboard::new();
    dashboard.type_ = Some(CreateAccountControllerStripeDashboardType::None);
    controller.stripe_dashboard = Some(dashboard);

    let account: Account = CreateAccount::new()
        .controller(controller)
        .country("US")
        .send(&client)
        .await
        .expect("controller-form account");
    let ctl = account.controller.as_ref().expect("controller");
    assert_eq!(ctl.requirement_collection.as_ref().map(|r| r.as_str()), Some("application"));
    assert_eq!(
        ctl.stripe_dashboard.as_ref().map(|d| d.type_.as_str()),
        Some("none")
    );

    let mut components = CreateAccountSessionComponents::new();
    let mut mgmt = AccountConfigParam::new(true);
    let mut f = AccountFeaturesParam::new();
    f.disable_stripe_user_authentication = Some(true);
    mgmt.features = Some(f);
    components.account_management = Some(mgmt);
    components.payouts = Some(PayoutsConfigParam::new(true));

    let session = CreateAccountSession::new(account.id.as_str(), components)
        .send(&client)
        .await
        .expect("disable_stripe_user_authentication=true is allowed for requirement_collection=application");
    assert_session_shape(&session, &account);
    let c = &session.components;
    // Session-wide: the explicit value applies to every component that has the feature.
    for (name, v) in [
        ("account_management", c.account_management.features.disable_stripe_user_authentication),
        ("account_onboarding", c.account_onboarding.features.disable_stripe_user_authentication),
        ("notification_banner", c.notification_banner.features.disable_stripe_user_authentication),
        ("payouts", c.payouts.features.disable_stripe_user_authentication),
        ("balances", c.balances.features.disable_stripe_user_authentication),
        ("financial_account", c.financial_account.features.disable_stripe_user_authentication),
        ("issuing_cards_list", c.issuing_cards_list.features.disable_stripe_user_authentication),
        ("instant_payouts_promotion", c.instant_payouts_promotion.features.disable_stripe_user_authentication),
        ("payment_method_settings", c.payment_method_settings.features.disable_stripe_user_authentication),
    ] {
        assert!(v, "{name}.features.disable_stripe_user_authentication must be true session-wide");
    }
    assert!(c.account_management.features.external_account_collection);
}

#[tokio::test]
async fn retrieve_delete_then_session_is_no_such_account() {
    let client = client();
    let account = create_typed_account(&client, CreateAccountType::Express).await;
    let fetched = RetrieveAccount::new(account.id.clone()).send(&client).await.expect("retrieve");
    assert_eq!(fetched.id, account.id);
    assert_eq!(fetched.type_.as_ref().map(|t| t.as_str()), Some("express"));

    let deleted = DeleteAccount::new(account.id.clone()).send(&client).await.expect("delete");
    assert_eq!(deleted.id, account.id);

    let err = CreateAccountSession::new(account.id.as_str(), seed_components())
        .send(&client)
        .await
        .expect_err("a deleted account cannot get a session");
    let (e, status) = stripe_error(err);
    assert_eq!(status, 400);
    assert_eq!(e.type_.as_str(), "invalid_request_error");
    assert_eq!(e.code.as_ref().map(|c| c.as_str()), Some("resource_missing"));
    assert_eq!(e.param.as_deref(), Some("account"));
    assert_eq!(e.message.as_deref(), Some(format!("No such account: '{}'", account.id.as_str()).as_str()));
}

#[tokio::test]
async fn unknown_account_is_resource_missing() {
    let client = client();
    let err = CreateAccountSession::new("acct_1NkDjjJyhOZfPCWt", seed_components())
        .send(&client)
        .await
        .expect_err("unknown account");
    let (e, status) = stripe_error(err);
    assert_eq!(status, 400);
    assert_eq!(e.code.as_ref().map(|c| c.as_str()), Some("resource_missing"));
    assert_eq!(e.param.as_deref(), Some("account"));
    assert_eq!(e.message.as_deref(), Some("No such account: 'acct_1NkDjjJyhOZfPCWt'"));
    assert_eq!(
        e.doc_url.as_deref(),
        Some("https://stripe.com/docs/error-codes/resource-missing")
    );
}

#[tokio::test]
async fn invalid_key_is_401() {
    let client = client_with_key("sk_test_thisKeyDoesNotExistAnywhere0000000000001234");
    let err = CreateAccountSession::new("acct_1NkDjjJyhOZfPCWt", seed_components())
        .send(&client)
        .await
        .expect_err("invalid key");
    let (e, status) = stripe_error(err);
    assert_eq!(status, 401);
    assert_eq!(e.type_.as_str(), "invalid_request_error");
    let msg = e.message.unwrap_or_default();
    assert!(msg.starts_with("Invalid API Key provided: sk_test_"), "message: {msg}");
    assert!(msg.ends_with("1234"), "mask keeps the last characters: {msg}");
    assert!(!msg.contains("thisKeyDoesNotExist"), "the key must be masked: {msg}");
}

// ---------------------------------------------------------------------------------------------
// Onboarding: identity, persons, bank accounts and the requirements derived from them
// ---------------------------------------------------------------------------------------------
//
// Stripe's test values (the "Testing Connect" documentation): DOB 1902-01-01 and ID number
// 222222222 verify at once, DOB 1901-01-01, SSN last 4 `0000` and address line1
// `address_full_match` after the server's verification delay (`run.sh` starts it with 1 s),
// DOB 1990-01-01 fails; `btok_us_verified` and routing 110000000 with account 000123456789 are
// STRIPE TEST BANK. async-stripe takes an account's `external_account` as a token only, so
// these tests attach bank accounts with `btok_us_verified`.

const TOS_DATE: i64 = 1_780_272_000;
const KEYED_IDENTITY_REASON: &str = "The identity information you entered cannot be verified. Please correct any errors or upload a document that matches the identity fields (e.g., name and date of birth) that you entered.";

fn verification_delay() -> Duration {
    let seconds = std::env::var("CS_VERIFICATION_DELAY_SECONDS").map_or(5.0, |s| {
        s.parse::<f64>().expect("CS_VERIFICATION_DELAY_SECONDS is a number")
    });
    Duration::from_secs_f64(seconds)
}

/// A Custom US account requesting card payments and transfers.
async fn custom_us_account(client: &Client) -> Account {
    let mut card_payments = CreateAccountCapabilitiesCardPayments::new();
    card_payments.requested = Some(true);
    let mut transfers = CreateAccountCapabilitiesTransfers::new();
    transfers.requested = Some(true);
    let mut capabilities = CreateAccountCapabilities::new();
    capabilities.card_payments = Some(card_payments);
    capabilities.transfers = Some(transfers);
    CreateAccount::new()
        .type_(CreateAccountType::Custom)
        .country("US")
        .capabilities(capabilities)
        .send(client)
        .await
        .expect("POST /v1/accounts parses as Account")
}

/// What every US account needs besides its identity, with a bank account from a test token.
fn with_business_details(update: UpdateAccount) -> UpdateAccount {
    let mut profile = UpdateAccountBusinessProfile::new();
    profile.mcc = Some("5734".into());
    profile.url = Some("https://accessible.stripe.com".into());
    profile.product_description = Some("Rides to the moon".into());
    profile.support_email = Some("support@example.com".into());
    profile.support_phone = Some("0000000000".into());
    profile.support_url = Some("https://accessible.stripe.com/support".into());
    let mut schedule = UpdateAccountSettingsPayoutsSchedule::new();
    schedule.interval = Some(UpdateAccountSettingsPayoutsScheduleInterval::Weekly);
    schedule.weekly_anchor = Some(UpdateAccountSettingsPayoutsScheduleWeeklyAnchor::Friday);
    let mut payouts = UpdateAccountSettingsPayouts::new();
    payouts.schedule = Some(schedule);
    let mut payments = PaymentsSettingsSpecs::new();
    payments.statement_descriptor = Some("ROCKET RIDES".into());
    let mut settings = UpdateAccountSettings::new();
    settings.payments = Some(payments);
    settings.payouts = Some(payouts);
    let mut tos = TosAcceptanceSpecs::new();
    tos.date = Some(TOS_DATE);
    tos.ip = Some("8.8.8.8".into());
    update
        .business_profile(profile)
        .settings(settings)
        .tos_acceptance(tos)
        .external_account("btok_us_verified")
}

/// An individual that verifies at once but for the address, which the server checks later.
fn individual(dob_year: i64) -> UpdateAccountIndividual {
    let mut address = UpdateAccountIndividualAddress::new();
    address.line1 = Some("address_full_match".into());
    address.city = Some("Schenectady".into());
    address.state = Some("NY".into());
    address.postal_code = Some("12345".into());
    let mut individual = UpdateAccountIndividual::new();
    individual.first_name = Some("Jenny".into());
    individual.last_name = Some("Rosen".into());
    individual.email = Some("jenny@example.com".into());
    individual.phone = Some("0000000000".into());
    individual.dob = Some(AccountDateOfBirthSpecs::new(1, 1, dob_year));
    individual.address = Some(address);
    individual.id_number = Some("222222222".into());
    individual
}

/// A person whose identity verifies after the delay, in the given roles.
fn person(
    account: &AccountId,
    first_name: &str,
    relationship: RelationshipSpecs,
) -> CreateAccountPerson {
    let mut address = CreateAccountPersonAddress::new();
    address.line1 = Some("address_full_match".into());
    address.city = Some("Schenectady".into());
    address.state = Some("NY".into());
    address.postal_code = Some("12345".into());
    CreateAccountPerson::new(account.clone())
        .first_name(first_name)
        .last_name("Roe")
        .email("jane@example.com")
        .phone("0000000000")
        .dob(PersonDateOfBirthSpecs::new(1, 1, 1901))
        .address(address)
        .ssn_last_4("0000")
        .relationship(relationship)
}

async fn retrieve(client: &Client, id: &AccountId) -> Account {
    RetrieveAccount::new(id.clone())
        .send(client)
        .await
        .expect("GET /v1/accounts/{id} parses as Account")
}

/// Retrieves the account until `done`, for at most a few verification delays.
async fn eventually(
    client: &Client,
    id: &AccountId,
    done: impl Fn(&Account) -> bool,
    what: &str,
) -> Account {
    let deadline = Instant::now() + verification_delay() * 5 + Duration::from_secs(2);
    loop {
        let account = retrieve(client, id).await;
        if done(&account) {
            return account;
        }
        assert!(Instant::now() < deadline, "{what} did not happen: {account:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn requirements(account: &Account) -> &AccountRequirements {
    account.requirements.as_ref().expect("requirements present")
}

fn strings(list: &Option<Vec<String>>) -> Vec<&str> {
    list.as_deref().expect("a list").iter().map(String::as_str).collect()
}

/// A capability's status, as async-stripe's enum (a value it does not know would be `Unknown`).
fn capability(account: &Account, name: &str) -> Option<AccountCapabilitiesStatus> {
    let capabilities = account.capabilities.as_ref().expect("capabilities present");
    match name {
        "card_payments" => capabilities.card_payments.clone(),
        "transfers" => capabilities.transfers.clone(),
        other => panic!("no such capability in this test: {other}"),
    }
}

fn assert_nothing_due(r: &AccountRequirements) {
    for (name, list) in [
        ("currently_due", &r.currently_due),
        ("eventually_due", &r.eventually_due),
        ("past_due", &r.past_due),
        ("pending_verification", &r.pending_verification),
    ] {
        assert_eq!(strings(list), Vec::<&str>::new(), "requirements.{name}");
    }
    assert_eq!(r.errors.as_ref().map(Vec::len), Some(0), "requirements.errors");
    assert_eq!(r.alternatives.as_ref().map(Vec::len), Some(0), "requirements.alternatives");
    assert_eq!(r.current_deadline, None);
    assert!(r.disabled_reason.is_none(), "disabled_reason {:?}", r.disabled_reason);
}

fn bank_account(external: &ExternalAccount) -> &BankAccount {
    match external {
        ExternalAccount::BankAccount(bank) => bank,
        other => panic!("expected a bank account, got {other:?}"),
    }
}

/// Sends a request built by async-stripe's typed builder through async-stripe's client, and
/// returns the response as a generic JSON value: every field the server sent, not only those of
/// the typed model.
async fn raw_response<R: StripeRequest>(client: &Client, request: &R) -> JsonValue {
    request.build().customize().send(client).await.expect("the request succeeds")
}

/// The same, written back to JSON text.
async fn raw_body<R: StripeRequest>(client: &Client, request: &R) -> String {
    miniserde::json::to_string(&raw_response(client, request).await)
}

#[tokio::test]
async fn custom_individual_is_onboarded_to_charges_enabled_in_one_update() {
    let client = client();
    let account = custom_us_account(&client).await;
    let fresh = requirements(&account);
    let due = strings(&fresh.currently_due);
    let expected = ["business_type", "external_account", "tos_acceptance.date", "business_profile.mcc"];
    for field in expected {
        assert!(due.contains(&field), "{field} not in {due:?}");
    }
    assert_eq!(strings(&fresh.past_due), due);
    assert_eq!(fresh.disabled_reason, Some(AccountRequirementsDisabledReason::RequirementsPastDue));
    assert_eq!(fresh.current_deadline, None);
    let alternative = &fresh.alternatives.as_ref().expect("alternatives")[0];
    assert_eq!(alternative.original_fields_due, ["business_profile.url"]);
    assert_eq!(alternative.alternative_fields_due, ["business_profile.product_description"]);
    let future = account.future_requirements.as_ref().expect("future_requirements present");
    assert_eq!(strings(&future.currently_due), Vec::<&str>::new());
    assert_eq!(capability(&account, "card_payments"), Some(AccountCapabilitiesStatus::Inactive));
    assert_eq!(
        (account.charges_enabled, account.payouts_enabled, account.details_submitted),
        (Some(false), Some(false), Some(false))
    );
    assert!(account.business_type.is_none());

    let submitted = with_business_details(UpdateAccount::new(account.id.clone()))
        .business_type(AccountBusinessType::Individual)
        .individual(individual(1902))
        .send(&client)
        .await
        .expect("POST /v1/accounts/{id} parses as Account");
    let r = requirements(&submitted);
    assert_eq!(strings(&r.currently_due), Vec::<&str>::new());
    assert_eq!(r.errors.as_ref().map(Vec::len), Some(0));
    let mut pending = strings(&r.pending_verification);
    pending.sort_unstable();
    assert_eq!(
        pending,
        [
            "individual.address.city",
            "individual.address.line1",
            "individual.address.postal_code",
            "individual.address.state",
        ]
    );
    assert_eq!(
        r.disabled_reason,
        Some(AccountRequirementsDisabledReason::RequirementsPendingVerification)
    );
    assert_eq!(capability(&submitted, "card_payments"), Some(AccountCapabilitiesStatus::Pending));
    assert_eq!(submitted.details_submitted, Some(true));
    assert_eq!(submitted.charges_enabled, Some(false));

    let onboarded = eventually(
        &client,
        &account.id,
        |a| capability(a, "card_payments") == Some(AccountCapabilitiesStatus::Active),
        "card_payments active",
    )
    .await;
    assert_nothing_due(requirements(&onboarded));
    let future = onboarded.future_requirements.as_ref().expect("future_requirements present");
    assert_eq!(strings(&future.currently_due), Vec::<&str>::new());
    assert_eq!(future.errors.as_ref().map(Vec::len), Some(0));
    assert_eq!(capability(&onboarded, "card_payments"), Some(AccountCapabilitiesStatus::Active));
    assert_eq!(capability(&onboarded, "transfers"), Some(AccountCapabilitiesStatus::Active));
    assert_eq!(onboarded.charges_enabled, Some(true));
    assert_eq!(onboarded.payouts_enabled, Some(true));
    assert_eq!(onboarded.details_submitted, Some(true));
    assert_eq!(onboarded.business_type, Some(AccountBusinessType::Individual));

    let person = onboarded.individual.as_ref().expect("individual present");
    assert!(person.id.as_str().starts_with("person_"), "id {}", person.id.as_str());
    assert_eq!(person.account.as_deref(), Some(account.id.as_str()));
    assert_eq!(person.verification.as_ref().map(|v| v.status.as_str()), Some("verified"));
    assert_eq!(person.id_number_provided, Some(true));
    assert_eq!(person.first_name.as_deref(), Some("Jenny"));
    let dob = person.dob.as_ref().expect("dob");
    assert_eq!((dob.day, dob.month, dob.year), (Some(1), Some(1), Some(1902)));
    assert_eq!(
        person.address.as_ref().and_then(|a| a.line1.as_deref()),
        Some("address_full_match")
    );
    assert_eq!(person.relationship.as_ref().and_then(|r| r.representative), Some(true));
    assert_eq!(person.requirements.as_ref().map(|r| r.currently_due.len()), Some(0));

    // async-stripe's List has no `total_count`; the page itself is read.
    let banks = onboarded.external_accounts.as_ref().expect("external_accounts present");
    assert_eq!(banks.data.len(), 1);
    let bank = bank_account(&banks.data[0]);
    assert_eq!(bank.bank_name.as_deref(), Some("STRIPE TEST BANK"));
    assert_eq!(bank.last4, "6789");
    assert_eq!(bank.routing_number.as_deref(), Some("110000000"));
    assert_eq!(bank.default_for_currency, Some(true));
    assert_eq!(bank.currency.to_string(), "usd");

    let tos = onboarded.tos_acceptance.as_ref().expect("tos_acceptance present");
    assert_eq!(tos.date, Some(TOS_DATE));
    assert_eq!(tos.ip.as_deref(), Some("8.8.8.8"));
    let settings = onboarded.settings.as_ref().expect("settings present");
    let schedule = &settings.payouts.as_ref().expect("settings.payouts").schedule;
    assert_eq!(schedule.interval, "weekly");
    assert_eq!(schedule.weekly_anchor.as_deref(), Some("friday"));
    assert_eq!(settings.payments.statement_descriptor.as_deref(), Some("ROCKET RIDES"));
    let profile = onboarded.business_profile.as_ref().expect("business_profile present");
    assert_eq!(profile.mcc.as_deref(), Some("5734"));
    assert_eq!(profile.product_description.as_deref(), Some("Rides to the moon"));
    assert_eq!(profile.support_email.as_deref(), Some("support@example.com"));
    assert_eq!(profile.support_phone.as_deref(), Some("0000000000"));
    assert_eq!(profile.support_url.as_deref(), Some("https://accessible.stripe.com/support"));
}

#[tokio::test]
async fn company_is_onboarded_through_the_persons_api() {
    let client = client();
    let account = custom_us_account(&client).await;
    let id = account.id.clone();
    let mut address = UpdateAccountCompanyAddress::new();
    address.line1 = Some("address_full_match".into());
    address.city = Some("Schenectady".into());
    address.state = Some("NY".into());
    address.postal_code = Some("12345".into());
    let mut company = UpdateAccountCompany::new();
    company.name = Some("Rocket Rides".into());
    company.phone = Some("0000000000".into());
    company.tax_id = Some("000000000".into());
    company.address = Some(address);
    let with_company = with_business_details(UpdateAccount::new(id.clone()))
        .business_type(AccountBusinessType::Company)
        .company(company)
        .send(&client)
        .await
        .expect("company details");
    let due = strings(&requirements(&with_company).currently_due);
    let expected = ["company.owners_provided", "owners.first_name", "representative.relationship.title"];
    for field in expected {
        assert!(due.contains(&field), "{field} not in {due:?}");
    }

    let mut roles = RelationshipSpecs::new();
    roles.representative = Some(true);
    roles.executive = Some(true);
    roles.title = Some("CEO".into());
    let representative: Person = person(&id, "Jane", roles)
        .send(&client)
        .await
        .expect("POST /v1/accounts/{id}/persons parses as Person");
    assert!(representative.id.as_str().starts_with("person_"), "id {}", representative.id.as_str());
    assert_eq!(representative.account.as_deref(), Some(id.as_str()));
    let relationship = representative.relationship.as_ref().expect("relationship");
    assert_eq!(relationship.representative, Some(true));
    assert_eq!(relationship.executive, Some(true));
    assert_eq!(relationship.title.as_deref(), Some("CEO"));
    assert_eq!(representative.ssn_last_4_provided, Some(true));
    assert_eq!(representative.requirements.as_ref().map(|r| r.currently_due.len()), Some(0));
    assert_eq!(
        representative.verification.as_ref().map(|v| v.status.as_str()),
        Some("pending")
    );
    let mut roles = RelationshipSpecs::new();
    roles.owner = Some(true);
    roles.percent_ownership = Some(100.0);
    let owner = person(&id, "Owen", roles).send(&client).await.expect("the owner");
    let relationship = owner.relationship.as_ref().expect("relationship");
    assert_eq!(relationship.owner, Some(true));
    assert_eq!(relationship.percent_ownership, Some(100.0));

    let onboarded = eventually(
        &client,
        &id,
        |a| strings(&requirements(a).pending_verification).is_empty(),
        "the persons and the company verified",
    )
    .await;
    assert_nothing_due(requirements(&onboarded));
    assert_eq!(capability(&onboarded, "card_payments"), Some(AccountCapabilitiesStatus::Active));
    assert_eq!(
        (onboarded.charges_enabled, onboarded.payouts_enabled, onboarded.details_submitted),
        (Some(true), Some(true), Some(true))
    );
    assert_eq!(onboarded.business_type, Some(AccountBusinessType::Company));
    let company = onboarded.company.as_ref().expect("company present");
    assert_eq!(company.name.as_deref(), Some("Rocket Rides"));
    assert_eq!(company.tax_id_provided, Some(true));

    let listed = ListAccountPerson::new(id.clone()).send(&client).await.expect("persons list");
    assert_eq!(listed.url, format!("/v1/accounts/{}/persons", id.as_str()));
    let ids: Vec<&str> = listed.data.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [owner.id.as_str(), representative.id.as_str()], "newest first");
    for p in &listed.data {
        assert_eq!(p.verification.as_ref().map(|v| v.status.as_str()), Some("verified"));
    }
    let mut only_owners = ListAccountPersonRelationship::new();
    only_owners.owner = Some(true);
    let owners = ListAccountPerson::new(id.clone())
        .relationship(only_owners)
        .send(&client)
        .await
        .expect("persons list by relationship");
    assert_eq!(owners.data.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [owner.id.as_str()]);
    let got = RetrievePerson::new(id.clone(), representative.id.as_str())
        .send(&client)
        .await
        .expect("GET a person");
    assert_eq!(got.relationship.as_ref().and_then(|r| r.title.as_deref()), Some("CEO"));
    let mut title = RelationshipSpecs::new();
    title.title = Some("Founder".into());
    let renamed = UpdatePerson::new(id.clone(), owner.id.as_str())
        .relationship(title)
        .send(&client)
        .await
        .expect("POST a person");
    assert_eq!(renamed.relationship.as_ref().and_then(|r| r.title.as_deref()), Some("Founder"));

    let err = DeletePerson::new(id.clone(), representative.id.as_str())
        .send(&client)
        .await
        .expect_err("the representative cannot be deleted");
    let (e, status) = stripe_error(err);
    assert_eq!(status, 400);
    assert_eq!(e.param.as_deref(), Some("person"));
    // DeletedPerson parses only with `deleted: true`.
    let deleted = DeletePerson::new(id.clone(), owner.id.as_str())
        .send(&client)
        .await
        .expect("DELETE a person parses as DeletedPerson");
    assert_eq!(deleted.id, owner.id);
    let remaining = ListAccountPerson::new(id.clone()).send(&client).await.expect("persons list");
    assert_eq!(
        remaining.data.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        [representative.id.as_str()]
    );
}

#[tokio::test]
async fn a_failing_test_value_is_a_typed_requirements_error() {
    let client = client();
    let account = custom_us_account(&client).await;
    let failed = with_business_details(UpdateAccount::new(account.id.clone()))
        .business_type(AccountBusinessType::Individual)
        .individual(individual(1990))
        .send(&client)
        .await
        .expect("a failing value is accepted");
    let r = requirements(&failed);
    let error = &r.errors.as_ref().expect("errors")[0];
    assert_eq!(error.code, AccountRequirementsErrorCode::VerificationFailedKeyedIdentity);
    assert_eq!(error.requirement, "individual.dob.day");
    assert_eq!(error.reason, KEYED_IDENTITY_REASON);
    assert_eq!(
        strings(&r.currently_due),
        ["individual.dob.day", "individual.dob.month", "individual.dob.year"]
    );
    assert_eq!(capability(&failed, "card_payments"), Some(AccountCapabilitiesStatus::Inactive));
    let person = failed.individual.as_ref().expect("individual");
    assert_eq!(person.verification.as_ref().map(|v| v.status.as_str()), Some("unverified"));

    let mut dob = UpdateAccountIndividual::new();
    dob.dob = Some(AccountDateOfBirthSpecs::new(1, 1, 1902));
    let corrected = UpdateAccount::new(account.id.clone())
        .individual(dob)
        .send(&client)
        .await
        .expect("the corrected date of birth");
    let r = requirements(&corrected);
    assert_eq!(r.errors.as_ref().map(Vec::len), Some(0));
    assert_eq!(strings(&r.currently_due), Vec::<&str>::new());
}

#[tokio::test]
async fn platform_bank_accounts_through_the_external_account_requests() {
    let client = client();
    let account = create_typed_account(&client, CreateAccountType::Custom).await;
    let id = account.id.clone();

    let created = CreateAccountExternalAccount::new(id.clone(), "btok_us_verified")
        .send(&client)
        .await
        .expect("POST external_accounts parses as ExternalAccount");
    let bank = bank_account(&created);
    assert!(bank.id.as_str().starts_with("ba_"), "id {}", bank.id.as_str());
    assert_eq!(bank.account.as_ref().map(|a| a.id().as_str()), Some(id.as_str()));
    assert_eq!(bank.bank_name.as_deref(), Some("STRIPE TEST BANK"));
    assert_eq!(bank.last4, "6789");
    assert_eq!(bank.routing_number.as_deref(), Some("110000000"));
    assert_eq!(bank.default_for_currency, Some(true));
    assert_eq!((bank.country.as_str(), bank.currency.to_string().as_str()), ("US", "usd"));

    let got = RetrieveExternalAccount::new(id.clone(), bank.id.as_str())
        .send(&client)
        .await
        .expect("GET an external account");
    assert_eq!(bank_account(&got).id, bank.id);
    let updated = UpdateExternalAccount::new(id.clone(), bank.id.as_str())
        .account_holder_name("Rocket Rides")
        .account_holder_type(UpdateExternalAccountAccountHolderType::Company)
        .send(&client)
        .await
        .expect("POST an external account");
    let renamed = bank_account(&updated);
    assert_eq!(renamed.account_holder_name.as_deref(), Some("Rocket Rides"));
    assert_eq!(renamed.account_holder_type.as_deref(), Some("company"));
    let listed = ListAccountExternalAccount::new(id.clone())
        .send(&client)
        .await
        .expect("GET external accounts");
    let ids: Vec<&str> = listed.data.iter().map(|b| bank_account(b).id.as_str()).collect();
    assert_eq!(ids, [bank.id.as_str()]);

    // DeletedBankAccount parses only with `deleted: true`.
    let deleted = DeleteExternalAccount::new(id.clone(), bank.id.as_str())
        .send(&client)
        .await
        .expect("DELETE an external account parses as DeletedExternalAccount");
    match deleted {
        DeletedExternalAccount::DeletedBankAccount(d) => assert_eq!(d.id, bank.id),
        other => panic!("expected a deleted bank account, got {other:?}"),
    }
    let remaining = retrieve(&client, &id).await;
    assert_eq!(remaining.external_accounts.as_ref().map(|l| l.data.len()), Some(0));
}

#[tokio::test]
async fn id_numbers_and_ssns_never_appear_in_a_response() {
    let client = client();
    // The full number, the last four as a value, and either as a field of its own.
    let secrets = ["123456789", "\"4321\"", "\"id_number\":", "\"ssn_last_4\":"];
    let assert_clean = |body: &str| {
        for secret in secrets {
            assert!(!body.contains(secret), "{secret} answered in {body}");
        }
    };
    let mut identity = CreateAccountIndividual::new();
    identity.first_name = Some("Jenny".into());
    identity.id_number = Some("123456789".into());
    identity.ssn_last_4 = Some("4321".into());
    let create = CreateAccount::new()
        .type_(CreateAccountType::Custom)
        .country("US")
        .business_type(AccountBusinessType::Individual)
        .individual(identity);
    let created = raw_response(&client, &create).await;
    assert_clean(&miniserde::json::to_string(&created));
    let id = match &created {
        JsonValue::Object(object) => match object.get("id") {
            Some(JsonValue::String(id)) => AccountId::from(id.as_str()),
            other => panic!("an account id, not {other:?}"),
        },
        other => panic!("an account, not {other:?}"),
    };
    let mut number = UpdateAccountIndividual::new();
    number.id_number = Some("123456789".into());
    assert_clean(&raw_body(&client, &UpdateAccount::new(id.clone()).individual(number)).await);
    assert_clean(&raw_body(&client, &RetrieveAccount::new(id.clone())).await);
    let typed = retrieve(&client, &id).await;
    let individual = typed.individual.as_ref().expect("individual");
    assert_eq!(individual.id_number_provided, Some(true));
    assert_eq!(individual.ssn_last_4_provided, Some(true));

    let company = CreateAccount::new()
        .type_(CreateAccountType::Custom)
        .business_type(AccountBusinessType::Company)
        .send(&client)
        .await
        .expect("a company");
    let mut owner = RelationshipSpecs::new();
    owner.owner = Some(true);
    let create_person = CreateAccountPerson::new(company.id.clone())
        .first_name("Jane")
        .id_number("123456789")
        .ssn_last_4("4321")
        .relationship(owner);
    assert_clean(&raw_body(&client, &create_person).await);
    let persons = ListAccountPerson::new(company.id.clone()).send(&client).await.expect("persons");
    let person = &persons.data[0];
    assert_eq!(person.id_number_provided, Some(true));
    assert_eq!(person.ssn_last_4_provided, Some(true));
    let update_person = UpdatePerson::new(company.id.clone(), person.id.as_str())
        .id_number("123456789")
        .ssn_last_4("4321");
    assert_clean(&raw_body(&client, &update_person).await);
    let retrieve_person = RetrievePerson::new(company.id.clone(), person.id.as_str());
    assert_clean(&raw_body(&client, &retrieve_person).await);
    assert_clean(&raw_body(&client, &ListAccountPerson::new(company.id.clone())).await);
}

#[tokio::test]
async fn the_platform_cannot_write_an_express_accounts_identity_once_onboarding_started() {
    let client = client();
    let mut prefill = CreateAccountIndividual::new();
    prefill.first_name = Some("Jenny".into());
    let account = CreateAccount::new()
        .type_(CreateAccountType::Express)
        .country("US")
        .business_type(AccountBusinessType::Individual)
        .individual(prefill)
        .send(&client)
        .await
        .expect("an Express account prefilled by the platform");
    let mut components = CreateAccountSessionComponents::new();
    components.account_onboarding = Some(AccountConfigParam::new(true));
    CreateAccountSession::new(account.id.as_str(), components)
        .send(&client)
        .await
        .expect("an onboarding session");

    let mut identity = UpdateAccountIndividual::new();
    identity.last_name = Some("Roe".into());
    let err = UpdateAccount::new(account.id.clone())
        .individual(identity)
        .send(&client)
        .await
        .expect_err("Stripe collects this account's identity now");
    let (e, status) = stripe_error(err);
    assert_eq!(status, 403);
    assert_eq!(e.type_.as_str(), "invalid_request_error");
    assert_eq!(e.code.as_ref().map(|c| c.as_str()), Some("oauth_not_supported"));
    assert_eq!(e.param.as_deref(), Some("individual"));
    assert_eq!(
        e.message.as_deref(),
        Some(
            format!(
                "This application does not have the required permissions for the parameter 'individual' on account '{}'.",
                account.id.as_str()
            )
            .as_str()
        )
    );
    let stored = retrieve(&client, &account.id).await;
    assert_eq!(
        stored.individual.as_ref().and_then(|p| p.last_name.as_deref()),
        None,
        "nothing refused was written"
    );
}

// ---------------------------------------------------------------------------------------------
// Events and signed webhooks: async-stripe-webhook's own helper verifies every delivery
// ---------------------------------------------------------------------------------------------
//
// A receiver on a loopback port of this process (std's TcpListener, a thread per connection,
// HTTP/1.1 with keep-alive) keeps every POST's raw body and headers and answers 200. Every
// delivery goes through `stripe_webhook::Webhook::construct_event(&body, &sig, &secret)`
// unchanged, which also parses `data.object` into its typed `EventObject` variant. `run.sh`
// starts the server with `--webhook-poll-interval 100ms`, so a due delivery arrives within a
// fraction of a second.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use stripe::{IdempotencyKey, RequestStrategy};
use stripe_core::event::{ListEvent, RetrieveEvent};
use stripe_misc::webhook_endpoint::{
    CreateWebhookEndpoint, CreateWebhookEndpointEnabledEvents, DeleteWebhookEndpoint,
    ListWebhookEndpoint, RetrieveWebhookEndpoint, UpdateWebhookEndpoint,
};
use stripe_shared::CapabilityStatus;
use stripe_webhook::{AccountExternalAccountCreated, Event, EventObject, EventType, Webhook, WebhookError};

const WEBHOOK_PATH: &str = "/stripe/webhooks";
const WEBHOOK_USER_AGENT: &str = "Stripe/1.0 (+https://stripe.com/docs/webhooks)";

/// One POST the receiver got: the raw body, exactly as received, and the headers
/// (lower-case names).
#[derive(Debug, Clone)]
struct Delivery {
    body: String,
    headers: Vec<(String, String)>,
}

impl Delivery {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    fn signature(&self) -> &str {
        self.header("stripe-signature")
    }
}

#[derive(Debug, Default)]
struct Inbox {
    deliveries: Vec<Delivery>,
    /// Anything the receiver could not read as an HTTP/1.1 POST with a body.
    problems: Vec<String>,
}

struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}{WEBHOOK_PATH}", listener.local_addr().unwrap());
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let shared = Arc::clone(&inbox);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let inbox = Arc::clone(&shared);
                std::thread::spawn(move || {
                    if let Err(problem) = serve_connection(stream, &inbox) {
                        inbox.lock().unwrap().problems.push(problem);
                    }
                });
            }
        });
        Self { url, inbox }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        let inbox = self.inbox.lock().unwrap();
        assert!(inbox.problems.is_empty(), "the receiver could not read: {:?}", inbox.problems);
        inbox.deliveries.clone()
    }

    /// Waits until the verified events of `account` satisfy `done`; returns them with their
    /// deliveries. Every delivery, for any account, must pass the SDK's check.
    async fn wait_for(
        &self,
        secret: &str,
        account: &AccountId,
        done: impl Fn(&[Event]) -> bool,
        what: &str,
    ) -> Vec<(Event, Delivery)> {
        let wait = verification_delay() * 10 + Duration::from_secs(10);
        let deadline = Instant::now() + wait;
        loop {
            let ours: Vec<(Event, Delivery)> = self
                .deliveries()
                .into_iter()
                .map(|d| (verified(&d, secret), d))
                .filter(|(e, _)| e.account.as_deref() == Some(account.as_str()))
                .collect();
            let events: Vec<Event> = ours.iter().map(|(e, _)| e.clone()).collect();
            if done(&events) {
                return ours;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not delivered within {wait:?}; got {:?}",
                events.iter().map(|e| e.type_.as_str().to_owned()).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Reads POSTs from one connection until the server closes it, answering each with 200.
fn serve_connection(stream: TcpStream, inbox: &Mutex<Inbox>) -> Result<(), String> {
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).map_err(|e| e.to_string())? == 0 {
            return Ok(());
        }
        let expected = format!("POST {WEBHOOK_PATH} HTTP/1.1\r\n");
        if request_line != expected {
            return Err(format!("request line {request_line:?}"));
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).map_err(|e| e.to_string())?;
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or(format!("header line {line:?}"))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .ok_or(format!("no content-length in {headers:?}"))?
            .1
            .parse()
            .map_err(|e| format!("content-length: {e}"))?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body).map_err(|e| e.to_string())?;
        let body = String::from_utf8(body).map_err(|e| format!("a body that is not UTF-8: {e}"))?;
        inbox.lock().unwrap().deliveries.push(Delivery { body, headers });
        writer
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .map_err(|e| e.to_string())?;
    }
}

/// The delivery through async-stripe-webhook's helper, unchanged.
fn verified(delivery: &Delivery, secret: &str) -> Event {
    assert_eq!(delivery.header("content-type"), "application/json; charset=utf-8");
    assert_eq!(delivery.header("user-agent"), WEBHOOK_USER_AGENT);
    Webhook::construct_event(&delivery.body, delivery.signature(), secret).unwrap_or_else(|e| {
        panic!(
            "Webhook::construct_event refused a delivery: {e:?}\nStripe-Signature: {}\nbody: {}",
            delivery.signature(),
            delivery.body
        )
    })
}

/// The `t` of a `Stripe-Signature` header.
fn signed_at(signature: &str) -> i64 {
    let t = signature.split(',').next().and_then(|p| p.strip_prefix("t=")).expect("t= first");
    t.parse().expect("a decimal timestamp")
}

/// A field of a generic JSON value (`previous_attributes`, a listed event's `data.object`).
fn json_at<'a>(value: &'a JsonValue, path: &[&str]) -> &'a JsonValue {
    path.iter().fold(value, |value, key| match value {
        JsonValue::Object(object) => {
            object.get(*key).unwrap_or_else(|| panic!("no {key} in {}", miniserde::json::to_string(value)))
        }
        other => panic!("{key} of a non-object: {}", miniserde::json::to_string(other)),
    })
}

fn json_keys(value: &JsonValue) -> Vec<&str> {
    match value {
        JsonValue::Object(object) => object.keys().map(String::as_str).collect(),
        other => panic!("not an object: {}", miniserde::json::to_string(other)),
    }
}

fn previous_attributes(event: &Event) -> &JsonValue {
    event.data.previous_attributes.as_ref().expect("previous_attributes present")
}

fn account_of(event: &Event) -> &Account {
    match &event.data.object {
        EventObject::AccountUpdated(account) => account,
        other => panic!("{} carries {other:?}", event.type_.as_str()),
    }
}

fn capability_of(event: &Event) -> &stripe_shared::Capability {
    match &event.data.object {
        EventObject::CapabilityUpdated(capability) => capability,
        other => panic!("{} carries {other:?}", event.type_.as_str()),
    }
}

fn person_of(event: &Event) -> &Person {
    match &event.data.object {
        EventObject::PersonCreated(person) | EventObject::PersonUpdated(person) => person,
        other => panic!("{} carries {other:?}", event.type_.as_str()),
    }
}

fn bank_account_of(event: &Event) -> &BankAccount {
    match &event.data.object {
        EventObject::AccountExternalAccountCreated(external) => match external.as_ref() {
            AccountExternalAccountCreated::BankAccount(bank) => bank,
            other => panic!("a bank account, not {other:?}"),
        },
        other => panic!("{} carries {other:?}", event.type_.as_str()),
    }
}

fn capability_is(event: &Event, name: &str, status: &CapabilityStatus) -> bool {
    event.type_ == EventType::CapabilityUpdated
        && capability_of(event).id.as_str() == name
        && &capability_of(event).status == status
}

/// The two webhook tests run one at a time: each endpoint hears every connected account's events
/// (`*`, `connect=true`), and one deleted while the other test's events are still queued for it
/// would leave those events' `pending_webhooks` above zero for good.
static ONE_ENDPOINT_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Deletes the endpoint when dropped, whatever happened, so that no later test's events are
/// held for it.
struct DeleteOnDrop(Client, stripe_misc::WebhookEndpointId);

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        let (client, id) = (self.0.clone(), self.1.clone());
        // A runtime of its own: this runs inside the test's runtime, which cannot block on it.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(DeleteWebhookEndpoint::new(id).send(&client))
        })
        .join();
    }
}

async fn create_endpoint(client: &Client, url: &str, description: &str) -> stripe_misc::WebhookEndpoint {
    let mut metadata = HashMap::new();
    metadata.insert("suite".to_string(), "async-stripe".to_string());
    CreateWebhookEndpoint::new(vec![CreateWebhookEndpointEnabledEvents::All], url)
        .connect(true)
        .description(description)
        .metadata(metadata)
        .send(client)
        .await
        .expect("POST /v1/webhook_endpoints parses as WebhookEndpoint")
}

#[tokio::test]
async fn webhook_endpoints_are_managed_through_async_stripe() {
    let _one_at_a_time = ONE_ENDPOINT_AT_A_TIME.lock().await;
    let client = client();
    let receiver = Receiver::start();
    let created = create_endpoint(&client, &receiver.url, "compat rust").await;
    let _cleanup = DeleteOnDrop(client.clone(), created.id.clone());
    let secret = created.secret.clone().expect("the secret, on create");
    assert!(secret.starts_with("whsec_"), "secret prefix {:?}", secret.get(..6));
    assert!(created.id.as_str().starts_with("we_"), "id {}", created.id.as_str());
    assert_eq!(created.url, receiver.url);
    assert_eq!(created.enabled_events, ["*"]);
    assert_eq!(created.status, "enabled");
    assert!(!created.livemode);
    assert_eq!(created.description.as_deref(), Some("compat rust"));
    assert_eq!(created.metadata.get("suite").map(String::as_str), Some("async-stripe"));
    assert_eq!(created.application, None);
    assert!((created.created - now()).abs() < 60);

    let got = RetrieveWebhookEndpoint::new(created.id.clone())
        .send(&client)
        .await
        .expect("GET /v1/webhook_endpoints/{id} parses as WebhookEndpoint");
    assert_eq!(got.secret, None, "the secret is shown once, on create");
    assert_eq!(got.id, created.id);
    assert_eq!(got.url, created.url);
    let raw = raw_body(&client, &RetrieveWebhookEndpoint::new(created.id.clone())).await;
    assert!(!raw.contains("\"secret\"") && !raw.contains("whsec_"), "{raw}");

    let listed = ListWebhookEndpoint::new().limit(100).send(&client).await.expect("list");
    assert_eq!(listed.url, "/v1/webhook_endpoints");
    let ours: Vec<_> = listed.data.iter().filter(|we| we.id == created.id).collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].secret, None);

    // Disabled: the account's changes are not delivered to it.
    let mut state = HashMap::new();
    state.insert("state".to_string(), "off".to_string());
    let disabled = UpdateWebhookEndpoint::new(created.id.clone())
        .disabled(true)
        .description("paused")
        .metadata(state)
        .send(&client)
        .await
        .expect("POST /v1/webhook_endpoints/{id}");
    assert_eq!(disabled.status, "disabled");
    assert_eq!(disabled.description.as_deref(), Some("paused"));
    assert_eq!(disabled.metadata.len(), 2, "metadata merges: {:?}", disabled.metadata);
    assert_eq!(disabled.secret, None);
    let account = create_typed_account(&client, CreateAccountType::Custom).await;
    UpdateAccount::new(account.id.clone())
        .email("paused@example.com")
        .send(&client)
        .await
        .expect("an email change");
    tokio::time::sleep(Duration::from_secs(1)).await; // ten poll intervals of the worker
    let heard: Vec<Event> = receiver
        .deliveries()
        .iter()
        .map(|d| verified(d, &secret))
        .filter(|e| e.account.as_deref() == Some(account.id.as_str()))
        .collect();
    assert!(heard.is_empty(), "a disabled endpoint gets nothing: {heard:?}");

    // Enabled again: the next change is delivered, and it verifies with the create secret.
    let enabled = UpdateWebhookEndpoint::new(created.id.clone())
        .disabled(false)
        .send(&client)
        .await
        .expect("enable again");
    assert_eq!(enabled.status, "enabled");
    UpdateAccount::new(account.id.clone())
        .email("resumed@example.com")
        .send(&client)
        .await
        .expect("an email change");
    let heard = receiver
        .wait_for(&secret, &account.id, |events| !events.is_empty(), "account.updated")
        .await;
    assert_eq!(heard.len(), 1);
    let event = &heard[0].0;
    assert_eq!(event.type_, EventType::AccountUpdated);
    assert_eq!(account_of(event).email.as_deref(), Some("resumed@example.com"));
    assert_eq!(
        miniserde::json::to_string(previous_attributes(event)),
        r#"{"email":"paused@example.com"}"#
    );

    let deleted = DeleteWebhookEndpoint::new(created.id.clone())
        .send(&client)
        .await
        .expect("DELETE parses as DeletedWebhookEndpoint (deleted: true)");
    assert_eq!(deleted.id, created.id);
    let err = RetrieveWebhookEndpoint::new(created.id.clone())
        .send(&client)
        .await
        .expect_err("a deleted endpoint is gone");
    let (e, status) = stripe_error(err);
    assert_eq!(status, 404);
    assert_eq!(e.code.as_ref().map(|c| c.as_str()), Some("resource_missing"));
    assert_eq!(
        e.message.as_deref(),
        Some(format!("No such webhook endpoint: '{}'", created.id.as_str()).as_str())
    );
}

#[tokio::test]
async fn every_onboarding_delivery_passes_async_stripes_construct_event() {
    let _one_at_a_time = ONE_ENDPOINT_AT_A_TIME.lock().await;
    let client = client();
    let receiver = Receiver::start();
    let endpoint = create_endpoint(&client, &receiver.url, "compat rust onboarding").await;
    let _cleanup = DeleteOnDrop(client.clone(), endpoint.id.clone());
    let secret = endpoint.secret.clone().expect("the secret, on create");
    assert!(secret.starts_with("whsec_"));

    let started = now();
    let account = custom_us_account(&client).await;
    let idem = format!("compat-rust-{}", now_nanos());
    let submitted = with_business_details(UpdateAccount::new(account.id.clone()))
        .business_type(AccountBusinessType::Individual)
        .individual(individual(1902))
        .customize()
        .request_strategy(RequestStrategy::Idempotent(IdempotencyKey::new(&idem).unwrap()))
        .send(&client)
        .await
        .expect("POST /v1/accounts/{id} parses as Account");
    assert_eq!(submitted.charges_enabled, Some(false));
    let person_id = submitted.individual.as_ref().expect("individual").id.clone();

    // The submission: the account, both capabilities (now pending), the bank account and the
    // individual. Then, once the address check completes: the individual verified, both
    // capabilities active, and charges enabled.
    let delivered = receiver
        .wait_for(
            &secret,
            &account.id,
            |events| {
                let has = |f: &dyn Fn(&Event) -> bool| events.iter().any(f);
                has(&|e| e.type_ == EventType::AccountUpdated && account_of(e).charges_enabled == Some(false))
                    && has(&|e| e.type_ == EventType::AccountUpdated && account_of(e).charges_enabled == Some(true))
                    && has(&|e| e.type_ == EventType::AccountExternalAccountCreated)
                    && has(&|e| e.type_ == EventType::PersonCreated)
                    && has(&|e| {
                        e.type_ == EventType::PersonUpdated
                            && person_of(e).verification.as_ref().map(|v| v.status.as_str()) == Some("verified")
                    })
                    && ["card_payments", "transfers"].iter().all(|name| {
                        [CapabilityStatus::Pending, CapabilityStatus::Active]
                            .iter()
                            .all(|status| has(&|e| capability_is(e, name, status)))
                    })
            },
            "the onboarding's events",
        )
        .await;

    let mut events: Vec<(Event, Delivery)> = Vec::new();
    for (event, delivery) in delivered {
        assert!(event.id.as_str().starts_with("evt_"), "id {}", event.id.as_str());
        assert_eq!(event.account.as_deref(), Some(account.id.as_str()));
        assert!(!event.livemode);
        let version = event.api_version.as_ref().expect("api_version");
        assert!(!version.as_str().is_empty());
        assert!(event.created >= started - 5 && event.created <= now() + 5, "created {}", event.created);
        assert!(event.pending_webhooks >= 1, "pending_webhooks {}", event.pending_webhooks);
        assert!((signed_at(delivery.signature()) - now()).abs() < 60, "signed with the current time");
        if !events.iter().any(|(e, _)| e.id == event.id) {
            events.push((event, delivery));
        }
    }
    let one = |type_: EventType, matches: &dyn Fn(&Event) -> bool| -> (Event, Delivery) {
        let found: Vec<&(Event, Delivery)> =
            events.iter().filter(|(e, _)| e.type_ == type_ && matches(e)).collect();
        assert_eq!(
            found.len(),
            1,
            "{} in {:?}",
            type_.as_str(),
            events.iter().map(|(e, _)| e.type_.as_str()).collect::<Vec<_>>()
        );
        found[0].clone()
    };
    for (event, _) in &events {
        match &event.data.object {
            EventObject::AccountUpdated(_)
            | EventObject::CapabilityUpdated(_)
            | EventObject::PersonCreated(_)
            | EventObject::PersonUpdated(_)
            | EventObject::AccountExternalAccountCreated(_) => {}
            other => panic!("{} parsed as {other:?}", event.type_.as_str()),
        }
    }

    // account.updated after the submission: what the platform sent, with what it replaced.
    let (first, _) = one(EventType::AccountUpdated, &|e| account_of(e).charges_enabled == Some(false));
    let object = account_of(&first);
    assert_eq!(object.id, account.id);
    assert_eq!(object.details_submitted, Some(true));
    assert_eq!(object.business_type, Some(AccountBusinessType::Individual));
    let previous = previous_attributes(&first);
    assert!(matches!(json_at(previous, &["details_submitted"]), JsonValue::Bool(false)));
    assert!(matches!(json_at(previous, &["business_type"]), JsonValue::Null));
    assert_eq!(
        miniserde::json::to_string(json_at(previous, &["capabilities"])),
        r#"{"card_payments":"inactive","transfers":"inactive"}"#
    );
    match json_at(previous, &["requirements", "currently_due"]) {
        JsonValue::Array(due) => {
            assert!(due.iter().any(|f| matches!(f, JsonValue::String(s) if s == "business_type")))
        }
        other => panic!("currently_due {}", miniserde::json::to_string(other)),
    }
    assert!(!json_keys(previous).contains(&"charges_enabled"), "only what changed");
    let request = first.request.as_ref().expect("request");
    let request_id = request.id.clone().expect("the id of the request that caused it");
    assert!(request_id.starts_with("req_"), "{request_id}");
    assert_eq!(request.idempotency_key.as_deref(), Some(idem.as_str()));

    // account.updated after verification: charges_enabled went from false to true on its own.
    let (second, second_delivery) =
        one(EventType::AccountUpdated, &|e| account_of(e).charges_enabled == Some(true));
    let object = account_of(&second);
    assert_eq!(object.id, account.id);
    assert_eq!(object.payouts_enabled, Some(true));
    assert_eq!(capability(object, "card_payments"), Some(AccountCapabilitiesStatus::Active));
    let previous = previous_attributes(&second);
    assert!(matches!(json_at(previous, &["charges_enabled"]), JsonValue::Bool(false)));
    assert!(matches!(json_at(previous, &["payouts_enabled"]), JsonValue::Bool(false)));
    assert!(matches!(
        json_at(previous, &["requirements", "disabled_reason"]),
        JsonValue::String(s) if s == "requirements.pending_verification"
    ));
    let request = second.request.as_ref().expect("request");
    assert_eq!((request.id.as_deref(), request.idempotency_key.as_deref()), (None, None));

    for name in ["card_payments", "transfers"] {
        let (pending, _) =
            one(EventType::CapabilityUpdated, &|e| capability_is(e, name, &CapabilityStatus::Pending));
        let capability = capability_of(&pending);
        assert_eq!(capability.account.id(), &account.id);
        assert!(capability.requested);
        assert_eq!(miniserde::json::to_string(previous_attributes(&pending)), r#"{"status":"inactive"}"#);
        assert_eq!(pending.request.as_ref().and_then(|r| r.id.as_deref()), Some(request_id.as_str()));
        let (active, _) =
            one(EventType::CapabilityUpdated, &|e| capability_is(e, name, &CapabilityStatus::Active));
        assert_eq!(miniserde::json::to_string(previous_attributes(&active)), r#"{"status":"pending"}"#);
    }

    let (bank, _) = one(EventType::AccountExternalAccountCreated, &|_| true);
    let bank_account = bank_account_of(&bank);
    assert!(bank_account.id.as_str().starts_with("ba_"));
    assert_eq!(bank_account.account.as_ref().map(|a| a.id().as_str()), Some(account.id.as_str()));
    assert_eq!(bank_account.last4, "6789");
    assert_eq!(bank_account.bank_name.as_deref(), Some("STRIPE TEST BANK"));
    assert!(bank.data.previous_attributes.is_none());

    let (created_person, _) = one(EventType::PersonCreated, &|_| true);
    let person = person_of(&created_person);
    assert_eq!(person.id, person_id);
    assert_eq!(person.account.as_deref(), Some(account.id.as_str()));
    assert_eq!(person.first_name.as_deref(), Some("Jenny"));
    assert_eq!(person.relationship.as_ref().and_then(|r| r.representative), Some(true));
    let (verified_person, _) = one(EventType::PersonUpdated, &|_| true);
    assert_eq!(person_of(&verified_person).id, person_id);
    assert!(matches!(
        json_at(previous_attributes(&verified_person), &["verification", "status"]),
        JsonValue::String(s) if s == "pending"
    ));

    // Negative cases, through the same helper, on the delivery of the second account.updated.
    let body = second_delivery.body.as_str();
    let sig = second_delivery.signature();
    let tampered = body.replacen("\"charges_enabled\":true", "\"charges_enabled\":True", 1);
    assert_eq!(tampered.len(), body.len());
    assert_ne!(tampered, body);
    assert!(matches!(
        Webhook::construct_event(&tampered, sig, &secret),
        Err(WebhookError::BadSignature)
    ));
    let wrong_secret = format!("whsec_{}", "0".repeat(secret.len() - "whsec_".len()));
    assert!(matches!(
        Webhook::construct_event(body, sig, &wrong_secret),
        Err(WebhookError::BadSignature)
    ));
    let t = signed_at(sig);
    let now = now();
    let within = Webhook::construct_event_with_timestamp(body, sig, &secret, now + 200)
        .expect("200 s after signing is within the 300 s tolerance");
    assert_eq!(within.id, second.id);
    match Webhook::construct_event_with_timestamp(body, sig, &secret, now + 400) {
        Err(WebhookError::BadTimestamp(at)) => assert_eq!(at, t),
        other => panic!("400 s after signing: {other:?}"),
    }

    // The same events through GET /v1/events, read as async-stripe's Event.
    let mut types: Vec<String> = events.iter().map(|(e, _)| e.type_.as_str().to_owned()).collect();
    types.sort();
    types.dedup();
    let page = ListEvent::new()
        .types(types.clone())
        .created(stripe_types::RangeQueryTs::gte(started - 5))
        .limit(100)
        .send(&client)
        .await
        .expect("GET /v1/events parses as List<Event>");
    assert_eq!(page.url, "/v1/events");
    let mut listed: Vec<&str> = page
        .data
        .iter()
        .filter(|e| e.account.as_deref() == Some(account.id.as_str()))
        .map(|e| e.id.as_str())
        .collect();
    listed.sort_unstable();
    let mut delivered: Vec<&str> = events.iter().map(|(e, _)| e.id.as_str()).collect();
    delivered.sort_unstable();
    assert_eq!(listed, delivered, "the list holds exactly what was delivered");
    let capabilities = ListEvent::new()
        .type_("capability.*")
        .created(stripe_types::RangeQueryTs::gte(started - 5))
        .limit(100)
        .send(&client)
        .await
        .expect("GET /v1/events?type=capability.*");
    let ours = capabilities
        .data
        .iter()
        .filter(|e| e.account.as_deref() == Some(account.id.as_str()))
        .count();
    assert_eq!(ours, 4);
    assert!(capabilities.data.iter().all(|e| e.type_ == EventType::CapabilityUpdated));
    // Page by page, one event a page, through starting_after.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = ListEvent::new()
            .types(vec!["account.updated".to_string()])
            .created(stripe_types::RangeQueryTs::gte(started - 5))
            .limit(1);
        if let Some(after) = &cursor {
            request = request.starting_after(after.clone());
        }
        let page = request.send(&client).await.expect("a page of events");
        assert!(page.data.len() <= 1);
        for e in &page.data {
            if e.account.as_deref() == Some(account.id.as_str()) {
                paged.push(e.id.clone());
            }
        }
        cursor = page.data.last().map(|e| e.id.as_str().to_owned());
        if !page.has_more {
            break;
        }
    }
    assert_eq!(paged, [second.id.clone(), first.id.clone()], "newest first");

    let deadline = Instant::now() + Duration::from_secs(10);
    let got = loop {
        let got = RetrieveEvent::new(first.id.clone())
            .send(&client)
            .await
            .expect("GET /v1/events/{id} parses as Event");
        if got.pending_webhooks == 0 {
            break got;
        }
        assert!(Instant::now() < deadline, "{} never counted as delivered", first.id.as_str());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(got.type_, EventType::AccountUpdated);
    assert_eq!(got.account.as_deref(), Some(account.id.as_str()));
    assert!(matches!(json_at(&got.data.object, &["object"]), JsonValue::String(s) if s == "account"));
    assert!(matches!(json_at(&got.data.object, &["id"]), JsonValue::String(s) if s == account.id.as_str()));
    let request = got.request.as_ref().expect("request");
    assert_eq!(request.id.as_deref(), Some(request_id.as_str()));
    assert_eq!(request.idempotency_key.as_deref(), Some(idem.as_str()));
    assert_eq!(
        got.data.previous_attributes.as_ref().map(miniserde::json::to_string),
        first.data.previous_attributes.as_ref().map(miniserde::json::to_string)
    );
    let delivered_ok = ListEvent::new()
        .types(types)
        .delivery_success(true)
        .limit(100)
        .send(&client)
        .await
        .expect("GET /v1/events?delivery_success=true");
    assert!(delivered_ok.data.iter().any(|e| e.id == first.id));
}

fn now_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}
