//! The warehouse core over the API: catalogue, places and the stock ledger, on both engines, and
//! the ledger under fifty parallel requests on PostgreSQL.

use std::process::Command;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use vaskem::tenancy::TenantDb;

use crate::on_both_databases;
use crate::support::app::error_code;
pub use crate::support::fixtures::{ADJUST, call, product, warehouse};
use crate::support::{Backend, Invariant, Session, TestApp, gid};

on_both_databases!(
    the_ledger_moves_and_refuses_shortfalls,
    retries_with_an_idempotency_key_move_nothing_twice,
    lots_serials_and_expiry_are_enforced,
    catalogue_search_barcodes_and_pages,
    another_organisations_ids_are_not_found,
    stock_verify_finds_a_tampered_balance,
    a_page_of_products_costs_the_same_queries_whatever_its_size,
    a_page_of_stock_costs_the_same_queries_whatever_its_size,
    every_mutation_records_one_event_with_before_and_after,
    corrections_reverse_and_archives_wait_for_empty_locations,
    products_are_updated_in_full,
    a_cycle_count_posts_all_lines_together,
);

async fn on_hand(app: &TestApp, session: &Session, product: &str, location: &str) -> i64 {
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

async fn the_ledger_moves_and_refuses_shortfalls(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 10, "reason": "found" } })).await;
    assert_eq!(
        body["data"]["adjustStock"]["movements"][0]["fromPlace"], "adjustment",
        "{body}"
    );
    let body = call(
        &app,
        s,
        "mutation ($i: TransferStockInput!) { transferStock(input: $i) { balances { onHand } } }",
        json!({ "i": { "productId": w.product, "fromLocationId": w.a, "toLocationId": w.b, "quantity": 4 } }),
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = call(
        &app,
        s,
        "mutation ($i: CountStockInput!) { countStock(input: $i) { movements { quantity fromPlace toPlace reason } } }",
        json!({ "i": { "productId": w.product, "locationId": w.b, "counted": 3 } }),
    )
    .await;
    assert_eq!(
        body["data"]["countStock"]["movements"][0]["quantity"], 1,
        "{body}"
    );
    assert_eq!(
        body["data"]["countStock"]["movements"][0]["toPlace"],
        "adjustment"
    );
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 6);
    assert_eq!(on_hand(&app, s, &w.product, &w.b).await, 3);

    // Taking more than there is: CONFLICT naming the shortfall, and nothing moves.
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": -7, "reason": "damaged" } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("SKU-1")
            && message.contains("A-01-01")
            && message.contains("6 available")
            && message.contains("7 requested"),
        "{message}"
    );
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 6);
    // Validation failures are userErrors in the payload.
    let body = call(
        &app,
        s,
        ADJUST,
        json!({ "i": { "productId": w.product, "locationId": w.a, "change": 0, "reason": "x" } }),
    )
    .await;
    assert_eq!(
        body["data"]["adjustStock"]["userErrors"][0]["field"], "change",
        "{body}"
    );

    let body = call(&app, s, "query ($p: ID!) { stockMovements(filter: {productId: $p}, first: 2) { edges { node { reason quantity } } pageInfo { hasNextPage endCursor } } }", json!({ "p": w.product })).await;
    let page = &body["data"]["stockMovements"];
    assert_eq!(
        page["edges"][0]["node"]["reason"], "count",
        "newest first: {body}"
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let body = call(&app, s, "query ($p: ID!, $a: String) { stockMovements(filter: {productId: $p}, first: 2, after: $a) { edges { node { reason } } pageInfo { hasNextPage } } }", json!({ "p": w.product, "a": page["pageInfo"]["endCursor"] })).await;
    assert_eq!(
        body["data"]["stockMovements"]["edges"][0]["node"]["reason"], "found",
        "{body}"
    );
    assert_eq!(
        body["data"]["stockMovements"]["pageInfo"]["hasNextPage"],
        false
    );

    // History of a location: in and out, newest first.
    let body = call(
        &app,
        s,
        "query ($l: ID!) { stockMovements(filter: {locationId: $l}) { edges { node { reason } } } }",
        json!({ "l": w.b }),
    )
    .await;
    let reasons: Vec<&str> = body["data"]["stockMovements"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["count", "transfer"], "{body}");
    // The whole ledger, oldest first, and a cursor from one order is refused in another.
    let body = call(
        &app,
        s,
        "{ stockMovements(sort: {direction: ASC}, first: 1) { edges { node { reason } } pageInfo { endCursor } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["stockMovements"]["edges"][0]["node"]["reason"], "found",
        "{body}"
    );
    let cursor = body["data"]["stockMovements"]["pageInfo"]["endCursor"].clone();
    let body = call(
        &app,
        s,
        "query ($a: String) { stockMovements(first: 1, after: $a) { edges { cursor } } }",
        json!({ "a": cursor }),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");

    // Every stock change has its audit event, and balances equal the movements.
    let tx = TenantDb::for_operator(&app.database.db, owner.tenant)
        .read()
        .await
        .expect("read");
    let events = tx
        .all(<entity::audit_event::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("events");
    let stock_events: Vec<&str> = events
        .iter()
        .filter(|e| e.action.starts_with("stock."))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        stock_events,
        ["stock.adjust", "stock.transfer", "stock.count"]
    );
    drop(tx);
    let handle = TenantDb::for_operator(&app.database.db, owner.tenant);
    assert!(
        vaskem::service::stock::verify(&handle)
            .await
            .expect("verify")
            .is_empty()
    );
}

async fn retries_with_an_idempotency_key_move_nothing_twice(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let input = json!({ "i": { "productId": w.product, "locationId": w.a, "change": 5, "reason": "found", "idempotencyKey": "scan-42" } });
    let first = call(&app, s, ADJUST, input.clone()).await;
    let again = call(&app, s, ADJUST, input).await;
    assert_eq!(
        first["data"]["adjustStock"]["movements"][0]["id"],
        again["data"]["adjustStock"]["movements"][0]["id"],
        "{first} {again}"
    );
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 5);
    let other = call(
        &app,
        s,
        "mutation ($i: TransferStockInput!) { transferStock(input: $i) { balances { onHand } } }",
        json!({ "i": { "productId": w.product, "fromLocationId": w.a, "toLocationId": w.b, "quantity": 1, "idempotencyKey": "scan-42" } }),
    )
    .await;
    assert_eq!(
        error_code(&other),
        Some("CONFLICT"),
        "a key belongs to one operation: {other}"
    );
}

