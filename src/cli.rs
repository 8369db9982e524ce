//! The command line: `serve`, `migrate`, `platforms create`, `keys roll`,
//! `keys revoke`, `events resend` and `healthcheck`.
//! Every option can also be set through the environment variable named in its help.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::app::{self, App};
use crate::clock::{Clock, OffsetClock, SystemClock};
use crate::config::{
    DatabaseUrl, MasterKeySource, ServeSettings, parse_byte_size, parse_positive_duration,
    parse_roll_grace, parse_short_duration,
};
use crate::domain::ids::{EventId, WebhookEndpointId};
use crate::domain::keys::{GeneratedKey, KeyKind, PresentedKey, mask, seed_randomness};
use crate::domain::platform::{DeclaredPlatform, KeyValidity, NewPlatform, StoredKey};
use crate::http::rate_limit::RateLimits;
use crate::http::settings::ApiConfig;
use crate::http::state::AppState;
use crate::http::test_double::TestDoubleSwitches;
use crate::keyring::MasterKey;
use crate::maintenance::PruneSettings;
use crate::server::ConnectionLimits;
use crate::store::postgres::PostgresSettings;
use crate::store::{DeclaredOutcome, KeyChange};
use crate::telemetry::{self, LogFormat};
use crate::webhooks::worker::DeliverySettings;

/// A self-hostable, Stripe-compatible Account Sessions server.
#[derive(Debug, Parser)]
#[command(name = "connect-sessions", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log line format (logs go to stderr; filter with RUST_LOG).
    #[arg(
        long,
        env = "CONNECT_SESSIONS_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage platforms (the Connect applications that own accounts).
    Platforms {
        #[command(subcommand)]
        command: PlatformsCommand,
    },
    /// Roll or revoke a platform's API keys (after a leak, or routinely).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Work with events.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Print a new random master key (for --master-keys or a key file).
    GenerateMasterKey,
    /// Exit 0 if the server at --listen answers GET /healthz with 200.
    Healthcheck {
        /// Address of the server to check.
        #[arg(
            long,
            env = "CONNECT_SESSIONS_LISTEN",
            default_value = "127.0.0.1:12111"
        )]
        listen: SocketAddr,
    },
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// Database URL: sqlite://PATH (relative), sqlite:///PATH (absolute) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (postgresql:// too; see docs/OPERATIONS.md).
    #[arg(
        long,
        env = "CONNECT_SESSIONS_DATABASE",
        default_value = "sqlite://connect-sessions.db"
    )]
    database: DatabaseUrl,
    /// PostgreSQL only: most connections this process opens. Several processes on one
    /// database together need fewer than the server's max_connections.
    #[arg(
        long,
        env = "CONNECT_SESSIONS_DATABASE_POOL_SIZE",
        default_value_t = 16,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    database_pool_size: u32,
    /// PostgreSQL only: the statement_timeout of this server's sessions. A statement
    /// running, or waiting for a lock, longer than this is cancelled and its request
    /// answers 500 (retryable).
    #[arg(long, env = "CONNECT_SESSIONS_DATABASE_STATEMENT_TIMEOUT", default_value = "5s", value_parser = parse_positive_duration)]
    database_statement_timeout: Duration,
    /// PostgreSQL only: how long a request waits for a pooled connection (or for
    /// connecting, while the database is down) before it answers 500 (retryable). No
    /// request waits on the database longer than this plus twice the statement timeout.
    #[arg(long, env = "CONNECT_SESSIONS_DATABASE_ACQUIRE_TIMEOUT", default_value = "5s", value_parser = parse_positive_duration)]
    database_acquire_timeout: Duration,
}

