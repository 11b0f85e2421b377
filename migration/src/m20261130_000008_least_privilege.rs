//! Least privilege for the service role: where a request changes only some columns of a table, the
//! service role may update only those columns.
//!
//! Until now `vaskem_app` could update every column of the tables it updates at all; most to the
//! point, `organisations.is_active`, so a request (or any SQL slipped into one) could reactivate a
//! deactivated organisation. Activation is the operator's (`vaskem org activate`, which connects as
//! the owner). The grants below list exactly what the service's own statements set (see the
//! `update_many` calls in `src/service/`, `src/auth/session.rs`, `src/audit/mod.rs` and
//! `src/tenancy/throttle.rs`); a new update of another column needs its own migration, and a test
//! on PostgreSQL fails until it has one. The service role may also read `seaql_migrations`, so a
//! `vaskem serve` connected as it can refuse to start on a database with pending migrations.
//!
//! Unchanged, and checked: `audit_events` and `stock_movements` stay SELECT, INSERT (append-only,
//! with triggers); `product_barcodes` and `product_units` keep DELETE (a product's barcodes and units
//! are replaced on update), `roles` keeps DELETE (deleting a custom role), `login_throttles` keeps
//! DELETE (a successful sign-in forgets the account's count). Nothing else may be deleted, and no
//! other right is granted to the service role, so nothing else is revoked.
//! SQLite has no roles: nothing happens there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::tenant_wall::SERVICE_ROLE;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000008_least_privilege"
    }
}

/// Each table the service updates, with the only columns it updates.
const UPDATABLE_COLUMNS: &[(&str, &str)] = &[
    // `vaskem org activate/deactivate` changes `is_active`, as the owner.
    ("organisations", "name"),
    (
        "users",
        "password_hash, must_change_password, is_active, role_id, grant_mask, revoke_mask",
    ),
    ("sessions", "last_seen_at, revoked_at"),
    ("roles", "name, description, permissions"),
    (
        "products",
        "sku, name, description, base_unit, tracking, expiry_required, reorder_point, \
         reorder_quantity, weight_grams, length_mm, width_mm, height_mm, is_active, updated_at",
    ),
    (
        "warehouses",
        "code, name, address_line1, address_line2, city, postal_code, country, is_active",
    ),
    ("locations", "code, kind, pickable, is_active"),
    ("stock_balances", "on_hand, updated_at"),
    ("stock_requests", "result"),
    ("audit_heads", "last_seq, last_hash"),
    ("login_throttles", "failures, window_start, locked_until"),
    // The service never updates a lot, but it locks serial lots `FOR UPDATE`, which PostgreSQL
    // allows only with UPDATE on some column. `tenant_id` is the one column whose update row-level
    // security already confines to a no-op (USING and WITH CHECK both pin it to the current
    // tenant), so granting it gives the lock and nothing else.
    ("lots", "tenant_id"),
];

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
        let mut sql = String::new();
        for (table, columns) in UPDATABLE_COLUMNS {
            sql.push_str(&format!(
                "REVOKE UPDATE ON {table} FROM {SERVICE_ROLE};
                 GRANT UPDATE ({columns}) ON {table} TO {SERVICE_ROLE};\n"
            ));
        }
        sql.push_str(&format!(
            "REVOKE ALL ON seaql_migrations FROM {SERVICE_ROLE};
             GRANT SELECT ON seaql_migrations TO {SERVICE_ROLE};"
        ));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let mut sql = String::new();
        for (table, _) in UPDATABLE_COLUMNS {
            sql.push_str(&format!("GRANT UPDATE ON {table} TO {SERVICE_ROLE};\n"));
        }
        sql.push_str(&format!(
            "REVOKE SELECT ON seaql_migrations FROM {SERVICE_ROLE};"
        ));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }
}