async fn lots_serials_and_expiry_are_enforced(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let lotted = product(&app, s, "LOT-1", "lot").await;
    let serial = product(&app, s, "SER-1", "serial").await;
    let error_field = |body: &Value| body["data"]["adjustStock"]["userErrors"][0]["field"].clone();
    let body = call(
        &app,
        s,
        ADJUST,
        json!({ "i": { "productId": lotted, "locationId": w.a, "change": 5, "reason": "found" } }),
    )
    .await;
    assert_eq!(error_field(&body), "lot", "{body}");
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 5, "reason": "found", "lot": { "code": "L1" } } })).await;
    assert_eq!(
        error_field(&body),
        "lot",
        "untracked products take no lot: {body}"
    );
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": serial, "locationId": w.a, "change": 2, "reason": "found", "lot": { "code": "SN1" } } })).await;
    assert_eq!(error_field(&body), "change", "{body}");
    // One serial is one unit: in stock once, at one location.
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": serial, "locationId": w.a, "change": 1, "reason": "found", "lot": { "code": "SN1" } } })).await;
    assert!(body["errors"].is_null(), "{body}");
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": serial, "locationId": w.b, "change": 1, "reason": "found", "lot": { "code": "SN1" } } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("SN1"),
        "{body}"
    );
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": lotted, "locationId": w.a, "change": 5, "reason": "found", "lot": { "code": "L1", "expiresOn": "2027-03-31" } } })).await;
    assert!(
        body["data"]["adjustStock"]["userErrors"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "{body}"
    );
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": lotted, "locationId": w.a, "change": 2, "reason": "found", "lot": { "code": "L2" } } })).await;
    assert!(body["errors"].is_null(), "{body}");
    // Two lots, two balances at one location; a lot cannot go below zero on its own.
    let body = call(
        &app,
        s,
        "query ($p: ID!) { stockOnHand(filter: {productId: $p}) { nodes { lotId onHand lot { code expiresOn } } } }",
        json!({ "p": lotted }),
    )
    .await;
    let lots: Vec<(Value, Value)> = body["data"]["stockOnHand"]["nodes"]
        .as_array()
        .expect("balances")
        .iter()
        .map(|b| (b["lot"]["code"].clone(), b["lot"]["expiresOn"].clone()))
        .collect();
    assert!(lots.contains(&(json!("L1"), json!("2027-03-31"))), "{body}");
    assert!(lots.contains(&(json!("L2"), Value::Null)), "{body}");
    assert_eq!(
        body["data"]["stockOnHand"]["nodes"]
            .as_array()
            .expect("balances")
            .len(),
        2,
        "{body}"
    );
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": lotted, "locationId": w.a, "change": -3, "reason": "damaged", "lot": { "code": "L2" } } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}

async fn catalogue_search_barcodes_and_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    for n in 0..5 {
        product(&app, s, &format!("WIDGET-{n}"), "none").await;
    }
    let body = call(
        &app,
        s,
        "{ productByBarcode(barcode: \"600WIDGET-3\") { sku barcodes } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["productByBarcode"]["sku"], "WIDGET-3",
        "{body}"
    );
    let body = call(&app, s, "{ products(filter: {search: \"widget\"}, first: 2) { totalCount edges { node { sku } } pageInfo { hasNextPage endCursor } } }", json!({})).await;
    let page = &body["data"]["products"];
    assert_eq!(page["edges"].as_array().expect("edges").len(), 2, "{body}");
    assert_eq!(page["totalCount"], 5, "{body}");
    let mut seen: Vec<String> = page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["sku"].as_str().unwrap_or("").to_owned())
        .collect();
    let mut cursor = page["pageInfo"]["endCursor"].clone();
    while !cursor.is_null() {
        let body = call(&app, s, "query ($a: String) { products(filter: {search: \"WIDGET\"}, first: 2, after: $a) { edges { node { sku } } pageInfo { hasNextPage endCursor } } }", json!({ "a": cursor })).await;
        let page = &body["data"]["products"];
        seen.extend(
            page["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"]["sku"].as_str().unwrap_or("").to_owned()),
        );
        cursor = if page["pageInfo"]["hasNextPage"] == true {
            page["pageInfo"]["endCursor"].clone()
        } else {
            Value::Null
        };
    }
    assert_eq!(
        seen,
        ["WIDGET-0", "WIDGET-1", "WIDGET-2", "WIDGET-3", "WIDGET-4"]
    );
    let duplicate = call(&app, s, "mutation { createProduct(input: { sku: \"WIDGET-1\", name: \"again\" }) { product { id } } }", json!({})).await;
    assert_eq!(error_code(&duplicate), Some("CONFLICT"), "{duplicate}");
    let body = call(
        &app,
        s,
        "{ products(first: 101) { edges { cursor } } }",
        json!({}),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

async fn another_organisations_ids_are_not_found(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = app.member_of_new_organisation("Alpha").await;
    let beta = app.member_of_new_organisation("Beta").await;
    let theirs = warehouse(&app, &beta.session).await;
    let their_warehouse = theirs.warehouse.as_str();
    let mine = warehouse(&app, &alpha.session).await;
    let adjusted = call(&app, &beta.session, ADJUST, json!({ "i": { "productId": theirs.product, "locationId": theirs.a, "change": 3, "reason": "found" } })).await;
    let their_movement = adjusted["data"]["adjustStock"]["movements"][0]["id"].clone();
    let their_lotted = product(&app, &beta.session, "LOT-1", "lot").await;
    call(&app, &beta.session, ADJUST, json!({ "i": { "productId": their_lotted, "locationId": theirs.a, "change": 1, "reason": "found", "lot": { "code": "L1" } } })).await;
    let lots = call(
        &app,
        &beta.session,
        "query ($p: ID!) { stockOnHand(filter: {productId: $p}) { nodes { lotId } } }",
        json!({ "p": their_lotted }),
    )
    .await;
    let their_lot = lots["data"]["stockOnHand"]["nodes"][0]["lotId"].clone();
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
            "mutation ($id: ID!) { updateLocation(input: { id: $id, code: \"X\", kind: \"storage\", pickable: true }) { location { id } } }",
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
        let foreign = call(&app, &alpha.session, document, foreign).await;
        let absent = call(&app, &alpha.session, document, absent).await;
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
        &alpha.session,
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

async fn stock_verify_finds_a_tampered_balance(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let w = warehouse(&app, &owner.session).await;
    call(&app, &owner.session, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 8, "reason": "found" } })).await;
    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_vaskem"))
            .args(["stock", "verify", "--org", &owner.tenant.to_string()])
            .env("DATABASE_URL", &app.database.url)
            .output()
            .expect("stock verify")
    };
    let output = verify();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    app.database.exempt(
        Invariant::StockLedger,
        "corrupts a balance for the CLI to find",
    );
    app.database
        .raw()
        .await
        .execute_unprepared("UPDATE stock_balances SET on_hand = 99")
        .await
        .map(|_| ())
        .expect("tamper");
    let output = verify();
    assert_eq!(
        output.status.code(),
        Some(i32::from(vaskem::cli::BROKEN_CHAIN_EXIT))
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("stored 99, movements say 8"), "{report}");
}

