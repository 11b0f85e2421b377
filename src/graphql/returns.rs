//! Customer returns: goods sent back against dispatched sales orders, received into quarantine
//! and dispositioned line by line.
//!
//! Returns are order business: the order permissions gate them (ORDERS_VIEW to see, ORDERS_EDIT
//! to receive and disposition), so a return and its sales order share one owner permission.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{customer_return, customer_return_line};

use super::catalogue::Product;
use super::loaders::Loaders;
use super::places::Location;
use super::selling::SalesOrder;
use super::stock::{load_location, load_lot, load_product};
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, parse_optional_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, may_see, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::returns;

/// Where a customer return stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomerReturnStatus {
    /// In quarantine; nothing decided yet.
    Received,
    /// Some units restocked or scrapped, some still in quarantine.
    PartiallyDispositioned,
    /// Every unit restocked or scrapped.
    Closed,
}

impl From<entity::CustomerReturnStatus> for CustomerReturnStatus {
    fn from(status: entity::CustomerReturnStatus) -> Self {
        use entity::CustomerReturnStatus as S;
        match status {
            S::Received => Self::Received,
            S::PartiallyDispositioned => Self::PartiallyDispositioned,
            S::Closed => Self::Closed,
        }
    }
}

impl From<CustomerReturnStatus> for entity::CustomerReturnStatus {
    fn from(status: CustomerReturnStatus) -> Self {
        use CustomerReturnStatus as S;
        match status {
            S::Received => Self::Received,
            S::PartiallyDispositioned => Self::PartiallyDispositioned,
            S::Closed => Self::Closed,
        }
    }
}

/// Goods a customer sent back against a dispatched sales order, received into a quarantine
/// location and then restocked or scrapped line by line.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CustomerReturn {
    pub(crate) id: ID,
    /// `RT-000001`, counted per organisation.
    number: String,
    status: CustomerReturnStatus,
    sales_order_id: ID,
    warehouse_id: ID,
    /// The QUARANTINE location the goods were received into.
    location_id: ID,
    /// Why the customer sent it back.
    reason: String,
    note: String,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    model: customer_return::Model,
}

impl From<customer_return::Model> for CustomerReturn {
    fn from(m: customer_return::Model) -> Self {
        Self {
            id: global_id(m.id),
            number: m.number.clone(),
            status: m.status.into(),
            sales_order_id: global_id(m.sales_order_id),
            warehouse_id: global_id(m.warehouse_id),
            location_id: global_id(m.location_id),
            reason: m.reason.clone(),
            note: m.note.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            model: m,
        }
    }
}

#[ComplexObject]
impl CustomerReturn {
    /// The states this return may go to next (empty once closed).
    async fn next_statuses(&self) -> Vec<CustomerReturnStatus> {
        super::next_statuses(self.model.status)
    }

    /// What came back, in line order.
    async fn lines(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerReturnLine>> {
        let loader = &Loaders::of(ctx)?.customer_return_lines;
        Ok(loader
            .load_one(self.model.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CustomerReturnLine::from)
            .collect())
    }

    /// The order the goods were dispatched on.
    async fn sales_order(&self, ctx: &Context<'_>) -> ApiResult<SalesOrder> {
        let order = Loaders::of(ctx)?
            .sales_orders
            .load_one(self.model.sales_order_id)
            .await?
            .ok_or(AppError::NotFound {
                entity: "sales order",
            })?;
        Ok(order.into())
    }

    /// The quarantine location; null (with a FORBIDDEN error) without LOCATIONS_VIEW.
    #[graphql(directive = requires::apply(Permission::LocationsView))]
    async fn location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        if !may_see(ctx, Permission::LocationsView) {
            return Ok(None);
        }
        Ok(Some(load_location(ctx, self.model.location_id).await?))
    }
}

/// One order line's units sent back on a return, and what has become of them.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CustomerReturnLine {
    id: ID,
    /// 1, 2, 3, … within the return.
    line_number: i32,
    sales_order_line_id: ID,
    product_id: ID,
    quantity_returned: i64,
    /// Units put back into a storage or picking location.
    quantity_restocked: i64,
    /// Units scrapped.
    quantity_scrapped: i64,
    /// Units still in quarantine, to be dispositioned.
    quantity_in_quarantine: i64,
    #[graphql(skip)]
    model: customer_return_line::Model,
}

impl From<customer_return_line::Model> for CustomerReturnLine {
    fn from(m: customer_return_line::Model) -> Self {
        Self {
            id: global_id(m.id),
            line_number: m.line_number,
            sales_order_line_id: global_id(m.sales_order_line_id),
            product_id: global_id(m.product_id),
            quantity_returned: m.quantity_returned,
            quantity_restocked: m.quantity_restocked,
            quantity_scrapped: m.quantity_scrapped,
            quantity_in_quarantine: m.quantity_returned
                - m.quantity_restocked
                - m.quantity_scrapped,
            model: m,
        }
    }
}

