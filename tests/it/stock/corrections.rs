//! Reversals, renamed and archived locations, the reorder point.

use serde_json::json;

use super::{ADJUST, call, on_hand, warehouse};
use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::{Backend, TestApp};

on_both_databases!(corrections_reverse_and_archives_wait_for_empty_locations,);

async fn corrections_reverse_and_archives_wait_for_empty_locations(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 5, "reason": "found" } })).await;
    let movement = body["data"]["adjustStock"]["movements"][0]["id"].clone();
    let reverse = "mutation ($id: ID!) { reverseStockMovement(input: { movementId: $id, note: \"typo\" }) { movements { id reason fromPlace toPlace } } }";
    let body = call(&app, s, reverse, json!({ "id": movement })).await;
    let reversal = &body["data"]["reverseStockMovement"]["movements"][0];
    assert_eq!(reversal["reason"], "reversal", "{body}");
    assert_eq!(reversal["fromPlace"], "LOCATION");
    assert_eq!(reversal["toPlace"], "ADJUSTMENT");
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 0);
    let again = call(&app, s, reverse, json!({ "id": movement })).await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "once only: {again}");
    let twice = call(&app, s, reverse, json!({ "id": reversal["id"] })).await;
    assert_eq!(
        error_code(&twice),
        Some("CONFLICT"),
        "a reversal is not reversed: {twice}"
    );

    // Renaming a location keeps its stock; a code already used in the warehouse is refused.
    let rename = "mutation ($id: ID!, $c: String!) { updateLocation(input: { id: $id, code: $c, kind: PICKING, pickable: true }) { location { code kind } } }";
    let body = call(&app, s, rename, json!({ "id": w.a, "c": "A-01-09" })).await;
    assert_eq!(
        body["data"]["updateLocation"]["location"]["code"], "A-01-09",
        "{body}"
    );
    let body = call(&app, s, rename, json!({ "id": w.a, "c": "B-02-01" })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // A location holding stock cannot be archived; once empty it can, and then takes no stock.
    app.adjust(s, &w.product, &w.a, 2).await;
    let body = call(
        &app,
        s,
        "query ($l: ID!) { stockOnHand(filter: {locationId: $l}) { nodes { onHand location { code warehouse { code } } product { sku } } } }",
        json!({ "l": w.a }),
    )
    .await;
    assert_eq!(
        body["data"]["stockOnHand"]["nodes"],
        json!([{ "onHand": 2, "location": { "code": "A-01-09", "warehouse": { "code": "JHB1" } }, "product": { "sku": "SKU-1" } }]),
        "{body}"
    );
    let archive =
        "mutation ($id: ID!) { archiveLocation(input: {id: $id}) { location { active } } }";
    let body = call(&app, s, archive, json!({ "id": w.a })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    app.ok(s, "mutation ($i: TransferStockInput!) { transferStock(input: $i) { balances { onHand } userErrors { field message } } }", json!({ "i": { "productId": w.product, "fromLocationId": w.a, "toLocationId": w.b, "quantity": 2 } })).await;
    let body = call(&app, s, archive, json!({ "id": w.a })).await;
    assert_eq!(
        body["data"]["archiveLocation"]["location"]["active"], false,
        "{body}"
    );
    let warehouse_id = w.warehouse.as_str();
    let list = "query ($w: ID!, $all: Boolean!) { locations(filter: {warehouseId: $w, includeArchived: $all}) { nodes { code active } } }";
    let active = call(&app, s, list, json!({ "w": warehouse_id, "all": false })).await;
    let every = call(&app, s, list, json!({ "w": warehouse_id, "all": true })).await;
    assert_eq!(
        active["data"]["locations"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{active}"
    );
    assert_eq!(
        every["data"]["locations"]["nodes"].as_array().map(Vec::len),
        Some(2),
        "{every}"
    );
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "found" } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // Below the reorder point: the product (reorder point 0) is not; one with a point of 5 is.
    app.ok(s, "mutation { createProduct(input: { sku: \"LOW-1\", name: \"Low\", reorderPoint: 5 }) { product { id } userErrors { field message } } }", json!({})).await;
    let body = call(
        &app,
        s,
        "{ products(filter: {belowReorderPoint: true}) { nodes { sku stock { available } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["products"]["nodes"],
        json!([{ "sku": "LOW-1", "stock": { "available": 0 } }]),
        "{body}"
    );
}
