//! Data loaders: one query per page for each relation, however many rows the page has.
//!
//! Built per request from the caller's tenant handle (a loader's batch runs in a spawned task,
//! where nothing else of the request is in reach).

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{ProductId, TenantScoped, location, lot, product, role, warehouse};
use sea_orm::EntityTrait;

use super::ApiError;
use crate::service::{catalogue, ledger};
use crate::tenancy::TenantDb;

/// The loaders as they sit in the request's data.
pub type Barcodes = DataLoader<BarcodesByProduct, HashMapCache>;
pub type StockTotals = DataLoader<StockByProduct, HashMapCache>;

/// This request's loader of type `L`; INTERNAL rather than a panic if it was not installed.
pub fn get<'a, L: Send + Sync + 'static>(
    ctx: &async_graphql::Context<'a>,
) -> Result<&'a L, ApiError> {
    ctx.data_opt::<L>()
        .ok_or_else(|| crate::error::AppError::Internal("data loader not installed".into()).into())
}

pub type Units = DataLoader<UnitsByProduct, HashMapCache>;
pub type Lots = DataLoader<ById<entity::lot::Entity, entity::LotId>, HashMapCache>;
pub type Products = DataLoader<ById<entity::product::Entity, ProductId>, HashMapCache>;
pub type Locations = DataLoader<ById<entity::location::Entity, entity::LocationId>, HashMapCache>;
pub type Roles = DataLoader<ById<entity::role::Entity, entity::RoleId>, HashMapCache>;
pub type Warehouses =
    DataLoader<ById<entity::warehouse::Entity, entity::WarehouseId>, HashMapCache>;

/// Rows of one table by their id.
pub struct ById<E: EntityTrait, K> {
    db: TenantDb,
    id_column: E::Column,
    id_of: fn(&E::Model) -> K,
}

impl<E, K> Loader<K> for ById<E, K>
where
    E: TenantScoped + Send + Sync + 'static,
    E::Model: Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
    K: Copy + Eq + Hash + Send + Sync + Into<sea_orm::Value> + 'static,
{
    type Value = E::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, Self::Value>, Self::Error> {
        Ok(
            crate::service::rows_by_id::<E, K>(&self.db, self.id_column, keys)
                .await?
                .into_iter()
                .map(|row| ((self.id_of)(&row), row))
                .collect(),
        )
    }
}

fn by_id<E: EntityTrait, K>(
    db: &TenantDb,
    id_column: E::Column,
    id_of: fn(&E::Model) -> K,
) -> ById<E, K> {
    ById {
        db: db.clone(),
        id_column,
        id_of,
    }
}

/// `found`, with the default (no rows, zero) for every key it lacks: a product without barcodes
/// is answered too, so its field does not ask again.
fn every_key<K: Copy + Eq + Hash, V: Default>(
    keys: &[K],
    mut found: HashMap<K, V>,
) -> HashMap<K, V> {
    for key in keys {
        found.entry(*key).or_default();
    }
    found
}

pub struct BarcodesByProduct(TenantDb);

pub struct UnitsByProduct(TenantDb);

impl Loader<ProductId> for UnitsByProduct {
    type Value = Vec<entity::product_unit::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ProductId],
    ) -> Result<HashMap<ProductId, Self::Value>, Self::Error> {
        let found = catalogue::units_for(&self.0, keys).await?;
        Ok(every_key(keys, found))
    }
}

impl Loader<ProductId> for BarcodesByProduct {
    type Value = Vec<String>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ProductId],
    ) -> Result<HashMap<ProductId, Self::Value>, Self::Error> {
        let found = catalogue::barcodes_for(&self.0, keys).await?;
        Ok(every_key(keys, found))
    }
}

pub struct StockByProduct(TenantDb);

/// One product's balances as `Product.balances(first:, includeEmpty:)` asks for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BalancesOf {
    pub product: ProductId,
    pub first: u64,
    pub include_empty: bool,
}

pub type Balances = DataLoader<BalancesByProduct, HashMapCache>;

pub struct BalancesByProduct(TenantDb);

impl Loader<BalancesOf> for BalancesByProduct {
    type Value = Vec<ledger::LocatedBalance>;
    type Error = ApiError;

