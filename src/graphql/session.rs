//! Signing in and out, and who the caller is.

use async_graphql::{Context, ID, Object, SimpleObject};
use entity::user;
use tower_cookies::cookie::{Cookie, SameSite, time::Duration};

use super::organisation::Organisation;
use super::{ApiResult, RequestServices, signed_in};
use crate::auth::session::{self, SESSION_COOKIE};
use crate::service::organisations;

/// A person who signs in. Never carries the password hash.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct User {
    id: ID,
    email: String,
    display_name: String,
    active: bool,
}

impl From<user::Model> for User {
    fn from(model: user::Model) -> Self {
        Self {
            id: ID(model.id.to_string()),
            email: model.email,
            display_name: model.display_name,
            active: model.is_active,
        }
    }
}

#[async_graphql::ComplexObject]
impl User {
    /// The organisation the user belongs to.
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        let db = &signed_in(ctx)?.db;
        Ok(organisations::current(db).await?.into())
    }
}

#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        Ok(signed_in(ctx)?.user.clone().into())
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Signs in with email and password and sets the session cookie (`__Host-vaskem_session`:
    /// Secure, HttpOnly, SameSite=Strict). Wrong email and wrong password fail alike.
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> ApiResult<User> {
        let services = ctx.data_unchecked::<RequestServices>();
        let new_session = session::login(
            &services.db,
            &services.hasher,
            &services.sessions,
            &email,
            password,
            services.origin.clone(),
        )
        .await?;
        let cookie = Cookie::build((SESSION_COOKIE, new_session.token))
            .secure(true)
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/")
            .max_age(Duration::seconds(new_session.max_age_seconds))
            .build();
        services.cookies.add(cookie);
        Ok(new_session.user.into())
    }

    /// Ends the current session on the server and clears the cookie.
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let current = signed_in(ctx)?;
        session::logout(current).await?;
        let services = ctx.data_unchecked::<RequestServices>();
        services.cookies.remove(
            Cookie::build((SESSION_COOKIE, ""))
                .secure(true)
                .http_only(true)
                .same_site(SameSite::Strict)
                .path("/")
                .build(),
        );
        Ok(true)
    }
}
