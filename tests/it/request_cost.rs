//! What a request costs the database, counted statement by statement (BEGIN and COMMIT included):
//! one session check, one transaction per read request, and a product screen in six statements
//! (issue #9). Also `Product.balances`, the field that screen reads, and a page of carriers with
//! their service levels, and a page of put-away tasks with everything a put-away screen shows.

use serde_json::{Value, json};
use vaskem::auth::permission::Permission;

use crate::on_both_databases;
use crate::stock::{ADJUST, call, product, warehouse};
use crate::support::app::error_code;
use crate::support::database::TEST_PASSWORD;
use crate::support::fixtures::carrier;
use crate::support::{Backend, Session, TestApp};

on_both_databases!(
    the_session_check_is_one_statement,
    a_read_request_runs_in_one_transaction,
    a_product_screen_costs_six_statements_whatever_its_length,
    product_balances_list_stock_per_location,
    product_balances_answer_only_what_the_caller_may_see,
    a_page_of_carriers_with_service_levels_costs_the_same_whatever_its_length,
    a_page_of_put_away_tasks_costs_the_same_whatever_its_length,
);

/// Statements `document` costs on the serving pool, with the response.
async fn cost(app: &TestApp, session: &Session, document: &str, variables: Value) -> (u64, Value) {
    let before = app.database.serving.statements_run();
    let body = call(app, session, document, variables).await;
    (app.database.serving.statements_run() - before, body)
}

/// The statements every signed-in request pays before its own work: BEGIN, on PostgreSQL the
/// statement that sets the service role and the token hash for the lookup policies, the session
/// check itself, and COMMIT.
fn session_overhead(backend: Backend) -> u64 {
    match backend {
        Backend::Postgres => 4,
        Backend::Sqlite => 3,
    }
}

async fn the_session_check_is_one_statement(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    // Needs the session (and its organisation, role and permissions) but no table of its own.
    let (statements, body) = cost(&app, s, "{ me { id email role { name } } }", json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["me"]["email"], owner.email.as_str());
    assert_eq!(statements, session_overhead(backend), "{body}");
    // A mutation checks the session the same way, then works in a transaction of its own.
    let (statements, body) = cost(&app, s, "mutation { __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Mutation", "{body}");
    assert_eq!(statements, session_overhead(backend));
    // A dead cookie costs the same one check, and the request is anonymous.
    let stranger = Session {
        token: "0".repeat(64),
        set_cookie: String::new(),
    };
    let (statements, body) = cost(&app, &stranger, "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert_eq!(statements, session_overhead(backend));
}

async fn a_read_request_runs_in_one_transaction(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 3, "reason": "found" } })).await;
    // One, two and three lists in one document: each adds its query and nothing else (no BEGIN,
    // tenant setting or COMMIT of its own), so the whole request is one transaction.
    let documents = [
        "{ products(first: 5) { nodes { sku } } }",
        "{ products(first: 5) { nodes { sku } } warehouses(first: 5) { nodes { code } } }",
        "{ products(first: 5) { nodes { sku } } warehouses(first: 5) { nodes { code } } stockOnHand(first: 5) { nodes { onHand } } }",
    ];
    for (lists, document) in (1..).zip(documents) {
        let (statements, body) = cost(&app, s, document, json!({})).await;
        assert!(body["errors"].is_null(), "{body}");
        assert_eq!(body["data"]["products"]["nodes"][0]["sku"], "SKU-1");
        assert_eq!(
            statements,
            session_overhead(backend) + lists,
            "{lists} lists: {body}"
        );
    }
    // Relations resolved by data loaders (in tasks of their own) read in the same transaction.
    let (statements, body) = cost(
        &app,
        s,
        "{ stockOnHand(first: 5) { nodes { onHand product { sku } location { code warehouse { code } } } } }",
        json!({}),
    )
    .await;
    let node = &body["data"]["stockOnHand"]["nodes"][0];
    assert_eq!(node["product"]["sku"], "SKU-1", "{body}");
    assert_eq!(node["location"]["warehouse"]["code"], "JHB1", "{body}");
    // The page, products, locations, warehouses.
    assert_eq!(statements, session_overhead(backend) + 4, "{body}");
}

