//! Customer returns: received into quarantine against a dispatched order (never more than was
//! dispatched, per line and per lot), restocked or scrapped line by line with the matching
//! movements, the return's status following, idempotent retries, another organisation's ids,
//! lists that cost the same at any length, and (on PostgreSQL) parallel returns of the last
//! returnable units.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::selling::{DISPATCH, PACK, customer, held, location, picked_order};
use crate::support::app::error_code;
use crate::support::fixtures::{StockSetup, call};
use crate::support::{Backend, TestApp, assert_ok};

on_both_databases!(
    a_return_is_limited_to_what_was_dispatched,
    returns_arrive_in_a_quarantine_location_of_the_orders_warehouse,
    restock_and_scrap_post_their_movements_and_the_status_follows,
    retries_with_the_same_key_move_once,
    another_organisations_returns_are_missing_ones,
    customer_return_lists_filter_and_cost_the_same_at_any_length,
    an_orders_story_reaches_its_shipments_and_returns,
    a_product_archived_since_dispatch_still_comes_back,
);

pub const RECEIVE: &str = "mutation ($i: ReceiveReturnInput!) { receiveReturn(input: $i) { customerReturn { id number status nextStatuses reason note location { code } salesOrder { number } lines { id lineNumber lotCode quantityReturned quantityRestocked quantityScrapped quantityInQuarantine product { sku } } } userErrors { field message } } }";
pub const DISPOSITION: &str = "mutation ($i: DispositionReturnLineInput!) { dispositionReturnLine(input: $i) { customerReturn { id status nextStatuses lines { quantityReturned quantityRestocked quantityScrapped quantityInQuarantine } } userErrors { field message } } }";

fn message(reply: &Value) -> &str {
    reply["errors"][0]["message"].as_str().unwrap_or("")
}

/// A dispatched order (5 of SKU-1 on line 1, 4 of LOT-1 lot L1 on line 2), a quarantine
/// location of its warehouse, and the order's line ids.
struct Dispatched {
    order: String,
    lines: Vec<String>,
    quarantine: String,
}

