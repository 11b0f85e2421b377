//! Reading the ledger: balances (a page, per product for the loaders, totals) and the movement
//! history. Reads take no locks.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use entity::{
    LocationId, LotId, ProductId, WarehouseId, location, lot, product, stock_balance,
    stock_movement, warehouse,
};
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, Query},
};

use crate::error::{AppError, AppResult};
use crate::service::bounds::{check_day, check_time};
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::tenancy::{TenantDb, TenantTx};

async fn find_product(tx: &TenantTx, id: ProductId) -> AppResult<product::Model> {
    tx.find_by_id::<product::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "product" })
}

/// What a stock balance list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct BalanceFilter {
    pub product_id: Option<ProductId>,
    pub location_id: Option<LocationId>,
    pub warehouse_id: Option<WarehouseId>,
    pub lot_id: Option<LotId>,
    /// Only lots that expire on or before this day.
    pub expires_by: Option<NaiveDate>,
    /// Also balances that have fallen to zero (kept as rows once stock was there).
    pub include_empty: bool,
}

/// What a stock balance list may be ordered by; ties are broken by product, location and lot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BalanceOrder {
    /// Grouped by product (in the products' creation order).
    #[default]
    Product,
    /// Grouped by location (in the locations' creation order).
    Location,
    OnHand,
    /// When the balance last changed.
    Updated,
}

