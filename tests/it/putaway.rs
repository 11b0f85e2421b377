//! Put-away tasks: one per received line with its suggested location (the storage or picking
//! location of the warehouse holding the most of the product, none when nothing holds it), full
//! and partial put-away, the destination's checks, idempotent retries, another organisation's
//! task answering like a missing one, the permission, the audit event, and (on PostgreSQL)
//! parallel put-aways of one task that can never put away more than it holds.

use serde_json::{Value, json};
use vaskem::auth::permission::Permission;

use crate::on_both_databases;
use crate::receiving::{message, movements};
use crate::stock::on_hand;
use crate::support::app::error_code;
use crate::support::database::TEST_PASSWORD;
use crate::support::fixtures::{StockSetup, call};
use crate::support::reply::race_winners;
use crate::support::{Backend, Session, TestApp, gid};

on_both_databases!(
    receiving_makes_a_task_per_line_suggesting_where_the_product_is,
    tasks_are_put_away_in_full_or_in_parts,
    destinations_are_storage_or_picking_locations_of_the_warehouse,
    a_retry_with_the_same_key_puts_away_once,
    another_organisations_task_is_a_missing_one,
    putting_away_needs_receipts_receive,
);

const TASK: &str = "id status quantity quantityPutAway quantityRemaining nextStatuses suggestedLocationId completedAt completedById suggestedLocation { code } currentSuggestion { code } fromLocation { code } product { sku } lotCode expiresOn receipt { number }";

fn receive_document() -> String {
    format!(
        "mutation ($i: ReceiveGoodsInput!) {{ receiveGoods(input: $i) {{ receipt {{ id number putAwayTasks {{ {TASK} }} }} userErrors {{ field message }} }} }}"
    )
}

fn put_away_document() -> String {
    format!(
        "mutation ($i: PutAwayInput!) {{ putAway(input: $i) {{ putAwayTask {{ {TASK} }} userErrors {{ field message }} }} }}"
    )
}

/// A supplier of the organisation; returns its id.
async fn supplier(app: &TestApp, s: &Session) -> String {
    let data = app
        .ok(
            s,
            "mutation { createSupplier(input: { code: \"ACME\", name: \"Acme\" }) { supplier { id } userErrors { field message } } }",
            json!({}),
        )
        .await;
    data["createSupplier"]["supplier"]["id"]
        .as_str()
        .expect("supplier id")
        .to_owned()
}

/// Receives `lines` (product, quantity, lot) ad hoc into the setup's receiving location; returns
/// the receipt with its tasks.
async fn receive(app: &TestApp, w: &StockSetup, lines: &[(&str, i64, Option<&str>)]) -> Value {
    let acme = supplier(app, &w.session).await;
    let lines: Vec<Value> = lines
        .iter()
        .map(|(product, quantity, lot)| match lot {
            Some(code) => json!({ "productId": product, "quantity": quantity, "lot": { "code": code, "expiresOn": "2027-06-30" } }),
            None => json!({ "productId": product, "quantity": quantity }),
        })
        .collect();
    app.ok(
        &w.session,
        &receive_document(),
        json!({ "i": { "supplierId": acme, "locationId": w.receiving, "lines": lines } }),
    )
    .await["receiveGoods"]["receipt"]
        .clone()
}

fn task_id(receipt: &Value, line: usize) -> String {
    receipt["putAwayTasks"][line]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no task {line}: {receipt}"))
        .to_owned()
}

async fn put_away(app: &TestApp, s: &Session, input: Value) -> Value {
    call(app, s, &put_away_document(), json!({ "i": input })).await
}

fn user_error(reply: &Value) -> (&str, &str) {
    let error = &reply["data"]["putAway"]["userErrors"][0];
    (
        error["field"].as_str().unwrap_or(""),
        error["message"].as_str().unwrap_or(""),
    )
}

/// A location `code` of `kind` in `warehouse`; returns its id.
async fn location(app: &TestApp, s: &Session, warehouse: &str, code: &str, kind: &str) -> String {
    app.ok(
        s,
        "mutation ($i: CreateLocationInput!) { createLocation(input: $i) { location { id } userErrors { field message } } }",
        json!({ "i": { "warehouseId": warehouse, "code": code, "kind": kind } }),
    )
    .await["createLocation"]["location"]["id"]
        .as_str()
        .expect("location id")
        .to_owned()
}

