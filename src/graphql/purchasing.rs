//! Purchase orders.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use entity::{purchase_order, purchase_order_line};

use super::audit::TimelineEntry;
use super::catalogue::Product;
use super::loaders::{Loaders, guarded_many, guarded_one};
use super::parties::Supplier;
use super::places::Warehouse;
use super::receiving::Receipt;
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, parse_optional_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, may_see, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::purchasing;

/// Where a purchase order stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PurchaseOrderStatus {
    /// Being written; supplier, warehouse, dates, note and lines may change.
    Draft,
    /// Sent to the supplier; goods are expected.
    Ordered,
    /// Some goods have arrived, not all.
    PartiallyReceived,
    /// Every line has arrived in full.
    Received,
    /// Closed without (all) its goods.
    Cancelled,
}

impl From<entity::PurchaseOrderStatus> for PurchaseOrderStatus {
    fn from(status: entity::PurchaseOrderStatus) -> Self {
        use entity::PurchaseOrderStatus as S;
        match status {
            S::Draft => Self::Draft,
            S::Ordered => Self::Ordered,
            S::PartiallyReceived => Self::PartiallyReceived,
            S::Received => Self::Received,
            S::Cancelled => Self::Cancelled,
        }
    }
}

impl From<PurchaseOrderStatus> for entity::PurchaseOrderStatus {
    fn from(status: PurchaseOrderStatus) -> Self {
        use PurchaseOrderStatus as S;
        match status {
            S::Draft => Self::Draft,
            S::Ordered => Self::Ordered,
            S::PartiallyReceived => Self::PartiallyReceived,
            S::Received => Self::Received,
            S::Cancelled => Self::Cancelled,
        }
    }
}

/// Goods ordered from a supplier for one warehouse.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PurchaseOrder {
    pub(crate) id: ID,
    /// `PO-000001`, counted per organisation.
    number: String,
    status: PurchaseOrderStatus,
    supplier_id: ID,
    warehouse_id: ID,
    /// When the goods are expected, unless a line says otherwise.
    expected_on: Option<NaiveDate>,
    note: String,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    model: purchase_order::Model,
}

impl From<purchase_order::Model> for PurchaseOrder {
    fn from(m: purchase_order::Model) -> Self {
        Self {
            id: global_id(m.id),
            number: m.number.clone(),
            status: m.status.into(),
            supplier_id: global_id(m.supplier_id),
            warehouse_id: global_id(m.warehouse_id),
            expected_on: m.expected_on,
            note: m.note.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            model: m,
        }
    }
}

#[ComplexObject]
impl PurchaseOrder {
    /// The states this order may go to next (empty once final).
    async fn next_statuses(&self) -> Vec<PurchaseOrderStatus> {
        super::next_statuses(self.model.status)
    }

    /// The order's lines, in line order.
    async fn lines(&self, ctx: &Context<'_>) -> ApiResult<Vec<PurchaseOrderLine>> {
        let loader = &Loaders::of(ctx)?.purchase_order_lines;
        Ok(loader
            .load_one(self.model.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|line| PurchaseOrderLine::new(line, self.model.expected_on))
            .collect())
    }

    /// The goods received against this order, oldest first.
    async fn receipts(&self, ctx: &Context<'_>) -> ApiResult<Vec<Receipt>> {
        let loader = &Loaders::of(ctx)?.receipts_of_orders;
        Ok(loader
            .load_one(self.model.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Receipt::from)
            .collect())
    }

