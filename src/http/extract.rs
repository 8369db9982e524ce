//! Extractors that turn a request into what handlers need: the authenticated
//! tenant, and typed parameters decoded from a form body or a query string.
//!
//! Handlers list the authentication extractor before the parameters, so a request
//! with a bad key is refused before its body is looked at, as Stripe does.

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use base64::Engine;

use super::RequestId;
use super::cache::AccountLookup;
use super::error::ApiError;
use super::form::{self, Decoder, Params};
use super::idempotent::{ClientGone, IdempotencyContext};
use super::rate_limit::Caller;
use super::state::AppState;
use crate::clock::{Clock, SystemClock};
use crate::domain::embedded_session::{Capability, EmbeddedSession, KeyState};
use crate::domain::ids::{AccountId, PlatformId};
use crate::domain::keys::{KeyKind, PresentedKey};
use crate::domain::mode::Mode;
use crate::domain::platform::{DeclaredPlatform, KeyGrant, KeyValidity, Tenant};
use crate::domain::webhooks::RequestRef;
use crate::idempotency::{Fingerprint, IdempotencyKey, InvalidKey};
use crate::store::DeclaredOutcome;

/// The key in a request's `Authorization` header: HTTP Basic with the key as the
/// user name (any password), or Bearer. `None` when there is none to read.
pub fn presented_key(headers: &HeaderMap) -> Option<PresentedKey> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    let credentials = credentials.trim();
    let key = if scheme.eq_ignore_ascii_case("bearer") {
        credentials.to_owned()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        decoded
            .split_once(':')
            .map_or(decoded.as_str(), |(user, _)| user)
            .to_owned()
    } else {
        return None;
    };
    (!key.is_empty()).then(|| PresentedKey::new(&key))
}

/// What a presented key turned out to be.
#[derive(Debug, Clone)]
enum Identity {
    /// One of a platform's secret or publishable keys.
    Platform(KeyGrant),
    /// A working (claimed, unexpired, not ended) embedded session key.
    Embedded(EmbeddedSession),
}

/// Resolves a key: unknown keys, keys of prefixes we never issue, and ended
/// embedded sessions are invalid; expired embedded sessions are expired.
async fn identify(state: &AppState, key: &PresentedKey) -> Result<Identity, ApiError> {
    let invalid = || ApiError::InvalidApiKey {
        masked: key.masked(),
    };
    match key.classify() {
        Some((KeyKind::Secret | KeyKind::Publishable, _)) => {
            let hash = key.hash();
            // A remembered grant serves for at most `KEY_TRUST`, so a key
            // rolled or revoked by another process is refused here soon after.
            let grant = match state.caches.key(&hash) {
                Some(grant) => grant,
                None => {
                    let grant = match state.store.find_key(hash).await? {
                        Some(grant) => grant,
                        None => accept_on_first_use(state, key).await?.ok_or_else(invalid)?,
                    };
                    state.caches.remember_key(hash, grant.clone());
                    grant
                }
            };
            // Keys belong to the operator, so they expire on the wall clock,
            // never on a test double's movable one.
            match grant.validity(SystemClock.now()) {
                KeyValidity::Usable => {}
                KeyValidity::Expired => {
                    return Err(ApiError::ExpiredApiKey {
                        masked: key.masked(),
                    });
                }
                KeyValidity::Revoked => return Err(invalid()),
            }
            refuse_live_in_test_double(state, key, grant.mode)?;
            check_rate(state, &grant.platform, grant.mode, caller_of(grant.kind))?;
            Ok(Identity::Platform(grant))
        }
        Some((KeyKind::Embedded, _)) => {
            let session = state
                .store
                .find_embedded_session(key.hash())
                .await?
                .ok_or_else(invalid)?;
            match session.state(state.clock.now()) {
                KeyState::Active => {
                    refuse_live_in_test_double(state, key, session.mode)?;
                    check_rate(state, &session.platform, session.mode, Caller::Embedded)?;
                    Ok(Identity::Embedded(session))
                }
                KeyState::Expired => Err(ApiError::ExpiredApiKey {
                    masked: key.masked(),
                }),
                KeyState::Ended => Err(invalid()),
            }
        }
        Some((KeyKind::Restricted, _)) | None => Err(invalid()),
    }
}

