//! The stock ledger: every change of stock is an append-only movement of a whole number of base
//! units from one place to another; balances per (product, location, lot) are derived from them
//! and stored for speed, in the same transaction as the movements and their audit event.
//!
//! Concurrency: the balance rows a posting touches are created if missing and then locked
//! (`SELECT … FOR UPDATE`) in one fixed key order, so concurrent postings queue instead of
//! deadlocking, and each sees the balance the one before it left. The database's CHECK constraints
//! (on hand ≥ 0, 0 ≤ reserved ≤ on hand) stand behind the service's own checks.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, Utc};
use entity::{
    LocationId, LotId, MovementId, PlaceKind, ProductId, Tracking, WarehouseId, location, lot,
    product, stock_balance, stock_movement, stock_request, warehouse,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, Query},
};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditRecord;
use crate::auth::permission::{Permission, PermissionSet};
use crate::error::{AppError, AppResult, InsufficientStock};
use crate::service::bounds::{MAX_UNITS, check_day, check_quantity, check_time};
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::text;
use crate::tenancy::{Actor, TenantDb, TenantTx};

/// A place stock moves from or to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Location(LocationId),
    Supplier,
    Customer,
    Adjustment,
    Scrap,
    InTransit,
}

impl Place {
    /// The place a movement row names (its kind and, for a location, which one).
    fn of_row(kind: PlaceKind, location: Option<LocationId>) -> AppResult<Self> {
        Ok(match kind {
            PlaceKind::Location => Place::Location(location.ok_or_else(|| {
                AppError::Internal("a movement to or from a location names none".into())
            })?),
            PlaceKind::Supplier => Place::Supplier,
            PlaceKind::Customer => Place::Customer,
            PlaceKind::Adjustment => Place::Adjustment,
            PlaceKind::Scrap => Place::Scrap,
            PlaceKind::InTransit => Place::InTransit,
        })
    }

    /// What the movement row stores.
    fn kind(self) -> PlaceKind {
        match self {
            Place::Location(_) => PlaceKind::Location,
            Place::Supplier => PlaceKind::Supplier,
            Place::Customer => PlaceKind::Customer,
            Place::Adjustment => PlaceKind::Adjustment,
            Place::Scrap => PlaceKind::Scrap,
            Place::InTransit => PlaceKind::InTransit,
        }
    }

    fn location(self) -> Option<LocationId> {
        match self {
            Place::Location(id) => Some(id),
            Place::Supplier
            | Place::Customer
            | Place::Adjustment
            | Place::Scrap
            | Place::InTransit => None,
        }
    }
}

/// Whether each unit of a product is its own serial number.
fn is_serial(tracking: Tracking) -> bool {
    match tracking {
        Tracking::Serial => true,
        Tracking::None | Tracking::Lot => false,
    }
}

/// A lot (or, for serial-tracked products, a serial number) named by the client.
#[derive(Clone, Debug)]
pub struct LotInput {
    pub code: String,
    pub expires_on: Option<NaiveDate>,
}

fn lot_request(lot: &Option<LotInput>) -> serde_json::Value {
    lot.as_ref().map_or(serde_json::Value::Null, |lot| {
        json!([lot.code, lot.expires_on])
    })
}

/// What a stock mutation did: its movements and the balances they left.
#[derive(Clone, Debug)]
pub struct StockResult {
    pub movements: Vec<stock_movement::Model>,
    pub balances: Vec<stock_balance::Model>,
}

type BalanceKey = (ProductId, LocationId, Uuid);

struct Posting {
    product: product::Model,
    lot: Option<lot::Model>,
    quantity: i64,
    from: Place,
    to: Place,
    reason: String,
    note: String,
    reverses: Option<MovementId>,
}

fn balance_key(posting: &Posting, location: LocationId) -> BalanceKey {
    (
        posting.product.id,
        location,
        posting.lot.as_ref().map_or(Uuid::nil(), |lot| lot.id.0),
    )
}

async fn find_product(tx: &TenantTx, id: ProductId) -> AppResult<product::Model> {
    tx.find_by_id::<product::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "product" })
}

