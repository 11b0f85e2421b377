//! Every unique key a mutation can collide on, created by many requests at once: exactly one wins
//! and every other answers CONFLICT naming the key, never INTERNAL. The services check a key
//! before inserting it; these tests are about the requests that pass that check together and
//! meet at the database's unique index. (Carriers' keys race in `carriers.rs`, with [`race`] and
//! [`assert_one_winner`].)

use futures::future::join_all;
use serde_json::{Value, json};

use sea_orm::{ConnectionTrait, Statement};
use vaskem::error::{AppError, ErrorCode};

use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::reply::assert_ok;
use crate::support::{Session, TestApp};

on_both_databases!(
    parallel_creates_of_one_key_give_one_success_and_conflicts,
    parallel_renames_to_one_key_give_one_success_and_conflicts,
    database_errors_are_told_apart_by_kind,
    parallel_organisations_with_one_slug_give_one_success_and_conflicts,
    deleting_a_role_while_it_is_given_out_never_fails_inside,
);

/// How many requests race for each key.
pub(crate) const RACERS: usize = 8;

/// Sends `RACERS` documents at once (`document(i)` with `variables(i)`) and returns each reply.
pub(crate) async fn race(
    app: &TestApp,
    session: &Session,
    document: &str,
    variables: impl Fn(usize) -> Value,
) -> Vec<Value> {
    let replies =
        join_all((0..RACERS).map(|i| app.graphql_in(Some(session), document, variables(i)))).await;
    replies.into_iter().map(|(_, body)| body).collect()
}

/// Exactly one reply succeeded (no errors, no userErrors), and every other is a CONFLICT whose
/// message mentions `key`.
pub(crate) fn assert_one_winner(what: &str, replies: &[Value], key: &str) {
    let winners: Vec<&Value> = replies
        .iter()
        .filter(|r| r.get("errors").is_none())
        .collect();
    assert_eq!(winners.len(), 1, "{what}: one request wins: {replies:#?}");
    assert_ok(winners[0]);
    for reply in replies.iter().filter(|r| r.get("errors").is_some()) {
        assert_eq!(error_code(reply), Some("CONFLICT"), "{what}: {reply}");
        let message = reply["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(key),
            "{what}: the conflict names {key}: {reply}"
        );
    }
}

async fn call(app: &TestApp, session: &Session, document: &str, variables: Value) -> Value {
    app.ok(session, document, variables).await
}

async fn parallel_creates_of_one_key_give_one_success_and_conflicts(
    backend: crate::support::Backend,
) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Racers").await;
    let s = &owner.session;

    let replies = race(
        &app,
        s,
        "mutation ($n: String!) { createWarehouse(input: { code: \"WH-RACE\", name: $n }) { warehouse { id } userErrors { message } } }",
        |i| json!({ "n": format!("Warehouse {i}") }),
    )
    .await;
    assert_one_winner("warehouse code", &replies, "WH-RACE");
    let warehouse = replies
        .iter()
        .find(|r| r.get("errors").is_none())
        .map(|r| r["data"]["createWarehouse"]["warehouse"]["id"].clone())
        .expect("the winner");

    let replies = race(
        &app,
        s,
        "mutation ($w: ID!) { createLocation(input: { warehouseId: $w, code: \"A-01\" }) { location { id } userErrors { message } } }",
        |_| json!({ "w": warehouse }),
    )
    .await;
    assert_one_winner("location code", &replies, "A-01");

    let replies = race(
        &app,
        s,
        "mutation ($n: String!) { createProduct(input: { sku: \"SKU-RACE\", name: $n }) { product { id } userErrors { message } } }",
        |i| json!({ "n": format!("Product {i}") }),
    )
    .await;
    assert_one_winner("SKU", &replies, "SKU-RACE");

    let replies = race(
        &app,
        s,
        "mutation ($sku: String!) { createProduct(input: { sku: $sku, name: $sku, barcodes: [\"4006381333931\"] }) { product { id } userErrors { message } } }",
        |i| json!({ "sku": format!("BC-{i}") }),
    )
    .await;
    assert_one_winner("barcode", &replies, "4006381333931");

    let replies = race(
        &app,
        s,
        "mutation ($d: String!) { createRole(input: { name: \"Night shift\", description: $d, permissions: [PRODUCTS_VIEW] }) { role { id } userErrors { message } } }",
        |i| json!({ "d": format!("racer {i}") }),
    )
    .await;
    assert_one_winner("role name", &replies, "Night shift");

    let roles = call(
        &app,
        s,
        "{ roles(filter: { search: \"Night shift\" }) { nodes { id } } }",
        json!({}),
    )
    .await;
    let role = roles["roles"]["nodes"][0]["id"].clone();
    let replies = race(
        &app,
        s,
        "mutation ($r: ID!, $n: String!) { inviteUser(input: { email: \"racer@example.com\", displayName: $n, roleId: $r }) { user { id } userErrors { message } } }",
        |i| json!({ "r": role, "n": format!("Racer {i}") }),
    )
    .await;
    assert_one_winner("user email", &replies, "racer@example.com");

    // Every loser left nothing behind: one of each, and one audit event per winner.
    let counts = call(
        &app,
        s,
        "{ warehouses { totalCount } products { totalCount } users(filter: { search: \"racer@\" }) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(counts["warehouses"]["totalCount"], 1, "{counts}");
    assert_eq!(counts["products"]["totalCount"], 2, "{counts}");
    assert_eq!(counts["users"]["totalCount"], 1, "{counts}");
}

