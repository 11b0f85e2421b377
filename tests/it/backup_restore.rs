//! Restoring a backup as a new organisation (#13, point 7): a round trip keeps everything but
//! ids, names and the restore event; every bad file is refused and leaves no trace; restored
//! users are locked out until the operator resets a password; the ledger and the audit chain
//! verify afterwards.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use base64::Engine as _;
use ed25519_dalek::Signer as _;
use entity::TenantId;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use vaskem::audit::AuditRecord;
use vaskem::audit::keys::AuditKeys;
use vaskem::auth::password::PasswordHasher;
use vaskem::error::AppError;
use vaskem::service::backup::signing::{
    AuditHead, OrganisationHeader, TableDigest, signed_content,
};
use vaskem::service::backup::{
    self, BackupKey, NOT_RESTORED, RestoreError, RestoreSummary, RestoreTarget, VerifyProblem,
};
use vaskem::tenancy::TenantDb;

use crate::cli::command;
use crate::on_both_databases;
use crate::support::database::TEST_PASSWORD;
use crate::support::{Backend, TestApp, TestDatabase};

on_both_databases!(
    a_round_trip_keeps_everything_but_ids_names_and_the_restore_event,
    bad_backups_are_refused_and_leave_no_trace,
    restored_users_sign_in_only_after_an_operator_reset,
    restore_and_reset_password_commands,
);

const KEY_BYTES: [u8; 32] = [0x3c; 32];

fn test_key() -> BackupKey {
    BackupKey::from_bytes(KEY_BYTES)
}

/// An organisation filled by the demo's filler, with its admin's email.
async fn filled(database: &TestDatabase, name: &str) -> (TenantId, String) {
    let (tenant, email) = database.organisation(name).await;
    vaskem::service::demo::fill(&TenantDb::for_operator(&database.db, tenant))
        .await
        .expect("demo fill");
    (tenant, email)
}

async fn export(database: &TestDatabase, tenant: TenantId) -> Vec<u8> {
    let mut out = Vec::new();
    backup::export(
        &TenantDb::for_operator(&database.db, tenant),
        &test_key(),
        &mut out,
        &mut |_| {},
    )
    .await
    .expect("export");
    out
}

async fn restore(
    database: &TestDatabase,
    bytes: Vec<u8>,
    slug: &str,
) -> Result<RestoreSummary, RestoreError> {
    let audit_keys = AuditKeys::new(vec![database.audit_key.clone()]);
    backup::restore(
        &database.db,
        Cursor::new(bytes),
        &test_key().verifying_key(),
        Some(&audit_keys),
        RestoreTarget {
            name: "Restored Co".into(),
            slug: slug.into(),
        },
    )
    .await
}

fn fresh_slug() -> String {
    format!("restored-{}", &Uuid::new_v4().simple().to_string()[..8])
}

/// The tables of a backup, parsed.
fn tables(bytes: &[u8]) -> BTreeMap<String, Vec<Value>> {
    let document: Value = serde_json::from_slice(bytes).expect("JSON");
    document["tables"]
        .as_object()
        .expect("tables")
        .iter()
        .map(|(table, rows)| (table.clone(), rows.as_array().expect("rows").clone()))
        .collect()
}