/// Fifty parallel requests each take one unit of the ten on hand: exactly ten succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_fifty_parallel_takes_of_ten_units() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 10, "reason": "found" } })).await;
    let takes = (0..50).map(|n| {
        let (app, s, w) = (&app, s, &w);
        async move {
            call(app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": -1, "reason": "picked", "note": format!("take {n}") } })).await
        }
    });
    let replies = futures::future::join_all(takes).await;
    let succeeded = replies.iter().filter(|r| r["errors"].is_null()).count();
    let refused: Vec<&Value> = replies.iter().filter(|r| !r["errors"].is_null()).collect();
    assert_eq!(succeeded, 10, "takes that succeeded");
    assert_eq!(refused.len(), 40);
    for reply in refused {
        assert_eq!(error_code(reply), Some("CONFLICT"), "{reply}");
        assert!(
            reply["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("0 available, 1 requested"),
            "{reply}"
        );
    }
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 0);
    let tx = TenantDb::for_operator(&app.database.db, owner.tenant)
        .read()
        .await
        .expect("read");
    let movements = tx
        .all(<entity::stock_movement::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("movements");
    assert_eq!(
        movements.iter().filter(|m| m.reason == "picked").count(),
        10
    );
    let events = tx
        .all(<entity::audit_event::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("events");
    assert_eq!(
        events.iter().filter(|e| e.action == "stock.adjust").count(),
        11,
        "the +10 and ten takes"
    );
    drop(tx);
    let handle = TenantDb::for_operator(&app.database.db, owner.tenant);
    assert!(
        vaskem::service::stock::verify(&handle)
            .await
            .expect("verify")
            .is_empty()
    );
    checks.finish().await;
}

async fn a_page_of_products_costs_the_same_queries_whatever_its_size(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    for n in 0..50 {
        let id = product(&app, s, &format!("P-{n:03}"), "none").await;
        call(&app, s, ADJUST, json!({ "i": { "productId": id, "locationId": w.a, "change": n + 1, "reason": "found" } })).await;
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
        let id = product(&app, s, &format!("L-{n:03}"), "lot").await;
        let location = if n % 2 == 0 { &w.a } else { &w.b };
        call(&app, s, ADJUST, json!({ "i": { "productId": id, "locationId": location, "change": n + 1, "reason": "found", "lot": { "code": format!("LOT{n}") } } })).await;
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
            assert!(body["errors"].is_null(), "{body}");
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
    assert_eq!(reversal["fromPlace"], "location");
    assert_eq!(reversal["toPlace"], "adjustment");
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
    let rename = "mutation ($id: ID!, $c: String!) { updateLocation(input: { id: $id, code: $c, kind: \"picking\", pickable: true }) { location { code kind } } }";
    let body = call(&app, s, rename, json!({ "id": w.a, "c": "A-01-09" })).await;
    assert_eq!(
        body["data"]["updateLocation"]["location"]["code"], "A-01-09",
        "{body}"
    );
    let body = call(&app, s, rename, json!({ "id": w.a, "c": "B-02-01" })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // A location holding stock cannot be archived; once empty it can, and then takes no stock.
    call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 2, "reason": "found" } })).await;
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
    call(&app, s, "mutation ($i: TransferStockInput!) { transferStock(input: $i) { balances { onHand } } }", json!({ "i": { "productId": w.product, "fromLocationId": w.a, "toLocationId": w.b, "quantity": 2 } })).await;
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
    call(&app, s, "mutation { createProduct(input: { sku: \"LOW-1\", name: \"Low\", reorderPoint: 5 }) { product { id } } }", json!({})).await;
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

async fn products_are_updated_in_full(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let update = "mutation ($i: UpdateProductInput!) { updateProduct(input: $i) { product { sku name tracking weightGrams heightMm barcodes units { name baseQuantity } } userErrors { field message } } }";
    let body = call(&app, s, update, json!({ "i": { "id": w.product,
        "sku": "SKU-1B", "name": "Renamed", "weightGrams": 250, "heightMm": 40,
        "barcodes": ["111", "222"], "units": [{ "name": "case", "baseQuantity": 12 }, { "name": "pallet", "baseQuantity": 480 }] } })).await;
    let product = &body["data"]["updateProduct"]["product"];
    assert_eq!(product["sku"], "SKU-1B", "{body}");
    assert_eq!(product["weightGrams"], 250);
    assert_eq!(product["barcodes"], json!(["111", "222"]));
    assert_eq!(
        product["units"],
        json!([{ "name": "case", "baseQuantity": 12 }, { "name": "pallet", "baseQuantity": 480 }])
    );
    let old = call(
        &app,
        s,
        "{ productByBarcode(barcode: \"600SKU-1\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        error_code(&old),
        Some("NOT_FOUND"),
        "the old barcode is gone: {old}"
    );
    let body = call(&app, s, update, json!({ "i": { "id": w.product, "sku": "SKU-1B", "name": "x", "units": [{ "name": "case", "baseQuantity": 1 }] } })).await;
    assert_eq!(
        body["data"]["updateProduct"]["userErrors"][0]["field"], "units",
        "{body}"
    );
    // Stock history freezes the tracking mode.
    call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "found" } })).await;
    let body = call(
        &app,
        s,
        update,
        json!({ "i": { "id": w.product, "sku": "SKU-1B", "name": "x", "tracking": "lot" } }),
    )
    .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}

