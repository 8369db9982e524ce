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
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngExt;

/// Derivation context of the bank-account fingerprint key.
const FINGERPRINT_CONTEXT: &str = "connect-sessions 2026-11 bank account fingerprint";
/// Derivation context of the idempotent request fingerprint key.
const REQUEST_FINGERPRINT_CONTEXT: &str = "connect-sessions 2026-11 idempotent request fingerprint";
/// Derivation context of the keys that seal stored responses.
const SEAL_CONTEXT: &str = "connect-sessions 2026-11 stored response sealing";
/// First byte of every sealed blob: the format, so it can change later.
const SEAL_FORMAT: u8 = 1;
/// Bytes of the key id in a sealed blob.
const KEY_ID_LEN: usize = 8;
/// Bytes of an XChaCha20 nonce: large enough to draw at random for every message.
const NONCE_LEN: usize = 24;

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

/// A key that seals stored responses, with the id written beside its output.
#[derive(Clone)]
struct SealKey {
    id: [u8; KEY_ID_LEN],
    key: [u8; 32],
}

impl SealKey {
    fn derive(master: &MasterKey) -> Self {
        let key = master.derive(SEAL_CONTEXT);
        let mut id = [0; KEY_ID_LEN];
        id.copy_from_slice(&blake3::hash(&key).as_bytes()[..KEY_ID_LEN]);
        Self { id, key }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key.into())
    }
}

/// The master keys, current first, and the keys derived from each.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<MasterKey>,
    /// Per master key: bank-account fingerprints.
    fingerprint_keys: Vec<[u8; 32]>,
    /// Per master key: idempotent request fingerprints.
    request_keys: Vec<[u8; 32]>,
    /// Per master key: sealing of stored responses.
    seal_keys: Vec<SealKey>,
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
        if keys.is_empty() {
            return Err(KeyringError::Empty);
        }
        Ok(Self::derived(keys))
    }

    /// A keyring with one fresh key (tests, throwaway servers).
    pub fn generate() -> Self {
        Self::derived(vec![MasterKey::generate()])
    }

    /// Derives every purpose's key from every master key; `keys` is not empty.
    fn derived(keys: Vec<MasterKey>) -> Self {
        Self {
            fingerprint_keys: keys
                .iter()
                .map(|key| key.derive(FINGERPRINT_CONTEXT))
                .collect(),
            request_keys: keys
                .iter()
                .map(|key| key.derive(REQUEST_FINGERPRINT_CONTEXT))
                .collect(),
            seal_keys: keys.iter().map(SealKey::derive).collect(),
            keys,
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

    /// A 16-hex-digit keyed fingerprint of `input` under the current key:
    /// equal inputs give equal fingerprints, and without the key nothing about
    /// the input can be learned or brute-forced from it.
    pub fn fingerprint(&self, input: &str) -> String {
        self.fingerprints(input)
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// The fingerprints of `input` under every key, current first: what it may
    /// have been stored as before a rotation.
    pub fn fingerprints(&self, input: &str) -> Vec<String> {
        self.fingerprint_keys
            .iter()
            .map(|key| blake3::keyed_hash(key, input.as_bytes()).to_hex()[..16].to_owned())
            .collect()
    }

    /// Keyed hashes of a request's canonical parameters under every key,
    /// current first. Keyed, because parameters can hold low-entropy secrets
    /// (an account number) that a plain hash in the database would expose to
    /// guessing.
    pub fn request_fingerprints(&self, canonical: &[u8]) -> Vec<[u8; 32]> {
        self.request_keys
            .iter()
            .map(|key| *blake3::keyed_hash(key, canonical).as_bytes())
            .collect()
    }
}

impl Keyring {
    /// Encrypts and authenticates `plaintext` under the current key, bound to
    /// `context` (which must be given again to open it): XChaCha20-Poly1305
    /// with a random nonce, prefixed by the format byte, the key's id and the nonce.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let Some(key) = self.seal_keys.first() else {
            // A keyring always has a key (see `Keyring::new`).
            return Vec::new();
        };
        let nonce: [u8; NONCE_LEN] = rand::rng().random();
        let payload = Payload {
            msg: plaintext,
            aad: context,
        };
        // Encryption fails only for messages of many gigabytes.
        let ciphertext = key
            .cipher()
            .encrypt(&XNonce::from(nonce), payload)
            .unwrap_or_default();
        let mut sealed = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + ciphertext.len());
        sealed.push(SEAL_FORMAT);
        sealed.extend_from_slice(&key.id);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts what [`Keyring::seal`] produced under any of the keys, if it is
    /// authentic and was sealed with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        let (&format, rest) = sealed.split_first()?;
        if format != SEAL_FORMAT || rest.len() < KEY_ID_LEN + NONCE_LEN {
            return None;
        }
        let (id, rest) = rest.split_at(KEY_ID_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let key = self.seal_keys.iter().find(|key| key.id == id)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let payload = Payload {
            msg: ciphertext,
            aad: context,
        };
        key.cipher().decrypt(&XNonce::from(nonce), payload).ok()
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
    fn sealed_data_opens_only_with_its_key_and_context() {
        let keyring = Keyring::generate();
        let sealed = keyring.seal(b"accs_secret__abc", b"scope-1");
        assert!(
            !sealed
                .windows(16)
                .any(|window| window == b"accs_secret__abc")
        );
        assert_eq!(
            keyring.open(&sealed, b"scope-1").unwrap(),
            b"accs_secret__abc"
        );
        assert!(keyring.open(&sealed, b"scope-2").is_none());
        assert!(Keyring::generate().open(&sealed, b"scope-1").is_none());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(keyring.open(&tampered, b"scope-1").is_none());
        assert!(keyring.open(b"", b"scope-1").is_none());
    }

    #[test]
    fn rotated_keys_still_open_what_older_keys_sealed() {
        let old = Keyring::generate();
        let sealed = old.seal(b"body", b"ctx");
        let rotated = Keyring::new(vec![MasterKey::generate(), old.keys()[0].clone()]).unwrap();
        assert_eq!(rotated.open(&sealed, b"ctx").unwrap(), b"body");
        let resealed = rotated.seal(b"body", b"ctx");
        assert!(old.open(&resealed, b"ctx").is_none());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let keyring = Keyring::generate();
        let encoded = keyring.keys()[0].encode();
        assert!(!format!("{keyring:?}").contains(&encoded));
    }
}
