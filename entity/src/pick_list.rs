//! `pick_lists`: the allocations of one or more orders in one warehouse, handed to a picker.

use sea_orm::entity::prelude::*;

use crate::{PickListId, PickListStatus, TenantId, WarehouseId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pick_lists")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PickListId,
    pub tenant_id: TenantId,
    /// `PL-000001`, counted per organisation.
    pub number: String,
    pub warehouse_id: WarehouseId,
    pub status: PickListStatus,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
