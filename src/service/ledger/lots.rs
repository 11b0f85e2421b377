//! Lots and serial numbers: which lot a posting names, checked against the product's tracking
//! mode, and created on first use (race-free: two postings that bring the same new lot into being
//! at once both use the one row).

use chrono::NaiveDate;
use entity::{LotId, Tracking, lot, product};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::bounds::check_day;
use crate::service::text;
use crate::tenancy::TenantTx;

/// A lot (or, for serial-tracked products, a serial number) named by the client.
#[derive(Clone, Debug)]
pub struct LotInput {
    pub code: String,
    pub expires_on: Option<NaiveDate>,
}

/// How a lot appears in an idempotency fingerprint.
pub fn lot_request(lot: &Option<LotInput>) -> serde_json::Value {
    lot.as_ref().map_or(serde_json::Value::Null, |lot| {
        json!([lot.code, lot.expires_on])
    })
}

/// Whether a movement may bring a lot into being: stock arriving (an adjustment, a count, a
/// receipt) may; a transfer moves stock that is somewhere already, so its lot must exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewLots {
    Created,
    Existing,
}

/// The lot a movement needs: required for lot- and serial-tracked products, refused for others,
/// created on first use (with its expiry date, which an expiry-tracked product must have).
/// `quantity` names the field the client gave the quantity in, for a serial's one-unit rule.
pub async fn resolve_lot(
    tx: &mut TenantTx,
    product: &product::Model,
    lot: Option<LotInput>,
    (quantity_field, quantity): (&'static str, i64),
    new_lots: NewLots,
) -> AppResult<Option<lot::Model>> {
    let (tracking, input) = match (product.tracking, lot) {
        (Tracking::None, None) => return Ok(None),
        (Tracking::None, Some(_)) => {
            return Err(AppError::bad_input(
                "lot",
                format!("{} is not lot-tracked", product.sku),
            ));
        }
        (Tracking::Lot, None) => {
            return Err(AppError::bad_input(
                "lot",
                format!("{} is lot-tracked: name the lot", product.sku),
            ));
        }
        (Tracking::Serial, None) => {
            return Err(AppError::bad_input(
                "lot",
                format!("{} is serial-tracked: name the lot", product.sku),
            ));
        }
        (tracking @ (Tracking::Lot | Tracking::Serial), Some(input)) => (tracking, input),
    };
    if tracking == Tracking::Serial && quantity != 1 {
        return Err(AppError::bad_input(
            quantity_field,
            format!(
                "{} is serial-tracked: one unit per serial number",
                product.sku
            ),
        ));
    }
    let code = text::single_line("lot", &input.code, 64)?;
    let lot = match find(tx, product, &code).await? {
        Some(existing) => existing,
        None => {
            if new_lots == NewLots::Existing {
                return Err(AppError::NotFound { entity: "lot" });
            }
            if let Some(day) = input.expires_on {
                check_day("lot", day)?;
            }
            if product.expiry_required && input.expires_on.is_none() {
                return Err(AppError::bad_input(
                    "lot",
                    format!("{} needs an expiry date on each new lot", product.sku),
                ));
            }
            // Another posting may be creating the same lot right now: the insert then waits
            // for it and does nothing, and both postings read back the one row that won (with
            // its expiry date, checked below like any existing lot's).
            tx.insert_if_absent_on(
                lot::ActiveModel {
                    id: Set(LotId::generate()),
                    tenant_id: Set(tx.tenant()),
                    product_id: Set(product.id),
                    code: Set(code.clone()),
                    expires_on: Set(input.expires_on),
                },
                [
                    lot::Column::TenantId,
                    lot::Column::ProductId,
                    lot::Column::Code,
                ],
            )
            .await?;
            find(tx, product, &code)
                .await?
                .ok_or_else(|| AppError::Internal("a lot just created is missing".into()))?
        }
    };
    // A lot's expiry is fixed when it is first seen; a different date is a different lot or a
    // typo, never a silent correction.
    if let Some(given) = input.expires_on
        && Some(given) != lot.expires_on
    {
        return Err(AppError::bad_input(
            "lot",
            format!(
                "lot {} of {} expires on {}, not {given}",
                lot.code,
                product.sku,
                lot.expires_on
                    .map_or_else(|| "no date".to_owned(), |d| d.to_string())
            ),
        ));
    }
    Ok(Some(lot))
}

async fn find(
    tx: &TenantTx,
    product: &product::Model,
    code: &str,
) -> AppResult<Option<lot::Model>> {
    Ok(tx
        .one(
            lot::Entity::find()
                .filter(lot::Column::ProductId.eq(product.id))
                .filter(lot::Column::Code.eq(code)),
        )
        .await?)
}

/// These lots by id, for postings that name lots already known (allocations, picks).
pub async fn lots_by_id(
    tx: &TenantTx,
    ids: impl IntoIterator<Item = LotId>,
) -> AppResult<std::collections::HashMap<LotId, lot::Model>> {
    let ids: Vec<LotId> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    Ok(tx
        .all(lot::Entity::find().filter(lot::Column::Id.is_in(ids)))
        .await?
        .into_iter()
        .map(|lot| (lot.id, lot))
        .collect())
}
