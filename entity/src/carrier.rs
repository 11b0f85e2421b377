//! `carriers`: Who takes shipments away, and where their parcels are tracked.

use sea_orm::entity::prelude::*;

use crate::{CarrierId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "carriers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CarrierId,
    pub tenant_id: TenantId,
    /// Unique per organisation, e.g. "DHL".
    pub code: String,
    pub name: String,
    /// An `https://` URL holding `{tracking}` once, where a shipment's tracking number goes.
    pub tracking_url_template: String,
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
