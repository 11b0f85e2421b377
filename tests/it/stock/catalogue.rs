//! Products: search, barcodes, pages, full updates, the frozen tracking mode.

use serde_json::{Value, json};

use super::{call, product};
use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::{Backend, TestApp};

on_both_databases!(
    catalogue_search_barcodes_and_pages,
    products_are_updated_in_full,
);

async fn catalogue_search_barcodes_and_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    for n in 0..5 {
        product(&app, s, &format!("WIDGET-{n}"), "NONE").await;
    }
    let body = call(
        &app,
        s,
        "{ productByBarcode(barcode: \"600WIDGET-3\") { sku barcodes } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"]["productByBarcode"]["sku"], "WIDGET-3",
        "{body}"
    );
    let body = call(&app, s, "{ products(filter: {search: \"widget\"}, first: 2) { totalCount edges { node { sku } } pageInfo { hasNextPage endCursor } } }", json!({})).await;
    let page = &body["data"]["products"];
    assert_eq!(page["edges"].as_array().expect("edges").len(), 2, "{body}");
    assert_eq!(page["totalCount"], 5, "{body}");
    let mut seen: Vec<String> = page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["sku"].as_str().unwrap_or("").to_owned())
        .collect();
    let mut cursor = page["pageInfo"]["endCursor"].clone();
    while !cursor.is_null() {
        let body = call(&app, s, "query ($a: String) { products(filter: {search: \"WIDGET\"}, first: 2, after: $a) { edges { node { sku } } pageInfo { hasNextPage endCursor } } }", json!({ "a": cursor })).await;
        let page = &body["data"]["products"];
        seen.extend(
            page["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"]["sku"].as_str().unwrap_or("").to_owned()),
        );
        cursor = if page["pageInfo"]["hasNextPage"] == true {
            page["pageInfo"]["endCursor"].clone()
        } else {
            Value::Null
        };
    }
    assert_eq!(
        seen,
        ["WIDGET-0", "WIDGET-1", "WIDGET-2", "WIDGET-3", "WIDGET-4"]
    );
    let duplicate = call(&app, s, "mutation { createProduct(input: { sku: \"WIDGET-1\", name: \"again\" }) { product { id } } }", json!({})).await;
    assert_eq!(error_code(&duplicate), Some("CONFLICT"), "{duplicate}");
    let body = call(
        &app,
        s,
        "{ products(first: 101) { edges { cursor } } }",
        json!({}),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

async fn products_are_updated_in_full(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Alpha").await;
    let s = &w.session;
    let update = "mutation ($i: UpdateProductInput!) { updateProduct(input: $i) { product { sku name tracking weightGrams heightMm barcodes units { name baseQuantity } } userErrors { field message } } }";
    let body = call(&app, s, update, json!({ "i": { "id": w.product,
        "sku": "SKU-1B", "name": "Renamed", "weightGrams": 250, "heightMm": 40,
        "barcodes": ["111", "222"], "units": [{ "name": "case", "baseQuantity": 12 }, { "name": "pallet", "baseQuantity": 480 }] } })).await;
    let product = &body["data"]["updateProduct"]["product"];
    assert_eq!(product["sku"], "SKU-1B", "{body}");
    assert_eq!(product["weightGrams"], 250);
    assert_eq!(product["barcodes"], json!(["111", "222"]));
    assert_eq!(
        product["units"],
        json!([{ "name": "case", "baseQuantity": 12 }, { "name": "pallet", "baseQuantity": 480 }])
    );
    let old = call(
        &app,
        s,
        "{ productByBarcode(barcode: \"600SKU-1\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        error_code(&old),
        Some("NOT_FOUND"),
        "the old barcode is gone: {old}"
    );
    let body = call(&app, s, update, json!({ "i": { "id": w.product, "sku": "SKU-1B", "name": "x", "units": [{ "name": "case", "baseQuantity": 1 }] } })).await;
    assert_eq!(
        body["data"]["updateProduct"]["userErrors"][0]["field"], "units",
        "{body}"
    );
    // Stock history freezes the tracking mode.
    app.adjust(s, &w.product, &w.a, 1).await;
    let body = call(
        &app,
        s,
        update,
        json!({ "i": { "id": w.product, "sku": "SKU-1B", "name": "x", "tracking": "LOT" } }),
    )
    .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}