const SCREEN: &str = "query ($n: Int!) { products(first: $n, sort: {field: SKU, direction: ASC}) { nodes { id sku name balances { location { code } onHand } } } }";

async fn a_product_screen_costs_six_statements_whatever_its_length(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    for n in 0..12 {
        let id = product(&app, s, &format!("P-{n:03}"), "NONE").await;
        for (location, change) in [(&w.a, n + 1), (&w.b, 100 + n)] {
            call(&app, s, ADJUST, json!({ "i": { "productId": id, "locationId": location, "change": change, "reason": "found" } })).await;
        }
    }
    let mut costs = Vec::new();
    for size in [3, 12] {
        let (statements, body) = cost(&app, s, SCREEN, json!({ "n": size })).await;
        let nodes = body["data"]["products"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(nodes.len(), size, "{body}");
        assert_eq!(nodes[2]["sku"], "P-002");
        assert_eq!(
            nodes[2]["balances"],
            json!([
                { "location": { "code": "A-01-01" }, "onHand": 3 },
                { "location": { "code": "B-02-01" }, "onHand": 102 },
            ]),
            "{body}"
        );
        costs.push(statements);
    }
    println!("statements for product screens of 3 and 12 ({backend:?}): {costs:?}");
    // BEGIN, (PostgreSQL: role and token), the session, the products, their balances with their
    // locations, COMMIT.
    assert_eq!(costs, vec![session_overhead(backend) + 2; 2]);
    if backend == Backend::Postgres {
        assert_eq!(costs[1], 6, "issue #9's target for W1");
    }
}

async fn product_balances_list_stock_per_location(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let body = call(
        &app,
        s,
        "mutation ($i: CreateLocationInput!) { createLocation(input: $i) { location { id } } }",
        json!({ "i": { "warehouseId": w.warehouse, "code": "C-03-01" } }),
    )
    .await;
    let c = body["data"]["createLocation"]["location"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    // SKU-1: 4 at A, 5 at B, and C emptied again. LOT-1: two lots at A. EMPTY-1: never stocked.
    for (location, change) in [(&w.a, 4), (&w.b, 5), (&c, 2), (&c, -2)] {
        let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": location, "change": change, "reason": "found" } })).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let lotted = product(&app, s, "LOT-1", "LOT").await;
    for (code, change) in [("L2", 7), ("L1", 6)] {
        let body = call(&app, s, ADJUST, json!({ "i": { "productId": lotted, "locationId": w.a, "change": change, "reason": "found", "lot": { "code": code } } })).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    product(&app, s, "EMPTY-1", "NONE").await;

    let page = "{ products(first: 3, sort: {field: SKU, direction: ASC}) { nodes { sku
        balances { locationId onHand location { code } lot { code } }
        one: balances(first: 1) { location { code } }
        all: balances(first: 20, includeEmpty: true) { location { code } onHand } } } }";
    let (statements, body) = cost(&app, s, page, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    let nodes = &body["data"]["products"]["nodes"];
    assert_eq!(nodes[0]["sku"], "EMPTY-1");
    assert_eq!(nodes[0]["balances"], json!([]));
    assert_eq!(nodes[0]["all"], json!([]));
    assert_eq!(nodes[1]["sku"], "LOT-1");
    let lots: Vec<&Value> = nodes[1]["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .map(|b| &b["lot"]["code"])
        .collect();
    assert_eq!(lots.len(), 2, "{body}");
    assert!(
        lots.contains(&&json!("L1")) && lots.contains(&&json!("L2")),
        "{body}"
    );
    assert_eq!(nodes[2]["sku"], "SKU-1");
    assert_eq!(
        nodes[2]["balances"],
        json!([
            { "locationId": w.a, "onHand": 4, "location": { "code": "A-01-01" }, "lot": null },
            { "locationId": w.b, "onHand": 5, "location": { "code": "B-02-01" }, "lot": null },
        ]),
        "in the locations' creation order, the emptied one left out: {body}"
    );
    assert_eq!(
        nodes[2]["one"],
        json!([{ "location": { "code": "A-01-01" } }])
    );
    assert_eq!(
        nodes[2]["all"],
        json!([
            { "location": { "code": "A-01-01" }, "onHand": 4 },
            { "location": { "code": "B-02-01" }, "onHand": 5 },
            { "location": { "code": "C-03-01" }, "onHand": 0 },
        ]),
        "{body}"
    );
    // Three ways of asking cost two queries (one per includeEmpty) however many aliases, plus
    // the lots the first asked for.
    assert_eq!(statements, session_overhead(backend) + 1 + 2 + 1, "{body}");

    // The bound is per product, not per page: a product with more balances than `first` gives
    // `first`, and the others theirs.
    let body = call(
        &app,
        s,
        "{ products(sort: {field: SKU, direction: ASC}) { nodes { sku balances(first: 1) { onHand } } } }",
        json!({}),
    )
    .await;
    let nodes = &body["data"]["products"]["nodes"];
    assert_eq!(
        nodes[1]["balances"].as_array().map(Vec::len),
        Some(1),
        "{body}"
    );
    assert_eq!(nodes[2]["balances"], json!([{ "onHand": 4 }]), "{body}");

    for first in [0, 101, -1] {
        let body = call(
            &app,
            s,
            "query ($n: Int!) { products { nodes { balances(first: $n) { onHand } } } }",
            json!({ "n": first }),
        )
        .await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "first {first}: {body}"
        );
    }
}

async fn product_balances_answer_only_what_the_caller_may_see(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let w = warehouse(&app, &owner.session).await;
    call(&app, &owner.session, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 4, "reason": "found" } })).await;
    let signed_in = |permissions: &'static [Permission]| {
        let app = &app;
        let tenant = owner.tenant;
        async move {
            let email = app
                .database
                .user_with_permissions(tenant, permissions)
                .await;
            app.login(&email, TEST_PASSWORD).await
        }
    };
    let document = "{ products { nodes { sku balances { onHand location { code } } } } }";

    let catalogue_only = signed_in(&[Permission::ProductsView]).await;
    let body = call(&app, &catalogue_only, document, json!({})).await;
    let node = &body["data"]["products"]["nodes"][0];
    assert_eq!(node["sku"], "SKU-1", "{body}");
    assert!(node["balances"].is_null(), "{body}");
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("STOCK_VIEW")),
        "{body}"
    );

    let no_locations = signed_in(&[Permission::ProductsView, Permission::StockView]).await;
    let body = call(&app, &no_locations, document, json!({})).await;
    let balance = &body["data"]["products"]["nodes"][0]["balances"][0];
    assert_eq!(balance["onHand"], 4, "{body}");
    assert!(balance["location"].is_null(), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("LOCATIONS_VIEW")),
        "{body}"
    );

    // Another organisation's products have no balances to show here, and its own page shows
    // none of Alpha's.
    let beta = app.member_of_new_organisation("Beta").await;
    let body = call(&app, &beta.session, document, json!({})).await;
    assert_eq!(body["data"]["products"]["nodes"], json!([]), "{body}");
}

