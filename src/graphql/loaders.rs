//! Data loaders: one query per page for each relation, however many rows the page has.
//!
//! Built per request from the caller's tenant handle (a loader's batch runs in a spawned task,
//! where nothing else of the request is in reach).

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{
    CarrierId, CarrierServiceId, CustomerAddressId, CustomerId, LocationId, LotId, PickListId,
    ProductId, PurchaseOrderId, ReceiptId, RoleId, SalesOrderId, ShipmentId, SupplierId,
    TenantScoped, WarehouseId, allocation, carrier, carrier_service, customer, customer_address,
    location, lot, pick_list, product, purchase_order, purchase_order_line, putaway_task, receipt,
    receipt_line, role, sales_order, sales_order_line, shipment_event, supplier, warehouse,
};
use sea_orm::EntityTrait;

use super::ApiError;
use crate::service::{
    allocating, carriers, catalogue, dispatching, ledger, parties, picking, purchasing, putaway,
    receiving, returns, selling, shipping,
};
use crate::tenancy::TenantDb;

/// Every loader of one request, installed together, so that their caches are switched on or off
/// together: a query's loaders cache for the whole request (it reads one moment: a page primes
/// them, its fields then read from the cache); a mutation's do not, since a document of several
/// mutations changes data between fields, and the second must not be shown what the first read
/// before it wrote.
pub struct Loaders {
    caching: bool,
    pub barcodes: DataLoader<BarcodesByProduct, HashMapCache>,
    pub units: DataLoader<UnitsByProduct, HashMapCache>,
    pub stock_totals: DataLoader<StockByProduct, HashMapCache>,
    pub balances: DataLoader<BalancesByProduct, HashMapCache>,
    pub products: DataLoader<ById<product::Entity, ProductId>, HashMapCache>,
    pub locations: DataLoader<ById<location::Entity, LocationId>, HashMapCache>,
    pub warehouses: DataLoader<ById<warehouse::Entity, WarehouseId>, HashMapCache>,
    pub lots: DataLoader<ById<lot::Entity, LotId>, HashMapCache>,
    pub roles: DataLoader<ById<role::Entity, RoleId>, HashMapCache>,
    pub customer_addresses: DataLoader<AddressesByCustomer, HashMapCache>,
    pub suppliers: DataLoader<ById<supplier::Entity, SupplierId>, HashMapCache>,
    pub purchase_order_lines: DataLoader<LinesByPurchaseOrder, HashMapCache>,
    pub purchase_orders: DataLoader<ById<purchase_order::Entity, PurchaseOrderId>, HashMapCache>,
    pub receipts_of_orders: DataLoader<ReceiptsByPurchaseOrder, HashMapCache>,
    pub receipt_lines: DataLoader<LinesByReceipt, HashMapCache>,
    pub receipts: DataLoader<ById<receipt::Entity, ReceiptId>, HashMapCache>,
    pub putaway_tasks: DataLoader<TasksByReceipt, HashMapCache>,
    pub putaway_suggestions: DataLoader<SuggestionByProduct, HashMapCache>,
    pub carrier_services: DataLoader<ServicesByCarrier, HashMapCache>,
    pub customers: DataLoader<ById<customer::Entity, CustomerId>, HashMapCache>,
    pub addresses: DataLoader<ById<customer_address::Entity, CustomerAddressId>, HashMapCache>,
    pub sales_orders: DataLoader<ById<sales_order::Entity, SalesOrderId>, HashMapCache>,
    pub sales_order_lines: DataLoader<LinesBySalesOrder, HashMapCache>,
    pub allocations_of_orders: DataLoader<AllocationsBySalesOrder, HashMapCache>,
    pub pick_lists: DataLoader<ById<pick_list::Entity, PickListId>, HashMapCache>,
    pub picks: DataLoader<PicksByPickList, HashMapCache>,
    pub packages: DataLoader<PackagesBySalesOrder, HashMapCache>,
    pub shipments_of_orders: DataLoader<ShipmentsBySalesOrder, HashMapCache>,
    pub returns_of_orders: DataLoader<ReturnsBySalesOrder, HashMapCache>,
    pub carriers: DataLoader<ById<carrier::Entity, CarrierId>, HashMapCache>,
    pub carrier_service_rows:
        DataLoader<ById<carrier_service::Entity, CarrierServiceId>, HashMapCache>,
    pub shipment_packages: DataLoader<PackagesByShipment, HashMapCache>,
    pub shipment_events: DataLoader<EventsByShipment, HashMapCache>,
    pub sales_order_timelines: DataLoader<TimelineBySalesOrder, HashMapCache>,
    pub purchase_order_timelines: DataLoader<TimelineByPurchaseOrder, HashMapCache>,
    pub customer_return_lines: DataLoader<LinesByCustomerReturn, HashMapCache>,
}

