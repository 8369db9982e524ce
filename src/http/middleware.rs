//! The middleware every request passes through, one job each: Stripe's CORS
//! headers, the request id, logging internal errors, echoing Stripe's request
//! headers, the `Stripe-Version` header, the deadline, and running keyed
//! POSTs to completion. [`super::router`] stacks them and says in which order,
//! and why.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use tracing::Instrument;

use super::error::{ApiError, InternalErrorReport};
use super::idempotent::ClientGone;
use super::version;
use crate::domain::keys::random_alphanumeric;

/// The id of one request, as sent back in `Request-Id`: `req_` + 14 alphanumerics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// A new random request id.
    pub fn generate() -> Self {
        Self(format!("req_{}", random_alphanumeric(14)))
    }
}

/// Gives the request a new [`RequestId`] (in its extensions, for handlers and
/// the log) and sends it back in `Request-Id`. Never taken from the client: an
/// id must name one request of this server's.
pub(super) async fn request_id(mut request: Request, next: Next) -> Response {
    let request_id = RequestId::generate();
    request.extensions_mut().insert(request_id.clone());
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&request_id.0) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("request-id"), value);
    }
    response
}

/// Logs the cause of a 500, which the response itself never shows (see
/// [`InternalErrorReport`]), with the request's id, inside its trace span.
pub(super) async fn log_internal_errors(request: Request, next: Next) -> Response {
    let request_id = request.extensions().get::<RequestId>().cloned();
    let response = next.run(request).await;
    if let Some(report) = response.extensions().get::<InternalErrorReport>() {
        let request_id = request_id.map(|id| id.0).unwrap_or_default();
        tracing::error!(request_id = %request_id, error = %report.0, "internal error");
    }
    response
}

/// Stripe's response headers that depend only on the request: no caching
/// (unless the handler chose a policy),
/// and `Idempotency-Key` and `Stripe-Account` sent back as they came.
pub(super) async fn echo_stripe_headers(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let idempotency_key = headers.get("idempotency-key").cloned();
    let stripe_account = headers.get("stripe-account").cloned();
    let mut response = next.run(request).await;
    let out = response.headers_mut();
    // Only a static asset (the browser runtime) says otherwise.
    out.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-cache, no-store"));
    if let Some(key) = idempotency_key {
        out.insert(HeaderName::from_static("idempotency-key"), key);
    }
    if let Some(account) = stripe_account {
        out.insert(HeaderName::from_static("stripe-account"), account);
    }
    response
}

/// `Stripe-Version`: a malformed one is refused before any handler runs; the
/// response names the version it was answered in (the one sent, or
/// `default_version` when none was, or when the one sent was refused).
pub(super) async fn api_version(
    State(default_version): State<&'static str>,
    request: Request,
    next: Next,
) -> Response {
    let default = || HeaderValue::from_static(default_version);
    let (mut response, version) = match request.headers().get("stripe-version") {
        None => (next.run(request).await, default()),
        Some(value) => match version::validate(value) {
            Ok(version) => (next.run(request).await, version),
            Err(error) => (error.into_response(), default()),
        },
    };
    response
        .headers_mut()
        .insert(HeaderName::from_static("stripe-version"), version);
    response
}

/// Answers with a 500 if the request is not handled (body included) within
/// `deadline`.
pub(super) async fn deadline(
    State(deadline): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        // The work may have completed after all (a write queued before the
        // deadline still commits), so a retry is not known to be safe.
        Err(_) => ApiError::Internal {
            cause: anyhow::anyhow!("request not handled within {deadline:?}"),
            retryable: false,
        }
        .into_response(),
    }
}

/// Runs a POST that carries an `Idempotency-Key` in its own task, so that its
/// work, once its key is taken, finishes and saves its answer even if the
/// client disconnects (hyper then drops this future) or the deadline answers
/// first: otherwise the key would stay in flight, unsaved, until its lease
/// ran out, and every retry would get a 409 for work that never ran. The
/// request's [`ClientGone`] is marked when nobody waits any longer, so a retry
/// can wait for the work instead (see `idempotent`).
pub(super) async fn run_to_completion(mut request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.headers().contains_key("idempotency-key") {
        return next.run(request).await;
    }
    let client = ClientGone::default();
    request.extensions_mut().insert(client.clone());
    let work = tokio::spawn(next.run(request).instrument(tracing::Span::current()));
    let mut abandoned = MarkOnDrop(Some(client));
    let result = work.await;
    abandoned.0 = None;
    result.unwrap_or_else(|failure| {
        ApiError::Internal {
            cause: anyhow::anyhow!("a request's task failed: {failure}"),
            retryable: false,
        }
        .into_response()
    })
}

/// Marks its [`ClientGone`] if dropped while still holding it.
struct MarkOnDrop(Option<ClientGone>);