async fn dispatched_order(app: &TestApp, w: &StockSetup) -> Dispatched {
    let s = &w.session;
    let cape = customer(app, s, "CAPE").await;
    let (order, _) = picked_order(app, w, &cape).await;
    app.ok(
        s,
        PACK,
        json!({ "i": { "id": order, "packages": [{ "weightGrams": 1000, "lengthMm": 300, "widthMm": 200, "heightMm": 100 }] } }),
    )
    .await;
    app.ok(s, DISPATCH, json!({ "i": { "id": order } })).await;
    let data = app
        .ok(
            s,
            "query ($id: ID!) { salesOrder(id: $id) { lines { id } } }",
            json!({ "id": order }),
        )
        .await;
    let lines = data["salesOrder"]["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["id"].as_str().expect("line id").to_owned())
        .collect();
    let quarantine = location(app, w, "Q-01", "QUARANTINE", false).await;
    Dispatched {
        order,
        lines,
        quarantine,
    }
}

fn receive_input(d: &Dispatched, lines: Value) -> Value {
    json!({ "i": { "salesOrderId": d.order, "locationId": d.quarantine, "reason": "damaged in transit", "lines": lines } })
}

async fn a_return_is_limited_to_what_was_dispatched(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Returners").await;
    let s = &w.session;
    let d = dispatched_order(&app, &w).await;

    // 5 of line 1 went out: 6 cannot come back, in one line or split over two.
    for lines in [
        json!([{ "salesOrderLineId": d.lines[0], "quantity": 6 }]),
        json!([{ "salesOrderLineId": d.lines[0], "quantity": 3 }, { "salesOrderLineId": d.lines[0], "quantity": 3 }]),
    ] {
        let over = call(&app, s, RECEIVE, receive_input(&d, lines)).await;
        assert_eq!(error_code(&over), Some("CONFLICT"), "{over}");
        assert!(
            message(&over).contains(
                "line 1 (SKU-1) of sales order SO-000001: 5 dispatched, 0 returned already: at most 5 more may come back, not 6"
            ),
            "{over}"
        );
    }
    let first = app
        .ok(
            s,
            RECEIVE,
            receive_input(
                &d,
                json!([{ "salesOrderLineId": d.lines[0], "quantity": 3 }, { "salesOrderLineId": d.lines[1], "quantity": 1, "lotCode": "L1" }]),
            ),
        )
        .await;
    let back = &first["receiveReturn"]["customerReturn"];
    assert_eq!(back["number"], "RT-000001");
    assert_eq!(back["status"], "RECEIVED");
    assert_eq!(
        back["nextStatuses"],
        json!(["PARTIALLY_DISPOSITIONED", "CLOSED"])
    );
    assert_eq!(back["reason"], "damaged in transit");
    assert_eq!(back["location"]["code"], "Q-01");
    assert_eq!(back["salesOrder"]["number"], "SO-000001");
    assert_eq!(back["lines"][1]["lotCode"], "L1");
    assert_eq!(back["lines"][1]["product"]["sku"], "LOT-1");
    assert_eq!(back["lines"][0]["quantityInQuarantine"], 3);
    assert_eq!(held(&app, s, &w.product, &d.quarantine).await, (3, 0));
    assert_eq!(held(&app, s, &w.lotted, &d.quarantine).await, (1, 0));

    // A second return sees the first: 2 more of line 1, not 3.
    let second = call(
        &app,
        s,
        RECEIVE,
        receive_input(
            &d,
            json!([{ "salesOrderLineId": d.lines[0], "quantity": 3 }]),
        ),
    )
    .await;
    assert!(
        message(&second)
            .contains("5 dispatched, 3 returned already: at most 2 more may come back, not 3"),
        "{second}"
    );
    // A tracked line needs a lot dispatched on it; an untracked one takes none.
    for (lines, field) in [
        (
            json!([{ "salesOrderLineId": d.lines[1], "quantity": 1 }]),
            "lines.lotCode",
        ),
        (
            json!([{ "salesOrderLineId": d.lines[1], "quantity": 1, "lotCode": "OTHER" }]),
            "lines.lotCode",
        ),
        (
            json!([{ "salesOrderLineId": d.lines[0], "quantity": 1, "lotCode": "L1" }]),
            "lines.lotCode",
        ),
        (
            json!([{ "salesOrderLineId": d.lines[0], "quantity": 0 }]),
            "lines.quantity",
        ),
        (json!([]), "lines"),
    ] {
        let reply = call(&app, s, RECEIVE, receive_input(&d, lines)).await;
        assert_eq!(
            reply["data"]["receiveReturn"]["userErrors"][0]["field"], field,
            "{reply}"
        );
    }
    let lot_over = call(
        &app,
        s,
        RECEIVE,
        receive_input(
            &d,
            json!([{ "salesOrderLineId": d.lines[1], "quantity": 4, "lotCode": "L1" }]),
        ),
    )
    .await;
    assert_eq!(error_code(&lot_over), Some("CONFLICT"), "{lot_over}");
    assert!(
        message(&lot_over).contains("at most 3 more may come back, not 4"),
        "{lot_over}"
    );
    // Nothing of the refused returns arrived.
    assert_eq!(held(&app, s, &w.product, &d.quarantine).await, (3, 0));

    // Only a DISPATCHED order takes returns.
    let cape = customer(&app, s, "DURBAN").await;
    let open = crate::selling::order(&app, &w, &cape, &[(&w.product, 1)], true).await;
    let lines = app
        .ok(
            s,
            "query ($id: ID!) { salesOrder(id: $id) { lines { id } } }",
            json!({ "id": open }),
        )
        .await;
    let not_sent = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "salesOrderId": open, "locationId": d.quarantine, "reason": "never came",
                       "lines": [{ "salesOrderLineId": lines["salesOrder"]["lines"][0]["id"], "quantity": 1 }] } }),
    )
    .await;
    assert_eq!(error_code(&not_sent), Some("CONFLICT"), "{not_sent}");
    assert!(
        message(&not_sent).contains("is CONFIRMED: only a DISPATCHED order takes returns"),
        "{not_sent}"
    );
    // Another order's line is a missing one.
    let foreign_line = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "salesOrderId": d.order, "locationId": d.quarantine, "reason": "mixed up",
                       "lines": [{ "salesOrderLineId": lines["salesOrder"]["lines"][0]["id"], "quantity": 1 }] } }),
    )
    .await;
    assert_eq!(
        error_code(&foreign_line),
        Some("NOT_FOUND"),
        "{foreign_line}"
    );

    // Audited with what came back.
    let audit = app
        .ok(
            s,
            "{ auditEvents(filter: { action: \"customer_return.receive\" }) { nodes { detail } } }",
            json!({}),
        )
        .await;
    let after = &audit["auditEvents"]["nodes"][0]["detail"]["after"];
    assert_eq!(after["number"], "RT-000001", "{after}");
    assert_eq!(after["lines"][1]["lot"], "L1", "{after}");
}

