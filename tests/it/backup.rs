//! Backups (#13): a real export holds every tenant table of the catalogue and nothing secret,
//! reads one snapshot while stock moves, verifies offline, and every kind of tampering is named.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use entity::TenantId;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vaskem::audit::keys::AuditKeys;
use vaskem::service::backup::{self, BackupKey, VerifyProblem};
use vaskem::tenancy::TenantDb;

use crate::cli::command;
use crate::on_both_databases;
use crate::support::database::TEST_PASSWORD;
use crate::support::{Backend, TestApp, TestDatabase};
use crate::tenancy::tenant_tables_in_catalogue;

on_both_databases!(
    a_real_backup_holds_every_tenant_table_and_verifies,
    a_backup_holds_no_secret,
    tampered_backups_are_refused_naming_the_first_problem,
    a_backup_taken_while_stock_moves_balances,
    backup_commands_export_verify_and_print_the_public_key,
    a_backup_runs_as_the_service_role,
);

/// A signing key of fixed bytes, so a test can search a backup for them.
const KEY_BYTES: [u8; 32] = [0x5a; 32];

fn test_key() -> BackupKey {
    BackupKey::from_bytes(KEY_BYTES)
}

/// `tenant`'s backup, exported through the library as the CLI and the mutation do.
async fn backup_of(database: &TestDatabase, tenant: TenantId, key: &BackupKey) -> Vec<u8> {
    let handle = TenantDb::for_operator(&database.db, tenant);
    let mut out = Vec::new();
    backup::export(&handle, key, &mut out, &mut |_| {})
        .await
        .expect("export");
    out
}

fn verify(
    database: &TestDatabase,
    bytes: &[u8],
    key: &BackupKey,
) -> Result<backup::VerifyReport, VerifyProblem> {
    let audit_keys = AuditKeys::new(vec![database.audit_key.clone()]);
    backup::verify(bytes, &key.verifying_key(), Some(&audit_keys))
}

