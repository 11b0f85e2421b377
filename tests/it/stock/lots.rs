//! Lot, serial and expiry rules on every posting.

use serde_json::{Value, json};

use super::{ADJUST, call};
use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::{Backend, TestApp};

on_both_databases!(lots_serials_and_expiry_are_enforced,);

async fn lots_serials_and_expiry_are_enforced(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let (lotted, serial) = (&w.lotted, &w.serial);
    let error_field = |body: &Value| body["data"]["adjustStock"]["userErrors"][0]["field"].clone();
    let body = call(
        &app,
        s,
        ADJUST,
        json!({ "i": { "productId": lotted, "locationId": w.a, "change": 5, "reason": "found" } }),
    )
    .await;
    assert_eq!(error_field(&body), "lot", "{body}");
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 5, "reason": "found", "lot": { "code": "L1" } } })).await;
    assert_eq!(
        error_field(&body),
        "lot",
        "untracked products take no lot: {body}"
    );
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": serial, "locationId": w.a, "change": 2, "reason": "found", "lot": { "code": "SN1" } } })).await;
    assert_eq!(error_field(&body), "change", "{body}");
    // One serial is one unit: in stock once, at one location.
    app.ok(s, ADJUST, json!({ "i": { "productId": serial, "locationId": w.a, "change": 1, "reason": "found", "lot": { "code": "SN1" } } })).await;
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": serial, "locationId": w.b, "change": 1, "reason": "found", "lot": { "code": "SN1" } } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("SN1"),
        "{body}"
    );
    app.ok(s, ADJUST, json!({ "i": { "productId": lotted, "locationId": w.a, "change": 5, "reason": "found", "lot": { "code": "L1", "expiresOn": "2027-03-31" } } })).await;
    app.ok(s, ADJUST, json!({ "i": { "productId": lotted, "locationId": w.a, "change": 2, "reason": "found", "lot": { "code": "L2" } } })).await;
    // Two lots, two balances at one location; a lot cannot go below zero on its own.
    let body = call(
        &app,
        s,
        "query ($p: ID!) { stockOnHand(filter: {productId: $p}) { nodes { lotId onHand lot { code expiresOn } } } }",
        json!({ "p": lotted }),
    )
    .await;
    let lots: Vec<(Value, Value)> = body["data"]["stockOnHand"]["nodes"]
        .as_array()
        .expect("balances")
        .iter()
        .map(|b| (b["lot"]["code"].clone(), b["lot"]["expiresOn"].clone()))
        .collect();
    assert!(lots.contains(&(json!("L1"), json!("2027-03-31"))), "{body}");
    assert!(lots.contains(&(json!("L2"), Value::Null)), "{body}");
    assert_eq!(
        body["data"]["stockOnHand"]["nodes"]
            .as_array()
            .expect("balances")
            .len(),
        2,
        "{body}"
    );
    let body = call(&app, s, ADJUST, json!({ "i": { "productId": lotted, "locationId": w.a, "change": -3, "reason": "damaged", "lot": { "code": "L2" } } })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}
