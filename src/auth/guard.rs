//! The permission guard on every GraphQL field that reads or writes tenant data.
//!
//! Each guarded field carries two attributes that must agree: the guard, which enforces, and the
//! `@requires(permission: …)` directive, which shows the rule in the schema (and so in GraphiQL
//! and `schema.graphql`). `graphql::requirements` checks the directives' placement from the
//! schema; `tests/it/permissions.rs` proves they agree with the guards for every root field and
//! every guarded object field.
//! Nullable relations (a balance's `product`) check with [`may_see`] instead of a guard, so that a
//! caller without the permission gets null and an error rather than a missing key.

use async_graphql::{Context, Guard, TypeDirective};

use super::permission::Permission;
use super::session::SignedIn;
use crate::error::AppError;

/// Shows in the schema which permission a field needs.
#[TypeDirective(location = "FieldDefinition")]
pub fn requires(permission: Permission) {}

/// Lets the field run only for a signed-in user who holds the permission.
pub struct RequirePermission(pub Permission);

impl Guard for RequirePermission {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let signed_in = ctx
            .data_opt::<SignedIn>()
            .ok_or(AppError::Unauthenticated)
            .map_err(AppError::into_graphql)?;
        signed_in.require(self.0).map_err(AppError::into_graphql)
    }
}

/// Lets the field run for any signed-in user (self-service: `me`, `logout`, `changePassword`, …).
pub struct RequireSession;

impl Guard for RequireSession {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        ctx.data_opt::<SignedIn>()
            .map(|_| ())
            .ok_or_else(|| AppError::Unauthenticated.into_graphql())
    }
}

/// For a nullable relation (a balance's `product`, say): whether the caller holds `permission`.
/// If not, the field resolves to null and the response carries the FORBIDDEN error naming it.
/// A guard would do the check too, but async-graphql then drops the field from its object
/// altogether, and clients that expect every selected key reject the whole response.
pub fn may_see(ctx: &Context<'_>, permission: Permission) -> bool {
    let Some(signed_in) = ctx.data_opt::<SignedIn>() else {
        return false;
    };
    match signed_in.require(permission) {
        Ok(()) => true,
        Err(err) => {
            let error = err.into_graphql().into_server_error(ctx.item.pos);
            ctx.add_error(ctx.set_error_path(error));
            false
        }
    }
}
