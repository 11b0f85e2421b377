//! Receipts against purchase orders and ad hoc: the order's state and the stock they move, lots,
//! over-receipt and the organisation's tolerance, orders that may not be received, idempotent
//! retries, another organisation's ids answering like missing ones, refusals that leave nothing,
//! and (on PostgreSQL) parallel receipts of one line that can never over-receive together.

use serde_json::{Value, json};
use vaskem::tenancy::TenantDb;

use crate::on_both_databases;
use crate::stock::on_hand;
use crate::support::app::error_code;
use crate::support::fixtures::{StockSetup, call};
use crate::support::reply::race_winners;
use crate::support::{Backend, Session, TestApp, gid};

on_both_databases!(
    receipts_move_the_order_on_and_put_stock_in_the_receiving_location,
    over_receipt_is_refused_unless_the_tolerance_allows_it,
    only_placed_orders_are_received_and_a_refusal_leaves_nothing,
    a_retry_with_the_same_key_receives_once,
    another_organisations_ids_are_missing_ones,
    ad_hoc_receipts_name_their_supplier_and_a_receiving_location,
    a_purchase_orders_timeline_follows_its_goods_to_the_shelf,
);

const RECEIVE: &str = "mutation ($i: ReceiveGoodsInput!) { receiveGoods(input: $i) { receipt { id number purchaseOrderId supplierId locationId note lines { id lineNumber productId quantity lotCode expiresOn purchaseOrderLineId } purchaseOrder { number status } supplier { code } } userErrors { field message } } }";
const ORDER: &str = "query ($id: ID!) { purchaseOrder(id: $id) { number status lines { id lineNumber quantityOrdered quantityReceived } receipts { number } } }";

/// A supplier `code` of the organisation; returns its id.
async fn supplier(app: &TestApp, s: &Session, code: &str) -> String {
    let data = app
        .ok(
            s,
            "mutation ($i: CreateSupplierInput!) { createSupplier(input: $i) { supplier { id } userErrors { field message } } }",
            json!({ "i": { "code": code, "name": format!("Supplier {code}") } }),
        )
        .await;
    data["createSupplier"]["supplier"]["id"]
        .as_str()
        .expect("supplier id")
        .to_owned()
}

