//! Shared test fixtures: a fresh database per test on either engine, and the real app on port 0.

pub mod app;
pub mod database;
pub mod process;

pub use app::{Session, TestApp};
pub use database::{Backend, TestDatabase};

/// Generates `NAME::sqlite` and `NAME::postgres` tests from `async fn NAME(backend: Backend)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            }
        )*
    };
}

/// The id the API shows for `key` (an opaque global id).
pub fn gid<K: vaskem::graphql::ids::GlobalKey>(key: K) -> String {
    vaskem::graphql::global_id(key).0
}