impl Loaders {
    /// This request's loaders, batching over `db`; `caching` for a query, not for a mutation.
    pub fn new(db: &TenantDb, caching: bool) -> Self {
        Self {
            caching,
            barcodes: loader(BarcodesByProduct(db.clone()), caching),
            units: loader(UnitsByProduct(db.clone()), caching),
            stock_totals: loader(StockByProduct(db.clone()), caching),
            balances: loader(BalancesByProduct(db.clone()), caching),
            products: loader(
                by_id::<product::Entity, _>(db, product::Column::Id, |row| row.id),
                caching,
            ),
            locations: loader(
                by_id::<location::Entity, _>(db, location::Column::Id, |row| row.id),
                caching,
            ),
            warehouses: loader(
                by_id::<warehouse::Entity, _>(db, warehouse::Column::Id, |row| row.id),
                caching,
            ),
            lots: loader(
                by_id::<lot::Entity, _>(db, lot::Column::Id, |row| row.id),
                caching,
            ),
            roles: loader(
                by_id::<role::Entity, _>(db, role::Column::Id, |row| row.id),
                caching,
            ),
            customer_addresses: loader(AddressesByCustomer(db.clone()), caching),
            suppliers: loader(
                by_id::<supplier::Entity, _>(db, supplier::Column::Id, |row| row.id),
                caching,
            ),
            purchase_order_lines: loader(LinesByPurchaseOrder(db.clone()), caching),
            purchase_orders: loader(
                by_id::<purchase_order::Entity, _>(db, purchase_order::Column::Id, |row| row.id),
                caching,
            ),
            receipts_of_orders: loader(ReceiptsByPurchaseOrder(db.clone()), caching),
            receipt_lines: loader(LinesByReceipt(db.clone()), caching),
            receipts: loader(
                by_id::<receipt::Entity, _>(db, receipt::Column::Id, |row| row.id),
                caching,
            ),
            putaway_tasks: loader(TasksByReceipt(db.clone()), caching),
            putaway_suggestions: loader(SuggestionByProduct(db.clone()), caching),
            carrier_services: loader(ServicesByCarrier(db.clone()), caching),
            customers: loader(
                by_id::<customer::Entity, _>(db, customer::Column::Id, |row| row.id),
                caching,
            ),
            addresses: loader(
                by_id::<customer_address::Entity, _>(db, customer_address::Column::Id, |row| {
                    row.id
                }),
                caching,
            ),
            sales_orders: loader(
                by_id::<sales_order::Entity, _>(db, sales_order::Column::Id, |row| row.id),
                caching,
            ),
            sales_order_lines: loader(LinesBySalesOrder(db.clone()), caching),
            allocations_of_orders: loader(AllocationsBySalesOrder(db.clone()), caching),
            pick_lists: loader(
                by_id::<pick_list::Entity, _>(db, pick_list::Column::Id, |row| row.id),
                caching,
            ),
            picks: loader(PicksByPickList(db.clone()), caching),
            packages: loader(PackagesBySalesOrder(db.clone()), caching),
            shipments_of_orders: loader(ShipmentsBySalesOrder(db.clone()), caching),
            returns_of_orders: loader(ReturnsBySalesOrder(db.clone()), caching),
            carriers: loader(
                by_id::<carrier::Entity, _>(db, carrier::Column::Id, |row| row.id),
                caching,
            ),
            carrier_service_rows: loader(
                by_id::<carrier_service::Entity, _>(db, carrier_service::Column::Id, |row| row.id),
                caching,
            ),
            shipment_packages: loader(PackagesByShipment(db.clone()), caching),
            shipment_events: loader(EventsByShipment(db.clone()), caching),
            sales_order_timelines: loader(TimelineBySalesOrder(db.clone()), caching),
            purchase_order_timelines: loader(TimelineByPurchaseOrder(db.clone()), caching),
            customer_return_lines: loader(LinesByCustomerReturn(db.clone()), caching),
        }
    }

