//! Postings (adjust, transfer, count, cycle count), their refusals and history, idempotent
//! retries, and `vaskem stock verify`.

use std::process::Command;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use vaskem::tenancy::TenantDb;

use super::{ADJUST, call, on_hand, product};
use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::{Backend, Invariant, TestApp};

on_both_databases!(
    the_ledger_moves_and_refuses_shortfalls,
    retries_with_an_idempotency_key_move_nothing_twice,
    a_cycle_count_posts_all_lines_together,
    stock_verify_finds_a_tampered_balance,
);

async fn the_ledger_moves_and_refuses_shortfalls(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let added = app.adjust(s, &w.product, &w.a, 10).await;
    assert_eq!(added["movements"][0]["fromPlace"], "ADJUSTMENT", "{added}");
    app.ok(
        s,
        "mutation ($i: TransferStockInput!) { transferStock(input: $i) { balances { onHand } userErrors { field message } } }",
        json!({ "i": { "productId": w.product, "fromLocationId": w.a, "toLocationId": w.b, "quantity": 4 } }),
    )
    .await;
    let data = app.ok(
        s,
        "mutation ($i: CountStockInput!) { countStock(input: $i) { movements { quantity fromPlace toPlace reason } userErrors { field message } } }",
        json!({ "i": { "productId": w.product, "locationId": w.b, "counted": 3 } }),
    )
    .await;
    let counted = &data["countStock"]["movements"][0];
    assert_eq!(counted["quantity"], 1, "{data}");
    assert_eq!(counted["toPlace"], "ADJUSTMENT");
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 6);
    assert_eq!(on_hand(&app, s, &w.product, &w.b).await, 3);

    // Taking more than there is: CONFLICT naming the shortfall, and nothing moves.
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": -7, "reason": "damaged" } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("SKU-1")
            && message.contains("A-01-01")
            && message.contains("6 available")
            && message.contains("7 requested"),
        "{message}"
    );
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 6);
    // Validation failures are userErrors in the payload.
    let body = call(
        &app,
        s,
        ADJUST,
        json!({ "i": { "productId": w.product, "locationId": w.a, "change": 0, "reason": "x" } }),
    )
    .await;
    assert_eq!(
        body["data"]["adjustStock"]["userErrors"][0]["field"], "change",
        "{body}"
    );

    let body = call(&app, s, "query ($p: ID!) { stockMovements(filter: {productId: $p}, first: 2) { edges { node { reason quantity } } pageInfo { hasNextPage endCursor } } }", json!({ "p": w.product })).await;
    let page = &body["data"]["stockMovements"];
    assert_eq!(
        page["edges"][0]["node"]["reason"], "count",
        "newest first: {body}"
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let body = call(&app, s, "query ($p: ID!, $a: String) { stockMovements(filter: {productId: $p}, first: 2, after: $a) { edges { node { reason } } pageInfo { hasNextPage } } }", json!({ "p": w.product, "a": page["pageInfo"]["endCursor"] })).await;
    assert_eq!(
        body["data"]["stockMovements"]["edges"][0]["node"]["reason"], "found",
        "{body}"
    );
    assert_eq!(
        body["data"]["stockMovements"]["pageInfo"]["hasNextPage"],
        false
    );

    // History of a location: in and out, newest first.
    let body = call(
        &app,
        s,
        "query ($l: ID!) { stockMovements(filter: {locationId: $l}) { edges { node { reason } } } }",
        json!({ "l": w.b }),
    )
    .await;
    let reasons: Vec<&str> = body["data"]["stockMovements"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["count", "transfer"], "{body}");
    // The whole ledger, oldest first, and a cursor from one order is refused in another.
    let body = call(
        &app,
        s,
        "{ stockMovements(sort: {direction: ASC}, first: 1) { edges { node { reason } } pageInfo { endCursor } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["stockMovements"]["edges"][0]["node"]["reason"], "found",
        "{body}"
    );
    let cursor = body["data"]["stockMovements"]["pageInfo"]["endCursor"].clone();
    let body = call(
        &app,
        s,
        "query ($a: String) { stockMovements(first: 1, after: $a) { edges { cursor } } }",
        json!({ "a": cursor }),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");

    // Every stock change has its audit event (the teardown proves balances equal the movements).
    let tx = TenantDb::for_operator(&app.database.db, w.tenant)
        .read()
        .await
        .expect("read");
    let events = tx
        .all(<entity::audit_event::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("events");
    let stock_events: Vec<&str> = events
        .iter()
        .filter(|e| e.action.starts_with("stock."))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        stock_events,
        ["stock.adjust", "stock.transfer", "stock.count"]
    );
}

async fn retries_with_an_idempotency_key_move_nothing_twice(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let input = json!({ "i": { "productId": w.product, "locationId": w.a, "change": 5, "reason": "found", "idempotencyKey": "scan-42" } });
    let first = app.ok(s, ADJUST, input.clone()).await;
    let again = app.ok(s, ADJUST, input).await;
    assert_eq!(
        first["adjustStock"]["movements"][0]["id"], again["adjustStock"]["movements"][0]["id"],
        "{first} {again}"
    );
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 5);
    let other = call(
        &app,
        s,
        "mutation ($i: TransferStockInput!) { transferStock(input: $i) { balances { onHand } } }",
        json!({ "i": { "productId": w.product, "fromLocationId": w.a, "toLocationId": w.b, "quantity": 1, "idempotencyKey": "scan-42" } }),
    )
    .await;
    assert_eq!(
        error_code(&other),
        Some("CONFLICT"),
        "a key belongs to one operation: {other}"
    );
}

