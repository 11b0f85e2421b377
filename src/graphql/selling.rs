//! Sales orders and the stock allocated to them.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use entity::{allocation, sales_order, sales_order_line};

use super::audit::TimelineEntry;
use super::catalogue::Product;
use super::loaders::{Loaders, guarded_many, guarded_one};
use super::parties::{Customer, CustomerAddress};
use super::places::{Location, Warehouse};
use super::returns::CustomerReturn;
use super::shipping::Shipment;
use super::stock::{load_location, load_lot, load_product};
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, parse_optional_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, may_see, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::allocating::{self, Shortage};
use crate::service::lifecycle::Lifecycle;
use crate::service::{dispatching, selling};

/// Where a sales order stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SalesOrderStatus {
    /// Being written; customer, warehouse, address, date, note and lines may change.
    Draft,
    /// Agreed with the customer; waiting for stock to be reserved.
    Confirmed,
    /// Stock is reserved for it.
    Allocated,
    /// On a pick list: pickers are fetching it.
    Picking,
    /// Picked and packed.
    Packed,
    /// Handed to the carrier.
    Dispatched,
    /// Closed without dispatch; its reservations were released.
    Cancelled,
}

impl From<entity::SalesOrderStatus> for SalesOrderStatus {
    fn from(status: entity::SalesOrderStatus) -> Self {
        use entity::SalesOrderStatus as S;
        match status {
            S::Draft => Self::Draft,
            S::Confirmed => Self::Confirmed,
            S::Allocated => Self::Allocated,
            S::Picking => Self::Picking,
            S::Packed => Self::Packed,
            S::Dispatched => Self::Dispatched,
            S::Cancelled => Self::Cancelled,
        }
    }
}

impl From<SalesOrderStatus> for entity::SalesOrderStatus {
    fn from(status: SalesOrderStatus) -> Self {
        use SalesOrderStatus as S;
        match status {
            S::Draft => Self::Draft,
            S::Confirmed => Self::Confirmed,
            S::Allocated => Self::Allocated,
            S::Picking => Self::Picking,
            S::Packed => Self::Packed,
            S::Dispatched => Self::Dispatched,
            S::Cancelled => Self::Cancelled,
        }
    }
}

/// Where an allocation stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocationStatus {
    /// Reserved where it lies, waiting to be picked.
    Open,
    /// Picked: what was found lies reserved in the staging location.
    Picked,
    /// Sent to the customer.
    Dispatched,
    /// No longer held (the order was cancelled, or nothing was found at the pick).
    Released,
}

impl From<entity::AllocationStatus> for AllocationStatus {
    fn from(status: entity::AllocationStatus) -> Self {
        use entity::AllocationStatus as S;
        match status {
            S::Open => Self::Open,
            S::Picked => Self::Picked,
            S::Dispatched => Self::Dispatched,
            S::Released => Self::Released,
        }
    }
}

/// Goods a customer ordered from one warehouse, to ship on a day.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SalesOrder {
    pub(crate) id: ID,
    /// `SO-000001`, counted per organisation.
    number: String,
    status: SalesOrderStatus,
    customer_id: ID,
    warehouse_id: ID,
    shipping_address_id: Option<ID>,
    /// The day the customer wants it to leave.
    requested_ship_on: NaiveDate,
    note: String,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    pub(crate) model: sales_order::Model,
}

impl From<sales_order::Model> for SalesOrder {
    fn from(m: sales_order::Model) -> Self {
        Self {
            id: global_id(m.id),
            number: m.number.clone(),
            status: m.status.into(),
            customer_id: global_id(m.customer_id),
            warehouse_id: global_id(m.warehouse_id),
            shipping_address_id: m.shipping_address_id.map(global_id),
            requested_ship_on: m.requested_ship_on,
            note: m.note.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            model: m,
        }
    }
}

#[ComplexObject]
impl SalesOrder {
    /// The states this order may go to next (empty once final).
    async fn next_statuses(&self) -> Vec<SalesOrderStatus> {
        self.model
            .status
            .next()
            .iter()
            .map(|&status| status.into())
            .collect()
    }