impl DatabaseArgs {
    /// The connection pool settings these options describe.
    fn postgres(&self) -> PostgresSettings {
        PostgresSettings {
            pool_size: self.database_pool_size,
            statement_timeout: self.database_statement_timeout,
            acquire_timeout: self.database_acquire_timeout,
        }
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "CONNECT_SESSIONS_LISTEN",
        default_value = "127.0.0.1:12111"
    )]
    listen: SocketAddr,
    #[command(flatten)]
    database: DatabaseArgs,
    /// How long an account session lives (e.g. 30m, 1h, 90s).
    #[arg(long, env = "CONNECT_SESSIONS_SESSION_TTL", default_value = "30m", value_parser = parse_positive_duration)]
    session_ttl: Duration,
    /// How long test mode takes to verify identity that Stripe verifies
    /// asynchronously (a date of birth of 1901-01-01, an ID number 000000000,
    /// an address), on the server's clock, in whole seconds (timestamps are
    /// seconds: 500ms verifies at once).
    #[arg(long, env = "CONNECT_SESSIONS_VERIFICATION_DELAY", default_value = "5s", value_parser = humantime::parse_duration)]
    verification_delay: Duration,
    /// Master keys, comma-separated, current first (see docs/OPERATIONS.md). Default: a key
    /// file beside the SQLite database (`<database>.key`), created on first start.
    #[arg(
        long,
        env = "CONNECT_SESSIONS_MASTER_KEYS",
        conflicts_with = "master_key_file",
        hide_env_values = true
    )]
    master_keys: Option<String>,
    /// A file of master keys, one per line, current first; created with one new key if missing.
    #[arg(long, env = "CONNECT_SESSIONS_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
    /// Limit requests per platform and mode, as Stripe does (429 beyond the limits).
    #[arg(long, env = "CONNECT_SESSIONS_RATE_LIMIT")]
    rate_limit: bool,
    /// Requests per second per platform in live mode, with --rate-limit.
    #[arg(long, env = "CONNECT_SESSIONS_RATE_LIMIT_LIVE", default_value = "100")]
    rate_limit_live: NonZeroU32,
    /// Requests per second per platform in test mode, with --rate-limit.
    #[arg(long, env = "CONNECT_SESSIONS_RATE_LIMIT_TEST", default_value = "25")]
    rate_limit_test: NonZeroU32,
    /// How often expired sessions are pruned.
    #[arg(long, env = "CONNECT_SESSIONS_PRUNE_INTERVAL", default_value = "1m", value_parser = parse_positive_duration)]
    prune_interval: Duration,
    /// How long expired sessions are kept before pruning (claims meanwhile get
    /// `account_session_expired`).
    #[arg(long, env = "CONNECT_SESSIONS_PRUNE_GRACE", default_value = "1h", value_parser = humantime::parse_duration)]
    prune_grace: Duration,
    /// How often the webhook worker looks for due deliveries (and for pending
    /// verifications that completed, whose events it records).
    #[arg(long, env = "CONNECT_SESSIONS_WEBHOOK_POLL_INTERVAL", default_value = "1s", value_parser = parse_short_duration)]
    webhook_poll_interval: Duration,
    /// How long one webhook delivery may take before it counts as failed.
    #[arg(long, env = "CONNECT_SESSIONS_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = parse_positive_duration)]
    webhook_timeout: Duration,
    /// Most webhook deliveries in flight at once from this process.
    #[arg(long, env = "CONNECT_SESSIONS_WEBHOOK_CONCURRENCY", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    webhook_concurrency: u32,
    /// Most webhook deliveries in flight at once to one endpoint from this
    /// process, so one slow receiver cannot hold every slot.
    #[arg(long, env = "CONNECT_SESSIONS_WEBHOOK_ENDPOINT_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    webhook_endpoint_concurrency: u32,
    /// Most client connections open at once; beyond it a new connection is
    /// closed at once (and a warning logged).
    #[arg(long, env = "CONNECT_SESSIONS_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// How long a connection may stay open with no request in flight
    /// (HTTP/1 keep-alive and HTTP/2).
    #[arg(long, env = "CONNECT_SESSIONS_IDLE_TIMEOUT", default_value = "30s", value_parser = parse_short_duration)]
    idle_timeout: Duration,
    /// Most HTTP/2 requests in flight on one connection.
    #[arg(long, env = "CONNECT_SESSIONS_HTTP2_MAX_STREAMS", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    http2_max_streams: u32,
    /// Request body bytes buffered at once across the server (e.g. 32MiB);
    /// a request that finds none free waits, then gets a 503.
    #[arg(long, env = "CONNECT_SESSIONS_MAX_BUFFERED_REQUEST_BYTES", default_value = "32MiB", value_parser = parse_byte_size)]
    max_buffered_request_bytes: usize,
    /// Let live-mode webhook endpoints name private, loopback and link-local
    /// addresses (refused by default, at registration and at every delivery).
    #[arg(long, env = "CONNECT_SESSIONS_ALLOW_PRIVATE_WEBHOOK_ADDRESSES")]
    allow_private_webhook_addresses: bool,
    #[command(flatten)]
    test_double: TestDoubleArgs,
}

