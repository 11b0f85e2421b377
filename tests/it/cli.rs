//! The `vaskem` binary as an operator uses it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::audit::tamper;
use crate::on_both_databases;
use crate::support::{Backend, TestDatabase, database::TEST_PASSWORD};

on_both_databases!(
    org_create_then_audit_verify,
    org_create_reads_password_from_stdin,
    org_deactivate_ends_sessions_at_once,
);

fn vaskem(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vaskem"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("VASKEM_PASSWORD_ROUNDS", "1000")
        .env_remove("VASKEM_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vaskem");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("wait")
}

async fn org_create_then_audit_verify(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let output = Command::new(env!("CARGO_BIN_EXE_vaskem"))
        .args([
            "org",
            "create",
            "--name",
            "Gamma Freight",
            "--admin-email",
            "Boss@Gamma.example",
        ])
        .env("DATABASE_URL", &database.url)
        .env("VASKEM_PASSWORD_ROUNDS", "1000")
        .env("VASKEM_ADMIN_PASSWORD", TEST_PASSWORD)
        .output()
        .expect("org create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let id = String::from_utf8(output.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    assert!(
        vaskem::graphql::parse_id::<entity::TenantId>(&async_graphql::ID(id.clone()), "id").is_ok(),
        "prints the organisation id as the API shows it: {id}"
    );

    let verify = vaskem(&database.url, &["audit", "verify", "--org", &id], None);
    assert!(verify.status.success());
    assert!(String::from_utf8_lossy(&verify.stdout).contains("intact: 2 events"));

    tamper(
        &database.raw().await,
        "UPDATE audit_events SET actor_label = 'someone else' WHERE seq = 1",
    )
    .await;
    let verify = vaskem(&database.url, &["audit", "verify", "--org", &id], None);
    assert_eq!(
        verify.status.code(),
        Some(i32::from(vaskem::cli::BROKEN_CHAIN_EXIT))
    );
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("BROKEN at event 1"),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

async fn org_create_reads_password_from_stdin(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let output = vaskem(
        &database.url,
        &[
            "org",
            "create",
            "--name",
            "Delta",
            "--admin-email",
            "ops@delta.example",
        ],
        Some(&format!("{TEST_PASSWORD}\n")),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // A short password is refused with a clear message and creates nothing.
    let output = vaskem(
        &database.url,
        &[
            "org",
            "create",
            "--name",
            "Epsilon",
            "--admin-email",
            "ops@epsilon.example",
        ],
        Some("short\n"),
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 15 characters"));
}

#[test]
fn migrate_creates_the_default_sqlite_file() {
    let dir = tempfile::tempdir().expect("dir");
    let output = Command::new(env!("CARGO_BIN_EXE_vaskem"))
        .arg("migrate")
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .expect("migrate");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("vaskem.db").exists());
}

async fn org_deactivate_ends_sessions_at_once(backend: Backend) {
    let app = crate::support::TestApp::start(backend).await;
    let member = app.member_of_new_organisation("Zeta").await;
    let me = "{ me { email } }";
    let (_, body) = app
        .graphql_in(Some(&member.session), me, serde_json::json!({}))
        .await;
    assert_eq!(body["data"]["me"]["email"], member.email);

    let tenant = member.tenant.to_string();
    let output = vaskem(
        &app.database.url,
        &["org", "deactivate", "--org", &tenant],
        None,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (_, body) = app
        .graphql_in(Some(&member.session), me, serde_json::json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    assert!(app.try_login(&member.email, TEST_PASSWORD).await.is_err());

    let output = vaskem(
        &app.database.url,
        // As the API shows it (`organisation { id }`), or the bare key above: both name it.
        &[
            "org",
            "activate",
            "--org",
            &crate::support::gid(member.tenant),
        ],
        None,
    );
    assert!(output.status.success());
    app.login(&member.email, TEST_PASSWORD).await;

    let unknown = uuid::Uuid::now_v7().to_string();
    let output = vaskem(
        &app.database.url,
        &["org", "deactivate", "--org", &unknown],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let output = vaskem(
        &app.database.url,
        &["audit", "verify", "--org", &unknown],
        None,
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "an unknown organisation is an error, not an intact chain"
    );
}

/// `vaskem demo` makes an organisation a newcomer can explore: warehouses, products, stock and
/// history, with balances that agree with the ledger and an intact audit chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fills_a_believable_warehouse() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let database = TestDatabase::new(backend).await;
        let output = vaskem(&database.url, &["demo"], None);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let organisation: entity::TenantId = stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix("organisation:"))
            .and_then(|id| {
                vaskem::graphql::parse_id(&async_graphql::ID(id.trim().to_owned()), "id").ok()
            })
            .expect("organisation id printed as the API shows it");
        let handle = vaskem::tenancy::TenantDb::for_operator(&database.db, organisation);
        let tx = handle.read().await.expect("read");
        use sea_orm::EntityTrait;
        assert!(
            tx.count(entity::product::Entity::find())
                .await
                .expect("products")
                >= 200
        );
        assert_eq!(
            tx.count(entity::warehouse::Entity::find())
                .await
                .expect("warehouses"),
            2
        );
        assert!(
            tx.count(entity::stock_movement::Entity::find())
                .await
                .expect("movements")
                > 400
        );
        // Put-away stays inside one warehouse.
        let locations: std::collections::HashMap<_, _> = tx
            .all(entity::location::Entity::find())
            .await
            .expect("locations")
            .into_iter()
            .map(|l| (l.id, l.warehouse_id))
            .collect();
        let movements = tx
            .all(entity::stock_movement::Entity::find())
            .await
            .expect("movements");
        let mut transfers = 0;
        for movement in movements {
            if let (Some(from), Some(to)) = (movement.from_location_id, movement.to_location_id) {
                assert_eq!(locations[&from], locations[&to], "{movement:?}");
                transfers += 1;
            }
        }
        assert!(transfers >= 200, "every product is put away: {transfers}");
        drop(tx);
        assert!(
            vaskem::service::stock::verify(&handle)
                .await
                .expect("verify")
                .is_empty()
        );
        assert!(
            vaskem::audit::verify_chain(&handle)
                .await
                .expect("chain")
                .is_intact()
        );
    }
}