    /// The order's lines, in line order.
    async fn lines(&self, ctx: &Context<'_>) -> ApiResult<Vec<SalesOrderLine>> {
        let loader = &Loaders::of(ctx)?.sales_order_lines;
        Ok(loader
            .load_one(self.model.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(SalesOrderLine::from)
            .collect())
    }

    /// The stock reserved for it (its picks), oldest first, released and dispatched ones
    /// included; null (with a FORBIDDEN error) without PICKING_VIEW.
    #[graphql(directive = requires::apply(Permission::PickingView))]
    async fn allocations(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<Allocation>>> {
        guarded_many(
            ctx,
            Permission::PickingView,
            |l| &l.allocations_of_orders,
            self.model.id,
        )
        .await
    }

    /// The packages it was packed into (empty before packing).
    async fn packages(&self, ctx: &Context<'_>) -> ApiResult<Vec<Package>> {
        let loader = &Loaders::of(ctx)?.packages;
        Ok(loader
            .load_one(self.model.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Package::from)
            .collect())
    }

    /// Its shipments, oldest first; null (with a FORBIDDEN error) without SHIPMENTS_VIEW.
    #[graphql(directive = requires::apply(Permission::ShipmentsView))]
    async fn shipments(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<Shipment>>> {
        guarded_many(
            ctx,
            Permission::ShipmentsView,
            |l| &l.shipments_of_orders,
            self.model.id,
        )
        .await
    }

    /// The customer returns booked against it, oldest first.
    async fn returns(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerReturn>> {
        let loader = &Loaders::of(ctx)?.returns_of_orders;
        Ok(loader
            .load_one(self.model.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CustomerReturn::from)
            .collect())
    }

    /// Everything that happened to it, oldest first: each audit event recorded on it (created,
    /// confirmed, allocated, each pick, packed, dispatched, cancelled), on the pick lists its
    /// picks were put on, on its shipments (created, each status, delivered) and on its customer
    /// returns (received, each disposition), with the stock movements each posted; null (with a
    /// FORBIDDEN error) without AUDIT_VIEW.
    #[graphql(directive = requires::apply(Permission::AuditView))]
    async fn timeline(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<TimelineEntry>>> {
        guarded_many(
            ctx,
            Permission::AuditView,
            |l| &l.sales_order_timelines,
            self.model.id,
        )
        .await
    }

    /// The customer; null (with a FORBIDDEN error) without CUSTOMERS_VIEW.
    #[graphql(directive = requires::apply(Permission::CustomersView))]
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        guarded_one(
            ctx,
            Permission::CustomersView,
            |l| &l.customers,
            self.model.customer_id,
            "customer",
        )
        .await
    }

    /// Where the goods go; null without one, or (with a FORBIDDEN error) without
    /// CUSTOMERS_VIEW.
    #[graphql(directive = requires::apply(Permission::CustomersView))]
    async fn shipping_address(&self, ctx: &Context<'_>) -> ApiResult<Option<CustomerAddress>> {
        if !may_see(ctx, Permission::CustomersView) {
            return Ok(None);
        }
        let Some(id) = self.model.shipping_address_id else {
            return Ok(None);
        };
        guarded_one(
            ctx,
            Permission::CustomersView,
            |l| &l.addresses,
            id,
            "customer address",
        )
        .await
    }

    /// The warehouse the goods leave from; null (with a FORBIDDEN error) without
    /// WAREHOUSES_VIEW.
    #[graphql(directive = requires::apply(Permission::WarehousesView))]
    async fn warehouse(&self, ctx: &Context<'_>) -> ApiResult<Option<Warehouse>> {
        guarded_one(
            ctx,
            Permission::WarehousesView,
            |l| &l.warehouses,
            self.model.warehouse_id,
            "warehouse",
        )
        .await
    }
}

/// One product on a sales order and how far it has come.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SalesOrderLine {
    id: ID,
    /// 1, 2, 3, … within the order.
    line_number: i32,
    product_id: ID,
    quantity_ordered: i64,
    /// Held for this line (reserved where it lies or picked), dispatched ones included.
    quantity_allocated: i64,
    quantity_picked: i64,
    /// Not sent with this order: there was no stock when it was allocated or picked.
    quantity_backordered: i64,
    quantity_dispatched: i64,
    /// Neither allocated nor back-ordered yet.
    quantity_unallocated: i64,
    #[graphql(skip)]
    product_key: entity::ProductId,
}

impl From<sales_order_line::Model> for SalesOrderLine {
    fn from(m: sales_order_line::Model) -> Self {
        Self {
            id: global_id(m.id),
            line_number: m.line_number,
            product_id: global_id(m.product_id),
            product_key: m.product_id,
            quantity_ordered: m.quantity_ordered,
            quantity_allocated: m.quantity_allocated,
            quantity_picked: m.quantity_picked,
            quantity_backordered: m.quantity_backordered,
            quantity_dispatched: m.quantity_dispatched,
            quantity_unallocated: (m.quantity_ordered
                - m.quantity_allocated
                - m.quantity_backordered)
                .max(0),
        }
    }
}

#[ComplexObject]
impl SalesOrderLine {
    /// The product; null (with a FORBIDDEN error) without PRODUCTS_VIEW.
    #[graphql(directive = requires::apply(Permission::ProductsView))]
    async fn product(&self, ctx: &Context<'_>) -> ApiResult<Option<Product>> {
        if !may_see(ctx, Permission::ProductsView) {
            return Ok(None);
        }
        Ok(Some(load_product(ctx, self.product_key).await?))
    }
}

/// Stock reserved for one order line at one location (and lot): on a pick list, it is one pick.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Allocation {
    pub(crate) id: ID,
    sales_order_id: ID,
    sales_order_line_id: ID,
    product_id: ID,
    location_id: ID,
    lot_id: Option<ID>,
    /// Units reserved at the location.
    quantity: i64,
    /// Units the picker found.
    quantity_picked: i64,
    status: AllocationStatus,
    /// The SHIPPING location picked units wait in.
    staged_location_id: Option<ID>,
    pick_list_id: Option<ID>,
    created_at: chrono::DateTime<chrono::Utc>,
    picked_at: Option<chrono::DateTime<chrono::Utc>>,
    #[graphql(skip)]
    pub(crate) model: allocation::Model,
}

impl From<allocation::Model> for Allocation {
    fn from(m: allocation::Model) -> Self {
        Self {
            id: global_id(m.id),
            sales_order_id: global_id(m.sales_order_id),
            sales_order_line_id: global_id(m.sales_order_line_id),
            product_id: global_id(m.product_id),
            location_id: global_id(m.location_id),
            lot_id: m.lot_id.map(global_id),
            quantity: m.quantity,
            quantity_picked: m.quantity_picked,
            status: m.status.into(),
            staged_location_id: m.staged_location_id.map(global_id),
            pick_list_id: m.pick_list_id.map(global_id),
            created_at: m.created_at,
            picked_at: m.picked_at,
            model: m,
        }
    }
}

#[ComplexObject]
impl Allocation {
    /// The order it is held for; null (with a FORBIDDEN error) without ORDERS_VIEW.
    #[graphql(directive = requires::apply(Permission::OrdersView))]
    async fn sales_order(&self, ctx: &Context<'_>) -> ApiResult<Option<SalesOrder>> {
        guarded_one(
            ctx,
            Permission::OrdersView,
            |l| &l.sales_orders,
            self.model.sales_order_id,
            "sales order",
        )
        .await
    }

    /// The product; null (with a FORBIDDEN error) without PRODUCTS_VIEW.
    #[graphql(directive = requires::apply(Permission::ProductsView))]
    async fn product(&self, ctx: &Context<'_>) -> ApiResult<Option<Product>> {
        if !may_see(ctx, Permission::ProductsView) {
            return Ok(None);
        }
        Ok(Some(load_product(ctx, self.model.product_id).await?))
    }

    /// Where the units were reserved (where the picker goes); null (with a FORBIDDEN error)
    /// without LOCATIONS_VIEW.
    #[graphql(directive = requires::apply(Permission::LocationsView))]
    async fn location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        if !may_see(ctx, Permission::LocationsView) {
            return Ok(None);
        }
        Ok(Some(load_location(ctx, self.model.location_id).await?))
    }

    /// The SHIPPING location picked units wait in; null before the pick, or (with a FORBIDDEN
    /// error) without LOCATIONS_VIEW.
    #[graphql(directive = requires::apply(Permission::LocationsView))]
    async fn staged_location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        if !may_see(ctx, Permission::LocationsView) {
            return Ok(None);
        }
        let Some(id) = self.model.staged_location_id else {
            return Ok(None);
        };
        Ok(Some(load_location(ctx, id).await?))
    }

