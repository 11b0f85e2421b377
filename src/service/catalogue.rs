//! The catalogue: products, their barcodes and pack conversions.

use chrono::Utc;
use entity::{ProductId, Tracking, product, product_barcode, product_unit, stock_movement};
use sea_orm::ActiveEnum;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult, on_duplicate};
use crate::service::bounds::MAX_UNITS;
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::text;
use crate::tenancy::{TenantDb, TenantTx};

/// Most barcodes one product may carry.
pub const MAX_BARCODES: usize = 50;
/// Most pack or case conversions one product may have.
pub const MAX_UNITS_OF_MEASURE: usize = 20;

pub struct ProductInput {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub base_unit: String,
    pub tracking: Tracking,
    pub expiry_required: bool,
    pub reorder_point: i64,
    pub reorder_quantity: i64,
    pub barcodes: Vec<String>,
    pub weight_grams: Option<i64>,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
    /// Pack conversions: (name, base units in one), e.g. ("case", 12).
    pub units: Vec<(String, i64)>,
}

struct CleanProduct {
    sku: String,
    name: String,
    description: String,
    base_unit: String,
    tracking: Tracking,
    barcodes: Vec<String>,
    units: Vec<(String, i64)>,
}

fn clean(input: &ProductInput) -> AppResult<CleanProduct> {
    let sku = text::single_line("sku", &input.sku, 64)?;
    let name = text::single_line("name", &input.name, 200)?;
    let description = text::multi_line("description", &input.description, 4000)?;
    let base_unit = text::single_line("baseUnit", &input.base_unit, 20)?;
    // Expiry dates live on lots: without lots there is nowhere to keep one.
    let has_lots = match input.tracking {
        Tracking::None => false,
        Tracking::Lot | Tracking::Serial => true,
    };
    if input.expiry_required && !has_lots {
        return Err(AppError::bad_input(
            "expiryRequired",
            "only lot- or serial-tracked products can require an expiry date",
        ));
    }
    for (field, value) in [
        ("reorderPoint", input.reorder_point),
        ("reorderQuantity", input.reorder_quantity),
    ] {
        if !(0..=MAX_UNITS).contains(&value) {
            return Err(AppError::bad_input(
                field,
                format!("{field} must be 0 to {MAX_UNITS}"),
            ));
        }
    }
    // Enough for every real packaging variant; a cap keeps one product (and its audit event)
    // from growing without bound.
    if input.barcodes.len() > MAX_BARCODES {
        return Err(AppError::bad_input(
            "barcodes",
            format!("a product has at most {MAX_BARCODES} barcodes"),
        ));
    }
    if input.units.len() > MAX_UNITS_OF_MEASURE {
        return Err(AppError::bad_input(
            "units",
            format!("a product has at most {MAX_UNITS_OF_MEASURE} pack units"),
        ));
    }
    let mut barcodes = Vec::new();
    for barcode in &input.barcodes {
        let barcode = text::single_line("barcodes", barcode, 64)?;
        if !barcodes.contains(&barcode) {
            barcodes.push(barcode);
        }
    }
    for (field, value) in [
        ("weightGrams", input.weight_grams),
        ("lengthMm", input.length_mm),
        ("widthMm", input.width_mm),
        ("heightMm", input.height_mm),
    ] {
        // A billion grams is a thousand tonnes, a billion millimetres a thousand kilometres.
        if value.is_some_and(|v| !(1..=MAX_UNITS).contains(&v)) {
            return Err(AppError::bad_input(
                field,
                format!("{field} must be 1 to {MAX_UNITS}"),
            ));
        }
    }
    let mut units: Vec<(String, i64)> = Vec::new();
    for (name, base_quantity) in &input.units {
        let name = text::single_line("units", name, 40)?;
        if *base_quantity > MAX_UNITS {
            return Err(AppError::bad_input(
                "units",
                format!("a {name} holds at most {MAX_UNITS} {base_unit}"),
            ));
        }
        if *base_quantity <= 1 {
            return Err(AppError::bad_input(
                "units",
                format!("a {name} must hold more than one {base_unit}"),
            ));
        }
        if name == base_unit || units.iter().any(|(n, _)| *n == name) {
            return Err(AppError::bad_input(
                "units",
                format!("unit {name} is named twice"),
            ));
        }
        units.push((name, *base_quantity));
    }
    Ok(CleanProduct {
        sku,
        name,
        description,
        base_unit,
        tracking: input.tracking,
        barcodes,
        units,
    })
}

