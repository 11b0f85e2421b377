//! `sales_order_lines`: one product on a sales order and how far it has come: reserved,
//! picked, set aside as a back-order, sent.

use sea_orm::entity::prelude::*;

use crate::{ProductId, SalesOrderId, SalesOrderLineId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sales_order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SalesOrderLineId,
    pub tenant_id: TenantId,
    pub sales_order_id: SalesOrderId,
    /// 1, 2, 3, … within the order.
    pub line_number: i32,
    pub product_id: ProductId,
    pub quantity_ordered: i64,
    /// Held for this line by its allocations (open or picked), and dispatched from them.
    pub quantity_allocated: i64,
    pub quantity_picked: i64,
    /// Not to be sent with this order: no stock when it was allocated or picked.
    pub quantity_backordered: i64,
    pub quantity_dispatched: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
