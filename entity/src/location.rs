//! `locations`: Locations (bins) inside warehouses.

use sea_orm::entity::prelude::*;

use crate::{LocationId, LocationKind, TenantId, WarehouseId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "locations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LocationId,
    pub tenant_id: TenantId,
    pub warehouse_id: WarehouseId,
    /// A bin code, unique within its warehouse, e.g. "A-01-03".
    pub code: String,
    pub kind: LocationKind,
    pub pickable: bool,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