fn snapshot(product: &product::Model, barcodes: &[String]) -> serde_json::Value {
    json!({
        "sku": product.sku, "name": product.name, "description": product.description,
        "baseUnit": product.base_unit, "tracking": product.tracking.to_value(),
        "expiryRequired": product.expiry_required, "reorderPoint": product.reorder_point,
        "reorderQuantity": product.reorder_quantity, "active": product.is_active,
        "weightGrams": product.weight_grams, "lengthMm": product.length_mm,
        "widthMm": product.width_mm, "heightMm": product.height_mm,
        "barcodes": barcodes,
    })
}

async fn ensure_free(
    tx: &TenantTx,
    sku: &str,
    barcodes: &[String],
    except: Option<ProductId>,
) -> AppResult<()> {
    let clash = tx
        .one(product::Entity::find().filter(product::Column::Sku.eq(sku)))
        .await?;
    if let Some(existing) = clash
        && Some(existing.id) != except
    {
        return Err(AppError::Conflict(format!("SKU {sku} is already used")));
    }
    if !barcodes.is_empty() {
        let taken = tx
            .all(
                product_barcode::Entity::find()
                    .filter(product_barcode::Column::Barcode.is_in(barcodes.iter().cloned())),
            )
            .await?;
        if let Some(taken) = taken.iter().find(|b| Some(b.product_id) != except) {
            return Err(AppError::Conflict(format!(
                "barcode {} is already used",
                taken.barcode
            )));
        }
    }
    Ok(())
}

pub async fn create(db: &TenantDb, input: ProductInput) -> AppResult<product::Model> {
    let clean = clean(&input)?;
    let mut tx = db.write().await?;
    ensure_free(&tx, &clean.sku, &clean.barcodes, None).await?;
    let sku = clean.sku.clone();
    let now = Utc::now();
    let product = tx
        .insert(product::ActiveModel {
            id: Set(ProductId::generate()),
            tenant_id: Set(tx.tenant()),
            sku: Set(clean.sku),
            name: Set(clean.name),
            description: Set(clean.description),
            base_unit: Set(clean.base_unit),
            tracking: Set(clean.tracking),
            expiry_required: Set(input.expiry_required),
            reorder_point: Set(input.reorder_point),
            reorder_quantity: Set(input.reorder_quantity),
            weight_grams: Set(input.weight_grams),
            length_mm: Set(input.length_mm),
            width_mm: Set(input.width_mm),
            height_mm: Set(input.height_mm),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await
        .map_err(on_duplicate(|| format!("SKU {sku} is already used")))?;
    for barcode in &clean.barcodes {
        tx.insert(product_barcode::ActiveModel {
            tenant_id: Set(tx.tenant()),
            barcode: Set(barcode.clone()),
            product_id: Set(product.id),
        })
        .await
        .map_err(on_duplicate(|| {
            format!("barcode {barcode} is already used")
        }))?;
    }
    for (name, base_quantity) in &clean.units {
        tx.insert(product_unit::ActiveModel {
            tenant_id: Set(tx.tenant()),
            product_id: Set(product.id),
            name: Set(name.clone()),
            base_quantity: Set(*base_quantity),
        })
        .await?;
    }
    tx.record(
        AuditRecord::new("product.create", "product", product.id)
            .with_change(json!(null), snapshot(&product, &clean.barcodes)),
    )
    .await?;
    tx.commit().await?;
    Ok(product)
}

pub async fn get(db: &TenantDb, id: ProductId) -> AppResult<product::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<product::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "product" })
}

pub async fn by_barcode(db: &TenantDb, barcode: &str) -> AppResult<product::Model> {
    let tx = db.read().await?;
    let found = tx
        .one(
            product_barcode::Entity::find()
                .filter(product_barcode::Column::Barcode.eq(barcode.trim())),
        )
        .await?
        .ok_or(AppError::NotFound { entity: "product" })?;
    tx.find_by_id::<product::Entity>(found.product_id)
        .await?
        .ok_or(AppError::NotFound { entity: "product" })
}

/// What a product list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    /// SKU or name (case-insensitive, partial) or a whole barcode.
    pub search: Option<String>,
    pub include_archived: bool,
    /// Only products whose available stock is below their reorder point.
    pub below_reorder_point: bool,
    /// Only products of this tracking mode.
    pub tracking: Option<Tracking>,
}

