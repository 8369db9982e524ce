//! How stored rows become domain values, once for both databases: each
//! backend reads its driver's row through [`RowReader`], and one decoder per
//! aggregate turns the columns into the domain type, checking every value on
//! the way out. Also how values are written: JSON text for maps, the compact
//! bit layout for components.

use std::collections::BTreeSet;

use crate::clock::Timestamp;
use crate::domain::account::{
    Account, Controller, DashboardType, FeePayer, LossesPayer, Metadata, Profile,
    RequirementCollection,
};
use crate::domain::account_session::AccountSessionRecord;
use crate::domain::catalog::ResolvedComponents;
use crate::domain::embedded_session::EmbeddedSession;
use crate::domain::external_account::{BankAccount, HolderType};
use crate::domain::ids::{
    AccountId, EmbeddedSessionId, EventId, ExternalAccountId, PlatformId, WebhookEndpointId,
};
use crate::domain::keys::KeyKind;
use crate::domain::mode::Mode;
use crate::domain::platform::KeyGrant;
use crate::domain::webhooks::{EndpointStatus, Event, RequestRef, WebhookEndpoint};
use crate::idempotency::{CompletedAttempt, Fingerprint, SavedResponse};

use super::StoreError;

/// One row of a result, read column by column (by position in the select).
/// Implemented for each driver's row type; a value of the wrong type is
/// [`StoreError::Corrupt`].
pub trait RowReader {
    /// A non-null text column.
    fn text(&self, index: usize) -> Result<String, StoreError>;
    /// A nullable text column.
    fn optional_text(&self, index: usize) -> Result<Option<String>, StoreError>;
    /// A non-null integer column.
    fn integer(&self, index: usize) -> Result<i64, StoreError>;
    /// A nullable integer column.
    fn optional_integer(&self, index: usize) -> Result<Option<i64>, StoreError>;
    /// A non-null boolean column.
    fn boolean(&self, index: usize) -> Result<bool, StoreError>;
    /// A non-null binary column.
    fn bytes(&self, index: usize) -> Result<Vec<u8>, StoreError>;
    /// A nullable binary column.
    fn optional_bytes(&self, index: usize) -> Result<Option<Vec<u8>>, StoreError>;

    /// A non-null time column (Unix seconds).
    fn time(&self, index: usize) -> Result<Timestamp, StoreError> {
        self.integer(index).map(Timestamp::from_secs)
    }

    /// A nullable time column (Unix seconds).
    fn optional_time(&self, index: usize) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.optional_integer(index)?.map(Timestamp::from_secs))
    }

    /// A text column holding one of an enum's wire spellings.
    fn spelling<T>(&self, index: usize, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
        let value = self.text(index)?;
        parse(&value).ok_or_else(|| corrupt(&format!("column {index}"), &value))
    }

    /// A text column holding an id that `parse` checks.
    fn id<T>(
        &self,
        index: usize,
        what: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<T, StoreError> {
        let value = self.text(index)?;
        parse(&value).ok_or_else(|| corrupt(what, &value))
    }
}

/// A row read from column `by` on: lets a decoder written for its own
/// select read its columns after others (a join's).
#[derive(Debug)]
pub struct Shifted<'r, R> {
    /// The row.
    pub row: &'r R,
    /// Columns before the decoder's.
    pub by: usize,
}

impl<R: RowReader> RowReader for Shifted<'_, R> {
    fn text(&self, index: usize) -> Result<String, StoreError> {
        self.row.text(self.by + index)
    }
    fn optional_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        self.row.optional_text(self.by + index)
    }
    fn integer(&self, index: usize) -> Result<i64, StoreError> {
        self.row.integer(self.by + index)
    }
    fn optional_integer(&self, index: usize) -> Result<Option<i64>, StoreError> {
        self.row.optional_integer(self.by + index)
    }
    fn boolean(&self, index: usize) -> Result<bool, StoreError> {
        self.row.boolean(self.by + index)
    }
    fn bytes(&self, index: usize) -> Result<Vec<u8>, StoreError> {
        self.row.bytes(self.by + index)
    }
    fn optional_bytes(&self, index: usize) -> Result<Option<Vec<u8>>, StoreError> {
        self.row.optional_bytes(self.by + index)
    }
}

/// A stored value that cannot be what this server writes.
pub fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

/// A value as JSON text.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Database(Box::new(error)))
}

/// An account's requested capabilities as JSON text: `["card_payments", …]`.
pub fn capabilities_json(account: &Account) -> Result<String, StoreError> {
    to_json(&account.requested_capabilities)
}

/// An account's profile document as JSON text.
pub fn profile_json(account: &Account) -> Result<String, StoreError> {
    to_json(&account.profile)
}

fn metadata(json: &str) -> Result<Metadata, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt("account metadata", json))
}

fn capabilities(json: &str) -> Result<BTreeSet<String>, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt("account capabilities", json))
}

fn profile(json: &str) -> Result<Profile, StoreError> {
    // The document is ours; its shape is checked on the way out like any
    // column, so a corrupt one is reported rather than read as blank.
    serde_json::from_str(json)
        .map_err(|error| StoreError::Corrupt(format!("account profile: {error}")))
}

