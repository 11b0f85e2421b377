//! Every field's guard, proven by walking the live schema: anonymous callers are refused, a user
//! with no permissions gets FORBIDDEN naming the field's permission, and a user with exactly that
//! one permission gets past the guard. The permission matrix in docs/ is checked against the code.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use vaskem::auth::permission::Permission;
use vaskem::graphql::{Requirement, SchemaShape};

use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::database::TEST_PASSWORD;
use crate::support::{Backend, TestApp};

on_both_databases!(
    every_field_is_guarded_as_the_schema_says,
    every_object_field_guard_refuses_without_its_permission,
);

fn permission_named(name: &str) -> Permission {
    *Permission::ALL
        .iter()
        .find(|p| p.name() == name)
        .unwrap_or_else(|| panic!("unknown permission {name}"))
}

const TYPE_REF: &str =
    "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

fn introspection_query() -> String {
    format!(
        "{{ __schema {{
            queryType {{ fields {{ name args {{ name type {{ {TYPE_REF} }} }} type {{ {TYPE_REF} }} }} }}
            mutationType {{ fields {{ name args {{ name type {{ {TYPE_REF} }} }} type {{ {TYPE_REF} }} }} }}
            types {{ name kind inputFields {{ name type {{ {TYPE_REF} }} }} enumValues {{ name }} }}
        }} }}"
    )
}