    /// This request's loaders; INTERNAL rather than a panic if they were not installed.
    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> Result<&'a Self, ApiError> {
        ctx.data_opt::<Self>().ok_or_else(|| {
            crate::error::AppError::Internal("data loaders not installed".into()).into()
        })
    }

    /// Loads a page's keys at once, in this task, and caches the answers for its fields. A page
    /// knows all its keys: the loader's batching would only add a delay (a timer and a task of
    /// its own) to wait for them. Without caching (a mutation) it loads through the loader as
    /// usual.
    pub async fn prime<L, K>(
        &self,
        loader: &DataLoader<L, HashMapCache>,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<K, L::Value>, ApiError>
    where
        L: Loader<K, Error = ApiError>,
        K: Copy + Eq + Hash + Send + Sync + 'static,
    {
        if !self.caching {
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
}

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

/// `rows` grouped by the parent each names, in their order, with an empty list for every key
/// that has none.
fn by_parent<K: Copy + Eq + Hash, V>(
    keys: &[K],
    rows: Vec<V>,
    parent: fn(&V) -> K,
) -> HashMap<K, Vec<V>> {
    let mut found: HashMap<K, Vec<V>> = HashMap::with_capacity(keys.len());
    for row in rows {
        found.entry(parent(&row)).or_default().push(row);
    }
    every_key(keys, found)
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

pub struct AddressesByCustomer(TenantDb);

impl Loader<CustomerId> for AddressesByCustomer {
    type Value = Vec<customer_address::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[CustomerId],
    ) -> Result<HashMap<CustomerId, Self::Value>, Self::Error> {
        let rows = parties::addresses_of(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |address| address.customer_id))
    }
}

pub struct LinesByPurchaseOrder(TenantDb);

impl Loader<PurchaseOrderId> for LinesByPurchaseOrder {
    type Value = Vec<purchase_order_line::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[PurchaseOrderId],
    ) -> Result<HashMap<PurchaseOrderId, Self::Value>, Self::Error> {
        let rows = purchasing::lines_of(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |line| line.purchase_order_id))
    }
}

/// A purchase order's receipts, oldest first.
pub struct ReceiptsByPurchaseOrder(TenantDb);

impl Loader<PurchaseOrderId> for ReceiptsByPurchaseOrder {
    type Value = Vec<receipt::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[PurchaseOrderId],
    ) -> Result<HashMap<PurchaseOrderId, Self::Value>, Self::Error> {
        let mut found: HashMap<PurchaseOrderId, Vec<receipt::Model>> = HashMap::new();
        for row in receiving::of_orders(&self.0, keys).await? {
            if let Some(order) = row.purchase_order_id {
                found.entry(order).or_default().push(row);
            }
        }
        Ok(every_key(keys, found))
    }
}

/// A receipt's lines, in line order.
pub struct LinesByReceipt(TenantDb);

impl Loader<ReceiptId> for LinesByReceipt {
    type Value = Vec<receipt_line::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ReceiptId],
    ) -> Result<HashMap<ReceiptId, Self::Value>, Self::Error> {
        let rows = receiving::lines_of(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |line| line.receipt_id))
    }
}

/// A receipt's put-away tasks, in line order.
pub struct TasksByReceipt(TenantDb);

impl Loader<ReceiptId> for TasksByReceipt {
    type Value = Vec<putaway_task::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ReceiptId],
    ) -> Result<HashMap<ReceiptId, Self::Value>, Self::Error> {
        let rows = putaway::of_receipts(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |task| task.receipt_id))
    }
}

/// Where a product would be put away in a warehouse today (`PutAwayTask.currentSuggestion`);
/// None where no storage or picking location of it holds the product.
pub struct SuggestionByProduct(TenantDb);

