//! Receipts of goods, against a purchase order or ad hoc, and the organisation's tolerance for
//! receiving more than was ordered.
//!
//! A receipt and its lines are what arrived: rows are only ever inserted (the service role may
//! SELECT and INSERT, and triggers refuse UPDATE and DELETE on both engines), so a received line
//! stays as it was booked; a correction is a new movement. Each line names the ledger movement it
//! posted from the supplier account into the receiving location.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::tenant_wall::{
    SERVICE_ROLE, fence_tenant_table, index, make_append_only, same_tenant_fk, tenant_fk, unique,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000014_receipts"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Organisations {
    Table,
    ReceiptTolerancePercent,
}

#[derive(DeriveIden, Clone, Copy)]
enum Receipts {
    Table,
    Id,
    TenantId,
    Number,
    PurchaseOrderId,
    SupplierId,
    WarehouseId,
    LocationId,
    Note,
    ReceivedAt,
    CreatedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum ReceiptLines {
    Table,
    Id,
    TenantId,
    ReceiptId,
    LineNumber,
    PurchaseOrderLineId,
    ProductId,
    LotId,
    Quantity,
    MovementId,
}

#[derive(DeriveIden, Clone, Copy)]
enum PurchaseOrders {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum PurchaseOrderLines {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Suppliers {
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
enum StockMovements {
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
        use Organisations as O;
        manager
            .alter_table(
                Table::alter()
                    .table(O::Table)
                    .add_column(
                        ColumnDef::new(O::ReceiptTolerancePercent)
                            .integer()
                            .not_null()
                            .default(0)
                            .check(Expr::col(O::ReceiptTolerancePercent).between(0, 100)),
                    )
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "GRANT UPDATE (receipt_tolerance_percent) ON organisations TO {SERVICE_ROLE}"
                ))
                .await?;
        }
        // A receipt line names its movement by (tenant, id): the composite key needs a unique
        // index there (the primary key alone is on id).
        unique(
            manager,
            "stock_movements_tenant_id_unique",
            StockMovements::Table,
            vec![
                StockMovements::TenantId.into_iden(),
                StockMovements::Id.into_iden(),
            ],
        )
        .await?;

        use Receipts as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(ColumnDef::new(R::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(R::TenantId).uuid().not_null())
                    .col(ColumnDef::new(R::Number).string().not_null())
                    .col(ColumnDef::new(R::PurchaseOrderId).uuid())
                    .col(ColumnDef::new(R::SupplierId).uuid().not_null())
                    .col(ColumnDef::new(R::WarehouseId).uuid().not_null())
                    .col(ColumnDef::new(R::LocationId).uuid().not_null())
                    .col(ColumnDef::new(R::Note).text().not_null())
                    .col(
                        ColumnDef::new(R::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(R::CreatedBy).uuid())
                    .foreign_key(&mut tenant_fk(R::Table, R::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        R::Table,
                        R::TenantId,
                        R::PurchaseOrderId,
                        PurchaseOrders::Table,
                        PurchaseOrders::TenantId,
                        PurchaseOrders::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        R::Table,
                        R::TenantId,
                        R::SupplierId,
                        Suppliers::Table,
                        Suppliers::TenantId,
                        Suppliers::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        R::Table,
                        R::TenantId,
                        R::WarehouseId,
                        Warehouses::Table,
                        Warehouses::TenantId,
                        Warehouses::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        R::Table,
                        R::TenantId,
                        R::LocationId,
                        Locations::Table,
                        Locations::TenantId,
                        Locations::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        R::Table,
                        R::TenantId,
                        R::CreatedBy,
                        Users::Table,
                        Users::TenantId,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "receipts_tenant_id",
            R::Table,
            vec![R::TenantId.into_iden(), R::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "receipts_tenant_number",
            R::Table,
            vec![R::TenantId.into_iden(), R::Number.into_iden()],
        )
        .await?;
        // An order's receipts, a supplier's receipts.
        index(
            manager,
            "receipts_tenant_order",
            R::Table,
            vec![
                R::TenantId.into_iden(),
                R::PurchaseOrderId.into_iden(),
                R::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "receipts_tenant_supplier",
            R::Table,
            vec![
                R::TenantId.into_iden(),
                R::SupplierId.into_iden(),
                R::Id.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "receipts", "tenant_id", "SELECT, INSERT").await?;
        make_append_only(manager, "receipts").await?;

        use ReceiptLines as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(ColumnDef::new(L::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(L::TenantId).uuid().not_null())
                    .col(ColumnDef::new(L::ReceiptId).uuid().not_null())
                    .col(ColumnDef::new(L::LineNumber).integer().not_null())
                    .col(ColumnDef::new(L::PurchaseOrderLineId).uuid())
                    .col(ColumnDef::new(L::ProductId).uuid().not_null())
                    .col(ColumnDef::new(L::LotId).uuid())
                    .col(ColumnDef::new(L::Quantity).big_integer().not_null())
                    .col(ColumnDef::new(L::MovementId).uuid().not_null())
                    .check(Expr::col(L::Quantity).gt(0))
                    .check(Expr::col(L::LineNumber).gt(0))
                    .foreign_key(&mut tenant_fk(L::Table, L::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        L::Table,
                        L::TenantId,
                        L::ReceiptId,
                        R::Table,
                        R::TenantId,
                        R::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        L::Table,
                        L::TenantId,
                        L::PurchaseOrderLineId,
                        PurchaseOrderLines::Table,
                        PurchaseOrderLines::TenantId,
                        PurchaseOrderLines::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        L::Table,
                        L::TenantId,
                        L::ProductId,
                        Products::Table,
                        Products::TenantId,
                        Products::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        L::Table,
                        L::TenantId,
                        L::LotId,
                        Lots::Table,
                        Lots::TenantId,
                        Lots::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        L::Table,
                        L::TenantId,
                        L::MovementId,
                        StockMovements::Table,
                        StockMovements::TenantId,
                        StockMovements::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "receipt_lines_tenant_id",
            L::Table,
            vec![L::TenantId.into_iden(), L::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "receipt_lines_tenant_receipt_line",
            L::Table,
            vec![
                L::TenantId.into_iden(),
                L::ReceiptId.into_iden(),
                L::LineNumber.into_iden(),
            ],
        )
        .await?;
        // A replayed request finds its receipt by the movements it posted.
        unique(
            manager,
            "receipt_lines_tenant_movement",
            L::Table,
            vec![L::TenantId.into_iden(), L::MovementId.into_iden()],
        )
        .await?;
        fence_tenant_table(manager, "receipt_lines", "tenant_id", "SELECT, INSERT").await?;
        make_append_only(manager, "receipt_lines").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [ReceiptLines::Table.into_iden(), Receipts::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("stock_movements_tenant_id_unique")
                    .table(StockMovements::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Organisations::Table)
                    .drop_column(Organisations::ReceiptTolerancePercent)
                    .to_owned(),
            )
            .await
    }
}
