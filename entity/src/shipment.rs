//! `shipments`: packages of one sales order handed to a carrier at a service level, under a
//! tracking number. Its packages are in `shipment_packages`, its history in `shipment_events`.

use sea_orm::entity::prelude::*;

use crate::{CarrierId, CarrierServiceId, SalesOrderId, ShipmentId, ShipmentStatus, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ShipmentId,
    pub tenant_id: TenantId,
    /// `SH-000001`, counted per organisation.
    pub number: String,
    pub sales_order_id: SalesOrderId,
    pub carrier_id: CarrierId,
    pub carrier_service_id: CarrierServiceId,
    pub tracking_number: String,
    pub status: ShipmentStatus,
    /// When it was delivered; set exactly when DELIVERED.
    pub delivered_at: Option<DateTimeUtc>,
    /// Who signed for it; set exactly when DELIVERED.
    pub received_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