/// A purchase order of `(product, quantity)` lines for the setup's warehouse, placed unless
/// `place` is false. Returns the order's id and its lines' ids in line order.
async fn order(
    app: &TestApp,
    w: &StockSetup,
    supplier: &str,
    lines: &[(&str, i64)],
    place: bool,
) -> (String, Vec<String>) {
    let s = &w.session;
    let lines: Vec<Value> = lines
        .iter()
        .map(|(product, quantity)| json!({ "productId": product, "quantity": quantity }))
        .collect();
    let data = app
        .ok(
            s,
            "mutation ($i: CreatePurchaseOrderInput!) { createPurchaseOrder(input: $i) { purchaseOrder { id lines { id } } userErrors { field message } } }",
            json!({ "i": { "supplierId": supplier, "warehouseId": w.warehouse, "lines": lines } }),
        )
        .await;
    let created = &data["createPurchaseOrder"]["purchaseOrder"];
    let id = created["id"].as_str().expect("order id").to_owned();
    let line_ids = created["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| line["id"].as_str().expect("line id").to_owned())
        .collect();
    if place {
        app.ok(
            s,
            "mutation ($id: ID!) { placePurchaseOrder(input: { id: $id }) { purchaseOrder { status } userErrors { field message } } }",
            json!({ "id": id }),
        )
        .await;
    }
    (id, line_ids)
}

async fn order_state(app: &TestApp, s: &Session, id: &str) -> Value {
    app.ok(s, ORDER, json!({ "id": id })).await["purchaseOrder"].clone()
}

/// Movements of the organisation (every reason), counted as the owner.
pub(crate) async fn movements(app: &TestApp, w: &StockSetup) -> usize {
    let tx = TenantDb::for_operator(&app.database.db, w.tenant)
        .read()
        .await
        .expect("read");
    tx.all(<entity::stock_movement::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("movements")
        .len()
}

async fn receipts(app: &TestApp, w: &StockSetup) -> Vec<entity::receipt::Model> {
    let tx = TenantDb::for_operator(&app.database.db, w.tenant)
        .read()
        .await
        .expect("read");
    tx.all(<entity::receipt::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("receipts")
}

pub(crate) fn message(reply: &Value) -> &str {
    reply["errors"][0]["message"].as_str().unwrap_or("")
}

async fn receipts_move_the_order_on_and_put_stock_in_the_receiving_location(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Receivers").await;
    let s = &w.session;
    let acme = supplier(&app, s, "ACME").await;
    let (po, lines) = order(&app, &w, &acme, &[(&w.product, 10), (&w.lotted, 5)], true).await;
    assert_eq!(order_state(&app, s, &po).await["status"], "ORDERED");

    // A lot-tracked line needs its lot: refused naming the field, and nothing moves.
    let refused = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "purchaseOrderId": po, "locationId": w.receiving, "lines": [
            { "purchaseOrderLineId": lines[0], "quantity": 4 },
            { "purchaseOrderLineId": lines[1], "quantity": 5 },
        ] } }),
    )
    .await;
    let errors = &refused["data"]["receiveGoods"]["userErrors"];
    assert_eq!(errors[0]["field"], "lot", "{refused}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("LOT-1 is lot-tracked"),
        "{refused}"
    );
    assert_eq!(movements(&app, &w).await, 0);

    let first = app
        .ok(
            s,
            RECEIVE,
            json!({ "i": { "purchaseOrderId": po, "locationId": w.receiving, "note": "dock 2", "lines": [
                { "purchaseOrderLineId": lines[0], "quantity": 4 },
                { "purchaseOrderLineId": lines[1], "quantity": 5, "lot": { "code": "L-1", "expiresOn": "2027-06-30" } },
            ] } }),
        )
        .await;
    let receipt = &first["receiveGoods"]["receipt"];
    assert_eq!(receipt["number"], "RC-000001");
    assert_eq!(receipt["purchaseOrderId"], po.as_str());
    assert_eq!(receipt["supplierId"], acme.as_str());
    assert_eq!(receipt["supplier"]["code"], "ACME");
    assert_eq!(receipt["locationId"], w.receiving.as_str());
    assert_eq!(receipt["note"], "dock 2");
    assert_eq!(receipt["purchaseOrder"]["status"], "PARTIALLY_RECEIVED");
    assert_eq!(receipt["lines"][0]["lineNumber"], 1);
    assert_eq!(receipt["lines"][0]["productId"], w.product.as_str());
    assert_eq!(receipt["lines"][0]["quantity"], 4);
    assert_eq!(receipt["lines"][0]["lotCode"], Value::Null);
    assert_eq!(
        receipt["lines"][0]["purchaseOrderLineId"],
        lines[0].as_str()
    );
    assert_eq!(receipt["lines"][1]["lotCode"], "L-1");
    assert_eq!(receipt["lines"][1]["expiresOn"], "2027-06-30");
    assert_eq!(on_hand(&app, s, &w.product, &w.receiving).await, 4);
    assert_eq!(on_hand(&app, s, &w.lotted, &w.receiving).await, 5);
    let state = order_state(&app, s, &po).await;
    assert_eq!(state["status"], "PARTIALLY_RECEIVED");
    assert_eq!(state["lines"][0]["quantityReceived"], 4);
    assert_eq!(state["lines"][1]["quantityReceived"], 5);

    // The rest of the first line completes the order.
    let second = app
        .ok(
            s,
            RECEIVE,
            json!({ "i": { "purchaseOrderId": po, "supplierId": acme, "locationId": w.receiving, "lines": [
                { "purchaseOrderLineId": lines[0], "quantity": 6 },
            ] } }),
        )
        .await;
    assert_eq!(second["receiveGoods"]["receipt"]["number"], "RC-000002");
    assert_eq!(
        second["receiveGoods"]["receipt"]["purchaseOrder"]["status"],
        "RECEIVED"
    );
    assert_eq!(on_hand(&app, s, &w.product, &w.receiving).await, 10);
    let state = order_state(&app, s, &po).await;
    assert_eq!(state["status"], "RECEIVED");
    assert_eq!(state["lines"][0]["quantityReceived"], 10);
    assert_eq!(
        state["receipts"],
        json!([{ "number": "RC-000001" }, { "number": "RC-000002" }])
    );

    // Listed, filtered and fetched again.
    let listed = app
        .ok(
            s,
            "query ($po: ID!, $s: ID!, $id: ID!) { all: receipts { nodes { number } } byOrder: receipts(filter: { purchaseOrderId: $po }) { nodes { number } } bySupplier: receipts(filter: { supplierId: $s }, first: 1) { nodes { number } pageInfo { hasNextPage } } latest: receipts(sort: { field: RECEIVED_AT, direction: DESC }, first: 1) { nodes { number } } one: receipt(id: $id) { number lines { quantity } } node(id: $id) { ... on Receipt { number } } }",
            json!({ "po": po, "s": acme, "id": receipt["id"] }),
        )
        .await;
    assert_eq!(listed["all"]["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(listed["byOrder"]["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(listed["bySupplier"]["nodes"][0]["number"], "RC-000001");
    assert_eq!(listed["bySupplier"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(listed["latest"]["nodes"][0]["number"], "RC-000002");
    assert_eq!(listed["one"]["lines"][1]["quantity"], 5);
    assert_eq!(listed["node"]["number"], "RC-000001");

    // A received order is final.
    let again = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "purchaseOrderId": po, "locationId": w.receiving, "lines": [
            { "purchaseOrderLineId": lines[0], "quantity": 1 },
        ] } }),
    )
    .await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    assert!(message(&again).contains("is RECEIVED"), "{again}");

    // The audit event names the receipt, the order and each line by SKU and lot.
    let tx = TenantDb::for_operator(&app.database.db, w.tenant)
        .read()
        .await
        .expect("read");
    let events = tx
        .all(<entity::audit_event::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("events");
    let created: Vec<_> = events
        .iter()
        .filter(|e| e.action == "receipt.create")
        .collect();
    assert_eq!(created.len(), 2);
    let detail: Value = serde_json::from_str(&created[0].detail).expect("detail");
    let after = &detail["after"];
    assert_eq!(after["number"], "RC-000001", "{detail}");
    assert_eq!(after["purchaseOrder"]["number"], "PO-000001", "{detail}");
    assert_eq!(after["lines"][1]["sku"], "LOT-1", "{detail}");
    assert_eq!(after["lines"][1]["lot"], "L-1", "{detail}");
    assert_eq!(after["lines"][1]["quantity"], 5, "{detail}");
}

