//! Carriers and their service levels (#12 point 4): who takes shipments away, how fast, and
//! where a parcel is tracked.
//!
//! Like the warehouse core, each table carries its organisation's id, every reference is a
//! composite foreign key through `tenant_id` (a service level cannot belong to another
//! organisation's carrier), and codes are unique per organisation (carriers) and per carrier
//! (service levels). On PostgreSQL both tables are fenced by row-level security, and the service
//! role may update only the columns the service changes.

use sea_orm_migration::prelude::*;

use crate::tenant_wall::{fence_tenant_table, index, tenant_fk, unique};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000011_carriers"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Carriers {
    Table,
    Id,
    TenantId,
    Code,
    Name,
    TrackingUrlTemplate,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CarrierServices {
    Table,
    Id,
    TenantId,
    CarrierId,
    Code,
    Name,
    IsActive,
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
                    .table(Carriers::Table)
                    .col(ColumnDef::new(Carriers::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Carriers::TenantId).uuid().not_null())
                    .col(ColumnDef::new(Carriers::Code).string().not_null())
                    .col(ColumnDef::new(Carriers::Name).string().not_null())
                    .col(
                        ColumnDef::new(Carriers::TrackingUrlTemplate)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Carriers::IsActive).boolean().not_null())
                    .col(
                        ColumnDef::new(Carriers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Carriers::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut tenant_fk(Carriers::Table, Carriers::TenantId))
                    .to_owned(),
            )
            .await?;
        // The target of the service levels' composite key, and the key the code is unique by.
        unique(
            manager,
            "carriers_tenant_id",
            Carriers::Table,
            vec![Carriers::TenantId.into_iden(), Carriers::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "carriers_tenant_code",
            Carriers::Table,
            vec![Carriers::TenantId.into_iden(), Carriers::Code.into_iden()],
        )
        .await?;
        // The list's orders, (column, id), so a keyset page is an index range (see
        // m20261125_000005_list_orders).
        for (name, column) in [
            ("carriers_tenant_code_id", Carriers::Code),
            ("carriers_tenant_name", Carriers::Name),
        ] {
            index(
                manager,
                name,
                Carriers::Table,
                vec![
                    Carriers::TenantId.into_iden(),
                    column.into_iden(),
                    Carriers::Id.into_iden(),
                ],
            )
            .await?;
        }
        fence_tenant_table(
            manager,
            "carriers",
            "tenant_id",
            "SELECT, INSERT, UPDATE (code, name, tracking_url_template, is_active, updated_at)",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CarrierServices::Table)
                    .col(
                        ColumnDef::new(CarrierServices::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CarrierServices::TenantId).uuid().not_null())
                    .col(ColumnDef::new(CarrierServices::CarrierId).uuid().not_null())
                    .col(ColumnDef::new(CarrierServices::Code).string().not_null())
                    .col(ColumnDef::new(CarrierServices::Name).string().not_null())
                    .col(
                        ColumnDef::new(CarrierServices::IsActive)
                            .boolean()
                            .not_null(),
                    )
                    .foreign_key(&mut tenant_fk(
                        CarrierServices::Table,
                        CarrierServices::TenantId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                CarrierServices::Table,
                                (CarrierServices::TenantId, CarrierServices::CarrierId),
                            )
                            .to(Carriers::Table, (Carriers::TenantId, Carriers::Id))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "carrier_services_tenant_id",
            CarrierServices::Table,
            vec![
                CarrierServices::TenantId.into_iden(),
                CarrierServices::Id.into_iden(),
            ],
        )
        .await?;
        // Also how a page of carriers finds its service levels: by (tenant, carrier).
        unique(
            manager,
            "carrier_services_tenant_carrier_code",
            CarrierServices::Table,
            vec![
                CarrierServices::TenantId.into_iden(),
                CarrierServices::CarrierId.into_iden(),
                CarrierServices::Code.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(
            manager,
            "carrier_services",
            "tenant_id",
            "SELECT, INSERT, UPDATE (code, name, is_active)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CarrierServices::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Carriers::Table).to_owned())
            .await
    }
}
