//! The HTTP edge: Stripe's v1 wire protocol. It owns the state handlers reach
//! ([`state`]), its settings ([`settings`]), the router and its middleware,
//! the extractors, the form decoder, the wire types and the error envelope.
//! It calls down into the store, idempotency and the domain, never up into
//! `app` or `config`.

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, Uri};
use axum::middleware::{from_fn, from_fn_with_state};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

pub mod account_changes;
pub mod body;
pub mod cache;
pub mod error;
pub mod extract;
pub mod form;
pub mod idempotent;
pub mod middleware;
pub mod onboarding_params;
pub mod openapi;
pub mod params;
pub mod rate_limit;
pub mod responses;
pub mod routes;
pub mod settings;
pub mod state;
pub mod test_double;
pub mod version;

use error::ApiError;
use state::AppState;

pub use middleware::RequestId;

/// The whole application router.
pub fn router(state: AppState) -> Router {
    // The middleware, outermost first. Each runs after routing (a layer on a
    // router wraps every route and the fallbacks), and each sees what the ones
    // below it answered:
    //
    // 1. the trace span, so everything below logs inside the request's span;
    // 2. CORS: preflights are answered here, before any of the rest (no
    //    request id, no version check), and every response gets the headers;
    // 3. the request id, outside everything that can answer, so every
    //    response (a refused version, a timeout) carries it;
    // 4. internal-error logging, inside the id (it logs it) and outside the
    //    deadline (a timeout is an internal error too);
    // 5. Stripe's echoed headers and `Cache-Control`;
    // 6. `Stripe-Version`: a malformed one is refused before the handler, and
    //    does not count against the deadline;
    // 7. the deadline, around the handler alone (extractors and body included);
    // 8. a keyed POST in its own task, inside the deadline, so that neither a
    //    timeout nor a vanished client can stop its work half-way.
    let middleware = ServiceBuilder::new()
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                // Only method and path: headers carry keys, query strings may carry data.
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
            }),
        )
        .layer(from_fn(middleware::cors))
        .layer(from_fn(middleware::request_id))
        .layer(from_fn_with_state(state.clone(), test_double::apply))
        .layer(from_fn(middleware::log_internal_errors))
        .layer(from_fn(middleware::echo_stripe_headers))
        .layer(from_fn_with_state(
            state.config.default_api_version,
            middleware::api_version,
        ))
        .layer(from_fn_with_state(
            state.config.request_timeout,
            middleware::deadline,
        ))
        .layer(from_fn(middleware::run_to_completion));
    Router::new()
        .merge(routes::health::router())
        .merge(routes::accounts::router())
        .merge(routes::persons::router())
        .merge(routes::account_sessions::router())
        .merge(routes::embedded::router())
        .merge(routes::openapi::router())
        .merge(routes::connect_js::router())
        .merge(routes::events::router())
        .merge(routes::webhook_endpoints::router())
        .merge(routes::test_helpers::router())
        .fallback(unrecognized_url)
        .method_not_allowed_fallback(unrecognized_url)
        .layer(middleware)
        .with_state(state)
}

/// Stripe's answer for a path or method it does not serve.
async fn unrecognized_url(method: Method, uri: Uri) -> ApiError {
    ApiError::UnrecognizedUrl {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}