fn components(bytes: &[u8]) -> Result<ResolvedComponents, StoreError> {
    ResolvedComponents::from_bytes(bytes)
        .ok_or_else(|| StoreError::Corrupt("stored components".to_owned()))
}

/// The columns [`key_grant`] reads, in order.
macro_rules! key_grant_columns {
    () => {
        "platform_id, kind, livemode, expires_at, revoked"
    };
}
pub(crate) use key_grant_columns;

/// Decodes a row selected with `key_grant_columns!`.
pub fn key_grant(row: &impl RowReader) -> Result<KeyGrant, StoreError> {
    Ok(KeyGrant {
        platform: row.id(0, "api key platform", PlatformId::parse)?,
        kind: row.spelling(1, KeyKind::from_stored)?,
        mode: Mode::from_livemode(row.boolean(2)?),
        expires_at: row.optional_integer(3)?.map(Timestamp::from_secs),
        revoked: row.boolean(4)?,
    })
}

/// The columns [`account`] reads, in order.
macro_rules! account_columns {
    () => {
        "id, platform_id, livemode, fees_payer, losses_payments, \
         requirement_collection, stripe_dashboard, country, email, metadata, \
         capabilities, profile, \
         exists (select 1 from account_onboardings o where o.account_id = accounts.id), \
         created"
    };
}
pub(crate) use account_columns;

/// Decodes a row selected with `account_columns!`, without its bank accounts
/// (the store reads those with their own statement).
pub fn account(row: &impl RowReader) -> Result<Account, StoreError> {
    Ok(Account {
        id: row.id(0, "account id", AccountId::parse)?,
        platform: row.id(1, "account platform", PlatformId::parse)?,
        mode: Mode::from_livemode(row.boolean(2)?),
        controller: Controller {
            fees_payer: row.spelling(3, FeePayer::parse)?,
            losses_payments: row.spelling(4, LossesPayer::parse)?,
            requirement_collection: row.spelling(5, RequirementCollection::parse)?,
            stripe_dashboard: row.spelling(6, DashboardType::parse)?,
        },
        country: row.text(7)?,
        email: row.optional_text(8)?,
        metadata: metadata(&row.text(9)?)?,
        requested_capabilities: capabilities(&row.text(10)?)?,
        profile: profile(&row.text(11)?)?,
        onboarding_started: row.boolean(12)?,
        external_accounts: Vec::new(),
        created: row.time(13)?,
    })
}

/// The columns [`session_record`] reads, in order.
macro_rules! session_record_columns {
    () => {
        "account_id, components, created, expires_at, claimed_at, revoked_at"
    };
}
pub(crate) use session_record_columns;

/// Decodes a row selected (or returned) with `session_record_columns!`.
pub fn session_record(row: &impl RowReader) -> Result<AccountSessionRecord, StoreError> {
    Ok(AccountSessionRecord {
        account: row.id(0, "session account", AccountId::parse)?,
        components: components(&row.bytes(1)?)?,
        created: row.time(2)?,
        expires_at: row.time(3)?,
        claimed_at: row.optional_time(4)?,
        revoked_at: row.optional_time(5)?,
    })
}

/// The columns a won claim returns: account, components and expiry.
macro_rules! claimed_columns {
    () => {
        "account_id, components, expires_at"
    };
}
pub(crate) use claimed_columns;

/// What a claim learns of the session it won, read with `claimed_columns!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedSession {
    /// The connected account.
    pub account: AccountId,
    /// As resolved at creation.
    pub components: ResolvedComponents,
    /// The session's expiry.
    pub expires_at: Timestamp,
}

/// Decodes a row returned with `claimed_columns!`.
pub fn claimed_session(row: &impl RowReader) -> Result<ClaimedSession, StoreError> {
    Ok(ClaimedSession {
        account: row.id(0, "session account", AccountId::parse)?,
        components: components(&row.bytes(1)?)?,
        expires_at: row.time(2)?,
    })
}

/// The columns [`embedded_session`] reads, in order, from `embedded_sessions e`
/// joined with its `account_sessions s`.
macro_rules! embedded_session_columns {
    () => {
        "e.id, s.platform_id, s.livemode, s.account_id, \
     s.components, s.expires_at, e.logged_out_at, s.revoked_at"
    };
}
pub(crate) use embedded_session_columns;

/// Decodes a row selected with `embedded_session_columns!`.
pub fn embedded_session(row: &impl RowReader) -> Result<EmbeddedSession, StoreError> {
    Ok(EmbeddedSession {
        id: row.id(0, "embedded session id", EmbeddedSessionId::parse)?,
        platform: row.id(1, "embedded session platform", PlatformId::parse)?,
        mode: Mode::from_livemode(row.boolean(2)?),
        account: row.id(3, "embedded session account", AccountId::parse)?,
        components: components(&row.bytes(4)?)?,
        expires_at: row.time(5)?,
        logged_out_at: row.optional_time(6)?,
        revoked_at: row.optional_time(7)?,
    })
}

