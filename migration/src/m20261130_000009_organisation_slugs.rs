//! Organisations get a unique, URL-safe `slug`: sign-in names the organisation, so one email can
//! belong to accounts in several organisations without them sharing a sign-in.
//!
//! Organisations created before this get `org-` and their id in hex. On PostgreSQL a narrow
//! policy lets the pre-tenant sign-in lookup find an organisation by the slug it was given
//! (`app.login_slug`) and nothing else, and the account lookup by email narrows to that
//! organisation: an email alone no longer shows its accounts in every organisation.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000009_organisation_slugs"
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Slug,
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Organisations::Table)
                    .add_column(ColumnDef::new(Organisations::Slug).string().null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                // The owner is subject to the forced row-level security too: lift it for the
                // backfill only, inside the migration's transaction.
                db.execute_unprepared(
                    "ALTER TABLE organisations NO FORCE ROW LEVEL SECURITY;
                     UPDATE organisations SET slug = 'org-' || replace(id::text, '-', '')
                       WHERE slug IS NULL;
                     ALTER TABLE organisations FORCE ROW LEVEL SECURITY;
                     ALTER TABLE organisations ALTER COLUMN slug SET NOT NULL;
                     CREATE POLICY login_by_slug ON organisations FOR SELECT
                       USING (slug = NULLIF(current_setting('app.login_slug', true), ''));
                     DROP POLICY login_by_email ON users;
                     CREATE POLICY login_by_email ON users FOR SELECT
                       USING (email = NULLIF(current_setting('app.login_email', true), '')
                              AND tenant_id = (SELECT id FROM organisations
                                WHERE slug = NULLIF(current_setting('app.login_slug', true), '')));",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "UPDATE organisations SET slug = 'org-' || lower(hex(id)) WHERE slug IS NULL",
                )
                .await?;
            }
        }
        manager
            .create_index(
                Index::create()
                    .name("organisations_slug")
                    .table(Organisations::Table)
                    .col(Organisations::Slug)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("organisations_slug")
                    .table(Organisations::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Organisations::Table)
                    .drop_column(Organisations::Slug)
                    .to_owned(),
            )
            .await
    }
}
