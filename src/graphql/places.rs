//! Warehouses and their locations.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::{location, warehouse};

use super::{ApiResult, UserError, into_payload, parse_id, tenant_db};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;
use crate::service::places;

/// A warehouse.
#[derive(SimpleObject)]
pub struct Warehouse {
    id: ID,
    code: String,
    name: String,
    address_line1: String,
    address_line2: String,
    city: String,
    postal_code: String,
    country: String,
    active: bool,
}

impl From<warehouse::Model> for Warehouse {
    fn from(m: warehouse::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            code: m.code,
            name: m.name,
            address_line1: m.address_line1,
            address_line2: m.address_line2,
            city: m.city,
            postal_code: m.postal_code,
            country: m.country,
            active: m.is_active,
        }
    }
}

/// A location (bin) in a warehouse.
#[derive(SimpleObject)]
pub struct Location {
    id: ID,
    warehouse_id: ID,
    code: String,
    /// `receiving`, `storage`, `picking`, `shipping` or `quarantine`.
    kind: String,
    pickable: bool,
    active: bool,
}

impl From<location::Model> for Location {
    fn from(m: location::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            warehouse_id: ID(m.warehouse_id.to_string()),
            code: m.code,
            kind: m.kind,
            pickable: m.pickable,
            active: m.is_active,
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
    #[graphql(default_with = "String::from(\"storage\")")]
    kind: String,
    #[graphql(default = true)]
    pickable: bool,
}

/// A location's new code, kind and pickable flag.
#[derive(InputObject)]
pub struct UpdateLocationInput {
    id: ID,
    code: String,
    kind: String,
    pickable: bool,
}

/// What a warehouse mutation returns.
#[derive(SimpleObject)]
pub struct WarehousePayload {
    warehouse: Option<Warehouse>,
    user_errors: Vec<UserError>,
}

/// What a location mutation returns.
#[derive(SimpleObject)]
pub struct LocationPayload {
    location: Option<Location>,
    user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct PlacesQuery;

#[Object]
impl PlacesQuery {
    /// The organisation's warehouses, by code.
    #[graphql(
        guard = "RequirePermission(Permission::WarehousesView)",
        directive = requires::apply(Permission::WarehousesView)
    )]
    async fn warehouses(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] include_archived: bool,
    ) -> ApiResult<Vec<Warehouse>> {
        Ok(places::warehouses(tenant_db(ctx)?, include_archived)
            .await?
            .into_iter()
            .map(Warehouse::from)
            .collect())
    }

    /// A warehouse's locations, by code; `kind` narrows to one kind (receiving, storage, picking,
    /// shipping, quarantine), and archived locations show only with `includeArchived`.
    #[graphql(
        guard = "RequirePermission(Permission::LocationsView)",
        directive = requires::apply(Permission::LocationsView)
    )]
    async fn locations(
        &self,
        ctx: &Context<'_>,
        warehouse_id: ID,
        #[graphql(desc = "Only locations of this kind.")] kind: Option<String>,
        #[graphql(default)] include_archived: bool,
    ) -> ApiResult<Vec<Location>> {
        let id = parse_id(&warehouse_id, "warehouseId")?;
        Ok(
            places::locations(tenant_db(ctx)?, id, kind.as_deref(), include_archived)
                .await?
                .into_iter()
                .map(Location::from)
                .collect(),
        )
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
        let (warehouse, user_errors) = into_payload(result)?;
        Ok(WarehousePayload {
            warehouse: warehouse.map(Warehouse::from),
            user_errors,
        })
    }

    /// Replaces a warehouse's code, name and address (send them all). Audited.
    #[graphql(
        guard = "RequirePermission(Permission::WarehousesManage)",
        directive = requires::apply(Permission::WarehousesManage)
    )]
    async fn update_warehouse(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: CreateWarehouseInput,
    ) -> ApiResult<WarehousePayload> {
        let result = places::update_warehouse(
            tenant_db(ctx)?,
            parse_id(&id, "id")?,
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
        let (warehouse, user_errors) = into_payload(result)?;
        Ok(WarehousePayload {
            warehouse: warehouse.map(Warehouse::from),
            user_errors,
        })
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
        let result = places::update_location(
            tenant_db(ctx)?,
            parse_id(&input.id, "id")?,
            &input.code,
            &input.kind,
            input.pickable,
        )
        .await;
        let (location, user_errors) = into_payload(result)?;
        Ok(LocationPayload {
            location: location.map(Location::from),
            user_errors,
        })
    }

    /// Archives a location; refused (CONFLICT) while it holds stock.
    #[graphql(
        guard = "RequirePermission(Permission::LocationsManage)",
        directive = requires::apply(Permission::LocationsManage)
    )]
    async fn archive_location(&self, ctx: &Context<'_>, id: ID) -> ApiResult<LocationPayload> {
        let result =
            places::set_location_active(tenant_db(ctx)?, parse_id(&id, "id")?, false).await;
        let (location, user_errors) = into_payload(result)?;
        Ok(LocationPayload {
            location: location.map(Location::from),
            user_errors,
        })
    }

    /// Archives a warehouse; refused (CONFLICT) while any of its locations holds stock.
    #[graphql(
        guard = "RequirePermission(Permission::WarehousesManage)",
        directive = requires::apply(Permission::WarehousesManage)
    )]
    async fn archive_warehouse(&self, ctx: &Context<'_>, id: ID) -> ApiResult<WarehousePayload> {
        let result =
            places::set_warehouse_active(tenant_db(ctx)?, parse_id(&id, "id")?, false).await;
        let (warehouse, user_errors) = into_payload(result)?;
        Ok(WarehousePayload {
            warehouse: warehouse.map(Warehouse::from),
            user_errors,
        })
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
        let warehouse_id = parse_id(&input.warehouse_id, "warehouseId")?;
        let result = places::create_location(
            tenant_db(ctx)?,
            places::LocationInput {
                warehouse_id,
                code: input.code,
                kind: input.kind,
                pickable: input.pickable,
            },
        )
        .await;
        let (location, user_errors) = into_payload(result)?;
        Ok(LocationPayload {
            location: location.map(Location::from),
            user_errors,
        })
    }
}
