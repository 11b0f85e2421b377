//! Purchase orders: a draft changes until it is placed, every change of state follows the
//! lifecycle (an illegal one is a CONFLICT naming where the order stands and where it could go),
//! numbers count per organisation and never repeat, and another organisation's ids behave like
//! missing ones.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::fixtures::StockSetup;
use crate::support::{Backend, Session, TestApp};

on_both_databases!(
    a_purchase_order_moves_through_its_lifecycle,
    bad_drafts_are_refused_and_leave_nothing,
    numbers_count_per_organisation_and_never_repeat,
    purchase_order_lists_filter_and_cost_the_same_at_any_length,
    another_organisations_purchase_orders_are_not_found,
    what_is_due_to_arrive_is_listed_by_expected_date,
);

const CREATE: &str = "mutation ($i: CreatePurchaseOrderInput!) { createPurchaseOrder(input: $i) { purchaseOrder { id number status nextStatuses expectedOn lines { lineNumber quantityOrdered quantityReceived quantityOutstanding expectedOn product { sku } } supplier { code } warehouse { code } } userErrors { field message } } }";

async fn supplier(app: &TestApp, s: &Session, code: &str) -> String {
    app.ok(
        s,
        "mutation ($c: String!) { createSupplier(input: { code: $c, name: $c }) { supplier { id } userErrors { message } } }",
        json!({ "c": code }),
    )
    .await["createSupplier"]["supplier"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

fn draft(setup: &StockSetup, supplier: &str, lines: Value) -> Value {
    json!({ "i": { "supplierId": supplier, "warehouseId": setup.warehouse, "expectedOn": "2026-12-15", "lines": lines } })
}

async fn create(app: &TestApp, setup: &StockSetup, supplier: &str, lines: Value) -> Value {
    app.ok(&setup.session, CREATE, draft(setup, supplier, lines))
        .await["createPurchaseOrder"]["purchaseOrder"]
        .clone()
}

fn conflict_message(reply: &Value) -> &str {
    assert_eq!(error_code(reply), Some("CONFLICT"), "{reply}");
    reply["errors"][0]["message"].as_str().unwrap_or_default()
}

async fn a_purchase_order_moves_through_its_lifecycle(backend: Backend) {
    let app = TestApp::start(backend).await;
    let setup = app.organisation_with_stock_setup("Buyers").await;
    let s = &setup.session;
    let acme = supplier(&app, s, "ACME").await;
    let order = create(
        &app,
        &setup,
        &acme,
        json!([
            { "productId": setup.product, "quantity": 40 },
            { "productId": setup.lotted, "quantity": 12, "expectedOn": "2026-12-20" },
        ]),
    )
    .await;
    assert_eq!(order["number"], "PO-000001");
    assert_eq!(order["status"], "DRAFT");
    assert_eq!(order["nextStatuses"], json!(["ORDERED", "CANCELLED"]));
    assert_eq!(order["supplier"]["code"], "ACME");
    assert_eq!(order["warehouse"]["code"], "JHB1");
    assert_eq!(
        order["lines"],
        json!([
            { "lineNumber": 1, "quantityOrdered": 40, "quantityReceived": 0, "quantityOutstanding": 40, "expectedOn": "2026-12-15", "product": { "sku": "SKU-1" } },
            { "lineNumber": 2, "quantityOrdered": 12, "quantityReceived": 0, "quantityOutstanding": 12, "expectedOn": "2026-12-20", "product": { "sku": "LOT-1" } },
        ])
    );
    let id = order["id"].clone();

    // A draft is rewritten whole.
    let update = "mutation ($i: UpdatePurchaseOrderInput!) { updatePurchaseOrder(input: $i) { purchaseOrder { number status note lines { lineNumber quantityOrdered product { sku } } } userErrors { message } } }";
    let mut changed = draft(
        &setup,
        &acme,
        json!([{ "productId": setup.serial, "quantity": 3 }]),
    );
    changed["i"]["id"] = id.clone();
    changed["i"]["note"] = json!("call before delivery");
    let updated =
        app.ok(s, update, changed.clone()).await["updatePurchaseOrder"]["purchaseOrder"].clone();
    assert_eq!(updated["number"], "PO-000001", "the number stays");
    assert_eq!(updated["note"], "call before delivery");
    assert_eq!(
        updated["lines"],
        json!([{ "lineNumber": 1, "quantityOrdered": 3, "product": { "sku": "SER-1" } }])
    );

    let transition = |name: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            app.graphql_in(
                Some(s),
                &format!("mutation ($id: ID!) {{ {name}(input: {{ id: $id }}) {{ purchaseOrder {{ status nextStatuses }} }} }}"),
                json!({ "id": id }),
            )
            .await
            .1
        }
    };
    let placed = transition("placePurchaseOrder").await;
    assert_eq!(
        placed["data"]["placePurchaseOrder"]["purchaseOrder"],
        json!({ "status": "ORDERED", "nextStatuses": ["PARTIALLY_RECEIVED", "RECEIVED", "CANCELLED"] })
    );
    // Placed: the lines are what the supplier was sent, and placing twice is no transition.
    let (_, refused) = app.graphql_in(Some(s), update, changed).await;
    let message = conflict_message(&refused);
    assert!(
        message.contains("PO-000001 is ORDERED") && message.contains("only a DRAFT"),
        "{message}"
    );
    let again = transition("placePurchaseOrder").await;
    assert_eq!(
        conflict_message(&again),
        "purchase order PO-000001 is ORDERED: it cannot become ORDERED; from there it can become PARTIALLY_RECEIVED, RECEIVED or CANCELLED"
    );
    let cancelled = transition("cancelPurchaseOrder").await;
    assert_eq!(
        cancelled["data"]["cancelPurchaseOrder"]["purchaseOrder"],
        json!({ "status": "CANCELLED", "nextStatuses": [] })
    );
    let final_ = transition("cancelPurchaseOrder").await;
    assert!(
        conflict_message(&final_)
            .ends_with("is CANCELLED: it cannot become CANCELLED; that is final"),
        "{final_}"
    );

    // One audit event per change, with the order's number in before and after.
    let events = app
        .ok(
            s,
            "{ auditEvents(filter: { entityType: \"purchase_order\" }, first: 20) { nodes { action detail } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = events["auditEvents"]["nodes"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        [
            "purchase_order.cancel",
            "purchase_order.place",
            "purchase_order.update",
            "purchase_order.create"
        ]
    );
    let update_event = &events["auditEvents"]["nodes"][2]["detail"];
    assert_eq!(
        update_event["before"]["lines"][0]["sku"], "SKU-1",
        "{update_event}"
    );
    assert_eq!(
        update_event["after"]["lines"][0]["sku"], "SER-1",
        "{update_event}"
    );
}