async fn returns_arrive_in_a_quarantine_location_of_the_orders_warehouse(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Quarantine").await;
    let s = &w.session;
    let d = dispatched_order(&app, &w).await;
    let line = json!([{ "salesOrderLineId": d.lines[0], "quantity": 1 }]);
    let storage = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "salesOrderId": d.order, "locationId": w.a, "reason": "wrong size", "lines": line } }),
    )
    .await;
    assert_eq!(
        storage["data"]["receiveReturn"]["userErrors"][0]["field"], "locationId",
        "{storage}"
    );
    assert!(
        storage["data"]["receiveReturn"]["userErrors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("the location is not a quarantine location"),
        "{storage}"
    );
    // A quarantine location of another warehouse.
    let other = app
        .ok(
            s,
            "mutation { createWarehouse(input: { code: \"CPT1\", name: \"Cape Town\" }) { warehouse { id } } }",
            json!({}),
        )
        .await;
    let elsewhere = app
        .ok(
            s,
            "mutation ($i: CreateLocationInput!) { createLocation(input: $i) { location { id } } }",
            json!({ "i": { "warehouseId": other["createWarehouse"]["warehouse"]["id"], "code": "Q-CPT", "kind": "QUARANTINE", "pickable": false } }),
        )
        .await;
    let far = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "salesOrderId": d.order, "locationId": elsewhere["createLocation"]["location"]["id"],
                       "reason": "wrong size", "lines": line } }),
    )
    .await;
    assert!(
        far["data"]["receiveReturn"]["userErrors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("the location is not in the warehouse of sales order SO-000001"),
        "{far}"
    );
    let blank = call(
        &app,
        s,
        RECEIVE,
        json!({ "i": { "salesOrderId": d.order, "locationId": d.quarantine, "reason": "  ", "lines": line } }),
    )
    .await;
    assert_eq!(
        blank["data"]["receiveReturn"]["userErrors"][0]["field"], "reason",
        "{blank}"
    );
    assert_eq!(held(&app, s, &w.product, &d.quarantine).await, (0, 0));
}

