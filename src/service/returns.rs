//! Customer returns: goods a customer sends back against a DISPATCHED sales order.
//!
//! A return is received into a QUARANTINE location of the order's warehouse: each line names an
//! order line (and, for a tracked product, a lot that was dispatched for it), and posts one
//! movement from the customer account into quarantine. An order line never takes back more than
//! was dispatched for it (nor a lot more than was dispatched of that lot), summed over every
//! return of the order. Then each line is dispositioned, in as many steps as needed: units are
//! restocked (moved to a STORAGE or PICKING location of the warehouse) or scrapped (moved to the
//! scrap account), never more than are still in quarantine for that line. The return goes
//! RECEIVED → PARTIALLY_DISPOSITIONED → CLOSED as its lines are dispositioned.
//!
//! Lock order, receiving: the idempotency key (claimed by [`ledger::run`]), the sales order
//! (exclusive, as every writer of the order takes it), so two returns of one order queue and the
//! second sees what the first took back; then the ledger's order (products, the location, lots,
//! balances). Dispositioning: the idempotency key, the return (exclusive), so dispositions of
//! one return queue; then the ledger's order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;
use entity::{
    AllocationStatus, CustomerReturnId, CustomerReturnLineId, CustomerReturnStatus, LocationId,
    LocationKind, LotId, MovementId, ProductId, SalesOrderId, SalesOrderLineId, SalesOrderStatus,
    Tracking, WarehouseId, allocation, customer_return, customer_return_line, lot, product,
    sales_order, sales_order_line,
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
    self, Locked, Movement, Place, Posting, find_location, lock_locations, lots_by_id,
    posting_product,
};
use crate::service::lifecycle::Lifecycle;
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::{numbering, selling, text};
use crate::tenancy::{TenantDb, TenantTx};

/// Most lines one return may have.
pub const MAX_LINES: usize = 500;

impl Lifecycle for CustomerReturnStatus {
    const DOCUMENT: &'static str = "customer return";

    fn label(self) -> &'static str {
        match self {
            Self::Received => "RECEIVED",
            Self::PartiallyDispositioned => "PARTIALLY_DISPOSITIONED",
            Self::Closed => "CLOSED",
        }
    }

    fn next(self) -> &'static [Self] {
        use CustomerReturnStatus::*;
        match self {
            // A first disposition may settle every line at once.
            Received => &[PartiallyDispositioned, Closed],
            PartiallyDispositioned => &[Closed],
            Closed => &[],
        }
    }
}

/// One returned line as the caller writes it.
#[derive(Clone, Debug)]
pub struct ReturnLineInput {
    pub sales_order_line_id: SalesOrderLineId,
    pub quantity: i64,
    /// Required for lot- and serial-tracked products: a lot dispatched for the line.
    pub lot_code: Option<String>,
}

/// What came back, against which order, and where it was put.
#[derive(Clone, Debug)]
pub struct ReceiveReturnInput {
    pub sales_order_id: SalesOrderId,
    /// An active QUARANTINE location of the order's warehouse.
    pub location_id: LocationId,
    pub reason: String,
    pub note: String,
    pub idempotency_key: Option<String>,
    pub lines: Vec<ReturnLineInput>,
}

/// Units of a return line put back into stock.
#[derive(Clone, Copy, Debug)]
pub struct Restock {
    pub quantity: i64,
    /// An active STORAGE or PICKING location of the return's warehouse.
    pub location_id: LocationId,
}

/// What becomes of some of a return line's units.
#[derive(Clone, Debug)]
pub struct DispositionInput {
    pub return_line_id: CustomerReturnLineId,
    pub restock: Option<Restock>,
    /// Units scrapped.
    pub scrap: Option<i64>,
    pub idempotency_key: Option<String>,
}

/// What a return list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct ReturnFilter {
    /// Any of these states (every state when empty).
    pub statuses: Vec<CustomerReturnStatus>,
    pub sales_order_id: Option<SalesOrderId>,
}

/// What return lists may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReturnOrder {
    #[default]
    Number,
    /// The order they were received in (ids are time-ordered).
    Received,
}

fn check_receive(input: &ReceiveReturnInput) -> AppResult<(String, String)> {
    if input.lines.is_empty() || input.lines.len() > MAX_LINES {
        return Err(AppError::bad_input(
            "lines",
            format!("a return has 1 to {MAX_LINES} lines"),
        ));
    }
    for line in &input.lines {
        check_quantity("lines.quantity", line.quantity, 1)?;
    }
    let reason = text::single_line("reason", &input.reason, 200)?;
    let note = text::multi_line("note", &input.note, 2000)?;
    Ok((reason, note))
}

