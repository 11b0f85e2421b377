//! Stock: balances, the movement ledger, and the operations that post to it.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{stock_balance, stock_movement};

use super::{ApiResult, UserError, into_payload, page_size, parse_id, tenant_db};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::stock::{self, StockResult};

/// A lot (batch) of a lot-tracked product, or a serial number.
#[derive(SimpleObject)]
pub struct Lot {
    id: ID,
    code: String,
    expires_on: Option<NaiveDate>,
}

/// Stock of one product at one location (and lot).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct StockBalance {
    product_id: ID,
    location_id: ID,
    lot_id: Option<ID>,
    on_hand: i64,
    reserved: i64,
    /// On hand minus reserved.
    available: i64,
}

#[async_graphql::ComplexObject]
impl StockBalance {
    /// The lot, with its expiry date, for lot- and serial-tracked stock.
    async fn lot(&self, ctx: &Context<'_>) -> ApiResult<Option<Lot>> {
        let Some(id) = &self.lot_id else {
            return Ok(None);
        };
        let id: entity::LotId = parse_id(id, "lotId")?;
        let lot = super::loaders::get::<super::loaders::Lots>(ctx)?
            .load_one(id)
            .await?;
        Ok(lot.map(|lot| Lot {
            id: ID(lot.id.to_string()),
            code: lot.code,
            expires_on: lot.expires_on,
        }))
    }
}

impl From<stock_balance::Model> for StockBalance {
    fn from(b: stock_balance::Model) -> Self {
        Self {
            product_id: ID(b.product_id.to_string()),
            location_id: ID(b.location_id.to_string()),
            lot_id: (!b.lot_key.is_nil()).then(|| ID(b.lot_key.to_string())),
            on_hand: b.on_hand,
            reserved: b.reserved,
            available: b.on_hand - b.reserved,
        }
    }
}

/// One entry of the stock ledger: `quantity` base units moved from one place to another.
#[derive(SimpleObject)]
pub struct StockMovement {
    id: ID,
    product_id: ID,
    lot_id: Option<ID>,
    quantity: i64,
    /// `location`, or a virtual place: `supplier`, `customer`, `adjustment`, `scrap`, `in_transit`.
    from_place: String,
    from_location_id: Option<ID>,
    to_place: String,
    to_location_id: Option<ID>,
    reason: String,
    note: String,
    /// For a correction: the movement this one reverses.
    reverses_id: Option<ID>,
    actor_user_id: Option<ID>,
    created_at: DateTime<Utc>,
}

impl From<stock_movement::Model> for StockMovement {
    fn from(m: stock_movement::Model) -> Self {
        let id = |v: String| ID(v);
        Self {
            id: ID(m.id.to_string()),
            product_id: ID(m.product_id.to_string()),
            lot_id: m.lot_id.map(|l| id(l.to_string())),
            quantity: m.quantity,
            from_place: m.from_place,
            from_location_id: m.from_location_id.map(|l| id(l.to_string())),
            to_place: m.to_place,
            to_location_id: m.to_location_id.map(|l| id(l.to_string())),
            reason: m.reason,
            note: m.note,
            reverses_id: m.reverses_id.map(|r| id(r.to_string())),
            actor_user_id: m.actor_user_id.map(|u| id(u.to_string())),
            created_at: m.created_at,
        }
    }
}

/// A lot (or serial number) for lot- or serial-tracked products.
#[derive(InputObject, Clone)]
pub struct LotInput {
    code: String,
    /// Required the first time a lot of an expiry-tracked product is seen.
    expires_on: Option<NaiveDate>,
}

impl From<LotInput> for stock::LotInput {
    fn from(l: LotInput) -> Self {
        Self {
            code: l.code,
            expires_on: l.expires_on,
        }
    }
}

/// Add (positive `change`) or remove (negative) stock at a location.
#[derive(InputObject)]
pub struct AdjustStockInput {
    product_id: ID,
    location_id: ID,
    lot: Option<LotInput>,
    change: i64,
    /// A reason code, e.g. `damaged`, `found`, `scrap` (which books to scrap).
    reason: String,
    #[graphql(default)]
    note: String,
    /// A retry with the same key returns the first result and moves nothing twice.
    idempotency_key: Option<String>,
}

/// Move stock between two locations.
#[derive(InputObject)]
pub struct TransferStockInput {
    product_id: ID,
    from_location_id: ID,
    to_location_id: ID,
    lot: Option<LotInput>,
    quantity: i64,
    #[graphql(default)]
    note: String,
    idempotency_key: Option<String>,
}

