//! Public liveness information; the only fields an anonymous caller can read.

use async_graphql::{Object, SimpleObject};

#[derive(Default)]
pub struct HealthQuery;

/// The service's own view of itself.
#[derive(SimpleObject)]
pub struct Health {
    /// Always "ok" when the service answers.
    status: &'static str,
    /// The running version of VasKem.
    version: &'static str,
}

#[Object]
impl HealthQuery {
    /// Whether the service is up, and which version it runs. Needs no session.
    async fn health(&self) -> Health {
        Health {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}
