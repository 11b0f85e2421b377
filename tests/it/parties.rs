//! Suppliers and customers: create, change, archive, list with filter, sort and keyset paging;
//! a customer's default billing and shipping addresses; unique codes under races; and another
//! organisation's ids behaving exactly like ids that do not exist.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::{Backend, Session, TestApp};
use crate::unique_keys::{assert_one_winner, race};

on_both_databases!(
    suppliers_are_created_changed_archived_and_listed,
    bad_party_input_is_refused_naming_the_field,
    a_customer_has_one_default_address_of_each_kind,
    party_codes_race_to_one_winner,
    another_organisations_parties_are_not_found,
    a_customer_page_loads_its_addresses_in_one_statement,
);

const CREATE_SUPPLIER: &str = "mutation ($input: CreateSupplierInput!) { createSupplier(input: $input) { supplier { id code name contactName email phone city country active } userErrors { field message } } }";
const CREATE_CUSTOMER: &str = "mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id code addresses { id kind default label city } defaultBillingAddress { label } defaultShippingAddress { label } } userErrors { field message } } }";
const CUSTOMER: &str = "query ($id: ID!) { customer(id: $id) { code addresses { id kind default label } defaultBillingAddress { label } defaultShippingAddress { label } } }";

async fn create_supplier(app: &TestApp, s: &Session, code: &str, name: &str) -> Value {
    app.ok(
        s,
        CREATE_SUPPLIER,
        json!({ "input": { "code": code, "name": name } }),
    )
    .await["createSupplier"]["supplier"]
        .clone()
}

