//! The spine: organisations, their roles and users, and the audit log, with the tenant wall
//! around them.

use sea_orm_migration::prelude::*;

use crate::tenant_wall::{ensure_service_role, fence_tenant_table, make_append_only, tenant_fk};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000001_spine"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Organisations {
    Table,
    Id,
    Name,
    IsActive,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Roles {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    Permissions,
    IsBuiltin,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    TenantId,
    Email,
    DisplayName,
    PasswordHash,
    IsActive,
    CreatedAt,
    RoleId,
    GrantMask,
    RevokeMask,
    MustChangePassword,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    TenantId,
    Seq,
    OccurredAt,
    ActorKind,
    ActorUserId,
    ActorLabel,
    ClientAddr,
    RequestId,
    Outcome,
    Action,
    EntityType,
    EntityId,
    Detail,
    PrevHash,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditHeads {
    Table,
    TenantId,
    LastSeq,
    LastHash,
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ensure_service_role(manager).await?;

        manager
            .create_table(
                Table::create()
                    .table(Organisations::Table)
                    .col(
                        ColumnDef::new(Organisations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Organisations::Name).string().not_null())
                    .col(
                        ColumnDef::new(Organisations::IsActive)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(Organisations::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The service reads and renames its own organisation; creating one is the CLI's job.
        fence_tenant_table(manager, "organisations", "id", "SELECT, UPDATE").await?;

        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(ColumnDef::new(Roles::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Roles::TenantId).uuid().not_null())
                    .col(ColumnDef::new(Roles::Name).string().not_null())
                    .col(ColumnDef::new(Roles::Description).string().not_null())
                    .col(ColumnDef::new(Roles::Permissions).big_integer().not_null())
                    .col(ColumnDef::new(Roles::IsBuiltin).boolean().not_null())
                    .col(
                        ColumnDef::new(Roles::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut tenant_fk(Roles::Table, Roles::TenantId))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("roles_tenant_name", Roles::Name),
            ("roles_tenant_id", Roles::Id),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Roles::Table)
                        .col(Roles::TenantId)
                        .col(columns)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        fence_tenant_table(
            manager,
            "roles",
            "tenant_id",
            "SELECT, INSERT, UPDATE, DELETE",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Users::TenantId).uuid().not_null())
                    .col(ColumnDef::new(Users::Email).string().not_null())
                    .col(ColumnDef::new(Users::DisplayName).string().not_null())
                    .col(ColumnDef::new(Users::PasswordHash).string().not_null())
                    .col(
                        ColumnDef::new(Users::IsActive)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(Users::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Users::RoleId).uuid().not_null())
                    .col(
                        ColumnDef::new(Users::GrantMask)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Users::RevokeMask)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Users::MustChangePassword)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .foreign_key(&mut tenant_fk(Users::Table, Users::TenantId))
                    // A user's role is always one of its own organisation's roles.
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, (Users::TenantId, Users::RoleId))
                            .to(Roles::Table, (Roles::TenantId, Roles::Id))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("users_tenant_email")
                    .table(Users::Table)
                    .col(Users::TenantId)
                    .col(Users::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The target of composite foreign keys (tenant_id, user_id): a row can then only ever
        // point at a user of its own organisation, enforced by the database itself.
        manager
            .create_index(
                Index::create()
                    .name("users_tenant_id")
                    .table(Users::Table)
                    .col(Users::TenantId)
                    .col(Users::Id)
                    .unique()
                    .to_owned(),
            )
            .await?;
        fence_tenant_table(manager, "users", "tenant_id", "SELECT, INSERT, UPDATE").await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(ColumnDef::new(AuditEvents::TenantId).uuid().not_null())
                    .col(ColumnDef::new(AuditEvents::Seq).big_integer().not_null())
                    .col(
                        ColumnDef::new(AuditEvents::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvents::ActorKind).string().not_null())
                    .col(ColumnDef::new(AuditEvents::ActorUserId).uuid().null())
                    .col(ColumnDef::new(AuditEvents::ActorLabel).string().not_null())
                    .col(ColumnDef::new(AuditEvents::ClientAddr).string().null())
                    .col(ColumnDef::new(AuditEvents::RequestId).string().null())
                    .col(ColumnDef::new(AuditEvents::Outcome).string().not_null())
                    .col(ColumnDef::new(AuditEvents::Action).string().not_null())
                    .col(ColumnDef::new(AuditEvents::EntityType).string().not_null())
                    .col(ColumnDef::new(AuditEvents::EntityId).string().null())
                    .col(ColumnDef::new(AuditEvents::Detail).text().not_null())
                    .col(ColumnDef::new(AuditEvents::PrevHash).string().not_null())
                    .col(ColumnDef::new(AuditEvents::Hash).string().not_null())
                    .primary_key(
                        Index::create()
                            .col(AuditEvents::TenantId)
                            .col(AuditEvents::Seq),
                    )
                    .foreign_key(&mut tenant_fk(AuditEvents::Table, AuditEvents::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_events_tenant_time")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::TenantId)
                    .col(AuditEvents::OccurredAt)
                    .to_owned(),
            )
            .await?;
        make_append_only(manager, "audit_events").await?;
        // Least privilege on top of the triggers: the service role may only read and append.
        fence_tenant_table(manager, "audit_events", "tenant_id", "SELECT, INSERT").await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditHeads::Table)
                    .col(
                        ColumnDef::new(AuditHeads::TenantId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditHeads::LastSeq).big_integer().not_null())
                    .col(ColumnDef::new(AuditHeads::LastHash).string().not_null())
                    .foreign_key(&mut tenant_fk(AuditHeads::Table, AuditHeads::TenantId))
                    .to_owned(),
            )
            .await?;
        fence_tenant_table(manager, "audit_heads", "tenant_id", "SELECT, UPDATE").await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The audit log is append-only; a migration that drops it would be a way around that.
        Err(DbErr::Migration(
            "the spine migration cannot be reverted".into(),
        ))
    }
}
