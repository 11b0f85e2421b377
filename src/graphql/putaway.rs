//! Put-away tasks: received goods on their way from the receiving location into storage.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::putaway_task;

use super::catalogue::Product;
use super::loaders::Loaders;
use super::places::Location;
use super::receiving::Receipt;
use super::stock::{load_location, load_product};
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, parse_optional_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, may_see, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::putaway;

/// Where a put-away task stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutAwayTaskStatus {
    /// Some or all of the goods still wait in the receiving location.
    Open,
    /// All of them have been put away.
    Done,
}

impl From<entity::PutAwayStatus> for PutAwayTaskStatus {
    fn from(status: entity::PutAwayStatus) -> Self {
        match status {
            entity::PutAwayStatus::Open => Self::Open,
            entity::PutAwayStatus::Done => Self::Done,
        }
    }
}

impl From<PutAwayTaskStatus> for entity::PutAwayStatus {
    fn from(status: PutAwayTaskStatus) -> Self {
        match status {
            PutAwayTaskStatus::Open => Self::Open,
            PutAwayTaskStatus::Done => Self::Done,
        }
    }
}

/// The goods of one receipt line, to be moved from the receiving location into a storage or
/// picking location of the same warehouse, all at once or in parts.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PutAwayTask {
    pub(crate) id: ID,
    status: PutAwayTaskStatus,
    receipt_id: ID,
    receipt_line_id: ID,
    warehouse_id: ID,
    product_id: ID,
    /// Null for an untracked product.
    lot_id: Option<ID>,
    /// The receiving location the goods wait in.
    from_location_id: ID,
    /// Where the task suggested, when it was made, to put the goods: the active storage or
    /// picking location of the warehouse holding the most of the product then (ties by code);
    /// null if none held it.
    suggested_location_id: Option<ID>,
    /// What the line received, in base units.
    quantity: i64,
    /// Put away so far.
    quantity_put_away: i64,
    /// Still in the receiving location.
    quantity_remaining: i64,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    /// When the last of the goods was put away; null while OPEN.
    completed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who put the last of the goods away; null while OPEN, or when the operator's command line
    /// did.
    completed_by_id: Option<ID>,
    #[graphql(skip)]
    model: putaway_task::Model,
}

impl From<putaway_task::Model> for PutAwayTask {
    fn from(m: putaway_task::Model) -> Self {
        Self {
            id: global_id(m.id),
            status: m.status.into(),
            receipt_id: global_id(m.receipt_id),
            receipt_line_id: global_id(m.receipt_line_id),
            warehouse_id: global_id(m.warehouse_id),
            product_id: global_id(m.product_id),
            lot_id: m.lot_id.map(global_id),
            from_location_id: global_id(m.from_location_id),
            suggested_location_id: m.suggested_location_id.map(global_id),
            quantity: m.quantity,
            quantity_put_away: m.quantity_put_away,
            quantity_remaining: m.quantity - m.quantity_put_away,
            created_at: m.created_at,
            updated_at: m.updated_at,
            completed_at: m.completed_at,
            completed_by_id: m.completed_by.map(global_id),
            model: m,
        }
    }
}

#[ComplexObject]
impl PutAwayTask {
    /// The states this task may go to next (empty once DONE).
    async fn next_statuses(&self) -> Vec<PutAwayTaskStatus> {
        super::next_statuses(self.model.status)
    }

    /// The receipt the goods arrived on.
    async fn receipt(&self, ctx: &Context<'_>) -> ApiResult<Receipt> {
        let receipt = Loaders::of(ctx)?
            .receipts
            .load_one(self.model.receipt_id)
            .await?
            .ok_or(AppError::NotFound { entity: "receipt" })?;
        Ok(receipt.into())
    }

    /// The product; null (with a FORBIDDEN error) without PRODUCTS_VIEW.
    #[graphql(directive = requires::apply(Permission::ProductsView))]
    async fn product(&self, ctx: &Context<'_>) -> ApiResult<Option<Product>> {
        if !may_see(ctx, Permission::ProductsView) {
            return Ok(None);
        }
        load_product(ctx, self.model.product_id).await.map(Some)
    }

