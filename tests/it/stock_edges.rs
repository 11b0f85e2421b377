//! The ledger's edges: numbers too big to store or sum, idempotency keys reused for something
//! else, archived things that must take no stock, lots whose expiry is fixed, and data loaders
//! that must not show a mutation what an earlier one in the same document read.

use serde_json::{Value, json};
use vaskem::auth::permission::Permission;

use crate::on_both_databases;
use crate::stock::{ADJUST, call, product, warehouse};
use crate::support::app::error_code;
use crate::support::database::TEST_PASSWORD;
use crate::support::{Backend, TestApp, assert_ok};

on_both_databases!(
    quantities_are_bounded_so_nothing_overflows,
    an_idempotency_key_answers_only_the_same_request,
    archived_things_take_no_stock,
    a_lots_expiry_is_fixed_when_first_seen,
    each_mutation_in_a_document_sees_the_ones_before,
    relations_the_caller_may_not_see_are_null,
    lots_come_into_being_only_with_stock,
);

fn user_error(body: &Value, mutation: &str) -> (Value, Value) {
    let error = &body["data"][mutation]["userErrors"][0];
    (error["field"].clone(), error["code"].clone())
}

async fn quantities_are_bounded_so_nothing_overflows(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let adjust = "mutation ($i: AdjustStockInput!) { adjustStock(input: $i) { movements { id } userErrors { field message code } } }";
    for change in [i64::MIN, i64::MAX, -1_000_000_001, 1_000_000_001] {
        let body = call(&app, s, adjust, json!({ "i": { "productId": w.product, "locationId": w.a, "change": change, "reason": "found" } })).await;
        assert!(body["errors"].is_null(), "{change}: {body}");
        assert_eq!(
            user_error(&body, "adjustStock"),
            (json!("change"), json!("BAD_USER_INPUT")),
            "{body}"
        );
    }
    // The most one place may hold, then one more.
    let body = call(&app, s, adjust, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1_000_000_000, "reason": "found" } })).await;
    assert!(
        body["data"]["adjustStock"]["movements"][0]["id"].is_string(),
        "{body}"
    );
    let body = call(&app, s, adjust, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "found" } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    // Elsewhere it may hold as much again, and the product's total still adds up.
    let body = call(&app, s, adjust, json!({ "i": { "productId": w.product, "locationId": w.b, "change": 1_000_000_000, "reason": "found" } })).await;
    assert_ok(&body);
    let body = call(
        &app,
        s,
        "query ($id: ID!) { product(id: $id) { stock { onHand } } }",
        json!({ "id": w.product }),
    )
    .await;
    assert_eq!(
        body["data"]["product"]["stock"]["onHand"], 2_000_000_000_i64,
        "{body}"
    );
    let transfer = "mutation ($i: TransferStockInput!) { transferStock(input: $i) { userErrors { field code } } }";
    let body = call(&app, s, transfer, json!({ "i": { "productId": w.product, "fromLocationId": w.a, "toLocationId": w.b, "quantity": i64::MAX } })).await;
    assert_eq!(
        user_error(&body, "transferStock"),
        (json!("quantity"), json!("BAD_USER_INPUT")),
        "{body}"
    );
    let count = "mutation ($i: PostStockCountInput!) { postStockCount(input: $i) { userErrors { field message code } } }";
    let body = call(&app, s, count, json!({ "i": { "lines": [{ "productId": w.product, "locationId": w.a, "counted": i64::MAX }] } })).await;
    assert_eq!(
        user_error(&body, "postStockCount"),
        (json!("lines"), json!("BAD_USER_INPUT")),
        "{body}"
    );
    let create = "mutation ($i: CreateProductInput!) { createProduct(input: $i) { product { id } userErrors { field code } } }";
    for (field, value) in [
        ("reorderPoint", json!(99_999_999_999_i64)),
        ("weightGrams", json!(i64::MAX)),
        ("reorderQuantity", json!(-1)),
    ] {
        let mut input = json!({ "sku": "BIG-1", "name": "Big" });
        input[field] = value;
        let body = call(&app, s, create, json!({ "i": input })).await;
        assert_eq!(
            user_error(&body, "createProduct"),
            (json!(field), json!("BAD_USER_INPUT")),
            "{body}"
        );
    }
    // Dates no database can hold are the caller's mistake too, on both engines.
    let body = call(
        &app,
        s,
        "{ stockMovements(filter: {from: \"-100000-01-01T00:00:00Z\"}) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let body = call(
        &app,
        s,
        "{ stockOnHand(filter: {expiresBy: \"+100000-01-01\"}) { nodes { onHand } } }",
        json!({}),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let body = call(
        &app,
        s,
        "{ auditEvents(filter: {to: \"-100000-01-01T00:00:00Z\"}) { nodes { sequence } } }",
        json!({}),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let lotted = &w.lotted;
    let body = call(&app, s, adjust, json!({ "i": { "productId": lotted, "locationId": w.a, "change": 1, "reason": "found", "lot": { "code": "OLD", "expiresOn": "-100000-01-01" } } })).await;
    assert_eq!(
        user_error(&body, "adjustStock"),
        (json!("lot"), json!("BAD_USER_INPUT")),
        "{body}"
    );
}

async fn an_idempotency_key_answers_only_the_same_request(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let first = json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "found", "idempotencyKey": "k1" } });
    let body = call(&app, s, ADJUST, first.clone()).await;
    let movement = body["data"]["adjustStock"]["movements"][0]["id"].clone();
    assert!(movement.is_string(), "{body}");
    // The same request again: the first answer, nothing moved.
    let again = call(&app, s, ADJUST, first).await;
    assert_eq!(again["data"]["adjustStock"]["movements"][0]["id"], movement);
    // The same key for a different request is refused, not answered with the first result.
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 50, "reason": "found", "idempotencyKey": "k1" } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    // So is the same request from another user of the organisation.
    let tenant = w.tenant;
    let email = app
        .database
        .user_with_permissions(tenant, &[Permission::StockAdjust, Permission::StockView])
        .await;
    let colleague = app.login(&email, TEST_PASSWORD).await;
    let body = call(&app, &colleague, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "found", "idempotencyKey": "k1" } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let on_hand = call(
        &app,
        s,
        "query ($id: ID!) { product(id: $id) { stock { onHand } } }",
        json!({ "id": w.product }),
    )
    .await;
    assert_eq!(
        on_hand["data"]["product"]["stock"]["onHand"], 1,
        "{on_hand}"
    );
}

