//! Shipments: packages of a packed or dispatched sales order handed to a carrier, with a
//! tracking number, a status history and the delivery confirmation.
//!
//! A shipment is CREATED with some (by default all the not yet shipped) packages of its order;
//! a package ships once (a unique key stands behind that). Its status then follows the carrier's
//! reports (see the [`Lifecycle`] impl); each change, its creation included, writes one
//! `shipment_events` row and one audit event in the same transaction. DELIVERED needs the
//! signer's name and is final.
//!
//! Lock order: the sales order (exclusive, so two shipments of one order queue for its
//! packages), then the carrier service and its carrier (shared, so an archive in flight is
//! seen), then the document counter. A status change locks only the shipment.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use entity::{
    CarrierId, CarrierServiceId, PackageId, SalesOrderId, SalesOrderStatus, ShipmentEventId,
    ShipmentId, ShipmentPackageId, ShipmentStatus, carrier, carrier_service, package, sales_order,
    shipment, shipment_event, shipment_package,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use serde_json::json;

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult, on_duplicate};
use crate::service::carriers::{TrackingNumber, tracking_url};
use crate::service::lifecycle::Lifecycle;
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::{bounds, numbering, selling, text};
use crate::tenancy::{TenantDb, TenantTx};

/// How far ahead of the server's clock a reported time may be (clocks of handhelds drift).
const CLOCK_SKEW: Duration = Duration::minutes(5);

impl Lifecycle for ShipmentStatus {
    const DOCUMENT: &'static str = "shipment";

    fn label(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::InTransit => "IN_TRANSIT",
            Self::Delivered => "DELIVERED",
            Self::Exception => "EXCEPTION",
        }
    }

    /// CREATED → IN_TRANSIT (collected) or EXCEPTION (not collected, refused at the depot);
    /// IN_TRANSIT → DELIVERED or EXCEPTION; EXCEPTION → IN_TRANSIT (resolved, moving again) or
    /// DELIVERED (delivered after all); DELIVERED is final. A shipment is never uncreated:
    /// nothing goes back to CREATED.
    fn next(self) -> &'static [Self] {
        use ShipmentStatus::*;
        match self {
            Created => &[InTransit, Exception],
            InTransit => &[Delivered, Exception],
            Exception => &[InTransit, Delivered],
            Delivered => &[],
        }
    }
}

/// A new shipment as the caller writes it.
#[derive(Clone, Debug)]
pub struct ShipmentInput {
    pub sales_order_id: SalesOrderId,
    pub carrier_service_id: CarrierServiceId,
    pub tracking_number: String,
    /// The order's packages to send; all those not yet shipped when None.
    pub package_ids: Option<Vec<PackageId>>,
}

/// What a shipment list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct ShipmentFilter {
    /// Any of these states (every state when empty).
    pub statuses: Vec<ShipmentStatus>,
    pub sales_order_id: Option<SalesOrderId>,
    pub carrier_id: Option<CarrierId>,
}

/// What shipment lists may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShipmentOrder {
    #[default]
    Number,
    /// Creation order (ids are time-ordered).
    Created,
}

const NOT_FOUND: AppError = AppError::NotFound { entity: "shipment" };

/// Most packages one shipment may carry (an order goes into at most this many).
const MAX_PACKAGES: usize = crate::service::dispatching::MAX_PACKAGES;

/// The tracking link of a shipment sent with `carrier`.
pub fn tracking_url_of(carrier: &carrier::Model, shipment: &shipment::Model) -> Option<String> {
    // Stored numbers were parsed on the way in; one that no longer parses has no link.
    TrackingNumber::parse("trackingNumber", &shipment.tracking_number)
        .ok()
        .map(|number| tracking_url(&carrier.tracking_url_template, &number))
}

