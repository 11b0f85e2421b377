//! The audit key ring: the secret keys that sign the audit chain, which the database never holds.
//!
//! A key file holds one key per line, base64 of 32 random bytes; blank lines and lines starting
//! with `#` are ignored. The last key signs new events; every key verifies. A key is named by its
//! id, the first 16 hex digits of SHA-256("vaskem audit key id" || key), stored on each event, so a
//! verifier knows which key to use and two nodes signing with different keys are noticed.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// HMAC-SHA-256, the chain's keyed hash.
pub(crate) type ChainMac = Hmac<Sha256>;

/// Bytes in a key.
pub const KEY_LEN: usize = 32;

const KEY_ID_CONTEXT: &[u8] = b"vaskem audit key id";

/// Why a key or key file was refused. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("line {line}: not a key (expected base64 of {KEY_LEN} bytes)")]
    Malformed { line: usize },
    #[error("no key in it")]
    Empty,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("cannot draw random bytes: {0}")]
    Random(String),
}

/// One audit key.
#[derive(Clone)]
pub struct AuditKey {
    id: String,
    secret: [u8; KEY_LEN],
    /// The HMAC state keyed once, cloned for every event.
    mac: ChainMac,
}

impl AuditKey {
    pub fn from_bytes(secret: [u8; KEY_LEN]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(KEY_ID_CONTEXT);
        hasher.update(secret);
        let id = hex::encode(&hasher.finalize()[..8]);
        // HMAC takes a key of any length, so this cannot fail.
        let mac = <ChainMac as Mac>::new_from_slice(&secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        Self { id, secret, mac }
    }

    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut secret = [0_u8; KEY_LEN];
        getrandom::fill(&mut secret).map_err(|err| KeyError::Random(err.to_string()))?;
        Ok(Self::from_bytes(secret))
    }

    /// A key as a key file line holds it (standard base64).
    pub fn from_base64(text: &str) -> Option<Self> {
        let bytes = STANDARD.decode(text.trim()).ok()?;
        Some(Self::from_bytes(bytes.try_into().ok()?))
    }

    /// The key as a key file line (standard base64). Secret: goes to the key file only.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.secret)
    }

    /// 16 hex digits naming this key; stored on every event it signs.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn mac(&self) -> ChainMac {
        self.mac.clone()
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditKey({})", self.id)
    }
}

/// The keys this process signs and verifies with. The last one signs.
#[derive(Clone, Debug, Default)]
pub struct AuditKeys {
    keys: Vec<AuditKey>,
}

impl AuditKeys {
    /// No key: for commands that never append or verify (migrate, stock verify). Appending fails.
    pub fn none() -> Self {
        Self::default()
    }

    /// `keys` in file order: the last signs.
    pub fn new(keys: Vec<AuditKey>) -> Self {
        Self { keys }
    }

    /// A ring holding one fresh random key (tests, first start).
    pub fn generate() -> Result<Self, KeyError> {
        Ok(Self::new(vec![AuditKey::generate()?]))
    }

    /// Parses a key file's contents.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            keys.push(AuditKey::from_base64(line).ok_or(KeyError::Malformed { line: index + 1 })?);
        }
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Self::new(keys))
    }

    /// Parses `VASKEM_AUDIT_KEY`: one base64 key, or several separated by white space (the last
    /// signs), so a container can rotate without a file.
    pub fn parse_inline(text: &str) -> Result<Self, KeyError> {
        Self::parse(&text.split_whitespace().collect::<Vec<_>>().join("\n"))
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        warn_if_shared(path, "the audit key file");
        Self::parse(&std::fs::read_to_string(path)?)
    }

    /// The key new events are signed with.
    pub fn signing(&self) -> Option<&AuditKey> {
        self.keys.last()
    }

    /// The key named `id`, if this ring holds it.
    pub fn get(&self, id: &str) -> Option<&AuditKey> {
        self.keys.iter().find(|key| key.id == id)
    }

    /// The ids of every key, in file order.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|key| key.id.as_str()).collect()
    }
}

