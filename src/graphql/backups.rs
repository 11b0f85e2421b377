//! Backups of the caller's organisation: `exportBackup` asks for one (with the caller's password
//! again), `backups` and `backup` say how they went; the file is downloaded over HTTP from the
//! `downloadUrl` the request answered (see `http::backups`).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::BackupStatus as StoredStatus;

use super::{
    ApiResult, ListConnection, Payload, SortDirection, UserError, connection, global_id,
    page_request, parse_id, services, signed_in, tenant_db,
};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;
use crate::auth::session;
use crate::error::AppError;
use crate::service::backup::requests::{self, Listed, Requested};

/// Where a backup stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupStatus {
    /// Being written.
    Running,
    /// Written: `byteSize` and `sha256` are known; it can be downloaded until `expiresAt`.
    Ready,
    /// Stopped by an error; ask for a new one.
    Failed,
}

impl From<StoredStatus> for BackupStatus {
    fn from(status: StoredStatus) -> Self {
        match status {
            StoredStatus::Running => Self::Running,
            StoredStatus::Ready => Self::Ready,
            StoredStatus::Failed => Self::Failed,
        }
    }
}

/// One export of the organisation's data.
#[derive(SimpleObject)]
pub struct Backup {
    id: ID,
    status: BackupStatus,
    requested_at: DateTime<Utc>,
    /// Who asked for it.
    requested_by_user_id: ID,
    requested_by_email: String,
    /// After this the download is refused.
    expires_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    /// Rows of every table together, once READY.
    rows: Option<i64>,
    /// The file's size in bytes, once READY.
    byte_size: Option<i64>,
    /// The file's SHA-256 (lower-case hex), once READY: check the download against it.
    sha256: Option<String>,
}

impl From<Listed> for Backup {
    fn from(listed: Listed) -> Self {
        let b = listed.backup;
        Self {
            id: global_id(b.id),
            status: b.status.into(),
            requested_at: b.requested_at,
            requested_by_user_id: global_id(b.requested_by),
            requested_by_email: listed.requested_by_email,
            expires_at: b.expires_at,
            finished_at: b.finished_at,
            rows: b.rows,
            byte_size: b.byte_size,
            sha256: b.sha256,
        }
    }
}

/// What `exportBackup` asks for.
#[derive(InputObject)]
pub struct ExportBackupInput {
    /// The caller's own password, again: a backup is the whole organisation's data.
    #[graphql(secret)]
    password: String,
}

/// What `exportBackup` answers: the backup (RUNNING) and where to download it once READY.
#[derive(SimpleObject)]
pub struct ExportBackupPayload {
    backup: Option<Backup>,
    /// `/backups/{handle}` under this service: GET it with the same session once the backup is
    /// READY, before `expiresAt`. Shown only here, once; the server keeps only its digest.
    download_url: Option<String>,
    user_errors: Vec<UserError>,
}

impl Payload for ExportBackupPayload {
    type Value = (Backup, String);

    fn new(value: Option<Self::Value>, user_errors: Vec<UserError>) -> Self {
        let (backup, download_url) = value.map_or((None, None), |(b, url)| (Some(b), Some(url)));
        Self {
            backup,
            download_url,
            user_errors,
        }
    }
}

/// What the backup list may be narrowed to.
#[derive(InputObject, Default)]
pub struct BackupFilter {
    /// Any of these states (every state when empty or absent).
    #[graphql(default)]
    statuses: Vec<BackupStatus>,
}

/// What the backup list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum BackupSortField {
    /// When it was asked for.
    #[default]
    RequestedAt,
}

/// The backup list's order: newest first unless `direction` says otherwise.
#[derive(InputObject)]
pub struct BackupSort {
    #[graphql(default)]
    field: BackupSortField,
    #[graphql(default_with = "SortDirection::Desc")]
    direction: SortDirection,
}

impl Default for BackupSort {
    fn default() -> Self {
        Self {
            field: BackupSortField::RequestedAt,
            direction: SortDirection::Desc,
        }
    }
}

impl From<BackupStatus> for StoredStatus {
    fn from(status: BackupStatus) -> Self {
        match status {
            BackupStatus::Running => Self::Running,
            BackupStatus::Ready => Self::Ready,
            BackupStatus::Failed => Self::Failed,
        }
    }
}

#[derive(Default)]
pub struct BackupsQuery;

#[Object]
impl BackupsQuery {
    /// The organisation's backups, newest first unless `sort` says otherwise, `first` at a time
    /// (at most 100) after `after`: who asked for each, when, and how it went.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::BackupsDownload)",
        directive = requires::apply(Permission::BackupsDownload)
    )]
    async fn backups(
        &self,
        ctx: &Context<'_>,
        filter: Option<BackupFilter>,
        sort: Option<BackupSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Backup>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let BackupSortField::RequestedAt = sort.field;
        let statuses: Vec<StoredStatus> = filter.statuses.into_iter().map(Into::into).collect();
        let page = requests::list(
            tenant_db(ctx)?,
            &statuses,
            sort.direction.descending(),
            &request,
        )
        .await?;
        Ok(connection(&request, page, Backup::from))
    }

    /// One backup: ask until it is READY (or FAILED).
    #[graphql(
        guard = "RequirePermission(Permission::BackupsDownload)",
        directive = requires::apply(Permission::BackupsDownload)
    )]
    async fn backup(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Backup> {
        Ok(requests::get(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct BackupsMutation;

#[Object]
impl BackupsMutation {
    /// Starts a backup of the caller's whole organisation (every table, the audit log included;
    /// no password hash, session token or key): a signed JSON document, checked offline with
    /// `vaskem backup verify`. Needs the caller's password again (a wrong one counts against the
    /// sign-in lockout); at most 3 an hour per organisation (RATE_LIMITED with
    /// `retryAfterSeconds`). Answers at once with the backup RUNNING and its `downloadUrl`;
    /// `backup(id:)` says when it is READY. Audited as `backup.export`, then `backup.finish`.
    #[graphql(
        guard = "RequirePermission(Permission::BackupsDownload)",
        directive = requires::apply(Permission::BackupsDownload)
    )]
    async fn export_backup(
        &self,
        ctx: &Context<'_>,
        input: ExportBackupInput,
    ) -> ApiResult<ExportBackupPayload> {
        let result: Result<_, AppError> = async {
            let services = services(ctx)?;
            let caller = signed_in(ctx)?;
            session::reauthenticate(
                &services.db,
                (&services.auth.hasher, &services.auth.throttle),
                caller,
                input.password,
                ("password", "backup.export"),
            )
            .await?;
            let requested = requests::request(&caller.db, caller.user.id).await?;
            let url = requested.download_path();
            let Requested { backup, .. } = requested;
            tokio::spawn(requests::run(
                caller.db.detached(),
                services.backups.clone(),
                backup.clone(),
            ));
            Ok((
                Backup::from(Listed {
                    backup,
                    requested_by_email: caller.user.email.clone(),
                }),
                url,
            ))
        }
        .await;
        ExportBackupPayload::answer(result)
    }
}
