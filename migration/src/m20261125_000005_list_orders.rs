//! Indexes for the orders every list offers (so a keyset page is an index range, not a sort of
//! the whole organisation), and a fingerprint on idempotency keys (so a key reused for a
//! different request is refused instead of answered with the first request's result).

use sea_orm_migration::prelude::*;

use crate::tenant_wall::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000005_list_orders"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum StockRequests {
    Table,
    Fingerprint,
}

#[derive(DeriveIden, Clone, Copy)]
enum Products {
    Table,
    TenantId,
    Sku,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Warehouses {
    Table,
    TenantId,
    Code,
    Name,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Roles {
    Table,
    TenantId,
    Name,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Locations {
    Table,
    TenantId,
    Code,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    TenantId,
    Email,
    DisplayName,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum StockBalances {
    Table,
    TenantId,
    OnHand,
    UpdatedAt,
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
        // Keys claimed before this column existed keep '' and are compared as they were: by
        // operation only.
        manager
            .alter_table(
                Table::alter()
                    .table(StockRequests::Table)
                    .add_column(
                        ColumnDef::new(StockRequests::Fingerprint)
                            .string()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await?;
        // Each list's default order is (column, id): with the id in the index too, the database
        // reads a page straight off it instead of sorting the organisation's rows first (SQLite
        // does not know that a unique column makes the id tiebreak redundant).
        index(
            manager,
            "products_tenant_sku_id",
            Products::Table,
            vec![
                Products::TenantId.into_iden(),
                Products::Sku.into_iden(),
                Products::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "warehouses_tenant_code_id",
            Warehouses::Table,
            vec![
                Warehouses::TenantId.into_iden(),
                Warehouses::Code.into_iden(),
                Warehouses::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "roles_tenant_name_id",
            Roles::Table,
            vec![
                Roles::TenantId.into_iden(),
                Roles::Name.into_iden(),
                Roles::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "users_tenant_email_id",
            Users::Table,
            vec![
                Users::TenantId.into_iden(),
                Users::Email.into_iden(),
                Users::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "warehouses_tenant_name",
            Warehouses::Table,
            vec![
                Warehouses::TenantId.into_iden(),
                Warehouses::Name.into_iden(),
                Warehouses::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "locations_tenant_code",
            Locations::Table,
            vec![
                Locations::TenantId.into_iden(),
                Locations::Code.into_iden(),
                Locations::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "users_tenant_display_name",
            Users::Table,
            vec![
                Users::TenantId.into_iden(),
                Users::DisplayName.into_iden(),
                Users::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "stock_balances_tenant_on_hand",
            StockBalances::Table,
            vec![
                StockBalances::TenantId.into_iden(),
                StockBalances::OnHand.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "stock_balances_tenant_updated",
            StockBalances::Table,
            vec![
                StockBalances::TenantId.into_iden(),
                StockBalances::UpdatedAt.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "stock_movements_tenant_id",
            StockMovements::Table,
            vec![
                StockMovements::TenantId.into_iden(),
                StockMovements::Id.into_iden(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            (
                "stock_movements_tenant_id",
                StockMovements::Table.into_iden(),
            ),
            (
                "stock_balances_tenant_updated",
                StockBalances::Table.into_iden(),
            ),
            (
                "stock_balances_tenant_on_hand",
                StockBalances::Table.into_iden(),
            ),
            ("users_tenant_display_name", Users::Table.into_iden()),
            ("locations_tenant_code", Locations::Table.into_iden()),
            ("warehouses_tenant_name", Warehouses::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(StockRequests::Table)
                    .drop_column(StockRequests::Fingerprint)
                    .to_owned(),
            )
            .await
    }
}
