//! Shipments: created for a packed or dispatched order's packages with a carrier's service
//! level, tracked (the link from the carrier's template, the packages, the history, the order's
//! lines) through their states to a signed delivery; illegal transitions, a package shipped
//! twice, another organisation's ids, and lists that cost the same at any length.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::selling::{PACK, customer, picked_order};
use crate::support::app::error_code;
use crate::support::fixtures::{StockSetup, call, carrier};
use crate::support::{Backend, TestApp};

on_both_databases!(
    a_packed_order_ships_and_is_tracked_to_its_signed_delivery,
    illegal_transitions_and_bad_shipments_are_refused,
    a_package_ships_once,
    another_organisations_shipments_are_missing_ones,
    shipment_lists_filter_and_cost_the_same_at_any_length,
);

const CREATE: &str = "mutation ($i: CreateShipmentInput!) { createShipment(input: $i) { shipment { id number status nextStatuses trackingNumber trackingUrl carrierName serviceName carrier { code } service { code } packages { packageId packageNumber weightGrams } events { status note } lines { lineNumber sku quantityOrdered quantityPicked quantityDispatched } salesOrder { number } } userErrors { field message } } }";
const STATUS: &str = "mutation ($i: UpdateShipmentStatusInput!) { updateShipmentStatus(input: $i) { shipment { status nextStatuses } userErrors { field message } } }";
const DELIVER: &str = "mutation ($i: ConfirmDeliveryInput!) { confirmDelivery(input: $i) { shipment { status deliveredAt receivedBy nextStatuses } userErrors { field message } } }";
const TRACK: &str = "query ($id: ID!) { shipment(id: $id) { number status trackingUrl receivedBy deliveredAt packages { packageNumber } events { status note occurredAt recordedByUserId } lines { sku quantityDispatched } } }";

fn message(reply: &Value) -> &str {
    reply["errors"][0]["message"].as_str().unwrap_or("")
}