async fn bad_drafts_are_refused_and_leave_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let setup = app.organisation_with_stock_setup("Strict").await;
    let s = &setup.session;
    let acme = supplier(&app, s, "ACME").await;
    let line = |quantity: i64| json!({ "productId": setup.product, "quantity": quantity });
    for (lines, field) in [
        (json!([]), "lines"),
        (json!([line(0)]), "lines.quantity"),
        (json!([line(1_000_000_001)]), "lines.quantity"),
        (json!([line(1), line(2)]), "lines.productId"),
    ] {
        let (_, reply) = app
            .graphql_in(Some(s), CREATE, draft(&setup, &acme, lines.clone()))
            .await;
        assert_eq!(
            reply["data"]["createPurchaseOrder"]["userErrors"][0]["field"], field,
            "{lines}: {reply}"
        );
    }
    // Archived references are conflicts naming them.
    let old = supplier(&app, s, "OLDCO").await;
    app.ok(
        s,
        "mutation ($id: ID!) { archiveSupplier(input: { id: $id }) { supplier { active } } }",
        json!({ "id": old }),
    )
    .await;
    let (_, reply) = app
        .graphql_in(Some(s), CREATE, draft(&setup, &old, json!([line(1)])))
        .await;
    assert!(conflict_message(&reply).contains("supplier OLDCO is archived"));
    app.ok(
        s,
        "mutation ($id: ID!) { archiveProduct(input: { id: $id }) { product { active } } }",
        json!({ "id": setup.serial }),
    )
    .await;
    let (_, reply) = app
        .graphql_in(
            Some(s),
            CREATE,
            draft(
                &setup,
                &acme,
                json!([{ "productId": setup.serial, "quantity": 1 }]),
            ),
        )
        .await;
    assert!(conflict_message(&reply).contains("product SER-1 is archived"));
    // Nothing was made, and no number was used up.
    let orders = app
        .ok(s, "{ purchaseOrders { nodes { id } } }", json!({}))
        .await;
    assert_eq!(orders["purchaseOrders"]["nodes"], json!([]));
    assert_eq!(
        create(&app, &setup, &acme, json!([line(5)])).await["number"],
        "PO-000001"
    );
}

