//! Carriers and their service levels over the API, on both engines: the list and its filters,
//! sorts and pages; service levels; duplicate codes, one at a time and racing; tracking URL
//! templates; another organisation's ids; the audit event of every mutation; the permissions.

use serde_json::{Value, json};
use vaskem::auth::permission::Permission;

use crate::conventions::{strings, walk};
use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::database::TEST_PASSWORD;
use crate::support::fixtures::{call, carrier};
use crate::support::{Backend, Session, TestApp, assert_ok, gid};
use crate::unique_keys::{RACERS, assert_one_winner, race};

on_both_databases!(
    carriers_are_listed_filtered_sorted_and_paged,
    service_levels_are_added_changed_archived_and_restored,
    duplicate_codes_are_conflicts_naming_the_code,
    parallel_writes_of_one_code_give_one_success_and_conflicts,
    tracking_url_templates_are_checked,
    another_organisations_carriers_are_not_found,
    every_carrier_mutation_records_one_event_with_before_and_after,
    refusals_name_carriers_view_and_carriers_manage,
);

const CREATE: &str = "mutation ($i: CreateCarrierInput!) { createCarrier(input: $i) { carrier { id code name trackingUrlTemplate active createdAt updatedAt services { code } } userErrors { field message code } } }";
const UPDATE: &str = "mutation ($i: UpdateCarrierInput!) { updateCarrier(input: $i) { carrier { id code name trackingUrlTemplate updatedAt } userErrors { field message code } } }";
const ARCHIVE: &str = "mutation ($id: ID!) { archiveCarrier(input: { id: $id }) { carrier { id active } userErrors { field message } } }";
const RESTORE: &str = "mutation ($id: ID!) { restoreCarrier(input: { id: $id }) { carrier { id active } userErrors { field message } } }";
const ADD_SERVICE: &str = "mutation ($c: ID!, $code: String!, $name: String!) { addCarrierService(input: { carrierId: $c, code: $code, name: $name }) { carrierService { id carrierId code name active } userErrors { field message code } } }";
const UPDATE_SERVICE: &str = "mutation ($id: ID!, $code: String!, $name: String!) { updateCarrierService(input: { id: $id, code: $code, name: $name }) { carrierService { id code name active } userErrors { field message code } } }";
const ARCHIVE_SERVICE: &str = "mutation ($id: ID!) { archiveCarrierService(input: { id: $id }) { carrierService { id active } userErrors { field message } } }";
const RESTORE_SERVICE: &str = "mutation ($id: ID!) { restoreCarrierService(input: { id: $id }) { carrierService { id active } userErrors { field message } } }";
const ONE: &str = "query ($id: ID!) { carrier(id: $id) { id code name trackingUrlTemplate active services { id code name active } all: services(includeArchived: true) { code active } } }";

fn carrier_input(code: &str, name: &str) -> Value {
    json!({ "code": code, "name": name, "trackingUrlTemplate": format!("https://track.example.com/{code}?n={{tracking}}") })
}

/// The CONFLICT's message, after checking that the reply is one.
#[track_caller]
fn conflict(reply: &Value) -> &str {
    assert_eq!(error_code(reply), Some("CONFLICT"), "{reply}");
    reply["errors"][0]["message"].as_str().unwrap_or_default()
}

/// The first user error, after checking that the reply has one and no errors.
#[track_caller]
fn user_error<'a>(reply: &'a Value, mutation: &str) -> &'a Value {
    assert!(reply["errors"].is_null(), "{reply}");
    let error = &reply["data"][mutation]["userErrors"][0];
    assert_eq!(error["code"], "BAD_USER_INPUT", "{reply}");
    error
}

async fn audit_count(app: &TestApp, session: &Session) -> i64 {
    app.ok(session, "{ auditEvents { totalCount } }", json!({}))
        .await["auditEvents"]["totalCount"]
        .as_i64()
        .expect("count")
}

