//! Shipments and their tracking view: the carrier's link, the packages, the status history and
//! the order lines.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::shipment;

use super::carriers::{Carrier, CarrierService};
use super::loaders::{Loaders, guarded_one};
use super::selling::SalesOrder;
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, parse_optional_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::shipping;

/// Where a shipment stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShipmentStatus {
    /// Booked with the carrier; not yet collected.
    Created,
    /// With the carrier, on its way.
    InTransit,
    /// Handed to the customer, who signed for it. Final.
    Delivered,
    /// Held up: damaged, refused, address not found.
    Exception,
}

impl From<entity::ShipmentStatus> for ShipmentStatus {
    fn from(status: entity::ShipmentStatus) -> Self {
        use entity::ShipmentStatus as S;
        match status {
            S::Created => Self::Created,
            S::InTransit => Self::InTransit,
            S::Delivered => Self::Delivered,
            S::Exception => Self::Exception,
        }
    }
}

impl From<ShipmentStatus> for entity::ShipmentStatus {
    fn from(status: ShipmentStatus) -> Self {
        use ShipmentStatus as S;
        match status {
            S::Created => Self::Created,
            S::InTransit => Self::InTransit,
            S::Delivered => Self::Delivered,
            S::Exception => Self::Exception,
        }
    }
}

/// Packages of one sales order handed to a carrier under a tracking number: its tracking view.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Shipment {
    pub(crate) id: ID,
    /// `SH-000001`, counted per organisation.
    number: String,
    status: ShipmentStatus,
    tracking_number: String,
    sales_order_id: ID,
    carrier_id: ID,
    carrier_service_id: ID,
    /// When it was delivered (null until DELIVERED).
    delivered_at: Option<DateTime<Utc>>,
    /// Who signed for it (null until DELIVERED).
    received_by: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[graphql(skip)]
    model: shipment::Model,
}

impl From<shipment::Model> for Shipment {
    fn from(m: shipment::Model) -> Self {
        Self {
            id: global_id(m.id),
            number: m.number.clone(),
            status: m.status.into(),
            tracking_number: m.tracking_number.clone(),
            sales_order_id: global_id(m.sales_order_id),
            carrier_id: global_id(m.carrier_id),
            carrier_service_id: global_id(m.carrier_service_id),
            delivered_at: m.delivered_at,
            received_by: m.received_by.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            model: m,
        }
    }
}

impl Shipment {
    async fn carrier_row(&self, ctx: &Context<'_>) -> ApiResult<entity::carrier::Model> {
        Ok(Loaders::of(ctx)?
            .carriers
            .load_one(self.model.carrier_id)
            .await?
            .ok_or(AppError::NotFound { entity: "carrier" })?)
    }

    async fn service_row(&self, ctx: &Context<'_>) -> ApiResult<entity::carrier_service::Model> {
        Ok(Loaders::of(ctx)?
            .carrier_service_rows
            .load_one(self.model.carrier_service_id)
            .await?
            .ok_or(AppError::NotFound {
                entity: "carrier service",
            })?)
    }
}

#[ComplexObject]
impl Shipment {
    /// The states this shipment may go to next (empty once DELIVERED).
    async fn next_statuses(&self) -> Vec<ShipmentStatus> {
        super::next_statuses(self.model.status)
    }

    /// The carrier's tracking page for this shipment, from its tracking URL template.
    async fn tracking_url(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let carrier = self.carrier_row(ctx).await?;
        Ok(shipping::tracking_url_of(&carrier, &self.model))
    }

    /// The carrier's name (its details: `carrier`, with CARRIERS_VIEW).
    async fn carrier_name(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(self.carrier_row(ctx).await?.name)
    }

    /// The service level's name (its details: `service`, with CARRIERS_VIEW).
    async fn service_name(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(self.service_row(ctx).await?.name)
    }

    /// The carrier; null (with a FORBIDDEN error) without CARRIERS_VIEW.
    #[graphql(directive = requires::apply(Permission::CarriersView))]
    async fn carrier(&self, ctx: &Context<'_>) -> ApiResult<Option<Carrier>> {
        guarded_one(
            ctx,
            Permission::CarriersView,
            |l| &l.carriers,
            self.model.carrier_id,
            "carrier",
        )
        .await
    }

