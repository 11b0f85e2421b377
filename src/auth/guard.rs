//! The permission guard on every GraphQL field that reads or writes tenant data.
//!
//! Each guarded field carries two attributes that must agree: the guard, which enforces, and the
//! `@requires(permission: …)` directive, which shows the rule in the schema (and so in GraphiQL
//! and `schema.graphql`). A test walks the schema and proves they agree for every field.

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
