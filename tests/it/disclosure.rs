//! No answer reveals what a permission hides: error messages, filters and the checks on acting
//! through a role. One test per way it leaked.

use serde_json::{Value, json};
use vaskem::auth::permission::Permission;

use crate::on_both_databases;
use crate::stock::{ADJUST, warehouse};
use crate::support::app::{Member, error_code};
use crate::support::database::TEST_PASSWORD;
use crate::support::{Backend, Session, TestApp, assert_ok};

on_both_databases!(
    a_shortfall_names_only_what_the_caller_may_see,
    the_below_reorder_filter_needs_stock_view,
    reversing_a_transfer_needs_stock_transfer,
    changing_a_role_needs_what_each_holder_holds,
    every_member_sees_who_their_organisation_is,
);

async fn signed_in_with(app: &TestApp, owner: &Member, permissions: &[Permission]) -> Session {
    let email = app
        .database
        .user_with_permissions(owner.tenant, permissions)
        .await;
    app.login(&email, TEST_PASSWORD).await
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or("")
}

async fn a_shortfall_names_only_what_the_caller_may_see(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let w = warehouse(&app, &owner.session).await;
    let take = |session: Session| {
        let app = &app;
        let w = &w;
        async move {
            let (_, body) = app
                .graphql_in(
                    Some(&session),
                    ADJUST,
                    json!({ "i": { "productId": w.product, "locationId": w.a, "change": -7, "reason": "damaged" } }),
                )
                .await;
            assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
            message(&body).to_owned()
        }
    };
    let add = json!({ "i": { "productId": w.product, "locationId": w.a, "change": 5, "reason": "found" } });
    let (_, body) = app.graphql_in(Some(&owner.session), ADJUST, add).await;
    assert_ok(&body);

    let blind = signed_in_with(&app, &owner, &[Permission::StockAdjust]).await;
    assert_eq!(take(blind).await, "insufficient stock");
    let sees_products = signed_in_with(
        &app,
        &owner,
        &[Permission::StockAdjust, Permission::ProductsView],
    )
    .await;
    assert_eq!(take(sees_products).await, "insufficient stock of SKU-1");
    let sees_places = signed_in_with(
        &app,
        &owner,
        &[Permission::StockAdjust, Permission::LocationsView],
    )
    .await;
    assert_eq!(take(sees_places).await, "insufficient stock at A-01-01");
    let sees_stock = signed_in_with(
        &app,
        &owner,
        &[Permission::StockAdjust, Permission::StockView],
    )
    .await;
    assert_eq!(
        take(sees_stock).await,
        "insufficient stock: 5 available, 7 requested"
    );
    assert_eq!(
        take(owner.session.clone()).await,
        "insufficient stock of SKU-1 at A-01-01: 5 available, 7 requested"
    );
}

async fn the_below_reorder_filter_needs_stock_view(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    warehouse(&app, &owner.session).await;
    let query = "{ products(filter: {belowReorderPoint: true}) { nodes { sku } } }";
    let editor = signed_in_with(
        &app,
        &owner,
        &[Permission::ProductsView, Permission::ProductsEdit],
    )
    .await;
    let (_, body) = app.graphql_in(Some(&editor), query, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["permission"], "STOCK_VIEW");
    // The plain list is still theirs.
    let (_, body) = app
        .graphql_in(Some(&editor), "{ products { nodes { sku } } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["products"]["nodes"][0]["sku"], "SKU-1",
        "{body}"
    );
    let (_, body) = app.graphql_in(Some(&owner.session), query, json!({})).await;
    assert_ok(&body);
}

