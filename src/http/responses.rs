//! The wire objects that several routes answer with (`account`,
//! `bank_account`, `embedded_session`, deletions and lists), in one place so
//! that no route module imports another. Objects only one route answers
//! with stay beside that route.

use serde::Serialize;

use crate::domain::catalog::ResolvedComponents;
use crate::domain::embedded_session::EmbeddedSession;
use crate::domain::ids::{AccountId, EmbeddedSessionId};
use crate::domain::wire::{AccountObject, BankAccountObject, PersonObject};

/// The `account` object (see [`crate::domain::wire`]).
pub type AccountResponse = AccountObject;

/// Stripe's `bank_account` object (see [`crate::domain::wire`]).
pub type BankAccountResponse = BankAccountObject;

/// The `person` object (see [`crate::domain::wire`]).
pub type PersonResponse = PersonObject;

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
