//! `customer_return_lines`: one sales order line's units sent back on a return, with its lot,
//! the movement that received them, and how many have been restocked and scrapped since.

use sea_orm::entity::prelude::*;

use crate::{
    CustomerReturnId, CustomerReturnLineId, LotId, MovementId, ProductId, SalesOrderLineId,
    TenantId,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_return_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CustomerReturnLineId,
    pub tenant_id: TenantId,
    pub customer_return_id: CustomerReturnId,
    /// 1, 2, 3, … within the return.
    pub line_number: i32,
    pub sales_order_line_id: SalesOrderLineId,
    pub product_id: ProductId,
    /// For lot- and serial-tracked products: a lot that was dispatched for the order line.
    pub lot_id: Option<LotId>,
    pub quantity_returned: i64,
    pub quantity_restocked: i64,
    pub quantity_scrapped: i64,
    /// The movement from the customer account into the quarantine location.
    pub movement_id: MovementId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
