//! Put-away: moving received goods from the receiving location into storage, one task per
//! receipt line.
//!
//! `receiveGoods` makes the tasks in the receipt's own transaction ([`create_for_receipt`]), each
//! with a suggested location: an active STORAGE or PICKING location of the receipt's warehouse
//! that already holds the product (any lot), the one holding the most, ties broken by code; none
//! when no such location holds it. The suggestion is fixed when the task is made (what the
//! receiving clerk saw); [`live_suggestions`] answers the same question for today's stock.
//!
//! [`put_away`] moves some or all of what is left of a task: one ledger `Move` from the
//! receiving location to an active STORAGE or PICKING location of the same warehouse (the
//! suggestion unless the caller names one). Partial put-aways are allowed: a task stays OPEN until
//! all of it is put away, then becomes DONE (and records when and by whom). DONE is final. There
//! is no CANCELLED: goods that arrived are in the warehouse and have to go somewhere; stock moved
//! out of the receiving location another way shows as a shortfall when the task is put away.
//!
//! Lock order: the idempotency key (claimed by [`ledger::run`]), then the task row (exclusive),
//! so put-aways of one task queue and each sees what the one before it left: two can never put
//! away more than the task holds together. Then the ledger's own order (the product and both
//! locations share-locked, locations in id order; lots; balances), as every posting takes it.
//! Receiving inserts tasks after its postings and never locks one, so it cannot wait on a
//! put-away in a circle.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use entity::{
    LocationId, LocationKind, ProductId, PutAwayStatus, PutAwayTaskId, ReceiptId, WarehouseId,
    location, lot, putaway_task, receipt, receipt_line, stock_balance, warehouse,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use serde_json::json;

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult};
use crate::service::bounds::check_quantity;
use crate::service::ledger::{self, Movement, Posting, lock_locations, posting_product};
use crate::service::lifecycle::Lifecycle;
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::tenancy::{TenantDb, TenantTx};

impl Lifecycle for PutAwayStatus {
    const DOCUMENT: &'static str = "put-away task";

    fn label(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Done => "DONE",
        }
    }

    fn next(self) -> &'static [Self] {
        match self {
            // A partial put-away leaves the task OPEN; the last units make it DONE.
            Self::Open => &[Self::Open, Self::Done],
            Self::Done => &[],
        }
    }
}

/// The only kinds of location goods are put away into.
pub fn is_storage(kind: LocationKind) -> bool {
    match kind {
        LocationKind::Storage | LocationKind::Picking => true,
        LocationKind::Receiving | LocationKind::Shipping | LocationKind::Quarantine => false,
    }
}

/// What a put-away asks for.
#[derive(Clone, Debug)]
pub struct PutAwayInput {
    pub task_id: PutAwayTaskId,
    /// Where to; the task's suggestion when absent.
    pub location_id: Option<LocationId>,
    /// How many base units; all that is left when absent.
    pub quantity: Option<i64>,
    pub idempotency_key: Option<String>,
}

/// What a task list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    pub warehouse_id: Option<WarehouseId>,
    pub status: Option<PutAwayStatus>,
    pub receipt_id: Option<ReceiptId>,
}

/// For each (product, warehouse), the active STORAGE or PICKING location of that warehouse holding
/// the most of the product (all lots together), ties broken by code. One query, however many
/// pairs.
async fn suggest(
    tx: &TenantTx,
    pairs: &[(ProductId, WarehouseId)],
) -> AppResult<HashMap<(ProductId, WarehouseId), location::Model>> {
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let products: BTreeSet<ProductId> = pairs.iter().map(|(p, _)| *p).collect();
    let warehouses: BTreeSet<WarehouseId> = pairs.iter().map(|(_, w)| *w).collect();
    let rows = tx
        .all_with(
            stock_balance::Entity::find()
                .select_also(location::Entity)
                .join(
                    sea_orm::JoinType::InnerJoin,
                    stock_balance::Entity::belongs_to(location::Entity)
                        .from(stock_balance::Column::LocationId)
                        .to(location::Column::Id)
                        .into(),
                )
                .filter(stock_balance::Column::ProductId.is_in(products))
                .filter(stock_balance::Column::OnHand.gt(0))
                .filter(location::Column::WarehouseId.is_in(warehouses))
                .filter(location::Column::IsActive.eq(true))
                .filter(
                    location::Column::Kind.is_in([LocationKind::Storage, LocationKind::Picking]),
                ),
        )
        .await?;
    let mut held: HashMap<(ProductId, LocationId), (i64, location::Model)> = HashMap::new();
    for (balance, location) in rows {
        let Some(location) = location else { continue };
        held.entry((balance.product_id, location.id))
            .or_insert_with(|| (0, location))
            .0 += balance.on_hand;
    }
    let mut best: HashMap<(ProductId, WarehouseId), (i64, location::Model)> = HashMap::new();
    for ((product, _), (on_hand, location)) in held {
        let key = (product, location.warehouse_id);
        let better = best.get(&key).is_none_or(|(most, current)| {
            on_hand > *most || (on_hand == *most && location.code < current.code)
        });
        if better {
            best.insert(key, (on_hand, location));
        }
    }
    Ok(best
        .into_iter()
        .filter(|(key, _)| pairs.contains(key))
        .map(|(key, (_, location))| (key, location))
        .collect())
}