/// A page of stock balances. A product, location, warehouse or lot named in the filter must
/// exist (NOT_FOUND otherwise, as for another organisation's).
pub async fn balances(
    db: &TenantDb,
    filter: &BalanceFilter,
    order: BalanceOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<stock_balance::Model>> {
    use stock_balance::Column as B;
    let tx = db.read().await?;
    let mut query = stock_balance::Entity::find();
    if let Some(product) = filter.product_id {
        find_product(&tx, product).await?;
        query = query.filter(B::ProductId.eq(product));
    }
    if let Some(location) = filter.location_id {
        tx.find_by_id::<location::Entity>(location)
            .await?
            .ok_or(AppError::NotFound { entity: "location" })?;
        query = query.filter(B::LocationId.eq(location));
    }
    if let Some(warehouse) = filter.warehouse_id {
        tx.find_by_id::<warehouse::Entity>(warehouse)
            .await?
            .ok_or(AppError::NotFound {
                entity: "warehouse",
            })?;
        // The subquery names the tenant itself: it runs inside the handle's query but is not
        // scoped by it.
        query = query.filter(
            B::LocationId.in_subquery(
                Query::select()
                    .column(location::Column::Id)
                    .from(location::Entity)
                    .and_where(location::Column::TenantId.eq(tx.tenant()))
                    .and_where(location::Column::WarehouseId.eq(warehouse))
                    .to_owned(),
            ),
        );
    }
    if let Some(lot_id) = filter.lot_id {
        tx.find_by_id::<lot::Entity>(lot_id)
            .await?
            .ok_or(AppError::NotFound { entity: "lot" })?;
        query = query.filter(B::LotKey.eq(lot_id.0));
    }
    if let Some(day) = filter.expires_by {
        check_day("filter.expiresBy", day)?;
        query = query.filter(
            B::LotKey.in_subquery(
                Query::select()
                    .column(lot::Column::Id)
                    .from(lot::Entity)
                    .and_where(lot::Column::TenantId.eq(tx.tenant()))
                    .and_where(lot::Column::ExpiresOn.lte(day))
                    .to_owned(),
            ),
        );
    }
    if !filter.include_empty {
        query = query.filter(B::OnHand.gt(0));
    }
    let columns = match order {
        BalanceOrder::Product => vec![B::ProductId, B::LocationId, B::LotKey],
        BalanceOrder::Location => vec![B::LocationId, B::ProductId, B::LotKey],
        BalanceOrder::OnHand => vec![B::OnHand, B::ProductId, B::LocationId, B::LotKey],
        BalanceOrder::Updated => vec![B::UpdatedAt, B::ProductId, B::LocationId, B::LotKey],
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

/// What the movement history may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct MovementFilter {
    pub product_id: Option<ProductId>,
    /// Movements into or out of this location.
    pub location_id: Option<LocationId>,
    /// Movements into or out of any location of this warehouse.
    pub warehouse_id: Option<WarehouseId>,
    pub lot_id: Option<LotId>,
    /// Only movements with this reason code (e.g. `damaged`, `count`, `transfer`).
    pub reason: Option<String>,
    pub actor_user_id: Option<entity::UserId>,
    pub from: Option<chrono::DateTime<Utc>>,
    pub to: Option<chrono::DateTime<Utc>>,
}

/// A page of the movement ledger in posting order (`descending`: newest first).
pub async fn movements(
    db: &TenantDb,
    filter: &MovementFilter,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<stock_movement::Model>> {
    use stock_movement::Column as M;
    let tx = db.read().await?;
    let mut query = stock_movement::Entity::find();
    if let Some(product) = filter.product_id {
        find_product(&tx, product).await?;
        query = query.filter(M::ProductId.eq(product));
    }
    if let Some(location) = filter.location_id {
        tx.find_by_id::<location::Entity>(location)
            .await?
            .ok_or(AppError::NotFound { entity: "location" })?;
        query = query.filter(
            sea_orm::Condition::any()
                .add(M::FromLocationId.eq(location))
                .add(M::ToLocationId.eq(location)),
        );
    }
    if let Some(warehouse) = filter.warehouse_id {
        tx.find_by_id::<warehouse::Entity>(warehouse)
            .await?
            .ok_or(AppError::NotFound {
                entity: "warehouse",
            })?;
        let locations = || {
            Query::select()
                .column(location::Column::Id)
                .from(location::Entity)
                .and_where(location::Column::TenantId.eq(tx.tenant()))
                .and_where(location::Column::WarehouseId.eq(warehouse))
                .to_owned()
        };
        query = query.filter(
            sea_orm::Condition::any()
                .add(M::FromLocationId.in_subquery(locations()))
                .add(M::ToLocationId.in_subquery(locations())),
        );
    }
    if let Some(lot_id) = filter.lot_id {
        tx.find_by_id::<lot::Entity>(lot_id)
            .await?
            .ok_or(AppError::NotFound { entity: "lot" })?;
        query = query.filter(M::LotId.eq(lot_id));
    }
    if let Some(reason) = &filter.reason {
        // Reason codes are stored lower-cased, whatever the caller typed when posting.
        query = query.filter(M::Reason.eq(reason.to_lowercase()));
    }
    if let Some(actor) = filter.actor_user_id {
        query = query.filter(M::ActorUserId.eq(actor));
    }
    if let Some(from) = filter.from {
        check_time("filter.from", from)?;
        query = query.filter(M::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        check_time("filter.to", to)?;
        query = query.filter(M::CreatedAt.lt(to));
    }
    // Ids are UUIDv7, time-ordered: id order is posting order, and a total one.
    paging::page(
        &tx,
        query,
        &ListOrder::new(vec![M::Id], descending),
        request,
    )
    .await
}

/// A product's stock summed over every location and lot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromQueryResult)]
pub struct StockTotal {
    pub on_hand: i64,
    pub reserved: i64,
}

#[derive(FromQueryResult)]
struct ProductTotal {
    product_id: ProductId,
    on_hand: i64,
    reserved: i64,
}

/// Stock totals of several products in one query (for the GraphQL data loader).
pub async fn totals_for(
    db: &TenantDb,
    ids: &[ProductId],
) -> AppResult<HashMap<ProductId, StockTotal>> {
    let tx = db.read().await?;
    let rows: Vec<ProductTotal> = tx
        .all_as(
            stock_balance::Entity::find()
                .select_only()
                .column(stock_balance::Column::ProductId)
                .column_as(Expr::cust("CAST(SUM(on_hand) AS BIGINT)"), "on_hand")
                .column_as(Expr::cust("CAST(SUM(reserved) AS BIGINT)"), "reserved")
                .filter(stock_balance::Column::ProductId.is_in(ids.iter().copied()))
                .group_by(stock_balance::Column::ProductId),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.product_id,
                StockTotal {
                    on_hand: row.on_hand,
                    reserved: row.reserved,
                },
            )
        })
        .collect())
}

/// Most balances one product lists (`Product.balances(first:)`).
pub const MAX_BALANCES_PER_PRODUCT: u64 = 100;

/// A product's stock at one location (and lot), with that location.
pub type LocatedBalance = (stock_balance::Model, location::Model);

/// The balances of several products with their locations, at most `per_product` of each, in one
/// query (for the GraphQL data loader): in the locations' creation order, then by lot; balances
/// that fell to zero only if `include_empty`.
pub async fn balances_of_products(
    db: &TenantDb,
    ids: &[ProductId],
    per_product: u64,
    include_empty: bool,
) -> AppResult<HashMap<ProductId, Vec<LocatedBalance>>> {
    use stock_balance::Column as B;
    let tx = db.read().await?;
    // Each product's balances numbered in list order, so that a product with thousands of
    // balances costs what `per_product` asks for, not all of them. The numbered rows stand in for
    // the table itself (same name, same columns, and `position`), so the query below reads each
    // balance once and the handle's tenant filter applies to it as to the table. The subquery
    // names the tenant itself: it runs inside the handle's query but is not scoped by it.
    let mut numbered = Query::select();
    numbered
        .column(sea_orm::sea_query::Asterisk)
        .expr_as(
            Expr::cust("ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY location_id, lot_key)"),
            "position",
        )
        .from(stock_balance::Entity)
        .and_where(B::TenantId.eq(tx.tenant()))
        .and_where(B::ProductId.is_in(ids.iter().copied()));
    if !include_empty {
        numbered.and_where(B::OnHand.gt(0));
    }
    let mut query = stock_balance::Entity::find()
        .select_also(location::Entity)
        .join(
            sea_orm::JoinType::InnerJoin,
            stock_balance::Entity::belongs_to(location::Entity)
                .from(B::LocationId)
                .to(location::Column::Id)
                .into(),
        )
        .filter(
            Expr::col((stock_balance::Entity, "position"))
                .lte(Ord::min(per_product, MAX_BALANCES_PER_PRODUCT)),
        )
        .order_by_asc(B::ProductId)
        .order_by_asc(B::LocationId)
        .order_by_asc(B::LotKey);
    QueryTrait::query(&mut query)
        .from_clear()
        .from_subquery(numbered.to_owned(), stock_balance::Entity);
    let rows = tx.all_with(query).await?;
    let mut by_product: HashMap<ProductId, Vec<LocatedBalance>> = HashMap::new();
    for (balance, location) in rows {
        let location = location.ok_or_else(|| {
            AppError::Internal("a balance's location did not load with it".into())
        })?;
        by_product
            .entry(balance.product_id)
            .or_default()
            .push((balance, location));
    }
    Ok(by_product)
}
