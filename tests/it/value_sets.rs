//! The fixed value sets (tracking mode, location kind, place kind, an audit event's actor kind
//! and outcome) are GraphQL enums end to end:
//! every value goes in and comes back out under its enum name on both engines, is stored as the
//! lower-case text the columns always held, and anything else is refused before a resolver runs.

use sea_orm::{ActiveValue::Set, ConnectionTrait, Statement};
use serde_json::{Value, json};
use vaskem::audit::AuditRecord;
use vaskem::tenancy::TenantDb;

use crate::on_both_databases;
use crate::stock::{call, warehouse};
use crate::support::{Backend, TestApp, gid};

on_both_databases!(
    every_tracking_mode_round_trips,
    every_location_kind_round_trips,
    every_place_kind_round_trips,
    a_value_outside_a_set_is_a_validation_error,
    audit_actor_kinds_and_outcomes_round_trip,
);

/// The one text `sql` selects as `v`, read past the API (each test has its own database).
async fn stored(app: &TestApp, sql: &str) -> String {
    let raw = app.database.raw().await;
    raw.query_one_raw(Statement::from_string(raw.get_database_backend(), sql))
        .await
        .expect(sql)
        .unwrap_or_else(|| panic!("no row: {sql}"))
        .try_get::<String>("", "v")
        .expect("text")
}

/// The key inside a global id.
fn decoded(id: &Value) -> uuid::Uuid {
    let id = async_graphql::ID(
        id.as_str()
            .unwrap_or_else(|| panic!("an id: {id}"))
            .to_owned(),
    );
    vaskem::graphql::ids::decode(&id)
        .unwrap_or_else(|| panic!("a global id: {id:?}"))
        .1
}