    /// The lot or serial number; null for an untracked product. (As on a receipt line: the lot
    /// itself, `Lot`, is stock, seen under STOCK_VIEW.)
    async fn lot_code(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        Ok(self.lot_row(ctx).await?.map(|lot| lot.code))
    }

    /// The lot's expiry date, if it has one.
    async fn expires_on(&self, ctx: &Context<'_>) -> ApiResult<Option<chrono::NaiveDate>> {
        Ok(self.lot_row(ctx).await?.and_then(|lot| lot.expires_on))
    }

    /// The receiving location the goods wait in; null (with a FORBIDDEN error) without
    /// LOCATIONS_VIEW.
    #[graphql(directive = requires::apply(Permission::LocationsView))]
    async fn from_location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        if !may_see(ctx, Permission::LocationsView) {
            return Ok(None);
        }
        load_location(ctx, self.model.from_location_id)
            .await
            .map(Some)
    }

    /// The location suggested when the task was made (see `suggestedLocationId`); null (with a
    /// FORBIDDEN error) without LOCATIONS_VIEW.
    #[graphql(directive = requires::apply(Permission::LocationsView))]
    async fn suggested_location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        if !may_see(ctx, Permission::LocationsView) {
            return Ok(None);
        }
        match self.model.suggested_location_id {
            Some(id) => load_location(ctx, id).await.map(Some),
            None => Ok(None),
        }
    }

    /// Where the same rule would suggest now, from today's stock (it may differ from
    /// `suggestedLocation` once stock has moved); null if no active storage or picking location
    /// of the warehouse holds the product, or (with a FORBIDDEN error) without LOCATIONS_VIEW.
    #[graphql(directive = requires::apply(Permission::LocationsView))]
    async fn current_suggestion(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        if !may_see(ctx, Permission::LocationsView) {
            return Ok(None);
        }
        let key = (self.model.product_id, self.model.warehouse_id);
        Ok(Loaders::of(ctx)?
            .putaway_suggestions
            .load_one(key)
            .await?
            .flatten()
            .map(Into::into))
    }
}

impl PutAwayTask {
    async fn lot_row(&self, ctx: &Context<'_>) -> ApiResult<Option<entity::lot::Model>> {
        match self.model.lot_id {
            Some(id) => Ok(Loaders::of(ctx)?.lots.load_one(id).await?),
            None => Ok(None),
        }
    }
}

/// What the put-away task list may be narrowed to.
#[derive(InputObject, Default)]
pub struct PutAwayTaskFilter {
    warehouse_id: Option<ID>,
    status: Option<PutAwayTaskStatus>,
    receipt_id: Option<ID>,
}

/// What the put-away task list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum PutAwayTaskSortField {
    /// The order the goods arrived in (tasks are made with their receipt, in line order).
    #[default]
    CreatedAt,
}

/// The put-away task list's order: oldest first unless `direction` says otherwise.
#[derive(InputObject, Default)]
pub struct PutAwayTaskSort {
    #[graphql(default)]
    field: PutAwayTaskSortField,
    #[graphql(default)]
    direction: SortDirection,
}

/// Some or all of what is left of a task, into a storage or picking location.
#[derive(InputObject)]
pub struct PutAwayInput {
    task_id: ID,
    /// An active STORAGE or PICKING location of the receipt's warehouse; the task's suggestion
    /// when absent (refused naming this field when the task has none).
    location_id: Option<ID>,
    /// 1 up to what is left, in base units; all that is left when absent.
    quantity: Option<i64>,
    /// A retry with the same key moves nothing twice and answers the task as it stands.
    idempotency_key: Option<String>,
}

payload!(
    /// What `putAway` returns.
    PutAwayPayload,
    /// The task as the put-away left it.
    put_away_task: PutAwayTask
);