/// Makes one OPEN task per line of a receipt just written, each with its suggested location, in
/// the receipt's transaction. Returns them in line order.
pub(crate) async fn create_for_receipt(
    tx: &mut TenantTx,
    receipt: &receipt::Model,
    lines: &[receipt_line::Model],
) -> AppResult<Vec<putaway_task::Model>> {
    let pairs: Vec<_> = lines
        .iter()
        .map(|line| (line.product_id, receipt.warehouse_id))
        .collect();
    let suggestions = suggest(tx, &pairs).await?;
    let mut tasks = Vec::with_capacity(lines.len());
    for line in lines {
        let suggested = suggestions
            .get(&(line.product_id, receipt.warehouse_id))
            .map(|location| location.id);
        tasks.push(
            tx.insert(putaway_task::ActiveModel {
                id: Set(PutAwayTaskId::generate()),
                tenant_id: Set(tx.tenant()),
                receipt_id: Set(receipt.id),
                receipt_line_id: Set(line.id),
                warehouse_id: Set(receipt.warehouse_id),
                product_id: Set(line.product_id),
                lot_id: Set(line.lot_id),
                from_location_id: Set(receipt.location_id),
                suggested_location_id: Set(suggested),
                quantity: Set(line.quantity),
                quantity_put_away: Set(0),
                status: Set(PutAwayStatus::Open),
                created_at: Set(receipt.received_at),
                updated_at: Set(receipt.received_at),
                completed_at: Set(None),
                completed_by: Set(None),
            })
            .await?,
        );
    }
    Ok(tasks)
}

/// The codes of the locations suggested for these tasks (for the receipt's audit event).
pub(crate) async fn suggested_codes(
    tx: &TenantTx,
    tasks: &[putaway_task::Model],
) -> AppResult<HashMap<LocationId, String>> {
    let ids: BTreeSet<LocationId> = tasks
        .iter()
        .filter_map(|task| task.suggested_location_id)
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(tx
        .all(location::Entity::find().filter(location::Column::Id.is_in(ids)))
        .await?
        .into_iter()
        .map(|location| (location.id, location.code))
        .collect())
}

/// How the request appears in an idempotency fingerprint.
fn request_of(input: &PutAwayInput) -> serde_json::Value {
    json!({
        "task": input.task_id, "location": input.location_id, "quantity": input.quantity,
    })
}

/// Puts away `quantity` (or all that is left) of a task into `location` (or the task's
/// suggestion): one movement from the receiving location, the task's progress, and the audit
/// event `putaway.move` with the task's state before and after, in one transaction. A retry with
/// the same idempotency key moves nothing and answers the task as it now stands.
pub async fn put_away(db: &TenantDb, input: PutAwayInput) -> AppResult<putaway_task::Model> {
    if let Some(quantity) = input.quantity {
        check_quantity("quantity", quantity, 1)?;
    }
    ledger::run(
        db,
        "putaway.move",
        input.idempotency_key.clone(),
        request_of(&input),
        async |tx: &mut TenantTx| build(tx, &input).await,
    )
    .await?;
    get(db, input.task_id).await
}

