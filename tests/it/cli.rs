//! The `vaskem` binary as an operator uses it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::audit::tamper;
use crate::on_both_databases;
use crate::support::process::{ServiceProcess, serve_command};
use crate::support::{Backend, Invariant, TestDatabase, database::TEST_PASSWORD};

on_both_databases!(
    org_create_then_audit_verify,
    org_create_reads_password_from_stdin,
    org_deactivate_ends_sessions_at_once,
    audit_keys_rotate_through_the_key_file,
    serve_warns_of_plain_http_and_of_running_as_root,
);

/// `vaskem` on `database`, with its audit key.
pub fn command(database: &TestDatabase) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vaskem"));
    command
        .env("DATABASE_URL", &database.url)
        .env("VASKEM_AUDIT_KEY", database.audit_key.to_base64())
        .env_remove("VASKEM_AUDIT_KEY_FILE")
        .env("VASKEM_PASSWORD_ROUNDS", "1000");
    command
}

pub fn vaskem(database: &TestDatabase, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command(database)
        .args(args)
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
    let output = command(&database)
        .args([
            "org",
            "create",
            "--name",
            "Gamma Freight",
            "--admin-email",
            "Boss@Gamma.example",
        ])
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

    let verify = vaskem(&database, &["audit", "verify", "--org", &id], None);
    assert!(verify.status.success());
    assert!(String::from_utf8_lossy(&verify.stdout).contains("intact: 2 events"));

    database.exempt(Invariant::AuditChain, "edits an event for the CLI to find");
    tamper(
        &database.raw().await,
        "UPDATE audit_events SET actor_label = 'someone else' WHERE seq = 1",
    )
    .await;
    let verify = vaskem(&database, &["audit", "verify", "--org", &id], None);
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
        &database,
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
        &database,
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
        .env_remove("VASKEM_AUDIT_KEY")
        .env_remove("VASKEM_AUDIT_KEY_FILE")
        .output()
        .expect("migrate");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("vaskem.db").exists());
    assert!(
        !dir.path().join("vaskem-audit.key").exists(),
        "migrating writes no audit event, so it needs no key"
    );
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
        &app.database,
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
        &app.database,
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
        &app.database,
        &["org", "deactivate", "--org", &unknown],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let output = vaskem(&app.database, &["audit", "verify", "--org", &unknown], None);
    assert_eq!(
        output.status.code(),
        Some(1),
        "an unknown organisation is an error, not an intact chain"
    );
}

