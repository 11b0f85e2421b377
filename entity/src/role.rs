//! `roles`: named permission masks, per organisation. Built-in roles are made with the
//! organisation; custom ones by its administrators.

use sea_orm::entity::prelude::*;

use crate::{RoleId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: RoleId,
    pub tenant_id: TenantId,
    pub name: String,
    pub description: String,
    /// Permission bits 0..=47 (see `vaskem::auth::permission`).
    pub permissions: i64,
    /// Built-in roles cannot be deleted or renamed; the Owner role cannot be changed at all.
    pub is_builtin: bool,
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
