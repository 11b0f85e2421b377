//! Warehouses and the locations (bins) inside them.

use chrono::Utc;
use entity::{LocationId, LocationKind, WarehouseId, location, warehouse};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::ExprTrait,
};
use serde_json::json;

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult, on_duplicate};
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::text;
use crate::tenancy::TenantDb;

pub struct WarehouseInput {
    pub code: String,
    pub name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
}

pub async fn create_warehouse(db: &TenantDb, input: WarehouseInput) -> AppResult<warehouse::Model> {
    let code = text::single_line("code", &input.code, 32)?;
    let name = text::single_line("name", &input.name, 200)?;
    let mut tx = db.write().await?;
    if tx
        .one(warehouse::Entity::find().filter(warehouse::Column::Code.eq(code.as_str())))
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "warehouse code {code} is already used"
        )));
    }
    let created = tx
        .insert(warehouse::ActiveModel {
            id: Set(WarehouseId::generate()),
            tenant_id: Set(tx.tenant()),
            code: Set(code.clone()),
            name: Set(name),
            address_line1: Set(text::multi_line("addressLine1", &input.address_line1, 200)?),
            address_line2: Set(text::multi_line("addressLine2", &input.address_line2, 200)?),
            city: Set(text::multi_line("city", &input.city, 100)?),
            postal_code: Set(text::multi_line("postalCode", &input.postal_code, 20)?),
            country: Set(text::multi_line("country", &input.country, 60)?),
            is_active: Set(true),
            created_at: Set(Utc::now()),
        })
        .await
        .map_err(on_duplicate(|| {
            format!("warehouse code {code} is already used")
        }))?;
    tx.record(
        AuditRecord::new("warehouse.create", "warehouse", created.id).with_change(
            json!(null),
            json!({ "code": created.code, "name": created.name }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// One warehouse, archived or not.
pub async fn warehouse(db: &TenantDb, id: WarehouseId) -> AppResult<warehouse::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<warehouse::Entity>(id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "warehouse",
        })
}

/// One location, archived or not.
pub async fn location(db: &TenantDb, id: LocationId) -> AppResult<location::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<location::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "location" })
}

/// What a warehouse list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct WarehouseFilter {
    /// Code or name, case-insensitive, partial.
    pub search: Option<String>,
    pub include_archived: bool,
}

/// What warehouse and location lists may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlaceOrder {
    #[default]
    Code,
    /// Warehouses only: by name.
    Name,
    /// Creation order (ids are time-ordered).
    Created,
}

