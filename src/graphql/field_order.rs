//! Writes every object of a response in the order its fields were requested.
//!
//! The GraphQL spec asks for it (responses are "ordered maps"), but async-graphql resolves sibling
//! fields concurrently and writes each when it finishes (async-graphql issue #612), so the order
//! changed from run to run. Reordering by the document the client sent (already parsed by the
//! HTTP edge's admission check) restores it without giving up the concurrency.

use std::cell::OnceCell;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Value, Variables};

/// Reorders `data` (the response's `data`) by the operation `operation_name` of `document`.
pub fn reorder(
    data: &mut Value,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) {
    let operation = document.operations.iter().find(|(name, _)| {
        operation_name.is_none_or(|wanted| name.is_some_and(|name| name.as_str() == wanted))
    });
    if let Some((_, operation)) = operation {
        let walk = Walk {
            document,
            variables,
        };
        walk.apply(data, &[&operation.node.selection_set.node]);
    }
}

/// The document, and the variables that decide its `@skip` and `@include`.
struct Walk<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
}

/// The response keys of one object in request order, each with what its value was selected by.
type KeyOrder<'a> = IndexMap<&'a Name, Child<'a>>;

/// One response key's selection sets (a key selected twice merges them, as execution does) and,
/// once a value needs it, the key order they give: worked out once per place in the document,
/// however many list items share it.
#[derive(Default)]
struct Child<'a> {
    sets: Vec<&'a SelectionSet>,
    order: OnceCell<KeyOrder<'a>>,
}

impl<'a> Walk<'a> {
    /// Every object of `value` reordered; `sets` are the selection sets that produced it. Linear
    /// in the response: each place in the document is read once, and each key moves at most once.
    fn apply(&self, value: &mut Value, sets: &[&'a SelectionSet]) {
        if matches!(value, Value::List(_) | Value::Object(_)) {
            self.apply_ordered(value, &self.key_order(sets));
        }
    }

    fn key_order(&self, sets: &[&'a SelectionSet]) -> KeyOrder<'a> {
        let mut order = KeyOrder::new();
        for set in sets {
            self.collect(set, &mut order, 0);
        }
        order
    }

    fn apply_ordered(&self, value: &mut Value, order: &KeyOrder<'a>) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.apply_ordered(item, order);
                }
            }
            Value::Object(fields) => {
                // Often already in order: then only the values are walked, nothing is rebuilt.
                let mut last = None;
                let in_order = fields.keys().all(|key| {
                    let at = order.get_index_of(key);
                    let follows = at.is_some() && at > last;
                    last = at;
                    follows
                });
                if !in_order {
                    let mut unordered = std::mem::take(fields);
                    let mut ordered = IndexMap::with_capacity(unordered.len());
                    for key in order.keys() {
                        if let Some(child) = unordered.swap_remove(*key) {
                            ordered.insert((*key).clone(), child);
                        }
                    }
                    // Anything the walk did not name (there should be nothing) goes at the end.
                    ordered.extend(unordered);
                    *fields = ordered;
                }
                for (key, child) in fields.iter_mut() {
                    if !matches!(child, Value::List(_) | Value::Object(_)) {
                        continue;
                    }
                    if let Some(selected) = order.get(key) {
                        let child_order = selected
                            .order
                            .get_or_init(|| self.key_order(&selected.sets));
                        self.apply_ordered(child, child_order);
                    }
                }
            }
            _ => {}
        }
    }

    /// The response keys of `set` in request order, fragments expanded and skipped selections
    /// left out, each with the selection sets of its sub-fields (a key selected twice merges
    /// them, as execution does).
    fn collect(&self, set: &'a SelectionSet, order: &mut KeyOrder<'a>, depth: usize) {
        // Validation rejects fragment cycles before anything is resolved; this is only a backstop.
        if depth > 64 {
            return;
        }
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    if !self.included(&field.node.directives) {
                        continue;
                    }
                    let key = &field.node.response_key().node;
                    let children = &field.node.selection_set.node;
                    order.entry(key).or_default().sets.push(children);
                }
                Selection::FragmentSpread(spread) => {
                    if !self.included(&spread.node.directives) {
                        continue;
                    }
                    let name = &spread.node.fragment_name.node;
                    if let Some(fragment) = self.document.fragments.get(name) {
                        self.collect(&fragment.node.selection_set.node, order, depth + 1);
                    }
                }
                Selection::InlineFragment(inline) => {
                    if self.included(&inline.node.directives) {
                        self.collect(&inline.node.selection_set.node, order, depth + 1);
                    }
                }
            }
        }
    }

    /// Whether `@skip` and `@include` leave a selection in, as execution decides it.
    fn included(&self, directives: &[Positioned<Directive>]) -> bool {
        let condition = |name: &str| {
            directives
                .iter()
                .find(|d| d.node.name.node == name)
                .and_then(|d| d.node.get_argument("if"))
                .map(|value| {
                    let resolved = value
                        .node
                        .clone()
                        .into_const_with(|var| self.variables.get(&var).cloned().ok_or(()));
                    matches!(resolved, Ok(Value::Boolean(true)))
                })
        };
        condition("skip") != Some(true) && condition("include") != Some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_follow_the_document() {
        let query = "query Q($x: Boolean!) { b: health { z @skip(if: $x) a z } ...F }
            fragment F on Query { c { y x } }";
        let mut data = Value::from_json(serde_json::json!({
            "c": [{ "x": 1, "y": 2 }],
            "b": { "z": 2, "a": 1 },
        }))
        .expect("value");
        let variables = Variables::from_json(serde_json::json!({ "x": true }));
        let document = async_graphql::parser::parse_query(query).expect("query");
        reorder(&mut data, &document, Some("Q"), &variables);
        let text = serde_json::to_string(&data).expect("json");
        assert_eq!(text, r#"{"b":{"a":1,"z":2},"c":[{"y":2,"x":1}]}"#);
    }

    #[test]
    fn nested_lists_share_their_order_and_ordered_objects_are_walked() {
        let query = "{ p { id items { b a } } }";
        let mut data = Value::from_json(serde_json::json!({
            "p": [
                { "id": 1, "items": [{ "a": 1, "b": 2 }, { "b": 3, "a": 4 }] },
                { "items": [{ "a": 5, "b": 6 }], "id": 2 },
            ],
        }))
        .expect("value");
        let document = async_graphql::parser::parse_query(query).expect("query");
        reorder(&mut data, &document, None, &Variables::default());
        let text = serde_json::to_string(&data).expect("json");
        assert_eq!(
            text,
            r#"{"p":[{"id":1,"items":[{"b":2,"a":1},{"b":3,"a":4}]},{"id":2,"items":[{"b":6,"a":5}]}]}"#
        );
    }
}
