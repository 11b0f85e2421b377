//! Receipts: goods arriving from a supplier into a receiving location, against a purchase order
//! or ad hoc. A receipt posts one ledger movement per line from the supplier account, moves the
//! order's lines and state on, and is written with its lines and audit event in one transaction;
//! its rows are never changed afterwards.
//!
//! Lock order: the idempotency key (claimed by [`ledger::run`]), then the purchase order
//! (exclusive) and its lines (exclusive, in line order), so receipts of one order queue and each
//! sees what the one before it received: two can never over-receive together. Then the ledger's
//! own order (products and the location share-locked, lots, balances), as every posting takes it.
//! Last, one put-away task per line is inserted (`service::putaway`), never locked here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;
use entity::{
    LocationId, LocationKind, ProductId, PurchaseOrderId, PurchaseOrderLineId, PurchaseOrderStatus,
    ReceiptId, ReceiptLineId, SupplierId, lot, organisation, product, purchase_order,
    purchase_order_line, receipt, receipt_line, supplier,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use serde_json::{Value, json};

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult};
use crate::service::bounds::check_quantity;
use crate::service::ledger::{
    self, Locked, LotInput, Movement, NewLots, Place, Posting, check_receivable, find_location,
    lot_request, posting_product, resolve_lot,
};
use crate::service::lifecycle::Lifecycle;
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::{numbering, putaway, text};
use crate::tenancy::{TenantDb, TenantTx};

/// Most lines one receipt may have.
pub const MAX_LINES: usize = 500;

/// One received line as the caller writes it: an order line (on a receipt against an order) or a
/// product (ad hoc), how many arrived, and their lot.
#[derive(Clone, Debug)]
pub struct ReceiveLine {
    pub purchase_order_line_id: Option<PurchaseOrderLineId>,
    pub product_id: Option<ProductId>,
    pub quantity: i64,
    pub lot: Option<LotInput>,
}

/// What arrived, from whom, and where it was put.
#[derive(Clone, Debug)]
pub struct ReceiveInput {
    pub purchase_order_id: Option<PurchaseOrderId>,
    /// Required ad hoc; with an order, if given, it must be the order's.
    pub supplier_id: Option<SupplierId>,
    /// An active RECEIVING location (in the order's warehouse, with an order).
    pub location_id: LocationId,
    pub note: String,
    pub idempotency_key: Option<String>,
    pub lines: Vec<ReceiveLine>,
}

/// What receipt lists may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReceiptOrder {
    #[default]
    Number,
    /// The order they were received in (ids are time-ordered).
    Received,
}

/// What a receipt list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct ReceiptFilter {
    pub purchase_order_id: Option<PurchaseOrderId>,
    pub supplier_id: Option<SupplierId>,
}

fn check_input(input: &ReceiveInput) -> AppResult<String> {
    if input.lines.is_empty() || input.lines.len() > MAX_LINES {
        return Err(AppError::bad_input(
            "lines",
            format!("a receipt has 1 to {MAX_LINES} lines"),
        ));
    }
    for line in &input.lines {
        check_quantity("lines.quantity", line.quantity, 1)?;
        match (input.purchase_order_id, line.purchase_order_line_id) {
            (Some(_), None) => {
                return Err(AppError::bad_input(
                    "lines.purchaseOrderLineId",
                    "a receipt against an order names the order line of each line",
                ));
            }
            (None, Some(_)) => {
                return Err(AppError::bad_input(
                    "lines.purchaseOrderLineId",
                    "an order line needs its order: give purchaseOrderId",
                ));
            }
            (None, None) if line.product_id.is_none() => {
                return Err(AppError::bad_input(
                    "lines.productId",
                    "an ad hoc receipt names the product of each line",
                ));
            }
            _ => {}
        }
    }
    if input.purchase_order_id.is_none() && input.supplier_id.is_none() {
        return Err(AppError::bad_input(
            "supplierId",
            "an ad hoc receipt names its supplier",
        ));
    }
    text::multi_line("note", &input.note, 2000)
}

