//! The tenant wall: the query hook on both engines, and PostgreSQL row-level security on its own.

use entity::{TenantId, organisation, user};
use migration::MigratorTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseBackend, EntityTrait, Statement, TransactionTrait,
};
use vaskem::tenancy::{Engine, Privilege, TenantDb};

use crate::on_both_databases;
use crate::support::{Backend, TestDatabase};

on_both_databases!(
    handle_reads_only_its_own_organisation,
    handle_writes_only_its_own_organisation,
    every_tenant_table_has_a_tenant_scoped_entity,
);

/// The tables the database itself says hold organisations' rows (a `tenant_id` column, and
/// `organisations`) are exactly those of the `TenantScoped` entities: a new table cannot be
/// reached by the tenant handle without its hook, nor forgotten by it.
async fn every_tenant_table_has_a_tenant_scoped_entity(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let in_database = tenant_tables_in_catalogue(&database).await;
    let scoped: std::collections::BTreeSet<String> = entity::tenant_scoped_tables()
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert!(in_database.len() >= 15, "{in_database:?}");
    assert_eq!(
        in_database, scoped,
        "tables with a tenant column vs entity::tenant_scoped_tables()"
    );
}

/// The tables the database's own catalogue says hold organisations' rows: every table with a
/// `tenant_id` column, and `organisations`. (The backup tests check a real backup against it.)
pub async fn tenant_tables_in_catalogue(
    database: &TestDatabase,
) -> std::collections::BTreeSet<String> {
    let raw = database.raw().await;
    let sql = match raw.get_database_backend() {
        DatabaseBackend::Postgres => {
            "SELECT c.table_name::text AS table_name FROM information_schema.columns c
              WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'
             UNION SELECT 'organisations'"
        }
        _ => {
            "SELECT m.name AS table_name FROM sqlite_master m, pragma_table_info(m.name) p
              WHERE m.type = 'table' AND p.name = 'tenant_id'
             UNION SELECT 'organisations'"
        }
    };
    let rows = raw
        .query_all_raw(Statement::from_string(raw.get_database_backend(), sql))
        .await
        .expect("catalogue");
    rows.iter()
        .map(|row| row.try_get::<String>("", "table_name").expect("name"))
        .collect()
}

async fn handle_reads_only_its_own_organisation(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let (beta, _) = database.organisation("Beta").await;
    let handle = TenantDb::for_operator(&database.db, alpha);
    let tx = handle.read().await.expect("read");

    // An unfiltered query, as a careless service might write it, still sees one organisation.
    let organisations = tx.all(organisation::Entity::find()).await.expect("select");
    assert_eq!(
        organisations.iter().map(|org| org.id).collect::<Vec<_>>(),
        vec![alpha]
    );
    let users = tx.all(user::Entity::find()).await.expect("select users");
    assert_eq!(users.len(), 1);
    assert!(users.iter().all(|user| user.tenant_id == alpha));
    // Another organisation's id behaves like one that does not exist.
    assert!(
        tx.find_by_id::<organisation::Entity>(beta)
            .await
            .expect("find")
            .is_none()
    );
    assert!(
        tx.find_by_id::<organisation::Entity>(TenantId::generate())
            .await
            .expect("find")
            .is_none()
    );
    assert_eq!(tx.count(user::Entity::find()).await.expect("count"), 1);
}

