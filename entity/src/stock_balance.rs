//! `stock_balances`: Derived stock balances per (product, location, lot); always the sum of the movements.

use sea_orm::entity::prelude::*;

use crate::{LocationId, ProductId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_balances")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: ProductId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub location_id: LocationId,
    /// The lot's id, or the nil uuid for stock without a lot.
    #[sea_orm(primary_key, auto_increment = false)]
    pub lot_key: Uuid,
    /// Never negative (a CHECK constraint).
    pub on_hand: i64,
    /// Between 0 and `on_hand` (CHECK constraints).
    pub reserved: i64,
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
