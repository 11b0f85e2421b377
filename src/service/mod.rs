//! Business rules, one module per domain. Services take a [`crate::tenancy::TenantDb`], run one
//! transaction, write its audit event, and know nothing of GraphQL.

pub mod allocating;
pub mod backup;
pub mod bounds;
pub mod carriers;
pub mod catalogue;
pub mod demo;
pub mod dispatching;
pub mod ledger;
pub mod lifecycle;
pub mod numbering;
pub mod organisations;
pub mod paging;
pub mod parties;
pub mod picking;
pub mod places;
pub mod purchasing;
pub mod putaway;
pub mod receiving;
pub mod returns;
pub mod roles;
pub mod selling;
pub mod shipping;
pub mod stock;
pub mod text;
pub mod timeline;
pub mod users;

/// Rows of one table by id, in one query (what the GraphQL data loaders batch into).
pub async fn rows_by_id<E, K>(
    db: &crate::tenancy::TenantDb,
    id_column: E::Column,
    ids: &[K],
) -> crate::error::AppResult<Vec<E::Model>>
where
    E: entity::TenantScoped,
    K: Copy + Into<sea_orm::Value>,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    let tx = db.read().await?;
    Ok(tx
        .all(E::find().filter(id_column.is_in(ids.iter().copied())))
        .await?)
}