async fn numbers_count_per_organisation_and_never_repeat(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = app.organisation_with_stock_setup("Alpha").await;
    let beta = app.organisation_with_stock_setup("Beta").await;
    let alpha_supplier = supplier(&app, &alpha.session, "A").await;
    let beta_supplier = supplier(&app, &beta.session, "B").await;
    let lines = |setup: &StockSetup| json!([{ "productId": setup.product, "quantity": 1 }]);
    let replies = join_all((0..8).map(|_| {
        app.graphql_in(
            Some(&alpha.session),
            CREATE,
            draft(&alpha, &alpha_supplier, lines(&alpha)),
        )
    }))
    .await;
    let mut numbers: Vec<String> = replies
        .iter()
        .map(|(_, reply)| {
            crate::support::reply::assert_ok(reply);
            reply["data"]["createPurchaseOrder"]["purchaseOrder"]["number"]
                .as_str()
                .expect("number")
                .to_owned()
        })
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=8).map(|n| format!("PO-{n:06}")).collect();
    assert_eq!(numbers, expected, "eight orders at once, eight numbers");
    // Alpha's eight orders are invisible in Beta's numbering.
    let first_of_beta = create(&app, &beta, &beta_supplier, lines(&beta)).await;
    assert_eq!(first_of_beta["number"], "PO-000001");
}

async fn purchase_order_lists_filter_and_cost_the_same_at_any_length(backend: Backend) {
    let app = TestApp::start(backend).await;
    let setup = app.organisation_with_stock_setup("Listed").await;
    let s = &setup.session;
    let acme = supplier(&app, s, "ACME").await;
    let other = supplier(&app, s, "OTHER").await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let from = if i % 3 == 0 { &other } else { &acme };
        let order = create(
            &app,
            &setup,
            from,
            json!([
                { "productId": setup.product, "quantity": 1 + i },
                { "productId": setup.lotted, "quantity": 2 },
            ]),
        )
        .await;
        ids.push(order["id"].clone());
    }
    for id in &ids[..5] {
        app.ok(
            s,
            "mutation ($id: ID!) { placePurchaseOrder(input: { id: $id }) { purchaseOrder { status } } }",
            json!({ "id": id }),
        )
        .await;
    }
    let lists = app
        .ok(
            s,
            "query ($acme: ID!) { placed: purchaseOrders(filter: { statuses: [ORDERED] }) { totalCount nodes { number } }
                                  open: purchaseOrders(filter: { statuses: [DRAFT, ORDERED, PARTIALLY_RECEIVED] }) { totalCount }
                                  acme: purchaseOrders(filter: { supplierId: $acme }) { totalCount }
                                  newest: purchaseOrders(first: 2, sort: { field: NUMBER, direction: DESC }) { nodes { number } } }",
            json!({ "acme": acme }),
        )
        .await;
    assert_eq!(lists["placed"]["totalCount"], 5);
    assert_eq!(lists["open"]["totalCount"], 12);
    assert_eq!(lists["acme"]["totalCount"], 8);
    assert_eq!(
        lists["newest"]["nodes"],
        json!([{ "number": "PO-000012" }, { "number": "PO-000011" }])
    );

    let page = "query ($n: Int!) { purchaseOrders(first: $n) { nodes { number supplier { code } warehouse { code } lines { quantityOrdered product { sku } } } } }";
    let mut costs = Vec::new();
    for size in [3, 12] {
        let before = app.database.serving.statements_run();
        let data = app.ok(s, page, json!({ "n": size })).await;
        costs.push(app.database.serving.statements_run() - before);
        let nodes = data["purchaseOrders"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), size);
        assert!(
            nodes
                .iter()
                .all(|n| n["lines"].as_array().map(Vec::len) == Some(2))
        );
    }
    assert_eq!(costs[0], costs[1], "12 orders cost what 3 do: {costs:?}");
}