async fn archived_things_take_no_stock(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;

    // A reversal may not put stock back into a location archived since.
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.b, "change": 1, "reason": "found" } })).await;
    assert_ok(&body);
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.b, "change": -1, "reason": "damaged" } })).await;
    let taken = body["data"]["adjustStock"]["movements"][0]["id"].clone();
    let body = call(
        &app,
        s,
        "mutation ($id: ID!) { archiveLocation(input: {id: $id}) { location { active } } }",
        json!({ "id": w.b }),
    )
    .await;
    assert_eq!(
        body["data"]["archiveLocation"]["location"]["active"], false,
        "{body}"
    );
    // Archiving it again changes nothing and records nothing.
    let count = "{ auditEvents { totalCount } }";
    let before = call(&app, s, count, json!({})).await["data"]["auditEvents"]["totalCount"].clone();
    let body = call(
        &app,
        s,
        "mutation ($id: ID!) { archiveLocation(input: {id: $id}) { location { active } } }",
        json!({ "id": w.b }),
    )
    .await;
    assert_eq!(
        body["data"]["archiveLocation"]["location"]["active"], false,
        "{body}"
    );
    let after = call(&app, s, count, json!({})).await["data"]["auditEvents"]["totalCount"].clone();
    assert_eq!(before, after);
    assert!(before.as_i64().is_some_and(|n| n > 0), "{before}");
    let body = call(&app, s, "mutation ($id: ID!) { reverseStockMovement(input: {movementId: $id}) { movements { id } } }", json!({ "id": taken })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // An archived product can be drawn down but takes no new stock.
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 3, "reason": "found" } })).await;
    assert_ok(&body);
    app.ok(
        s,
        "mutation ($id: ID!) { archiveProduct(input: {id: $id}) { product { active } userErrors { field message } } }",
        json!({ "id": w.product }),
    )
    .await;
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "found" } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let count =
        "mutation ($i: CountStockInput!) { countStock(input: $i) { movements { quantity } } }";
    let body = call(
        &app,
        s,
        count,
        json!({ "i": { "productId": w.product, "locationId": w.a, "counted": 5 } }),
    )
    .await;
    assert_eq!(
        error_code(&body),
        Some("CONFLICT"),
        "a count may not add to it either: {body}"
    );
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": -3, "reason": "damaged" } })).await;
    assert_ok(&body);
    // Nor may a reversal of that drawing-down put it back.
    let drawn = body["data"]["adjustStock"]["movements"][0]["id"].clone();
    let body = call(&app, s, "mutation ($id: ID!) { reverseStockMovement(input: {movementId: $id}) { movements { id } } }", json!({ "id": drawn })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // Archiving a warehouse archives its locations; nothing new goes into it.
    let body = call(
        &app,
        s,
        "mutation ($id: ID!) { archiveWarehouse(input: {id: $id}) { warehouse { active } } }",
        json!({ "id": w.warehouse }),
    )
    .await;
    assert_eq!(
        body["data"]["archiveWarehouse"]["warehouse"]["active"], false,
        "{body}"
    );
    let body = call(&app, s, "query ($w: ID!) { locations(filter: {warehouseId: $w, includeArchived: true}) { nodes { code active } } }", json!({ "w": w.warehouse })).await;
    let nodes = body["data"]["locations"]["nodes"]
        .as_array()
        .expect("locations")
        .clone();
    assert_eq!(nodes.len(), 2, "{body}");
    assert!(nodes.iter().all(|l| l["active"] == false), "{body}");
    let body = call(&app, s, "mutation ($w: ID!) { createLocation(input: {warehouseId: $w, code: \"NEW-1\"}) { location { id } } }", json!({ "w": w.warehouse })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let other = product(&app, s, "SKU-2", "NONE").await;
    let body = call(
        &app,
        s,
        ADJUST,
        json!({ "i": { "productId": other, "locationId": w.a, "change": 1, "reason": "found" } }),
    )
    .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // Restoring: a location waits for its warehouse; each comes back on its own; the product
    // takes stock again. Every step is audited.
    let restore_location =
        "mutation ($id: ID!) { restoreLocation(input: {id: $id}) { location { active } } }";
    let body = call(&app, s, restore_location, json!({ "id": w.a })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let body = call(
        &app,
        s,
        "mutation ($id: ID!) { restoreWarehouse(input: {id: $id}) { warehouse { active } } }",
        json!({ "id": w.warehouse }),
    )
    .await;
    assert_eq!(
        body["data"]["restoreWarehouse"]["warehouse"]["active"], true,
        "{body}"
    );
    let body = call(
        &app,
        s,
        "query ($id: ID!) { location(id: $id) { active warehouse { active } } }",
        json!({ "id": w.a }),
    )
    .await;
    assert_eq!(
        body["data"]["location"],
        json!({ "active": false, "warehouse": { "active": true } }),
        "{body}"
    );
    let body = call(&app, s, restore_location, json!({ "id": w.a })).await;
    assert_eq!(
        body["data"]["restoreLocation"]["location"]["active"], true,
        "{body}"
    );
    let body = call(
        &app,
        s,
        "mutation ($id: ID!) { restoreProduct(input: {id: $id}) { product { active } } }",
        json!({ "id": w.product }),
    )
    .await;
    assert_eq!(
        body["data"]["restoreProduct"]["product"]["active"], true,
        "{body}"
    );
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "found" } })).await;
    assert_ok(&body);
    let log = call(
        &app,
        s,
        "{ auditEvents(first: 5) { nodes { action } } }",
        json!({}),
    )
    .await;
    let actions: Vec<&str> = log["data"]["auditEvents"]["nodes"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "stock.adjust",
            "product.restore",
            "location.restore",
            "warehouse.restore",
            "product.create",
        ],
        "{log}"
    );
}