/// `vaskem demo` makes an organisation a newcomer can explore: warehouses, carriers, products,
/// stock and history, with balances that agree with the ledger and an intact audit chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fills_a_believable_warehouse() {
    let checks = crate::support::Checks::begin();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let database = TestDatabase::new(backend).await;
        let output = vaskem(&database, &["demo"], None);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout
                .lines()
                .any(|line| line.trim() == "organisation: demo"),
            "the slug to sign in with: {stdout}"
        );
        let organisation: entity::TenantId = stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix("id:"))
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
        assert_eq!(
            tx.count(entity::carrier::Entity::find())
                .await
                .expect("carriers"),
            2
        );
        assert_eq!(
            tx.count(entity::carrier_service::Entity::find())
                .await
                .expect("service levels"),
            4
        );
        assert!(
            tx.count(entity::stock_movement::Entity::find())
                .await
                .expect("movements")
                > 400
        );
        // People to buy from and sell to, every customer with a default of each address kind.
        assert_eq!(
            tx.count(entity::supplier::Entity::find())
                .await
                .expect("suppliers"),
            5
        );
        let customers = tx
            .count(entity::customer::Entity::find())
            .await
            .expect("customers");
        assert_eq!(customers, 8);
        use sea_orm::{ColumnTrait, QueryFilter};
        assert_eq!(
            tx.count(
                entity::customer_address::Entity::find()
                    .filter(entity::customer_address::Column::IsDefault.eq(true))
            )
            .await
            .expect("default addresses"),
            2 * customers
        );
        // Purchase orders in every state: being written, placed and due, received in part and in
        // full, cancelled.
        let statuses: std::collections::HashSet<_> = tx
            .all(entity::purchase_order::Entity::find())
            .await
            .expect("purchase orders")
            .into_iter()
            .map(|order| order.status)
            .collect();
        use entity::PurchaseOrderStatus as S;
        for status in [
            S::Draft,
            S::Ordered,
            S::PartiallyReceived,
            S::Received,
            S::Cancelled,
        ] {
            assert!(statuses.contains(&status), "{status:?}: {statuses:?}");
        }
        // Sales orders in every state, one with a back-order.
        let orders: std::collections::HashSet<_> = tx
            .all(entity::sales_order::Entity::find())
            .await
            .expect("sales orders")
            .into_iter()
            .map(|order| order.status)
            .collect();
        use entity::SalesOrderStatus as O;
        for status in [
            O::Draft,
            O::Confirmed,
            O::Allocated,
            O::Picking,
            O::Packed,
            O::Dispatched,
            O::Cancelled,
        ] {
            assert!(orders.contains(&status), "{status:?}: {orders:?}");
        }
        let backordered = tx
            .all(entity::sales_order_line::Entity::find())
            .await
            .expect("sales order lines")
            .into_iter()
            .filter(|line| line.quantity_backordered > 0)
            .count();
        assert!(backordered >= 1, "a back-order");
        // Shipments in every state; returns in every state.
        let shipments: std::collections::HashSet<_> = tx
            .all(entity::shipment::Entity::find())
            .await
            .expect("shipments")
            .into_iter()
            .map(|shipment| shipment.status)
            .collect();
        use entity::ShipmentStatus as H;
        for status in [H::Created, H::InTransit, H::Exception, H::Delivered] {
            assert!(shipments.contains(&status), "{status:?}: {shipments:?}");
        }
        let returns: std::collections::HashSet<_> = tx
            .all(entity::customer_return::Entity::find())
            .await
            .expect("returns")
            .into_iter()
            .map(|returned| returned.status)
            .collect();
        use entity::CustomerReturnStatus as R;
        for status in [R::Received, R::PartiallyDispositioned, R::Closed] {
            assert!(returns.contains(&status), "{status:?}: {returns:?}");
        }
        // Put-away tasks: one done, one half done, the rest open.
        let tasks = tx
            .all(entity::putaway_task::Entity::find())
            .await
            .expect("put-away tasks");
        let done = |task: &&entity::putaway_task::Model| task.status == entity::PutAwayStatus::Done;
        let partly = |task: &&entity::putaway_task::Model| {
            task.status == entity::PutAwayStatus::Open && task.quantity_put_away > 0
        };
        assert_eq!(tasks.iter().filter(done).count(), 1, "{tasks:?}");
        assert_eq!(tasks.iter().filter(partly).count(), 1, "{tasks:?}");
        assert!(
            tasks.iter().filter(|t| t.quantity_put_away == 0).count() >= 5,
            "{tasks:?}"
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
            crate::support::invariants::ledger_mismatches(&handle)
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
    checks.finish().await;
}

/// `vaskem` on `database` with the audit keys taken from `key_file` only.
fn with_key_file(database: &TestDatabase, key_file: &std::path::Path, args: &[&str]) -> Output {
    command(database)
        .env_remove("VASKEM_AUDIT_KEY")
        .args(args)
        .arg("--audit-key-file")
        .arg(key_file)
        .output()
        .expect("run vaskem")
}