async fn a_cycle_count_posts_all_lines_together(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let second = product(&app, s, "SKU-2", "none").await;
    call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 10, "reason": "found" } })).await;
    let post = "mutation ($i: PostStockCountInput!) { postStockCount(input: $i) { movements { quantity fromPlace toPlace } userErrors { field message } } }";
    let body = call(
        &app,
        s,
        post,
        json!({ "i": { "note": "aisle A", "lines": [
        { "productId": w.product, "locationId": w.a, "counted": 7 },
        { "productId": second, "locationId": w.a, "counted": 4 },
        { "productId": second, "locationId": w.b, "counted": 0 },
    ] } }),
    )
    .await;
    let movements = body["data"]["postStockCount"]["movements"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    assert_eq!(
        movements.len(),
        2,
        "no movement for a line without variance: {body}"
    );
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 7);
    assert_eq!(on_hand(&app, s, &second, &w.a).await, 4);
    // A line counted twice refuses the whole count.
    let body = call(
        &app,
        s,
        post,
        json!({ "i": { "lines": [
        { "productId": second, "locationId": w.a, "counted": 1 },
        { "productId": second, "locationId": w.a, "counted": 2 },
    ] } }),
    )
    .await;
    assert_eq!(
        body["data"]["postStockCount"]["userErrors"][0]["field"], "lines",
        "{body}"
    );
    assert_eq!(on_hand(&app, s, &second, &w.a).await, 4);
    let tx = TenantDb::for_operator(&app.database.db, owner.tenant)
        .read()
        .await
        .expect("read");
    let events = tx
        .all(<entity::audit_event::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("events");
    let count = events
        .iter()
        .find(|e| e.action == "stock.count")
        .expect("count event");
    let detail: Value = serde_json::from_str(&count.detail).expect("json");
    assert_eq!(
        detail["after"]["lines"].as_array().map(Vec::len),
        Some(3),
        "{detail}"
    );
}

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
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let latest =
        "{ auditEvents(first: 1) { totalCount nodes { action entityType entityId detail } } }";
    let mut count = call(&app, s, latest, json!({})).await["data"]["auditEvents"]["totalCount"]
        .as_i64()
        .expect("count");
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 5, "reason": "found" } })).await;
    let movement = body["data"]["adjustStock"]["movements"][0]["id"].clone();
    call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 10, "reason": "found" } })).await;
    let empty = call(&app, s, "mutation { createWarehouse(input: { code: \"EMPTY\", name: \"Empty\" }) { warehouse { id } } }", json!({})).await;
    let empty = empty["data"]["createWarehouse"]["warehouse"]["id"].clone();
    count += 3;
    let gone = product(&app, s, "GONE-1", "none").await;
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
            json!({ "i": { "id": w.b, "code": "B-02-02", "kind": "picking", "pickable": true } }),
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
        let body = call(&app, s, document, variables).await;
        assert!(body["errors"].is_null(), "{document}: {body}");
        let root = body["data"]
            .as_object()
            .and_then(|o| o.values().next().cloned());
        assert_eq!(
            root.expect("payload")["userErrors"],
            json!([]),
            "{document}"
        );
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
