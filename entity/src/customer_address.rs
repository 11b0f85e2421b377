//! `customer_addresses`: a customer's billing and shipping addresses; at most one default of each
//! kind per customer (a partial unique index).

use sea_orm::entity::prelude::*;

use crate::{AddressKind, CustomerAddressId, CustomerId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_addresses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CustomerAddressId,
    pub tenant_id: TenantId,
    pub customer_id: CustomerId,
    pub kind: AddressKind,
    pub is_default: bool,
    /// What the customer calls it, e.g. "Head office", "Cape Town DC".
    pub label: String,
    pub address_line1: String,
    pub address_line2: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
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