/// A picked order packed into `packages` boxes; returns its id and its packages' ids.
async fn packed_order(app: &TestApp, w: &StockSetup, packages: usize) -> (String, Vec<String>) {
    let s = &w.session;
    let cape = customer(app, s, "CAPE").await;
    let (id, _) = picked_order(app, w, &cape).await;
    let boxes: Vec<Value> = (0..packages)
        .map(|n| json!({ "weightGrams": 1000 + n, "lengthMm": 400, "widthMm": 300, "heightMm": 200 }))
        .collect();
    app.ok(s, PACK, json!({ "i": { "id": id, "packages": boxes } }))
        .await;
    let order = app
        .ok(
            s,
            "query ($id: ID!) { salesOrder(id: $id) { packages { id } } }",
            json!({ "id": id }),
        )
        .await;
    let ids = order["salesOrder"]["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect();
    (id, ids)
}

async fn latest_audit(app: &TestApp, w: &StockSetup) -> Value {
    app.ok(
        &w.session,
        "{ auditEvents(first: 1) { totalCount nodes { action entityType entityId detail } } }",
        json!({}),
    )
    .await["auditEvents"]
        .clone()
}

async fn a_packed_order_ships_and_is_tracked_to_its_signed_delivery(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Shippers").await;
    let s = &w.session;
    let (order, packages) = packed_order(&app, &w, 2).await;
    let ups = carrier(&app, s, "UPS", &["EXPRESS"]).await;

    let before = latest_audit(&app, &w).await["totalCount"]
        .as_i64()
        .expect("count");
    let created = app
        .ok(
            s,
            CREATE,
            json!({ "i": { "salesOrderId": order, "carrierServiceId": ups.services[0], "trackingNumber": " 1Z-999_A " } }),
        )
        .await;
    let shipment = &created["createShipment"]["shipment"];
    assert_eq!(shipment["number"], "SH-000001");
    assert_eq!(shipment["status"], "CREATED");
    assert_eq!(shipment["nextStatuses"], json!(["IN_TRANSIT", "EXCEPTION"]));
    assert_eq!(shipment["trackingNumber"], "1Z-999_A");
    assert_eq!(
        shipment["trackingUrl"],
        "https://track.example.com/UPS?n=1Z-999_A"
    );
    assert_eq!(shipment["carrierName"], "Carrier UPS");
    assert_eq!(shipment["serviceName"], "Service EXPRESS");
    assert_eq!(shipment["carrier"]["code"], "UPS");
    assert_eq!(shipment["service"]["code"], "EXPRESS");
    // Every package not yet shipped, by default.
    assert_eq!(shipment["packages"][0]["packageId"], packages[0].as_str());
    assert_eq!(shipment["packages"][1]["packageNumber"], 2);
    assert_eq!(shipment["packages"][1]["weightGrams"], 1001);
    assert_eq!(
        shipment["events"],
        json!([{ "status": "CREATED", "note": "" }])
    );
    assert_eq!(shipment["lines"][0]["lineNumber"], 1);
    assert_eq!(shipment["lines"][0]["sku"], "SKU-1");
    assert_eq!(shipment["lines"][0]["quantityPicked"], 5);
    assert_eq!(shipment["lines"][1]["sku"], "LOT-1");
    assert_eq!(shipment["salesOrder"]["number"], "SO-000001");
    let id = shipment["id"].as_str().expect("id").to_owned();
    let log = latest_audit(&app, &w).await;
    assert_eq!(log["totalCount"], before + 1);
    assert_eq!(log["nodes"][0]["action"], "shipment.create");
    assert_eq!(log["nodes"][0]["entityId"], id.as_str());
    assert!(
        log["nodes"][0]["detail"].to_string().contains("1Z-999_A"),
        "{log}"
    );

    // The carrier's reports, in order; each a history entry and an audit event.
    let steps = [
        ("IN_TRANSIT", "collected", json!(["DELIVERED", "EXCEPTION"])),
        (
            "EXCEPTION",
            "address not found",
            json!(["IN_TRANSIT", "DELIVERED"]),
        ),
        (
            "IN_TRANSIT",
            "address corrected",
            json!(["DELIVERED", "EXCEPTION"]),
        ),
    ];
    for (n, (status, note, next)) in steps.iter().enumerate() {
        let changed = app
            .ok(
                s,
                STATUS,
                json!({ "i": { "shipmentId": id, "status": status, "note": note } }),
            )
            .await;
        assert_eq!(
            changed["updateShipmentStatus"]["shipment"]["status"],
            *status
        );
        assert_eq!(
            changed["updateShipmentStatus"]["shipment"]["nextStatuses"],
            *next
        );
        let log = latest_audit(&app, &w).await;
        assert_eq!(log["totalCount"], before + 2 + n as i64);
        assert_eq!(log["nodes"][0]["action"], "shipment.status");
    }
    // Not in the future: the signature is now, or was.
    let future = call(
        &app,
        s,
        DELIVER,
        json!({ "i": { "shipmentId": id, "receivedBy": "J. Smith", "deliveredAt": "2099-01-01T00:00:00Z" } }),
    )
    .await;
    assert_eq!(
        future["data"]["confirmDelivery"]["userErrors"][0]["field"],
        "deliveredAt"
    );
    let delivered = app
        .ok(
            s,
            DELIVER,
            json!({ "i": { "shipmentId": id, "receivedBy": "  J. Smith " } }),
        )
        .await;
    let shipment = &delivered["confirmDelivery"]["shipment"];
    assert_eq!(shipment["status"], "DELIVERED");
    assert_eq!(shipment["receivedBy"], "J. Smith");
    assert!(shipment["deliveredAt"].is_string(), "{delivered}");
    assert_eq!(shipment["nextStatuses"], json!([]));
    let log = latest_audit(&app, &w).await;
    assert_eq!(log["nodes"][0]["action"], "shipment.deliver");
    assert!(
        log["nodes"][0]["detail"].to_string().contains("J. Smith"),
        "{log}"
    );

    let tracked = app.ok(s, TRACK, json!({ "id": id })).await;
    let history: Vec<(&str, &str)> = tracked["shipment"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap_or(""),
                e["note"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("CREATED", ""),
            ("IN_TRANSIT", "collected"),
            ("EXCEPTION", "address not found"),
            ("IN_TRANSIT", "address corrected"),
            ("DELIVERED", ""),
        ]
    );
    assert!(tracked["shipment"]["events"][0]["recordedByUserId"].is_string());
    // node(id:) serves it too.
    let node = app
        .ok(
            s,
            "query ($id: ID!) { node(id: $id) { ... on Shipment { number } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["node"]["number"], "SH-000001");
}

async fn illegal_transitions_and_bad_shipments_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Rules").await;
    let s = &w.session;
    let (order, _) = packed_order(&app, &w, 1).await;
    let dhl = carrier(&app, s, "DHL", &["ECONOMY", "OLD"]).await;

    // Bad input names its field and leaves nothing.
    for (input, field) in [
        (json!({ "trackingNumber": "1Z 999" }), "trackingNumber"),
        (json!({ "trackingNumber": "" }), "trackingNumber"),
        (
            json!({ "trackingNumber": "X1", "packageIds": [] }),
            "packageIds",
        ),
        (
            json!({ "trackingNumber": "X1", "carrierServiceId": "nonsense" }),
            "carrierServiceId",
        ),
    ] {
        let mut i = json!({ "salesOrderId": order, "carrierServiceId": dhl.services[0] });
        for (key, value) in input.as_object().expect("object") {
            i[key] = value.clone();
        }
        let reply = call(&app, s, CREATE, json!({ "i": i })).await;
        assert_eq!(
            reply["data"]["createShipment"]["userErrors"][0]["field"], field,
            "{reply}"
        );
    }
    // An archived service level, or carrier, takes nothing.
    app.ok(
        s,
        "mutation ($id: ID!) { archiveCarrierService(input: { id: $id }) { carrierService { active } } }",
        json!({ "id": dhl.services[1] }),
    )
    .await;
    let archived = call(
        &app,
        s,
        CREATE,
        json!({ "i": { "salesOrderId": order, "carrierServiceId": dhl.services[1], "trackingNumber": "X1" } }),
    )
    .await;
    assert_eq!(error_code(&archived), Some("CONFLICT"));
    assert!(
        message(&archived).contains("OLD of DHL is archived"),
        "{archived}"
    );
    let gone = carrier(&app, s, "GONE", &["FAST"]).await;
    app.ok(
        s,
        "mutation ($id: ID!) { archiveCarrier(input: { id: $id }) { carrier { active } } }",
        json!({ "id": gone.id }),
    )
    .await;
    let archived = call(
        &app,
        s,
        CREATE,
        json!({ "i": { "salesOrderId": order, "carrierServiceId": gone.services[0], "trackingNumber": "X1" } }),
    )
    .await;
    assert!(
        message(&archived).contains("carrier GONE is archived"),
        "{archived}"
    );
    // Only a packed or dispatched order ships.
    let draft = crate::selling::order(
        &app,
        &w,
        &customer(&app, s, "DRAFTY").await,
        &[(&w.product, 1)],
        false,
    )
    .await;
    let early = call(
        &app,
        s,
        CREATE,
        json!({ "i": { "salesOrderId": draft, "carrierServiceId": dhl.services[0], "trackingNumber": "X1" } }),
    )
    .await;
    assert_eq!(error_code(&early), Some("CONFLICT"));
    assert!(
        message(&early).contains("is DRAFT: only a PACKED or DISPATCHED order's packages ship"),
        "{early}"
    );

    let created = app
        .ok(
            s,
            CREATE,
            json!({ "i": { "salesOrderId": order, "carrierServiceId": dhl.services[0], "trackingNumber": "JD0146" } }),
        )
        .await;
    let id = created["createShipment"]["shipment"]["id"].clone();
    // CREATED cannot be delivered: it was never collected.
    let skipped = call(
        &app,
        s,
        DELIVER,
        json!({ "i": { "shipmentId": id, "receivedBy": "Nobody" } }),
    )
    .await;
    assert_eq!(error_code(&skipped), Some("CONFLICT"));
    assert!(
        message(&skipped).contains(
            "shipment SH-000001 is CREATED: it cannot become DELIVERED; from there it can become IN_TRANSIT or EXCEPTION"
        ),
        "{skipped}"
    );
    let back = call(
        &app,
        s,
        STATUS,
        json!({ "i": { "shipmentId": id, "status": "CREATED" } }),
    )
    .await;
    assert!(
        message(&back).contains("it cannot become CREATED"),
        "{back}"
    );
    // A delivery goes through confirmDelivery, with its signer.
    let shortcut = call(
        &app,
        s,
        STATUS,
        json!({ "i": { "shipmentId": id, "status": "DELIVERED" } }),
    )
    .await;
    assert_eq!(
        shortcut["data"]["updateShipmentStatus"]["userErrors"][0]["field"],
        "status"
    );
    app.ok(
        s,
        STATUS,
        json!({ "i": { "shipmentId": id, "status": "IN_TRANSIT" } }),
    )
    .await;
    // The history reads in order: nothing before the last event (the collection, just now).
    let earlier = call(
        &app,
        s,
        STATUS,
        json!({ "i": { "shipmentId": id, "status": "EXCEPTION", "occurredAt": "2026-01-01T10:00:00Z" } }),
    )
    .await;
    assert_eq!(
        earlier["data"]["updateShipmentStatus"]["userErrors"][0]["field"],
        "occurredAt"
    );
    let unsigned = call(
        &app,
        s,
        DELIVER,
        json!({ "i": { "shipmentId": id, "receivedBy": "  " } }),
    )
    .await;
    assert_eq!(
        unsigned["data"]["confirmDelivery"]["userErrors"][0]["field"],
        "receivedBy"
    );
    app.ok(
        s,
        DELIVER,
        json!({ "i": { "shipmentId": id, "receivedBy": "Reception" } }),
    )
    .await;
    let after = call(
        &app,
        s,
        STATUS,
        json!({ "i": { "shipmentId": id, "status": "EXCEPTION" } }),
    )
    .await;
    assert!(
        message(&after).contains("is DELIVERED: it cannot become EXCEPTION; that is final"),
        "{after}"
    );
    let twice = call(
        &app,
        s,
        DELIVER,
        json!({ "i": { "shipmentId": id, "receivedBy": "Again" } }),
    )
    .await;
    assert_eq!(error_code(&twice), Some("CONFLICT"));
    let tracked = app.ok(s, TRACK, json!({ "id": id })).await;
    assert_eq!(tracked["shipment"]["receivedBy"], "Reception");
    assert_eq!(
        tracked["shipment"]["events"].as_array().map(Vec::len),
        Some(3)
    );
}

async fn a_package_ships_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Once").await;
    let s = &w.session;
    let (order, packages) = packed_order(&app, &w, 3).await;
    let dhl = carrier(&app, s, "DHL", &["ECONOMY"]).await;
    let ship = |packages: Option<Vec<&String>>| {
        let mut i = json!({ "salesOrderId": order, "carrierServiceId": dhl.services[0], "trackingNumber": "T1" });
        if let Some(packages) = packages {
            i["packageIds"] = json!(packages);
        }
        call(&app, s, CREATE, json!({ "i": i }))
    };
    let first = ship(Some(vec![&packages[1]])).await;
    assert_eq!(
        first["data"]["createShipment"]["shipment"]["packages"],
        json!([{ "packageId": packages[1], "packageNumber": 2, "weightGrams": 1001 }]),
        "{first}"
    );
    let again = ship(Some(vec![&packages[0], &packages[1]])).await;
    assert_eq!(error_code(&again), Some("CONFLICT"));
    assert!(
        message(&again).contains("package 2 of sales order SO-000001 has shipped already"),
        "{again}"
    );
    let named_twice = ship(Some(vec![&packages[0], &packages[0]])).await;
    assert_eq!(
        named_twice["data"]["createShipment"]["userErrors"][0]["field"],
        "packageIds"
    );
    // The rest, by default; then nothing is left.
    let rest = ship(None).await;
    let numbers: Vec<i64> = rest["data"]["createShipment"]["shipment"]["packages"]
        .as_array()
        .unwrap_or_else(|| panic!("{rest}"))
        .iter()
        .filter_map(|p| p["packageNumber"].as_i64())
        .collect();
    assert_eq!(numbers, [1, 3]);
    let none = ship(None).await;
    assert_eq!(error_code(&none), Some("CONFLICT"));
    assert!(
        message(&none).contains("every package of sales order SO-000001 has shipped"),
        "{none}"
    );
    let by_order = app
        .ok(
            s,
            "query ($o: ID!) { shipments(filter: { salesOrderId: $o }) { totalCount nodes { number } } }",
            json!({ "o": order }),
        )
        .await;
    assert_eq!(by_order["shipments"]["totalCount"], 2);
}