async fn over_receipt_is_refused_unless_the_tolerance_allows_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Tolerant").await;
    let s = &w.session;
    let acme = supplier(&app, s, "ACME").await;
    let (po, lines) = order(&app, &w, &acme, &[(&w.product, 10)], true).await;
    let receive = |quantity: i64| {
        json!({ "i": { "purchaseOrderId": po, "locationId": w.receiving, "lines": [
            { "purchaseOrderLineId": lines[0], "quantity": quantity },
        ] } })
    };

    let over = call(&app, s, RECEIVE, receive(11)).await;
    assert_eq!(error_code(&over), Some("CONFLICT"), "{over}");
    assert!(message(&over).contains("line 1 (SKU-1)"), "{over}");
    assert!(message(&over).contains("limit of 10"), "{over}");
    assert_eq!(movements(&app, &w).await, 0);
    assert_eq!(order_state(&app, s, &po).await["status"], "ORDERED");

    let set = "mutation ($p: Int!) { setReceiptTolerance(input: { percent: $p }) { organisation { receiptTolerancePercent } userErrors { field message } } }";
    let bad = call(&app, s, set, json!({ "p": 101 })).await;
    assert_eq!(
        bad["data"]["setReceiptTolerance"]["userErrors"][0]["field"], "percent",
        "{bad}"
    );
    let set_to = app.ok(s, set, json!({ "p": 10 })).await;
    assert_eq!(
        set_to["setReceiptTolerance"]["organisation"]["receiptTolerancePercent"],
        10
    );
    let shown = app
        .ok(s, "{ organisation { receiptTolerancePercent } }", json!({}))
        .await;
    assert_eq!(shown["organisation"]["receiptTolerancePercent"], 10);

    // 10% of 10 is one more unit, not two.
    let still_over = call(&app, s, RECEIVE, receive(12)).await;
    assert_eq!(error_code(&still_over), Some("CONFLICT"), "{still_over}");
    assert!(message(&still_over).contains("limit of 11"), "{still_over}");
    let within = app.ok(s, RECEIVE, receive(11)).await;
    assert_eq!(
        within["receiveGoods"]["receipt"]["purchaseOrder"]["status"],
        "RECEIVED"
    );
    assert_eq!(on_hand(&app, s, &w.product, &w.receiving).await, 11);
}