/// A literal that satisfies `type_ref` (required input fields only).
fn literal(type_ref: &Value, types: &[Value]) -> String {
    match type_ref["kind"].as_str() {
        Some("NON_NULL") => literal(&type_ref["ofType"], types),
        Some("LIST") => "[]".to_owned(),
        Some("ENUM") => {
            let name = type_ref["name"].as_str().expect("enum name");
            let definition = types.iter().find(|t| t["name"] == name).expect("enum type");
            definition["enumValues"][0]["name"]
                .as_str()
                .expect("value")
                .to_owned()
        }
        Some("INPUT_OBJECT") => {
            let name = type_ref["name"].as_str().expect("input name");
            let definition = types
                .iter()
                .find(|t| t["name"] == name)
                .expect("input type");
            let fields: Vec<String> = definition["inputFields"]
                .as_array()
                .expect("input fields")
                .iter()
                .filter(|field| field["type"]["kind"] == "NON_NULL")
                .map(|field| {
                    format!(
                        "{}: {}",
                        field["name"].as_str().expect("name"),
                        literal(&field["type"], types)
                    )
                })
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        _ => match type_ref["name"].as_str() {
            Some("ID") => format!("\"{}\"", uuid::Uuid::now_v7()),
            Some("Int") => "1".to_owned(),
            Some("Boolean") => "true".to_owned(),
            Some("DateTime") => "\"2026-01-01T00:00:00Z\"".to_owned(),
            _ => "\"x\"".to_owned(),
        },
    }
}

fn base_kind(type_ref: &Value) -> &str {
    match type_ref["kind"].as_str() {
        Some("NON_NULL" | "LIST") => base_kind(&type_ref["ofType"]),
        Some(kind) => kind,
        None => "",
    }
}

/// A minimal document calling one root field.
fn document(operation: &str, field: &Value, types: &[Value]) -> String {
    let args: Vec<String> = field["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter(|arg| arg["type"]["kind"] == "NON_NULL")
        .map(|arg| {
            format!(
                "{}: {}",
                arg["name"].as_str().expect("name"),
                literal(&arg["type"], types)
            )
        })
        .collect();
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({})", args.join(", "))
    };
    let selection = if matches!(base_kind(&field["type"]), "OBJECT" | "INTERFACE") {
        " { __typename }"
    } else {
        ""
    };
    format!(
        "{operation} {{ {}{args}{selection} }}",
        field["name"].as_str().expect("name")
    )
}

async fn every_field_is_guarded_as_the_schema_says(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let (_, schema) = app
        .graphql_in(Some(&owner.session), &introspection_query(), json!({}))
        .await;
    let schema = &schema["data"]["__schema"];
    let types = schema["types"].as_array().expect("types").clone();
    let requirements = vaskem::graphql::permission_requirements();

    let mut fields = Vec::new();
    for (root, operation) in [("queryType", "query"), ("mutationType", "mutation")] {
        let root_name = if operation == "query" {
            "Query"
        } else {
            "Mutation"
        };
        for field in schema[root]["fields"].as_array().expect("fields") {
            let name = format!("{root_name}.{}", field["name"].as_str().expect("name"));
            fields.push((name, document(operation, field, &types)));
        }
    }
    let live: BTreeSet<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
    let documented: BTreeSet<&str> = requirements.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        live, documented,
        "every field must appear in the requirements"
    );
    let unguarded: Vec<&str> = requirements
        .iter()
        .filter(|(_, needs)| *needs == Requirement::Unguarded)
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        unguarded.is_empty(),
        "root fields with neither a guard and @requires nor a place on the self-service list \
         (vaskem::graphql::SELF_SERVICE_FIELDS): {unguarded:?}"
    );

    let nobody = app.database.user_with_permissions(owner.tenant, &[]).await;
    for (field, document) in &fields {
        let needs = &requirements
            .iter()
            .find(|(name, _)| name == field)
            .expect("requirement")
            .1;
        let (_, anonymous) = app.graphql(document, json!({})).await;
        if *needs == Requirement::Public {
            assert_ne!(
                anonymous["errors"][0]["message"], "not signed in",
                "{field}: {anonymous}"
            );
            continue;
        }
        assert_eq!(
            error_code(&anonymous),
            Some("UNAUTHENTICATED"),
            "{field} anonymously: {anonymous}"
        );

        // A fresh session each time: `logout` would end a shared one.
        let session = app.login(&nobody, TEST_PASSWORD).await;
        let (_, refused) = app.graphql_in(Some(&session), document, json!({})).await;
        let needs = match needs {
            Requirement::SignedIn | Requirement::PerType => {
                // Per-type fields are walked with real ids of every type in
                // `every_object_field_guard_refuses_without_its_permission`.
                let code = error_code(&refused);
                assert!(
                    !matches!(code, Some("UNAUTHENTICATED" | "FORBIDDEN")),
                    "{field} is self-service: {refused}"
                );
                continue;
            }
            Requirement::Permission(permission) => permission,
            Requirement::Public | Requirement::Unguarded => unreachable!("checked above"),
        };
        assert_eq!(
            error_code(&refused),
            Some("FORBIDDEN"),
            "{field} without {needs}: {refused}"
        );
        assert_eq!(
            refused["errors"][0]["extensions"]["permission"],
            needs.as_str(),
            "{field}"
        );
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needs.as_str())
        );

        let permission = permission_named(needs);
        let holder = app
            .database
            .user_with_permissions(owner.tenant, &[permission])
            .await;
        let session = app.login(&holder, TEST_PASSWORD).await;
        let (_, allowed) = app.graphql_in(Some(&session), document, json!({})).await;
        let code = error_code(&allowed);
        assert!(
            !matches!(code, Some("UNAUTHENTICATED" | "FORBIDDEN")),
            "{field} with exactly {needs}: {allowed}"
        );
    }
}

#[test]
fn permission_matrix_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/PERMISSIONS.md");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == vaskem::graphql::permission_matrix(),
        "docs/PERMISSIONS.md is out of date: run `cargo run -q -- permissions > docs/PERMISSIONS.md`"
    );
}

#[test]
fn every_permission_is_listed_once_in_the_matrix() {
    let matrix = vaskem::graphql::permission_matrix();
    for permission in Permission::ALL {
        let row = format!("| {} | `{}` |", permission.bit(), permission.name());
        assert_eq!(matrix.matches(&row).count(), 1, "{row}");
    }
}

/// One way to reach a type: the root field and the fields under it, and every permission the
/// fields on the way need.
struct Route {
    operation: &'static str,
    /// Field selections from the root down, each with its arguments: `adjustStock(input: …)`.
    steps: Vec<String>,
    needs: BTreeSet<String>,
}

