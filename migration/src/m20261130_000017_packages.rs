//! Packages: what a packed sales order went into, each with its weight and outside dimensions,
//! numbered 1, 2, 3, … within the order. Written once when the order is packed; never changed.

use sea_orm_migration::prelude::*;

use crate::tenant_wall::{fence_tenant_table, make_append_only, same_tenant_fk, tenant_fk, unique};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000017_packages"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Packages {
    Table,
    Id,
    TenantId,
    SalesOrderId,
    PackageNumber,
    WeightGrams,
    LengthMm,
    WidthMm,
    HeightMm,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SalesOrders {
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
        use Packages as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(ColumnDef::new(P::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(P::TenantId).uuid().not_null())
                    .col(ColumnDef::new(P::SalesOrderId).uuid().not_null())
                    .col(ColumnDef::new(P::PackageNumber).integer().not_null())
                    .col(ColumnDef::new(P::WeightGrams).big_integer().not_null())
                    .col(ColumnDef::new(P::LengthMm).integer().not_null())
                    .col(ColumnDef::new(P::WidthMm).integer().not_null())
                    .col(ColumnDef::new(P::HeightMm).integer().not_null())
                    .col(
                        ColumnDef::new(P::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Expr::col(P::PackageNumber).gt(0))
                    .check(Expr::col(P::WeightGrams).gt(0))
                    .check(Expr::col(P::LengthMm).gt(0))
                    .check(Expr::col(P::WidthMm).gt(0))
                    .check(Expr::col(P::HeightMm).gt(0))
                    .foreign_key(&mut tenant_fk(P::Table, P::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        P::Table,
                        P::TenantId,
                        P::SalesOrderId,
                        SalesOrders::Table,
                        SalesOrders::TenantId,
                        SalesOrders::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "packages_tenant_id",
            P::Table,
            vec![P::TenantId.into_iden(), P::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "packages_tenant_order_number",
            P::Table,
            vec![
                P::TenantId.into_iden(),
                P::SalesOrderId.into_iden(),
                P::PackageNumber.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "packages", "tenant_id", "SELECT, INSERT").await?;
        make_append_only(manager, "packages").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Packages::Table).to_owned())
            .await
    }
}