/// Appends a fresh key to the key file at `path` (creating it, readable by its owner only, if it
/// does not exist), so it signs from now on while the older keys still verify. Returns the key.
pub fn append_new_key(path: &Path) -> Result<AuditKey, KeyError> {
    let key = AuditKey::generate()?;
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(err.into()),
    };
    let mut file = match existing {
        Some(text) => {
            // Refuse to append to something that is not a key file.
            if !text.trim().is_empty() {
                AuditKeys::parse(&text)?;
            }
            let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
            if !text.is_empty() && !text.ends_with('\n') {
                file.write_all(b"\n")?;
            }
            file
        }
        None => create_private(path)?,
    };
    writeln!(file, "{}", key.to_base64())?;
    file.sync_all()?;
    Ok(key)
}

/// Creates a key file holding one fresh key, unless one exists (another process may have won the
/// race to create it: then its keys are used). Returns the ring and whether this call created it.
pub fn load_or_create(path: &Path) -> Result<(AuditKeys, bool), KeyError> {
    let key = AuditKey::generate()?;
    match create_private(path) {
        Ok(mut file) => {
            write!(
                file,
                "# VasKem audit keys: one base64 key per line; the last signs, all verify.\n\
                 # Back this file up and give every node the same copy: without it the audit\n\
                 # chain cannot be verified. `vaskem audit new-key` appends a fresh key.\n{}\n",
                key.to_base64()
            )?;
            file.sync_all()?;
            Ok((AuditKeys::new(vec![key]), true))
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok((AuditKeys::load(path)?, false))
        }
        Err(err) => Err(err.into()),
    }
}

/// A new file only its owner may read and write (key files: the audit keys, the backup key).
pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Warns when the key file at `path` (`what` names it) is readable by anyone but its owner.
pub(crate) fn warn_if_shared(path: &Path, what: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "{what} is readable by other users; `chmod 600` it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_is_derived_from_the_key() {
        let key = AuditKey::from_bytes([7; KEY_LEN]);
        let mut hasher = Sha256::new();
        hasher.update(b"vaskem audit key id");
        hasher.update([7; KEY_LEN]);
        assert_eq!(key.id(), &hex::encode(hasher.finalize())[..16]);
        assert_ne!(key.id(), AuditKey::from_bytes([8; KEY_LEN]).id());
    }

    #[test]
    fn the_last_key_in_the_file_signs_and_every_key_verifies() {
        let old = AuditKey::from_bytes([1; KEY_LEN]);
        let new = AuditKey::from_bytes([2; KEY_LEN]);
        let text = format!(
            "# comment\n\n  {}  \n# another\n{}\n",
            old.to_base64(),
            new.to_base64()
        );
        let ring = AuditKeys::parse(&text).expect("parse");
        assert_eq!(ring.signing().map(AuditKey::id), Some(new.id()));
        assert!(ring.get(old.id()).is_some());
        assert_eq!(ring.ids(), [old.id(), new.id()]);
        let inline = AuditKeys::parse_inline(&format!("{} {}", old.to_base64(), new.to_base64()))
            .expect("inline");
        assert_eq!(inline.ids(), ring.ids());
    }

    #[test]
    fn malformed_and_empty_files_are_refused() {
        assert!(matches!(
            AuditKeys::parse("# nothing\n\n"),
            Err(KeyError::Empty)
        ));
        // Too short (16 bytes), and not base64 at all.
        assert!(matches!(
            AuditKeys::parse("# k\nAAAAAAAAAAAAAAAAAAAAAA==\n"),
            Err(KeyError::Malformed { line: 2 })
        ));
        assert!(matches!(
            AuditKeys::parse("not a key"),
            Err(KeyError::Malformed { line: 1 })
        ));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = AuditKey::from_bytes([9; KEY_LEN]);
        let shown = format!("{:?}", AuditKeys::new(vec![key.clone()]));
        assert!(shown.contains(key.id()));
        assert!(!shown.contains(&key.to_base64()));
    }

    #[cfg(unix)]
    #[test]
    fn new_key_files_are_private_and_rotation_appends() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("audit.key");
        let (first, created) = load_or_create(&path).expect("create");
        assert!(created);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, created) = load_or_create(&path).expect("load");
        assert!(!created);
        assert_eq!(again.ids(), first.ids());

        let added = append_new_key(&path).expect("rotate");
        let ring = AuditKeys::load(&path).expect("load");
        assert_eq!(ring.ids().len(), 2);
        assert_eq!(ring.signing().map(AuditKey::id), Some(added.id()));
        assert!(ring.get(first.ids()[0]).is_some());
    }
}