async fn parallel_renames_to_one_key_give_one_success_and_conflicts(
    backend: crate::support::Backend,
) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Renamers").await;
    let s = &owner.session;

    let mut warehouses = Vec::new();
    let mut products = Vec::new();
    let mut roles = Vec::new();
    for i in 0..RACERS {
        let created = call(
            &app,
            s,
            "mutation ($c: String!) { createWarehouse(input: { code: $c, name: $c }) { warehouse { id } userErrors { message } } }",
            json!({ "c": format!("W-{i}") }),
        )
        .await;
        warehouses.push(created["createWarehouse"]["warehouse"]["id"].clone());
        let created = call(
            &app,
            s,
            "mutation ($c: String!) { createProduct(input: { sku: $c, name: $c }) { product { id } userErrors { message } } }",
            json!({ "c": format!("P-{i}") }),
        )
        .await;
        products.push(created["createProduct"]["product"]["id"].clone());
        let created = call(
            &app,
            s,
            "mutation ($c: String!) { createRole(input: { name: $c, permissions: [] }) { role { id } userErrors { message } } }",
            json!({ "c": format!("Role {i}") }),
        )
        .await;
        roles.push(created["createRole"]["role"]["id"].clone());
    }
    let location_parent = warehouses[0].clone();
    let mut locations = Vec::new();
    for i in 0..RACERS {
        let created = call(
            &app,
            s,
            "mutation ($w: ID!, $c: String!) { createLocation(input: { warehouseId: $w, code: $c }) { location { id } userErrors { message } } }",
            json!({ "w": location_parent, "c": format!("L-{i}") }),
        )
        .await;
        locations.push(created["createLocation"]["location"]["id"].clone());
    }

    let replies = race(
        &app,
        s,
        "mutation ($id: ID!) { updateWarehouse(input: { id: $id, code: \"W-SAME\", name: \"Same\" }) { warehouse { id } userErrors { message } } }",
        |i| json!({ "id": warehouses[i] }),
    )
    .await;
    assert_one_winner("warehouse rename", &replies, "W-SAME");

    let replies = race(
        &app,
        s,
        "mutation ($id: ID!) { updateLocation(input: { id: $id, code: \"L-SAME\", kind: STORAGE, pickable: true }) { location { id } userErrors { message } } }",
        |i| json!({ "id": locations[i] }),
    )
    .await;
    assert_one_winner("location rename", &replies, "L-SAME");

    let replies = race(
        &app,
        s,
        "mutation ($id: ID!) { updateProduct(input: { id: $id, sku: \"P-SAME\", name: \"Same\" }) { product { id } userErrors { message } } }",
        |i| json!({ "id": products[i] }),
    )
    .await;
    assert_one_winner("SKU change", &replies, "P-SAME");

    let replies = race(
        &app,
        s,
        "mutation ($id: ID!, $sku: String!) { updateProduct(input: { id: $id, sku: $sku, name: $sku, barcodes: [\"96385074\"] }) { product { id } userErrors { message } } }",
        |i| json!({ "id": products[i], "sku": format!("Q-{i}") }),
    )
    .await;
    assert_one_winner("barcode change", &replies, "96385074");

    let replies = race(
        &app,
        s,
        "mutation ($id: ID!) { updateRole(input: { id: $id, name: \"Same role\", permissions: [] }) { role { id } userErrors { message } } }",
        |i| json!({ "id": roles[i] }),
    )
    .await;
    assert_one_winner("role rename", &replies, "Same role");
}

/// The error mapping reads the database's error code, not its message: a unique violation is a
/// CONFLICT and text PostgreSQL cannot store is the caller's bad input, on every locale and
/// version.
async fn database_errors_are_told_apart_by_kind(backend: crate::support::Backend) {
    let database = crate::support::TestDatabase::new(backend).await;
    let raw = database.raw().await;
    let engine = raw.get_database_backend();
    raw.execute_unprepared("CREATE TABLE error_kinds (id INTEGER PRIMARY KEY, label TEXT)")
        .await
        .expect("table");
    raw.execute_unprepared("INSERT INTO error_kinds (id, label) VALUES (1, 'one')")
        .await
        .expect("first row");
    let duplicate = raw
        .execute_unprepared("INSERT INTO error_kinds (id, label) VALUES (1, 'again')")
        .await
        .expect_err("a duplicate key");
    assert_eq!(AppError::from(duplicate).code(), ErrorCode::Conflict);

    let nul = raw
        .execute_raw(Statement::from_sql_and_values(
            engine,
            "INSERT INTO error_kinds (id, label) VALUES (2, $1)",
            ["a\0b".into()],
        ))
        .await;
    match backend {
        // PostgreSQL's text cannot hold a NUL byte: SQLSTATE 22021.
        crate::support::Backend::Postgres => {
            let err = AppError::from(nul.expect_err("PostgreSQL refuses NUL in text"));
            assert_eq!(err.code(), ErrorCode::BadUserInput, "{err}");
        }
        // SQLite stores it; the service's own text rules refuse it before it gets here.
        crate::support::Backend::Sqlite => {
            nul.expect("SQLite stores NUL");
        }
    }
}

