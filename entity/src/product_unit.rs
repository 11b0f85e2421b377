//! `product_units`: Pack and case conversions of a product.

use sea_orm::entity::prelude::*;

use crate::{ProductId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_units")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: ProductId,
    /// e.g. "case", "pallet".
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// How many base units one of these holds (more than one).
    pub base_quantity: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
