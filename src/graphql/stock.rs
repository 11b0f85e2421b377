//! Stock: balances, the movement ledger, and the operations that post to it.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{stock_balance, stock_movement};

use super::catalogue::Product;
use super::loaders::Loaders;
use super::places::Location;
use super::{
    ApiResult, ListConnection, SortDirection, UserError, connection, global_id, into_payload,
    page_request, parse_id, parse_optional_id, tenant_db,
};
use crate::auth::guard::{RequirePermission, may_see, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::ledger::{self, StockResult};
use crate::service::stock;

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
    updated_at: DateTime<Utc>,
    #[graphql(skip)]
    keys: (entity::ProductId, entity::LocationId, Option<entity::LotId>),
    /// The location, when it was read with the balance (`Product.balances`).
    #[graphql(skip)]
    location: Option<entity::location::Model>,
}

impl StockBalance {
    /// A balance read together with its location.
    pub(crate) fn located((balance, location): ledger::LocatedBalance) -> Self {
        Self {
            location: Some(location),
            ..Self::from(balance)
        }
    }
}

#[ComplexObject]
impl StockBalance {
    /// The product; null (with a FORBIDDEN error) without PRODUCTS_VIEW.
    #[graphql(directive = requires::apply(Permission::ProductsView))]
    async fn product(&self, ctx: &Context<'_>) -> ApiResult<Option<Product>> {
        if !may_see(ctx, Permission::ProductsView) {
            return Ok(None);
        }
        load_product(ctx, self.keys.0).await.map(Some)
    }

    /// The location; null (with a FORBIDDEN error) without LOCATIONS_VIEW.
    #[graphql(directive = requires::apply(Permission::LocationsView))]
    async fn location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        if !may_see(ctx, Permission::LocationsView) {
            return Ok(None);
        }
        if let Some(location) = &self.location {
            return Ok(Some(location.clone().into()));
        }
        load_location(ctx, self.keys.1).await.map(Some)
    }

    /// The lot, with its expiry date, for lot- and serial-tracked stock.
    async fn lot(&self, ctx: &Context<'_>) -> ApiResult<Option<Lot>> {
        load_lot(ctx, self.keys.2).await
    }
}

pub(super) async fn load_product(ctx: &Context<'_>, id: entity::ProductId) -> ApiResult<Product> {
    let product = Loaders::of(ctx)?.products.load_one(id).await?;
    Ok(product
        .ok_or(AppError::NotFound { entity: "product" })?
        .into())
}

pub(super) async fn load_location(
    ctx: &Context<'_>,
    id: entity::LocationId,
) -> ApiResult<Location> {
    let location = Loaders::of(ctx)?.locations.load_one(id).await?;
    Ok(location
        .ok_or(AppError::NotFound { entity: "location" })?
        .into())
}

pub(super) async fn load_lot(
    ctx: &Context<'_>,
    id: Option<entity::LotId>,
) -> ApiResult<Option<Lot>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let lot = Loaders::of(ctx)?.lots.load_one(id).await?;
    Ok(lot.map(|lot| Lot {
        id: global_id(lot.id),
        code: lot.code,
        expires_on: lot.expires_on,
    }))
}

impl From<stock_balance::Model> for StockBalance {
    fn from(b: stock_balance::Model) -> Self {
        let lot = (!b.lot_key.is_nil()).then_some(entity::LotId(b.lot_key));
        Self {
            product_id: global_id(b.product_id),
            location_id: global_id(b.location_id),
            lot_id: lot.map(global_id),
            on_hand: b.on_hand,
            reserved: b.reserved,
            available: b.on_hand - b.reserved,
            updated_at: b.updated_at,
            keys: (b.product_id, b.location_id, lot),
            location: None,
        }
    }
}

/// Where a movement takes stock from or to: a real location, or a virtual place that stands for
/// the world outside the warehouse's locations.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceKind {
    /// A location of a warehouse; the movement names which.
    Location,
    /// Goods received from a supplier.
    Supplier,
    /// Goods dispatched to (or returned by) a customer.
    Customer,
    /// Stock found or lost: adjustments and count variances.
    Adjustment,
    /// Stock written off as scrap.
    Scrap,
    /// Stock on its way between warehouses.
    InTransit,
}