    /// Everything that happened to it, oldest first: each audit event recorded on the order
    /// (created, ordered, cancelled), on its receipts and on their put-away tasks, with the
    /// stock movements each posted; null (with a FORBIDDEN error) without AUDIT_VIEW.
    #[graphql(directive = requires::apply(Permission::AuditView))]
    async fn timeline(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<TimelineEntry>>> {
        guarded_many(
            ctx,
            Permission::AuditView,
            |l| &l.purchase_order_timelines,
            self.model.id,
        )
        .await
    }

    /// The supplier; null (with a FORBIDDEN error) without SUPPLIERS_VIEW.
    #[graphql(directive = requires::apply(Permission::SuppliersView))]
    async fn supplier(&self, ctx: &Context<'_>) -> ApiResult<Option<Supplier>> {
        guarded_one(
            ctx,
            Permission::SuppliersView,
            |l| &l.suppliers,
            self.model.supplier_id,
            "supplier",
        )
        .await
    }

    /// The warehouse the goods go to; null (with a FORBIDDEN error) without WAREHOUSES_VIEW.
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

/// One product on a purchase order.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PurchaseOrderLine {
    id: ID,
    /// 1, 2, 3, … within the order.
    line_number: i32,
    product_id: ID,
    quantity_ordered: i64,
    quantity_received: i64,
    /// Ordered and not yet received (never below zero).
    quantity_outstanding: i64,
    /// When this line's goods are expected: its own date, else the order's.
    expected_on: Option<NaiveDate>,
    #[graphql(skip)]
    product_key: entity::ProductId,
}

impl PurchaseOrderLine {
    fn new(m: purchase_order_line::Model, order_expected_on: Option<NaiveDate>) -> Self {
        Self {
            id: global_id(m.id),
            line_number: m.line_number,
            product_id: global_id(m.product_id),
            product_key: m.product_id,
            quantity_ordered: m.quantity_ordered,
            quantity_received: m.quantity_received,
            quantity_outstanding: (m.quantity_ordered - m.quantity_received).max(0),
            expected_on: m.expected_on.or(order_expected_on),
        }
    }
}

#[ComplexObject]
impl PurchaseOrderLine {
    /// The product; null (with a FORBIDDEN error) without PRODUCTS_VIEW.
    #[graphql(directive = requires::apply(Permission::ProductsView))]
    async fn product(&self, ctx: &Context<'_>) -> ApiResult<Option<Product>> {
        if !may_see(ctx, Permission::ProductsView) {
            return Ok(None);
        }
        let product = Loaders::of(ctx)?
            .products
            .load_one(self.product_key)
            .await?
            .ok_or(AppError::NotFound { entity: "product" })?;
        Ok(Some(product.into()))
    }
}

/// One line of a draft.
#[derive(InputObject)]
pub struct PurchaseOrderLineInput {
    product_id: ID,
    /// 1 to 1,000,000,000.
    quantity: i64,
    /// When this line's goods are expected, if not the order's date.
    expected_on: Option<NaiveDate>,
}

/// A whole draft: supplier, warehouse, dates, note and lines.
#[derive(InputObject)]
pub struct CreatePurchaseOrderInput {
    supplier_id: ID,
    warehouse_id: ID,
    expected_on: Option<NaiveDate>,
    #[graphql(default)]
    note: String,
    /// 1 to 500, each product once.
    lines: Vec<PurchaseOrderLineInput>,
}

impl CreatePurchaseOrderInput {
    fn into_draft(self) -> Result<purchasing::DraftInput, AppError> {
        let mut lines = Vec::with_capacity(self.lines.len());
        for line in self.lines {
            lines.push(purchasing::LineInput {
                product_id: parse_id(&line.product_id, "lines.productId")?,
                quantity: line.quantity,
                expected_on: line.expected_on,
            });
        }
        Ok(purchasing::DraftInput {
            supplier_id: parse_id(&self.supplier_id, "supplierId")?,
            warehouse_id: parse_id(&self.warehouse_id, "warehouseId")?,
            expected_on: self.expected_on,
            note: self.note,
            lines,
        })
    }
}

/// Replaces a draft (send everything); refused once the order is placed.
#[derive(InputObject)]
pub struct UpdatePurchaseOrderInput {
    id: ID,
    #[graphql(flatten)]
    draft: CreatePurchaseOrderInput,
}

/// Names the purchase order a mutation acts on.
#[derive(InputObject)]
pub struct PurchaseOrderIdInput {
    id: ID,
}

/// What the purchase order list may be narrowed to.
#[derive(InputObject, Default)]
pub struct PurchaseOrderFilter {
    /// Any of these states (every state when empty or absent), e.g. the open ones:
    /// `[DRAFT, ORDERED, PARTIALLY_RECEIVED]`.
    #[graphql(default)]
    statuses: Vec<PurchaseOrderStatus>,
    supplier_id: Option<ID>,
    warehouse_id: Option<ID>,
    /// What is due to arrive: orders expected on or before this day (orders without an
    /// expected date are left out).
    expected_by: Option<NaiveDate>,
    /// Matches the number (case-insensitive, partial).
    search: Option<String>,
}

/// What the purchase order list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum PurchaseOrderSortField {
    #[default]
    Number,
    /// Creation order.
    CreatedAt,
    /// The expected day, then the number; orders without an expected date are left out.
    ExpectedOn,
}

