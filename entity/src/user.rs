//! `users`: people who sign in, each belonging to exactly one organisation.

use sea_orm::entity::prelude::*;

use crate::{RoleId, TenantId, UserId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: UserId,
    pub tenant_id: TenantId,
    /// Stored lower-cased; unique across all organisations because login is by email alone.
    pub email: String,
    pub display_name: String,
    /// A PHC string (`$pbkdf2-sha256$i=…`); never leaves the server.
    pub password_hash: String,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub role_id: RoleId,
    /// Permissions granted on top of the role (bits 0..=47).
    pub grant_mask: i64,
    /// Permissions taken away from the role and grants; a revoke beats a grant.
    pub revoke_mask: i64,
    /// Set by an administrator's password reset: the user must choose a new password.
    pub must_change_password: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