async fn every_tracking_mode_round_trips(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let create = "mutation ($i: CreateProductInput!) { createProduct(input: $i) { product { id tracking } userErrors { field message } } }";
    for (value, text) in [("NONE", "none"), ("LOT", "lot"), ("SERIAL", "serial")] {
        let body = call(
            &app,
            s,
            create,
            json!({ "i": { "sku": format!("T-{value}"), "name": value, "tracking": value } }),
        )
        .await;
        let product = &body["data"]["createProduct"]["product"];
        assert_eq!(product["tracking"], value, "{body}");
        let id = product["id"].clone();
        let body = call(
            &app,
            s,
            "query ($id: ID!) { product(id: $id) { tracking } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(body["data"]["product"]["tracking"], value, "{body}");
        let body = call(
            &app,
            s,
            &format!("{{ products(filter: {{tracking: {value}}}) {{ nodes {{ id }} }} }}"),
            json!({}),
        )
        .await;
        assert_eq!(
            body["data"]["products"]["nodes"],
            json!([{ "id": id }]),
            "{body}"
        );
        let sql = format!("SELECT tracking AS v FROM products WHERE sku = 'T-{value}'");
        assert_eq!(stored(&app, &sql).await, text);
    }
    // Left out, it is NONE.
    let body = call(
        &app,
        s,
        create,
        json!({ "i": { "sku": "T-DEFAULT", "name": "x" } }),
    )
    .await;
    assert_eq!(
        body["data"]["createProduct"]["product"]["tracking"], "NONE",
        "{body}"
    );
}

async fn every_location_kind_round_trips(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let body = call(
        &app,
        s,
        "mutation { createWarehouse(input: { code: \"W1\", name: \"W\" }) { warehouse { id } } }",
        json!({}),
    )
    .await;
    let warehouse = body["data"]["createWarehouse"]["warehouse"]["id"].clone();
    let create = "mutation ($i: CreateLocationInput!) { createLocation(input: $i) { location { id kind } userErrors { field message } } }";
    let update = "mutation ($i: UpdateLocationInput!) { updateLocation(input: $i) { location { kind } userErrors { field message } } }";
    let kinds = [
        ("RECEIVING", "receiving"),
        ("STORAGE", "storage"),
        ("PICKING", "picking"),
        ("SHIPPING", "shipping"),
        ("QUARANTINE", "quarantine"),
    ];
    let mut ids = Vec::new();
    for (value, text) in kinds {
        let body = call(
            &app,
            s,
            create,
            json!({ "i": { "warehouseId": warehouse, "code": value, "kind": value } }),
        )
        .await;
        let location = &body["data"]["createLocation"]["location"];
        assert_eq!(location["kind"], value, "{body}");
        let id = location["id"].clone();
        let body = call(
            &app,
            s,
            "query ($id: ID!) { location(id: $id) { kind } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(body["data"]["location"]["kind"], value, "{body}");
        let body = call(
            &app,
            s,
            &format!("{{ locations(filter: {{kind: {value}}}) {{ nodes {{ id }} }} }}"),
            json!({}),
        )
        .await;
        assert_eq!(
            body["data"]["locations"]["nodes"],
            json!([{ "id": id }]),
            "{body}"
        );
        let sql = format!("SELECT kind AS v FROM locations WHERE code = '{value}'");
        assert_eq!(stored(&app, &sql).await, text);
        ids.push(id);
    }
    // An update sets each kind too: every location takes the next one's.
    for (n, id) in ids.iter().enumerate() {
        let (value, text) = kinds[(n + 1) % kinds.len()];
        let code = kinds[n].0;
        let body = call(
            &app,
            s,
            update,
            json!({ "i": { "id": id, "code": code, "kind": value, "pickable": true } }),
        )
        .await;
        assert_eq!(
            body["data"]["updateLocation"]["location"]["kind"], value,
            "{body}"
        );
        let sql = format!("SELECT kind AS v FROM locations WHERE code = '{code}'");
        assert_eq!(stored(&app, &sql).await, text);
    }
    // Left out, it is STORAGE.
    let body = call(
        &app,
        s,
        create,
        json!({ "i": { "warehouseId": warehouse, "code": "DEFAULT" } }),
    )
    .await;
    assert_eq!(
        body["data"]["createLocation"]["location"]["kind"], "STORAGE",
        "{body}"
    );
}

async fn every_place_kind_round_trips(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let product = decoded(&json!(w.product));
    let location = decoded(&json!(w.a));
    // Receipts, dispatch and transit have no operation yet: their movements are written here as
    // the ledger will write them, and must read back as they were stored.
    let places = [
        ("SUPPLIER", "supplier"),
        ("CUSTOMER", "customer"),
        ("ADJUSTMENT", "adjustment"),
        ("SCRAP", "scrap"),
        ("IN_TRANSIT", "in_transit"),
    ];
    let handle = TenantDb::for_operator(&app.database.db, owner.tenant);
    let mut tx = handle.write().await.expect("write");
    let mut written = Vec::new();
    for (n, (_, text)) in places.iter().enumerate() {
        let kind = <entity::PlaceKind as sea_orm::ActiveEnum>::try_from_value(&(*text).to_owned())
            .expect("a place kind");
        // In from the virtual place to the location, then back out again.
        for (from, to) in [
            (kind, entity::PlaceKind::Location),
            (entity::PlaceKind::Location, kind),
        ] {
            let at = |place| {
                (place == entity::PlaceKind::Location).then_some(entity::LocationId(location))
            };
            let movement = tx
                .insert(entity::stock_movement::ActiveModel {
                    id: Set(entity::MovementId::generate()),
                    tenant_id: Set(owner.tenant),
                    product_id: Set(entity::ProductId(product)),
                    lot_id: Set(None),
                    quantity: Set(1 + n as i64),
                    from_place: Set(from),
                    from_location_id: Set(at(from)),
                    to_place: Set(to),
                    to_location_id: Set(at(to)),
                    reason: Set("test".into()),
                    note: Set(String::new()),
                    reverses_id: Set(None),
                    actor_user_id: Set(None),
                    created_at: Set(chrono::Utc::now()),
                })
                .await
                .expect("insert movement");
            written.push(movement.id);
        }
    }
    tx.record(AuditRecord::new("test.movements", "product", product))
        .await
        .expect("audit");
    tx.commit().await.expect("commit");
    let body = call(&app, s, "{ stockMovements(first: 100, sort: {direction: ASC}) { nodes { id quantity fromPlace toPlace fromLocationId toLocationId } } }", json!({})).await;
    let nodes = body["data"]["stockMovements"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    assert_eq!(nodes.len(), 2 * places.len(), "{body}");
    for (n, (value, text)) in places.iter().enumerate() {
        let (inward, outward) = (&nodes[2 * n], &nodes[2 * n + 1]);
        assert_eq!(inward["id"], gid(written[2 * n]), "{body}");
        assert_eq!(
            (&inward["fromPlace"], &inward["toPlace"]),
            (&json!(value), &json!("LOCATION")),
            "{body}"
        );
        assert_eq!(
            (&inward["fromLocationId"], &inward["toLocationId"]),
            (&Value::Null, &json!(w.a)),
            "{body}"
        );
        assert_eq!(
            (&outward["fromPlace"], &outward["toPlace"]),
            (&json!("LOCATION"), &json!(value)),
            "{body}"
        );
        let quantity = 1 + n;
        let sql = format!(
            "SELECT from_place AS v FROM stock_movements WHERE quantity = {quantity} AND from_location_id IS NULL"
        );
        assert_eq!(stored(&app, &sql).await, *text);
        let sql = format!(
            "SELECT to_place AS v FROM stock_movements WHERE quantity = {quantity} AND to_location_id IS NULL"
        );
        assert_eq!(stored(&app, &sql).await, *text);
    }
    // And the ones the API posts today come back as enum values too.
    let body = call(&app, s, crate::stock::ADJUST, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "scrap" } })).await;
    assert_eq!(
        body["data"]["adjustStock"]["movements"][0]["fromPlace"], "SCRAP",
        "{body}"
    );
    assert_eq!(
        body["data"]["adjustStock"]["movements"][0]["toPlace"], "LOCATION",
        "{body}"
    );
}

