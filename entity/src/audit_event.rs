//! `audit_events`: the append-only, hash-chained record of who did what.
//!
//! The database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) on this table.

use sea_orm::entity::prelude::*;

use crate::{TenantId, UserId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    /// 1, 2, 3, … per organisation, without gaps.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// UTC, truncated to whole microseconds so both databases store it exactly.
    pub occurred_at: DateTimeUtc,
    /// `user` or `cli`.
    pub actor_kind: crate::ActorKind,
    pub actor_user_id: Option<UserId>,
    /// What the actor was called at the time (email, or the CLI's label).
    pub actor_label: String,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: crate::Outcome,
    /// Dotted action name, e.g. `organisation.rename`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    /// JSON: `{"before": {...}, "after": {...}}` of the fields that changed; never a secret.
    /// Kept as text so the bytes hashed are the bytes stored.
    pub detail: String,
    /// The previous event's `hash` (64 zeros for the first).
    pub prev_hash: String,
    /// Hex HMAC-SHA-256, under the key `key_id` names, of prev_hash || canonical encoding of this
    /// event (key id included).
    pub hash: String,
    /// Which audit key signed this event (16 hex digits derived from the key). `None` only on
    /// events written before the chain was keyed, which no longer verify.
    pub key_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
