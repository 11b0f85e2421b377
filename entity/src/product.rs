//! `products`: Products: what is stored and sold.

use sea_orm::entity::prelude::*;

use crate::{ProductId, TenantId, Tracking};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ProductId,
    pub tenant_id: TenantId,
    /// Unique per organisation.
    pub sku: String,
    pub name: String,
    pub description: String,
    /// The unit stock is counted in (e.g. "each", "kg"); quantities are whole base units.
    pub base_unit: String,
    pub tracking: Tracking,
    pub expiry_required: bool,
    pub reorder_point: i64,
    pub reorder_quantity: i64,
    pub weight_grams: Option<i64>,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
    pub is_active: bool,
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