async fn restock_and_scrap_post_their_movements_and_the_status_follows(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Dispositions").await;
    let s = &w.session;
    let d = dispatched_order(&app, &w).await;
    let received = app
        .ok(
            s,
            RECEIVE,
            receive_input(
                &d,
                json!([{ "salesOrderLineId": d.lines[0], "quantity": 4 }, { "salesOrderLineId": d.lines[1], "quantity": 2, "lotCode": "L1" }]),
            ),
        )
        .await;
    let lines = &received["receiveReturn"]["customerReturn"]["lines"];
    let (first, second) = (lines[0]["id"].clone(), lines[1]["id"].clone());
    let (a_before, _) = held(&app, s, &w.product, &w.a).await;

    // Restock 2 at A, scrap 1: 1 left in quarantine; the return is partly dispositioned.
    let step = app
        .ok(
            s,
            DISPOSITION,
            json!({ "i": { "returnLineId": first, "restock": { "quantity": 2, "locationId": w.a }, "scrap": { "quantity": 1 } } }),
        )
        .await;
    let back = &step["dispositionReturnLine"]["customerReturn"];
    assert_eq!(back["status"], "PARTIALLY_DISPOSITIONED");
    assert_eq!(back["nextStatuses"], json!(["CLOSED"]));
    assert_eq!(
        back["lines"][0],
        json!({ "quantityReturned": 4, "quantityRestocked": 2, "quantityScrapped": 1, "quantityInQuarantine": 1 })
    );
    assert_eq!(held(&app, s, &w.product, &d.quarantine).await, (1, 0));
    assert_eq!(held(&app, s, &w.product, &w.a).await, (a_before + 2, 0));
    let moved = app
        .ok(
            s,
            "{ restock: stockMovements(filter: { reason: \"restock\" }) { nodes { quantity fromPlace toPlace } }
               scrap: stockMovements(filter: { reason: \"scrap\" }) { nodes { quantity fromPlace toPlace } }
               back: stockMovements(filter: { reason: \"return\" }) { nodes { quantity fromPlace toPlace } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        moved["restock"]["nodes"],
        json!([{ "quantity": 2, "fromPlace": "LOCATION", "toPlace": "LOCATION" }])
    );
    assert_eq!(
        moved["scrap"]["nodes"],
        json!([{ "quantity": 1, "fromPlace": "LOCATION", "toPlace": "SCRAP" }])
    );
    assert_eq!(moved["back"]["nodes"].as_array().map(Vec::len), Some(2));
    assert!(
        moved["back"]["nodes"]
            .as_array()
            .expect("movements")
            .iter()
            .all(|m| m["fromPlace"] == "CUSTOMER" && m["toPlace"] == "LOCATION")
    );

    // Never more than is left in quarantine.
    let over = call(
        &app,
        s,
        DISPOSITION,
        json!({ "i": { "returnLineId": first, "scrap": { "quantity": 2 } } }),
    )
    .await;
    assert_eq!(error_code(&over), Some("CONFLICT"), "{over}");
    assert!(
        message(&over).contains(
            "line 1 of customer return RT-000001: 4 returned, 2 restocked, 1 scrapped: 1 left in quarantine, not 2"
        ),
        "{over}"
    );
    // Restocking goes to a storage or picking location; something must be decided.
    for (input, field) in [
        (
            json!({ "returnLineId": first, "restock": { "quantity": 1, "locationId": w.receiving } }),
            "restock.locationId",
        ),
        (json!({ "returnLineId": first }), "restock"),
        (
            json!({ "returnLineId": first, "scrap": { "quantity": 0 } }),
            "scrap.quantity",
        ),
    ] {
        let reply = call(&app, s, DISPOSITION, json!({ "i": input })).await;
        assert_eq!(
            reply["data"]["dispositionReturnLine"]["userErrors"][0]["field"], field,
            "{reply}"
        );
    }

    // The last units of both lines: the return closes.
    app.ok(
        s,
        DISPOSITION,
        json!({ "i": { "returnLineId": first, "restock": { "quantity": 1, "locationId": w.picking } } }),
    )
    .await;
    let closed = app
        .ok(
            s,
            DISPOSITION,
            json!({ "i": { "returnLineId": second, "scrap": { "quantity": 2 } } }),
        )
        .await;
    let back = &closed["dispositionReturnLine"]["customerReturn"];
    assert_eq!(back["status"], "CLOSED");
    assert_eq!(back["nextStatuses"], json!([]));
    assert_eq!(held(&app, s, &w.product, &d.quarantine).await, (0, 0));
    assert_eq!(held(&app, s, &w.lotted, &d.quarantine).await, (0, 0));
    let done = call(
        &app,
        s,
        DISPOSITION,
        json!({ "i": { "returnLineId": second, "scrap": { "quantity": 1 } } }),
    )
    .await;
    assert_eq!(error_code(&done), Some("CONFLICT"), "{done}");
    assert!(message(&done).contains("0 left in quarantine"), "{done}");

    let audit = app
        .ok(
            s,
            "{ auditEvents(filter: { action: \"customer_return.disposition\" }) { nodes { detail } } }",
            json!({}),
        )
        .await;
    let nodes = audit["auditEvents"]["nodes"].as_array().expect("events");
    assert_eq!(nodes.len(), 3, "{audit}");
    assert!(
        nodes
            .iter()
            .any(|n| n["detail"]["after"]["status"] == "closed"
                && n["detail"]["before"]["status"] == "partially_dispositioned"),
        "{audit}"
    );
}

async fn retries_with_the_same_key_move_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Retries").await;
    let s = &w.session;
    let d = dispatched_order(&app, &w).await;
    let mut numbers = Vec::new();
    let mut line = Value::Null;
    for _ in 0..2 {
        let mut input = receive_input(
            &d,
            json!([{ "salesOrderLineId": d.lines[0], "quantity": 2 }]),
        );
        input["i"]["idempotencyKey"] = json!("rma-1");
        let reply = app.ok(s, RECEIVE, input).await;
        let back = &reply["receiveReturn"]["customerReturn"];
        numbers.push(back["number"].clone());
        line = back["lines"][0]["id"].clone();
    }
    assert_eq!(numbers, vec![json!("RT-000001"), json!("RT-000001")]);
    assert_eq!(held(&app, s, &w.product, &d.quarantine).await, (2, 0));
    for _ in 0..2 {
        let reply = app
            .ok(
                s,
                DISPOSITION,
                json!({ "i": { "returnLineId": line, "scrap": { "quantity": 1 }, "idempotencyKey": "scrap-1" } }),
            )
            .await;
        assert_eq!(
            reply["dispositionReturnLine"]["customerReturn"]["lines"][0]["quantityScrapped"],
            1
        );
    }
    assert_eq!(held(&app, s, &w.product, &d.quarantine).await, (1, 0));
    let counted = app
        .ok(
            s,
            "{ customerReturns { totalCount } scrap: stockMovements(filter: { reason: \"scrap\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(counted["customerReturns"]["totalCount"], 1);
    assert_eq!(counted["scrap"]["totalCount"], 1);
}

async fn another_organisations_returns_are_missing_ones(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = app.organisation_with_stock_setup("Alpha").await;
    let beta = app.organisation_with_stock_setup("Beta").await;
    let d = dispatched_order(&app, &alpha).await;
    let received = app
        .ok(
            &alpha.session,
            RECEIVE,
            receive_input(
                &d,
                json!([{ "salesOrderLineId": d.lines[0], "quantity": 2 }]),
            ),
        )
        .await;
    let back = &received["receiveReturn"]["customerReturn"];
    let (return_id, line_id) = (back["id"].clone(), back["lines"][0]["id"].clone());
    let beta_quarantine = location(&app, &beta, "Q-01", "QUARANTINE", false).await;
    let b = &beta.session;
    let unknown = |kind: &str| json!(vaskem::graphql::ids::encode(kind, uuid::Uuid::now_v7()).0);
    for document in [
        "query ($id: ID!) { customerReturn(id: $id) { number } }",
        "query ($id: ID!) { node(id: $id) { id } }",
    ] {
        app.assert_foreign_id_is_missing(b, document, &return_id, &unknown("CustomerReturn"))
            .await;
    }
    app.assert_foreign_id_is_missing(
        b,
        "mutation ($id: ID!) { dispositionReturnLine(input: { returnLineId: $id, scrap: { quantity: 1 } }) { customerReturn { id } } }",
        &line_id,
        &unknown("CustomerReturnLine"),
    )
    .await;
    let receive = format!(
        "mutation ($id: ID!) {{ receiveReturn(input: {{ salesOrderId: $id, locationId: \"{beta_quarantine}\", reason: \"x\", lines: [{{ salesOrderLineId: \"{}\", quantity: 1 }}] }}) {{ customerReturn {{ id }} }} }}",
        d.lines[0]
    );
    app.assert_foreign_id_is_missing(b, &receive, &json!(d.order), &unknown("SalesOrder"))
        .await;
    let listed = app
        .ok(b, "{ customerReturns { totalCount } }", json!({}))
        .await;
    assert_eq!(listed["customerReturns"]["totalCount"], 0);
    // Alpha's return is untouched.
    assert_eq!(
        held(&app, &alpha.session, &alpha.product, &d.quarantine).await,
        (2, 0)
    );
}

async fn customer_return_lists_filter_and_cost_the_same_at_any_length(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("ReturnLists").await;
    let s = &w.session;
    let d = dispatched_order(&app, &w).await;
    let mut first_line = Value::Null;
    for i in 0..4 {
        let lines = if i == 0 {
            json!([{ "salesOrderLineId": d.lines[0], "quantity": 1 }, { "salesOrderLineId": d.lines[1], "quantity": 1, "lotCode": "L1" }])
        } else {
            json!([{ "salesOrderLineId": d.lines[i % 2], "quantity": 1, "lotCode": if i % 2 == 1 { json!("L1") } else { Value::Null } }])
        };
        let reply = app.ok(s, RECEIVE, receive_input(&d, lines)).await;
        if i == 0 {
            first_line = reply["receiveReturn"]["customerReturn"]["lines"][0]["id"].clone();
        }
    }
    app.ok(
        s,
        DISPOSITION,
        json!({ "i": { "returnLineId": first_line, "scrap": { "quantity": 1 } } }),
    )
    .await;
    let lists = app
        .ok(
            s,
            "query ($o: ID!) {
               received: customerReturns(filter: { statuses: [RECEIVED] }) { totalCount }
               partly: customerReturns(filter: { statuses: [PARTIALLY_DISPOSITIONED] }) { nodes { number } }
               ofOrder: customerReturns(filter: { salesOrderId: $o }) { totalCount }
               latest: customerReturns(first: 1, sort: { field: CREATED_AT, direction: DESC }) { nodes { number } }
             }",
            json!({ "o": d.order }),
        )
        .await;
    assert_eq!(lists["received"]["totalCount"], 3);
    assert_eq!(lists["partly"]["nodes"], json!([{ "number": "RT-000001" }]));
    assert_eq!(lists["ofOrder"]["totalCount"], 4);
    assert_eq!(lists["latest"]["nodes"], json!([{ "number": "RT-000004" }]));

    let page = "query ($n: Int!) { customerReturns(first: $n) { nodes { number status location { code } salesOrder { number } lines { lotCode quantityReturned product { sku } } } } }";
    let mut costs = Vec::new();
    for size in [1, 4] {
        let before = app.database.serving.statements_run();
        let data = app.ok(s, page, json!({ "n": size })).await;
        costs.push(app.database.serving.statements_run() - before);
        let nodes = data["customerReturns"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), size);
    }
    assert_eq!(costs[0], costs[1], "4 returns cost what 1 does: {costs:?}");
}

/// Eight returns of one unit each race for the last 3 returnable units of a line: exactly 3
/// arrive, the rest are refused naming the limit, and quarantine holds 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_parallel_returns_take_back_only_what_was_dispatched() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let w = app.organisation_with_stock_setup("ReturnRush").await;
    let s = &w.session;
    let d = dispatched_order(&app, &w).await;
    // 2 of the 5 came back already.
    app.ok(
        s,
        RECEIVE,
        receive_input(
            &d,
            json!([{ "salesOrderLineId": d.lines[0], "quantity": 2 }]),
        ),
    )
    .await;
    let attempts = (0..8).map(|_| {
        let (app, d) = (&app, &d);
        async move {
            call(
                app,
                s,
                RECEIVE,
                receive_input(
                    d,
                    json!([{ "salesOrderLineId": d.lines[0], "quantity": 1 }]),
                ),
            )
            .await
        }
    });
    let replies = futures::future::join_all(attempts).await;
    let (succeeded, refused): (Vec<&Value>, Vec<&Value>) =
        replies.iter().partition(|r| r["errors"].is_null());
    for reply in &succeeded {
        assert_ok(reply);
    }
    assert_eq!(succeeded.len(), 3, "returns that arrived");
    for reply in refused {
        assert_eq!(error_code(reply), Some("CONFLICT"), "{reply}");
        assert!(
            message(reply).contains("5 dispatched, 5 returned already: at most 0 more"),
            "{reply}"
        );
    }
    assert_eq!(held(&app, s, &w.product, &d.quarantine).await, (5, 0));
    checks.finish().await;
}

/// The order's own view of what happened after it left: its shipments, its returns, and one
/// timeline that runs from creation through the pick list, the dispatch, the carrier's reports
/// and the delivery to the return and its disposition, oldest first, with their movements.
async fn an_orders_story_reaches_its_shipments_and_returns(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Stories").await;
    let s = &w.session;
    let d = dispatched_order(&app, &w).await;
    let ups = crate::support::fixtures::carrier(&app, s, "UPS", &["EXPRESS"]).await;
    let sent = app
        .ok(
            s,
            "mutation ($i: CreateShipmentInput!) { createShipment(input: $i) { shipment { id } } }",
            json!({ "i": { "salesOrderId": d.order, "carrierServiceId": ups.services[0], "trackingNumber": "1Z1" } }),
        )
        .await;
    let shipment = sent["createShipment"]["shipment"]["id"].clone();
    app.ok(
        s,
        "mutation ($i: UpdateShipmentStatusInput!) { updateShipmentStatus(input: $i) { shipment { status } } }",
        json!({ "i": { "shipmentId": shipment, "status": "IN_TRANSIT" } }),
    )
    .await;
    app.ok(
        s,
        "mutation ($i: ConfirmDeliveryInput!) { confirmDelivery(input: $i) { shipment { status } } }",
        json!({ "i": { "shipmentId": shipment, "receivedBy": "Dock" } }),
    )
    .await;
    let back = app
        .ok(
            s,
            RECEIVE,
            receive_input(
                &d,
                json!([{ "salesOrderLineId": d.lines[0], "quantity": 2 }]),
            ),
        )
        .await;
    let returned = &back["receiveReturn"]["customerReturn"];
    let stock = location(&app, &w, "R-01", "STORAGE", true).await;
    app.ok(
        s,
        DISPOSITION,
        json!({ "i": { "returnLineId": returned["lines"][0]["id"], "restock": { "quantity": 2, "locationId": stock } } }),
    )
    .await;

    let data = app
        .ok(
            s,
            "query ($id: ID!) { salesOrder(id: $id) { shipments { number status } returns { number status } timeline { event { action entityType } movements { quantity fromPlace toPlace } } } }",
            json!({ "id": d.order }),
        )
        .await;
    let order = &data["salesOrder"];
    assert_eq!(
        order["shipments"],
        json!([{ "number": "SH-000001", "status": "DELIVERED" }])
    );
    assert_eq!(
        order["returns"],
        json!([{ "number": "RT-000001", "status": "CLOSED" }])
    );
    let story: Vec<(String, String, usize)> = order["timeline"]
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
                entry["movements"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    let actions: Vec<&str> = story.iter().map(|(action, _, _)| action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "sales_order.create",
            "sales_order.confirm",
            "sales_order.allocate",
            "pick_list.create",
            "pick.confirm",
            "pick.confirm",
            "sales_order.pack",
            "sales_order.dispatch",
            "shipment.create",
            "shipment.status",
            "shipment.deliver",
            "customer_return.receive",
            "customer_return.disposition",
        ],
        "{story:?}"
    );
    // The return brought 2 units back from the customer; the disposition put them in stock.
    let received = &story[11];
    assert_eq!((received.1.as_str(), received.2), ("customer_return", 1));
    assert!(story[12].2 >= 1, "{story:?}");
}

/// A product archived after it was sold takes no new stock, but what the customer sends back was
/// ours: the return is booked into quarantine, can be scrapped or restocked, and a plain
/// adjustment of the product is still refused.
async fn a_product_archived_since_dispatch_still_comes_back(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Archived").await;
    let s = &w.session;
    let d = dispatched_order(&app, &w).await;
    app.ok(
        s,
        "mutation ($id: ID!) { archiveProduct(input: { id: $id }) { product { active } } }",
        json!({ "id": w.product }),
    )
    .await;
    let back = app
        .ok(
            s,
            RECEIVE,
            receive_input(
                &d,
                json!([{ "salesOrderLineId": d.lines[0], "quantity": 2 }]),
            ),
        )
        .await;
    let line = &back["receiveReturn"]["customerReturn"]["lines"][0];
    assert_eq!(line["quantityInQuarantine"], 2, "{back}");
    assert_eq!(held(&app, s, &w.product, &d.quarantine).await, (2, 0));
    app.ok(
        s,
        DISPOSITION,
        json!({ "i": { "returnLineId": line["id"], "scrap": { "quantity": 2 } } }),
    )
    .await;
    assert_eq!(held(&app, s, &w.product, &d.quarantine).await, (0, 0));
    // New stock of it is still refused.
    let adjusted = call(
        &app,
        s,
        "mutation ($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { field message } } }",
        json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "found" } }),
    )
    .await;
    assert_eq!(error_code(&adjusted), Some("CONFLICT"), "{adjusted}");
    assert!(message(&adjusted).contains("is archived"), "{adjusted}");
}
