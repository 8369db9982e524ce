//! Every error a client can see, rendered in Stripe's envelope
//! `{"error": {"code", "doc_url", "message", "param", "type"}}`.
//!
//! [`ApiError`] is closed: each variant maps to one named row of status,
//! `type`, `code`, message and param in one exhaustive `match`
//! (`ApiError::row`), so adding a variant forces a decision about all of them.
//! Stripe's codes and this server's own are different types, so only Stripe's
//! can link to Stripe's documentation (`doc_url`). Internal failures carry their cause only for the log: the response
//! says nothing about it (see [`InternalErrorReport`]).

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::mode::Mode;
use crate::store::StoreError;

/// Stripe's message when no key was sent.
pub const NO_KEY_MESSAGE: &str = "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";
/// Stripe's message when a publishable key calls a secret-key endpoint.
pub const PUBLISHABLE_KEY_MESSAGE: &str = "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.";
/// Stripe's message for a body that is not form-encoded.
pub const NOT_FORM_ENCODED_MESSAGE: &str = "Invalid request (check that your POST content type is application/x-www-form-urlencoded). If you have any questions, we can help at https://support.stripe.com/.";
/// The message of a 502, 503 or 504 (a test double's fault).
pub const UNAVAILABLE_MESSAGE: &str =
    "The service is temporarily unavailable. You can safely retry this request.";
/// The message of a 500 that changed nothing (`Stripe-Should-Retry: true`);
/// the cause goes to the log only.
pub const INTERNAL_RETRYABLE_MESSAGE: &str = "An error occurred with our connection to the database or another internal service. You can safely retry this request.";
/// The message of a 500 that may have taken effect (`Stripe-Should-Retry: false`).
pub const INTERNAL_MESSAGE: &str = "An unexpected error occurred while handling this request. It may or may not have taken effect: check before retrying, or retry with the same Idempotency-Key.";