async fn a_real_backup_holds_every_tenant_table_and_verifies(backend: Backend) {
    let app = TestApp::start(backend).await;
    let setup = app.organisation_with_stock_setup("Backup Co").await;
    app.adjust(&setup.session, &setup.product, &setup.a, 7)
        .await;
    // Another organisation's rows must stay out of it.
    let other = app.organisation_with_stock_setup("Other Co").await;
    app.adjust(&other.session, &other.product, &other.a, 3)
        .await;

    let key = test_key();
    let handle = TenantDb::for_operator(&app.database.db, setup.tenant);
    let mut bytes = Vec::new();
    let mut progress = Vec::new();
    let summary = backup::export(&handle, &key, &mut bytes, &mut |rows| progress.push(rows))
        .await
        .expect("export");
    // What a download handle will show: the file's size and SHA-256.
    assert_eq!(summary.bytes, bytes.len() as u64);
    assert_eq!(summary.sha256, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(progress.last(), Some(&summary.rows));
    let document: Value = serde_json::from_slice(&bytes).expect("a backup is JSON");
    assert_eq!(document["format"], "vaskem-backup");
    assert_eq!(document["version"], 1);
    assert_eq!(document["organisation"]["id"], setup.tenant.to_string());

    // Complete by construction: the catalogue's tenant tables, each in the file.
    let tables = document["tables"].as_object().expect("tables");
    for table in tenant_tables_in_catalogue(&app.database).await {
        assert!(
            tables.get(&table).is_some_and(Value::is_array),
            "table {table} is missing from a real backup"
        );
    }
    let tenant = setup.tenant.to_string();
    for (table, rows) in tables {
        for row in rows.as_array().expect("rows") {
            let owner = if table == "organisations" {
                &row["id"]
            } else {
                &row["tenant_id"]
            };
            assert_eq!(owner, &json!(tenant), "{table} holds another tenant's row");
        }
    }
    let events = tables["audit_events"].as_array().expect("events");
    assert_eq!(
        events.len() as u64,
        app.database.audit_event_count(setup.tenant).await
    );
    let seqs: Vec<i64> = events
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
    assert!(
        events
            .iter()
            .all(|e| e["hash"].is_string() && e["prev_hash"].is_string())
    );
    assert_eq!(tables["stock_movements"].as_array().map(Vec::len), Some(1));
    // Booleans and ids read alike from either engine.
    assert_eq!(tables["organisations"][0]["is_active"], true);
    assert_eq!(tables["stock_balances"][0]["on_hand"], 7);

    let report = verify(&app.database, &bytes, &key).expect("a fresh backup verifies");
    assert!(report.audit_hashes_recomputed);
    assert_eq!(report.audit_head.seq, events.len() as i64);
    assert_eq!(
        document["manifest"]["auditHead"]["seq"],
        events.len() as i64
    );
    let rows: usize = tables
        .values()
        .map(|rows| rows.as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(report.rows, rows as u64);
    assert_eq!(summary.rows, rows as u64);
    // Without the audit key the links are still checked.
    let unkeyed = backup::verify(&bytes[..], &key.verifying_key(), None).expect("verifies");
    assert!(!unkeyed.audit_hashes_recomputed);
}

async fn a_backup_holds_no_secret(backend: Backend) {
    let app = TestApp::start(backend).await;
    let member = app.member_of_new_organisation("Secretive").await;
    // A second live session, so the sessions table has more than the fixture's.
    let second = app.login(&member.email, TEST_PASSWORD).await;
    let key = test_key();
    let bytes = backup_of(&app.database, member.tenant, &key).await;
    let text = String::from_utf8(bytes).expect("utf8");

    let raw = app.database.raw().await;
    let mut secrets = Vec::new();
    for sql in [
        "SELECT token_hash AS secret FROM sessions",
        "SELECT password_hash AS secret FROM users",
    ] {
        let rows = raw
            .query_all_raw(Statement::from_string(raw.get_database_backend(), sql))
            .await
            .expect("secrets");
        secrets.extend(
            rows.iter()
                .map(|row| row.try_get::<String>("", "secret").expect("text")),
        );
    }
    assert!(
        secrets.len() >= 3,
        "a password hash and two sessions at least"
    );
    for session in [&member.session, &second] {
        // The cookie is `<organisation>.<token>`: the token is the secret.
        let token = session.token.rsplit('.').next().expect("token");
        secrets.push(token.to_owned());
    }
    let standard = base64::engine::general_purpose::STANDARD;
    secrets.push(standard.encode(KEY_BYTES));
    secrets.push(hex::encode(KEY_BYTES));
    secrets.push(app.database.audit_key.to_base64());
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(
            !text.contains(secret.as_str()),
            "the backup holds a secret: {secret}"
        );
    }

    // The sessions are there, without their token hash; the users without their password hash.
    let document: Value = serde_json::from_str(&text).expect("json");
    let sessions = document["tables"]["sessions"].as_array().expect("sessions");
    assert!(sessions.len() >= 2);
    assert!(
        sessions
            .iter()
            .all(|s| s.get("token_hash").is_none() && s["user_id"].is_string())
    );
    let users = document["tables"]["users"].as_array().expect("users");
    assert!(
        users
            .iter()
            .all(|u| u.get("password_hash").is_none() && u["email"].is_string())
    );
}

/// The lines of `bytes`, to edit a backup the way an attacker (or a bad disk) would.
fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .expect("utf8")
        .split('\n')
        .map(str::to_owned)
        .collect()
}

/// The index of the first row line of `table`.
fn first_row(lines: &[String], table: &str) -> usize {
    lines
        .iter()
        .position(|line| {
            line == &format!("{}:[", json!(table)) || line.ends_with(&format!("{}:[", json!(table)))
        })
        .map(|at| at + 1)
        .unwrap_or_else(|| panic!("no table {table}"))
}

