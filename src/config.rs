//! Validated settings, parsed once from the command line and environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

use crate::domain::platform::MAX_ROLL_GRACE;
use crate::http::settings::ApiConfig;

/// Where the data lives.
#[derive(Clone)]
pub enum DatabaseUrl {
    /// An SQLite file (`sqlite://relative/path.db`, `sqlite:///absolute/path.db`).
    Sqlite(PathBuf),
    /// A PostgreSQL server (`postgres://user@host/db`); may hold a password.
    Postgres(SecretString),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(_) => f.write_str("Postgres([REDACTED])"),
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = text.strip_prefix("sqlite:") {
            // `sqlite://x.db` is relative, `sqlite:///tmp/x.db` absolute, `sqlite:x.db` relative.
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() || path.contains('?') {
                return Err(format!(
                    "{text:?} is not an SQLite URL this server understands: use sqlite://PATH (relative) or sqlite:///PATH (absolute), without options"
                ));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Self::Postgres(SecretString::from(text)));
        }
        Err("the database URL must start with sqlite:// or postgres://".to_owned())
    }
}

/// Where the server-held master keys come from.
#[derive(Clone)]
pub enum MasterKeySource {
    /// Keys given directly (comma-separated, current first).
    Inline(SecretString),
    /// A file of keys, one per line, current first; created with one new key if missing.
    File(PathBuf),
    /// `<database file>.key` beside an SQLite database, created if missing.
    BesideDatabase,
}

impl fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inline(_) => f.write_str("Inline([REDACTED])"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::BesideDatabase => f.write_str("BesideDatabase"),
        }
    }
}

/// Parses a human duration (`30m`, `1h 30m`, `90s`) of at least one second.
pub fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| format!("{text:?}: {e}"))?;
    if duration < Duration::from_secs(1) {
        return Err(format!("{text:?}: must be at least one second"));
    }
    Ok(duration)
}

/// Parses how long a rolled key keeps working (`0s`, `1h`, `7d`): from none
/// to Stripe's longest, seven days.
pub fn parse_roll_grace(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| format!("{text:?}: {e}"))?;
    if duration > MAX_ROLL_GRACE {
        return Err(format!(
            "{text:?}: an old key can keep working for at most 7 days (as in Stripe)"
        ));
    }
    Ok(duration)
}

/// Parses a duration of at least a millisecond (`50ms`, `2s`): for
/// intervals that tests and busy deployments shorten below a second.
pub fn parse_short_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| format!("{text:?}: {e}"))?;
    if duration < Duration::from_millis(1) {
        return Err(format!("{text:?}: must be at least one millisecond"));
    }
    Ok(duration)
}

/// Parses a size in bytes, with an optional binary suffix (`KiB`, `MiB`,
/// `GiB`): `65536`, `64KiB`, `32MiB`. At least one byte.
pub fn parse_byte_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number of bytes, e.g. 32MiB"))?;
    let scale: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (B, KiB, MiB or GiB)"
            ));
        }
    };
    match number.checked_mul(scale) {
        Some(0) => Err(format!("{text:?}: must be at least one byte")),
        Some(bytes) => Ok(bytes),
        None => Err(format!("{text:?}: too large")),
    }
}

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// Address to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// The database.
    pub database: DatabaseUrl,
    /// The connection pool, when the database is PostgreSQL.
    pub postgres: crate::store::postgres::PostgresSettings,
    /// Request-time settings.
    pub api: ApiConfig,
    /// The master keys.
    pub master_keys: MasterKeySource,
    /// `--seed`: ids and secrets from a seeded generator.
    pub seed: Option<u64>,
    /// Platforms with known test keys, created on start if missing.
    pub declared_platforms: Vec<crate::domain::platform::DeclaredPlatform>,
    /// Background pruning.
    pub pruning: crate::maintenance::PruneSettings,
    /// Webhook delivery.
    pub webhooks: crate::webhooks::worker::DeliverySettings,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_take_binary_suffixes() {
        assert_eq!(parse_byte_size("65536"), Ok(65536));
        assert_eq!(parse_byte_size("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_byte_size("32MiB"), Ok(32 * 1024 * 1024));
        assert_eq!(parse_byte_size("1 GiB"), Ok(1 << 30));
        assert!(parse_byte_size("0").is_err());
        assert!(parse_byte_size("12MB").is_err());
        assert!(parse_byte_size("MiB").is_err());
    }

    #[test]
    fn sqlite_urls_map_to_paths() {
        let relative: DatabaseUrl = "sqlite://connect-sessions.db".parse().unwrap();
        assert!(
            matches!(relative, DatabaseUrl::Sqlite(ref p) if p == &PathBuf::from("connect-sessions.db"))
        );
        let absolute: DatabaseUrl = "sqlite:///tmp/x.db".parse().unwrap();
        assert!(matches!(absolute, DatabaseUrl::Sqlite(ref p) if p == &PathBuf::from("/tmp/x.db")));
        assert!("sqlite://".parse::<DatabaseUrl>().is_err());
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
    }

    #[test]
    fn postgres_urls_never_show_their_password() {
        let url: DatabaseUrl = "postgres://user:hunter2@localhost/db".parse().unwrap();
        assert!(!format!("{url:?}").contains("hunter2"));
    }

    #[test]
    fn durations_are_human() {
        assert_eq!(
            parse_positive_duration("30m").unwrap(),
            Duration::from_secs(1800)
        );
        assert_eq!(
            parse_positive_duration("1h 30m").unwrap(),
            Duration::from_secs(5400)
        );
        assert!(parse_positive_duration("0s").is_err());
        assert!(parse_positive_duration("soon").is_err());
    }
}
