//! `purchase_order_lines`: one product on a purchase order, how many were ordered and how many
//! have arrived.

use sea_orm::entity::prelude::*;

use crate::{ProductId, PurchaseOrderId, PurchaseOrderLineId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchase_order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PurchaseOrderLineId,
    pub tenant_id: TenantId,
    pub purchase_order_id: PurchaseOrderId,
    /// 1, 2, 3, … within the order.
    pub line_number: i32,
    pub product_id: ProductId,
    pub quantity_ordered: i64,
    pub quantity_received: i64,
    /// When this line's goods are expected; the order's date when empty.
    pub expected_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
