//! Purchase orders: what is ordered from a supplier, for which warehouse, and by when.
//!
//! An order is written as a draft (its supplier, warehouse, dates, note and lines may change),
//! placed (ORDERED: goods are expected), then received line by line by receipts
//! (PARTIALLY_RECEIVED, RECEIVED) or cancelled. Only a draft changes; placed lines are the
//! supplier's promise and stay as they were sent.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::{
    ProductId, PurchaseOrderId, PurchaseOrderLineId, PurchaseOrderStatus, SupplierId, WarehouseId,
    product, purchase_order, purchase_order_line, supplier, warehouse,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr, sea_query::ExprTrait,
};
use serde_json::{Value, json};

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult};
use crate::service::lifecycle::Lifecycle;
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::{bounds, numbering, text};
use crate::tenancy::{TenantDb, TenantTx};

/// Most lines one order may have.
pub const MAX_LINES: usize = 500;

impl Lifecycle for PurchaseOrderStatus {
    const DOCUMENT: &'static str = "purchase order";

    fn label(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Ordered => "ORDERED",
            Self::PartiallyReceived => "PARTIALLY_RECEIVED",
            Self::Received => "RECEIVED",
            Self::Cancelled => "CANCELLED",
        }
    }

    fn next(self) -> &'static [Self] {
        use PurchaseOrderStatus::*;
        match self {
            Draft => &[Ordered, Cancelled],
            // Receipts move an order on; cancelling a partly received order closes what is left.
            Ordered => &[PartiallyReceived, Received, Cancelled],
            PartiallyReceived => &[PartiallyReceived, Received, Cancelled],
            Received | Cancelled => &[],
        }
    }
}

/// One line as the caller writes it.
#[derive(Clone, Debug)]
pub struct LineInput {
    pub product_id: ProductId,
    pub quantity: i64,
    pub expected_on: Option<NaiveDate>,
}

/// A whole draft: what `create` makes and `update_draft` replaces.
#[derive(Clone, Debug)]
pub struct DraftInput {
    pub supplier_id: SupplierId,
    pub warehouse_id: WarehouseId,
    pub expected_on: Option<NaiveDate>,
    pub note: String,
    pub lines: Vec<LineInput>,
}

/// What a purchase order list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    /// Any of these states (every state when empty).
    pub statuses: Vec<PurchaseOrderStatus>,
    pub supplier_id: Option<SupplierId>,
    pub warehouse_id: Option<WarehouseId>,
    /// Orders expected on or before this day (what is due to arrive); orders without an
    /// expected date are left out.
    pub expected_by: Option<NaiveDate>,
    /// Part of the number, case-insensitive.
    pub search: Option<String>,
}

/// What purchase order lists may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrderOrder {
    #[default]
    Number,
    /// Creation order (ids are time-ordered).
    Created,
    /// The expected day, then the number; orders without an expected date are left out.
    ExpectedOn,
}

/// The draft's references, checked and share-locked against being archived meanwhile.
struct CheckedDraft {
    supplier: supplier::Model,
    warehouse: warehouse::Model,
    expected_on: Option<NaiveDate>,
    note: String,
    lines: Vec<(product::Model, LineInput)>,
}

