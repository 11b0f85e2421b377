//! Allocation: reserving a confirmed order's stock where it lies, so nobody else can take it
//! between now and the pick.
//!
//! Stock is taken from active, pickable STORAGE and PICKING locations of the order's warehouse
//! only (never receiving, shipping or quarantine, whatever their flag says); for lot- and
//! serial-tracked products first-expiry-first-out (expired lots are never allocated), then in
//! location code order, which is also the order a picker walks. A reservation is a
//! [`Movement::Reserve`] on the balance, posted through the ledger, and an `allocations` row that
//! says for which line it is held.
//!
//! Never more than is available, also when many orders allocate the same units at once: the
//! balances are locked (in the ledger's order) *before* their figures are read, so a second
//! allocation waits for the first to commit and then sees what it left; the ledger's check
//! (reserved ≤ on hand) and the database's CHECK constraint stand behind that.
//!
//! Lock order: the idempotency key, the order (exclusive) and its lines, then the ledger's order:
//! products, locations (shared), serial numbers, balances.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, Utc};
use entity::{
    AllocationId, AllocationStatus, LocationId, LocationKind, PickListId, ProductId, SalesOrderId,
    SalesOrderLineId, SalesOrderStatus, WarehouseId, allocation, location, lot, product,
    sales_order, sales_order_line, stock_balance,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult, InsufficientStock};
use crate::service::ledger::{
    self, BalanceKey, Locked, LockedLocation, Movement, Posting, key_of, lock_balances,
    lock_locations, lots_by_id, posting_product,
};
use crate::service::lifecycle::Lifecycle;
use crate::service::selling;
use crate::tenancy::{TenantDb, TenantTx};

/// What to do when there is not enough stock for a line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Shortage {
    /// Refuse the whole request (INSUFFICIENT_STOCK), reserving nothing.
    #[default]
    Fail,
    /// Reserve what there is and set the rest aside as a back-order.
    Backorder,
}

/// The kinds of location stock is sold from (if marked pickable): not goods still being
/// received, staged for another order, or held in quarantine.
const SELLABLE_KINDS: [LocationKind; 2] = [LocationKind::Storage, LocationKind::Picking];

/// Stock reserved in one place for one line.
#[derive(Clone, Debug)]
pub(crate) struct Take {
    pub line: SalesOrderLineId,
    pub location: LockedLocation,
    pub location_code: String,
    pub lot: Option<lot::Model>,
    pub quantity: i64,
}

/// The stock one request may reserve from: locked balances with their locations and lots, and
/// what this request has already taken from each.
pub(crate) struct Stock {
    products: BTreeMap<ProductId, Locked<product::Model>>,
    locations: BTreeMap<LocationId, Locked<location::Model>>,
    lots: HashMap<entity::LotId, lot::Model>,
    balances: BTreeMap<BalanceKey, stock_balance::Model>,
    today: NaiveDate,
}

/// The balances of `products` with stock in active, pickable locations of `warehouse`: what an
/// allocation may draw on, read before any lock (the figures are read again under the locks).
async fn candidate_keys(
    tx: &TenantTx,
    warehouse: WarehouseId,
    products: &BTreeSet<ProductId>,
) -> AppResult<BTreeSet<BalanceKey>> {
    let balances = tx
        .all(
            stock_balance::Entity::find()
                .filter(stock_balance::Column::ProductId.is_in(products.iter().copied()))
                .filter(stock_balance::Column::OnHand.gt(0)),
        )
        .await?;
    let at: BTreeSet<LocationId> = balances.iter().map(|b| b.location_id).collect();
    let pickable: BTreeSet<LocationId> = if at.is_empty() {
        BTreeSet::new()
    } else {
        tx.all(
            location::Entity::find()
                .filter(location::Column::Id.is_in(at))
                .filter(location::Column::WarehouseId.eq(warehouse))
                .filter(location::Column::Pickable.eq(true))
                .filter(location::Column::Kind.is_in(SELLABLE_KINDS))
                .filter(location::Column::IsActive.eq(true)),
        )
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect()
    };
    Ok(balances
        .into_iter()
        .filter(|b| pickable.contains(&b.location_id))
        .map(|b| (b.product_id, b.location_id, b.lot_key))
        .collect())
}