async fn a_value_outside_a_set_is_a_validation_error(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let before = call(&app, s, "{ auditEvents { totalCount } }", json!({})).await["data"]["auditEvents"]["totalCount"].clone();
    let create_product =
        "mutation ($i: CreateProductInput!) { createProduct(input: $i) { product { id } } }";
    let create_location =
        "mutation ($i: CreateLocationInput!) { createLocation(input: $i) { location { id } } }";
    let cases = [
        // The stored text (the old string API's values) and plain nonsense, as variables... (The
        // stored text is spelt so that scripts/dev/enum-test-edits.sh leaves these cases alone.)
        (
            create_product,
            json!({ "i": { "sku": "X-1", "name": "x", "tracking": String::from("lot") } }),
            "TrackingMode",
        ),
        (
            create_product,
            json!({ "i": { "sku": "X-1", "name": "x", "tracking": "BATCH" } }),
            "TrackingMode",
        ),
        (
            create_location,
            json!({ "i": { "warehouseId": w.warehouse, "code": "X", "kind": String::from("storage") } }),
            "LocationKind",
        ),
        (
            create_location,
            json!({ "i": { "warehouseId": w.warehouse, "code": "X", "kind": "DOCK" } }),
            "LocationKind",
        ),
        // ...and inline: the stored text as a name and as a string, and an unknown name.
        // (async-graphql takes a quoted *enum name* inline, as variables carry them as strings.)
        (
            "mutation { createProduct(input: { sku: \"X-1\", name: \"x\", tracking: lot }) { product { id } } }",
            json!({}),
            "TrackingMode",
        ),
        (
            "{ products(filter: { tracking: BATCH }) { nodes { id } } }",
            json!({}),
            "TrackingMode",
        ),
        (
            r#"{ locations(filter: { kind: "picking" }) { nodes { id } } }"#,
            json!({}),
            "LocationKind",
        ),
    ];
    for (document, variables, enumeration) in cases {
        let body = call(&app, s, document, variables.clone()).await;
        assert!(body["data"].is_null(), "{document} {variables}: {body}");
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(errors.len(), 1, "{body}");
        // Refused by GraphQL validation (no resolver ran), which the edge reports as bad input.
        assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        let message = errors[0]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("Invalid value"), "{body}");
        assert!(message.contains(enumeration), "{body}");
    }
    let after = call(&app, s, "{ auditEvents { totalCount } }", json!({})).await["data"]["auditEvents"]["totalCount"].clone();
    assert_eq!(before, after, "nothing was written");
}

/// An audit event's actor kind and outcome: the operator's event is CLI, a user's USER, a
/// refused sign-in FAILURE; stored as the lower-case text the chain was always computed over.
async fn audit_actor_kinds_and_outcomes_round_trip(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Audited").await;
    let slug = app.database.slug_of(&owner.email).await;
    let refused = app
        .try_login_to(&slug, &owner.email, "not the password at all")
        .await;
    assert!(refused.is_err());
    let data = app
        .ok(
            &owner.session,
            "mutation { renameOrganisation(input: { name: \"Audited Ltd\" }) { organisation { name } userErrors { message } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["renameOrganisation"]["organisation"]["name"],
        "Audited Ltd"
    );
    let events = app
        .ok(
            &owner.session,
            "{ auditEvents(sort: { direction: ASC }) { nodes { action outcome actor { kind } } } }",
            json!({}),
        )
        .await;
    let seen: Vec<(String, String, String)> = events["auditEvents"]["nodes"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["outcome"].as_str().unwrap_or_default().to_owned(),
                e["actor"]["kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let has = |action: &str, outcome: &str, kind: &str| {
        seen.iter()
            .any(|(a, o, k)| a == action && o == outcome && k == kind)
    };
    assert!(has("organisation.create", "SUCCESS", "CLI"), "{seen:?}");
    assert!(
        has("user.login", "FAILURE", "CLI") || has("user.login", "FAILURE", "USER"),
        "{seen:?}"
    );
    assert!(has("organisation.rename", "SUCCESS", "USER"), "{seen:?}");
    assert_eq!(
        stored(
            &app,
            "SELECT actor_kind AS v FROM audit_events WHERE action = 'organisation.rename'"
        )
        .await,
        "user"
    );
    assert_eq!(
        stored(&app, "SELECT outcome AS v FROM audit_events WHERE action = 'user.login' AND outcome <> 'success' ORDER BY seq LIMIT 1").await,
        "failure"
    );
}