/// Under `--accept-any-test-key`, the grant of an unknown well-formed test
/// key (`sk_test_X`, `pk_test_X`): its platform, invented and stored now with
/// both keys, so that code written against stripe-mock's `sk_test_123` runs
/// unchanged. `None` for any other key, or without the switch. Also used by
/// the test double's middleware, which runs before authentication, so that
/// the request creating the platform is faulted and logged like its others.
pub(super) async fn accept_on_first_use(
    state: &AppState,
    key: &PresentedKey,
) -> Result<Option<KeyGrant>, ApiError> {
    if !state.config.test_double.accept_any_test_key {
        return Ok(None);
    }
    let Some(platform) = DeclaredPlatform::for_any_test_key(key.expose_secret()) else {
        return Ok(None);
    };
    match state
        .store
        .ensure_declared_platform(&platform, state.clock.now())
        .await?
    {
        DeclaredOutcome::Created => {
            tracing::info!(platform = %platform.id, "test platform created on first use of its key");
        }
        DeclaredOutcome::Existed => {}
        // The other key of the pair is another platform's (declared with
        // --test-keys-from): this one stays unknown.
        DeclaredOutcome::KeyTaken(_) => return Ok(None),
    }
    Ok(state.store.find_key(key.hash()).await?)
}

/// Refuses a live-mode key when the server runs as a test double: a moved
/// clock, injected faults, a seeded generator or keys anyone may invent have
/// no place in live mode.
fn refuse_live_in_test_double(
    state: &AppState,
    key: &PresentedKey,
    mode: Mode,
) -> Result<(), ApiError> {
    let switches = &state.config.test_double;
    if mode.is_live() && switches.any() {
        return Err(ApiError::LiveModeRefused {
            masked: key.masked(),
            flags: switches.flags(),
        });
    }
    Ok(())
}

/// Refuses the request if its caller is over its rate at its platform in
/// `mode` (only when rate limiting is on). Runs right after authentication, so
/// a limited request is never saved for idempotency.
fn check_rate(
    state: &AppState,
    platform: &PlatformId,
    mode: Mode,
    caller: Caller,
) -> Result<(), ApiError> {
    match &state.rate_limiter {
        Some(limiter) if !limiter.allow(platform, mode, caller) => {
            Err(ApiError::RateLimited { mode })
        }
        _ => Ok(()),
    }
}

/// The rate-limit bucket of a platform key's kind.
fn caller_of(kind: KeyKind) -> Caller {
    match kind {
        KeyKind::Publishable => Caller::Publishable,
        KeyKind::Embedded => Caller::Embedded,
        KeyKind::Secret | KeyKind::Restricted => Caller::Secret,
    }
}

/// The key a request presented, or Stripe's "no key" error.
fn required_key(parts: &Parts) -> Result<PresentedKey, ApiError> {
    presented_key(&parts.headers).ok_or(ApiError::MissingApiKey)
}

/// The 403 an embedded session key gets on any platform endpoint.
fn platform_endpoint_denied(key: &PresentedKey, session: &EmbeddedSession) -> ApiError {
    ApiError::PermissionDenied {
        masked_key: key.masked(),
        account: session.account.to_string(),
        remedy: "Embedded session keys can only call the client-side API (/v1/embedded_session, /v1/account and /v1/account/external_accounts); call this endpoint from your server with a secret key.".to_owned(),
    }
}

/// The header with which Stripe lets a platform act as one of its connected accounts.
const STRIPE_ACCOUNT: &str = "stripe-account";

/// The route templates on which `Stripe-Account` is honoured with a secret key:
/// those about one connected account, named in the path. There the header must
/// name that same account. Every other platform endpoint (creating and listing
/// accounts, account sessions, webhook endpoints, events, test helpers) acts as
/// the platform itself, which a connected account cannot do.
const ACCOUNT_SCOPED_PREFIX: &str = "/v1/accounts/{id}";

/// The account a request's `Stripe-Account` header names, as sent.
fn stripe_account_header(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(STRIPE_ACCOUNT)?;
    Some(String::from_utf8_lossy(value.as_bytes()).trim().to_owned())
}

/// The 400 for `Stripe-Account` on an endpoint that acts as the platform: the
/// header is refused rather than silently ignored.
fn stripe_account_unsupported(parts: &Parts) -> ApiError {
    ApiError::InvalidRequest {
        message: format!(
            "The Stripe-Account header is not supported on {} {}: this endpoint acts as your platform, not as a connected account. Remove the header, or use an endpoint under /v1/accounts/{{account}}.",
            parts.method,
            parts.uri.path()
        ),
    }
}

