//! `carrier_services`: A carrier's service levels ("EXPRESS", "ECONOMY").

use sea_orm::entity::prelude::*;

use crate::{CarrierId, CarrierServiceId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "carrier_services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CarrierServiceId,
    pub tenant_id: TenantId,
    pub carrier_id: CarrierId,
    /// Unique per carrier, e.g. "EXPRESS".
    pub code: String,
    pub name: String,
    pub is_active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantScoped for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
