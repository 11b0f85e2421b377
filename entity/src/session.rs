//! `sessions`: server-side sign-in sessions. Only a SHA-256 of each token is stored.

use sea_orm::entity::prelude::*;

use crate::{SessionId, TenantId, UserId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// Hex SHA-256 of the cookie's token; the token itself is never stored.
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    /// The absolute end of the session, whatever its activity.
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub client_addr: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