async fn reversing_a_transfer_needs_stock_transfer(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let w = warehouse(&app, &owner.session).await;
    let movement_of = |body: &Value, field: &str| {
        body["data"][field]["movements"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{field}: {body}"))
            .to_owned()
    };
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            ADJUST,
            json!({ "i": { "productId": w.product, "locationId": w.a, "change": 10, "reason": "found" } }),
        )
        .await;
    let adjustment = movement_of(&body, "adjustStock");
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($i: TransferStockInput!) { transferStock(input: $i) { movements { id } } }",
            json!({ "i": { "productId": w.product, "fromLocationId": w.a, "toLocationId": w.b, "quantity": 4 } }),
        )
        .await;
    let transfer = movement_of(&body, "transferStock");
    let reverse = "mutation ($id: ID!) { reverseStockMovement(input: {movementId: $id}) { movements { id } } }";
    let adjuster = signed_in_with(&app, &owner, &[Permission::StockAdjust]).await;
    let (_, body) = app
        .graphql_in(Some(&adjuster), reverse, json!({ "id": transfer }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["permission"],
        "STOCK_TRANSFER"
    );
    let mover = signed_in_with(
        &app,
        &owner,
        &[Permission::StockAdjust, Permission::StockTransfer],
    )
    .await;
    let (_, body) = app
        .graphql_in(Some(&mover), reverse, json!({ "id": transfer }))
        .await;
    assert_ok(&body);
    // Reversing an adjustment stays an adjustment.
    let (_, body) = app
        .graphql_in(Some(&adjuster), reverse, json!({ "id": adjustment }))
        .await;
    assert_ok(&body);
}

async fn changing_a_role_needs_what_each_holder_holds(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    // A stock viewer whose account also holds AUDIT_VIEW by a per-user grant.
    let holder_email = app
        .database
        .user_with_permissions(owner.tenant, &[Permission::StockView])
        .await;
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "query ($s: String!) { users(filter: {search: $s}) { nodes { id role { id } } } }",
            json!({ "s": holder_email }),
        )
        .await;
    let holder = &body["data"]["users"]["nodes"][0];
    let (holder_id, role_id) = (holder["id"].clone(), holder["role"]["id"].clone());
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($id: ID!) { setUserOverrides(input: {id: $id, grant: [AUDIT_VIEW], revoke: []}) { user { permissions } } }",
            json!({ "id": holder_id }),
        )
        .await;
    assert_ok(&body);
    // A role manager who holds everything the role holds, but not what its holder was granted.
    let manager = signed_in_with(
        &app,
        &owner,
        &[
            Permission::RolesView,
            Permission::RolesManage,
            Permission::StockView,
            Permission::ProductsView,
        ],
    )
    .await;
    let update = "mutation ($id: ID!, $p: [Permission!]!) { updateRole(input: {id: $id, name: \"Stock watchers\", permissions: $p}) { role { permissions } } }";
    let (_, body) = app
        .graphql_in(
            Some(&manager),
            update,
            json!({ "id": role_id, "p": ["STOCK_VIEW", "PRODUCTS_VIEW"] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["permission"], "AUDIT_VIEW");
    // Whoever holds that too may change the role.
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            update,
            json!({ "id": role_id, "p": ["STOCK_VIEW", "PRODUCTS_VIEW"] }),
        )
        .await;
    assert_ok(&body);
}

/// `User.organisation` is part of who a member is (the README lists its fields); the root
/// `organisation` field stays behind ORGANISATION_VIEW.
async fn every_member_sees_who_their_organisation_is(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let slug = app.database.slug_of(&owner.email).await;
    let nobody = signed_in_with(&app, &owner, &[]).await;
    let (_, body) = app
        .graphql_in(
            Some(&nobody),
            "{ me { organisation { id name slug active } } }",
            json!({}),
        )
        .await;
    assert_ok(&body);
    assert_eq!(body["data"]["me"]["organisation"]["slug"], slug.as_str());
    assert_eq!(body["data"]["me"]["organisation"]["name"], "Alpha");
    let (_, body) = app
        .graphql_in(Some(&nobody), "{ organisation { name } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["permission"],
        "ORGANISATION_VIEW"
    );
}
