//! Users of the caller's organisation and their administration.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{role, user};

use super::organisation::Organisation;
use super::roles::RoleSummary;
use super::{ApiResult, parse_id, services, signed_in};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::{Permission, PermissionSet};
use crate::service::{organisations, roles, users};

/// A person who signs in. Never carries the password hash.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct User {
    id: ID,
    email: String,
    display_name: String,
    active: bool,
    created_at: DateTime<Utc>,
    /// Set after an administrator's password reset until the user picks a new password.
    must_change_password: bool,
    role: RoleSummary,
    /// Permissions granted on top of the role.
    granted: Vec<Permission>,
    /// Permissions taken away from the role (a revoke beats a grant).
    revoked: Vec<Permission>,
    /// What the user may do: (role | granted) minus revoked.
    permissions: Vec<Permission>,
    /// Loaded already where the caller has no session yet (the `login` response).
    #[graphql(skip)]
    preloaded_organisation: Option<entity::organisation::Model>,
}

#[async_graphql::ComplexObject]
impl User {
    /// The organisation the user belongs to (always the caller's own): part of who the user
    /// is, so it needs no permission; its settings are behind `organisation` (ORGANISATION_VIEW).
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        if let Some(organisation) = &self.preloaded_organisation {
            return Ok(organisation.clone().into());
        }
        let db = &signed_in(ctx)?.db;
        Ok(organisations::current(db).await?.into())
    }
}

impl User {
    pub fn new(model: user::Model, role: &role::Model) -> Self {
        Self {
            permissions: users::effective(&model, role).permissions(),
            granted: PermissionSet::from_stored(model.grant_mask).permissions(),
            revoked: PermissionSet::from_stored(model.revoke_mask).permissions(),
            id: ID(model.id.to_string()),
            preloaded_organisation: None,
            email: model.email,
            display_name: model.display_name,
            active: model.is_active,
            created_at: model.created_at,
            must_change_password: model.must_change_password,
            role: RoleSummary::from(role),
        }
    }

    pub fn with_organisation(mut self, organisation: entity::organisation::Model) -> Self {
        self.preloaded_organisation = Some(organisation);
        self
    }
}

/// Who to invite.
#[derive(InputObject)]
pub struct InviteUserInput {
    email: String,
    /// Defaults to the email.
    #[graphql(default)]
    display_name: String,
    role_id: ID,
}

/// A new user and the one-time password to pass on to them; shown only in this response.
#[derive(SimpleObject)]
pub struct InvitedUser {
    user: User,
    temporary_password: String,
}

/// A user whose password was reset, and the one-time password to pass on.
#[derive(SimpleObject)]
pub struct PasswordReset {
    user: User,
    temporary_password: String,
}

#[derive(Default)]
pub struct UsersQuery;

async fn with_role(ctx: &Context<'_>, model: user::Model) -> ApiResult<User> {
    let role = roles::get(&signed_in(ctx)?.db, model.role_id).await?;
    Ok(User::new(model, &role))
}

#[Object]
impl UsersQuery {
    /// Every user of the organisation, by email.
    #[graphql(
        guard = "RequirePermission(Permission::UsersView)",
        directive = requires::apply(Permission::UsersView)
    )]
    async fn users(&self, ctx: &Context<'_>) -> ApiResult<Vec<User>> {
        let caller = signed_in(ctx)?;
        let all_roles = roles::list(&caller.db).await?;
        Ok(users::list(caller)
            .await?
            .into_iter()
            .filter_map(|model| {
                let role = all_roles.iter().find(|role| role.id == model.role_id)?;
                Some(User::new(model, role))
            })
            .collect())
    }

    /// One user of the organisation.
    #[graphql(
        guard = "RequirePermission(Permission::UsersView)",
        directive = requires::apply(Permission::UsersView)
    )]
    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let model = users::get(signed_in(ctx)?, parse_id(&id, "user")?).await?;
        with_role(ctx, model).await
    }
}

#[derive(Default)]
pub struct UsersMutation;

#[Object]
impl UsersMutation {
    /// Creates a user with a role and a one-time password they must change at first sign-in.
    /// The role may hold only permissions the caller holds.
    #[graphql(
        guard = "RequirePermission(Permission::UsersInvite)",
        directive = requires::apply(Permission::UsersInvite)
    )]
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        input: InviteUserInput,
    ) -> ApiResult<InvitedUser> {
        let services = services(ctx)?;
        let invited = users::invite(
            signed_in(ctx)?,
            &services.auth.hasher,
            users::InviteInput {
                email: input.email,
                display_name: input.display_name,
                role_id: parse_id(&input.role_id, "roleId")?,
            },
        )
        .await?;
        Ok(InvitedUser {
            user: with_role(ctx, invited.user).await?,
            temporary_password: invited.temporary_password,
        })
    }

    /// Deactivates a user; their sessions end at once. The last active owner cannot be.
    #[graphql(
        guard = "RequirePermission(Permission::UsersManage)",
        directive = requires::apply(Permission::UsersManage)
    )]
    async fn deactivate_user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let model = users::set_active(signed_in(ctx)?, parse_id(&id, "id")?, false).await?;
        with_role(ctx, model).await
    }

    /// Reactivates a user.
    #[graphql(
        guard = "RequirePermission(Permission::UsersManage)",
        directive = requires::apply(Permission::UsersManage)
    )]
    async fn reactivate_user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let model = users::set_active(signed_in(ctx)?, parse_id(&id, "id")?, true).await?;
        with_role(ctx, model).await
    }

    /// Gives a user a one-time password and ends their sessions; they must change it at the next
    /// sign-in. Needs every permission the user holds.
    #[graphql(
        guard = "RequirePermission(Permission::UsersManage)",
        directive = requires::apply(Permission::UsersManage)
    )]
    async fn reset_user_password(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PasswordReset> {
        let services = services(ctx)?;
        let caller = signed_in(ctx)?;
        let id = parse_id(&id, "id")?;
        let temporary_password = users::reset_password(caller, &services.auth.hasher, id).await?;
        let model = users::get(caller, id).await?;
        Ok(PasswordReset {
            user: with_role(ctx, model).await?,
            temporary_password,
        })
    }

    /// Gives a user another role (one whose permissions the caller holds).
    #[graphql(
        guard = "RequirePermission(Permission::UsersManage)",
        directive = requires::apply(Permission::UsersManage)
    )]
    async fn change_user_role(&self, ctx: &Context<'_>, id: ID, role_id: ID) -> ApiResult<User> {
        let model = users::change_role(
            signed_in(ctx)?,
            parse_id(&id, "id")?,
            parse_id(&role_id, "roleId")?,
        )
        .await?;
        with_role(ctx, model).await
    }

    /// Replaces a user's overrides: `grant` adds to the role, `revoke` takes away (and beats a
    /// grant). The caller must hold every permission named.
    #[graphql(
        guard = "RequirePermission(Permission::UsersOverride)",
        directive = requires::apply(Permission::UsersOverride)
    )]
    async fn set_user_overrides(
        &self,
        ctx: &Context<'_>,
        id: ID,
        grant: Vec<Permission>,
        revoke: Vec<Permission>,
    ) -> ApiResult<User> {
        let model =
            users::set_overrides(signed_in(ctx)?, parse_id(&id, "id")?, &grant, &revoke).await?;
        with_role(ctx, model).await
    }
}
