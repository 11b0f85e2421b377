//! Picking: pick lists gather the open allocations of allocated orders in one warehouse, in
//! location-code order so a picker walks the aisles once; confirming a pick records what was
//! actually found and moves it to a SHIPPING location, where it waits (still reserved for its
//! order) to be packed and dispatched.
//!
//! A short pick (fewer found than reserved) hands the missing units' reservation back and, as
//! the caller chooses, reserves them elsewhere in the warehouse (never where a pick of the line
//! came up short; the new picks join the same pick list) or back-orders them. The location's
//! balance is left as it is: a count corrects it.
//!
//! Lock order: the idempotency key, the order (exclusive), then the ledger's order.

use std::collections::BTreeSet;

use chrono::Utc;
use entity::{
    AllocationId, AllocationStatus, LocationId, LocationKind, PickListId, PickListStatus,
    SalesOrderId, SalesOrderStatus, allocation, location, pick_list, sales_order_line, warehouse,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use serde_json::json;

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult};
use crate::service::allocating::{Stock, record_takes, takes_view};
use crate::service::ledger::{self, Movement, Posting};
use crate::service::lifecycle::Lifecycle;
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::{numbering, selling};
use crate::tenancy::{TenantDb, TenantTx};

/// Most orders one pick list gathers.
pub const MAX_ORDERS: usize = 50;

impl Lifecycle for PickListStatus {
    const DOCUMENT: &'static str = "pick list";

    fn label(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Completed => "COMPLETED",
        }
    }

    fn next(self) -> &'static [Self] {
        match self {
            Self::Open => &[Self::Completed],
            Self::Completed => &[],
        }
    }
}

/// What to do with units a picker did not find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShortPick {
    /// Reserve them at other pickable locations (INSUFFICIENT_STOCK if there are not enough).
    Reallocate,
    /// Send the order without them: they become a back-order on the line.
    Backorder,
}

/// A picker's report on one allocation.
#[derive(Clone, Debug)]
pub struct PickConfirmation {
    pub allocation_id: AllocationId,
    /// Units found and taken, 0 to the allocation's quantity.
    pub quantity: i64,
    /// Required when `quantity` is short of the allocation.
    pub short_pick: Option<ShortPick>,
    /// The SHIPPING location the picked units go to; the warehouse's first (by code) when
    /// absent.
    pub staging_location_id: Option<LocationId>,
    pub idempotency_key: Option<String>,
}