/// `value` with every uuid string the map knows replaced by its new id.
fn remap(value: &Value, ids: &HashMap<Uuid, Uuid>) -> Value {
    match value {
        Value::String(text) => match text.parse::<Uuid>().ok().and_then(|id| ids.get(&id)) {
            Some(new) => Value::String(new.to_string()),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|item| remap(item, ids)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, item)| (key.clone(), remap(item, ids)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn sorted(rows: Vec<Value>) -> Vec<String> {
    let mut rows: Vec<String> = rows.iter().map(Value::to_string).collect();
    rows.sort();
    rows
}

/// How many rows the whole database holds in a few tables, past the tenant wall: a refused
/// restore must leave these unchanged.
async fn footprint(database: &TestDatabase) -> Vec<i64> {
    let raw = database.raw().await;
    let mut counts = Vec::new();
    for table in [
        "organisations",
        "users",
        "audit_events",
        "stock_movements",
        "products",
    ] {
        let row = raw
            .query_one_raw(Statement::from_string(
                raw.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("row");
        counts.push(row.try_get::<i64>("", "n").expect("n"));
    }
    counts
}

/// A session (a sign-in) and a backup request in `tenant`, so the tables a restore leaves out
/// have rows to leave out.
async fn with_session_and_backup(app: &TestApp, tenant: TenantId, email: &str) {
    app.login(email, TEST_PASSWORD).await;
    let handle = TenantDb::for_operator(&app.database.db, tenant);
    let mut tx = handle.write().await.expect("write");
    let user = tx
        .one(
            entity::user::Entity::find()
                .filter(entity::user::Column::Email.eq(email.to_lowercase())),
        )
        .await
        .expect("user")
        .expect("the admin");
    let id = entity::BackupId::generate();
    let now = chrono::Utc::now();
    tx.insert(entity::backup::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant),
        requested_by: Set(user.id),
        requested_at: Set(now),
        status: Set(entity::BackupStatus::Failed),
        expires_at: Set(now),
        finished_at: Set(Some(now)),
        rows: Set(None),
        byte_size: Set(None),
        sha256: Set(None),
        failure: Set(Some("test".into())),
        handle_sha256: Set("0".repeat(64)),
    })
    .await
    .expect("backup row");
    tx.record(AuditRecord::new("backup.request", "backup", id))
        .await
        .expect("event");
    tx.commit().await.expect("commit");
}

async fn a_round_trip_keeps_everything_but_ids_names_and_the_restore_event(backend: Backend) {
    let app = TestApp::start(backend).await;
    let database = &app.database;
    let (source, email) = filled(database, "Round Trip").await;
    with_session_and_backup(&app, source, &email).await;
    let a = export(database, source).await;
    let slug = fresh_slug();
    let summary = restore(database, a.clone(), &slug).await.expect("restore");
    let restored = summary.organisation_id;
    assert_ne!(restored, source);
    assert_eq!(summary.slug, slug);
    let b = export(database, restored).await;

    let (a_tables, b_tables) = (tables(&a), tables(&b));
    assert_eq!(
        a_tables.keys().collect::<Vec<_>>(),
        b_tables.keys().collect::<Vec<_>>()
    );
    // Every id is fresh, and each old id always became the same new one.
    let ids = &summary.ids;
    assert_eq!(ids.get(&source.0), Some(&restored.0));
    let new_ids: std::collections::HashSet<&Uuid> = ids.values().collect();
    assert_eq!(new_ids.len(), ids.len(), "two old ids became one new id");
    assert!(ids.iter().all(|(old, new)| old != new));

    let mut empty = Vec::new();
    for (table, a_rows) in &a_tables {
        let b_rows = &b_tables[table];
        if a_rows.is_empty() {
            empty.push(table.clone());
        }
        if NOT_RESTORED.iter().any(|skip| skip.table == table) {
            assert!(
                !a_rows.is_empty(),
                "{table}: the source holds rows to leave out"
            );
            assert!(b_rows.is_empty(), "{table} is not restored");
            assert_eq!(summary.left_out.get(table), Some(&(a_rows.len() as u64)));
            continue;
        }
        let mut expected: Vec<Value> = a_rows.iter().map(|row| remap(row, ids)).collect();
        let mut found = b_rows.clone();
        match table.as_str() {
            "organisations" => {
                expected[0]["name"] = json!("Restored Co");
                expected[0]["slug"] = json!(slug);
            }
            "users" => {
                for row in &mut expected {
                    row["is_active"] = json!(false);
                    row["must_change_password"] = json!(true);
                }
            }
            "audit_events" => {
                // One more: the restore's own event, last.
                let last = found.pop().expect("the restore event");
                assert_eq!(last["action"], "organisation.restore");
                assert_eq!(last["seq"], json!(a_rows.len() + 1));
                let detail: Value =
                    serde_json::from_str(last["detail"].as_str().expect("detail")).expect("json");
                let after = &detail["after"];
                assert_eq!(after["source"]["id"], json!(source.to_string()));
                assert_eq!(after["fileSha256"], json!(hex::encode(Sha256::digest(&a))));
                assert_eq!(
                    after["rows"]["stock_movements"],
                    json!(a_tables["stock_movements"].len())
                );
                // Re-chained: the links and HMACs are this chain's, the rest is the history.
                for row in expected.iter_mut().chain(found.iter_mut()) {
                    for field in ["hash", "prev_hash", "key_id"] {
                        row.as_object_mut().expect("event").remove(field);
                    }
                }
            }
            "audit_heads" => {
                assert_eq!(
                    found[0]["last_seq"],
                    json!(a_rows[0]["last_seq"].as_i64().expect("seq") + 1)
                );
                for row in expected.iter_mut().chain(found.iter_mut()) {
                    row.as_object_mut().expect("head").remove("last_hash");
                    row.as_object_mut().expect("head").remove("last_seq");
                }
            }
            _ => {}
        }
        assert_eq!(sorted(expected), sorted(found), "table {table}");
    }
    // The demo's filler reaches every table but these (none of its work makes them).
    assert!(
        !a_tables["stock_movements"].is_empty() && !a_tables["audit_events"].is_empty(),
        "the source holds data"
    );
    eprintln!("tables the demo left empty: {empty:?}");

    // The ledger and the chain verify on the restored organisation.
    let handle = TenantDb::for_operator(&database.db, restored);
    assert!(
        vaskem::service::ledger::verify(&handle)
            .await
            .expect("ledger")
            .is_empty()
    );
    let chain = vaskem::audit::verify_chain(&handle).await.expect("chain");
    assert!(chain.is_intact(), "{chain:?}");
    assert_eq!(
        chain.events_checked,
        a_tables["audit_events"].len() as u64 + 1
    );

    // The same file again under the same slug: refused, nothing written.
    let before = footprint(database).await;
    match restore(database, a, &slug).await {
        Err(RestoreError::Input(AppError::Conflict(message))) => {
            assert!(message.contains(&slug), "{message}")
        }
        other => panic!("a taken slug must be refused: {other:?}"),
    }
    assert_eq!(footprint(database).await, before);
}

/// The file as lines (the export writes a row per line).
fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .expect("utf-8")
        .split_inclusive('\n')
        .map(str::to_owned)
        .collect()
}

/// `bytes` with `edit` applied to the first row of `table`, then the manifest recomputed and
/// re-signed with the test key: only checks beyond the signature can catch the edit.
fn edited_and_resigned(bytes: &[u8], table: &str, edit: impl Fn(&mut Value)) -> Vec<u8> {
    let mut lines = lines(bytes);
    let start = lines
        .iter()
        .position(|line| line.trim_end() == format!("\"{table}\":["))
        .expect("table")
        + 1;
    let line = &lines[start];
    let comma = line.trim_end().ends_with(',');
    let mut row: Value = serde_json::from_str(line.trim_end().trim_end_matches(',')).expect("row");
    edit(&mut row);
    lines[start] = format!("{}{}\n", row, if comma { "," } else { "" });

    // Recompute every table's digest from the lines, as the exporter would have.
    let document: Value = serde_json::from_slice(bytes).expect("JSON");
    let mut digests = Vec::new();
    let mut current: Option<(String, Sha256, u64)> = None;
    for line in &lines[2..] {
        let text = line.trim_end();
        if let Some(name) = text.strip_suffix(":[") {
            current = Some((serde_json::from_str(name).expect("name"), Sha256::new(), 0));
        } else if text == "]" || text == "]," {
            let (name, sha, rows) = current.take().expect("open table");
            digests.push(TableDigest {
                table: name,
                rows,
                sha256: hex::encode(sha.finalize()),
            });
        } else if let Some((_, sha, rows)) = current.as_mut() {
            sha.update(text.trim_end_matches(',').as_bytes());
            sha.update(b"\n");
            *rows += 1;
        }
    }
    let organisation: OrganisationHeader =
        serde_json::from_value(document["organisation"].clone()).expect("header");
    let head: AuditHead =
        serde_json::from_value(document["manifest"]["auditHead"].clone()).expect("head");
    let exported_at = document["exportedAt"].as_str().expect("time");
    let content = signed_content(1, exported_at, &organisation, &digests, &head);
    let signing = ed25519_dalek::SigningKey::from_bytes(&KEY_BYTES);
    let b64 = base64::engine::general_purpose::STANDARD;
    let manifest = json!({
        "tables": digests,
        "auditHead": head,
        "signature": {
            "algorithm": "Ed25519",
            "publicKey": test_key().public_key_base64(),
            "value": b64.encode(signing.sign(&content).to_bytes()),
        },
    });
    let at = lines
        .iter()
        .position(|line| line.starts_with("\"manifest\":"))
        .expect("manifest");
    lines[at] = format!("\"manifest\":{manifest}}}\n");
    lines.concat().into_bytes()
}

async fn bad_backups_are_refused_and_leave_no_trace(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (source, _) = filled(&database, "Bad Files").await;
    let good = export(&database, source).await;

    let mut flipped = good.clone();
    let at = lines(&good)
        .iter()
        .take_while(|line| !line.starts_with("\"products\""))
        .map(String::len)
        .sum::<usize>()
        + 40;
    flipped[at] ^= 0x01;
    let truncated = good[..good.len() / 2].to_vec();
    let version_2 = String::from_utf8(good.clone())
        .expect("utf-8")
        .replacen("\"version\":1", "\"version\":2", 1)
        .into_bytes();
    // A movement of a product the backup does not hold, signed as if genuine.
    let dangling = edited_and_resigned(&good, "stock_movements", |row| {
        row["product_id"] = json!(Uuid::now_v7().to_string());
    });
    // The same edit, unsigned: the signature check catches it first.
    let unsigned = {
        let mut lines = lines(&dangling);
        let at = lines.len() - 1;
        lines[at] = good_manifest(&good);
        lines.concat().into_bytes()
    };

    let before = footprint(&database).await;
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "flipped byte",
            flipped,
            Box::new(|err| {
                matches!(
                    err,
                    RestoreError::Refused(
                        VerifyProblem::TableHash { .. } | VerifyProblem::Malformed(_)
                    )
                )
            }),
        ),
        (
            "truncated",
            truncated,
            Box::new(|err| matches!(err, RestoreError::Refused(VerifyProblem::Truncated))),
        ),
        (
            "version 2",
            version_2,
            Box::new(|err| {
                matches!(
                    err,
                    RestoreError::Refused(VerifyProblem::UnsupportedVersion(_))
                )
            }),
        ),
        (
            "edited without re-signing",
            unsigned,
            Box::new(|err| matches!(err, RestoreError::Refused(VerifyProblem::TableHash { .. }))),
        ),
        (
            "dangling reference",
            dangling,
            Box::new(|err| {
                matches!(err, RestoreError::Dangling { table, column, .. }
                    if table == "stock_movements" && *column == "product_id")
            }),
        ),
    ];
    for (case, bytes, expected) in cases {
        let err = restore(&database, bytes, &fresh_slug())
            .await
            .expect_err(case);
        assert!(expected(&err), "{case}: {err}");
        assert!(
            err.to_string().starts_with("the backup is refused"),
            "{case}: {err}"
        );
        assert_eq!(footprint(&database).await, before, "{case} left a trace");
    }

    // Signed by another key.
    let audit_keys = AuditKeys::new(vec![database.audit_key.clone()]);
    let other = BackupKey::from_bytes([0x11; 32]);
    let err = backup::restore(
        &database.db,
        Cursor::new(good.clone()),
        &other.verifying_key(),
        Some(&audit_keys),
        RestoreTarget {
            name: "Wrong Key".into(),
            slug: fresh_slug(),
        },
    )
    .await
    .expect_err("wrong key");
    assert!(
        matches!(err, RestoreError::Refused(VerifyProblem::WrongKey { .. })),
        "{err}"
    );
    // A bad slug, before anything is read.
    let err = restore(&database, good, "Not A Slug!")
        .await
        .expect_err("slug");
    assert!(
        matches!(err, RestoreError::Input(AppError::BadUserInput { .. })),
        "{err}"
    );
    assert_eq!(footprint(&database).await, before);
}

