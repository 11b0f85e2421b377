//! `putaway_tasks`: the goods of one receipt line, waiting in the receiving location to be put
//! away into storage. Only its progress changes.

use sea_orm::entity::prelude::*;

use crate::{
    LocationId, LotId, ProductId, PutAwayStatus, PutAwayTaskId, ReceiptId, ReceiptLineId, TenantId,
    UserId, WarehouseId,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "putaway_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PutAwayTaskId,
    pub tenant_id: TenantId,
    pub receipt_id: ReceiptId,
    /// The line whose goods these are; one task per line.
    pub receipt_line_id: ReceiptLineId,
    /// The receipt's warehouse: put-away stays inside it.
    pub warehouse_id: WarehouseId,
    pub product_id: ProductId,
    /// For lot- and serial-tracked products.
    pub lot_id: Option<LotId>,
    /// The receiving location the goods were booked into.
    pub from_location_id: LocationId,
    /// An active storage or picking location of the warehouse that held the product when the task
    /// was made (the one holding most); None when none did.
    pub suggested_location_id: Option<LocationId>,
    /// What the line received, in base units.
    pub quantity: i64,
    /// How much of it has been put away so far.
    pub quantity_put_away: i64,
    pub status: PutAwayStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When the last of it was put away.
    pub completed_at: Option<DateTimeUtc>,
    /// Who put the last of it away; None for the operator's command line.
    pub completed_by: Option<UserId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