/// How the request appears in an idempotency fingerprint.
fn request_of(input: &ReceiveInput, note: &str) -> Value {
    json!({
        "order": input.purchase_order_id, "supplier": input.supplier_id,
        "location": input.location_id, "note": note,
        "lines": input.lines.iter().map(|line| json!([
            line.purchase_order_line_id, line.product_id, line.quantity, lot_request(&line.lot),
        ])).collect::<Vec<_>>(),
    })
}

/// The order a receipt is against, locked with its lines.
struct LockedOrder {
    order: purchase_order::Model,
    lines: Vec<purchase_order_line::Model>,
}

async fn lock_order(tx: &TenantTx, id: PurchaseOrderId) -> AppResult<LockedOrder> {
    let order = tx
        .one(purchase_order::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound {
            entity: "purchase order",
        })?;
    // Receiving moves an order to PARTIALLY_RECEIVED (or on to RECEIVED): a DRAFT, RECEIVED or
    // CANCELLED order refuses, naming its state.
    order
        .status
        .ensure_can_become(PurchaseOrderStatus::PartiallyReceived, &order.number)?;
    let lines = tx
        .all(
            purchase_order_line::Entity::find()
                .filter(purchase_order_line::Column::PurchaseOrderId.eq(id))
                .order_by_asc(purchase_order_line::Column::LineNumber)
                .lock_exclusive(),
        )
        .await?;
    Ok(LockedOrder { order, lines })
}

/// The supplier named by id, or CONFLICT if it is archived.
async fn active_supplier(tx: &TenantTx, id: SupplierId) -> AppResult<supplier::Model> {
    let supplier = tx
        .one(supplier::Entity::find_by_id(id).lock_shared())
        .await?
        .ok_or(AppError::NotFound { entity: "supplier" })?;
    if !supplier.is_active {
        return Err(AppError::Conflict(format!(
            "supplier {} is archived",
            supplier.code
        )));
    }
    Ok(supplier)
}

/// At most how many units of a line may have arrived in all, with the tolerance.
fn receivable_limit(ordered: i64, tolerance_percent: i32) -> i64 {
    ordered.saturating_mul(100 + i64::from(tolerance_percent)) / 100
}

/// Receives goods: checks the order (if any), the location and every line, posts one movement
/// per line from the supplier into the location, moves the order's lines and state on, and
/// records the receipt. Audited as `receipt.create`. A retry with the same idempotency key
/// answers the first receipt and moves nothing.
pub async fn receive(
    db: &TenantDb,
    input: ReceiveInput,
) -> AppResult<(receipt::Model, Vec<receipt_line::Model>)> {
    let note = check_input(&input)?;
    let request = request_of(&input, &note);
    let result = ledger::run(
        db,
        "receipt.create",
        input.idempotency_key.clone(),
        request,
        async |tx: &mut TenantTx| build(tx, &input, &note).await,
    )
    .await?;
    let movements: Vec<_> = result.movements.iter().map(|m| m.id).collect();
    by_movements(db, movements).await
}

