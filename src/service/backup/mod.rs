//! Backups: one organisation's data as one signed JSON document, written as a stream and
//! verifiable offline from the file alone.
//!
//! The document, byte for byte as [`export`] writes it (one row per line):
//!
//! ```text
//! {"format":"vaskem-backup","version":1,"exportedAt":"…","organisation":{"id":…,"name":…,"slug":…},
//! "tables":{
//! "allocations":[
//! {row},
//! {row}
//! ],
//! …
//! },
//! "manifest":{"tables":[{"table":…,"rows":…,"sha256":…},…],"auditHead":{"seq":…,"hash":…},
//! "signature":{"algorithm":"Ed25519","publicKey":…,"value":…}}}
//! ```
//!
//! - **Every tenant table** is in it, whole: the tables come from `entity::visit_tenant_tables`,
//!   the same list the tenancy test compares with the database's catalogue, and each is read by
//!   the tenant handle ([`crate::tenancy::TenantTx::stream_rows_as_json`]), which adds the tenant
//!   condition itself. Rows are in primary-key order; `audit_events` so in sequence order, with
//!   their chain values.
//! - **No secrets**: the columns in [`WITHHELD`] are left out, nothing else. Keys never were in
//!   the database.
//! - **One snapshot**: every table is read in one read-only transaction (REPEATABLE READ on
//!   PostgreSQL), so balances in the file are the sums of the movements in the file.
//! - **The manifest comes last**, when every table has been written: per table its row count and
//!   the SHA-256 of its rows as written (each row's bytes followed by a newline), the audit
//!   chain's head, and an Ed25519 signature over the header and those figures
//!   ([`signing::signed_content`]). The signing key is held outside the database
//!   ([`signing::BackupKey`]).
//!
//! **Why the signature, not the audit chain, makes the file tamper-evident offline**: the chain's
//! links (sequence numbers, each event's previous hash) can be checked by anyone, but so can they
//! be recomputed by anyone who rewrites a file; the chain's HMAC needs the audit key, which an
//! offline verifier usually lacks. The signature covers every table's hash and needs only the
//! public key. [`verify`] checks the links always and the HMACs when given the audit keys.

mod export;
pub mod requests;
mod restore;
pub mod signing;
mod verify;

pub use export::{ExportSummary, export, export_to_file};
pub use restore::{
    NOT_RESTORED, NotRestored, RestoreError, RestoreSummary, RestoreTarget, is_not_restored,
    restore,
};
pub use signing::{BackupKey, SigningKeyError};
pub use verify::{VerifyProblem, VerifyReport, verify};

/// The document's `format`.
pub const FORMAT: &str = "vaskem-backup";

/// The document's `version`; a verifier refuses any other.
pub const VERSION: u64 = 1;

/// A column a backup leaves out, and why.
#[derive(Clone, Copy, Debug)]
pub struct Withheld {
    pub table: &'static str,
    pub column: &'static str,
    pub why: &'static str,
}

/// The only columns of tenant tables that a backup leaves out. Sessions are exported (who was
/// signed in, from where, until when is history an administrator may want) without their token
/// hash.
pub const WITHHELD: &[Withheld] = &[
    Withheld {
        table: "users",
        column: "password_hash",
        why: "a password hash can be attacked offline; a restored user must have their password \
              reset",
    },
    Withheld {
        table: "backups",
        column: "handle_sha256",
        why: "the SHA-256 of a download handle: whoever holds it can look a handle up against \
              it, and an export of one organisation is never another's to download",
    },
    Withheld {
        table: "sessions",
        column: "token_hash",
        why: "the SHA-256 of a live cookie's token: whoever holds the database row can look \
              tokens up against it, and a restored session must never be live",
    },
];

/// Whether `table.column` is left out of backups.
pub fn is_withheld(table: &str, column: &str) -> bool {
    WITHHELD
        .iter()
        .any(|withheld| withheld.table == table && withheld.column == column)
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no such organisation")]
    NoOrganisation,
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cannot write the backup: {0}")]
    Write(#[from] std::io::Error),
    /// A row the database wrote that is not what the exporter expects (an audit event without
    /// its sequence number or hash): a bug, never the caller's input.
    #[error("unexpected row in {table}: {why}")]
    UnexpectedRow { table: &'static str, why: String },
}

impl From<ExportError> for crate::error::AppError {
    fn from(err: ExportError) -> Self {
        match err {
            ExportError::NoOrganisation => crate::error::AppError::NotFound {
                entity: "organisation",
            },
            ExportError::Database(err) => err.into(),
            other => crate::error::AppError::Internal(other.to_string()),
        }
    }
}
