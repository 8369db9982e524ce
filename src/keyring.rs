//! Server-held master keys: secrets that live outside the database, so that a
//! copy of the database alone reveals nothing they protect.
//!
//! Purpose-specific keys are derived from a master key with BLAKE3's key
//! derivation, one context string per purpose. Keys rotate by prepending: the
//! first key is current; the others stay usable until nothing they protect
//! remains (see docs/OPERATIONS.md).

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;

/// Derivation context of the bank-account fingerprint key.
const FINGERPRINT_CONTEXT: &str = "connect-sessions 2026-11 bank account fingerprint";

/// One 256-bit master key.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// A new key from the operating system's CSPRNG (via the thread-local generator).
    pub fn generate() -> Self {
        Self(rand::rng().random())
    }

    /// The key as text: 43 URL-safe base64 characters.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Reads a key written by [`MasterKey::encode`].
    pub fn decode(text: &str) -> Result<Self, KeyringError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| KeyringError::Malformed)?;
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| KeyringError::Malformed)
    }

    /// A key for one purpose, derived from this one.
    fn derive(&self, context: &str) -> [u8; 32] {
        blake3::derive_key(context, &self.0)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

/// Why master keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// Not 32 bytes of URL-safe base64.
    #[error(
        "a master key must be 32 bytes written as 43 URL-safe base64 characters (generate one with `connect-sessions generate-master-key`)"
    )]
    Malformed,
    /// No key given.
    #[error("no master key given")]
    Empty,
    /// The key file could not be read or created.
    #[error("master key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The master keys, current first.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<MasterKey>,
    fingerprint_key: [u8; 32],
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// A keyring of `keys`, the first current.
    pub fn new(keys: Vec<MasterKey>) -> Result<Self, KeyringError> {
        let current = keys.first().ok_or(KeyringError::Empty)?;
        let fingerprint_key = current.derive(FINGERPRINT_CONTEXT);
        Ok(Self {
            keys,
            fingerprint_key,
        })
    }

    /// A keyring with one fresh key (tests, throwaway servers).
    pub fn generate() -> Self {
        let key = MasterKey::generate();
        Self {
            fingerprint_key: key.derive(FINGERPRINT_CONTEXT),
            keys: vec![key],
        }
    }

    /// Parses keys separated by commas, whitespace or newlines, current first.
    pub fn parse(text: &str) -> Result<Self, KeyringError> {
        let keys = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(MasterKey::decode)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(keys)
    }

    /// Reads keys from `path`, creating the file with one new key (readable only
    /// by its owner) if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyringError> {
        let file_error = |source| KeyringError::File {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = MasterKey::generate();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(file_error)?;
                writeln!(file, "{}", key.encode()).map_err(file_error)?;
                file.sync_all().map_err(file_error)?;
                Self::new(vec![key])
            }
            Err(error) => Err(file_error(error)),
        }
    }

    /// The master keys, current first.
    pub fn keys(&self) -> &[MasterKey] {
        &self.keys
    }

    /// A 16-hex-digit keyed fingerprint of `input`: equal inputs give equal
    /// fingerprints, and without the key nothing about the input can be learned
    /// or brute-forced from it.
    pub fn fingerprint(&self, input: &str) -> String {
        let hash = blake3::keyed_hash(&self.fingerprint_key, input.as_bytes());
        hash.to_hex()[..16].to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_text() {
        let key = MasterKey::generate();
        assert_eq!(key.encode().len(), 43);
        assert_eq!(MasterKey::decode(&key.encode()).unwrap(), key);
        assert!(MasterKey::decode("too-short").is_err());
    }

    #[test]
    fn fingerprints_depend_on_the_key() {
        let one = Keyring::generate();
        let other = Keyring::generate();
        assert_eq!(
            one.fingerprint("US|110000000|000123456789"),
            one.fingerprint("US|110000000|000123456789")
        );
        assert_ne!(
            one.fingerprint("US|110000000|000123456789"),
            other.fingerprint("US|110000000|000123456789")
        );
        assert_eq!(one.fingerprint("x").len(), 16);
    }

    #[test]
    fn the_first_key_is_current() {
        let (a, b) = (MasterKey::generate(), MasterKey::generate());
        let text = format!("{}, {}\n", a.encode(), b.encode());
        let keyring = Keyring::parse(&text).unwrap();
        assert_eq!(keyring.keys(), &[a.clone(), b]);
        assert_eq!(
            keyring.fingerprint("x"),
            Keyring::new(vec![a]).unwrap().fingerprint("x")
        );
        assert!(Keyring::parse("").is_err());
    }

    #[test]
    fn a_missing_key_file_is_created_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.key");
        let created = Keyring::load_or_create(&path).unwrap();
        let reloaded = Keyring::load_or_create(&path).unwrap();
        assert_eq!(created.keys(), reloaded.keys());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn debug_shows_no_key_material() {
        let keyring = Keyring::generate();
        let encoded = keyring.keys()[0].encode();
        assert!(!format!("{keyring:?}").contains(&encoded));
    }
}