async fn handle_writes_only_its_own_organisation(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let (beta, _) = database.organisation("Beta").await;
    let handle = TenantDb::for_operator(&database.db, alpha);

    let mut tx = handle.write().await.expect("write");
    // No filter at all: only Alpha's users may change.
    let changed = tx
        .update_many(
            user::Entity::update_many().col_expr(user::Column::DisplayName, Expr::value("renamed")),
        )
        .await
        .expect("update");
    assert_eq!(changed, 1);
    // An insert claiming Beta's tenant is stamped with Alpha's.
    let alpha_role = tx.all(entity::role::Entity::find()).await.expect("roles")[0].id;
    let inserted = tx
        .insert(user::ActiveModel {
            id: Set(entity::UserId::generate()),
            tenant_id: Set(beta),
            email: Set("intruder@example.com".into()),
            display_name: Set("intruder".into()),
            password_hash: Set("x".into()),
            is_active: Set(true),
            created_at: Set(chrono::Utc::now()),
            role_id: Set(alpha_role),
            grant_mask: Set(0),
            revoke_mask: Set(0),
            must_change_password: Set(false),
        })
        .await
        .expect("insert");
    assert_eq!(inserted.tenant_id, alpha);
    let deleted = tx
        .delete_many(user::Entity::delete_many())
        .await
        .expect("delete");
    assert_eq!(deleted, 2, "only Alpha's two users are reachable");
    tx.record(vaskem::audit::AuditRecord::new("test.write", "user", "all"))
        .await
        .expect("audit");
    tx.commit().await.expect("commit");

    let beta_tx = TenantDb::for_operator(&database.db, beta)
        .read()
        .await
        .expect("read");
    let beta_users = beta_tx.all(user::Entity::find()).await.expect("select");
    assert_eq!(beta_users.len(), 1);
    assert_ne!(beta_users[0].display_name, "renamed");
}

/// Every table with a tenant column (and `organisations`) has RLS enabled and forced with the
/// tenant policy; the service role can bypass none of it.
#[tokio::test]
async fn postgres_rls_is_forced_on_every_tenant_table() {
    let checks = crate::support::Checks::begin();
    let database = TestDatabase::new(Backend::Postgres).await;
    let raw = database.raw().await;
    let rows = raw
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT c.relname::text AS table_name, c.relrowsecurity, c.relforcerowsecurity,
                    (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid
                       AND pg_get_expr(p.polqual, p.polrelid) LIKE '%app.tenant_id%'
                       AND pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%app.tenant_id%') AS policies
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind = 'r'
                AND (c.relname = 'organisations' OR EXISTS (
                      SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                         AND a.attname = 'tenant_id' AND NOT a.attisdropped))
              ORDER BY 1",
        ))
        .await
        .expect("catalog");
    let tables: Vec<String> = rows
        .iter()
        .map(|row| row.try_get::<String>("", "table_name").expect("name"))
        .collect();
    // Discovered from the catalogue, so a new tenant table is checked without editing this test.
    for expected in [
        "audit_events",
        "audit_heads",
        "organisations",
        "sessions",
        "users",
    ] {
        assert!(
            tables.iter().any(|table| table == expected),
            "{expected} not found: {tables:?}"
        );
    }
    for row in &rows {
        let table: String = row.try_get("", "table_name").expect("name");
        assert!(
            row.try_get::<bool>("", "relrowsecurity").expect("rls"),
            "{table}: RLS off"
        );
        assert!(
            row.try_get::<bool>("", "relforcerowsecurity")
                .expect("force"),
            "{table}: RLS not forced"
        );
        assert_eq!(
            row.try_get::<i64>("", "policies").expect("policies"),
            1,
            "{table}: no tenant policy"
        );
    }

    let role = raw
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT rolsuper, rolbypassrls,
                    (SELECT count(*) FROM pg_class WHERE relowner = r.oid) AS owned
               FROM pg_roles r WHERE rolname = 'vaskem_app'",
        ))
        .await
        .expect("role query")
        .expect("service role exists");
    assert!(!role.try_get::<bool>("", "rolsuper").expect("super"));
    assert!(!role.try_get::<bool>("", "rolbypassrls").expect("bypass"));
    assert_eq!(role.try_get::<i64>("", "owned").expect("owned"), 0);
    checks.finish().await;
}

async fn count_users(conn: &impl ConnectionTrait, filter: &str) -> i64 {
    conn.query_one_raw(Statement::from_string(
        DatabaseBackend::Postgres,
        format!("SELECT count(*) AS n FROM users {filter}"),
    ))
    .await
    .expect("count")
    .expect("row")
    .try_get("", "n")
    .expect("n")
}