impl From<entity::PlaceKind> for PlaceKind {
    fn from(place: entity::PlaceKind) -> Self {
        match place {
            entity::PlaceKind::Location => Self::Location,
            entity::PlaceKind::Supplier => Self::Supplier,
            entity::PlaceKind::Customer => Self::Customer,
            entity::PlaceKind::Adjustment => Self::Adjustment,
            entity::PlaceKind::Scrap => Self::Scrap,
            entity::PlaceKind::InTransit => Self::InTransit,
        }
    }
}

/// One entry of the stock ledger: `quantity` base units moved from one place to another.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct StockMovement {
    id: ID,
    product_id: ID,
    lot_id: Option<ID>,
    quantity: i64,
    /// Where the stock came from: LOCATION (see `fromLocationId`) or a virtual place.
    from_place: PlaceKind,
    from_location_id: Option<ID>,
    /// Where the stock went: LOCATION (see `toLocationId`) or a virtual place.
    to_place: PlaceKind,
    to_location_id: Option<ID>,
    reason: String,
    note: String,
    /// For a correction: the movement this one reverses.
    reverses_id: Option<ID>,
    /// Who posted it (see `user(id:)`); empty for the command line and the demo.
    actor_user_id: Option<ID>,
    created_at: DateTime<Utc>,
    #[graphql(skip)]
    row: stock_movement::Model,
}

#[ComplexObject]
impl StockMovement {
    /// The product; null (with a FORBIDDEN error) without PRODUCTS_VIEW.
    #[graphql(directive = requires::apply(Permission::ProductsView))]
    async fn product(&self, ctx: &Context<'_>) -> ApiResult<Option<Product>> {
        if !may_see(ctx, Permission::ProductsView) {
            return Ok(None);
        }
        load_product(ctx, self.row.product_id).await.map(Some)
    }

    async fn lot(&self, ctx: &Context<'_>) -> ApiResult<Option<Lot>> {
        load_lot(ctx, self.row.lot_id).await
    }

    /// The location stock left, if it left a real one.
    #[graphql(directive = requires::apply(Permission::LocationsView))]
    async fn from_location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        if !may_see(ctx, Permission::LocationsView) {
            return Ok(None);
        }
        match self.row.from_location_id {
            Some(id) => Ok(Some(load_location(ctx, id).await?)),
            None => Ok(None),
        }
    }

    /// The location stock reached, if it reached a real one.
    #[graphql(directive = requires::apply(Permission::LocationsView))]
    async fn to_location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        if !may_see(ctx, Permission::LocationsView) {
            return Ok(None);
        }
        match self.row.to_location_id {
            Some(id) => Ok(Some(load_location(ctx, id).await?)),
            None => Ok(None),
        }
    }
}