async fn check_draft(tx: &TenantTx, input: DraftInput) -> AppResult<CheckedDraft> {
    if input.lines.is_empty() || input.lines.len() > MAX_LINES {
        return Err(AppError::bad_input(
            "lines",
            format!("an order has 1 to {MAX_LINES} lines"),
        ));
    }
    if let Some(day) = input.expected_on {
        bounds::check_day("expectedOn", day)?;
    }
    let note = text::multi_line("note", &input.note, 2000)?;
    let mut seen = HashSet::new();
    for line in &input.lines {
        bounds::check_quantity("lines.quantity", line.quantity, 1)?;
        if let Some(day) = line.expected_on {
            bounds::check_day("lines.expectedOn", day)?;
        }
        if !seen.insert(line.product_id) {
            return Err(AppError::bad_input(
                "lines.productId",
                "each product may be on an order once; add the quantities together",
            ));
        }
    }
    let supplier = tx
        .one(supplier::Entity::find_by_id(input.supplier_id).lock_shared())
        .await?
        .ok_or(AppError::NotFound { entity: "supplier" })?;
    if !supplier.is_active {
        return Err(AppError::Conflict(format!(
            "supplier {} is archived",
            supplier.code
        )));
    }
    let warehouse = tx
        .one(warehouse::Entity::find_by_id(input.warehouse_id).lock_shared())
        .await?
        .ok_or(AppError::NotFound {
            entity: "warehouse",
        })?;
    if !warehouse.is_active {
        return Err(AppError::Conflict(format!(
            "warehouse {} is archived",
            warehouse.code
        )));
    }
    let ids: Vec<ProductId> = input.lines.iter().map(|line| line.product_id).collect();
    let products: HashMap<ProductId, product::Model> = tx
        .all(
            product::Entity::find()
                .filter(product::Column::Id.is_in(ids))
                .order_by_asc(product::Column::Id)
                .lock_shared(),
        )
        .await?
        .into_iter()
        .map(|product| (product.id, product))
        .collect();
    let mut lines = Vec::with_capacity(input.lines.len());
    for line in input.lines {
        let product = products
            .get(&line.product_id)
            .cloned()
            .ok_or(AppError::NotFound { entity: "product" })?;
        if !product.is_active {
            return Err(AppError::Conflict(format!(
                "product {} is archived",
                product.sku
            )));
        }
        lines.push((product, line));
    }
    Ok(CheckedDraft {
        supplier,
        warehouse,
        expected_on: input.expected_on,
        note,
        lines,
    })
}

async fn insert_lines(
    tx: &mut TenantTx,
    order: PurchaseOrderId,
    lines: &[(product::Model, LineInput)],
) -> AppResult<Vec<purchase_order_line::Model>> {
    let mut stored = Vec::with_capacity(lines.len());
    for (number, (product, line)) in (1..).zip(lines) {
        stored.push(
            tx.insert(purchase_order_line::ActiveModel {
                id: Set(PurchaseOrderLineId::generate()),
                tenant_id: Set(tx.tenant()),
                purchase_order_id: Set(order),
                line_number: Set(number),
                product_id: Set(product.id),
                quantity_ordered: Set(line.quantity),
                quantity_received: Set(0),
                expected_on: Set(line.expected_on),
            })
            .await?,
        );
    }
    Ok(stored)
}

/// The order as its audit events show it: codes people know, not ids.
fn view(
    order: &purchase_order::Model,
    supplier: &str,
    warehouse: &str,
    lines: &[(&str, &purchase_order_line::Model)],
) -> Value {
    json!({
        "number": order.number,
        "status": order.status.to_value(),
        "supplier": supplier,
        "warehouse": warehouse,
        "expectedOn": order.expected_on,
        "note": order.note,
        "lines": lines.iter().map(|(sku, line)| json!({
            "line": line.line_number, "sku": sku, "quantity": line.quantity_ordered,
            "expectedOn": line.expected_on,
        })).collect::<Vec<_>>(),
    })
}

fn skus<'a>(
    checked: &'a CheckedDraft,
    stored: &'a [purchase_order_line::Model],
) -> Vec<(&'a str, &'a purchase_order_line::Model)> {
    checked
        .lines
        .iter()
        .zip(stored)
        .map(|((product, _), line)| (product.sku.as_str(), line))
        .collect()
}