/// Rotation: `audit new-key` appends a key that signs from then on; a chain signed partly with the
/// old key verifies while the file still holds it, and breaks at the first old event once it goes.
async fn audit_keys_rotate_through_the_key_file(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let old = database.audit_key.clone();
    let dir = tempfile::tempdir().expect("dir");
    let key_file = dir.path().join("audit.key");
    std::fs::write(&key_file, format!("# the test key\n{}\n", old.to_base64())).expect("write");
    // Signed in-process with the old key: events 1 and 2.
    let (alpha, _) = database.organisation("Alpha").await;
    let org = alpha.to_string();

    let output = with_key_file(&database, &key_file, &["audit", "new-key"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let keys = vaskem::audit::keys::AuditKeys::load(&key_file).expect("key file");
    assert_eq!(keys.ids().len(), 2);
    let new_key = keys.signing().expect("signing key").clone();
    // The chain is signed partly with the new key from now on: the teardown verifies with both.
    database.verify_audit_with(new_key.clone());
    let new_id = new_key.id().to_owned();
    assert_ne!(new_id, old.id());
    assert!(String::from_utf8_lossy(&output.stdout).contains(&new_id));

    // Events 3 and 4, signed by the CLI with the new key.
    for action in ["deactivate", "activate"] {
        let output = with_key_file(&database, &key_file, &["org", action, "--org", &org]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let tx = vaskem::tenancy::TenantDb::for_operator(&database.db, alpha)
        .read()
        .await
        .expect("read");
    use sea_orm::{EntityTrait, QueryOrder};
    let signers: Vec<Option<String>> = tx
        .all(entity::audit_event::Entity::find().order_by_asc(entity::audit_event::Column::Seq))
        .await
        .expect("events")
        .into_iter()
        .map(|event| event.key_id)
        .collect();
    drop(tx);
    let old_id = Some(old.id().to_owned());
    assert_eq!(
        signers,
        [
            old_id.clone(),
            old_id,
            Some(new_id.clone()),
            Some(new_id.clone())
        ]
    );

    let verify = with_key_file(&database, &key_file, &["audit", "verify", "--org", &org]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains("intact: 4 events"));

    // The same two keys inline in VASKEM_AUDIT_KEY, the last signing, verify as well.
    let keys_text = std::fs::read_to_string(&key_file).expect("read");
    let inline: Vec<&str> = keys_text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .collect();
    let verify = command(&database)
        .env("VASKEM_AUDIT_KEY", inline.join(" "))
        .args(["audit", "verify", "--org", &org])
        .output()
        .expect("verify");
    assert!(verify.status.success());
    // Both a key file and VASKEM_AUDIT_KEY: refused rather than one silently chosen.
    let both = command(&database)
        .args(["audit", "verify", "--org", &org, "--audit-key-file"])
        .arg(&key_file)
        .output()
        .expect("verify");
    assert_eq!(both.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&both.stderr).contains("use one"));

    // Without the old key, the first event it signed is unverifiable.
    std::fs::write(&key_file, format!("{}\n", inline[1])).expect("write");
    let verify = with_key_file(&database, &key_file, &["audit", "verify", "--org", &org]);
    assert_eq!(
        verify.status.code(),
        Some(i32::from(vaskem::cli::BROKEN_CHAIN_EXIT))
    );
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains(&format!(
            "BROKEN at event 1: signed with unknown key {}",
            old.id()
        )),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// A bare machine needs no configuration: the first command that writes creates a private key
/// file in the working directory and says so; verifying without any key is an error, not a pass.
#[test]
fn first_write_creates_a_private_default_key_file() {
    let dir = tempfile::tempdir().expect("dir");
    let bare = |cwd: &std::path::Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vaskem"))
            .args(args)
            .current_dir(cwd)
            .env_remove("DATABASE_URL")
            .env_remove("VASKEM_AUDIT_KEY")
            .env_remove("VASKEM_AUDIT_KEY_FILE")
            .env("VASKEM_PASSWORD_ROUNDS", "1000")
            .env("VASKEM_ADMIN_PASSWORD", TEST_PASSWORD)
            .output()
            .expect("run vaskem")
    };
    let output = bare(
        dir.path(),
        &[
            "org",
            "create",
            "--name",
            "Eta",
            "--admin-email",
            "ops@eta.example",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let key_file = dir.path().join("vaskem-audit.key");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("vaskem-audit.key") && stderr.contains("Back this file up"),
        "{stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let org = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let verify = bare(dir.path(), &["audit", "verify", "--org", &org]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // Elsewhere, with the database but not the key: refused, and no key file is made up.
    let elsewhere = tempfile::tempdir().expect("dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vaskem.db").display()
    );
    let verify = bare(
        elsewhere.path(),
        &["audit", "verify", "--org", &org, "--database-url", &url],
    );
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("no audit key"));
    assert!(!elsewhere.path().join("vaskem-audit.key").exists());
    let key = key_file.to_string_lossy().into_owned();
    let verify = bare(
        elsewhere.path(),
        &[
            "audit",
            "verify",
            "--org",
            &org,
            "--database-url",
            &url,
            "--audit-key-file",
            &key,
        ],
    );
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// Runs `vaskem serve` over `url`, expecting it to refuse to start; returns what it said.
fn serve_refused(database: &TestDatabase, url: &str) -> String {
    let output = serve_command(database, url)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .output()
        .expect("run vaskem serve");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{stderr}");
    stderr
}

/// `vaskem serve` over the owner's (here a superuser's) URL refuses to start, naming the flag;
/// with `--allow-owner-connection` it starts and says this is for local use only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_serve_refuses_an_owner_connection() {
    let checks = crate::support::Checks::begin();
    let database = TestDatabase::new(Backend::Postgres).await;
    let stderr = serve_refused(&database, &database.url);
    assert!(stderr.contains("owner connection"), "{stderr}");
    assert!(stderr.contains("superuser"), "{stderr}");
    assert!(stderr.contains("--allow-owner-connection"), "{stderr}");

    let node = ServiceProcess::start_with(&database, &database.url, &["--allow-owner-connection"]);
    node.wait_ready().await;
    let log = node.log();
    assert!(log.contains("for local use only"), "{log}");
    checks.finish().await;
}

/// Production's shape: requests over the login role, migrations over the owner's URL. Without the
/// owner's URL, the login role refuses an unmigrated database instead of trying to migrate it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_serve_migrates_over_the_owner_url() {
    let checks = crate::support::Checks::begin();
    let database = TestDatabase::unmigrated(Backend::Postgres).await;
    let stderr = serve_refused(&database, &database.serving_url);
    assert!(stderr.contains("vaskem migrate"), "{stderr}");

    let node = ServiceProcess::start_with(
        &database,
        &database.serving_url,
        &["--migrate-database-url", &database.url],
    );
    node.wait_ready().await;
    let (_, body) = node
        .graphql(None, "{ __typename }", serde_json::json!({}))
        .await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    let log = node.log();
    assert!(!log.contains("owner connection"), "{log}");
    drop(node);

    // Migrated now: the login role alone serves.
    let node = ServiceProcess::start(&database);
    node.wait_ready().await;
    checks.finish().await;
}

/// Every operator bound is enforced where it is read: a value outside it stops `serve` before it
/// touches anything, naming the range `--help` and the README give.
#[test]
fn serve_refuses_flags_outside_their_bounds() {
    for (flag, value, range) in [
        ("--database-pool-size", "0", "1..=1000"),
        ("--max-connections", "0", "1..=100000"),
        ("--client-timeout-seconds", "301", "1..=300"),
        ("--max-recursive-depth", "1000", "8..=128"),
        ("--password-min-score", "5", "0..=4"),
        ("--login-max-failures-per-account", "0", "1..=1000"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_vaskem"))
            .args(["serve", flag, value])
            .env_remove("DATABASE_URL")
            .output()
            .expect("run vaskem");
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(range), "{flag} {value}: {stderr}");
    }
}

/// Without TLS flags `serve` says it speaks plain HTTP, for local use. Started as root it says so
/// too: the operator's cue to use the unprivileged user the Docker image and
/// `deploy/vaskem.service` run it as. As anyone else it says nothing of the kind.
async fn serve_warns_of_plain_http_and_of_running_as_root(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let node = ServiceProcess::start(&database);
    node.wait_ready().await;
    let log = node.log();
    assert!(
        log.contains("listening over plain HTTP, for local use"),
        "{log}"
    );
    let warned = log.contains("running as root");
    assert_eq!(
        warned,
        rustix::process::geteuid().is_root(),
        "the warning must appear exactly when the process is root:\n{log}"
    );
}