/// Raw SQL with no application filter, inside a tenant's transaction: RLS alone must hold.
#[tokio::test]
async fn postgres_rls_alone_fences_reads_and_writes() {
    let checks = crate::support::Checks::begin();
    let database = TestDatabase::new(Backend::Postgres).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let (beta, _) = database.organisation("Beta").await;
    let raw = database.raw().await;

    let tx = raw.begin().await.expect("begin");
    Engine::Postgres
        .enter_tenant(&tx, alpha, Privilege::Service)
        .await
        .expect("enter tenant");
    assert_eq!(count_users(&tx, "").await, 1);
    assert_eq!(
        count_users(&tx, &format!("WHERE tenant_id = '{beta}'")).await,
        0
    );
    let audit_rows = tx
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT seq FROM audit_events WHERE tenant_id = '{beta}'"),
        ))
        .await
        .expect("audit select");
    assert!(audit_rows.is_empty());
    let updated = tx
        .execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("UPDATE users SET is_active = false WHERE tenant_id = '{beta}'"),
        ))
        .await
        .expect("update");
    assert_eq!(updated.rows_affected(), 0);
    let insert = tx
        .execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "INSERT INTO users (id, tenant_id, email, display_name, password_hash, is_active, created_at, role_id)
             SELECT $1, $2, 'x@example.com', 'x', 'x', true, now(), role_id FROM users LIMIT 1",
            [uuid::Uuid::now_v7().into(), beta.0.into()],
        ))
        .await;
    let err = insert
        .expect_err("insert into another tenant must fail")
        .to_string();
    assert!(err.contains("row-level security"), "{err}");
    tx.rollback().await.expect("rollback");

    // Moving one's own row to another tenant is refused too (the service role may not update
    // `tenant_id` at all, and WITH CHECK stands behind that).
    let tx = raw.begin().await.expect("begin");
    Engine::Postgres
        .enter_tenant(&tx, alpha, Privilege::Service)
        .await
        .expect("enter tenant");
    let moved = tx
        .execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("UPDATE users SET tenant_id = '{beta}'"),
        ))
        .await;
    assert!(moved.is_err(), "WITH CHECK must refuse moving a row out");
    tx.rollback().await.expect("rollback");

    // No tenant set: nothing at all.
    let tx = raw.begin().await.expect("begin");
    tx.execute_unprepared("SET LOCAL ROLE vaskem_app")
        .await
        .expect("role");
    assert_eq!(count_users(&tx, "").await, 0);
    tx.rollback().await.expect("rollback");
    checks.finish().await;
}

/// With one pooled connection, tenant B's transaction right after tenant A's sees none of A, and
/// a transaction in between that sets no tenant sees nothing: the setting is transaction-local.
#[tokio::test]
async fn postgres_pool_of_one_does_not_carry_the_tenant_over() {
    let checks = crate::support::Checks::begin();
    let database = TestDatabase::new(Backend::Postgres).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let (beta, _) = database.organisation("Beta").await;
    let mut options = sea_orm::ConnectOptions::new(database.url.clone());
    options.max_connections(1).min_connections(1);
    let single = sea_orm::Database::connect(options)
        .await
        .expect("pool of one");

    let tx = single.begin().await.expect("begin");
    Engine::Postgres
        .enter_tenant(&tx, alpha, Privilege::Service)
        .await
        .expect("enter alpha");
    assert_eq!(count_users(&tx, "").await, 1);
    // Requests ask for generic plans (see `Engine::enter_tenant`), for their transaction only.
    assert_eq!(plan_cache_mode(&tx).await, "force_generic_plan");
    tx.commit().await.expect("commit");

    let tx = single.begin().await.expect("begin");
    tx.execute_unprepared("SET LOCAL ROLE vaskem_app")
        .await
        .expect("role");
    assert_eq!(
        count_users(&tx, "").await,
        0,
        "alpha's tenant leaked into the next transaction"
    );
    assert_eq!(plan_cache_mode(&tx).await, "auto");
    tx.commit().await.expect("commit");

    let tx = single.begin().await.expect("begin");
    Engine::Postgres
        .enter_tenant(&tx, beta, Privilege::Service)
        .await
        .expect("enter beta");
    assert_eq!(
        count_users(&tx, &format!("WHERE tenant_id = '{alpha}'")).await,
        0
    );
    assert_eq!(count_users(&tx, "").await, 1);
    tx.commit().await.expect("commit");

    // The service's own pool of one behaves the same through the handle.
    let pool_of_one = database.another_pool(1).await;
    for (tenant, expected) in [(alpha, alpha), (beta, beta)] {
        let tx = TenantDb::for_operator(&pool_of_one, tenant)
            .read()
            .await
            .expect("read");
        let users = tx.all(user::Entity::find()).await.expect("users");
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].tenant_id, expected);
        tx.commit().await.expect("commit");
    }
    checks.finish().await;
}