async fn only_placed_orders_are_received_and_a_refusal_leaves_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Drafts").await;
    let s = &w.session;
    let acme = supplier(&app, s, "ACME").await;
    let (draft, draft_lines) = order(&app, &w, &acme, &[(&w.product, 10)], false).await;
    let refused = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "purchaseOrderId": draft, "locationId": w.receiving, "lines": [
            { "purchaseOrderLineId": draft_lines[0], "quantity": 1 },
        ] } }),
    )
    .await;
    assert_eq!(error_code(&refused), Some("CONFLICT"), "{refused}");
    assert!(message(&refused).contains("is DRAFT"), "{refused}");

    let (cancelled, cancelled_lines) = order(&app, &w, &acme, &[(&w.product, 10)], true).await;
    app.ok(
        s,
        "mutation ($id: ID!) { cancelPurchaseOrder(input: { id: $id }) { purchaseOrder { status } userErrors { field message } } }",
        json!({ "id": cancelled }),
    )
    .await;
    let refused = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "purchaseOrderId": cancelled, "locationId": w.receiving, "lines": [
            { "purchaseOrderLineId": cancelled_lines[0], "quantity": 1 },
        ] } }),
    )
    .await;
    assert_eq!(error_code(&refused), Some("CONFLICT"), "{refused}");
    assert!(message(&refused).contains("is CANCELLED"), "{refused}");

    // A placed order refused late (its second line over-received, after the first line's lot
    // and movement were made) leaves nothing: no movement, no receipt, no lot, the order as it was.
    let (po, lines) = order(&app, &w, &acme, &[(&w.lotted, 5), (&w.product, 2)], true).await;
    let refused = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "purchaseOrderId": po, "locationId": w.receiving, "lines": [
            { "purchaseOrderLineId": lines[0], "quantity": 5, "lot": { "code": "NEW-LOT" } },
            { "purchaseOrderLineId": lines[1], "quantity": 3 },
        ] } }),
    )
    .await;
    assert_eq!(error_code(&refused), Some("CONFLICT"), "{refused}");
    // A location that is not for receiving is refused too.
    let storage = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "purchaseOrderId": po, "locationId": w.a, "lines": [
            { "purchaseOrderLineId": lines[1], "quantity": 1 },
        ] } }),
    )
    .await;
    assert_eq!(
        storage["data"]["receiveGoods"]["userErrors"][0]["field"], "locationId",
        "{storage}"
    );
    assert_eq!(movements(&app, &w).await, 0);
    assert!(receipts(&app, &w).await.is_empty());
    let state = order_state(&app, s, &po).await;
    assert_eq!(state["status"], "ORDERED");
    assert_eq!(state["lines"][0]["quantityReceived"], 0);
    assert_eq!(state["receipts"], json!([]));
    let tx = TenantDb::for_operator(&app.database.db, w.tenant)
        .read()
        .await
        .expect("read");
    let lots = tx
        .all(<entity::lot::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("lots");
    assert!(lots.is_empty(), "{lots:?}");
    drop(tx);
    for state in [
        order_state(&app, s, &draft).await,
        order_state(&app, s, &cancelled).await,
    ] {
        assert_eq!(state["lines"][0]["quantityReceived"], 0);
    }
}

