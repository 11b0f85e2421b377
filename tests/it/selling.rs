//! Sales orders: drafts, confirmation, allocation (first expiry first out, pickable locations
//! only, never more than is available), cancellation releasing what was held, pick lists in
//! walking order, picks (full, short and re-allocated, short and back-ordered), idempotent
//! retries, another organisation's ids, and (on PostgreSQL) fifty orders allocating the last
//! units at once. The teardown checks every balance's reserved figure against the allocations.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::fixtures::{StockSetup, call};
use crate::support::{Backend, Session, TestApp, assert_ok};

on_both_databases!(
    an_order_is_drafted_confirmed_and_allocated_first_expiry_first_out,
    allocation_uses_pickable_stock_only_and_fails_or_backorders_when_short,
    cancelling_releases_every_reservation,
    illegal_transitions_name_the_state_and_the_allowed_ones,
    pick_lists_walk_by_location_code_and_picks_stage_the_stock,
    a_short_pick_is_reallocated_or_backordered_as_the_caller_chooses,
    retries_with_the_same_key_allocate_and_pick_once,
    bad_drafts_are_refused_and_leave_nothing,
    another_organisations_orders_and_picks_are_missing_ones,
    sales_order_lists_filter_and_cost_the_same_at_any_length,
    a_picked_order_is_packed_and_dispatched_to_the_customer,
);

pub const CREATE: &str = "mutation ($i: CreateSalesOrderInput!) { createSalesOrder(input: $i) { salesOrder { id number status nextStatuses requestedShipOn shippingAddress { label } customer { code } warehouse { code } lines { id lineNumber quantityOrdered quantityUnallocated product { sku } } } userErrors { field message } } }";
const ORDER: &str = "query ($id: ID!) { salesOrder(id: $id) { number status nextStatuses lines { lineNumber quantityOrdered quantityAllocated quantityPicked quantityBackordered quantityDispatched quantityUnallocated } allocations { id quantity quantityPicked status location { code } stagedLocation { code } lotCode expiresOn pickListId } } }";
pub const ALLOCATE: &str = "mutation ($i: AllocateSalesOrderInput!) { allocateSalesOrder(input: $i) { salesOrder { id status } userErrors { field message } } }";
const CANCEL: &str = "mutation ($id: ID!) { cancelSalesOrder(input: { id: $id }) { salesOrder { status } userErrors { field message } } }";
pub const PICK_LIST: &str = "mutation ($ids: [ID!]!) { createPickList(input: { salesOrderIds: $ids }) { pickList { id number status picks { id quantity status location { code } product { sku } lotCode salesOrder { number } } } userErrors { field message } } }";
pub const PACK: &str = "mutation ($i: PackSalesOrderInput!) { packSalesOrder(input: $i) { status salesOrder { status packages { packageNumber weightGrams lengthMm widthMm heightMm } } userErrors { field message } } }";
pub const DISPATCH: &str = "mutation ($i: DispatchSalesOrderInput!) { dispatchSalesOrder(input: $i) { status salesOrder { status lines { quantityDispatched } } userErrors { field message } } }";
pub const CONFIRM_PICK: &str = "mutation ($i: ConfirmPickInput!) { confirmPick(input: $i) { allocation { id quantity quantityPicked status stagedLocation { code } } userErrors { field message } } }";

/// A customer `code` with one shipping address; returns its id.
pub async fn customer(app: &TestApp, s: &Session, code: &str) -> String {
    let data = app
        .ok(
            s,
            "mutation ($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } userErrors { field message } } }",
            json!({ "i": { "code": code, "name": format!("Customer {code}"), "addresses": [
                { "kind": "SHIPPING", "label": format!("{code} DC"), "city": "Cape Town" },
            ] } }),
        )
        .await;
    data["createCustomer"]["customer"]["id"]
        .as_str()
        .expect("customer id")
        .to_owned()
}

/// A location of the setup's warehouse; returns its id.
pub async fn location(
    app: &TestApp,
    w: &StockSetup,
    code: &str,
    kind: &str,
    pickable: bool,
) -> String {
    let data = app
        .ok(
            &w.session,
            "mutation ($i: CreateLocationInput!) { createLocation(input: $i) { location { id } userErrors { field message } } }",
            json!({ "i": { "warehouseId": w.warehouse, "code": code, "kind": kind, "pickable": pickable } }),
        )
        .await;
    data["createLocation"]["location"]["id"]
        .as_str()
        .expect("location id")
        .to_owned()
}

/// `quantity` units of a lot of the lot-tracked product at `location`.
pub async fn add_lot(
    app: &TestApp,
    w: &StockSetup,
    location: &str,
    lot: &str,
    expires: &str,
    quantity: i64,
) {
    app.ok(
        &w.session,
        crate::support::fixtures::ADJUST,
        json!({ "i": { "productId": w.lotted, "locationId": location, "change": quantity, "reason": "found",
                       "lot": { "code": lot, "expiresOn": expires } } }),
    )
    .await;
}

/// A sales order of `(product, quantity)` lines from the setup's warehouse, confirmed if
/// `confirm`. Returns its id.
pub async fn order(
    app: &TestApp,
    w: &StockSetup,
    customer: &str,
    lines: &[(&str, i64)],
    confirm: bool,
) -> String {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(product, quantity)| json!({ "productId": product, "quantity": quantity }))
        .collect();
    let data = app
        .ok(
            &w.session,
            CREATE,
            json!({ "i": { "customerId": customer, "warehouseId": w.warehouse, "requestedShipOn": "2026-12-01", "lines": lines } }),
        )
        .await;
    let id = data["createSalesOrder"]["salesOrder"]["id"]
        .as_str()
        .expect("order id")
        .to_owned();
    if confirm {
        app.ok(
            &w.session,
            "mutation ($id: ID!) { confirmSalesOrder(input: { id: $id }) { salesOrder { status } userErrors { field message } } }",
            json!({ "id": id }),
        )
        .await;
    }
    id
}