/// An error response.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization` header, or an empty key.
    #[error("no API key provided")]
    MissingApiKey,
    /// A key that does not exist (or is not usable here).
    #[error("invalid API key")]
    InvalidApiKey {
        /// The key as Stripe masks it.
        masked: String,
    },
    /// An expired embedded session key, or a rolled platform key past its grace period.
    #[error("expired API key")]
    ExpiredApiKey {
        /// The key as Stripe masks it.
        masked: String,
    },
    /// A known key used where only secret keys are accepted.
    #[error("publishable key used on a secret-key endpoint")]
    SecretKeyRequired,
    /// A secret key used on a browser endpoint that takes publishable keys.
    #[error("secret key used on a publishable-key endpoint")]
    PublishableKeyRequired,
    /// A platform key used on the client-side API, which takes embedded session keys.
    #[error("platform key used on the client-side API")]
    EmbeddedKeyRequired {
        /// The key as Stripe masks it.
        masked: String,
    },
    /// A key that may not call this endpoint, in Stripe's permission style.
    #[error("permission denied on account {account}")]
    PermissionDenied {
        /// The key as Stripe masks it.
        masked_key: String,
        /// The account the key is scoped to.
        account: String,
        /// What would allow the request.
        remedy: String,
    },
    /// A client secret that was claimed, has expired or was revoked.
    #[error("client secret refused: {0:?}")]
    ClaimRefused(ClaimRefusal),
    /// A client secret that is malformed, unknown, or another platform's or mode's.
    #[error("unknown client secret")]
    UnknownClientSecret,
    /// An object named in the path does not exist for this key (404, as Stripe answers).
    #[error("no such {object}: {id}")]
    NoSuchObject {
        /// `external account`, …
        object: &'static str,
        /// The id as sent.
        id: String,
    },
    /// A test helper called with a live-mode key.
    #[error("test helper called in live mode")]
    TestModeOnly,
    /// The account already has this bank account.
    #[error("bank account exists")]
    BankAccountExists,
    /// A required parameter is absent.
    #[error("missing parameter {param}")]
    ParameterMissing {
        /// Full bracketed path.
        param: String,
    },
    /// Parameters this endpoint does not know, in request order.
    #[error("unknown parameters {params:?}")]
    ParameterUnknown {
        /// Full bracketed paths; the first is reported as `param`.
        params: Vec<String>,
    },
    /// An empty value for a parameter that cannot be unset.
    #[error("empty value for {param}")]
    ParameterInvalidEmpty {
        /// Full bracketed path.
        param: String,
    },
    /// A boolean parameter that is neither `true` nor `false`.
    #[error("invalid boolean for {param}")]
    InvalidBoolean {
        /// Full bracketed path.
        param: String,
        /// What was sent.
        value: String,
    },
    /// An integer parameter that is not an integer.
    #[error("invalid integer for {param}")]
    InvalidInteger {
        /// Full bracketed path.
        param: String,
        /// What was sent.
        value: String,
    },
    /// An email parameter that is not an email address.
    #[error("invalid email for {param}")]
    InvalidEmail {
        /// Full bracketed path.
        param: String,
        /// What was sent.
        value: String,
    },
    /// Two parameters that cannot be sent together.
    #[error("exclusive parameters {params:?}")]
    ParametersExclusive {
        /// The parameters, the first reported as `param`.
        params: Vec<&'static str>,
    },
    /// A value of the wrong shape or outside what is allowed; the message says what is.
    #[error("invalid value for {param}: {message}")]
    InvalidParam {
        /// Full bracketed path.
        param: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A request that is wrong as a whole (its body), not in one parameter.
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
    },
    /// An `expand[]` entry naming nothing expandable.
    #[error("cannot expand {path}")]
    CannotExpand {
        /// The entry.
        path: String,
        /// Its parameter (`expand[0]`).
        param: String,
    },
    /// A referenced object does not exist for this platform and mode.
    #[error("no such {object}: {id}")]
    ResourceMissing {
        /// `account`, …
        object: &'static str,
        /// The id as sent.
        id: String,
        /// The parameter that named it, if any.
        param: Option<String>,
        /// The object exists in this other mode of the same platform.
        exists_in: Option<Mode>,
    },
    /// A key with no access to an account (or no such account), as Stripe answers
    /// `GET /v1/accounts/{id}`.
    #[error("no access to account {account}")]
    AccountInvalid {
        /// The key as Stripe masks it.
        masked_key: String,
        /// The account id as sent.
        account: String,
    },
    /// A URL that is not an http(s) URL with a host.
    #[error("invalid url")]
    InvalidUrl {
        /// Full bracketed path.
        param: String,
    },
    /// The platform may no longer set these parameters on the account: Stripe
    /// collects its requirements and onboarding started.
    #[error("parameters {params:?} belong to the account")]
    ParametersForbidden {
        /// The refused parameters, in Stripe's order.
        params: Vec<&'static str>,
        /// The account.
        account: String,
    },
    /// Terms accepted by a platform for an account where Stripe collects requirements.
    #[error("terms of service for a stripe-collected account")]
    TermsOfServiceForbidden,
    /// An endpoint a platform may no longer use for this account (persons,
    /// bank accounts of an account whose requirements Stripe collects).
    #[error("endpoint forbidden on this account")]
    EndpointForbidden {
        /// The key as Stripe masks it.
        masked_key: String,
        /// The account.
        account: String,
    },
    /// No route for this method and path.
    #[error("unrecognized URL {method} {path}")]
    UnrecognizedUrl {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// A body that is not form-encoded (JSON, multipart, …).
    #[error("request body is not form-encoded")]
    NotFormEncoded,
    /// A body larger than the server accepts.
    #[error("request body too large")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A body that did not arrive in time.
    #[error("request body read timed out")]
    BodyReadTimeout {
        /// The limit.
        limit: std::time::Duration,
    },
    /// A malformed `Stripe-Version` header.
    #[error("invalid Stripe-Version {version}")]
    InvalidApiVersion {
        /// The header as sent.
        version: String,
    },
    /// An `Idempotency-Key` longer than 255 characters.
    #[error("idempotency key too long")]
    IdempotencyKeyTooLong {
        /// Its length in characters.
        len: usize,
    },
    /// An `Idempotency-Key` with a character outside visible ASCII.
    #[error("idempotency key not visible ASCII")]
    IdempotencyKeyInvalid,
    /// The server's budget of buffered request bytes stayed full while this
    /// request waited to read its body.
    #[error("request body budget exhausted")]
    Overloaded,
    /// A key reused with other parameters.
    #[error("idempotency key reused with other parameters")]
    IdempotencyParamsMismatch {
        /// The key.
        key: String,
    },
    /// A key reused on another endpoint.
    #[error("idempotency key reused on another endpoint")]
    IdempotencyEndpointMismatch {
        /// The key.
        key: String,
        /// Where it was first used.
        original_path: String,
        /// Where it is used now.
        path: String,
    },
    /// A key whose first request is still running.
    #[error("idempotency key in use")]
    IdempotencyKeyInUse {
        /// The key.
        key: String,
    },
    /// Over the platform's request rate (only with `--rate-limit`).
    #[error("rate limited in {mode} mode")]
    RateLimited {
        /// The mode whose limit was hit.
        mode: Mode,
    },
    /// A test-double fault rule answered this request instead of the handler.
    #[error("fault injected: {status}")]
    Faulted {
        /// One of `test_double::FAULT_STATUSES`.
        status: u16,
    },
    /// A test helper whose switch is off.
    #[error("test helper off: {flag}")]
    TestHelperOff {
        /// What it does, for people.
        what: &'static str,
        /// The `serve` flag that turns it on.
        flag: &'static str,
    },
    /// A live-mode key on a server that runs as a test double.
    #[error("live mode refused by a test double")]
    LiveModeRefused {
        /// The key, masked.
        masked: String,
        /// The test-double flags that are on.
        flags: String,
    },
    /// Something failed inside the server. The response is generic; the cause is logged.
    #[error("internal error")]
    Internal {
        /// The cause, for the log only.
        #[source]
        cause: anyhow::Error,
        /// Whether retrying is safe (nothing was half-done).
        retryable: bool,
    },
}

