//! The session check becomes one statement: a request's session, its user, the user's role and
//! the organisation are read together, before the request knows its tenant.
//!
//! On PostgreSQL the session row was already reachable by its token hash
//! (`app.session_token_hash`, policy `session_by_token`); these policies let the same key reach
//! the three rows that session names, and nothing else: the user the session belongs to, that
//! user's role, and the session's organisation, each only within the session's organisation.
//! SQLite has no row-level security; there the query's own joins are the wall.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000010_session_check"
    }
}

/// The session the request's token names (policies on `sessions` decide what is visible).
const TOKEN: &str = "NULLIF(current_setting('app.session_token_hash', true), '')";

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE POLICY session_user_by_token ON users FOR SELECT
                   USING (EXISTS (SELECT 1 FROM sessions s
                                   WHERE s.token_hash = {TOKEN}
                                     AND s.user_id = users.id
                                     AND s.tenant_id = users.tenant_id));
                 CREATE POLICY session_role_by_token ON roles FOR SELECT
                   USING (EXISTS (SELECT 1 FROM sessions s
                                    JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
                                   WHERE s.token_hash = {TOKEN}
                                     AND u.role_id = roles.id
                                     AND u.tenant_id = roles.tenant_id));
                 CREATE POLICY session_organisation_by_token ON organisations FOR SELECT
                   USING (EXISTS (SELECT 1 FROM sessions s
                                   WHERE s.token_hash = {TOKEN}
                                     AND s.tenant_id = organisations.id));"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "DROP POLICY session_user_by_token ON users;
                 DROP POLICY session_role_by_token ON roles;
                 DROP POLICY session_organisation_by_token ON organisations;",
            )
            .await?;
        Ok(())
    }
}