/// A transfer moves a lot that exists; a product without lots cannot require expiry dates.
async fn lots_come_into_being_only_with_stock(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let create = "mutation ($i: CreateProductInput!) { createProduct(input: $i) { product { id createdAt } userErrors { field code } } }";
    let body = call(&app, s, create, json!({ "i": { "sku": "FRESH-1", "name": "Fresh", "tracking": "LOT", "expiryRequired": true } })).await;
    let fresh = body["data"]["createProduct"]["product"]["id"].clone();
    assert!(
        body["data"]["createProduct"]["product"]["createdAt"].is_string(),
        "{body}"
    );
    let body = call(
        &app,
        s,
        create,
        json!({ "i": { "sku": "PLAIN-1", "name": "Plain", "expiryRequired": true } }),
    )
    .await;
    assert_eq!(
        body["data"]["createProduct"]["userErrors"][0]["field"], "expiryRequired",
        "{body}"
    );
    let transfer =
        "mutation ($i: TransferStockInput!) { transferStock(input: $i) { movements { id } } }";
    let body = call(&app, s, transfer, json!({ "i": { "productId": fresh, "fromLocationId": w.a, "toLocationId": w.b, "quantity": 1, "lot": { "code": "NEVER-SEEN" } } })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert_eq!(body["errors"][0]["message"], "lot not found", "{body}");
    // In a cycle count of many lines, a lot problem names its line.
    let post = "mutation ($i: PostStockCountInput!) { postStockCount(input: $i) { movements { id } userErrors { field message } } }";
    let body = call(
        &app,
        s,
        post,
        json!({ "i": { "lines": [
        { "productId": w.product, "locationId": w.a, "counted": 1 },
        { "productId": fresh, "locationId": w.a, "counted": 1 },
    ] } }),
    )
    .await;
    let error = &body["data"]["postStockCount"]["userErrors"][0];
    assert_eq!(error["field"], "lot", "{body}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("line 2: ")),
        "{body}"
    );
    // A serial number counts 0 or 1.
    let serial = &w.serial;
    let count = "mutation ($i: CountStockInput!) { countStock(input: $i) { movements { id } userErrors { field code } } }";
    let body = call(&app, s, count, json!({ "i": { "productId": serial, "locationId": w.a, "counted": 2, "lot": { "code": "SN-1" } } })).await;
    assert_eq!(
        body["data"]["countStock"]["userErrors"][0]["field"], "counted",
        "{body}"
    );
    let body = call(&app, s, count, json!({ "i": { "productId": serial, "locationId": w.a, "counted": -1, "lot": { "code": "SN-1" } } })).await;
    assert_eq!(
        body["data"]["countStock"]["userErrors"][0]["field"], "counted",
        "{body}"
    );
}

async fn a_lots_expiry_is_fixed_when_first_seen(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let lotted = &w.lotted;
    let adjust = "mutation ($i: AdjustStockInput!) { adjustStock(input: $i) { movements { id } userErrors { field message code } } }";
    let lot = |expires: Value| json!({ "i": { "productId": lotted, "locationId": w.a, "change": 1, "reason": "found", "lot": { "code": "L1", "expiresOn": expires } } });
    let body = call(&app, s, adjust, lot(json!("2027-01-31"))).await;
    assert!(
        body["data"]["adjustStock"]["movements"][0]["id"].is_string(),
        "{body}"
    );
    // The same date, or none: the same lot.
    for expires in [json!("2027-01-31"), Value::Null] {
        let body = call(&app, s, adjust, lot(expires)).await;
        assert!(
            body["data"]["adjustStock"]["movements"][0]["id"].is_string(),
            "{body}"
        );
    }
    let body = call(&app, s, adjust, lot(json!("2029-01-31"))).await;
    assert_eq!(
        user_error(&body, "adjustStock"),
        (json!("lot"), json!("BAD_USER_INPUT")),
        "{body}"
    );
    let message = body["data"]["adjustStock"]["userErrors"][0]["message"]
        .as_str()
        .unwrap_or("");
    assert!(message.contains("2027-01-31"), "{message}");
}

async fn each_mutation_in_a_document_sees_the_ones_before(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let document = "mutation ($i: AdjustStockInput!, $j: AdjustStockInput!) {
        a: adjustStock(input: $i) { balances { product { stock { onHand } } } }
        b: adjustStock(input: $j) { balances { product { stock { onHand } } } }
    }";
    let body = call(
        &app,
        s,
        document,
        json!({
            "i": { "productId": w.product, "locationId": w.a, "change": 2, "reason": "found" },
            "j": { "productId": w.product, "locationId": w.a, "change": 3, "reason": "found" },
        }),
    )
    .await;
    assert_ok(&body);
    assert_eq!(
        body["data"]["a"]["balances"][0]["product"]["stock"]["onHand"], 2,
        "{body}"
    );
    assert_eq!(
        body["data"]["b"]["balances"][0]["product"]["stock"]["onHand"], 5,
        "{body}"
    );
}