/// What a product list may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProductOrder {
    #[default]
    Sku,
    Name,
    /// Creation order (ids are time-ordered).
    Created,
}

/// A page of products matching `filter`.
pub async fn page(
    db: &TenantDb,
    filter: &ProductFilter,
    order: ProductOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<product::Model>> {
    let mut query = product::Entity::find();
    if !filter.include_archived {
        query = query.filter(product::Column::IsActive.eq(true));
    }
    if let Some(tracking) = filter.tracking {
        query = query.filter(product::Column::Tracking.eq(tracking));
    }
    if filter.below_reorder_point {
        // Available (on hand minus reserved, over every location) below the reorder point. The
        // subquery is correlated on the tenant too, so it cannot read another organisation's
        // balances even where no row-level security applies (SQLite).
        query = query.filter(Expr::cust(
            "products.reorder_point > COALESCE((SELECT SUM(b.on_hand - b.reserved) \
             FROM stock_balances b WHERE b.tenant_id = products.tenant_id \
             AND b.product_id = products.id), 0)",
        ));
    }
    let tx = db.read().await?;
    if let Some(pattern) = text::search_pattern(filter.search.as_deref())? {
        let search = filter.search.as_deref().unwrap_or_default().trim();
        let by_barcode: Vec<ProductId> = tx
            .all(
                product_barcode::Entity::find().filter(product_barcode::Column::Barcode.eq(search)),
            )
            .await?
            .into_iter()
            .map(|b| b.product_id)
            .collect();
        query = query.filter(
            Condition::any()
                .add(text::lower(product::Column::Sku).like(pattern.clone()))
                .add(text::lower(product::Column::Name).like(pattern))
                .add(product::Column::Id.is_in(by_barcode)),
        );
    }
    let columns = match order {
        ProductOrder::Sku => vec![product::Column::Sku, product::Column::Id],
        ProductOrder::Name => vec![product::Column::Name, product::Column::Id],
        ProductOrder::Created => vec![product::Column::Id],
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

/// Archives (or restores) a product.
pub async fn set_active(db: &TenantDb, id: ProductId, active: bool) -> AppResult<product::Model> {
    let mut tx = db.write().await?;
    // Locked first: postings share-lock the product, so this waits for those in flight.
    let before = tx
        .one(product::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound { entity: "product" })?;
    if before.is_active == active {
        // Already so: nothing changes, so nothing is recorded (a retried archive is a no-op).
        return Ok(before);
    }
    tx.update_many(
        product::Entity::update_many()
            .col_expr(product::Column::IsActive, Expr::value(active))
            .col_expr(product::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(product::Column::Id.eq(id)),
    )
    .await?;
    let action = if active {
        "product.restore"
    } else {
        "product.archive"
    };
    tx.record(AuditRecord::new(action, "product", id).with_change(
        json!({ "active": before.is_active }),
        json!({ "active": active }),
    ))
    .await?;
    tx.commit().await?;
    Ok(product::Model {
        is_active: active,
        ..before
    })
}

/// The barcodes of several products in one query (for the GraphQL data loader).
pub async fn barcodes_for(
    db: &TenantDb,
    ids: &[ProductId],
) -> AppResult<std::collections::HashMap<ProductId, Vec<String>>> {
    let tx = db.read().await?;
    let mut by_product: std::collections::HashMap<ProductId, Vec<String>> =
        std::collections::HashMap::new();
    for row in tx
        .all(
            product_barcode::Entity::find()
                .filter(product_barcode::Column::ProductId.is_in(ids.iter().copied()))
                .order_by_asc(product_barcode::Column::Barcode),
        )
        .await?
    {
        by_product
            .entry(row.product_id)
            .or_default()
            .push(row.barcode);
    }
    Ok(by_product)
}

/// Replaces a product's details, barcodes and pack conversions. The tracking mode cannot change
/// once the product has stock history (its lots would no longer make sense).
pub async fn update(
    db: &TenantDb,
    id: ProductId,
    input: ProductInput,
) -> AppResult<product::Model> {
    let clean = clean(&input)?;
    let mut tx = db.write().await?;
    let before = tx
        .find_by_id::<product::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "product" })?;
    let old_barcodes: Vec<String> = tx
        .all(product_barcode::Entity::find().filter(product_barcode::Column::ProductId.eq(id)))
        .await?
        .into_iter()
        .map(|b| b.barcode)
        .collect();
    ensure_free(&tx, &clean.sku, &clean.barcodes, Some(id)).await?;
    if clean.tracking != before.tracking {
        let history = tx
            .count(stock_movement::Entity::find().filter(stock_movement::Column::ProductId.eq(id)))
            .await?;
        if history > 0 {
            return Err(AppError::Conflict(format!(
                "{} has stock history: its tracking mode cannot change",
                before.sku
            )));
        }
    }
    let now = Utc::now();
    tx.update_many(
        product::Entity::update_many()
            .col_expr(product::Column::Sku, Expr::value(clean.sku.clone()))
            .col_expr(product::Column::Name, Expr::value(clean.name.clone()))
            .col_expr(
                product::Column::Description,
                Expr::value(clean.description.clone()),
            )
            .col_expr(
                product::Column::BaseUnit,
                Expr::value(clean.base_unit.clone()),
            )
            .col_expr(product::Column::Tracking, Expr::value(clean.tracking))
            .col_expr(
                product::Column::ExpiryRequired,
                Expr::value(input.expiry_required),
            )
            .col_expr(
                product::Column::ReorderPoint,
                Expr::value(input.reorder_point),
            )
            .col_expr(
                product::Column::ReorderQuantity,
                Expr::value(input.reorder_quantity),
            )
            .col_expr(
                product::Column::WeightGrams,
                Expr::value(input.weight_grams),
            )
            .col_expr(product::Column::LengthMm, Expr::value(input.length_mm))
            .col_expr(product::Column::WidthMm, Expr::value(input.width_mm))
            .col_expr(product::Column::HeightMm, Expr::value(input.height_mm))
            .col_expr(product::Column::UpdatedAt, Expr::value(now))
            .filter(product::Column::Id.eq(id)),
    )
    .await
    .map_err(on_duplicate(|| {
        format!("SKU {} is already used", clean.sku)
    }))?;
    tx.delete_many(
        product_barcode::Entity::delete_many().filter(product_barcode::Column::ProductId.eq(id)),
    )
    .await?;
    for barcode in &clean.barcodes {
        tx.insert(product_barcode::ActiveModel {
            tenant_id: Set(tx.tenant()),
            barcode: Set(barcode.clone()),
            product_id: Set(id),
        })
        .await
        .map_err(on_duplicate(|| {
            format!("barcode {barcode} is already used")
        }))?;
    }
    tx.delete_many(
        product_unit::Entity::delete_many().filter(product_unit::Column::ProductId.eq(id)),
    )
    .await?;
    for (name, base_quantity) in &clean.units {
        tx.insert(product_unit::ActiveModel {
            tenant_id: Set(tx.tenant()),
            product_id: Set(id),
            name: Set(name.clone()),
            base_quantity: Set(*base_quantity),
        })
        .await?;
    }
    let after = product::Model {
        sku: clean.sku,
        name: clean.name,
        description: clean.description,
        base_unit: clean.base_unit,
        tracking: clean.tracking,
        expiry_required: input.expiry_required,
        reorder_point: input.reorder_point,
        reorder_quantity: input.reorder_quantity,
        weight_grams: input.weight_grams,
        length_mm: input.length_mm,
        width_mm: input.width_mm,
        height_mm: input.height_mm,
        updated_at: now,
        ..before.clone()
    };
    tx.record(
        AuditRecord::new("product.update", "product", id).with_change(
            snapshot(&before, &old_barcodes),
            snapshot(&after, &clean.barcodes),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The pack conversions of several products in one query (for the GraphQL data loader).
pub async fn units_for(
    db: &TenantDb,
    ids: &[ProductId],
) -> AppResult<std::collections::HashMap<ProductId, Vec<product_unit::Model>>> {
    let tx = db.read().await?;
    let mut by_product: std::collections::HashMap<ProductId, Vec<product_unit::Model>> =
        std::collections::HashMap::new();
    for row in tx
        .all(
            product_unit::Entity::find()
                .filter(product_unit::Column::ProductId.is_in(ids.iter().copied()))
                .order_by_asc(product_unit::Column::Name),
        )
        .await?
    {
        by_product.entry(row.product_id).or_default().push(row);
    }
    Ok(by_product)
}
