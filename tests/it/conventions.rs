//! The API conventions every frontend scripts against, proven on the live schema and on data:
//! lists are Relay connections with `filter`, `sort`, `first`/`after` and `totalCount`, paged by
//! keyset in any order without a row repeated or lost; mutations take one `input` and return a
//! payload with `userErrors`; ids are opaque and typed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::stock::{ADJUST, product, warehouse};
use crate::support::app::error_code;
use crate::support::{Backend, Session, TestApp, gid};

on_both_databases!(
    every_list_pages_by_keyset_in_every_order,
    cursors_are_checked_not_trusted,
    ties_page_by_id_and_searches_take_wildcards_literally,
    validation_failures_come_back_in_user_errors,
    responses_keep_the_requested_field_order,
    any_object_is_fetched_again_by_its_id,
    every_filter_and_sort_does_its_job,
);

const TYPE_REF: &str = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";

/// The named type under NON_NULL and LIST wrappers, and whether a list wrapper was met.
fn named(type_ref: &Value) -> (String, bool) {
    match type_ref["kind"].as_str() {
        Some("NON_NULL") => named(&type_ref["ofType"]),
        Some("LIST") => (named(&type_ref["ofType"]).0, true),
        _ => (type_ref["name"].as_str().unwrap_or("").to_owned(), false),
    }
}

#[tokio::test]
async fn the_schema_follows_the_conventions() {
    let schemas = vaskem::graphql::Schemas::new(vaskem::graphql::QueryLimits::default());
    let query = format!(
        "{{ __schema {{
            queryType {{ fields {{ name args {{ name }} type {{ {TYPE_REF} }} }} }}
            mutationType {{ fields {{ name args {{ name type {{ {TYPE_REF} }} }} type {{ {TYPE_REF} }} }} }}
            types {{ name kind fields {{ name type {{ {TYPE_REF} }} }} }}
        }} }}"
    );
    let response = schemas.signed_in.execute(query.as_str()).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let schema = response.data.into_json().expect("json")["__schema"].clone();
    let types = schema["types"].as_array().expect("types").clone();
    let fields_of = |name: &str| -> Vec<Value> {
        types
            .iter()
            .find(|t| t["name"] == name)
            .and_then(|t| t["fields"].as_array().cloned())
            .unwrap_or_default()
    };

    // Lists: no bare list at the root; every connection takes filter, sort, first and after and
    // offers totalCount and pageInfo.
    let mut connections = 0;
    for field in schema["queryType"]["fields"].as_array().expect("fields") {
        let name = field["name"].as_str().expect("name");
        let (type_name, is_list) = named(&field["type"]);
        assert!(
            !is_list,
            "Query.{name} returns a bare list, not a connection"
        );
        if !type_name.ends_with("Connection") {
            continue;
        }
        connections += 1;
        let args: Vec<&str> = field["args"]
            .as_array()
            .expect("args")
            .iter()
            .filter_map(|a| a["name"].as_str())
            .collect();
        assert_eq!(
            args,
            ["filter", "sort", "first", "after"],
            "Query.{name} arguments"
        );
        let offered: Vec<String> = fields_of(&type_name)
            .iter()
            .filter_map(|f| f["name"].as_str().map(str::to_owned))
            .collect();
        for needed in ["edges", "nodes", "pageInfo", "totalCount"] {
            assert!(
                offered.iter().any(|f| f == needed),
                "{type_name} lacks {needed}"
            );
        }
    }
    assert!(connections >= 9, "only {connections} connections found");

    // Mutations: one argument, `input`, of a non-null input object (logout needs none); the
    // result is a non-null payload object with `userErrors`.
    for field in schema["mutationType"]["fields"].as_array().expect("fields") {
        let name = field["name"].as_str().expect("name");
        let args = field["args"].as_array().expect("args");
        if name == "logout" {
            assert!(args.is_empty(), "logout takes nothing");
        } else {
            assert_eq!(args.len(), 1, "Mutation.{name} takes one argument");
            assert_eq!(args[0]["name"], "input", "Mutation.{name}");
            assert_eq!(args[0]["type"]["kind"], "NON_NULL", "Mutation.{name}");
            assert_eq!(
                args[0]["type"]["ofType"]["kind"], "INPUT_OBJECT",
                "Mutation.{name}"
            );
        }
        assert_eq!(field["type"]["kind"], "NON_NULL", "Mutation.{name}");
        let (payload, _) = named(&field["type"]);
        assert!(
            payload.ends_with("Payload"),
            "Mutation.{name} returns {payload}"
        );
        let user_errors = fields_of(&payload)
            .into_iter()
            .find(|f| f["name"] == "userErrors")
            .unwrap_or_else(|| panic!("{payload} has no userErrors"));
        assert_eq!(named(&user_errors["type"]), ("UserError".to_owned(), true));
    }
}