#[ComplexObject]
impl CustomerReturnLine {
    /// The lot or serial number that came back; null for an untracked product.
    async fn lot_code(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        Ok(load_lot(ctx, self.model.lot_id).await?.map(|lot| lot.code))
    }

    /// The product; null (with a FORBIDDEN error) without PRODUCTS_VIEW.
    #[graphql(directive = requires::apply(Permission::ProductsView))]
    async fn product(&self, ctx: &Context<'_>) -> ApiResult<Option<Product>> {
        if !may_see(ctx, Permission::ProductsView) {
            return Ok(None);
        }
        Ok(Some(load_product(ctx, self.model.product_id).await?))
    }
}

/// One order line's units coming back.
#[derive(InputObject)]
pub struct ReturnLineInput {
    /// A line of the order.
    sales_order_line_id: ID,
    /// 1 to what was dispatched on the line and not yet returned.
    quantity: i64,
    /// Required for lot- and serial-tracked products: a lot dispatched on the line.
    lot_code: Option<String>,
}

/// Goods coming back against a dispatched order.
#[derive(InputObject)]
pub struct ReceiveReturnInput {
    /// A DISPATCHED order.
    sales_order_id: ID,
    /// An active QUARANTINE location of the order's warehouse.
    location_id: ID,
    /// Why the customer sent it back (1 to 200 characters).
    reason: String,
    #[graphql(default)]
    note: String,
    /// A retry with the same key answers the first return and moves nothing twice.
    idempotency_key: Option<String>,
    /// 1 to 500 lines.
    lines: Vec<ReturnLineInput>,
}

impl ReceiveReturnInput {
    fn into_service(self) -> Result<returns::ReceiveReturnInput, AppError> {
        let mut lines = Vec::with_capacity(self.lines.len());
        for line in self.lines {
            lines.push(returns::ReturnLineInput {
                sales_order_line_id: parse_id(&line.sales_order_line_id, "lines.salesOrderLineId")?,
                quantity: line.quantity,
                lot_code: line.lot_code,
            });
        }
        Ok(returns::ReceiveReturnInput {
            sales_order_id: parse_id(&self.sales_order_id, "salesOrderId")?,
            location_id: parse_id(&self.location_id, "locationId")?,
            reason: self.reason,
            note: self.note,
            idempotency_key: self.idempotency_key,
            lines,
        })
    }
}

/// Units put back into stock.
#[derive(InputObject)]
pub struct RestockInput {
    quantity: i64,
    /// An active STORAGE or PICKING location of the return's warehouse.
    location_id: ID,
}

/// Units scrapped.
#[derive(InputObject)]
pub struct ScrapInput {
    quantity: i64,
}

/// What becomes of some of a return line's units still in quarantine.
#[derive(InputObject)]
pub struct DispositionReturnLineInput {
    return_line_id: ID,
    restock: Option<RestockInput>,
    scrap: Option<ScrapInput>,
    /// A retry with the same key moves nothing twice and answers the return as it is.
    idempotency_key: Option<String>,
}

impl DispositionReturnLineInput {
    fn into_service(self) -> Result<returns::DispositionInput, AppError> {
        let restock = match self.restock {
            Some(restock) => Some(returns::Restock {
                quantity: restock.quantity,
                location_id: parse_id(&restock.location_id, "restock.locationId")?,
            }),
            None => None,
        };
        Ok(returns::DispositionInput {
            return_line_id: parse_id(&self.return_line_id, "returnLineId")?,
            restock,
            scrap: self.scrap.map(|scrap| scrap.quantity),
            idempotency_key: self.idempotency_key,
        })
    }
}

/// What the return list may be narrowed to.
#[derive(InputObject, Default)]
pub struct CustomerReturnFilter {
    /// Any of these states (every state when empty or absent).
    #[graphql(default)]
    statuses: Vec<CustomerReturnStatus>,
    sales_order_id: Option<ID>,
}

/// What the return list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum CustomerReturnSortField {
    #[default]
    Number,
    /// The order they were received in.
    CreatedAt,
}

/// The return list's order.
#[derive(InputObject, Default)]
pub struct CustomerReturnSort {
    #[graphql(default)]
    field: CustomerReturnSortField,
    #[graphql(default)]
    direction: SortDirection,
}

payload!(
    /// What a customer return mutation returns.
    CustomerReturnPayload,
    customer_return: CustomerReturn
);

#[derive(Default)]
pub struct ReturnsQuery;

