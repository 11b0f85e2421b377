//! Every filter and sort of every list does its job.

use serde_json::{Value, json};

use super::{call, strings, walk};
use crate::on_both_databases;
use crate::stock::{ADJUST, product, warehouse};
use crate::support::app::error_code;
use crate::support::{Backend, TestApp, assert_ok};

on_both_databases!(every_filter_and_sort_does_its_job,);

/// Every filter narrows and every sort orders, each shown with rows it must leave out; and the
/// paging rules: the default page size, `totalCount` counted only when asked, and rows added
/// between pages.
async fn every_filter_and_sort_does_its_job(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let walk_ids = async |field: &str, args: &str, key: &str, vars: Value| {
        walk(&app, s, field, args, key, vars).await
    };

    // Products: tracking, archived, a whole barcode.
    let lotted = product(&app, s, "LOT-A", "LOT").await;
    let old = product(&app, s, "OLD-1", "NONE").await;
    app.ok(
        s,
        "mutation ($id: ID!) { archiveProduct(input: {id: $id}) { product { id } userErrors { field message } } }",
        json!({ "id": old }),
    )
    .await;
    app.ok(s, "mutation ($i: UpdateProductInput!) { updateProduct(input: $i) { product { id } userErrors { field message } } }", json!({ "i": { "id": w.product, "sku": "SKU-1", "name": "Product SKU-1", "barcodes": ["4006381333931"] } })).await;
    assert_eq!(
        walk_ids("products", "filter: {tracking: LOT}", "sku", Value::Null).await,
        strings(&["LOT-A"])
    );
    assert_eq!(
        walk_ids("products", "", "sku", Value::Null).await,
        strings(&["LOT-A", "SKU-1"])
    );
    assert_eq!(
        walk_ids(
            "products",
            "filter: {includeArchived: true}",
            "sku",
            Value::Null
        )
        .await,
        strings(&["LOT-A", "OLD-1", "SKU-1"])
    );
    assert_eq!(
        walk_ids(
            "products",
            "filter: {search: \"4006381333931\"}",
            "sku",
            Value::Null
        )
        .await,
        strings(&["SKU-1"])
    );

    // Locations: pickable.
    app.ok(s, "mutation ($w: ID!) { createLocation(input: {warehouseId: $w, code: \"R-01\", kind: RECEIVING, pickable: false}) { location { id } userErrors { field message } } }", json!({ "w": w.warehouse })).await;
    assert_eq!(
        walk_ids(
            "locations",
            "filter: {pickable: false}",
            "code",
            Value::Null
        )
        .await,
        strings(&["R-01"])
    );

    // Users: search, active, display name order.
    let viewer = walk_ids("roles", "filter: {search: \"viewer\"}", "id", Value::Null).await;
    for (email, name) in [("zed@alpha.example", "Zed"), ("amy@alpha.example", "Amy")] {
        app.ok(s, "mutation ($e: String!, $n: String!, $r: ID!) { inviteUser(input: {email: $e, displayName: $n, roleId: $r}) { user { id } userErrors { field message } } }", json!({ "e": email, "n": name, "r": viewer[0] })).await;
    }
    assert_eq!(
        walk_ids(
            "users",
            "filter: {search: \"ZED\"}",
            "displayName",
            Value::Null
        )
        .await,
        strings(&["Zed"])
    );
    let names = walk_ids(
        "users",
        "filter: {roleId: $r}, sort: {field: DISPLAY_NAME, direction: DESC}",
        "displayName",
        json!({ "r": viewer[0] }),
    )
    .await;
    assert_eq!(names, strings(&["Zed", "Amy"]));
    let zed = walk_ids("users", "filter: {search: \"zed\"}", "id", Value::Null).await;
    app.ok(
        s,
        "mutation ($id: ID!) { deactivateUser(input: {id: $id}) { user { id } userErrors { field message } } }",
        json!({ "id": zed[0] }),
    )
    .await;
    assert_eq!(
        walk_ids(
            "users",
            "filter: {active: false}",
            "displayName",
            Value::Null
        )
        .await,
        strings(&["Zed"])
    );

    // Sessions: client address.
    assert_eq!(
        walk_ids(
            "mySessions",
            "filter: {clientAddress: \"203.0.113.9\"}",
            "id",
            Value::Null
        )
        .await
        .len(),
        0
    );
    assert_eq!(
        walk_ids(
            "mySessions",
            "filter: {clientAddress: \"127.0.0.1\"}",
            "id",
            Value::Null
        )
        .await
        .len(),
        1
    );

    // Stock: lots, expiry, emptied balances, product and location order.
    let adjust = async |product: &str, location: &str, change: i64, lot: Value| {
        let body = call(&app, s, ADJUST, json!({ "i": { "productId": product, "locationId": location, "change": change, "reason": "found", "lot": lot } })).await;
        assert_ok(&body);
    };
    adjust(
        &lotted,
        &w.b,
        3,
        json!({ "code": "L1", "expiresOn": "2027-01-31" }),
    )
    .await;
    adjust(
        &lotted,
        &w.a,
        4,
        json!({ "code": "L2", "expiresOn": "2030-01-01" }),
    )
    .await;
    adjust(&w.product, &w.b, 5, Value::Null).await;
    adjust(&w.product, &w.a, 6, Value::Null).await;
    assert_eq!(
        walk_ids(
            "stockOnHand",
            "filter: {expiresBy: \"2028-01-01\"}",
            "onHand",
            Value::Null
        )
        .await,
        [json!(3)]
    );
    let l2 = call(&app, s, "query ($p: ID!, $l: ID!) { stockOnHand(filter: {productId: $p, locationId: $l}) { nodes { lotId } } }", json!({ "p": lotted, "l": w.a })).await;
    let l2 = l2["data"]["stockOnHand"]["nodes"][0]["lotId"].clone();
    assert_eq!(
        walk_ids(
            "stockOnHand",
            "filter: {lotId: $l}",
            "onHand",
            json!({ "l": l2 })
        )
        .await,
        [json!(4)]
    );
    // Products were created SKU-1, LOT-A; locations A then B.
    assert_eq!(
        walk_ids(
            "stockOnHand",
            "sort: {field: PRODUCT}",
            "onHand",
            Value::Null
        )
        .await,
        [6, 5, 4, 3].map(|n| json!(n)).to_vec()
    );
    assert_eq!(
        walk_ids(
            "stockOnHand",
            "sort: {field: LOCATION}",
            "onHand",
            Value::Null
        )
        .await,
        [6, 4, 5, 3].map(|n| json!(n)).to_vec()
    );
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.b, "change": -5, "reason": "damaged" } })).await;
    assert_ok(&body);
    assert_eq!(
        walk_ids(
            "stockOnHand",
            "filter: {productId: $p}",
            "onHand",
            json!({ "p": w.product })
        )
        .await,
        [json!(6)]
    );
    assert_eq!(
        walk_ids(
            "stockOnHand",
            "filter: {productId: $p, includeEmpty: true}",
            "onHand",
            json!({ "p": w.product })
        )
        .await,
        [json!(6), json!(0)]
    );

    // Movements: lot, actor, time window, reason in any case.
    assert_eq!(
        walk_ids(
            "stockMovements",
            "filter: {lotId: $l}",
            "quantity",
            json!({ "l": l2 })
        )
        .await,
        [json!(4)]
    );
    let me = call(&app, s, "{ me { id } }", json!({})).await["data"]["me"]["id"].clone();
    assert_eq!(
        walk_ids(
            "stockMovements",
            "filter: {actorUserId: $u}",
            "quantity",
            json!({ "u": me })
        )
        .await
        .len(),
        5
    );
    assert_eq!(
        walk_ids(
            "stockMovements",
            "filter: {actorUserId: $u}",
            "quantity",
            json!({ "u": zed[0] })
        )
        .await
        .len(),
        0
    );
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let window = |bound: &str| format!("filter: {{{bound}: \"{later}\"}}");
    assert_eq!(
        walk_ids("stockMovements", &window("from"), "quantity", Value::Null)
            .await
            .len(),
        0
    );
    assert_eq!(
        walk_ids("stockMovements", &window("to"), "quantity", Value::Null)
            .await
            .len(),
        5
    );
    assert_eq!(
        walk_ids(
            "stockMovements",
            "filter: {reason: \"FOUND\"}",
            "quantity",
            Value::Null
        )
        .await
        .len(),
        4
    );

    // Audit: entity type.
    let types = walk_ids(
        "auditEvents",
        "filter: {entityType: \"location\"}",
        "entityType",
        Value::Null,
    )
    .await;
    assert_eq!(types, vec![json!("location"); 3], "A-01-01, B-02-01, R-01");

    // Default page size, the lower bound, totalCount only when asked.
    for n in 0..50 {
        product(&app, s, &format!("BULK-{n:02}"), "NONE").await;
    }
    let body = call(
        &app,
        s,
        "{ products { nodes { sku } pageInfo { hasNextPage } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["products"]["nodes"].as_array().map(Vec::len),
        Some(50),
        "{body}"
    );
    assert_eq!(body["data"]["products"]["pageInfo"]["hasNextPage"], true);
    let body = call(
        &app,
        s,
        "{ products(first: 0) { nodes { sku } } }",
        json!({}),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let mut cost = Vec::new();
    for document in [
        "{ products(first: 5) { nodes { sku } } }",
        "{ products(first: 5) { totalCount nodes { sku } } }",
    ] {
        call(&app, s, "{ me { id } }", json!({})).await;
        let before = app.database.serving.statements_run();
        call(&app, s, document, json!({})).await;
        cost.push(app.database.serving.statements_run() - before);
    }
    assert_eq!(
        cost[1],
        cost[0] + 1,
        "counting costs one query, and only when asked: {cost:?}"
    );

    // Rows added between pages: one before the cursor stays behind, one after it shows up, none
    // repeats.
    let page = "query ($a: String) { products(first: 20, after: $a) { nodes { sku } pageInfo { hasNextPage endCursor } } }";
    let mut seen: Vec<String> = Vec::new();
    let mut after = Value::Null;
    let mut added = false;
    loop {
        let body = call(&app, s, page, json!({ "a": after })).await;
        let connection = &body["data"]["products"];
        seen.extend(
            connection["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|n| n["sku"].as_str().unwrap_or("").to_owned()),
        );
        if !added {
            product(&app, s, "AAA-0", "NONE").await;
            product(&app, s, "ZZZ-9", "NONE").await;
            added = true;
        }
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no row twice");
    assert!(
        seen.iter().any(|sku| sku == "ZZZ-9"),
        "a row added after the cursor shows up"
    );
    assert!(
        !seen.iter().any(|sku| sku == "AAA-0"),
        "a row added before the cursor stays behind"
    );
}