    /// The carrier's service level; null (with a FORBIDDEN error) without CARRIERS_VIEW.
    #[graphql(directive = requires::apply(Permission::CarriersView))]
    async fn service(&self, ctx: &Context<'_>) -> ApiResult<Option<CarrierService>> {
        guarded_one(
            ctx,
            Permission::CarriersView,
            |l| &l.carrier_service_rows,
            self.model.carrier_service_id,
            "carrier service",
        )
        .await
    }

    /// The order it ships; null (with a FORBIDDEN error) without ORDERS_VIEW.
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

    /// The packages it carries, in package order.
    async fn packages(&self, ctx: &Context<'_>) -> ApiResult<Vec<ShipmentPackage>> {
        let loader = &Loaders::of(ctx)?.shipment_packages;
        Ok(loader
            .load_one(self.model.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ShipmentPackage::from)
            .collect())
    }

    /// Its status history, oldest first, its creation included.
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<ShipmentEvent>> {
        let loader = &Loaders::of(ctx)?.shipment_events;
        Ok(loader
            .load_one(self.model.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ShipmentEvent::from)
            .collect())
    }

    /// The order's lines, in line order: what was ordered, picked and dispatched.
    async fn lines(&self, ctx: &Context<'_>) -> ApiResult<Vec<ShipmentLine>> {
        let loaders = Loaders::of(ctx)?;
        let lines = loaders
            .sales_order_lines
            .load_one(self.model.sales_order_id)
            .await?
            .unwrap_or_default();
        let products = loaders
            .products
            .load_many(lines.iter().map(|line| line.product_id))
            .await?;
        Ok(lines
            .into_iter()
            .map(|line| ShipmentLine {
                line_number: line.line_number,
                sku: products
                    .get(&line.product_id)
                    .map(|p| p.sku.clone())
                    .unwrap_or_default(),
                quantity_ordered: line.quantity_ordered,
                quantity_picked: line.quantity_picked,
                quantity_dispatched: line.quantity_dispatched,
            })
            .collect())
    }
}

/// A package on a shipment, as the packer measured it.
#[derive(SimpleObject)]
pub struct ShipmentPackage {
    /// The package's id.
    package_id: ID,
    /// 1, 2, 3, … within the order.
    package_number: i32,
    weight_grams: i64,
    length_mm: i32,
    width_mm: i32,
    height_mm: i32,
}

impl From<entity::package::Model> for ShipmentPackage {
    fn from(m: entity::package::Model) -> Self {
        Self {
            package_id: global_id(m.id),
            package_number: m.package_number,
            weight_grams: m.weight_grams,
            length_mm: m.length_mm,
            width_mm: m.width_mm,
            height_mm: m.height_mm,
        }
    }
}

/// One entry of a shipment's status history.
#[derive(SimpleObject)]
pub struct ShipmentEvent {
    id: ID,
    /// The state the shipment went to.
    status: ShipmentStatus,
    note: String,
    /// When it happened, as reported.
    occurred_at: DateTime<Utc>,
    /// When it was written down here.
    recorded_at: DateTime<Utc>,
    /// The user who wrote it down (null for the operator's command line).
    recorded_by_user_id: Option<ID>,
}

impl From<entity::shipment_event::Model> for ShipmentEvent {
    fn from(m: entity::shipment_event::Model) -> Self {
        Self {
            id: global_id(m.id),
            status: m.status.into(),
            note: m.note,
            occurred_at: m.occurred_at,
            recorded_at: m.recorded_at,
            recorded_by_user_id: m.actor_user_id.map(global_id),
        }
    }
}

/// One line of the shipped order, as the tracking view shows it.
#[derive(SimpleObject)]
pub struct ShipmentLine {
    /// 1, 2, 3, … within the order.
    line_number: i32,
    sku: String,
    quantity_ordered: i64,
    quantity_picked: i64,
    quantity_dispatched: i64,
}

/// A new shipment.
#[derive(InputObject)]
pub struct CreateShipmentInput {
    /// A PACKED or DISPATCHED order.
    sales_order_id: ID,
    /// An active service level of an active carrier.
    carrier_service_id: ID,
    /// 1 to 64 letters, digits, '-' and '_'.
    tracking_number: String,
    /// Packages of the order not shipped yet; all of those when absent.
    package_ids: Option<Vec<ID>>,
}