/// Receives a return into quarantine: checks the order (DISPATCHED), the location and every
/// line against what was dispatched and already returned, posts one movement per line from the
/// customer account, and records the return. Audited as `customer_return.receive`. A retry with
/// the same idempotency key answers the first return and moves nothing.
pub async fn receive(
    db: &TenantDb,
    input: ReceiveReturnInput,
) -> AppResult<(customer_return::Model, Vec<customer_return_line::Model>)> {
    let (reason, note) = check_receive(&input)?;
    let request = json!({
        "order": input.sales_order_id, "location": input.location_id,
        "reason": reason, "note": note,
        "lines": input.lines.iter().map(|line| json!([
            line.sales_order_line_id, line.quantity, line.lot_code,
        ])).collect::<Vec<_>>(),
    });
    let result = ledger::run(
        db,
        "customer_return.receive",
        input.idempotency_key.clone(),
        request,
        async |tx: &mut TenantTx| build_receive(tx, &input, &reason, &note).await,
    )
    .await?;
    let movements: Vec<MovementId> = result.movements.iter().map(|m| m.id).collect();
    by_movements(db, movements).await
}

/// Per (order line, lot or none): how many units were dispatched.
type Dispatched = HashMap<(SalesOrderLineId, Option<LotId>), i64>;

/// What was dispatched of each order line, by lot, from the order's dispatched picks.
async fn dispatched_of(
    tx: &TenantTx,
    order: SalesOrderId,
) -> AppResult<(Dispatched, Vec<allocation::Model>)> {
    let picks = tx
        .all(
            allocation::Entity::find()
                .filter(allocation::Column::SalesOrderId.eq(order))
                .filter(allocation::Column::Status.eq(AllocationStatus::Dispatched))
                .order_by_asc(allocation::Column::Id),
        )
        .await?;
    let mut sent = Dispatched::new();
    for pick in &picks {
        *sent
            .entry((pick.sales_order_line_id, pick.lot_id))
            .or_default() += pick.quantity_picked;
    }
    Ok((sent, picks))
}

/// What every earlier return of the order took back, per (order line, lot or none).
async fn returned_of(tx: &TenantTx, order: SalesOrderId) -> AppResult<Dispatched> {
    let returns: Vec<CustomerReturnId> = tx
        .all(
            customer_return::Entity::find().filter(customer_return::Column::SalesOrderId.eq(order)),
        )
        .await?
        .into_iter()
        .map(|found| found.id)
        .collect();
    let mut back = Dispatched::new();
    if returns.is_empty() {
        return Ok(back);
    }
    for line in tx
        .all(
            customer_return_line::Entity::find()
                .filter(customer_return_line::Column::CustomerReturnId.is_in(returns)),
        )
        .await?
    {
        *back
            .entry((line.sales_order_line_id, line.lot_id))
            .or_default() += line.quantity_returned;
    }
    Ok(back)
}

/// A line checked against its order line, with its lot.
struct CheckedLine<'a> {
    input: &'a ReturnLineInput,
    order_line: sales_order_line::Model,
    lot: Option<lot::Model>,
}