impl Stock {
    /// Locks (in the ledger's order) the products, the candidate stock of `warehouse` and the
    /// `extra` locations (e.g. a staging location the same posting moves stock into), and reads
    /// the balances under their locks.
    pub(crate) async fn lock(
        tx: &mut TenantTx,
        warehouse: WarehouseId,
        products: BTreeSet<ProductId>,
        extra: &[(ProductId, LocationId, Option<entity::LotId>)],
    ) -> AppResult<Self> {
        let mut locked_products = BTreeMap::new();
        for id in &products {
            locked_products.insert(*id, posting_product(tx, *id).await?);
        }
        let mut keys = candidate_keys(tx, warehouse, &products).await?;
        for (product, location, lot) in extra {
            keys.insert(key_of(*product, *location, *lot));
        }
        let locations = lock_locations(tx, keys.iter().map(|(_, location, _)| *location)).await?;
        let lots = lots_by_id(
            tx,
            keys.iter()
                .filter(|(_, _, lot)| !lot.is_nil())
                .map(|(_, _, lot)| entity::LotId(*lot)),
        )
        .await?;
        let balances = lock_balances(tx, &locked_products, keys).await?;
        Ok(Self {
            products: locked_products,
            locations,
            lots,
            balances,
            today: Utc::now().date_naive(),
        })
    }

    pub(crate) fn product(&self, id: ProductId) -> AppResult<&Locked<product::Model>> {
        self.products
            .get(&id)
            .ok_or_else(|| AppError::Internal("a product was not locked".into()))
    }

    pub(crate) fn location(&self, id: LocationId) -> AppResult<&Locked<location::Model>> {
        self.locations
            .get(&id)
            .ok_or_else(|| AppError::Internal("a location was not locked".into()))
    }

    pub(crate) fn lot(&self, key: Uuid) -> Option<lot::Model> {
        self.lots.get(&entity::LotId(key)).cloned()
    }

    /// Units of `product` this request may still reserve, over every candidate place.
    fn available(&self, product: ProductId, except: &BTreeSet<LocationId>) -> i64 {
        self.places(product, except)
            .into_iter()
            .map(|(_, available)| available)
            .sum()
    }

    /// The places `product` may be taken from, in the order they are to be used (first expiry
    /// first, then location code, then lot code), with what each still has free.
    fn places(&self, product: ProductId, except: &BTreeSet<LocationId>) -> Vec<(BalanceKey, i64)> {
        let mut places: Vec<(BalanceKey, i64)> = self
            .balances
            .iter()
            .filter(|((p, location, _), _)| *p == product && !except.contains(location))
            .filter(|((_, location, _), _)| {
                self.locations
                    .get(location)
                    .is_some_and(|l| l.pickable && l.is_active && SELLABLE_KINDS.contains(&l.kind))
            })
            .filter(|((_, _, lot), _)| {
                // An expired lot is not sold.
                lot.is_nil()
                    || self
                        .lots
                        .get(&entity::LotId(*lot))
                        .and_then(|l| l.expires_on)
                        .is_none_or(|day| day >= self.today)
            })
            .map(|(key, balance)| (*key, balance.on_hand - balance.reserved))
            .filter(|(_, available)| *available > 0)
            .collect();
        places.sort_by_key(|((_, location, lot), _)| {
            let lot = self.lots.get(&entity::LotId(*lot));
            (
                lot.and_then(|l| l.expires_on).unwrap_or(NaiveDate::MAX),
                self.locations
                    .get(location)
                    .map(|l| l.code.clone())
                    .unwrap_or_default(),
                lot.map(|l| l.code.clone()).unwrap_or_default(),
            )
        });
        places
    }

    /// Takes up to `quantity` of `product` for `line` (never from the `except` locations), first expiry
    /// first; returns what it took. The figures go down as it takes, so two lines of one request
    /// never count the same units.
    pub(crate) fn take(
        &mut self,
        line: SalesOrderLineId,
        product: ProductId,
        quantity: i64,
        except: &BTreeSet<LocationId>,
    ) -> Vec<Take> {
        let mut takes = Vec::new();
        let mut wanted = quantity;
        for (key, available) in self.places(product, except) {
            if wanted == 0 {
                break;
            }
            let taken = available.min(wanted);
            wanted -= taken;
            if let Some(balance) = self.balances.get_mut(&key) {
                balance.reserved += taken;
            }
            let Some(location) = self.locations.get(&key.1) else {
                continue;
            };
            takes.push(Take {
                line,
                location: location.handle(),
                location_code: location.code.clone(),
                lot: self.lot(key.2),
                quantity: taken,
            });
        }
        takes
    }

