//! Writing a backup: every tenant table streamed from one snapshot, then the signed manifest.

use std::io::{BufWriter, Write};
use std::marker::PhantomData;
use std::path::Path;

use chrono::{SecondsFormat, Utc};
use entity::{TenantScoped, TenantTableVisitor, audit_event, organisation};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sea_orm::{DbErr, EntityName, EntityTrait, IdenStatic, Iterable};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::signing::{AuditHead, BackupKey, OrganisationHeader, TableDigest, signed_content};
use super::{ExportError, FORMAT, VERSION, is_withheld};
use crate::audit::GENESIS_HASH;
use crate::audit::keys::create_private;
use crate::tenancy::{TenantDb, TenantTx};

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSummary {
    /// Rows of every table together.
    pub rows: u64,
    pub tables: usize,
    /// The file's size and its SHA-256 (hex), as a download would be checked against.
    pub bytes: u64,
    pub sha256: String,
    /// The audit chain's head as the manifest records it.
    pub audit_head: AuditHead,
}

/// How often (in rows) [`export`] reports its progress.
const PROGRESS_EVERY: u64 = 4096;

/// Writes `db`'s organisation as a backup document (see the module documentation) to `out`,
/// signed with `key`, calling `progress` with the rows written so far every few thousand rows
/// and at the end.
///
/// Memory stays bounded whatever the organisation's size: each table is streamed from the
/// database a row at a time (the database renders each row's JSON) and written at once. `out`
/// gets many small writes: give it a buffered writer. On an error the output holds a partial
/// document, which a verifier refuses; callers writing a file write to a temporary name and
/// rename it on success.
pub async fn export<W: Write + Send>(
    db: &TenantDb,
    key: &BackupKey,
    out: W,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<ExportSummary, ExportError> {
    let tx = db.snapshot().await?;
    let organisation = tx
        .one(organisation::Entity::find())
        .await?
        .ok_or(ExportError::NoOrganisation)?;
    let header = OrganisationHeader {
        id: organisation.id.to_string(),
        name: organisation.name,
        slug: organisation.slug,
    };
    let exported_at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let mut out = Digesting::new(out);
    write!(
        out,
        "{{\"format\":{},\"version\":{VERSION},\"exportedAt\":{},\"organisation\":{},\n\"tables\":{{",
        json!(FORMAT),
        json!(exported_at),
        json!(header),
    )?;

    let tables = tables();
    let mut digests = Vec::with_capacity(tables.len());
    let mut head = AuditHead {
        seq: 0,
        hash: GENESIS_HASH.to_owned(),
    };
    let mut rows_done = 0_u64;
    for (index, table) in tables.iter().enumerate() {
        let name = table.name();
        out.write_all(if index == 0 { b"\n" } else { b",\n" })?;
        write!(out, "{}:[", json!(name))?;
        let mut table_sha = Sha256::new();
        let mut count = 0_u64;
        let mut rows = table.rows(&tx).await?;
        while let Some(row) = rows.next().await {
            let row = row?;
            out.write_all(if count == 0 { b"\n" } else { b",\n" })?;
            out.write_all(row.as_bytes())?;
            table_sha.update(row.as_bytes());
            table_sha.update(b"\n");
            if name == AUDIT_EVENTS {
                head = audit_link(&row)?;
            }
            count += 1;
            rows_done += 1;
            if rows_done.is_multiple_of(PROGRESS_EVERY) {
                progress(rows_done);
            }
        }
        out.write_all(b"\n]")?;
        digests.push(TableDigest {
            table: name.to_owned(),
            rows: count,
            sha256: hex::encode(table_sha.finalize()),
        });
    }
    // Every table is read: the snapshot can go (a read transaction: rolling back is ending it).
    drop(tx);

    let content = signed_content(VERSION, &exported_at, &header, &digests, &head);
    let manifest = json!({
        "tables": digests,
        "auditHead": head,
        "signature": {
            "algorithm": "Ed25519",
            "publicKey": key.public_key_base64(),
            "value": key.sign(&content),
        },
    });
    write!(out, "\n}},\n\"manifest\":{manifest}}}\n")?;
    out.flush()?;
    progress(rows_done);
    Ok(ExportSummary {
        rows: rows_done,
        tables: digests.len(),
        bytes: out.bytes,
        sha256: hex::encode(out.sha256.finalize()),
        audit_head: head,
    })
}

/// [`export`] to the file at `path`, through a temporary file beside it that is renamed into
/// place only once complete and on disk: `path` never holds half a backup, and a failed export
/// leaves nothing. The file is readable by its owner only (it holds the organisation's data).
pub async fn export_to_file(
    db: &TenantDb,
    key: &BackupKey,
    path: &Path,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<ExportSummary, ExportError> {
    let name = path.file_name().ok_or_else(|| {
        ExportError::Write(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        ))
    })?;
    // Beside the target, so the rename stays on one file system (and so is atomic).
    let partial = path.with_file_name(format!(
        ".{}.{}.partial",
        name.to_string_lossy(),
        std::process::id()
    ));
    let file = create_private(&partial)?;
    let written = async {
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        let summary = export(db, key, &mut writer, progress).await?;
        let file = writer.into_inner().map_err(|err| err.into_error())?;
        file.sync_all()?;
        std::fs::rename(&partial, path)?;
        Ok(summary)
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

const AUDIT_EVENTS: &str = "audit_events";

/// The sequence number and hash of an exported audit event.
fn audit_link(row: &str) -> Result<AuditHead, ExportError> {
    #[derive(serde::Deserialize)]
    struct Link {
        seq: i64,
        hash: String,
    }
    let link: Link = serde_json::from_str(row).map_err(|err| ExportError::UnexpectedRow {
        table: AUDIT_EVENTS,
        why: err.to_string(),
    })?;
    Ok(AuditHead {
        seq: link.seq,
        hash: link.hash,
    })
}

/// One tenant table as the exporter reads it.
trait Table: Send + Sync {
    fn name(&self) -> &'static str;

    /// Its rows in this organisation, as JSON text, every column but the withheld ones.
    fn rows<'a>(
        &self,
        tx: &'a TenantTx,
    ) -> BoxFuture<'a, Result<BoxStream<'a, Result<String, DbErr>>, DbErr>>;
}

struct EntityTable<E>(PhantomData<fn() -> E>);

impl<E: TenantScoped + Default> Table for EntityTable<E> {
    fn name(&self) -> &'static str {
        E::default().table_name()
    }

    fn rows<'a>(
        &self,
        tx: &'a TenantTx,
    ) -> BoxFuture<'a, Result<BoxStream<'a, Result<String, DbErr>>, DbErr>> {
        let name = self.name();
        let columns: Vec<E::Column> = E::Column::iter()
            .filter(|column| !is_withheld(name, IdenStatic::as_str(column)))
            .collect();
        Box::pin(async move { tx.stream_rows_as_json::<E>(&columns).await })
    }
}

/// Every tenant table, from the one list of them (`entity::visit_tenant_tables`).
fn tables() -> Vec<Box<dyn Table>> {
    struct Collect(Vec<Box<dyn Table>>);
    impl TenantTableVisitor for Collect {
        fn visit<E: TenantScoped + Default>(&mut self) {
            self.0.push(Box::new(EntityTable::<E>(PhantomData)));
        }
    }
    let mut collect = Collect(Vec::new());
    entity::visit_tenant_tables(&mut collect);
    // The table of `audit_events` must be one of them: the manifest's head comes from it.
    debug_assert!(
        collect
            .0
            .iter()
            .any(|table| table.name() == audit_event::Entity.table_name())
    );
    collect.0
}

/// A writer that counts and hashes what passes through it.
struct Digesting<W> {
    inner: W,
    bytes: u64,
    sha256: Sha256,
}

impl<W: Write> Digesting<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            bytes: 0,
            sha256: Sha256::new(),
        }
    }
}

impl<W: Write> Write for Digesting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.sha256.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