/// A status the carrier reported.
#[derive(InputObject)]
pub struct UpdateShipmentStatusInput {
    shipment_id: ID,
    /// IN_TRANSIT or EXCEPTION (a delivery: `confirmDelivery`).
    status: ShipmentStatus,
    /// What happened, e.g. the carrier's exception reason.
    #[graphql(default)]
    note: String,
    /// When it happened (now when absent); not before the last event, not in the future.
    occurred_at: Option<DateTime<Utc>>,
}

/// A delivery confirmation.
#[derive(InputObject)]
pub struct ConfirmDeliveryInput {
    shipment_id: ID,
    /// Who signed for it.
    received_by: String,
    /// When (now when absent); not before the last event, not in the future.
    delivered_at: Option<DateTime<Utc>>,
}

/// What the shipment list may be narrowed to.
#[derive(InputObject, Default)]
pub struct ShipmentFilter {
    /// Any of these states (every state when empty or absent).
    #[graphql(default)]
    statuses: Vec<ShipmentStatus>,
    sales_order_id: Option<ID>,
    carrier_id: Option<ID>,
}

/// What the shipment list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum ShipmentSortField {
    #[default]
    Number,
    /// Creation order.
    CreatedAt,
}

/// The shipment list's order.
#[derive(InputObject, Default)]
pub struct ShipmentSort {
    #[graphql(default)]
    field: ShipmentSortField,
    #[graphql(default)]
    direction: SortDirection,
}

payload!(
    /// What a shipment mutation returns.
    ShipmentPayload,
    shipment: Shipment
);

/// Loads what the document asks of the page (carriers, service levels, packages, events, lines
/// and their products, orders) in one statement each, however long the page.
async fn prime_shipments(ctx: &Context<'_>, shipments: &[&shipment::Model]) -> ApiResult<()> {
    let asks = |fields: &[&str]| super::rows_ask(ctx, fields);
    let holds = |permission: Permission| {
        super::signed_in(ctx).is_ok_and(|caller| caller.permissions.contains(permission))
    };
    let loaders = Loaders::of(ctx)?;
    if asks(&["trackingUrl"]) || asks(&["carrierName"]) || asks(&["carrier"]) {
        loaders
            .prime(&loaders.carriers, shipments.iter().map(|s| s.carrier_id))
            .await?;
    }
    if asks(&["serviceName"]) || asks(&["service"]) {
        loaders
            .prime(
                &loaders.carrier_service_rows,
                shipments.iter().map(|s| s.carrier_service_id),
            )
            .await?;
    }
    if asks(&["carrier", "services"]) && holds(Permission::CarriersView) {
        loaders
            .prime(
                &loaders.carrier_services,
                shipments.iter().map(|s| s.carrier_id),
            )
            .await?;
    }
    if asks(&["packages"]) {
        loaders
            .prime(&loaders.shipment_packages, shipments.iter().map(|s| s.id))
            .await?;
    }
    if asks(&["events"]) {
        loaders
            .prime(&loaders.shipment_events, shipments.iter().map(|s| s.id))
            .await?;
    }
    if asks(&["lines"]) {
        let lines = loaders
            .prime(
                &loaders.sales_order_lines,
                shipments.iter().map(|s| s.sales_order_id),
            )
            .await?;
        let products = lines.values().flatten().map(|line| line.product_id);
        loaders.prime(&loaders.products, products).await?;
    }
    if asks(&["salesOrder"]) && holds(Permission::OrdersView) {
        let orders = loaders
            .prime(
                &loaders.sales_orders,
                shipments.iter().map(|s| s.sales_order_id),
            )
            .await?;
        let orders: Vec<_> = orders.values().collect();
        super::selling::prime_orders(ctx, &orders, &["salesOrder"]).await?;
    }
    Ok(())
}

#[derive(Default)]
pub struct ShippingQuery;

