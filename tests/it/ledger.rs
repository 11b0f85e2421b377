//! The ledger under parallel requests that race for the same new row, on both engines: a new lot
//! two postings bring into being at once, and one idempotency key sent several times at once.
//! Neither may answer INTERNAL: the lot is shared, and the key answers with the first result (or,
//! for a different request under it, CONFLICT).

use serde_json::{Value, json};
use vaskem::tenancy::TenantDb;

use crate::on_both_databases;
use crate::stock::{ADJUST, call, product, warehouse};
use crate::support::app::error_code;
use crate::support::{Backend, TestApp};

on_both_databases!(
    parallel_postings_of_one_new_lot_share_it,
    parallel_requests_with_one_key_post_once,
    parallel_counts_and_transfers_queue_on_one_lock_order,
);

/// How many requests race each other.
const RACERS: usize = 8;

async fn parallel_postings_of_one_new_lot_share_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let lotted = product(&app, s, "LOT-1", "LOT").await;
    let serial = product(&app, s, "SER-1", "SERIAL").await;
    // Every request names the same lot, which none of them has seen; half put it in A, half in
    // B. Three rounds, each with a lot of its own, so the race is run more than once.
    for round in 1..=3 {
        let code = format!("NEW-{round}");
        let adjust = |n: usize| {
            let (app, location) = (&app, if n.is_multiple_of(2) { &w.a } else { &w.b });
            let (lotted, code) = (&lotted, &code);
            async move {
                call(app, s, ADJUST, json!({ "i": { "productId": lotted, "locationId": location, "change": 1 + n, "reason": "found", "lot": { "code": code, "expiresOn": "2027-01-31" } } })).await
            }
        };
        let replies = futures::future::join_all((0..RACERS).map(adjust)).await;
        for reply in &replies {
            assert!(reply["errors"].is_null(), "{reply}");
            assert_eq!(
                reply["data"]["adjustStock"]["userErrors"],
                json!([]),
                "{reply}"
            );
        }
        let body = call(&app, s, "query ($p: ID!) { stockOnHand(filter: {productId: $p}, first: 100) { nodes { onHand lot { id code expiresOn } } } }", json!({ "p": lotted })).await;
        let nodes: Vec<&Value> = body["data"]["stockOnHand"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .filter(|node| node["lot"]["code"] == code.as_str())
            .collect();
        assert_eq!(
            nodes.len(),
            2,
            "one balance per location, of one lot: {body}"
        );
        assert_eq!(nodes[0]["lot"], nodes[1]["lot"], "{body}");
        assert_eq!(nodes[0]["lot"]["expiresOn"], "2027-01-31", "{body}");
        let total: i64 = nodes
            .iter()
            .map(|n| n["onHand"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(total, (1..=RACERS as i64).sum::<i64>(), "{body}");
    }

    // A new serial number raced into two places: it is created once, and is in stock once.
    let receive = |n: usize| {
        let (app, location) = (&app, if n.is_multiple_of(2) { &w.a } else { &w.b });
        let serial = &serial;
        async move {
            call(app, s, ADJUST, json!({ "i": { "productId": serial, "locationId": location, "change": 1, "reason": "found", "lot": { "code": "SN-NEW" } } })).await
        }
    };
    let replies = futures::future::join_all((0..RACERS).map(receive)).await;
    let received = replies
        .iter()
        .filter(|reply| crate::support::reply::succeeded(reply))
        .count();
    assert_eq!(received, 1, "{replies:?}");
    for reply in replies.iter().filter(|reply| !reply["errors"].is_null()) {
        assert_eq!(error_code(reply), Some("CONFLICT"), "{reply}");
        assert!(
            reply["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("serial SN-NEW of SER-1 is already in stock"),
            "{reply}"
        );
    }
    let handle = TenantDb::for_operator(&app.database.db, owner.tenant);
    assert_eq!(
        vaskem::service::ledger::verify(&handle)
            .await
            .expect("verify"),
        vec![]
    );
}

async fn parallel_requests_with_one_key_post_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    let document = "mutation ($i: AdjustStockInput!) { adjustStock(input: $i) { movements { id quantity } userErrors { code message } } }";

    // The same request, sent eight times at once: one posts and the others wait for it and get
    // its result (on PostgreSQL the key's insert waits for the first to commit; SQLite queues
    // writers), so every one answers with the one movement.
    let same = (0..RACERS).map(|_| {
        let (app, w) = (&app, &w);
        async move {
            call(app, s, document, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 5, "reason": "found", "idempotencyKey": "delivery-1" } })).await
        }
    });
    let replies = futures::future::join_all(same).await;
    let movement = first_movement(&replies);
    for reply in &replies {
        assert!(reply["errors"].is_null(), "{reply}");
        assert_eq!(
            reply["data"]["adjustStock"]["movements"],
            json!([{ "id": movement, "quantity": 5 }]),
            "{reply}"
        );
    }

    // Different requests under one key, at once: one posts, every other one is refused.
    let different = (0..RACERS).map(|n| {
        let (app, w) = (&app, &w);
        async move {
            call(app, s, document, json!({ "i": { "productId": w.product, "locationId": w.a, "change": 1, "reason": "found", "note": format!("try {n}"), "idempotencyKey": "delivery-2" } })).await
        }
    });
    let replies = futures::future::join_all(different).await;
    let posted = replies
        .iter()
        .filter(|reply| crate::support::reply::succeeded(reply))
        .count();
    assert_eq!(posted, 1, "{replies:?}");
    for reply in replies.iter().filter(|reply| !reply["errors"].is_null()) {
        assert_eq!(error_code(reply), Some("CONFLICT"), "{reply}");
        assert!(
            reply["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("idempotency key delivery-2"),
            "{reply}"
        );
    }

    let body = call(&app, s, "query ($p: ID!) { stockMovements(filter: {productId: $p}) { nodes { quantity } } stockOnHand(filter: {productId: $p}) { nodes { onHand } } }", json!({ "p": w.product })).await;
    assert_eq!(
        body["data"]["stockMovements"]["nodes"],
        json!([{ "quantity": 1 }, { "quantity": 5 }]),
        "one movement per key: {body}"
    );
    assert_eq!(
        body["data"]["stockOnHand"]["nodes"],
        json!([{ "onHand": 6 }]),
        "{body}"
    );
}

