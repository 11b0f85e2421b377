//! `customer_returns`: goods a customer sent back against a dispatched sales order, received into
//! a quarantine location. Lines are in `customer_return_lines`; only the status changes.

use sea_orm::entity::prelude::*;

use crate::{
    CustomerReturnId, CustomerReturnStatus, LocationId, SalesOrderId, TenantId, UserId, WarehouseId,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_returns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CustomerReturnId,
    pub tenant_id: TenantId,
    /// `RT-000001`, counted per organisation.
    pub number: String,
    pub sales_order_id: SalesOrderId,
    /// The order's warehouse.
    pub warehouse_id: WarehouseId,
    /// The QUARANTINE location the goods were received into.
    pub location_id: LocationId,
    pub status: CustomerReturnStatus,
    /// Why the customer sent it back.
    pub reason: String,
    pub note: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Who received it; None for the operator's command line.
    pub created_by: Option<UserId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
