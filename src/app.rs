//! Builds the application: opens the store, loads the keyring, binds the
//! listener, and serves the HTTP layer's router until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{DatabaseUrl, MasterKeySource};
use crate::domain::platform::NewPlatform;
use crate::keyring::Keyring;
use crate::maintenance::{self, PruneSettings};
use crate::server::{self, ConnectionLimits};
use crate::store::Store;
use crate::store::postgres::{PostgresSettings, PostgresStore};
use crate::store::sqlite::SqliteStore;
use crate::webhooks::worker::{Deliverer, DeliverySettings};

use crate::http::state::AppState;
use crate::http::test_double::follow_clock;

/// Reader threads of the SQLite store: reads are short, and more threads than
/// this only add contention on two cores.
const SQLITE_READER_THREADS: usize = 4;

/// Loads the master keys: given inline, from a file, or (for SQLite only) from
/// a key file beside the database, created on first start.
pub fn load_keyring(source: &MasterKeySource, database: &DatabaseUrl) -> anyhow::Result<Keyring> {
    use secrecy::ExposeSecret;
    match (source, database) {
        (MasterKeySource::Inline(keys), _) => Keyring::parse(keys.expose_secret())
            .context("while reading CONNECT_SESSIONS_MASTER_KEYS"),
        (MasterKeySource::File(path), _) => Keyring::load_or_create(path)
            .with_context(|| format!("while reading the master key file {}", path.display())),
        (MasterKeySource::BesideDatabase, DatabaseUrl::Sqlite(path)) => {
            let mut key_path = path.clone().into_os_string();
            key_path.push(".key");
            Keyring::load_or_create(std::path::Path::new(&key_path)).with_context(|| {
                format!(
                    "while reading the master key file {}",
                    key_path.to_string_lossy()
                )
            })
        }
        (MasterKeySource::BesideDatabase, DatabaseUrl::Postgres(_)) => anyhow::bail!(
            "with PostgreSQL, every server process needs the same master keys: set --master-keys (CONNECT_SESSIONS_MASTER_KEYS) or --master-key-file (CONNECT_SESSIONS_MASTER_KEY_FILE); `connect-sessions generate-master-key` makes one"
        ),
    }
}

/// Opens the store named by `database`, applying migrations. `postgres` sets
/// up the connection pool when the database is PostgreSQL.
pub async fn open_store(
    database: &DatabaseUrl,
    postgres: &PostgresSettings,
) -> anyhow::Result<Arc<dyn Store>> {
    match database {
        DatabaseUrl::Sqlite(path) => {
            let store = SqliteStore::open(path, SQLITE_READER_THREADS)
                .await
                .with_context(|| format!("while opening the SQLite database {}", path.display()))?;
            Ok(Arc::new(store))
        }
        DatabaseUrl::Postgres(url) => {
            let store = PostgresStore::open(url, postgres)
                .await
                .context("while opening the PostgreSQL database")?;
            Ok(Arc::new(store))
        }
    }
}

/// Creates a default platform if the database has none, returning it (with its
/// keys, which exist in clear only now) so the caller can show them once.
pub async fn ensure_default_platform(
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<Option<NewPlatform>> {
    let platform = NewPlatform::generate("Default platform".to_owned());
    let created = store
        .create_platform_if_none(&platform, clock.now())
        .await
        .context("while creating the default platform")?;
    Ok(created.then_some(platform))
}

/// A bound, ready-to-serve application.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    router: Router,
    local_addr: SocketAddr,
    state: AppState,
    pruning: Option<PruneSettings>,
    webhooks: Option<DeliverySettings>,
    limits: ConnectionLimits,
}

impl App {
    /// Binds `listen` (port 0 picks a free port) and assembles the router.
    pub async fn build(listen: SocketAddr, state: AppState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("while binding {listen}"))?;
        let local_addr = listener
            .local_addr()
            .context("while reading the bound address")?;
        Ok(Self {
            listener,
            router: crate::http::router(state.clone()),
            local_addr,
            limits: state.config.connection,
            webhooks: Some(DeliverySettings {
                allow_private_addresses: state.config.allow_private_webhook_addresses,
                ..DeliverySettings::default()
            }),
            state,
            pruning: Some(PruneSettings::default()),
        })
    }

    /// Replaces the background pruning settings (`None`: no pruning task).
    #[must_use]
    pub fn with_pruning(mut self, pruning: Option<PruneSettings>) -> Self {
        self.pruning = pruning;
        self
    }

    /// Replaces the webhook delivery settings (`None`: no delivery worker;
    /// events are still recorded and queued).
    #[must_use]
    pub fn with_webhooks(mut self, webhooks: Option<DeliverySettings>) -> Self {
        self.webhooks = webhooks;
        self
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // Background pruning runs alongside the server and stops with it.
        let pruner = self.pruning.map(|settings| {
            tokio::spawn(maintenance::run_pruner(
                self.state.store.clone(),
                self.state.clock.clone(),
                settings,
            ))
        });
        // So does the webhook delivery worker. Aborting it mid-delivery loses
        // nothing: the delivery's lease runs out and it is made again.
        let deliverer = match self.webhooks {
            None => None,
            Some(settings) => {
                let deliverer = Deliverer::new(
                    self.state.store.clone(),
                    self.state.clock.clone(),
                    self.state.keyring.clone(),
                    settings,
                )
                .context("while building the webhook client")?;
                Some(tokio::spawn(deliverer.run()))
            }
        };
        // With a test clock, another process may move it: follow it.
        let follower = self
            .state
            .test_double
            .clock
            .clone()
            .map(|clock| tokio::spawn(follow_clock(self.state.clone(), clock)));
        server::serve(self.listener, self.router, self.limits, shutdown).await;
        for task in [pruner, deliverer, follower].into_iter().flatten() {
            task.abort();
        }
        Ok(())
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// A future that completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are
/// installed by this call, not when the future is first polled: the serve
/// loop may not poll it before its first answer, and a signal sent right
/// after that answer (by a supervisor that waited for readiness) must still
/// stop the server, not be swallowed by a handler with no listener yet.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        match signals {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {},
                    _ = terminate.recv() => {},
                }
            }
            // Without signal handlers (never expected on Unix), Ctrl-C only.
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received; finishing in-flight requests");
    }
}
