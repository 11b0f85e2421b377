//! Signing in and out, who the caller is, their password and their sessions.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::session as session_entity;
use tower_cookies::cookie::{Cookie, SameSite, time::Duration};

use super::users::User;
use super::{
    ApiResult, ListConnection, Payload, SortDirection, UserError, connection, global_id,
    page_request, parse_id, payload, services, signed_in,
};
use crate::auth::guard::RequireSession;
use crate::auth::session::{self, SESSION_COOKIE};
use crate::error::AppError;

/// One of the caller's sign-in sessions (never its token).
#[derive(SimpleObject)]
pub struct Session {
    id: ID,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    client_address: Option<String>,
    /// Whether this is the session making the request.
    current: bool,
}

fn session_cookie(value: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
}

#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The signed-in user, with their role and effective permissions.
    #[graphql(guard = "RequireSession")]
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let current = signed_in(ctx)?;
        Ok(User::new(current.user.clone(), &current.role))
    }

    /// The caller's live sessions, newest first unless `sort` says otherwise, `first` at a time
    /// (at most 100) after `after`.
    #[graphql(
        guard = "RequireSession",
        complexity = "super::list_complexity(first, child_complexity)"
    )]
    async fn my_sessions(
        &self,
        ctx: &Context<'_>,
        filter: Option<SessionFilter>,
        sort: Option<SessionSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<Session>> {
        let current = signed_in(ctx)?;
        let request = page_request(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let (order, descending) = match sort {
            None => (session::SessionOrder::Created, true),
            Some(sort) => (
                match sort.field {
                    SessionSortField::CreatedAt => session::SessionOrder::Created,
                    SessionSortField::LastSeenAt => session::SessionOrder::LastSeen,
                },
                sort.direction.descending(),
            ),
        };
        let page = session::my_sessions(
            current,
            filter.client_address.as_deref(),
            order,
            descending,
            &request,
        )
        .await?;
        Ok(connection(
            &request,
            page,
            |model: session_entity::Model| Session {
                current: model.id == current.session_id,
                id: global_id(model.id),
                created_at: model.created_at,
                last_seen_at: model.last_seen_at,
                expires_at: model.expires_at,
                client_address: model.client_addr,
            },
        ))
    }
}

/// What the session list may be narrowed to.
#[derive(InputObject, Default)]
pub struct SessionFilter {
    /// Only sessions signed in from this address.
    client_address: Option<String>,
}

/// What the session list may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionSortField {
    #[default]
    CreatedAt,
    LastSeenAt,
}

/// The session list's order (newest first when no sort is given).
#[derive(InputObject)]
pub struct SessionSort {
    #[graphql(default)]
    field: SessionSortField,
    /// Newest first unless asked otherwise.
    #[graphql(default_with = "SortDirection::Desc")]
    direction: SortDirection,
}

/// An email and password to sign in with.
#[derive(InputObject)]
pub struct LoginInput {
    /// The organisation's slug (`Organisation.slug`), as its administrator was given it.
    organisation: String,
    email: String,
    password: String,
}

/// The signed-in user (the session cookie is set on the response).
#[derive(SimpleObject)]
pub struct LoginPayload {
    user: Option<User>,
    user_errors: Vec<UserError>,
}

/// What `logout` returns.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// The session that ended.
    session_id: ID,
    /// Always empty: signing out has nothing to validate (here for the uniform payload shape).
    user_errors: Vec<UserError>,
}

/// The caller's current password and the one they want instead.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    current: String,
    new: String,
}

payload!(
    /// What `changePassword` returns: the caller, or why the new password was refused.
    ChangePasswordPayload,
    user: User
);

/// Names the session to end.
#[derive(InputObject)]
pub struct RevokeSessionInput {
    id: ID,
}

payload!(
    /// What `revokeSession` returns.
    RevokeSessionPayload,
    /// The session that ended.
    session_id: ID
);

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Signs in to one organisation (its slug) with email and password and sets the session
    /// cookie (`__Host-vaskem_session`: Secure, HttpOnly, SameSite=Strict). An unknown
    /// organisation, an unknown email and a wrong password fail alike (UNAUTHENTICATED);
    /// repeated failures, counted per organisation account and per client address, are slowed
    /// down and then locked out for a while (`extensions.reason` is `LOCKED_OUT`, with
    /// `retryAfterSeconds`).
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> ApiResult<LoginPayload> {
        let services = services(ctx)?;
        let new_session = session::login(
            &services.db,
            &services.auth.hasher,
            &services.auth.sessions,
            &services.auth.throttle,
            &input.organisation,
            &input.email,
            input.password,
            services.origin.clone(),
        )
        .await?;
        let mut cookie = session_cookie(session::cookie_value(
            new_session.organisation.id,
            &new_session.token,
        ));
        cookie.set_max_age(Duration::seconds(new_session.max_age_seconds));
        services.cookies.add(cookie);
        Ok(LoginPayload {
            user: Some(
                User::new(new_session.user, &new_session.role)
                    .with_organisation(new_session.organisation),
            ),
            user_errors: Vec::new(),
        })
    }

    /// Ends the current session on the server and clears the cookie.
    #[graphql(guard = "RequireSession")]
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<LogoutPayload> {
        let caller = signed_in(ctx)?;
        session::logout(caller).await?;
        let services = services(ctx)?;
        services.cookies.remove(session_cookie(String::new()));
        Ok(LogoutPayload {
            session_id: global_id(caller.session_id),
            user_errors: Vec::new(),
        })
    }

    /// Changes the caller's password. Every other session of the caller ends. A new password
    /// that breaks the rules comes back in `userErrors` (field `new`).
    #[graphql(guard = "RequireSession")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> ApiResult<ChangePasswordPayload> {
        let services = services(ctx)?;
        let caller = signed_in(ctx)?;
        let result = session::change_password(
            &services.db,
            (&services.auth.hasher, &services.auth.throttle),
            caller,
            input.current,
            input.new,
        )
        .await;
        ChangePasswordPayload::answer(result.map(|()| {
            let mut user = caller.user.clone();
            user.must_change_password = false;
            User::new(user, &caller.role)
        }))
    }

    /// Ends one of the caller's own sessions.
    #[graphql(guard = "RequireSession")]
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        input: RevokeSessionInput,
    ) -> ApiResult<RevokeSessionPayload> {
        let result: Result<_, AppError> = async {
            let id = parse_id(&input.id, "id")?;
            session::revoke_session(signed_in(ctx)?, id).await?;
            Ok(id)
        }
        .await;
        RevokeSessionPayload::answer(result.map(global_id))
    }
}