async fn a_retry_with_the_same_key_receives_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Retries").await;
    let s = &w.session;
    let acme = supplier(&app, s, "ACME").await;
    let (po, lines) = order(&app, &w, &acme, &[(&w.product, 10)], true).await;
    let request = json!({ "i": { "purchaseOrderId": po, "locationId": w.receiving, "idempotencyKey": "rcv-1", "lines": [
        { "purchaseOrderLineId": lines[0], "quantity": 3 },
    ] } });
    let first = app.ok(s, RECEIVE, request.clone()).await;
    let retry = app.ok(s, RECEIVE, request).await;
    assert_eq!(
        first["receiveGoods"]["receipt"]["id"],
        retry["receiveGoods"]["receipt"]["id"]
    );
    assert_eq!(retry["receiveGoods"]["receipt"]["number"], "RC-000001");
    assert_eq!(on_hand(&app, s, &w.product, &w.receiving).await, 3);
    assert_eq!(movements(&app, &w).await, 1);
    assert_eq!(receipts(&app, &w).await.len(), 1);
    assert_eq!(
        order_state(&app, s, &po).await["lines"][0]["quantityReceived"],
        3
    );
    // The key used for another request is a CONFLICT.
    let other = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "purchaseOrderId": po, "locationId": w.receiving, "idempotencyKey": "rcv-1", "lines": [
            { "purchaseOrderLineId": lines[0], "quantity": 4 },
        ] } }),
    )
    .await;
    assert_eq!(error_code(&other), Some("CONFLICT"), "{other}");
    assert_eq!(movements(&app, &w).await, 1);
}