/// Makes a pick list of the open allocations of these ALLOCATED orders, all in one warehouse,
/// and moves the orders to PICKING. Audited as `pick_list.create`.
pub async fn create_pick_list(
    db: &TenantDb,
    orders: Vec<SalesOrderId>,
) -> AppResult<pick_list::Model> {
    let orders: BTreeSet<SalesOrderId> = orders.into_iter().collect();
    if orders.is_empty() || orders.len() > MAX_ORDERS {
        return Err(AppError::bad_input(
            "salesOrderIds",
            format!("a pick list gathers 1 to {MAX_ORDERS} orders"),
        ));
    }
    let mut tx = db.write().await?;
    // Locked in id order, as every request that locks several orders takes them.
    let mut locked = Vec::with_capacity(orders.len());
    for id in &orders {
        let order = selling::lock(&tx, *id).await?;
        order
            .status
            .ensure_can_become(SalesOrderStatus::Picking, &order.number)?;
        locked.push(order);
    }
    let warehouse_id = locked[0].warehouse_id;
    if let Some(other) = locked.iter().find(|o| o.warehouse_id != warehouse_id) {
        return Err(AppError::bad_input(
            "salesOrderIds",
            format!(
                "sales order {} ships from another warehouse: a pick list is walked in one",
                other.number
            ),
        ));
    }
    let number = numbering::next(&mut tx, "pick_list", "PL").await?;
    let list = tx
        .insert(pick_list::ActiveModel {
            id: Set(PickListId::generate()),
            tenant_id: Set(tx.tenant()),
            number: Set(number.clone()),
            warehouse_id: Set(warehouse_id),
            status: Set(PickListStatus::Open),
            created_at: Set(Utc::now()),
            completed_at: Set(None),
        })
        .await?;
    tx.update_many(
        allocation::Entity::update_many()
            .col_expr(allocation::Column::PickListId, Expr::value(list.id))
            .filter(allocation::Column::SalesOrderId.is_in(orders.iter().copied()))
            .filter(allocation::Column::Status.eq(AllocationStatus::Open)),
    )
    .await?;
    for order in &locked {
        selling::set_status(&mut tx, order, SalesOrderStatus::Picking).await?;
    }
    let picks = tx
        .count(allocation::Entity::find().filter(allocation::Column::PickListId.eq(list.id)))
        .await?;
    let warehouse = tx
        .find_by_id::<warehouse::Entity>(warehouse_id)
        .await?
        .map(|w| w.code)
        .unwrap_or_default();
    tx.record(
        AuditRecord::new("pick_list.create", "pick_list", list.id).with_change(
            json!(null),
            json!({
                "number": number,
                "warehouse": warehouse,
                "orders": locked.iter().map(|o| o.number.clone()).collect::<Vec<_>>(),
                "picks": picks,
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(list)
}

/// Records a pick: moves what was found from the allocation's location to a SHIPPING location
/// (reserved there for the order), and deals with any shortfall as the caller chose. Audited as
/// `pick.confirm`; a retry with the same idempotency key moves nothing and answers the
/// allocation as it now is.
pub async fn confirm_pick(db: &TenantDb, input: PickConfirmation) -> AppResult<allocation::Model> {
    let request = json!({
        "allocation": input.allocation_id,
        "quantity": input.quantity,
        "shortPick": input.short_pick.map(|s| format!("{s:?}")),
        "staging": input.staging_location_id,
    });
    ledger::run(
        db,
        "pick.confirm",
        input.idempotency_key.clone(),
        request,
        async |tx: &mut TenantTx| build(tx, &input).await,
    )
    .await?;
    let tx = db.read().await?;
    tx.find_by_id::<allocation::Entity>(input.allocation_id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "allocation",
        })
}

/// The SHIPPING location picked stock goes to: the one named, or the warehouse's first.
async fn staging_location(
    tx: &TenantTx,
    warehouse: entity::WarehouseId,
    named: Option<LocationId>,
) -> AppResult<location::Model> {
    let location = match named {
        Some(id) => tx
            .find_by_id::<location::Entity>(id)
            .await?
            .ok_or(AppError::NotFound { entity: "location" })?,
        None => tx
            .one(
                location::Entity::find()
                    .filter(location::Column::WarehouseId.eq(warehouse))
                    .filter(location::Column::Kind.eq(LocationKind::Shipping))
                    .filter(location::Column::IsActive.eq(true))
                    .order_by_asc(location::Column::Code),
            )
            .await?
            .ok_or_else(|| {
                AppError::Conflict(
                    "the order's warehouse has no active SHIPPING location to stage picks in"
                        .into(),
                )
            })?,
    };
    // The refusals do not name the location: a picker need not hold LOCATIONS_VIEW, and the
    // caller knows which id it sent.
    if location.kind != LocationKind::Shipping {
        return Err(AppError::bad_input(
            "stagingLocationId",
            "the staging location is not a SHIPPING location: picks wait for dispatch in one",
        ));
    }
    if location.warehouse_id != warehouse {
        return Err(AppError::bad_input(
            "stagingLocationId",
            "the staging location is in another warehouse than the order",
        ));
    }
    Ok(location)
}

async fn build(
    tx: &mut TenantTx,
    input: &PickConfirmation,
) -> AppResult<(ledger::StockResult, AuditRecord)> {
    let seen = tx
        .find_by_id::<allocation::Entity>(input.allocation_id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "allocation",
        })?;
    let order = selling::lock(tx, seen.sales_order_id).await?;
    // Read again under the order's lock, which every writer of allocations takes first.
    let held = tx
        .find_by_id::<allocation::Entity>(input.allocation_id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "allocation",
        })?;
    if held.status != AllocationStatus::Open {
        return Err(AppError::Conflict(format!(
            "this pick of sales order {} is {}: only an OPEN pick is confirmed",
            order.number,
            held.status.to_value().to_uppercase()
        )));
    }
    if order.status != SalesOrderStatus::Picking {
        return Err(AppError::Conflict(format!(
            "sales order {} is {}: picks are confirmed while it is PICKING (put it on a pick list)",
            order.number,
            order.status.label()
        )));
    }
    if input.quantity < 0 || input.quantity > held.quantity {
        return Err(AppError::bad_input(
            "quantity",
            format!("0 to {} units were reserved here", held.quantity),
        ));
    }
    let short = held.quantity - input.quantity;
    let short_pick = match (short, input.short_pick) {
        (0, _) => None,
        (_, Some(choice)) => Some(choice),
        (_, None) => {
            return Err(AppError::bad_input(
                "shortPick",
                format!(
                    "{short} of {} units were not found: say whether to REALLOCATE or BACKORDER them",
                    held.quantity
                ),
            ));
        }
    };
    let staging = staging_location(tx, order.warehouse_id, input.staging_location_id).await?;
    let mut stock = Stock::lock(
        tx,
        order.warehouse_id,
        [held.product_id].into(),
        &[
            (held.product_id, held.location_id, held.lot_id),
            (held.product_id, staging.id, held.lot_id),
        ],
    )
    .await?;
    let product = stock.product(held.product_id)?.clone();
    let lot = held.lot_id.and_then(|id| stock.lot(id.0));
    let source = stock.location(held.location_id)?.clone();
    let staged = stock.location(staging.id)?.clone();
    let mut postings = vec![Posting {
        product: product.clone(),
        lot: lot.clone(),
        movement: Movement::Release {
            location: source.handle(),
            quantity: held.quantity,
        },
        reason: "pick".into(),
        note: String::new(),
        reverses: None,
    }];
    if input.quantity > 0 {
        postings.push(Posting {
            product: product.clone(),
            lot: lot.clone(),
            movement: Movement::Move {
                quantity: input.quantity,
                from: source.place(),
                to: staged.place(),
            },
            reason: "pick".into(),
            note: order.number.clone(),
            reverses: None,
        });
        postings.push(Posting {
            product: product.clone(),
            lot: lot.clone(),
            movement: Movement::Reserve {
                location: staged.handle(),
                quantity: input.quantity,
            },
            reason: "pick".into(),
            note: String::new(),
            reverses: None,
        });
    }
    let mut takes = Vec::new();
    if short_pick == Some(ShortPick::Reallocate) {
        // Not where this line's picks came up short: the stock there is in doubt until a count.
        let mut doubtful: BTreeSet<LocationId> = tx
            .all(
                allocation::Entity::find()
                    .filter(allocation::Column::SalesOrderLineId.eq(held.sales_order_line_id))
                    .filter(
                        allocation::Column::Status
                            .is_in([AllocationStatus::Picked, AllocationStatus::Released]),
                    ),
            )
            .await?
            .into_iter()
            .filter(|pick| pick.picked_at.is_some() && pick.quantity_picked < pick.quantity)
            .map(|pick| pick.location_id)
            .collect();
        doubtful.insert(held.location_id);
        let taken = stock.take(held.sales_order_line_id, held.product_id, short, &doubtful);
        let got: i64 = taken.iter().map(|t| t.quantity).sum();
        if got < short {
            let warehouse = tx
                .find_by_id::<warehouse::Entity>(order.warehouse_id)
                .await?
                .map(|w| w.code)
                .unwrap_or_default();
            return Err(stock.shortfall(held.product_id, &warehouse, short, &doubtful));
        }
        takes = taken.into_iter().map(|t| (held.product_id, t)).collect();
        postings.extend(stock.reservations(&takes)?);
    }
    let posted = ledger::post(tx, postings).await?.result;
    record_takes(tx, order.id, held.pick_list_id, &takes).await?;

    let now = Utc::now();
    tx.update_many(
        allocation::Entity::update_many()
            .col_expr(
                allocation::Column::QuantityPicked,
                Expr::value(input.quantity),
            )
            .col_expr(
                allocation::Column::Status,
                Expr::value(if input.quantity > 0 {
                    AllocationStatus::Picked
                } else {
                    AllocationStatus::Released
                }),
            )
            .col_expr(
                allocation::Column::StagedLocationId,
                Expr::value((input.quantity > 0).then_some(staging.id)),
            )
            .col_expr(allocation::Column::PickedAt, Expr::value(Some(now)))
            .filter(allocation::Column::Id.eq(held.id)),
    )
    .await?;
    let line = tx
        .find_by_id::<sales_order_line::Entity>(held.sales_order_line_id)
        .await?
        .ok_or_else(|| AppError::Internal("an allocation has no line".into()))?;
    let backordered = if short_pick == Some(ShortPick::Backorder) {
        short
    } else {
        0
    };
    tx.update_many(
        sales_order_line::Entity::update_many()
            .col_expr(
                sales_order_line::Column::QuantityPicked,
                Expr::value(line.quantity_picked + input.quantity),
            )
            .col_expr(
                sales_order_line::Column::QuantityAllocated,
                Expr::value(line.quantity_allocated - backordered),
            )
            .col_expr(
                sales_order_line::Column::QuantityBackordered,
                Expr::value(line.quantity_backordered + backordered),
            )
            .filter(sales_order_line::Column::Id.eq(line.id)),
    )
    .await?;
    if let Some(list) = held.pick_list_id {
        complete_if_done(tx, list).await?;
    }
    let skus = selling::skus_of(tx, std::slice::from_ref(&line)).await?;
    let record = AuditRecord::new("pick.confirm", "sales_order", order.id).with_change(
        json!({
            "order": order.number,
            "line": line.line_number,
            "sku": product.sku,
            "location": source.code,
            "lot": lot.as_ref().map(|l| l.code.clone()),
            "reserved": held.quantity,
        }),
        json!({
            "picked": input.quantity,
            "stagedAt": (input.quantity > 0).then(|| staged.code.clone()),
            "short": short,
            "shortPick": short_pick.map(|s| format!("{s:?}").to_uppercase()),
            "reallocated": takes_view(&takes, std::slice::from_ref(&line), &skus),
        }),
    );
    Ok((posted, record))
}

/// Marks a pick list COMPLETED once none of its picks is open.
async fn complete_if_done(tx: &mut TenantTx, list: PickListId) -> AppResult<()> {
    let open = tx
        .count(
            allocation::Entity::find()
                .filter(allocation::Column::PickListId.eq(list))
                .filter(allocation::Column::Status.eq(AllocationStatus::Open)),
        )
        .await?;
    if open == 0 {
        tx.update_many(
            pick_list::Entity::update_many()
                .col_expr(
                    pick_list::Column::Status,
                    Expr::value(PickListStatus::Completed),
                )
                .col_expr(
                    pick_list::Column::CompletedAt,
                    Expr::value(Some(Utc::now())),
                )
                .filter(pick_list::Column::Id.eq(list))
                .filter(pick_list::Column::Status.eq(PickListStatus::Open)),
        )
        .await?;
    }
    Ok(())
}

/// One pick list.
pub async fn get(db: &TenantDb, id: PickListId) -> AppResult<pick_list::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<pick_list::Entity>(id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "pick list",
        })
}