    /// The lot or serial number to pick, for a tracked product.
    async fn lot_code(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        Ok(load_lot(ctx, self.model.lot_id).await?.map(|lot| lot.code))
    }

    /// The picked lot's expiry date, if it has one.
    async fn expires_on(&self, ctx: &Context<'_>) -> ApiResult<Option<NaiveDate>> {
        Ok(load_lot(ctx, self.model.lot_id)
            .await?
            .and_then(|lot| lot.expires_on))
    }
}

/// A box or pallet a packed order went into.
#[derive(SimpleObject)]
pub struct Package {
    pub(crate) id: ID,
    /// 1, 2, 3, … within the order.
    package_number: i32,
    weight_grams: i64,
    length_mm: i32,
    width_mm: i32,
    height_mm: i32,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<entity::package::Model> for Package {
    fn from(m: entity::package::Model) -> Self {
        Self {
            id: global_id(m.id),
            package_number: m.package_number,
            weight_grams: m.weight_grams,
            length_mm: m.length_mm,
            width_mm: m.width_mm,
            height_mm: m.height_mm,
            created_at: m.created_at,
        }
    }
}

/// One package as the packer measured it.
#[derive(InputObject)]
pub struct PackageInput {
    /// 1 to 2,000,000 (2 t).
    weight_grams: i64,
    /// Outside dimensions, each 1 to 10,000.
    length_mm: i32,
    width_mm: i32,
    height_mm: i32,
}

/// Packs a fully picked order.
#[derive(InputObject)]
pub struct PackSalesOrderInput {
    id: ID,
    /// 1 to 50.
    packages: Vec<PackageInput>,
}

/// Dispatches a packed order.
#[derive(InputObject)]
pub struct DispatchSalesOrderInput {
    id: ID,
    /// A retry with the same key moves nothing and answers the order as it is.
    idempotency_key: Option<String>,
}

/// One line of a draft.
#[derive(InputObject)]
pub struct SalesOrderLineInput {
    product_id: ID,
    /// 1 to 1,000,000,000.
    quantity: i64,
}

/// A whole draft: customer, warehouse, address, date, note and lines.
#[derive(InputObject)]
pub struct CreateSalesOrderInput {
    customer_id: ID,
    warehouse_id: ID,
    /// One of the customer's SHIPPING addresses; their default one when absent.
    shipping_address_id: Option<ID>,
    /// Today (UTC) when absent.
    requested_ship_on: Option<NaiveDate>,
    #[graphql(default)]
    note: String,
    /// 1 to 500, each product once.
    lines: Vec<SalesOrderLineInput>,
}

impl CreateSalesOrderInput {
    fn into_draft(self) -> Result<selling::DraftInput, AppError> {
        let mut lines = Vec::with_capacity(self.lines.len());
        for line in self.lines {
            lines.push(selling::LineInput {
                product_id: parse_id(&line.product_id, "lines.productId")?,
                quantity: line.quantity,
            });
        }
        Ok(selling::DraftInput {
            customer_id: parse_id(&self.customer_id, "customerId")?,
            warehouse_id: parse_id(&self.warehouse_id, "warehouseId")?,
            shipping_address_id: parse_optional_id(self.shipping_address_id, "shippingAddressId")?,
            requested_ship_on: self.requested_ship_on,
            note: self.note,
            lines,
        })
    }
}

/// Replaces a draft (send everything); refused once the order is confirmed.
#[derive(InputObject)]
pub struct UpdateSalesOrderInput {
    id: ID,
    #[graphql(flatten)]
    draft: CreateSalesOrderInput,
}

/// Names the sales order a mutation acts on.
#[derive(InputObject)]
pub struct SalesOrderIdInput {
    id: ID,
}

/// What to do when a line cannot be allocated in full.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum AllocationShortage {
    /// Refuse with INSUFFICIENT_STOCK and reserve nothing.
    #[default]
    Fail,
    /// Reserve what there is and back-order the rest.
    Backorder,
}