/// Honours `Stripe-Account` on a secret-key request: absent, nothing to do; on
/// an endpoint about one connected account, it must name a connected account of
/// this platform in this mode, and the same one as the path. Any other account
/// (another platform's, another mode's, one that does not exist) gets the one
/// answer Stripe gives, `account_invalid`, so nothing about it leaks.
async fn check_stripe_account(
    parts: &Parts,
    state: &AppState,
    tenant: &Tenant,
    key: &PresentedKey,
) -> Result<(), ApiError> {
    let Some(named) = stripe_account_header(parts) else {
        return Ok(());
    };
    let scoped = parts
        .extensions
        .get::<MatchedPath>()
        .is_some_and(|template| template.as_str().starts_with(ACCOUNT_SCOPED_PREFIX));
    let path_account = parts
        .uri
        .path()
        .strip_prefix("/v1/accounts/")
        .and_then(|rest| rest.split('/').next());
    let (true, Some(path_account)) = (scoped, path_account) else {
        return Err(stripe_account_unsupported(parts));
    };
    let no_access = |account: &str| ApiError::AccountInvalid {
        masked_key: key.masked(),
        account: account.to_owned(),
    };
    let Some(id) = AccountId::parse(&named) else {
        return Err(no_access(&named));
    };
    match state
        .caches
        .account_controller(state.store.as_ref(), tenant, &id)
        .await?
    {
        AccountLookup::Found(_) => {}
        AccountLookup::Missing | AccountLookup::OtherMode(_) => return Err(no_access(&named)),
    }
    // Acting as one connected account, no other account can be reached.
    if path_account != id.as_str() {
        return Err(no_access(path_account));
    }
    Ok(())
}

/// A request made with one of a platform's secret keys.
#[derive(Debug, Clone)]
pub struct SecretKeyAuth {
    /// The platform and mode the key belongs to.
    pub tenant: Tenant,
    /// The key as presented, for messages that mask it.
    pub key: PresentedKey,
}

impl FromRequestParts<AppState> for SecretKeyAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = required_key(parts)?;
        match identify(state, &key).await? {
            Identity::Platform(grant) if grant.kind == KeyKind::Secret => {
                let tenant = Tenant {
                    platform: grant.platform,
                    mode: grant.mode,
                };
                check_stripe_account(parts, state, &tenant, &key).await?;
                Ok(Self { tenant, key })
            }
            Identity::Platform(_) => Err(ApiError::SecretKeyRequired),
            Identity::Embedded(session) => Err(platform_endpoint_denied(&key, &session)),
        }
    }
}

/// A request made with one of a platform's publishable keys (the browser's
/// claim of a client secret).
#[derive(Debug, Clone)]
pub struct PublishableKeyAuth {
    /// The platform and mode the key belongs to.
    pub tenant: Tenant,
}

impl FromRequestParts<AppState> for PublishableKeyAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = required_key(parts)?;
        match identify(state, &key).await? {
            Identity::Platform(grant) if grant.kind == KeyKind::Publishable => {
                // Claiming a client secret acts as the platform: the secret
                // already names its account.
                if stripe_account_header(parts).is_some() {
                    return Err(stripe_account_unsupported(parts));
                }
                Ok(Self {
                    tenant: Tenant {
                        platform: grant.platform,
                        mode: grant.mode,
                    },
                })
            }
            Identity::Platform(_) => Err(ApiError::PublishableKeyRequired),
            Identity::Embedded(session) => Err(ApiError::PermissionDenied {
                masked_key: key.masked(),
                account: session.account.to_string(),
                remedy: "Claim client secrets with your platform's publishable key (pk_test_… or pk_live_…).".to_owned(),
            }),
        }
    }
}

/// A request made with a working embedded session key (the client-side API).
#[derive(Debug, Clone)]
pub struct EmbeddedAuth {
    /// The embedded session, active at the time of the request.
    pub session: EmbeddedSession,
    /// The key as presented, for messages that mask it.
    pub key: PresentedKey,
}

impl EmbeddedAuth {
    /// The platform and mode of the session, for store calls.
    pub fn tenant(&self) -> Tenant {
        Tenant {
            platform: self.session.platform.clone(),
            mode: self.session.mode,
        }
    }

