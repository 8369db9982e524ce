//! The wire objects that several routes answer with (`account`,
//! `bank_account`, `embedded_session`, deletions and lists), in one place so
//! that no route module imports another. Objects only one route answers
//! with stay beside that route.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::account::{Account, Metadata};
use crate::domain::catalog::ResolvedComponents;
use crate::domain::embedded_session::EmbeddedSession;
use crate::domain::external_account::BankAccount;
use crate::domain::ids::{AccountId, EmbeddedSessionId, ExternalAccountId};

/// The `account` object, with the fields of the spec this server keeps.
#[derive(Debug, Serialize)]
pub struct AccountResponse {
    id: AccountId,
    object: &'static str,
    business_profile: BusinessProfileResponse,
    capabilities: BTreeMap<String, &'static str>,
    charges_enabled: bool,
    controller: ControllerResponse,
    country: String,
    created: i64,
    details_submitted: bool,
    email: Option<String>,
    /// The platform's own data: absent from the connected account's view.
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
    payouts_enabled: bool,
    #[serde(rename = "type")]
    account_type: &'static str,
}

#[derive(Debug, Serialize)]
struct BusinessProfileResponse {
    name: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Serialize)]
struct ControllerResponse {
    fees: FeesResponse,
    is_controller: bool,
    losses: LossesResponse,
    requirement_collection: &'static str,
    stripe_dashboard: DashboardResponse,
    #[serde(rename = "type")]
    controller_type: &'static str,
}

#[derive(Debug, Serialize)]
struct FeesResponse {
    payer: &'static str,
}

#[derive(Debug, Serialize)]
struct LossesResponse {
    payments: &'static str,
}

#[derive(Debug, Serialize)]
struct DashboardResponse {
    #[serde(rename = "type")]
    dashboard_type: &'static str,
}

impl From<Account> for AccountResponse {
    fn from(account: Account) -> Self {
        let controller = account.controller;
        Self {
            account_type: account.account_type().as_str(),
            id: account.id,
            object: "account",
            business_profile: BusinessProfileResponse {
                name: account.business_profile.name,
                url: account.business_profile.url,
            },
            capabilities: account
                .capabilities
                .into_iter()
                .map(|(name, status)| (name, status.as_str()))
                .collect(),
            // No onboarding happens here: accounts never become enabled.
            charges_enabled: false,
            // Every account is created by, and so controlled by, its platform.
            controller: ControllerResponse {
                fees: FeesResponse {
                    payer: controller.fees_payer.as_str(),
                },
                is_controller: true,
                losses: LossesResponse {
                    payments: controller.losses_payments.as_str(),
                },
                requirement_collection: controller.requirement_collection.as_str(),
                stripe_dashboard: DashboardResponse {
                    dashboard_type: controller.stripe_dashboard.as_str(),
                },
                controller_type: "application",
            },
            country: account.country,
            created: account.created.as_secs(),
            details_submitted: false,
            email: account.email,
            metadata: Some(account.metadata),
            payouts_enabled: false,
        }
    }
}

impl AccountResponse {
    /// The account as the connected account itself sees it (through an embedded
    /// session): without the platform's metadata.
    pub fn for_connected_account(account: Account) -> Self {
        Self {
            metadata: None,
            ..Self::from(account)
        }
    }
}

/// The `embedded_session` object. `secret` appears only in the claim's response.
#[derive(Debug, Serialize)]
pub struct EmbeddedSessionResponse {
    id: EmbeddedSessionId,
    object: &'static str,
    account: AccountId,
    components: ResolvedComponents,
    expires_at: i64,
    livemode: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl EmbeddedSessionResponse {
    /// The object, with `secret` only when it is being handed out.
    pub fn new(session: EmbeddedSession, secret: Option<String>) -> Self {
        Self {
            id: session.id,
            object: "embedded_session",
            account: session.account,
            components: session.components,
            expires_at: session.expires_at.as_secs(),
            livemode: session.mode.is_live(),
            secret,
        }
    }
}

/// `{"id", "object", "deleted": true}` for a deleted object.
#[derive(Debug, Serialize)]
pub struct DeletedResponse<Id> {
    id: Id,
    object: &'static str,
    deleted: bool,
}

impl<Id> DeletedResponse<Id> {
    /// The deletion of `id`, an `object`.
    pub fn new(id: Id, object: &'static str) -> Self {
        Self {
            id,
            object,
            deleted: true,
        }
    }
}

/// Stripe's `bank_account` object (the fields this server keeps).
#[derive(Debug, Serialize)]
pub struct BankAccountResponse {
    id: ExternalAccountId,
    object: &'static str,
    account: AccountId,
    account_holder_name: Option<String>,
    country: String,
    currency: String,
    fingerprint: String,
    last4: String,
    routing_number: Option<String>,
    status: &'static str,
}

impl From<BankAccount> for BankAccountResponse {
    fn from(bank: BankAccount) -> Self {
        Self {
            id: bank.id,
            object: "bank_account",
            account: bank.account,
            account_holder_name: bank.account_holder_name,
            country: bank.country,
            currency: bank.currency,
            fingerprint: bank.fingerprint,
            last4: bank.last4,
            routing_number: bank.routing_number,
            // Nothing is ever verified or paid out here.
            status: "new",
        }
    }
}

/// A Stripe list object.
#[derive(Debug, Serialize)]
pub struct ListResponse<T> {
    object: &'static str,
    data: Vec<T>,
    has_more: bool,
    url: String,
}

impl<T> ListResponse<T> {
    /// A page of `data` listed at `url`.
    pub fn new(data: Vec<T>, has_more: bool, url: impl Into<String>) -> Self {
        Self {
            object: "list",
            data,
            has_more,
            url: url.into(),
        }
    }
}
