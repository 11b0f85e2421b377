//! An index of the audit log by the entity each event is about, so a document's timeline (its
//! events and those of the documents that belong to its story) is an index lookup rather than a
//! scan of the organisation's whole log, which grows by every action ever taken.

use sea_orm_migration::prelude::*;

use crate::tenant_wall::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000020_audit_subjects"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    TenantId,
    EntityType,
    EntityId,
    Seq,
}

const NAME: &str = "audit_events_tenant_entity";

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Led by the tenant like every key (Citus distributes by it); `seq` last, so the events
        // come out of the index in the order a timeline shows them.
        index(
            manager,
            NAME,
            AuditEvents::Table,
            vec![
                AuditEvents::TenantId.into_iden(),
                AuditEvents::EntityType.into_iden(),
                AuditEvents::EntityId.into_iden(),
                AuditEvents::Seq.into_iden(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
            .await
    }
}