async fn another_organisations_shipments_are_missing_ones(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = app.organisation_with_stock_setup("Alpha").await;
    let beta = app.organisation_with_stock_setup("Beta").await;
    let (order, packages) = packed_order(&app, &alpha, 2).await;
    let alpha_dhl = carrier(&app, &alpha.session, "DHL", &["ECONOMY"]).await;
    let beta_dhl = carrier(&app, &beta.session, "DHL", &["ECONOMY"]).await;
    let created = app
        .ok(
            &alpha.session,
            CREATE,
            json!({ "i": { "salesOrderId": order, "carrierServiceId": alpha_dhl.services[0], "trackingNumber": "A1", "packageIds": [packages[0]] } }),
        )
        .await;
    let shipment = created["createShipment"]["shipment"]["id"].clone();
    let unknown = |kind: &str| json!(vaskem::graphql::ids::encode(kind, uuid::Uuid::now_v7()).0);
    let b = &beta.session;
    for document in [
        "query ($id: ID!) { shipment(id: $id) { number } }",
        "query ($id: ID!) { node(id: $id) { id } }",
        "mutation ($id: ID!) { updateShipmentStatus(input: { shipmentId: $id, status: IN_TRANSIT }) { shipment { id } } }",
        "mutation ($id: ID!) { confirmDelivery(input: { shipmentId: $id, receivedBy: \"X\" }) { shipment { id } } }",
    ] {
        app.assert_foreign_id_is_missing(b, document, &shipment, &unknown("Shipment"))
            .await;
    }
    let foreign_order = format!(
        "mutation ($id: ID!) {{ createShipment(input: {{ salesOrderId: $id, carrierServiceId: \"{}\", trackingNumber: \"B1\" }}) {{ shipment {{ id }} }} }}",
        beta_dhl.services[0]
    );
    app.assert_foreign_id_is_missing(b, &foreign_order, &json!(order), &unknown("SalesOrder"))
        .await;
    app.assert_foreign_id_is_missing(
        b,
        "query ($id: ID!) { shipments(filter: { salesOrderId: $id }) { totalCount } }",
        &json!(order),
        &unknown("SalesOrder"),
    )
    .await;
    app.assert_foreign_id_is_missing(
        b,
        "query ($id: ID!) { shipments(filter: { carrierId: $id }) { totalCount } }",
        &json!(alpha_dhl.id),
        &unknown("Carrier"),
    )
    .await;
    // Alpha's own order cannot name Beta's service level, nor Beta's id a package of it.
    let foreign_service = format!(
        "mutation ($id: ID!) {{ createShipment(input: {{ salesOrderId: \"{order}\", carrierServiceId: $id, trackingNumber: \"A2\" }}) {{ shipment {{ id }} }} }}"
    );
    app.assert_foreign_id_is_missing(
        &alpha.session,
        &foreign_service,
        &json!(beta_dhl.services[0]),
        &unknown("CarrierService"),
    )
    .await;
    let foreign_package = format!(
        "mutation ($id: ID!) {{ createShipment(input: {{ salesOrderId: \"{order}\", carrierServiceId: \"{}\", trackingNumber: \"A3\", packageIds: [$id] }}) {{ shipment {{ id }} }} }}",
        alpha_dhl.services[0]
    );
    // A package of another order, unknown, or of nothing: all missing.
    app.assert_foreign_id_is_missing(
        &alpha.session,
        &foreign_package,
        &unknown("Package"),
        &unknown("Package"),
    )
    .await;
    let beta_list = app.ok(b, "{ shipments { totalCount } }", json!({})).await;
    assert_eq!(beta_list["shipments"]["totalCount"], 0);
    let alpha_view = app
        .ok(&alpha.session, TRACK, json!({ "id": shipment }))
        .await;
    assert_eq!(alpha_view["shipment"]["status"], "CREATED");
}