impl Loader<(ProductId, WarehouseId)> for SuggestionByProduct {
    type Value = Option<location::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[(ProductId, WarehouseId)],
    ) -> Result<HashMap<(ProductId, WarehouseId), Self::Value>, Self::Error> {
        let found = putaway::live_suggestions(&self.0, keys)
            .await?
            .into_iter()
            .map(|(key, location)| (key, Some(location)))
            .collect();
        Ok(every_key(keys, found))
    }
}

pub struct StockByProduct(TenantDb);

/// A carrier's service levels, archived ones included (the field filters).
pub struct ServicesByCarrier(TenantDb);

impl Loader<CarrierId> for ServicesByCarrier {
    type Value = Vec<carrier_service::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[CarrierId],
    ) -> Result<HashMap<CarrierId, Self::Value>, Self::Error> {
        let found = carriers::services_for(&self.0, keys).await?;
        Ok(every_key(keys, found))
    }
}

/// One product's balances as `Product.balances(first:, includeEmpty:)` asks for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BalancesOf {
    pub product: ProductId,
    pub first: u64,
    pub include_empty: bool,
}

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

/// A loader for one request, its batches run in tasks of their own.
fn loader<L: Send + Sync + 'static>(batch: L, caching: bool) -> DataLoader<L, HashMapCache> {
    let loader = DataLoader::with_cache(batch, tokio::spawn, HashMapCache::default());
    loader.enable_all_cache(caching);
    loader
}

/// A sales order's lines, in line order.
pub struct LinesBySalesOrder(TenantDb);

impl Loader<SalesOrderId> for LinesBySalesOrder {
    type Value = Vec<sales_order_line::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[SalesOrderId],
    ) -> Result<HashMap<SalesOrderId, Self::Value>, Self::Error> {
        let rows = selling::lines_of(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |line| line.sales_order_id))
    }
}

/// A sales order's allocations, oldest first.
pub struct AllocationsBySalesOrder(TenantDb);

impl Loader<SalesOrderId> for AllocationsBySalesOrder {
    type Value = Vec<allocation::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[SalesOrderId],
    ) -> Result<HashMap<SalesOrderId, Self::Value>, Self::Error> {
        let rows = allocating::of_orders(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |row| row.sales_order_id))
    }
}

/// A sales order's shipments, oldest first.
pub struct ShipmentsBySalesOrder(TenantDb);

impl Loader<SalesOrderId> for ShipmentsBySalesOrder {
    type Value = Vec<entity::shipment::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[SalesOrderId],
    ) -> Result<HashMap<SalesOrderId, Self::Value>, Self::Error> {
        let rows = shipping::of_orders(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |row| row.sales_order_id))
    }
}

/// The customer returns booked against a sales order, oldest first.
pub struct ReturnsBySalesOrder(TenantDb);

impl Loader<SalesOrderId> for ReturnsBySalesOrder {
    type Value = Vec<entity::customer_return::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[SalesOrderId],
    ) -> Result<HashMap<SalesOrderId, Self::Value>, Self::Error> {
        let rows = returns::of_orders(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |row| row.sales_order_id))
    }
}

/// A sales order's packages, in package order.
pub struct PackagesBySalesOrder(TenantDb);

impl Loader<SalesOrderId> for PackagesBySalesOrder {
    type Value = Vec<entity::package::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[SalesOrderId],
    ) -> Result<HashMap<SalesOrderId, Self::Value>, Self::Error> {
        let rows = dispatching::packages_of(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |row| row.sales_order_id))
    }
}

/// A shipment's packages, in package order.
pub struct PackagesByShipment(TenantDb);

impl Loader<ShipmentId> for PackagesByShipment {
    type Value = Vec<entity::package::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ShipmentId],
    ) -> Result<HashMap<ShipmentId, Self::Value>, Self::Error> {
        let mut found: HashMap<ShipmentId, Vec<entity::package::Model>> = HashMap::new();
        for (shipment, package) in shipping::packages_of(&self.0, keys).await? {
            found.entry(shipment).or_default().push(package);
        }
        Ok(every_key(keys, found))
    }
}

/// A shipment's status history, oldest first.
pub struct EventsByShipment(TenantDb);

impl Loader<ShipmentId> for EventsByShipment {
    type Value = Vec<shipment_event::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ShipmentId],
    ) -> Result<HashMap<ShipmentId, Self::Value>, Self::Error> {
        let rows = shipping::events_of(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |row| row.shipment_id))
    }
}

