//! Put-away tasks: one per received line, to move the goods from the receiving location into
//! storage.
//!
//! A task names what arrived (receipt, line, product, lot, quantity) and where it waits (the
//! receipt's receiving location), the location suggested for it when it was made, and how much of
//! it has been put away. Only its progress changes (`quantity_put_away`, `status`, `updated_at`,
//! `completed_at`, `completed_by`: the only columns the service role may update); every put-away
//! is a ledger movement of its own. The CHECK keeps the state and the quantities in step: OPEN
//! while something remains, DONE exactly when all of it is put away.

use sea_orm_migration::prelude::*;

use crate::tenant_wall::{fence_tenant_table, index, same_tenant_fk, tenant_fk, unique};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000015_putaway"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum PutawayTasks {
    Table,
    Id,
    TenantId,
    ReceiptId,
    ReceiptLineId,
    WarehouseId,
    ProductId,
    LotId,
    FromLocationId,
    SuggestedLocationId,
    Quantity,
    QuantityPutAway,
    Status,
    CreatedAt,
    UpdatedAt,
    CompletedAt,
    CompletedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Receipts {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum ReceiptLines {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Warehouses {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Products {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Lots {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Locations {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    TenantId,
    Id,
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PutawayTasks as T;
        let to_location = |column: T| {
            same_tenant_fk(
                T::Table,
                T::TenantId,
                column,
                Locations::Table,
                Locations::TenantId,
                Locations::Id,
            )
        };
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(ColumnDef::new(T::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(T::TenantId).uuid().not_null())
                    .col(ColumnDef::new(T::ReceiptId).uuid().not_null())
                    .col(ColumnDef::new(T::ReceiptLineId).uuid().not_null())
                    .col(ColumnDef::new(T::WarehouseId).uuid().not_null())
                    .col(ColumnDef::new(T::ProductId).uuid().not_null())
                    .col(ColumnDef::new(T::LotId).uuid())
                    .col(ColumnDef::new(T::FromLocationId).uuid().not_null())
                    .col(ColumnDef::new(T::SuggestedLocationId).uuid())
                    .col(ColumnDef::new(T::Quantity).big_integer().not_null())
                    .col(ColumnDef::new(T::QuantityPutAway).big_integer().not_null())
                    .col(ColumnDef::new(T::Status).string().not_null())
                    .col(
                        ColumnDef::new(T::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(T::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(T::CompletedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(T::CompletedBy).uuid())
                    .check(Expr::col(T::Quantity).gt(0))
                    .check(Expr::col(T::QuantityPutAway).gte(0))
                    .check(Expr::col(T::QuantityPutAway).lte(Expr::col(T::Quantity)))
                    .check(Expr::col(T::Status).is_in(["open", "done"]))
                    .check(Expr::cust(
                        "(status = 'done') = (quantity_put_away = quantity)",
                    ))
                    .foreign_key(&mut tenant_fk(T::Table, T::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        T::Table,
                        T::TenantId,
                        T::ReceiptId,
                        Receipts::Table,
                        Receipts::TenantId,
                        Receipts::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        T::Table,
                        T::TenantId,
                        T::ReceiptLineId,
                        ReceiptLines::Table,
                        ReceiptLines::TenantId,
                        ReceiptLines::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        T::Table,
                        T::TenantId,
                        T::WarehouseId,
                        Warehouses::Table,
                        Warehouses::TenantId,
                        Warehouses::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        T::Table,
                        T::TenantId,
                        T::ProductId,
                        Products::Table,
                        Products::TenantId,
                        Products::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        T::Table,
                        T::TenantId,
                        T::LotId,
                        Lots::Table,
                        Lots::TenantId,
                        Lots::Id,
                    ))
                    .foreign_key(&mut to_location(T::FromLocationId))
                    .foreign_key(&mut to_location(T::SuggestedLocationId))
                    .foreign_key(&mut same_tenant_fk(
                        T::Table,
                        T::TenantId,
                        T::CompletedBy,
                        Users::Table,
                        Users::TenantId,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "putaway_tasks_tenant_id",
            T::Table,
            vec![T::TenantId.into_iden(), T::Id.into_iden()],
        )
        .await?;
        // One task per received line.
        unique(
            manager,
            "putaway_tasks_tenant_line",
            T::Table,
            vec![T::TenantId.into_iden(), T::ReceiptLineId.into_iden()],
        )
        .await?;
        // The lists: open (or done) work by warehouse or overall, and a receipt's tasks.
        index(
            manager,
            "putaway_tasks_tenant_status",
            T::Table,
            vec![
                T::TenantId.into_iden(),
                T::Status.into_iden(),
                T::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "putaway_tasks_tenant_warehouse_status",
            T::Table,
            vec![
                T::TenantId.into_iden(),
                T::WarehouseId.into_iden(),
                T::Status.into_iden(),
                T::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "putaway_tasks_tenant_receipt",
            T::Table,
            vec![
                T::TenantId.into_iden(),
                T::ReceiptId.into_iden(),
                T::Id.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(
            manager,
            "putaway_tasks",
            "tenant_id",
            "SELECT, INSERT, UPDATE (quantity_put_away, status, updated_at, completed_at, \
             completed_by)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PutawayTasks::Table).to_owned())
            .await
    }
}
