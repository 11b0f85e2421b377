//! The stock ledger: every change of stock is an append-only movement of a whole number of base
//! units from one place to another; balances per (product, location, lot) are derived from them
//! and stored for speed, in the same transaction as the movements and their audit event.
//!
//! This module owns *how* stock changes: [`post`] is the one function that writes movements and
//! moves balances, and [`run`] is the frame (idempotency key, audit event, commit) a posting
//! request runs in. *What* moves is decided by the operations, which live with their domain and
//! only build [`Posting`]s: adjustments, transfers, counts and reversals in `service::stock`;
//! receipts, dispatch and returns (next) in their own services. So the rules of an operation
//! (which account an adjustment books to, how a count's lines are checked) sit beside that
//! operation, and none of them can take a lock of its own.
//!
//! Lock order, the same for every posting, so concurrent postings queue instead of deadlocking:
//! 1. the products and locations the postings name, share-locked (locations in id order) by the
//!    operation with [`posting_product`], [`lock_locations`] and [`find_location`] while it
//!    builds them: share locks never wait for each other, while archiving either (an update)
//!    waits for postings in flight, and a later posting sees it archived. A [`Posting`] can only
//!    name a product or location through the [`Locked`] rows these return, so no operation, in
//!    this service or the next, can skip this step;
//! 2. the lot rows of serial numbers (exclusive, in id order), by [`post`];
//! 3. the balance rows, created if missing and then locked (`SELECT … FOR UPDATE`) in one fixed
//!    (product, location, lot) order, by [`post`]; each posting sees the balance the one before
//!    it left, and a count's variance is taken from a locked figure.
//!
//! The database's CHECK constraints (on hand ≥ 0, 0 ≤ reserved ≤ on hand) stand behind the
//! ledger's own checks.
//!
//! The rest lives in its own file: `lots.rs` (which lot a posting names, created on first use),
//! `idempotency.rs` (keys, fingerprints, replays), `queries.rs` (balances, movements, totals) and
//! `verify.rs` (balances recomputed from movements).

mod idempotency;
mod lots;
mod queries;
mod verify;

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use entity::{
    LocationId, LotId, MovementId, PlaceKind, ProductId, Tracking, location, lot, product,
    stock_balance, stock_movement,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditRecord;
use crate::error::{AppError, AppResult, InsufficientStock};
use crate::service::bounds::MAX_UNITS;
use crate::tenancy::{TenantDb, TenantTx};

pub use lots::{LotInput, NewLots, lot_request, lots_by_id, resolve_lot};
pub use queries::{
    BalanceFilter, BalanceOrder, LocatedBalance, MAX_BALANCES_PER_PRODUCT, MovementFilter,
    StockTotal, balances, balances_of_products, movements, totals_for,
};
pub use verify::{BalanceMismatch, verify};

/// A place stock moves from or to: a location, or one of the virtual accounts that stand for the
/// world outside the warehouse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A location the posting's transaction has share-locked and found active.
    Location(LockedLocation),
    Supplier,
    Customer,
    Adjustment,
    Scrap,
    InTransit,
}

impl Place {
    /// The account a movement row names, or None for a location (which a posting takes from
    /// [`lock_locations`] or [`find_location`], locked).
    pub fn account(kind: PlaceKind) -> Option<Self> {
        match kind {
            PlaceKind::Location => None,
            PlaceKind::Supplier => Some(Place::Supplier),
            PlaceKind::Customer => Some(Place::Customer),
            PlaceKind::Adjustment => Some(Place::Adjustment),
            PlaceKind::Scrap => Some(Place::Scrap),
            PlaceKind::InTransit => Some(Place::InTransit),
        }
    }

    /// What the movement row stores.
    pub fn kind(self) -> PlaceKind {
        match self {
            Place::Location(_) => PlaceKind::Location,
            Place::Supplier => PlaceKind::Supplier,
            Place::Customer => PlaceKind::Customer,
            Place::Adjustment => PlaceKind::Adjustment,
            Place::Scrap => PlaceKind::Scrap,
            Place::InTransit => PlaceKind::InTransit,
        }
    }