async fn a_cycle_count_posts_all_lines_together(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let second = product(&app, s, "SKU-2", "NONE").await;
    app.adjust(s, &w.product, &w.a, 10).await;
    let post = "mutation ($i: PostStockCountInput!) { postStockCount(input: $i) { movements { quantity fromPlace toPlace } userErrors { field message } } }";
    let data = app
        .ok(
            s,
            post,
            json!({ "i": { "note": "aisle A", "lines": [
                { "productId": w.product, "locationId": w.a, "counted": 7 },
                { "productId": second, "locationId": w.a, "counted": 4 },
                { "productId": second, "locationId": w.b, "counted": 0 },
            ] } }),
        )
        .await;
    assert_eq!(
        data["postStockCount"]["movements"].as_array().map(Vec::len),
        Some(2),
        "no movement for a line without variance: {data}"
    );
    assert_eq!(on_hand(&app, s, &w.product, &w.a).await, 7);
    assert_eq!(on_hand(&app, s, &second, &w.a).await, 4);
    // A line counted twice refuses the whole count.
    let body = call(
        &app,
        s,
        post,
        json!({ "i": { "lines": [
        { "productId": second, "locationId": w.a, "counted": 1 },
        { "productId": second, "locationId": w.a, "counted": 2 },
    ] } }),
    )
    .await;
    assert_eq!(
        body["data"]["postStockCount"]["userErrors"][0]["field"], "lines",
        "{body}"
    );
    assert_eq!(on_hand(&app, s, &second, &w.a).await, 4);
    let tx = TenantDb::for_operator(&app.database.db, w.tenant)
        .read()
        .await
        .expect("read");
    let events = tx
        .all(<entity::audit_event::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("events");
    let count = events
        .iter()
        .find(|e| e.action == "stock.count")
        .expect("count event");
    let detail: Value = serde_json::from_str(&count.detail).expect("json");
    assert_eq!(
        detail["after"]["lines"].as_array().map(Vec::len),
        Some(3),
        "{detail}"
    );
}

async fn stock_verify_finds_a_tampered_balance(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    app.adjust(&w.session, &w.product, &w.a, 8).await;
    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_vaskem"))
            .args(["stock", "verify", "--org", &w.tenant.to_string()])
            .env("DATABASE_URL", &app.database.url)
            .output()
            .expect("stock verify")
    };
    let output = verify();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    app.database.exempt(
        Invariant::StockLedger,
        "corrupts a balance for the CLI to find",
    );
    app.database
        .raw()
        .await
        .execute_unprepared("UPDATE stock_balances SET on_hand = 99")
        .await
        .map(|_| ())
        .expect("tamper");
    let output = verify();
    assert_eq!(
        output.status.code(),
        Some(i32::from(vaskem::cli::BROKEN_CHAIN_EXIT))
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("stored 99, movements say 8"), "{report}");
}
