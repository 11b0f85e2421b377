//! A document's timeline: the audit events recorded on it and on the documents that belong to
//! its story, oldest first, each with the stock movements it posted (which the ledger names in
//! the event's detail, `movements`).
//!
//! - A sales order's story: the order itself (created to dispatched, every pick), the pick lists
//!   its picks were put on, its shipments and its customer returns.
//! - A purchase order's story: the order itself, its receipts and their put-away tasks.
//!
//! One query per kind of related document, one for the events of all of them and one for their
//! movements, so a page of orders costs the same statements at any length.

use std::collections::{HashMap, HashSet};

use entity::{
    MovementId, PurchaseOrderId, SalesOrderId, allocation, audit_event, customer_return,
    putaway_task, receipt, shipment, stock_movement,
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppResult;
use crate::tenancy::{TenantDb, TenantTx};

/// Most events one document's timeline shows (the oldest ones).
pub const MAX_EVENTS: usize = 500;

/// One event of a timeline and the movements it posted.
#[derive(Clone, Debug)]
pub struct Entry {
    pub event: audit_event::Model,
    pub movements: Vec<stock_movement::Model>,
}

/// A document as the audit log names it: its entity type and id.
type Subject = (&'static str, String);

/// The timelines of sales orders: each order's events, its pick lists', its shipments' and its
/// returns'.
pub async fn of_sales_orders(
    db: &TenantDb,
    ids: &[SalesOrderId],
) -> AppResult<HashMap<SalesOrderId, Vec<Entry>>> {
    let tx = db.read().await?;
    let mut story: Vec<(SalesOrderId, Subject)> = ids
        .iter()
        .map(|id| (*id, ("sales_order", id.to_string())))
        .collect();
    let picks = tx
        .all(
            allocation::Entity::find()
                .filter(allocation::Column::SalesOrderId.is_in(ids.iter().copied())),
        )
        .await?;
    let mut seen = HashSet::new();
    for pick in picks {
        if let Some(list) = pick.pick_list_id
            && seen.insert((pick.sales_order_id, list))
        {
            story.push((pick.sales_order_id, ("pick_list", list.to_string())));
        }
    }
    for sent in tx
        .all(
            shipment::Entity::find()
                .filter(shipment::Column::SalesOrderId.is_in(ids.iter().copied())),
        )
        .await?
    {
        story.push((sent.sales_order_id, ("shipment", sent.id.to_string())));
    }
    for returned in tx
        .all(
            customer_return::Entity::find()
                .filter(customer_return::Column::SalesOrderId.is_in(ids.iter().copied())),
        )
        .await?
    {
        story.push((
            returned.sales_order_id,
            ("customer_return", returned.id.to_string()),
        ));
    }
    timelines(&tx, ids, story).await
}

/// The timelines of purchase orders: each order's events, its receipts' and their put-away
/// tasks'.
pub async fn of_purchase_orders(
    db: &TenantDb,
    ids: &[PurchaseOrderId],
) -> AppResult<HashMap<PurchaseOrderId, Vec<Entry>>> {
    let tx = db.read().await?;
    let mut story: Vec<(PurchaseOrderId, Subject)> = ids
        .iter()
        .map(|id| (*id, ("purchase_order", id.to_string())))
        .collect();
    let receipts = tx
        .all(
            receipt::Entity::find()
                .filter(receipt::Column::PurchaseOrderId.is_in(ids.iter().copied())),
        )
        .await?;
    let mut order_of_receipt = HashMap::new();
    for received in &receipts {
        if let Some(order) = received.purchase_order_id {
            order_of_receipt.insert(received.id, order);
            story.push((order, ("receipt", received.id.to_string())));
        }
    }
    if !order_of_receipt.is_empty() {
        for task in tx
            .all(
                putaway_task::Entity::find().filter(
                    putaway_task::Column::ReceiptId.is_in(order_of_receipt.keys().copied()),
                ),
            )
            .await?
        {
            if let Some(order) = order_of_receipt.get(&task.receipt_id) {
                story.push((*order, ("putaway_task", task.id.to_string())));
            }
        }
    }
    timelines(&tx, ids, story).await
}

/// The events of every subject in `story`, grouped under the document each subject belongs to
/// (a pick list shared by two orders appears in both), oldest first, at most [`MAX_EVENTS`] per
/// document, with the movements each posted.
async fn timelines<K>(
    tx: &TenantTx,
    roots: &[K],
    story: Vec<(K, Subject)>,
) -> AppResult<HashMap<K, Vec<Entry>>>
where
    K: Copy + Eq + std::hash::Hash,
{
    let mut owners: HashMap<Subject, Vec<K>> = HashMap::new();
    let mut by_kind: HashMap<&'static str, Vec<String>> = HashMap::new();
    for (root, subject) in story {
        let owned = owners.entry(subject.clone()).or_default();
        if owned.is_empty() {
            by_kind
                .entry(subject.0)
                .or_default()
                .push(subject.1.clone());
        }
        owned.push(root);
    }
    let mut grouped: HashMap<K, Vec<(audit_event::Model, Vec<MovementId>)>> =
        roots.iter().map(|root| (*root, Vec::new())).collect();
    let mut wanted: Vec<MovementId> = Vec::new();
    if !by_kind.is_empty() {
        let mut any = Condition::any();
        for (kind, ids) in by_kind {
            any = any.add(
                Condition::all()
                    .add(audit_event::Column::EntityType.eq(kind))
                    .add(audit_event::Column::EntityId.is_in(ids)),
            );
        }
        let events = tx
            .all(
                audit_event::Entity::find()
                    .filter(any)
                    .order_by_asc(audit_event::Column::Seq),
            )
            .await?;
        for event in events {
            let Some(id) = event.entity_id.clone() else {
                continue;
            };
            let Some(kind) = KINDS.iter().find(|kind| **kind == event.entity_type) else {
                continue;
            };
            let Some(owned) = owners.get(&(*kind, id)) else {
                continue;
            };
            let posted = movements_named(&event.detail);
            for root in owned {
                let entries = grouped.entry(*root).or_default();
                if entries.len() < MAX_EVENTS {
                    wanted.extend(posted.iter().copied());
                    entries.push((event.clone(), posted.clone()));
                }
            }
        }
    }
    let mut movements: HashMap<MovementId, stock_movement::Model> = HashMap::new();
    if !wanted.is_empty() {
        wanted.sort_unstable_by_key(|id| id.0);
        wanted.dedup();
        for movement in tx
            .all(stock_movement::Entity::find().filter(stock_movement::Column::Id.is_in(wanted)))
            .await?
        {
            movements.insert(movement.id, movement);
        }
    }
    Ok(grouped
        .into_iter()
        .map(|(root, entries)| {
            let entries = entries
                .into_iter()
                .map(|(event, posted)| Entry {
                    movements: posted
                        .iter()
                        .filter_map(|m| movements.get(m).cloned())
                        .collect(),
                    event,
                })
                .collect();
            (root, entries)
        })
        .collect())
}

/// The entity types a timeline gathers (the audit log's names for them).
const KINDS: [&str; 7] = [
    "sales_order",
    "pick_list",
    "shipment",
    "customer_return",
    "purchase_order",
    "receipt",
    "putaway_task",
];

/// The movement ids an event's stored detail names.
fn movements_named(detail: &str) -> Vec<MovementId> {
    serde_json::from_str::<serde_json::Value>(detail)
        .ok()
        .and_then(|detail| detail.get("movements").cloned())
        .and_then(|ids| serde_json::from_value::<Vec<uuid::Uuid>>(ids).ok())
        .unwrap_or_default()
        .into_iter()
        .map(MovementId)
        .collect()
}