/// The picks of these lists, each list's in walking order: location code, then product, then
/// lot; with the location each is at.
pub async fn picks_of(
    db: &TenantDb,
    lists: &[PickListId],
) -> AppResult<Vec<(allocation::Model, location::Model)>> {
    let tx = db.read().await?;
    let picks = tx
        .all(
            allocation::Entity::find()
                .filter(allocation::Column::PickListId.is_in(lists.iter().copied())),
        )
        .await?;
    let locations: std::collections::HashMap<LocationId, location::Model> = tx
        .all(
            location::Entity::find()
                .filter(location::Column::Id.is_in(picks.iter().map(|p| p.location_id))),
        )
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let mut located: Vec<(allocation::Model, location::Model)> = picks
        .into_iter()
        .filter_map(|pick| {
            let location = locations.get(&pick.location_id)?.clone();
            Some((pick, location))
        })
        .collect();
    located.sort_by(|(a, la), (b, lb)| {
        (a.pick_list_id, &la.code, a.product_id, a.lot_id, a.id).cmp(&(
            b.pick_list_id,
            &lb.code,
            b.product_id,
            b.lot_id,
            b.id,
        ))
    });
    Ok(located)
}

/// What a pick list list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct PickListFilter {
    pub statuses: Vec<PickListStatus>,
    pub warehouse_id: Option<entity::WarehouseId>,
}