async fn call(app: &TestApp, session: &Session, document: &str, variables: Value) -> Value {
    let (_, body) = app.graphql_in(Some(session), document, variables).await;
    body
}

/// Walks `field` two rows at a time with `args` (a GraphQL argument list without `first` and
/// `after`), asserting `totalCount` on every page, and returns `key` of every node in order.
async fn walk(
    app: &TestApp,
    session: &Session,
    field: &str,
    args: &str,
    key: &str,
    variables: Value,
) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut total = None;
    let declared: String = variables
        .as_object()
        .map(|vars| {
            vars.keys()
                .map(|k| format!(", ${k}: ID"))
                .collect::<String>()
        })
        .unwrap_or_default();
    let separator = if args.is_empty() { "" } else { ", " };
    let document = format!(
        "query ($after: String{declared}) {{ {field}({args}{separator}first: 2, after: $after) {{ totalCount nodes {{ {key} }} pageInfo {{ hasNextPage hasPreviousPage endCursor }} }} }}"
    );
    for page_number in 0.. {
        let mut vars = variables.clone();
        if vars.is_null() {
            vars = json!({});
        }
        vars["after"] = after.clone();
        let body = call(app, session, &document, vars).await;
        assert!(body["errors"].is_null(), "{document}: {body}");
        let page = &body["data"][field];
        let count = page["totalCount"].as_u64().expect("totalCount");
        assert_eq!(*total.get_or_insert(count), count, "{document}");
        assert_eq!(
            page["pageInfo"]["hasPreviousPage"],
            page_number > 0,
            "{document}: {body}"
        );
        let nodes = page["nodes"].as_array().expect("nodes");
        assert!(nodes.len() <= 2);
        seen.extend(nodes.iter().map(|n| n[key].clone()));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        assert!(page_number < 100, "runaway pagination");
    }
    assert_eq!(
        total.expect("a page") as usize,
        seen.len(),
        "{field}({args}): totalCount counts what the pages hold"
    );
    seen
}