async fn shipment_lists_filter_and_cost_the_same_at_any_length(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Lists").await;
    let s = &w.session;
    let (order, packages) = packed_order(&app, &w, 12).await;
    let dhl = carrier(&app, s, "DHL", &["ECONOMY"]).await;
    let ups = carrier(&app, s, "UPS", &["EXPRESS"]).await;
    let mut ids = Vec::new();
    for (n, package) in packages.iter().enumerate() {
        let service = if n % 3 == 0 {
            &ups.services[0]
        } else {
            &dhl.services[0]
        };
        let created = app
            .ok(
                s,
                CREATE,
                json!({ "i": { "salesOrderId": order, "carrierServiceId": service, "trackingNumber": format!("T{n}"), "packageIds": [package] } }),
            )
            .await;
        ids.push(created["createShipment"]["shipment"]["id"].clone());
    }
    for id in &ids[..5] {
        app.ok(
            s,
            STATUS,
            json!({ "i": { "shipmentId": id, "status": "IN_TRANSIT" } }),
        )
        .await;
    }
    for id in &ids[..2] {
        app.ok(
            s,
            DELIVER,
            json!({ "i": { "shipmentId": id, "receivedBy": "Dock" } }),
        )
        .await;
    }
    let lists = app
        .ok(
            s,
            "query ($ups: ID!, $o: ID!) {
               moving: shipments(filter: { statuses: [IN_TRANSIT] }) { totalCount }
               done: shipments(filter: { statuses: [DELIVERED] }) { totalCount }
               ups: shipments(filter: { carrierId: $ups }) { totalCount }
               order: shipments(filter: { salesOrderId: $o }) { totalCount }
               latest: shipments(first: 1, sort: { field: NUMBER, direction: DESC }) { nodes { number trackingUrl } }
             }",
            json!({ "ups": ups.id, "o": order }),
        )
        .await;
    assert_eq!(lists["moving"]["totalCount"], 3);
    assert_eq!(lists["done"]["totalCount"], 2);
    assert_eq!(lists["ups"]["totalCount"], 4);
    assert_eq!(lists["order"]["totalCount"], 12);
    assert_eq!(
        lists["latest"]["nodes"],
        json!([{ "number": "SH-000012", "trackingUrl": "https://track.example.com/DHL?n=T11" }])
    );

    let page = "query ($n: Int!) { shipments(first: $n) { nodes { number trackingUrl carrierName serviceName carrier { code services { code } } service { code } packages { packageNumber } events { status } lines { sku quantityPicked } salesOrder { number lines { product { sku } } } } } }";
    let mut costs = Vec::new();
    for size in [3, 12] {
        let before = app.database.serving.statements_run();
        let data = app.ok(s, page, json!({ "n": size })).await;
        costs.push(app.database.serving.statements_run() - before);
        let nodes = data["shipments"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), size);
        assert_eq!(nodes[0]["lines"][0]["sku"], "SKU-1");
    }
    assert_eq!(costs[0], costs[1], "12 shipments cost what 3 do: {costs:?}");
}

