//! `shipment_events`: a shipment's status history, one row per change (its creation included).
//! Append-only.

use sea_orm::entity::prelude::*;

use crate::{ShipmentEventId, ShipmentId, ShipmentStatus, TenantId, UserId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipment_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ShipmentEventId,
    pub tenant_id: TenantId,
    pub shipment_id: ShipmentId,
    /// The state the shipment went to.
    pub status: ShipmentStatus,
    pub note: String,
    /// When it happened (the carrier's scan, the signature), as reported.
    pub occurred_at: DateTimeUtc,
    /// When it was written down here.
    pub recorded_at: DateTimeUtc,
    /// Who wrote it down; None for the operator's command line.
    pub actor_user_id: Option<UserId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
