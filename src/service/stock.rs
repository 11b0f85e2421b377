//! Stock operations people perform: adjustments, transfers, counts and reversals. Each checks
//! its request, share-locks and reads what it needs, builds [`Posting`]s and hands them to
//! [`ledger::post`] inside [`ledger::run`]; how stock is locked, moved and remembered is the
//! ledger's alone (`service::ledger`, whose module doc gives the lock order).
//!
//! The operations live here rather than in the ledger for the same reason receipts live in
//! `service::receiving` and dispatch will in `service::outbound`: an operation's rules (which account an
//! adjustment books to, what a count line may say, who may reverse a transfer) belong to its
//! domain, while the ledger stays the one mechanism all of them share.

use entity::{LocationId, MovementId, ProductId, lot, stock_movement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditRecord;
use crate::auth::permission::{Permission, PermissionSet};
use crate::error::{AppError, AppResult};
use crate::service::bounds::{MAX_UNITS, check_quantity};
use crate::service::ledger::{
    self, LotInput, Movement, NewLots, Place, Posting, StockResult, check_receivable,
    find_location, is_serial, lock_locations, lot_request, posting_product, resolve_lot,
};
use crate::service::text;
use crate::tenancy::{TenantDb, TenantTx};

fn reason_code(reason: &str) -> AppResult<String> {
    let reason = text::single_line("reason", reason, 40)?;
    if !reason
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(AppError::bad_input(
            "reason",
            "a reason code is letters, digits, - and _",
        ));
    }
    Ok(reason.to_lowercase())
}

pub struct AdjustInput {
    pub product_id: ProductId,
    pub location_id: LocationId,
    pub lot: Option<LotInput>,
    /// Positive adds stock, negative removes it; never zero.
    pub change: i64,
    pub reason: String,
    pub note: String,
    pub idempotency_key: Option<String>,
}

/// Adds or removes stock at a location against the adjustment account (or scrap, for the reason
/// `scrap`).
pub async fn adjust(db: &TenantDb, input: AdjustInput) -> AppResult<StockResult> {
    if input.change == 0 {
        return Err(AppError::bad_input(
            "change",
            "an adjustment must change something",
        ));
    }
    if input.change.saturating_abs() > MAX_UNITS {
        return Err(AppError::bad_input(
            "change",
            format!("change must be -{MAX_UNITS} to {MAX_UNITS} (negative takes stock out), not 0"),
        ));
    }
    let reason = reason_code(&input.reason)?;
    let note = text::multi_line("note", &input.note, 1000)?;
    let request = json!({
        "product": input.product_id, "location": input.location_id, "lot": lot_request(&input.lot),
        "change": input.change, "reason": reason, "note": note,
    });
    ledger::run(db, "stock.adjust", input.idempotency_key.clone(), request, async |tx: &mut TenantTx| {
        let product = posting_product(tx, input.product_id).await?;
        let location = find_location(tx, input.location_id).await?;
        // The ledger refuses this too; asked first, it also spares creating a lot for nothing
        // (and answers as it always has when the lot is wrong as well).
        if input.change > 0 {
            check_receivable(&product)?;
        }
        let quantity = input.change.abs();
        let lot = resolve_lot(tx, &product, input.lot.clone(), ("change", quantity), NewLots::Created).await?;
        // The reason code `scrap` is the one that books to the scrap account.
        let account = if reason == "scrap" { Place::Scrap } else { Place::Adjustment };
        let (from, to) = if input.change > 0 {
            (account, location.place())
        } else {
            (location.place(), account)
        };
        let record = AuditRecord::new("stock.adjust", "product", product.id).with_change(
            json!(null),
            json!({ "sku": product.sku, "location": location.code, "lot": lot.as_ref().map(|l| l.code.clone()),
                    "change": input.change, "reason": reason, "note": note }),
        );
        let posting = Posting {
            product,
            lot,
            movement: Movement::Move { quantity, from, to },
            reason: reason.clone(),
            note: note.clone(),
            reverses: None,
        };
        Ok((ledger::post(tx, vec![posting]).await?.result, record))
    })
    .await
}

pub struct TransferInput {
    pub product_id: ProductId,
    pub from_location_id: LocationId,
    pub to_location_id: LocationId,
    pub lot: Option<LotInput>,
    pub quantity: i64,
    pub note: String,
    pub idempotency_key: Option<String>,
}