impl From<stock_movement::Model> for StockMovement {
    fn from(m: stock_movement::Model) -> Self {
        Self {
            id: global_id(m.id),
            product_id: global_id(m.product_id),
            lot_id: m.lot_id.map(global_id),
            quantity: m.quantity,
            from_place: m.from_place.into(),
            from_location_id: m.from_location_id.map(global_id),
            to_place: m.to_place.into(),
            to_location_id: m.to_location_id.map(global_id),
            reason: m.reason.clone(),
            note: m.note.clone(),
            reverses_id: m.reverses_id.map(global_id),
            actor_user_id: m.actor_user_id.map(global_id),
            created_at: m.created_at,
            row: m,
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

impl From<LotInput> for ledger::LotInput {
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
#[graphql(complex)]
pub struct StockPayload {
    movements: Vec<StockMovement>,
    #[graphql(skip)]
    balances: Vec<StockBalance>,
    user_errors: Vec<UserError>,
}

#[ComplexObject]
impl StockPayload {
    /// The balances the movements left; null (with a FORBIDDEN error) without STOCK_VIEW, since
    /// moving stock is not seeing how much there is.
    #[graphql(directive = requires::apply(Permission::StockView))]
    async fn balances(&self, ctx: &Context<'_>) -> Option<&Vec<StockBalance>> {
        may_see(ctx, Permission::StockView).then_some(&self.balances)
    }
}

fn payload(ctx: &Context<'_>, result: Result<StockResult, AppError>) -> ApiResult<StockPayload> {
    let (result, user_errors) = into_payload(result.map_err(|err| shown_to_caller(ctx, err)))?;
    let (movements, balances) =
        result.map_or((Vec::new(), Vec::new()), |r| (r.movements, r.balances));
    Ok(StockPayload {
        movements: movements.into_iter().map(StockMovement::from).collect(),
        balances: balances.into_iter().map(StockBalance::from).collect(),
        user_errors,
    })
}

/// A shortfall names what the caller may view and nothing more (no FORBIDDEN errors are added:
/// the caller asked to move stock, not to see it).
fn shown_to_caller(ctx: &Context<'_>, err: AppError) -> AppError {
    let AppError::InsufficientStock(shortfall) = err else {
        return err;
    };
    let holds = |permission| {
        super::signed_in(ctx).is_ok_and(|signed_in| signed_in.permissions.contains(permission))
    };
    AppError::Conflict(shortfall.message_for(
        holds(Permission::ProductsView),
        holds(Permission::LocationsView),
        holds(Permission::StockView),
    ))
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
    /// Stock on hand by product, location, warehouse or lot (with expiry), `first` at a time
    /// (at most 100) after `after`. Balances that fell to zero show only with
    /// `filter.includeEmpty`.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::StockView)",
        directive = requires::apply(Permission::StockView)
    )]
    async fn stock_on_hand(
        &self,
        ctx: &Context<'_>,
        filter: Option<StockBalanceFilter>,
        sort: Option<StockBalanceSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<StockBalance>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let filter = ledger::BalanceFilter {
            product_id: parse_optional_id(filter.product_id, "filter.productId")?,
            location_id: parse_optional_id(filter.location_id, "filter.locationId")?,
            warehouse_id: parse_optional_id(filter.warehouse_id, "filter.warehouseId")?,
            lot_id: parse_optional_id(filter.lot_id, "filter.lotId")?,
            expires_by: filter.expires_by,
            include_empty: filter.include_empty,
        };
        let page = ledger::balances(
            tenant_db(ctx)?,
            &filter,
            sort.field.into(),
            sort.direction.descending(),
            &request,
        )
        .await?;
        let rows: Vec<&stock_balance::Model> = page.rows.iter().map(|(_, b)| b).collect();
        let related = Related {
            products: rows.iter().map(|b| b.product_id).collect(),
            locations: rows.iter().map(|b| b.location_id).collect(),
            lots: rows
                .iter()
                .filter(|b| !b.lot_key.is_nil())
                .map(|b| entity::LotId(b.lot_key))
                .collect(),
        };
        prime_relations(ctx, related).await?;
        Ok(connection(&request, page, StockBalance::from))
    }

    /// The movement ledger with who (actorUserId), when and why, `first` at a time (at most 100)
    /// after `after`: newest first unless `sort` says otherwise.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::StockView)",
        directive = requires::apply(Permission::StockView)
    )]
    async fn stock_movements(
        &self,
        ctx: &Context<'_>,
        filter: Option<StockMovementFilter>,
        sort: Option<StockMovementSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<StockMovement>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let descending = sort.is_none_or(|sort| sort.direction.descending());
        let filter = ledger::MovementFilter {
            product_id: parse_optional_id(filter.product_id, "filter.productId")?,
            location_id: parse_optional_id(filter.location_id, "filter.locationId")?,
            warehouse_id: parse_optional_id(filter.warehouse_id, "filter.warehouseId")?,
            lot_id: parse_optional_id(filter.lot_id, "filter.lotId")?,
            reason: filter.reason,
            actor_user_id: parse_optional_id(filter.actor_user_id, "filter.actorUserId")?,
            from: filter.from,
            to: filter.to,
        };
        let page = ledger::movements(tenant_db(ctx)?, &filter, descending, &request).await?;
        let rows: Vec<&stock_movement::Model> = page.rows.iter().map(|(_, m)| m).collect();
        let related = Related {
            products: rows.iter().map(|m| m.product_id).collect(),
            locations: rows
                .iter()
                .flat_map(|m| [m.from_location_id, m.to_location_id])
                .flatten()
                .collect(),
            lots: rows.iter().filter_map(|m| m.lot_id).collect(),
        };
        prime_relations(ctx, related).await?;
        Ok(connection(&request, page, StockMovement::from))
    }
}