fn codes(list: &Value) -> Vec<&str> {
    list["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["code"].as_str().expect("code"))
        .collect()
}

async fn suppliers_are_created_changed_archived_and_listed(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Buyers").await;
    let s = &owner.session;
    let created = app
        .ok(
            s,
            CREATE_SUPPLIER,
            json!({ "input": {
                "code": " ACME ", "name": "Acme Packaging", "contactName": "Thandi Mokoena",
                "email": "Orders@Acme.example", "phone": "+27 (11) 555-0100",
                "city": "Johannesburg", "country": "ZA",
            } }),
        )
        .await;
    let acme = &created["createSupplier"]["supplier"];
    assert_eq!(acme["code"], "ACME", "trimmed");
    assert_eq!(acme["email"], "orders@acme.example", "lower-cased");
    assert_eq!(acme["phone"], "+27 (11) 555-0100");
    assert_eq!(acme["active"], true);
    for (code, name) in [
        ("ZETA", "Zeta Foods"),
        ("BETA", "Beta Metals"),
        ("MU", "Acme Two"),
    ] {
        create_supplier(&app, s, code, name).await;
    }

    // Filter, sort and keyset paging.
    let list = app
        .ok(
            s,
            "{ suppliers { nodes { code } } byName: suppliers(sort: { field: NAME, direction: DESC }) { nodes { code } } acme: suppliers(filter: { search: \"acme\" }) { nodes { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(codes(&list["suppliers"]), ["ACME", "BETA", "MU", "ZETA"]);
    assert_eq!(codes(&list["byName"]), ["ZETA", "BETA", "MU", "ACME"]);
    assert_eq!(codes(&list["acme"]), ["ACME", "MU"]);
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .ok(
                s,
                "query ($after: String) { suppliers(first: 3, after: $after) { nodes { code } pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after }),
            )
            .await;
        seen.extend(codes(&page["suppliers"]).iter().map(|c| c.to_string()));
        if page["suppliers"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["suppliers"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["ACME", "BETA", "MU", "ZETA"]);

    // Update: every field replaced; a rename onto another's code is a conflict.
    let id = acme["id"].clone();
    let updated = app
        .ok(
            s,
            "mutation ($id: ID!) { updateSupplier(input: { id: $id, code: \"ACME-PK\", name: \"Acme Packaging Ltd\", city: \"Pretoria\" }) { supplier { code name email city } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        updated["updateSupplier"]["supplier"],
        json!({ "code": "ACME-PK", "name": "Acme Packaging Ltd", "email": "", "city": "Pretoria" })
    );
    let (_, clash) = app
        .graphql_in(
            Some(s),
            "mutation ($id: ID!) { updateSupplier(input: { id: $id, code: \"ZETA\", name: \"x\" }) { supplier { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&clash), Some("CONFLICT"), "{clash}");
    assert!(
        clash["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("ZETA")
    );

    // Archive hides it from lists unless asked; restore brings it back. Retries change nothing.
    for _ in 0..2 {
        app.ok(
            s,
            "mutation ($id: ID!) { archiveSupplier(input: { id: $id }) { supplier { active } } }",
            json!({ "id": id }),
        )
        .await;
    }
    let list = app
        .ok(
            s,
            "{ active: suppliers { nodes { code } } all: suppliers(filter: { includeArchived: true }) { nodes { code active } } }",
            json!({}),
        )
        .await;
    assert_eq!(codes(&list["active"]), ["BETA", "MU", "ZETA"]);
    assert_eq!(codes(&list["all"]), ["ACME-PK", "BETA", "MU", "ZETA"]);
    app.ok(
        s,
        "mutation ($id: ID!) { restoreSupplier(input: { id: $id }) { supplier { active } } }",
        json!({ "id": id }),
    )
    .await;

    // One audit event per change that happened: create, update, archive (once), restore.
    let events = app
        .ok(
            s,
            "{ auditEvents(first: 50) { nodes { action entityType } } }",
            json!({}),
        )
        .await;
    let mut actions: Vec<&str> = events["auditEvents"]["nodes"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["entityType"] == "supplier")
        .map(|event| event["action"].as_str().expect("action"))
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "supplier.archive",
            "supplier.create",
            "supplier.create",
            "supplier.create",
            "supplier.create",
            "supplier.restore",
            "supplier.update",
        ]
    );
}

async fn bad_party_input_is_refused_naming_the_field(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Strict").await;
    let s = &owner.session;
    for (input, field) in [
        (json!({ "code": "", "name": "x" }), "code"),
        (json!({ "code": "X", "name": " " }), "name"),
        (
            json!({ "code": "X", "name": "x", "email": "not an email" }),
            "email",
        ),
        (
            json!({ "code": "X", "name": "x", "phone": "call me maybe" }),
            "phone",
        ),
        (
            json!({ "code": "X", "name": "x", "phone": "1".repeat(33) }),
            "phone",
        ),
        (json!({ "code": "X\u{202e}", "name": "x" }), "code"),
        (
            json!({ "code": "X", "name": "x", "city": "c".repeat(101) }),
            "city",
        ),
    ] {
        let (_, reply) = app
            .graphql_in(Some(s), CREATE_SUPPLIER, json!({ "input": input }))
            .await;
        let errors = &reply["data"]["createSupplier"]["userErrors"];
        assert_eq!(errors[0]["field"], field, "{input}: {reply}");
    }
    let too_many: Vec<Value> = (0..51).map(|_| json!({ "kind": "SHIPPING" })).collect();
    let (_, reply) = app
        .graphql_in(
            Some(s),
            CREATE_CUSTOMER,
            json!({ "input": { "code": "MANY", "name": "Many", "addresses": too_many } }),
        )
        .await;
    assert_eq!(
        reply["data"]["createCustomer"]["userErrors"][0]["field"], "addresses",
        "{reply}"
    );
    // Nothing was written by any refusal.
    let none = app
        .ok(
            s,
            "{ suppliers(filter: { includeArchived: true }) { nodes { id } } customers(filter: { includeArchived: true }) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(none["suppliers"]["nodes"], json!([]));
    assert_eq!(none["customers"]["nodes"], json!([]));
}

fn labels_of(customer: &Value, kind: &str) -> Vec<(String, bool)> {
    customer["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .filter(|a| a["kind"] == kind)
        .map(|a| {
            (
                a["label"].as_str().expect("label").to_owned(),
                a["default"].as_bool().expect("default"),
            )
        })
        .collect()
}

async fn a_customer_has_one_default_address_of_each_kind(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Sellers").await;
    let s = &owner.session;
    let created = app
        .ok(
            s,
            CREATE_CUSTOMER,
            json!({ "input": { "code": "C-1001", "name": "Cape Retail", "addresses": [
                { "kind": "SHIPPING", "label": "Cape Town DC", "city": "Cape Town" },
                { "kind": "BILLING", "label": "Head office" },
                { "kind": "SHIPPING", "label": "Durban DC", "makeDefault": true },
                { "kind": "SHIPPING", "label": "Gqeberha store" },
            ] } }),
        )
        .await;
    let customer = &created["createCustomer"]["customer"];
    let id = customer["id"].clone();
    // The first of a kind is its default, unless a later one asks for the mark.
    assert_eq!(customer["defaultShippingAddress"]["label"], "Durban DC");
    assert_eq!(customer["defaultBillingAddress"]["label"], "Head office");
    assert_eq!(
        labels_of(customer, "SHIPPING"),
        [
            ("Durban DC".to_owned(), true),
            ("Cape Town DC".to_owned(), false),
            ("Gqeberha store".to_owned(), false)
        ],
        "the default first, then oldest first"
    );
    let address_id = |customer: &Value, label: &str| {
        customer["addresses"]
            .as_array()
            .expect("addresses")
            .iter()
            .find(|a| a["label"] == label)
            .map(|a| a["id"].clone())
            .expect("address")
    };

    // A new default takes the mark from the old one.
    app.ok(
        s,
        "mutation ($c: ID!) { addCustomerAddress(input: { customerId: $c, kind: SHIPPING, label: \"Joburg DC\", makeDefault: true }) { address { default } } }",
        json!({ "c": id }),
    )
    .await;
    let customer = app.ok(s, CUSTOMER, json!({ "id": id })).await["customer"].clone();
    assert_eq!(customer["defaultShippingAddress"]["label"], "Joburg DC");
    assert_eq!(
        labels_of(&customer, "SHIPPING")
            .iter()
            .filter(|(_, default)| *default)
            .count(),
        1
    );

    // Moving the default to the other kind: the old kind's oldest address takes its mark, and
    // it is the other kind's default only if asked (billing already has one).
    app.ok(
        s,
        "mutation ($a: ID!) { updateCustomerAddress(input: { id: $a, kind: BILLING, label: \"Joburg office\" }) { address { kind default } } }",
        json!({ "a": address_id(&customer, "Joburg DC") }),
    )
    .await;
    let customer = app.ok(s, CUSTOMER, json!({ "id": id })).await["customer"].clone();
    assert_eq!(customer["defaultShippingAddress"]["label"], "Cape Town DC");
    assert_eq!(customer["defaultBillingAddress"]["label"], "Head office");
    assert_eq!(
        labels_of(&customer, "BILLING"),
        [
            ("Head office".to_owned(), true),
            ("Joburg office".to_owned(), false)
        ]
    );

    // Removing the default hands it to the oldest remaining address of its kind.
    app.ok(
        s,
        "mutation ($a: ID!) { removeCustomerAddress(input: { id: $a }) { customer { code } } }",
        json!({ "a": address_id(&customer, "Head office") }),
    )
    .await;
    let customer = app.ok(s, CUSTOMER, json!({ "id": id })).await["customer"].clone();
    assert_eq!(customer["defaultBillingAddress"]["label"], "Joburg office");

    // Parallel requests each making another address the default: one default at the end.
    let shipping: Vec<Value> = customer["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .filter(|a| a["kind"] == "SHIPPING")
        .map(|a| a["id"].clone())
        .collect();
    let replies = futures::future::join_all(shipping.iter().map(|address| {
        app.graphql_in(
            Some(s),
            "mutation ($a: ID!) { updateCustomerAddress(input: { id: $a, kind: SHIPPING, label: \"raced\", makeDefault: true }) { address { id } } }",
            json!({ "a": address }),
        )
    }))
    .await;
    for (_, reply) in &replies {
        crate::support::reply::assert_ok(reply);
    }
    let customer = app.ok(s, CUSTOMER, json!({ "id": id })).await["customer"].clone();
    assert_eq!(
        labels_of(&customer, "SHIPPING")
            .iter()
            .filter(|(_, default)| *default)
            .count(),
        1,
        "{customer}"
    );
}

async fn party_codes_race_to_one_winner(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Racers").await;
    let s = &owner.session;
    let replies = race(
        &app,
        s,
        "mutation ($n: String!) { createSupplier(input: { code: \"SUP-RACE\", name: $n }) { supplier { id } userErrors { message } } }",
        |i| json!({ "n": format!("Supplier {i}") }),
    )
    .await;
    assert_one_winner("supplier code", &replies, "SUP-RACE");
    let replies = race(
        &app,
        s,
        "mutation ($n: String!) { createCustomer(input: { code: \"CUS-RACE\", name: $n, addresses: [{ kind: BILLING }] }) { customer { id } userErrors { message } } }",
        |i| json!({ "n": format!("Customer {i}") }),
    )
    .await;
    assert_one_winner("customer code", &replies, "CUS-RACE");
    // The losers left no addresses behind.
    let customers = app
        .ok(s, "{ customers { nodes { addresses { id } } } }", json!({}))
        .await;
    assert_eq!(
        customers["customers"]["nodes"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        customers["customers"]["nodes"][0]["addresses"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Renames racing onto one code: one wins.
    let mut ids = Vec::new();
    for i in 0..crate::unique_keys::RACERS {
        ids.push(create_supplier(&app, s, &format!("S-{i}"), "Renamed").await["id"].clone());
    }
    let replies = race(
        &app,
        s,
        "mutation ($id: ID!) { updateSupplier(input: { id: $id, code: \"S-SAME\", name: \"Same\" }) { supplier { id } userErrors { message } } }",
        |i| json!({ "id": ids[i] }),
    )
    .await;
    assert_one_winner("supplier rename", &replies, "S-SAME");
}

async fn another_organisations_parties_are_not_found(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = app.member_of_new_organisation("Alpha").await;
    let beta = app.member_of_new_organisation("Beta").await;
    let supplier =
        create_supplier(&app, &alpha.session, "ALPHA-S", "Alpha's supplier").await["id"].clone();
    let customer = app
        .ok(
            &alpha.session,
            CREATE_CUSTOMER,
            json!({ "input": { "code": "ALPHA-C", "name": "Alpha's customer", "addresses": [{ "kind": "SHIPPING", "label": "Secret depot" }] } }),
        )
        .await["createCustomer"]["customer"]
        .clone();
    let address = customer["addresses"][0]["id"].clone();
    // Beta's own codes may repeat Alpha's: codes are per organisation.
    create_supplier(&app, &beta.session, "ALPHA-S", "Beta's namesake").await;

    let missing = |kind: &str| vaskem::graphql::ids::encode(kind, uuid::Uuid::now_v7()).0;
    for (document, foreign, unknown) in [
        (
            "query ($id: ID!) { supplier(id: $id) { name } }",
            &supplier,
            missing("Supplier"),
        ),
        (
            "query ($id: ID!) { customer(id: $id) { name } }",
            &customer["id"],
            missing("Customer"),
        ),
        (
            "query ($id: ID!) { node(id: $id) { id } }",
            &supplier,
            missing("Supplier"),
        ),
        (
            "mutation ($id: ID!) { updateSupplier(input: { id: $id, code: \"X\", name: \"x\" }) { supplier { id } } }",
            &supplier,
            missing("Supplier"),
        ),
        (
            "mutation ($id: ID!) { archiveSupplier(input: { id: $id }) { supplier { id } } }",
            &supplier,
            missing("Supplier"),
        ),
        (
            "mutation ($id: ID!) { updateCustomer(input: { id: $id, code: \"X\", name: \"x\" }) { customer { id } } }",
            &customer["id"],
            missing("Customer"),
        ),
        (
            "mutation ($id: ID!) { archiveCustomer(input: { id: $id }) { customer { id } } }",
            &customer["id"],
            missing("Customer"),
        ),
        (
            "mutation ($id: ID!) { addCustomerAddress(input: { customerId: $id, kind: BILLING }) { address { id } } }",
            &customer["id"],
            missing("Customer"),
        ),
        (
            "mutation ($id: ID!) { updateCustomerAddress(input: { id: $id, kind: BILLING }) { address { id } } }",
            &address,
            missing("CustomerAddress"),
        ),
        (
            "mutation ($id: ID!) { removeCustomerAddress(input: { id: $id }) { customer { id } } }",
            &address,
            missing("CustomerAddress"),
        ),
    ] {
        app.assert_foreign_id_is_missing(&beta.session, document, foreign, &json!(unknown))
            .await;
    }
    // And Alpha's rows are untouched.
    let still = app
        .ok(&alpha.session, CUSTOMER, json!({ "id": customer["id"] }))
        .await;
    assert_eq!(
        still["customer"]["defaultShippingAddress"]["label"],
        "Secret depot"
    );
    let lists = app
        .ok(
            &beta.session,
            "{ suppliers { nodes { name } } customers { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        lists["suppliers"]["nodes"],
        json!([{ "name": "Beta's namesake" }])
    );
    assert_eq!(lists["customers"]["nodes"], json!([]));
}

async fn a_customer_page_loads_its_addresses_in_one_statement(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Counted").await;
    let s = &owner.session;
    for i in 0..12 {
        app.ok(
            s,
            CREATE_CUSTOMER,
            json!({ "input": { "code": format!("C-{i:02}"), "name": "Counted", "addresses": [
                { "kind": "BILLING", "label": "office" }, { "kind": "SHIPPING", "label": "dock" },
            ] } }),
        )
        .await;
    }
    let page = "query ($n: Int!) { customers(first: $n) { nodes { code addresses { label } defaultShippingAddress { label } } } }";
    let mut costs = Vec::new();
    for size in [3, 12] {
        let before = app.database.serving.statements_run();
        let data = app.ok(s, page, json!({ "n": size })).await;
        costs.push(app.database.serving.statements_run() - before);
        let nodes = data["customers"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), size);
        assert!(
            nodes
                .iter()
                .all(|n| n["addresses"].as_array().map(Vec::len) == Some(2)
                    && n["defaultShippingAddress"]["label"] == "dock")
        );
    }
    assert_eq!(
        costs[0], costs[1],
        "a page of 12 costs what a page of 3 does: {costs:?}"
    );
}
