//! `verify`: every balance recomputed from the movements (on hand) and the allocations
//! (reserved), and the ones that disagree listed (`vaskem stock verify`). The ledger is the
//! truth; balances are a cache of it.

use std::collections::BTreeMap;

use entity::{
    AllocationStatus, LocationId, LotId, ProductId, allocation, stock_balance, stock_movement,
};
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use super::BalanceKey;
use crate::error::AppResult;
use crate::tenancy::TenantDb;

/// A balance that differs from the sum of its movements (on hand) or of the allocations held
/// there (reserved).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceMismatch {
    pub product_id: ProductId,
    pub location_id: LocationId,
    pub lot_key: Uuid,
    /// `on hand` or `reserved`.
    pub figure: &'static str,
    pub stored: i64,
    /// What the movements (on hand) or allocations (reserved) add up to.
    pub from_movements: i64,
}

impl std::fmt::Display for BalanceMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = if self.figure == ON_HAND {
            "movements"
        } else {
            "allocations"
        };
        write!(
            f,
            "product {} location {} lot {}: {} stored {}, {source} say {}",
            self.product_id,
            self.location_id,
            self.lot_key,
            self.figure,
            self.stored,
            self.from_movements
        )
    }
}

const ON_HAND: &str = "on hand";
const RESERVED: &str = "reserved";

#[derive(FromQueryResult)]
struct Flow {
    product_id: ProductId,
    location_id: Option<LocationId>,
    lot_id: Option<LotId>,
    total: i64,
}

/// Recomputes every balance from the movements and lists those that disagree.
pub async fn verify(db: &TenantDb) -> AppResult<Vec<BalanceMismatch>> {
    let tx = db.read().await?;
    let mut expected: BTreeMap<BalanceKey, i64> = BTreeMap::new();
    for (location_column, sign) in [
        (stock_movement::Column::ToLocationId, 1_i64),
        (stock_movement::Column::FromLocationId, -1_i64),
    ] {
        let flows: Vec<Flow> = tx
            .all_as(
                stock_movement::Entity::find()
                    .select_only()
                    .column(stock_movement::Column::ProductId)
                    .column_as(location_column, "location_id")
                    .column(stock_movement::Column::LotId)
                    // SUM of a bigint is numeric on PostgreSQL: cast back so both engines give an i64.
                    .column_as(Expr::cust("CAST(SUM(quantity) AS BIGINT)"), "total")
                    .filter(location_column.is_not_null())
                    .group_by(stock_movement::Column::ProductId)
                    .group_by(location_column)
                    .group_by(stock_movement::Column::LotId),
            )
            .await?;
        for flow in flows {
            if let Some(location) = flow.location_id {
                let key = (
                    flow.product_id,
                    location,
                    flow.lot_id.map_or(Uuid::nil(), |l| l.0),
                );
                *expected.entry(key).or_default() += sign * flow.total;
            }
        }
    }
    // What the allocations hold: open ones where they were reserved, picked ones where they
    // were staged.
    let mut reserved: BTreeMap<BalanceKey, i64> = BTreeMap::new();
    for held in tx
        .all(allocation::Entity::find().filter(
            allocation::Column::Status.is_in([AllocationStatus::Open, AllocationStatus::Picked]),
        ))
        .await?
    {
        let lot = held.lot_id.map_or(Uuid::nil(), |l| l.0);
        let (at, quantity) = match held.status {
            AllocationStatus::Picked => match held.staged_location_id {
                Some(at) => (at, held.quantity_picked),
                None => continue,
            },
            _ => (held.location_id, held.quantity),
        };
        *reserved.entry((held.product_id, at, lot)).or_default() += quantity;
    }
    let mut mismatches = Vec::new();
    for balance in tx.all(stock_balance::Entity::find()).await? {
        let key = (balance.product_id, balance.location_id, balance.lot_key);
        let from_movements = expected.remove(&key).unwrap_or(0);
        if from_movements != balance.on_hand {
            mismatches.push(BalanceMismatch {
                product_id: key.0,
                location_id: key.1,
                lot_key: key.2,
                figure: ON_HAND,
                stored: balance.on_hand,
                from_movements,
            });
        }
        let held = reserved.remove(&key).unwrap_or(0);
        if held != balance.reserved {
            mismatches.push(BalanceMismatch {
                product_id: key.0,
                location_id: key.1,
                lot_key: key.2,
                figure: RESERVED,
                stored: balance.reserved,
                from_movements: held,
            });
        }
    }
    for ((product_id, location_id, lot_key), from_movements) in expected {
        if from_movements != 0 {
            mismatches.push(BalanceMismatch {
                product_id,
                location_id,
                lot_key,
                figure: ON_HAND,
                stored: 0,
                from_movements,
            });
        }
    }
    for ((product_id, location_id, lot_key), held) in reserved {
        if held != 0 {
            mismatches.push(BalanceMismatch {
                product_id,
                location_id,
                lot_key,
                figure: RESERVED,
                stored: 0,
                from_movements: held,
            });
        }
    }
    Ok(mismatches)
}