/// Refuses a reported time in the future (beyond clock skew) or before the shipment's last
/// event, so the history reads in order.
fn check_occurred(
    field: &'static str,
    at: DateTime<Utc>,
    last: Option<&shipment_event::Model>,
) -> AppResult<()> {
    bounds::check_time(field, at)?;
    if at > Utc::now() + CLOCK_SKEW {
        return Err(AppError::bad_input(
            field,
            format!("{field} is in the future"),
        ));
    }
    if let Some(last) = last
        && at < last.occurred_at
    {
        return Err(AppError::bad_input(
            field,
            format!(
                "{field} is before the shipment's last event ({})",
                last.occurred_at.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

async fn record_event(
    tx: &mut TenantTx,
    shipment: ShipmentId,
    status: ShipmentStatus,
    note: String,
    occurred_at: DateTime<Utc>,
) -> AppResult<shipment_event::Model> {
    let actor = tx.actor().user_id();
    Ok(tx
        .insert(shipment_event::ActiveModel {
            id: Set(ShipmentEventId::generate()),
            tenant_id: Set(tx.tenant()),
            shipment_id: Set(shipment),
            status: Set(status),
            note: Set(note),
            occurred_at: Set(occurred_at),
            recorded_at: Set(Utc::now()),
            actor_user_id: Set(actor),
        })
        .await?)
}

/// Creates a shipment of packages of a PACKED or DISPATCHED order, with an active carrier
/// service level of an active carrier. Audited as `shipment.create`.
pub async fn create(db: &TenantDb, input: ShipmentInput) -> AppResult<shipment::Model> {
    let tracking = TrackingNumber::parse("trackingNumber", &input.tracking_number)?;
    if let Some(ids) = &input.package_ids {
        if ids.is_empty() || ids.len() > MAX_PACKAGES {
            return Err(AppError::bad_input(
                "packageIds",
                format!("a shipment carries 1 to {MAX_PACKAGES} packages"),
            ));
        }
        if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
            return Err(AppError::bad_input(
                "packageIds",
                "each package may be named once",
            ));
        }
    }
    let mut tx = db.write().await?;
    let order = selling::lock(&tx, input.sales_order_id).await?;
    if !matches!(
        order.status,
        SalesOrderStatus::Packed | SalesOrderStatus::Dispatched
    ) {
        return Err(AppError::Conflict(format!(
            "sales order {} is {}: only a PACKED or DISPATCHED order's packages ship",
            order.number,
            order.status.label()
        )));
    }
    let service = tx
        .one(carrier_service::Entity::find_by_id(input.carrier_service_id).lock_shared())
        .await?
        .ok_or(AppError::NotFound {
            entity: "carrier service",
        })?;
    let carrier = tx
        .one(carrier::Entity::find_by_id(service.carrier_id).lock_shared())
        .await?
        .ok_or_else(|| AppError::Internal("service level without its carrier".into()))?;
    if !carrier.is_active {
        return Err(AppError::Conflict(format!(
            "carrier {} is archived",
            carrier.code
        )));
    }
    if !service.is_active {
        return Err(AppError::Conflict(format!(
            "service level {} of {} is archived",
            service.code, carrier.code
        )));
    }
    let packages = tx
        .all(
            package::Entity::find()
                .filter(package::Column::SalesOrderId.eq(order.id))
                .order_by_asc(package::Column::PackageNumber),
        )
        .await?;
    let shipped: HashSet<PackageId> = tx
        .all(
            shipment_package::Entity::find()
                .filter(shipment_package::Column::PackageId.is_in(packages.iter().map(|p| p.id))),
        )
        .await?
        .into_iter()
        .map(|row| row.package_id)
        .collect();
    let chosen: Vec<&package::Model> = match &input.package_ids {
        None => {
            let left: Vec<&package::Model> = packages
                .iter()
                .filter(|p| !shipped.contains(&p.id))
                .collect();
            if left.is_empty() {
                return Err(AppError::Conflict(format!(
                    "every package of sales order {} has shipped",
                    order.number
                )));
            }
            left
        }
        Some(ids) => {
            let by_id: HashMap<PackageId, &package::Model> =
                packages.iter().map(|p| (p.id, p)).collect();
            let mut chosen = Vec::with_capacity(ids.len());
            for id in ids {
                // Another order's package is as missing as another organisation's.
                let package = by_id
                    .get(id)
                    .copied()
                    .ok_or(AppError::NotFound { entity: "package" })?;
                if shipped.contains(id) {
                    return Err(AppError::Conflict(format!(
                        "package {} of sales order {} has shipped already",
                        package.package_number, order.number
                    )));
                }
                chosen.push(package);
            }
            chosen.sort_by_key(|p| p.package_number);
            chosen
        }
    };
    let number = numbering::next(&mut tx, "shipment", "SH").await?;
    let now = Utc::now();
    let created = tx
        .insert(shipment::ActiveModel {
            id: Set(ShipmentId::generate()),
            tenant_id: Set(tx.tenant()),
            number: Set(number),
            sales_order_id: Set(order.id),
            carrier_id: Set(carrier.id),
            carrier_service_id: Set(service.id),
            tracking_number: Set(tracking.as_str().to_owned()),
            status: Set(ShipmentStatus::Created),
            delivered_at: Set(None),
            received_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    for package in &chosen {
        tx.insert(shipment_package::ActiveModel {
            id: Set(ShipmentPackageId::generate()),
            tenant_id: Set(tx.tenant()),
            shipment_id: Set(created.id),
            package_id: Set(package.id),
        })
        .await
        .map_err(on_duplicate(|| {
            format!(
                "package {} of sales order {} has shipped already",
                package.package_number, order.number
            )
        }))?;
    }
    record_event(
        &mut tx,
        created.id,
        ShipmentStatus::Created,
        String::new(),
        now,
    )
    .await?;
    tx.record(
        AuditRecord::new("shipment.create", "shipment", created.id).with_change(
            json!(null),
            json!({
                "number": created.number,
                "salesOrder": order.number,
                "carrier": carrier.code,
                "service": service.code,
                "trackingNumber": created.tracking_number,
                "status": created.status.to_value(),
                "packages": chosen.iter().map(|p| p.package_number).collect::<Vec<_>>(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// The shipment, locked for a change of status, and its latest event.
async fn lock(
    tx: &TenantTx,
    id: ShipmentId,
) -> AppResult<(shipment::Model, Option<shipment_event::Model>)> {
    let shipment = tx
        .one(shipment::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(NOT_FOUND)?;
    let last = tx
        .one(
            shipment_event::Entity::find()
                .filter(shipment_event::Column::ShipmentId.eq(id))
                .order_by_desc(shipment_event::Column::OccurredAt)
                .order_by_desc(shipment_event::Column::Id),
        )
        .await?;
    Ok((shipment, last))
}

/// Moves a locked shipment to `to` (checked by its lifecycle), writing its event and audit
/// event, and commits.
async fn change_status(
    mut tx: TenantTx,
    before: shipment::Model,
    to: ShipmentStatus,
    note: String,
    occurred_at: DateTime<Utc>,
    delivery: Option<String>,
) -> AppResult<shipment::Model> {
    before.status.ensure_can_become(to, &before.number)?;
    let after = shipment::Model {
        status: to,
        delivered_at: delivery.as_ref().map(|_| occurred_at),
        received_by: delivery.clone(),
        updated_at: Utc::now(),
        ..before.clone()
    };
    tx.update_many(
        shipment::Entity::update_many()
            .col_expr(shipment::Column::Status, Expr::value(to))
            .col_expr(
                shipment::Column::DeliveredAt,
                Expr::value(after.delivered_at),
            )
            .col_expr(
                shipment::Column::ReceivedBy,
                Expr::value(after.received_by.clone()),
            )
            .col_expr(shipment::Column::UpdatedAt, Expr::value(after.updated_at))
            .filter(shipment::Column::Id.eq(before.id)),
    )
    .await?;
    record_event(&mut tx, before.id, to, note.clone(), occurred_at).await?;
    let action = if delivery.is_some() {
        "shipment.deliver"
    } else {
        "shipment.status"
    };
    tx.record(AuditRecord::new(action, "shipment", before.id).with_change(
        json!({ "number": before.number, "status": before.status.to_value() }),
        json!({
            "number": after.number,
            "status": to.to_value(),
            "note": note,
            "occurredAt": occurred_at,
            "receivedBy": after.received_by,
        }),
    ))
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Records the carrier's report that the shipment is now `to` (IN_TRANSIT or EXCEPTION; a
/// delivery is confirmed with [`confirm_delivery`]). Audited as `shipment.status`.
pub async fn update_status(
    db: &TenantDb,
    id: ShipmentId,
    to: ShipmentStatus,
    note: &str,
    occurred_at: Option<DateTime<Utc>>,
) -> AppResult<shipment::Model> {
    if to == ShipmentStatus::Delivered {
        return Err(AppError::bad_input(
            "status",
            "a delivery is confirmed with confirmDelivery, which records who signed",
        ));
    }
    let note = text::multi_line("note", note, 2000)?;
    let tx = db.write().await?;
    let (before, last) = lock(&tx, id).await?;
    let at = occurred_at.unwrap_or_else(Utc::now);
    check_occurred("occurredAt", at, last.as_ref())?;
    change_status(tx, before, to, note, at, None).await
}

/// Confirms the delivery: DELIVERED, signed for by `received_by`, at `delivered_at` (now when
/// absent). Final. Audited as `shipment.deliver`.
pub async fn confirm_delivery(
    db: &TenantDb,
    id: ShipmentId,
    received_by: &str,
    delivered_at: Option<DateTime<Utc>>,
) -> AppResult<shipment::Model> {
    let received_by = text::single_line("receivedBy", received_by, 200)?;
    let tx = db.write().await?;
    let (before, last) = lock(&tx, id).await?;
    let at = delivered_at.unwrap_or_else(Utc::now);
    check_occurred("deliveredAt", at, last.as_ref())?;
    change_status(
        tx,
        before,
        ShipmentStatus::Delivered,
        String::new(),
        at,
        Some(received_by),
    )
    .await
}

/// One shipment.
pub async fn get(db: &TenantDb, id: ShipmentId) -> AppResult<shipment::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<shipment::Entity>(id)
        .await?
        .ok_or(NOT_FOUND)
}

/// The shipments of these sales orders, oldest first.
pub async fn of_orders(db: &TenantDb, orders: &[SalesOrderId]) -> AppResult<Vec<shipment::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            shipment::Entity::find()
                .filter(shipment::Column::SalesOrderId.is_in(orders.iter().copied()))
                .order_by_asc(shipment::Column::Id),
        )
        .await?)
}

/// A page of the organisation's shipments.
pub async fn list(
    db: &TenantDb,
    filter: &ShipmentFilter,
    order: ShipmentOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<shipment::Model>> {
    let tx = db.read().await?;
    let mut query = shipment::Entity::find();
    if !filter.statuses.is_empty() {
        query = query.filter(shipment::Column::Status.is_in(filter.statuses.clone()));
    }
    if let Some(id) = filter.sales_order_id {
        if tx.find_by_id::<sales_order::Entity>(id).await?.is_none() {
            return Err(AppError::NotFound {
                entity: "sales order",
            });
        }
        query = query.filter(shipment::Column::SalesOrderId.eq(id));
    }
    if let Some(id) = filter.carrier_id {
        if tx.find_by_id::<carrier::Entity>(id).await?.is_none() {
            return Err(AppError::NotFound { entity: "carrier" });
        }
        query = query.filter(shipment::Column::CarrierId.eq(id));
    }
    let columns = match order {
        ShipmentOrder::Number => vec![shipment::Column::Number, shipment::Column::Id],
        ShipmentOrder::Created => vec![shipment::Column::Id],
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

/// The packages of these shipments, in package order.
pub async fn packages_of(
    db: &TenantDb,
    shipments: &[ShipmentId],
) -> AppResult<Vec<(ShipmentId, package::Model)>> {
    let tx = db.read().await?;
    let links = tx
        .all(
            shipment_package::Entity::find()
                .filter(shipment_package::Column::ShipmentId.is_in(shipments.iter().copied())),
        )
        .await?;
    let mut packages: HashMap<PackageId, package::Model> = tx
        .all(
            package::Entity::find()
                .filter(package::Column::Id.is_in(links.iter().map(|l| l.package_id))),
        )
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut found: Vec<(ShipmentId, package::Model)> = links
        .into_iter()
        .filter_map(|link| {
            packages
                .remove(&link.package_id)
                .map(|p| (link.shipment_id, p))
        })
        .collect();
    found.sort_by_key(|(_, p)| p.package_number);
    Ok(found)
}

/// The status histories of these shipments, oldest first.
pub async fn events_of(
    db: &TenantDb,
    shipments: &[ShipmentId],
) -> AppResult<Vec<shipment_event::Model>> {
    let tx = db.read().await?;
    Ok(tx
        .all(
            shipment_event::Entity::find()
                .filter(shipment_event::Column::ShipmentId.is_in(shipments.iter().copied()))
                .order_by_asc(shipment_event::Column::OccurredAt)
                .order_by_asc(shipment_event::Column::Id),
        )
        .await?)
}