use crate::domain::account_session::ClaimRefusal;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        // Every store operation is atomic: a failed one changed nothing.
        Self::Internal {
            cause: anyhow::Error::new(error),
            retryable: true,
        }
    }
}

/// The `type` of an error object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorType {
    /// `invalid_request_error`: the request was wrong.
    InvalidRequest,
    /// `idempotency_error`: an `Idempotency-Key` reused differently.
    Idempotency,
    /// `api_error`: the server failed.
    Api,
}

impl ErrorType {
    /// Every type, alphabetically by spelling (a new variant goes here too).
    const ALL: [Self; 3] = [Self::Api, Self::Idempotency, Self::InvalidRequest];

    /// The wire spelling.
    const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request_error",
            Self::Idempotency => "idempotency_error",
            Self::Api => "api_error",
        }
    }
}

/// Every `type` an error object can have, as spelled on the wire (for the
/// OpenAPI document).
pub(crate) fn error_types() -> impl Iterator<Item = &'static str> {
    ErrorType::ALL.into_iter().map(ErrorType::as_str)
}

/// A `code` Stripe defines and documents at
/// `https://stripe.com/docs/error-codes/<code, dashed>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StripeCode {
    AccountInvalid,
    ApiKeyExpired,
    BankAccountExists,
    EmailInvalid,
    IdempotencyKeyInUse,
    ParameterInvalidEmpty,
    ParameterInvalidInteger,
    ParameterMissing,
    ParameterUnknown,
    ParametersExclusive,
    MorePermissionsRequired,
    OauthNotSupported,
    RateLimit,
    ResourceMissing,
    SecretKeyRequired,
    UrlInvalid,
}

impl StripeCode {
    /// The wire spelling.
    const fn as_str(self) -> &'static str {
        match self {
            Self::AccountInvalid => "account_invalid",
            Self::ApiKeyExpired => "api_key_expired",
            Self::BankAccountExists => "bank_account_exists",
            Self::EmailInvalid => "email_invalid",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::ParameterInvalidEmpty => "parameter_invalid_empty",
            Self::ParameterInvalidInteger => "parameter_invalid_integer",
            Self::ParameterMissing => "parameter_missing",
            Self::ParameterUnknown => "parameter_unknown",
            Self::ParametersExclusive => "parameters_exclusive",
            Self::MorePermissionsRequired => "more_permissions_required",
            Self::OauthNotSupported => "oauth_not_supported",
            Self::RateLimit => "rate_limit",
            Self::ResourceMissing => "resource_missing",
            Self::SecretKeyRequired => "secret_key_required",
            Self::UrlInvalid => "url_invalid",
        }
    }
}