    /// Refuses the request, in Stripe's permission style, unless the session's
    /// components grant `capability`.
    pub fn require(&self, capability: Capability) -> Result<(), ApiError> {
        if self.session.grants(capability) {
            return Ok(());
        }
        Err(ApiError::PermissionDenied {
            masked_key: self.key.masked(),
            account: self.session.account.to_string(),
            remedy: capability.remedy(),
        })
    }
}

impl FromRequestParts<AppState> for EmbeddedAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = required_key(parts)?;
        match identify(state, &key).await? {
            Identity::Embedded(session) => {
                // An embedded session acts as its one account already: the
                // header may name it, and nothing else.
                if let Some(named) = stripe_account_header(parts)
                    && named != session.account.as_str()
                {
                    return Err(ApiError::AccountInvalid {
                        masked_key: key.masked(),
                        account: named,
                    });
                }
                Ok(Self { session, key })
            }
            Identity::Platform(_) => Err(ApiError::EmbeddedKeyRequired {
                masked: key.masked(),
            }),
        }
    }
}

/// Path parameters, as axum's `Path` reads them, except that a segment axum
/// cannot decode (not UTF-8 once percent-decoded) is decoded lossily (with
/// U+FFFD) and handed on: no id of ours can hold U+FFFD, so the route answers
/// exactly what it answers for any unknown id, in Stripe's envelope, instead of
/// axum's `text/plain` 400. Should even that fail, the answer is Stripe's 404
/// for a URL it does not serve.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => {
                tracing::debug!(%rejection, "path parameters decoded lossily");
                lossy_path_parameters(parts)
                    .map(Self)
                    .ok_or_else(|| ApiError::UnrecognizedUrl {
                        method: parts.method.to_string(),
                        path: parts.uri.path().to_owned(),
                    })
            }
        }
    }
}

/// The route's path parameters, in order, each segment percent-decoded with
/// invalid UTF-8 replaced: the segments of the matched template that are
/// `{name}`, taken from the request's path (our templates have no wildcards,
/// so the two split alike). One parameter reads as a string, several as a tuple.
fn lossy_path_parameters<T: serde::de::DeserializeOwned>(parts: &Parts) -> Option<T> {
    use serde::de::value::{Error, SeqDeserializer, StringDeserializer};
    let template = parts.extensions.get::<MatchedPath>()?.as_str();
    let values: Vec<String> = template
        .split('/')
        .zip(parts.uri.path().split('/'))
        .filter(|(name, _)| name.starts_with('{') && name.ends_with('}'))
        .map(|(_, raw)| {
            percent_encoding::percent_decode_str(raw)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    match values.as_slice() {
        [one] => T::deserialize(StringDeserializer::<Error>::new(one.clone())).ok(),
        _ => T::deserialize(SeqDeserializer::<_, Error>::new(values.into_iter())).ok(),
    }
}

/// Parameters an endpoint reads from a decoded form. Errors are recorded in the
/// [`Params`]'s decoder; whatever is not read is reported as unknown.
pub trait FromParams: Sized {
    /// Reads the parameters; `None` only after recording why.
    fn from_params(params: &mut Params<'_>) -> Option<Self>;
}

/// Decodes `bytes` (a body or a query string) into `T`, and fingerprints the
/// parameters when `fingerprinted`.
fn decode<T: FromParams>(
    bytes: &[u8],
    state: &AppState,
    fingerprinted: bool,
) -> Result<(T, Option<Vec<u8>>), ApiError> {
    let form = form::parse(bytes, state.config.form_limits)?;
    let fingerprint = fingerprinted.then(|| form::canonical_bytes(&form.tree));
    let mut decoder = Decoder::new(form.key_order);
    let parsed = {
        let mut root = decoder.root(form.tree);
        T::from_params(&mut root)
    };
    decoder.finish()?;
    let parsed = parsed.ok_or_else(|| ApiError::Internal {
        cause: anyhow::anyhow!("parameter decoding failed without recording an error"),
        retryable: false,
    })?;
    Ok((parsed, fingerprint))
}

/// Typed parameters from a form-encoded body, and what the request needs to
/// run idempotently.
#[derive(Debug, Clone)]
pub struct StripeForm<T> {
    /// The decoded parameters.
    pub params: T,
    /// The `Idempotency-Key`, path and request id.
    pub idempotency: IdempotencyContext,
}

impl<T: FromParams> FromRequest<AppState> for StripeForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(content_type) = request.headers().get(CONTENT_TYPE) {
            let essence = content_type
                .to_str()
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default()
                .trim();
            if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
                return Err(ApiError::NotFormEncoded);
            }
        }
        let key = match request.headers().get("idempotency-key") {
            None => None,
            Some(value) => {
                IdempotencyKey::parse(value.as_bytes()).map_err(|invalid| match invalid {
                    InvalidKey::TooLong { len } => ApiError::IdempotencyKeyTooLong { len },
                    InvalidKey::NotVisibleAscii => ApiError::IdempotencyKeyInvalid,
                })?
            }
        };
        let path = request.uri().path().to_owned();
        let query = request.uri().query().map(str::to_owned);
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(RequestId::generate);
        let client = request.extensions().get::<ClientGone>().cloned();
        let body = super::body::read(request, state).await?;
        let bytes = body.bytes.clone();
        // Parameters in a POST's query string count too, as in Stripe's Rails
        // heritage: they come first, so the body wins where both set a value.
        let bytes = match query {
            Some(query) if !query.is_empty() => [query.as_bytes(), b"&", &bytes].concat().into(),
            _ => bytes,
        };
        let (params, canonical) = decode(&bytes, state, key.is_some())?;
        let keyed = key.zip(canonical).map(|(key, canonical)| {
            let fingerprints = state.keyring.request_fingerprints(&canonical);
            (key, fingerprints.into_iter().map(Fingerprint).collect())
        });
        Ok(Self {
            params,
            idempotency: IdempotencyContext::new(keyed, path, request_id, client),
        })
    }
}

