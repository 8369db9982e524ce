//! Extractors that turn a request into what handlers need: the authenticated
//! tenant, and typed parameters decoded from a form body or a query string.
//!
//! Handlers list the authentication extractor before the parameters, so a request
//! with a bad key is refused before its body is looked at, as Stripe does.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use base64::Engine;

use super::error::ApiError;
use super::form::{self, Decoder, Params};
use crate::app::AppState;
use crate::domain::keys::{KeyKind, PresentedKey};
use crate::domain::platform::Tenant;

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
        let key = presented_key(&parts.headers).ok_or(ApiError::MissingApiKey)?;
        let invalid = || ApiError::InvalidApiKey {
            masked: key.masked(),
        };
        // Keys without a prefix we issue cannot exist; skip the lookup.
        match key.classify() {
            Some((KeyKind::Secret | KeyKind::Publishable, _)) => {}
            _ => return Err(invalid()),
        }
        let grant = state
            .store
            .find_key(key.hash())
            .await?
            .ok_or_else(invalid)?;
        match grant.kind {
            KeyKind::Secret => Ok(Self {
                tenant: Tenant {
                    platform: grant.platform,
                    mode: grant.mode,
                },
                key,
            }),
            KeyKind::Publishable => Err(ApiError::SecretKeyRequired),
            KeyKind::Restricted | KeyKind::Embedded => Err(invalid()),
        }
    }
}

/// Parameters an endpoint reads from a decoded form. Errors are recorded in the
/// [`Params`]'s decoder; whatever is not read is reported as unknown.
pub trait FromParams: Sized {
    /// Reads the parameters; `None` only after recording why.
    fn from_params(params: &mut Params<'_>) -> Option<Self>;
}

/// Decodes `bytes` (a body or a query string) into `T`.
fn decode<T: FromParams>(bytes: &[u8], state: &AppState) -> Result<T, ApiError> {
    let form = form::parse(bytes, state.config.form_limits)?;
    let mut decoder = Decoder::new(form.key_order);
    let parsed = {
        let mut root = decoder.root(form.tree);
        T::from_params(&mut root)
    };
    decoder.finish()?;
    parsed.ok_or_else(|| ApiError::Internal {
        cause: anyhow::anyhow!("parameter decoding failed without recording an error"),
        retryable: false,
    })
}

/// Typed parameters from a form-encoded body.
#[derive(Debug, Clone)]
pub struct StripeForm<T>(pub T);

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
        let limit = state.config.max_body_bytes;
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| ApiError::BodyTooLarge { limit })?;
        decode(&bytes, state).map(Self)
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
        decode(query.as_bytes(), state).map(Self)
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