/// Running as a test double for CI. Any of these refuses live mode.
#[derive(Debug, Args)]
struct TestDoubleArgs {
    /// A clock the tests move: POST /v1/test_helpers/clock/advance.
    #[arg(long, env = "CONNECT_SESSIONS_TEST_CLOCK")]
    test_clock: bool,
    /// Fault rules: POST /v1/test_helpers/faults.
    #[arg(long, env = "CONNECT_SESSIONS_TEST_FAULTS")]
    test_faults: bool,
    /// The request log: GET /v1/test_helpers/requests.
    #[arg(long, env = "CONNECT_SESSIONS_REQUEST_LOG")]
    request_log: bool,
    /// Reset: POST /v1/test_helpers/reset.
    #[arg(long, env = "CONNECT_SESSIONS_TEST_RESET")]
    test_reset: bool,
    /// All four of the above.
    #[arg(long, env = "CONNECT_SESSIONS_TEST_DOUBLE")]
    test_double: bool,
    /// Draw ids, client secrets and keys from a generator seeded with N: the
    /// same ones on every run, so guessable (SQLite only).
    #[arg(long, env = "CONNECT_SESSIONS_SEED")]
    seed: Option<u64>,
    /// A JSON file declaring platforms with known test keys, created on start
    /// if missing: [{"secret_key": "sk_test_…", "publishable_key": "pk_test_…",
    /// "id": "acct_…" (optional), "name": "…" (optional)}, …].
    #[arg(
        long,
        env = "CONNECT_SESSIONS_TEST_KEYS_FROM",
        conflicts_with = "test_keys"
    )]
    test_keys_from: Option<PathBuf>,
    /// The same declaration inline, as JSON.
    #[arg(long, env = "CONNECT_SESSIONS_TEST_KEYS", hide_env_values = true)]
    test_keys: Option<String>,
    /// Any well-formed sk_test_X is a platform of its own, created on first use,
    /// with pk_test_X as its publishable key (stripe-mock's sk_test_123 works).
    #[arg(long, env = "CONNECT_SESSIONS_ACCEPT_ANY_TEST_KEY")]
    accept_any_test_key: bool,
}

/// One platform of a `--test-keys-from` declaration.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyDeclaration {
    secret_key: String,
    publishable_key: String,
    id: Option<String>,
    name: Option<String>,
}

impl TestDoubleArgs {
    /// The switches these options turn on.
    fn switches(&self) -> TestDoubleSwitches {
        TestDoubleSwitches {
            clock: self.test_clock || self.test_double,
            faults: self.test_faults || self.test_double,
            request_log: self.request_log || self.test_double,
            reset: self.test_reset || self.test_double,
            seeded: self.seed.is_some(),
            accept_any_test_key: self.accept_any_test_key,
            known_keys: self.test_keys_from.is_some() || self.test_keys.is_some(),
        }
    }

    /// The platforms `--test-keys-from` or `--test-keys` declare.
    fn declared_platforms(&self) -> anyhow::Result<Vec<DeclaredPlatform>> {
        let text = match (&self.test_keys_from, &self.test_keys) {
            (Some(path), _) => std::fs::read_to_string(path)
                .with_context(|| format!("while reading {}", path.display()))?,
            (None, Some(inline)) => inline.clone(),
            (None, None) => return Ok(Vec::new()),
        };
        let declarations: Vec<KeyDeclaration> = serde_json::from_str(&text).context(
            "the test keys are not a JSON array of {\"secret_key\", \"publishable_key\", \"id\"?, \"name\"?}",
        )?;
        declarations
            .into_iter()
            .enumerate()
            .map(|(index, declared)| {
                DeclaredPlatform::new(
                    declared.id.as_deref(),
                    declared
                        .name
                        .unwrap_or_else(|| format!("Test platform {}", index + 1)),
                    &declared.secret_key,
                    &declared.publishable_key,
                )
                .with_context(|| format!("in the test keys, platform {}", index + 1))
            })
            .collect()
    }
}