#[Object]
impl ReturnsQuery {
    /// Customer returns, `first` at a time (at most 100) after `after`, by number unless `sort`
    /// says otherwise; narrowed by state or sales order. Returns still in quarantine:
    /// `statuses: [RECEIVED, PARTIALLY_DISPOSITIONED]`.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::OrdersView)",
        directive = requires::apply(Permission::OrdersView)
    )]
    async fn customer_returns(
        &self,
        ctx: &Context<'_>,
        filter: Option<CustomerReturnFilter>,
        sort: Option<CustomerReturnSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<CustomerReturn>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let page = returns::list(
            tenant_db(ctx)?,
            &returns::ReturnFilter {
                statuses: filter.statuses.into_iter().map(Into::into).collect(),
                sales_order_id: parse_optional_id(filter.sales_order_id, "filter.salesOrderId")?,
            },
            match sort.field {
                CustomerReturnSortField::Number => returns::ReturnOrder::Number,
                CustomerReturnSortField::CreatedAt => returns::ReturnOrder::Received,
            },
            sort.direction.descending(),
            &request,
        )
        .await?;
        let found: Vec<_> = page.rows.iter().map(|(_, found)| found).collect();
        prime_returns(ctx, &found).await?;
        Ok(connection(&request, page, CustomerReturn::from))
    }

    /// One customer return.
    #[graphql(
        guard = "RequirePermission(Permission::OrdersView)",
        directive = requires::apply(Permission::OrdersView)
    )]
    async fn customer_return(&self, ctx: &Context<'_>, id: ID) -> ApiResult<CustomerReturn> {
        Ok(returns::get(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

/// Loads what the document asks of a page of returns (lines, their products and lots, orders,
/// locations) in one statement each, however long the page.
async fn prime_returns(ctx: &Context<'_>, found: &[&customer_return::Model]) -> ApiResult<()> {
    // Checked quietly: the fields themselves report what the caller may not see.
    let holds = |permission: Permission| {
        super::signed_in(ctx).is_ok_and(|caller| caller.permissions.contains(permission))
    };
    let loaders = Loaders::of(ctx)?;
    if super::rows_ask(ctx, &["lines"]) {
        let lines = loaders
            .prime(&loaders.customer_return_lines, found.iter().map(|r| r.id))
            .await?;
        let lines: Vec<&customer_return_line::Model> = lines.values().flatten().collect();
        if super::rows_ask(ctx, &["lines", "product"]) && holds(Permission::ProductsView) {
            loaders
                .prime(&loaders.products, lines.iter().map(|l| l.product_id))
                .await?;
        }
        if super::rows_ask(ctx, &["lines", "lotCode"]) {
            loaders
                .prime(&loaders.lots, lines.iter().filter_map(|l| l.lot_id))
                .await?;
        }
    }
    if super::rows_ask(ctx, &["salesOrder"]) {
        loaders
            .prime(
                &loaders.sales_orders,
                found.iter().map(|r| r.sales_order_id),
            )
            .await?;
    }
    if super::rows_ask(ctx, &["location"]) && holds(Permission::LocationsView) {
        loaders
            .prime(&loaders.locations, found.iter().map(|r| r.location_id))
            .await?;
    }
    Ok(())
}

#[derive(Default)]
pub struct ReturnsMutation;

#[Object]
impl ReturnsMutation {
    /// Receives goods a customer sent back against a DISPATCHED order into a QUARANTINE location
    /// of the order's warehouse. Each line names an order line and how many came back (a tracked
    /// product also the lot, one dispatched on that line); an order line never takes back more
    /// than was dispatched on it over all its returns (CONFLICT naming the limit). Each line posts
    /// a movement from the customer account. The return is RECEIVED. Audited as
    /// `customer_return.receive`.
    #[graphql(
        guard = "RequirePermission(Permission::OrdersEdit)",
        directive = requires::apply(Permission::OrdersEdit)
    )]
    async fn receive_return(
        &self,
        ctx: &Context<'_>,
        input: ReceiveReturnInput,
    ) -> ApiResult<CustomerReturnPayload> {
        let result: Result<_, AppError> = async {
            let (found, _) = returns::receive(tenant_db(ctx)?, input.into_service()?).await?;
            Ok(found)
        }
        .await;
        CustomerReturnPayload::answer(result)
    }

    /// Decides what becomes of some of a return line's units still in quarantine: `restock`
    /// moves them to a STORAGE or PICKING location of the warehouse, `scrap` to the scrap
    /// account; never more than are left in quarantine (CONFLICT). The return becomes
    /// PARTIALLY_DISPOSITIONED, or CLOSED once every unit is settled. Audited as
    /// `customer_return.disposition`.
    #[graphql(
        guard = "RequirePermission(Permission::OrdersEdit)",
        directive = requires::apply(Permission::OrdersEdit)
    )]
    async fn disposition_return_line(
        &self,
        ctx: &Context<'_>,
        input: DispositionReturnLineInput,
    ) -> ApiResult<CustomerReturnPayload> {
        let result: Result<_, AppError> = async {
            let (found, _) = returns::disposition(tenant_db(ctx)?, input.into_service()?).await?;
            Ok(found)
        }
        .await;
        CustomerReturnPayload::answer(result)
    }
}
