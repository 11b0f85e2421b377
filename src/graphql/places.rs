//! Warehouses and their locations.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{location, warehouse};

use super::loaders::Loaders;
use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, parse_optional_id, payload, tenant_db,
};
use crate::auth::guard::{RequirePermission, may_see, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;
use crate::service::places;

/// A warehouse.
#[derive(SimpleObject)]
pub struct Warehouse {
    pub(crate) id: ID,
    code: String,
    name: String,
    address_line1: String,
    address_line2: String,
    city: String,
    postal_code: String,
    country: String,
    active: bool,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<warehouse::Model> for Warehouse {
    fn from(m: warehouse::Model) -> Self {
        Self {
            id: global_id(m.id),
            code: m.code,
            name: m.name,
            address_line1: m.address_line1,
            address_line2: m.address_line2,
            city: m.city,
            postal_code: m.postal_code,
            country: m.country,
            active: m.is_active,
            created_at: m.created_at,
        }
    }
}

/// What a location is for.
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LocationKind {
    /// Where deliveries are unloaded and checked.
    Receiving,
    /// Reserve stock.
    #[default]
    Storage,
    /// Where orders are picked from.
    Picking,
    /// Where packed orders wait for dispatch.
    Shipping,
    /// Stock held back from use (damaged, suspect, recalled).
    Quarantine,
}

impl From<entity::LocationKind> for LocationKind {
    fn from(kind: entity::LocationKind) -> Self {
        match kind {
            entity::LocationKind::Receiving => Self::Receiving,
            entity::LocationKind::Storage => Self::Storage,
            entity::LocationKind::Picking => Self::Picking,
            entity::LocationKind::Shipping => Self::Shipping,
            entity::LocationKind::Quarantine => Self::Quarantine,
        }
    }
}

impl From<LocationKind> for entity::LocationKind {
    fn from(kind: LocationKind) -> Self {
        match kind {
            LocationKind::Receiving => Self::Receiving,
            LocationKind::Storage => Self::Storage,
            LocationKind::Picking => Self::Picking,
            LocationKind::Shipping => Self::Shipping,
            LocationKind::Quarantine => Self::Quarantine,
        }
    }
}

/// A location (bin) in a warehouse.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Location {
    pub(crate) id: ID,
    warehouse_id: ID,
    code: String,
    /// What the location is for.
    kind: LocationKind,
    pickable: bool,
    active: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    warehouse_key: entity::WarehouseId,
}

#[ComplexObject]
impl Location {
    /// The warehouse the location is in; null (with a FORBIDDEN error) without WAREHOUSES_VIEW.
    #[graphql(directive = requires::apply(Permission::WarehousesView))]
    async fn warehouse(&self, ctx: &Context<'_>) -> ApiResult<Option<Warehouse>> {
        if !may_see(ctx, Permission::WarehousesView) {
            return Ok(None);
        }
        let warehouse = Loaders::of(ctx)?
            .warehouses
            .load_one(self.warehouse_key)
            .await?;
        Ok(Some(
            warehouse
                .ok_or(AppError::NotFound {
                    entity: "warehouse",
                })?
                .into(),
        ))
    }
}

impl From<location::Model> for Location {
    fn from(m: location::Model) -> Self {
        Self {
            id: global_id(m.id),
            warehouse_id: global_id(m.warehouse_id),
            warehouse_key: m.warehouse_id,
            code: m.code,
            kind: m.kind.into(),
            pickable: m.pickable,
            active: m.is_active,
            created_at: m.created_at,
        }
    }
}

/// A new warehouse.
#[derive(InputObject)]
pub struct CreateWarehouseInput {
    code: String,
    name: String,
    #[graphql(default)]
    address_line1: String,
    #[graphql(default)]
    address_line2: String,
    #[graphql(default)]
    city: String,
    #[graphql(default)]
    postal_code: String,
    #[graphql(default)]
    country: String,
}

/// A new location.
#[derive(InputObject)]
pub struct CreateLocationInput {
    warehouse_id: ID,
    code: String,
    /// What the location is for; STORAGE unless given.
    #[graphql(default)]
    kind: LocationKind,
    #[graphql(default = true)]
    pickable: bool,
}

/// A location's new code, kind and pickable flag.
#[derive(InputObject)]
pub struct UpdateLocationInput {
    id: ID,
    code: String,
    kind: LocationKind,
    pickable: bool,
}

/// Changes a warehouse: its id and its code, name and address (send them all).
#[derive(InputObject)]
pub struct UpdateWarehouseInput {
    id: ID,
    #[graphql(flatten)]
    details: CreateWarehouseInput,
}

/// Names the warehouse to archive.
#[derive(InputObject)]
pub struct ArchiveWarehouseInput {
    id: ID,
}

/// Names the location to archive.
#[derive(InputObject)]
pub struct ArchiveLocationInput {
    id: ID,
}

/// Names the archived warehouse to restore.
#[derive(InputObject)]
pub struct RestoreWarehouseInput {
    id: ID,
}

/// Names the archived location to restore.
#[derive(InputObject)]
pub struct RestoreLocationInput {
    id: ID,
}

/// What the warehouse list may be narrowed to.
#[derive(InputObject, Default)]
pub struct WarehouseFilter {
    /// Matches code or name (case-insensitive, partial).
    search: Option<String>,
    #[graphql(default)]
    include_archived: bool,
}

/// What the warehouse list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum WarehouseSortField {
    #[default]
    Code,
    Name,
    /// Creation order.
    CreatedAt,
}

