//! Sales orders, their lines, the stock reserved for them (allocations) and the pick lists that
//! send pickers to it.
//!
//! A sales order moves draft → confirmed → allocated → picking → packed → dispatched, or to
//! cancelled; the status columns hold exactly their enums' values. An allocation is stock
//! reserved at one (product, location, lot): `stock_balances.reserved` is the sum of the open and
//! picked allocations there, moved by the ledger in the same transaction. Once a line has
//! dispatched anything it is history: a trigger refuses to change or delete it on both engines.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::tenant_wall::{
    SERVICE_ROLE, fence_tenant_table, index, same_tenant_fk, tenant_fk, unique,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000016_sales_orders"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum SalesOrders {
    Table,
    Id,
    TenantId,
    Number,
    CustomerId,
    WarehouseId,
    ShippingAddressId,
    Status,
    RequestedShipOn,
    Note,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SalesOrderLines {
    Table,
    Id,
    TenantId,
    SalesOrderId,
    LineNumber,
    ProductId,
    QuantityOrdered,
    QuantityAllocated,
    QuantityPicked,
    QuantityBackordered,
    QuantityDispatched,
}

#[derive(DeriveIden, Clone, Copy)]
enum PickLists {
    Table,
    Id,
    TenantId,
    Number,
    WarehouseId,
    Status,
    CreatedAt,
    CompletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Allocations {
    Table,
    Id,
    TenantId,
    SalesOrderId,
    SalesOrderLineId,
    ProductId,
    LocationId,
    LotId,
    Quantity,
    QuantityPicked,
    StagedLocationId,
    PickListId,
    Status,
    CreatedAt,
    PickedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Customers {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerAddresses {
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
enum Locations {
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

fn ids(columns: &[DynIden]) -> Vec<DynIden> {
    columns.to_vec()
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SalesOrders as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(ColumnDef::new(S::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(S::TenantId).uuid().not_null())
                    .col(ColumnDef::new(S::Number).string().not_null())
                    .col(ColumnDef::new(S::CustomerId).uuid().not_null())
                    .col(ColumnDef::new(S::WarehouseId).uuid().not_null())
                    .col(ColumnDef::new(S::ShippingAddressId).uuid())
                    .col(ColumnDef::new(S::Status).string().not_null())
                    .col(ColumnDef::new(S::RequestedShipOn).date().not_null())
                    .col(ColumnDef::new(S::Note).text().not_null())
                    .col(
                        ColumnDef::new(S::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(S::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Expr::col(S::Status).is_in([
                        "draft",
                        "confirmed",
                        "allocated",
                        "picking",
                        "packed",
                        "dispatched",
                        "cancelled",
                    ]))
                    .foreign_key(&mut tenant_fk(S::Table, S::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        S::Table,
                        S::TenantId,
                        S::CustomerId,
                        Customers::Table,
                        Customers::TenantId,
                        Customers::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        S::Table,
                        S::TenantId,
                        S::WarehouseId,
                        Warehouses::Table,
                        Warehouses::TenantId,
                        Warehouses::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        S::Table,
                        S::TenantId,
                        S::ShippingAddressId,
                        CustomerAddresses::Table,
                        CustomerAddresses::TenantId,
                        CustomerAddresses::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "sales_orders_tenant_id",
            S::Table,
            ids(&[S::TenantId.into_iden(), S::Id.into_iden()]),
        )
        .await?;
        unique(
            manager,
            "sales_orders_tenant_number",
            S::Table,
            ids(&[S::TenantId.into_iden(), S::Number.into_iden()]),
        )
        .await?;
        // Open orders by state, and what must ship by a day.
        index(
            manager,
            "sales_orders_tenant_status_ship_on",
            S::Table,
            ids(&[
                S::TenantId.into_iden(),
                S::Status.into_iden(),
                S::RequestedShipOn.into_iden(),
                S::Id.into_iden(),
            ]),
        )
        .await?;
        index(
            manager,
            "sales_orders_tenant_customer",
            S::Table,
            ids(&[
                S::TenantId.into_iden(),
                S::CustomerId.into_iden(),
                S::Id.into_iden(),
            ]),
        )
        .await?;
        fence_tenant_table(manager, "sales_orders", "tenant_id", "SELECT, INSERT").await?;
        grant_update(
            manager,
            "sales_orders",
            "customer_id, warehouse_id, shipping_address_id, requested_ship_on, note, status, \
             updated_at",
        )
        .await?;

        use SalesOrderLines as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(ColumnDef::new(L::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(L::TenantId).uuid().not_null())
                    .col(ColumnDef::new(L::SalesOrderId).uuid().not_null())
                    .col(ColumnDef::new(L::LineNumber).integer().not_null())
                    .col(ColumnDef::new(L::ProductId).uuid().not_null())
                    .col(ColumnDef::new(L::QuantityOrdered).big_integer().not_null())
                    .col(
                        ColumnDef::new(L::QuantityAllocated)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(L::QuantityPicked).big_integer().not_null())
                    .col(
                        ColumnDef::new(L::QuantityBackordered)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(L::QuantityDispatched)
                            .big_integer()
                            .not_null(),
                    )
                    .check(Expr::col(L::LineNumber).gt(0))
                    .check(Expr::col(L::QuantityOrdered).gt(0))
                    .check(Expr::col(L::QuantityAllocated).gte(0))
                    .check(Expr::col(L::QuantityPicked).gte(0))
                    .check(Expr::col(L::QuantityBackordered).gte(0))
                    .check(Expr::col(L::QuantityDispatched).gte(0))
                    // Never more set aside than ordered, picked than allocated, sent than picked.
                    .check(
                        Expr::col(L::QuantityAllocated)
                            .add(Expr::col(L::QuantityBackordered))
                            .lte(Expr::col(L::QuantityOrdered)),
                    )
                    .check(Expr::col(L::QuantityPicked).lte(Expr::col(L::QuantityAllocated)))
                    .check(Expr::col(L::QuantityDispatched).lte(Expr::col(L::QuantityPicked)))
                    .foreign_key(&mut tenant_fk(L::Table, L::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        L::Table,
                        L::TenantId,
                        L::SalesOrderId,
                        S::Table,
                        S::TenantId,
                        S::Id,
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
            "sales_order_lines_tenant_id",
            L::Table,
            ids(&[L::TenantId.into_iden(), L::Id.into_iden()]),
        )
        .await?;
        unique(
            manager,
            "sales_order_lines_tenant_order_line",
            L::Table,
            ids(&[
                L::TenantId.into_iden(),
                L::SalesOrderId.into_iden(),
                L::LineNumber.into_iden(),
            ]),
        )
        .await?;
        fence_tenant_table(
            manager,
            "sales_order_lines",
            "tenant_id",
            "SELECT, INSERT, DELETE",
        )
        .await?;
        grant_update(
            manager,
            "sales_order_lines",
            "quantity_allocated, quantity_picked, quantity_backordered, quantity_dispatched",
        )
        .await?;
        freeze_dispatched_lines(manager).await?;

        use PickLists as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(ColumnDef::new(P::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(P::TenantId).uuid().not_null())
                    .col(ColumnDef::new(P::Number).string().not_null())
                    .col(ColumnDef::new(P::WarehouseId).uuid().not_null())
                    .col(ColumnDef::new(P::Status).string().not_null())
                    .col(
                        ColumnDef::new(P::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(P::CompletedAt).timestamp_with_time_zone())
                    .check(Expr::col(P::Status).is_in(["open", "completed"]))
                    .foreign_key(&mut tenant_fk(P::Table, P::TenantId))
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
            "pick_lists_tenant_id",
            P::Table,
            ids(&[P::TenantId.into_iden(), P::Id.into_iden()]),
        )
        .await?;
        unique(
            manager,
            "pick_lists_tenant_number",
            P::Table,
            ids(&[P::TenantId.into_iden(), P::Number.into_iden()]),
        )
        .await?;
        fence_tenant_table(manager, "pick_lists", "tenant_id", "SELECT, INSERT").await?;
        grant_update(manager, "pick_lists", "status, completed_at").await?;

        use Allocations as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(ColumnDef::new(A::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(A::TenantId).uuid().not_null())
                    .col(ColumnDef::new(A::SalesOrderId).uuid().not_null())
                    .col(ColumnDef::new(A::SalesOrderLineId).uuid().not_null())
                    .col(ColumnDef::new(A::ProductId).uuid().not_null())
                    .col(ColumnDef::new(A::LocationId).uuid().not_null())
                    .col(ColumnDef::new(A::LotId).uuid())
                    .col(ColumnDef::new(A::Quantity).big_integer().not_null())
                    .col(ColumnDef::new(A::QuantityPicked).big_integer().not_null())
                    .col(ColumnDef::new(A::StagedLocationId).uuid())
                    .col(ColumnDef::new(A::PickListId).uuid())
                    .col(ColumnDef::new(A::Status).string().not_null())
                    .col(
                        ColumnDef::new(A::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(A::PickedAt).timestamp_with_time_zone())
                    .check(Expr::col(A::Quantity).gt(0))
                    .check(Expr::col(A::QuantityPicked).gte(0))
                    .check(Expr::col(A::QuantityPicked).lte(Expr::col(A::Quantity)))
                    .check(Expr::col(A::Status).is_in(["open", "picked", "dispatched", "released"]))
                    .foreign_key(&mut tenant_fk(A::Table, A::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        A::Table,
                        A::TenantId,
                        A::SalesOrderId,
                        S::Table,
                        S::TenantId,
                        S::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        A::Table,
                        A::TenantId,
                        A::SalesOrderLineId,
                        L::Table,
                        L::TenantId,
                        L::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        A::Table,
                        A::TenantId,
                        A::ProductId,
                        Products::Table,
                        Products::TenantId,
                        Products::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        A::Table,
                        A::TenantId,
                        A::LocationId,
                        Locations::Table,
                        Locations::TenantId,
                        Locations::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        A::Table,
                        A::TenantId,
                        A::StagedLocationId,
                        Locations::Table,
                        Locations::TenantId,
                        Locations::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        A::Table,
                        A::TenantId,
                        A::LotId,
                        Lots::Table,
                        Lots::TenantId,
                        Lots::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        A::Table,
                        A::TenantId,
                        A::PickListId,
                        P::Table,
                        P::TenantId,
                        P::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "allocations_tenant_id",
            A::Table,
            ids(&[A::TenantId.into_iden(), A::Id.into_iden()]),
        )
        .await?;
        index(
            manager,
            "allocations_tenant_order",
            A::Table,
            ids(&[
                A::TenantId.into_iden(),
                A::SalesOrderId.into_iden(),
                A::Id.into_iden(),
            ]),
        )
        .await?;
        index(
            manager,
            "allocations_tenant_pick_list",
            A::Table,
            ids(&[
                A::TenantId.into_iden(),
                A::PickListId.into_iden(),
                A::Id.into_iden(),
            ]),
        )
        .await?;
        index(
            manager,
            "allocations_tenant_product_location",
            A::Table,
            ids(&[
                A::TenantId.into_iden(),
                A::ProductId.into_iden(),
                A::LocationId.into_iden(),
            ]),
        )
        .await?;
        fence_tenant_table(manager, "allocations", "tenant_id", "SELECT, INSERT").await?;
        grant_update(
            manager,
            "allocations",
            "pick_list_id, quantity_picked, status, staged_location_id, picked_at",
        )
        .await?;
        // Reservations move `stock_balances.reserved`, which until now only stood at zero.
        grant_update(manager, "stock_balances", "reserved").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Allocations::Table.into_iden(),
            PickLists::Table.into_iden(),
            SalesOrderLines::Table.into_iden(),
            SalesOrders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Least privilege (see `m20261130_000008_least_privilege`): the service role may update only
/// the columns the service's own statements set. A row lock (`FOR UPDATE`) needs any of them.
async fn grant_update(
    manager: &SchemaManager<'_>,
    table: &str,
    columns: &str,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "GRANT UPDATE ({columns}) ON {table} TO {SERVICE_ROLE}"
        ))
        .await?;
    Ok(())
}

/// A line that has dispatched anything is what the customer was sent: no change, no delete.
async fn freeze_dispatched_lines(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.execute_unprepared(
                "CREATE FUNCTION vaskem_freeze_dispatched_line() RETURNS trigger
                   LANGUAGE plpgsql AS $fn$
                 BEGIN
                   IF OLD.quantity_dispatched > 0 THEN
                     RAISE EXCEPTION 'sales order line % was dispatched: % refused', OLD.id, TG_OP
                       USING ERRCODE = 'insufficient_privilege';
                   END IF;
                   IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                   RETURN NEW;
                 END $fn$;
                 CREATE TRIGGER sales_order_lines_frozen_once_dispatched
                   BEFORE UPDATE OR DELETE ON sales_order_lines
                   FOR EACH ROW EXECUTE FUNCTION vaskem_freeze_dispatched_line();",
            )
            .await?;
        }
        _ => {
            db.execute_unprepared(
                "CREATE TRIGGER sales_order_lines_no_update_once_dispatched
                   BEFORE UPDATE ON sales_order_lines WHEN OLD.quantity_dispatched > 0
                 BEGIN SELECT RAISE(ABORT, 'sales order line was dispatched: UPDATE refused'); END;
                 CREATE TRIGGER sales_order_lines_no_delete_once_dispatched
                   BEFORE DELETE ON sales_order_lines WHEN OLD.quantity_dispatched > 0
                 BEGIN SELECT RAISE(ABORT, 'sales order line was dispatched: DELETE refused'); END;",
            )
            .await?;
        }
    }
    Ok(())
}