/// An archived product stays in history and can be drawn down, but takes no new stock.
fn check_receivable(product: &product::Model) -> AppResult<()> {
    if product.is_active {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "product {} is archived: it takes no new stock",
            product.sku
        )))
    }
}

/// Share-locks (and checks) several locations in id order, the order archiving takes them in, so
/// a posting and an archive never wait for each other in a circle.
async fn lock_locations(tx: &TenantTx, ids: impl IntoIterator<Item = LocationId>) -> AppResult<()> {
    for id in ids.into_iter().collect::<BTreeSet<_>>() {
        find_location(tx, id).await?;
    }
    Ok(())
}

/// The product a posting moves, share-locked until commit: archiving it (an update of this row)
/// waits for postings in flight, and a posting that starts later sees it archived.
async fn posting_product(tx: &TenantTx, id: ProductId) -> AppResult<product::Model> {
    tx.one(product::Entity::find_by_id(id).lock_shared())
        .await?
        .ok_or(AppError::NotFound { entity: "product" })
}

/// A location a posting uses, share-locked until commit (archiving takes it exclusively, so it
/// cannot slip between a posting's check and its commit), and refused once archived.
async fn find_location(tx: &TenantTx, id: LocationId) -> AppResult<location::Model> {
    let location = tx
        .one(location::Entity::find_by_id(id).lock_shared())
        .await?
        .ok_or(AppError::NotFound { entity: "location" })?;
    if !location.is_active {
        return Err(AppError::Conflict(format!(
            "location {} is archived",
            location.code
        )));
    }
    Ok(location)
}

/// Whether a movement may bring a lot into being: stock arriving (an adjustment, a count) may; a
/// transfer moves stock that is somewhere already, so its lot must exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NewLots {
    Created,
    Existing,
}