async fn another_organisations_ids_are_missing_ones(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Ours").await;
    let other = app.organisation_with_stock_setup("Theirs").await;
    let s = &w.session;
    let acme = supplier(&app, s, "ACME").await;
    let (po, lines) = order(&app, &w, &acme, &[(&w.product, 10)], true).await;
    let theirs_supplier = supplier(&app, &other.session, "ACME").await;
    let (their_po, their_lines) = order(
        &app,
        &other,
        &theirs_supplier,
        &[(&other.product, 10)],
        true,
    )
    .await;
    let their_receipt = app
        .ok(
            &other.session,
            RECEIVE,
            json!({ "i": { "purchaseOrderId": their_po, "locationId": other.receiving, "lines": [
                { "purchaseOrderLineId": their_lines[0], "quantity": 1 },
            ] } }),
        )
        .await["receiveGoods"]["receipt"]["id"]
        .clone();

    let missing_order = gid(entity::PurchaseOrderId::generate());
    let missing_line = gid(entity::PurchaseOrderLineId::generate());
    let missing_location = gid(entity::LocationId::generate());
    let missing_supplier = gid(entity::SupplierId::generate());
    let missing_receipt = gid(entity::ReceiptId::generate());
    let on_order = |order: &str, line: &str, location: &str| {
        json!({ "i": { "purchaseOrderId": order, "locationId": location, "lines": [
            { "purchaseOrderLineId": line, "quantity": 1 },
        ] } })
    };
    let ad_hoc = |supplier: &str| {
        json!({ "i": { "supplierId": supplier, "locationId": w.receiving, "lines": [
            { "productId": w.product, "quantity": 1 },
        ] } })
    };
    for (theirs, missing) in [
        (
            on_order(&their_po, &lines[0], &w.receiving),
            on_order(&missing_order, &lines[0], &w.receiving),
        ),
        (
            on_order(&po, &their_lines[0], &w.receiving),
            on_order(&po, &missing_line, &w.receiving),
        ),
        (
            on_order(&po, &lines[0], &other.receiving),
            on_order(&po, &lines[0], &missing_location),
        ),
        (ad_hoc(&theirs_supplier), ad_hoc(&missing_supplier)),
    ] {
        let theirs = call(&app, s, RECEIVE, theirs).await;
        let missing = call(&app, s, RECEIVE, missing).await;
        assert_eq!(error_code(&theirs), Some("NOT_FOUND"), "{theirs}");
        assert_eq!(error_code(&missing), Some("NOT_FOUND"), "{missing}");
        assert_eq!(message(&theirs), message(&missing));
    }
    for id in [their_receipt, json!(missing_receipt)] {
        let reply = call(
            &app,
            s,
            "query ($id: ID!) { receipt(id: $id) { number } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(error_code(&reply), Some("NOT_FOUND"), "{reply}");
    }
    let filtered = call(
        &app,
        s,
        "query ($po: ID!) { receipts(filter: { purchaseOrderId: $po }) { nodes { number } } }",
        json!({ "po": their_po }),
    )
    .await;
    assert_eq!(error_code(&filtered), Some("NOT_FOUND"), "{filtered}");
    assert_eq!(movements(&app, &w).await, 0);
    assert_eq!(
        order_state(&app, &other.session, &their_po).await["lines"][0]["quantityReceived"],
        1
    );
}

async fn ad_hoc_receipts_name_their_supplier_and_a_receiving_location(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Walk-ins").await;
    let s = &w.session;
    let acme = supplier(&app, s, "ACME").await;
    let nameless = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "locationId": w.receiving, "lines": [{ "productId": w.product, "quantity": 2 }] } }),
    )
    .await;
    assert_eq!(
        nameless["data"]["receiveGoods"]["userErrors"][0]["field"], "supplierId",
        "{nameless}"
    );
    let received = app
        .ok(
            s,
            RECEIVE,
            json!({ "i": { "supplierId": acme, "locationId": w.receiving, "lines": [
                { "productId": w.product, "quantity": 2 },
                { "productId": w.serial, "quantity": 1, "lot": { "code": "SN-1" } },
            ] } }),
        )
        .await;
    let receipt = &received["receiveGoods"]["receipt"];
    assert_eq!(receipt["purchaseOrderId"], Value::Null);
    assert_eq!(receipt["purchaseOrder"], Value::Null);
    assert_eq!(receipt["lines"][1]["lotCode"], "SN-1");
    assert_eq!(receipt["lines"][1]["purchaseOrderLineId"], Value::Null);
    assert_eq!(on_hand(&app, s, &w.product, &w.receiving).await, 2);
    assert_eq!(on_hand(&app, s, &w.serial, &w.receiving).await, 1);
}

/// Ten parallel receipts of one unit each against the last five outstanding units of one line
/// (tolerance 0): the order's lock queues them, exactly five succeed and the rest are refused
/// naming the limit; the line ends at what was ordered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_ten_parallel_receipts_of_the_last_five_units() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let w = app.organisation_with_stock_setup("Racers").await;
    let s = &w.session;
    let acme = supplier(&app, s, "ACME").await;
    let (po, lines) = order(&app, &w, &acme, &[(&w.product, 10)], true).await;
    app.ok(
        s,
        RECEIVE,
        json!({ "i": { "purchaseOrderId": po, "locationId": w.receiving, "lines": [
            { "purchaseOrderLineId": lines[0], "quantity": 5 },
        ] } }),
    )
    .await;
    let attempts = (0..10).map(|n| {
        let (app, po, line, w) = (&app, &po, &lines[0], &w);
        async move {
            call(
                app,
                s,
                RECEIVE,
                json!({ "i": { "purchaseOrderId": po, "locationId": w.receiving, "note": format!("race {n}"), "lines": [
                    { "purchaseOrderLineId": line, "quantity": 1 },
                ] } }),
            )
            .await
        }
    });
    let replies = futures::future::join_all(attempts).await;
    // Refused at the limit, or once the order is RECEIVED by the fifth.
    assert_eq!(
        race_winners(&replies, &["limit of 10", "is RECEIVED"]),
        5,
        "receipts that succeeded"
    );
    let state = order_state(&app, s, &po).await;
    assert_eq!(state["lines"][0]["quantityReceived"], 10);
    assert_eq!(state["status"], "RECEIVED");
    assert_eq!(on_hand(&app, s, &w.product, &w.receiving).await, 10);
    assert_eq!(receipts(&app, &w).await.len(), 6);
    // The teardown proves the balances still equal the movements.
    checks.finish().await;
}