/// Reserves a confirmed order's stock.
#[derive(InputObject)]
pub struct AllocateSalesOrderInput {
    id: ID,
    #[graphql(default)]
    shortage: AllocationShortage,
    /// A retry with the same key reserves nothing more and answers the order as it is.
    idempotency_key: Option<String>,
}

/// What the sales order list may be narrowed to.
#[derive(InputObject, Default)]
pub struct SalesOrderFilter {
    /// Any of these states (every state when empty or absent), e.g. the open ones:
    /// `[DRAFT, CONFIRMED, ALLOCATED, PICKING, PACKED]`.
    #[graphql(default)]
    statuses: Vec<SalesOrderStatus>,
    customer_id: Option<ID>,
    warehouse_id: Option<ID>,
    /// Orders requested to ship on or before this day: with the open states and today, what
    /// must ship today (or is late).
    ship_by: Option<NaiveDate>,
    /// Back-orders: only orders with a line set aside for lack of stock (true), or only those
    /// without (false).
    backordered: Option<bool>,
    /// Matches the number (case-insensitive, partial).
    search: Option<String>,
}

/// What the sales order list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum SalesOrderSortField {
    #[default]
    Number,
    /// Creation order.
    CreatedAt,
    /// The requested ship day, then the number.
    RequestedShipOn,
}

