//! Backups an administrator asks for through the API: the request (checked and audited in one
//! transaction), the export that runs after it, the list, and the download's lookup.
//!
//! - **Handle.** Each request gets a random 256-bit download handle, shown once in the answer as
//!   `/backups/{handle}`; the database keeps only its SHA-256, which backups withhold. The handle
//!   alone is not enough: a download also needs a session of the same organisation that still
//!   holds BACKUPS_DOWNLOAD.
//! - **Rate.** At most [`MAX_PER_HOUR`] requests per organisation in any hour: an export reads
//!   every row the organisation has. The organisation's row is locked while counting, so parallel
//!   requests cannot all slip under the limit.
//! - **Lifetime.** A download is refused [`LIFETIME_MINUTES`] after the request; the file is
//!   deleted by the next request of the organisation after that (or by the operator).
//! - **Where.** Files are written under the server's backup directory, one folder per
//!   organisation (`{dir}/{organisation id}/{backup id}.json`), readable by the service's user
//!   only. With several app nodes that directory must be shared storage, as the README says.
//! - **Audit.** `backup.export` when asked (in the request's transaction), `backup.finish` or
//!   `backup.fail` when the export ends, `backup.download` for each download.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::{BackupId, BackupStatus, UserId, backup, organisation, user};
use sea_orm::sea_query::{Expr, LockType};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{BackupKey, ExportSummary, export_to_file};
use crate::audit::{AuditRecord, Outcome};
use crate::error::{AppError, AppResult};
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::tenancy::TenantDb;

/// Most backups one organisation may ask for in any hour.
pub const MAX_PER_HOUR: u64 = 3;

/// How long a backup can be downloaded after it was asked for.
pub const LIFETIME_MINUTES: i64 = 60;

/// The path downloads are served under; the handle follows.
pub const DOWNLOAD_PATH: &str = "/backups/";

/// What the server needs to write backups.
#[derive(Clone, Debug)]
pub struct BackupSettings {
    /// Where backup files are written (a folder per organisation below it).
    pub dir: PathBuf,
    /// The key backups are signed with.
    pub key: Arc<BackupKey>,
}

/// A backup just asked for: the row, and the download handle (shown once, stored nowhere).
#[derive(Clone, Debug)]
pub struct Requested {
    pub backup: backup::Model,
    pub handle: String,
}

impl Requested {
    /// Where it is downloaded from, under the service.
    pub fn download_path(&self) -> String {
        format!("{DOWNLOAD_PATH}{}", self.handle)
    }
}

/// A backup as listed: the row and the email of who asked.
#[derive(Clone, Debug)]
pub struct Listed {
    pub backup: backup::Model,
    pub requested_by_email: String,
}

/// Where `backup`'s file lives under `dir`.
pub fn file_of(dir: &Path, backup: &backup::Model) -> PathBuf {
    dir.join(backup.tenant_id.to_string())
        .join(format!("{}.json", backup.id))
}