async fn build(
    tx: &mut TenantTx,
    input: &ReceiveInput,
    note: &str,
) -> AppResult<(ledger::StockResult, AuditRecord)> {
    let order = match input.purchase_order_id {
        Some(id) => Some(lock_order(tx, id).await?),
        None => None,
    };
    let supplier = match (&order, input.supplier_id) {
        (Some(order), given) => {
            if let Some(given) = given
                && given != order.order.supplier_id
            {
                if tx.find_by_id::<supplier::Entity>(given).await?.is_none() {
                    return Err(AppError::NotFound { entity: "supplier" });
                }
                return Err(AppError::bad_input(
                    "supplierId",
                    format!(
                        "purchase order {} is from another supplier",
                        order.order.number
                    ),
                ));
            }
            tx.find_by_id::<supplier::Entity>(order.order.supplier_id)
                .await?
                .ok_or(AppError::NotFound { entity: "supplier" })?
        }
        (None, Some(id)) => active_supplier(tx, id).await?,
        (None, None) => {
            return Err(AppError::bad_input(
                "supplierId",
                "an ad hoc receipt names its supplier",
            ));
        }
    };

    // Each line's order line (if any) and product.
    let order_lines: HashMap<PurchaseOrderLineId, purchase_order_line::Model> = order
        .as_ref()
        .map(|o| o.lines.iter().map(|l| (l.id, l.clone())).collect())
        .unwrap_or_default();
    let mut wanted = Vec::with_capacity(input.lines.len());
    for line in &input.lines {
        let (order_line, product_id) = match line.purchase_order_line_id {
            Some(id) => {
                // Only this order's lines: any other id is missing, whoever it belongs to.
                let order_line = order_lines.get(&id).cloned().ok_or(AppError::NotFound {
                    entity: "purchase order line",
                })?;
                if let Some(product) = line.product_id
                    && product != order_line.product_id
                {
                    return Err(AppError::bad_input(
                        "lines.productId",
                        format!("line {} is of another product", order_line.line_number),
                    ));
                }
                let product = order_line.product_id;
                (Some(order_line), product)
            }
            None => (
                None,
                line.product_id
                    .ok_or_else(|| AppError::bad_input("lines.productId", "name the product"))?,
            ),
        };
        wanted.push((order_line, product_id));
    }

    // Step 1 of the ledger's lock order: the products (in id order), then the location.
    let mut products: BTreeMap<ProductId, Locked<product::Model>> = BTreeMap::new();
    for id in wanted.iter().map(|(_, p)| *p).collect::<BTreeSet<_>>() {
        products.insert(id, posting_product(tx, id).await?);
    }
    let location = find_location(tx, input.location_id).await?;
    match location.kind {
        LocationKind::Receiving => {}
        LocationKind::Storage
        | LocationKind::Picking
        | LocationKind::Shipping
        | LocationKind::Quarantine => {
            return Err(AppError::bad_input(
                "locationId",
                "the location is not a receiving location: goods arrive in one",
            ));
        }
    }
    if let Some(order) = &order
        && order.order.warehouse_id != location.warehouse_id
    {
        return Err(AppError::bad_input(
            "locationId",
            format!(
                "the location is not in the warehouse purchase order {} is for",
                order.order.number
            ),
        ));
    }

    // Lots, and what each order line will have received.
    let mut lots: Vec<Option<lot::Model>> = Vec::with_capacity(input.lines.len());
    let mut arriving: BTreeMap<i32, (purchase_order_line::Model, i64)> = BTreeMap::new();
    for (line, (order_line, product_id)) in input.lines.iter().zip(&wanted) {
        let product = products
            .get(product_id)
            .ok_or_else(|| AppError::Internal("a product was not locked".into()))?;
        check_receivable(product)?;
        lots.push(
            resolve_lot(
                tx,
                product,
                line.lot.clone(),
                ("lines.quantity", line.quantity),
                NewLots::Created,
            )
            .await?,
        );
        if let Some(order_line) = order_line {
            arriving
                .entry(order_line.line_number)
                .or_insert_with(|| (order_line.clone(), 0))
                .1 += line.quantity;
        }
    }
    let mut received: HashMap<PurchaseOrderLineId, i64> = HashMap::new();
    if let Some(order) = &order {
        let tolerance = tx
            .find_by_id::<organisation::Entity>(tx.tenant())
            .await?
            .map_or(0, |o| o.receipt_tolerance_percent);
        for (order_line, quantity) in arriving.values() {
            let total = order_line.quantity_received.saturating_add(*quantity);
            let limit = receivable_limit(order_line.quantity_ordered, tolerance);
            if total > limit {
                let sku = products
                    .get(&order_line.product_id)
                    .map_or("", |p| p.sku.as_str());
                return Err(AppError::Conflict(format!(
                    "line {} ({sku}) of purchase order {}: {} ordered, {} received, {quantity} \
                     more would exceed the limit of {limit} (tolerance {tolerance}%)",
                    order_line.line_number,
                    order.order.number,
                    order_line.quantity_ordered,
                    order_line.quantity_received,
                )));
            }
            received.insert(order_line.id, total);
        }
    }

    // The movements, one per line, in line order.
    let postings: Vec<Posting> = input
        .lines
        .iter()
        .zip(&wanted)
        .zip(&lots)
        .map(|((line, (_, product_id)), lot)| -> AppResult<Posting> {
            Ok(Posting {
                product: products
                    .get(product_id)
                    .cloned()
                    .ok_or_else(|| AppError::Internal("a product was not locked".into()))?,
                lot: lot.clone(),
                movement: Movement::Move {
                    quantity: line.quantity,
                    from: Place::Supplier,
                    to: location.place(),
                },
                reason: "receipt".into(),
                note: note.to_owned(),
                reverses: None,
            })
        })
        .collect::<AppResult<_>>()?;
    let posted = ledger::post(tx, postings).await?.result;

    // The order's lines and state.
    let now = Utc::now();
    let mut order_view = Value::Null;
    if let Some(order) = &order {
        for (id, total) in &received {
            tx.update_many(
                purchase_order_line::Entity::update_many()
                    .col_expr(
                        purchase_order_line::Column::QuantityReceived,
                        Expr::value(*total),
                    )
                    .filter(purchase_order_line::Column::Id.eq(*id)),
            )
            .await?;
        }
        let complete = order.lines.iter().all(|line| {
            received
                .get(&line.id)
                .copied()
                .unwrap_or(line.quantity_received)
                >= line.quantity_ordered
        });
        let status = if complete {
            PurchaseOrderStatus::Received
        } else {
            PurchaseOrderStatus::PartiallyReceived
        };
        order
            .order
            .status
            .ensure_can_become(status, &order.order.number)?;
        tx.update_many(
            purchase_order::Entity::update_many()
                .col_expr(purchase_order::Column::Status, Expr::value(status))
                .col_expr(purchase_order::Column::UpdatedAt, Expr::value(now))
                .filter(purchase_order::Column::Id.eq(order.order.id)),
        )
        .await?;
        order_view = json!({
            "number": order.order.number,
            "statusBefore": order.order.status.to_value(),
            "status": status.to_value(),
        });
    }

    // The receipt and its lines.
    let id = ReceiptId::generate();
    let number = numbering::next(tx, "receipt", "RC").await?;
    let created_by = tx.actor().user_id();
    let stored = tx
        .insert(receipt::ActiveModel {
            id: Set(id),
            tenant_id: Set(tx.tenant()),
            number: Set(number.clone()),
            purchase_order_id: Set(order.as_ref().map(|o| o.order.id)),
            supplier_id: Set(supplier.id),
            warehouse_id: Set(location.warehouse_id),
            location_id: Set(location.id),
            note: Set(note.to_owned()),
            received_at: Set(now),
            created_by: Set(created_by),
        })
        .await?;
    let mut line_views = Vec::with_capacity(input.lines.len());
    let mut stored_lines = Vec::with_capacity(input.lines.len());
    for (line_number, (((line, (order_line, product_id)), lot), movement)) in (1..).zip(
        input
            .lines
            .iter()
            .zip(&wanted)
            .zip(&lots)
            .zip(&posted.movements),
    ) {
        let stored_line = tx
            .insert(receipt_line::ActiveModel {
                id: Set(ReceiptLineId::generate()),
                tenant_id: Set(tx.tenant()),
                receipt_id: Set(stored.id),
                line_number: Set(line_number),
                purchase_order_line_id: Set(order_line.as_ref().map(|l| l.id)),
                product_id: Set(*product_id),
                lot_id: Set(lot.as_ref().map(|l| l.id)),
                quantity: Set(line.quantity),
                movement_id: Set(movement.id),
            })
            .await?;
        stored_lines.push(stored_line);
        line_views.push(json!({
            "line": line_number,
            "orderLine": order_line.as_ref().map(|l| l.line_number),
            "sku": products.get(product_id).map(|p| p.sku.clone()),
            "quantity": line.quantity,
            "lot": lot.as_ref().map(|l| l.code.clone()),
        }));
    }
    // The put-away tasks, one per line, each with its suggestion in the line's audit view.
    let tasks = putaway::create_for_receipt(tx, &stored, &stored_lines).await?;
    let codes = putaway::suggested_codes(tx, &tasks).await?;
    for (view, task) in line_views.iter_mut().zip(&tasks) {
        view["putAwaySuggestion"] = json!(
            task.suggested_location_id
                .and_then(|id| codes.get(&id).cloned())
        );
    }
    let record = AuditRecord::new("receipt.create", "receipt", stored.id).with_change(
        json!(null),
        json!({
            "number": number,
            "purchaseOrder": order_view,
            "supplier": supplier.code,
            "location": location.code,
            "note": note,
            "lines": line_views,
        }),
    );
    Ok((posted, record))
}

