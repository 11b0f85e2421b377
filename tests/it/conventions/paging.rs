//! Keyset paging in every order, cursors checked rather than trusted, ties and wildcards.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{call, strings, walk};
use crate::on_both_databases;
use crate::stock::{ADJUST, product, warehouse};
use crate::support::app::error_code;
use crate::support::{Backend, TestApp, assert_ok, gid};

on_both_databases!(
    every_list_pages_by_keyset_in_every_order,
    cursors_are_checked_not_trusted,
    ties_page_by_id_and_searches_take_wildcards_literally,
);

async fn every_list_pages_by_keyset_in_every_order(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    // SKU order and name order differ, and creation order is neither.
    for (sku, name) in [
        ("P-3", "Apple"),
        ("P-1", "Dates"),
        ("P-5", "Banana"),
        ("P-2", "Elderberry"),
        ("P-4", "Cherry"),
    ] {
        let body = call(
            &app,
            s,
            "mutation ($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }",
            json!({ "i": { "sku": sku, "name": name, "reorderPoint": 3 } }),
        )
        .await;
        let id = body["data"]["createProduct"]["product"]["id"].clone();
        let change = sku[2..].parse::<i64>().expect("digit");
        app.ok(s, ADJUST, json!({ "i": { "productId": id, "locationId": w.a, "change": change, "reason": "found" } })).await;
    }

    // Products (SKU-1 from the warehouse fixture is there too).
    let skus = walk(&app, s, "products", "", "sku", Value::Null).await;
    assert_eq!(skus, strings(&["P-1", "P-2", "P-3", "P-4", "P-5", "SKU-1"]));
    let skus = walk(
        &app,
        s,
        "products",
        "sort: {field: SKU, direction: DESC}",
        "sku",
        Value::Null,
    )
    .await;
    assert_eq!(skus, strings(&["SKU-1", "P-5", "P-4", "P-3", "P-2", "P-1"]));
    let names = walk(
        &app,
        s,
        "products",
        "filter: {search: \"p-\"}, sort: {field: NAME}",
        "name",
        Value::Null,
    )
    .await;
    assert_eq!(
        names,
        strings(&["Apple", "Banana", "Cherry", "Dates", "Elderberry"])
    );
    let created = walk(
        &app,
        s,
        "products",
        "sort: {field: CREATED_AT, direction: DESC}",
        "sku",
        Value::Null,
    )
    .await;
    assert_eq!(
        created,
        strings(&["P-4", "P-2", "P-5", "P-1", "P-3", "SKU-1"])
    );
    // Below the reorder point of 3: P-1 (1 on hand) and P-2 (2).
    let low = walk(
        &app,
        s,
        "products",
        "filter: {belowReorderPoint: true}",
        "sku",
        Value::Null,
    )
    .await;
    assert_eq!(low, strings(&["P-1", "P-2"]));

    // Stock by quantity, largest first, and the ledger oldest first.
    let quantities = walk(
        &app,
        s,
        "stockOnHand",
        "sort: {field: ON_HAND, direction: DESC}",
        "onHand",
        Value::Null,
    )
    .await;
    assert_eq!(quantities, [5, 4, 3, 2, 1].map(|n| json!(n)).to_vec());
    let changed = walk(
        &app,
        s,
        "stockOnHand",
        "sort: {field: UPDATED_AT}",
        "onHand",
        Value::Null,
    )
    .await;
    assert_eq!(changed, [3, 1, 5, 2, 4].map(|n| json!(n)).to_vec());
    let at_b = walk(
        &app,
        s,
        "stockOnHand",
        "filter: {locationId: $l}",
        "onHand",
        json!({ "l": w.b }),
    )
    .await;
    assert!(at_b.is_empty());
    let ledger = walk(
        &app,
        s,
        "stockMovements",
        "sort: {direction: ASC}",
        "quantity",
        Value::Null,
    )
    .await;
    assert_eq!(ledger, [3, 1, 5, 2, 4].map(|n| json!(n)).to_vec());
    let newest = walk(
        &app,
        s,
        "stockMovements",
        "filter: {reason: \"found\"}",
        "quantity",
        Value::Null,
    )
    .await;
    assert_eq!(newest, [4, 2, 5, 1, 3].map(|n| json!(n)).to_vec());

    // Warehouses and locations.
    let mut other_warehouses = Vec::new();
    for code in ["CPT1", "DUR1"] {
        let body = call(&app, s, "mutation ($c: String!) { createWarehouse(input: { code: $c, name: $c }) { warehouse { id } } }", json!({ "c": code })).await;
        other_warehouses.push(body["data"]["createWarehouse"]["warehouse"]["id"].clone());
    }
    // Stock and a bin in Cape Town too, so that the warehouse filters have something to leave out.
    let body = call(&app, s, "mutation ($w: ID!) { createLocation(input: { warehouseId: $w, code: \"A-09-09\" }) { location { id } } }", json!({ "w": other_warehouses[0] })).await;
    let cape_town_bin = body["data"]["createLocation"]["location"]["id"].clone();
    app.ok(s, ADJUST, json!({ "i": { "productId": w.product, "locationId": cape_town_bin, "change": 7, "reason": "found" } })).await;
    for (warehouse, expected) in [
        (json!(w.warehouse), vec![4, 2, 5, 1, 3]),
        (other_warehouses[0].clone(), vec![7]),
    ] {
        let moved = walk(
            &app,
            s,
            "stockMovements",
            "filter: {warehouseId: $w}",
            "quantity",
            json!({ "w": warehouse }),
        )
        .await;
        assert_eq!(
            moved,
            expected.into_iter().map(|n| json!(n)).collect::<Vec<_>>()
        );
    }
    let codes = walk(
        &app,
        s,
        "warehouses",
        "sort: {field: CODE, direction: DESC}",
        "code",
        Value::Null,
    )
    .await;
    assert_eq!(codes, strings(&["JHB1", "DUR1", "CPT1"]));
    let found = walk(
        &app,
        s,
        "warehouses",
        "filter: {search: \"dur\"}",
        "code",
        Value::Null,
    )
    .await;
    assert_eq!(found, strings(&["DUR1"]));
    for code in ["A-02-01", "A-01-02", "C-01-01"] {
        app.ok(s, "mutation ($w: ID!, $c: String!) { createLocation(input: { warehouseId: $w, code: $c, kind: PICKING }) { location { id } userErrors { field message } } }", json!({ "w": w.warehouse, "c": code })).await;
    }
    let aisle = walk(
        &app,
        s,
        "locations",
        "filter: {warehouseId: $w, search: \"a-\"}",
        "code",
        json!({ "w": w.warehouse }),
    )
    .await;
    assert_eq!(aisle, strings(&["A-01-01", "A-01-02", "A-02-01"]));
    let picking = walk(
        &app,
        s,
        "locations",
        "filter: {kind: PICKING}, sort: {field: CODE, direction: DESC}",
        "code",
        Value::Null,
    )
    .await;
    assert_eq!(picking, strings(&["C-01-01", "A-02-01", "A-01-02"]));

    // Users and roles.
    let viewer = walk(
        &app,
        s,
        "roles",
        "filter: {search: \"view\"}",
        "id",
        Value::Null,
    )
    .await;
    assert_eq!(viewer.len(), 1);
    for email in [
        "carol@alpha.example",
        "alice@alpha.example",
        "bob@alpha.example",
    ] {
        let body = call(&app, s, "mutation ($e: String!, $r: ID!) { inviteUser(input: { email: $e, roleId: $r }) { user { id } userErrors { message } } }", json!({ "e": email, "r": viewer[0] })).await;
        assert!(
            body["data"]["inviteUser"]["user"]["id"].is_string(),
            "{body}"
        );
    }
    let emails = walk(
        &app,
        s,
        "users",
        "filter: {roleId: $r}, sort: {field: EMAIL, direction: DESC}",
        "email",
        json!({ "r": viewer[0] }),
    )
    .await;
    assert_eq!(
        emails,
        strings(&[
            "carol@alpha.example",
            "bob@alpha.example",
            "alice@alpha.example"
        ])
    );
    call(&app, s, "mutation { createRole(input: { name: \"Auditor\", permissions: [AUDIT_VIEW] }) { role { id } } }", json!({})).await;
    let custom = walk(
        &app,
        s,
        "roles",
        "filter: {builtin: false}",
        "name",
        Value::Null,
    )
    .await;
    assert_eq!(custom, strings(&["Auditor"]));
    let builtin = walk(
        &app,
        s,
        "roles",
        "filter: {builtin: true}, sort: {field: NAME}",
        "name",
        Value::Null,
    )
    .await;
    assert_eq!(
        builtin,
        strings(&["Manager", "Operator", "Owner", "Viewer"])
    );

    // The audit log, oldest first, and the caller's sessions.
    let actions = walk(
        &app,
        s,
        "auditEvents",
        "sort: {direction: ASC}",
        "sequence",
        Value::Null,
    )
    .await;
    let expected: Vec<Value> = (1..=actions.len() as i64).map(|n| json!(n)).collect();
    assert_eq!(actions, expected);
    // Two newer sessions: this one was last seen first (a session is touched once a minute).
    for _ in 0..2 {
        app.login(&owner.email, crate::support::database::TEST_PASSWORD)
            .await;
    }
    for (direction, expected) in [
        ("DESC", [false, false, true]),
        ("ASC", [true, false, false]),
    ] {
        let sessions = walk(
            &app,
            s,
            "mySessions",
            &format!("sort: {{field: LAST_SEEN_AT, direction: {direction}}}"),
            "current",
            Value::Null,
        )
        .await;
        assert_eq!(sessions, expected.map(|b| json!(b)).to_vec(), "{direction}");
    }
}

