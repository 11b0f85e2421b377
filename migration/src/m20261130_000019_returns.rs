//! Customer returns: goods a customer sends back against a dispatched sales order, received into
//! a quarantine location and then dispositioned line by line (restocked into a storage or
//! picking location, or scrapped).
//!
//! A return moves received → partially dispositioned → closed; its status column holds exactly
//! its enum's values. A line records how much came back and how much of that has been restocked
//! and scrapped; the database refuses a line dispositioned beyond what came back.

use sea_orm_migration::prelude::*;

use crate::tenant_wall::{
    fence_tenant_table, grant_update, index, same_tenant_fk, tenant_fk, unique,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000019_returns"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerReturns {
    Table,
    Id,
    TenantId,
    Number,
    SalesOrderId,
    WarehouseId,
    LocationId,
    Status,
    Reason,
    Note,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerReturnLines {
    Table,
    Id,
    TenantId,
    CustomerReturnId,
    LineNumber,
    SalesOrderLineId,
    ProductId,
    LotId,
    QuantityReturned,
    QuantityRestocked,
    QuantityScrapped,
    MovementId,
}

#[derive(DeriveIden, Clone, Copy)]
enum SalesOrders {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum SalesOrderLines {
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
enum Users {
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
        use CustomerReturns as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(ColumnDef::new(R::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(R::TenantId).uuid().not_null())
                    .col(ColumnDef::new(R::Number).string().not_null())
                    .col(ColumnDef::new(R::SalesOrderId).uuid().not_null())
                    .col(ColumnDef::new(R::WarehouseId).uuid().not_null())
                    .col(ColumnDef::new(R::LocationId).uuid().not_null())
                    .col(ColumnDef::new(R::Status).string().not_null())
                    .col(ColumnDef::new(R::Reason).text().not_null())
                    .col(ColumnDef::new(R::Note).text().not_null())
                    .col(
                        ColumnDef::new(R::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(R::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(R::CreatedBy).uuid())
                    .check(Expr::col(R::Status).is_in([
                        "received",
                        "partially_dispositioned",
                        "closed",
                    ]))
                    .foreign_key(&mut tenant_fk(R::Table, R::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        R::Table,
                        R::TenantId,
                        R::SalesOrderId,
                        SalesOrders::Table,
                        SalesOrders::TenantId,
                        SalesOrders::Id,
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
            "customer_returns_tenant_id",
            R::Table,
            vec![R::TenantId.into_iden(), R::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "customer_returns_tenant_number",
            R::Table,
            vec![R::TenantId.into_iden(), R::Number.into_iden()],
        )
        .await?;
        // An order's returns; open returns by state.
        index(
            manager,
            "customer_returns_tenant_order",
            R::Table,
            vec![
                R::TenantId.into_iden(),
                R::SalesOrderId.into_iden(),
                R::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "customer_returns_tenant_status",
            R::Table,
            vec![
                R::TenantId.into_iden(),
                R::Status.into_iden(),
                R::Number.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "customer_returns", "tenant_id", "SELECT, INSERT").await?;
        grant_update(manager, "customer_returns", "status, updated_at").await?;

        use CustomerReturnLines as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(ColumnDef::new(L::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(L::TenantId).uuid().not_null())
                    .col(ColumnDef::new(L::CustomerReturnId).uuid().not_null())
                    .col(ColumnDef::new(L::LineNumber).integer().not_null())
                    .col(ColumnDef::new(L::SalesOrderLineId).uuid().not_null())
                    .col(ColumnDef::new(L::ProductId).uuid().not_null())
                    .col(ColumnDef::new(L::LotId).uuid())
                    .col(ColumnDef::new(L::QuantityReturned).big_integer().not_null())
                    .col(
                        ColumnDef::new(L::QuantityRestocked)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(L::QuantityScrapped).big_integer().not_null())
                    .col(ColumnDef::new(L::MovementId).uuid().not_null())
                    .check(Expr::col(L::LineNumber).gt(0))
                    .check(Expr::col(L::QuantityReturned).gt(0))
                    .check(Expr::col(L::QuantityRestocked).gte(0))
                    .check(Expr::col(L::QuantityScrapped).gte(0))
                    // Never more dispositioned than came back.
                    .check(
                        Expr::col(L::QuantityRestocked)
                            .add(Expr::col(L::QuantityScrapped))
                            .lte(Expr::col(L::QuantityReturned)),
                    )
                    .foreign_key(&mut tenant_fk(L::Table, L::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        L::Table,
                        L::TenantId,
                        L::CustomerReturnId,
                        R::Table,
                        R::TenantId,
                        R::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        L::Table,
                        L::TenantId,
                        L::SalesOrderLineId,
                        SalesOrderLines::Table,
                        SalesOrderLines::TenantId,
                        SalesOrderLines::Id,
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
            "customer_return_lines_tenant_id",
            L::Table,
            vec![L::TenantId.into_iden(), L::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "customer_return_lines_tenant_return_line",
            L::Table,
            vec![
                L::TenantId.into_iden(),
                L::CustomerReturnId.into_iden(),
                L::LineNumber.into_iden(),
            ],
        )
        .await?;
        // What an order line has had back already (summed under the order's lock).
        index(
            manager,
            "customer_return_lines_tenant_order_line",
            L::Table,
            vec![L::TenantId.into_iden(), L::SalesOrderLineId.into_iden()],
        )
        .await?;
        // A retried return finds its return by the movement it posted.
        index(
            manager,
            "customer_return_lines_tenant_movement",
            L::Table,
            vec![L::TenantId.into_iden(), L::MovementId.into_iden()],
        )
        .await?;
        fence_tenant_table(
            manager,
            "customer_return_lines",
            "tenant_id",
            "SELECT, INSERT",
        )
        .await?;
        grant_update(
            manager,
            "customer_return_lines",
            "quantity_restocked, quantity_scrapped",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CustomerReturnLines::Table.into_iden(),
            CustomerReturns::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