/// A second warehouse `CPT1` with a storage location `C-01`; returns (warehouse, location).
async fn other_warehouse(app: &TestApp, s: &Session) -> (String, String) {
    let warehouse = app
        .ok(
            s,
            "mutation { createWarehouse(input: { code: \"CPT1\", name: \"Cape Town\" }) { warehouse { id } userErrors { field message } } }",
            json!({}),
        )
        .await["createWarehouse"]["warehouse"]["id"]
        .as_str()
        .expect("warehouse id")
        .to_owned();
    let bin = location(app, s, &warehouse, "C-01", "STORAGE").await;
    (warehouse, bin)
}

async fn receiving_makes_a_task_per_line_suggesting_where_the_product_is(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Suggesters").await;
    let s = &w.session;
    // SKU-1: most in B; more still in another warehouse, which never counts.
    app.adjust(s, &w.product, &w.a, 3).await;
    app.adjust(s, &w.product, &w.b, 7).await;
    let (_, elsewhere) = other_warehouse(&app, s).await;
    app.adjust(s, &w.product, &elsewhere, 100).await;
    // SKU-2: as much in B-02-01 as in P-01-01: the first code wins.
    let second = crate::support::fixtures::product(&app, s, "SKU-2", "NONE").await;
    app.adjust(s, &second, &w.picking, 4).await;
    app.adjust(s, &second, &w.b, 4).await;
    // LOT-1 is held nowhere (the receipt's own stock in the receiving location does not count).

    let receipt = receive(
        &app,
        &w,
        &[
            (&w.product, 10, None),
            (&second, 2, None),
            (&w.lotted, 5, Some("L-1")),
        ],
    )
    .await;
    let tasks = receipt["putAwayTasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 3, "{receipt}");
    for task in tasks {
        assert_eq!(task["status"], "OPEN");
        assert_eq!(task["quantityPutAway"], 0);
        assert_eq!(task["nextStatuses"], json!(["OPEN", "DONE"]));
        assert_eq!(task["fromLocation"]["code"], "RCV-01");
        assert_eq!(task["receipt"]["number"], receipt["number"]);
        assert_eq!(task["completedAt"], Value::Null);
    }
    assert_eq!(tasks[0]["product"]["sku"], "SKU-1");
    assert_eq!(tasks[0]["quantity"], 10);
    assert_eq!(tasks[0]["quantityRemaining"], 10);
    assert_eq!(tasks[0]["suggestedLocation"]["code"], "B-02-01");
    assert_eq!(tasks[0]["suggestedLocationId"], w.b.as_str());
    assert_eq!(tasks[1]["suggestedLocation"]["code"], "B-02-01");
    assert_eq!(tasks[2]["suggestedLocation"], Value::Null);
    assert_eq!(tasks[2]["suggestedLocationId"], Value::Null);
    assert_eq!(tasks[2]["lotCode"], "L-1");
    assert_eq!(tasks[2]["expiresOn"], "2027-06-30");
    assert_eq!(tasks[2]["currentSuggestion"], Value::Null);

    // The suggestion was fixed when the task was made; the current one follows the stock.
    app.adjust(s, &w.product, &w.a, 20).await;
    let listed = app
        .ok(
            s,
            &format!(
                "query ($r: ID!) {{ putAwayTasks(filter: {{ receiptId: $r, status: OPEN }}, first: 5) {{ totalCount nodes {{ {TASK} }} }} }}"
            ),
            json!({ "r": receipt["id"] }),
        )
        .await;
    let nodes = &listed["putAwayTasks"]["nodes"];
    assert_eq!(listed["putAwayTasks"]["totalCount"], 3, "{listed}");
    assert_eq!(nodes[0]["suggestedLocation"]["code"], "B-02-01");
    assert_eq!(nodes[0]["currentSuggestion"]["code"], "A-01-01");
    assert_eq!(nodes[1]["currentSuggestion"]["code"], "B-02-01");
    // The task is a node.
    let node = app
        .ok(
            s,
            "query ($id: ID!) { node(id: $id) { id ... on PutAwayTask { quantity } } }",
            json!({ "id": task_id(&receipt, 0) }),
        )
        .await;
    assert_eq!(node["node"]["quantity"], 10);
    // Filters by warehouse and state.
    let done = app
        .ok(
            s,
            "query ($w: ID!) { putAwayTasks(filter: { warehouseId: $w, status: DONE }) { totalCount } }",
            json!({ "w": w.warehouse }),
        )
        .await;
    assert_eq!(done["putAwayTasks"]["totalCount"], 0);
    // Newest first on request.
    let newest = app
        .ok(
            s,
            "{ putAwayTasks(sort: { direction: DESC }, first: 1) { nodes { lotCode } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        newest["putAwayTasks"]["nodes"],
        json!([{ "lotCode": "L-1" }])
    );
}

async fn tasks_are_put_away_in_full_or_in_parts(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Putters").await;
    let s = &w.session;
    app.adjust(s, &w.product, &w.a, 1).await;
    let receipt = receive(&app, &w, &[(&w.product, 10, None)]).await;
    let task = task_id(&receipt, 0);

    // Four to the suggestion: the task stays OPEN.
    let first = app
        .ok(
            s,
            &put_away_document(),
            json!({ "i": { "taskId": task, "quantity": 4 } }),
        )
        .await;
    let state = &first["putAway"]["putAwayTask"];
    assert_eq!(state["status"], "OPEN");
    assert_eq!(state["quantityPutAway"], 4);
    assert_eq!(state["quantityRemaining"], 6);
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 5);
    assert_eq!(on_hand(&app, s, &w.product, &w.receiving).await, 6);

    // More than is left is refused naming what is left; zero is bad input.
    let greedy = put_away(&app, s, json!({ "taskId": task, "quantity": 7 })).await;
    assert_eq!(error_code(&greedy), Some("CONFLICT"), "{greedy}");
    assert!(message(&greedy).contains("only 6 of 10 left"), "{greedy}");
    let nothing = put_away(&app, s, json!({ "taskId": task, "quantity": 0 })).await;
    assert_eq!(user_error(&nothing).0, "quantity", "{nothing}");

    // The rest to the picking location: DONE, with when and by whom.
    let rest = app
        .ok(
            s,
            &put_away_document(),
            json!({ "i": { "taskId": task, "locationId": w.picking } }),
        )
        .await;
    let state = &rest["putAway"]["putAwayTask"];
    assert_eq!(state["status"], "DONE");
    assert_eq!(state["quantityPutAway"], 10);
    assert_eq!(state["quantityRemaining"], 0);
    assert_eq!(state["nextStatuses"], json!([]));
    assert!(state["completedAt"].is_string(), "{rest}");
    let me = app.ok(s, "{ me { id } }", json!({})).await;
    assert_eq!(state["completedById"], me["me"]["id"]);
    assert_eq!(on_hand(&app, s, &w.product, &w.picking).await, 6);
    assert_eq!(on_hand(&app, s, &w.product, &w.receiving).await, 0);

    // A DONE task is final.
    let again = put_away(&app, s, json!({ "taskId": task, "locationId": w.a })).await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    assert!(message(&again).contains("is DONE"), "{again}");
    assert!(message(&again).contains("that is final"), "{again}");

    // Each put-away is audited with the task's state before and after.
    let events = app
        .ok(
            s,
            "{ auditEvents(filter: { action: \"putaway.move\" }) { nodes { entityId detail } } }",
            json!({}),
        )
        .await;
    let events = events["auditEvents"]["nodes"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{events:?}");
    let detail = |event: &Value| -> Value {
        match &event["detail"] {
            Value::String(text) => serde_json::from_str(text).expect("detail JSON"),
            other => other.clone(),
        }
    };
    let details: Vec<Value> = events.iter().map(detail).collect();
    let partial = details
        .iter()
        .find(|d| d["after"]["quantityPutAway"] == 4)
        .unwrap_or_else(|| panic!("{details:?}"));
    assert_eq!(partial["before"]["quantityPutAway"], 0);
    assert_eq!(partial["moved"]["to"], "A-01-01");
    assert_eq!(partial["moved"]["suggested"], true);
    let last = details
        .iter()
        .find(|d| d["after"]["status"] == "done")
        .unwrap_or_else(|| panic!("{details:?}"));
    assert_eq!(last["before"]["status"], "open");
    assert_eq!(last["moved"]["to"], "P-01-01");
    assert_eq!(last["moved"]["quantity"], 6);
    assert_eq!(events[0]["entityId"], task.as_str());
}

async fn destinations_are_storage_or_picking_locations_of_the_warehouse(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Checkers").await;
    let s = &w.session;
    let receipt = receive(&app, &w, &[(&w.lotted, 5, Some("L-1"))]).await;
    let task = task_id(&receipt, 0);
    let before = movements(&app, &w).await;

    // Nothing suggested and nothing named.
    let unnamed = put_away(&app, s, json!({ "taskId": task })).await;
    let (field, text) = user_error(&unnamed);
    assert_eq!(field, "locationId", "{unnamed}");
    assert!(text.contains("nothing is suggested"), "{unnamed}");
    // Back into a receiving location, or on to shipping.
    let shipping = location(&app, s, &w.warehouse, "SHIP-01", "SHIPPING").await;
    for wrong in [&w.receiving, &shipping] {
        let refused = put_away(&app, s, json!({ "taskId": task, "locationId": wrong })).await;
        let (field, text) = user_error(&refused);
        assert_eq!(field, "locationId", "{refused}");
        assert!(text.contains("storage or picking"), "{refused}");
    }
    // Another warehouse.
    let (_, elsewhere) = other_warehouse(&app, s).await;
    let refused = put_away(&app, s, json!({ "taskId": task, "locationId": elsewhere })).await;
    let (field, text) = user_error(&refused);
    assert_eq!(field, "locationId", "{refused}");
    assert!(text.contains("another warehouse"), "{refused}");
    // An archived location.
    let spare = location(&app, s, &w.warehouse, "Z-99", "STORAGE").await;
    app.ok(
        s,
        "mutation ($id: ID!) { archiveLocation(input: {id: $id}) { location { active } userErrors { field message } } }",
        json!({ "id": spare }),
    )
    .await;
    let archived = put_away(&app, s, json!({ "taskId": task, "locationId": spare })).await;
    assert_eq!(error_code(&archived), Some("CONFLICT"), "{archived}");
    assert!(message(&archived).contains("archived"), "{archived}");

    assert_eq!(movements(&app, &w).await, before);
    assert_eq!(on_hand(&app, s, &w.lotted, &w.receiving).await, 5);
    // A storage location of the warehouse takes it.
    let done = app
        .ok(
            s,
            &put_away_document(),
            json!({ "i": { "taskId": task, "locationId": w.b } }),
        )
        .await;
    assert_eq!(done["putAway"]["putAwayTask"]["status"], "DONE");
    assert_eq!(on_hand(&app, s, &w.lotted, &w.b).await, 5);
}

async fn a_retry_with_the_same_key_puts_away_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Retriers").await;
    let s = &w.session;
    let receipt = receive(&app, &w, &[(&w.product, 10, None)]).await;
    let task = task_id(&receipt, 0);
    let before = movements(&app, &w).await;
    let request = json!({ "i": { "taskId": task, "locationId": w.a, "quantity": 3, "idempotencyKey": "pa-1" } });
    let first = app.ok(s, &put_away_document(), request.clone()).await;
    let retry = app.ok(s, &put_away_document(), request).await;
    assert_eq!(first["putAway"]["putAwayTask"]["quantityPutAway"], 3);
    assert_eq!(retry["putAway"]["putAwayTask"]["quantityPutAway"], 3);
    assert_eq!(movements(&app, &w).await, before + 1);
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 3);
    // The key used for another request is a CONFLICT, and moves nothing.
    let other = put_away(
        &app,
        s,
        json!({ "taskId": task, "locationId": w.a, "quantity": 4, "idempotencyKey": "pa-1" }),
    )
    .await;
    assert_eq!(error_code(&other), Some("CONFLICT"), "{other}");
    assert_eq!(movements(&app, &w).await, before + 1);
}

