//! The HTTP edge: routes, extractors, errors, and the middleware that gives every
//! response Stripe's headers.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::trace::TraceLayer;

use crate::domain::keys::random_alphanumeric;

pub mod cache;
pub mod error;
pub mod extract;
pub mod form;
pub mod idempotent;
pub mod openapi;
pub mod params;
pub mod rate_limit;
pub mod responses;
pub mod routes;
pub mod settings;
pub mod state;
pub mod version;

use error::{ApiError, InternalErrorReport};
use state::AppState;

/// The id of one request, as sent back in `Request-Id`: `req_` + 14 alphanumerics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// A new random request id.
    pub fn generate() -> Self {
        Self(format!("req_{}", random_alphanumeric(14)))
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(routes::health::router())
        .merge(routes::accounts::router())
        .merge(routes::account_sessions::router())
        .merge(routes::embedded::router())
        .merge(routes::openapi::router())
        .fallback(unrecognized_url)
        .method_not_allowed_fallback(unrecognized_url)
        // Layers run outside-in: the trace span wraps the header middleware, so
        // the internal errors it logs land inside the request's span.
        .layer(middleware::from_fn_with_state(state.clone(), stripe_headers))
        // Outside the header middleware: a preflight is answered before routing.
        .layer(middleware::from_fn(cors))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                // Only method and path: headers carry keys, query strings may carry data.
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
            }),
        )
        .with_state(state)
}

/// Stripe's answer for a path or method it does not serve.
async fn unrecognized_url(method: Method, uri: Uri) -> ApiError {
    ApiError::UnrecognizedUrl {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// Gives every response Stripe's headers, validates `Stripe-Version` first, and
/// logs internal errors with their cause.
async fn stripe_headers(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = RequestId::generate();
    request.extensions_mut().insert(request_id.clone());
    let headers = request.headers();
    let idempotency_key = headers.get("idempotency-key").cloned();
    let stripe_account = headers.get("stripe-account").cloned();
    let version = match headers.get("stripe-version") {
        None => Ok(HeaderValue::from_static(state.config.default_api_version)),
        Some(value) => version::validate(value),
    };
    let (mut response, version) = match version {
        Ok(version) => {
            let deadline = state.config.request_timeout;
            let response = match tokio::time::timeout(deadline, next.run(request)).await {
                Ok(response) => response,
                // The work may have completed after all (a write queued before the
                // deadline still commits), so a retry is not known to be safe.
                Err(_) => ApiError::Internal {
                    cause: anyhow::anyhow!("request not handled within {deadline:?}"),
                    retryable: false,
                }
                .into_response(),
            };
            (response, version)
        }
        Err(error) => (
            error.into_response(),
            HeaderValue::from_static(state.config.default_api_version),
        ),
    };
    if let Some(report) = response.extensions().get::<InternalErrorReport>() {
        tracing::error!(request_id = %request_id.0, error = %report.0, "internal error");
    }
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id.0) {
        out.insert(HeaderName::from_static("request-id"), value);
    }
    out.insert(HeaderName::from_static("stripe-version"), version);
    out.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    if let Some(key) = idempotency_key {
        out.insert(HeaderName::from_static("idempotency-key"), key);
    }
    if let Some(account) = stripe_account {
        out.insert(HeaderName::from_static("stripe-account"), account);
    }
    response
}

/// Methods browsers may use, as Stripe lists them.
const CORS_ALLOW_METHODS: &str = "GET, HEAD, PUT, PATCH, POST, DELETE";
/// Request headers browsers may send: what Connect-style clients need.
const CORS_ALLOW_HEADERS: &str =
    "Authorization, Content-Type, Stripe-Version, Idempotency-Key, Stripe-Account";
/// Response headers scripts may read, as Stripe lists them.
const CORS_EXPOSE_HEADERS: &str = "Request-Id, Stripe-Manage-Version, Stripe-Should-Retry, X-Stripe-External-Auth-Required, X-Stripe-Privileged-Session-Required";

/// Stripe's CORS headers on every response, and preflights answered directly,
/// so the claim and the client-side API work from any origin. Keys travel in
/// the `Authorization` header, never in cookies, so any origin may call.
async fn cors(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(axum::http::header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        axum::http::StatusCode::OK.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    let mut set = |name: axum::http::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    use axum::http::header;
    set(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    set(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
    set(header::ACCESS_CONTROL_ALLOW_METHODS, CORS_ALLOW_METHODS);
    set(header::ACCESS_CONTROL_EXPOSE_HEADERS, CORS_EXPOSE_HEADERS);
    set(header::ACCESS_CONTROL_MAX_AGE, "300");
    if preflight {
        set(header::ACCESS_CONTROL_ALLOW_HEADERS, CORS_ALLOW_HEADERS);
    }
    response
}
