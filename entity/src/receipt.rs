//! `receipts`: goods that arrived from a supplier into a receiving location, against a purchase
//! order or ad hoc. Insert-only; lines are in `receipt_lines`.

use sea_orm::entity::prelude::*;

use crate::{LocationId, PurchaseOrderId, ReceiptId, SupplierId, TenantId, UserId, WarehouseId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "receipts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ReceiptId,
    pub tenant_id: TenantId,
    /// `RC-000001`, counted per organisation.
    pub number: String,
    /// None for an ad hoc receipt.
    pub purchase_order_id: Option<PurchaseOrderId>,
    pub supplier_id: SupplierId,
    pub warehouse_id: WarehouseId,
    /// The receiving location the goods were booked into.
    pub location_id: LocationId,
    pub note: String,
    pub received_at: DateTimeUtc,
    /// Who received the goods; None for the operator's command line.
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