/// The one key shared by all organisations, created by the operator's command: one wins, the
/// others are told the slug is taken, and nothing of theirs is left behind.
async fn parallel_organisations_with_one_slug_give_one_success_and_conflicts(
    backend: crate::support::Backend,
) {
    use vaskem::auth::password::PasswordHasher;
    use vaskem::service::organisations::{self, NewOrganisation};

    let database = crate::support::TestDatabase::new(backend).await;
    let hasher = PasswordHasher::with_rounds(crate::support::database::TEST_ROUNDS);
    let results = join_all((0..RACERS).map(|i| {
        organisations::create(
            &database.db,
            &hasher,
            NewOrganisation {
                name: format!("Racing {i}"),
                slug: Some("racing-slug".into()),
                admin_email: format!("owner{i}@example.com"),
                admin_password: crate::support::database::TEST_PASSWORD.into(),
            },
        )
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
        assert!(err.to_string().contains("racing-slug"), "{err}");
    }
    let raw = database.raw().await;
    let organisations = raw
        .query_one_raw(Statement::from_string(
            raw.get_database_backend(),
            "SELECT COUNT(*) AS n FROM organisations",
        ))
        .await
        .expect("count")
        .expect("a row");
    let count: i64 = organisations.try_get("", "n").expect("n");
    assert_eq!(count, 1, "the losers left no organisation behind");
}

/// A role deleted while users are invited into it and moved onto it: each request either wins
/// or is told why (NOT_FOUND: the role went first; CONFLICT: it had a holder by then), never
/// INTERNAL, and a deleted role has no holders.
async fn deleting_a_role_while_it_is_given_out_never_fails_inside(
    backend: crate::support::Backend,
) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Roles race").await;
    let s = &owner.session;
    let someone = call(
        &app,
        s,
        "{ roles(filter: { search: \"Owner\" }) { nodes { id } } }",
        json!({}),
    )
    .await["roles"]["nodes"][0]["id"]
        .clone();
    let moved = call(
        &app,
        s,
        "mutation ($r: ID!) { inviteUser(input: { email: \"moved@example.com\", roleId: $r }) { user { id } userErrors { message } } }",
        json!({ "r": someone }),
    )
    .await["inviteUser"]["user"]["id"]
        .clone();
    for round in 0..6 {
        let role = call(
            &app,
            s,
            "mutation ($n: String!) { createRole(input: { name: $n, permissions: [] }) { role { id } userErrors { message } } }",
            json!({ "n": format!("Doomed {round}") }),
        )
        .await["createRole"]["role"]["id"]
            .clone();
        let delete = app.graphql_in(
            Some(s),
            "mutation ($r: ID!) { deleteRole(input: { id: $r }) { roleId userErrors { message } } }",
            json!({ "r": role }),
        );
        let invite = app.graphql_in(
            Some(s),
            "mutation ($r: ID!, $e: String!) { inviteUser(input: { email: $e, roleId: $r }) { user { id } userErrors { message } } }",
            json!({ "r": role, "e": format!("invited{round}@example.com") }),
        );
        let change = app.graphql_in(
            Some(s),
            "mutation ($u: ID!, $r: ID!) { changeUserRole(input: { id: $u, roleId: $r }) { user { id } userErrors { message } } }",
            json!({ "u": moved, "r": role }),
        );
        let ((_, deleted), (_, invited), (_, changed)) = futures::join!(delete, invite, change);
        for reply in [&deleted, &invited, &changed] {
            match error_code(reply) {
                None => {
                    assert_ok(reply);
                }
                Some("NOT_FOUND" | "CONFLICT") => {}
                Some(other) => panic!("round {round}: {other}: {reply}"),
            }
        }
        let gone = deleted.get("errors").is_none();
        let given = invited.get("errors").is_none() || changed.get("errors").is_none();
        assert!(
            !(gone && given),
            "round {round}: a deleted role was given out: {deleted} {invited} {changed}"
        );
        // The mover goes back for the next round.
        call(
            &app,
            s,
            "mutation ($u: ID!, $r: ID!) { changeUserRole(input: { id: $u, roleId: $r }) { user { id } userErrors { message } } }",
            json!({ "u": moved, "r": someone }),
        )
        .await;
    }
}
