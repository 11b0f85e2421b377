//! Receipts: goods received against purchase orders or ad hoc.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use entity::{receipt, receipt_line};

use super::loaders::Loaders;
use super::parties::Supplier;
use super::purchasing::PurchaseOrder;
use super::putaway::{PutAwayTask, prime_tasks};
use super::stock::LotInput;
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, parse_optional_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, may_see, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::receiving;

/// Goods that arrived from a supplier into a receiving location, against a purchase order or ad
/// hoc. Never changed once received.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Receipt {
    pub(crate) id: ID,
    /// `RC-000001`, counted per organisation.
    number: String,
    /// Null for an ad hoc receipt.
    purchase_order_id: Option<ID>,
    supplier_id: ID,
    warehouse_id: ID,
    /// The receiving location the goods were booked into.
    location_id: ID,
    note: String,
    received_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    model: receipt::Model,
}

impl From<receipt::Model> for Receipt {
    fn from(m: receipt::Model) -> Self {
        Self {
            id: global_id(m.id),
            number: m.number.clone(),
            purchase_order_id: m.purchase_order_id.map(global_id),
            supplier_id: global_id(m.supplier_id),
            warehouse_id: global_id(m.warehouse_id),
            location_id: global_id(m.location_id),
            note: m.note.clone(),
            received_at: m.received_at,
            model: m,
        }
    }
}

#[ComplexObject]
impl Receipt {
    /// What arrived, in line order.
    async fn lines(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReceiptLine>> {
        let loader = &Loaders::of(ctx)?.receipt_lines;
        Ok(loader
            .load_one(self.model.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ReceiptLine::from)
            .collect())
    }

    /// The put-away tasks of its lines, in line order: one per line, made with the receipt.
    async fn put_away_tasks(&self, ctx: &Context<'_>) -> ApiResult<Vec<PutAwayTask>> {
        let loader = &Loaders::of(ctx)?.putaway_tasks;
        Ok(loader
            .load_one(self.model.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(PutAwayTask::from)
            .collect())
    }

    /// The order this receipt is against; null for an ad hoc receipt.
    async fn purchase_order(&self, ctx: &Context<'_>) -> ApiResult<Option<PurchaseOrder>> {
        let Some(id) = self.model.purchase_order_id else {
            return Ok(None);
        };
        let order = Loaders::of(ctx)?
            .purchase_orders
            .load_one(id)
            .await?
            .ok_or(AppError::NotFound {
                entity: "purchase order",
            })?;
        Ok(Some(order.into()))
    }

    /// The supplier; null (with a FORBIDDEN error) without SUPPLIERS_VIEW.
    #[graphql(directive = requires::apply(Permission::SuppliersView))]
    async fn supplier(&self, ctx: &Context<'_>) -> ApiResult<Option<Supplier>> {
        if !may_see(ctx, Permission::SuppliersView) {
            return Ok(None);
        }
        let supplier = Loaders::of(ctx)?
            .suppliers
            .load_one(self.model.supplier_id)
            .await?
            .ok_or(AppError::NotFound { entity: "supplier" })?;
        Ok(Some(supplier.into()))
    }
}

/// One product received on a receipt.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ReceiptLine {
    id: ID,
    /// 1, 2, 3, … within the receipt.
    line_number: i32,
    product_id: ID,
    quantity: i64,
    /// The order line this receives; null on an ad hoc receipt.
    purchase_order_line_id: Option<ID>,
    #[graphql(skip)]
    lot: Option<entity::LotId>,
}

impl From<receipt_line::Model> for ReceiptLine {
    fn from(m: receipt_line::Model) -> Self {
        Self {
            id: global_id(m.id),
            line_number: m.line_number,
            product_id: global_id(m.product_id),
            quantity: m.quantity,
            purchase_order_line_id: m.purchase_order_line_id.map(global_id),
            lot: m.lot_id,
        }
    }
}

#[ComplexObject]
impl ReceiptLine {
    /// The lot or serial number received; null for an untracked product.
    async fn lot_code(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        Ok(self.lot_row(ctx).await?.map(|lot| lot.code))
    }

