//! `stock_movements`: The append-only stock ledger: every change of stock is a movement.

use sea_orm::entity::prelude::*;

use crate::{LocationId, LotId, MovementId, PlaceKind, ProductId, TenantId, UserId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_movements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: MovementId,
    pub tenant_id: TenantId,
    pub product_id: ProductId,
    pub lot_id: Option<LotId>,
    /// Whole base units, always positive: direction is from → to.
    pub quantity: i64,
    /// A location (`from_location_id` says which) or a virtual place.
    pub from_place: PlaceKind,
    pub from_location_id: Option<LocationId>,
    /// A location (`to_location_id` says which) or a virtual place.
    pub to_place: PlaceKind,
    pub to_location_id: Option<LocationId>,
    /// Why: a reason code such as `damaged`, `count`, `transfer`.
    pub reason: String,
    pub note: String,
    /// For a correction: the movement this one reverses.
    pub reverses_id: Option<MovementId>,
    pub actor_user_id: Option<UserId>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
