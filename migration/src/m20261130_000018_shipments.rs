//! Shipments: packages of a packed or dispatched sales order handed to a carrier at one of its
//! service levels, under a tracking number; which packages went (a package ships once); and the
//! shipment's status history, written once per change and never altered.
//!
//! A shipment moves created → in transit → delivered, with exception on the way; the status
//! column holds exactly its enum's values, and a delivered shipment (only) has its delivery time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::tenant_wall::{
    SERVICE_ROLE, fence_tenant_table, index, make_append_only, same_tenant_fk, tenant_fk, unique,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000018_shipments"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Shipments {
    Table,
    Id,
    TenantId,
    Number,
    SalesOrderId,
    CarrierId,
    CarrierServiceId,
    TrackingNumber,
    Status,
    DeliveredAt,
    ReceivedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ShipmentPackages {
    Table,
    Id,
    TenantId,
    ShipmentId,
    PackageId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ShipmentEvents {
    Table,
    Id,
    TenantId,
    ShipmentId,
    Status,
    Note,
    OccurredAt,
    RecordedAt,
    ActorUserId,
}

#[derive(DeriveIden, Clone, Copy)]
enum SalesOrders {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Carriers {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum CarrierServices {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Packages {
    Table,
    TenantId,
    Id,
}

const STATUSES: [&str; 4] = ["created", "in_transit", "delivered", "exception"];

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Shipments as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(ColumnDef::new(S::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(S::TenantId).uuid().not_null())
                    .col(ColumnDef::new(S::Number).string().not_null())
                    .col(ColumnDef::new(S::SalesOrderId).uuid().not_null())
                    .col(ColumnDef::new(S::CarrierId).uuid().not_null())
                    .col(ColumnDef::new(S::CarrierServiceId).uuid().not_null())
                    .col(ColumnDef::new(S::TrackingNumber).string().not_null())
                    .col(ColumnDef::new(S::Status).string().not_null())
                    .col(ColumnDef::new(S::DeliveredAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(S::ReceivedBy).string())
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
                    .check(Expr::col(S::Status).is_in(STATUSES))
                    // Delivered exactly when it has a delivery time and a signer.
                    .check(Expr::cust(
                        "(status = 'delivered') = (delivered_at IS NOT NULL AND received_by IS NOT NULL)",
                    ))
                    .foreign_key(&mut tenant_fk(S::Table, S::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        S::Table,
                        S::TenantId,
                        S::SalesOrderId,
                        SalesOrders::Table,
                        SalesOrders::TenantId,
                        SalesOrders::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        S::Table,
                        S::TenantId,
                        S::CarrierId,
                        Carriers::Table,
                        Carriers::TenantId,
                        Carriers::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        S::Table,
                        S::TenantId,
                        S::CarrierServiceId,
                        CarrierServices::Table,
                        CarrierServices::TenantId,
                        CarrierServices::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "shipments_tenant_id",
            S::Table,
            vec![S::TenantId.into_iden(), S::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "shipments_tenant_number",
            S::Table,
            vec![S::TenantId.into_iden(), S::Number.into_iden()],
        )
        .await?;
        index(
            manager,
            "shipments_tenant_order",
            S::Table,
            vec![
                S::TenantId.into_iden(),
                S::SalesOrderId.into_iden(),
                S::Id.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "shipments_tenant_status",
            S::Table,
            vec![
                S::TenantId.into_iden(),
                S::Status.into_iden(),
                S::Number.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "shipments_tenant_carrier",
            S::Table,
            vec![
                S::TenantId.into_iden(),
                S::CarrierId.into_iden(),
                S::Id.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "shipments", "tenant_id", "SELECT, INSERT").await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            // Least privilege: only what a status change and a delivery set.
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "GRANT UPDATE (status, delivered_at, received_by, updated_at) ON shipments \
                     TO {SERVICE_ROLE}"
                ))
                .await?;
        }

        use ShipmentPackages as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(ColumnDef::new(P::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(P::TenantId).uuid().not_null())
                    .col(ColumnDef::new(P::ShipmentId).uuid().not_null())
                    .col(ColumnDef::new(P::PackageId).uuid().not_null())
                    .foreign_key(&mut tenant_fk(P::Table, P::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        P::Table,
                        P::TenantId,
                        P::ShipmentId,
                        S::Table,
                        S::TenantId,
                        S::Id,
                    ))
                    .foreign_key(&mut same_tenant_fk(
                        P::Table,
                        P::TenantId,
                        P::PackageId,
                        Packages::Table,
                        Packages::TenantId,
                        Packages::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "shipment_packages_tenant_id",
            P::Table,
            vec![P::TenantId.into_iden(), P::Id.into_iden()],
        )
        .await?;
        // A package ships once.
        unique(
            manager,
            "shipment_packages_tenant_package",
            P::Table,
            vec![P::TenantId.into_iden(), P::PackageId.into_iden()],
        )
        .await?;
        index(
            manager,
            "shipment_packages_tenant_shipment",
            P::Table,
            vec![P::TenantId.into_iden(), P::ShipmentId.into_iden()],
        )
        .await?;
        fence_tenant_table(manager, "shipment_packages", "tenant_id", "SELECT, INSERT").await?;
        make_append_only(manager, "shipment_packages").await?;

        use ShipmentEvents as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(ColumnDef::new(E::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(E::TenantId).uuid().not_null())
                    .col(ColumnDef::new(E::ShipmentId).uuid().not_null())
                    .col(ColumnDef::new(E::Status).string().not_null())
                    .col(ColumnDef::new(E::Note).text().not_null())
                    .col(
                        ColumnDef::new(E::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(E::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(E::ActorUserId).uuid().null())
                    .check(Expr::col(E::Status).is_in(STATUSES))
                    .foreign_key(&mut tenant_fk(E::Table, E::TenantId))
                    .foreign_key(&mut same_tenant_fk(
                        E::Table,
                        E::TenantId,
                        E::ShipmentId,
                        S::Table,
                        S::TenantId,
                        S::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "shipment_events_tenant_id",
            E::Table,
            vec![E::TenantId.into_iden(), E::Id.into_iden()],
        )
        .await?;
        index(
            manager,
            "shipment_events_tenant_shipment",
            E::Table,
            vec![
                E::TenantId.into_iden(),
                E::ShipmentId.into_iden(),
                E::OccurredAt.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "shipment_events", "tenant_id", "SELECT, INSERT").await?;
        make_append_only(manager, "shipment_events").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ShipmentEvents::Table.into_iden(),
            ShipmentPackages::Table.into_iden(),
            Shipments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