/// `carriers { nodes { services } }`: the page, then every carrier's service levels in one query
/// (however many carriers, and however many ways the document asks for them).
async fn a_page_of_carriers_with_service_levels_costs_the_same_whatever_its_length(
    backend: Backend,
) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    for n in 0..12 {
        carrier(&app, s, &format!("C-{n:02}"), &["EXPRESS", "ECONOMY"]).await;
    }
    let page = "query ($n: Int!) { carriers(first: $n) { nodes { code services { code } }
        edges { node { all: services(includeArchived: true) { code active } } } } }";
    let mut costs = Vec::new();
    for size in [3, 12] {
        let (statements, body) = cost(&app, s, page, json!({ "n": size })).await;
        let nodes = body["data"]["carriers"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(nodes.len(), size, "{body}");
        assert_eq!(nodes[2]["code"], "C-02", "{body}");
        assert_eq!(
            nodes[2]["services"],
            json!([{ "code": "ECONOMY" }, { "code": "EXPRESS" }]),
            "{body}"
        );
        assert_eq!(
            body["data"]["carriers"]["edges"][size - 1]["node"]["all"],
            json!([{ "code": "ECONOMY", "active": true }, { "code": "EXPRESS", "active": true }]),
            "{body}"
        );
        costs.push(statements);
    }
    println!("statements for carrier pages of 3 and 12 ({backend:?}): {costs:?}");
    // The session, the page, the service levels.
    assert_eq!(costs, vec![session_overhead(backend) + 2; 2]);

    // One carrier costs the same two queries.
    let first = carrier(&app, s, "ONE", &["ROAD"]).await;
    let (statements, body) = cost(
        &app,
        s,
        "query ($id: ID!) { carrier(id: $id) { code services { code } } }",
        json!({ "id": first.id }),
    )
    .await;
    assert_eq!(
        body["data"]["carrier"]["services"],
        json!([{ "code": "ROAD" }]),
        "{body}"
    );
    assert_eq!(statements, session_overhead(backend) + 2, "{body}");
}

