//! The warehouse core over the API, on both engines: the ledger's postings and refusals, lots and
//! serials, corrections and archives, the catalogue, what another organisation's ids answer, what
//! a page costs, the audit event of every mutation, and the ledger under fifty parallel requests
//! on PostgreSQL. The builders the tests share live in `support/fixtures.rs`.

use serde_json::json;

pub use crate::support::fixtures::{ADJUST, call, product, warehouse};
use crate::support::{Session, TestApp};

mod audit_events;
mod catalogue;
mod concurrency;
mod corrections;
mod cost;
mod isolation;
mod ledger;
mod lots;

/// Units of `product` on hand at `location`, over every lot.
pub async fn on_hand(app: &TestApp, session: &Session, product: &str, location: &str) -> i64 {
    let body = call(
        app,
        session,
        "query ($p: ID!, $l: ID) { stockOnHand(filter: {productId: $p, locationId: $l}) { nodes { onHand } } }",
        json!({ "p": product, "l": location }),
    )
    .await;
    body["data"]["stockOnHand"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|b| b["onHand"].as_i64().unwrap_or(0))
        .sum()
}
