//! Sessions in the database (so any node can serve any request), and the two pre-tenant lookups.
//!
//! Before a request has a tenant, the service must find a session by its token hash and, at
//! login, users by email. On PostgreSQL each gets a narrow SELECT policy keyed on its own
//! transaction-local setting: knowing the token (or the email) is what lets that one lookup see
//! those rows, and nothing else becomes visible.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::tenant_wall::fence_tenant_table;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000002_sessions"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    TenantId,
    UserId,
    TokenHash,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    RevokedAt,
    ClientAddr,
}

#[derive(DeriveIden, Clone, Copy)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    TenantId,
    Id,
    Email,
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Sessions::TenantId).uuid().not_null())
                    .col(ColumnDef::new(Sessions::UserId).uuid().not_null())
                    .col(ColumnDef::new(Sessions::TokenHash).string().not_null())
                    .col(
                        ColumnDef::new(Sessions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Sessions::LastSeenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Sessions::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Sessions::RevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Sessions::ClientAddr).string().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::TenantId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    // Composite: a session can only belong to a user of its own organisation.
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, (Sessions::TenantId, Sessions::UserId))
                            .to(Users::Table, (Users::TenantId, Users::Id))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // The pre-tenant lookup by token: a random 256-bit value's hash, so a global unique index
        // reveals nothing about any organisation.
        manager
            .create_index(
                Index::create()
                    .name("sessions_token_hash")
                    .table(Sessions::Table)
                    .col(Sessions::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_tenant_user")
                    .table(Sessions::Table)
                    .col(Sessions::TenantId)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        // The pre-tenant lookup by email at login.
        manager
            .create_index(
                Index::create()
                    .name("users_email")
                    .table(Users::Table)
                    .col(Users::Email)
                    .to_owned(),
            )
            .await?;
        fence_tenant_table(manager, "sessions", "tenant_id", "SELECT, INSERT, UPDATE").await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE POLICY session_by_token ON sessions FOR SELECT
                       USING (token_hash = NULLIF(current_setting('app.session_token_hash', true), ''));
                     CREATE POLICY login_by_email ON users FOR SELECT
                       USING (email = NULLIF(current_setting('app.login_email', true), ''));",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("users_email")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}