async fn another_organisations_purchase_orders_are_not_found(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = app.organisation_with_stock_setup("Alpha").await;
    let beta = app.organisation_with_stock_setup("Beta").await;
    let alpha_supplier = supplier(&app, &alpha.session, "ALPHA").await;
    let beta_supplier = supplier(&app, &beta.session, "BETA").await;
    let order = create(
        &app,
        &alpha,
        &alpha_supplier,
        json!([{ "productId": alpha.product, "quantity": 7 }]),
    )
    .await;
    let missing = |kind: &str| vaskem::graphql::ids::encode(kind, uuid::Uuid::now_v7()).0;
    for (document, foreign, unknown) in [
        (
            "query ($id: ID!) { purchaseOrder(id: $id) { number } }",
            order["id"].clone(),
            missing("PurchaseOrder"),
        ),
        (
            "query ($id: ID!) { node(id: $id) { id } }",
            order["id"].clone(),
            missing("PurchaseOrder"),
        ),
        (
            "mutation ($id: ID!) { placePurchaseOrder(input: { id: $id }) { purchaseOrder { id } } }",
            order["id"].clone(),
            missing("PurchaseOrder"),
        ),
        (
            "mutation ($id: ID!) { cancelPurchaseOrder(input: { id: $id }) { purchaseOrder { id } } }",
            order["id"].clone(),
            missing("PurchaseOrder"),
        ),
        (
            "query ($id: ID!) { purchaseOrders(filter: { supplierId: $id }) { totalCount } }",
            json!(alpha_supplier),
            missing("Supplier"),
        ),
    ] {
        app.assert_foreign_id_is_missing(&beta.session, document, &foreign, &json!(unknown))
            .await;
    }
    // Beta cannot order from Alpha's supplier, into Alpha's warehouse, or Alpha's products.
    for input in [
        json!({ "supplierId": alpha_supplier, "warehouseId": beta.warehouse, "lines": [{ "productId": beta.product, "quantity": 1 }] }),
        json!({ "supplierId": beta_supplier, "warehouseId": alpha.warehouse, "lines": [{ "productId": beta.product, "quantity": 1 }] }),
        json!({ "supplierId": beta_supplier, "warehouseId": beta.warehouse, "lines": [{ "productId": alpha.product, "quantity": 1 }] }),
    ] {
        let (_, reply) = app
            .graphql_in(Some(&beta.session), CREATE, json!({ "i": input }))
            .await;
        assert_eq!(error_code(&reply), Some("NOT_FOUND"), "{input}: {reply}");
    }
    // Alpha's order is as it was.
    let still = app
        .ok(
            &alpha.session,
            "query ($id: ID!) { purchaseOrder(id: $id) { status } }",
            json!({ "id": order["id"] }),
        )
        .await;
    assert_eq!(still["purchaseOrder"]["status"], "DRAFT");
}

/// What is due to arrive: placed orders expected by a day, soonest first, a page at a time;
/// orders without a date are not due.
async fn what_is_due_to_arrive_is_listed_by_expected_date(backend: Backend) {
    let app = TestApp::start(backend).await;
    let setup = app.organisation_with_stock_setup("Arrivals").await;
    let s = &setup.session;
    let acme = supplier(&app, s, "ACME").await;
    for (day, place) in [
        (Some("2026-12-20"), true),
        (Some("2026-12-02"), true),
        (None, true),
        (Some("2026-12-05"), false),
        (Some("2027-02-01"), true),
        (Some("2026-12-02"), true),
    ] {
        let order = app
            .ok(
                s,
                CREATE,
                json!({ "i": { "supplierId": acme, "warehouseId": setup.warehouse, "expectedOn": day,
                               "lines": [{ "productId": setup.product, "quantity": 1 }] } }),
            )
            .await;
        if place {
            app.ok(
                s,
                "mutation ($id: ID!) { placePurchaseOrder(input: { id: $id }) { purchaseOrder { status } } }",
                json!({ "id": order["createPurchaseOrder"]["purchaseOrder"]["id"] }),
            )
            .await;
        }
    }
    let due = "query ($after: String) { purchaseOrders(first: 2, after: $after, filter: { statuses: [ORDERED, PARTIALLY_RECEIVED], expectedBy: \"2026-12-31\" }, sort: { field: EXPECTED_ON }) { nodes { number expectedOn } pageInfo { endCursor hasNextPage } } }";
    let first = app.ok(s, due, json!({})).await;
    assert_eq!(
        first["purchaseOrders"]["nodes"],
        json!([
            { "number": "PO-000002", "expectedOn": "2026-12-02" },
            { "number": "PO-000006", "expectedOn": "2026-12-02" },
        ])
    );
    let cursor = first["purchaseOrders"]["pageInfo"]["endCursor"].clone();
    let second = app.ok(s, due, json!({ "after": cursor })).await;
    assert_eq!(
        second["purchaseOrders"]["nodes"],
        json!([{ "number": "PO-000001", "expectedOn": "2026-12-20" }])
    );
    assert_eq!(second["purchaseOrders"]["pageInfo"]["hasNextPage"], false);
    // Sorted by date without a bound: every dated order, the undated one left out.
    let all = app
        .ok(
            s,
            "{ purchaseOrders(sort: { field: EXPECTED_ON, direction: DESC }) { nodes { number } } }",
            json!({}),
        )
        .await;
    let numbers: Vec<&str> = all["purchaseOrders"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["number"].as_str())
        .collect();
    assert_eq!(
        numbers,
        vec![
            "PO-000005",
            "PO-000001",
            "PO-000004",
            "PO-000006",
            "PO-000002"
        ]
    );
}
