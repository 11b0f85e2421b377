//! `organisations`: the tenants themselves.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: TenantId,
    pub name: String,
    /// Unique and URL-safe: what sign-in names the organisation by.
    pub slug: String,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    /// How far past the ordered quantity a receipt may go, in percent (0 to 100).
    pub receipt_tolerance_percent: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    /// An organisation is its own tenant: its id is the tenant key.
    fn tenant_column() -> Column {
        Column::Id
    }
}