async fn another_organisations_task_is_a_missing_one(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Ours").await;
    let other = app.organisation_with_stock_setup("Theirs").await;
    let s = &w.session;
    let ours = receive(&app, &w, &[(&w.product, 2, None)]).await;
    let theirs = receive(&app, &other, &[(&other.product, 2, None)]).await;
    let their_task = task_id(&theirs, 0);
    let missing_task = gid(entity::PutAwayTaskId::generate());

    let mut answers = Vec::new();
    for id in [&their_task, &missing_task] {
        let reply = put_away(&app, s, json!({ "taskId": id, "locationId": w.a })).await;
        assert_eq!(error_code(&reply), Some("NOT_FOUND"), "{reply}");
        answers.push(message(&reply).to_owned());
        let node = call(
            &app,
            s,
            "query ($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(error_code(&node), Some("NOT_FOUND"), "{node}");
    }
    assert_eq!(answers[0], answers[1]);
    // Their location as the destination of our task.
    let reply = put_away(
        &app,
        s,
        json!({ "taskId": task_id(&ours, 0), "locationId": other.a }),
    )
    .await;
    assert_eq!(error_code(&reply), Some("NOT_FOUND"), "{reply}");
    // Their receipt or warehouse as a filter.
    for filter in [
        json!({ "receiptId": theirs["id"] }),
        json!({ "warehouseId": other.warehouse }),
    ] {
        let listed = call(
            &app,
            s,
            "query ($f: PutAwayTaskFilter) { putAwayTasks(filter: $f) { nodes { id } } }",
            json!({ "f": filter }),
        )
        .await;
        assert_eq!(error_code(&listed), Some("NOT_FOUND"), "{listed}");
    }
    // Our list holds only our task; theirs is untouched.
    let listed = app
        .ok(s, "{ putAwayTasks { nodes { id } } }", json!({}))
        .await;
    assert_eq!(
        listed["putAwayTasks"]["nodes"],
        json!([{ "id": task_id(&ours, 0) }])
    );
    assert_eq!(
        on_hand(&app, &other.session, &other.product, &other.receiving).await,
        2
    );
}

async fn putting_away_needs_receipts_receive(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Guards").await;
    let receipt = receive(&app, &w, &[(&w.product, 2, None)]).await;
    let viewer = app
        .database
        .user_with_permissions(
            w.tenant,
            &[
                Permission::ReceiptsView,
                Permission::ReceiptsCreate,
                Permission::StockAdjust,
            ],
        )
        .await;
    let session = app.login(&viewer, TEST_PASSWORD).await;
    let reply = put_away(
        &app,
        &session,
        json!({ "taskId": task_id(&receipt, 0), "locationId": w.a }),
    )
    .await;
    assert_eq!(error_code(&reply), Some("FORBIDDEN"), "{reply}");
    assert_eq!(
        reply["errors"][0]["extensions"]["permission"], "RECEIPTS_RECEIVE",
        "{reply}"
    );
    // Seeing the tasks is RECEIPTS_VIEW.
    let listed = app
        .ok(&session, "{ putAwayTasks { totalCount } }", json!({}))
        .await;
    assert_eq!(listed["putAwayTasks"]["totalCount"], 1);
    assert_eq!(on_hand(&app, &w.session, &w.product, &w.receiving).await, 2);
}

/// Ten parallel put-aways of two units each of one ten-unit task, with twenty more units of the
/// product waiting in the receiving location (so the ledger's balance alone would let more
/// through): the task's lock queues them, exactly five succeed and the rest are refused naming
/// what is left (or that the task is DONE); the task ends DONE with ten put away, all of it in
/// the destination.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_ten_parallel_put_aways_of_one_task() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let w = app.organisation_with_stock_setup("Racers").await;
    let s = &w.session;
    app.adjust(s, &w.product, &w.receiving, 20).await;
    let receipt = receive(&app, &w, &[(&w.product, 10, None)]).await;
    let task = task_id(&receipt, 0);
    let attempts = (0..10).map(|_| {
        let (app, task, w) = (&app, &task, &w);
        async move {
            put_away(
                app,
                s,
                json!({ "taskId": task, "locationId": w.a, "quantity": 2 }),
            )
            .await
        }
    });
    let replies = futures::future::join_all(attempts).await;
    assert_eq!(
        race_winners(&replies, &["is DONE", "left to put away"]),
        5,
        "put-aways that succeeded"
    );
    let state = app
        .ok(
            s,
            "query ($id: ID!) { node(id: $id) { ... on PutAwayTask { status quantityPutAway } } }",
            json!({ "id": task }),
        )
        .await;
    assert_eq!(state["node"]["status"], "DONE");
    assert_eq!(state["node"]["quantityPutAway"], 10);
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 10);
    assert_eq!(on_hand(&app, s, &w.product, &w.receiving).await, 20);
    // The teardown proves the balances still equal the movements.
    checks.finish().await;
}