/// Records a request for a backup of the caller's organisation (the caller has proved their
/// password already), refusing a fourth within the hour. Audited as `backup.export`.
pub async fn request(db: &TenantDb, requested_by: UserId) -> AppResult<Requested> {
    let now = Utc::now();
    let mut tx = db.write().await?;
    // Held until commit: a parallel request counts after this one is in. FOR NO KEY UPDATE, not
    // FOR UPDATE: every audited write's event row checks its foreign key to this row (a KEY
    // SHARE lock), and an exclusive lock here would deadlock with a write that holds the audit
    // head and waits for that check.
    tx.one(organisation::Entity::find_by_id(db.tenant()).lock(LockType::NoKeyUpdate))
        .await?
        .ok_or(AppError::NotFound {
            entity: "organisation",
        })?;
    let hour_ago = now - Duration::hours(1);
    let recent = tx
        .all(
            backup::Entity::find()
                .filter(backup::Column::RequestedAt.gt(hour_ago))
                .order_by_asc(backup::Column::RequestedAt),
        )
        .await?;
    if recent.len() as u64 >= MAX_PER_HOUR {
        let oldest = recent.first().map_or(now, |b| b.requested_at);
        let retry_after = (oldest + Duration::hours(1) - now).num_seconds().max(1);
        return Err(AppError::RateLimited {
            what: format!(
                "at most {MAX_PER_HOUR} backups an hour per organisation: the next can be asked \
                 for in {retry_after} seconds"
            ),
            retry_after_seconds: retry_after,
        });
    }
    let handle = new_handle()?;
    let row = backup::ActiveModel {
        id: Set(BackupId::generate()),
        tenant_id: Set(db.tenant()),
        requested_by: Set(requested_by),
        requested_at: Set(now),
        status: Set(BackupStatus::Running),
        expires_at: Set(now + Duration::minutes(LIFETIME_MINUTES)),
        finished_at: Set(None),
        rows: Set(None),
        byte_size: Set(None),
        sha256: Set(None),
        failure: Set(None),
        handle_sha256: Set(digest(&handle)),
    };
    let stored = tx.insert(row).await?;
    tx.record(
        AuditRecord::new("backup.export", "backup", stored.id).with_change(
            json!(null),
            json!({ "status": stored.status.to_value(), "expiresAt": stored.expires_at }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Requested {
        backup: stored,
        handle,
    })
}

/// Writes the backup `requested` asked for, then records how it ended (`backup.finish` with its
/// size and SHA-256, or `backup.fail`). Run after the request has committed; takes as long as
/// the export does. Also deletes the organisation's expired backup files.
pub async fn run(db: TenantDb, settings: Arc<BackupSettings>, requested: backup::Model) {
    let path = file_of(&settings.dir, &requested);
    let written = async {
        if let Some(folder) = path.parent() {
            create_private_dir(folder)?;
        }
        export_to_file(&db, &settings.key, &path, &mut |_| {})
            .await
            .map_err(AppError::from)
    }
    .await;
    let ended = match written {
        Ok(summary) => finish(&db, requested.id, &summary).await,
        Err(err) => {
            tracing::error!(backup = %requested.id, error = %err, "backup export failed");
            fail(&db, requested.id, &err.to_string()).await
        }
    };
    if let Err(err) = ended {
        tracing::error!(backup = %requested.id, error = %err, "cannot record how a backup ended");
    }
    if let Err(err) = sweep(&db, &settings.dir).await {
        tracing::warn!(error = %err, "cannot delete expired backup files");
    }
}

async fn finish(db: &TenantDb, id: BackupId, summary: &ExportSummary) -> AppResult<()> {
    let now = Utc::now();
    let rows = i64::try_from(summary.rows).unwrap_or(i64::MAX);
    let bytes = i64::try_from(summary.bytes).unwrap_or(i64::MAX);
    let mut tx = db.write().await?;
    tx.update_many(
        backup::Entity::update_many()
            .col_expr(
                backup::Column::Status,
                Expr::value(BackupStatus::Ready.to_value()),
            )
            .col_expr(backup::Column::FinishedAt, Expr::value(now))
            .col_expr(backup::Column::Rows, Expr::value(rows))
            .col_expr(backup::Column::ByteSize, Expr::value(bytes))
            .col_expr(backup::Column::Sha256, Expr::value(summary.sha256.clone()))
            .filter(backup::Column::Id.eq(id)),
    )
    .await?;
    tx.record(AuditRecord::new("backup.finish", "backup", id).with_change(
        json!({ "status": BackupStatus::Running.to_value() }),
        json!({
            "status": BackupStatus::Ready.to_value(),
            "rows": rows,
            "byteSize": bytes,
            "sha256": summary.sha256,
            "auditHead": summary.audit_head.seq,
        }),
    ))
    .await?;
    tx.commit().await
}

async fn fail(db: &TenantDb, id: BackupId, why: &str) -> AppResult<()> {
    let mut tx = db.write().await?;
    tx.update_many(
        backup::Entity::update_many()
            .col_expr(
                backup::Column::Status,
                Expr::value(BackupStatus::Failed.to_value()),
            )
            .col_expr(backup::Column::FinishedAt, Expr::value(Utc::now()))
            .col_expr(backup::Column::Failure, Expr::value(why.to_owned()))
            .filter(backup::Column::Id.eq(id)),
    )
    .await?;
    tx.record(
        AuditRecord::new("backup.fail", "backup", id)
            .with_outcome(Outcome::Failure)
            .with_change(
                json!({ "status": BackupStatus::Running.to_value() }),
                json!({ "status": BackupStatus::Failed.to_value() }),
            ),
    )
    .await?;
    tx.commit().await
}

/// Deletes the files of the organisation's backups that have expired.
async fn sweep(db: &TenantDb, dir: &Path) -> AppResult<()> {
    let tx = db.read().await?;
    let expired = tx
        .all(backup::Entity::find().filter(backup::Column::ExpiresAt.lt(Utc::now())))
        .await?;
    drop(tx);
    for backup in expired {
        let path = file_of(dir, &backup);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(AppError::Internal(format!("{}: {err}", path.display()))),
        }
    }
    Ok(())
}

/// The organisation's backups in any of `statuses` (all when empty), by request time (ids are
/// time-ordered), with who asked for each.
pub async fn list(
    db: &TenantDb,
    statuses: &[BackupStatus],
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<Listed>> {
    let tx = db.read().await?;
    let mut query = backup::Entity::find();
    if !statuses.is_empty() {
        query = query.filter(backup::Column::Status.is_in(statuses.to_vec()));
    }
    let page = paging::page(
        &tx,
        query,
        &ListOrder::new(vec![backup::Column::Id], descending),
        request,
    )
    .await?;
    let emails = emails_of(&tx, page.rows.iter().map(|(_, b)| b.requested_by)).await?;
    Ok(Page {
        rows: page
            .rows
            .into_iter()
            .map(|(cursor, backup)| {
                let requested_by_email = emails
                    .get(&backup.requested_by)
                    .cloned()
                    .unwrap_or_default();
                (
                    cursor,
                    Listed {
                        backup,
                        requested_by_email,
                    },
                )
            })
            .collect(),
        has_more: page.has_more,
        total: page.total,
    })
}

/// One backup, with who asked for it.
pub async fn get(db: &TenantDb, id: BackupId) -> AppResult<Listed> {
    let tx = db.read().await?;
    let backup = tx
        .find_by_id::<backup::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "backup" })?;
    let emails = emails_of(&tx, [backup.requested_by]).await?;
    Ok(Listed {
        requested_by_email: emails
            .get(&backup.requested_by)
            .cloned()
            .unwrap_or_default(),
        backup,
    })
}

