//! Users of the caller's organisation and their administration.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{role, user};

use super::loaders::Loaders;
use super::organisation::OrganisationSummary;
use super::roles::RoleSummary;
use super::{
    ApiResult, ListConnection, Payload, SortDirection, UserError, connection, global_id,
    into_payload, page_request, parse_id, parse_optional_id, payload, services, signed_in,
};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::{Permission, PermissionSet};
use crate::error::AppError;
use crate::service::{organisations, users};

/// A person who signs in. Never carries the password hash.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct User {
    pub(crate) id: ID,
    email: String,
    display_name: String,
    active: bool,
    created_at: DateTime<Utc>,
    /// Set for an invited user, and after an administrator's password reset, until the user picks
    /// their own password.
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
    /// The organisation the user belongs to (always the caller's own): its id, name, slug and
    /// whether it is active, which every member may see (who they are, how they sign in). The
    /// organisation's settings are `Query.organisation`, behind ORGANISATION_VIEW.
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<OrganisationSummary> {
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
            id: global_id(model.id),
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
pub struct InviteUserPayload {
    user: Option<User>,
    temporary_password: Option<String>,
    user_errors: Vec<UserError>,
}

/// A user whose password was reset, and the one-time password to pass on.
#[derive(SimpleObject)]
pub struct ResetUserPasswordPayload {
    user: Option<User>,
    temporary_password: Option<String>,
    user_errors: Vec<UserError>,
}

payload!(
    /// What a user mutation returns.
    UserPayload,
    user: User
);

/// Names a user to act on.
#[derive(InputObject)]
pub struct UserIdInput {
    id: ID,
}

/// A user and their new role.
#[derive(InputObject)]
pub struct ChangeUserRoleInput {
    id: ID,
    role_id: ID,
}

/// A user's overrides, replacing the ones they have.
#[derive(InputObject)]
pub struct SetUserOverridesInput {
    id: ID,
    /// Permissions added to the role's.
    grant: Vec<Permission>,
    /// Permissions taken from the role's (a revoke beats a grant).
    revoke: Vec<Permission>,
}

/// What the user list may be narrowed to.
#[derive(InputObject, Default)]
pub struct UserFilter {
    /// Matches email or display name (case-insensitive, partial).
    search: Option<String>,
    active: Option<bool>,
    role_id: Option<ID>,
}

/// What the user list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum UserSortField {
    #[default]
    Email,
    DisplayName,
    /// Creation order.
    CreatedAt,
}

/// The user list's order.
#[derive(InputObject, Default)]
pub struct UserSort {
    #[graphql(default)]
    field: UserSortField,
    #[graphql(default)]
    direction: SortDirection,
}

#[derive(Default)]
pub struct UsersQuery;

async fn with_role(ctx: &Context<'_>, model: user::Model) -> ApiResult<User> {
    let role = Loaders::of(ctx)?
        .roles
        .load_one(model.role_id)
        .await?
        .ok_or(AppError::NotFound { entity: "role" })?;
    Ok(User::new(model, &role))
}

#[Object]
impl UsersQuery {
    /// The organisation's users, `first` at a time (at most 100) after `after`, by email unless
    /// `sort` says otherwise.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::UsersView)",
        directive = requires::apply(Permission::UsersView)
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<UserFilter>,
        sort: Option<UserSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<User>> {
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let sort = sort.unwrap_or_default();
        let filter = users::UserFilter {
            search: filter.search,
            active: filter.active,
            role_id: parse_optional_id(filter.role_id, "filter.roleId")?,
        };
        let order = match sort.field {
            UserSortField::Email => users::UserOrder::Email,
            UserSortField::DisplayName => users::UserOrder::DisplayName,
            UserSortField::CreatedAt => users::UserOrder::Created,
        };
        let page = users::list(
            signed_in(ctx)?,
            &filter,
            order,
            sort.direction.descending(),
            &request,
        )
        .await?;
        let role_ids: Vec<entity::RoleId> = page.rows.iter().map(|(_, u)| u.role_id).collect();
        let loaders = Loaders::of(ctx)?;
        let roles = loaders.prime(&loaders.roles, role_ids).await?;
        let page = page.try_map(|model| {
            let role = roles
                .get(&model.role_id)
                .ok_or(AppError::NotFound { entity: "role" })?;
            Ok::<_, AppError>(User::new(model, role))
        })?;
        Ok(connection(&request, page, |user| user))
    }

