//! The connection loop: accepts TCP connections and serves each with hyper,
//! with limits that keep slow, silent or hostile clients from holding the server.
//!
//! `axum::serve` gives hyper no timer, so hyper's header-read timeout never
//! fires there and a client trickling header bytes holds its connection
//! forever. This loop configures hyper directly: a cap on connections, a
//! deadline on the first bytes (the protocol choice), a header-read timeout, a
//! cap on the header buffer (a larger header section is refused with 431), an
//! idle timeout, HTTP/2 stream and window limits, and graceful shutdown that
//! lets in-flight requests finish (bounded, so one stuck connection cannot hold
//! shutdown).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// Limits on connections and on what one connection may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time allowed to send a request's whole header section, and, on a new
    /// connection, its first bytes (enough to tell HTTP/1 from HTTP/2).
    pub header_read_timeout: Duration,
    /// Largest header section (request line and headers) accepted.
    pub max_header_bytes: usize,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// Most connections open at once; a connection beyond is closed at once.
    pub max_connections: usize,
    /// A connection with no request in flight for this long is closed
    /// (HTTP/1 keep-alive and HTTP/2 alike; pings do not count).
    pub idle_timeout: Duration,
    /// Most HTTP/2 streams (requests) in flight on one connection.
    pub max_concurrent_streams: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(30),
            max_connections: 1024,
            idle_timeout: Duration::from_secs(30),
            max_concurrent_streams: 16,
        }
    }
}

/// HTTP/2 flow-control windows. hyper's defaults (1 MiB) let a client park a
/// megabyte per connection in buffers nobody reads; a request body here is
/// 256 KiB at most, and the connection window caps what all its streams may
/// have sent and we have not read.
const H2_STREAM_WINDOW: u32 = 64 * 1024;
const H2_CONNECTION_WINDOW: u32 = 256 * 1024;

/// The client preface every HTTP/2 connection starts with (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How often the "connection limit reached" warning may be logged.
const LIMIT_LOG_INTERVAL: Duration = Duration::from_secs(10);
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

/// Reads a new connection's first bytes: the whole HTTP/2 preface, or as much
/// as shows it is not one (HTTP/1). hyper's own detection has no deadline and
/// HTTP/1's header timeout starts only after it, so a silent socket, or one
/// that sends part of the preface, would otherwise stay open for ever.
async fn read_first_bytes(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(H2_PREFACE.len());
    let mut chunk = [0_u8; 24];
    loop {
        let wanted = H2_PREFACE.len() - prefix.len();
        let read = stream.read(&mut chunk[..wanted]).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        prefix.extend_from_slice(&chunk[..read]);
        if prefix.len() == H2_PREFACE.len() || !H2_PREFACE.starts_with(&prefix) {
            return Ok(prefix);
        }
    }
}

/// A stream that first yields bytes already read from it.
struct Rewind {
    prefix: Vec<u8>,
    position: usize,
    inner: TcpStream,
}

impl AsyncRead for Rewind {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.position < this.prefix.len() {
            let rest = &this.prefix[this.position..];
            let taken = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..taken]);
            this.position += taken;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Whether a connection has requests in flight, and since when it has none.
#[derive(Debug)]
struct Activity {
    in_flight: AtomicUsize,
    idle_since: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        }
    }

    /// Counts a request in flight until the guard is dropped.
    fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// When the connection will have been idle for `timeout`, if nothing
    /// starts meanwhile; `None` while a request is in flight.
    fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let since = *self
            .idle_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Some(since + timeout)
    }
}