/// A `code` this server defines beyond Stripe's. Stripe's documentation has
/// no page for it, so its errors carry no `doc_url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OwnCode {
    AccountSessionAlreadyClaimed,
    AccountSessionExpired,
    AccountSessionRevoked,
    PublishableKeyRequired,
}

impl OwnCode {
    /// The wire spelling.
    const fn as_str(self) -> &'static str {
        match self {
            Self::AccountSessionAlreadyClaimed => "account_session_already_claimed",
            Self::AccountSessionExpired => "account_session_expired",
            Self::AccountSessionRevoked => "account_session_revoked",
            Self::PublishableKeyRequired => "publishable_key_required",
        }
    }
}

/// An error `code`: Stripe's or ours, told apart by type so that only
/// Stripe's can link to Stripe's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    /// One of Stripe's.
    Stripe(StripeCode),
    /// One of this server's own.
    Own(OwnCode),
}

impl Code {
    /// The wire spelling.
    const fn as_str(self) -> &'static str {
        match self {
            Self::Stripe(code) => code.as_str(),
            Self::Own(code) => code.as_str(),
        }
    }

    /// Stripe's page for the code, if it is Stripe's.
    fn doc_url(self) -> Option<String> {
        match self {
            Self::Stripe(code) => Some(format!(
                "https://stripe.com/docs/error-codes/{}",
                code.as_str().replace('_', "-")
            )),
            Self::Own(_) => None,
        }
    }
}

/// Stripe's message for a request over the live-mode rate limit.
const RATE_LIMITED_LIVE_MESSAGE: &str = "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.";
/// Stripe's message for a request over the (lower) test-mode rate limit.
const RATE_LIMITED_TEST_MESSAGE: &str = "Testmode request rate limit exceeded, the rate limits in testmode are lower than livemode. You can learn more about rate limits here https://stripe.com/docs/rate-limits.";
/// Our message for a secret key on the claim endpoint.
const PUBLISHABLE_KEY_REQUIRED_MESSAGE: &str = "This API call must be made with a publishable API key (pk_test_… or pk_live_…): it runs in the browser, where a secret key must never be.";
/// Our message for a client secret claimed before.
const ALREADY_CLAIMED_MESSAGE: &str = "This account session's client secret has already been claimed. Client secrets are single-use: create a new account session for every page load.";
/// Our message for a client secret past its session's `expires_at`.
const SESSION_EXPIRED_MESSAGE: &str =
    "This account session has expired. Create a new account session and claim its client secret.";
/// Our message for a client secret whose session the platform revoked.
const SESSION_REVOKED_MESSAGE: &str = "This account session has been revoked by the platform. Create a new account session and claim its client secret.";
/// Our message for a client secret that names no session.
const UNKNOWN_CLIENT_SECRET_MESSAGE: &str =
    "No such account session: no session matches this client secret.";
/// Our message for a test helper called with a live key.
const TEST_MODE_ONLY_MESSAGE: &str =
    "Test helpers can only be used in test mode: use a test-mode secret key (sk_test_…).";
/// Stripe's message for a bank account the account already has.
const BANK_ACCOUNT_EXISTS_MESSAGE: &str =
    "A bank account with that routing number and account number already exists for this account.";
/// Stripe's addition to an unrecognized URL that ends in a slash.
const TRAILING_SLASH_HINT: &str = " If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code.";

/// One row of the error table: everything a response shows.
#[derive(Debug)]
struct ErrorRow {
    /// The HTTP status.
    status: StatusCode,
    /// The `type`.
    kind: ErrorType,
    /// The `code`, if any.
    code: Option<Code>,
    /// The `message`.
    message: String,
    /// The `param`, if any.
    param: Option<String>,
}

