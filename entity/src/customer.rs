//! `customers`: who goods are sold to. Their addresses are in `customer_addresses`.

use sea_orm::entity::prelude::*;

use crate::{CustomerId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CustomerId,
    pub tenant_id: TenantId,
    /// Unique per organisation, e.g. "C-1001".
    pub code: String,
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
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
