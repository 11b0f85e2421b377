//! `purchase_orders`: goods ordered from a supplier for one warehouse. Lines are in
//! `purchase_order_lines`.

use sea_orm::entity::prelude::*;

use crate::{PurchaseOrderId, PurchaseOrderStatus, SupplierId, TenantId, WarehouseId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchase_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PurchaseOrderId,
    pub tenant_id: TenantId,
    /// `PO-000001`, counted per organisation.
    pub number: String,
    pub supplier_id: SupplierId,
    /// Where the goods are to arrive.
    pub warehouse_id: WarehouseId,
    pub status: PurchaseOrderStatus,
    /// When the goods are expected, unless a line says otherwise.
    pub expected_on: Option<Date>,
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
