//! Pick lists and confirming picks.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{allocation, pick_list};

use super::loaders::{Loaders, guarded_one};
use super::places::Warehouse;
use super::selling::{Allocation, prime_allocations};
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, parse_optional_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::picking::{self, ShortPick};

/// Where a pick list stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickListStatus {
    /// Some picks are still to be confirmed.
    Open,
    /// Every pick is confirmed.
    Completed,
}

impl From<entity::PickListStatus> for PickListStatus {
    fn from(status: entity::PickListStatus) -> Self {
        match status {
            entity::PickListStatus::Open => Self::Open,
            entity::PickListStatus::Completed => Self::Completed,
        }
    }
}

impl From<PickListStatus> for entity::PickListStatus {
    fn from(status: PickListStatus) -> Self {
        match status {
            PickListStatus::Open => Self::Open,
            PickListStatus::Completed => Self::Completed,
        }
    }
}

/// The picks of one or more orders in one warehouse, in the order a picker walks them.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PickList {
    pub(crate) id: ID,
    /// `PL-000001`, counted per organisation.
    number: String,
    status: PickListStatus,
    warehouse_id: ID,
    created_at: chrono::DateTime<chrono::Utc>,
    completed_at: Option<chrono::DateTime<chrono::Utc>>,
    #[graphql(skip)]
    model: pick_list::Model,
}

impl From<pick_list::Model> for PickList {
    fn from(m: pick_list::Model) -> Self {
        Self {
            id: global_id(m.id),
            number: m.number.clone(),
            status: m.status.into(),
            warehouse_id: global_id(m.warehouse_id),
            created_at: m.created_at,
            completed_at: m.completed_at,
            model: m,
        }
    }
}

#[ComplexObject]
impl PickList {
    /// Its picks by location code (then product and lot), so the aisles are walked once; a
    /// short pick's re-allocations join the list.
    async fn picks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Allocation>> {
        let loader = &Loaders::of(ctx)?.picks;
        let picks = loader.load_one(self.model.id).await?.unwrap_or_default();
        Ok(picks.into_iter().map(Allocation::from).collect())
    }

    /// The warehouse walked; null (with a FORBIDDEN error) without WAREHOUSES_VIEW.
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

/// Orders to gather on one pick list.
#[derive(InputObject)]
pub struct CreatePickListInput {
    /// 1 to 50 ALLOCATED orders of one warehouse.
    sales_order_ids: Vec<ID>,
}

/// What to do with units a picker did not find.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ShortPickChoice {
    /// Reserve them at other pickable locations (INSUFFICIENT_STOCK if there are not enough).
    Reallocate,
    /// Send the order without them: they become a back-order.
    Backorder,
}

/// A picker's report on one pick.
#[derive(InputObject)]
pub struct ConfirmPickInput {
    /// The pick (an allocation on a pick list).
    allocation_id: ID,
    /// Units found and taken: 0 to the pick's quantity.
    quantity: i64,
    /// Required when `quantity` is short of the pick's.
    short_pick: Option<ShortPickChoice>,
    /// The SHIPPING location the units go to; the warehouse's first by code when absent.
    staging_location_id: Option<ID>,
    /// A retry with the same key moves nothing and answers the pick as it is.
    idempotency_key: Option<String>,
}

/// What the pick list list may be narrowed to.
#[derive(InputObject, Default)]
pub struct PickListFilter {
    #[graphql(default)]
    statuses: Vec<PickListStatus>,
    warehouse_id: Option<ID>,
}

/// What the pick list list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum PickListSortField {
    /// The number, which counts up as lists are made.
    #[default]
    Number,
}

/// The pick list list's order.
#[derive(InputObject, Default)]
pub struct PickListSort {
    #[graphql(default)]
    field: PickListSortField,
    #[graphql(default)]
    direction: SortDirection,
}

payload!(
    /// What `createPickList` returns.
    PickListPayload,
    pick_list: PickList
);