/// Moves stock between two locations.
pub async fn transfer(db: &TenantDb, input: TransferInput) -> AppResult<StockResult> {
    check_quantity("quantity", input.quantity, 1)?;
    if input.from_location_id == input.to_location_id {
        return Err(AppError::bad_input(
            "toLocationId",
            "a transfer needs two different locations",
        ));
    }
    let note = text::multi_line("note", &input.note, 1000)?;
    let request = json!({
        "product": input.product_id, "from": input.from_location_id, "to": input.to_location_id,
        "lot": lot_request(&input.lot), "quantity": input.quantity, "note": note,
    });
    ledger::run(db, "stock.transfer", input.idempotency_key.clone(), request, async |tx: &mut TenantTx| {
        let product = posting_product(tx, input.product_id).await?;
        lock_locations(tx, [input.from_location_id, input.to_location_id]).await?;
        let from = find_location(tx, input.from_location_id).await?;
        let to = find_location(tx, input.to_location_id).await?;
        let lot = resolve_lot(tx, &product, input.lot.clone(), ("quantity", input.quantity), NewLots::Existing).await?;
        let record = AuditRecord::new("stock.transfer", "product", product.id).with_change(
            json!(null),
            json!({ "sku": product.sku, "from": from.code, "to": to.code,
                    "lot": lot.as_ref().map(|l| l.code.clone()), "quantity": input.quantity, "note": note }),
        );
        let posting = Posting {
            product,
            lot,
            movement: Movement::Move {
                quantity: input.quantity,
                from: from.place(),
                to: to.place(),
            },
            reason: "transfer".into(),
            note: note.clone(),
            reverses: None,
        };
        Ok((ledger::post(tx, vec![posting]).await?.result, record))
    })
    .await
}

pub struct CountInput {
    pub product_id: ProductId,
    pub location_id: LocationId,
    pub lot: Option<LotInput>,
    pub counted: i64,
    pub note: String,
    pub idempotency_key: Option<String>,
}

/// Records a stocktake: the difference between the count and the balance becomes a movement.
pub async fn count(db: &TenantDb, input: CountInput) -> AppResult<StockResult> {
    check_quantity("counted", input.counted, 0)?;
    count_lines(
        db,
        vec![CountLine {
            product_id: input.product_id,
            location_id: input.location_id,
            lot: input.lot,
            counted: input.counted,
        }],
        input.note,
        input.idempotency_key,
    )
    .await
}

/// One counted line of a cycle count.
#[derive(Clone, Debug)]
pub struct CountLine {
    pub product_id: ProductId,
    pub location_id: LocationId,
    pub lot: Option<LotInput>,
    pub counted: i64,
}

/// Posts a cycle count: every line's variance at once, in one transaction, or nothing. Each line
/// is a [`Movement::Count`]: the ledger takes the variance from the balance under its lock.
pub async fn count_lines(
    db: &TenantDb,
    lines: Vec<CountLine>,
    note: String,
    idempotency_key: Option<String>,
) -> AppResult<StockResult> {
    if lines.is_empty() || lines.len() > 1000 {
        return Err(AppError::bad_input("lines", "a count has 1 to 1000 lines"));
    }
    for (index, line) in lines.iter().enumerate() {
        if !(0..=MAX_UNITS).contains(&line.counted) {
            return Err(AppError::bad_input(
                "lines",
                format!("line {}: counted must be 0 to {MAX_UNITS}", index + 1),
            ));
        }
    }
    let note = text::multi_line("note", &note, 1000)?;
    let request = json!({
        "lines": lines.iter().map(|line| json!({
            "product": line.product_id, "location": line.location_id,
            "lot": lot_request(&line.lot), "counted": line.counted,
        })).collect::<Vec<_>>(),
        "note": note,
    });
    ledger::run(
        db,
        "stock.count",
        idempotency_key,
        request,
        async |tx: &mut TenantTx| {
            let mut resolved = Vec::with_capacity(lines.len());
            lock_locations(tx, lines.iter().map(|line| line.location_id)).await?;
            for (index, line) in lines.iter().enumerate() {
                let product = posting_product(tx, line.product_id).await?;
                let location = find_location(tx, line.location_id).await?;
                if is_serial(product.tracking) && line.counted > 1 {
                    return Err(AppError::bad_input(
                        if lines.len() > 1 { "lines" } else { "counted" },
                        format!(
                            "line {}: {} is serial-tracked: a serial number counts 0 or 1",
                            index + 1,
                            product.sku
                        ),
                    ));
                }
                // Up to 1000 lines: a lot problem says which line it is on.
                let lot = resolve_lot(
                    tx,
                    &product,
                    line.lot.clone(),
                    ("counted", 1),
                    NewLots::Created,
                )
                .await
                .map_err(|err| match err {
                    AppError::BadUserInput { field, message } if lines.len() > 1 => {
                        AppError::BadUserInput {
                            field,
                            message: format!("line {}: {message}", index + 1),
                        }
                    }
                    other => other,
                })?;
                let key = (
                    product.id,
                    location.id,
                    lot.as_ref().map_or(Uuid::nil(), |l| l.id.0),
                );
                let names = json!({
                    "sku": product.sku, "location": location.code,
                    "lot": lot.as_ref().map(|l| l.code.clone()),
                });
                let posting = Posting {
                    product,
                    lot,
                    movement: Movement::Count {
                        location: location.handle(),
                        counted: line.counted,
                        account: Place::Adjustment,
                    },
                    reason: "count".into(),
                    note: note.clone(),
                    reverses: None,
                };
                resolved.push((key, names, posting));
            }
            // In the ledger's lock order, so the movements and the event list lines as they are
            // posted.
            resolved.sort_by_key(|(key, ..)| *key);
            if resolved.windows(2).any(|pair| pair[0].0 == pair[1].0) {
                return Err(AppError::bad_input(
                    "lines",
                    "a product, location and lot is counted twice",
                ));
            }
            let (names, postings): (Vec<_>, Vec<_>) = resolved
                .into_iter()
                .map(|(_, names, posting)| (names, posting))
                .unzip();
            let posted = ledger::post(tx, postings).await?;
            let detail: Vec<_> = names
                .into_iter()
                .zip(&posted.counted)
                .map(|(mut line, outcome)| {
                    line["onHandBefore"] = json!(outcome.on_hand_before);
                    line["counted"] = json!(outcome.counted);
                    line["variance"] = json!(outcome.variance());
                    line
                })
                .collect();
            let entity_id = lines[0].product_id;
            let record = AuditRecord::new("stock.count", "product", entity_id)
                .with_change(json!(null), json!({ "lines": detail, "note": note }));
            Ok((posted.result, record))
        },
    )
    .await
}