#[derive(Debug, Subcommand)]
enum PlatformsCommand {
    /// Create a platform and print its id and keys as one JSON object on stdout.
    Create {
        /// A name for people.
        #[arg(long, default_value = "Platform")]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Replace a platform key with a new one of the same kind and mode, and
    /// print the new key as one JSON object on stdout. The old key keeps
    /// working for --expire-old-in, then is refused as expired.
    Roll {
        /// The key to roll (`sk_…` or `pk_…`), or `-` to read it from stdin
        /// (which keeps it out of the process list and shell history).
        key: String,
        /// How long the old key keeps working: `0s` (the default: at once)
        /// up to `7d`, as in Stripe. Every server refuses it at most 2 s after that.
        #[arg(long, default_value = "0s", value_parser = parse_roll_grace)]
        expire_old_in: Duration,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a platform key: every server refuses it at most 2 s from now.
    Revoke {
        /// The key to revoke (`sk_…` or `pk_…`), or `-` to read it from stdin.
        key: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Queue an event for delivery again: to one endpoint of its platform and
    /// mode (whatever it subscribed to), or to every endpoint that wants it.
    /// A running server delivers it; prints the number of deliveries queued.
    Resend {
        /// The event (`evt_…`).
        event: String,
        /// Only this webhook endpoint (`we_…`).
        #[arg(long)]
        endpoint: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Runs the command; logs and reports failure through the exit code.
pub fn run(cli: Cli) -> ExitCode {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // Lines are written by a background thread: a request never waits on a
    // write to stderr. The guard flushes what is queued when `run` returns.
    let (stderr, _flush_on_exit) = tracing_appender::non_blocking(std::io::stderr());
    telemetry::init(cli.log_format, "info", stderr, ansi);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: while starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli.command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => {
            let master_keys = match (args.master_keys, args.master_key_file) {
                (Some(keys), _) => MasterKeySource::Inline(SecretString::from(keys)),
                (None, Some(path)) => MasterKeySource::File(path),
                (None, None) => MasterKeySource::BesideDatabase,
            };
            let settings = ServeSettings {
                listen: args.listen,
                postgres: args.database.postgres(),
                database: args.database.database,
                api: ApiConfig {
                    session_ttl: args.session_ttl,
                    verification_delay: args.verification_delay,
                    rate_limits: args.rate_limit.then_some(RateLimits {
                        live_per_second: args.rate_limit_live,
                        test_per_second: args.rate_limit_test,
                    }),
                    allow_private_webhook_addresses: args.allow_private_webhook_addresses,
                    max_buffered_body_bytes: args.max_buffered_request_bytes,
                    connection: ConnectionLimits {
                        max_connections: usize::try_from(args.max_connections)
                            .unwrap_or(usize::MAX),
                        idle_timeout: args.idle_timeout,
                        max_concurrent_streams: args.http2_max_streams,
                        ..ConnectionLimits::default()
                    },
                    test_double: args.test_double.switches(),
                    ..ApiConfig::default()
                },
                webhooks: DeliverySettings {
                    poll_interval: args.webhook_poll_interval,
                    concurrency: args.webhook_concurrency,
                    per_endpoint: args.webhook_endpoint_concurrency,
                    timeout: args.webhook_timeout,
                    allow_private_addresses: args.allow_private_webhook_addresses,
                },
                master_keys,
                seed: args.test_double.seed,
                declared_platforms: args.test_double.declared_platforms()?,
                pruning: PruneSettings {
                    interval: args.prune_interval,
                    grace: args.prune_grace,
                    ..PruneSettings::default()
                },
            };
            serve(settings).await?;
        }
        Command::Migrate(args) => {
            app::open_store(&args.database, &args.postgres()).await?;
            tracing::info!("migrations applied");
        }
        Command::Platforms {
            command: PlatformsCommand::Create { name, database },
        } => create_platform(name, &database).await?,
        Command::Keys {
            command:
                KeysCommand::Roll {
                    key,
                    expire_old_in,
                    database,
                },
        } => roll_key(&key, expire_old_in, &database).await?,
        Command::Keys {
            command: KeysCommand::Revoke { key, database },
        } => revoke_key(&key, &database).await?,
        Command::Events {
            command:
                EventsCommand::Resend {
                    event,
                    endpoint,
                    database,
                },
        } => resend_event(&event, endpoint.as_deref(), &database).await?,
        Command::GenerateMasterKey => println!("{}", MasterKey::generate().encode()),
        Command::Healthcheck { listen } => return healthcheck(listen).await,
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(settings: ServeSettings) -> anyhow::Result<()> {
    if let Some(seed) = settings.seed {
        anyhow::ensure!(
            matches!(settings.database, DatabaseUrl::Sqlite(_)),
            "--seed is refused with PostgreSQL: replicas would draw the same ids and secrets"
        );
        seed_randomness(seed);
        tracing::warn!(
            seed,
            "ids, client secrets and keys come from a seeded generator: they are guessable; live mode is refused"
        );
    }
    let keyring = app::load_keyring(&settings.master_keys, &settings.database)?;
    let store = app::open_store(&settings.database, &settings.postgres).await?;
    let test_clock = if settings.api.test_double.clock {
        let clock = OffsetClock::default();
        clock.raise_offset(store.clock_offset().await?);
        Some(clock)
    } else {
        None
    };
    let clock: Arc<dyn Clock> = match &test_clock {
        Some(clock) => Arc::new(clock.clone()),
        None => Arc::new(SystemClock),
    };
    for platform in &settings.declared_platforms {
        match store
            .ensure_declared_platform(platform, clock.now())
            .await?
        {
            DeclaredOutcome::Created => {
                tracing::info!(platform = %platform.id, "test platform with known keys created");
            }
            DeclaredOutcome::Existed => {}
            DeclaredOutcome::KeyTaken(other) => anyhow::bail!(
                "a test key declared for {} belongs to the platform {other}",
                platform.id
            ),
        }
    }
    if let Some(platform) = app::ensure_default_platform(store.as_ref(), clock.as_ref()).await? {
        print_default_platform(&platform);
    }
    if settings.api.test_double.any() {
        tracing::info!(
            switches = %settings.api.test_double.flags(),
            "running as a test double: live-mode keys are refused"
        );
    }
    let mut state = AppState::new(store, clock, settings.api, keyring);
    if let Some(clock) = test_clock {
        state = state.with_test_clock(clock);
    }
    let app = App::build(settings.listen, state)
        .await?
        .with_pruning(Some(settings.pruning))
        .with_webhooks(Some(settings.webhooks));
    tracing::info!(address = %app.local_addr(), "listening");
    app.run_until_stopped().await
}

/// Shows the default platform's test keys on stdout, once: they exist in clear
/// nowhere else. (stdout, not the log: no key ever appears in a log line.)
fn print_default_platform(platform: &NewPlatform) {
    println!(
        "Created the default platform {id} on this new database.\n\
         Its test-mode keys are shown only this once; keep them:\n  \
         secret key:      {secret}\n  \
         publishable key: {publishable}\n\
         More platforms, with live-mode keys too: connect-sessions platforms create",
        id = platform.id,
        secret = platform.secret_key.expose(),
        publishable = platform.publishable_key.expose(),
    );
}

async fn create_platform(name: String, database: &DatabaseArgs) -> anyhow::Result<()> {
    let store = app::open_store(&database.database, &database.postgres()).await?;
    let platform = NewPlatform::generate(name);
    store
        .create_platform(&platform, SystemClock.now())
        .await
        .context("while storing the platform")?;
    let output = serde_json::json!({
        "id": platform.id,
        "secret_key": platform.secret_key.expose(),
        "publishable_key": platform.publishable_key.expose(),
        "live_secret_key": platform.live_secret_key.expose(),
        "live_publishable_key": platform.live_publishable_key.expose(),
    });
    println!("{output}");
    Ok(())
}

/// The key a `keys` command names: its text, or stdin's first line for `-`;
/// only platform keys (`sk_`, `pk_`) can be rolled or revoked.
fn platform_key_argument(text: &str) -> anyhow::Result<PresentedKey> {
    let text = if text == "-" {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("while reading the key from stdin")?;
        line.trim().to_owned()
    } else {
        text.trim().to_owned()
    };
    let key = PresentedKey::new(&text);
    match key.classify() {
        Some((KeyKind::Secret | KeyKind::Publishable, _)) => Ok(key),
        _ => anyhow::bail!(
            "{} is not a platform key (sk_test_…, sk_live_…, pk_test_… or pk_live_…)",
            mask(&text)
        ),
    }
}

/// Why a key could not be rolled or revoked, for people.
fn key_change_refusal(key: &PresentedKey, change: &KeyChange) -> anyhow::Error {
    let masked = key.masked();
    match change {
        KeyChange::Changed(_) => anyhow::anyhow!("{masked} was changed"),
        KeyChange::Unknown => anyhow::anyhow!("no such key in this database: {masked}"),
        KeyChange::Refused(KeyValidity::Revoked) => {
            anyhow::anyhow!("{masked} is revoked; roll a key that still works")
        }
        KeyChange::Refused(KeyValidity::Expired | KeyValidity::Usable) => {
            anyhow::anyhow!("{masked} has expired; roll a key that still works")
        }
        KeyChange::Mismatch => anyhow::anyhow!("{masked} is stored as another kind of key"),
    }
}

async fn roll_key(key: &str, grace: Duration, database: &DatabaseArgs) -> anyhow::Result<()> {
    let old = platform_key_argument(key)?;
    let Some((kind, mode)) = old.classify() else {
        unreachable!("platform_key_argument accepts classified keys only");
    };
    let new = GeneratedKey::generate(kind, mode);
    let store = app::open_store(&database.database, &database.postgres()).await?;
    let now = SystemClock.now();
    let expires_at = now.plus(grace);
    let stored = StoredKey {
        hash: new.hash(),
        kind,
        mode,
    };
    let change = store
        .roll_key(old.hash(), stored, expires_at, now)
        .await
        .context("while rolling the key")?;
    let KeyChange::Changed(platform) = change else {
        return Err(key_change_refusal(&old, &change));
    };
    let output = serde_json::json!({
        "platform": platform,
        "kind": kind.as_str(),
        "livemode": mode.is_live(),
        "key": new.expose(),
        "old_key": old.masked(),
        "old_key_expires_at": expires_at,
    });
    println!("{output}");
    Ok(())
}

async fn revoke_key(key: &str, database: &DatabaseArgs) -> anyhow::Result<()> {
    let key = platform_key_argument(key)?;
    let store = app::open_store(&database.database, &database.postgres()).await?;
    let change = store
        .revoke_key(key.hash())
        .await
        .context("while revoking the key")?;
    let KeyChange::Changed(platform) = change else {
        return Err(key_change_refusal(&key, &change));
    };
    println!(
        "{}",
        serde_json::json!({"platform": platform, "revoked": key.masked()})
    );
    Ok(())
}

async fn resend_event(
    event: &str,
    endpoint: Option<&str>,
    database: &DatabaseArgs,
) -> anyhow::Result<()> {
    let event_id =
        EventId::parse(event).with_context(|| format!("{event:?} is not an event id (evt_…)"))?;
    let endpoint_id = endpoint
        .map(|id| {
            WebhookEndpointId::parse(id)
                .with_context(|| format!("{id:?} is not a webhook endpoint id (we_…)"))
        })
        .transpose()?;
    let store = app::open_store(&database.database, &database.postgres()).await?;
    let tenant = store
        .event_tenant(&event_id)
        .await?
        .with_context(|| format!("no event {event}"))?;
    let queued = store
        .resend_event(&tenant, &event_id, endpoint_id.as_ref(), SystemClock.now())
        .await?
        .with_context(|| format!("no event {event}"))?;
    if let (0, Some(endpoint)) = (queued, endpoint) {
        anyhow::bail!("no webhook endpoint {endpoint} in the event's platform and mode");
    }
    println!("{}", serde_json::json!({"event": event, "queued": queued}));
    Ok(())
}

/// A minimal HTTP/1.1 GET of /healthz, so containers can probe without curl.
async fn healthcheck(listen: SocketAddr) -> anyhow::Result<ExitCode> {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(listen).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        anyhow::Ok(response.starts_with(b"HTTP/1.1 200"))
    };
    let healthy = tokio::time::timeout(Duration::from_secs(5), probe)
        .await
        .context("while waiting for /healthz")??;
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_defaults_match_the_documented_contract() {
        let cli = Cli::try_parse_from(["connect-sessions", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.listen, "127.0.0.1:12111".parse().unwrap());
        assert_eq!(args.session_ttl, Duration::from_secs(1800));
        assert!(
            matches!(args.database.database, DatabaseUrl::Sqlite(ref p) if p.to_str() == Some("connect-sessions.db"))
        );
        assert_eq!(args.database.postgres(), PostgresSettings::default());
    }

    #[test]
    fn postgres_pool_options_are_read_for_serve_and_migrate() {
        for command in ["serve", "migrate"] {
            let cli = Cli::try_parse_from([
                "connect-sessions",
                command,
                "--database",
                "postgresql://app@db.internal/sessions",
                "--database-pool-size",
                "4",
                "--database-statement-timeout",
                "2s",
                "--database-acquire-timeout",
                "1500ms",
            ])
            .unwrap();
            let database = match cli.command {
                Command::Serve(args) => args.database,
                Command::Migrate(args) => args,
                _ => panic!("not {command}"),
            };
            assert!(matches!(database.database, DatabaseUrl::Postgres(_)));
            assert_eq!(
                database.postgres(),
                PostgresSettings {
                    pool_size: 4,
                    statement_timeout: Duration::from_secs(2),
                    acquire_timeout: Duration::from_millis(1500),
                }
            );
        }
        let empty_pool =
            Cli::try_parse_from(["connect-sessions", "migrate", "--database-pool-size", "0"]);
        assert!(empty_pool.is_err());
    }
}