impl Drop for MarkOnDrop {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            client.mark();
        }
    }
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
///
/// Hand-written rather than tower-http's `CorsLayer`: Stripe answers
/// `Access-Control-Allow-Origin: *` together with
/// `Access-Control-Allow-Credentials: true`, a pair `CorsLayer` refuses to be
/// configured with, and it would add `Vary` headers Stripe does not send.
pub(super) async fn cors(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        StatusCode::OK.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::clock::{Clock, SystemClock};
    use crate::domain::platform::NewPlatform;
    use crate::http::error::INTERNAL_MESSAGE;
    use crate::http::settings::ApiConfig;
    use crate::http::state::AppState;
    use crate::keyring::Keyring;
    use crate::server::{ConnectionLimits, serve};
    use crate::store::PlatformStore;
    use crate::store::sqlite::SqliteStore;

    /// A server with the whole router on a fresh database, its address, and a
    /// secret key of its one platform. The directory lives as long as the test.
    async fn start(config: ApiConfig) -> (std::net::SocketAddr, String, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("test.db"), 1)
            .await
            .unwrap();
        let platform = NewPlatform::generate("Test".to_owned());
        store
            .create_platform(&platform, SystemClock.now())
            .await
            .unwrap();
        let state = AppState::new(
            Arc::new(store),
            Arc::new(SystemClock),
            config,
            Keyring::generate(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = super::super::router(state);
        tokio::spawn(serve(
            listener,
            router,
            ConnectionLimits::default(),
            std::future::pending(),
        ));
        (address, platform.secret_key.expose().to_owned(), dir)
    }

    /// Sends `request` as is and reads the answer's head and body, lower-cased
    /// header names included, as one string.
    async fn exchange(address: std::net::SocketAddr, request: &str) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut received = vec![0; 16 * 1024];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut received))
            .await
            .unwrap()
            .unwrap();
        String::from_utf8_lossy(&received[..read]).to_ascii_lowercase()
    }

    fn has_header(answer: &str, name: &str) -> bool {
        answer.contains(&format!("\r\n{name}: "))
    }

    #[tokio::test]
    async fn a_refused_version_is_answered_before_authentication_with_every_header() {
        let (address, _, _dir) = start(ApiConfig::default()).await;

        let answer = exchange(
            address,
            "GET /v1/accounts HTTP/1.1\r\nHost: x\r\nStripe-Version: latest\r\n\
             Idempotency-Key: k1\r\nStripe-Account: acct_1\r\nConnection: close\r\n\r\n",
        )
        .await;

        // 400, not the 401 a request without a key gets from its handler.
        assert!(answer.starts_with("http/1.1 400"), "{answer}");
        assert!(answer.contains("invalid stripe api version: latest"));
        assert!(answer.contains("\r\nrequest-id: req_"), "{answer}");
        assert!(answer.contains("\r\nstripe-version: 2026-07-29.dahlia\r\n"));
        assert!(answer.contains("\r\ncache-control: no-cache, no-store\r\n"));
        assert!(answer.contains("\r\nidempotency-key: k1\r\n"));
        assert!(answer.contains("\r\nstripe-account: acct_1\r\n"));
        assert!(answer.contains("\r\naccess-control-allow-origin: *\r\n"));
    }

    #[tokio::test]
    async fn a_preflight_is_answered_before_everything_else() {
        let (address, _, _dir) = start(ApiConfig::default()).await;

        let answer = exchange(
            address,
            "OPTIONS /v1/account HTTP/1.1\r\nHost: x\r\nOrigin: https://platform.example\r\n\
             Access-Control-Request-Method: POST\r\nStripe-Version: latest\r\nConnection: close\r\n\r\n",
        )
        .await;

        assert!(answer.starts_with("http/1.1 200"), "{answer}");
        assert!(has_header(&answer, "access-control-allow-headers"));
        for absent in ["request-id", "stripe-version", "cache-control"] {
            assert!(!has_header(&answer, absent), "{absent}: {answer}");
        }
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_gets_a_500_with_every_header() {
        let (address, secret, _dir) = start(ApiConfig {
            request_timeout: Duration::from_millis(200),
            ..ApiConfig::default()
        })
        .await;

        // A body announced at 100 bytes, 9 sent: the handler waits for the rest
        // (the body's own timeout is 10 s) until the deadline answers.
        let answer = exchange(
            address,
            &format!(
                "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntype=cust"
            ),
        )
        .await;

        assert!(answer.starts_with("http/1.1 500"), "{answer}");
        assert!(answer.contains(&INTERNAL_MESSAGE.to_ascii_lowercase()));
        assert!(answer.contains("\r\nstripe-should-retry: false\r\n"));
        assert!(answer.contains("\r\nrequest-id: req_"), "{answer}");
        assert!(answer.contains("\r\nstripe-version: 2026-07-29.dahlia\r\n"));
        assert!(answer.contains("\r\ncache-control: no-cache, no-store\r\n"));
        assert!(answer.contains("\r\naccess-control-allow-origin: *\r\n"));
    }
}