impl Route {
    /// The document selecting `field` (with `__typename` under it if it is an object) at the
    /// end of the route.
    fn document(&self, field: &str, is_object: bool) -> String {
        let mut inner = if is_object {
            format!("{field} {{ __typename }}")
        } else {
            field.to_owned()
        };
        for step in self.steps.iter().rev() {
            inner = format!("{step} {{ __typename {inner} }}");
        }
        format!("{} {{ {inner} }}", self.operation)
    }
}

/// The shortest route from a Query root to `target` through fields that need no arguments and
/// do not themselves need `avoid`; None if there is none.
fn route_from_query(shape: &SchemaShape, target: &str, avoid: &str) -> Option<Route> {
    let mut queue = std::collections::VecDeque::new();
    let mut seen = BTreeSet::new();
    for field in shape.fields("Query") {
        if field.required_arguments.is_empty() && field.requires.as_deref() != Some(avoid) {
            let needs = field.requires.iter().cloned().collect();
            queue.push_back((field.type_name.clone(), vec![field.name.clone()], needs));
        }
    }
    while let Some((type_name, steps, needs)) = queue.pop_front() {
        if type_name == target {
            return Some(Route {
                operation: "query",
                steps,
                needs,
            });
        }
        if !seen.insert(type_name.clone()) {
            continue;
        }
        for field in shape.fields(&type_name) {
            if !field.required_arguments.is_empty()
                || field.requires.as_deref() == Some(avoid)
                || !shape.types.contains_key(&field.type_name)
            {
                continue;
            }
            let mut steps = steps.clone();
            steps.push(field.name.clone());
            let mut needs: BTreeSet<String> = needs.clone();
            needs.extend(field.requires.iter().cloned());
            queue.push_back((field.type_name.clone(), steps, needs));
        }
    }
    None
}

/// What the walk's organisation holds, so that every list on a route has a row.
struct Seeded {
    product: String,
    warehouse: String,
    location: String,
    user: String,
    role: String,
    supplier: String,
    customer: String,
    purchase_order: String,
    receipt: String,
    /// The receipt's one put-away task (suggested to `location`, which holds the product).
    putaway_task: String,
    carrier: String,
    carrier_service: String,
    sales_order: String,
    allocation: String,
    pick_list: String,
    /// A shipment of a second order, picked and packed, so a shipment's packages, events and
    /// lines have rows.
    shipment: String,
    customer_return: String,
}