/// The purchase order list's order.
#[derive(InputObject, Default)]
pub struct PurchaseOrderSort {
    #[graphql(default)]
    field: PurchaseOrderSortField,
    #[graphql(default)]
    direction: SortDirection,
}

payload!(
    /// What a purchase order mutation returns.
    PurchaseOrderPayload,
    purchase_order: PurchaseOrder
);

/// Loads what the document asks of the page (lines, their products, suppliers, warehouses) in
/// one statement each, however long the page: left to the loaders' timing, a busy server splits
/// them into several batches.
async fn prime_page(ctx: &Context<'_>, orders: &[&purchase_order::Model]) -> ApiResult<()> {
    let asks = |field: &str| super::rows_ask(ctx, &[field]);
    // Checked quietly: the fields themselves report what the caller may not see.
    let holds = |permission: Permission| {
        super::signed_in(ctx).is_ok_and(|caller| caller.permissions.contains(permission))
    };
    let loaders = Loaders::of(ctx)?;
    if asks("supplier") && holds(Permission::SuppliersView) {
        loaders
            .prime(
                &loaders.suppliers,
                orders.iter().map(|order| order.supplier_id),
            )
            .await?;
    }
    if asks("warehouse") && holds(Permission::WarehousesView) {
        loaders
            .prime(
                &loaders.warehouses,
                orders.iter().map(|order| order.warehouse_id),
            )
            .await?;
    }
    if asks("timeline") && holds(Permission::AuditView) {
        loaders
            .prime(
                &loaders.purchase_order_timelines,
                orders.iter().map(|order| order.id),
            )
            .await?;
    }
    if asks("lines") {
        let lines = loaders
            .prime(
                &loaders.purchase_order_lines,
                orders.iter().map(|order| order.id),
            )
            .await?;
        if super::rows_ask(ctx, &["lines", "product"]) && holds(Permission::ProductsView) {
            let products = lines.values().flatten().map(|line| line.product_id);
            loaders.prime(&loaders.products, products).await?;
        }
    }
    Ok(())
}

#[derive(Default)]
pub struct PurchasingQuery;

