//! Carriers and their service levels.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{carrier, carrier_service};

use super::loaders::Loaders;
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::carriers;

/// A carrier: who takes shipments away, at which service levels, and where a parcel is tracked.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Carrier {
    pub(crate) id: ID,
    code: String,
    name: String,
    /// An `https://` URL with `{tracking}` where a shipment's tracking number goes, e.g.
    /// `https://track.example.com/?n={tracking}`.
    tracking_url_template: String,
    active: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    carrier_key: entity::CarrierId,
}

#[ComplexObject]
impl Carrier {
    /// The carrier's service levels by code; archived ones only with `includeArchived`. A page's
    /// carriers are read together, in one query.
    async fn services(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] include_archived: bool,
    ) -> ApiResult<Vec<CarrierService>> {
        let services = Loaders::of(ctx)?
            .carrier_services
            .load_one(self.carrier_key)
            .await?
            .unwrap_or_default();
        Ok(services
            .into_iter()
            .filter(|service| include_archived || service.is_active)
            .map(CarrierService::from)
            .collect())
    }
}

impl From<carrier::Model> for Carrier {
    fn from(m: carrier::Model) -> Self {
        Self {
            id: global_id(m.id),
            carrier_key: m.id,
            code: m.code,
            name: m.name,
            tracking_url_template: m.tracking_url_template,
            active: m.is_active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One of a carrier's service levels, e.g. EXPRESS or ECONOMY.
#[derive(SimpleObject)]
pub struct CarrierService {
    pub(crate) id: ID,
    carrier_id: ID,
    code: String,
    name: String,
    active: bool,
}

impl From<carrier_service::Model> for CarrierService {
    fn from(m: carrier_service::Model) -> Self {
        Self {
            id: global_id(m.id),
            carrier_id: global_id(m.carrier_id),
            code: m.code,
            name: m.name,
            active: m.is_active,
        }
    }
}

/// A new carrier.
#[derive(InputObject)]
pub struct CreateCarrierInput {
    /// Unique in the organisation, e.g. `DHL`.
    code: String,
    name: String,
    /// An `https://` URL with `{tracking}` exactly once, after the host.
    tracking_url_template: String,
}

impl From<CreateCarrierInput> for carriers::CarrierInput {
    fn from(input: CreateCarrierInput) -> Self {
        Self {
            code: input.code,
            name: input.name,
            tracking_url_template: input.tracking_url_template,
        }
    }
}

/// Changes a carrier: its id and its code, name and tracking URL template (send them all).
#[derive(InputObject)]
pub struct UpdateCarrierInput {
    id: ID,
    #[graphql(flatten)]
    details: CreateCarrierInput,
}

/// Names the carrier to archive.
#[derive(InputObject)]
pub struct ArchiveCarrierInput {
    id: ID,
}

/// Names the archived carrier to restore.
#[derive(InputObject)]
pub struct RestoreCarrierInput {
    id: ID,
}

/// A new service level of a carrier.
#[derive(InputObject)]
pub struct AddCarrierServiceInput {
    carrier_id: ID,
    /// Unique per carrier, e.g. `EXPRESS`.
    code: String,
    name: String,
}

/// A service level's new code and name.
#[derive(InputObject)]
pub struct UpdateCarrierServiceInput {
    id: ID,
    code: String,
    name: String,
}

/// Names the service level to archive.
#[derive(InputObject)]
pub struct ArchiveCarrierServiceInput {
    id: ID,
}

/// Names the archived service level to restore.
#[derive(InputObject)]
pub struct RestoreCarrierServiceInput {
    id: ID,
}

/// What the carrier list may be narrowed to.
#[derive(InputObject, Default)]
pub struct CarrierFilter {
    /// Matches code or name (case-insensitive, partial).
    search: Option<String>,
    #[graphql(default)]
    include_archived: bool,
}

/// What the carrier list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum CarrierSortField {
    #[default]
    Code,
    Name,
    /// Creation order.
    CreatedAt,
}

impl From<CarrierSortField> for carriers::CarrierOrder {
    fn from(field: CarrierSortField) -> Self {
        match field {
            CarrierSortField::Code => Self::Code,
            CarrierSortField::Name => Self::Name,
            CarrierSortField::CreatedAt => Self::Created,
        }
    }
}

/// The carrier list's order.
#[derive(InputObject, Default)]
pub struct CarrierSort {
    #[graphql(default)]
    field: CarrierSortField,
    #[graphql(default)]
    direction: SortDirection,
}

payload!(
    /// What a carrier mutation returns.
    CarrierPayload,
    carrier: Carrier
);

payload!(
    /// What a service level mutation returns.
    CarrierServicePayload,
    carrier_service: CarrierService
);

#[derive(Default)]
pub struct CarriersQuery;

#[Object]
impl CarriersQuery {
    /// The organisation's carriers, `first` at a time (at most 100) after `after`, by code
    /// unless `sort` says otherwise; archived ones only with `filter.includeArchived`.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::CarriersView)",
        directive = requires::apply(Permission::CarriersView)
    )]
    async fn carriers(
        &self,
        ctx: &Context<'_>,
        filter: Option<CarrierFilter>,
        sort: Option<CarrierSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Carrier>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let page = carriers::carriers(
            tenant_db(ctx)?,
            &carriers::CarrierFilter {
                search: filter.search,
                include_archived: filter.include_archived,
            },
            sort.field.into(),
            sort.direction.descending(),
            &request,
        )
        .await?;
        // The page's service levels in one query, before its rows ask one by one.
        if super::rows_ask(ctx, &["services"]) {
            let loaders = Loaders::of(ctx)?;
            let ids = page.rows.iter().map(|(_, carrier)| carrier.id);
            loaders.prime(&loaders.carrier_services, ids).await?;
        }
        Ok(connection(&request, page, Carrier::from))
    }