async fn seed(app: &TestApp, session: &crate::support::Session) -> Seeded {
    let call = |document: &'static str, variables: Value| app.ok(session, document, variables);
    let warehouse = call(
        "mutation { createWarehouse(input: { code: \"W1\", name: \"Walk\" }) { warehouse { id } } }",
        json!({}),
    )
    .await["createWarehouse"]["warehouse"]["id"]
        .clone();
    let location = call(
        "mutation ($w: ID!) { createLocation(input: { warehouseId: $w, code: \"A-01\" }) { location { id } } }",
        json!({ "w": warehouse }),
    )
    .await["createLocation"]["location"]["id"]
        .clone();
    let product = call(
        "mutation { createProduct(input: { sku: \"WALK-1\", name: \"Walked\" }) { product { id } } }",
        json!({}),
    )
    .await["createProduct"]["product"]["id"]
        .clone();
    call(
        "mutation ($p: ID!, $l: ID!) { adjustStock(input: { productId: $p, locationId: $l, change: 5, reason: \"found\" }) { movements { id } } }",
        json!({ "p": product, "l": location }),
    )
    .await;
    let supplier = call(
        "mutation { createSupplier(input: { code: \"S1\", name: \"Walk Supplies\" }) { supplier { id } } }",
        json!({}),
    )
    .await["createSupplier"]["supplier"]["id"]
        .clone();
    let customer = call(
        "mutation { createCustomer(input: { code: \"C1\", name: \"Walk Retail\", addresses: [{ kind: SHIPPING }] }) { customer { id } } }",
        json!({}),
    )
    .await["createCustomer"]["customer"]["id"]
        .clone();
    let purchase_order = call(
        "mutation ($s: ID!, $w: ID!, $p: ID!) { createPurchaseOrder(input: { supplierId: $s, warehouseId: $w, lines: [{ productId: $p, quantity: 10 }] }) { purchaseOrder { id } } }",
        json!({ "s": supplier, "w": warehouse, "p": product }),
    )
    .await["createPurchaseOrder"]["purchaseOrder"]["id"]
        .clone();
    let dock = call(
        "mutation ($w: ID!) { createLocation(input: { warehouseId: $w, code: \"RCV\", kind: RECEIVING }) { location { id } } }",
        json!({ "w": warehouse }),
    )
    .await["createLocation"]["location"]["id"]
        .clone();
    let line = call(
        "mutation ($o: ID!) { placePurchaseOrder(input: { id: $o }) { purchaseOrder { lines { id } } } }",
        json!({ "o": purchase_order }),
    )
    .await["placePurchaseOrder"]["purchaseOrder"]["lines"][0]["id"]
        .clone();
    let received = call(
        "mutation ($o: ID!, $l: ID!, $d: ID!) { receiveGoods(input: { purchaseOrderId: $o, locationId: $d, lines: [{ purchaseOrderLineId: $l, quantity: 1 }] }) { receipt { id putAwayTasks { id suggestedLocationId } } } }",
        json!({ "o": purchase_order, "l": line, "d": dock }),
    )
    .await["receiveGoods"]["receipt"]
        .clone();
    // A sales order allocated from A-01 and on a pick list, so its picks have a row.
    let sales_order = call(
        "mutation ($c: ID!, $w: ID!, $p: ID!) { createSalesOrder(input: { customerId: $c, warehouseId: $w, lines: [{ productId: $p, quantity: 2 }] }) { salesOrder { id } } }",
        json!({ "c": customer, "w": warehouse, "p": product }),
    )
    .await["createSalesOrder"]["salesOrder"]["id"]
        .clone();
    call(
        "mutation ($o: ID!) { confirmSalesOrder(input: { id: $o }) { salesOrder { id } } }",
        json!({ "o": sales_order }),
    )
    .await;
    call(
        "mutation ($o: ID!) { allocateSalesOrder(input: { id: $o }) { salesOrder { id } } }",
        json!({ "o": sales_order }),
    )
    .await;
    let pick_list = call(
        "mutation ($o: ID!) { createPickList(input: { salesOrderIds: [$o] }) { pickList { id picks { id } } } }",
        json!({ "o": sales_order }),
    )
    .await["createPickList"]["pickList"]
        .clone();
    let customer_return = seed_return(app, session, &customer, &warehouse, &product).await;
    let receipt = received["id"].clone();
    let putaway_task = received["putAwayTasks"][0]["id"].clone();
    // Suggested, so that `suggestedLocation` has a row to refuse.
    assert_eq!(received["putAwayTasks"][0]["suggestedLocationId"], location);
    let me = call("{ me { id role { id } } }", json!({})).await;
    let text = |value: &Value| value.as_str().expect("an id").to_owned();
    let carrier = crate::support::fixtures::carrier(app, session, "WALK", &["FAST"]).await;
    // A second order, picked into the SHIPPING location the return's order made, packed and
    // shipped.
    let shipped_order = call(
        "mutation ($c: ID!, $w: ID!, $p: ID!) { createSalesOrder(input: { customerId: $c, warehouseId: $w, lines: [{ productId: $p, quantity: 1 }] }) { salesOrder { id } } }",
        json!({ "c": customer, "w": warehouse, "p": product }),
    )
    .await["createSalesOrder"]["salesOrder"]["id"]
        .clone();
    call(
        "mutation ($o: ID!) { confirmSalesOrder(input: { id: $o }) { salesOrder { id } } }",
        json!({ "o": shipped_order }),
    )
    .await;
    call(
        "mutation ($o: ID!) { allocateSalesOrder(input: { id: $o }) { salesOrder { id } } }",
        json!({ "o": shipped_order }),
    )
    .await;
    let pick = call(
        "mutation ($o: ID!) { createPickList(input: { salesOrderIds: [$o] }) { pickList { picks { id } } } }",
        json!({ "o": shipped_order }),
    )
    .await["createPickList"]["pickList"]["picks"][0]["id"]
        .clone();
    call(
        "mutation ($a: ID!) { confirmPick(input: { allocationId: $a, quantity: 1 }) { allocation { id } } }",
        json!({ "a": pick }),
    )
    .await;
    call(
        "mutation ($o: ID!) { packSalesOrder(input: { id: $o, packages: [{ weightGrams: 100, lengthMm: 10, widthMm: 10, heightMm: 10 }] }) { status } }",
        json!({ "o": shipped_order }),
    )
    .await;
    let shipment = app
        .ok(
            session,
            "mutation ($o: ID!, $s: ID!) { createShipment(input: { salesOrderId: $o, carrierServiceId: $s, trackingNumber: \"WALK1\" }) { shipment { id } } }",
            json!({ "o": shipped_order, "s": carrier.services[0] }),
        )
        .await["createShipment"]["shipment"]["id"]
        .clone();
    Seeded {
        shipment: text(&shipment),
        carrier: carrier.id,
        carrier_service: carrier.services[0].clone(),
        product: text(&product),
        warehouse: text(&warehouse),
        location: text(&location),
        user: text(&me["me"]["id"]),
        role: text(&me["me"]["role"]["id"]),
        supplier: text(&supplier),
        customer: text(&customer),
        purchase_order: text(&purchase_order),
        receipt: text(&receipt),
        sales_order: text(&sales_order),
        allocation: text(&pick_list["picks"][0]["id"]),
        pick_list: text(&pick_list["id"]),
        putaway_task: text(&putaway_task),
        customer_return,
    }
}