async fn tampered_backups_are_refused_naming_the_first_problem(backend: Backend) {
    let app = TestApp::start(backend).await;
    let setup = app.organisation_with_stock_setup("Tamper Co").await;
    for change in [5, 6, 7] {
        app.adjust(&setup.session, &setup.product, &setup.a, change)
            .await;
    }
    let key = test_key();
    let bytes = backup_of(&app.database, setup.tenant, &key).await;
    verify(&app.database, &bytes, &key).expect("the original verifies");
    let original = lines(&bytes);
    let join = |lines: &[String]| lines.join("\n").into_bytes();

    // One byte inside a row: a hex digit of the first movement's id.
    let mut flipped = original.clone();
    let at = first_row(&flipped, "stock_movements");
    let row = &flipped[at];
    let digit = row.find("\"id\":\"").expect("id") + 6;
    let replacement = if &row[digit..=digit] == "0" { "1" } else { "0" };
    flipped[at].replace_range(digit..=digit, replacement);
    assert_eq!(
        verify(&app.database, &join(&flipped), &key).map(|_| ()),
        Err(VerifyProblem::TableHash {
            table: "stock_movements".into()
        })
    );

    // A row removed (not the last, so the JSON stays well formed).
    let mut removed = original.clone();
    removed.remove(first_row(&removed, "stock_movements"));
    assert_eq!(
        verify(&app.database, &join(&removed), &key).map(|_| ()),
        Err(VerifyProblem::RowCount {
            table: "stock_movements".into(),
            in_file: 2,
            in_manifest: 3
        })
    );

    // Truncated anywhere.
    for keep in [bytes.len() / 3, bytes.len() - 3] {
        assert_eq!(
            verify(&app.database, &bytes[..keep], &key).map(|_| ()),
            Err(VerifyProblem::Truncated),
            "cut at {keep}"
        );
    }

    // Another version.
    let text = String::from_utf8(bytes.clone()).expect("utf8");
    let versioned = text.replacen("\"version\":1,", "\"version\":2,", 1);
    assert_eq!(
        verify(&app.database, versioned.as_bytes(), &key).map(|_| ()),
        Err(VerifyProblem::UnsupportedVersion("2".into()))
    );

    // The wrong public key.
    let other = BackupKey::from_bytes([0x17; 32]);
    assert!(matches!(
        backup::verify(&bytes[..], &other.verifying_key(), None),
        Err(VerifyProblem::WrongKey { .. })
    ));

    // A header changed after signing.
    let renamed = text.replacen("\"name\":\"Tamper Co\"", "\"name\":\"Tampered\"", 1);
    assert_ne!(renamed, text);
    assert_eq!(
        verify(&app.database, renamed.as_bytes(), &key).map(|_| ()),
        Err(VerifyProblem::BadSignature)
    );

    // Two audit events swapped: the chain is named before any table hash.
    let mut reordered = original.clone();
    let at = first_row(&reordered, "audit_events");
    assert!(reordered[at].ends_with(',') && reordered[at + 1].ends_with(','));
    reordered.swap(at, at + 1);
    match verify(&app.database, &join(&reordered), &key) {
        Err(VerifyProblem::AuditChain { seq: 1, why }) => {
            assert_eq!(why, "expected event 1, found event 2");
        }
        other => panic!("a reordered chain: {other:?}"),
    }

    // An event's contents changed and its table hash "fixed" is still caught by its HMAC, given
    // the audit key; here the table hash is not fixed, so without the key the table is named.
    let mut edited = original.clone();
    let at = first_row(&edited, "audit_events") + 1;
    edited[at] = edited[at].replacen("\"outcome\":\"success\"", "\"outcome\":\"failure\"", 1);
    match verify(&app.database, &join(&edited), &key) {
        Err(VerifyProblem::AuditChain { seq: 2, why }) => {
            assert_eq!(why, "hash does not match the event's contents");
        }
        other => panic!("an edited event: {other:?}"),
    }
    assert_eq!(
        backup::verify(&join(&edited)[..], &key.verifying_key(), None).map(|_| ()),
        Err(VerifyProblem::TableHash {
            table: "audit_events".into()
        })
    );
}