    /// At most two queries, however many products and however many different `first`s (aliases)
    /// the batch holds: one per `includeEmpty`, each with the largest `first` asked, cut per key.
    async fn load(
        &self,
        keys: &[BalancesOf],
    ) -> Result<HashMap<BalancesOf, Self::Value>, Self::Error> {
        let mut found = HashMap::with_capacity(keys.len());
        for include_empty in [false, true] {
            let group: Vec<&BalancesOf> = keys
                .iter()
                .filter(|key| key.include_empty == include_empty)
                .collect();
            let Some(most) = group.iter().map(|key| key.first).max() else {
                continue;
            };
            let products: Vec<ProductId> = group.iter().map(|key| key.product).collect();
            let rows =
                ledger::balances_of_products(&self.0, &products, most, include_empty).await?;
            for key in group {
                let limit = usize::try_from(key.first).unwrap_or(usize::MAX);
                let balances = rows
                    .get(&key.product)
                    .map(|all| all.iter().take(limit).cloned().collect())
                    .unwrap_or_default();
                found.insert(*key, balances);
            }
        }
        Ok(found)
    }
}

impl Loader<ProductId> for StockByProduct {
    type Value = ledger::StockTotal;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ProductId],
    ) -> Result<HashMap<ProductId, Self::Value>, Self::Error> {
        let found = ledger::totals_for(&self.0, keys).await?;
        Ok(every_key(keys, found))
    }
}

/// Whether this request's loaders cache (a query) or not (a mutation).
#[derive(Clone, Copy, Debug)]
pub struct Caching(pub bool);

/// Loads a page's keys at once, in this task, and caches the answers for its fields. A page
/// knows all its keys: the loader's batching would only add a delay (a timer and a task of its
/// own) to wait for them. Without caching (a mutation) it loads through the loader as usual.
pub async fn prime<L, K>(
    ctx: &async_graphql::Context<'_>,
    loader: &DataLoader<L, HashMapCache>,
    keys: impl IntoIterator<Item = K>,
) -> Result<HashMap<K, L::Value>, ApiError>
where
    L: Loader<K, Error = ApiError>,
    K: Copy + Eq + Hash + Send + Sync + 'static,
{
    if !ctx.data_opt::<Caching>().is_some_and(|caching| caching.0) {
        return loader.load_many(keys).await;
    }
    let mut keys: Vec<K> = keys.into_iter().collect();
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    keys.retain(|key| seen.insert(*key));
    let found = loader.loader().load(&keys).await?;
    loader
        .feed_many(found.iter().map(|(key, value)| (*key, value.clone())))
        .await;
    Ok(found)
}

/// Adds this request's loaders to its data. A query's loaders cache for the whole request (it
/// reads one moment: a page primes them, its fields then read from the cache); a mutation's do
/// not, since a document of several mutations changes data between fields, and the second must
/// not be shown what the first read before it wrote.
pub fn install(
    request: async_graphql::Request,
    db: &TenantDb,
    caching: bool,
) -> async_graphql::Request {
    request
        .data(Caching(caching))
        .data(loader(BarcodesByProduct(db.clone()), caching))
        .data(loader(
            by_id::<role::Entity, _>(db, role::Column::Id, |row| row.id),
            caching,
        ))
        .data(loader(
            by_id::<lot::Entity, _>(db, lot::Column::Id, |row| row.id),
            caching,
        ))
        .data(loader(
            by_id::<product::Entity, _>(db, product::Column::Id, |row| row.id),
            caching,
        ))
        .data(loader(
            by_id::<location::Entity, _>(db, location::Column::Id, |row| row.id),
            caching,
        ))
        .data(loader(
            by_id::<warehouse::Entity, _>(db, warehouse::Column::Id, |row| row.id),
            caching,
        ))
        .data(loader(UnitsByProduct(db.clone()), caching))
        .data(loader(StockByProduct(db.clone()), caching))
        .data(loader(BalancesByProduct(db.clone()), caching))
}

/// A loader for one request, its batches run in tasks of their own.
fn loader<L: Send + Sync + 'static>(batch: L, caching: bool) -> DataLoader<L, HashMapCache> {
    let loader = DataLoader::with_cache(batch, tokio::spawn, HashMapCache::default());
    loader.enable_all_cache(caching);
    loader
}