/// A page of the organisation's pick lists, newest number last.
pub async fn list(
    db: &TenantDb,
    filter: &PickListFilter,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<pick_list::Model>> {
    let tx = db.read().await?;
    let mut query = pick_list::Entity::find();
    if !filter.statuses.is_empty() {
        query = query.filter(pick_list::Column::Status.is_in(filter.statuses.clone()));
    }
    if let Some(warehouse) = filter.warehouse_id {
        if tx
            .find_by_id::<warehouse::Entity>(warehouse)
            .await?
            .is_none()
        {
            return Err(AppError::NotFound {
                entity: "warehouse",
            });
        }
        query = query.filter(pick_list::Column::WarehouseId.eq(warehouse));
    }
    let columns = vec![pick_list::Column::Number, pick_list::Column::Id];
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

/// Whether `ids` are pick lists of this organisation (for loaders).
pub async fn by_ids(db: &TenantDb, ids: &[PickListId]) -> AppResult<Vec<pick_list::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(pick_list::Entity::find().filter(pick_list::Column::Id.is_in(ids.iter().copied())))
        .await?)
}

/// Allocations by id (for loaders and `node`).
pub async fn allocations(db: &TenantDb, ids: &[AllocationId]) -> AppResult<Vec<allocation::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(allocation::Entity::find().filter(allocation::Column::Id.is_in(ids.iter().copied())))
        .await?)
}