async fn carriers_are_listed_filtered_sorted_and_paged(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    // Code order, name order and creation order all differ.
    let mut ids = Vec::new();
    for (code, name) in [
        ("TCG", "Courier Guy"),
        ("DHL", "DHL Express"),
        ("PPX", "Postnet"),
        ("FDX", "FedEx"),
        ("ARX", "Aramex"),
    ] {
        let body = app
            .ok(s, CREATE, json!({ "i": carrier_input(code, name) }))
            .await;
        let created = &body["createCarrier"]["carrier"];
        assert_eq!(created["code"], code, "{body}");
        assert_eq!(created["active"], true, "{body}");
        assert_eq!(created["services"], json!([]), "{body}");
        assert_eq!(created["createdAt"], created["updatedAt"], "{body}");
        ids.push(created["id"].clone());
    }
    app.ok(s, ARCHIVE, json!({ "id": ids[2] })).await;

    let list = async |args: &str| walk(&app, s, "carriers", args, "code", Value::Null).await;
    assert_eq!(list("").await, strings(&["ARX", "DHL", "FDX", "TCG"]));
    assert_eq!(
        list("sort: {field: CODE, direction: DESC}").await,
        strings(&["TCG", "FDX", "DHL", "ARX"])
    );
    assert_eq!(
        list("sort: {field: NAME}").await,
        strings(&["ARX", "TCG", "DHL", "FDX"])
    );
    assert_eq!(
        list("sort: {field: CREATED_AT, direction: DESC}").await,
        strings(&["ARX", "FDX", "DHL", "TCG"])
    );
    assert_eq!(
        list("filter: {includeArchived: true}, sort: {field: CREATED_AT}").await,
        strings(&["TCG", "DHL", "PPX", "FDX", "ARX"])
    );
    // Code or name, any case, any part; archived ones only when asked for.
    assert_eq!(
        list("filter: {search: \"EX\"}").await,
        strings(&["ARX", "DHL", "FDX"])
    );
    assert_eq!(list("filter: {search: \"tcg\"}").await, strings(&["TCG"]));
    assert_eq!(list("filter: {search: \"post\"}").await, strings(&[]));
    assert_eq!(
        list("filter: {search: \"post\", includeArchived: true}").await,
        strings(&["PPX"])
    );
    // Long searches are refused as input, like every list's.
    let body = call(
        &app,
        s,
        "query ($s: String) { carriers(filter: {search: $s}) { totalCount } }",
        json!({ "s": "a".repeat(201) }),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");

    // One carrier, archived or not, by its id.
    let body = app.ok(s, ONE, json!({ "id": ids[2] })).await;
    let archived = &body["carrier"];
    assert_eq!(archived["code"], "PPX", "{body}");
    assert_eq!(archived["active"], false, "{body}");
    assert_eq!(
        archived["trackingUrlTemplate"],
        "https://track.example.com/PPX?n={tracking}"
    );
    let body = app.ok(s, RESTORE, json!({ "id": ids[2] })).await;
    assert_eq!(body["restoreCarrier"]["carrier"]["active"], true, "{body}");
    assert_eq!(
        list("").await,
        strings(&["ARX", "DHL", "FDX", "PPX", "TCG"])
    );

    // A changed carrier says when.
    let body = app
        .ok(s, UPDATE, json!({ "i": { "id": ids[1], "code": "DHX", "name": "DHL Express", "trackingUrlTemplate": " https://dhl.example.com/t/{tracking} " } }))
        .await;
    let updated = &body["updateCarrier"]["carrier"];
    assert_eq!(updated["code"], "DHX", "{body}");
    assert_eq!(
        updated["trackingUrlTemplate"], "https://dhl.example.com/t/{tracking}",
        "trimmed: {body}"
    );
    let body = app.ok(s, ONE, json!({ "id": ids[1] })).await;
    assert_eq!(body["carrier"]["code"], "DHX", "{body}");
    let created = app
        .ok(
            s,
            "query ($id: ID!) { carrier(id: $id) { createdAt updatedAt } }",
            json!({ "id": ids[1] }),
        )
        .await;
    assert_ne!(
        created["carrier"]["createdAt"], created["carrier"]["updatedAt"],
        "{created}"
    );
}

async fn service_levels_are_added_changed_archived_and_restored(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let dhl = carrier(&app, s, "DHL", &[]).await;
    let add = async |code: &str, name: &str| {
        let body = app
            .ok(
                s,
                ADD_SERVICE,
                json!({ "c": dhl.id, "code": code, "name": name }),
            )
            .await;
        let added = body["addCarrierService"]["carrierService"].clone();
        assert_eq!(added["carrierId"], dhl.id.as_str(), "{body}");
        assert_eq!(added["active"], true, "{body}");
        added["id"].clone()
    };
    let express = add("EXPRESS", "Express Worldwide").await;
    let economy = add("ECONOMY", "Economy").await;
    // By code, whatever the order they were added in.
    let body = app.ok(s, ONE, json!({ "id": dhl.id })).await;
    assert_eq!(
        body["carrier"]["services"],
        json!([
            { "id": economy, "code": "ECONOMY", "name": "Economy", "active": true },
            { "id": express, "code": "EXPRESS", "name": "Express Worldwide", "active": true },
        ]),
        "{body}"
    );

    let body = app
        .ok(
            s,
            UPDATE_SERVICE,
            json!({ "id": economy, "code": "ECO", "name": "Economy Select" }),
        )
        .await;
    assert_eq!(
        body["updateCarrierService"]["carrierService"],
        json!({ "id": economy, "code": "ECO", "name": "Economy Select", "active": true })
    );

    // An archived service level leaves the list unless asked for.
    let body = app.ok(s, ARCHIVE_SERVICE, json!({ "id": express })).await;
    assert_eq!(
        body["archiveCarrierService"]["carrierService"]["active"], false,
        "{body}"
    );
    let body = app.ok(s, ONE, json!({ "id": dhl.id })).await;
    assert_eq!(
        body["carrier"]["services"],
        json!([{ "id": economy, "code": "ECO", "name": "Economy Select", "active": true }]),
        "{body}"
    );
    assert_eq!(
        body["carrier"]["all"],
        json!([{ "code": "ECO", "active": true }, { "code": "EXPRESS", "active": false }]),
        "{body}"
    );

    // An archived carrier takes no new service levels and restores none until it is restored;
    // its own are kept as they were.
    app.ok(s, ARCHIVE, json!({ "id": dhl.id })).await;
    let body = call(
        &app,
        s,
        ADD_SERVICE,
        json!({ "c": dhl.id, "code": "SAME_DAY", "name": "Same day" }),
    )
    .await;
    assert!(conflict(&body).contains("DHL is archived"), "{body}");
    let body = call(&app, s, RESTORE_SERVICE, json!({ "id": express })).await;
    assert!(conflict(&body).contains("restore it first"), "{body}");
    app.ok(s, RESTORE, json!({ "id": dhl.id })).await;
    let body = app.ok(s, ONE, json!({ "id": dhl.id })).await;
    assert_eq!(
        body["carrier"]["all"],
        json!([{ "code": "ECO", "active": true }, { "code": "EXPRESS", "active": false }]),
        "{body}"
    );
    let body = app.ok(s, RESTORE_SERVICE, json!({ "id": express })).await;
    assert_eq!(
        body["restoreCarrierService"]["carrierService"]["active"], true,
        "{body}"
    );
    // Archiving what is archived already changes nothing and records nothing.
    app.ok(s, ARCHIVE_SERVICE, json!({ "id": express })).await;
    let events = audit_count(&app, s).await;
    let body = app.ok(s, ARCHIVE_SERVICE, json!({ "id": express })).await;
    assert_eq!(
        body["archiveCarrierService"]["carrierService"]["active"], false,
        "{body}"
    );
    assert_eq!(audit_count(&app, s).await, events);

    // Bad input comes back in userErrors, naming the field.
    for (variables, field) in [
        (json!({ "c": dhl.id, "code": " ", "name": "Blank" }), "code"),
        (json!({ "c": dhl.id, "code": "X", "name": "" }), "name"),
        (
            json!({ "c": "garbage", "code": "X", "name": "X" }),
            "carrierId",
        ),
        (
            json!({ "c": dhl.id, "code": "X".repeat(33), "name": "X" }),
            "code",
        ),
    ] {
        let body = call(&app, s, ADD_SERVICE, variables).await;
        assert_eq!(
            user_error(&body, "addCarrierService")["field"],
            field,
            "{body}"
        );
    }
    let body = call(
        &app,
        s,
        UPDATE_SERVICE,
        json!({ "id": economy, "code": "ECO", "name": "\u{202E}" }),
    )
    .await;
    assert_eq!(
        user_error(&body, "updateCarrierService")["field"],
        "name",
        "{body}"
    );

    // A carrier has at most 20 service levels, archived ones included.
    let adds: String = (2..20)
        .map(|i| format!("s{i}: addCarrierService(input: {{ carrierId: $c, code: \"S{i:02}\", name: \"S{i}\" }}) {{ userErrors {{ field message }} }} "))
        .collect();
    app.ok(
        s,
        &format!("mutation ($c: ID!) {{ {adds}}}"),
        json!({ "c": dhl.id }),
    )
    .await;
    let body = call(
        &app,
        s,
        ADD_SERVICE,
        json!({ "c": dhl.id, "code": "ONE_MORE", "name": "One more" }),
    )
    .await;
    assert!(conflict(&body).contains("20 service levels"), "{body}");
    let body = app
        .ok(
            s,
            "query ($id: ID!) { carrier(id: $id) { services { code } all: services(includeArchived: true) { code } } }",
            json!({ "id": dhl.id }),
        )
        .await;
    assert_eq!(
        body["carrier"]["services"].as_array().map(Vec::len),
        Some(19)
    );
    assert_eq!(body["carrier"]["all"].as_array().map(Vec::len), Some(20));
}

async fn duplicate_codes_are_conflicts_naming_the_code(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let dhl = carrier(&app, s, "DHL", &["EXPRESS", "ECONOMY"]).await;
    let tcg = carrier(&app, s, "TCG", &["ROAD"]).await;
    let events = audit_count(&app, s).await;

    let body = call(
        &app,
        s,
        CREATE,
        json!({ "i": carrier_input("DHL", "Another DHL") }),
    )
    .await;
    assert_eq!(conflict(&body), "carrier code DHL is already used");
    let body = call(
        &app,
        s,
        UPDATE,
        json!({ "i": { "id": tcg.id, "code": "DHL", "name": "Renamed", "trackingUrlTemplate": "https://t.example.com/{tracking}" } }),
    )
    .await;
    assert_eq!(conflict(&body), "carrier code DHL is already used");
    let body = call(
        &app,
        s,
        ADD_SERVICE,
        json!({ "c": dhl.id, "code": "EXPRESS", "name": "Again" }),
    )
    .await;
    assert_eq!(conflict(&body), "DHL already has a service level EXPRESS");
    let body = call(
        &app,
        s,
        UPDATE_SERVICE,
        json!({ "id": dhl.services[1], "code": "EXPRESS", "name": "Renamed" }),
    )
    .await;
    assert_eq!(conflict(&body), "DHL already has a service level EXPRESS");
    // An archived service level keeps its code.
    app.ok(s, ARCHIVE_SERVICE, json!({ "id": dhl.services[0] }))
        .await;
    let body = call(
        &app,
        s,
        ADD_SERVICE,
        json!({ "c": dhl.id, "code": "EXPRESS", "name": "Again" }),
    )
    .await;
    assert_eq!(conflict(&body), "DHL already has a service level EXPRESS");
    assert_eq!(
        audit_count(&app, s).await,
        events + 1,
        "only the archive wrote"
    );

    // Codes are per carrier and per organisation; a carrier keeps its own code on update.
    app.ok(
        s,
        ADD_SERVICE,
        json!({ "c": tcg.id, "code": "EXPRESS", "name": "Express" }),
    )
    .await;
    app.ok(
        s,
        UPDATE_SERVICE,
        json!({ "id": tcg.services[0], "code": "ROAD", "name": "Road freight" }),
    )
    .await;
    app.ok(
        s,
        UPDATE,
        json!({ "i": { "id": dhl.id, "code": "DHL", "name": "Renamed", "trackingUrlTemplate": "https://t.example.com/{tracking}" } }),
    )
    .await;
    let beta = app.member_of_new_organisation("Beta").await;
    carrier(&app, &beta.session, "DHL", &["EXPRESS"]).await;
}

async fn parallel_writes_of_one_code_give_one_success_and_conflicts(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Racers").await;
    let s = &owner.session;

    let replies = race(
        &app,
        s,
        "mutation ($n: String!) { createCarrier(input: { code: \"RACE\", name: $n, trackingUrlTemplate: \"https://t.example.com/{tracking}\" }) { carrier { id } userErrors { message } } }",
        |i| json!({ "n": format!("Racer {i}") }),
    )
    .await;
    assert_one_winner("carrier code", &replies, "RACE");
    let winner = replies
        .iter()
        .find(|r| r.get("errors").is_none())
        .map(|r| r["data"]["createCarrier"]["carrier"]["id"].clone())
        .expect("the winner");

    let replies = race(
        &app,
        s,
        "mutation ($c: ID!, $n: String!) { addCarrierService(input: { carrierId: $c, code: \"FAST\", name: $n }) { carrierService { id } userErrors { message } } }",
        |i| json!({ "c": winner, "n": format!("Fast {i}") }),
    )
    .await;
    assert_one_winner("service level code", &replies, "FAST");

    // Renames of different rows to one code.
    let mut others = Vec::new();
    for i in 0..RACERS {
        others.push(carrier(&app, s, &format!("C-{i}"), &[]).await.id);
    }
    let services = carrier(&app, s, "MANY", &["A", "B", "C", "D", "E", "F", "G", "H"]).await;
    let replies = race(
        &app,
        s,
        "mutation ($id: ID!) { updateCarrier(input: { id: $id, code: \"SAME\", name: \"Same\", trackingUrlTemplate: \"https://t.example.com/{tracking}\" }) { carrier { id } userErrors { message } } }",
        |i| json!({ "id": others[i] }),
    )
    .await;
    assert_one_winner("carrier rename", &replies, "SAME");
    let replies = race(
        &app,
        s,
        "mutation ($id: ID!) { updateCarrierService(input: { id: $id, code: \"SAME\", name: \"Same\" }) { carrierService { id } userErrors { message } } }",
        |i| json!({ "id": services.services[i] }),
    )
    .await;
    assert_one_winner("service level rename", &replies, "SAME");

    // The losers left nothing behind.
    let body = app
        .ok(
            s,
            "query ($id: ID!) { carriers(filter: {search: \"race\"}) { totalCount } carrier(id: $id) { services { code } } }",
            json!({ "id": winner }),
        )
        .await;
    assert_eq!(body["carriers"]["totalCount"], 1, "{body}");
    assert_eq!(body["carrier"]["services"], json!([{ "code": "FAST" }]));
}

async fn tracking_url_templates_are_checked(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let dhl = carrier(&app, s, "DHL", &[]).await;
    let events = audit_count(&app, s).await;
    for template in [
        "",
        "https://track.example.com/",
        "http://track.example.com/?n={tracking}",
        "track.example.com/?n={tracking}",
        "https://track.example.com/?a={tracking}&b={tracking}",
        "https://{tracking}.example.com/",
        "https://user:pw@track.example.com/{tracking}",
        "https://track.example.com/{tracking}/{lang}",
        "https://track.example.com/a b/{tracking}",
        "javascript:alert(1)//{tracking}",
    ] {
        let body = call(
            &app,
            s,
            CREATE,
            json!({ "i": { "code": "NEW", "name": "New", "trackingUrlTemplate": template } }),
        )
        .await;
        let error = user_error(&body, "createCarrier");
        assert_eq!(error["field"], "trackingUrlTemplate", "{template}: {body}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("trackingUrlTemplate")),
            "{body}"
        );
        let body = call(
            &app,
            s,
            UPDATE,
            json!({ "i": { "id": dhl.id, "code": "DHL", "name": "DHL", "trackingUrlTemplate": template } }),
        )
        .await;
        assert_eq!(
            user_error(&body, "updateCarrier")["field"],
            "trackingUrlTemplate",
            "{template}: {body}"
        );
    }
    assert_eq!(audit_count(&app, s).await, events, "nothing was written");
    let body = app
        .ok(
            s,
            "{ carriers(filter: {includeArchived: true}) { nodes { code trackingUrlTemplate } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["carriers"]["nodes"],
        json!([{ "code": "DHL", "trackingUrlTemplate": "https://track.example.com/DHL?n={tracking}" }])
    );
    for template in [
        "https://track.example.com/parcels/{tracking}",
        "https://track.example.com:8443/t?id={tracking}&lang=en",
        "https://track.example.com/#/shipment/{tracking}",
    ] {
        let body = app
            .ok(
                s,
                UPDATE,
                json!({ "i": { "id": dhl.id, "code": "DHL", "name": "DHL", "trackingUrlTemplate": template } }),
            )
            .await;
        assert_eq!(
            body["updateCarrier"]["carrier"]["trackingUrlTemplate"], template,
            "{body}"
        );
    }
}

async fn another_organisations_carriers_are_not_found(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mine = app.member_of_new_organisation("Alpha").await;
    let theirs = app.member_of_new_organisation("Beta").await;
    let my_carrier = carrier(&app, &mine.session, "MINE", &["OWN"]).await;
    let their_carrier = carrier(&app, &theirs.session, "THEIRS", &["FAST"]).await;
    let their_service = their_carrier.services[0].as_str();
    let (no_carrier, no_service) = (
        gid(entity::CarrierId::generate()),
        gid(entity::CarrierServiceId::generate()),
    );
    let update = "mutation ($id: ID!) { updateCarrier(input: { id: $id, code: \"X\", name: \"X\", trackingUrlTemplate: \"https://t.example.com/{tracking}\" }) { carrier { id } } }";
    let by_carrier = [
        "query ($id: ID!) { carrier(id: $id) { code } }",
        "query ($id: ID!) { node(id: $id) { id } }",
        update,
        ARCHIVE,
        RESTORE,
        "mutation ($id: ID!) { addCarrierService(input: { carrierId: $id, code: \"X\", name: \"X\" }) { carrierService { id } } }",
    ];
    let by_service = [
        "query ($id: ID!) { node(id: $id) { id } }",
        "mutation ($id: ID!) { updateCarrierService(input: { id: $id, code: \"X\", name: \"X\" }) { carrierService { id } } }",
        ARCHIVE_SERVICE,
        RESTORE_SERVICE,
    ];
    let mut cases: Vec<(&str, &str, &str)> = Vec::new();
    for document in by_carrier {
        cases.push((document, &their_carrier.id, &no_carrier));
        // An id of another type names no carrier either (`node` serves every type).
        if !document.contains("node(") {
            cases.push((document, &my_carrier.services[0], &no_carrier));
        }
    }
    for document in by_service {
        cases.push((document, their_service, &no_service));
        if !document.contains("node(") {
            cases.push((document, &my_carrier.id, &no_service));
        }
    }
    for (document, foreign, absent) in cases {
        let foreign_reply = call(&app, &mine.session, document, json!({ "id": foreign })).await;
        let absent_reply = call(&app, &mine.session, document, json!({ "id": absent })).await;
        assert_eq!(
            error_code(&foreign_reply),
            Some("NOT_FOUND"),
            "{document} {foreign}: {foreign_reply}"
        );
        assert_eq!(
            foreign_reply["errors"][0]["message"], absent_reply["errors"][0]["message"],
            "{document}"
        );
    }
    // Lists show the caller's own only, and nothing of theirs was touched.
    let body = app
        .ok(
            &mine.session,
            "{ carriers(filter: {includeArchived: true}) { nodes { code services { code } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["carriers"]["nodes"],
        json!([{ "code": "MINE", "services": [{ "code": "OWN" }] }])
    );
    let body = app
        .ok(
            &theirs.session,
            "query ($id: ID!) { carrier(id: $id) { code active services { code active } } }",
            json!({ "id": their_carrier.id }),
        )
        .await;
    assert_eq!(
        body["carrier"],
        json!({ "code": "THEIRS", "active": true, "services": [{ "code": "FAST", "active": true }] })
    );
}

/// A mutation, its variables, the action and entity id its event must name, and (JSON pointer,
/// value) pairs its detail must hold.
type AuditStep = (
    &'static str,
    Value,
    &'static str,
    String,
    Vec<(&'static str, Value)>,
);

async fn every_carrier_mutation_records_one_event_with_before_and_after(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let latest =
        "{ auditEvents(first: 1) { totalCount nodes { action entityType entityId detail } } }";
    let body = app
        .ok(
            s,
            CREATE,
            json!({ "i": carrier_input("DHL", "DHL Express") }),
        )
        .await;
    let dhl = body["createCarrier"]["carrier"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let log = app.ok(s, latest, json!({})).await;
    let mut count = log["auditEvents"]["totalCount"].as_i64().expect("count");
    let event = &log["auditEvents"]["nodes"][0];
    assert_eq!(event["action"], "carrier.create", "{log}");
    assert_eq!(event["entityType"], "carrier", "{log}");
    assert_eq!(event["entityId"], dhl.as_str(), "{log}");
    assert_eq!(
        event["detail"]["after"],
        json!({ "code": "DHL", "name": "DHL Express", "trackingUrlTemplate": "https://track.example.com/DHL?n={tracking}" }),
        "{log}"
    );
    let body = app
        .ok(
            s,
            ADD_SERVICE,
            json!({ "c": dhl, "code": "EXPRESS", "name": "Express" }),
        )
        .await;
    let express = body["addCarrierService"]["carrierService"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let log = app.ok(s, latest, json!({})).await;
    count += 1;
    assert_eq!(log["auditEvents"]["totalCount"], count, "{log}");
    let event = &log["auditEvents"]["nodes"][0];
    assert_eq!(event["action"], "carrier_service.add", "{log}");
    assert_eq!(event["entityType"], "carrier_service", "{log}");
    assert_eq!(event["entityId"], express.as_str(), "{log}");
    assert_eq!(
        event["detail"]["after"],
        json!({ "carrier": "DHL", "code": "EXPRESS", "name": "Express" }),
        "{log}"
    );

    let steps: Vec<AuditStep> = vec![
        (
            UPDATE,
            json!({ "i": { "id": dhl, "code": "DHL", "name": "DHL", "trackingUrlTemplate": "https://dhl.example.com/{tracking}" } }),
            "carrier.update",
            dhl.clone(),
            vec![
                ("/before/name", json!("DHL Express")),
                ("/after/name", json!("DHL")),
                (
                    "/after/trackingUrlTemplate",
                    json!("https://dhl.example.com/{tracking}"),
                ),
            ],
        ),
        (
            UPDATE_SERVICE,
            json!({ "id": express, "code": "EXP", "name": "Express" }),
            "carrier_service.update",
            express.clone(),
            vec![
                ("/before/code", json!("EXPRESS")),
                ("/after/code", json!("EXP")),
            ],
        ),
        (
            ARCHIVE_SERVICE,
            json!({ "id": express }),
            "carrier_service.archive",
            express.clone(),
            vec![
                ("/before/active", json!(true)),
                ("/after/active", json!(false)),
            ],
        ),
        (
            RESTORE_SERVICE,
            json!({ "id": express }),
            "carrier_service.restore",
            express.clone(),
            vec![
                ("/before/active", json!(false)),
                ("/after/active", json!(true)),
            ],
        ),
        (
            ARCHIVE,
            json!({ "id": dhl }),
            "carrier.archive",
            dhl.clone(),
            vec![
                ("/before/active", json!(true)),
                ("/after/active", json!(false)),
            ],
        ),
        (
            RESTORE,
            json!({ "id": dhl }),
            "carrier.restore",
            dhl.clone(),
            vec![
                ("/before/active", json!(false)),
                ("/after/active", json!(true)),
            ],
        ),
    ];
    for (document, variables, action, entity, expected) in steps {
        app.ok(s, document, variables).await;
        let log = app.ok(s, latest, json!({})).await;
        count += 1;
        assert_eq!(
            log["auditEvents"]["totalCount"], count,
            "{action}: exactly one event"
        );
        let event = &log["auditEvents"]["nodes"][0];
        assert_eq!(event["action"], action, "{log}");
        assert_eq!(event["entityId"], entity.as_str(), "{log}");
        for (pointer, value) in expected {
            assert_eq!(
                event["detail"].pointer(pointer),
                Some(&value),
                "{action}: {pointer} in {log}"
            );
        }
    }
    // The viewer finds a carrier's events by the id the API shows.
    let body = app
        .ok(
            s,
            "query ($id: ID!) { auditEvents(filter: {entityId: $id}) { totalCount } }",
            json!({ "id": dhl }),
        )
        .await;
    assert_eq!(body["auditEvents"]["totalCount"], 4, "{body}");
}

async fn refusals_name_carriers_view_and_carriers_manage(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let dhl = carrier(&app, &owner.session, "DHL", &["EXPRESS"]).await;
    let signed_in = async |permissions: &[Permission]| {
        let email = app
            .database
            .user_with_permissions(owner.tenant, permissions)
            .await;
        app.login(&email, TEST_PASSWORD).await
    };
    let reads = [
        "{ carriers { nodes { code services { code } } } }".to_owned(),
        format!("{{ carrier(id: \"{}\") {{ code }} }}", dhl.id),
        format!("{{ node(id: \"{}\") {{ id }} }}", dhl.id),
        format!("{{ node(id: \"{}\") {{ id }} }}", dhl.services[0]),
    ];
    // In an order each can succeed in: the carrier is archived last.
    let writes = [
        format!(
            "mutation {{ addCarrierService(input: {{ carrierId: \"{}\", code: \"ROAD\", name: \"Road\" }}) {{ carrierService {{ id }} }} }}",
            dhl.id
        ),
        format!(
            "mutation {{ archiveCarrierService(input: {{ id: \"{}\" }}) {{ carrierService {{ id }} }} }}",
            dhl.services[0]
        ),
        "mutation { createCarrier(input: { code: \"NEW\", name: \"New\", trackingUrlTemplate: \"https://t.example.com/{tracking}\" }) { carrier { id } } }".to_owned(),
        format!(
            "mutation {{ archiveCarrier(input: {{ id: \"{}\" }}) {{ carrier {{ id }} }} }}",
            dhl.id
        ),
    ];
    let refused = async |session: &Session, document: &str, permission: &str| {
        let body = call(&app, session, document, json!({})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{document}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["permission"], permission,
            "{document}: {body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(permission)),
            "{body}"
        );
    };

    let nobody = signed_in(&[Permission::WarehousesView]).await;
    for document in &reads {
        refused(&nobody, document, "CARRIERS_VIEW").await;
    }
    let viewer = signed_in(&[Permission::CarriersView]).await;
    for document in &reads {
        assert_ok(&call(&app, &viewer, document, json!({})).await);
    }
    for document in &writes {
        refused(&viewer, document, "CARRIERS_MANAGE").await;
    }
    // Managing hands back what was changed, without needing CARRIERS_VIEW.
    let manager = signed_in(&[Permission::CarriersManage]).await;
    for document in &writes {
        assert_ok(&call(&app, &manager, document, json!({})).await);
    }
    refused(&manager, &reads[0], "CARRIERS_VIEW").await;
}
