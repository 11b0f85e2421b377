//! `receipt_lines`: one product received on a receipt, with its lot, and the ledger movement it
//! posted. Insert-only.

use sea_orm::entity::prelude::*;

use crate::{
    LotId, MovementId, ProductId, PurchaseOrderLineId, ReceiptId, ReceiptLineId, TenantId,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "receipt_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ReceiptLineId,
    pub tenant_id: TenantId,
    pub receipt_id: ReceiptId,
    /// 1, 2, 3, … within the receipt.
    pub line_number: i32,
    /// The order line this receives; None on an ad hoc receipt.
    pub purchase_order_line_id: Option<PurchaseOrderLineId>,
    pub product_id: ProductId,
    /// For lot- and serial-tracked products.
    pub lot_id: Option<LotId>,
    pub quantity: i64,
    /// The movement from the supplier account into the receiving location.
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