/// Record a counted quantity; the difference to the balance is posted as a movement.
#[derive(InputObject)]
pub struct CountStockInput {
    product_id: ID,
    location_id: ID,
    lot: Option<LotInput>,
    counted: i64,
    #[graphql(default)]
    note: String,
    idempotency_key: Option<String>,
}

/// One counted line of a cycle count.
#[derive(InputObject)]
pub struct CountLineInput {
    product_id: ID,
    location_id: ID,
    lot: Option<LotInput>,
    counted: i64,
}

/// A cycle count: many counted lines posted together, all or nothing.
#[derive(InputObject)]
pub struct PostStockCountInput {
    lines: Vec<CountLineInput>,
    #[graphql(default)]
    note: String,
    idempotency_key: Option<String>,
}

/// What a stock mutation returns.
#[derive(SimpleObject)]
pub struct StockPayload {
    movements: Vec<StockMovement>,
    balances: Vec<StockBalance>,
    user_errors: Vec<UserError>,
}

fn payload(result: Result<StockResult, AppError>) -> ApiResult<StockPayload> {
    let (result, user_errors) = into_payload(result)?;
    let (movements, balances) =
        result.map_or((Vec::new(), Vec::new()), |r| (r.movements, r.balances));
    Ok(StockPayload {
        movements: movements.into_iter().map(StockMovement::from).collect(),
        balances: balances.into_iter().map(StockBalance::from).collect(),
        user_errors,
    })
}

/// Correct a movement by posting its exact opposite.
#[derive(InputObject)]
pub struct ReverseStockMovementInput {
    movement_id: ID,
    #[graphql(default)]
    note: String,
    idempotency_key: Option<String>,
}

#[derive(Default)]
pub struct StockQuery;

#[Object]
impl StockQuery {
    /// A product's stock by location and lot (optionally at one location).
    #[graphql(
        guard = "RequirePermission(Permission::StockView)",
        directive = requires::apply(Permission::StockView)
    )]
    async fn stock_on_hand(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        location_id: Option<ID>,
    ) -> ApiResult<Vec<StockBalance>> {
        let location = location_id
            .map(|id| parse_id(&id, "locationId"))
            .transpose()?;
        Ok(stock::balances(
            tenant_db(ctx)?,
            parse_id(&product_id, "productId")?,
            location,
        )
        .await?
        .into_iter()
        .map(StockBalance::from)
        .collect())
    }

    /// Everything in stock at one location.
    #[graphql(
        guard = "RequirePermission(Permission::StockView)",
        directive = requires::apply(Permission::StockView)
    )]
    async fn stock_at_location(
        &self,
        ctx: &Context<'_>,
        location_id: ID,
    ) -> ApiResult<Vec<StockBalance>> {
        Ok(
            stock::at_location(tenant_db(ctx)?, parse_id(&location_id, "locationId")?)
                .await?
                .into_iter()
                .map(StockBalance::from)
                .collect(),
        )
    }

    /// Active products whose available stock is below their reorder point, by SKU.
    #[graphql(
        guard = "RequirePermission(Permission::StockView)",
        directive = requires::apply(Permission::StockView)
    )]
    async fn products_below_reorder_point(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<super::catalogue::Product>> {
        Ok(stock::below_reorder_point(tenant_db(ctx)?)
            .await?
            .into_iter()
            .map(|(product, _)| product.into())
            .collect())
    }

    /// Movement history of a product, of a location (in or out), or of both: who (actorUserId),
    /// when and why, newest first, `first` at a time (at most 100) after `after`.
    #[graphql(
        guard = "RequirePermission(Permission::StockView)",
        directive = requires::apply(Permission::StockView)
    )]
    async fn stock_movements(
        &self,
        ctx: &Context<'_>,
        product_id: Option<ID>,
        location_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, StockMovement, EmptyFields, EmptyFields>> {
        let limit = page_size(first)?;
        let before = after
            .map(|cursor| parse_id(&ID(cursor), "after"))
            .transpose()?;
        let product = product_id
            .map(|id| parse_id(&id, "productId"))
            .transpose()?;
        let location = location_id
            .map(|id| parse_id(&id, "locationId"))
            .transpose()?;
        let (rows, more) =
            stock::movements(tenant_db(ctx)?, product, location, before, limit).await?;
        let mut connection = Connection::new(before.is_some(), more);
        connection.edges.extend(
            rows.into_iter()
                .map(|m| Edge::new(m.id.to_string(), StockMovement::from(m))),
        );
        Ok(connection)
    }
}

