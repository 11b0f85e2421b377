//! Idempotency keys: a client retrying a posting request with the same key gets the first
//! result back and moves nothing twice; the key used for anything else is a CONFLICT.

use std::collections::BTreeSet;

use chrono::Utc;
use entity::{MovementId, stock_balance, stock_movement, stock_request};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use super::StockResult;
use crate::error::{AppError, AppResult};
use crate::service::text;
use crate::tenancy::{Actor, TenantDb, TenantTx};

/// Who asks and what they ask for, hashed: a retry matches it, anything else does not.
pub(super) fn fingerprint(db: &TenantDb, operation: &str, request: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let actor = match db.actor() {
        Actor::User { id, .. } => id.to_string(),
        Actor::Cli => "cli".to_owned(),
    };
    let canonical = json!({ "operation": operation, "actor": actor, "request": request });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Claims `key` for `operation` in this transaction. `Some(first result)` if the same request
/// used it before; CONFLICT if another request or operation did.
pub(super) async fn claim_key(
    tx: &mut TenantTx,
    key: &str,
    operation: &'static str,
    fingerprint: &str,
) -> AppResult<Option<Vec<MovementId>>> {
    let key = text::single_line("idempotencyKey", key, 200)?;
    let claimed = tx
        .insert_if_absent(stock_request::ActiveModel {
            tenant_id: Set(tx.tenant()),
            idempotency_key: Set(key.clone()),
            operation: Set(operation.to_owned()),
            fingerprint: Set(fingerprint.to_owned()),
            result: Set("[]".to_owned()),
            created_at: Set(Utc::now()),
        })
        .await?;
    if claimed {
        return Ok(None);
    }
    let earlier = tx
        .one(
            stock_request::Entity::find()
                .filter(stock_request::Column::IdempotencyKey.eq(key.as_str())),
        )
        .await?
        .ok_or_else(|| AppError::Internal("idempotency key vanished".into()))?;
    if earlier.operation != operation {
        return Err(AppError::Conflict(format!(
            "idempotency key {key} was used for {}",
            earlier.operation
        )));
    }
    // Keys claimed before fingerprints existed have none and are compared by operation only.
    if !earlier.fingerprint.is_empty() && earlier.fingerprint != fingerprint {
        return Err(AppError::Conflict(format!(
            "idempotency key {key} was used for a different request"
        )));
    }
    let ids: Vec<MovementId> = serde_json::from_str(&earlier.result).unwrap_or_default();
    Ok(Some(ids))
}

pub(super) async fn remember_result(
    tx: &mut TenantTx,
    key: &str,
    result: &StockResult,
) -> AppResult<()> {
    let ids: Vec<MovementId> = result.movements.iter().map(|m| m.id).collect();
    tx.update_bookkeeping(
        stock_request::Entity::update_many()
            .col_expr(
                stock_request::Column::Result,
                Expr::value(json!(ids).to_string()),
            )
            .filter(stock_request::Column::IdempotencyKey.eq(key.trim())),
    )
    .await?;
    Ok(())
}

/// The result of an earlier request: its movements and the balances they touch, as they are now.
pub(super) async fn replay(db: &TenantDb, ids: Vec<MovementId>) -> AppResult<StockResult> {
    let tx = db.read().await?;
    let movements = tx
        .all(stock_movement::Entity::find().filter(stock_movement::Column::Id.is_in(ids)))
        .await?;
    let mut balances = Vec::new();
    let mut seen = BTreeSet::new();
    for movement in &movements {
        for location in [movement.from_location_id, movement.to_location_id]
            .into_iter()
            .flatten()
        {
            let key = (
                movement.product_id,
                location,
                movement.lot_id.map_or(Uuid::nil(), |l| l.0),
            );
            if seen.insert(key) {
                balances.extend(
                    tx.one(
                        stock_balance::Entity::find()
                            .filter(stock_balance::Column::ProductId.eq(key.0))
                            .filter(stock_balance::Column::LocationId.eq(key.1))
                            .filter(stock_balance::Column::LotKey.eq(key.2)),
                    )
                    .await?,
                );
            }
        }
    }
    Ok(StockResult {
        movements,
        balances,
    })
}