    pub fn location(self) -> Option<LocationId> {
        match self {
            Place::Location(location) => Some(location.id()),
            Place::Supplier
            | Place::Customer
            | Place::Adjustment
            | Place::Scrap
            | Place::InTransit => None,
        }
    }
}

/// A row the posting's transaction holds share-locked and found usable: step 1 of the lock
/// order, taken by the operation while it builds its postings. Only [`posting_product`],
/// [`find_location`] and [`lock_locations`] make one, so a [`Posting`] cannot name a product or a
/// location that skipped the lock or the archive check, whichever service builds it.
#[derive(Clone, Debug)]
pub struct Locked<T>(T);

impl<T> std::ops::Deref for Locked<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Locked<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl Locked<location::Model> {
    /// This location as a place stock moves from or to.
    pub fn place(&self) -> Place {
        Place::Location(self.handle())
    }

    /// This location as a count names it.
    pub fn handle(&self) -> LockedLocation {
        LockedLocation(self.0.id)
    }
}

/// The id of a location held as a [`Locked`] row; only one of those makes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LockedLocation(LocationId);

impl LockedLocation {
    pub fn id(self) -> LocationId {
        self.0
    }
}

/// One line of a posting: what moves of which product and lot, and why.
///
/// The product and locations come locked from the operation (see [`Locked`]); the lot from
/// [`resolve_lot`].
/// A receipt is a `Move` from [`Place::Supplier`], a dispatch a `Move` to [`Place::Customer`], a
/// return a `Move` from the customer: nothing here needs to change for them.
#[derive(Clone, Debug)]
pub struct Posting {
    pub product: Locked<product::Model>,
    /// Required for lot- and serial-tracked products, absent otherwise (see [`resolve_lot`]).
    pub lot: Option<lot::Model>,
    pub movement: Movement,
    /// A lower-case reason code, e.g. `damaged`, `transfer`, `count`, `reversal`.
    pub reason: String,
    pub note: String,
    /// For a correction: the movement this one undoes.
    pub reverses: Option<MovementId>,
}

/// How much moves where.
#[derive(Clone, Copy, Debug)]
pub enum Movement {
    /// `quantity` base units (at least one) from `from` to `to`.
    Move {
        quantity: i64,
        from: Place,
        to: Place,
    },
    /// A stocktake found `counted` units at `location`: the difference to its balance, read under
    /// the balance's lock (so before this call's other postings), moves between `account` and the
    /// location. Nothing moves when they agree.
    Count {
        location: LockedLocation,
        counted: i64,
        account: Place,
    },
    /// `quantity` units at `location` set aside for an order: its balance's `reserved` grows, and
    /// the posting fails (INSUFFICIENT_STOCK) if that would exceed what is on hand. No movement
    /// row: nothing moves. The allocation that holds them is the record.
    Reserve {
        location: LockedLocation,
        quantity: i64,
    },
    /// Reserved units handed back (the order was cancelled, picked elsewhere or dispatched).
    Release {
        location: LockedLocation,
        quantity: i64,
    },
}

/// What a stock mutation did: its movements and the balances they left.
#[derive(Clone, Debug)]
pub struct StockResult {
    pub movements: Vec<stock_movement::Model>,
    pub balances: Vec<stock_balance::Model>,
}

/// What [`post`] did: the result, and for each `Count` posting (in order) the balance it found.
#[derive(Clone, Debug)]
pub struct Posted {
    pub result: StockResult,
    pub counted: Vec<CountOutcome>,
}

/// A count measured against its locked balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountOutcome {
    pub on_hand_before: i64,
    pub counted: i64,
}

impl CountOutcome {
    /// Counted minus on hand: positive when stock was found.
    pub fn variance(self) -> i64 {
        self.counted - self.on_hand_before
    }
}

/// (product, location, lot or nil): the key of one balance row.
pub type BalanceKey = (ProductId, LocationId, Uuid);

fn balance_key(
    product: &product::Model,
    lot: Option<&lot::Model>,
    location: LocationId,
) -> BalanceKey {
    (
        product.id,
        location,
        lot.map_or(Uuid::nil(), |lot| lot.id.0),
    )
}

/// Whether each unit of a product is its own serial number.
pub fn is_serial(tracking: Tracking) -> bool {
    match tracking {
        Tracking::Serial => true,
        Tracking::None | Tracking::Lot => false,
    }
}

