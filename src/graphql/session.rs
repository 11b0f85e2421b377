//! Signing in and out, who the caller is, their password and their sessions.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::session as session_entity;
use tower_cookies::cookie::{Cookie, SameSite, time::Duration};

use super::users::User;
use super::{ApiResult, parse_id, services, signed_in};
use crate::auth::guard::RequireSession;
use crate::auth::session::{self, SESSION_COOKIE};

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

    /// The caller's live sessions, newest first.
    #[graphql(guard = "RequireSession")]
    async fn my_sessions(&self, ctx: &Context<'_>) -> ApiResult<Vec<Session>> {
        let current = signed_in(ctx)?;
        Ok(session::my_sessions(current)
            .await?
            .into_iter()
            .map(|model: session_entity::Model| Session {
                current: model.id == current.session_id,
                id: ID(model.id.to_string()),
                created_at: model.created_at,
                last_seen_at: model.last_seen_at,
                expires_at: model.expires_at,
                client_address: model.client_addr,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Signs in with email and password and sets the session cookie (`__Host-vaskem_session`:
    /// Secure, HttpOnly, SameSite=Strict). Wrong email and wrong password fail alike; repeated
    /// failures are slowed down and then locked out for a while (`extensions.reason` is
    /// `LOCKED_OUT`, with `retryAfterSeconds`).
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> ApiResult<User> {
        let services = services(ctx)?;
        let new_session = session::login(
            &services.db,
            &services.auth.hasher,
            &services.auth.sessions,
            &services.auth.throttle,
            &email,
            password,
            services.origin.clone(),
        )
        .await?;
        let mut cookie = session_cookie(new_session.token);
        cookie.set_max_age(Duration::seconds(new_session.max_age_seconds));
        services.cookies.add(cookie);
        Ok(User::new(new_session.user, &new_session.role)
            .with_organisation(new_session.organisation))
    }

    /// Ends the current session on the server and clears the cookie.
    #[graphql(guard = "RequireSession")]
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        session::logout(signed_in(ctx)?).await?;
        let services = services(ctx)?;
        services.cookies.remove(session_cookie(String::new()));
        Ok(true)
    }

    /// Changes the caller's password. Every other session of the caller ends.
    #[graphql(guard = "RequireSession")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current: String,
        new: String,
    ) -> ApiResult<bool> {
        let services = services(ctx)?;
        session::change_password(signed_in(ctx)?, &services.auth.hasher, current, new).await?;
        Ok(true)
    }

    /// Ends one of the caller's own sessions.
    #[graphql(guard = "RequireSession")]
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        session::revoke_session(signed_in(ctx)?, parse_id(&id, "session")?).await?;
        Ok(true)
    }
}