/// The keys a page of stock rows refers to.
struct Related {
    products: Vec<entity::ProductId>,
    locations: Vec<entity::LocationId>,
    lots: Vec<entity::LotId>,
}

/// Loads a page's products, locations (with their warehouses) and lots in one query each, when
/// the document asks for them: the loaders alone batch by timing, not by page, so a page's cost
/// would depend on scheduling.
async fn prime_relations(ctx: &Context<'_>, related: Related) -> ApiResult<()> {
    let Related {
        products,
        locations,
        lots,
    } = related;
    let node = ctx.look_ahead().field("nodes");
    let edge_node = ctx.look_ahead().field("edges").field("node");
    let asks = |field: &str| node.field(field).exists() || edge_node.field(field).exists();
    let loaders = Loaders::of(ctx)?;
    if asks("product") {
        loaders.prime(&loaders.products, products).await?;
    }
    if asks("location") || asks("fromLocation") || asks("toLocation") {
        let locations = loaders.prime(&loaders.locations, locations).await?;
        let wants_warehouse = ["location", "fromLocation", "toLocation"].iter().any(|f| {
            node.field(f).field("warehouse").exists()
                || edge_node.field(f).field("warehouse").exists()
        });
        if wants_warehouse {
            let warehouses = locations.values().map(|l| l.warehouse_id);
            loaders.prime(&loaders.warehouses, warehouses).await?;
        }
    }
    if asks("lot") {
        loaders.prime(&loaders.lots, lots).await?;
    }
    Ok(())
}

/// What the stock balance list may be narrowed to.
#[derive(InputObject, Default)]
pub struct StockBalanceFilter {
    product_id: Option<ID>,
    location_id: Option<ID>,
    warehouse_id: Option<ID>,
    lot_id: Option<ID>,
    /// Only lots that expire on or before this day.
    expires_by: Option<NaiveDate>,
    /// Also balances that have fallen to zero.
    #[graphql(default)]
    include_empty: bool,
}

/// What the stock balance list may be ordered by (ties: product, location, lot).
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum StockBalanceSortField {
    /// Grouped by product, in the products' creation order.
    #[default]
    Product,
    /// Grouped by location, in the locations' creation order.
    Location,
    OnHand,
    /// When the balance last changed.
    UpdatedAt,
}

impl From<StockBalanceSortField> for ledger::BalanceOrder {
    fn from(field: StockBalanceSortField) -> Self {
        match field {
            StockBalanceSortField::Product => Self::Product,
            StockBalanceSortField::Location => Self::Location,
            StockBalanceSortField::OnHand => Self::OnHand,
            StockBalanceSortField::UpdatedAt => Self::Updated,
        }
    }
}

/// The stock balance list's order.
#[derive(InputObject, Default)]
pub struct StockBalanceSort {
    #[graphql(default)]
    field: StockBalanceSortField,
    #[graphql(default)]
    direction: SortDirection,
}

/// What the movement history may be narrowed to.
#[derive(InputObject, Default)]
pub struct StockMovementFilter {
    product_id: Option<ID>,
    /// Movements into or out of this location.
    location_id: Option<ID>,
    /// Movements into or out of any location of this warehouse.
    warehouse_id: Option<ID>,
    lot_id: Option<ID>,
    /// Only this reason code, e.g. `damaged`, `count`, `transfer`.
    reason: Option<String>,
    actor_user_id: Option<ID>,
    /// Posted at or after this time.
    from: Option<DateTime<Utc>>,
    /// Posted before this time.
    to: Option<DateTime<Utc>>,
}

