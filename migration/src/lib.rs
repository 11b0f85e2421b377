//! Schema migrations, one per change, never edited after they land.
//!
//! Portable tables come from SeaORM's schema builder; the PostgreSQL-only tenant wall (service
//! role, row-level security) and the append-only triggers are raw SQL in [`tenant_wall`].

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_spine;
mod m20261125_000002_sessions;
mod m20261125_000003_login_throttles;
mod m20261125_000004_warehouse_core;
mod m20261125_000005_list_orders;
mod m20261130_000007_audit_keys;
mod m20261130_000008_least_privilege;
mod m20261130_000009_organisation_slugs;
mod m20261130_000010_session_check;
mod m20261130_000011_carriers;
mod m20261130_000012_parties;
mod m20261130_000013_purchase_orders;
mod m20261130_000014_receipts;
mod m20261130_000015_putaway;
mod m20261130_000016_sales_orders;
mod m20261130_000017_packages;
mod m20261130_000018_shipments;
mod m20261130_000019_returns;
mod m20261130_000020_audit_subjects;
mod m20261130_000021_backups;
pub mod tenant_wall;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_spine::Migration),
            Box::new(m20261125_000002_sessions::Migration),
            Box::new(m20261125_000003_login_throttles::Migration),
            Box::new(m20261125_000004_warehouse_core::Migration),
            Box::new(m20261125_000005_list_orders::Migration),
            Box::new(m20261130_000007_audit_keys::Migration),
            Box::new(m20261130_000008_least_privilege::Migration),
            Box::new(m20261130_000009_organisation_slugs::Migration),
            Box::new(m20261130_000010_session_check::Migration),
            Box::new(m20261130_000011_carriers::Migration),
            Box::new(m20261130_000012_parties::Migration),
            Box::new(m20261130_000013_purchase_orders::Migration),
            Box::new(m20261130_000014_receipts::Migration),
            Box::new(m20261130_000015_putaway::Migration),
            Box::new(m20261130_000016_sales_orders::Migration),
            Box::new(m20261130_000017_packages::Migration),
            Box::new(m20261130_000018_shipments::Migration),
            Box::new(m20261130_000019_returns::Migration),
            Box::new(m20261130_000020_audit_subjects::Migration),
            Box::new(m20261130_000021_backups::Migration),
        ]
    }
}