/// A guarded relation the caller may not see is null with a FORBIDDEN error naming the
/// permission, never a key missing from a non-null field.
async fn relations_the_caller_may_not_see_are_null(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    app.ok(&w.session, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 4, "reason": "found" } })).await;
    let email = app
        .database
        .user_with_permissions(w.tenant, &[Permission::StockView])
        .await;
    let viewer = app.login(&email, TEST_PASSWORD).await;
    let body = call(&app, &viewer, "{ stockOnHand { nodes { onHand product { sku } location { code } } } stockMovements { nodes { quantity product { sku } toLocation { code } } } }", json!({})).await;
    let balance = &body["data"]["stockOnHand"]["nodes"][0];
    assert_eq!(balance["onHand"], 4, "{body}");
    for (node, field) in [
        (balance, "product"),
        (balance, "location"),
        (&body["data"]["stockMovements"]["nodes"][0], "product"),
        (&body["data"]["stockMovements"]["nodes"][0], "toLocation"),
    ] {
        assert!(
            node.get(field).is_some_and(Value::is_null),
            "{field} present and null: {body}"
        );
    }
    // Moving stock is not seeing it: a STOCK_ADJUST holder without STOCK_VIEW gets no balances.
    let email = app
        .database
        .user_with_permissions(w.tenant, &[Permission::StockAdjust])
        .await;
    let mover = app.login(&email, TEST_PASSWORD).await;
    let moved = call(&app, &mover, "mutation ($i: AdjustStockInput!) { adjustStock(input: $i) { movements { quantity } balances { onHand } } }", json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "found" } })).await;
    assert_eq!(
        moved["data"]["adjustStock"]["movements"][0]["quantity"], 1,
        "{moved}"
    );
    assert!(
        moved["data"]["adjustStock"]
            .get("balances")
            .is_some_and(Value::is_null),
        "{moved}"
    );
    assert_eq!(
        moved["errors"][0]["extensions"]["permission"], "STOCK_VIEW",
        "{moved}"
    );
    let permissions: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["extensions"]["permission"].as_str())
        .collect();
    assert!(
        permissions.contains(&"PRODUCTS_VIEW") && permissions.contains(&"LOCATIONS_VIEW"),
        "{body}"
    );
}

