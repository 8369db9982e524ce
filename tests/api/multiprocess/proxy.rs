//! A TCP proxy between the servers under test and PostgreSQL, which the test
//! can take down (as a restart does: connections cut, new ones refused), stall
//! (as a vanished host or a partition does: connections stay open and nothing
//! arrives), and bring back, without touching the machine's real database
//! server.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// A running proxy.
#[derive(Debug)]
pub(crate) struct Proxy {
    /// Where clients connect.
    pub(crate) address: SocketAddr,
    upstream: SocketAddr,
    state: watch::Sender<Flow>,
    /// The accept loop (owning the listener) and every connection's pump.
    tasks: Arc<Mutex<Tasks>>,
}

/// Whether bytes flow, and for which connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Flow {
    stalled: bool,
    /// Connections accepted before the last resume belong to an older epoch
    /// and never carry a byte again.
    epoch: u64,
}

#[derive(Debug, Default)]
struct Tasks {
    acceptor: Option<AbortHandle>,
    connections: Vec<AbortHandle>,
}

impl Proxy {
    /// Starts a proxy on a free loopback port, forwarding to `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            address: listener.local_addr().unwrap(),
            upstream,
            state: watch::channel(Flow::default()).0,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream;
        let state = self.state.subscribe();
        let tasks = self.tasks.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let epoch = state.borrow().epoch;
                let pump = tokio::spawn(forward(client, upstream, state.clone(), epoch));
                tasks.lock().unwrap().connections.push(pump.abort_handle());
            }
        });
        self.tasks.lock().unwrap().acceptor = Some(acceptor.abort_handle());
    }

    /// Like a database restart: every connection is cut and new ones are
    /// refused (the port is closed) until [`Proxy::up`].
    pub(crate) fn down(&self) {
        let mut tasks = self.tasks.lock().unwrap();
        if let Some(acceptor) = tasks.acceptor.take() {
            acceptor.abort();
        }
        for connection in tasks.connections.drain(..) {
            connection.abort();
        }
    }

    /// Listens again on the same port.
    pub(crate) async fn up(&self) {
        // The aborted accept loop drops its listener at its next poll.
        let mut attempts = 0;
        let listener = loop {
            match TcpListener::bind(self.address).await {
                Ok(listener) => break listener,
                Err(error) if attempts < 50 => {
                    attempts += 1;
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("cannot listen on {} again: {error}", self.address),
            }
        };
        self.serve(listener);
    }

    /// Like a database host that vanished (or a partition): connections stay
    /// open, new ones are accepted, and no byte goes through either way.
    pub(crate) fn stall(&self) {
        self.state.send_modify(|flow| flow.stalled = true);
    }

    /// A database answers again, on new connections only: every connection
    /// accepted before stays open and silent forever, as connections to a host
    /// that is gone do (until TCP gives up, many minutes later).
    pub(crate) fn resume(&self) {
        self.state.send_modify(|flow| {
            flow.stalled = false;
            flow.epoch += 1;
        });
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
    }
}

/// Carries one client's connection to `upstream` and back while bytes flow
/// for connections of its `epoch`.
async fn forward(
    client: TcpStream,
    upstream: SocketAddr,
    mut state: watch::Receiver<Flow>,
    epoch: u64,
) {
    if !flowing(&mut state, epoch).await {
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        () = pump(client_read, server_write, state.clone(), epoch) => {}
        () = pump(server_read, client_write, state, epoch) => {}
    }
}

/// Waits until bytes flow for `epoch`: never, once it is past. `false` if the
/// proxy is gone.
async fn flowing(state: &mut watch::Receiver<Flow>, epoch: u64) -> bool {
    state
        .wait_for(|flow| !flow.stalled && flow.epoch == epoch)
        .await
        .is_ok()
}

/// Copies `from` to `to` until either side closes.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut state: watch::Receiver<Flow>,
    epoch: u64,
) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if !flowing(&mut state, epoch).await {
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