/// `putAwayTasks` with each task's product, locations (where it waits, where it was suggested,
/// where it would be suggested now) and receipt: the page, then one query per relation, however
/// many tasks.
async fn a_page_of_put_away_tasks_costs_the_same_whatever_its_length(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let supplier = app
        .ok(
            s,
            "mutation { createSupplier(input: { code: \"ACME\", name: \"Acme\" }) { supplier { id } userErrors { field message } } }",
            json!({}),
        )
        .await["createSupplier"]["supplier"]["id"]
        .clone();
    let mut lines = Vec::new();
    for n in 0..12 {
        let id = product(&app, s, &format!("P-{n:03}"), "NONE").await;
        let home = if n % 2 == 0 { &w.a } else { &w.b };
        app.adjust(s, &id, home, n + 1).await;
        lines.push(json!({ "productId": id, "quantity": 5 }));
    }
    app.ok(
        s,
        "mutation ($i: ReceiveGoodsInput!) { receiveGoods(input: $i) { receipt { id } userErrors { field message } } }",
        json!({ "i": { "supplierId": supplier, "locationId": w.receiving, "lines": lines } }),
    )
    .await;
    let page = "query ($n: Int!) { putAwayTasks(first: $n) { nodes { quantity product { sku }
        lotCode fromLocation { code } suggestedLocation { code } currentSuggestion { code }
        receipt { number } } } }";
    let mut costs = Vec::new();
    for size in [3, 12] {
        let (statements, body) = cost(&app, s, page, json!({ "n": size })).await;
        let nodes = body["data"]["putAwayTasks"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(nodes.len(), size, "{body}");
        assert_eq!(
            nodes[2],
            json!({ "quantity": 5, "product": { "sku": "P-002" }, "lotCode": null,
                "fromLocation": { "code": "RCV-01" }, "suggestedLocation": { "code": "A-01-01" },
                "currentSuggestion": { "code": "A-01-01" }, "receipt": { "number": "RC-000001" } }),
            "{body}"
        );
        assert_eq!(nodes[1]["suggestedLocation"]["code"], "B-02-01", "{body}");
        costs.push(statements);
    }
    println!("statements for put-away task pages of 3 and 12 ({backend:?}): {costs:?}");
    // The session, the page, the products, the locations, the current suggestions, the receipts.
    assert_eq!(costs, vec![session_overhead(backend) + 5; 2]);
}