/// The sales order list's order.
#[derive(InputObject, Default)]
pub struct SalesOrderSort {
    #[graphql(default)]
    field: SalesOrderSortField,
    #[graphql(default)]
    direction: SortDirection,
}

payload!(
    /// What a sales order mutation returns.
    SalesOrderPayload,
    sales_order: SalesOrder
);

/// What packing and dispatch return. Packers and dispatchers need not see orders: the order is
/// null (with a FORBIDDEN error) without ORDERS_VIEW; `status` says where it now stands.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct FulfilmentPayload {
    /// The order's state after the change (null when refused).
    status: Option<SalesOrderStatus>,
    user_errors: Vec<super::UserError>,
    #[graphql(skip)]
    order: Option<sales_order::Model>,
}

#[ComplexObject]
impl FulfilmentPayload {
    /// The order as it now is; null (with a FORBIDDEN error) without ORDERS_VIEW.
    #[graphql(directive = requires::apply(Permission::OrdersView))]
    async fn sales_order(&self, ctx: &Context<'_>) -> ApiResult<Option<SalesOrder>> {
        if !may_see(ctx, Permission::OrdersView) {
            return Ok(None);
        }
        Ok(self.order.clone().map(SalesOrder::from))
    }
}

impl Payload for FulfilmentPayload {
    type Value = sales_order::Model;

    fn new(value: Option<sales_order::Model>, user_errors: Vec<super::UserError>) -> Self {
        Self {
            status: value.as_ref().map(|order| order.status.into()),
            user_errors,
            order: value,
        }
    }
}

