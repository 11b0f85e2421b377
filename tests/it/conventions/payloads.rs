//! Mutation payloads: validation failures in `userErrors`; fields in the order asked for.

use serde_json::json;

use super::call;
use crate::on_both_databases;
use crate::support::{Backend, TestApp};

on_both_databases!(
    validation_failures_come_back_in_user_errors,
    responses_keep_the_requested_field_order,
);

/// Validation failures of a mutation, malformed ids included, come back in `userErrors` with the
/// field at fault; nothing is written.
async fn validation_failures_come_back_in_user_errors(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let before = call(&app, s, "{ auditEvents { totalCount } }", json!({})).await["data"]["auditEvents"]["totalCount"].clone();
    let cases = [
        (
            "mutation { updateProduct(input: {id: \"garbage\", sku: \"X\", name: \"X\"}) { product { id } userErrors { field code } } }",
            "updateProduct",
            "id",
        ),
        (
            "mutation { archiveWarehouse(input: {id: \"garbage\"}) { warehouse { id } userErrors { field code } } }",
            "archiveWarehouse",
            "id",
        ),
        (
            "mutation { createLocation(input: {warehouseId: \"garbage\", code: \"X\"}) { location { id } userErrors { field code } } }",
            "createLocation",
            "warehouseId",
        ),
        (
            "mutation { adjustStock(input: {productId: \"garbage\", locationId: \"garbage\", change: 1, reason: \"found\"}) { movements { id } userErrors { field code } } }",
            "adjustStock",
            "productId",
        ),
        (
            "mutation { postStockCount(input: {lines: [{productId: \"garbage\", locationId: \"garbage\", counted: 1}]}) { movements { id } userErrors { field code } } }",
            "postStockCount",
            "lines",
        ),
        (
            "mutation { changeUserRole(input: {id: \"garbage\", roleId: \"garbage\"}) { user { id } userErrors { field code } } }",
            "changeUserRole",
            "id",
        ),
        (
            "mutation { deleteRole(input: {id: \"garbage\"}) { roleId userErrors { field code } } }",
            "deleteRole",
            "id",
        ),
        (
            "mutation { revokeSession(input: {id: \"garbage\"}) { sessionId userErrors { field code } } }",
            "revokeSession",
            "id",
        ),
        (
            "mutation { createProduct(input: {sku: \"\", name: \"X\"}) { product { id } userErrors { field code } } }",
            "createProduct",
            "sku",
        ),
    ];
    for (document, mutation, field) in cases {
        let body = call(&app, s, document, json!({})).await;
        assert!(body["errors"].is_null(), "{document}: {body}");
        let error = &body["data"][mutation]["userErrors"][0];
        assert_eq!(error["field"], field, "{document}: {body}");
        assert_eq!(error["code"], "BAD_USER_INPUT", "{document}: {body}");
    }
    let after = call(&app, s, "{ auditEvents { totalCount } }", json!({})).await["data"]["auditEvents"]["totalCount"].clone();
    assert_eq!(before, after, "a refused mutation writes nothing");
    // A wrong current password is refused the same way, but leaves its security event: it is a
    // guess at the password, logged like a failed sign-in.
    let body = call(&app, s, "mutation { changePassword(input: {current: \"wrong\", new: \"x\"}) { user { id } userErrors { field code } } }", json!({})).await;
    assert_eq!(
        body["data"]["changePassword"]["userErrors"][0]["field"], "current",
        "{body}"
    );
    let log = call(
        &app,
        s,
        "{ auditEvents(first: 1) { totalCount nodes { action outcome } } }",
        json!({}),
    )
    .await;
    let events = &log["data"]["auditEvents"];
    assert_eq!(
        events["totalCount"].as_i64(),
        after.as_i64().map(|n| n + 1),
        "{log}"
    );
    assert_eq!(
        events["nodes"][0]["action"], "user.password_change",
        "{log}"
    );
    assert_eq!(events["nodes"][0]["outcome"], "FAILURE", "{log}");
}

/// Objects come back with their keys in the order the document asked for them, however the
/// concurrent resolvers happen to finish (the spec's ordered maps; snapshot tests rely on it).
async fn responses_keep_the_requested_field_order(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let document = "query Q { zeta: health { version status } users { totalCount } ...R roles { totalCount nodes { name id } } organisation { name id } alpha: health { status } }
        fragment R on Query { warehouses { totalCount } }";
    let expected = [
        "\"zeta\":{\"version\"",
        "\"users\":",
        "\"warehouses\":",
        "\"roles\":{\"totalCount\"",
        "{\"name\":",
        "\"organisation\":{\"name\"",
        "\"alpha\":",
    ];
    for _ in 0..10 {
        let text = crate::support::app::client()
            .post(app.url("/graphql"))
            .header(
                "cookie",
                format!(
                    "{}={}",
                    vaskem::auth::session::SESSION_COOKIE,
                    owner.session.token
                ),
            )
            .json(&json!({ "query": document, "operationName": "Q" }))
            .send()
            .await
            .expect("POST")
            .text()
            .await
            .expect("body");
        let positions: Vec<usize> = expected
            .iter()
            .map(|key| text.find(key).unwrap_or_else(|| panic!("{key} in {text}")))
            .collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
    }
}
