//! The database-side pieces of tenant isolation and audit immutability, shared by migrations.
//!
//! On PostgreSQL every tenant table gets forced row-level security keyed on the transaction-local
//! setting `app.tenant_id`, and the service runs its requests as [`SERVICE_ROLE`], which owns
//! nothing and lacks BYPASSRLS. SQLite has no roles or RLS; there the application filter is the
//! wall. Both engines get triggers that make `audit_events` append-only.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

/// The role every request runs as on PostgreSQL (`SET LOCAL ROLE`). Never a table owner.
pub const SERVICE_ROLE: &str = "vaskem_app";

/// The tenant predicate shared by every policy. `NULLIF` matters: once a pooled connection has
/// used `app.tenant_id`, the setting reads as '' (not NULL) outside a transaction, and ''::uuid
/// would raise instead of matching nothing.
const CURRENT_TENANT: &str = "NULLIF(current_setting('app.tenant_id', true), '')::uuid";

/// Creates the service role if this cluster has none yet and lets the migrating user switch to it.
pub async fn ensure_service_role(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    // Roles are cluster-wide and several databases may migrate at once (tests do), so creation
    // tolerates losing the race.
    db.execute_unprepared(&format!(
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
             CREATE ROLE {SERVICE_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
           END IF;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
         END $$;"
    ))
    .await?;
    // A non-superuser owner must be a member to `SET ROLE`; a superuser already may.
    db.execute_unprepared(&format!(
        "DO $$ BEGIN
           IF NOT pg_has_role(current_user, '{SERVICE_ROLE}', 'MEMBER') THEN
             EXECUTE format('GRANT {SERVICE_ROLE} TO %I', current_user);
           END IF;
         END $$;"
    ))
    .await?;
    db.execute_unprepared(&format!("GRANT USAGE ON SCHEMA public TO {SERVICE_ROLE}"))
        .await?;
    Ok(())
}

/// Fences `table` by `tenant_column` on PostgreSQL and grants the service role `privileges` on it.
pub async fn fence_tenant_table(
    manager: &SchemaManager<'_>,
    table: &str,
    tenant_column: &str,
    privileges: &str,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_isolation ON {table}
           USING ({tenant_column} = {CURRENT_TENANT})
           WITH CHECK ({tenant_column} = {CURRENT_TENANT});
         GRANT {privileges} ON {table} TO {SERVICE_ROLE};"
    ))
    .await?;
    Ok(())
}

/// Makes `table` append-only: UPDATE and DELETE (and TRUNCATE on PostgreSQL) raise.
pub async fn make_append_only(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.execute_unprepared(&format!(
                "CREATE OR REPLACE FUNCTION vaskem_refuse_change() RETURNS trigger
                   LANGUAGE plpgsql AS $fn$
                 BEGIN
                   RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                     USING ERRCODE = 'insufficient_privilege';
                 END $fn$;
                 CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
                   FOR EACH ROW EXECUTE FUNCTION vaskem_refuse_change();
                 CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                   FOR EACH STATEMENT EXECUTE FUNCTION vaskem_refuse_change();"
            ))
            .await?;
        }
        _ => {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                 BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END;
                 CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                 BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END;"
            ))
            .await?;
        }
    }
    Ok(())
}

/// `column → organisations (id)`: the foreign key every tenant-owned table starts with.
pub fn tenant_fk(
    table: impl IntoIden + Clone + 'static,
    column: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Alias::new("organisations"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// `(tenant_id, column) → target (tenant_id, id)`: a reference that cannot cross organisations.
pub fn same_tenant_fk(
    table: impl IntoIden + Clone + 'static,
    tenant: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
    target: impl IntoIden + Clone + 'static,
    target_tenant: impl IntoIden + 'static,
    target_id: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, (tenant, column))
        .to(target, (target_tenant, target_id))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// A unique index `name` on `columns` of `table`.
pub async fn unique(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + Clone + 'static,
    columns: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.to_owned()).await
}

/// A plain index `name` on `columns` of `table`.
pub async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + Clone + 'static,
    columns: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.to_owned()).await
}

/// Least privilege (see `m20261130_000008_least_privilege`): the service role may update only
/// the columns the service's own statements set. A row lock (`FOR UPDATE`) needs any of them.
pub async fn grant_update(
    manager: &SchemaManager<'_>,
    table: &str,
    columns: &str,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "GRANT UPDATE ({columns}) ON {table} TO {SERVICE_ROLE}"
        ))
        .await?;
    Ok(())
}