/// Loads what the document asks of the page (lines and their products, allocations, customers,
/// warehouses) in one statement each, however long the page.
pub(crate) async fn prime_orders(
    ctx: &Context<'_>,
    orders: &[&sales_order::Model],
    path: &[&str],
) -> ApiResult<()> {
    let asks = |fields: &[&str]| {
        let mut full: Vec<&str> = path.to_vec();
        full.extend_from_slice(fields);
        super::rows_ask(ctx, &full)
    };
    // Checked quietly: the fields themselves report what the caller may not see.
    let holds = |permission: Permission| {
        super::signed_in(ctx).is_ok_and(|caller| caller.permissions.contains(permission))
    };
    let loaders = Loaders::of(ctx)?;
    if asks(&["customer"]) && holds(Permission::CustomersView) {
        loaders
            .prime(&loaders.customers, orders.iter().map(|o| o.customer_id))
            .await?;
    }
    if asks(&["shippingAddress"]) && holds(Permission::CustomersView) {
        loaders
            .prime(
                &loaders.addresses,
                orders.iter().filter_map(|o| o.shipping_address_id),
            )
            .await?;
    }
    if asks(&["warehouse"]) && holds(Permission::WarehousesView) {
        loaders
            .prime(&loaders.warehouses, orders.iter().map(|o| o.warehouse_id))
            .await?;
    }
    if asks(&["lines"]) {
        let lines = loaders
            .prime(&loaders.sales_order_lines, orders.iter().map(|o| o.id))
            .await?;
        if asks(&["lines", "product"]) && holds(Permission::ProductsView) {
            let products = lines.values().flatten().map(|line| line.product_id);
            loaders.prime(&loaders.products, products).await?;
        }
    }
    if asks(&["timeline"]) && holds(Permission::AuditView) {
        loaders
            .prime(&loaders.sales_order_timelines, orders.iter().map(|o| o.id))
            .await?;
    }
    if asks(&["shipments"]) && holds(Permission::ShipmentsView) {
        loaders
            .prime(&loaders.shipments_of_orders, orders.iter().map(|o| o.id))
            .await?;
    }
    if asks(&["returns"]) {
        loaders
            .prime(&loaders.returns_of_orders, orders.iter().map(|o| o.id))
            .await?;
    }
    if asks(&["packages"]) {
        loaders
            .prime(&loaders.packages, orders.iter().map(|o| o.id))
            .await?;
    }
    if asks(&["allocations"]) && holds(Permission::PickingView) {
        let held = loaders
            .prime(&loaders.allocations_of_orders, orders.iter().map(|o| o.id))
            .await?;
        let held: Vec<&allocation::Model> = held.values().flatten().collect();
        let mut nested = path.to_vec();
        nested.push("allocations");
        prime_allocations(ctx, &held, &nested).await?;
    }
    Ok(())
}

/// Loads what the document asks of these allocations (products, locations, lots, orders) at
/// once.
pub(crate) async fn prime_allocations(
    ctx: &Context<'_>,
    held: &[&allocation::Model],
    path: &[&str],
) -> ApiResult<()> {
    let asks = |field: &str| {
        let mut full: Vec<&str> = path.to_vec();
        full.push(field);
        super::rows_ask(ctx, &full)
    };
    let holds = |permission: Permission| {
        super::signed_in(ctx).is_ok_and(|caller| caller.permissions.contains(permission))
    };
    let loaders = Loaders::of(ctx)?;
    if asks("product") && holds(Permission::ProductsView) {
        loaders
            .prime(&loaders.products, held.iter().map(|a| a.product_id))
            .await?;
    }
    if holds(Permission::LocationsView) {
        let mut locations = Vec::new();
        if asks("location") {
            locations.extend(held.iter().map(|a| a.location_id));
        }
        if asks("stagedLocation") {
            locations.extend(held.iter().filter_map(|a| a.staged_location_id));
        }
        if !locations.is_empty() {
            loaders.prime(&loaders.locations, locations).await?;
        }
    }
    if asks("lotCode") || asks("expiresOn") {
        loaders
            .prime(&loaders.lots, held.iter().filter_map(|a| a.lot_id))
            .await?;
    }
    if asks("salesOrder") && holds(Permission::OrdersView) {
        loaders
            .prime(&loaders.sales_orders, held.iter().map(|a| a.sales_order_id))
            .await?;
    }
    Ok(())
}

