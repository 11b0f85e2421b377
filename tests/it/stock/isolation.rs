//! Another organisation's ids answer exactly as ids that exist nowhere.

use serde_json::json;

use super::{ADJUST, call};
use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::{Backend, TestApp, gid};

on_both_databases!(another_organisations_ids_are_not_found,);

async fn another_organisations_ids_are_not_found(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mine = app.organisation_with_stock_setup("Alpha").await;
    let theirs = app.organisation_with_stock_setup("Beta").await;
    let their_warehouse = theirs.warehouse.as_str();
    let adjusted = app
        .adjust(&theirs.session, &theirs.product, &theirs.a, 3)
        .await;
    let their_movement = adjusted["movements"][0]["id"].clone();
    app.ok(&theirs.session, ADJUST, json!({ "i": { "productId": theirs.lotted, "locationId": theirs.a, "change": 1, "reason": "found", "lot": { "code": "L1" } } })).await;
    let lots = app
        .ok(
            &theirs.session,
            "query ($p: ID!) { stockOnHand(filter: {productId: $p}) { nodes { lotId } } }",
            json!({ "p": theirs.lotted }),
        )
        .await;
    let their_lot = lots["stockOnHand"]["nodes"][0]["lotId"].clone();
    assert!(their_lot.is_string(), "{lots}");
    let no_product = gid(entity::ProductId::generate());
    let no_location = gid(entity::LocationId::generate());
    let no_warehouse = gid(entity::WarehouseId::generate());
    let no_movement = gid(entity::MovementId::generate());
    let no_lot = gid(entity::LotId::generate());
    let update_product = "mutation ($id: ID!) { updateProduct(input: { id: $id, sku: \"X\", name: \"X\" }) { product { id } } }";
    let transfer =
        "mutation ($i: TransferStockInput!) { transferStock(input: $i) { movements { id } } }";
    let count = "mutation ($i: CountStockInput!) { countStock(input: $i) { movements { id } } }";
    let post_count =
        "mutation ($i: PostStockCountInput!) { postStockCount(input: $i) { movements { id } } }";
    // Every id-taking field of the warehouse core, each with another organisation's id and
    // with an id that exists nowhere: the answers must be indistinguishable.
    let cases = [
        (
            "query ($id: ID!) { product(id: $id) { sku } }",
            json!({ "id": theirs.product }),
            json!({ "id": no_product }),
        ),
        (
            "query ($id: ID!) { node(id: $id) { id } }",
            json!({ "id": theirs.product }),
            json!({ "id": no_product }),
        ),
        (
            "query ($id: ID!) { node(id: $id) { id } }",
            json!({ "id": their_warehouse }),
            json!({ "id": no_warehouse }),
        ),
        (
            "query ($id: ID!) { node(id: $id) { id } }",
            json!({ "id": theirs.a }),
            json!({ "id": no_location }),
        ),
        (
            "query ($id: ID!) { warehouse(id: $id) { code } }",
            json!({ "id": their_warehouse }),
            json!({ "id": no_warehouse }),
        ),
        (
            "query ($id: ID!) { location(id: $id) { code } }",
            json!({ "id": theirs.a }),
            json!({ "id": no_location }),
        ),
        (
            "mutation ($id: ID!) { restoreProduct(input: {id: $id}) { product { id } } }",
            json!({ "id": theirs.product }),
            json!({ "id": no_product }),
        ),
        (
            "mutation ($id: ID!) { restoreWarehouse(input: {id: $id}) { warehouse { id } } }",
            json!({ "id": their_warehouse }),
            json!({ "id": no_warehouse }),
        ),
        (
            "mutation ($id: ID!) { restoreLocation(input: {id: $id}) { location { id } } }",
            json!({ "id": theirs.a }),
            json!({ "id": no_location }),
        ),
        (
            "query ($id: ID!) { stockOnHand(filter: {productId: $id}) { nodes { onHand } } }",
            json!({ "id": theirs.product }),
            json!({ "id": no_product }),
        ),
        (
            "query ($id: ID!) { stockOnHand(filter: {locationId: $id}) { nodes { onHand } } }",
            json!({ "id": theirs.a }),
            json!({ "id": no_location }),
        ),
        (
            "query ($id: ID!) { stockOnHand(filter: {warehouseId: $id}) { nodes { onHand } } }",
            json!({ "id": their_warehouse }),
            json!({ "id": no_warehouse }),
        ),
        (
            "query ($id: ID!) { stockOnHand(filter: {lotId: $id}) { nodes { onHand } } }",
            json!({ "id": their_lot }),
            json!({ "id": no_lot }),
        ),
        (
            "query ($id: ID!) { stockMovements(filter: {productId: $id}) { edges { cursor } } }",
            json!({ "id": theirs.product }),
            json!({ "id": no_product }),
        ),
        (
            "query ($id: ID!) { stockMovements(filter: {locationId: $id}) { edges { cursor } } }",
            json!({ "id": theirs.a }),
            json!({ "id": no_location }),
        ),
        (
            "query ($id: ID!) { stockMovements(filter: {warehouseId: $id}) { edges { cursor } } }",
            json!({ "id": their_warehouse }),
            json!({ "id": no_warehouse }),
        ),
        (
            "query ($id: ID!) { stockMovements(filter: {lotId: $id}) { edges { cursor } } }",
            json!({ "id": their_lot }),
            json!({ "id": no_lot }),
        ),
        (
            "query ($id: ID!) { locations(filter: {warehouseId: $id}) { nodes { id } } }",
            json!({ "id": their_warehouse }),
            json!({ "id": no_warehouse }),
        ),
        (
            "mutation ($id: ID!) { archiveLocation(input: {id: $id}) { location { id } } }",
            json!({ "id": theirs.a }),
            json!({ "id": no_location }),
        ),
        (
            "mutation ($id: ID!) { updateWarehouse(input: { id: $id, code: \"X\", name: \"X\" }) { warehouse { id } } }",
            json!({ "id": their_warehouse }),
            json!({ "id": no_warehouse }),
        ),
        (
            "mutation ($id: ID!) { updateLocation(input: { id: $id, code: \"X\", kind: STORAGE, pickable: true }) { location { id } } }",
            json!({ "id": theirs.a }),
            json!({ "id": no_location }),
        ),
        (
            "mutation ($id: ID!) { archiveWarehouse(input: {id: $id}) { warehouse { id } } }",
            json!({ "id": their_warehouse }),
            json!({ "id": no_warehouse }),
        ),
        (
            "mutation ($id: ID!) { reverseStockMovement(input: { movementId: $id }) { movements { id } } }",
            json!({ "id": their_movement }),
            json!({ "id": no_movement }),
        ),
        (
            "mutation ($id: ID!) { archiveProduct(input: {id: $id}) { product { id } } }",
            json!({ "id": theirs.product }),
            json!({ "id": no_product }),
        ),
        (
            update_product,
            json!({ "id": theirs.product }),
            json!({ "id": no_product }),
        ),
        (
            "mutation ($id: ID!) { createLocation(input: { warehouseId: $id, code: \"X\" }) { location { id } } }",
            json!({ "id": their_warehouse }),
            json!({ "id": no_warehouse }),
        ),
        (
            ADJUST,
            json!({ "i": { "productId": theirs.product, "locationId": mine.a, "change": 1, "reason": "found" } }),
            json!({ "i": { "productId": no_product, "locationId": mine.a, "change": 1, "reason": "found" } }),
        ),
        (
            ADJUST,
            json!({ "i": { "productId": mine.product, "locationId": theirs.a, "change": 1, "reason": "found" } }),
            json!({ "i": { "productId": mine.product, "locationId": no_location, "change": 1, "reason": "found" } }),
        ),
        (
            transfer,
            json!({ "i": { "productId": theirs.product, "fromLocationId": mine.a, "toLocationId": mine.b, "quantity": 1 } }),
            json!({ "i": { "productId": no_product, "fromLocationId": mine.a, "toLocationId": mine.b, "quantity": 1 } }),
        ),
        (
            transfer,
            json!({ "i": { "productId": mine.product, "fromLocationId": theirs.a, "toLocationId": mine.b, "quantity": 1 } }),
            json!({ "i": { "productId": mine.product, "fromLocationId": no_location, "toLocationId": mine.b, "quantity": 1 } }),
        ),
        (
            transfer,
            json!({ "i": { "productId": mine.product, "fromLocationId": mine.a, "toLocationId": theirs.a, "quantity": 1 } }),
            json!({ "i": { "productId": mine.product, "fromLocationId": mine.a, "toLocationId": no_location, "quantity": 1 } }),
        ),
        (
            count,
            json!({ "i": { "productId": theirs.product, "locationId": mine.a, "counted": 1 } }),
            json!({ "i": { "productId": no_product, "locationId": mine.a, "counted": 1 } }),
        ),
        (
            count,
            json!({ "i": { "productId": mine.product, "locationId": theirs.a, "counted": 1 } }),
            json!({ "i": { "productId": mine.product, "locationId": no_location, "counted": 1 } }),
        ),
        (
            post_count,
            json!({ "i": { "lines": [{ "productId": theirs.product, "locationId": mine.a, "counted": 1 }] } }),
            json!({ "i": { "lines": [{ "productId": no_product, "locationId": mine.a, "counted": 1 }] } }),
        ),
        (
            post_count,
            json!({ "i": { "lines": [{ "productId": mine.product, "locationId": theirs.a, "counted": 1 }] } }),
            json!({ "i": { "lines": [{ "productId": mine.product, "locationId": no_location, "counted": 1 }] } }),
        ),
        // An id of the wrong type names nothing of the type asked for, in queries and in
        // mutations alike.
        (
            "query ($id: ID!) { product(id: $id) { sku } }",
            json!({ "id": mine.a }),
            json!({ "id": no_product }),
        ),
        (
            "mutation ($id: ID!) { reverseStockMovement(input: { movementId: $id }) { movements { id } } }",
            json!({ "id": mine.product }),
            json!({ "id": no_movement }),
        ),
        (
            update_product,
            json!({ "id": mine.warehouse }),
            json!({ "id": no_product }),
        ),
        (
            ADJUST,
            json!({ "i": { "productId": mine.a, "locationId": mine.a, "change": 1, "reason": "found" } }),
            json!({ "i": { "productId": no_product, "locationId": mine.a, "change": 1, "reason": "found" } }),
        ),
        (
            "query ($id: ID!) { stockOnHand(filter: {warehouseId: $id}) { nodes { onHand } } }",
            json!({ "id": mine.product }),
            json!({ "id": no_warehouse }),
        ),
    ];
    for (document, foreign, absent) in cases {
        let foreign = call(&app, &mine.session, document, foreign).await;
        let absent = call(&app, &mine.session, document, absent).await;
        assert_eq!(
            error_code(&foreign),
            Some("NOT_FOUND"),
            "{document}: {foreign}"
        );
        assert_eq!(
            foreign["errors"][0]["message"], absent["errors"][0]["message"],
            "{document}"
        );
    }
    let body = call(
        &app,
        &mine.session,
        "{ productByBarcode(barcode: \"600SKU-1\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["productByBarcode"]["id"],
        mine.product.as_str(),
        "barcodes are per organisation: {body}"
    );
}