#[Object]
impl ShippingQuery {
    /// Shipments, `first` at a time (at most 100) after `after`, by number unless `sort` says
    /// otherwise; narrowed by state, sales order or carrier.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::ShipmentsView)",
        directive = requires::apply(Permission::ShipmentsView)
    )]
    async fn shipments(
        &self,
        ctx: &Context<'_>,
        filter: Option<ShipmentFilter>,
        sort: Option<ShipmentSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Shipment>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let page = shipping::list(
            tenant_db(ctx)?,
            &shipping::ShipmentFilter {
                statuses: filter.statuses.into_iter().map(Into::into).collect(),
                sales_order_id: parse_optional_id(filter.sales_order_id, "filter.salesOrderId")?,
                carrier_id: parse_optional_id(filter.carrier_id, "filter.carrierId")?,
            },
            match sort.field {
                ShipmentSortField::Number => shipping::ShipmentOrder::Number,
                ShipmentSortField::CreatedAt => shipping::ShipmentOrder::Created,
            },
            sort.direction.descending(),
            &request,
        )
        .await?;
        let shipments: Vec<_> = page.rows.iter().map(|(_, s)| s).collect();
        prime_shipments(ctx, &shipments).await?;
        Ok(connection(&request, page, Shipment::from))
    }

    /// One shipment: its tracking view.
    #[graphql(
        guard = "RequirePermission(Permission::ShipmentsView)",
        directive = requires::apply(Permission::ShipmentsView)
    )]
    async fn shipment(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Shipment> {
        Ok(shipping::get(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct ShippingMutation;

#[Object]
impl ShippingMutation {
    /// Creates a CREATED shipment of a PACKED or DISPATCHED order's packages (all those not
    /// shipped yet unless `packageIds` names some), with an active service level of an active
    /// carrier; the number is given here. A package ships once. Audited as `shipment.create`.
    #[graphql(
        guard = "RequirePermission(Permission::ShipmentsCreate)",
        directive = requires::apply(Permission::ShipmentsCreate)
    )]
    async fn create_shipment(
        &self,
        ctx: &Context<'_>,
        input: CreateShipmentInput,
    ) -> ApiResult<ShipmentPayload> {
        let result: Result<_, AppError> = async {
            let package_ids = match input.package_ids {
                Some(ids) => Some(
                    ids.iter()
                        .map(|id| parse_id(id, "packageIds"))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                None => None,
            };
            shipping::create(
                tenant_db(ctx)?,
                shipping::ShipmentInput {
                    sales_order_id: parse_id(&input.sales_order_id, "salesOrderId")?,
                    carrier_service_id: parse_id(&input.carrier_service_id, "carrierServiceId")?,
                    tracking_number: input.tracking_number,
                    package_ids,
                },
            )
            .await
        }
        .await;
        ShipmentPayload::answer(result)
    }

    /// Records a status the carrier reported: CREATED → IN_TRANSIT or EXCEPTION, IN_TRANSIT →
    /// EXCEPTION, EXCEPTION → IN_TRANSIT (DELIVERED: `confirmDelivery`). Audited as
    /// `shipment.status`.
    #[graphql(
        guard = "RequirePermission(Permission::ShipmentsUpdate)",
        directive = requires::apply(Permission::ShipmentsUpdate)
    )]
    async fn update_shipment_status(
        &self,
        ctx: &Context<'_>,
        input: UpdateShipmentStatusInput,
    ) -> ApiResult<ShipmentPayload> {
        let result: Result<_, AppError> = async {
            shipping::update_status(
                tenant_db(ctx)?,
                parse_id(&input.shipment_id, "shipmentId")?,
                input.status.into(),
                &input.note,
                input.occurred_at,
            )
            .await
        }
        .await;
        ShipmentPayload::answer(result)
    }

    /// IN_TRANSIT or EXCEPTION → DELIVERED, signed for by `receivedBy`. Final. Audited as
    /// `shipment.deliver`.
    #[graphql(
        guard = "RequirePermission(Permission::ShipmentsUpdate)",
        directive = requires::apply(Permission::ShipmentsUpdate)
    )]
    async fn confirm_delivery(
        &self,
        ctx: &Context<'_>,
        input: ConfirmDeliveryInput,
    ) -> ApiResult<ShipmentPayload> {
        let result: Result<_, AppError> = async {
            shipping::confirm_delivery(
                tenant_db(ctx)?,
                parse_id(&input.shipment_id, "shipmentId")?,
                &input.received_by,
                input.delivered_at,
            )
            .await
        }
        .await;
        ShipmentPayload::answer(result)
    }
}