async fn plan_cache_mode(tx: &sea_orm::DatabaseTransaction) -> String {
    tx.query_one_raw(Statement::from_string(
        DatabaseBackend::Postgres,
        "SELECT current_setting('plan_cache_mode') AS mode",
    ))
    .await
    .expect("setting")
    .expect("row")
    .try_get("", "mode")
    .expect("mode")
}

/// Several nodes starting at once on one PostgreSQL database all come up, migrated once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_nodes_starting_together_migrate_once() {
    let checks = crate::support::Checks::begin();
    let database = TestDatabase::new(Backend::Postgres).await;
    // A second database, empty, that four "nodes" migrate at the same moment.
    let raw = database.raw().await;
    let name = format!("vaskem_t_{}", uuid::Uuid::new_v4().simple());
    raw.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create");
    let url = format!(
        "{}/{name}",
        &database.url[..database.url.rfind('/').expect("slash")]
    );
    let nodes = (0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let db = vaskem::tenancy::Database::connect_with_pool(
                &url,
                2,
                vaskem::audit::keys::AuditKeys::none(),
            )
            .await?;
            db.migrate().await
        })
    });
    for result in futures::future::join_all(nodes).await {
        result.expect("task").expect("migrate");
    }
    let check = sea_orm::Database::connect(&url).await.expect("connect");
    let applied = check
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM seaql_migrations",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(applied as usize, migration::Migrator::migrations().len());
    drop(check);
    raw.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("drop");
    checks.finish().await;
}

async fn count_rows(conn: &impl ConnectionTrait, table: &str) -> i64 {
    conn.query_one_raw(Statement::from_string(
        DatabaseBackend::Postgres,
        format!("SELECT count(*) AS n FROM {table}"),
    ))
    .await
    .expect("count")
    .expect("row")
    .try_get("", "n")
    .expect("n")
}

/// Tables where the organisation's creation leaves rows, so "none visible" means something.
const SEEDED_TABLES: [&str; 5] = [
    "organisations",
    "users",
    "roles",
    "audit_events",
    "audit_heads",
];