/// A cursor is read, not trusted: garbage, a cursor from another order and a forged cursor whose
/// values do not fit the columns are all the caller's mistake, never a database error.
async fn cursors_are_checked_not_trusted(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    for sku in ["A-1", "A-2", "A-3"] {
        product(&app, s, sku, "NONE").await;
    }
    let page = "query ($a: String, $o: ProductSort) { products(first: 1, after: $a, sort: $o) { nodes { sku } pageInfo { endCursor } } }";
    let body = call(&app, s, page, json!({})).await;
    let by_sku = body["data"]["products"]["pageInfo"]["endCursor"].clone();
    let next = call(&app, s, page, json!({ "a": by_sku })).await;
    assert_eq!(next["data"]["products"]["nodes"][0]["sku"], "A-2", "{next}");

    let forged = |json: Value| URL_SAFE_NO_PAD.encode(json.to_string());
    let uuid = uuid::Uuid::now_v7().to_string();
    for (cursor, sort) in [
        (json!("not a cursor"), json!(null)),
        (by_sku.clone(), json!({ "field": "NAME" })),
        (by_sku.clone(), json!({ "direction": "DESC" })),
        (
            json!(forged(
                json!({ "o": "products:sku,id+", "k": [{ "i": 5 }, { "u": uuid }] })
            )),
            json!(null),
        ),
        (
            json!(forged(
                json!({ "o": "products:sku,id+", "k": [{ "s": "A-1" }, { "s": "x" }] })
            )),
            json!(null),
        ),
        (
            json!(forged(
                json!({ "o": "products:sku,id+", "k": [{ "s": "A-1" }] })
            )),
            json!(null),
        ),
        (
            json!(forged(
                json!({ "o": "products:sku,id+", "k": [{ "s": "A-1" }, { "u": "nope" }] })
            )),
            json!(null),
        ),
    ] {
        let body = call(&app, s, page, json!({ "a": cursor, "o": sort })).await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{cursor} {sort}: {body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("cursor"),
            "{body}"
        );
    }
    // A well-formed forged cursor of the right types is just a position.
    let forged_ok =
        forged(json!({ "o": "products:sku,id+", "k": [{ "s": "A-2" }, { "u": uuid }] }));
    let body = call(&app, s, page, json!({ "a": forged_ok })).await;
    assert_eq!(body["data"]["products"]["nodes"][0]["sku"], "A-3", "{body}");

    // A search longer than any SKU or name is the caller's mistake, not the database's.
    for list in [
        "products",
        "warehouses",
        "locations",
        "carriers",
        "users",
        "roles",
    ] {
        let document =
            format!("query ($s: String) {{ {list}(filter: {{search: $s}}) {{ totalCount }} }}");
        let body = call(&app, s, &document, json!({ "s": "a".repeat(201) })).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{list}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "filter.search",
            "{body}"
        );
        let body = call(&app, s, &document, json!({ "s": "a".repeat(200) })).await;
        assert_ok(&body);
    }

    // Ids are opaque and typed: not a bare key, and malformed ones are refused as input.
    let body = call(
        &app,
        s,
        "{ products(first: 1) { nodes { id } } }",
        json!({}),
    )
    .await;
    let id = body["data"]["products"]["nodes"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(id.parse::<uuid::Uuid>().is_err(), "{id} is a bare UUID");
    let bare = call(
        &app,
        s,
        "query ($id: ID!) { product(id: $id) { sku } }",
        json!({ "id": uuid }),
    )
    .await;
    assert_eq!(error_code(&bare), Some("BAD_USER_INPUT"), "{bare}");
    let missing = call(
        &app,
        s,
        "query ($id: ID!) { product(id: $id) { sku } }",
        json!({ "id": gid(entity::ProductId::generate()) }),
    )
    .await;
    assert_eq!(error_code(&missing), Some("NOT_FOUND"), "{missing}");
}

