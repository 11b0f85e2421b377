//! What `vaskem serve` checks about its PostgreSQL connection before it answers a request.
//!
//! Requests run as the service role, but the connection's own role is what a `RESET ROLE` (or any
//! raw SQL) falls back to. So the service connects as a login role that is a member of the service
//! role and nothing more; a superuser, a role with BYPASSRLS, or one that owns (or may become the
//! owner of) the tables or their schema is an *owner connection*, which `serve` refuses unless told
//! it is local use. The service role may read `seaql_migrations`, so a serving role that cannot
//! migrate can still tell that the schema is behind and refuse to start.

use migration::{Migrator, MigratorTrait, tenant_wall::SERVICE_ROLE};
use sea_orm::{ConnectionTrait, DbErr, Statement};

use super::{Database, Engine};

/// Who the serving connection is, as PostgreSQL sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRole {
    /// The connecting role (`session_user`).
    pub name: String,
    /// Why it counts as an owner connection; empty when it does not.
    pub owner_reasons: Vec<String>,
}

impl ConnectionRole {
    pub fn is_owner(&self) -> bool {
        !self.owner_reasons.is_empty()
    }
}

/// The connection's rights, judged for the login role itself (`session_user`), which is what
/// `RESET ROLE` returns to.
const ROLE_CHECK: &str = "
    SELECT session_user::text AS name,
           r.rolsuper AS superuser,
           r.rolbypassrls AS bypass_rls,
           (SELECT string_agg(DISTINCT pg_get_userbyid(c.relowner), ', ')
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
               AND pg_has_role(session_user, c.relowner, 'MEMBER')) AS table_owners,
           COALESCE((SELECT pg_has_role(session_user, n.nspowner, 'MEMBER')
                       FROM pg_namespace n WHERE n.nspname = current_schema()), false)
             AS schema_owner
      FROM pg_roles r WHERE r.rolname = session_user";

impl Database {
    /// On PostgreSQL, the connecting role and whether it is an owner connection; `None` on SQLite,
    /// which has no roles.
    pub async fn connection_role(&self) -> Result<Option<ConnectionRole>, DbErr> {
        if self.engine() != Engine::Postgres {
            return Ok(None);
        }
        let row = self
            .connection()
            .query_one_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                ROLE_CHECK,
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("the connecting role is not in pg_roles".into()))?;
        let name: String = row.try_get("", "name")?;
        let mut owner_reasons = Vec::new();
        if row.try_get::<bool>("", "superuser")? {
            owner_reasons.push("is a superuser".to_owned());
        }
        if row.try_get::<bool>("", "bypass_rls")? {
            owner_reasons.push("has BYPASSRLS".to_owned());
        }
        if let Some(owners) = row.try_get::<Option<String>>("", "table_owners")? {
            owner_reasons.push(format!("owns or may become the tables' owner ({owners})"));
        }
        if row.try_get::<bool>("", "schema_owner")? {
            owner_reasons.push("owns or may become the schema's owner".to_owned());
        }
        Ok(Some(ConnectionRole {
            name,
            owner_reasons,
        }))
    }

    /// Whether the connecting role may act as the service role (`SET ROLE` to it), as every
    /// request does on PostgreSQL. Always true on SQLite.
    pub async fn may_act_as_service_role(&self) -> Result<bool, DbErr> {
        if self.engine() != Engine::Postgres {
            return Ok(true);
        }
        let row = self
            .connection()
            .query_one_raw(Statement::from_sql_and_values(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT EXISTS (SELECT 1 FROM pg_roles
                                 WHERE rolname = $1 AND pg_has_role(session_user, oid, 'MEMBER'))
                          AS member",
                [SERVICE_ROLE.into()],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("no answer".into()))?;
        row.try_get("", "member")
    }

    /// The migrations this build knows and the database has not applied, read without changing
    /// anything (the serving role may not create the bookkeeping table).
    pub async fn pending_migrations(&self) -> Result<Vec<String>, DbErr> {
        let rows = self
            .connection()
            .query_all_raw(Statement::from_string(
                self.connection().get_database_backend(),
                "SELECT version FROM seaql_migrations",
            ))
            .await?;
        let applied = rows
            .iter()
            .map(|row| row.try_get::<String>("", "version"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Migrator::migrations()
            .iter()
            .map(|migration| migration.name().to_owned())
            .filter(|name| !applied.contains(name))
            .collect())
    }
}
