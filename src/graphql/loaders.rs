//! Data loaders: one query per page for each relation, however many rows the page has.
//!
//! Built per request from the caller's tenant handle (a loader's batch runs in a spawned task,
//! where nothing else of the request is in reach).

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::ProductId;

use super::ApiError;
use crate::service::{catalogue, stock};
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
pub type Lots = DataLoader<LotsById, HashMapCache>;

pub struct LotsById(TenantDb);

impl Loader<entity::LotId> for LotsById {
    type Value = entity::lot::Model;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[entity::LotId],
    ) -> Result<HashMap<entity::LotId, Self::Value>, Self::Error> {
        Ok(stock::lots_for(&self.0, keys).await?)
    }
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
        Ok(catalogue::units_for(&self.0, keys).await?)
    }
}

impl Loader<ProductId> for BarcodesByProduct {
    type Value = Vec<String>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ProductId],
    ) -> Result<HashMap<ProductId, Self::Value>, Self::Error> {
        Ok(catalogue::barcodes_for(&self.0, keys).await?)
    }
}

pub struct StockByProduct(TenantDb);

impl Loader<ProductId> for StockByProduct {
    type Value = stock::StockTotal;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ProductId],
    ) -> Result<HashMap<ProductId, Self::Value>, Self::Error> {
        Ok(stock::totals_for(&self.0, keys).await?)
    }
}

/// Adds this request's loaders to its data.
pub fn install(request: async_graphql::Request, db: &TenantDb) -> async_graphql::Request {
    // Cached for the request: a page primes them, its fields then read from the cache.
    request
        .data(DataLoader::with_cache(
            BarcodesByProduct(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            LotsById(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            UnitsByProduct(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            StockByProduct(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
}
