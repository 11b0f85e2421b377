//! Purchase orders and their lines, and per-organisation document numbers.
//!
//! A purchase order moves draft → ordered → partially received → received, or to cancelled; the
//! status column holds exactly those values. Numbers (`PO-000001`) count per organisation in
//! `document_counters`, so one organisation's orders never show how many another has made.

use sea_orm_migration::prelude::*;

use crate::tenant_wall::{fence_tenant_table, index, same_tenant_fk, tenant_fk, unique};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000013_purchase_orders"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum DocumentCounters {
    Table,
    TenantId,
    Kind,
    LastNumber,
}

#[derive(DeriveIden, Clone, Copy)]
enum PurchaseOrders {
    Table,
    Id,
    TenantId,
    Number,
    SupplierId,
    WarehouseId,
    Status,
    ExpectedOn,
    Note,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PurchaseOrderLines {
    Table,
    Id,
    TenantId,
    PurchaseOrderId,
    LineNumber,
    ProductId,
    QuantityOrdered,
    QuantityReceived,
    ExpectedOn,
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
enum Products {
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
        use DocumentCounters as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(ColumnDef::new(D::TenantId).uuid().not_null())
                    .col(ColumnDef::new(D::Kind).string().not_null())
                    .col(ColumnDef::new(D::LastNumber).big_integer().not_null())
                    .primary_key(Index::create().col(D::TenantId).col(D::Kind))
                    .check(Expr::col(D::LastNumber).gte(0))
                    .foreign_key(&mut tenant_fk(D::Table, D::TenantId))
                    .to_owned(),
            )
            .await?;
        fence_tenant_table(
            manager,
            "document_counters",
            "tenant_id",
            "SELECT, INSERT, UPDATE",
        )
        .await?;

        use PurchaseOrders as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(ColumnDef::new(P::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(P::TenantId).uuid().not_null())
                    .col(ColumnDef::new(P::Number).string().not_null())
                    .col(ColumnDef::new(P::SupplierId).uuid().not_null())
                    .col(ColumnDef::new(P::WarehouseId).uuid().not_null())
                    .col(ColumnDef::new(P::Status).string().not_null())
                    .col(ColumnDef::new(P::ExpectedOn).date())
                    .col(ColumnDef::new(P::Note).text().not_null())
                    .col(
                        ColumnDef::new(P::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(P::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Expr::col(P::Status).is_in([
                        "draft",
                        "ordered",
                        "partially_received",
                        "received",
                        "cancelled",
                    ]))
                    .foreign_key(&mut tenant_fk(P::Table, P::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        P::Table,
                        P::TenantId,
                        P::SupplierId,
                        Suppliers::Table,
                        Suppliers::TenantId,
                        Suppliers::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        P::Table,
                        P::TenantId,
                        P::WarehouseId,
                        Warehouses::Table,
                        Warehouses::TenantId,
                        Warehouses::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "purchase_orders_tenant_id",
            P::Table,
            vec![P::TenantId.into_iden(), P::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "purchase_orders_tenant_number",
            P::Table,
            vec![P::TenantId.into_iden(), P::Number.into_iden()],
        )
        .await?;
        // Open orders by state, and what is due to arrive by date.
        index(
            manager,
            "purchase_orders_tenant_status",
            P::Table,
            vec![
                P::TenantId.into_iden(),
                P::Status.into_iden(),
                P::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "purchase_orders_tenant_supplier",
            P::Table,
            vec![
                P::TenantId.into_iden(),
                P::SupplierId.into_iden(),
                P::Id.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(
            manager,
            "purchase_orders",
            "tenant_id",
            "SELECT, INSERT, UPDATE",
        )
        .await?;

        use PurchaseOrderLines as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(ColumnDef::new(L::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(L::TenantId).uuid().not_null())
                    .col(ColumnDef::new(L::PurchaseOrderId).uuid().not_null())
                    .col(ColumnDef::new(L::LineNumber).integer().not_null())
                    .col(ColumnDef::new(L::ProductId).uuid().not_null())
                    .col(ColumnDef::new(L::QuantityOrdered).big_integer().not_null())
                    .col(ColumnDef::new(L::QuantityReceived).big_integer().not_null())
                    .col(ColumnDef::new(L::ExpectedOn).date())
                    .check(Expr::col(L::QuantityOrdered).gt(0))
                    .check(Expr::col(L::QuantityReceived).gte(0))
                    .check(Expr::col(L::LineNumber).gt(0))
                    .foreign_key(&mut tenant_fk(L::Table, L::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        L::Table,
                        L::TenantId,
                        L::PurchaseOrderId,
                        P::Table,
                        P::TenantId,
                        P::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        L::Table,
                        L::TenantId,
                        L::ProductId,
                        Products::Table,
                        Products::TenantId,
                        Products::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "purchase_order_lines_tenant_id",
            L::Table,
            vec![L::TenantId.into_iden(), L::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "purchase_order_lines_tenant_order_line",
            L::Table,
            vec![
                L::TenantId.into_iden(),
                L::PurchaseOrderId.into_iden(),
                L::LineNumber.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(
            manager,
            "purchase_order_lines",
            "tenant_id",
            "SELECT, INSERT, UPDATE, DELETE",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PurchaseOrderLines::Table.into_iden(),
            PurchaseOrders::Table.into_iden(),
            DocumentCounters::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