/// Typed parameters from the query string (list and retrieve endpoints).
#[derive(Debug, Clone)]
pub struct StripeQuery<T>(pub T);

impl<T: FromParams> FromRequestParts<AppState> for StripeQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        decode(query.as_bytes(), state, false).map(|(params, _)| Self(params))
    }
}

/// Where a request came from: the client's address and browser, for the
/// terms acceptance an embedded session records without being told.
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin {
    /// The peer's IP address, if the connection layer recorded it.
    pub ip: Option<std::net::IpAddr>,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(Self { ip, user_agent })
    }
}

/// The API request as the events it causes name it: its id and its
/// `Idempotency-Key` (`request.id`, `request.idempotency_key`).
#[derive(Debug, Clone)]
pub struct EventRequest(pub RequestRef);

impl<S: Send + Sync> FromRequestParts<S> for EventRequest {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let id = parts.extensions.get::<RequestId>().map(|id| id.0.clone());
        // A key too long is refused by the form extractor; here it is only named.
        let idempotency_key = parts
            .headers
            .get("idempotency-key")
            .and_then(|value| IdempotencyKey::parse(value.as_bytes()).ok().flatten())
            .map(|key| key.as_str().to_owned());
        Ok(Self(RequestRef {
            id,
            idempotency_key,
        }))
    }
}

/// Parameters for endpoints that take none (but may take `expand[]`).
#[derive(Debug, Clone, Default)]
pub struct NoParams;

impl FromParams for NoParams {
    fn from_params(_params: &mut Params<'_>) -> Option<Self> {
        Some(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(authorization).unwrap());
        headers
    }

    fn key_text(headers: &HeaderMap) -> Option<String> {
        presented_key(headers).map(|key| key.masked())
    }

    #[test]
    fn bearer_and_basic_carry_the_same_key() {
        let key = "sk_test_abcdefghijklmnopqrstuvwxyz0123456789";
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
        assert_eq!(
            key_text(&headers(&format!("Bearer {key}"))),
            Some(crate::domain::keys::mask(key))
        );
        assert_eq!(
            key_text(&headers(&format!("Basic {basic}"))),
            Some(crate::domain::keys::mask(key))
        );
        let without_colon = base64::engine::general_purpose::STANDARD.encode(key);
        assert_eq!(
            key_text(&headers(&format!("basic {without_colon}"))),
            Some(crate::domain::keys::mask(key))
        );
    }

    #[test]
    fn missing_or_unreadable_credentials_give_no_key() {
        assert!(presented_key(&HeaderMap::new()).is_none());
        assert!(key_text(&headers("Bearer ")).is_none());
        assert!(key_text(&headers("Basic !!!")).is_none());
        assert!(key_text(&headers("Digest abc")).is_none());
    }
}