async fn build(
    tx: &mut TenantTx,
    input: &PutAwayInput,
) -> AppResult<(ledger::StockResult, AuditRecord)> {
    let task = tx
        .one(putaway_task::Entity::find_by_id(input.task_id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound {
            entity: "put-away task",
        })?;
    let receipt = tx
        .find_by_id::<receipt::Entity>(task.receipt_id)
        .await?
        .ok_or_else(|| AppError::Internal("a put-away task has no receipt".into()))?;
    let line_number = tx
        .find_by_id::<receipt_line::Entity>(task.receipt_line_id)
        .await?
        .map_or(0, |line| line.line_number);
    let which = format!("for {} line {line_number}", receipt.number);

    // What moves, and the state it leaves the task in.
    let left = task.quantity - task.quantity_put_away;
    if task.status == PutAwayStatus::Done {
        task.status.ensure_can_become(PutAwayStatus::Done, &which)?;
    }
    let quantity = input.quantity.unwrap_or(left);
    if quantity > left {
        return Err(AppError::Conflict(format!(
            "put-away task {which}: {quantity} asked, only {left} of {} left to put away",
            task.quantity
        )));
    }
    let put_away = task.quantity_put_away + quantity;
    let status = if put_away == task.quantity {
        PutAwayStatus::Done
    } else {
        PutAwayStatus::Open
    };
    task.status.ensure_can_become(status, &which)?;

    let destination = input
        .location_id
        .or(task.suggested_location_id)
        .ok_or_else(|| {
            AppError::bad_input(
                "locationId",
                format!("nothing is suggested for put-away task {which}: name the location"),
            )
        })?;

    // Step 1 of the ledger's lock order: the product, then both locations in id order.
    let product = posting_product(tx, task.product_id).await?;
    let mut locations = lock_locations(tx, [task.from_location_id, destination]).await?;
    let to = locations
        .remove(&destination)
        .ok_or_else(|| AppError::Internal("the destination was not locked".into()))?;
    let from = locations
        .remove(&task.from_location_id)
        .unwrap_or_else(|| to.clone());
    if !is_storage(to.kind) {
        return Err(AppError::bad_input(
            "locationId",
            format!(
                "the location is a {} location: goods are put away into a storage or picking \
                 location",
                to.kind.to_value()
            ),
        ));
    }
    if to.warehouse_id != task.warehouse_id {
        return Err(AppError::bad_input(
            "locationId",
            format!(
                "the location is in another warehouse than the one receipt {} arrived in",
                receipt.number
            ),
        ));
    }
    let lot = match task.lot_id {
        Some(id) => Some(
            tx.find_by_id::<lot::Entity>(id)
                .await?
                .ok_or_else(|| AppError::Internal("a put-away task's lot is missing".into()))?,
        ),
        None => None,
    };
    let sku = product.sku.clone();
    let posted = ledger::post(
        tx,
        vec![Posting {
            product,
            lot: lot.clone(),
            movement: Movement::Move {
                quantity,
                from: from.place(),
                to: to.place(),
            },
            reason: "putaway".into(),
            note: format!("put-away {which}"),
            reverses: None,
        }],
    )
    .await?
    .result;

    let now = Utc::now();
    let (completed_at, completed_by) = match status {
        PutAwayStatus::Done => (Some(now), tx.actor().user_id()),
        PutAwayStatus::Open => (None, None),
    };
    tx.update_many(
        putaway_task::Entity::update_many()
            .col_expr(putaway_task::Column::QuantityPutAway, Expr::value(put_away))
            .col_expr(putaway_task::Column::Status, Expr::value(status))
            .col_expr(putaway_task::Column::UpdatedAt, Expr::value(now))
            .col_expr(putaway_task::Column::CompletedAt, Expr::value(completed_at))
            .col_expr(putaway_task::Column::CompletedBy, Expr::value(completed_by))
            .filter(putaway_task::Column::Id.eq(task.id)),
    )
    .await?;

    let mut record = AuditRecord::new("putaway.move", "putaway_task", task.id).with_change(
        json!({ "status": task.status.to_value(), "quantityPutAway": task.quantity_put_away }),
        json!({ "status": status.to_value(), "quantityPutAway": put_away }),
    );
    record.detail["moved"] = json!({
        "receipt": receipt.number,
        "line": line_number,
        "sku": sku,
        "lot": lot.map(|lot| lot.code),
        "quantity": quantity,
        "from": from.code,
        "to": to.code,
        "suggested": task.suggested_location_id == Some(to.id),
        "movement": posted.movements.first().map(|m| m.id.to_string()),
    });
    Ok((posted, record))
}

/// One task.
pub async fn get(db: &TenantDb, id: PutAwayTaskId) -> AppResult<putaway_task::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<putaway_task::Entity>(id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "put-away task",
        })
}

/// The tasks of these receipts, in line order (tasks are made in line order, and ids are
/// time-ordered).
pub async fn of_receipts(
    db: &TenantDb,
    receipts: &[ReceiptId],
) -> AppResult<Vec<putaway_task::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            putaway_task::Entity::find()
                .filter(putaway_task::Column::ReceiptId.is_in(receipts.iter().copied()))
                .order_by_asc(putaway_task::Column::ReceiptId)
                .order_by_asc(putaway_task::Column::Id),
        )
        .await?)
}

/// Where each (product, warehouse) would be suggested today (see the module doc).
pub async fn live_suggestions(
    db: &TenantDb,
    pairs: &[(ProductId, WarehouseId)],
) -> AppResult<HashMap<(ProductId, WarehouseId), location::Model>> {
    let tx = db.read().await?;
    suggest(&tx, pairs).await
}

/// A page of the organisation's tasks in the order the goods arrived in (newest first when
/// `descending`), narrowed by warehouse, state or receipt. A warehouse or receipt of another
/// organisation is NOT_FOUND.
pub async fn list(
    db: &TenantDb,
    filter: &TaskFilter,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<putaway_task::Model>> {
    let tx = db.read().await?;
    let mut query = putaway_task::Entity::find();
    if let Some(id) = filter.warehouse_id {
        if tx.find_by_id::<warehouse::Entity>(id).await?.is_none() {
            return Err(AppError::NotFound {
                entity: "warehouse",
            });
        }
        query = query.filter(putaway_task::Column::WarehouseId.eq(id));
    }
    if let Some(id) = filter.receipt_id {
        if tx.find_by_id::<receipt::Entity>(id).await?.is_none() {
            return Err(AppError::NotFound { entity: "receipt" });
        }
        query = query.filter(putaway_task::Column::ReceiptId.eq(id));
    }
    if let Some(status) = filter.status {
        query = query.filter(putaway_task::Column::Status.eq(status));
    }
    paging::page(
        &tx,
        query,
        &ListOrder::new(vec![putaway_task::Column::Id], descending),
        request,
    )
    .await
}