impl ApiError {
    /// A value outside what is allowed, with our own message.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidParam {
            param: param.into(),
            message: message.into(),
        }
    }

    /// The one table of error rendering: each variant's status, type, code,
    /// message and param.
    fn row(&self) -> ErrorRow {
        use ErrorType::{Api, Idempotency, InvalidRequest};
        use StatusCode as S;
        use StripeCode as C;
        match self {
            Self::MissingApiKey => ErrorRow {
                status: S::UNAUTHORIZED,
                kind: InvalidRequest,
                code: None,
                message: NO_KEY_MESSAGE.to_owned(),
                param: None,
            },
            Self::InvalidApiKey { masked } => ErrorRow {
                status: S::UNAUTHORIZED,
                kind: InvalidRequest,
                code: None,
                message: format!("Invalid API Key provided: {masked}"),
                param: None,
            },
            Self::ExpiredApiKey { masked } => ErrorRow {
                status: S::UNAUTHORIZED,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::ApiKeyExpired)),
                message: format!("Expired API Key provided: {masked}"),
                param: None,
            },
            Self::SecretKeyRequired => ErrorRow {
                status: S::UNAUTHORIZED,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::SecretKeyRequired)),
                message: PUBLISHABLE_KEY_MESSAGE.to_owned(),
                param: None,
            },
            Self::PublishableKeyRequired => ErrorRow {
                status: S::UNAUTHORIZED,
                kind: InvalidRequest,
                code: Some(Code::Own(OwnCode::PublishableKeyRequired)),
                message: PUBLISHABLE_KEY_REQUIRED_MESSAGE.to_owned(),
                param: None,
            },
            Self::EmbeddedKeyRequired { masked } => ErrorRow {
                status: S::FORBIDDEN,
                kind: InvalidRequest,
                code: None,
                message: format!(
                    "The provided key '{masked}' cannot call the client-side API. It takes embedded session keys (em_test_… or em_live_…), which a browser gets by claiming an account session's client secret at POST /v1/account_sessions/claim."
                ),
                param: None,
            },
            Self::PermissionDenied {
                masked_key,
                account,
                remedy,
            } => ErrorRow {
                status: S::FORBIDDEN,
                kind: InvalidRequest,
                code: None,
                message: format!(
                    "The provided key '{masked_key}' does not have the required permissions for this endpoint on account '{account}'. {remedy}"
                ),
                param: None,
            },
            Self::ClaimRefused(ClaimRefusal::AlreadyClaimed) => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Own(OwnCode::AccountSessionAlreadyClaimed)),
                message: ALREADY_CLAIMED_MESSAGE.to_owned(),
                param: Some("client_secret".to_owned()),
            },
            Self::ClaimRefused(ClaimRefusal::Expired) => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Own(OwnCode::AccountSessionExpired)),
                message: SESSION_EXPIRED_MESSAGE.to_owned(),
                param: Some("client_secret".to_owned()),
            },
            Self::ClaimRefused(ClaimRefusal::Revoked) => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Own(OwnCode::AccountSessionRevoked)),
                message: SESSION_REVOKED_MESSAGE.to_owned(),
                param: Some("client_secret".to_owned()),
            },
            Self::UnknownClientSecret => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::ResourceMissing)),
                message: UNKNOWN_CLIENT_SECRET_MESSAGE.to_owned(),
                param: Some("client_secret".to_owned()),
            },
            Self::NoSuchObject { object, id } => ErrorRow {
                status: S::NOT_FOUND,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::ResourceMissing)),
                message: format!("No such {object}: '{id}'"),
                param: Some("id".to_owned()),
            },
            Self::TestModeOnly => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: TEST_MODE_ONLY_MESSAGE.to_owned(),
                param: None,
            },
            Self::BankAccountExists => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::BankAccountExists)),
                message: BANK_ACCOUNT_EXISTS_MESSAGE.to_owned(),
                param: Some("account_number".to_owned()),
            },
            Self::ParameterMissing { param } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::ParameterMissing)),
                message: format!("Missing required param: {param}."),
                param: Some(param.clone()),
            },
            Self::ParameterUnknown { params } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::ParameterUnknown)),
                message: match params.as_slice() {
                    [one] => format!("Received unknown parameter: {one}"),
                    many => format!("Received unknown parameters: {}", many.join(", ")),
                },
                param: params.first().cloned(),
            },
            Self::ParameterInvalidEmpty { param } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::ParameterInvalidEmpty)),
                message: format!(
                    "You passed an empty string for '{param}'. We assume empty values are an attempt to unset a parameter; however '{param}' cannot be unset. You should remove '{param}' from your request or supply a non-empty value."
                ),
                param: Some(param.clone()),
            },
            Self::InvalidBoolean { param, value } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: format!("Invalid boolean: {value}"),
                param: Some(param.clone()),
            },
            Self::InvalidInteger { param, value } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::ParameterInvalidInteger)),
                message: format!("Invalid integer: {value}"),
                param: Some(param.clone()),
            },
            Self::InvalidEmail { param, value } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::EmailInvalid)),
                message: format!("Invalid email address: {value}"),
                param: Some(param.clone()),
            },
            Self::ParametersExclusive { params } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::ParametersExclusive)),
                message: format!(
                    "You may only specify one of these parameters: {}.",
                    params.join(", ")
                ),
                param: params.first().map(|param| (*param).to_owned()),
            },
            Self::InvalidParam { param, message } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: message.clone(),
                param: Some(param.clone()),
            },
            Self::InvalidRequest { message } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: message.clone(),
                param: None,
            },
            Self::CannotExpand { path, param } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: format!("This property cannot be expanded ({path})."),
                param: Some(param.clone()),
            },
            Self::ResourceMissing {
                object,
                id,
                param,
                exists_in,
            } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::ResourceMissing)),
                message: match exists_in {
                    None => format!("No such {object}: '{id}'"),
                    Some(other) => format!(
                        "No such {object}: '{id}'; a similar object exists in {other} mode, but a {} mode key was used to make this request.",
                        other.other()
                    ),
                },
                param: param.clone(),
            },
            Self::AccountInvalid {
                masked_key,
                account,
            } => ErrorRow {
                status: S::FORBIDDEN,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::AccountInvalid)),
                message: format!(
                    "The provided key '{masked_key}' does not have access to account '{account}' (or that account does not exist). Application access may have been revoked."
                ),
                param: None,
            },
            Self::InvalidUrl { param } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::UrlInvalid)),
                message: "Not a valid URL".to_owned(),
                param: Some(param.clone()),
            },
            Self::ParametersForbidden { params, account } => ErrorRow {
                status: S::FORBIDDEN,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::OauthNotSupported)),
                message: match params.as_slice() {
                    [one] => format!(
                        "This application does not have the required permissions for the parameter '{one}' on account '{account}'."
                    ),
                    many => format!(
                        "This application does not have the required permissions for the parameters {} on account '{account}'.",
                        many.iter()
                            .map(|param| format!("'{param}'"))
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                },
                param: params.first().map(|param| (*param).to_owned()),
            },
            Self::TermsOfServiceForbidden => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: "You cannot accept the Terms of Service on behalf of accounts where `controller[requirement_collection]=stripe`, which includes Standard and Express accounts.".to_owned(),
                param: Some("tos_acceptance".to_owned()),
            },
            Self::EndpointForbidden {
                masked_key,
                account,
            } => ErrorRow {
                status: S::FORBIDDEN,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::MorePermissionsRequired)),
                message: format!(
                    "The provided key '{masked_key}' does not have the required permissions for this endpoint on account '{account}'. Having more permissions would allow this request to continue."
                ),
                param: None,
            },
            Self::UnrecognizedUrl { method, path } => ErrorRow {
                status: S::NOT_FOUND,
                kind: InvalidRequest,
                code: None,
                message: format!(
                    "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.{}",
                    if path.len() > 1 && path.ends_with('/') {
                        TRAILING_SLASH_HINT
                    } else {
                        ""
                    }
                ),
                param: None,
            },
            Self::NotFormEncoded => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: NOT_FORM_ENCODED_MESSAGE.to_owned(),
                param: None,
            },
            Self::BodyTooLarge { limit } => ErrorRow {
                status: S::PAYLOAD_TOO_LARGE,
                kind: InvalidRequest,
                code: None,
                message: format!("The request body is too large: the limit is {limit} bytes."),
                param: None,
            },
            Self::BodyReadTimeout { limit } => ErrorRow {
                status: S::REQUEST_TIMEOUT,
                kind: InvalidRequest,
                code: None,
                message: format!(
                    "The request body was not received within {}.",
                    humantime::format_duration(*limit)
                ),
                param: None,
            },
            Self::InvalidApiVersion { version } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: format!("Invalid Stripe API version: {version}"),
                param: None,
            },
            Self::IdempotencyKeyTooLong { len } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: format!(
                    "Idempotency keys can be at most 255 characters long, but the Idempotency-Key header sent has {len}."
                ),
                param: None,
            },
            Self::IdempotencyKeyInvalid => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: "Idempotency keys may only contain visible ASCII characters (letters, digits and punctuation, without spaces or control characters), but the Idempotency-Key header sent has others.".to_owned(),
                param: None,
            },
            Self::Overloaded => ErrorRow {
                status: S::SERVICE_UNAVAILABLE,
                kind: Api,
                code: None,
                message: "The server is receiving too many request bodies at once. You can safely retry this request.".to_owned(),
                param: None,
            },
            Self::IdempotencyParamsMismatch { key } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: Idempotency,
                code: None,
                message: format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                ),
                param: None,
            },
            Self::IdempotencyEndpointMismatch {
                key,
                original_path,
                path,
            } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: Idempotency,
                code: None,
                message: format!(
                    "Keys for idempotent requests can only be used for the same endpoint they were first used for ('{original_path}' vs '{path}'). Try using a key other than '{key}' if you meant to execute a different request."
                ),
                param: None,
            },
            Self::IdempotencyKeyInUse { key } => ErrorRow {
                status: S::CONFLICT,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::IdempotencyKeyInUse)),
                message: format!(
                    "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): {key}. Please try again later."
                ),
                param: None,
            },
            Self::RateLimited { mode: Mode::Live } => ErrorRow {
                status: S::TOO_MANY_REQUESTS,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::RateLimit)),
                message: RATE_LIMITED_LIVE_MESSAGE.to_owned(),
                param: None,
            },
            Self::RateLimited { mode: Mode::Test } => ErrorRow {
                status: S::TOO_MANY_REQUESTS,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::RateLimit)),
                message: RATE_LIMITED_TEST_MESSAGE.to_owned(),
                param: None,
            },
            Self::Faulted { status: 429 } => ErrorRow {
                status: S::TOO_MANY_REQUESTS,
                kind: InvalidRequest,
                code: Some(Code::Stripe(C::RateLimit)),
                message: RATE_LIMITED_TEST_MESSAGE.to_owned(),
                param: None,
            },
            Self::Faulted { status: 500 } => ErrorRow {
                status: S::INTERNAL_SERVER_ERROR,
                kind: Api,
                code: None,
                message: INTERNAL_RETRYABLE_MESSAGE.to_owned(),
                param: None,
            },
            Self::Faulted { status } => ErrorRow {
                status: S::from_u16(*status).unwrap_or(S::SERVICE_UNAVAILABLE),
                kind: Api,
                code: None,
                message: UNAVAILABLE_MESSAGE.to_owned(),
                param: None,
            },
            Self::TestHelperOff { what, flag } => ErrorRow {
                status: S::BAD_REQUEST,
                kind: InvalidRequest,
                code: None,
                message: format!("{what} is off: start the server with {flag} to use it."),
                param: None,
            },
            Self::LiveModeRefused { masked, flags } => ErrorRow {
                status: S::UNAUTHORIZED,
                kind: InvalidRequest,
                code: None,
                message: format!(
                    "Live mode is refused: this server runs as a test double ({flags}). Use a test-mode key: {masked} is a live-mode key."
                ),
                param: None,
            },
            Self::Internal {
                retryable: true, ..
            } => ErrorRow {
                status: S::INTERNAL_SERVER_ERROR,
                kind: Api,
                code: None,
                message: INTERNAL_RETRYABLE_MESSAGE.to_owned(),
                param: None,
            },
            Self::Internal {
                retryable: false, ..
            } => ErrorRow {
                status: S::INTERNAL_SERVER_ERROR,
                kind: Api,
                code: None,
                message: INTERNAL_MESSAGE.to_owned(),
                param: None,
            },
        }
    }

    /// Whether a client may retry this request unchanged and expect a different answer.
    fn should_retry(&self) -> bool {
        match self {
            Self::Internal { retryable, .. } => *retryable,
            // Stripe's own failures: the SDKs retry them (with the same key).
            Self::Faulted { status } => *status >= 500,
            // The first request may finish (or fail) meanwhile: retrying is right.
            Self::IdempotencyKeyInUse { .. } => true,
            // Nothing ran: the body was never read.
            Self::Overloaded => true,
            _ => false,
        }
    }
}