payload!(
    /// What `confirmPick` returns: the pick as it now is.
    PickPayload,
    allocation: Allocation
);

#[derive(Default)]
pub struct PickingQuery;

#[Object]
impl PickingQuery {
    /// Pick lists by number, `first` at a time (at most 100) after `after`; narrowed by state
    /// or warehouse.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::PickingView)",
        directive = requires::apply(Permission::PickingView)
    )]
    async fn pick_lists(
        &self,
        ctx: &Context<'_>,
        filter: Option<PickListFilter>,
        sort: Option<PickListSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<PickList>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let page = picking::list(
            tenant_db(ctx)?,
            &picking::PickListFilter {
                statuses: filter.statuses.into_iter().map(Into::into).collect(),
                warehouse_id: parse_optional_id(filter.warehouse_id, "filter.warehouseId")?,
            },
            sort.unwrap_or_default().direction.descending(),
            &request,
        )
        .await?;
        let loaders = Loaders::of(ctx)?;
        if super::rows_ask(ctx, &["picks"]) {
            let picks = loaders
                .prime(&loaders.picks, page.rows.iter().map(|(_, list)| list.id))
                .await?;
            let held: Vec<&allocation::Model> = picks.values().flatten().collect();
            prime_allocations(ctx, &held, &["picks"]).await?;
        }
        Ok(connection(&request, page, PickList::from))
    }

    /// One pick list.
    #[graphql(
        guard = "RequirePermission(Permission::PickingView)",
        directive = requires::apply(Permission::PickingView)
    )]
    async fn pick_list(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PickList> {
        Ok(picking::get(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct PickingMutation;

#[Object]
impl PickingMutation {
    /// Gathers the open picks of 1 to 50 ALLOCATED orders of one warehouse on a new pick list
    /// and moves the orders to PICKING. Audited as `pick_list.create`.
    #[graphql(
        guard = "RequirePermission(Permission::PickingPerform)",
        directive = requires::apply(Permission::PickingPerform)
    )]
    async fn create_pick_list(
        &self,
        ctx: &Context<'_>,
        input: CreatePickListInput,
    ) -> ApiResult<PickListPayload> {
        let result: Result<_, AppError> = async {
            let mut orders = Vec::with_capacity(input.sales_order_ids.len());
            for id in &input.sales_order_ids {
                orders.push(parse_id(id, "salesOrderIds")?);
            }
            picking::create_pick_list(tenant_db(ctx)?, orders).await
        }
        .await;
        PickListPayload::answer(result)
    }

    /// Records a pick of a PICKING order: the units found move from the pick's location to a
    /// SHIPPING location, still reserved for the order. Units not found are re-allocated
    /// elsewhere (never at the same location) or back-ordered, as `shortPick` says. Audited as
    /// `pick.confirm`.
    #[graphql(
        guard = "RequirePermission(Permission::PickingPerform)",
        directive = requires::apply(Permission::PickingPerform)
    )]
    async fn confirm_pick(
        &self,
        ctx: &Context<'_>,
        input: ConfirmPickInput,
    ) -> ApiResult<PickPayload> {
        let result: Result<_, AppError> = async {
            picking::confirm_pick(
                tenant_db(ctx)?,
                picking::PickConfirmation {
                    allocation_id: parse_id(&input.allocation_id, "allocationId")?,
                    quantity: input.quantity,
                    short_pick: input.short_pick.map(|choice| match choice {
                        ShortPickChoice::Reallocate => ShortPick::Reallocate,
                        ShortPickChoice::Backorder => ShortPick::Backorder,
                    }),
                    staging_location_id: parse_optional_id(
                        input.staging_location_id,
                        "stagingLocationId",
                    )?,
                    idempotency_key: input.idempotency_key,
                },
            )
            .await
        }
        .await;
        PickPayload::answer(result)
    }
}