async fn emails_of(
    tx: &crate::tenancy::TenantTx,
    users: impl IntoIterator<Item = UserId>,
) -> AppResult<std::collections::HashMap<UserId, String>> {
    let ids: Vec<UserId> = users.into_iter().collect();
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    Ok(tx
        .all(user::Entity::find().filter(user::Column::Id.is_in(ids)))
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect())
}

/// Why a download is refused after the handle was found.
#[derive(Debug, thiserror::Error)]
pub enum DownloadRefused {
    #[error("this backup is still being written: ask `backup(id:)` for its status")]
    NotReady,
    #[error("this backup failed; ask for a new one")]
    Failed,
    #[error("this backup expired at {0}; ask for a new one")]
    Expired(DateTime<Utc>),
}

/// The backup `handle` downloads, in the caller's organisation (NOT_FOUND for any other handle,
/// another organisation's included), if it can be downloaded now.
pub async fn for_download(
    db: &TenantDb,
    handle: &str,
) -> AppResult<Result<backup::Model, DownloadRefused>> {
    let tx = db.read().await?;
    let found = tx
        .one(backup::Entity::find().filter(backup::Column::HandleSha256.eq(digest(handle))))
        .await?
        .ok_or(AppError::NotFound { entity: "backup" })?;
    Ok(if found.expires_at <= Utc::now() {
        Err(DownloadRefused::Expired(found.expires_at))
    } else {
        match found.status {
            BackupStatus::Running => Err(DownloadRefused::NotReady),
            BackupStatus::Failed => Err(DownloadRefused::Failed),
            BackupStatus::Ready => Ok(found),
        }
    })
}

/// Records a download (`backup.download`): who took a copy of the organisation's data, when.
pub async fn record_download(db: &TenantDb, backup: &backup::Model) -> AppResult<()> {
    let mut tx = db.write().await?;
    tx.record(
        AuditRecord::new("backup.download", "backup", backup.id).with_change(
            json!(null),
            json!({ "byteSize": backup.byte_size, "sha256": backup.sha256 }),
        ),
    )
    .await?;
    tx.commit().await
}

fn digest(handle: &str) -> String {
    hex::encode(Sha256::digest(handle.as_bytes()))
}

fn new_handle() -> AppResult<String> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|err| AppError::Internal(format!("no randomness: {err}")))?;
    Ok(hex::encode(bytes))
}

/// Creates `folder` (and its parents) readable by the service's user only.
fn create_private_dir(folder: &Path) -> AppResult<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(folder)
        .map_err(|err| AppError::Internal(format!("backup folder {}: {err}", folder.display())))
}
