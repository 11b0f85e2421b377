//! Sales orders: what a customer ordered, from which warehouse, to ship on which day.
//!
//! An order is written as a draft (its customer, warehouse, address, ship date, note and lines
//! may change), confirmed, allocated (stock reserved for it: `service::allocating`), picked
//! (`service::picking`), packed and dispatched, or cancelled on the way, which hands back what
//! it held. Only a draft changes; after that the lines only record how far they have come.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::{
    AddressKind, AllocationStatus, CustomerAddressId, CustomerId, ProductId, SalesOrderId,
    SalesOrderLineId, SalesOrderStatus, WarehouseId, allocation, customer, customer_address,
    product, sales_order, sales_order_line, warehouse,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr, sea_query::ExprTrait,
};
use serde_json::{Value, json};

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult};
use crate::service::ledger::{self, Movement, Posting, lock_locations, posting_product};
use crate::service::lifecycle::Lifecycle;
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::{bounds, numbering, text};
use crate::tenancy::{TenantDb, TenantTx};

/// Most lines one order may have.
pub const MAX_LINES: usize = 500;

impl Lifecycle for SalesOrderStatus {
    const DOCUMENT: &'static str = "sales order";

    fn label(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Confirmed => "CONFIRMED",
            Self::Allocated => "ALLOCATED",
            Self::Picking => "PICKING",
            Self::Packed => "PACKED",
            Self::Dispatched => "DISPATCHED",
            Self::Cancelled => "CANCELLED",
        }
    }

    fn next(self) -> &'static [Self] {
        use SalesOrderStatus::*;
        match self {
            Draft => &[Confirmed, Cancelled],
            Confirmed => &[Allocated, Cancelled],
            Allocated => &[Picking, Cancelled],
            Picking => &[Packed, Cancelled],
            Packed => &[Dispatched, Cancelled],
            Dispatched | Cancelled => &[],
        }
    }
}

/// One line as the caller writes it.
#[derive(Clone, Debug)]
pub struct LineInput {
    pub product_id: ProductId,
    pub quantity: i64,
}

/// A whole draft: what `create` makes and `update_draft` replaces.
#[derive(Clone, Debug)]
pub struct DraftInput {
    pub customer_id: CustomerId,
    pub warehouse_id: WarehouseId,
    /// One of the customer's SHIPPING addresses; their default one when absent.
    pub shipping_address_id: Option<CustomerAddressId>,
    /// Today (UTC) when absent.
    pub requested_ship_on: Option<NaiveDate>,
    pub note: String,
    pub lines: Vec<LineInput>,
}

/// What a sales order list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    /// Any of these states (every state when empty).
    pub statuses: Vec<SalesOrderStatus>,
    pub customer_id: Option<CustomerId>,
    pub warehouse_id: Option<WarehouseId>,
    /// Orders requested to ship on or before this day.
    pub ship_by: Option<NaiveDate>,
    /// Only orders with a back-ordered line (true), or without one (false).
    pub backordered: Option<bool>,
    /// Part of the number, case-insensitive.
    pub search: Option<String>,
}

/// What sales order lists may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrderOrder {
    #[default]
    Number,
    /// Creation order (ids are time-ordered).
    Created,
    /// The requested ship day, then the number.
    ShipDate,
}

/// The states in which an order still has work to do.
pub const OPEN_STATES: [SalesOrderStatus; 5] = [
    SalesOrderStatus::Draft,
    SalesOrderStatus::Confirmed,
    SalesOrderStatus::Allocated,
    SalesOrderStatus::Picking,
    SalesOrderStatus::Packed,
];

