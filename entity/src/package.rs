//! `packages`: one box (or pallet) a packed sales order went into, with its weight and outside
//! dimensions. Written when the order is packed, never changed.

use sea_orm::entity::prelude::*;

use crate::{PackageId, SalesOrderId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "packages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PackageId,
    pub tenant_id: TenantId,
    pub sales_order_id: SalesOrderId,
    /// 1, 2, 3, … within the order.
    pub package_number: i32,
    pub weight_grams: i64,
    pub length_mm: i32,
    pub width_mm: i32,
    pub height_mm: i32,
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
