//! Logging: `tracing` events to a writer the caller chooses (stderr in
//! production, a buffer or nothing in tests), filtered by `RUST_LOG`.
//!
//! Nothing secret is ever recorded: request spans carry only method and path,
//! and keys, client secrets and embedded keys are never passed to a log macro.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How log lines are formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber, writing to `sink`. Idempotent failures (a
/// subscriber already installed, as in tests) are ignored.
/// Colours are used only when `ansi` is set (a terminal is watching).
pub fn init<W>(format: LogFormat, default_filter: &str, sink: W, ansi: bool)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(sink)
        .with_target(false)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