impl From<WarehouseSortField> for places::PlaceOrder {
    fn from(field: WarehouseSortField) -> Self {
        match field {
            WarehouseSortField::Code => Self::Code,
            WarehouseSortField::Name => Self::Name,
            WarehouseSortField::CreatedAt => Self::Created,
        }
    }
}

/// The warehouse list's order.
#[derive(InputObject, Default)]
pub struct WarehouseSort {
    #[graphql(default)]
    field: WarehouseSortField,
    #[graphql(default)]
    direction: SortDirection,
}

/// What the location list may be narrowed to.
#[derive(InputObject, Default)]
pub struct LocationFilter {
    /// Only this warehouse's locations.
    warehouse_id: Option<ID>,
    /// Only locations of this kind.
    kind: Option<LocationKind>,
    pickable: Option<bool>,
    /// Matches the code (case-insensitive, partial), e.g. `A-01` for an aisle.
    search: Option<String>,
    #[graphql(default)]
    include_archived: bool,
}

/// What the location list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum LocationSortField {
    #[default]
    Code,
    /// Creation order.
    CreatedAt,
}

impl From<LocationSortField> for places::PlaceOrder {
    fn from(field: LocationSortField) -> Self {
        match field {
            LocationSortField::Code => Self::Code,
            LocationSortField::CreatedAt => Self::Created,
        }
    }
}

/// The location list's order.
#[derive(InputObject, Default)]
pub struct LocationSort {
    #[graphql(default)]
    field: LocationSortField,
    #[graphql(default)]
    direction: SortDirection,
}

payload!(
    /// What a warehouse mutation returns.
    WarehousePayload,
    warehouse: Warehouse
);

payload!(
    /// What a location mutation returns.
    LocationPayload,
    location: Location
);

#[derive(Default)]
pub struct PlacesQuery;