async fn build_receive(
    tx: &mut TenantTx,
    input: &ReceiveReturnInput,
    reason: &str,
    note: &str,
) -> AppResult<(ledger::StockResult, AuditRecord)> {
    let order = selling::lock(tx, input.sales_order_id).await?;
    if order.status != SalesOrderStatus::Dispatched {
        return Err(AppError::Conflict(format!(
            "sales order {} is {}: only a DISPATCHED order takes returns",
            order.number,
            order.status.label()
        )));
    }
    let order_lines: HashMap<SalesOrderLineId, sales_order_line::Model> =
        selling::lines_in(tx, order.id)
            .await?
            .into_iter()
            .map(|line| (line.id, line))
            .collect();
    let wanted: Vec<sales_order_line::Model> = input
        .lines
        .iter()
        .map(|line| {
            // Only this order's lines: any other id is missing, whoever it belongs to.
            order_lines
                .get(&line.sales_order_line_id)
                .cloned()
                .ok_or(AppError::NotFound {
                    entity: "sales order line",
                })
        })
        .collect::<AppResult<_>>()?;

    // Step 1 of the ledger's lock order: the products (in id order), then the location.
    let mut products: BTreeMap<ProductId, Locked<product::Model>> = BTreeMap::new();
    for id in wanted.iter().map(|l| l.product_id).collect::<BTreeSet<_>>() {
        products.insert(id, posting_product(tx, id).await?);
    }
    let location = find_location(tx, input.location_id).await?;
    check_place(
        &location,
        "locationId",
        location.kind == LocationKind::Quarantine,
        "a quarantine location: returns arrive in one",
        (order.warehouse_id, &format!("sales order {}", order.number)),
    )?;

    // Each line's lot: one of those dispatched for its order line.
    let (dispatched, picks) = dispatched_of(tx, order.id).await?;
    let lots = lots_by_id(tx, picks.iter().filter_map(|p| p.lot_id)).await?;
    let mut checked = Vec::with_capacity(input.lines.len());
    for (line, order_line) in input.lines.iter().zip(wanted) {
        let product = products
            .get(&order_line.product_id)
            .ok_or_else(|| AppError::Internal("a product was not locked".into()))?;
        let lot = match (product.tracking, &line.lot_code) {
            (Tracking::None, None) => None,
            (Tracking::None, Some(_)) => {
                return Err(AppError::bad_input(
                    "lines.lotCode",
                    format!("{} is not lot-tracked", product.sku),
                ));
            }
            (Tracking::Lot | Tracking::Serial, None) => {
                return Err(AppError::bad_input(
                    "lines.lotCode",
                    format!("{} is tracked: name the lot that came back", product.sku),
                ));
            }
            (Tracking::Lot | Tracking::Serial, Some(code)) => {
                let code = code.trim();
                let found = picks
                    .iter()
                    .filter(|p| p.sales_order_line_id == order_line.id)
                    .filter_map(|p| p.lot_id.and_then(|id| lots.get(&id)))
                    .find(|lot| lot.code == code)
                    .cloned();
                Some(found.ok_or_else(|| {
                    AppError::bad_input(
                        "lines.lotCode",
                        format!(
                            "lot {code} of {} was not dispatched on line {} of sales order {}",
                            product.sku, order_line.line_number, order.number
                        ),
                    )
                })?)
            }
        };
        checked.push(CheckedLine {
            input: line,
            order_line,
            lot,
        });
    }

    // Never more back than went out: per order line, and per lot of a tracked line.
    let returned = returned_of(tx, order.id).await?;
    let mut asked_line: BTreeMap<i32, i64> = BTreeMap::new();
    let mut asked_lot: HashMap<(SalesOrderLineId, Option<LotId>), i64> = HashMap::new();
    for line in &checked {
        *asked_line.entry(line.order_line.line_number).or_default() += line.input.quantity;
        *asked_lot
            .entry((line.order_line.id, line.lot.as_ref().map(|l| l.id)))
            .or_default() += line.input.quantity;
    }
    for line in &checked {
        let order_line = &line.order_line;
        let sku = products
            .get(&order_line.product_id)
            .map_or("", |p| p.sku.as_str());
        let back: i64 = returned
            .iter()
            .filter(|((id, _), _)| *id == order_line.id)
            .map(|(_, quantity)| quantity)
            .sum();
        let asked = asked_line
            .get(&order_line.line_number)
            .copied()
            .unwrap_or(0);
        let limit = order_line.quantity_dispatched - back;
        if asked > limit {
            return Err(AppError::Conflict(format!(
                "line {} ({sku}) of sales order {}: {} dispatched, {back} returned already: at \
                 most {limit} more may come back, not {asked}",
                order_line.line_number, order.number, order_line.quantity_dispatched,
            )));
        }
        if let Some(lot) = &line.lot {
            let key = (order_line.id, Some(lot.id));
            let sent = dispatched.get(&key).copied().unwrap_or(0);
            let back = returned.get(&key).copied().unwrap_or(0);
            let asked = asked_lot.get(&key).copied().unwrap_or(0);
            if asked > sent - back {
                return Err(AppError::Conflict(format!(
                    "line {} ({sku}) of sales order {}: {sent} of lot {} dispatched, {back} \
                     returned already: at most {} more may come back, not {asked}",
                    order_line.line_number,
                    order.number,
                    lot.code,
                    sent - back,
                )));
            }
        }
    }

    // The return, then one movement and one line per input line.
    let number = numbering::next(tx, "customer_return", "RT").await?;
    let postings = checked
        .iter()
        .map(|line| -> AppResult<Posting> {
            Ok(Posting {
                product: products
                    .get(&line.order_line.product_id)
                    .cloned()
                    .ok_or_else(|| AppError::Internal("a product was not locked".into()))?,
                lot: line.lot.clone(),
                movement: Movement::Move {
                    quantity: line.input.quantity,
                    from: Place::Customer,
                    to: location.place(),
                },
                reason: "return".into(),
                note: number.clone(),
                reverses: None,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let posted = ledger::post(tx, postings).await?.result;
    let now = Utc::now();
    let created_by = tx.actor().user_id();
    let stored = tx
        .insert(customer_return::ActiveModel {
            id: Set(CustomerReturnId::generate()),
            tenant_id: Set(tx.tenant()),
            number: Set(number.clone()),
            sales_order_id: Set(order.id),
            warehouse_id: Set(order.warehouse_id),
            location_id: Set(location.id),
            status: Set(CustomerReturnStatus::Received),
            reason: Set(reason.to_owned()),
            note: Set(note.to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(created_by),
        })
        .await?;
    let mut views = Vec::with_capacity(checked.len());
    for (line_number, (line, movement)) in (1..).zip(checked.iter().zip(&posted.movements)) {
        tx.insert(customer_return_line::ActiveModel {
            id: Set(CustomerReturnLineId::generate()),
            tenant_id: Set(tx.tenant()),
            customer_return_id: Set(stored.id),
            line_number: Set(line_number),
            sales_order_line_id: Set(line.order_line.id),
            product_id: Set(line.order_line.product_id),
            lot_id: Set(line.lot.as_ref().map(|l| l.id)),
            quantity_returned: Set(line.input.quantity),
            quantity_restocked: Set(0),
            quantity_scrapped: Set(0),
            movement_id: Set(movement.id),
        })
        .await?;
        views.push(json!({
            "line": line_number,
            "orderLine": line.order_line.line_number,
            "sku": products.get(&line.order_line.product_id).map(|p| p.sku.clone()),
            "lot": line.lot.as_ref().map(|l| l.code.clone()),
            "quantity": line.input.quantity,
        }));
    }
    let record = AuditRecord::new("customer_return.receive", "customer_return", stored.id)
        .with_change(
            json!(null),
            json!({
                "number": number,
                "salesOrder": order.number,
                "location": location.code,
                "status": stored.status.to_value(),
                "reason": reason,
                "note": note,
                "lines": views,
            }),
        );
    Ok((posted, record))
}

/// The return that posted these movements (one just received, or the first answer to a retried
/// request), with its lines.
async fn by_movements(
    db: &TenantDb,
    movements: Vec<MovementId>,
) -> AppResult<(customer_return::Model, Vec<customer_return_line::Model>)> {
    let tx = db.read().await?;
    let line = tx
        .one(
            customer_return_line::Entity::find()
                .filter(customer_return_line::Column::MovementId.is_in(movements)),
        )
        .await?
        .ok_or_else(|| AppError::Internal("a return's movements have no return".into()))?;
    drop(tx);
    with_lines(db, line.customer_return_id).await
}

async fn with_lines(
    db: &TenantDb,
    id: CustomerReturnId,
) -> AppResult<(customer_return::Model, Vec<customer_return_line::Model>)> {
    let found = get(db, id).await?;
    let lines = lines_of(db, &[id]).await?;
    Ok((found, lines))
}

/// BAD_USER_INPUT on `field` unless the location is of the kind wanted (`fits`, `wanted` saying
/// which) and in the warehouse of the document.
fn check_place(
    location: &entity::location::Model,
    field: &'static str,
    fits: bool,
    wanted: &str,
    (warehouse, document): (WarehouseId, &str),
) -> AppResult<()> {
    if !fits {
        return Err(AppError::bad_input(
            field,
            format!("the location is not {wanted}"),
        ));
    }
    if location.warehouse_id != warehouse {
        return Err(AppError::bad_input(
            field,
            format!("the location is not in the warehouse of {document}"),
        ));
    }
    Ok(())
}

fn check_disposition(input: &DispositionInput) -> AppResult<()> {
    if input.restock.is_none() && input.scrap.is_none() {
        return Err(AppError::bad_input(
            "restock",
            "say what becomes of the units: restock, scrap or both",
        ));
    }
    if let Some(restock) = &input.restock {
        check_quantity("restock.quantity", restock.quantity, 1)?;
    }
    if let Some(scrap) = input.scrap {
        check_quantity("scrap.quantity", scrap, 1)?;
    }
    Ok(())
}

/// Dispositions some of a return line's units still in quarantine: restocked into a STORAGE or
/// PICKING location of the warehouse, scrapped, or both; the return becomes
/// PARTIALLY_DISPOSITIONED, or CLOSED once every unit of every line is settled. Audited as
/// `customer_return.disposition`. A retry with the same idempotency key moves nothing and
/// answers the return as it is.
pub async fn disposition(
    db: &TenantDb,
    input: DispositionInput,
) -> AppResult<(customer_return::Model, Vec<customer_return_line::Model>)> {
    check_disposition(&input)?;
    let request = json!({
        "line": input.return_line_id,
        "restock": input.restock.map(|r| json!([r.quantity, r.location_id])),
        "scrap": input.scrap,
    });
    ledger::run(
        db,
        "customer_return.disposition",
        input.idempotency_key.clone(),
        request,
        async |tx: &mut TenantTx| build_disposition(tx, &input).await,
    )
    .await?;
    let line = {
        let tx = db.read().await?;
        tx.find_by_id::<customer_return_line::Entity>(input.return_line_id)
            .await?
            .ok_or(AppError::NotFound {
                entity: "customer return line",
            })?
    };
    with_lines(db, line.customer_return_id).await
}

async fn build_disposition(
    tx: &mut TenantTx,
    input: &DispositionInput,
) -> AppResult<(ledger::StockResult, AuditRecord)> {
    let missing = AppError::NotFound {
        entity: "customer return line",
    };
    let line = tx
        .find_by_id::<customer_return_line::Entity>(input.return_line_id)
        .await?
        .ok_or(missing)?;
    let before = tx
        .one(customer_return::Entity::find_by_id(line.customer_return_id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound {
            entity: "customer return",
        })?;
    // Read again under the return's lock: another disposition may have settled units meanwhile.
    let lines = tx
        .all(
            customer_return_line::Entity::find()
                .filter(customer_return_line::Column::CustomerReturnId.eq(before.id))
                .order_by_asc(customer_return_line::Column::LineNumber),
        )
        .await?;
    let line = lines
        .iter()
        .find(|l| l.id == input.return_line_id)
        .cloned()
        .ok_or_else(|| AppError::Internal("a return line left its return".into()))?;
    let restocking = input.restock.map_or(0, |r| r.quantity);
    let scrapping = input.scrap.unwrap_or(0);
    let left = line.quantity_returned - line.quantity_restocked - line.quantity_scrapped;
    let asked = restocking + scrapping;
    if asked > left {
        return Err(AppError::Conflict(format!(
            "line {} of customer return {}: {} returned, {} restocked, {} scrapped: {left} \
             left in quarantine, not {asked}",
            line.line_number,
            before.number,
            line.quantity_returned,
            line.quantity_restocked,
            line.quantity_scrapped,
        )));
    }

    // Step 1 of the ledger's lock order: the product, then the locations in id order.
    let product = posting_product(tx, line.product_id).await?;
    let locations = lock_locations(
        tx,
        std::iter::once(before.location_id).chain(input.restock.map(|r| r.location_id)),
    )
    .await?;
    let quarantine = locations
        .get(&before.location_id)
        .ok_or_else(|| AppError::Internal("the quarantine location was not locked".into()))?;
    let lot = match line.lot_id {
        Some(id) => lots_by_id(tx, [id]).await?.remove(&id),
        None => None,
    };
    let mut postings = Vec::with_capacity(2);
    let mut restocked_into = None;
    if let Some(restock) = input.restock {
        let to = locations
            .get(&restock.location_id)
            .ok_or_else(|| AppError::Internal("the restock location was not locked".into()))?;
        check_place(
            to,
            "restock.locationId",
            matches!(to.kind, LocationKind::Storage | LocationKind::Picking),
            "a storage or picking location: restocked goods go into one",
            (
                before.warehouse_id,
                &format!("customer return {}", before.number),
            ),
        )?;
        restocked_into = Some(to.code.clone());
        postings.push(Posting {
            product: product.clone(),
            lot: lot.clone(),
            movement: Movement::Move {
                quantity: restock.quantity,
                from: quarantine.place(),
                to: to.place(),
            },
            reason: "restock".into(),
            note: before.number.clone(),
            reverses: None,
        });
    }
    if let Some(quantity) = input.scrap {
        postings.push(Posting {
            product: product.clone(),
            lot,
            movement: Movement::Move {
                quantity,
                from: quarantine.place(),
                to: Place::Scrap,
            },
            reason: "scrap".into(),
            note: before.number.clone(),
            reverses: None,
        });
    }
    let posted = ledger::post(tx, postings).await?.result;

    let restocked = line.quantity_restocked + restocking;
    let scrapped = line.quantity_scrapped + scrapping;
    tx.update_many(
        customer_return_line::Entity::update_many()
            .col_expr(
                customer_return_line::Column::QuantityRestocked,
                Expr::value(restocked),
            )
            .col_expr(
                customer_return_line::Column::QuantityScrapped,
                Expr::value(scrapped),
            )
            .filter(customer_return_line::Column::Id.eq(line.id)),
    )
    .await?;
    let settled = lines.iter().all(|l| {
        if l.id == line.id {
            restocked + scrapped == l.quantity_returned
        } else {
            l.quantity_restocked + l.quantity_scrapped == l.quantity_returned
        }
    });
    let status = if settled {
        CustomerReturnStatus::Closed
    } else {
        CustomerReturnStatus::PartiallyDispositioned
    };
    if status != before.status {
        before.status.ensure_can_become(status, &before.number)?;
        tx.update_many(
            customer_return::Entity::update_many()
                .col_expr(customer_return::Column::Status, Expr::value(status))
                .col_expr(customer_return::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(customer_return::Column::Id.eq(before.id)),
        )
        .await?;
    }
    let record = AuditRecord::new("customer_return.disposition", "customer_return", before.id)
        .with_change(
            line_view(&before, &line, before.status),
            json!({
                "number": before.number,
                "status": status.to_value(),
                "line": line.line_number,
                "sku": product.sku,
                "restocked": restocked,
                "scrapped": scrapped,
                "restockedNow": restocking,
                "restockedInto": restocked_into,
                "scrappedNow": scrapping,
            }),
        );
    Ok((posted, record))
}

fn line_view(
    document: &customer_return::Model,
    line: &customer_return_line::Model,
    status: CustomerReturnStatus,
) -> Value {
    json!({
        "number": document.number,
        "status": status.to_value(),
        "line": line.line_number,
        "returned": line.quantity_returned,
        "restocked": line.quantity_restocked,
        "scrapped": line.quantity_scrapped,
    })
}

/// One return.
pub async fn get(db: &TenantDb, id: CustomerReturnId) -> AppResult<customer_return::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<customer_return::Entity>(id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "customer return",
        })
}

/// The customer returns booked against these sales orders, oldest first.
pub async fn of_orders(
    db: &TenantDb,
    orders: &[SalesOrderId],
) -> AppResult<Vec<customer_return::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            customer_return::Entity::find()
                .filter(customer_return::Column::SalesOrderId.is_in(orders.iter().copied()))
                .order_by_asc(customer_return::Column::Id),
        )
        .await?)
}

/// The lines of these returns, in line order.
pub async fn lines_of(
    db: &TenantDb,
    returns: &[CustomerReturnId],
) -> AppResult<Vec<customer_return_line::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            customer_return_line::Entity::find()
                .filter(
                    customer_return_line::Column::CustomerReturnId.is_in(returns.iter().copied()),
                )
                .order_by_asc(customer_return_line::Column::CustomerReturnId)
                .order_by_asc(customer_return_line::Column::LineNumber),
        )
        .await?)
}

/// A page of the organisation's returns.
pub async fn list(
    db: &TenantDb,
    filter: &ReturnFilter,
    order: ReturnOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<customer_return::Model>> {
    let tx = db.read().await?;
    let mut query = customer_return::Entity::find();
    if !filter.statuses.is_empty() {
        query = query.filter(customer_return::Column::Status.is_in(filter.statuses.clone()));
    }
    if let Some(order) = filter.sales_order_id {
        if tx.find_by_id::<sales_order::Entity>(order).await?.is_none() {
            return Err(AppError::NotFound {
                entity: "sales order",
            });
        }
        query = query.filter(customer_return::Column::SalesOrderId.eq(order));
    }
    let columns = match order {
        ReturnOrder::Number => vec![customer_return::Column::Number, customer_return::Column::Id],
        ReturnOrder::Received => vec![customer_return::Column::Id],
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}
