//! Every mutation of the warehouse core records one audit event with before and after.

use serde_json::{Value, json};

use super::{call, product};
use crate::on_both_databases;
use crate::support::{Backend, TestApp};

on_both_databases!(every_mutation_records_one_event_with_before_and_after,);

/// A mutation, its variables, the action and entity id its event must name, and (JSON pointer,
/// value) pairs its detail must hold.
type AuditStep = (
    &'static str,
    Value,
    &'static str,
    Value,
    Vec<(&'static str, Value)>,
);

/// Every mutation of the warehouse core writes exactly one audit event, naming what it did to
/// which row, with the row's state before and after.
async fn every_mutation_records_one_event_with_before_and_after(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let latest =
        "{ auditEvents(first: 1) { totalCount nodes { action entityType entityId detail } } }";
    let mut count = app.ok(s, latest, json!({})).await["auditEvents"]["totalCount"]
        .as_i64()
        .expect("count");
    let movement = app.adjust(s, &w.product, &w.a, 5).await["movements"][0]["id"].clone();
    app.adjust(s, &w.product, &w.a, 10).await;
    let empty = app.ok(s, "mutation { createWarehouse(input: { code: \"EMPTY\", name: \"Empty\" }) { warehouse { id } userErrors { field message } } }", json!({})).await;
    let empty = empty["createWarehouse"]["warehouse"]["id"].clone();
    count += 3;
    let gone = product(&app, s, "GONE-1", "NONE").await;
    count += 1; // GONE-1's creation.
    // Each step: the mutation, its event's action and entity, and what its detail must say.
    let steps: Vec<AuditStep> = vec![
        (
            "mutation ($i: ArchiveWarehouseInput!) { archiveWarehouse(input: $i) { userErrors { message } } }",
            json!({ "i": { "id": empty } }),
            "warehouse.archive",
            empty.clone(),
            vec![
                ("/before/active", json!(true)),
                ("/after/active", json!(false)),
            ],
        ),
        (
            "mutation ($i: ReverseStockMovementInput!) { reverseStockMovement(input: $i) { userErrors { message } } }",
            json!({ "i": { "movementId": movement } }),
            "stock.reverse",
            movement.clone(),
            vec![
                ("/after/quantity", json!(5)),
                ("/after/sku", json!("SKU-1")),
            ],
        ),
        (
            "mutation ($i: UpdateProductInput!) { updateProduct(input: $i) { userErrors { message } } }",
            json!({ "i": { "id": w.product, "sku": "SKU-1", "name": "Renamed" } }),
            "product.update",
            json!(w.product),
            vec![
                ("/before/name", json!("Product SKU-1")),
                ("/after/name", json!("Renamed")),
            ],
        ),
        (
            "mutation ($i: UpdateWarehouseInput!) { updateWarehouse(input: $i) { userErrors { message } } }",
            json!({ "i": { "id": w.warehouse, "code": "JHB1", "name": "Joburg" } }),
            "warehouse.update",
            json!(w.warehouse),
            vec![
                ("/before/name", json!("Johannesburg")),
                ("/after/name", json!("Joburg")),
            ],
        ),
        (
            "mutation ($i: UpdateLocationInput!) { updateLocation(input: $i) { userErrors { message } } }",
            json!({ "i": { "id": w.b, "code": "B-02-02", "kind": "PICKING", "pickable": true } }),
            "location.update",
            json!(w.b),
            vec![
                ("/before/code", json!("B-02-01")),
                ("/after/code", json!("B-02-02")),
            ],
        ),
        (
            "mutation ($i: TransferStockInput!) { transferStock(input: $i) { userErrors { message } } }",
            json!({ "i": { "productId": w.product, "fromLocationId": w.a, "toLocationId": w.b, "quantity": 2 } }),
            "stock.transfer",
            json!(w.product),
            vec![
                ("/after/quantity", json!(2)),
                ("/after/to", json!("B-02-02")),
            ],
        ),
        (
            "mutation ($i: CountStockInput!) { countStock(input: $i) { userErrors { message } } }",
            json!({ "i": { "productId": w.product, "locationId": w.a, "counted": 4 } }),
            "stock.count",
            json!(w.product),
            vec![
                ("/after/lines/0/counted", json!(4)),
                ("/after/lines/0/onHandBefore", json!(8)),
            ],
        ),
        (
            "mutation ($i: PostStockCountInput!) { postStockCount(input: $i) { userErrors { message } } }",
            json!({ "i": { "lines": [{ "productId": w.product, "locationId": w.a, "counted": 0 }] } }),
            "stock.count",
            json!(w.product),
            vec![
                ("/after/lines/0/counted", json!(0)),
                ("/after/lines/0/variance", json!(-4)),
            ],
        ),
        (
            "mutation ($i: ArchiveProductInput!) { archiveProduct(input: $i) { userErrors { message } } }",
            json!({ "i": { "id": gone } }),
            "product.archive",
            json!(gone),
            vec![
                ("/before/active", json!(true)),
                ("/after/active", json!(false)),
            ],
        ),
        (
            "mutation ($i: ArchiveLocationInput!) { archiveLocation(input: $i) { userErrors { message } } }",
            json!({ "i": { "id": w.a } }),
            "location.archive",
            json!(w.a),
            vec![
                ("/before/active", json!(true)),
                ("/after/active", json!(false)),
            ],
        ),
    ];
    for (document, variables, action, entity, expected) in steps {
        app.ok(s, document, variables).await;
        let log = call(&app, s, latest, json!({})).await;
        let events = &log["data"]["auditEvents"];
        count += 1;
        assert_eq!(events["totalCount"], count, "{action}: exactly one event");
        let event = &events["nodes"][0];
        assert_eq!(event["action"], action, "{log}");
        assert_eq!(event["entityId"], entity, "{log}");
        let detail = &event["detail"];
        for (pointer, value) in expected {
            assert_eq!(
                detail.pointer(pointer),
                Some(&value),
                "{action}: {pointer} in {detail}"
            );
        }
    }
}
