//! `document_counters`: the last number each organisation gave to each kind of document
//! (`PO-000042`), so numbers count per organisation and never reveal another's volume.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document_counters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    /// e.g. "purchase_order".
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    pub last_number: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