#[derive(Default)]
pub struct StockMutation;

#[Object]
impl StockMutation {
    /// Adds or removes stock at a location. Fails with CONFLICT, naming the shortfall, rather than
    /// take stock below what is reserved (or below zero). Audited as `stock.adjust`.
    #[graphql(
        guard = "RequirePermission(Permission::StockAdjust)",
        directive = requires::apply(Permission::StockAdjust)
    )]
    async fn adjust_stock(
        &self,
        ctx: &Context<'_>,
        input: AdjustStockInput,
    ) -> ApiResult<StockPayload> {
        let request = stock::AdjustInput {
            product_id: parse_id(&input.product_id, "productId")?,
            location_id: parse_id(&input.location_id, "locationId")?,
            lot: input.lot.map(Into::into),
            change: input.change,
            reason: input.reason,
            note: input.note,
            idempotency_key: input.idempotency_key,
        };
        payload(stock::adjust(tenant_db(ctx)?, request).await)
    }

    /// Moves stock between two locations. Audited as `stock.transfer`.
    #[graphql(
        guard = "RequirePermission(Permission::StockTransfer)",
        directive = requires::apply(Permission::StockTransfer)
    )]
    async fn transfer_stock(
        &self,
        ctx: &Context<'_>,
        input: TransferStockInput,
    ) -> ApiResult<StockPayload> {
        let request = stock::TransferInput {
            product_id: parse_id(&input.product_id, "productId")?,
            from_location_id: parse_id(&input.from_location_id, "fromLocationId")?,
            to_location_id: parse_id(&input.to_location_id, "toLocationId")?,
            lot: input.lot.map(Into::into),
            quantity: input.quantity,
            note: input.note,
            idempotency_key: input.idempotency_key,
        };
        payload(stock::transfer(tenant_db(ctx)?, request).await)
    }

    /// Corrects a movement by posting its exact opposite (the ledger is never edited). A movement
    /// can be reversed once. Audited as `stock.reverse`.
    #[graphql(
        guard = "RequirePermission(Permission::StockAdjust)",
        directive = requires::apply(Permission::StockAdjust)
    )]
    async fn reverse_stock_movement(
        &self,
        ctx: &Context<'_>,
        input: ReverseStockMovementInput,
    ) -> ApiResult<StockPayload> {
        let id = parse_id(&input.movement_id, "movementId")?;
        payload(stock::reverse(tenant_db(ctx)?, id, input.note, input.idempotency_key).await)
    }

    /// Posts a cycle count: the variance of every line (1 to 1000) at once, in one transaction.
    /// Audited as one `stock.count` event listing the lines.
    #[graphql(
        guard = "RequirePermission(Permission::StockCountApprove)",
        directive = requires::apply(Permission::StockCountApprove)
    )]
    async fn post_stock_count(
        &self,
        ctx: &Context<'_>,
        input: PostStockCountInput,
    ) -> ApiResult<StockPayload> {
        let mut lines = Vec::with_capacity(input.lines.len());
        for line in input.lines {
            lines.push(stock::CountLine {
                product_id: parse_id(&line.product_id, "productId")?,
                location_id: parse_id(&line.location_id, "locationId")?,
                lot: line.lot.map(Into::into),
                counted: line.counted,
            });
        }
        payload(stock::count_lines(tenant_db(ctx)?, lines, input.note, input.idempotency_key).await)
    }

    /// Records a stocktake count; the variance becomes a movement. Audited as `stock.count`.
    #[graphql(
        guard = "RequirePermission(Permission::StockCount)",
        directive = requires::apply(Permission::StockCount)
    )]
    async fn count_stock(
        &self,
        ctx: &Context<'_>,
        input: CountStockInput,
    ) -> ApiResult<StockPayload> {
        let request = stock::CountInput {
            product_id: parse_id(&input.product_id, "productId")?,
            location_id: parse_id(&input.location_id, "locationId")?,
            lot: input.lot.map(Into::into),
            counted: input.counted,
            note: input.note,
            idempotency_key: input.idempotency_key,
        };
        payload(stock::count(tenant_db(ctx)?, request).await)
    }
}