fn strings(values: &[&str]) -> Vec<Value> {
    values.iter().map(|v| json!(v)).collect()
}

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
        call(&app, s, ADJUST, json!({ "i": { "productId": id, "locationId": w.a, "change": change, "reason": "found" } })).await;
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
    call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": cape_town_bin, "change": 7, "reason": "found" } })).await;
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
        call(&app, s, "mutation ($w: ID!, $c: String!) { createLocation(input: { warehouseId: $w, code: $c, kind: PICKING }) { location { id } } }", json!({ "w": w.warehouse, "c": code })).await;
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
    for list in ["products", "warehouses", "locations", "users", "roles"] {
        let document =
            format!("query ($s: String) {{ {list}(filter: {{search: $s}}) {{ totalCount }} }}");
        let body = call(&app, s, &document, json!({ "s": "a".repeat(201) })).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{list}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "filter.search",
            "{body}"
        );
        let body = call(&app, s, &document, json!({ "s": "a".repeat(200) })).await;
        assert!(body["errors"].is_null(), "{list}: {body}");
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
    let create =
        "mutation ($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }";
    for sku in [
        "WID_01", "WIDX01", "WID%01", "T-1", "T-2", "T-3", "T-4", "T-5",
    ] {
        let name = if sku.starts_with("T-") {
            "Same name"
        } else {
            sku
        };
        call(
            &app,
            s,
            create,
            json!({ "i": { "sku": sku, "name": name } }),
        )
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
    call(&app, s, "mutation { createWarehouse(input: { code: \"W1\", name: \"Same name\" }) { warehouse { id } } }", json!({})).await;
    let body = call(&app, s, "{ warehouses(first: 1, sort: {field: NAME}) { pageInfo { endCursor } } products(first: 1, sort: {field: NAME}) { pageInfo { endCursor } } }", json!({})).await;
    let warehouses_cursor = body["data"]["warehouses"]["pageInfo"]["endCursor"].clone();
    let products_cursor = body["data"]["products"]["pageInfo"]["endCursor"].clone();
    assert!(
        warehouses_cursor.is_string() && products_cursor.is_string(),
        "{body}"
    );
    let page = "query ($a: String) { products(first: 1, after: $a, sort: {field: NAME}) { nodes { sku } } }";
    let body = call(&app, s, page, json!({ "a": products_cursor })).await;
    assert!(body["errors"].is_null(), "its own cursor is fine: {body}");
    let body = call(&app, s, page, json!({ "a": warehouses_cursor })).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

/// Validation failures of a mutation, malformed ids included, come back in `userErrors` with the
/// field at fault; nothing is written.
async fn validation_failures_come_back_in_user_errors(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let before = call(&app, s, "{ auditEvents { totalCount } }", json!({})).await["data"]["auditEvents"]["totalCount"].clone();
    let cases = [
        (
            "mutation { updateProduct(input: {id: \"garbage\", sku: \"X\", name: \"X\"}) { product { id } userErrors { field code } } }",
            "updateProduct",
            "id",
        ),
        (
            "mutation { archiveWarehouse(input: {id: \"garbage\"}) { warehouse { id } userErrors { field code } } }",
            "archiveWarehouse",
            "id",
        ),
        (
            "mutation { createLocation(input: {warehouseId: \"garbage\", code: \"X\"}) { location { id } userErrors { field code } } }",
            "createLocation",
            "warehouseId",
        ),
        (
            "mutation { adjustStock(input: {productId: \"garbage\", locationId: \"garbage\", change: 1, reason: \"found\"}) { movements { id } userErrors { field code } } }",
            "adjustStock",
            "productId",
        ),
        (
            "mutation { postStockCount(input: {lines: [{productId: \"garbage\", locationId: \"garbage\", counted: 1}]}) { movements { id } userErrors { field code } } }",
            "postStockCount",
            "lines",
        ),
        (
            "mutation { changeUserRole(input: {id: \"garbage\", roleId: \"garbage\"}) { user { id } userErrors { field code } } }",
            "changeUserRole",
            "id",
        ),
        (
            "mutation { deleteRole(input: {id: \"garbage\"}) { roleId userErrors { field code } } }",
            "deleteRole",
            "id",
        ),
        (
            "mutation { revokeSession(input: {id: \"garbage\"}) { sessionId userErrors { field code } } }",
            "revokeSession",
            "id",
        ),
        (
            "mutation { createProduct(input: {sku: \"\", name: \"X\"}) { product { id } userErrors { field code } } }",
            "createProduct",
            "sku",
        ),
    ];
    for (document, mutation, field) in cases {
        let body = call(&app, s, document, json!({})).await;
        assert!(body["errors"].is_null(), "{document}: {body}");
        let error = &body["data"][mutation]["userErrors"][0];
        assert_eq!(error["field"], field, "{document}: {body}");
        assert_eq!(error["code"], "BAD_USER_INPUT", "{document}: {body}");
    }
    let after = call(&app, s, "{ auditEvents { totalCount } }", json!({})).await["data"]["auditEvents"]["totalCount"].clone();
    assert_eq!(before, after, "a refused mutation writes nothing");
    // A wrong current password is refused the same way, but leaves its security event: it is a
    // guess at the password, logged like a failed sign-in.
    let body = call(&app, s, "mutation { changePassword(input: {current: \"wrong\", new: \"x\"}) { user { id } userErrors { field code } } }", json!({})).await;
    assert_eq!(
        body["data"]["changePassword"]["userErrors"][0]["field"], "current",
        "{body}"
    );
    let log = call(
        &app,
        s,
        "{ auditEvents(first: 1) { totalCount nodes { action outcome } } }",
        json!({}),
    )
    .await;
    let events = &log["data"]["auditEvents"];
    assert_eq!(
        events["totalCount"].as_i64(),
        after.as_i64().map(|n| n + 1),
        "{log}"
    );
    assert_eq!(
        events["nodes"][0]["action"], "user.password_change",
        "{log}"
    );
    assert_eq!(events["nodes"][0]["outcome"], "failure", "{log}");
}

/// Objects come back with their keys in the order the document asked for them, however the
/// concurrent resolvers happen to finish (the spec's ordered maps; snapshot tests rely on it).
async fn responses_keep_the_requested_field_order(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let document = "query Q { zeta: health { version status } users { totalCount } ...R roles { totalCount nodes { name id } } organisation { name id } alpha: health { status } }
        fragment R on Query { warehouses { totalCount } }";
    let expected = [
        "\"zeta\":{\"version\"",
        "\"users\":",
        "\"warehouses\":",
        "\"roles\":{\"totalCount\"",
        "{\"name\":",
        "\"organisation\":{\"name\"",
        "\"alpha\":",
    ];
    for _ in 0..10 {
        let text = crate::support::app::client()
            .post(app.url("/graphql"))
            .header(
                "cookie",
                format!(
                    "{}={}",
                    vaskem::auth::session::SESSION_COOKIE,
                    owner.session.token
                ),
            )
            .json(&json!({ "query": document, "operationName": "Q" }))
            .send()
            .await
            .expect("POST")
            .text()
            .await
            .expect("body");
        let positions: Vec<usize> = expected
            .iter()
            .map(|key| text.find(key).unwrap_or_else(|| panic!("{key} in {text}")))
            .collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
    }
}

/// `node(id:)` refetches what the API handed out, by id alone, with each type's permission.
async fn any_object_is_fetched_again_by_its_id(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let body = call(&app, s, "{ me { id role { id } } }", json!({})).await;
    let (me, role) = (
        body["data"]["me"]["id"].clone(),
        body["data"]["me"]["role"]["id"].clone(),
    );
    let node = "query ($id: ID!) { node(id: $id) { __typename id ... on Product { sku } ... on Location { code } } }";
    for (id, typename) in [
        (json!(w.product), "Product"),
        (json!(w.warehouse), "Warehouse"),
        (json!(w.a), "Location"),
        (me, "User"),
        (role, "Role"),
    ] {
        let body = call(&app, s, node, json!({ "id": id })).await;
        assert_eq!(body["data"]["node"]["__typename"], typename, "{body}");
        assert_eq!(body["data"]["node"]["id"], id, "{body}");
    }
    let body = call(&app, s, node, json!({ "id": w.product })).await;
    assert_eq!(body["data"]["node"]["sku"], "SKU-1", "{body}");

    // Another organisation's id is exactly a missing one; a kind `node` does not serve is
    // NOT_FOUND; text that is no id is BAD_USER_INPUT.
    let beta = app.member_of_new_organisation("Beta").await;
    let foreign = call(&app, &beta.session, node, json!({ "id": w.product })).await;
    let missing = call(
        &app,
        &beta.session,
        node,
        json!({ "id": gid(entity::ProductId::generate()) }),
    )
    .await;
    assert_eq!(error_code(&foreign), Some("NOT_FOUND"), "{foreign}");
    assert_eq!(
        foreign["errors"][0]["message"],
        missing["errors"][0]["message"]
    );
    let lot = call(
        &app,
        s,
        node,
        json!({ "id": gid(entity::LotId::generate()) }),
    )
    .await;
    assert_eq!(error_code(&lot), Some("NOT_FOUND"), "{lot}");
    let garbage = call(&app, s, node, json!({ "id": "garbage" })).await;
    assert_eq!(error_code(&garbage), Some("BAD_USER_INPUT"), "{garbage}");

    // Each type keeps its permission.
    let email = app
        .database
        .user_with_permissions(
            owner.tenant,
            &[vaskem::auth::permission::Permission::StockView],
        )
        .await;
    let viewer = app
        .login(&email, crate::support::database::TEST_PASSWORD)
        .await;
    let body = call(&app, &viewer, node, json!({ "id": w.product })).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["permission"], "PRODUCTS_VIEW",
        "{body}"
    );
}

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
    call(
        &app,
        s,
        "mutation ($id: ID!) { archiveProduct(input: {id: $id}) { product { id } } }",
        json!({ "id": old }),
    )
    .await;
    call(&app, s, "mutation ($i: UpdateProductInput!) { updateProduct(input: $i) { product { id } } }", json!({ "i": { "id": w.product, "sku": "SKU-1", "name": "Product SKU-1", "barcodes": ["4006381333931"] } })).await;
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
    call(&app, s, "mutation ($w: ID!) { createLocation(input: {warehouseId: $w, code: \"R-01\", kind: RECEIVING, pickable: false}) { location { id } } }", json!({ "w": w.warehouse })).await;
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
        call(&app, s, "mutation ($e: String!, $n: String!, $r: ID!) { inviteUser(input: {email: $e, displayName: $n, roleId: $r}) { user { id } } }", json!({ "e": email, "n": name, "r": viewer[0] })).await;
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
    call(
        &app,
        s,
        "mutation ($id: ID!) { deactivateUser(input: {id: $id}) { user { id } } }",
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
        assert!(body["errors"].is_null(), "{body}");
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
    assert!(body["errors"].is_null(), "{body}");
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