/// What a bad file's error must be.
type Expect = Box<dyn Fn(&RestoreError) -> bool>;

/// The last line of `bytes` (its manifest).
fn good_manifest(bytes: &[u8]) -> String {
    lines(bytes).pop().expect("manifest")
}

async fn restored_users_sign_in_only_after_an_operator_reset(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (source, email) = filled(&app.database, "Locked Out").await;
    let bytes = export(&app.database, source).await;
    let slug = fresh_slug();
    let summary = restore(&app.database, bytes, &slug).await.expect("restore");
    assert!(summary.users.contains(&email), "{:?}", summary.users);

    // Emails are unique across organisations: the source's user must go first. Here the
    // restored user signs in to the restored organisation by its slug.
    let refused = app.try_login_to(&slug, &email, TEST_PASSWORD).await;
    assert!(
        refused.is_err(),
        "a restored user signed in with the old password"
    );

    let handle = TenantDb::for_operator(&app.database.db, summary.organisation_id);
    let (user, password) = vaskem::service::users::operator_reset_password(
        &handle,
        &PasswordHasher::with_rounds(1000),
        &email,
    )
    .await
    .expect("reset");
    assert!(user.is_active && user.must_change_password);
    app.try_login_to(&slug, &email, &password)
        .await
        .expect("the reset user signs in");
}

