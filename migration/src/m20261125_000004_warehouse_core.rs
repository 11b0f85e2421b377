//! The warehouse core: catalogue, warehouses and locations, lots, and the stock ledger.
//!
//! Stock is a double-entry ledger: `stock_movements` is append-only (like the audit log), and
//! `stock_balances` holds the derived on-hand and reserved quantities per (product, location,
//! lot), with CHECK constraints so no code path can store a negative or over-reserved balance.
//! Every reference is a composite foreign key through `tenant_id`, so no row can point at another
//! organisation's row.

use sea_orm_migration::prelude::*;

use crate::tenant_wall::{
    fence_tenant_table, index, make_append_only, same_tenant_fk, tenant_fk, unique,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_warehouse_core"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Products {
    Table,
    Id,
    TenantId,
    Sku,
    Name,
    Description,
    BaseUnit,
    Tracking,
    ExpiryRequired,
    ReorderPoint,
    ReorderQuantity,
    WeightGrams,
    LengthMm,
    WidthMm,
    HeightMm,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProductBarcodes {
    Table,
    TenantId,
    Barcode,
    ProductId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProductUnits {
    Table,
    TenantId,
    ProductId,
    Name,
    BaseQuantity,
}

#[derive(DeriveIden, Clone, Copy)]
enum Warehouses {
    Table,
    Id,
    TenantId,
    Code,
    Name,
    AddressLine1,
    AddressLine2,
    City,
    PostalCode,
    Country,
    IsActive,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Locations {
    Table,
    Id,
    TenantId,
    WarehouseId,
    Code,
    Kind,
    Pickable,
    IsActive,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Lots {
    Table,
    Id,
    TenantId,
    ProductId,
    Code,
    ExpiresOn,
}

#[derive(DeriveIden, Clone, Copy)]
enum StockBalances {
    Table,
    TenantId,
    ProductId,
    LocationId,
    LotKey,
    OnHand,
    Reserved,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StockMovements {
    Table,
    Id,
    TenantId,
    ProductId,
    LotId,
    Quantity,
    FromPlace,
    FromLocationId,
    ToPlace,
    ToLocationId,
    Reason,
    Note,
    ReversesId,
    ActorUserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StockRequests {
    Table,
    TenantId,
    IdempotencyKey,
    Operation,
    Result,
    CreatedAt,
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
                    .table(Products::Table)
                    .col(ColumnDef::new(Products::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Products::TenantId).uuid().not_null())
                    .col(ColumnDef::new(Products::Sku).string().not_null())
                    .col(ColumnDef::new(Products::Name).string().not_null())
                    .col(ColumnDef::new(Products::Description).text().not_null())
                    .col(ColumnDef::new(Products::BaseUnit).string().not_null())
                    .col(ColumnDef::new(Products::Tracking).string().not_null())
                    .col(
                        ColumnDef::new(Products::ExpiryRequired)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Products::ReorderPoint)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Products::ReorderQuantity)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Products::WeightGrams).big_integer().null())
                    .col(ColumnDef::new(Products::LengthMm).big_integer().null())
                    .col(ColumnDef::new(Products::WidthMm).big_integer().null())
                    .col(ColumnDef::new(Products::HeightMm).big_integer().null())
                    .col(ColumnDef::new(Products::IsActive).boolean().not_null())
                    .col(
                        ColumnDef::new(Products::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Products::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Expr::col(Products::Tracking).is_in(["none", "lot", "serial"]))
                    .check(Expr::col(Products::ReorderPoint).gte(0))
                    .check(Expr::col(Products::ReorderQuantity).gte(0))
                    .foreign_key(&mut tenant_fk(Products::Table, Products::TenantId))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "products_tenant_id",
            Products::Table,
            vec![Products::TenantId.into_iden(), Products::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "products_tenant_sku",
            Products::Table,
            vec![Products::TenantId.into_iden(), Products::Sku.into_iden()],
        )
        .await?;
        index(
            manager,
            "products_tenant_name",
            Products::Table,
            vec![
                Products::TenantId.into_iden(),
                Products::Name.into_iden(),
                Products::Id.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "products", "tenant_id", "SELECT, INSERT, UPDATE").await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductBarcodes::Table)
                    .col(ColumnDef::new(ProductBarcodes::TenantId).uuid().not_null())
                    .col(ColumnDef::new(ProductBarcodes::Barcode).string().not_null())
                    .col(ColumnDef::new(ProductBarcodes::ProductId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(ProductBarcodes::TenantId)
                            .col(ProductBarcodes::Barcode),
                    )
                    .foreign_key(&mut tenant_fk(
                        ProductBarcodes::Table,
                        ProductBarcodes::TenantId,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        ProductBarcodes::Table,
                        ProductBarcodes::TenantId,
                        ProductBarcodes::ProductId,
                        Products::Table,
                        Products::TenantId,
                        Products::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "product_barcodes_product",
            ProductBarcodes::Table,
            vec![
                ProductBarcodes::TenantId.into_iden(),
                ProductBarcodes::ProductId.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(
            manager,
            "product_barcodes",
            "tenant_id",
            "SELECT, INSERT, DELETE",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductUnits::Table)
                    .col(ColumnDef::new(ProductUnits::TenantId).uuid().not_null())
                    .col(ColumnDef::new(ProductUnits::ProductId).uuid().not_null())
                    .col(ColumnDef::new(ProductUnits::Name).string().not_null())
                    .col(
                        ColumnDef::new(ProductUnits::BaseQuantity)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProductUnits::TenantId)
                            .col(ProductUnits::ProductId)
                            .col(ProductUnits::Name),
                    )
                    .check(Expr::col(ProductUnits::BaseQuantity).gt(1))
                    .foreign_key(&mut tenant_fk(ProductUnits::Table, ProductUnits::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        ProductUnits::Table,
                        ProductUnits::TenantId,
                        ProductUnits::ProductId,
                        Products::Table,
                        Products::TenantId,
                        Products::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        fence_tenant_table(
            manager,
            "product_units",
            "tenant_id",
            "SELECT, INSERT, DELETE",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Warehouses::Table)
                    .col(
                        ColumnDef::new(Warehouses::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Warehouses::TenantId).uuid().not_null())
                    .col(ColumnDef::new(Warehouses::Code).string().not_null())
                    .col(ColumnDef::new(Warehouses::Name).string().not_null())
                    .col(ColumnDef::new(Warehouses::AddressLine1).string().not_null())
                    .col(ColumnDef::new(Warehouses::AddressLine2).string().not_null())
                    .col(ColumnDef::new(Warehouses::City).string().not_null())
                    .col(ColumnDef::new(Warehouses::PostalCode).string().not_null())
                    .col(ColumnDef::new(Warehouses::Country).string().not_null())
                    .col(ColumnDef::new(Warehouses::IsActive).boolean().not_null())
                    .col(
                        ColumnDef::new(Warehouses::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut tenant_fk(Warehouses::Table, Warehouses::TenantId))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "warehouses_tenant_id",
            Warehouses::Table,
            vec![Warehouses::TenantId.into_iden(), Warehouses::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "warehouses_tenant_code",
            Warehouses::Table,
            vec![
                Warehouses::TenantId.into_iden(),
                Warehouses::Code.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "warehouses", "tenant_id", "SELECT, INSERT, UPDATE").await?;

        manager
            .create_table(
                Table::create()
                    .table(Locations::Table)
                    .col(
                        ColumnDef::new(Locations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Locations::TenantId).uuid().not_null())
                    .col(ColumnDef::new(Locations::WarehouseId).uuid().not_null())
                    .col(ColumnDef::new(Locations::Code).string().not_null())
                    .col(ColumnDef::new(Locations::Kind).string().not_null())
                    .col(ColumnDef::new(Locations::Pickable).boolean().not_null())
                    .col(ColumnDef::new(Locations::IsActive).boolean().not_null())
                    .col(
                        ColumnDef::new(Locations::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Expr::col(Locations::Kind).is_in([
                        "receiving",
                        "storage",
                        "picking",
                        "shipping",
                        "quarantine",
                    ]))
                    .foreign_key(&mut tenant_fk(Locations::Table, Locations::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        Locations::Table,
                        Locations::TenantId,
                        Locations::WarehouseId,
                        Warehouses::Table,
                        Warehouses::TenantId,
                        Warehouses::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "locations_tenant_id",
            Locations::Table,
            vec![Locations::TenantId.into_iden(), Locations::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "locations_tenant_warehouse_code",
            Locations::Table,
            vec![
                Locations::TenantId.into_iden(),
                Locations::WarehouseId.into_iden(),
                Locations::Code.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "locations", "tenant_id", "SELECT, INSERT, UPDATE").await?;

        manager
            .create_table(
                Table::create()
                    .table(Lots::Table)
                    .col(ColumnDef::new(Lots::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Lots::TenantId).uuid().not_null())
                    .col(ColumnDef::new(Lots::ProductId).uuid().not_null())
                    .col(ColumnDef::new(Lots::Code).string().not_null())
                    .col(ColumnDef::new(Lots::ExpiresOn).date().null())
                    .foreign_key(&mut tenant_fk(Lots::Table, Lots::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        Lots::Table,
                        Lots::TenantId,
                        Lots::ProductId,
                        Products::Table,
                        Products::TenantId,
                        Products::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "lots_tenant_id",
            Lots::Table,
            vec![Lots::TenantId.into_iden(), Lots::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "lots_tenant_product_code",
            Lots::Table,
            vec![
                Lots::TenantId.into_iden(),
                Lots::ProductId.into_iden(),
                Lots::Code.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "lots", "tenant_id", "SELECT, INSERT, UPDATE").await?;

        manager
            .create_table(
                Table::create()
                    .table(StockBalances::Table)
                    .col(ColumnDef::new(StockBalances::TenantId).uuid().not_null())
                    .col(ColumnDef::new(StockBalances::ProductId).uuid().not_null())
                    .col(ColumnDef::new(StockBalances::LocationId).uuid().not_null())
                    // The lot's id, or the nil uuid for untracked stock: a key column must not be
                    // NULL, or two "no lot" rows would not collide in a unique index.
                    .col(ColumnDef::new(StockBalances::LotKey).uuid().not_null())
                    .col(
                        ColumnDef::new(StockBalances::OnHand)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StockBalances::Reserved)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StockBalances::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(StockBalances::TenantId)
                            .col(StockBalances::ProductId)
                            .col(StockBalances::LocationId)
                            .col(StockBalances::LotKey),
                    )
                    .check(Expr::col(StockBalances::OnHand).gte(0))
                    .check(Expr::col(StockBalances::Reserved).gte(0))
                    .check(Expr::col(StockBalances::Reserved).lte(Expr::col(StockBalances::OnHand)))
                    .foreign_key(&mut tenant_fk(
                        StockBalances::Table,
                        StockBalances::TenantId,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        StockBalances::Table,
                        StockBalances::TenantId,
                        StockBalances::ProductId,
                        Products::Table,
                        Products::TenantId,
                        Products::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        StockBalances::Table,
                        StockBalances::TenantId,
                        StockBalances::LocationId,
                        Locations::Table,
                        Locations::TenantId,
                        Locations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "stock_balances_location",
            StockBalances::Table,
            vec![
                StockBalances::TenantId.into_iden(),
                StockBalances::LocationId.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(
            manager,
            "stock_balances",
            "tenant_id",
            "SELECT, INSERT, UPDATE",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(StockMovements::Table)
                    .col(
                        ColumnDef::new(StockMovements::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StockMovements::TenantId).uuid().not_null())
                    .col(ColumnDef::new(StockMovements::ProductId).uuid().not_null())
                    .col(ColumnDef::new(StockMovements::LotId).uuid().null())
                    .col(
                        ColumnDef::new(StockMovements::Quantity)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StockMovements::FromPlace)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(StockMovements::FromLocationId).uuid().null())
                    .col(ColumnDef::new(StockMovements::ToPlace).string().not_null())
                    .col(ColumnDef::new(StockMovements::ToLocationId).uuid().null())
                    .col(ColumnDef::new(StockMovements::Reason).string().not_null())
                    .col(ColumnDef::new(StockMovements::Note).text().not_null())
                    .col(ColumnDef::new(StockMovements::ReversesId).uuid().null())
                    .col(ColumnDef::new(StockMovements::ActorUserId).uuid().null())
                    .col(
                        ColumnDef::new(StockMovements::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Expr::col(StockMovements::Quantity).gt(0))
                    .foreign_key(&mut tenant_fk(
                        StockMovements::Table,
                        StockMovements::TenantId,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        StockMovements::Table,
                        StockMovements::TenantId,
                        StockMovements::ProductId,
                        Products::Table,
                        Products::TenantId,
                        Products::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        StockMovements::Table,
                        StockMovements::TenantId,
                        StockMovements::LotId,
                        Lots::Table,
                        Lots::TenantId,
                        Lots::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        StockMovements::Table,
                        StockMovements::TenantId,
                        StockMovements::FromLocationId,
                        Locations::Table,
                        Locations::TenantId,
                        Locations::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        StockMovements::Table,
                        StockMovements::TenantId,
                        StockMovements::ToLocationId,
                        Locations::Table,
                        Locations::TenantId,
                        Locations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "stock_movements_product",
            StockMovements::Table,
            vec![
                StockMovements::TenantId.into_iden(),
                StockMovements::ProductId.into_iden(),
                StockMovements::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "stock_movements_from",
            StockMovements::Table,
            vec![
                StockMovements::TenantId.into_iden(),
                StockMovements::FromLocationId.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "stock_movements_to",
            StockMovements::Table,
            vec![
                StockMovements::TenantId.into_iden(),
                StockMovements::ToLocationId.into_iden(),
            ],
        )
        .await?;
        make_append_only(manager, "stock_movements").await?;
        fence_tenant_table(manager, "stock_movements", "tenant_id", "SELECT, INSERT").await?;

        manager
            .create_table(
                Table::create()
                    .table(StockRequests::Table)
                    .col(ColumnDef::new(StockRequests::TenantId).uuid().not_null())
                    .col(
                        ColumnDef::new(StockRequests::IdempotencyKey)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(StockRequests::Operation).string().not_null())
                    .col(ColumnDef::new(StockRequests::Result).text().not_null())
                    .col(
                        ColumnDef::new(StockRequests::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(StockRequests::TenantId)
                            .col(StockRequests::IdempotencyKey),
                    )
                    .foreign_key(&mut tenant_fk(
                        StockRequests::Table,
                        StockRequests::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        fence_tenant_table(
            manager,
            "stock_requests",
            "tenant_id",
            "SELECT, INSERT, UPDATE",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The stock ledger is append-only; dropping it would be a way around that.
        Err(DbErr::Migration(
            "the warehouse core migration cannot be reverted".into(),
        ))
    }
}
