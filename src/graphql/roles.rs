//! Roles: named permission sets.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::role;

use super::{
    ApiResult, ListConnection, Payload, SortDirection, connection, global_id, page_request,
    parse_id, payload, signed_in, tenant_db,
};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::{Permission, PermissionSet};
use crate::error::AppError;
use crate::service::roles;

/// A role as shown on a user.
#[derive(SimpleObject)]
pub struct RoleSummary {
    id: ID,
    name: String,
}

impl From<&role::Model> for RoleSummary {
    fn from(model: &role::Model) -> Self {
        Self {
            id: global_id(model.id),
            name: model.name.clone(),
        }
    }
}

/// A named set of permissions. Built-in roles (Owner, Manager, Operator, Viewer) come with every
/// organisation; Owner always holds all 48.
#[derive(SimpleObject)]
pub struct Role {
    pub(crate) id: ID,
    name: String,
    description: String,
    builtin: bool,
    permissions: Vec<Permission>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<role::Model> for Role {
    fn from(model: role::Model) -> Self {
        Self {
            id: global_id(model.id),
            permissions: PermissionSet::from_stored(model.permissions).permissions(),
            name: model.name,
            description: model.description,
            builtin: model.is_builtin,
            created_at: model.created_at,
        }
    }
}

/// A new role's name, description and permissions.
#[derive(InputObject)]
pub struct CreateRoleInput {
    name: String,
    #[graphql(default)]
    description: String,
    permissions: Vec<Permission>,
}

impl From<CreateRoleInput> for roles::RoleInput {
    fn from(input: CreateRoleInput) -> Self {
        Self {
            name: input.name,
            description: input.description,
            permissions: input.permissions,
        }
    }
}

/// Changes a role: its id and its name, description and permissions.
#[derive(InputObject)]
pub struct UpdateRoleInput {
    id: ID,
    #[graphql(flatten)]
    details: CreateRoleInput,
}

/// Names the role to delete.
#[derive(InputObject)]
pub struct DeleteRoleInput {
    id: ID,
}

payload!(
    /// What a role mutation returns.
    RolePayload,
    role: Role
);

payload!(
    /// What `deleteRole` returns.
    DeleteRolePayload,
    /// The role that was deleted.
    role_id: ID
);

/// What the role list may be narrowed to.
#[derive(InputObject, Default)]
pub struct RoleFilter {
    /// Matches the name (case-insensitive, partial).
    search: Option<String>,
    builtin: Option<bool>,
}

/// What the role list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum RoleSortField {
    #[default]
    Name,
    /// Creation order.
    CreatedAt,
}

/// The role list's order.
#[derive(InputObject, Default)]
pub struct RoleSort {
    #[graphql(default)]
    field: RoleSortField,
    #[graphql(default)]
    direction: SortDirection,
}

#[derive(Default)]
pub struct RolesQuery;

#[Object]
impl RolesQuery {
    /// The organisation's roles, `first` at a time (at most 100) after `after`, by name unless
    /// `sort` says otherwise.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::RolesView)",
        directive = requires::apply(Permission::RolesView)
    )]
    async fn roles(
        &self,
        ctx: &Context<'_>,
        filter: Option<RoleFilter>,
        sort: Option<RoleSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Role>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let order = match sort.field {
            RoleSortField::Name => roles::RoleOrder::Name,
            RoleSortField::CreatedAt => roles::RoleOrder::Created,
        };
        let page = roles::list(
            tenant_db(ctx)?,
            &roles::RoleFilter {
                search: filter.search,
                builtin: filter.builtin,
            },
            order,
            sort.direction.descending(),
            &request,
        )
        .await?;
        Ok(connection(&request, page, Role::from))
    }

    /// One role of the organisation.
    #[graphql(
        guard = "RequirePermission(Permission::RolesView)",
        directive = requires::apply(Permission::RolesView)
    )]
    async fn role(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Role> {
        Ok(roles::get(tenant_db(ctx)?, parse_id(&id, "id")?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct RolesMutation;

#[Object]
impl RolesMutation {
    /// Creates a custom role with permissions the caller holds.
    #[graphql(
        guard = "RequirePermission(Permission::RolesManage)",
        directive = requires::apply(Permission::RolesManage)
    )]
    async fn create_role(
        &self,
        ctx: &Context<'_>,
        input: CreateRoleInput,
    ) -> ApiResult<RolePayload> {
        let caller = signed_in(ctx)?;
        let result = roles::create(&caller.db, caller.permissions, input.into()).await;
        RolePayload::answer(result)
    }

    /// Changes a role. The Owner role cannot be changed; built-in roles cannot be renamed.
    #[graphql(
        guard = "RequirePermission(Permission::RolesManage)",
        directive = requires::apply(Permission::RolesManage)
    )]
    async fn update_role(
        &self,
        ctx: &Context<'_>,
        input: UpdateRoleInput,
    ) -> ApiResult<RolePayload> {
        let caller = signed_in(ctx)?;
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            roles::update(&caller.db, caller.permissions, id, input.details.into()).await
        }
        .await;
        RolePayload::answer(result)
    }

    /// Deletes a custom role that nobody holds.
    #[graphql(
        guard = "RequirePermission(Permission::RolesManage)",
        directive = requires::apply(Permission::RolesManage)
    )]
    async fn delete_role(
        &self,
        ctx: &Context<'_>,
        input: DeleteRoleInput,
    ) -> ApiResult<DeleteRolePayload> {
        let caller = signed_in(ctx)?;
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            roles::delete(&caller.db, caller.permissions, id).await?;
            Ok(id)
        }
        .await;
        DeleteRolePayload::answer(result.map(global_id))
    }
}