/// The login role `vaskem serve` uses cannot climb out of the service role: after `RESET ROLE`
/// it sees no tenant row without `app.tenant_id`, it may not `SET ROLE` to the owner, and even
/// inside its own tenant it may not reactivate (or deactivate) its organisation.
#[tokio::test]
async fn postgres_serving_role_cannot_become_the_owner() {
    let checks = crate::support::Checks::begin();
    let database = TestDatabase::new(Backend::Postgres).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let owner_conn = database.raw().await;
    let owner: String = owner_conn
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT tableowner::text AS owner FROM pg_tables WHERE tablename = 'users'",
        ))
        .await
        .expect("owner")
        .expect("row")
        .try_get("", "owner")
        .expect("owner");

    // What an owner connection (the only kind before) sees once a request's `RESET ROLE` runs.
    let tx = owner_conn.begin().await.expect("begin");
    Engine::Postgres
        .enter_tenant(&tx, alpha, Privilege::Service)
        .await
        .expect("enter");
    tx.execute_unprepared("RESET ROLE").await.expect("reset");
    tx.execute_unprepared("SELECT set_config('app.tenant_id', '', true)")
        .await
        .expect("unset");
    for table in SEEDED_TABLES {
        assert!(count_rows(&tx, table).await > 0, "the owner sees {table}");
    }
    drop(tx);

    let web = sea_orm::Database::connect(&database.serving_url)
        .await
        .expect("connect as the serving role");
    // Without the tenant setting, and with no role to reset to but itself: nothing.
    web.execute_unprepared("RESET ROLE").await.expect("reset");
    for table in SEEDED_TABLES {
        assert_eq!(count_rows(&web, table).await, 0, "{table} without a tenant");
    }
    // The same inside a request's transaction, after undoing its `SET LOCAL ROLE`.
    let tx = web.begin().await.expect("begin");
    Engine::Postgres
        .enter_tenant(&tx, alpha, Privilege::Service)
        .await
        .expect("enter");
    assert_eq!(count_rows(&tx, "users").await, 1, "the tenant's own user");
    tx.execute_unprepared("RESET ROLE").await.expect("reset");
    tx.execute_unprepared("SELECT set_config('app.tenant_id', '', true)")
        .await
        .expect("unset");
    for table in SEEDED_TABLES {
        assert_eq!(count_rows(&tx, table).await, 0, "{table} after RESET ROLE");
    }
    drop(tx);

    for statement in [format!("SET ROLE {owner}"), format!("SET ROLE \"{owner}\"")] {
        let err = web
            .execute_unprepared(&statement)
            .await
            .expect_err("becoming the owner must fail");
        assert!(err.to_string().contains("permission denied"), "{err}");
    }
    let err = web
        .execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT set_config('role', $1, false)",
            [owner.clone().into()],
        ))
        .await
        .expect_err("becoming the owner through set_config must fail");
    assert!(err.to_string().contains("permission denied"), "{err}");

    // Inside its own tenant: the name is the service's to change, `is_active` the operator's.
    for reset in [false, true] {
        let tx = web.begin().await.expect("begin");
        Engine::Postgres
            .enter_tenant(&tx, alpha, Privilege::Service)
            .await
            .expect("enter");
        if reset {
            tx.execute_unprepared("RESET ROLE").await.expect("reset");
        }
        tx.execute_unprepared("UPDATE organisations SET name = 'Renamed'")
            .await
            .expect("renaming is the service's");
        for value in ["true", "false"] {
            let savepoint = tx.begin().await.expect("savepoint");
            let err = savepoint
                .execute_unprepared(&format!("UPDATE organisations SET is_active = {value}"))
                .await
                .expect_err("is_active is the operator's");
            assert!(err.to_string().contains("permission denied"), "{err}");
        }
    }

    // The start-up check tells the two connections apart.
    let serving = database.serving.connection_role().await.expect("check");
    let serving = serving.expect("a role on PostgreSQL");
    assert!(!serving.is_owner(), "{serving:?}");
    assert!(
        database
            .serving
            .may_act_as_service_role()
            .await
            .expect("member")
    );
    let owning = database.db.connection_role().await.expect("check");
    assert!(owning.expect("a role").is_owner());
    checks.finish().await;
}