#[Object]
impl PurchasingQuery {
    /// Purchase orders, `first` at a time (at most 100) after `after`, by number unless `sort`
    /// says otherwise; narrowed by state, supplier, warehouse or number.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::ReceiptsView)",
        directive = requires::apply(Permission::ReceiptsView)
    )]
    async fn purchase_orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<PurchaseOrderFilter>,
        sort: Option<PurchaseOrderSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<PurchaseOrder>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let page = purchasing::list(
            tenant_db(ctx)?,
            &purchasing::OrderFilter {
                statuses: filter.statuses.into_iter().map(Into::into).collect(),
                supplier_id: parse_optional_id(filter.supplier_id, "filter.supplierId")?,
                warehouse_id: parse_optional_id(filter.warehouse_id, "filter.warehouseId")?,
                expected_by: filter.expected_by,
                search: filter.search,
            },
            match sort.field {
                PurchaseOrderSortField::Number => purchasing::OrderOrder::Number,
                PurchaseOrderSortField::CreatedAt => purchasing::OrderOrder::Created,
                PurchaseOrderSortField::ExpectedOn => purchasing::OrderOrder::ExpectedOn,
            },
            sort.direction.descending(),
            &request,
        )
        .await?;
        let orders: Vec<_> = page.rows.iter().map(|(_, order)| order).collect();
        prime_page(ctx, &orders).await?;
        Ok(connection(&request, page, PurchaseOrder::from))
    }

    /// One purchase order.
    #[graphql(
        guard = "RequirePermission(Permission::ReceiptsView)",
        directive = requires::apply(Permission::ReceiptsView)
    )]
    async fn purchase_order(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PurchaseOrder> {
        Ok(purchasing::get(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct PurchasingMutation;

#[Object]
impl PurchasingMutation {
    /// Creates a DRAFT purchase order with its lines; the number is given here. The supplier,
    /// warehouse and products must be active. Audited as `purchase_order.create`.
    #[graphql(
        guard = "RequirePermission(Permission::ReceiptsCreate)",
        directive = requires::apply(Permission::ReceiptsCreate)
    )]
    async fn create_purchase_order(
        &self,
        ctx: &Context<'_>,
        input: CreatePurchaseOrderInput,
    ) -> ApiResult<PurchaseOrderPayload> {
        let result: Result<_, AppError> = async {
            let (order, _) = purchasing::create(tenant_db(ctx)?, input.into_draft()?).await?;
            Ok(order)
        }
        .await;
        PurchaseOrderPayload::answer(result)
    }

    /// Replaces a DRAFT order's supplier, warehouse, dates, note and lines (send them all);
    /// CONFLICT once it is placed. Audited as `purchase_order.update`.
    #[graphql(
        guard = "RequirePermission(Permission::ReceiptsCreate)",
        directive = requires::apply(Permission::ReceiptsCreate)
    )]
    async fn update_purchase_order(
        &self,
        ctx: &Context<'_>,
        input: UpdatePurchaseOrderInput,
    ) -> ApiResult<PurchaseOrderPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            let (order, _) =
                purchasing::update_draft(tenant_db(ctx)?, id, input.draft.into_draft()?).await?;
            Ok(order)
        }
        .await;
        PurchaseOrderPayload::answer(result)
    }

    /// DRAFT → ORDERED: the order has been sent and goods are expected. Audited as
    /// `purchase_order.place`.
    #[graphql(
        guard = "RequirePermission(Permission::ReceiptsCreate)",
        directive = requires::apply(Permission::ReceiptsCreate)
    )]
    async fn place_purchase_order(
        &self,
        ctx: &Context<'_>,
        input: PurchaseOrderIdInput,
    ) -> ApiResult<PurchaseOrderPayload> {
        let result: Result<_, AppError> =
            async { purchasing::place(tenant_db(ctx)?, parse_id(&input.id, "id")?).await }.await;
        PurchaseOrderPayload::answer(result)
    }

    /// → CANCELLED, from DRAFT, ORDERED or PARTIALLY_RECEIVED (what has arrived stays). A
    /// received or cancelled order is final (CONFLICT naming its state). Audited as
    /// `purchase_order.cancel`.
    #[graphql(
        guard = "RequirePermission(Permission::ReceiptsCreate)",
        directive = requires::apply(Permission::ReceiptsCreate)
    )]
    async fn cancel_purchase_order(
        &self,
        ctx: &Context<'_>,
        input: PurchaseOrderIdInput,
    ) -> ApiResult<PurchaseOrderPayload> {
        let result: Result<_, AppError> =
            async { purchasing::cancel(tenant_db(ctx)?, parse_id(&input.id, "id")?).await }.await;
        PurchaseOrderPayload::answer(result)
    }
}
