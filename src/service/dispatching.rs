//! Packing and dispatch: the last steps of a sales order in the warehouse.
//!
//! Packing records the packages a fully picked order went into (weight and outside dimensions)
//! and moves it PICKING → PACKED; its picks must all be confirmed, and at least one unit found.
//! Dispatch hands the order to the carrier: every picked unit leaves its staging location for
//! the customer account (one ledger movement per pick, its reservation released with it), the
//! lines record what was sent, and the order becomes DISPATCHED, all in one transaction. A
//! dispatched line never changes again (a database trigger stands behind that).
//!
//! Lock order: the idempotency key, the order (exclusive), then the ledger's order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;
use entity::{
    AllocationStatus, PackageId, ProductId, SalesOrderId, SalesOrderLineId, SalesOrderStatus,
    allocation, package, sales_order,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
};
use serde_json::json;

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult};
use crate::service::ledger::{
    self, Locked, Movement, Place, Posting, lock_locations, lots_by_id, posting_product,
};
use crate::service::lifecycle::Lifecycle;
use crate::service::selling;
use crate::tenancy::{TenantDb, TenantTx};

/// Most packages one order may go into.
pub const MAX_PACKAGES: usize = 50;
/// The heaviest package, in grams (a full pallet).
pub const MAX_WEIGHT_GRAMS: i64 = 2_000_000;
/// The longest side of a package, in millimetres.
pub const MAX_SIDE_MM: i32 = 10_000;

/// One package as the packer measured it.
#[derive(Clone, Copy, Debug)]
pub struct PackageInput {
    pub weight_grams: i64,
    pub length_mm: i32,
    pub width_mm: i32,
    pub height_mm: i32,
}

fn check_packages(packages: &[PackageInput]) -> AppResult<()> {
    if packages.is_empty() || packages.len() > MAX_PACKAGES {
        return Err(AppError::bad_input(
            "packages",
            format!("an order goes into 1 to {MAX_PACKAGES} packages"),
        ));
    }
    for package in packages {
        if !(1..=MAX_WEIGHT_GRAMS).contains(&package.weight_grams) {
            return Err(AppError::bad_input(
                "packages.weightGrams",
                format!("a package weighs 1 to {MAX_WEIGHT_GRAMS} grams"),
            ));
        }
        for (field, side) in [
            ("packages.lengthMm", package.length_mm),
            ("packages.widthMm", package.width_mm),
            ("packages.heightMm", package.height_mm),
        ] {
            if !(1..=MAX_SIDE_MM).contains(&side) {
                return Err(AppError::bad_input(
                    field,
                    format!("a side measures 1 to {MAX_SIDE_MM} mm"),
                ));
            }
        }
    }
    Ok(())
}

/// The order's picks, read under its lock.
async fn picks_of(tx: &TenantTx, order: SalesOrderId) -> AppResult<Vec<allocation::Model>> {
    Ok(tx
        .all(
            allocation::Entity::find()
                .filter(allocation::Column::SalesOrderId.eq(order))
                .order_by_asc(allocation::Column::Id),
        )
        .await?)
}