/// The receipt that posted these movements (a receipt just made, or the first answer to a retried
/// request), with its lines.
async fn by_movements(
    db: &TenantDb,
    movements: Vec<entity::MovementId>,
) -> AppResult<(receipt::Model, Vec<receipt_line::Model>)> {
    let tx = db.read().await?;
    let line = tx
        .one(receipt_line::Entity::find().filter(receipt_line::Column::MovementId.is_in(movements)))
        .await?
        .ok_or_else(|| AppError::Internal("a receipt's movements have no receipt".into()))?;
    let receipt = tx
        .find_by_id::<receipt::Entity>(line.receipt_id)
        .await?
        .ok_or_else(|| AppError::Internal("a receipt line has no receipt".into()))?;
    drop(tx);
    let lines = lines_of(db, &[receipt.id]).await?;
    Ok((receipt, lines))
}

/// One receipt.
pub async fn get(db: &TenantDb, id: ReceiptId) -> AppResult<receipt::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<receipt::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "receipt" })
}

/// The lines of these receipts, in line order.
pub async fn lines_of(
    db: &TenantDb,
    receipts: &[ReceiptId],
) -> AppResult<Vec<receipt_line::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            receipt_line::Entity::find()
                .filter(receipt_line::Column::ReceiptId.is_in(receipts.iter().copied()))
                .order_by_asc(receipt_line::Column::ReceiptId)
                .order_by_asc(receipt_line::Column::LineNumber),
        )
        .await?)
}