/// A second order (one unit from A-01), picked, packed and dispatched, and one unit of it
/// returned into quarantine; returns the return's id.
async fn seed_return(
    app: &TestApp,
    session: &crate::support::Session,
    customer: &Value,
    warehouse: &Value,
    product: &Value,
) -> String {
    let call = |document: &'static str, variables: Value| app.ok(session, document, variables);
    let order = call(
        "mutation ($c: ID!, $w: ID!, $p: ID!) { createSalesOrder(input: { customerId: $c, warehouseId: $w, lines: [{ productId: $p, quantity: 1 }] }) { salesOrder { id lines { id } } } }",
        json!({ "c": customer, "w": warehouse, "p": product }),
    )
    .await["createSalesOrder"]["salesOrder"]
        .clone();
    let id = order["id"].clone();
    for step in [
        "mutation ($o: ID!) { confirmSalesOrder(input: { id: $o }) { salesOrder { id } } }",
        "mutation ($o: ID!) { allocateSalesOrder(input: { id: $o }) { salesOrder { id } } }",
    ] {
        call(step, json!({ "o": id })).await;
    }
    let pick = call(
        "mutation ($o: ID!) { createPickList(input: { salesOrderIds: [$o] }) { pickList { picks { id } } } }",
        json!({ "o": id }),
    )
    .await["createPickList"]["pickList"]["picks"][0]["id"]
        .clone();
    call(
        "mutation ($w: ID!) { createLocation(input: { warehouseId: $w, code: \"SHIP\", kind: SHIPPING }) { location { id } } }",
        json!({ "w": warehouse }),
    )
    .await;
    call(
        "mutation ($a: ID!) { confirmPick(input: { allocationId: $a, quantity: 1 }) { allocation { id } } }",
        json!({ "a": pick }),
    )
    .await;
    call(
        "mutation ($o: ID!) { packSalesOrder(input: { id: $o, packages: [{ weightGrams: 1, lengthMm: 1, widthMm: 1, heightMm: 1 }] }) { status } }",
        json!({ "o": id }),
    )
    .await;
    call(
        "mutation ($o: ID!) { dispatchSalesOrder(input: { id: $o }) { status } }",
        json!({ "o": id }),
    )
    .await;
    let quarantine = call(
        "mutation ($w: ID!) { createLocation(input: { warehouseId: $w, code: \"Q\", kind: QUARANTINE }) { location { id } } }",
        json!({ "w": warehouse }),
    )
    .await["createLocation"]["location"]["id"]
        .clone();
    call(
        "mutation ($o: ID!, $l: ID!, $q: ID!) { receiveReturn(input: { salesOrderId: $o, locationId: $q, reason: \"walked\", lines: [{ salesOrderLineId: $l, quantity: 1 }] }) { customerReturn { id } } }",
        json!({ "o": id, "l": order["lines"][0]["id"], "q": quarantine }),
    )
    .await["receiveReturn"]["customerReturn"]["id"]
        .as_str()
        .expect("a return id")
        .to_owned()
}