/// Eight clerks ship the same packed order at once: one shipment takes its packages, every other
/// attempt is refused (nothing left to ship, or the package just shipped), and no package is on
/// two shipments.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_parallel_shipments_of_one_order_ship_each_package_once() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let w = app.organisation_with_stock_setup("ShipRush").await;
    let s = &w.session;
    let (order, packages) = packed_order(&app, &w, 2).await;
    let dhl = carrier(&app, s, "DHL", &["ECONOMY"]).await;
    let attempts = (0..8).map(|n| {
        let (app, order, service) = (&app, &order, &dhl.services[0]);
        async move {
            call(
                app,
                s,
                CREATE,
                json!({ "i": { "salesOrderId": order, "carrierServiceId": service, "trackingNumber": format!("RUSH{n}") } }),
            )
            .await
        }
    });
    let replies = futures::future::join_all(attempts).await;
    let won = crate::support::reply::race_winners(
        &replies,
        &[
            "every package of sales order SO-000001 has shipped",
            "has shipped already",
        ],
    );
    assert_eq!(won, 1, "shipments made: {replies:?}");
    let shipped = app
        .ok(
            s,
            "query ($o: ID!) { shipments(filter: { salesOrderId: $o }) { totalCount nodes { packages { packageId } } } }",
            json!({ "o": order }),
        )
        .await;
    assert_eq!(shipped["shipments"]["totalCount"], 1);
    assert_eq!(
        shipped["shipments"]["nodes"][0]["packages"],
        json!([{ "packageId": packages[0] }, { "packageId": packages[1] }])
    );
    checks.finish().await;
}