#[Object]
impl PlacesQuery {
    /// The organisation's warehouses, `first` at a time (at most 100) after `after`, by code
    /// unless `sort` says otherwise; archived ones only with `filter.includeArchived`.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::WarehousesView)",
        directive = requires::apply(Permission::WarehousesView)
    )]
    async fn warehouses(
        &self,
        ctx: &Context<'_>,
        filter: Option<WarehouseFilter>,
        sort: Option<WarehouseSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Warehouse>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let page = places::warehouses(
            tenant_db(ctx)?,
            &places::WarehouseFilter {
                search: filter.search,
                include_archived: filter.include_archived,
            },
            sort.field.into(),
            sort.direction.descending(),
            &request,
        )
        .await?;
        Ok(connection(&request, page, Warehouse::from))
    }

    /// Locations, `first` at a time (at most 100) after `after`, by code unless `sort` says
    /// otherwise; narrowed by warehouse, kind (receiving, storage, picking, shipping,
    /// quarantine), pickable flag or code, archived ones only with `filter.includeArchived`.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::LocationsView)",
        directive = requires::apply(Permission::LocationsView)
    )]
    async fn locations(
        &self,
        ctx: &Context<'_>,
        filter: Option<LocationFilter>,
        sort: Option<LocationSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Location>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let warehouse_id = parse_optional_id(filter.warehouse_id, "filter.warehouseId")?;
        let page = places::locations(
            tenant_db(ctx)?,
            &places::LocationFilter {
                warehouse_id,
                kind: filter.kind.map(Into::into),
                pickable: filter.pickable,
                search: filter.search,
                include_archived: filter.include_archived,
            },
            sort.field.into(),
            sort.direction.descending(),
            &request,
        )
        .await?;
        Ok(connection(&request, page, Location::from))
    }

    /// One warehouse, archived or not.
    #[graphql(
        guard = "RequirePermission(Permission::WarehousesView)",
        directive = requires::apply(Permission::WarehousesView)
    )]
    async fn warehouse(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Warehouse> {
        Ok(places::warehouse(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }

    /// One location, archived or not.
    #[graphql(
        guard = "RequirePermission(Permission::LocationsView)",
        directive = requires::apply(Permission::LocationsView)
    )]
    async fn location(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Location> {
        Ok(places::location(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct PlacesMutation;

#[Object]
impl PlacesMutation {
    /// Creates a warehouse. Audited as `warehouse.create`.
    #[graphql(
        guard = "RequirePermission(Permission::WarehousesManage)",
        directive = requires::apply(Permission::WarehousesManage)
    )]
    async fn create_warehouse(
        &self,
        ctx: &Context<'_>,
        input: CreateWarehouseInput,
    ) -> ApiResult<WarehousePayload> {
        let result = places::create_warehouse(
            tenant_db(ctx)?,
            places::WarehouseInput {
                code: input.code,
                name: input.name,
                address_line1: input.address_line1,
                address_line2: input.address_line2,
                city: input.city,
                postal_code: input.postal_code,
                country: input.country,
            },
        )
        .await;
        WarehousePayload::answer(result)
    }

    /// Replaces a warehouse's code, name and address (send them all). Audited.
    #[graphql(
        guard = "RequirePermission(Permission::WarehousesManage)",
        directive = requires::apply(Permission::WarehousesManage)
    )]
    async fn update_warehouse(
        &self,
        ctx: &Context<'_>,
        input: UpdateWarehouseInput,
    ) -> ApiResult<WarehousePayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            let input = input.details;
            places::update_warehouse(
                tenant_db(ctx)?,
                id,
                places::WarehouseInput {
                    code: input.code,
                    name: input.name,
                    address_line1: input.address_line1,
                    address_line2: input.address_line2,
                    city: input.city,
                    postal_code: input.postal_code,
                    country: input.country,
                },
            )
            .await
        }
        .await;
        WarehousePayload::answer(result)
    }

    /// Changes a location's code, kind and pickable flag. Audited.
    #[graphql(
        guard = "RequirePermission(Permission::LocationsManage)",
        directive = requires::apply(Permission::LocationsManage)
    )]
    async fn update_location(
        &self,
        ctx: &Context<'_>,
        input: UpdateLocationInput,
    ) -> ApiResult<LocationPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            places::update_location(
                tenant_db(ctx)?,
                id,
                &input.code,
                input.kind.into(),
                input.pickable,
            )
            .await
        }
        .await;
        LocationPayload::answer(result)
    }

    /// Archives a location; refused (CONFLICT) while it holds stock.
    #[graphql(
        guard = "RequirePermission(Permission::LocationsManage)",
        directive = requires::apply(Permission::LocationsManage)
    )]
    async fn archive_location(
        &self,
        ctx: &Context<'_>,
        input: ArchiveLocationInput,
    ) -> ApiResult<LocationPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            places::set_location_active(tenant_db(ctx)?, id, false).await
        }
        .await;
        LocationPayload::answer(result)
    }

    /// Archives a warehouse; refused (CONFLICT) while any of its locations holds stock.
    #[graphql(
        guard = "RequirePermission(Permission::WarehousesManage)",
        directive = requires::apply(Permission::WarehousesManage)
    )]
    async fn archive_warehouse(
        &self,
        ctx: &Context<'_>,
        input: ArchiveWarehouseInput,
    ) -> ApiResult<WarehousePayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            places::set_warehouse_active(tenant_db(ctx)?, id, false).await
        }
        .await;
        WarehousePayload::answer(result)
    }

    /// Creates a location in a warehouse. Audited as `location.create`.
    #[graphql(
        guard = "RequirePermission(Permission::LocationsManage)",
        directive = requires::apply(Permission::LocationsManage)
    )]
    async fn create_location(
        &self,
        ctx: &Context<'_>,
        input: CreateLocationInput,
    ) -> ApiResult<LocationPayload> {
        let result: Result<_, AppError> = async {
            let warehouse_id = parse_id(&input.warehouse_id, "warehouseId")?;
            places::create_location(
                tenant_db(ctx)?,
                places::LocationInput {
                    warehouse_id,
                    code: input.code,
                    kind: input.kind.into(),
                    pickable: input.pickable,
                },
            )
            .await
        }
        .await;
        LocationPayload::answer(result)
    }

    /// Restores an archived warehouse. Its locations stay archived until each is restored.
    /// Audited as `warehouse.restore`.
    #[graphql(
        guard = "RequirePermission(Permission::WarehousesManage)",
        directive = requires::apply(Permission::WarehousesManage)
    )]
    async fn restore_warehouse(
        &self,
        ctx: &Context<'_>,
        input: RestoreWarehouseInput,
    ) -> ApiResult<WarehousePayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            places::set_warehouse_active(tenant_db(ctx)?, id, true).await
        }
        .await;
        WarehousePayload::answer(result)
    }

    /// Restores an archived location (CONFLICT while its warehouse is archived). Audited as
    /// `location.restore`.
    #[graphql(
        guard = "RequirePermission(Permission::LocationsManage)",
        directive = requires::apply(Permission::LocationsManage)
    )]
    async fn restore_location(
        &self,
        ctx: &Context<'_>,
        input: RestoreLocationInput,
    ) -> ApiResult<LocationPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            places::set_location_active(tenant_db(ctx)?, id, true).await
        }
        .await;
        LocationPayload::answer(result)
    }
}
