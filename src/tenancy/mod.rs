//! The tenant wall: the only way the service reads or writes tenant-owned rows.
//!
//! Two layers keep organisations apart:
//! 1. [`TenantDb`] / [`TenantTx`], the global query hook: every select, update and delete they run
//!    gets `tenant_id = current tenant` added, and every insert is stamped with it.
//! 2. On PostgreSQL, forced row-level security, fed by the transaction-local `app.tenant_id` that
//!    [`TenantDb::begin`] sets, while the work runs as the service role (see [`engine`]).

mod engine;
mod handle;
mod lookup;
mod serving;
mod throttle;

pub use engine::{Database, Engine, Privilege};
pub use handle::{Actor, RequestOrigin, RequestTransaction, TenantDb, TenantTx};
pub(crate) use lookup::LiveSession;
pub use serving::ConnectionRole;
pub use throttle::{Attempt, AttemptLimits};