/// A page of the organisation's warehouses.
pub async fn warehouses(
    db: &TenantDb,
    filter: &WarehouseFilter,
    order: PlaceOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<warehouse::Model>> {
    let mut query = warehouse::Entity::find();
    if !filter.include_archived {
        query = query.filter(warehouse::Column::IsActive.eq(true));
    }
    if let Some(pattern) = text::search_pattern(filter.search.as_deref())? {
        query = query.filter(
            Condition::any()
                .add(text::lower(warehouse::Column::Code).like(pattern.clone()))
                .add(text::lower(warehouse::Column::Name).like(pattern)),
        );
    }
    let columns = match order {
        PlaceOrder::Code => vec![warehouse::Column::Code, warehouse::Column::Id],
        PlaceOrder::Name => vec![warehouse::Column::Name, warehouse::Column::Id],
        PlaceOrder::Created => vec![warehouse::Column::Id],
    };
    let tx = db.read().await?;
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

pub struct LocationInput {
    pub warehouse_id: WarehouseId,
    pub code: String,
    pub kind: LocationKind,
    pub pickable: bool,
}

pub async fn create_location(db: &TenantDb, input: LocationInput) -> AppResult<location::Model> {
    let code = text::single_line("code", &input.code, 32)?;
    let mut tx = db.write().await?;
    // Share-locked so that archiving the warehouse cannot pass this check unseen.
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
    let clash = tx
        .one(
            location::Entity::find()
                .filter(location::Column::WarehouseId.eq(warehouse.id))
                .filter(location::Column::Code.eq(code.as_str())),
        )
        .await?;
    if clash.is_some() {
        return Err(AppError::Conflict(format!(
            "{} already has a location {code}",
            warehouse.code
        )));
    }
    let created = tx
        .insert(location::ActiveModel {
            id: Set(LocationId::generate()),
            tenant_id: Set(tx.tenant()),
            warehouse_id: Set(warehouse.id),
            code: Set(code.clone()),
            kind: Set(input.kind),
            pickable: Set(input.pickable),
            is_active: Set(true),
            created_at: Set(Utc::now()),
        })
        .await
        .map_err(on_duplicate(|| {
            format!("{} already has a location {code}", warehouse.code)
        }))?;
    tx.record(AuditRecord::new("location.create", "location", created.id).with_change(
        json!(null),
        json!({ "warehouse": warehouse.code, "code": created.code, "kind": created.kind.to_value(), "pickable": created.pickable }),
    ))
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// What a location list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct LocationFilter {
    /// Only this warehouse's locations (NOT_FOUND if it does not exist).
    pub warehouse_id: Option<WarehouseId>,
    /// Only locations of this kind.
    pub kind: Option<LocationKind>,
    pub pickable: Option<bool>,
    /// Code, case-insensitive, partial (e.g. `A-01` for an aisle).
    pub search: Option<String>,
    pub include_archived: bool,
}

/// A page of locations.
pub async fn locations(
    db: &TenantDb,
    filter: &LocationFilter,
    order: PlaceOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<location::Model>> {
    let tx = db.read().await?;
    let mut query = location::Entity::find();
    if let Some(warehouse_id) = filter.warehouse_id {
        if tx
            .find_by_id::<warehouse::Entity>(warehouse_id)
            .await?
            .is_none()
        {
            return Err(AppError::NotFound {
                entity: "warehouse",
            });
        }
        query = query.filter(location::Column::WarehouseId.eq(warehouse_id));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(location::Column::Kind.eq(kind));
    }
    if let Some(pickable) = filter.pickable {
        query = query.filter(location::Column::Pickable.eq(pickable));
    }
    if let Some(pattern) = text::search_pattern(filter.search.as_deref())? {
        query = query.filter(text::lower(location::Column::Code).like(pattern));
    }
    if !filter.include_archived {
        query = query.filter(location::Column::IsActive.eq(true));
    }
    let columns = match order {
        PlaceOrder::Code | PlaceOrder::Name => vec![location::Column::Code, location::Column::Id],
        PlaceOrder::Created => vec![location::Column::Id],
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

/// Archives or restores a location. A location holding stock cannot be archived.
pub async fn set_location_active(
    db: &TenantDb,
    id: LocationId,
    active: bool,
) -> AppResult<location::Model> {
    use entity::stock_balance;
    use sea_orm::sea_query::Expr;

    let mut tx = db.write().await?;
    // Locked before the stock check: postings share-lock their locations, so this waits for those
    // in flight and later ones see the location archived.
    let before = tx
        .one(location::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound { entity: "location" })?;
    if before.is_active == active {
        // Already so: nothing changes, so nothing is recorded (a retried archive is a no-op).
        return Ok(before);
    }
    if active {
        let warehouse = tx
            .find_by_id::<warehouse::Entity>(before.warehouse_id)
            .await?
            .ok_or_else(|| AppError::Internal("location without its warehouse".into()))?;
        if !warehouse.is_active {
            return Err(AppError::Conflict(format!(
                "warehouse {} is archived: restore it first",
                warehouse.code
            )));
        }
    }
    if !active {
        let holding = tx
            .count(
                stock_balance::Entity::find()
                    .filter(stock_balance::Column::LocationId.eq(id))
                    .filter(stock_balance::Column::OnHand.gt(0)),
            )
            .await?;
        if holding > 0 {
            return Err(AppError::Conflict(format!(
                "location {} still holds stock of {holding} product(s); move it first",
                before.code
            )));
        }
    }
    tx.update_many(
        location::Entity::update_many()
            .col_expr(location::Column::IsActive, Expr::value(active))
            .filter(location::Column::Id.eq(id)),
    )
    .await?;
    let action = if active {
        "location.restore"
    } else {
        "location.archive"
    };
    tx.record(AuditRecord::new(action, "location", id).with_change(
        json!({ "active": before.is_active }),
        json!({ "active": active }),
    ))
    .await?;
    tx.commit().await?;
    Ok(location::Model {
        is_active: active,
        ..before
    })
}

/// Archives or restores a warehouse. A warehouse with stock in any location cannot be archived.
pub async fn set_warehouse_active(
    db: &TenantDb,
    id: WarehouseId,
    active: bool,
) -> AppResult<warehouse::Model> {
    use entity::stock_balance;
    use sea_orm::sea_query::Expr;

    let mut tx = db.write().await?;
    // The warehouse and then its locations are locked before the stock check, as for one
    // location: postings and new locations in flight finish first, later ones see it archived.
    let before = tx
        .one(warehouse::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound {
            entity: "warehouse",
        })?;
    if before.is_active == active {
        // Already so: nothing changes, so nothing is recorded (a retried archive is a no-op).
        return Ok(before);
    }
    let mut archived_locations = Vec::new();
    if !active {
        let locations = tx
            .all(
                location::Entity::find()
                    .filter(location::Column::WarehouseId.eq(id))
                    // In id order, the order postings take locations in: no lock cycles.
                    .order_by_asc(location::Column::Id)
                    .lock_exclusive(),
            )
            .await?;
        let location_ids: Vec<LocationId> = locations.iter().map(|l| l.id).collect();
        let holding = tx
            .count(
                stock_balance::Entity::find()
                    .filter(stock_balance::Column::LocationId.is_in(location_ids))
                    .filter(stock_balance::Column::OnHand.gt(0)),
            )
            .await?;
        if holding > 0 {
            return Err(AppError::Conflict(format!(
                "warehouse {} still holds stock; move it first",
                before.code
            )));
        }
        // Its locations go with it, so nothing can be put into an archived warehouse. Restoring
        // the warehouse leaves them archived: each is restored on purpose, or not at all.
        tx.update_many(
            location::Entity::update_many()
                .col_expr(location::Column::IsActive, Expr::value(false))
                .filter(location::Column::WarehouseId.eq(id))
                .filter(location::Column::IsActive.eq(true)),
        )
        .await?;
        archived_locations = locations
            .into_iter()
            .filter(|l| l.is_active)
            .map(|l| l.code)
            .collect();
    }
    tx.update_many(
        warehouse::Entity::update_many()
            .col_expr(warehouse::Column::IsActive, Expr::value(active))
            .filter(warehouse::Column::Id.eq(id)),
    )
    .await?;
    let action = if active {
        "warehouse.restore"
    } else {
        "warehouse.archive"
    };
    let mut record = AuditRecord::new(action, "warehouse", id).with_change(
        json!({ "active": before.is_active }),
        json!({ "active": active }),
    );
    if !archived_locations.is_empty() {
        record.detail["locationsArchived"] = json!(archived_locations);
    }
    tx.record(record).await?;
    tx.commit().await?;
    Ok(warehouse::Model {
        is_active: active,
        ..before
    })
}

/// Replaces a warehouse's code, name and address.
pub async fn update_warehouse(
    db: &TenantDb,
    id: WarehouseId,
    input: WarehouseInput,
) -> AppResult<warehouse::Model> {
    use sea_orm::sea_query::Expr;

    let code = text::single_line("code", &input.code, 32)?;
    let name = text::single_line("name", &input.name, 200)?;
    let after_fields = [
        text::multi_line("addressLine1", &input.address_line1, 200)?,
        text::multi_line("addressLine2", &input.address_line2, 200)?,
        text::multi_line("city", &input.city, 100)?,
        text::multi_line("postalCode", &input.postal_code, 20)?,
        text::multi_line("country", &input.country, 60)?,
    ];
    let mut tx = db.write().await?;
    let before = tx
        .find_by_id::<warehouse::Entity>(id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "warehouse",
        })?;
    let clash = tx
        .one(warehouse::Entity::find().filter(warehouse::Column::Code.eq(code.as_str())))
        .await?;
    if clash.is_some_and(|other| other.id != id) {
        return Err(AppError::Conflict(format!(
            "warehouse code {code} is already used"
        )));
    }
    let [line1, line2, city, postal_code, country] = after_fields;
    tx.update_many(
        warehouse::Entity::update_many()
            .col_expr(warehouse::Column::Code, Expr::value(code.clone()))
            .col_expr(warehouse::Column::Name, Expr::value(name.clone()))
            .col_expr(warehouse::Column::AddressLine1, Expr::value(line1.clone()))
            .col_expr(warehouse::Column::AddressLine2, Expr::value(line2.clone()))
            .col_expr(warehouse::Column::City, Expr::value(city.clone()))
            .col_expr(
                warehouse::Column::PostalCode,
                Expr::value(postal_code.clone()),
            )
            .col_expr(warehouse::Column::Country, Expr::value(country.clone()))
            .filter(warehouse::Column::Id.eq(id)),
    )
    .await
    .map_err(on_duplicate(|| {
        format!("warehouse code {code} is already used")
    }))?;
    let after = warehouse::Model {
        code,
        name,
        address_line1: line1,
        address_line2: line2,
        city,
        postal_code,
        country,
        ..before.clone()
    };
    let view = |w: &warehouse::Model| {
        json!({ "code": w.code, "name": w.name, "addressLine1": w.address_line1, "addressLine2": w.address_line2,
                "city": w.city, "postalCode": w.postal_code, "country": w.country })
    };
    tx.record(
        AuditRecord::new("warehouse.update", "warehouse", id)
            .with_change(view(&before), view(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Changes a location's code, kind and pickable flag (it stays in its warehouse).
pub async fn update_location(
    db: &TenantDb,
    id: LocationId,
    code: &str,
    kind: LocationKind,
    pickable: bool,
) -> AppResult<location::Model> {
    use sea_orm::sea_query::Expr;

    let code = text::single_line("code", code, 32)?;
    let mut tx = db.write().await?;
    let before = tx
        .find_by_id::<location::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "location" })?;
    let clash = tx
        .one(
            location::Entity::find()
                .filter(location::Column::WarehouseId.eq(before.warehouse_id))
                .filter(location::Column::Code.eq(code.as_str())),
        )
        .await?;
    if clash.is_some_and(|other| other.id != id) {
        return Err(AppError::Conflict(format!(
            "location code {code} is already used here"
        )));
    }
    tx.update_many(
        location::Entity::update_many()
            .col_expr(location::Column::Code, Expr::value(code.clone()))
            .col_expr(location::Column::Kind, Expr::value(kind))
            .col_expr(location::Column::Pickable, Expr::value(pickable))
            .filter(location::Column::Id.eq(id)),
    )
    .await
    .map_err(on_duplicate(|| {
        format!("location code {code} is already used here")
    }))?;
    let after = location::Model {
        code,
        kind,
        pickable,
        ..before.clone()
    };
    let view = |l: &location::Model| json!({ "code": l.code, "kind": l.kind.to_value(), "pickable": l.pickable });
    tx.record(
        AuditRecord::new("location.update", "location", id)
            .with_change(view(&before), view(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
