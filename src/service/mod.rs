//! Business rules, one module per domain. Services take a [`crate::tenancy::TenantDb`], run one
//! transaction, write its audit event, and know nothing of GraphQL.

pub mod catalogue;
pub mod demo;
pub mod organisations;
pub mod places;
pub mod roles;
pub mod stock;
pub mod text;
pub mod users;
