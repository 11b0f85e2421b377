//! `lots`: Lots (batches) of lot-tracked products, with an optional expiry date.

use sea_orm::entity::prelude::*;

use crate::{LotId, ProductId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LotId,
    pub tenant_id: TenantId,
    pub product_id: ProductId,
    pub code: String,
    pub expires_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