/// An archived product stays in history and can be drawn down, but takes no new stock. [`post`]
/// checks this for every movement into a location from outside, except a customer's return.
pub fn check_receivable(product: &product::Model) -> AppResult<()> {
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
pub async fn lock_locations(
    tx: &TenantTx,
    ids: impl IntoIterator<Item = LocationId>,
) -> AppResult<BTreeMap<LocationId, Locked<location::Model>>> {
    let mut locked = BTreeMap::new();
    for id in ids.into_iter().collect::<BTreeSet<_>>() {
        locked.insert(id, find_location(tx, id).await?);
    }
    Ok(locked)
}

/// The product a posting moves, share-locked until commit: archiving it (an update of this row)
/// waits for postings in flight, and a posting that starts later sees it archived.
pub async fn posting_product(tx: &TenantTx, id: ProductId) -> AppResult<Locked<product::Model>> {
    tx.one(product::Entity::find_by_id(id).lock_shared())
        .await?
        .map(Locked)
        .ok_or(AppError::NotFound { entity: "product" })
}

/// A location a posting uses, share-locked until commit (archiving takes it exclusively, so it
/// cannot slip between a posting's check and its commit), and refused once archived.
pub async fn find_location(tx: &TenantTx, id: LocationId) -> AppResult<Locked<location::Model>> {
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
    Ok(Locked(location))
}

/// The key of the balance of `product` (in `lot`) at `location`.
pub fn key_of(product: ProductId, location: LocationId, lot: Option<LotId>) -> BalanceKey {
    (product, location, lot.map_or(Uuid::nil(), |lot| lot.0))
}

/// Steps 2 and 3 of the lock order for an operation that must decide its quantities from figures
/// nobody can change before it posts (an allocation reading what is available): the serial
/// numbers among `keys`, then the balance rows (created at zero where missing), in the one
/// fixed order. `keys` must include every balance the later [`post`] touches, or that post would
/// lock a row out of order; taking them again there costs nothing.
pub async fn lock_balances(
    tx: &mut TenantTx,
    products: &BTreeMap<ProductId, Locked<product::Model>>,
    keys: BTreeSet<BalanceKey>,
) -> AppResult<BTreeMap<BalanceKey, stock_balance::Model>> {
    let serials = keys
        .iter()
        .filter(|(product, _, lot)| {
            !lot.is_nil() && products.get(product).is_some_and(|p| is_serial(p.tracking))
        })
        .map(|(_, _, lot)| LotId(*lot))
        .collect();
    lock_rows(tx, serials, keys).await
}

async fn lock_rows(
    tx: &mut TenantTx,
    serials: BTreeSet<LotId>,
    keys: BTreeSet<BalanceKey>,
) -> AppResult<BTreeMap<BalanceKey, stock_balance::Model>> {
    for serial in serials {
        tx.one(
            lot::Entity::find()
                .filter(lot::Column::Id.eq(serial))
                .lock_exclusive(),
        )
        .await?;
    }
    let now = Utc::now();
    for (product_id, location_id, lot_key) in &keys {
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
    let mut locked = BTreeMap::new();
    for key @ (product_id, location_id, lot_key) in keys {
        let balance = tx
            .one(
                stock_balance::Entity::find()
                    .filter(stock_balance::Column::ProductId.eq(product_id))
                    .filter(stock_balance::Column::LocationId.eq(location_id))
                    .filter(stock_balance::Column::LotKey.eq(lot_key))
                    .lock_exclusive(),
            )
            .await?
            .ok_or_else(|| AppError::Internal("balance row vanished".into()))?;
        locked.insert(key, balance);
    }
    Ok(locked)
}

/// A posting line once its quantity is known.
struct Resolved {
    index: usize,
    quantity: i64,
    from: Place,
    to: Place,
}

/// Posts movements and moves their balances, all or nothing, taking steps 2 and 3 of the lock
/// order. Refuses stock into a location of an archived product (it takes no new stock), a
/// balance below what is reserved (CONFLICT naming the shortfall), more than [`MAX_UNITS`] at
/// one place, and a serial number in stock twice.
pub async fn post(tx: &mut TenantTx, postings: Vec<Posting>) -> AppResult<Posted> {
    let now = Utc::now();
    // Serial numbers are locked first (in id order), so two postings of one serial to different
    // locations queue and the second sees the first's unit.
    let serials: BTreeSet<LotId> = postings
        .iter()
        .filter(|p| is_serial(p.product.tracking))
        .filter_map(|p| p.lot.as_ref().map(|lot| lot.id))
        .collect();
    // Every balance a posting may touch, counts included.
    let mut keys = BTreeSet::new();
    for posting in &postings {
        let locations = match posting.movement {
            Movement::Move { from, to, .. } => [from.location(), to.location()],
            Movement::Count { location, .. }
            | Movement::Reserve { location, .. }
            | Movement::Release { location, .. } => [Some(location.id()), None],
        };
        for location in locations.into_iter().flatten() {
            keys.insert(balance_key(
                &posting.product,
                posting.lot.as_ref(),
                location,
            ));
        }
    }
    let mut locked = lock_rows(tx, serials, keys).await?;
    // Counts become moves (or nothing) now that their balances hold still.
    let mut resolved = Vec::with_capacity(postings.len());
    let mut counted = Vec::new();
    let mut reserving: BTreeMap<BalanceKey, i64> = BTreeMap::new();
    for (index, posting) in postings.iter().enumerate() {
        match posting.movement {
            Movement::Reserve { location, quantity } => {
                *reserving
                    .entry(balance_key(
                        &posting.product,
                        posting.lot.as_ref(),
                        location.id(),
                    ))
                    .or_default() += quantity;
            }
            Movement::Release { location, quantity } => {
                *reserving
                    .entry(balance_key(
                        &posting.product,
                        posting.lot.as_ref(),
                        location.id(),
                    ))
                    .or_default() -= quantity;
            }
            Movement::Move { quantity, from, to } => resolved.push(Resolved {
                index,
                quantity,
                from,
                to,
            }),
            Movement::Count {
                location,
                counted: count,
                account,
            } => {
                let key = balance_key(&posting.product, posting.lot.as_ref(), location.id());
                let on_hand_before = locked.get(&key).map_or(0, |b| b.on_hand);
                let outcome = CountOutcome {
                    on_hand_before,
                    counted: count,
                };
                counted.push(outcome);
                let variance = outcome.variance();
                let (from, to) = if variance > 0 {
                    (account, Place::Location(location))
                } else {
                    (Place::Location(location), account)
                };
                if variance != 0 {
                    resolved.push(Resolved {
                        index,
                        quantity: variance.abs(),
                        from,
                        to,
                    });
                }
            }
        }
    }
    let mut changes: BTreeMap<BalanceKey, i64> = BTreeMap::new();
    for line in &resolved {
        let posting = &postings[line.index];
        // Stock arriving from outside the locations (an adjustment, a count's surplus, a
        // receipt, a reversal of a removal) is new stock; a transfer only moves it. Units a
        // customer sends back were ours before and are at the door whatever the catalogue says
        // now: a return of a product archived since it was sold is booked, into quarantine.
        let returned = matches!(line.from, Place::Customer);
        if line.from.location().is_none() && line.to.location().is_some() && !returned {
            check_receivable(&posting.product)?;
        }
        if let Some(from) = line.from.location() {
            *changes
                .entry(balance_key(&posting.product, posting.lot.as_ref(), from))
                .or_default() -= line.quantity;
        }
        if let Some(to) = line.to.location() {
            *changes
                .entry(balance_key(&posting.product, posting.lot.as_ref(), to))
                .or_default() += line.quantity;
        }
    }
    for key in reserving.keys() {
        changes.entry(*key).or_default();
    }
    let mut balances = Vec::with_capacity(changes.len());
    for (key @ (product_id, location_id, lot_key), change) in changes {
        let balance = locked
            .remove(&key)
            .ok_or_else(|| AppError::Internal("a balance was not locked".into()))?;
        let on_hand = balance.on_hand.saturating_add(change);
        let reserve_change = reserving.get(&key).copied().unwrap_or(0);
        let reserved = balance.reserved.saturating_add(reserve_change);
        if reserved < 0 {
            return Err(AppError::Internal(
                "a release exceeds what the balance holds reserved".into(),
            ));
        }
        if on_hand > MAX_UNITS {
            return Err(AppError::Conflict(format!(
                "a place holds at most {MAX_UNITS} units of one product and lot"
            )));
        }
        if on_hand < reserved {
            let product = postings
                .iter()
                .find(|p| p.product.id == product_id)
                .map_or_else(String::new, |p| p.product.sku.clone());
            let location = find_location(tx, location_id)
                .await
                .map(|l| l.into_inner().code)
                .unwrap_or_default();
            return Err(AppError::InsufficientStock(Box::new(InsufficientStock {
                sku: product,
                location,
                available: (balance.on_hand - balance.reserved).max(0),
                requested: (reserve_change.max(0)).saturating_sub(change.min(0)),
            })));
        }
        tx.update_many(
            stock_balance::Entity::update_many()
                .col_expr(stock_balance::Column::OnHand, Expr::value(on_hand))
                .col_expr(stock_balance::Column::Reserved, Expr::value(reserved))
                .col_expr(stock_balance::Column::UpdatedAt, Expr::value(now))
                .filter(stock_balance::Column::ProductId.eq(product_id))
                .filter(stock_balance::Column::LocationId.eq(location_id))
                .filter(stock_balance::Column::LotKey.eq(lot_key)),
        )
        .await?;
        balances.push(stock_balance::Model {
            on_hand,
            reserved,
            updated_at: now,
            ..balance
        });
    }
    // A serial number is one physical unit: after the posting it may be in stock at most once,
    // across every location. (The lot rows were locked above, when first seen in this posting.)
    for line in &resolved {
        let posting = &postings[line.index];
        if !is_serial(posting.product.tracking) {
            continue;
        }
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
    let actor = tx.actor().user_id();
    let mut movements = Vec::with_capacity(resolved.len());
    for line in resolved {
        let posting = &postings[line.index];
        movements.push(
            tx.insert(stock_movement::ActiveModel {
                id: Set(MovementId::generate()),
                tenant_id: Set(tx.tenant()),
                product_id: Set(posting.product.id),
                lot_id: Set(posting.lot.as_ref().map(|lot| lot.id)),
                quantity: Set(line.quantity),
                from_place: Set(line.from.kind()),
                from_location_id: Set(line.from.location()),
                to_place: Set(line.to.kind()),
                to_location_id: Set(line.to.location()),
                reason: Set(posting.reason.clone()),
                note: Set(posting.note.clone()),
                reverses_id: Set(posting.reverses),
                actor_user_id: Set(actor),
                created_at: Set(now),
            })
            .await?,
        );
    }
    Ok(Posted {
        result: StockResult {
            movements,
            balances,
        },
        counted,
    })
}

/// Runs one posting request: claims its idempotency key (answering a retry with the first
/// result), lets `build` post (through [`post`]) and describe what it did, records the audit
/// event with the balances left, and commits.
pub async fn run<F>(
    db: &TenantDb,
    operation: &'static str,
    idempotency_key: Option<String>,
    request: serde_json::Value,
    build: F,
) -> AppResult<StockResult>
where
    F: for<'t> AsyncFnOnce(&'t mut TenantTx) -> AppResult<(StockResult, AuditRecord)>,
{
    let mut tx = db.write().await?;
    let fingerprint = idempotency::fingerprint(db, operation, &request);
    if let Some(key) = &idempotency_key
        && let Some(ids) = idempotency::claim_key(&mut tx, key, operation, &fingerprint).await?
    {
        drop(tx);
        return idempotency::replay(db, ids).await;
    }
    let (result, mut record) = build(&mut tx).await?;
    if let Some(key) = &idempotency_key {
        idempotency::remember_result(&mut tx, key, &result).await?;
    }
    let balances: Vec<_> = result
        .balances
        .iter()
        .map(|b| json!({ "location": b.location_id.to_string(), "onHand": b.on_hand }))
        .collect();
    record.detail["balancesAfter"] = json!(balances);
    // The movements this event posted: an order's timeline finds them here.
    if !result.movements.is_empty() {
        let ids: Vec<String> = result.movements.iter().map(|m| m.id.to_string()).collect();
        record.detail["movements"] = json!(ids);
    }
    tx.record(record).await?;
    tx.commit().await?;
    Ok(result)
}