    /// One user of the organisation.
    #[graphql(
        guard = "RequirePermission(Permission::UsersView)",
        directive = requires::apply(Permission::UsersView)
    )]
    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let model = users::get(signed_in(ctx)?, parse_id(&id, "id")?).await?;
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
    ) -> ApiResult<InviteUserPayload> {
        let services = services(ctx)?;
        let result: Result<_, AppError> = async {
            let role_id = parse_id(&input.role_id, "roleId")?;
            users::invite(
                signed_in(ctx)?,
                &services.auth.hasher,
                users::InviteInput {
                    email: input.email,
                    display_name: input.display_name,
                    role_id,
                },
            )
            .await
        }
        .await;
        let (invited, user_errors) = into_payload(result)?;
        let Some(invited) = invited else {
            return Ok(InviteUserPayload {
                user: None,
                temporary_password: None,
                user_errors,
            });
        };
        Ok(InviteUserPayload {
            user: Some(with_role(ctx, invited.user).await?),
            temporary_password: Some(invited.temporary_password),
            user_errors,
        })
    }

    /// Deactivates a user; their sessions end at once. The last active owner cannot be.
    #[graphql(
        guard = "RequirePermission(Permission::UsersManage)",
        directive = requires::apply(Permission::UsersManage)
    )]
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        input: UserIdInput,
    ) -> ApiResult<UserPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            users::set_active(signed_in(ctx)?, id, false).await
        }
        .await;
        user_payload(ctx, into_payload(result)?).await
    }

    /// Reactivates a user.
    #[graphql(
        guard = "RequirePermission(Permission::UsersManage)",
        directive = requires::apply(Permission::UsersManage)
    )]
    async fn reactivate_user(
        &self,
        ctx: &Context<'_>,
        input: UserIdInput,
    ) -> ApiResult<UserPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            users::set_active(signed_in(ctx)?, id, true).await
        }
        .await;
        user_payload(ctx, into_payload(result)?).await
    }

    /// Gives a user a one-time password and ends their sessions; they must change it at the next
    /// sign-in. Needs every permission the user holds.
    #[graphql(
        guard = "RequirePermission(Permission::UsersManage)",
        directive = requires::apply(Permission::UsersManage)
    )]
    async fn reset_user_password(
        &self,
        ctx: &Context<'_>,
        input: UserIdInput,
    ) -> ApiResult<ResetUserPasswordPayload> {
        let services = services(ctx)?;
        let caller = signed_in(ctx)?;
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            let temporary_password =
                users::reset_password(caller, &services.auth.hasher, id).await?;
            Ok((users::get(caller, id).await?, temporary_password))
        }
        .await;
        let (reset, user_errors) = into_payload(result)?;
        let Some((model, temporary_password)) = reset else {
            return Ok(ResetUserPasswordPayload {
                user: None,
                temporary_password: None,
                user_errors,
            });
        };
        Ok(ResetUserPasswordPayload {
            user: Some(with_role(ctx, model).await?),
            temporary_password: Some(temporary_password),
            user_errors,
        })
    }

    /// Gives a user another role (one whose permissions the caller holds).
    #[graphql(
        guard = "RequirePermission(Permission::UsersManage)",
        directive = requires::apply(Permission::UsersManage)
    )]
    async fn change_user_role(
        &self,
        ctx: &Context<'_>,
        input: ChangeUserRoleInput,
    ) -> ApiResult<UserPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            let role_id = parse_id(&input.role_id, "roleId")?;
            users::change_role(signed_in(ctx)?, id, role_id).await
        }
        .await;
        user_payload(ctx, into_payload(result)?).await
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
        input: SetUserOverridesInput,
    ) -> ApiResult<UserPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            users::set_overrides(signed_in(ctx)?, id, &input.grant, &input.revoke).await
        }
        .await;
        user_payload(ctx, into_payload(result)?).await
    }
}

/// A user mutation's payload: the user with their role, or the validation failures.
async fn user_payload(
    ctx: &Context<'_>,
    (model, user_errors): (Option<user::Model>, Vec<UserError>),
) -> ApiResult<UserPayload> {
    let user = match model {
        Some(model) => Some(with_role(ctx, model).await?),
        None => None,
    };
    Ok(UserPayload::new(user, user_errors))
}
