//! `allocations`: stock reserved for a sales order line at one (product, location, lot). The
//! balance's `reserved` column is the sum of the open and picked allocations there.

use sea_orm::entity::prelude::*;

use crate::{
    AllocationId, AllocationStatus, LocationId, LotId, PickListId, ProductId, SalesOrderId,
    SalesOrderLineId, TenantId,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "allocations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: AllocationId,
    pub tenant_id: TenantId,
    pub sales_order_id: SalesOrderId,
    pub sales_order_line_id: SalesOrderLineId,
    pub product_id: ProductId,
    /// Where the stock was reserved (a pickable location).
    pub location_id: LocationId,
    pub lot_id: Option<LotId>,
    /// Units reserved at `location_id`.
    pub quantity: i64,
    /// Units the picker found and moved to `staged_location_id`.
    pub quantity_picked: i64,
    /// The SHIPPING location picked stock waits in for dispatch.
    pub staged_location_id: Option<LocationId>,
    pub pick_list_id: Option<PickListId>,
    pub status: AllocationStatus,
    pub created_at: DateTimeUtc,
    pub picked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
