//! The backup signing key (Ed25519) and what it signs.
//!
//! The key is held outside the database, like the audit keys: in a key file holding the 32-byte
//! secret as one base64 line (blank lines and `#` comments ignored), created readable by its
//! owner only. Whoever can read the database cannot forge a backup; whoever has the public key
//! (`vaskem backup public-key`) can check one.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::json;

use crate::audit::keys::{create_private, warn_if_shared};

/// Bytes in a key (the Ed25519 secret seed) and in a public key.
pub const KEY_LEN: usize = 32;

/// Why a backup key or key file was refused. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("not a backup key (expected one line of base64 of {KEY_LEN} bytes)")]
    Malformed,
    #[error("not a public key (expected base64 of {KEY_LEN} bytes of an Ed25519 public key)")]
    MalformedPublicKey,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("cannot draw random bytes: {0}")]
    Random(String),
}

/// The key backups are signed with.
pub struct BackupKey {
    key: SigningKey,
}

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BackupKey(public {})", self.public_key_base64())
    }
}

impl BackupKey {
    pub fn from_bytes(secret: [u8; KEY_LEN]) -> Self {
        Self {
            key: SigningKey::from_bytes(&secret),
        }
    }

    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, SigningKeyError> {
        let mut secret = [0_u8; KEY_LEN];
        getrandom::fill(&mut secret).map_err(|err| SigningKeyError::Random(err.to_string()))?;
        Ok(Self::from_bytes(secret))
    }

    /// Parses a key file's contents.
    pub fn parse(text: &str) -> Result<Self, SigningKeyError> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'));
        let (Some(line), None) = (lines.next(), lines.next()) else {
            return Err(SigningKeyError::Malformed);
        };
        let bytes = STANDARD
            .decode(line)
            .map_err(|_| SigningKeyError::Malformed)?;
        Ok(Self::from_bytes(
            bytes.try_into().map_err(|_| SigningKeyError::Malformed)?,
        ))
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, SigningKeyError> {
        warn_if_shared(path, "the backup key file");
        Self::parse(&std::fs::read_to_string(path)?)
    }

    /// Creates a key file holding a fresh key, unless one exists (then its key is used). Returns
    /// the key and whether this call created the file.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), SigningKeyError> {
        let key = Self::generate()?;
        match create_private(path) {
            Ok(mut file) => {
                write!(
                    file,
                    "# VasKem backup signing key (Ed25519, base64). Keep it secret and back it \
                     up;\n# `vaskem backup public-key` prints what verifiers need.\n{}\n",
                    STANDARD.encode(key.key.to_bytes())
                )?;
                file.sync_all()?;
                Ok((key, true))
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok((Self::load(path)?, false))
            }
            Err(err) => Err(err.into()),
        }
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The public key as `vaskem backup public-key` prints it (standard base64).
    pub fn public_key_base64(&self) -> String {
        public_key_to_base64(&self.verifying_key())
    }

    /// The signature of `content`, base64.
    pub(super) fn sign(&self, content: &[u8]) -> String {
        STANDARD.encode(self.key.sign(content).to_bytes())
    }
}

/// A public key as printed by `vaskem backup public-key`.
pub fn public_key_to_base64(key: &VerifyingKey) -> String {
    STANDARD.encode(key.to_bytes())
}

/// Parses a public key given as base64.
pub fn public_key_from_base64(text: &str) -> Result<VerifyingKey, SigningKeyError> {
    let bytes: [u8; KEY_LEN] = STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SigningKeyError::MalformedPublicKey)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| SigningKeyError::MalformedPublicKey)
}

/// Whether `signature` (base64) is `key`'s signature of `content`.
pub(super) fn signature_holds(key: &VerifyingKey, content: &[u8], signature: &str) -> bool {
    let Some(bytes) = STANDARD
        .decode(signature)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
    else {
        return false;
    };
    key.verify(content, &Signature::from_bytes(&bytes)).is_ok()
}

/// One table's line in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableDigest {
    pub table: String,
    pub rows: u64,
    /// Hex SHA-256 of the table's rows as written, each followed by a newline.
    pub sha256: String,
}

/// The audit chain's last event (sequence 0 and the genesis hash when it has none).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

/// The document's header as it is signed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrganisationHeader {
    pub id: String,
    pub name: String,
    pub slug: String,
}

/// The bytes the signature covers: a compact JSON array of the format, the version, the export
/// time, the organisation, each table's name, row count and hash in file order, and the audit
/// head. Both the exporter and the verifier build it from values, never from the file's text,
/// so white space or key order cannot matter.
pub fn signed_content(
    version: u64,
    exported_at: &str,
    organisation: &OrganisationHeader,
    tables: &[TableDigest],
    head: &AuditHead,
) -> Vec<u8> {
    let tables: Vec<_> = tables
        .iter()
        .map(|table| json!([table.table, table.rows, table.sha256]))
        .collect();
    json!([
        super::FORMAT,
        version,
        exported_at,
        organisation.id,
        organisation.name,
        organisation.slug,
        tables,
        head.seq,
        head.hash,
    ])
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_hold_one_base64_key_and_comments() {
        let key = BackupKey::from_bytes([4; KEY_LEN]);
        let text = format!("# comment\n\n  {}  \n", STANDARD.encode([4; KEY_LEN]));
        let parsed = BackupKey::parse(&text).expect("parse");
        assert_eq!(parsed.public_key_base64(), key.public_key_base64());
        for bad in [
            "# nothing\n",
            "not base64!",
            "AAAAAAAAAAAAAAAAAAAAAA==",
            &format!("{0}\n{0}\n", STANDARD.encode([4; KEY_LEN])),
        ] {
            assert!(
                matches!(BackupKey::parse(bad), Err(SigningKeyError::Malformed)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_shows_the_public_key_only() {
        let key = BackupKey::from_bytes([9; KEY_LEN]);
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.public_key_base64()));
        assert!(!shown.contains(&STANDARD.encode([9; KEY_LEN])));
    }

    #[test]
    fn signatures_hold_for_their_content_and_key_only() {
        let key = BackupKey::from_bytes([1; KEY_LEN]);
        let signature = key.sign(b"content");
        assert!(signature_holds(
            &key.verifying_key(),
            b"content",
            &signature
        ));
        assert!(!signature_holds(
            &key.verifying_key(),
            b"contents",
            &signature
        ));
        let other = BackupKey::from_bytes([2; KEY_LEN]).verifying_key();
        assert!(!signature_holds(&other, b"content", &signature));
        assert!(!signature_holds(
            &key.verifying_key(),
            b"content",
            "not base64"
        ));
        let public = public_key_from_base64(&key.public_key_base64()).expect("public key");
        assert_eq!(public, key.verifying_key());
        assert!(public_key_from_base64("AAAA").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_new_key_file_is_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("backup.key");
        let (first, created) = BackupKey::load_or_create(&path).expect("create");
        assert!(created);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, created) = BackupKey::load_or_create(&path).expect("load");
        assert!(!created);
        assert_eq!(again.public_key_base64(), first.public_key_base64());
    }
}