    /// The shortfall of `product` as the error names it.
    pub(crate) fn shortfall(
        &self,
        product: ProductId,
        warehouse: &str,
        requested: i64,
        except: &BTreeSet<LocationId>,
    ) -> AppError {
        AppError::InsufficientStock(Box::new(InsufficientStock {
            sku: self
                .products
                .get(&product)
                .map(|p| p.sku.clone())
                .unwrap_or_default(),
            location: format!("the pickable locations of {warehouse}"),
            available: self.available(product, except),
            requested,
        }))
    }

    /// The ledger postings that reserve `takes`.
    pub(crate) fn reservations(&self, takes: &[(ProductId, Take)]) -> AppResult<Vec<Posting>> {
        takes
            .iter()
            .map(|(product, take)| {
                Ok(Posting {
                    product: self.product(*product)?.clone(),
                    lot: take.lot.clone(),
                    movement: Movement::Reserve {
                        location: take.location,
                        quantity: take.quantity,
                    },
                    reason: "allocation".into(),
                    note: String::new(),
                    reverses: None,
                })
            })
            .collect()
    }
}

/// Stores the allocation rows for `takes` (all of one order).
pub(crate) async fn record_takes(
    tx: &mut TenantTx,
    order: SalesOrderId,
    pick_list: Option<PickListId>,
    takes: &[(ProductId, Take)],
) -> AppResult<Vec<allocation::Model>> {
    let now = Utc::now();
    let mut stored = Vec::with_capacity(takes.len());
    for (product, take) in takes {
        stored.push(
            tx.insert(allocation::ActiveModel {
                id: Set(AllocationId::generate()),
                tenant_id: Set(tx.tenant()),
                sales_order_id: Set(order),
                sales_order_line_id: Set(take.line),
                product_id: Set(*product),
                location_id: Set(take.location.id()),
                lot_id: Set(take.lot.as_ref().map(|l| l.id)),
                quantity: Set(take.quantity),
                quantity_picked: Set(0),
                staged_location_id: Set(None),
                pick_list_id: Set(pick_list),
                status: Set(AllocationStatus::Open),
                created_at: Set(now),
                picked_at: Set(None),
            })
            .await?,
        );
    }
    Ok(stored)
}

/// How takes appear in an audit event.
pub(crate) fn takes_view(
    takes: &[(ProductId, Take)],
    lines: &[sales_order_line::Model],
    skus: &HashMap<ProductId, String>,
) -> serde_json::Value {
    json!(
        takes
            .iter()
            .map(|(product, take)| json!({
                "line": lines.iter().find(|l| l.id == take.line).map(|l| l.line_number),
                "sku": skus.get(product),
                "location": take.location_code,
                "lot": take.lot.as_ref().map(|l| l.code.clone()),
                "quantity": take.quantity,
            }))
            .collect::<Vec<_>>()
    )
}

/// Allocates a CONFIRMED order: reserves every line's outstanding quantity (or, with
/// [`Shortage::Backorder`], what there is, back-ordering the rest) and moves it to ALLOCATED.
/// Audited as `sales_order.allocate`. A retry with the same idempotency key reserves nothing
/// more and answers the order as it now is.
pub async fn allocate(
    db: &TenantDb,
    id: SalesOrderId,
    shortage: Shortage,
    idempotency_key: Option<String>,
) -> AppResult<sales_order::Model> {
    let request = json!({ "order": id, "shortage": format!("{shortage:?}") });
    ledger::run(
        db,
        "sales_order.allocate",
        idempotency_key,
        request,
        async |tx: &mut TenantTx| build(tx, id, shortage).await,
    )
    .await?;
    selling::get(db, id).await
}