/// Routes to types only a mutation returns (its payload), built on the seeded rows, with the
/// permission the mutation needs.
fn route_from_mutation(target: &str, seeded: &Seeded) -> Option<Route> {
    match target {
        "StockPayload" => Some(Route {
            operation: "mutation",
            steps: vec![format!(
                "adjustStock(input: {{ productId: \"{}\", locationId: \"{}\", change: 1, reason: \"found\" }})",
                seeded.product, seeded.location
            )],
            needs: BTreeSet::from(["STOCK_ADJUST".to_owned()]),
        }),
        // Refused as bad input (no packages), so it can be sent again: the payload's order is
        // resolved, and guarded, all the same.
        "FulfilmentPayload" => Some(Route {
            operation: "mutation",
            steps: vec![format!(
                "packSalesOrder(input: {{ id: \"{}\", packages: [] }})",
                seeded.sales_order
            )],
            needs: BTreeSet::from(["PICKING_PERFORM".to_owned()]),
        }),
        _ => None,
    }
}

/// Every object field that carries `@requires` (a product's balances, a balance's location, a
/// payload's balances) is reached through the live API by a user who holds everything on the way
/// but that permission: the field is null and the reply names the permission. With it, the same
/// document answers without error. `node(id:)` is walked with a real id of every type it serves.
async fn every_object_field_guard_refuses_without_its_permission(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Walk").await;
    let seeded = seed(&app, &owner.session).await;
    let shape = SchemaShape::parse(&vaskem::graphql::sdl()).expect("the service's SDL parses");
    let guarded = shape.guarded_object_fields();
    assert!(guarded.len() >= 9, "{guarded:?}");

    for (type_name, field, needs) in &guarded {
        let route = route_from_query(&shape, type_name, needs)
            .or_else(|| route_from_mutation(type_name, &seeded))
            .unwrap_or_else(|| {
                panic!(
                    "{type_name}.{field}: no way to reach {type_name} from Query without \
                     arguments; add a route for it to route_from_mutation"
                )
            });
        let target = shape
            .fields(type_name)
            .iter()
            .find(|f| &f.name == field)
            .expect("the field");
        let document = route.document(field, shape.types.contains_key(&target.type_name));
        let on_the_way: Vec<Permission> = route.needs.iter().map(|p| permission_named(p)).collect();

        let without = app
            .database
            .user_with_permissions(owner.tenant, &on_the_way)
            .await;
        let session = app.login(&without, TEST_PASSWORD).await;
        let (_, refused) = app.graphql_in(Some(&session), &document, json!({})).await;
        let errors = refused["errors"].as_array().cloned().unwrap_or_default();
        let refusal = errors.iter().find(|error| {
            error["path"]
                .as_array()
                .and_then(|path| path.last())
                .is_some_and(|last| last == field.as_str())
        });
        let refusal = refusal.unwrap_or_else(|| {
            panic!("{type_name}.{field} without {needs} ({document}) was not refused: {refused}")
        });
        assert_eq!(refusal["extensions"]["code"], "FORBIDDEN", "{refused}");
        assert_eq!(
            refusal["extensions"]["permission"],
            needs.as_str(),
            "{refused}"
        );
        assert!(
            !refused.to_string().contains("WALK-1") || !route.needs.contains("PRODUCTS_VIEW"),
            "{refused}"
        );

        let mut with = on_the_way.clone();
        with.push(permission_named(needs));
        let holder = app
            .database
            .user_with_permissions(owner.tenant, &with)
            .await;
        let session = app.login(&holder, TEST_PASSWORD).await;
        let (_, allowed) = app.graphql_in(Some(&session), &document, json!({})).await;
        assert!(
            allowed.get("errors").is_none(),
            "{type_name}.{field} with {needs} ({document}): {allowed}"
        );
    }

    // node(id:) checks, per call, the permission of the type the id names: the one its own
    // root field needs (Query.product for a Product).
    let roots = vaskem::graphql::permission_requirements();
    let root_permission = |root: &str| match roots.iter().find(|(name, _)| name == root) {
        Some((_, Requirement::Permission(permission))) => permission.clone(),
        other => panic!("{root}: {other:?}"),
    };
    let walked = [
        ("Product", &seeded.product, "Query.product"),
        ("Warehouse", &seeded.warehouse, "Query.warehouse"),
        ("Location", &seeded.location, "Query.location"),
        ("User", &seeded.user, "Query.user"),
        ("Role", &seeded.role, "Query.role"),
        ("Supplier", &seeded.supplier, "Query.supplier"),
        ("Customer", &seeded.customer, "Query.customer"),
        (
            "PurchaseOrder",
            &seeded.purchase_order,
            "Query.purchaseOrder",
        ),
        ("Receipt", &seeded.receipt, "Query.receipt"),
        // A task is seen in the task list: no root field of its own.
        ("PutAwayTask", &seeded.putaway_task, "Query.putAwayTasks"),
        ("Carrier", &seeded.carrier, "Query.carrier"),
        // A service level is seen with its carrier: no root field of its own.
        ("CarrierService", &seeded.carrier_service, "Query.carrier"),
        ("SalesOrder", &seeded.sales_order, "Query.salesOrder"),
        // An allocation is a pick: seen on its pick list.
        ("Allocation", &seeded.allocation, "Query.pickList"),
        ("PickList", &seeded.pick_list, "Query.pickList"),
        ("Shipment", &seeded.shipment, "Query.shipment"),
        (
            "CustomerReturn",
            &seeded.customer_return,
            "Query.customerReturn",
        ),
    ];
    // A new type behind `node` must be added here (a seeded row and its root field).
    let node = app
        .ok(
            &owner.session,
            "{ __type(name: \"Node\") { possibleTypes { name } } }",
            json!({}),
        )
        .await;
    let served: BTreeSet<&str> = node["__type"]["possibleTypes"]
        .as_array()
        .expect("possible types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let covered: BTreeSet<&str> = walked.iter().map(|(name, ..)| *name).collect();
    assert_eq!(served, covered, "node(id:) serves these types");
    for (_, id, root) in walked {
        let needs = root_permission(root);
        let document = format!("{{ node(id: \"{id}\") {{ id }} }}");
        let nobody = app.database.user_with_permissions(owner.tenant, &[]).await;
        let session = app.login(&nobody, TEST_PASSWORD).await;
        let (_, refused) = app.graphql_in(Some(&session), &document, json!({})).await;
        assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{root}: {refused}");
        assert_eq!(
            refused["errors"][0]["extensions"]["permission"],
            needs.as_str()
        );
        let holder = app
            .database
            .user_with_permissions(owner.tenant, &[permission_named(&needs)])
            .await;
        let session = app.login(&holder, TEST_PASSWORD).await;
        let (_, allowed) = app.graphql_in(Some(&session), &document, json!({})).await;
        assert_eq!(
            allowed["data"]["node"]["id"],
            id.as_str(),
            "{root}: {allowed}"
        );
    }
}