async fn state(app: &TestApp, s: &Session, id: &str) -> Value {
    app.ok(s, ORDER, json!({ "id": id })).await["salesOrder"].clone()
}

/// (on hand, reserved) of `product` at `location`, over its lots.
pub async fn held(app: &TestApp, s: &Session, product: &str, location: &str) -> (i64, i64) {
    let body = call(
        app,
        s,
        "query ($p: ID!, $l: ID) { stockOnHand(filter: {productId: $p, locationId: $l}) { nodes { onHand reserved } } }",
        json!({ "p": product, "l": location }),
    )
    .await;
    let nodes = body["data"]["stockOnHand"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    nodes.iter().fold((0, 0), |(on_hand, reserved), b| {
        (
            on_hand + b["onHand"].as_i64().unwrap_or(0),
            reserved + b["reserved"].as_i64().unwrap_or(0),
        )
    })
}

fn message(reply: &Value) -> &str {
    reply["errors"][0]["message"].as_str().unwrap_or("")
}

async fn an_order_is_drafted_confirmed_and_allocated_first_expiry_first_out(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Sellers").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    app.adjust(s, &w.product, &w.picking, 6).await;
    app.adjust(s, &w.product, &w.a, 10).await;
    // Three lots of the tracked product: one expired, one expiring soon (at A), one later (at P).
    add_lot(&app, &w, &w.picking, "OLD", "2020-01-31", 9).await;
    add_lot(&app, &w, &w.picking, "LATE", "2031-01-31", 9).await;
    add_lot(&app, &w, &w.a, "SOON", "2030-01-31", 4).await;

    let created = app
        .ok(
            s,
            CREATE,
            json!({ "i": { "customerId": cape, "warehouseId": w.warehouse, "requestedShipOn": "2026-12-01", "note": "call first",
                           "lines": [ { "productId": w.product, "quantity": 8 }, { "productId": w.lotted, "quantity": 6 } ] } }),
        )
        .await;
    let order = &created["createSalesOrder"]["salesOrder"];
    assert_eq!(order["number"], "SO-000001");
    assert_eq!(order["status"], "DRAFT");
    assert_eq!(order["nextStatuses"], json!(["CONFIRMED", "CANCELLED"]));
    assert_eq!(
        order["shippingAddress"]["label"], "CAPE DC",
        "the default shipping address"
    );
    assert_eq!(order["customer"]["code"], "CAPE");
    assert_eq!(order["lines"][1]["product"]["sku"], "LOT-1");
    assert_eq!(order["lines"][0]["quantityUnallocated"], 8);
    let id = order["id"].as_str().expect("id").to_owned();

    app.ok(
        s,
        "mutation ($id: ID!) { confirmSalesOrder(input: { id: $id }) { salesOrder { status } } }",
        json!({ "id": id }),
    )
    .await;
    let allocated = app.ok(s, ALLOCATE, json!({ "i": { "id": id } })).await;
    assert_eq!(
        allocated["allocateSalesOrder"]["salesOrder"]["status"],
        "ALLOCATED"
    );

    let after = state(&app, s, &id).await;
    assert_eq!(after["nextStatuses"], json!(["PICKING", "CANCELLED"]));
    assert_eq!(after["lines"][0]["quantityAllocated"], 8);
    assert_eq!(after["lines"][1]["quantityAllocated"], 6);
    assert_eq!(after["lines"][1]["quantityUnallocated"], 0);
    let picks: Vec<(String, Value, i64)> = after["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .map(|a| {
            (
                a["location"]["code"].as_str().unwrap_or("").to_owned(),
                a["lotCode"].clone(),
                a["quantity"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    // Untracked: by location code (A-01-01 before P-01-01). Tracked: the soonest unexpired lot
    // first, wherever it lies; the expired lot never.
    assert_eq!(
        picks,
        vec![
            ("A-01-01".to_owned(), Value::Null, 8),
            ("A-01-01".to_owned(), json!("SOON"), 4),
            ("P-01-01".to_owned(), json!("LATE"), 2),
        ]
    );
    assert_eq!(held(&app, s, &w.product, &w.a).await, (10, 8));
    assert_eq!(held(&app, s, &w.product, &w.picking).await, (6, 0));
    assert_eq!(held(&app, s, &w.lotted, &w.picking).await, (18, 2));
    // Reserved stock cannot be taken away: 2 of A's 10 are free.
    let taking = call(
        &app,
        s,
        crate::support::fixtures::ADJUST,
        json!({ "i": { "productId": w.product, "locationId": w.a, "change": -3, "reason": "damaged" } }),
    )
    .await;
    assert_eq!(error_code(&taking), Some("CONFLICT"), "{taking}");
    assert!(
        message(&taking).contains("2 available, 3 requested"),
        "{taking}"
    );

    // Audited with what was reserved where.
    let audit = app
        .ok(
            s,
            "{ auditEvents(filter: { action: \"sales_order.allocate\" }) { nodes { detail } } }",
            json!({}),
        )
        .await;
    let after = &audit["auditEvents"]["nodes"][0]["detail"]["after"];
    assert_eq!(after["status"], "allocated", "{after}");
    assert_eq!(after["allocations"][1]["lot"], "SOON", "{after}");
}

async fn allocation_uses_pickable_stock_only_and_fails_or_backorders_when_short(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Short").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    let reserve = location(&app, &w, "R-09-09", "STORAGE", false).await;
    // Only P-01-01's 3 may be allocated: receiving and non-pickable stock are not.
    app.adjust(s, &w.product, &w.receiving, 50).await;
    app.adjust(s, &w.product, &reserve, 50).await;
    app.adjust(s, &w.product, &w.picking, 3).await;

    let id = order(&app, &w, &cape, &[(&w.product, 5)], true).await;
    let refused = call(&app, s, ALLOCATE, json!({ "i": { "id": id } })).await;
    assert_eq!(error_code(&refused), Some("CONFLICT"), "{refused}");
    assert!(
        message(&refused).contains("insufficient stock of SKU-1 at the pickable locations of JHB1: 3 available, 5 requested"),
        "{refused}"
    );
    // Nothing reserved, nothing changed.
    assert_eq!(held(&app, s, &w.product, &w.picking).await, (3, 0));
    let unchanged = state(&app, s, &id).await;
    assert_eq!(unchanged["status"], "CONFIRMED");
    assert_eq!(unchanged["allocations"], json!([]));

    let partly = app
        .ok(
            s,
            ALLOCATE,
            json!({ "i": { "id": id, "shortage": "BACKORDER" } }),
        )
        .await;
    assert_eq!(
        partly["allocateSalesOrder"]["salesOrder"]["status"],
        "ALLOCATED"
    );
    let after = state(&app, s, &id).await;
    assert_eq!(after["lines"][0]["quantityAllocated"], 3);
    assert_eq!(after["lines"][0]["quantityBackordered"], 2);
    assert_eq!(after["lines"][0]["quantityUnallocated"], 0);
    assert_eq!(held(&app, s, &w.product, &w.picking).await, (3, 3));

    // With nothing left, even a back-ordering allocation is refused: it would reserve nothing.
    let second = order(&app, &w, &cape, &[(&w.product, 1)], true).await;
    let nothing = call(
        &app,
        s,
        ALLOCATE,
        json!({ "i": { "id": second, "shortage": "BACKORDER" } }),
    )
    .await;
    assert_eq!(error_code(&nothing), Some("CONFLICT"), "{nothing}");
    assert!(
        message(&nothing).contains("0 available, 1 requested"),
        "{nothing}"
    );
    assert_eq!(state(&app, s, &second).await["status"], "CONFIRMED");
}

async fn cancelling_releases_every_reservation(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Cancellers").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    let ship = location(&app, &w, "SHIP-01", "SHIPPING", false).await;
    app.adjust(s, &w.product, &w.picking, 10).await;
    let id = order(&app, &w, &cape, &[(&w.product, 7)], true).await;
    app.ok(s, ALLOCATE, json!({ "i": { "id": id } })).await;
    assert_eq!(held(&app, s, &w.product, &w.picking).await, (10, 7));
    // Picked in part: 4 staged at SHIP-01, 3 still reserved at P-01-01 on a second pick.
    let list = app.ok(s, PICK_LIST, json!({ "ids": [id] })).await;
    let pick = list["createPickList"]["pickList"]["picks"][0]["id"].clone();
    app.ok(
        s,
        CONFIRM_PICK,
        json!({ "i": { "allocationId": pick, "quantity": 4, "shortPick": "BACKORDER" } }),
    )
    .await;
    assert_eq!(held(&app, s, &w.product, &w.picking).await, (6, 0));
    assert_eq!(held(&app, s, &w.product, &ship).await, (4, 4));

    let cancelled = app.ok(s, CANCEL, json!({ "id": id })).await;
    assert_eq!(
        cancelled["cancelSalesOrder"]["salesOrder"]["status"],
        "CANCELLED"
    );
    // The staged units stay where they are, free again; nothing is reserved anywhere.
    assert_eq!(held(&app, s, &w.product, &w.picking).await, (6, 0));
    assert_eq!(held(&app, s, &w.product, &ship).await, (4, 0));
    let after = state(&app, s, &id).await;
    assert!(
        after["allocations"]
            .as_array()
            .expect("allocations")
            .iter()
            .all(|a| a["status"] == "RELEASED"),
        "{after}"
    );
    assert_eq!(after["nextStatuses"], json!([]));
    let again = call(&app, s, CANCEL, json!({ "id": id })).await;
    assert_eq!(error_code(&again), Some("CONFLICT"));
    assert!(
        message(&again).contains("is CANCELLED: it cannot become CANCELLED; that is final"),
        "{again}"
    );

    // Another order can now have the freed units.
    let next = order(&app, &w, &cape, &[(&w.product, 6)], true).await;
    app.ok(s, ALLOCATE, json!({ "i": { "id": next } })).await;
    assert_eq!(held(&app, s, &w.product, &w.picking).await, (6, 6));
}

async fn illegal_transitions_name_the_state_and_the_allowed_ones(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Rules").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    app.adjust(s, &w.product, &w.picking, 10).await;
    let id = order(&app, &w, &cape, &[(&w.product, 1)], false).await;
    let early = call(&app, s, ALLOCATE, json!({ "i": { "id": id } })).await;
    assert_eq!(error_code(&early), Some("CONFLICT"));
    assert_eq!(
        message(&early),
        "sales order SO-000001 is DRAFT: it cannot become ALLOCATED; from there it can become CONFIRMED or CANCELLED"
    );
    let list = call(&app, s, PICK_LIST, json!({ "ids": [id] })).await;
    assert_eq!(error_code(&list), Some("CONFLICT"));
    assert!(
        message(&list).contains("is DRAFT: it cannot become PICKING"),
        "{list}"
    );
    // A confirmed order's lines are fixed: only a draft changes.
    app.ok(
        s,
        "mutation ($id: ID!) { confirmSalesOrder(input: { id: $id }) { salesOrder { status } } }",
        json!({ "id": id }),
    )
    .await;
    let edit = call(
        &app,
        s,
        "mutation ($i: UpdateSalesOrderInput!) { updateSalesOrder(input: $i) { salesOrder { id } userErrors { field message } } }",
        json!({ "i": { "id": id, "customerId": cape, "warehouseId": w.warehouse, "lines": [ { "productId": w.product, "quantity": 2 } ] } }),
    )
    .await;
    assert_eq!(error_code(&edit), Some("CONFLICT"));
    assert!(
        message(&edit).contains("is CONFIRMED: only a DRAFT order changes"),
        "{edit}"
    );
    let confirm_again = call(
        &app,
        s,
        "mutation ($id: ID!) { confirmSalesOrder(input: { id: $id }) { salesOrder { status } } }",
        json!({ "id": id }),
    )
    .await;
    assert!(
        message(&confirm_again).contains("from there it can become ALLOCATED or CANCELLED"),
        "{confirm_again}"
    );
}

async fn pick_lists_walk_by_location_code_and_picks_stage_the_stock(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Pickers").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    let ship = location(&app, &w, "SHIP-01", "SHIPPING", false).await;
    let c = location(&app, &w, "C-03-01", "STORAGE", true).await;
    app.adjust(s, &w.product, &c, 2).await;
    app.adjust(s, &w.product, &w.b, 2).await;
    add_lot(&app, &w, &w.a, "L1", "2030-01-31", 5).await;
    let first = order(&app, &w, &cape, &[(&w.product, 3)], true).await;
    let second = order(&app, &w, &cape, &[(&w.lotted, 5), (&w.product, 1)], true).await;
    for id in [&first, &second] {
        app.ok(s, ALLOCATE, json!({ "i": { "id": id } })).await;
    }
    let created = app
        .ok(s, PICK_LIST, json!({ "ids": [second, first] }))
        .await;
    let list = &created["createPickList"]["pickList"];
    assert_eq!(list["number"], "PL-000001");
    assert_eq!(list["status"], "OPEN");
    let walk: Vec<&str> = list["picks"]
        .as_array()
        .expect("picks")
        .iter()
        .map(|p| p["location"]["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        walk,
        vec!["A-01-01", "B-02-01", "C-03-01", "C-03-01"],
        "{list}"
    );
    for id in [&first, &second] {
        assert_eq!(state(&app, s, id).await["status"], "PICKING");
    }
    // Each pick moves what was found to the shipping location, still reserved there.
    for pick in list["picks"].as_array().expect("picks") {
        let quantity = pick["quantity"].as_i64().expect("quantity");
        let done = app
            .ok(
                s,
                CONFIRM_PICK,
                json!({ "i": { "allocationId": pick["id"], "quantity": quantity } }),
            )
            .await;
        let confirmed = &done["confirmPick"]["allocation"];
        assert_eq!(confirmed["status"], "PICKED");
        assert_eq!(confirmed["quantityPicked"], quantity);
        assert_eq!(confirmed["stagedLocation"]["code"], "SHIP-01");
    }
    assert_eq!(held(&app, s, &w.product, &ship).await, (4, 4));
    assert_eq!(held(&app, s, &w.lotted, &ship).await, (5, 5));
    assert_eq!(held(&app, s, &w.product, &c).await, (0, 0));
    assert_eq!(held(&app, s, &w.lotted, &w.a).await, (0, 0));
    let finished = app
        .ok(
            s,
            "query ($id: ID!) { pickList(id: $id) { status completedAt } }",
            json!({ "id": list["id"] }),
        )
        .await;
    assert_eq!(finished["pickList"]["status"], "COMPLETED");
    let line = &state(&app, s, &second).await["lines"][0];
    assert_eq!(line["quantityPicked"], 5);
    // A confirmed pick is not confirmed twice.
    let twice = call(
        &app,
        s,
        CONFIRM_PICK,
        json!({ "i": { "allocationId": list["picks"][0]["id"], "quantity": 1 } }),
    )
    .await;
    assert_eq!(error_code(&twice), Some("CONFLICT"));
    assert!(
        message(&twice).contains("is PICKED: only an OPEN pick is confirmed"),
        "{twice}"
    );
    // Picks go to a SHIPPING location of the order's warehouse, nowhere else.
    let third = order(&app, &w, &cape, &[(&w.product, 1)], true).await;
    app.adjust(s, &w.product, &w.picking, 1).await;
    app.ok(s, ALLOCATE, json!({ "i": { "id": third } })).await;
    let third_list = app.ok(s, PICK_LIST, json!({ "ids": [third] })).await;
    let pick = third_list["createPickList"]["pickList"]["picks"][0]["id"].clone();
    let wrong = call(
        &app,
        s,
        CONFIRM_PICK,
        json!({ "i": { "allocationId": pick, "quantity": 1, "stagingLocationId": w.b } }),
    )
    .await;
    assert_eq!(
        wrong["data"]["confirmPick"]["userErrors"][0]["field"], "stagingLocationId",
        "{wrong}"
    );
    // The refusal does not name the location: a picker need not hold LOCATIONS_VIEW, and the
    // caller knows which id it sent.
    assert_eq!(
        wrong["data"]["confirmPick"]["userErrors"][0]["message"],
        "the staging location is not a SHIPPING location: picks wait for dispatch in one",
        "{wrong}"
    );
}

async fn a_short_pick_is_reallocated_or_backordered_as_the_caller_chooses(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Shorts").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    let ship = location(&app, &w, "SHIP-01", "SHIPPING", false).await;
    app.adjust(s, &w.product, &w.a, 4).await;
    app.adjust(s, &w.product, &w.b, 3).await;
    let id = order(&app, &w, &cape, &[(&w.product, 4)], true).await;
    app.ok(s, ALLOCATE, json!({ "i": { "id": id } })).await;
    let list = app.ok(s, PICK_LIST, json!({ "ids": [id] })).await;
    let list = &list["createPickList"]["pickList"];
    let pick = list["picks"][0]["id"].clone();
    assert_eq!(list["picks"][0]["location"]["code"], "A-01-01");

    // Short without saying what to do with the rest: refused, nothing moves.
    let unsure = call(
        &app,
        s,
        CONFIRM_PICK,
        json!({ "i": { "allocationId": pick, "quantity": 1 } }),
    )
    .await;
    assert_eq!(
        unsure["data"]["confirmPick"]["userErrors"][0]["field"], "shortPick",
        "{unsure}"
    );
    assert_eq!(held(&app, s, &w.product, &w.a).await, (4, 4));
    // More than was reserved: refused.
    let over = call(
        &app,
        s,
        CONFIRM_PICK,
        json!({ "i": { "allocationId": pick, "quantity": 5 } }),
    )
    .await;
    assert_eq!(
        over["data"]["confirmPick"]["userErrors"][0]["field"], "quantity",
        "{over}"
    );

    // 1 found at A; the 3 missing are reserved at B (never at A again) on the same list.
    app.ok(
        s,
        CONFIRM_PICK,
        json!({ "i": { "allocationId": pick, "quantity": 1, "shortPick": "REALLOCATE" } }),
    )
    .await;
    assert_eq!(
        held(&app, s, &w.product, &w.a).await,
        (3, 0),
        "A keeps its figure until a count"
    );
    assert_eq!(held(&app, s, &w.product, &w.b).await, (3, 3));
    assert_eq!(held(&app, s, &w.product, &ship).await, (1, 1));
    let picks = app
        .ok(
            s,
            "query ($id: ID!) { pickList(id: $id) { status picks { id quantity status location { code } } } }",
            json!({ "id": list["id"] }),
        )
        .await;
    let picks = &picks["pickList"];
    assert_eq!(picks["status"], "OPEN");
    assert_eq!(picks["picks"][1]["location"]["code"], "B-02-01");
    assert_eq!(picks["picks"][1]["quantity"], 3);
    assert_eq!(picks["picks"][1]["status"], "OPEN");

    // At B only 1 of 3 is found, and the only other stock is at A, which came up short before:
    // re-allocating is refused naming the shortfall; back-ordering sends the order without the
    // other 2.
    let second = picks["picks"][1]["id"].clone();
    let nowhere = call(
        &app,
        s,
        CONFIRM_PICK,
        json!({ "i": { "allocationId": second, "quantity": 1, "shortPick": "REALLOCATE" } }),
    )
    .await;
    assert_eq!(error_code(&nowhere), Some("CONFLICT"), "{nowhere}");
    assert!(
        message(&nowhere).contains("0 available, 2 requested"),
        "{nowhere}"
    );
    assert_eq!(
        held(&app, s, &w.product, &w.b).await,
        (3, 3),
        "the refusal left nothing"
    );
    app.ok(
        s,
        CONFIRM_PICK,
        json!({ "i": { "allocationId": second, "quantity": 1, "shortPick": "BACKORDER" } }),
    )
    .await;
    let after = state(&app, s, &id).await;
    let line = &after["lines"][0];
    assert_eq!(line["quantityPicked"], 2);
    assert_eq!(line["quantityAllocated"], 2);
    assert_eq!(line["quantityBackordered"], 2);
    assert_eq!(held(&app, s, &w.product, &w.b).await, (2, 0));
    assert_eq!(held(&app, s, &w.product, &ship).await, (2, 2));
}

async fn retries_with_the_same_key_allocate_and_pick_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Retries").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    location(&app, &w, "SHIP-01", "SHIPPING", false).await;
    app.adjust(s, &w.product, &w.picking, 10).await;
    let id = order(&app, &w, &cape, &[(&w.product, 4)], true).await;
    for _ in 0..2 {
        let reply = app
            .ok(
                s,
                ALLOCATE,
                json!({ "i": { "id": id, "idempotencyKey": "alloc-1" } }),
            )
            .await;
        assert_eq!(
            reply["allocateSalesOrder"]["salesOrder"]["status"],
            "ALLOCATED"
        );
    }
    assert_eq!(held(&app, s, &w.product, &w.picking).await, (10, 4));
    // Without the key, a second allocation is a CONFLICT naming the state.
    let again = call(&app, s, ALLOCATE, json!({ "i": { "id": id } })).await;
    assert!(message(&again).contains("is ALLOCATED"), "{again}");
    // The key used for anything else is refused.
    let other = order(&app, &w, &cape, &[(&w.product, 1)], true).await;
    let reused = call(
        &app,
        s,
        ALLOCATE,
        json!({ "i": { "id": other, "idempotencyKey": "alloc-1" } }),
    )
    .await;
    assert_eq!(error_code(&reused), Some("CONFLICT"));
    assert!(message(&reused).contains("different request"), "{reused}");

    let list = app.ok(s, PICK_LIST, json!({ "ids": [id] })).await;
    let pick = list["createPickList"]["pickList"]["picks"][0]["id"].clone();
    for _ in 0..2 {
        let reply = app
            .ok(
                s,
                CONFIRM_PICK,
                json!({ "i": { "allocationId": pick, "quantity": 4, "idempotencyKey": "pick-1" } }),
            )
            .await;
        assert_eq!(reply["confirmPick"]["allocation"]["status"], "PICKED");
    }
    assert_eq!(held(&app, s, &w.product, &w.picking).await, (6, 0));
}

async fn bad_drafts_are_refused_and_leave_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Drafts").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    let other = customer(&app, s, "OTHER").await;
    let other_address = app
        .ok(
            s,
            "query ($id: ID!) { customer(id: $id) { addresses { id } } }",
            json!({ "id": other }),
        )
        .await["customer"]["addresses"][0]["id"]
        .clone();
    let draft = |lines: Value| json!({ "i": { "customerId": cape, "warehouseId": w.warehouse, "lines": lines } });
    let cases = [
        (draft(json!([])), "lines"),
        (
            draft(json!([{ "productId": w.product, "quantity": 0 }])),
            "lines.quantity",
        ),
        (
            draft(
                json!([{ "productId": w.product, "quantity": 1 }, { "productId": w.product, "quantity": 2 }]),
            ),
            "lines.productId",
        ),
    ];
    for (variables, field) in cases {
        let reply = call(&app, s, CREATE, variables).await;
        assert_eq!(
            reply["data"]["createSalesOrder"]["userErrors"][0]["field"], field,
            "{reply}"
        );
    }
    // Another customer's address is as missing as any.
    let foreign_address = call(
        &app,
        s,
        CREATE,
        json!({ "i": { "customerId": cape, "warehouseId": w.warehouse, "shippingAddressId": other_address,
                       "lines": [{ "productId": w.product, "quantity": 1 }] } }),
    )
    .await;
    assert_eq!(
        error_code(&foreign_address),
        Some("NOT_FOUND"),
        "{foreign_address}"
    );
    let lists = app.ok(s, "{ salesOrders { totalCount } }", json!({})).await;
    assert_eq!(
        lists["salesOrders"]["totalCount"], 0,
        "refusals leave nothing"
    );
    // The number a refusal did not use is the next one given.
    let id = order(&app, &w, &cape, &[(&w.product, 1)], false).await;
    let number = app
        .ok(
            s,
            "query ($id: ID!) { salesOrder(id: $id) { number } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(number["salesOrder"]["number"], "SO-000001");
}

async fn another_organisations_orders_and_picks_are_missing_ones(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = app.organisation_with_stock_setup("Alpha").await;
    let beta = app.organisation_with_stock_setup("Beta").await;
    let alpha_customer = customer(&app, &alpha.session, "ALPHA").await;
    app.adjust(&alpha.session, &alpha.product, &alpha.picking, 5)
        .await;
    let order_id = order(&app, &alpha, &alpha_customer, &[(&alpha.product, 2)], true).await;
    app.ok(&alpha.session, ALLOCATE, json!({ "i": { "id": order_id } }))
        .await;
    let list = app
        .ok(&alpha.session, PICK_LIST, json!({ "ids": [order_id] }))
        .await;
    let pick = list["createPickList"]["pickList"]["picks"][0]["id"].clone();
    let list_id = list["createPickList"]["pickList"]["id"].clone();
    let unknown_order = json!(vaskem::graphql::ids::encode("SalesOrder", uuid::Uuid::now_v7()).0);
    let unknown_pick = json!(vaskem::graphql::ids::encode("Allocation", uuid::Uuid::now_v7()).0);
    let unknown_list = json!(vaskem::graphql::ids::encode("PickList", uuid::Uuid::now_v7()).0);
    let b = &beta.session;
    for document in [
        "query ($id: ID!) { salesOrder(id: $id) { number } }",
        "mutation ($id: ID!) { confirmSalesOrder(input: { id: $id }) { salesOrder { id } } }",
        "mutation ($id: ID!) { allocateSalesOrder(input: { id: $id }) { salesOrder { id } } }",
        "mutation ($id: ID!) { cancelSalesOrder(input: { id: $id }) { salesOrder { id } } }",
        "mutation ($id: ID!) { createPickList(input: { salesOrderIds: [$id] }) { pickList { id } } }",
    ] {
        app.assert_foreign_id_is_missing(b, document, &json!(order_id), &unknown_order)
            .await;
    }
    app.assert_foreign_id_is_missing(
        b,
        "mutation ($id: ID!) { confirmPick(input: { allocationId: $id, quantity: 1 }) { allocation { id } } }",
        &pick,
        &unknown_pick,
    )
    .await;
    app.assert_foreign_id_is_missing(
        b,
        "query ($id: ID!) { pickList(id: $id) { number } }",
        &list_id,
        &unknown_list,
    )
    .await;
    // Beta's own order cannot name Alpha's customer, nor be filtered by it.
    let foreign_customer = call(
        &app,
        b,
        CREATE,
        json!({ "i": { "customerId": alpha_customer, "warehouseId": beta.warehouse, "lines": [{ "productId": beta.product, "quantity": 1 }] } }),
    )
    .await;
    assert_eq!(error_code(&foreign_customer), Some("NOT_FOUND"));
    // Alpha's order is untouched and its stock still reserved.
    assert_eq!(
        held(&app, &alpha.session, &alpha.product, &alpha.picking).await,
        (5, 2)
    );
}

async fn sales_order_lists_filter_and_cost_the_same_at_any_length(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Lists").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    let durban = customer(&app, s, "DURBAN").await;
    app.adjust(s, &w.product, &w.picking, 100).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let who = if i % 3 == 0 { &durban } else { &cape };
        ids.push(order(&app, &w, who, &[(&w.product, 1), (&w.lotted, 2)], i < 8).await);
    }
    // Two allocated; one ships later than the rest.
    for id in &ids[..2] {
        app.ok(
            s,
            ALLOCATE,
            json!({ "i": { "id": id, "shortage": "BACKORDER" } }),
        )
        .await;
    }
    app.ok(
        s,
        "mutation ($i: UpdateSalesOrderInput!) { updateSalesOrder(input: $i) { salesOrder { requestedShipOn } } }",
        json!({ "i": { "id": ids[11], "customerId": durban, "warehouseId": w.warehouse, "requestedShipOn": "2027-03-01",
                       "lines": [{ "productId": w.product, "quantity": 1 }] } }),
    )
    .await;
    let lists = app
        .ok(
            s,
            "query ($durban: ID!) {
               allocated: salesOrders(filter: { statuses: [ALLOCATED] }) { totalCount }
               confirmed: salesOrders(filter: { statuses: [CONFIRMED] }) { totalCount }
               durban: salesOrders(filter: { customerId: $durban }) { totalCount }
               today: salesOrders(filter: { statuses: [DRAFT, CONFIRMED, ALLOCATED, PICKING, PACKED], shipBy: \"2026-12-01\" }) { totalCount }
               latest: salesOrders(first: 1, sort: { field: REQUESTED_SHIP_ON, direction: DESC }) { nodes { number requestedShipOn } }
               backorders: salesOrders(filter: { backordered: true }) { totalCount nodes { number lines { quantityBackordered } } }
               complete: salesOrders(filter: { backordered: false }) { totalCount }
             }",
            json!({ "durban": durban }),
        )
        .await;
    assert_eq!(lists["allocated"]["totalCount"], 2);
    assert_eq!(lists["confirmed"]["totalCount"], 6);
    // The two allocated ones had no stock of LOT-1: those lines are back-ordered.
    assert_eq!(lists["backorders"]["totalCount"], 2);
    assert_eq!(
        lists["backorders"]["nodes"][0],
        json!({ "number": "SO-000001", "lines": [{ "quantityBackordered": 0 }, { "quantityBackordered": 2 }] })
    );
    assert_eq!(lists["complete"]["totalCount"], 10);
    // Every third order, and the one moved to Durban.
    assert_eq!(lists["durban"]["totalCount"], 5);
    assert_eq!(lists["today"]["totalCount"], 11);
    assert_eq!(
        lists["latest"]["nodes"],
        json!([{ "number": "SO-000012", "requestedShipOn": "2027-03-01" }])
    );

    let page = "query ($n: Int!) { salesOrders(first: $n) { nodes { number customer { code } shippingAddress { label } warehouse { code } lines { quantityOrdered product { sku } } allocations { quantity location { code } product { sku } lotCode expiresOn } packages { weightGrams } shipments { number } returns { number } timeline { event { action } movements { quantity } } } } }";
    let mut costs = Vec::new();
    for size in [3, 12] {
        let before = app.database.serving.statements_run();
        let data = app.ok(s, page, json!({ "n": size })).await;
        costs.push(app.database.serving.statements_run() - before);
        let nodes = data["salesOrders"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), size);
    }
    assert_eq!(costs[0], costs[1], "12 orders cost what 3 do: {costs:?}");
}

/// Fifty orders allocate at once, each wanting one of the last 13 units, one at each of 13
/// pickable locations: exactly 13 succeed, the rest are refused as short, and nothing is
/// reserved twice. One unit per location puts every allocation at a boundary, so an allocation
/// that chose its location from figures read before taking the locks would be refused at a
/// location another had just filled, although others were free (checked: with the balances read
/// unlocked, fewer than 13 succeed).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_fifty_orders_allocate_the_last_thirteen_units() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let w = app.organisation_with_stock_setup("Rush").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    let mut bins = Vec::new();
    for n in 0..13 {
        let bin = location(&app, &w, &format!("S-{n:02}"), "STORAGE", true).await;
        app.adjust(s, &w.product, &bin, 1).await;
        bins.push(bin);
    }
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(order(&app, &w, &cape, &[(&w.product, 1)], true).await);
    }
    let attempts = ids.iter().map(|id| {
        let app = &app;
        async move { call(app, s, ALLOCATE, json!({ "i": { "id": id } })).await }
    });
    let replies = futures::future::join_all(attempts).await;
    let (succeeded, refused): (Vec<&Value>, Vec<&Value>) =
        replies.iter().partition(|r| r["errors"].is_null());
    for reply in &succeeded {
        assert_ok(reply);
    }
    assert_eq!(succeeded.len(), 13, "allocations that succeeded");
    for reply in refused {
        assert_eq!(error_code(reply), Some("CONFLICT"), "{reply}");
        assert!(
            message(reply).contains("insufficient stock of SKU-1"),
            "{reply}"
        );
    }
    for bin in &bins {
        assert_eq!(held(&app, s, &w.product, bin).await, (1, 1));
    }
    // The teardown proves each balance's reserved figure equals its allocations.
    checks.finish().await;
}

/// An order picked in full on one line and short (back-ordered) on another; returns its id and
/// the SHIPPING location its picks wait in.
pub async fn picked_order(app: &TestApp, w: &StockSetup, customer: &str) -> (String, String) {
    let s = &w.session;
    let ship = location(app, w, "SHIP-01", "SHIPPING", false).await;
    app.adjust(s, &w.product, &w.picking, 10).await;
    add_lot(app, w, &w.a, "L1", "2030-01-31", 4).await;
    let id = order(app, w, customer, &[(&w.product, 6), (&w.lotted, 4)], true).await;
    app.ok(s, ALLOCATE, json!({ "i": { "id": id } })).await;
    let list = app.ok(s, PICK_LIST, json!({ "ids": [id] })).await;
    for pick in list["createPickList"]["pickList"]["picks"]
        .as_array()
        .expect("picks")
    {
        // The lot is found in full, the untracked product one short.
        let quantity = pick["quantity"].as_i64().expect("quantity");
        let found = if pick["lotCode"].is_null() {
            quantity - 1
        } else {
            quantity
        };
        app.ok(
            s,
            CONFIRM_PICK,
            json!({ "i": { "allocationId": pick["id"], "quantity": found, "shortPick": "BACKORDER" } }),
        )
        .await;
    }
    (id, ship)
}

async fn a_picked_order_is_packed_and_dispatched_to_the_customer(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Dispatchers").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;

    // Not before every pick is confirmed.
    let early = order(&app, &w, &cape, &[(&w.product, 1)], true).await;
    app.adjust(s, &w.product, &w.b, 1).await;
    app.ok(s, ALLOCATE, json!({ "i": { "id": early } })).await;
    app.ok(s, PICK_LIST, json!({ "ids": [early] })).await;
    let box_ = json!({ "weightGrams": 1200, "lengthMm": 400, "widthMm": 300, "heightMm": 200 });
    let unpicked = call(
        &app,
        s,
        PACK,
        json!({ "i": { "id": early, "packages": [box_] } }),
    )
    .await;
    assert_eq!(error_code(&unpicked), Some("CONFLICT"));
    assert!(
        message(&unpicked).contains("1 pick(s) still to confirm"),
        "{unpicked}"
    );

    let (id, ship) = picked_order(&app, &w, &cape).await;
    let dispatch_early = call(&app, s, DISPATCH, json!({ "i": { "id": id } })).await;
    assert!(
        message(&dispatch_early).contains("is PICKING: it cannot become DISPATCHED"),
        "{dispatch_early}"
    );
    for (bad, field) in [
        (json!([]), "packages"),
        (
            json!([{ "weightGrams": 0, "lengthMm": 1, "widthMm": 1, "heightMm": 1 }]),
            "packages.weightGrams",
        ),
        (
            json!([{ "weightGrams": 1, "lengthMm": 1, "widthMm": 10001, "heightMm": 1 }]),
            "packages.widthMm",
        ),
    ] {
        let reply = call(&app, s, PACK, json!({ "i": { "id": id, "packages": bad } })).await;
        assert_eq!(
            reply["data"]["packSalesOrder"]["userErrors"][0]["field"], field,
            "{reply}"
        );
    }
    let packed = app
        .ok(
            s,
            PACK,
            json!({ "i": { "id": id, "packages": [box_, { "weightGrams": 800, "lengthMm": 300, "widthMm": 200, "heightMm": 100 }] } }),
        )
        .await;
    let packed = &packed["packSalesOrder"]["salesOrder"];
    assert_eq!(packed["status"], "PACKED");
    assert_eq!(packed["packages"][1]["packageNumber"], 2);
    assert_eq!(packed["packages"][0]["weightGrams"], 1200);
    assert_eq!(held(&app, s, &w.product, &ship).await, (5, 5));

    // Dispatch: every picked unit leaves for the customer, once, however often it is retried.
    for _ in 0..2 {
        let sent = app
            .ok(
                s,
                DISPATCH,
                json!({ "i": { "id": id, "idempotencyKey": "truck-7" } }),
            )
            .await;
        let order = &sent["dispatchSalesOrder"]["salesOrder"];
        assert_eq!(order["status"], "DISPATCHED");
        assert_eq!(
            order["lines"],
            json!([{ "quantityDispatched": 5 }, { "quantityDispatched": 4 }])
        );
    }
    assert_eq!(held(&app, s, &w.product, &ship).await, (0, 0));
    assert_eq!(held(&app, s, &w.lotted, &ship).await, (0, 0));
    let moved = app
        .ok(
            s,
            "{ stockMovements(filter: { reason: \"dispatch\" }) { nodes { quantity fromPlace toPlace } } }",
            json!({}),
        )
        .await;
    let moved = moved["stockMovements"]["nodes"]
        .as_array()
        .expect("movements")
        .clone();
    assert_eq!(moved.len(), 2, "{moved:?}");
    assert!(
        moved
            .iter()
            .all(|m| m["toPlace"] == "CUSTOMER" && m["fromPlace"] == "LOCATION")
    );
    let after = state(&app, s, &id).await;
    assert_eq!(after["lines"][0]["quantityBackordered"], 1);
    assert!(
        after["allocations"]
            .as_array()
            .expect("allocations")
            .iter()
            .all(|a| a["status"] == "DISPATCHED"),
        "{after}"
    );
    // The order's timeline: every event on it, oldest first, with the movements each posted.
    let timeline = app
        .ok(
            s,
            "query ($id: ID!) { salesOrder(id: $id) { timeline { event { action } movements { quantity fromPlace toPlace } } } }",
            json!({ "id": id }),
        )
        .await;
    let entries = timeline["salesOrder"]["timeline"]
        .as_array()
        .expect("timeline")
        .clone();
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["event"]["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        vec![
            "sales_order.create",
            "sales_order.confirm",
            "sales_order.allocate",
            "pick_list.create",
            "pick.confirm",
            "pick.confirm",
            "sales_order.pack",
            "sales_order.dispatch",
        ]
    );
    assert_eq!(
        entries[2]["movements"],
        json!([]),
        "a reservation moves nothing"
    );
    assert_eq!(
        entries[3]["movements"],
        json!([]),
        "a pick list moves nothing"
    );
    assert_eq!(entries[4]["movements"][0]["toPlace"], "LOCATION");
    let sent = entries[7]["movements"]
        .as_array()
        .expect("dispatch movements");
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|m| m["toPlace"] == "CUSTOMER"));
    // Final: no cancel, no second dispatch without the key.
    let cancel = call(&app, s, CANCEL, json!({ "id": id })).await;
    assert!(
        message(&cancel).contains("is DISPATCHED: it cannot become CANCELLED; that is final"),
        "{cancel}"
    );
    let again = call(&app, s, DISPATCH, json!({ "i": { "id": id } })).await;
    assert_eq!(error_code(&again), Some("CONFLICT"));

    // A dispatched line is history, even to a statement that skips the service.
    let tx = vaskem::tenancy::TenantDb::for_operator(&app.database.db, w.tenant)
        .write()
        .await
        .expect("write");
    let line = tx
        .all(<entity::sales_order_line::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("lines")
        .into_iter()
        .find(|l| l.quantity_dispatched > 0)
        .expect("a dispatched line");
    let mut tx = tx;
    let tampered = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        tx.update_many(
            entity::sales_order_line::Entity::update_many()
                .col_expr(
                    entity::sales_order_line::Column::QuantityDispatched,
                    sea_orm::sea_query::Expr::value(99_i64),
                )
                .filter(entity::sales_order_line::Column::Id.eq(line.id)),
        )
        .await
    };
    let refused = tampered.expect_err("a dispatched line was changed");
    assert!(refused.to_string().contains("was dispatched"), "{refused}");
}