/// Creates a draft order with its lines. Audited as `purchase_order.create`.
pub async fn create(
    db: &TenantDb,
    input: DraftInput,
) -> AppResult<(purchase_order::Model, Vec<purchase_order_line::Model>)> {
    let mut tx = db.write().await?;
    let checked = check_draft(&tx, input).await?;
    let number = numbering::next(&mut tx, "purchase_order", "PO").await?;
    let now = Utc::now();
    let order = tx
        .insert(purchase_order::ActiveModel {
            id: Set(PurchaseOrderId::generate()),
            tenant_id: Set(tx.tenant()),
            number: Set(number),
            supplier_id: Set(checked.supplier.id),
            warehouse_id: Set(checked.warehouse.id),
            status: Set(PurchaseOrderStatus::Draft),
            expected_on: Set(checked.expected_on),
            note: Set(checked.note.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    let lines = insert_lines(&mut tx, order.id, &checked.lines).await?;
    tx.record(
        AuditRecord::new("purchase_order.create", "purchase_order", order.id).with_change(
            json!(null),
            view(
                &order,
                &checked.supplier.code,
                &checked.warehouse.code,
                &skus(&checked, &lines),
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((order, lines))
}

/// The order, locked for a change of it or its lines.
async fn lock(tx: &TenantTx, id: PurchaseOrderId) -> AppResult<purchase_order::Model> {
    tx.one(purchase_order::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound {
            entity: "purchase order",
        })
}

async fn lines_in(
    tx: &TenantTx,
    order: PurchaseOrderId,
) -> AppResult<Vec<purchase_order_line::Model>> {
    Ok(tx
        .all(
            purchase_order_line::Entity::find()
                .filter(purchase_order_line::Column::PurchaseOrderId.eq(order))
                .order_by_asc(purchase_order_line::Column::LineNumber),
        )
        .await?)
}

/// Replaces a draft's supplier, warehouse, dates, note and lines. Only a DRAFT changes: a placed
/// order is what the supplier was sent. Audited as `purchase_order.update`.
pub async fn update_draft(
    db: &TenantDb,
    id: PurchaseOrderId,
    input: DraftInput,
) -> AppResult<(purchase_order::Model, Vec<purchase_order_line::Model>)> {
    let mut tx = db.write().await?;
    let before = lock(&tx, id).await?;
    if before.status != PurchaseOrderStatus::Draft {
        return Err(AppError::Conflict(format!(
            "purchase order {} is {}: only a DRAFT order changes; {}",
            before.number,
            before.status.label(),
            before.status.allowed_next()
        )));
    }
    let stored_lines = lines_in(&tx, id).await?;
    let old_codes = codes_of(&tx, &before, &stored_lines).await?;
    let checked = check_draft(&tx, input).await?;
    tx.delete_many(
        purchase_order_line::Entity::delete_many()
            .filter(purchase_order_line::Column::PurchaseOrderId.eq(id)),
    )
    .await?;
    let lines = insert_lines(&mut tx, id, &checked.lines).await?;
    let after = purchase_order::Model {
        supplier_id: checked.supplier.id,
        warehouse_id: checked.warehouse.id,
        expected_on: checked.expected_on,
        note: checked.note.clone(),
        updated_at: Utc::now(),
        ..before.clone()
    };
    tx.update_many(
        purchase_order::Entity::update_many()
            .set(purchase_order::ActiveModel {
                supplier_id: Set(after.supplier_id),
                warehouse_id: Set(after.warehouse_id),
                expected_on: Set(after.expected_on),
                note: Set(after.note.clone()),
                updated_at: Set(after.updated_at),
                ..Default::default()
            })
            .filter(purchase_order::Column::Id.eq(id)),
    )
    .await?;
    let (old_supplier, old_warehouse, old_skus) = &old_codes;
    let old_lines: Vec<(&str, &purchase_order_line::Model)> = old_skus
        .iter()
        .map(|(sku, line)| (sku.as_str(), line))
        .collect();
    let old_view = view(&before, old_supplier, old_warehouse, &old_lines);
    tx.record(
        AuditRecord::new("purchase_order.update", "purchase_order", id).with_change(
            old_view,
            view(
                &after,
                &checked.supplier.code,
                &checked.warehouse.code,
                &skus(&checked, &lines),
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((after, lines))
}

/// The supplier code, warehouse code and each line's SKU, for an audit view of a stored order.
async fn codes_of(
    tx: &TenantTx,
    order: &purchase_order::Model,
    lines: &[purchase_order_line::Model],
) -> AppResult<(String, String, Vec<(String, purchase_order_line::Model)>)> {
    let supplier = tx
        .find_by_id::<supplier::Entity>(order.supplier_id)
        .await?
        .map(|s| s.code)
        .unwrap_or_default();
    let warehouse = tx
        .find_by_id::<warehouse::Entity>(order.warehouse_id)
        .await?
        .map(|w| w.code)
        .unwrap_or_default();
    let skus: HashMap<ProductId, String> = tx
        .all(
            product::Entity::find()
                .filter(product::Column::Id.is_in(lines.iter().map(|l| l.product_id))),
        )
        .await?
        .into_iter()
        .map(|p| (p.id, p.sku))
        .collect();
    Ok((
        supplier,
        warehouse,
        lines
            .iter()
            .map(|line| {
                (
                    skus.get(&line.product_id).cloned().unwrap_or_default(),
                    line.clone(),
                )
            })
            .collect(),
    ))
}

/// Moves an order to `to` if its lifecycle allows; audited as `action`.
async fn transition(
    db: &TenantDb,
    id: PurchaseOrderId,
    to: PurchaseOrderStatus,
    action: &'static str,
) -> AppResult<purchase_order::Model> {
    let mut tx = db.write().await?;
    let before = lock(&tx, id).await?;
    before.status.ensure_can_become(to, &before.number)?;
    let after = purchase_order::Model {
        status: to,
        updated_at: Utc::now(),
        ..before.clone()
    };
    tx.update_many(
        purchase_order::Entity::update_many()
            .col_expr(purchase_order::Column::Status, Expr::value(to))
            .col_expr(
                purchase_order::Column::UpdatedAt,
                Expr::value(after.updated_at),
            )
            .filter(purchase_order::Column::Id.eq(id)),
    )
    .await?;
    tx.record(AuditRecord::new(action, "purchase_order", id).with_change(
        json!({ "number": before.number, "status": before.status.to_value() }),
        json!({ "number": after.number, "status": to.to_value() }),
    ))
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Places a draft: the supplier has been sent it and goods are expected. Audited as
/// `purchase_order.place`.
pub async fn place(db: &TenantDb, id: PurchaseOrderId) -> AppResult<purchase_order::Model> {
    transition(db, id, PurchaseOrderStatus::Ordered, "purchase_order.place").await
}

/// Cancels an order: a draft or placed one entirely, a partly received one for what has not
/// arrived. Audited as `purchase_order.cancel`.
pub async fn cancel(db: &TenantDb, id: PurchaseOrderId) -> AppResult<purchase_order::Model> {
    transition(
        db,
        id,
        PurchaseOrderStatus::Cancelled,
        "purchase_order.cancel",
    )
    .await
}

/// One order.
pub async fn get(db: &TenantDb, id: PurchaseOrderId) -> AppResult<purchase_order::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<purchase_order::Entity>(id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "purchase order",
        })
}

/// The lines of these orders, in line order.
pub async fn lines_of(
    db: &TenantDb,
    orders: &[PurchaseOrderId],
) -> AppResult<Vec<purchase_order_line::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            purchase_order_line::Entity::find()
                .filter(purchase_order_line::Column::PurchaseOrderId.is_in(orders.iter().copied()))
                .order_by_asc(purchase_order_line::Column::PurchaseOrderId)
                .order_by_asc(purchase_order_line::Column::LineNumber),
        )
        .await?)
}

/// A page of the organisation's purchase orders.
pub async fn list(
    db: &TenantDb,
    filter: &OrderFilter,
    order: OrderOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<purchase_order::Model>> {
    let tx = db.read().await?;
    let mut query = purchase_order::Entity::find();
    if !filter.statuses.is_empty() {
        query = query.filter(purchase_order::Column::Status.is_in(filter.statuses.clone()));
    }
    if let Some(supplier) = filter.supplier_id {
        if tx.find_by_id::<supplier::Entity>(supplier).await?.is_none() {
            return Err(AppError::NotFound { entity: "supplier" });
        }
        query = query.filter(purchase_order::Column::SupplierId.eq(supplier));
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
        query = query.filter(purchase_order::Column::WarehouseId.eq(warehouse));
    }
    if let Some(day) = filter.expected_by {
        bounds::check_day("expectedBy", day)?;
        query = query.filter(purchase_order::Column::ExpectedOn.lte(day));
    }
    if let Some(pattern) = text::search_pattern(filter.search.as_deref())? {
        query = query.filter(
            Condition::all().add(text::lower(purchase_order::Column::Number).like(pattern)),
        );
    }
    let columns = match order {
        OrderOrder::Number => vec![purchase_order::Column::Number, purchase_order::Column::Id],
        OrderOrder::Created => vec![purchase_order::Column::Id],
        OrderOrder::ExpectedOn => {
            // A keyset cursor cannot hold "no date": such orders are not due, and not listed.
            query = query.filter(purchase_order::Column::ExpectedOn.is_not_null());
            vec![
                purchase_order::Column::ExpectedOn,
                purchase_order::Column::Number,
                purchase_order::Column::Id,
            ]
        }
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}
