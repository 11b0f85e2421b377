//! Keys the audit chain: each event names the key that signed it (`key_id`), and its hash becomes
//! HMAC-SHA-256 under that key, which the database never holds (see `src/audit/keys.rs`).
//!
//! Events written before this migration have no key id and were hashed with plain SHA-256, which
//! anyone with database access can recompute; `verify_chain` reports them as broken links. There
//! are no production deployments yet, so no chain is re-signed: a database with older events
//! should be started afresh.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000007_audit_keys"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    KeyId,
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Adding a column fires no UPDATE trigger, and the service role's table-wide SELECT and
        // INSERT grants cover the new column.
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvents::Table)
                    .add_column(ColumnDef::new(AuditEvents::KeyId).string().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvents::Table)
                    .drop_column(AuditEvents::KeyId)
                    .to_owned(),
            )
            .await
    }
}