/// What the balances in a backup must be: on hand, the sum of the movements in the file;
/// reserved, what its open allocations hold (picked ones where they were staged), as
/// `service::ledger::verify` computes them from the database.
fn ledger_mismatches(document: &Value) -> Vec<String> {
    type Key = (String, String, String);
    let nil = uuid::Uuid::nil().to_string();
    let text = |value: &Value| value.as_str().map_or_else(|| nil.clone(), str::to_owned);
    let mut on_hand: BTreeMap<Key, i64> = BTreeMap::new();
    for movement in document["tables"]["stock_movements"]
        .as_array()
        .expect("movements")
    {
        let quantity = movement["quantity"].as_i64().expect("quantity");
        for (column, sign) in [("to_location_id", 1), ("from_location_id", -1)] {
            if movement[column].is_string() {
                let key = (
                    text(&movement["product_id"]),
                    text(&movement[column]),
                    text(&movement["lot_id"]),
                );
                *on_hand.entry(key).or_default() += sign * quantity;
            }
        }
    }
    let mut reserved: BTreeMap<Key, i64> = BTreeMap::new();
    for held in document["tables"]["allocations"]
        .as_array()
        .expect("allocations")
    {
        let (at, quantity) = match held["status"].as_str() {
            Some("open") => (&held["location_id"], &held["quantity"]),
            Some("picked") => (&held["staged_location_id"], &held["quantity_picked"]),
            _ => continue,
        };
        let key = (text(&held["product_id"]), text(at), text(&held["lot_id"]));
        *reserved.entry(key).or_default() += quantity.as_i64().unwrap_or(0);
    }
    let mut mismatches = Vec::new();
    for balance in document["tables"]["stock_balances"]
        .as_array()
        .expect("balances")
    {
        let key = (
            text(&balance["product_id"]),
            text(&balance["location_id"]),
            text(&balance["lot_key"]),
        );
        let moved = on_hand.remove(&key).unwrap_or(0);
        if balance["on_hand"].as_i64() != Some(moved) {
            mismatches.push(format!(
                "{key:?}: on hand {} vs movements {moved}",
                balance["on_hand"]
            ));
        }
        let held = reserved.remove(&key).unwrap_or(0);
        if balance["reserved"].as_i64() != Some(held) {
            mismatches.push(format!(
                "{key:?}: reserved {} vs allocations {held}",
                balance["reserved"]
            ));
        }
    }
    mismatches.extend(
        on_hand
            .into_iter()
            .filter(|(_, total)| *total != 0)
            .map(|(key, total)| format!("{key:?}: no balance for movements totalling {total}")),
    );
    mismatches
}

/// Stock moves (transfers and adjustments, each a transaction touching a movement and two
/// balances) while backups are taken: every backup still balances, because it reads one
/// snapshot. With READ COMMITTED on PostgreSQL a backup reading `stock_balances` after
/// `stock_movements` sees balances that moved after the movements it holds.
async fn a_backup_taken_while_stock_moves_balances(backend: Backend) {
    let app = Arc::new(TestApp::start(backend).await);
    let setup = Arc::new(app.organisation_with_stock_setup("Busy Co").await);
    app.adjust(&setup.session, &setup.product, &setup.a, 1000)
        .await;

    let writer = {
        let (app, setup) = (app.clone(), setup.clone());
        tokio::spawn(async move {
            for round in 0..60 {
                let (from, to) = if round % 2 == 0 {
                    (&setup.a, &setup.b)
                } else {
                    (&setup.b, &setup.a)
                };
                app.ok(
                    &setup.session,
                    "mutation ($i: TransferStockInput!) { transferStock(input: $i) { userErrors { field message } } }",
                    json!({ "i": { "productId": setup.product, "fromLocationId": from, "toLocationId": to, "quantity": 3 } }),
                )
                .await;
                app.adjust(&setup.session, &setup.product, &setup.picking, 1)
                    .await;
            }
        })
    };
    let key = test_key();
    let mut movement_counts = Vec::new();
    while !writer.is_finished() {
        let bytes = backup_of(&app.database, setup.tenant, &key).await;
        let document: Value = serde_json::from_slice(&bytes).expect("json");
        let mismatches = ledger_mismatches(&document);
        assert!(
            mismatches.is_empty(),
            "a backup taken while stock moved: {mismatches:?}"
        );
        verify(&app.database, &bytes, &key).expect("verifies");
        movement_counts.push(
            document["tables"]["stock_movements"]
                .as_array()
                .map_or(0, Vec::len),
        );
    }
    writer.await.expect("writer");
    movement_counts.dedup();
    assert!(
        movement_counts.len() >= 2,
        "the backups ran while the writes did: {movement_counts:?}"
    );
    let last = backup_of(&app.database, setup.tenant, &key).await;
    let document: Value = serde_json::from_slice(&last).expect("json");
    assert_eq!(ledger_mismatches(&document), Vec::<String>::new());
    assert_eq!(
        document["tables"]["stock_movements"]
            .as_array()
            .map(Vec::len),
        Some(1 + 60 * 2)
    );
}

