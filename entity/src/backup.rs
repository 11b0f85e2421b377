//! `backups`: one export of an organisation's data: who asked, when, its state, and once written
//! its size and SHA-256. The download handle is stored only as its SHA-256.

use sea_orm::entity::prelude::*;

use crate::{BackupId, BackupStatus, TenantId, UserId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: BackupId,
    pub tenant_id: TenantId,
    pub requested_by: UserId,
    pub requested_at: DateTimeUtc,
    pub status: BackupStatus,
    /// After this the download is refused and the file may be deleted.
    pub expires_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// Rows written, once READY.
    pub rows: Option<i64>,
    pub byte_size: Option<i64>,
    /// Of the whole file, lower-case hex, once READY.
    pub sha256: Option<String>,
    /// Why it failed, for the operator's log reader; never shown with internals.
    pub failure: Option<String>,
    /// SHA-256 (hex) of the download handle. A secret's digest: never exported.
    pub handle_sha256: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
