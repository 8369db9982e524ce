//! The connection loop: accepts TCP connections and serves each with hyper,
//! with limits that keep slow or hostile clients from holding the server.
//!
//! `axum::serve` gives hyper no timer, so hyper's header-read timeout never
//! fires there and a client trickling header bytes holds its connection
//! forever. This loop configures hyper directly: a header-read timeout, a cap
//! on the header buffer (a larger header section is refused with 431), HTTP/2
//! keep-alive pings, and graceful shutdown that lets in-flight requests finish
//! (bounded, so one stuck connection cannot hold shutdown).

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Limits on what one connection may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time allowed to send a request's whole header section.
    pub header_read_timeout: Duration,
    /// Largest header section (request line and headers) accepted.
    pub max_header_bytes: usize,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Marks a response the server must not send: it closes the connection
/// instead, unanswered (a test double's `drop` fault).
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// The error that makes hyper close a connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose")]
struct Dropped;

impl From<std::convert::Infallible> for Dropped {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

/// The response, or [`Dropped`] if it is marked [`DropConnection`].
fn unless_dropped(
    result: Result<axum::response::Response, std::convert::Infallible>,
) -> Result<axum::response::Response, Dropped> {
    match result {
        Ok(response) if response.extensions().get::<DropConnection>().is_some() => Err(Dropped),
        Ok(response) => Ok(response),
        Err(never) => match never {},
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(error) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses are small and written whole: don't let Nagle delay them.
        let _ = stream.set_nodelay(true);
        // The peer's address travels with each request, for the handlers that
        // record where a request came from (terms acceptance).
        let service = router
            .clone()
            .map_request(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            });
        // A response marked `DropConnection` is never sent: the connection
        // is closed instead, as a network failure would (test-double faults).
        let service = service.map_result(unless_dropped);
        let connection = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are the client's (reset, timeout, malformed request).
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; closing remaining connections");
        }
    }
}
