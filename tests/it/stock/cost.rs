//! What a page costs: the same number of statements whatever its size.

use serde_json::{Value, json};

use super::{ADJUST, call, product, warehouse};
use crate::on_both_databases;
use crate::support::{Backend, TestApp, assert_ok};

on_both_databases!(
    a_page_of_products_costs_the_same_queries_whatever_its_size,
    a_page_of_stock_costs_the_same_queries_whatever_its_size,
);

async fn a_page_of_products_costs_the_same_queries_whatever_its_size(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    for n in 0..50 {
        let id = product(&app, s, &format!("P-{n:03}"), "NONE").await;
        app.adjust(s, &id, &w.a, n + 1).await;
    }
    let page = "query ($n: Int!) { products(first: $n) { edges { node { sku barcodes stock { onHand available belowReorderPoint } } } } }";
    let mut costs = Vec::new();
    for size in [10, 50] {
        // A request first, so that the session's once-a-minute "last seen" write (if due) is not
        // counted against the page.
        call(&app, s, "{ me { id } }", json!({})).await;
        let before = app.database.serving.statements_run();
        let body = call(&app, s, page, json!({ "n": size })).await;
        let after = app.database.serving.statements_run();
        let edges = body["data"]["products"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(edges.len(), size as usize);
        assert_eq!(
            edges[3]["node"]["stock"]["onHand"], 4,
            "P-003 holds 4: {body}"
        );
        assert_eq!(edges[3]["node"]["barcodes"], json!(["600P-003"]));
        costs.push(after - before);
    }
    println!("statements for a page of 10 and of 50 products ({backend:?}): {costs:?}");
    assert_eq!(
        costs[0], costs[1],
        "a bigger page must not cost more queries"
    );
    assert!(costs[1] <= 12, "{costs:?}");
}

/// The same for stock with its product, location (and warehouse) and lot, and for the ledger.
async fn a_page_of_stock_costs_the_same_queries_whatever_its_size(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    for n in 0..30 {
        let id = product(&app, s, &format!("L-{n:03}"), "LOT").await;
        let location = if n % 2 == 0 { &w.a } else { &w.b };
        app.ok(s, ADJUST, json!({ "i": { "productId": id, "locationId": location, "change": n + 1, "reason": "found", "lot": { "code": format!("LOT{n}") } } })).await;
    }
    let balances = "query ($n: Int!) { stockOnHand(first: $n, sort: {field: ON_HAND}) { nodes { onHand product { sku barcodes } location { code warehouse { code } } lot { code } } } }";
    let ledger = "query ($n: Int!) { stockMovements(first: $n, sort: {direction: ASC}) { edges { node { quantity product { sku } toLocation { code warehouse { code } } fromLocation { code } lot { code } } } } }";
    for (document, field) in [(balances, "stockOnHand"), (ledger, "stockMovements")] {
        let mut costs = Vec::new();
        for size in [5, 30] {
            call(&app, s, "{ me { id } }", json!({})).await;
            let before = app.database.serving.statements_run();
            let body = call(&app, s, document, json!({ "n": size })).await;
            let after = app.database.serving.statements_run();
            assert_ok(&body);
            let page = &body["data"][field];
            let rows: Vec<Value> = match page["nodes"].as_array() {
                Some(nodes) => nodes.clone(),
                None => page["edges"]
                    .as_array()
                    .expect("edges")
                    .iter()
                    .map(|e| e["node"].clone())
                    .collect(),
            };
            assert_eq!(rows.len(), size as usize, "{body}");
            // Row 3 holds 4 units of L-003, lot LOT3, at B-02-01 (odd products went to B).
            let place = if field == "stockOnHand" {
                "location"
            } else {
                "toLocation"
            };
            assert_eq!(rows[3]["product"]["sku"], "L-003", "{body}");
            assert_eq!(rows[3]["lot"]["code"], "LOT3", "{body}");
            assert_eq!(rows[3][place]["code"], "B-02-01", "{body}");
            assert_eq!(rows[3][place]["warehouse"]["code"], "JHB1", "{body}");
            costs.push(after - before);
        }
        println!("statements for {field} pages of 5 and 30 ({backend:?}): {costs:?}");
        assert_eq!(
            costs[0], costs[1],
            "{field}: a bigger page must not cost more queries"
        );
        // Session checks, the page, and one query per relation asked for (product, barcodes,
        // location, warehouse, lot): 16 when measured.
        assert!(costs[1] <= 18, "{field}: {costs:?}");
    }
}
