//! async-stripe 1.0.0-rc.10 (`async-stripe` + `async-stripe-connect`) against a running
//! connect-sessions server.
//!
//! Environment (exported by `compat/run.sh`):
//! - `CS_API_BASE`   e.g. `http://127.0.0.1:40123`
//! - `CS_SECRET_KEY` a test-mode secret key of a platform in the server's database
//!
//! async-stripe deserialises `AccountSession.components` into a struct with 22 non-optional
//! component fields whose feature flags are all non-optional `bool`s: a successful parse proves
//! the server returned every component with `enabled` and its full `features` object.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use stripe::{Client, ClientBuilder, StripeError};
use stripe_connect::account::{
    CreateAccount, CreateAccountController, CreateAccountControllerFees,
    CreateAccountControllerFeesPayer, CreateAccountControllerLosses,
    CreateAccountControllerLossesPayments, CreateAccountControllerRequirementCollection,
    CreateAccountControllerStripeDashboard, CreateAccountControllerStripeDashboardType,
    CreateAccountType, DeleteAccount, RetrieveAccount,
};
use stripe_connect::account_session::{
    AccountConfigParam, AccountFeaturesParam, CreateAccountSession,
    CreateAccountSessionComponents, CreateAccountSessionComponentsPayments, PayoutsConfigParam,
};
use stripe_connect::{Account, AccountSession};

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
