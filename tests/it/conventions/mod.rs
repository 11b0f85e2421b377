//! The API conventions every frontend scripts against, proven on the live schema and on data:
//! lists are Relay connections with `filter`, `sort`, `first`/`after` and `totalCount`, paged by
//! keyset in any order without a row repeated or lost; mutations take one `input` and return a
//! payload with `userErrors`; ids are opaque and typed.

use serde_json::{Value, json};

pub use crate::support::fixtures::call;
use crate::support::{Session, TestApp, assert_ok};

mod filters;
mod ids;
mod paging;
mod payloads;
mod shape;

pub const TYPE_REF: &str =
    "kind name ofType { kind name ofType { kind name ofType { kind name } } }";

/// The named type under NON_NULL and LIST wrappers, and whether a list wrapper was met.
pub fn named(type_ref: &Value) -> (String, bool) {
    match type_ref["kind"].as_str() {
        Some("NON_NULL") => named(&type_ref["ofType"]),
        Some("LIST") => (named(&type_ref["ofType"]).0, true),
        _ => (type_ref["name"].as_str().unwrap_or("").to_owned(), false),
    }
}

/// Walks `field` two rows at a time with `args` (a GraphQL argument list without `first` and
/// `after`), asserting `totalCount` on every page, and returns `key` of every node in order.
pub async fn walk(
    app: &TestApp,
    session: &Session,
    field: &str,
    args: &str,
    key: &str,
    variables: Value,
) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut total = None;
    let declared: String = variables
        .as_object()
        .map(|vars| {
            vars.keys()
                .map(|k| format!(", ${k}: ID"))
                .collect::<String>()
        })
        .unwrap_or_default();
    let separator = if args.is_empty() { "" } else { ", " };
    let document = format!(
        "query ($after: String{declared}) {{ {field}({args}{separator}first: 2, after: $after) {{ totalCount nodes {{ {key} }} pageInfo {{ hasNextPage hasPreviousPage endCursor }} }} }}"
    );
    for page_number in 0.. {
        let mut vars = variables.clone();
        if vars.is_null() {
            vars = json!({});
        }
        vars["after"] = after.clone();
        let body = call(app, session, &document, vars).await;
        assert_ok(&body);
        let page = &body["data"][field];
        let count = page["totalCount"].as_u64().expect("totalCount");
        assert_eq!(*total.get_or_insert(count), count, "{document}");
        assert_eq!(
            page["pageInfo"]["hasPreviousPage"],
            page_number > 0,
            "{document}: {body}"
        );
        let nodes = page["nodes"].as_array().expect("nodes");
        assert!(nodes.len() <= 2);
        seen.extend(nodes.iter().map(|n| n[key].clone()));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        assert!(page_number < 100, "runaway pagination");
    }
    assert_eq!(
        total.expect("a page") as usize,
        seen.len(),
        "{field}({args}): totalCount counts what the pages hold"
    );
    seen
}

pub fn strings(values: &[&str]) -> Vec<Value> {
    values.iter().map(|v| json!(v)).collect()
}