async fn build(
    tx: &mut TenantTx,
    id: SalesOrderId,
    shortage: Shortage,
) -> AppResult<(ledger::StockResult, AuditRecord)> {
    let order = selling::lock(tx, id).await?;
    order
        .status
        .ensure_can_become(SalesOrderStatus::Allocated, &order.number)?;
    let lines = selling::lines_in(tx, id).await?;
    let warehouse = tx
        .find_by_id::<entity::warehouse::Entity>(order.warehouse_id)
        .await?
        .map(|w| w.code)
        .unwrap_or_default();
    let mut stock = Stock::lock(
        tx,
        order.warehouse_id,
        lines.iter().map(|l| l.product_id).collect(),
        &[],
    )
    .await?;
    let mut takes: Vec<(ProductId, Take)> = Vec::new();
    let mut backordered: BTreeMap<SalesOrderLineId, i64> = BTreeMap::new();
    for line in &lines {
        let outstanding =
            line.quantity_ordered - line.quantity_allocated - line.quantity_backordered;
        if outstanding <= 0 {
            continue;
        }
        let available = stock.available(line.product_id, &BTreeSet::new());
        if available < outstanding && shortage == Shortage::Fail {
            return Err(stock.shortfall(
                line.product_id,
                &warehouse,
                outstanding,
                &BTreeSet::new(),
            ));
        }
        let taken = stock.take(line.id, line.product_id, outstanding, &BTreeSet::new());
        let got: i64 = taken.iter().map(|t| t.quantity).sum();
        if got < outstanding {
            backordered.insert(line.id, outstanding - got);
        }
        takes.extend(taken.into_iter().map(|t| (line.product_id, t)));
    }
    if takes.is_empty() {
        // Nothing to pick: an allocation of nothing would only hide the shortfall.
        let line = lines
            .first()
            .ok_or_else(|| AppError::Internal("a confirmed order has no lines".into()))?;
        return Err(stock.shortfall(
            line.product_id,
            &warehouse,
            line.quantity_ordered,
            &BTreeSet::new(),
        ));
    }
    let postings = stock.reservations(&takes)?;
    let posted = ledger::post(tx, postings).await?.result;
    record_takes(tx, id, None, &takes).await?;
    let mut allocated: BTreeMap<SalesOrderLineId, i64> = BTreeMap::new();
    for (_, take) in &takes {
        *allocated.entry(take.line).or_default() += take.quantity;
    }
    for line in &lines {
        let more = allocated.get(&line.id).copied().unwrap_or(0);
        let short = backordered.get(&line.id).copied().unwrap_or(0);
        if more == 0 && short == 0 {
            continue;
        }
        tx.update_many(
            sales_order_line::Entity::update_many()
                .col_expr(
                    sales_order_line::Column::QuantityAllocated,
                    Expr::value(line.quantity_allocated + more),
                )
                .col_expr(
                    sales_order_line::Column::QuantityBackordered,
                    Expr::value(line.quantity_backordered + short),
                )
                .filter(sales_order_line::Column::Id.eq(line.id)),
        )
        .await?;
    }
    let after = selling::set_status(tx, &order, SalesOrderStatus::Allocated).await?;
    let skus = selling::skus_of(tx, &lines).await?;
    let record = AuditRecord::new("sales_order.allocate", "sales_order", id).with_change(
        json!({ "number": order.number, "status": order.status.to_value() }),
        json!({
            "number": after.number,
            "status": after.status.to_value(),
            "allocations": takes_view(&takes, &lines, &skus),
            "backordered": backordered.iter().map(|(line, quantity)| json!({
                "line": lines.iter().find(|l| l.id == *line).map(|l| l.line_number),
                "quantity": quantity,
            })).collect::<Vec<_>>(),
        }),
    );
    Ok((posted, record))
}

/// The allocations of these orders, oldest first.
pub async fn of_orders(
    db: &TenantDb,
    orders: &[SalesOrderId],
) -> AppResult<Vec<allocation::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            allocation::Entity::find()
                .filter(allocation::Column::SalesOrderId.is_in(orders.iter().copied()))
                .order_by_asc(allocation::Column::Id),
        )
        .await?)
}

/// One allocation.
pub async fn get(db: &TenantDb, id: AllocationId) -> AppResult<allocation::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<allocation::Entity>(id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "allocation",
        })
}
