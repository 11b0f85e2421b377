//! `backups`: each export of an organisation's data an administrator asked for: who, when, its
//! state, and once written its size and SHA-256. The download handle is kept only as its SHA-256
//! (the handle itself is shown once, to whoever asked), so neither the database nor a backup of
//! it can hand out a download.

use sea_orm_migration::prelude::*;

use crate::tenant_wall::{
    fence_tenant_table, grant_update, index, same_tenant_fk, tenant_fk, unique,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000021_backups"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Backups {
    Table,
    Id,
    TenantId,
    RequestedBy,
    RequestedAt,
    Status,
    ExpiresAt,
    FinishedAt,
    Rows,
    ByteSize,
    Sha256,
    Failure,
    HandleSha256,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    TenantId,
    Id,
}

const STATUSES: [&str; 3] = ["running", "ready", "failed"];

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Backups as B;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .col(ColumnDef::new(B::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(B::TenantId).uuid().not_null())
                    .col(ColumnDef::new(B::RequestedBy).uuid().not_null())
                    .col(
                        ColumnDef::new(B::RequestedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(B::Status).string().not_null())
                    .col(
                        ColumnDef::new(B::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(B::FinishedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(B::Rows).big_integer())
                    .col(ColumnDef::new(B::ByteSize).big_integer())
                    .col(ColumnDef::new(B::Sha256).string())
                    .col(ColumnDef::new(B::Failure).string())
                    .col(ColumnDef::new(B::HandleSha256).string().not_null())
                    .check(Expr::col(B::Status).is_in(STATUSES))
                    // Ready exactly when its size and digest are known.
                    .check(Expr::cust(
                        "(status = 'ready') = (byte_size IS NOT NULL AND sha256 IS NOT NULL AND finished_at IS NOT NULL)",
                    ))
                    .foreign_key(&mut tenant_fk(B::Table, B::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        B::Table,
                        B::TenantId,
                        B::RequestedBy,
                        Users::Table,
                        Users::TenantId,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "backups_tenant_id",
            B::Table,
            vec![B::TenantId.into_iden(), B::Id.into_iden()],
        )
        .await?;
        // A download finds its backup by the handle's digest, within the caller's organisation.
        unique(
            manager,
            "backups_tenant_handle",
            B::Table,
            vec![B::TenantId.into_iden(), B::HandleSha256.into_iden()],
        )
        .await?;
        // Recent exports first; how many this hour.
        index(
            manager,
            "backups_tenant_requested",
            B::Table,
            vec![B::TenantId.into_iden(), B::RequestedAt.into_iden()],
        )
        .await?;
        fence_tenant_table(manager, "backups", "tenant_id", "SELECT, INSERT").await?;
        // Least privilege: only what finishing an export sets.
        grant_update(
            manager,
            "backups",
            "status, finished_at, rows, byte_size, sha256, failure",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Backups::Table).to_owned())
            .await
    }
}