/// A sales order's timeline: its audit events and those of its pick lists, shipments and
/// returns, oldest first, with the movements each posted.
pub struct TimelineBySalesOrder(TenantDb);

impl Loader<SalesOrderId> for TimelineBySalesOrder {
    type Value = Vec<crate::service::timeline::Entry>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[SalesOrderId],
    ) -> Result<HashMap<SalesOrderId, Self::Value>, Self::Error> {
        Ok(crate::service::timeline::of_sales_orders(&self.0, keys).await?)
    }
}

/// A purchase order's timeline: its audit events and those of its receipts and their put-away
/// tasks, oldest first, with the movements each posted.
pub struct TimelineByPurchaseOrder(TenantDb);

impl Loader<PurchaseOrderId> for TimelineByPurchaseOrder {
    type Value = Vec<crate::service::timeline::Entry>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[PurchaseOrderId],
    ) -> Result<HashMap<PurchaseOrderId, Self::Value>, Self::Error> {
        Ok(crate::service::timeline::of_purchase_orders(&self.0, keys).await?)
    }
}

/// A customer return's lines, in line order.
pub struct LinesByCustomerReturn(TenantDb);

impl Loader<entity::CustomerReturnId> for LinesByCustomerReturn {
    type Value = Vec<entity::customer_return_line::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[entity::CustomerReturnId],
    ) -> Result<HashMap<entity::CustomerReturnId, Self::Value>, Self::Error> {
        let rows = returns::lines_of(&self.0, keys).await?;
        Ok(by_parent(keys, rows, |row| row.customer_return_id))
    }
}

/// A pick list's picks, in walking order (location code, product, lot).
pub struct PicksByPickList(TenantDb);

impl Loader<PickListId> for PicksByPickList {
    type Value = Vec<allocation::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[PickListId],
    ) -> Result<HashMap<PickListId, Self::Value>, Self::Error> {
        let rows = picking::picks_of(&self.0, keys)
            .await?
            .into_iter()
            .map(|(pick, _)| pick)
            .collect();
        Ok(by_parent(keys, rows, |row| {
            row.pick_list_id.unwrap_or(PickListId(uuid::Uuid::nil()))
        }))
    }
}

/// A reference field guarded by `permission`: null (with the FORBIDDEN error `may_see` records)
/// for a caller without it, else the row `key` names, loaded through `loader` (NOT_FOUND naming
/// `entity` if it is gone).
pub(crate) async fn guarded_one<L, K, T>(
    ctx: &async_graphql::Context<'_>,
    permission: crate::auth::permission::Permission,
    loader: impl FnOnce(&Loaders) -> &DataLoader<L, HashMapCache>,
    key: K,
    entity: &'static str,
) -> Result<Option<T>, ApiError>
where
    L: Loader<K, Error = ApiError>,
    K: Copy + Eq + Hash + Send + Sync + 'static,
    T: From<L::Value>,
{
    if !crate::auth::guard::may_see(ctx, permission) {
        return Ok(None);
    }
    let row = loader(Loaders::of(ctx)?)
        .load_one(key)
        .await?
        .ok_or(crate::error::AppError::NotFound { entity })?;
    Ok(Some(row.into()))
}

/// A list field guarded by `permission`: null (with the FORBIDDEN error `may_see` records) for a
/// caller without it, else the rows `key` has, loaded through `loader` (empty if none).
pub(crate) async fn guarded_many<L, K, R, T>(
    ctx: &async_graphql::Context<'_>,
    permission: crate::auth::permission::Permission,
    loader: impl FnOnce(&Loaders) -> &DataLoader<L, HashMapCache>,
    key: K,
) -> Result<Option<Vec<T>>, ApiError>
where
    L: Loader<K, Value = Vec<R>, Error = ApiError>,
    K: Copy + Eq + Hash + Send + Sync + 'static,
    T: From<R>,
{
    if !crate::auth::guard::may_see(ctx, permission) {
        return Ok(None);
    }
    let rows = loader(Loaders::of(ctx)?)
        .load_one(key)
        .await?
        .unwrap_or_default();
    Ok(Some(rows.into_iter().map(T::from).collect()))
}