/// Equal sort values across a page boundary are ordered by id, so none repeats or vanishes; and a
/// search for `WID_01` means exactly that (an underscore is not a wildcard).
async fn ties_page_by_id_and_searches_take_wildcards_literally(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let create = "mutation ($i: CreateProductInput!) { createProduct(input: $i) { product { id } userErrors { field message } } }";
    for sku in [
        "WID_01", "WIDX01", "WID%01", "T-1", "T-2", "T-3", "T-4", "T-5",
    ] {
        let name = if sku.starts_with("T-") {
            "Same name"
        } else {
            sku
        };
        app.ok(s, create, json!({ "i": { "sku": sku, "name": name } }))
            .await;
    }
    for direction in ["ASC", "DESC"] {
        let skus = walk(
            &app,
            s,
            "products",
            &format!("filter: {{search: \"same\"}}, sort: {{field: NAME, direction: {direction}}}"),
            "sku",
            Value::Null,
        )
        .await;
        let mut expected = strings(&["T-1", "T-2", "T-3", "T-4", "T-5"]);
        if direction == "DESC" {
            expected.reverse();
        }
        assert_eq!(skus, expected, "ties broken by creation order, {direction}");
    }
    for (search, expected) in [
        ("wid_01", vec!["WID_01"]),
        ("WID%", vec!["WID%01"]),
        ("_", vec!["WID_01"]),
    ] {
        let found = walk(
            &app,
            s,
            "products",
            &format!("filter: {{search: \"{search}\"}}"),
            "sku",
            Value::Null,
        )
        .await;
        assert_eq!(found, strings(&expected), "search {search}");
    }

    // The caller's sessions page too, newest first by default, even when only a field is named.
    for _ in 0..3 {
        app.login(&owner.email, crate::support::database::TEST_PASSWORD)
            .await;
    }
    let sessions = walk(
        &app,
        s,
        "mySessions",
        "sort: {field: CREATED_AT}",
        "id",
        Value::Null,
    )
    .await;
    assert_eq!(sessions.len(), 4);
    let oldest_first = walk(
        &app,
        s,
        "mySessions",
        "sort: {direction: ASC}",
        "id",
        Value::Null,
    )
    .await;
    let mut reversed = sessions.clone();
    reversed.reverse();
    assert_eq!(oldest_first, reversed);
    let events = walk(
        &app,
        s,
        "auditEvents",
        "sort: {field: SEQUENCE}",
        "sequence",
        Value::Null,
    )
    .await;
    assert!(
        events
            .windows(2)
            .all(|pair| pair[0].as_i64() > pair[1].as_i64()),
        "newest first"
    );

    // A cursor belongs to its list: the same columns and order on another list are refused.
    app.ok(s, "mutation { createWarehouse(input: { code: \"W1\", name: \"Same name\" }) { warehouse { id } userErrors { field message } } }", json!({})).await;
    let body = call(&app, s, "{ warehouses(first: 1, sort: {field: NAME}) { pageInfo { endCursor } } products(first: 1, sort: {field: NAME}) { pageInfo { endCursor } } }", json!({})).await;
    let warehouses_cursor = body["data"]["warehouses"]["pageInfo"]["endCursor"].clone();
    let products_cursor = body["data"]["products"]["pageInfo"]["endCursor"].clone();
    assert!(
        warehouses_cursor.is_string() && products_cursor.is_string(),
        "{body}"
    );
    let page = "query ($a: String) { products(first: 1, after: $a, sort: {field: NAME}) { nodes { sku } } }";
    let body = call(&app, s, page, json!({ "a": products_cursor })).await;
    assert_ok(&body);
    let body = call(&app, s, page, json!({ "a": warehouses_cursor })).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}