/// One request in flight on a connection.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self
            .0
            .idle_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
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
        .max_concurrent_streams(limits.max_concurrent_streams)
        .initial_stream_window_size(H2_STREAM_WINDOW)
        .initial_connection_window_size(H2_CONNECTION_WINDOW)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    let builder = Arc::new(builder);
    let max_connections = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let connections = Arc::new(Semaphore::new(max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut last_limit_log: Option<Instant> = None;
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
        // Over the cap the newest connection is closed at once: waiting
        // connections would only queue behind the ones holding the server.
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            if last_limit_log.is_none_or(|at| at.elapsed() >= LIMIT_LOG_INTERVAL) {
                tracing::warn!(
                    max_connections,
                    "connection limit reached: closing new connections until some end (--max-connections)"
                );
                last_limit_log = Some(Instant::now());
            }
            drop(stream);
            continue;
        };
        // Responses are small and written whole: don't let Nagle delay them.
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            builder: builder.clone(),
            router: router.clone(),
            limits,
            stopping: stopping.clone(),
        };
        tokio::spawn(async move {
            connection.serve(stream, peer).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a permit until it ends: all of them back means
    // every connection has drained.
    let drained = connections.acquire_many(u32::try_from(max_connections).unwrap_or(u32::MAX));
    tokio::select! {
        _ = drained => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; closing remaining connections");
        }
    }
}

/// What serving one connection needs.
struct Connection {
    builder: Arc<auto::Builder<TokioExecutor>>,
    router: Router,
    limits: ConnectionLimits,
    stopping: watch::Receiver<bool>,
}

impl Connection {
    /// Serves one accepted connection until it ends, times out, or the
    /// server shuts down.
    async fn serve(mut self, mut stream: TcpStream, peer: std::net::SocketAddr) {
        let first = tokio::time::timeout(
            self.limits.header_read_timeout,
            read_first_bytes(&mut stream),
        );
        let prefix = match first.await {
            Ok(Ok(prefix)) => prefix,
            Ok(Err(error)) => {
                tracing::debug!(error = %error, "connection closed before its first request");
                return;
            }
            Err(_) => {
                tracing::debug!("connection sent no request in time; closing it");
                return;
            }
        };
        let activity = Arc::new(Activity::new());
        // The peer's address travels with each request, for the handlers that
        // record where a request came from (terms acceptance).
        let service = self
            .router
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
        let counted = activity.clone();
        let service = service.map_future(move |future| {
            let in_flight = counted.start();
            async move {
                let result = future.await;
                drop(in_flight);
                result
            }
        });
        let io = TokioIo::new(Rewind {
            prefix,
            position: 0,
            inner: stream,
        });
        let connection = self
            .builder
            .serve_connection(io, TowerToHyperService::new(service));
        let mut connection = std::pin::pin!(connection);
        let idle_timeout = self.limits.idle_timeout;
        let mut closing = false;
        // An idle connection asked to close is dropped if it has not closed
        // by then: HTTP/2's graceful close waits for the client to acknowledge
        // a ping, which a hostile client never does.
        let mut drop_at: Option<Instant> = None;
        loop {
            // Far enough to mean "not now" while a request is in flight; the
            // deadline is looked at again whenever it passes.
            let idle_at = activity
                .idle_deadline(idle_timeout)
                .unwrap_or_else(|| Instant::now() + idle_timeout);
            tokio::select! {
                result = connection.as_mut() => {
                    // Errors here are the client's (reset, timeout, malformed request).
                    if let Err(error) = result {
                        tracing::debug!(error = %error, "connection ended with an error");
                    }
                    return;
                }
                changed = self.stopping.wait_for(|stop| *stop), if !closing => {
                    let _ = changed;
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                () = tokio::time::sleep_until(idle_at), if !closing => {
                    if activity.idle_deadline(idle_timeout).is_some_and(|at| at <= Instant::now()) {
                        tracing::debug!("closing an idle connection");
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                        drop_at = Some(Instant::now() + self.limits.header_read_timeout);
                    }
                }
                () = tokio::time::sleep_until(drop_at.unwrap_or_else(Instant::now)), if drop_at.is_some() => {
                    if activity.idle_deadline(idle_timeout).is_some() {
                        return;
                    }
                    // A request arrived meanwhile: let it finish, then look again.
                    drop_at = Some(Instant::now() + self.limits.header_read_timeout);
                }
            }
        }
    }
}