/// Corrects a movement by posting its exact opposite (the ledger is never edited). A movement can
/// be reversed once; a reversal cannot itself be reversed.
pub async fn reverse(
    db: &TenantDb,
    caller: PermissionSet,
    id: MovementId,
    note: String,
    idempotency_key: Option<String>,
) -> AppResult<StockResult> {
    let note = text::multi_line("note", &note, 1000)?;
    let request = json!({ "movement": id, "note": note });
    ledger::run(db, "stock.reverse", idempotency_key, request, async |tx: &mut TenantTx| {
        let original = tx
            .find_by_id::<stock_movement::Entity>(id)
            .await?
            .ok_or(AppError::NotFound { entity: "movement" })?;
        // Undoing a transfer is a transfer (back): it needs what the transfer needed.
        if original.from_location_id.is_some()
            && original.to_location_id.is_some()
            && !caller.contains(Permission::StockTransfer)
        {
            return Err(AppError::Forbidden { permission: Permission::StockTransfer.name() });
        }
        if original.reverses_id.is_some() {
            return Err(AppError::Conflict("a reversal cannot be reversed; post a new movement".into()));
        }
        let already = tx
            .count(stock_movement::Entity::find().filter(stock_movement::Column::ReversesId.eq(id)))
            .await?;
        if already > 0 {
            return Err(AppError::Conflict("this movement was already reversed".into()));
        }
        let product = posting_product(tx, original.product_id).await?;
        let lot = match original.lot_id {
            Some(lot_id) => tx.find_by_id::<lot::Entity>(lot_id).await?,
            None => None,
        };
        // Stock goes back only to places that still take it (and, for a removal undone, only of
        // a product that still takes stock: the ledger checks that).
        let locked =
            lock_locations(tx, [original.from_location_id, original.to_location_id].into_iter().flatten())
                .await?;
        let place = |kind, location: Option<LocationId>| -> AppResult<Place> {
            match (Place::account(kind), location.and_then(|id| locked.get(&id))) {
                (Some(account), _) => Ok(account),
                (None, Some(location)) => Ok(location.place()),
                (None, None) => Err(AppError::Internal(
                    "a movement to or from a location names none".into(),
                )),
            }
        };
        let from = place(original.to_place, original.to_location_id)?;
        let to = place(original.from_place, original.from_location_id)?;
        let record = AuditRecord::new("stock.reverse", "movement", id).with_change(
            json!(null),
            json!({ "sku": product.sku, "reverses": id.to_string(), "quantity": original.quantity, "note": note }),
        );
        let posting = Posting {
            product,
            lot,
            movement: Movement::Move { quantity: original.quantity, from, to },
            reason: "reversal".into(),
            note: note.clone(),
            reverses: Some(id),
        };
        Ok((ledger::post(tx, vec![posting]).await?.result, record))
    })
    .await
}
