//! Roles: named permission sets.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::role;

use super::{ApiResult, parse_id, signed_in};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::{Permission, PermissionSet};
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
            id: ID(model.id.to_string()),
            name: model.name.clone(),
        }
    }
}

/// A named set of permissions. Built-in roles (Owner, Manager, Operator, Viewer) come with every
/// organisation; Owner always holds all 48.
#[derive(SimpleObject)]
pub struct Role {
    id: ID,
    name: String,
    description: String,
    builtin: bool,
    permissions: Vec<Permission>,
}

impl From<role::Model> for Role {
    fn from(model: role::Model) -> Self {
        Self {
            id: ID(model.id.to_string()),
            permissions: PermissionSet::from_stored(model.permissions).permissions(),
            name: model.name,
            description: model.description,
            builtin: model.is_builtin,
        }
    }
}

/// A role's name, description and permissions.
#[derive(InputObject)]
pub struct RoleInput {
    name: String,
    #[graphql(default)]
    description: String,
    permissions: Vec<Permission>,
}

impl From<RoleInput> for roles::RoleInput {
    fn from(input: RoleInput) -> Self {
        Self {
            name: input.name,
            description: input.description,
            permissions: input.permissions,
        }
    }
}

#[derive(Default)]
pub struct RolesQuery;

#[Object]
impl RolesQuery {
    /// The organisation's roles, by name.
    #[graphql(
        guard = "RequirePermission(Permission::RolesView)",
        directive = requires::apply(Permission::RolesView)
    )]
    async fn roles(&self, ctx: &Context<'_>) -> ApiResult<Vec<Role>> {
        let caller = signed_in(ctx)?;
        Ok(roles::list(&caller.db)
            .await?
            .into_iter()
            .map(Role::from)
            .collect())
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
    async fn create_role(&self, ctx: &Context<'_>, input: RoleInput) -> ApiResult<Role> {
        let caller = signed_in(ctx)?;
        Ok(roles::create(&caller.db, caller.permissions, input.into())
            .await?
            .into())
    }

    /// Changes a role. The Owner role cannot be changed; built-in roles cannot be renamed.
    #[graphql(
        guard = "RequirePermission(Permission::RolesManage)",
        directive = requires::apply(Permission::RolesManage)
    )]
    async fn update_role(&self, ctx: &Context<'_>, id: ID, input: RoleInput) -> ApiResult<Role> {
        let caller = signed_in(ctx)?;
        Ok(roles::update(
            &caller.db,
            caller.permissions,
            parse_id(&id, "id")?,
            input.into(),
        )
        .await?
        .into())
    }

    /// Deletes a custom role that nobody holds.
    #[graphql(
        guard = "RequirePermission(Permission::RolesManage)",
        directive = requires::apply(Permission::RolesManage)
    )]
    async fn delete_role(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let caller = signed_in(ctx)?;
        roles::delete(&caller.db, caller.permissions, parse_id(&id, "id")?).await?;
        Ok(true)
    }
}
