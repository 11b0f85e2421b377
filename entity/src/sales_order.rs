//! `sales_orders`: goods a customer ordered from one warehouse, to ship on a day. Lines are in
//! `sales_order_lines`.

use sea_orm::entity::prelude::*;

use crate::{CustomerAddressId, CustomerId, SalesOrderId, SalesOrderStatus, TenantId, WarehouseId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sales_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SalesOrderId,
    pub tenant_id: TenantId,
    /// `SO-000001`, counted per organisation.
    pub number: String,
    pub customer_id: CustomerId,
    /// Where the goods leave from.
    pub warehouse_id: WarehouseId,
    /// One of the customer's SHIPPING addresses; their default when the order was written.
    pub shipping_address_id: Option<CustomerAddressId>,
    pub status: SalesOrderStatus,
    /// The day the customer wants it to leave.
    pub requested_ship_on: Date,
    pub note: String,
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