async fn backup_commands_export_verify_and_print_the_public_key(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (tenant, _) = database.organisation("Cli Backup").await;
    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str]| {
        command(&database)
            .args(args)
            .current_dir(dir.path())
            .env_remove("VASKEM_BACKUP_KEY_FILE")
            .output()
            .expect("vaskem")
    };
    let out = dir.path().join("cli.backup.json");
    let out_arg = out.to_str().expect("path");

    // The first use creates the key file, privately, and says so.
    let export = run(&[
        "backup",
        "export",
        "--org",
        &tenant.to_string(),
        "--out",
        out_arg,
    ]);
    let stderr = String::from_utf8_lossy(&export.stderr);
    assert!(export.status.success(), "{stderr}");
    assert!(stderr.contains("created a new one"), "{stderr}");
    assert!(
        !stderr.contains("rows/s"),
        "no progress off a terminal: {stderr}"
    );
    assert!(String::from_utf8_lossy(&export.stdout).contains("wrote "));
    let key_file = dir.path().join("vaskem-backup.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [&key_file, &out] {
            let mode = std::fs::metadata(file).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names.len(), 2, "no partial file is left: {names:?}");

    let public = run(&["backup", "public-key"]);
    assert!(public.status.success());
    let key = BackupKey::load(&key_file).expect("key");
    assert_eq!(
        String::from_utf8_lossy(&public.stdout).trim(),
        key.public_key_base64()
    );

    let verified = run(&["backup", "verify", out_arg]);
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{stdout}");
    assert!(stdout.contains("backup verified"), "{stdout}");
    assert!(
        stdout.contains("HMACs checked with the audit key"),
        "{stdout}"
    );

    let other = BackupKey::from_bytes([3; 32]).public_key_base64();
    let refused = run(&["backup", "verify", out_arg, "--public-key", &other]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("not by the expected key"));

    let bytes = std::fs::read(&out).expect("backup");
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let refused = run(&["backup", "verify", cut.to_str().expect("path")]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("truncated"));

    // An export that cannot finish leaves nothing under the name.
    let missing = dir.path().join("no-such-dir").join("x.json");
    let failed = run(&[
        "backup",
        "export",
        "--org",
        &tenant.to_string(),
        "--out",
        missing.to_str().expect("path"),
    ]);
    assert!(!failed.status.success());
    assert!(!missing.exists());
    let unknown = run(&[
        "backup",
        "export",
        "--org",
        &uuid::Uuid::new_v4().to_string(),
        "--out",
        dir.path().join("none.json").to_str().expect("path"),
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no organisation"));
    assert!(!dir.path().join("none.json").exists());
}

/// The `exportBackup` mutation will export through a signed-in user's handle, as the service
/// role that owns nothing (on PostgreSQL, under row-level security): it reads every table there
/// too, and the same rows as the operator's handle.
async fn a_backup_runs_as_the_service_role(backend: Backend) {
    let app = TestApp::start(backend).await;
    let member = app.member_of_new_organisation("Service Role Co").await;
    app.member_of_new_organisation("Neighbour").await;
    let raw = app.database.raw().await;
    let user = raw
        .query_one_raw(Statement::from_sql_and_values(
            raw.get_database_backend(),
            "SELECT id FROM users WHERE email = $1",
            [member.email.clone().into()],
        ))
        .await
        .expect("user")
        .expect("a user")
        .try_get::<uuid::Uuid>("", "id")
        .expect("id");
    let handle = TenantDb::for_user(
        &app.database.serving,
        member.tenant,
        entity::UserId(user),
        member.email.clone(),
        vaskem::tenancy::RequestOrigin::default(),
    );
    let key = test_key();
    let mut as_service = Vec::new();
    backup::export(&handle, &key, &mut as_service, &mut |_| {})
        .await
        .expect("export as the service role");
    let as_operator = backup_of(&app.database, member.tenant, &key).await;
    let tables = |bytes: &[u8]| {
        let document: Value = serde_json::from_slice(bytes).expect("json");
        document["tables"].clone()
    };
    assert_eq!(tables(&as_service), tables(&as_operator));
    verify(&app.database, &as_service, &key).expect("verifies");
}
