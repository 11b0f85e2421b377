//! The test kit's own promises: the teardown catches a broken ledger or chain and fails the test
//! naming the database and organisation; the reply reader sees `userErrors`.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::audit::tamper;
use crate::on_both_databases;
use crate::support::fixtures::ADJUST;
use crate::support::invariants::violations;
use crate::support::{Backend, Checks, Invariant, TestApp, assert_ok};

on_both_databases!(
    the_stock_setup_is_what_it_says,
    the_check_reports_a_corrupted_balance_and_an_edited_event,
    the_reply_reader_sees_user_errors,
);

async fn the_stock_setup_is_what_it_says(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let data = app
        .ok(
            &w.session,
            "query ($w: ID!) { locations(filter: {warehouseId: $w}, sort: {field: CODE}) { nodes { id code kind } } products(sort: {field: SKU}) { nodes { id sku tracking } } }",
            json!({ "w": w.warehouse }),
        )
        .await;
    assert_eq!(
        data["locations"]["nodes"],
        json!([
            { "id": w.a, "code": "A-01-01", "kind": "STORAGE" },
            { "id": w.b, "code": "B-02-01", "kind": "STORAGE" },
            { "id": w.picking, "code": "P-01-01", "kind": "PICKING" },
            { "id": w.receiving, "code": "RCV-01", "kind": "RECEIVING" },
        ]),
        "{data}"
    );
    assert_eq!(
        data["products"]["nodes"],
        json!([
            { "id": w.lotted, "sku": "LOT-1", "tracking": "LOT" },
            { "id": w.serial, "sku": "SER-1", "tracking": "SERIAL" },
            { "id": w.product, "sku": "SKU-1", "tracking": "NONE" },
        ]),
        "{data}"
    );
    // Stock can come in at receiving and be put away to picking.
    app.adjust(&w.session, &w.product, &w.receiving, 3).await;
    app.ok(
        &w.session,
        "mutation ($i: TransferStockInput!) { transferStock(input: $i) { userErrors { field message } } }",
        json!({ "i": { "productId": w.product, "fromLocationId": w.receiving, "toLocationId": w.picking, "quantity": 3 } }),
    )
    .await;
}

async fn the_check_reports_a_corrupted_balance_and_an_edited_event(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    app.adjust(&w.session, &w.product, &w.a, 8).await;
    assert!(
        violations(&app.database).await.is_empty(),
        "a clean database passes"
    );

    app.database.exempt(
        Invariant::StockLedger,
        "corrupts a balance for the check to find",
    );
    app.database
        .raw()
        .await
        .execute_unprepared("UPDATE stock_balances SET on_hand = 99")
        .await
        .map(|_| ())
        .expect("corrupt the balance");
    let found = violations(&app.database).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].invariant, Invariant::StockLedger);
    let message = &found[0].message;
    assert!(
        message.contains(app.database.registration().label())
            && message.contains(&w.tenant.to_string())
            && message.contains("stored 99, movements say 8"),
        "names the database, the organisation and the difference: {message}"
    );

    app.database.exempt(
        Invariant::AuditChain,
        "edits an event for the check to find",
    );
    tamper(
        &app.database.raw().await,
        "UPDATE audit_events SET detail = '{}' WHERE seq = 2",
    )
    .await;
    let found = violations(&app.database).await;
    let chain: Vec<_> = found
        .iter()
        .filter(|v| v.invariant == Invariant::AuditChain)
        .collect();
    assert_eq!(chain.len(), 1, "{found:?}");
    assert!(
        chain[0].message.contains(&w.tenant.to_string())
            && chain[0].message.contains("broken at event 2"),
        "{}",
        chain[0].message
    );
}

async fn the_reply_reader_sees_user_errors(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let (_, refused) = app
        .graphql_in(
            Some(&w.session),
            ADJUST,
            json!({ "i": { "productId": w.product, "locationId": w.a, "change": 0, "reason": "x" } }),
        )
        .await;
    assert!(
        refused["errors"].is_null(),
        "no errors, only userErrors: {refused}"
    );
    let caught = std::panic::catch_unwind(|| {
        assert_ok(&refused);
    });
    assert!(caught.is_err(), "assert_ok passed {refused}");
}

/// The whole teardown, as `on_both_databases!` runs it: a test that leaves a corrupted balance
/// behind fails, naming it.
async fn teardown_fails_a_test_that_leaves_a_corrupted_balance(backend: Backend) {
    let checks = Checks::begin();
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    app.adjust(&w.session, &w.product, &w.a, 8).await;
    app.database
        .raw()
        .await
        .execute_unprepared("UPDATE stock_balances SET on_hand = 99")
        .await
        .map(|_| ())
        .expect("corrupt the balance");
    drop(app);
    let outcome = AssertUnwindSafe(checks.finish()).catch_unwind().await;
    let Err(panic) = outcome else {
        panic!("the teardown passed a corrupted balance");
    };
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains(&w.tenant.to_string()) && message.contains("stored 99, movements say 8"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_teardown_fails_a_test_that_leaves_a_corrupted_balance() {
    teardown_fails_a_test_that_leaves_a_corrupted_balance(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_teardown_fails_a_test_that_leaves_a_corrupted_balance() {
    teardown_fails_a_test_that_leaves_a_corrupted_balance(Backend::Postgres).await;
}
