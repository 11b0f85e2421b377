//! Business rules, one module per domain. Services take a [`crate::tenancy::TenantDb`], run one
//! transaction, write its audit event, and know nothing of GraphQL.

pub mod organisations;
pub mod roles;
pub mod text;
pub mod users;
