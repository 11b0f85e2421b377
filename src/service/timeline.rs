//! A document's timeline: the audit events recorded on it, oldest first, each with the stock
//! movements it posted (which the ledger names in the event's detail, `movements`). One query
//! for the events of many documents and one for their movements, so a page of orders costs the
//! same at any length.

use std::collections::HashMap;

use entity::{MovementId, audit_event, stock_movement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppResult;
use crate::tenancy::TenantDb;

/// Most events one document's timeline shows (the oldest ones).
pub const MAX_EVENTS: usize = 500;

/// One event of a timeline and the movements it posted.
#[derive(Clone, Debug)]
pub struct Entry {
    pub event: audit_event::Model,
    pub movements: Vec<stock_movement::Model>,
}

/// The timelines of the documents of `entity_type` named by `ids` (as the audit log stores
/// them), keyed by id.
pub async fn of(
    db: &TenantDb,
    entity_type: &str,
    ids: &[String],
) -> AppResult<HashMap<String, Vec<Entry>>> {
    let tx = db.read().await?;
    let events = tx
        .all(
            audit_event::Entity::find()
                .filter(audit_event::Column::EntityType.eq(entity_type))
                .filter(audit_event::Column::EntityId.is_in(ids.iter().cloned()))
                .order_by_asc(audit_event::Column::Seq),
        )
        .await?;
    let mut grouped: HashMap<String, Vec<(audit_event::Model, Vec<MovementId>)>> = HashMap::new();
    let mut wanted: Vec<MovementId> = Vec::new();
    for event in events {
        let Some(id) = event.entity_id.clone() else {
            continue;
        };
        let entries = grouped.entry(id).or_default();
        if entries.len() >= MAX_EVENTS {
            continue;
        }
        let posted = movements_named(&event.detail);
        wanted.extend(posted.iter().copied());
        entries.push((event, posted));
    }
    let mut movements: HashMap<MovementId, stock_movement::Model> = HashMap::new();
    if !wanted.is_empty() {
        for movement in tx
            .all(stock_movement::Entity::find().filter(stock_movement::Column::Id.is_in(wanted)))
            .await?
        {
            movements.insert(movement.id, movement);
        }
    }
    Ok(grouped
        .into_iter()
        .map(|(id, entries)| {
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
            (id, entries)
        })
        .collect())
}

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