/// The draft's references, checked and share-locked against being archived meanwhile.
struct CheckedDraft {
    customer: customer::Model,
    warehouse: warehouse::Model,
    address: Option<customer_address::Model>,
    requested_ship_on: NaiveDate,
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
    let requested_ship_on = input
        .requested_ship_on
        .unwrap_or_else(|| Utc::now().date_naive());
    bounds::check_day("requestedShipOn", requested_ship_on)?;
    let note = text::multi_line("note", &input.note, 2000)?;
    let mut seen = HashSet::new();
    for line in &input.lines {
        bounds::check_quantity("lines.quantity", line.quantity, 1)?;
        if !seen.insert(line.product_id) {
            return Err(AppError::bad_input(
                "lines.productId",
                "each product may be on an order once; add the quantities together",
            ));
        }
    }
    let customer = tx
        .one(customer::Entity::find_by_id(input.customer_id).lock_shared())
        .await?
        .ok_or(AppError::NotFound { entity: "customer" })?;
    if !customer.is_active {
        return Err(AppError::Conflict(format!(
            "customer {} is archived",
            customer.code
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
    let address = match input.shipping_address_id {
        Some(id) => {
            // Another customer's address is as missing as another organisation's.
            let address = tx
                .find_by_id::<customer_address::Entity>(id)
                .await?
                .filter(|a| a.customer_id == customer.id)
                .ok_or(AppError::NotFound {
                    entity: "customer address",
                })?;
            if address.kind != AddressKind::Shipping {
                return Err(AppError::bad_input(
                    "shippingAddressId",
                    "goods go to a SHIPPING address, not a BILLING one",
                ));
            }
            Some(address)
        }
        None => {
            tx.one(
                customer_address::Entity::find()
                    .filter(customer_address::Column::CustomerId.eq(customer.id))
                    .filter(customer_address::Column::Kind.eq(AddressKind::Shipping))
                    .filter(customer_address::Column::IsDefault.eq(true)),
            )
            .await?
        }
    };
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
        customer,
        warehouse,
        address,
        requested_ship_on,
        note,
        lines,
    })
}

async fn insert_lines(
    tx: &mut TenantTx,
    order: SalesOrderId,
    lines: &[(product::Model, LineInput)],
) -> AppResult<Vec<sales_order_line::Model>> {
    let mut stored = Vec::with_capacity(lines.len());
    for (number, (product, line)) in (1..).zip(lines) {
        stored.push(
            tx.insert(sales_order_line::ActiveModel {
                id: Set(SalesOrderLineId::generate()),
                tenant_id: Set(tx.tenant()),
                sales_order_id: Set(order),
                line_number: Set(number),
                product_id: Set(product.id),
                quantity_ordered: Set(line.quantity),
                quantity_allocated: Set(0),
                quantity_picked: Set(0),
                quantity_backordered: Set(0),
                quantity_dispatched: Set(0),
            })
            .await?,
        );
    }
    Ok(stored)
}

/// The order as its audit events show it: codes people know, not ids.
fn view(
    order: &sales_order::Model,
    checked: &CheckedDraft,
    lines: &[sales_order_line::Model],
) -> Value {
    json!({
        "number": order.number,
        "status": order.status.to_value(),
        "customer": checked.customer.code,
        "warehouse": checked.warehouse.code,
        "shippingAddress": checked.address.as_ref().map(|a| a.label.clone()),
        "requestedShipOn": order.requested_ship_on,
        "note": order.note,
        "lines": checked.lines.iter().zip(lines).map(|((product, _), line)| json!({
            "line": line.line_number, "sku": product.sku, "quantity": line.quantity_ordered,
        })).collect::<Vec<_>>(),
    })
}

/// Creates a draft order with its lines. Audited as `sales_order.create`.
pub async fn create(
    db: &TenantDb,
    input: DraftInput,
) -> AppResult<(sales_order::Model, Vec<sales_order_line::Model>)> {
    let mut tx = db.write().await?;
    let checked = check_draft(&tx, input).await?;
    let number = numbering::next(&mut tx, "sales_order", "SO").await?;
    let now = Utc::now();
    let order = tx
        .insert(sales_order::ActiveModel {
            id: Set(SalesOrderId::generate()),
            tenant_id: Set(tx.tenant()),
            number: Set(number),
            customer_id: Set(checked.customer.id),
            warehouse_id: Set(checked.warehouse.id),
            shipping_address_id: Set(checked.address.as_ref().map(|a| a.id)),
            status: Set(SalesOrderStatus::Draft),
            requested_ship_on: Set(checked.requested_ship_on),
            note: Set(checked.note.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    let lines = insert_lines(&mut tx, order.id, &checked.lines).await?;
    tx.record(
        AuditRecord::new("sales_order.create", "sales_order", order.id)
            .with_change(json!(null), view(&order, &checked, &lines)),
    )
    .await?;
    tx.commit().await?;
    Ok((order, lines))
}

/// The order, locked for a change of it, its lines or its allocations. Every writer of those
/// takes this lock first, so they queue per order.
pub(crate) async fn lock(tx: &TenantTx, id: SalesOrderId) -> AppResult<sales_order::Model> {
    tx.one(sales_order::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound {
            entity: "sales order",
        })
}

/// The order's lines in line order (read under the order's lock).
pub(crate) async fn lines_in(
    tx: &TenantTx,
    order: SalesOrderId,
) -> AppResult<Vec<sales_order_line::Model>> {
    Ok(tx
        .all(
            sales_order_line::Entity::find()
                .filter(sales_order_line::Column::SalesOrderId.eq(order))
                .order_by_asc(sales_order_line::Column::LineNumber),
        )
        .await?)
}

/// The SKUs of these lines' products.
pub(crate) async fn skus_of(
    tx: &TenantTx,
    lines: &[sales_order_line::Model],
) -> AppResult<HashMap<ProductId, String>> {
    Ok(tx
        .all(
            product::Entity::find()
                .filter(product::Column::Id.is_in(lines.iter().map(|l| l.product_id))),
        )
        .await?
        .into_iter()
        .map(|p| (p.id, p.sku))
        .collect())
}

/// Replaces a draft's customer, warehouse, address, ship date, note and lines. Only a DRAFT
/// changes. Audited as `sales_order.update`.
pub async fn update_draft(
    db: &TenantDb,
    id: SalesOrderId,
    input: DraftInput,
) -> AppResult<(sales_order::Model, Vec<sales_order_line::Model>)> {
    let mut tx = db.write().await?;
    let before = lock(&tx, id).await?;
    if before.status != SalesOrderStatus::Draft {
        return Err(AppError::Conflict(format!(
            "sales order {} is {}: only a DRAFT order changes; {}",
            before.number,
            before.status.label(),
            before.status.allowed_next()
        )));
    }
    let old_lines = lines_in(&tx, id).await?;
    let old_skus = skus_of(&tx, &old_lines).await?;
    let old_customer = tx
        .find_by_id::<customer::Entity>(before.customer_id)
        .await?
        .map(|c| c.code)
        .unwrap_or_default();
    let checked = check_draft(&tx, input).await?;
    tx.delete_many(
        sales_order_line::Entity::delete_many()
            .filter(sales_order_line::Column::SalesOrderId.eq(id)),
    )
    .await?;
    let lines = insert_lines(&mut tx, id, &checked.lines).await?;
    let after = sales_order::Model {
        customer_id: checked.customer.id,
        warehouse_id: checked.warehouse.id,
        shipping_address_id: checked.address.as_ref().map(|a| a.id),
        requested_ship_on: checked.requested_ship_on,
        note: checked.note.clone(),
        updated_at: Utc::now(),
        ..before.clone()
    };
    tx.update_many(
        sales_order::Entity::update_many()
            .set(sales_order::ActiveModel {
                customer_id: Set(after.customer_id),
                warehouse_id: Set(after.warehouse_id),
                shipping_address_id: Set(after.shipping_address_id),
                requested_ship_on: Set(after.requested_ship_on),
                note: Set(after.note.clone()),
                updated_at: Set(after.updated_at),
                ..Default::default()
            })
            .filter(sales_order::Column::Id.eq(id)),
    )
    .await?;
    let old_view = json!({
        "number": before.number,
        "customer": old_customer,
        "requestedShipOn": before.requested_ship_on,
        "note": before.note,
        "lines": old_lines.iter().map(|line| json!({
            "line": line.line_number,
            "sku": old_skus.get(&line.product_id),
            "quantity": line.quantity_ordered,
        })).collect::<Vec<_>>(),
    });
    tx.record(
        AuditRecord::new("sales_order.update", "sales_order", id)
            .with_change(old_view, view(&after, &checked, &lines)),
    )
    .await?;
    tx.commit().await?;
    Ok((after, lines))
}

/// Moves a locked order to `to` (checked by its lifecycle) and returns it as it now is.
pub(crate) async fn set_status(
    tx: &mut TenantTx,
    order: &sales_order::Model,
    to: SalesOrderStatus,
) -> AppResult<sales_order::Model> {
    order.status.ensure_can_become(to, &order.number)?;
    let after = sales_order::Model {
        status: to,
        updated_at: Utc::now(),
        ..order.clone()
    };
    tx.update_many(
        sales_order::Entity::update_many()
            .col_expr(sales_order::Column::Status, Expr::value(to))
            .col_expr(
                sales_order::Column::UpdatedAt,
                Expr::value(after.updated_at),
            )
            .filter(sales_order::Column::Id.eq(order.id)),
    )
    .await?;
    Ok(after)
}

/// Confirms a draft: agreed with the customer, to be allocated. Audited as
/// `sales_order.confirm`.
pub async fn confirm(db: &TenantDb, id: SalesOrderId) -> AppResult<sales_order::Model> {
    let mut tx = db.write().await?;
    let before = lock(&tx, id).await?;
    let after = set_status(&mut tx, &before, SalesOrderStatus::Confirmed).await?;
    tx.record(
        AuditRecord::new("sales_order.confirm", "sales_order", id).with_change(
            json!({ "number": before.number, "status": before.status.to_value() }),
            json!({ "number": after.number, "status": after.status.to_value() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Cancels an order that has not been dispatched, releasing every reservation it holds: stock
/// still where it was allocated becomes available there again; stock already picked stays in
/// its staging location, available (putting it back is a transfer). Audited as
/// `sales_order.cancel`.
pub async fn cancel(db: &TenantDb, id: SalesOrderId) -> AppResult<sales_order::Model> {
    let result = ledger::run(
        db,
        "sales_order.cancel",
        None,
        json!({ "order": id }),
        async |tx: &mut TenantTx| {
            let before = lock(tx, id).await?;
            before
                .status
                .ensure_can_become(SalesOrderStatus::Cancelled, &before.number)?;
            let held = tx
                .all(
                    allocation::Entity::find()
                        .filter(allocation::Column::SalesOrderId.eq(id))
                        .filter(
                            allocation::Column::Status
                                .is_in([AllocationStatus::Open, AllocationStatus::Picked]),
                        )
                        .order_by_asc(allocation::Column::Id),
                )
                .await?;
            let released = release(tx, &held).await?;
            let after = set_status(tx, &before, SalesOrderStatus::Cancelled).await?;
            let record = AuditRecord::new("sales_order.cancel", "sales_order", id).with_change(
                json!({ "number": before.number, "status": before.status.to_value() }),
                json!({
                    "number": after.number,
                    "status": after.status.to_value(),
                    "released": released,
                }),
            );
            Ok((
                ledger::StockResult {
                    movements: Vec::new(),
                    balances: Vec::new(),
                },
                record,
            ))
        },
    )
    .await;
    result?;
    get(db, id).await
}

/// Hands back what these allocations hold (open ones where they lie, picked ones in their
/// staging location) and marks them RELEASED. Takes the ledger's lock order itself. Returns how
/// many units were released, for the audit event.
async fn release(tx: &mut TenantTx, held: &[allocation::Model]) -> AppResult<i64> {
    if held.is_empty() {
        return Ok(0);
    }
    let mut products = std::collections::BTreeMap::new();
    for id in held
        .iter()
        .map(|a| a.product_id)
        .collect::<std::collections::BTreeSet<_>>()
    {
        products.insert(id, posting_product(tx, id).await?);
    }
    let places = |a: &allocation::Model| match a.status {
        AllocationStatus::Picked => a.staged_location_id.map(|at| (at, a.quantity_picked)),
        AllocationStatus::Open => Some((a.location_id, a.quantity)),
        AllocationStatus::Dispatched | AllocationStatus::Released => None,
    };
    // A location holding stock cannot be archived, so these are all still active.
    let locations = lock_locations(tx, held.iter().filter_map(|a| places(a).map(|p| p.0))).await?;
    let lots = ledger::lots_by_id(tx, held.iter().filter_map(|a| a.lot_id)).await?;
    let mut postings = Vec::new();
    let mut released = 0;
    for held in held {
        let Some((at, quantity)) = places(held) else {
            continue;
        };
        if quantity == 0 {
            continue;
        }
        let (Some(product), Some(location)) = (products.get(&held.product_id), locations.get(&at))
        else {
            return Err(AppError::Internal(
                "an allocation's rows were not locked".into(),
            ));
        };
        released += quantity;
        postings.push(Posting {
            product: product.clone(),
            lot: held.lot_id.and_then(|id| lots.get(&id).cloned()),
            movement: Movement::Release {
                location: location.handle(),
                quantity,
            },
            reason: "release".into(),
            note: String::new(),
            reverses: None,
        });
    }
    ledger::post(tx, postings).await?;
    tx.update_many(
        allocation::Entity::update_many()
            .col_expr(
                allocation::Column::Status,
                Expr::value(AllocationStatus::Released),
            )
            .filter(allocation::Column::Id.is_in(held.iter().map(|a| a.id))),
    )
    .await?;
    Ok(released)
}

/// One order.
pub async fn get(db: &TenantDb, id: SalesOrderId) -> AppResult<sales_order::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<sales_order::Entity>(id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "sales order",
        })
}

/// The lines of these orders, in line order.
pub async fn lines_of(
    db: &TenantDb,
    orders: &[SalesOrderId],
) -> AppResult<Vec<sales_order_line::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            sales_order_line::Entity::find()
                .filter(sales_order_line::Column::SalesOrderId.is_in(orders.iter().copied()))
                .order_by_asc(sales_order_line::Column::SalesOrderId)
                .order_by_asc(sales_order_line::Column::LineNumber),
        )
        .await?)
}

/// A page of the organisation's sales orders.
pub async fn list(
    db: &TenantDb,
    filter: &OrderFilter,
    order: OrderOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<sales_order::Model>> {
    let tx = db.read().await?;
    let mut query = sales_order::Entity::find();
    if !filter.statuses.is_empty() {
        query = query.filter(sales_order::Column::Status.is_in(filter.statuses.clone()));
    }
    if let Some(customer) = filter.customer_id {
        if tx.find_by_id::<customer::Entity>(customer).await?.is_none() {
            return Err(AppError::NotFound { entity: "customer" });
        }
        query = query.filter(sales_order::Column::CustomerId.eq(customer));
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
        query = query.filter(sales_order::Column::WarehouseId.eq(warehouse));
    }
    if let Some(day) = filter.ship_by {
        bounds::check_day("shipBy", day)?;
        query = query.filter(sales_order::Column::RequestedShipOn.lte(day));
    }
    if let Some(backordered) = filter.backordered {
        let with_backorders = sea_orm::sea_query::Query::select()
            .column(sales_order_line::Column::SalesOrderId)
            .from(sales_order_line::Entity)
            .and_where(Expr::col(sales_order_line::Column::QuantityBackordered).gt(0))
            .and_where(Expr::col(sales_order_line::Column::TenantId).eq(tx.tenant()))
            .to_owned();
        query = if backordered {
            query.filter(sales_order::Column::Id.in_subquery(with_backorders))
        } else {
            query.filter(sales_order::Column::Id.not_in_subquery(with_backorders))
        };
    }
    if let Some(pattern) = text::search_pattern(filter.search.as_deref())? {
        query = query
            .filter(Condition::all().add(text::lower(sales_order::Column::Number).like(pattern)));
    }
    let columns = match order {
        OrderOrder::Number => vec![sales_order::Column::Number, sales_order::Column::Id],
        OrderOrder::Created => vec![sales_order::Column::Id],
        OrderOrder::ShipDate => vec![
            sales_order::Column::RequestedShipOn,
            sales_order::Column::Number,
            sales_order::Column::Id,
        ],
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}
