//! Reading replies. A mutation refuses bad input with `userErrors` and no `errors`, so a test that
//! checks only `errors` cannot see a validation failure: [`assert_ok`] checks both.

use serde_json::Value;

use super::{Session, TestApp};

/// The reply's `data`, after asserting the reply has no `errors` and no non-empty `userErrors`
/// anywhere in `data`; a failure shows the whole reply.
#[track_caller]
pub fn assert_ok(reply: &Value) -> &Value {
    let shown = || serde_json::to_string_pretty(reply).unwrap_or_else(|_| reply.to_string());
    assert!(
        reply["errors"].is_null(),
        "the reply has errors:\n{}",
        shown()
    );
    if let Some(path) = user_errors_in(&reply["data"], "data") {
        panic!("the reply has userErrors at {path}:\n{}", shown());
    }
    assert!(
        !reply["data"].is_null(),
        "the reply has no data:\n{}",
        shown()
    );
    &reply["data"]
}

/// Whether the reply succeeded: no `errors` and no non-empty `userErrors` (for races, where some
/// replies are expected to fail).
pub fn succeeded(reply: &Value) -> bool {
    reply["errors"].is_null()
        && !reply["data"].is_null()
        && user_errors_in(&reply["data"], "data").is_none()
}

/// How many replies of a race of parallel requests succeeded, after asserting that every other
/// one was refused with CONFLICT and a message containing one of `reasons`.
#[track_caller]
pub fn race_winners(replies: &[Value], reasons: &[&str]) -> usize {
    let (won, lost): (Vec<&Value>, Vec<&Value>) =
        replies.iter().partition(|reply| reply["errors"].is_null());
    for reply in &won {
        assert_ok(reply);
    }
    for reply in lost {
        assert_eq!(super::app::error_code(reply), Some("CONFLICT"), "{reply}");
        let message = reply["errors"][0]["message"].as_str().unwrap_or("");
        assert!(
            reasons.iter().any(|reason| message.contains(reason)),
            "{reply}"
        );
    }
    won.len()
}

/// The path of the first non-empty `userErrors` list under `value`.
fn user_errors_in(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::Object(fields) => fields.iter().find_map(|(key, field)| {
            let here = format!("{path}.{key}");
            match field {
                Value::Array(errors) if key == "userErrors" && !errors.is_empty() => Some(here),
                _ => user_errors_in(field, &here),
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| user_errors_in(item, &format!("{path}[{i}]"))),
        _ => None,
    }
}

impl TestApp {
    /// Sends a document as `session` and returns its `data`, failing the test (with the whole
    /// reply) on any `errors` or `userErrors`.
    pub async fn ok(&self, session: &Session, document: &str, variables: Value) -> Value {
        let (status, reply) = self.graphql_in(Some(session), document, variables).await;
        assert_eq!(status, 200, "{document}\n{reply}");
        assert_ok(&reply).clone()
    }
}

#[test]
fn user_errors_at_any_depth_are_found() {
    let clean =
        serde_json::json!({ "data": { "a": { "userErrors": [], "b": [{ "userErrors": [] }] } } });
    assert_eq!(user_errors_in(&clean["data"], "data"), None);
    let deep =
        serde_json::json!({ "data": { "a": { "b": [{}, { "userErrors": [{ "field": "x" }] }] } } });
    assert_eq!(
        user_errors_in(&deep["data"], "data").as_deref(),
        Some("data.a.b[1].userErrors")
    );
}

impl TestApp {
    /// Sends `document` (taking `$id`) as `session` with another organisation's id and with an
    /// id of nothing at all, and asserts both answer the same NOT_FOUND: a foreign id must reveal
    /// nothing a missing one does not.
    pub async fn assert_foreign_id_is_missing(
        &self,
        session: &Session,
        document: &str,
        foreign: &Value,
        unknown: &Value,
    ) {
        let (_, from_outside) = self
            .graphql_in(
                Some(session),
                document,
                serde_json::json!({ "id": foreign }),
            )
            .await;
        let (_, nowhere) = self
            .graphql_in(
                Some(session),
                document,
                serde_json::json!({ "id": unknown }),
            )
            .await;
        assert_eq!(
            from_outside["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{document}: {from_outside}"
        );
        assert_eq!(
            from_outside["errors"][0]["message"], nowhere["errors"][0]["message"],
            "{document}: another organisation's id answers as a missing one"
        );
        assert_eq!(from_outside["data"], nowhere["data"], "{document}");
    }
}