/// The `error` object of Stripe's envelope; fields in Stripe's (alphabetical) order.
#[derive(Serialize)]
struct ErrorObject<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    doc_url: Option<String>,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    param: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: ErrorObject<'a>,
}

/// The full cause of a 500, carried in the response's extensions to the logging
/// middleware, which logs it inside the request's span. Never rendered.
#[derive(Debug, Clone)]
pub struct InternalErrorReport(pub Arc<String>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let row = self.row();
        let body = Envelope {
            error: ErrorObject {
                code: row.code.map(Code::as_str),
                doc_url: row.code.and_then(Code::doc_url),
                message: &row.message,
                param: row.param.as_deref(),
                kind: row.kind.as_str(),
            },
        };
        let mut response = (row.status, Json(body)).into_response();
        let retry = if self.should_retry() { "true" } else { "false" };
        response
            .headers_mut()
            .insert("stripe-should-retry", HeaderValue::from_static(retry));
        if matches!(
            self,
            Self::RateLimited { .. } | Self::Faulted { status: 429 }
        ) {
            // Every limit here is Stripe's "global" one: per platform and mode.
            response.headers_mut().insert(
                "stripe-rate-limited-reason",
                HeaderValue::from_static("global-rate"),
            );
        }
        if let Self::Internal { cause, .. } = &self {
            response
                .extensions_mut()
                .insert(InternalErrorReport(Arc::new(format!("{cause:#}"))));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn several_unknown_parameters_are_listed_and_the_first_is_the_param() {
        let (status, body) = body_of(ApiError::ParameterUnknown {
            params: vec!["amount".into(), "currency".into()],
        })
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            serde_json::json!({"error": {
                "code": "parameter_unknown",
                "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
                "message": "Received unknown parameters: amount, currency",
                "param": "amount",
                "type": "invalid_request_error"
            }})
        );
    }

    #[tokio::test]
    async fn our_own_codes_carry_no_doc_url() {
        let (_, body) = body_of(ApiError::ClaimRefused(ClaimRefusal::Revoked)).await;
        assert_eq!(body["error"]["code"], "account_session_revoked");
        assert!(body["error"].get("doc_url").is_none());
        let (_, body) = body_of(ApiError::UnknownClientSecret).await;
        assert_eq!(
            body["error"]["doc_url"],
            "https://stripe.com/docs/error-codes/resource-missing"
        );
    }

    #[tokio::test]
    async fn internal_errors_say_nothing_about_their_cause() {
        let response = ApiError::Internal {
            cause: anyhow::anyhow!("disk I/O error at /secret/path"),
            retryable: true,
        }
        .into_response();
        assert_eq!(response.headers()["stripe-should-retry"], "true");
        assert!(response.extensions().get::<InternalErrorReport>().is_some());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(!text.contains("secret"));
        assert!(text.contains("\"type\":\"api_error\""));
    }

    #[tokio::test]
    async fn the_mode_hint_names_both_modes() {
        let (_, body) = body_of(ApiError::ResourceMissing {
            object: "account",
            id: "acct_1".into(),
            param: Some("account".into()),
            exists_in: Some(Mode::Test),
        })
        .await;
        assert_eq!(
            body["error"]["message"],
            "No such account: 'acct_1'; a similar object exists in test mode, but a live mode key was used to make this request."
        );
    }
}
