//! `shipment_packages`: which packages went on which shipment. A package ships once; written
//! with the shipment, never changed.

use sea_orm::entity::prelude::*;

use crate::{PackageId, ShipmentId, ShipmentPackageId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipment_packages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ShipmentPackageId,
    pub tenant_id: TenantId,
    pub shipment_id: ShipmentId,
    /// Unique in the organisation: a package ships once.
    pub package_id: PackageId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