/// The receipts of these purchase orders, oldest first.
pub async fn of_orders(
    db: &TenantDb,
    orders: &[PurchaseOrderId],
) -> AppResult<Vec<receipt::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            receipt::Entity::find()
                .filter(receipt::Column::PurchaseOrderId.is_in(orders.iter().copied()))
                .order_by_asc(receipt::Column::Id),
        )
        .await?)
}

/// A page of the organisation's receipts.
pub async fn list(
    db: &TenantDb,
    filter: &ReceiptFilter,
    order: ReceiptOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<receipt::Model>> {
    let tx = db.read().await?;
    let mut query = receipt::Entity::find();
    if let Some(order) = filter.purchase_order_id {
        if tx
            .find_by_id::<purchase_order::Entity>(order)
            .await?
            .is_none()
        {
            return Err(AppError::NotFound {
                entity: "purchase order",
            });
        }
        query = query.filter(receipt::Column::PurchaseOrderId.eq(order));
    }
    if let Some(supplier) = filter.supplier_id {
        if tx.find_by_id::<supplier::Entity>(supplier).await?.is_none() {
            return Err(AppError::NotFound { entity: "supplier" });
        }
        query = query.filter(receipt::Column::SupplierId.eq(supplier));
    }
    let columns = match order {
        ReceiptOrder::Number => vec![receipt::Column::Number, receipt::Column::Id],
        ReceiptOrder::Received => vec![receipt::Column::Id],
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}
