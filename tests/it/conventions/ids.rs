//! Opaque, typed ids: any object is fetched again by its id.

use serde_json::json;

use super::call;
use crate::on_both_databases;
use crate::stock::warehouse;
use crate::support::app::error_code;
use crate::support::fixtures::carrier;
use crate::support::{Backend, TestApp, gid};

on_both_databases!(any_object_is_fetched_again_by_its_id,);

/// `node(id:)` refetches what the API handed out, by id alone, with each type's permission.
async fn any_object_is_fetched_again_by_its_id(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let body = call(&app, s, "{ me { id role { id } } }", json!({})).await;
    let (me, role) = (
        body["data"]["me"]["id"].clone(),
        body["data"]["me"]["role"]["id"].clone(),
    );
    let dhl = carrier(&app, s, "DHL", &["EXPRESS"]).await;
    let node = "query ($id: ID!) { node(id: $id) { __typename id ... on Product { sku } ... on Location { code } } }";
    for (id, typename) in [
        (json!(w.product), "Product"),
        (json!(w.warehouse), "Warehouse"),
        (json!(w.a), "Location"),
        (me, "User"),
        (role, "Role"),
        (json!(dhl.id), "Carrier"),
        (json!(dhl.services[0]), "CarrierService"),
    ] {
        let body = call(&app, s, node, json!({ "id": id })).await;
        assert_eq!(body["data"]["node"]["__typename"], typename, "{body}");
        assert_eq!(body["data"]["node"]["id"], id, "{body}");
    }
    let body = call(&app, s, node, json!({ "id": w.product })).await;
    assert_eq!(body["data"]["node"]["sku"], "SKU-1", "{body}");

    // Another organisation's id is exactly a missing one; a kind `node` does not serve is
    // NOT_FOUND; text that is no id is BAD_USER_INPUT.
    let beta = app.member_of_new_organisation("Beta").await;
    let foreign = call(&app, &beta.session, node, json!({ "id": w.product })).await;
    let missing = call(
        &app,
        &beta.session,
        node,
        json!({ "id": gid(entity::ProductId::generate()) }),
    )
    .await;
    assert_eq!(error_code(&foreign), Some("NOT_FOUND"), "{foreign}");
    assert_eq!(
        foreign["errors"][0]["message"],
        missing["errors"][0]["message"]
    );
    let lot = call(
        &app,
        s,
        node,
        json!({ "id": gid(entity::LotId::generate()) }),
    )
    .await;
    assert_eq!(error_code(&lot), Some("NOT_FOUND"), "{lot}");
    let garbage = call(&app, s, node, json!({ "id": "garbage" })).await;
    assert_eq!(error_code(&garbage), Some("BAD_USER_INPUT"), "{garbage}");

    // Each type keeps its permission.
    let email = app
        .database
        .user_with_permissions(
            owner.tenant,
            &[vaskem::auth::permission::Permission::StockView],
        )
        .await;
    let viewer = app
        .login(&email, crate::support::database::TEST_PASSWORD)
        .await;
    let body = call(&app, &viewer, node, json!({ "id": w.product })).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["permission"], "PRODUCTS_VIEW",
        "{body}"
    );
}