/// Eight parallel dispatches of one packed order: exactly one moves the stock, the others are
/// refused naming the state, and the staged units leave once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_parallel_dispatches_of_one_order_send_it_once() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let w = app.organisation_with_stock_setup("Trucks").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    let (id, ship) = picked_order(&app, &w, &cape).await;
    app.ok(
        s,
        PACK,
        json!({ "i": { "id": id, "packages": [{ "weightGrams": 1000, "lengthMm": 300, "widthMm": 200, "heightMm": 100 }] } }),
    )
    .await;
    let attempts = (0..8).map(|_| {
        let (app, id) = (&app, &id);
        async move { call(app, s, DISPATCH, json!({ "i": { "id": id } })).await }
    });
    let replies = futures::future::join_all(attempts).await;
    let (succeeded, refused): (Vec<&Value>, Vec<&Value>) =
        replies.iter().partition(|r| r["errors"].is_null());
    assert_eq!(succeeded.len(), 1, "dispatches that succeeded");
    for reply in refused {
        assert_eq!(error_code(reply), Some("CONFLICT"), "{reply}");
        assert!(message(reply).contains("is DISPATCHED"), "{reply}");
    }
    assert_eq!(held(&app, s, &w.product, &ship).await, (0, 0));
    let moved = app
        .ok(
            s,
            "{ stockMovements(filter: { reason: \"dispatch\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(moved["stockMovements"]["totalCount"], 2);
    checks.finish().await;
}
