//! The test kit: a fresh database per test on either engine, copied from a migrated template; the
//! real app on port 0; fixtures; a reply reader that sees `userErrors`; and the teardown that
//! checks every database a test used (audit chains, stock ledger).

pub mod app;
pub mod database;
pub mod fixtures;
pub mod invariants;
pub mod process;
pub mod reply;
pub mod template;

pub use app::{Session, TestApp};
pub use database::{Backend, TestDatabase};
pub use invariants::{Checks, Invariant};
pub use reply::assert_ok;

/// Generates `NAME::sqlite` and `NAME::postgres` tests from `async fn NAME(backend: Backend)`;
/// after the body returns, every database it created must pass the invariant checks.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let checks = $crate::support::Checks::begin();
                    super::$name($crate::support::Backend::Sqlite).await;
                    checks.finish().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let checks = $crate::support::Checks::begin();
                    super::$name($crate::support::Backend::Postgres).await;
                    checks.finish().await;
                }
            }
        )*
    };
}

/// The id the API shows for `key` (an opaque global id).
pub fn gid<K: vaskem::graphql::ids::GlobalKey>(key: K) -> String {
    vaskem::graphql::global_id(key).0
}
