//! The README's order flow, run as written: every `graphql` block of its "Order flow, step by
//! step" section, in order, with the ids the answers before it handed out. A block the service
//! refuses, or one that names a field that does not exist, fails here.

use serde_json::{Map, Value, json};

use crate::on_both_databases;
use crate::selling::{customer, location};
use crate::support::fixtures::{call, carrier};
use crate::support::{Backend, TestApp};

on_both_databases!(the_readme_order_flow_runs_as_written);

/// The section's GraphQL blocks, in order.
fn blocks() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("## Order flow, step by step")
        .expect("the README has its order flow");
    let section = &readme[start..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    section
        .split("```graphql\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap_or_default().to_owned())
        .collect()
}

/// The variables a document declares (`$order: ID!`), taken from what is known so far.
fn variables_for(document: &str, known: &Map<String, Value>) -> Value {
    let mut variables = Map::new();
    for (name, value) in known {
        if document.contains(&format!("${name}:")) {
            variables.insert(name.clone(), value.clone());
        }
    }
    Value::Object(variables)
}

async fn the_readme_order_flow_runs_as_written(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Walkthrough").await;
    let s = &w.session;
    let cape = customer(&app, s, "CAPE").await;
    location(&app, &w, "SHIP-01", "SHIPPING", false).await;
    let quarantine = location(&app, &w, "Q-01", "QUARANTINE", false).await;
    let ups = carrier(&app, s, "UPS", &["EXPRESS"]).await;
    app.adjust(s, &w.product, &w.picking, 10).await;
    let mut known = Map::new();
    known.insert("customer".into(), json!(cape));
    known.insert("warehouse".into(), json!(w.warehouse));
    known.insert("product".into(), json!(w.product));
    known.insert("service".into(), json!(ups.services[0]));
    known.insert("quarantine".into(), json!(quarantine));
    known.insert("bin".into(), json!(w.a));

    let blocks = blocks();
    assert_eq!(blocks.len(), 10, "the README's order flow has ten steps");
    let mut last = Value::Null;
    for (step, document) in blocks.iter().enumerate() {
        let variables = variables_for(document, &known);
        let reply = call(&app, s, document, variables).await;
        assert!(reply["errors"].is_null(), "step {}: {reply}", step + 1);
        assert!(
            !reply.to_string().contains("\"field\":"),
            "step {}: user errors: {reply}",
            step + 1
        );
        let data = &reply["data"];
        if let Some(order) = data["createSalesOrder"]["salesOrder"]["id"].as_str() {
            known.insert("order".into(), json!(order));
        }
        if let Some(pick) = data["createPickList"]["pickList"]["picks"][0]["id"].as_str() {
            known.insert("pick".into(), json!(pick));
        }
        if let Some(shipment) = data["createShipment"]["shipment"]["id"].as_str() {
            known.insert("shipment".into(), json!(shipment));
        }
        if let Some(line) = data["dispatchSalesOrder"]["salesOrder"]["lines"][0]["id"].as_str() {
            known.insert("line".into(), json!(line));
        }
        if let Some(line) = data["receiveReturn"]["customerReturn"]["lines"][0]["id"].as_str() {
            known.insert("returnLine".into(), json!(line));
        }
        last = data.clone();
    }
    // Where the walk-through ends: sent, delivered, one unit back on a shelf, and its timeline
    // says how it got there.
    let order = &last["salesOrder"];
    assert_eq!(order["status"], "DISPATCHED", "{last}");
    assert_eq!(order["shipments"][0]["status"], "DELIVERED", "{last}");
    assert_eq!(order["returns"][0]["status"], "CLOSED", "{last}");
    let actions: Vec<&str> = order["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|entry| entry["event"]["action"].as_str())
        .collect();
    assert_eq!(
        actions[actions.len() - 6..],
        [
            "sales_order.dispatch",
            "shipment.create",
            "shipment.status",
            "shipment.deliver",
            "customer_return.receive",
            "customer_return.disposition",
        ],
        "{actions:?}"
    );
}