/// Archiving a location while stock is put into it, again and again at the same moment: one of
/// the two wins each time, never both (an archived location holding stock).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_archive_and_receipt_race() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let create = "mutation ($w: ID!, $c: String!) { createLocation(input: {warehouseId: $w, code: $c}) { location { id } } }";
    let archive =
        "mutation ($id: ID!) { archiveLocation(input: {id: $id}) { location { active } } }";
    let mut archived_first = 0;
    for round in 0..20 {
        let body = call(
            &app,
            s,
            create,
            json!({ "w": w.warehouse, "c": format!("R-{round:02}") }),
        )
        .await;
        let location = body["data"]["createLocation"]["location"]["id"].clone();
        let receipt = json!({ "i": { "productId": w.product, "locationId": location, "change": 1, "reason": "found" } });
        let (archived, received) = tokio::join!(
            call(&app, s, archive, json!({ "id": location })),
            call(&app, s, ADJUST, receipt),
        );
        let archived_ok = crate::support::reply::succeeded(&archived);
        let received_ok = crate::support::reply::succeeded(&received);
        assert!(
            archived_ok != received_ok,
            "round {round}: exactly one wins: {archived} {received}"
        );
        let loser = if archived_ok { &received } else { &archived };
        assert_eq!(error_code(loser), Some("CONFLICT"), "{loser}");
        archived_first += usize::from(archived_ok);
    }
    println!("archive won {archived_first} of 20 rounds");
    let body = call(
        &app,
        s,
        "{ stockOnHand(filter: {includeEmpty: false}) { nodes { onHand location { active } } } }",
        json!({}),
    )
    .await;
    let balances = body["data"]["stockOnHand"]["nodes"]
        .as_array()
        .expect("balances")
        .clone();
    // SKU-1 took one unit in every round the receipt won.
    assert_eq!(balances.len(), 20 - archived_first, "{body}");
    for balance in &balances {
        assert_eq!(
            balance["location"]["active"], true,
            "stock in an archived place: {body}"
        );
    }
    checks.finish().await;
}
