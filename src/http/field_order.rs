//! Writes every object of a response in the order its fields were requested.
//!
//! The GraphQL spec asks for it (responses are "ordered maps"), but async-graphql resolves sibling
//! fields concurrently and writes each when it finishes (async-graphql issue #612), so the order
//! changed from run to run. Reordering here, by the document the client sent, restores it
//! without giving up the concurrency.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::parse_query;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Value};

/// Reorders `data` (the response's `data`) by the operation `operation_name` of `query`.
pub fn reorder(data: &mut Value, query: &str, operation_name: Option<&str>) {
    let Ok(document) = parse_query(query) else {
        return;
    };
    let operation = document.operations.iter().find(|(name, _)| {
        operation_name.is_none_or(|wanted| name.is_some_and(|name| name.as_str() == wanted))
    });
    if let Some((_, operation)) = operation {
        apply(data, &[&operation.node.selection_set.node], &document);
    }
}

fn apply(value: &mut Value, sets: &[&SelectionSet], document: &ExecutableDocument) {
    match value {
        Value::List(items) => {
            for item in items {
                apply(item, sets, document);
            }
        }
        Value::Object(fields) => {
            let mut order: Vec<(&Name, Vec<&SelectionSet>)> = Vec::new();
            for set in sets {
                collect(set, document, &mut order, 0);
            }
            let mut unordered = std::mem::take(fields);
            let mut ordered = IndexMap::with_capacity(unordered.len());
            for (key, children) in order {
                if let Some(mut child) = unordered.shift_remove(key) {
                    apply(&mut child, &children, document);
                    ordered.insert(key.clone(), child);
                }
            }
            // Anything the walk did not name (there should be nothing) keeps its place at the end.
            ordered.extend(unordered);
            *fields = ordered;
        }
        _ => {}
    }
}

/// The response keys of `set` in request order, fragments expanded, each with the selection sets
/// of its sub-fields (a key selected twice merges them, as execution does).
fn collect<'a>(
    set: &'a SelectionSet,
    document: &'a ExecutableDocument,
    order: &mut Vec<(&'a Name, Vec<&'a SelectionSet>)>,
    depth: usize,
) {
    // Validation rejects fragment cycles before anything is resolved; this is only a backstop.
    if depth > 64 {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = &field.node.response_key().node;
                let children = &field.node.selection_set.node;
                match order.iter_mut().find(|(existing, _)| *existing == key) {
                    Some((_, sets)) => sets.push(children),
                    None => order.push((key, vec![children])),
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    collect(
                        &fragment.node.selection_set.node,
                        document,
                        order,
                        depth + 1,
                    );
                }
            }
            Selection::InlineFragment(inline) => {
                collect(&inline.node.selection_set.node, document, order, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_follow_the_document() {
        let query = "query Q { b: health { z a } ...F } fragment F on Query { c { y x } }";
        let mut data = Value::from_json(serde_json::json!({
            "c": [{ "x": 1, "y": 2 }],
            "b": { "a": 1, "z": 2 },
        }))
        .expect("value");
        reorder(&mut data, query, Some("Q"));
        let text = serde_json::to_string(&data).expect("json");
        assert_eq!(text, r#"{"b":{"z":2,"a":1},"c":[{"y":2,"x":1}]}"#);
    }
}