#[derive(Default)]
pub struct SellingQuery;

#[Object]
impl SellingQuery {
    /// Sales orders, `first` at a time (at most 100) after `after`, by number unless `sort`
    /// says otherwise; narrowed by state, customer, warehouse, ship day, back-orders or number.
    /// Open orders by state: `statuses`; what must ship today: the open states with `shipBy`
    /// today; back-orders: `backordered: true`.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::OrdersView)",
        directive = requires::apply(Permission::OrdersView)
    )]
    async fn sales_orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<SalesOrderFilter>,
        sort: Option<SalesOrderSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<SalesOrder>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let page = selling::list(
            tenant_db(ctx)?,
            &selling::OrderFilter {
                statuses: filter.statuses.into_iter().map(Into::into).collect(),
                customer_id: parse_optional_id(filter.customer_id, "filter.customerId")?,
                warehouse_id: parse_optional_id(filter.warehouse_id, "filter.warehouseId")?,
                ship_by: filter.ship_by,
                backordered: filter.backordered,
                search: filter.search,
            },
            match sort.field {
                SalesOrderSortField::Number => selling::OrderOrder::Number,
                SalesOrderSortField::CreatedAt => selling::OrderOrder::Created,
                SalesOrderSortField::RequestedShipOn => selling::OrderOrder::ShipDate,
            },
            sort.direction.descending(),
            &request,
        )
        .await?;
        let orders: Vec<_> = page.rows.iter().map(|(_, order)| order).collect();
        prime_orders(ctx, &orders, &[]).await?;
        Ok(connection(&request, page, SalesOrder::from))
    }

    /// One sales order.
    #[graphql(
        guard = "RequirePermission(Permission::OrdersView)",
        directive = requires::apply(Permission::OrdersView)
    )]
    async fn sales_order(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SalesOrder> {
        Ok(selling::get(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct SellingMutation;

#[Object]
impl SellingMutation {
    /// Creates a DRAFT sales order with its lines; the number is given here. The customer,
    /// warehouse and products must be active; the address one of the customer's SHIPPING
    /// addresses. Audited as `sales_order.create`.
    #[graphql(
        guard = "RequirePermission(Permission::OrdersCreate)",
        directive = requires::apply(Permission::OrdersCreate)
    )]
    async fn create_sales_order(
        &self,
        ctx: &Context<'_>,
        input: CreateSalesOrderInput,
    ) -> ApiResult<SalesOrderPayload> {
        let result: Result<_, AppError> = async {
            let (order, _) = selling::create(tenant_db(ctx)?, input.into_draft()?).await?;
            Ok(order)
        }
        .await;
        SalesOrderPayload::answer(result)
    }

    /// Replaces a DRAFT order (send everything); CONFLICT once it is confirmed. Audited as
    /// `sales_order.update`.
    #[graphql(
        guard = "RequirePermission(Permission::OrdersEdit)",
        directive = requires::apply(Permission::OrdersEdit)
    )]
    async fn update_sales_order(
        &self,
        ctx: &Context<'_>,
        input: UpdateSalesOrderInput,
    ) -> ApiResult<SalesOrderPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            let (order, _) =
                selling::update_draft(tenant_db(ctx)?, id, input.draft.into_draft()?).await?;
            Ok(order)
        }
        .await;
        SalesOrderPayload::answer(result)
    }

    /// DRAFT → CONFIRMED: agreed with the customer. Audited as `sales_order.confirm`.
    #[graphql(
        guard = "RequirePermission(Permission::OrdersEdit)",
        directive = requires::apply(Permission::OrdersEdit)
    )]
    async fn confirm_sales_order(
        &self,
        ctx: &Context<'_>,
        input: SalesOrderIdInput,
    ) -> ApiResult<SalesOrderPayload> {
        let result: Result<_, AppError> =
            async { selling::confirm(tenant_db(ctx)?, parse_id(&input.id, "id")?).await }.await;
        SalesOrderPayload::answer(result)
    }

    /// CONFIRMED → ALLOCATED: reserves each line's stock in active, pickable locations of the
    /// order's warehouse, first-expiry-first-out for tracked products (expired lots never), then
    /// by location code. Never more than is available, however many orders allocate at once:
    /// short of stock it fails (INSUFFICIENT_STOCK, nothing reserved) or, with `shortage:
    /// BACKORDER`, reserves what there is and back-orders the rest. Audited as
    /// `sales_order.allocate`.
    #[graphql(
        guard = "RequirePermission(Permission::OrdersEdit)",
        directive = requires::apply(Permission::OrdersEdit)
    )]
    async fn allocate_sales_order(
        &self,
        ctx: &Context<'_>,
        input: AllocateSalesOrderInput,
    ) -> ApiResult<SalesOrderPayload> {
        let result: Result<_, AppError> = async {
            allocating::allocate(
                tenant_db(ctx)?,
                parse_id(&input.id, "id")?,
                match input.shortage {
                    AllocationShortage::Fail => Shortage::Fail,
                    AllocationShortage::Backorder => Shortage::Backorder,
                },
                input.idempotency_key,
            )
            .await
        }
        .await;
        SalesOrderPayload::answer(result)
    }

    /// PICKING → PACKED once every pick is confirmed (and something was found): records the
    /// packages with their weight and dimensions. Audited as `sales_order.pack`.
    #[graphql(
        guard = "RequirePermission(Permission::PickingPerform)",
        directive = requires::apply(Permission::PickingPerform)
    )]
    async fn pack_sales_order(
        &self,
        ctx: &Context<'_>,
        input: PackSalesOrderInput,
    ) -> ApiResult<FulfilmentPayload> {
        let result: Result<_, AppError> = async {
            let packages = input
                .packages
                .iter()
                .map(|p| dispatching::PackageInput {
                    weight_grams: p.weight_grams,
                    length_mm: p.length_mm,
                    width_mm: p.width_mm,
                    height_mm: p.height_mm,
                })
                .collect();
            let (order, _) =
                dispatching::pack(tenant_db(ctx)?, parse_id(&input.id, "id")?, packages).await?;
            Ok(order)
        }
        .await;
        FulfilmentPayload::answer(result)
    }

    /// PACKED → DISPATCHED: every picked unit leaves its staging location for the customer
    /// account (its reservation released), the lines record what was sent, all in one
    /// transaction; dispatched lines never change again. Audited as `sales_order.dispatch`.
    #[graphql(
        guard = "RequirePermission(Permission::DispatchPerform)",
        directive = requires::apply(Permission::DispatchPerform)
    )]
    async fn dispatch_sales_order(
        &self,
        ctx: &Context<'_>,
        input: DispatchSalesOrderInput,
    ) -> ApiResult<FulfilmentPayload> {
        let result: Result<_, AppError> = async {
            dispatching::dispatch(
                tenant_db(ctx)?,
                parse_id(&input.id, "id")?,
                input.idempotency_key,
            )
            .await
        }
        .await;
        FulfilmentPayload::answer(result)
    }

    /// → CANCELLED from any state before DISPATCHED, releasing every reservation: stock not yet
    /// picked is available where it lies again; picked stock stays in its staging location,
    /// available. Audited as `sales_order.cancel`.
    #[graphql(
        guard = "RequirePermission(Permission::OrdersCancel)",
        directive = requires::apply(Permission::OrdersCancel)
    )]
    async fn cancel_sales_order(
        &self,
        ctx: &Context<'_>,
        input: SalesOrderIdInput,
    ) -> ApiResult<SalesOrderPayload> {
        let result: Result<_, AppError> =
            async { selling::cancel(tenant_db(ctx)?, parse_id(&input.id, "id")?).await }.await;
        SalesOrderPayload::answer(result)
    }
}