    /// The lot's expiry date, if it has one.
    async fn expires_on(&self, ctx: &Context<'_>) -> ApiResult<Option<NaiveDate>> {
        Ok(self.lot_row(ctx).await?.and_then(|lot| lot.expires_on))
    }
}

impl ReceiptLine {
    async fn lot_row(&self, ctx: &Context<'_>) -> ApiResult<Option<entity::lot::Model>> {
        match self.lot {
            Some(id) => Ok(Loaders::of(ctx)?.lots.load_one(id).await?),
            None => Ok(None),
        }
    }
}

/// One line received: an order line (with `purchaseOrderId`) or a product (ad hoc).
#[derive(InputObject)]
pub struct ReceiveGoodsLineInput {
    /// The order line received (on a receipt against an order).
    purchase_order_line_id: Option<ID>,
    /// The product received (ad hoc).
    product_id: Option<ID>,
    /// 1 to 1,000,000,000 base units (one for a serial number).
    quantity: i64,
    /// Required for lot- and serial-tracked products.
    lot: Option<LotInput>,
}

/// Goods received into a receiving location.
#[derive(InputObject)]
pub struct ReceiveGoodsInput {
    /// The order received against (ORDERED or PARTIALLY_RECEIVED); absent for an ad hoc receipt.
    purchase_order_id: Option<ID>,
    /// Required ad hoc; with an order it must be the order's supplier.
    supplier_id: Option<ID>,
    /// An active RECEIVING location (in the order's warehouse).
    location_id: ID,
    #[graphql(default)]
    note: String,
    /// A retry with the same key answers the first receipt and moves nothing twice.
    idempotency_key: Option<String>,
    /// 1 to 500 lines.
    lines: Vec<ReceiveGoodsLineInput>,
}

impl ReceiveGoodsInput {
    fn into_service(self) -> Result<receiving::ReceiveInput, AppError> {
        let mut lines = Vec::with_capacity(self.lines.len());
        for line in self.lines {
            lines.push(receiving::ReceiveLine {
                purchase_order_line_id: parse_optional_id(
                    line.purchase_order_line_id,
                    "lines.purchaseOrderLineId",
                )?,
                product_id: parse_optional_id(line.product_id, "lines.productId")?,
                quantity: line.quantity,
                lot: line.lot.map(Into::into),
            });
        }
        Ok(receiving::ReceiveInput {
            purchase_order_id: parse_optional_id(self.purchase_order_id, "purchaseOrderId")?,
            supplier_id: parse_optional_id(self.supplier_id, "supplierId")?,
            location_id: parse_id(&self.location_id, "locationId")?,
            note: self.note,
            idempotency_key: self.idempotency_key,
            lines,
        })
    }
}

/// What the receipt list may be narrowed to.
#[derive(InputObject, Default)]
pub struct ReceiptFilter {
    purchase_order_id: Option<ID>,
    supplier_id: Option<ID>,
}

/// What the receipt list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReceiptSortField {
    #[default]
    Number,
    /// The order they were received in.
    ReceivedAt,
}

/// The receipt list's order.
#[derive(InputObject, Default)]
pub struct ReceiptSort {
    #[graphql(default)]
    field: ReceiptSortField,
    #[graphql(default)]
    direction: SortDirection,
}

payload!(
    /// What `receiveGoods` returns.
    ReceiptPayload,
    receipt: Receipt
);

#[derive(Default)]
pub struct ReceivingQuery;

#[Object]
impl ReceivingQuery {
    /// Receipts, `first` at a time (at most 100) after `after`, by number unless `sort` says
    /// otherwise; narrowed by order or supplier.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::ReceiptsView)",
        directive = requires::apply(Permission::ReceiptsView)
    )]
    async fn receipts(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReceiptFilter>,
        sort: Option<ReceiptSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Receipt>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let page = receiving::list(
            tenant_db(ctx)?,
            &receiving::ReceiptFilter {
                purchase_order_id: parse_optional_id(
                    filter.purchase_order_id,
                    "filter.purchaseOrderId",
                )?,
                supplier_id: parse_optional_id(filter.supplier_id, "filter.supplierId")?,
            },
            match sort.field {
                ReceiptSortField::Number => receiving::ReceiptOrder::Number,
                ReceiptSortField::ReceivedAt => receiving::ReceiptOrder::Received,
            },
            sort.direction.descending(),
            &request,
        )
        .await?;
        let ids: Vec<_> = page.rows.iter().map(|(_, receipt)| receipt.id).collect();
        let loaders = Loaders::of(ctx)?;
        if super::rows_ask(ctx, &["lines"]) {
            loaders.prime(&loaders.receipt_lines, ids.clone()).await?;
        }
        if super::rows_ask(ctx, &["putAwayTasks"]) {
            let tasks = loaders.prime(&loaders.putaway_tasks, ids).await?;
            let tasks: Vec<&entity::putaway_task::Model> = tasks.values().flatten().collect();
            prime_tasks(ctx, &tasks, &["putAwayTasks"]).await?;
        }
        Ok(connection(&request, page, Receipt::from))
    }

    /// One receipt.
    #[graphql(
        guard = "RequirePermission(Permission::ReceiptsView)",
        directive = requires::apply(Permission::ReceiptsView)
    )]
    async fn receipt(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Receipt> {
        Ok(receiving::get(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct ReceivingMutation;

#[Object]
impl ReceivingMutation {
    /// Receives goods into a RECEIVING location: against an ORDERED or PARTIALLY_RECEIVED order
    /// (its lines only, up to the ordered quantity plus the organisation's receipt tolerance) or
    /// ad hoc from a supplier. Each line posts a movement from the supplier account; the order
    /// becomes PARTIALLY_RECEIVED, or RECEIVED once every line has arrived in full. Lot- and
    /// serial-tracked products need their lot. All or nothing. Audited as `receipt.create`.
    #[graphql(
        guard = "RequirePermission(Permission::ReceiptsReceive)",
        directive = requires::apply(Permission::ReceiptsReceive)
    )]
    async fn receive_goods(
        &self,
        ctx: &Context<'_>,
        input: ReceiveGoodsInput,
    ) -> ApiResult<ReceiptPayload> {
        let result: Result<_, AppError> = async {
            let (receipt, _) = receiving::receive(tenant_db(ctx)?, input.into_service()?).await?;
            Ok(receipt)
        }
        .await;
        ReceiptPayload::answer(result)
    }
}
