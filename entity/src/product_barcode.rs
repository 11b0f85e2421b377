//! `product_barcodes`: Barcodes: several per product, each unique in its organisation.

use sea_orm::entity::prelude::*;

use crate::{ProductId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_barcodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    /// Unique per organisation.
    #[sea_orm(primary_key, auto_increment = false)]
    pub barcode: String,
    pub product_id: ProductId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