/// The id of the one movement the successful replies name.
fn first_movement(replies: &[Value]) -> Value {
    let ids: Vec<&Value> = replies
        .iter()
        .filter(|reply| crate::support::reply::succeeded(reply))
        .filter_map(|reply| reply["data"]["adjustStock"]["movements"].as_array())
        .flatten()
        .map(|movement| &movement["id"])
        .collect();
    assert!(!ids.is_empty(), "nothing was posted: {replies:?}");
    ids[0].clone()
}

/// Cycle counts lock through the ledger like every posting: counts naming their lines in either
/// order, raced against transfers both ways over the same two balances, all queue and none
/// deadlocks (PostgreSQL would abort one with INTERNAL), and the balances still add up.
async fn parallel_counts_and_transfers_queue_on_one_lock_order(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let s = &owner.session;
    let w = warehouse(&app, s).await;
    for location in [&w.a, &w.b] {
        call(&app, s, ADJUST, json!({ "i": { "productId": w.product, "locationId": location, "change": 100, "reason": "found" } })).await;
    }
    let count =
        "mutation ($i: PostStockCountInput!) { postStockCount(input: $i) { movements { id } } }";
    let transfer =
        "mutation ($i: TransferStockInput!) { transferStock(input: $i) { movements { id } } }";
    let requests = (0..RACERS).map(|n| {
        let (app, w) = (&app, &w);
        let line = |location: &str, counted: i64| json!({ "productId": w.product, "locationId": location, "counted": counted });
        let (document, variables) = match n % 4 {
            0 => (count, json!({ "i": { "lines": [line(&w.a, 50), line(&w.b, 50)] } })),
            1 => (transfer, json!({ "i": { "productId": w.product, "fromLocationId": w.a, "toLocationId": w.b, "quantity": 10 } })),
            2 => (transfer, json!({ "i": { "productId": w.product, "fromLocationId": w.b, "toLocationId": w.a, "quantity": 10 } })),
            _ => (count, json!({ "i": { "lines": [line(&w.b, 60), line(&w.a, 40)] } })),
        };
        async move { call(app, s, document, variables).await }
    });
    let replies = futures::future::join_all(requests).await;
    for reply in &replies {
        // Every count leaves at least 40 in each place, so every transfer of 10 has its stock.
        assert!(reply["errors"].is_null(), "{reply}");
    }
    let body = call(
        &app,
        s,
        "query ($p: ID!) { stockOnHand(filter: {productId: $p}) { nodes { onHand } } }",
        json!({ "p": w.product }),
    )
    .await;
    let total: i64 = body["data"]["stockOnHand"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|n| n["onHand"].as_i64().unwrap_or(0))
        .sum();
    // Whichever ran last, counts leave 100 in all and transfers do not change the total.
    assert_eq!(total, 100, "{body}");
    let handle = TenantDb::for_operator(&app.database.db, owner.tenant);
    assert_eq!(
        vaskem::service::ledger::verify(&handle)
            .await
            .expect("verify"),
        vec![]
    );
}