/// The sign-in lookup's policies: knowing an email shows its account only in the organisation
/// whose slug is set beside it, never the same address in another organisation.
#[tokio::test]
async fn postgres_login_lookup_sees_one_organisations_account() {
    let checks = crate::support::Checks::begin();
    let database = TestDatabase::new(Backend::Postgres).await;
    let (_, alpha_email) = database.organisation("Alpha").await;
    let (_, beta_email) = database.organisation("Beta").await;
    let alpha = database.slug_of(&alpha_email).await;
    let beta = database.slug_of(&beta_email).await;
    let web = sea_orm::Database::connect(&database.serving_url)
        .await
        .expect("serving connection");
    let visible = |slug: String, email: String| {
        let web = &web;
        async move {
            let tx = web.begin().await.expect("begin");
            tx.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT set_config('role', 'vaskem_app', true),
                        set_config('app.login_slug', $1, true),
                        set_config('app.login_email', $2, true)",
                [slug.into(), email.into()],
            ))
            .await
            .expect("settings");
            let row = tx
                .query_one_raw(Statement::from_string(
                    DatabaseBackend::Postgres,
                    "SELECT count(*) AS n FROM users",
                ))
                .await
                .expect("count")
                .expect("row");
            row.try_get::<i64>("", "n").expect("n")
        }
    };
    assert_eq!(visible(alpha.clone(), alpha_email.clone()).await, 1);
    assert_eq!(visible(beta.clone(), beta_email.clone()).await, 1);
    // Alpha's address looked up under Beta's slug, or with no slug at all: nothing.
    assert_eq!(visible(beta, alpha_email.clone()).await, 0);
    assert_eq!(visible(String::new(), alpha_email).await, 0);
    checks.finish().await;
}

/// The session check's policies: a session's token hash shows that session's user, the user's
/// role and the organisation, one row each, and nothing of any other user or organisation.
#[tokio::test]
async fn postgres_session_lookup_sees_one_sessions_rows() {
    let checks = crate::support::Checks::begin();
    let app = crate::support::TestApp::start(Backend::Postgres).await;
    let alpha = app.member_of_new_organisation("Alpha").await;
    let beta = app.member_of_new_organisation("Beta").await;
    // A second member of Alpha, with a role of their own: not visible through the admin's token.
    app.database
        .user_with_permissions(
            alpha.tenant,
            &[vaskem::auth::permission::Permission::ProductsView],
        )
        .await;
    let web = sea_orm::Database::connect(&app.database.serving_url)
        .await
        .expect("serving connection");
    let visible = |token_hash: String| {
        let web = &web;
        async move {
            let tx = web.begin().await.expect("begin");
            tx.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT set_config('role', 'vaskem_app', true),
                        set_config('app.session_token_hash', $1, true)",
                [token_hash.into()],
            ))
            .await
            .expect("settings");
            let row = tx
                .query_one_raw(Statement::from_string(
                    DatabaseBackend::Postgres,
                    "SELECT (SELECT count(*) FROM users) AS users,
                            (SELECT count(*) FROM roles) AS roles,
                            (SELECT count(*) FROM organisations) AS organisations,
                            (SELECT min(email) FROM users) AS email,
                            (SELECT min(id::text) FROM organisations) AS organisation",
                ))
                .await
                .expect("count")
                .expect("row");
            let count = |column: &str| row.try_get::<i64>("", column).expect("count");
            (
                [count("users"), count("roles"), count("organisations")],
                row.try_get::<Option<String>>("", "email").expect("email"),
                row.try_get::<Option<String>>("", "organisation")
                    .expect("organisation"),
            )
        }
    };
    use vaskem::auth::session::{cookie_token_hash, hash_token};
    for member in [&alpha, &beta] {
        let (counts, email, organisation) = visible(cookie_token_hash(&member.session.token)).await;
        assert_eq!(counts, [1, 1, 1]);
        assert_eq!(email.as_deref(), Some(member.email.as_str()));
        assert_eq!(organisation, Some(member.tenant.to_string()));
    }
    // An unknown token, or none: nothing at all.
    for token_hash in [hash_token("no such token"), String::new()] {
        assert_eq!(visible(token_hash).await, ([0, 0, 0], None, None));
    }
    checks.finish().await;
}