async fn restore_and_reset_password_commands(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (source, email) = filled(&database, "Cli Restore").await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("a.backup.json");
    std::fs::write(&file, export(&database, source).await).expect("write");
    let key_file = dir.path().join("backup.key");
    std::fs::write(
        &key_file,
        format!(
            "{}\n",
            base64::engine::general_purpose::STANDARD.encode(KEY_BYTES)
        ),
    )
    .expect("key");
    let run = |args: &[&str]| {
        let output = command(&database)
            .args(args)
            .current_dir(dir.path())
            .env("VASKEM_BACKUP_KEY_FILE", &key_file)
            .output()
            .expect("vaskem");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let slug = fresh_slug();
    let (code, id, stderr) = run(&[
        "backup",
        "restore",
        file.to_str().expect("path"),
        "--name",
        "Cli Restored",
        "--slug",
        &slug,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("vaskem user reset-password --org"),
        "{stderr}"
    );
    for verify in [["stock", "verify"], ["audit", "verify"]] {
        let (code, out, stderr) = run(&[verify[0], verify[1], "--org", &id]);
        assert_eq!(code, Some(0), "{verify:?}: {out} {stderr}");
    }
    let (code, password, stderr) =
        run(&["user", "reset-password", "--org", &id, "--email", &email]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(password.len(), 24);
    // The slug is taken now: refused, exit code non-zero.
    let (code, _, _) = run(&[
        "backup",
        "restore",
        file.to_str().expect("path"),
        "--name",
        "Again",
        "--slug",
        &slug,
    ]);
    assert_ne!(code, Some(0));
    // A truncated file: refused, exit 3.
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..bytes.len() / 3]).expect("write");
    let (code, out, _) = run(&[
        "backup",
        "restore",
        file.to_str().expect("path"),
        "--name",
        "Cut",
        "--slug",
        &fresh_slug(),
    ]);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("REFUSED"), "{out}");
}