/// A purchase order's timeline: the order's own events, then each receipt against it and the
/// put-aways of that receipt's lines, oldest first, each with the movements it posted; and a
/// page of orders with their timelines costs the same at any length.
async fn a_purchase_orders_timeline_follows_its_goods_to_the_shelf(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Timelines").await;
    let s = &w.session;
    let acme = supplier(&app, s, "ACME").await;
    let (po, lines) = order(&app, &w, &acme, &[(&w.product, 10)], true).await;
    let (other, other_lines) = order(&app, &w, &acme, &[(&w.product, 3)], true).await;
    let received = app
        .ok(
            s,
            "mutation ($i: ReceiveGoodsInput!) { receiveGoods(input: $i) { receipt { putAwayTasks { id } } } }",
            json!({ "i": { "purchaseOrderId": po, "locationId": w.receiving, "lines": [{ "purchaseOrderLineId": lines[0], "quantity": 4 }] } }),
        )
        .await;
    app.ok(
        s,
        "mutation ($i: ReceiveGoodsInput!) { receiveGoods(input: $i) { receipt { id } } }",
        json!({ "i": { "purchaseOrderId": other, "locationId": w.receiving, "lines": [{ "purchaseOrderLineId": other_lines[0], "quantity": 3 }] } }),
    )
    .await;
    let task = &received["receiveGoods"]["receipt"]["putAwayTasks"][0]["id"];
    app.ok(
        s,
        "mutation ($i: PutAwayInput!) { putAway(input: $i) { putAwayTask { status } } }",
        json!({ "i": { "taskId": task, "locationId": w.a, "quantity": 4 } }),
    )
    .await;

    let data = app
        .ok(
            s,
            "query ($id: ID!) { purchaseOrder(id: $id) { timeline { event { action entityType } movements { quantity fromPlace toPlace } } } }",
            json!({ "id": po }),
        )
        .await;
    let story: Vec<(String, String, Vec<i64>)> = data["purchaseOrder"]["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|entry| {
            (
                entry["event"]["action"].as_str().unwrap_or("").to_owned(),
                entry["event"]["entityType"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                entry["movements"]
                    .as_array()
                    .map(|moved| {
                        moved
                            .iter()
                            .filter_map(|m| m["quantity"].as_i64())
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(String, String, Vec<i64>)> = [
        ("purchase_order.create", "purchase_order", vec![]),
        ("purchase_order.place", "purchase_order", vec![]),
        ("receipt.create", "receipt", vec![4]),
        ("putaway.move", "putaway_task", vec![4]),
    ]
    .into_iter()
    .map(|(a, t, m)| (a.to_owned(), t.to_owned(), m))
    .collect();
    // The other order's receipt is not in this one's story.
    assert_eq!(story, expected);

    let page = "query ($n: Int!) { purchaseOrders(first: $n) { nodes { number timeline { event { action } movements { quantity } } } } }";
    for _ in 0..10 {
        order(&app, &w, &acme, &[(&w.product, 1)], true).await;
    }
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
                .all(|n| n["timeline"].as_array().is_some_and(|t| t.len() >= 2))
        );
    }
    assert_eq!(costs[0], costs[1], "12 timelines cost what 3 do: {costs:?}");
}