/// What the movement history may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum StockMovementSortField {
    /// Posting order.
    #[default]
    CreatedAt,
}

/// The movement history's order (newest first when no sort is given).
#[derive(InputObject)]
pub struct StockMovementSort {
    #[graphql(default)]
    field: StockMovementSortField,
    /// Newest first unless asked otherwise.
    #[graphql(default_with = "SortDirection::Desc")]
    direction: SortDirection,
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
        let result: Result<_, AppError> = async {
            let request = stock::AdjustInput {
                product_id: parse_id(&input.product_id, "productId")?,
                location_id: parse_id(&input.location_id, "locationId")?,
                lot: input.lot.map(Into::into),
                change: input.change,
                reason: input.reason,
                note: input.note,
                idempotency_key: input.idempotency_key,
            };
            stock::adjust(tenant_db(ctx)?, request).await
        }
        .await;
        payload(ctx, result)
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
        let result: Result<_, AppError> = async {
            let request = stock::TransferInput {
                product_id: parse_id(&input.product_id, "productId")?,
                from_location_id: parse_id(&input.from_location_id, "fromLocationId")?,
                to_location_id: parse_id(&input.to_location_id, "toLocationId")?,
                lot: input.lot.map(Into::into),
                quantity: input.quantity,
                note: input.note,
                idempotency_key: input.idempotency_key,
            };
            stock::transfer(tenant_db(ctx)?, request).await
        }
        .await;
        payload(ctx, result)
    }

    /// Corrects a movement by posting its exact opposite (the ledger is never edited). A movement
    /// can be reversed once; reversing a transfer also needs STOCK_TRANSFER. Audited as
    /// `stock.reverse`.
    #[graphql(
        guard = "RequirePermission(Permission::StockAdjust)",
        directive = requires::apply(Permission::StockAdjust)
    )]
    async fn reverse_stock_movement(
        &self,
        ctx: &Context<'_>,
        input: ReverseStockMovementInput,
    ) -> ApiResult<StockPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.movement_id, "movementId")?;
            let caller = super::signed_in(ctx)?;
            stock::reverse(
                &caller.db,
                caller.permissions,
                id,
                input.note,
                input.idempotency_key,
            )
            .await
        }
        .await;
        payload(ctx, result)
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
        let result: Result<_, AppError> = async {
            let mut lines = Vec::with_capacity(input.lines.len());
            for (index, line) in input.lines.into_iter().enumerate() {
                // Up to 1000 lines: say which one is wrong.
                let bad = |what: &str| {
                    AppError::bad_input(
                        "lines",
                        format!("line {}: {what} is not a valid id", index + 1),
                    )
                };
                lines.push(stock::CountLine {
                    product_id: parse_id(&line.product_id, "lines")
                        .map_err(|_| bad("productId"))?,
                    location_id: parse_id(&line.location_id, "lines")
                        .map_err(|_| bad("locationId"))?,
                    lot: line.lot.map(Into::into),
                    counted: line.counted,
                });
            }
            stock::count_lines(tenant_db(ctx)?, lines, input.note, input.idempotency_key).await
        }
        .await;
        payload(ctx, result)
    }

    /// Records a stocktake count and posts the variance as a movement at once, so it needs the
    /// right to post variances (STOCK_COUNT_APPROVE), like `postStockCount`. Audited as
    /// `stock.count`.
    #[graphql(
        guard = "RequirePermission(Permission::StockCountApprove)",
        directive = requires::apply(Permission::StockCountApprove)
    )]
    async fn count_stock(
        &self,
        ctx: &Context<'_>,
        input: CountStockInput,
    ) -> ApiResult<StockPayload> {
        let result: Result<_, AppError> = async {
            let request = stock::CountInput {
                product_id: parse_id(&input.product_id, "productId")?,
                location_id: parse_id(&input.location_id, "locationId")?,
                lot: input.lot.map(Into::into),
                counted: input.counted,
                note: input.note,
                idempotency_key: input.idempotency_key,
            };
            stock::count(tenant_db(ctx)?, request).await
        }
        .await;
        payload(ctx, result)
    }
}