/// The lot a movement needs: required for lot- and serial-tracked products, refused for others,
/// created on first use (with its expiry date, which an expiry-tracked product must have).
async fn resolve_lot(
    tx: &mut TenantTx,
    product: &product::Model,
    lot: Option<LotInput>,
    (quantity_field, quantity): (&'static str, i64),
    new_lots: NewLots,
) -> AppResult<Option<lot::Model>> {
    match (product.tracking, lot) {
        (Tracking::None, None) => Ok(None),
        (Tracking::None, Some(_)) => Err(AppError::bad_input(
            "lot",
            format!("{} is not lot-tracked", product.sku),
        )),
        (Tracking::Lot, None) => Err(AppError::bad_input(
            "lot",
            format!("{} is lot-tracked: name the lot", product.sku),
        )),
        (Tracking::Serial, None) => Err(AppError::bad_input(
            "lot",
            format!("{} is serial-tracked: name the lot", product.sku),
        )),
        (tracking @ (Tracking::Lot | Tracking::Serial), Some(input)) => {
            if is_serial(tracking) && quantity != 1 {
                return Err(AppError::bad_input(
                    quantity_field,
                    format!(
                        "{} is serial-tracked: one unit per serial number",
                        product.sku
                    ),
                ));
            }
            let code = text::single_line("lot", &input.code, 64)?;
            let existing = tx
                .one(
                    lot::Entity::find()
                        .filter(lot::Column::ProductId.eq(product.id))
                        .filter(lot::Column::Code.eq(code.as_str())),
                )
                .await?;
            if let Some(existing) = existing {
                // A lot's expiry is fixed when it is first seen; a different date is a
                // different lot or a typo, never a silent correction.
                if let Some(given) = input.expires_on
                    && Some(given) != existing.expires_on
                {
                    return Err(AppError::bad_input(
                        "lot",
                        format!(
                            "lot {} of {} expires on {}, not {given}",
                            existing.code,
                            product.sku,
                            existing
                                .expires_on
                                .map_or_else(|| "no date".to_owned(), |d| d.to_string())
                        ),
                    ));
                }
                return Ok(Some(existing));
            }
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
            let created = tx
                .insert(lot::ActiveModel {
                    id: Set(LotId::generate()),
                    tenant_id: Set(tx.tenant()),
                    product_id: Set(product.id),
                    code: Set(code),
                    expires_on: Set(input.expires_on),
                })
                .await?;
            Ok(Some(created))
        }
    }
}

/// Posts movements and moves their balances, all or nothing.
async fn post(tx: &mut TenantTx, postings: Vec<Posting>) -> AppResult<StockResult> {
    let mut changes: BTreeMap<BalanceKey, i64> = BTreeMap::new();
    for posting in &postings {
        if let Some(from) = posting.from.location() {
            *changes.entry(balance_key(posting, from)).or_default() -= posting.quantity;
        }
        if let Some(to) = posting.to.location() {
            *changes.entry(balance_key(posting, to)).or_default() += posting.quantity;
        }
    }
    let now = Utc::now();
    // Serial numbers are locked first (in id order), so two postings of one serial to different
    // locations queue and the second sees the first's unit.
    let serials: BTreeSet<LotId> = postings
        .iter()
        .filter(|p| is_serial(p.product.tracking))
        .filter_map(|p| p.lot.as_ref().map(|lot| lot.id))
        .collect();
    for serial in serials {
        tx.one(
            lot::Entity::find()
                .filter(lot::Column::Id.eq(serial))
                .lock_exclusive(),
        )
        .await?;
    }
    // One fixed order (the BTreeMap's) for creating and locking rows: no deadlocks.
    for (product_id, location_id, lot_key) in changes.keys() {
        tx.insert_if_absent(stock_balance::ActiveModel {
            tenant_id: Set(tx.tenant()),
            product_id: Set(*product_id),
            location_id: Set(*location_id),
            lot_key: Set(*lot_key),
            on_hand: Set(0),
            reserved: Set(0),
            updated_at: Set(now),
        })
        .await?;
    }
    let mut balances = Vec::with_capacity(changes.len());
    for ((product_id, location_id, lot_key), change) in &changes {
        let balance = tx
            .one(
                stock_balance::Entity::find()
                    .filter(stock_balance::Column::ProductId.eq(*product_id))
                    .filter(stock_balance::Column::LocationId.eq(*location_id))
                    .filter(stock_balance::Column::LotKey.eq(*lot_key))
                    .lock_exclusive(),
            )
            .await?
            .ok_or_else(|| AppError::Internal("balance row vanished".into()))?;
        let on_hand = balance.on_hand.saturating_add(*change);
        if on_hand > MAX_UNITS {
            return Err(AppError::Conflict(format!(
                "a place holds at most {MAX_UNITS} units of one product and lot"
            )));
        }
        if on_hand < balance.reserved {
            let product = postings
                .iter()
                .find(|p| p.product.id == *product_id)
                .map_or_else(String::new, |p| p.product.sku.clone());
            let location = find_location(tx, *location_id)
                .await
                .map(|l| l.code)
                .unwrap_or_default();
            return Err(AppError::InsufficientStock(Box::new(InsufficientStock {
                sku: product,
                location,
                available: balance.on_hand - balance.reserved,
                requested: -change,
            })));
        }
        tx.update_many(
            stock_balance::Entity::update_many()
                .col_expr(stock_balance::Column::OnHand, Expr::value(on_hand))
                .col_expr(stock_balance::Column::UpdatedAt, Expr::value(now))
                .filter(stock_balance::Column::ProductId.eq(*product_id))
                .filter(stock_balance::Column::LocationId.eq(*location_id))
                .filter(stock_balance::Column::LotKey.eq(*lot_key)),
        )
        .await?;
        balances.push(stock_balance::Model {
            on_hand,
            updated_at: now,
            ..balance
        });
    }
    // A serial number is one physical unit: after the posting it may be in stock at most once,
    // across every location. (The lot rows were locked above, when first seen in this posting.)
    for posting in postings.iter().filter(|p| is_serial(p.product.tracking)) {
        let Some(serial) = &posting.lot else { continue };
        let held: i64 = tx
            .all(
                stock_balance::Entity::find()
                    .filter(stock_balance::Column::ProductId.eq(posting.product.id))
                    .filter(stock_balance::Column::LotKey.eq(serial.id.0)),
            )
            .await?
            .iter()
            .map(|b| b.on_hand)
            .sum();
        if held > 1 {
            return Err(AppError::Conflict(format!(
                "serial {} of {} is already in stock",
                serial.code, posting.product.sku
            )));
        }
    }
    let actor = match tx.actor() {
        Actor::User { id, .. } => Some(*id),
        Actor::Cli => None,
    };
    let mut movements = Vec::with_capacity(postings.len());
    for posting in postings {
        movements.push(
            tx.insert(stock_movement::ActiveModel {
                id: Set(MovementId::generate()),
                tenant_id: Set(tx.tenant()),
                product_id: Set(posting.product.id),
                lot_id: Set(posting.lot.as_ref().map(|lot| lot.id)),
                quantity: Set(posting.quantity),
                from_place: Set(posting.from.kind()),
                from_location_id: Set(posting.from.location()),
                to_place: Set(posting.to.kind()),
                to_location_id: Set(posting.to.location()),
                reason: Set(posting.reason),
                note: Set(posting.note),
                reverses_id: Set(posting.reverses),
                actor_user_id: Set(actor),
                created_at: Set(now),
            })
            .await?,
        );
    }
    Ok(StockResult {
        movements,
        balances,
    })
}

/// Who asks and what they ask for, hashed: a retry matches it, anything else does not.
fn fingerprint(db: &TenantDb, operation: &str, request: &serde_json::Value) -> String {
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
async fn claim_key(
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

async fn remember_result(tx: &mut TenantTx, key: &str, result: &StockResult) -> AppResult<()> {
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
async fn replay(db: &TenantDb, ids: Vec<MovementId>) -> AppResult<StockResult> {
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

/// Runs one stock mutation with its idempotency key, audit event and commit.
async fn run<F>(
    db: &TenantDb,
    operation: &'static str,
    idempotency_key: Option<String>,
    request: serde_json::Value,
    build: F,
) -> AppResult<StockResult>
where
    F: for<'t> AsyncFnOnce(&'t mut TenantTx) -> AppResult<(Vec<Posting>, AuditRecord)>,
{
    let mut tx = db.write().await?;
    let fingerprint = fingerprint(db, operation, &request);
    if let Some(key) = &idempotency_key
        && let Some(ids) = claim_key(&mut tx, key, operation, &fingerprint).await?
    {
        drop(tx);
        return replay(db, ids).await;
    }
    let (postings, record) = build(&mut tx).await?;
    let result = post(&mut tx, postings).await?;
    if let Some(key) = &idempotency_key {
        remember_result(&mut tx, key, &result).await?;
    }
    let balances: Vec<_> = result
        .balances
        .iter()
        .map(|b| json!({ "location": b.location_id.to_string(), "onHand": b.on_hand }))
        .collect();
    let mut record = record;
    record.detail["balancesAfter"] = json!(balances);
    tx.record(record).await?;
    tx.commit().await?;
    Ok(result)
}

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
    run(db, "stock.adjust", input.idempotency_key.clone(), request, async |tx: &mut TenantTx| {
        let product = posting_product(tx, input.product_id).await?;
        let location = find_location(tx, input.location_id).await?;
        if input.change > 0 {
            check_receivable(&product)?;
        }
        let quantity = input.change.abs();
        let lot = resolve_lot(tx, &product, input.lot.clone(), ("change", quantity), NewLots::Created).await?;
        let account = if reason == "scrap" { Place::Scrap } else { Place::Adjustment };
        let (from, to) = if input.change > 0 {
            (account, Place::Location(location.id))
        } else {
            (Place::Location(location.id), account)
        };
        let record = AuditRecord::new("stock.adjust", "product", product.id).with_change(
            json!(null),
            json!({ "sku": product.sku, "location": location.code, "lot": lot.as_ref().map(|l| l.code.clone()),
                    "change": input.change, "reason": reason, "note": note }),
        );
        Ok((
            vec![Posting { product, lot, quantity, from, to, reason: reason.clone(), note: note.clone(), reverses: None }],
            record,
        ))
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
    run(db, "stock.transfer", input.idempotency_key.clone(), request, async |tx: &mut TenantTx| {
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
        Ok((
            vec![Posting {
                product,
                lot,
                quantity: input.quantity,
                from: Place::Location(from.id),
                to: Place::Location(to.id),
                reason: "transfer".into(),
                note: note.clone(),
                reverses: None,
            }],
            record,
        ))
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

/// Posts a cycle count: every line's variance at once, in one transaction, or nothing.
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
    run(
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
                resolved.push((key, product, location, lot, line.counted));
            }
            // The same fixed order as every posting, so counts and moves never deadlock.
            resolved.sort_by_key(|(key, ..)| *key);
            if resolved.windows(2).any(|pair| pair[0].0 == pair[1].0) {
                return Err(AppError::bad_input(
                    "lines",
                    "a product, location and lot is counted twice",
                ));
            }
            // Serial numbers before balances, as in every posting, so the lock order never inverts.
            let serials: BTreeSet<LotId> = resolved
                .iter()
                .filter(|(_, product, ..)| is_serial(product.tracking))
                .filter_map(|(_, _, _, lot, _)| lot.as_ref().map(|lot| lot.id))
                .collect();
            for serial in serials {
                tx.one(
                    lot::Entity::find()
                        .filter(lot::Column::Id.eq(serial))
                        .lock_exclusive(),
                )
                .await?;
            }
            let mut postings = Vec::new();
            let mut detail = Vec::new();
            for ((product_id, location_id, lot_key), product, location, lot, counted) in resolved {
                // Lock (or create) each balance first, so the variance is taken from a stable figure.
                tx.insert_if_absent(stock_balance::ActiveModel {
                    tenant_id: Set(tx.tenant()),
                    product_id: Set(product_id),
                    location_id: Set(location_id),
                    lot_key: Set(lot_key),
                    on_hand: Set(0),
                    reserved: Set(0),
                    updated_at: Set(Utc::now()),
                })
                .await?;
                let on_hand = tx
                    .one(
                        stock_balance::Entity::find()
                            .filter(stock_balance::Column::ProductId.eq(product_id))
                            .filter(stock_balance::Column::LocationId.eq(location_id))
                            .filter(stock_balance::Column::LotKey.eq(lot_key))
                            .lock_exclusive(),
                    )
                    .await?
                    .map_or(0, |b| b.on_hand);
                let variance = counted - on_hand;
                detail.push(json!({
                    "sku": product.sku, "location": location.code,
                    "lot": lot.as_ref().map(|l| l.code.clone()),
                    "onHandBefore": on_hand, "counted": counted, "variance": variance,
                }));
                if variance > 0 {
                    check_receivable(&product)?;
                }
                if variance != 0 {
                    let (from, to) = if variance > 0 {
                        (Place::Adjustment, Place::Location(location.id))
                    } else {
                        (Place::Location(location.id), Place::Adjustment)
                    };
                    postings.push(Posting {
                        product,
                        lot,
                        quantity: variance.abs(),
                        from,
                        to,
                        reason: "count".into(),
                        note: note.clone(),
                        reverses: None,
                    });
                }
            }
            let entity_id = lines[0].product_id;
            let record = AuditRecord::new("stock.count", "product", entity_id)
                .with_change(json!(null), json!({ "lines": detail, "note": note }));
            Ok((postings, record))
        },
    )
    .await
}

/// What a stock balance list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct BalanceFilter {
    pub product_id: Option<ProductId>,
    pub location_id: Option<LocationId>,
    pub warehouse_id: Option<WarehouseId>,
    pub lot_id: Option<LotId>,
    /// Only lots that expire on or before this day.
    pub expires_by: Option<NaiveDate>,
    /// Also balances that have fallen to zero (kept as rows once stock was there).
    pub include_empty: bool,
}

/// What a stock balance list may be ordered by; ties are broken by product, location and lot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BalanceOrder {
    /// Grouped by product (in the products' creation order).
    #[default]
    Product,
    /// Grouped by location (in the locations' creation order).
    Location,
    OnHand,
    /// When the balance last changed.
    Updated,
}

/// A page of stock balances. A product, location, warehouse or lot named in the filter must
/// exist (NOT_FOUND otherwise, as for another organisation's).
pub async fn balances(
    db: &TenantDb,
    filter: &BalanceFilter,
    order: BalanceOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<stock_balance::Model>> {
    use stock_balance::Column as B;
    let tx = db.read().await?;
    let mut query = stock_balance::Entity::find();
    if let Some(product) = filter.product_id {
        find_product(&tx, product).await?;
        query = query.filter(B::ProductId.eq(product));
    }
    if let Some(location) = filter.location_id {
        tx.find_by_id::<location::Entity>(location)
            .await?
            .ok_or(AppError::NotFound { entity: "location" })?;
        query = query.filter(B::LocationId.eq(location));
    }
    if let Some(warehouse) = filter.warehouse_id {
        tx.find_by_id::<warehouse::Entity>(warehouse)
            .await?
            .ok_or(AppError::NotFound {
                entity: "warehouse",
            })?;
        // The subquery names the tenant itself: it runs inside the handle's query but is not
        // scoped by it.
        query = query.filter(
            B::LocationId.in_subquery(
                Query::select()
                    .column(location::Column::Id)
                    .from(location::Entity)
                    .and_where(location::Column::TenantId.eq(tx.tenant()))
                    .and_where(location::Column::WarehouseId.eq(warehouse))
                    .to_owned(),
            ),
        );
    }
    if let Some(lot_id) = filter.lot_id {
        tx.find_by_id::<lot::Entity>(lot_id)
            .await?
            .ok_or(AppError::NotFound { entity: "lot" })?;
        query = query.filter(B::LotKey.eq(lot_id.0));
    }
    if let Some(day) = filter.expires_by {
        check_day("filter.expiresBy", day)?;
        query = query.filter(
            B::LotKey.in_subquery(
                Query::select()
                    .column(lot::Column::Id)
                    .from(lot::Entity)
                    .and_where(lot::Column::TenantId.eq(tx.tenant()))
                    .and_where(lot::Column::ExpiresOn.lte(day))
                    .to_owned(),
            ),
        );
    }
    if !filter.include_empty {
        query = query.filter(B::OnHand.gt(0));
    }
    let columns = match order {
        BalanceOrder::Product => vec![B::ProductId, B::LocationId, B::LotKey],
        BalanceOrder::Location => vec![B::LocationId, B::ProductId, B::LotKey],
        BalanceOrder::OnHand => vec![B::OnHand, B::ProductId, B::LocationId, B::LotKey],
        BalanceOrder::Updated => vec![B::UpdatedAt, B::ProductId, B::LocationId, B::LotKey],
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

/// What the movement history may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct MovementFilter {
    pub product_id: Option<ProductId>,
    /// Movements into or out of this location.
    pub location_id: Option<LocationId>,
    /// Movements into or out of any location of this warehouse.
    pub warehouse_id: Option<WarehouseId>,
    pub lot_id: Option<LotId>,
    /// Only movements with this reason code (e.g. `damaged`, `count`, `transfer`).
    pub reason: Option<String>,
    pub actor_user_id: Option<entity::UserId>,
    pub from: Option<chrono::DateTime<Utc>>,
    pub to: Option<chrono::DateTime<Utc>>,
}

/// A page of the movement ledger in posting order (`descending`: newest first).
pub async fn movements(
    db: &TenantDb,
    filter: &MovementFilter,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<stock_movement::Model>> {
    use stock_movement::Column as M;
    let tx = db.read().await?;
    let mut query = stock_movement::Entity::find();
    if let Some(product) = filter.product_id {
        find_product(&tx, product).await?;
        query = query.filter(M::ProductId.eq(product));
    }
    if let Some(location) = filter.location_id {
        tx.find_by_id::<location::Entity>(location)
            .await?
            .ok_or(AppError::NotFound { entity: "location" })?;
        query = query.filter(
            sea_orm::Condition::any()
                .add(M::FromLocationId.eq(location))
                .add(M::ToLocationId.eq(location)),
        );
    }
    if let Some(warehouse) = filter.warehouse_id {
        tx.find_by_id::<warehouse::Entity>(warehouse)
            .await?
            .ok_or(AppError::NotFound {
                entity: "warehouse",
            })?;
        let locations = || {
            Query::select()
                .column(location::Column::Id)
                .from(location::Entity)
                .and_where(location::Column::TenantId.eq(tx.tenant()))
                .and_where(location::Column::WarehouseId.eq(warehouse))
                .to_owned()
        };
        query = query.filter(
            sea_orm::Condition::any()
                .add(M::FromLocationId.in_subquery(locations()))
                .add(M::ToLocationId.in_subquery(locations())),
        );
    }
    if let Some(lot_id) = filter.lot_id {
        tx.find_by_id::<lot::Entity>(lot_id)
            .await?
            .ok_or(AppError::NotFound { entity: "lot" })?;
        query = query.filter(M::LotId.eq(lot_id));
    }
    if let Some(reason) = &filter.reason {
        // Reason codes are stored lower-cased, whatever the caller typed when posting.
        query = query.filter(M::Reason.eq(reason.to_lowercase()));
    }
    if let Some(actor) = filter.actor_user_id {
        query = query.filter(M::ActorUserId.eq(actor));
    }
    if let Some(from) = filter.from {
        check_time("filter.from", from)?;
        query = query.filter(M::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        check_time("filter.to", to)?;
        query = query.filter(M::CreatedAt.lt(to));
    }
    // Ids are UUIDv7, time-ordered: id order is posting order, and a total one.
    paging::page(
        &tx,
        query,
        &ListOrder::new(vec![M::Id], descending),
        request,
    )
    .await
}

/// A balance that differs from the sum of its movements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceMismatch {
    pub product_id: ProductId,
    pub location_id: LocationId,
    pub lot_key: Uuid,
    pub stored: i64,
    pub from_movements: i64,
}

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
    let mut mismatches = Vec::new();
    for balance in tx.all(stock_balance::Entity::find()).await? {
        let key = (balance.product_id, balance.location_id, balance.lot_key);
        let from_movements = expected.remove(&key).unwrap_or(0);
        if from_movements != balance.on_hand {
            mismatches.push(BalanceMismatch {
                product_id: key.0,
                location_id: key.1,
                lot_key: key.2,
                stored: balance.on_hand,
                from_movements,
            });
        }
    }
    for ((product_id, location_id, lot_key), from_movements) in expected {
        if from_movements != 0 {
            mismatches.push(BalanceMismatch {
                product_id,
                location_id,
                lot_key,
                stored: 0,
                from_movements,
            });
        }
    }
    Ok(mismatches)
}

/// A product's stock summed over every location and lot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromQueryResult)]
pub struct StockTotal {
    pub on_hand: i64,
    pub reserved: i64,
}

#[derive(FromQueryResult)]
struct ProductTotal {
    product_id: ProductId,
    on_hand: i64,
    reserved: i64,
}

/// Stock totals of several products in one query (for the GraphQL data loader).
pub async fn totals_for(
    db: &TenantDb,
    ids: &[ProductId],
) -> AppResult<std::collections::HashMap<ProductId, StockTotal>> {
    let tx = db.read().await?;
    let rows: Vec<ProductTotal> = tx
        .all_as(
            stock_balance::Entity::find()
                .select_only()
                .column(stock_balance::Column::ProductId)
                .column_as(Expr::cust("CAST(SUM(on_hand) AS BIGINT)"), "on_hand")
                .column_as(Expr::cust("CAST(SUM(reserved) AS BIGINT)"), "reserved")
                .filter(stock_balance::Column::ProductId.is_in(ids.iter().copied()))
                .group_by(stock_balance::Column::ProductId),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.product_id,
                StockTotal {
                    on_hand: row.on_hand,
                    reserved: row.reserved,
                },
            )
        })
        .collect())
}

/// Most balances one product lists (`Product.balances(first:)`).
pub const MAX_BALANCES_PER_PRODUCT: u64 = 100;

/// A product's stock at one location (and lot), with that location.
pub type LocatedBalance = (stock_balance::Model, location::Model);

/// The balances of several products with their locations, at most `per_product` of each, in one
/// query (for the GraphQL data loader): in the locations' creation order, then by lot; balances
/// that fell to zero only if `include_empty`.
pub async fn balances_of_products(
    db: &TenantDb,
    ids: &[ProductId],
    per_product: u64,
    include_empty: bool,
) -> AppResult<std::collections::HashMap<ProductId, Vec<LocatedBalance>>> {
    use stock_balance::Column as B;
    let tx = db.read().await?;
    // Each product's balances numbered in list order, so that a product with thousands of
    // balances costs what `per_product` asks for, not all of them. The numbered rows stand in for
    // the table itself (same name, same columns, and `position`), so the query below reads each
    // balance once and the handle's tenant filter applies to it as to the table. The subquery
    // names the tenant itself: it runs inside the handle's query but is not scoped by it.
    let mut numbered = Query::select();
    numbered
        .column(sea_orm::sea_query::Asterisk)
        .expr_as(
            Expr::cust("ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY location_id, lot_key)"),
            "position",
        )
        .from(stock_balance::Entity)
        .and_where(B::TenantId.eq(tx.tenant()))
        .and_where(B::ProductId.is_in(ids.iter().copied()));
    if !include_empty {
        numbered.and_where(B::OnHand.gt(0));
    }
    let mut query = stock_balance::Entity::find()
        .select_also(location::Entity)
        .join(
            sea_orm::JoinType::InnerJoin,
            stock_balance::Entity::belongs_to(location::Entity)
                .from(B::LocationId)
                .to(location::Column::Id)
                .into(),
        )
        .filter(
            Expr::col((stock_balance::Entity, "position"))
                .lte(Ord::min(per_product, MAX_BALANCES_PER_PRODUCT)),
        )
        .order_by_asc(B::ProductId)
        .order_by_asc(B::LocationId)
        .order_by_asc(B::LotKey);
    QueryTrait::query(&mut query)
        .from_clear()
        .from_subquery(numbered.to_owned(), stock_balance::Entity);
    let rows = tx.all_with(query).await?;
    let mut by_product: std::collections::HashMap<ProductId, Vec<LocatedBalance>> =
        std::collections::HashMap::new();
    for (balance, location) in rows {
        let location = location.ok_or_else(|| {
            AppError::Internal("a balance's location did not load with it".into())
        })?;
        by_product
            .entry(balance.product_id)
            .or_default()
            .push((balance, location));
    }
    Ok(by_product)
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
    run(db, "stock.reverse", idempotency_key, request, async |tx: &mut TenantTx| {
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
        let from = Place::of_row(original.to_place, original.to_location_id)?;
        let to = Place::of_row(original.from_place, original.from_location_id)?;
        // Stock goes back only to places that still take it, and only of a product that does.
        lock_locations(tx, [original.from_location_id, original.to_location_id].into_iter().flatten())
            .await?;
        // Undoing a transfer only moves stock back; undoing a removal to an account brings stock in.
        if original.from_location_id.is_some() && original.to_location_id.is_none() {
            check_receivable(&product)?;
        }
        let record = AuditRecord::new("stock.reverse", "movement", id).with_change(
            json!(null),
            json!({ "sku": product.sku, "reverses": id.to_string(), "quantity": original.quantity, "note": note }),
        );
        Ok((
            vec![Posting {
                product,
                lot,
                quantity: original.quantity,
                from,
                to,
                reason: "reversal".into(),
                note: note.clone(),
                reverses: Some(id),
            }],
            record,
        ))
    })
    .await
}