/// The columns [`bank_account`] reads, in order.
macro_rules! bank_account_columns {
    () => {
        "id, account_id, country, currency, \
         account_holder_name, routing_number, last4, fingerprint, created, account_holder_type, \
         default_for_currency"
    };
}
pub(crate) use bank_account_columns;

/// Decodes a row selected with `bank_account_columns!`.
pub fn bank_account(row: &impl RowReader) -> Result<BankAccount, StoreError> {
    Ok(BankAccount {
        id: row.id(0, "bank account id", ExternalAccountId::parse)?,
        account: row.id(1, "bank account account", AccountId::parse)?,
        country: row.text(2)?,
        currency: row.text(3)?,
        account_holder_name: row.optional_text(4)?,
        routing_number: row.optional_text(5)?,
        last4: row.text(6)?,
        fingerprint: row.text(7)?,
        created: row.time(8)?,
        account_holder_type: row
            .optional_text(9)?
            .map(|text| HolderType::parse(&text).ok_or_else(|| corrupt("holder type", &text)))
            .transpose()?,
        default_for_currency: row.boolean(10)?,
    })
}

/// The columns [`idempotency_key`] reads, in order.
macro_rules! idempotency_key_columns {
    () => {
        "path, fingerprint, original_request_id, status, body"
    };
}
pub(crate) use idempotency_key_columns;

/// A key's state as read back: completed (with its saved response), or
/// still in flight (`None`).
pub fn idempotency_key(row: &impl RowReader) -> Result<Option<CompletedAttempt>, StoreError> {
    let (Some(status), Some(sealed_body)) = (row.optional_integer(3)?, row.optional_bytes(4)?)
    else {
        return Ok(None);
    };
    let status =
        u16::try_from(status).map_err(|_| corrupt("idempotency status", &status.to_string()))?;
    let fingerprint: [u8; 32] = row
        .bytes(1)?
        .try_into()
        .map_err(|_| StoreError::Corrupt("idempotency fingerprint".to_owned()))?;
    Ok(Some(CompletedAttempt {
        path: row.text(0)?,
        fingerprint: Fingerprint(fingerprint),
        original_request_id: row.text(2)?,
        response: SavedResponse {
            status,
            sealed_body,
        },
    }))
}

/// The columns [`event`] reads, in order, from `events`.
macro_rules! event_columns {
    () => {
        "events.id, events.platform_id, events.livemode, events.account_id, events.type, \
         events.api_version, events.data, events.request_id, events.idempotency_key, \
         events.created, \
         (select count(*) from webhook_deliveries d \
          where d.event_id = events.id and d.status <> 'succeeded')"
    };
}
pub(crate) use event_columns;

/// Decodes a row selected with `event_columns!`.
pub fn event(row: &impl RowReader) -> Result<Event, StoreError> {
    let data = row.text(6)?;
    Ok(Event {
        id: row.id(0, "event id", EventId::parse)?,
        platform: row.id(1, "event platform", PlatformId::parse)?,
        mode: Mode::from_livemode(row.boolean(2)?),
        account: row
            .optional_text(3)?
            .map(|text| AccountId::parse(&text).ok_or_else(|| corrupt("event account", &text)))
            .transpose()?,
        event_type: row.text(4)?,
        api_version: row.text(5)?,
        data: serde_json::from_str(&data).map_err(|_| corrupt("event data", &data))?,
        request: RequestRef {
            id: row.optional_text(7)?,
            idempotency_key: row.optional_text(8)?,
        },
        created: row.time(9)?,
        pending_webhooks: u32::try_from(row.integer(10)?).unwrap_or(u32::MAX),
    })
}

/// The columns [`webhook_endpoint`] reads, in order, from `webhook_endpoints`.
macro_rules! webhook_endpoint_columns {
    () => {
        "webhook_endpoints.id, webhook_endpoints.platform_id, webhook_endpoints.livemode, \
         webhook_endpoints.url, webhook_endpoints.enabled_events, webhook_endpoints.connect, \
         webhook_endpoints.api_version, webhook_endpoints.description, \
         webhook_endpoints.metadata, webhook_endpoints.status, webhook_endpoints.created"
    };
}
pub(crate) use webhook_endpoint_columns;

/// Decodes a row selected with `webhook_endpoint_columns!`.
pub fn webhook_endpoint(row: &impl RowReader) -> Result<WebhookEndpoint, StoreError> {
    let enabled_events = row.text(4)?;
    Ok(WebhookEndpoint {
        id: row.id(0, "webhook endpoint id", WebhookEndpointId::parse)?,
        platform: row.id(1, "webhook endpoint platform", PlatformId::parse)?,
        mode: Mode::from_livemode(row.boolean(2)?),
        url: row.text(3)?,
        enabled_events: serde_json::from_str(&enabled_events)
            .map_err(|_| corrupt("enabled events", &enabled_events))?,
        connect: row.boolean(5)?,
        api_version: row.optional_text(6)?,
        description: row.optional_text(7)?,
        metadata: metadata(&row.text(8)?)?,
        status: row.spelling(9, EndpointStatus::parse)?,
        created: row.time(10)?,
    })
}