/// Packs a PICKING order whose picks are all confirmed into `packages`, moving it to PACKED.
/// Audited as `sales_order.pack`.
pub async fn pack(
    db: &TenantDb,
    id: SalesOrderId,
    packages: Vec<PackageInput>,
) -> AppResult<(sales_order::Model, Vec<package::Model>)> {
    check_packages(&packages)?;
    let mut tx = db.write().await?;
    let order = selling::lock(&tx, id).await?;
    order
        .status
        .ensure_can_become(SalesOrderStatus::Packed, &order.number)?;
    let picks = picks_of(&tx, id).await?;
    let open = picks
        .iter()
        .filter(|p| p.status == AllocationStatus::Open)
        .count();
    if open > 0 {
        return Err(AppError::Conflict(format!(
            "sales order {} has {open} pick(s) still to confirm: it is packed once all are picked",
            order.number
        )));
    }
    let picked: i64 = picks
        .iter()
        .filter(|p| p.status == AllocationStatus::Picked)
        .map(|p| p.quantity_picked)
        .sum();
    if picked == 0 {
        return Err(AppError::Conflict(format!(
            "sales order {} has nothing picked to pack: cancel it instead",
            order.number
        )));
    }
    let now = Utc::now();
    let mut stored = Vec::with_capacity(packages.len());
    for (number, input) in (1..).zip(&packages) {
        stored.push(
            tx.insert(package::ActiveModel {
                id: Set(PackageId::generate()),
                tenant_id: Set(tx.tenant()),
                sales_order_id: Set(id),
                package_number: Set(number),
                weight_grams: Set(input.weight_grams),
                length_mm: Set(input.length_mm),
                width_mm: Set(input.width_mm),
                height_mm: Set(input.height_mm),
                created_at: Set(now),
            })
            .await?,
        );
    }
    let after = selling::set_status(&mut tx, &order, SalesOrderStatus::Packed).await?;
    tx.record(
        AuditRecord::new("sales_order.pack", "sales_order", id).with_change(
            json!({ "number": order.number, "status": "picking" }),
            json!({
                "number": order.number,
                "status": "packed",
                "units": picked,
                "packages": stored.iter().map(|p| json!({
                    "package": p.package_number, "weightGrams": p.weight_grams,
                    "lengthMm": p.length_mm, "widthMm": p.width_mm, "heightMm": p.height_mm,
                })).collect::<Vec<_>>(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((after, stored))
}

/// Dispatches a PACKED order: every picked unit moves from its staging location to the
/// customer account, releasing its reservation; the lines record what was sent; the order
/// becomes DISPATCHED. One transaction. Audited as `sales_order.dispatch`; a retry with the same
/// idempotency key moves nothing and answers the order as it is.
pub async fn dispatch(
    db: &TenantDb,
    id: SalesOrderId,
    idempotency_key: Option<String>,
) -> AppResult<sales_order::Model> {
    ledger::run(
        db,
        "sales_order.dispatch",
        idempotency_key,
        json!({ "order": id }),
        async |tx: &mut TenantTx| build_dispatch(tx, id).await,
    )
    .await?;
    selling::get(db, id).await
}

async fn build_dispatch(
    tx: &mut TenantTx,
    id: SalesOrderId,
) -> AppResult<(ledger::StockResult, AuditRecord)> {
    let order = selling::lock(tx, id).await?;
    order
        .status
        .ensure_can_become(SalesOrderStatus::Dispatched, &order.number)?;
    let picks: Vec<allocation::Model> = picks_of(tx, id)
        .await?
        .into_iter()
        .filter(|p| p.status == AllocationStatus::Picked && p.quantity_picked > 0)
        .collect();
    // Step 1 of the ledger's lock order: products, then the staging locations.
    let mut products: BTreeMap<ProductId, Locked<entity::product::Model>> = BTreeMap::new();
    for product in picks.iter().map(|p| p.product_id).collect::<BTreeSet<_>>() {
        products.insert(product, posting_product(tx, product).await?);
    }
    let staged = lock_locations(tx, picks.iter().filter_map(|p| p.staged_location_id)).await?;
    let lots = lots_by_id(tx, picks.iter().filter_map(|p| p.lot_id)).await?;
    let mut postings = Vec::with_capacity(picks.len() * 2);
    let mut sent: HashMap<SalesOrderLineId, i64> = HashMap::new();
    for pick in &picks {
        let (Some(product), Some(at)) = (
            products.get(&pick.product_id),
            pick.staged_location_id.and_then(|at| staged.get(&at)),
        ) else {
            return Err(AppError::Internal("a pick's rows were not locked".into()));
        };
        let lot = pick.lot_id.and_then(|lot| lots.get(&lot).cloned());
        postings.push(Posting {
            product: product.clone(),
            lot: lot.clone(),
            movement: Movement::Release {
                location: at.handle(),
                quantity: pick.quantity_picked,
            },
            reason: "dispatch".into(),
            note: String::new(),
            reverses: None,
        });
        postings.push(Posting {
            product: product.clone(),
            lot,
            movement: Movement::Move {
                quantity: pick.quantity_picked,
                from: at.place(),
                to: Place::Customer,
            },
            reason: "dispatch".into(),
            note: order.number.clone(),
            reverses: None,
        });
        *sent.entry(pick.sales_order_line_id).or_default() += pick.quantity_picked;
    }
    let posted = ledger::post(tx, postings).await?.result;
    tx.update_many(
        allocation::Entity::update_many()
            .col_expr(
                allocation::Column::Status,
                Expr::value(AllocationStatus::Dispatched),
            )
            .filter(allocation::Column::Id.is_in(picks.iter().map(|p| p.id))),
    )
    .await?;
    let lines = selling::lines_in(tx, id).await?;
    for line in &lines {
        let quantity = sent.get(&line.id).copied().unwrap_or(0);
        if quantity == 0 {
            continue;
        }
        tx.update_many(
            entity::sales_order_line::Entity::update_many()
                .col_expr(
                    entity::sales_order_line::Column::QuantityDispatched,
                    Expr::value(line.quantity_dispatched + quantity),
                )
                .filter(entity::sales_order_line::Column::Id.eq(line.id)),
        )
        .await?;
    }
    let after = selling::set_status(tx, &order, SalesOrderStatus::Dispatched).await?;
    let skus = selling::skus_of(tx, &lines).await?;
    let record = AuditRecord::new("sales_order.dispatch", "sales_order", id).with_change(
        json!({ "number": order.number, "status": "packed" }),
        json!({
            "number": after.number,
            "status": "dispatched",
            "lines": lines.iter().filter_map(|line| {
                let quantity = sent.get(&line.id).copied()?;
                Some(json!({
                    "line": line.line_number,
                    "sku": skus.get(&line.product_id),
                    "quantity": quantity,
                }))
            }).collect::<Vec<_>>(),
        }),
    );
    Ok((posted, record))
}

/// The packages of these orders, in package order.
pub async fn packages_of(db: &TenantDb, orders: &[SalesOrderId]) -> AppResult<Vec<package::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            package::Entity::find()
                .filter(package::Column::SalesOrderId.is_in(orders.iter().copied()))
                .order_by_asc(package::Column::SalesOrderId)
                .order_by_asc(package::Column::PackageNumber),
        )
        .await?)
}