    /// One carrier, archived or not.
    #[graphql(
        guard = "RequirePermission(Permission::CarriersView)",
        directive = requires::apply(Permission::CarriersView)
    )]
    async fn carrier(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Carrier> {
        Ok(carriers::carrier(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct CarriersMutation;

#[Object]
impl CarriersMutation {
    /// Creates a carrier. Audited as `carrier.create`.
    #[graphql(
        guard = "RequirePermission(Permission::CarriersManage)",
        directive = requires::apply(Permission::CarriersManage)
    )]
    async fn create_carrier(
        &self,
        ctx: &Context<'_>,
        input: CreateCarrierInput,
    ) -> ApiResult<CarrierPayload> {
        let result = carriers::create_carrier(tenant_db(ctx)?, input.into()).await;
        CarrierPayload::answer(result)
    }

    /// Replaces a carrier's code, name and tracking URL template (send them all). Audited as
    /// `carrier.update`.
    #[graphql(
        guard = "RequirePermission(Permission::CarriersManage)",
        directive = requires::apply(Permission::CarriersManage)
    )]
    async fn update_carrier(
        &self,
        ctx: &Context<'_>,
        input: UpdateCarrierInput,
    ) -> ApiResult<CarrierPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            carriers::update_carrier(tenant_db(ctx)?, id, input.details.into()).await
        }
        .await;
        CarrierPayload::answer(result)
    }

    /// Archives a carrier: it leaves lists and takes no new service levels; its service levels
    /// keep their own state. Audited as `carrier.archive`.
    #[graphql(
        guard = "RequirePermission(Permission::CarriersManage)",
        directive = requires::apply(Permission::CarriersManage)
    )]
    async fn archive_carrier(
        &self,
        ctx: &Context<'_>,
        input: ArchiveCarrierInput,
    ) -> ApiResult<CarrierPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            carriers::set_carrier_active(tenant_db(ctx)?, id, false).await
        }
        .await;
        CarrierPayload::answer(result)
    }

    /// Restores an archived carrier. Audited as `carrier.restore`.
    #[graphql(
        guard = "RequirePermission(Permission::CarriersManage)",
        directive = requires::apply(Permission::CarriersManage)
    )]
    async fn restore_carrier(
        &self,
        ctx: &Context<'_>,
        input: RestoreCarrierInput,
    ) -> ApiResult<CarrierPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            carriers::set_carrier_active(tenant_db(ctx)?, id, true).await
        }
        .await;
        CarrierPayload::answer(result)
    }

    /// Adds a service level to a carrier (CONFLICT while the carrier is archived). Audited as
    /// `carrier_service.add`.
    #[graphql(
        guard = "RequirePermission(Permission::CarriersManage)",
        directive = requires::apply(Permission::CarriersManage)
    )]
    async fn add_carrier_service(
        &self,
        ctx: &Context<'_>,
        input: AddCarrierServiceInput,
    ) -> ApiResult<CarrierServicePayload> {
        let result: Result<_, AppError> = async {
            let carrier_id = parse_id(&input.carrier_id, "carrierId")?;
            let details = carriers::ServiceInput {
                code: input.code,
                name: input.name,
            };
            carriers::add_service(tenant_db(ctx)?, carrier_id, details).await
        }
        .await;
        CarrierServicePayload::answer(result)
    }

    /// Changes a service level's code and name. Audited as `carrier_service.update`.
    #[graphql(
        guard = "RequirePermission(Permission::CarriersManage)",
        directive = requires::apply(Permission::CarriersManage)
    )]
    async fn update_carrier_service(
        &self,
        ctx: &Context<'_>,
        input: UpdateCarrierServiceInput,
    ) -> ApiResult<CarrierServicePayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            let details = carriers::ServiceInput {
                code: input.code,
                name: input.name,
            };
            carriers::update_service(tenant_db(ctx)?, id, details).await
        }
        .await;
        CarrierServicePayload::answer(result)
    }

    /// Archives a service level. Audited as `carrier_service.archive`.
    #[graphql(
        guard = "RequirePermission(Permission::CarriersManage)",
        directive = requires::apply(Permission::CarriersManage)
    )]
    async fn archive_carrier_service(
        &self,
        ctx: &Context<'_>,
        input: ArchiveCarrierServiceInput,
    ) -> ApiResult<CarrierServicePayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            carriers::set_service_active(tenant_db(ctx)?, id, false).await
        }
        .await;
        CarrierServicePayload::answer(result)
    }

    /// Restores an archived service level (CONFLICT while its carrier is archived). Audited as
    /// `carrier_service.restore`.
    #[graphql(
        guard = "RequirePermission(Permission::CarriersManage)",
        directive = requires::apply(Permission::CarriersManage)
    )]
    async fn restore_carrier_service(
        &self,
        ctx: &Context<'_>,
        input: RestoreCarrierServiceInput,
    ) -> ApiResult<CarrierServicePayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            carriers::set_service_active(tenant_db(ctx)?, id, true).await
        }
        .await;
        CarrierServicePayload::answer(result)
    }
}