/// Loads what the document asks of a page of tasks in one statement per relation, however long
/// the page.
pub(super) async fn prime_tasks(
    ctx: &Context<'_>,
    tasks: &[&putaway_task::Model],
    prefix: &[&str],
) -> ApiResult<()> {
    let asks = |field: &str| {
        let path: Vec<&str> = prefix.iter().copied().chain([field]).collect();
        super::rows_ask(ctx, &path)
    };
    // Checked quietly: the fields themselves report what the caller may not see.
    let holds = |permission: Permission| {
        super::signed_in(ctx).is_ok_and(|caller| caller.permissions.contains(permission))
    };
    let loaders = Loaders::of(ctx)?;
    if asks("product") && holds(Permission::ProductsView) {
        let products = tasks.iter().map(|task| task.product_id);
        loaders.prime(&loaders.products, products).await?;
    }
    let lots: Vec<_> = tasks.iter().filter_map(|task| task.lot_id).collect();
    if (asks("lotCode") || asks("expiresOn")) && !lots.is_empty() {
        loaders.prime(&loaders.lots, lots).await?;
    }
    if (asks("fromLocation") || asks("suggestedLocation")) && holds(Permission::LocationsView) {
        let locations = tasks.iter().flat_map(|task| {
            [Some(task.from_location_id), task.suggested_location_id]
                .into_iter()
                .flatten()
        });
        loaders.prime(&loaders.locations, locations).await?;
    }
    if asks("currentSuggestion") && holds(Permission::LocationsView) {
        let pairs = tasks
            .iter()
            .map(|task| (task.product_id, task.warehouse_id));
        loaders.prime(&loaders.putaway_suggestions, pairs).await?;
    }
    if asks("receipt") {
        let receipts = tasks.iter().map(|task| task.receipt_id);
        loaders.prime(&loaders.receipts, receipts).await?;
    }
    Ok(())
}

#[derive(Default)]
pub struct PutAwayQuery;

#[Object]
impl PutAwayQuery {
    /// Put-away tasks, oldest first (the order the goods arrived in) unless `sort` says
    /// otherwise, `first` at a time (at most 100) after `after`; narrowed by warehouse, state or
    /// receipt.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::ReceiptsView)",
        directive = requires::apply(Permission::ReceiptsView)
    )]
    async fn put_away_tasks(
        &self,
        ctx: &Context<'_>,
        filter: Option<PutAwayTaskFilter>,
        sort: Option<PutAwayTaskSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<PutAwayTask>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let PutAwayTaskSort { field, direction } = sort.unwrap_or_default();
        match field {
            PutAwayTaskSortField::CreatedAt => {}
        }
        let page = putaway::list(
            tenant_db(ctx)?,
            &putaway::TaskFilter {
                warehouse_id: parse_optional_id(filter.warehouse_id, "filter.warehouseId")?,
                status: filter.status.map(Into::into),
                receipt_id: parse_optional_id(filter.receipt_id, "filter.receiptId")?,
            },
            direction.descending(),
            &request,
        )
        .await?;
        let rows: Vec<&putaway_task::Model> = page.rows.iter().map(|(_, task)| task).collect();
        prime_tasks(ctx, &rows, &[]).await?;
        Ok(connection(&request, page, PutAwayTask::from))
    }
}

#[derive(Default)]
pub struct PutAwayMutation;

#[Object]
impl PutAwayMutation {
    /// Puts away some or all of what is left of an OPEN task: one stock movement from the
    /// receiving location into an active STORAGE or PICKING location of the receipt's warehouse
    /// (the task's suggestion unless `locationId` names another). The task stays OPEN until all of
    /// it is put away, then becomes DONE. More than is left is a CONFLICT naming what is left; a
    /// DONE task is a CONFLICT. Audited as `putaway.move`, with the task's state before and
    /// after.
    #[graphql(
        guard = "RequirePermission(Permission::ReceiptsReceive)",
        directive = requires::apply(Permission::ReceiptsReceive)
    )]
    async fn put_away(&self, ctx: &Context<'_>, input: PutAwayInput) -> ApiResult<PutAwayPayload> {
        let result: Result<_, AppError> = async {
            let input = putaway::PutAwayInput {
                task_id: parse_id(&input.task_id, "taskId")?,
                location_id: parse_optional_id(input.location_id, "locationId")?,
                quantity: input.quantity,
                idempotency_key: input.idempotency_key,
            };
            putaway::put_away(tenant_db(ctx)?, input).await
        }
        .await;
        PutAwayPayload::answer(result)
    }
}
