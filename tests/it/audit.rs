//! The audit log: append-only in the database, written in the change's own transaction, chained.

use entity::{TenantId, audit_event, audit_head, organisation};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vaskem::audit::keys::AuditKey;
use vaskem::audit::{AuditRecord, GENESIS_HASH, verify_chain};
use vaskem::service::organisations;
use vaskem::tenancy::TenantDb;

use crate::on_both_databases;
use crate::support::{Backend, Invariant, TestDatabase};

on_both_databases!(
    database_refuses_update_and_delete,
    committed_change_has_its_event,
    rolled_back_change_leaves_no_event,
    change_without_event_is_not_committed,
    failed_mutation_leaves_no_trace,
    verify_finds_an_edited_event,
    verify_finds_a_deleted_newest_event,
    owner_rewrite_rehashed_with_plain_sha256_is_caught,
    owner_rewrite_signed_with_another_key_is_caught,
    event_without_key_id_is_broken,
);

async fn events(database: &TestDatabase, tenant: entity::TenantId) -> Vec<audit_event::Model> {
    let tx = TenantDb::for_operator(&database.db, tenant)
        .read()
        .await
        .expect("read");
    tx.all(audit_event::Entity::find().order_by_asc(audit_event::Column::Seq))
        .await
        .expect("events")
}

async fn database_refuses_update_and_delete(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    database.organisation("Alpha").await;
    let raw = database.raw().await;
    let mut statements = vec![
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
    ];
    if backend == Backend::Postgres {
        statements.push("TRUNCATE audit_events");
    }
    for statement in statements {
        let err = raw
            .execute_unprepared(statement)
            .await
            .expect_err(statement)
            .to_string();
        assert!(err.contains("append-only"), "{statement}: {err}");
    }
    let count = raw
        .query_one_raw(sea_orm::Statement::from_string(
            raw.get_database_backend(),
            "SELECT count(*) AS n FROM audit_events",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(
        count, 2,
        "organisation.create and user.create are still there"
    );
}

async fn committed_change_has_its_event(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let handle = TenantDb::for_operator(&database.db, alpha);
    organisations::rename(&handle, "Alpha Logistics")
        .await
        .expect("rename");

    let events = events(&database, alpha).await;
    assert_eq!(
        events
            .iter()
            .map(|event| event.action.as_str())
            .collect::<Vec<_>>(),
        ["organisation.create", "user.create", "organisation.rename"]
    );
    let rename = &events[2];
    assert_eq!(rename.seq, 3);
    assert_eq!(rename.actor_kind, entity::ActorKind::Cli);
    assert_eq!(rename.outcome, entity::Outcome::Success);
    assert_eq!(rename.entity_type, "organisation");
    assert_eq!(
        rename.entity_id.as_deref(),
        Some(alpha.to_string().as_str())
    );
    assert_eq!(rename.prev_hash, events[1].hash);
    let detail: Value = serde_json::from_str(&rename.detail).expect("detail JSON");
    assert_eq!(
        detail,
        json!({"before": {"name": "Alpha"}, "after": {"name": "Alpha Logistics"}})
    );
    // No secret in any event: the admin's password hash is nowhere in the log.
    for event in &events {
        assert!(!event.detail.contains("pbkdf2"), "{}", event.detail);
    }
    assert!(verify_chain(&handle).await.expect("verify").is_intact());
}

async fn rolled_back_change_leaves_no_event(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let handle = TenantDb::for_operator(&database.db, alpha);
    {
        let mut tx = handle.write().await.expect("write");
        tx.update_many(
            organisation::Entity::update_many()
                .col_expr(organisation::Column::Name, Expr::value("Gone")),
        )
        .await
        .expect("update");
        tx.record(AuditRecord::new(
            "organisation.rename",
            "organisation",
            alpha,
        ))
        .await
        .expect("audit");
        // Dropped without commit: rolled back, event and all.
    }
    assert_eq!(events(&database, alpha).await.len(), 2);
    let current = organisations::current(&handle).await.expect("current");
    assert_eq!(current.name, "Alpha");
    // The chain head did not move either: the next event continues at 3.
    organisations::rename(&handle, "Alpha 2")
        .await
        .expect("rename");
    assert_eq!(
        events(&database, alpha).await.last().map(|e| e.seq),
        Some(3)
    );
    assert!(verify_chain(&handle).await.expect("verify").is_intact());
}

async fn change_without_event_is_not_committed(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let handle = TenantDb::for_operator(&database.db, alpha);
    let mut tx = handle.write().await.expect("write");
    tx.update_many(
        organisation::Entity::update_many()
            .col_expr(organisation::Column::Name, Expr::value("Sneaky")),
    )
    .await
    .expect("update");
    let err = tx.commit().await.expect_err("commit without audit event");
    assert!(err.to_string().contains("audit event"), "{err}");
    assert_eq!(
        organisations::current(&handle).await.expect("current").name,
        "Alpha"
    );
}

async fn failed_mutation_leaves_no_trace(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let handle = TenantDb::for_operator(&database.db, alpha);
    let err = organisations::rename(&handle, "   ")
        .await
        .expect_err("blank name");
    assert_eq!(err.code(), vaskem::error::ErrorCode::BadUserInput);
    assert_eq!(events(&database, alpha).await.len(), 2);
    assert_eq!(
        organisations::current(&handle).await.expect("current").name,
        "Alpha"
    );
}

async fn verify_finds_an_edited_event(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let handle = TenantDb::for_operator(&database.db, alpha);
    organisations::rename(&handle, "Alpha Logistics")
        .await
        .expect("rename");
    assert!(verify_chain(&handle).await.expect("verify").is_intact());

    let raw = database.raw().await;
    database.exempt(
        Invariant::AuditChain,
        "edits an event behind the triggers' back",
    );
    tamper(&raw, "UPDATE audit_events SET detail = '{}' WHERE seq = 2").await;
    let report = verify_chain(&handle).await.expect("verify");
    assert_eq!(report.first_broken_seq, Some(2), "{report:?}");
    assert_eq!(report.events_checked, 1);
}

async fn verify_finds_a_deleted_newest_event(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let handle = TenantDb::for_operator(&database.db, alpha);
    organisations::rename(&handle, "Alpha Logistics")
        .await
        .expect("rename");
    let raw = database.raw().await;
    database.exempt(Invariant::AuditChain, "deletes the newest event");
    tamper(&raw, "DELETE FROM audit_events WHERE seq = 3").await;
    let report = verify_chain(&handle).await.expect("verify");
    assert_eq!(report.first_broken_seq, Some(3), "{report:?}");
}

/// Events from before the chain was keyed carry no key id; they no longer verify.
async fn event_without_key_id_is_broken(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let handle = TenantDb::for_operator(&database.db, alpha);
    database.exempt(Invariant::AuditChain, "strips an event's key id");
    tamper(
        &database.raw().await,
        "UPDATE audit_events SET key_id = NULL WHERE seq = 1",
    )
    .await;
    let report = verify_chain(&handle).await.expect("verify");
    assert_eq!(report.first_broken_seq, Some(1), "{report:?}");
    assert!(
        report
            .problem
            .as_deref()
            .is_some_and(|problem| problem.contains("no key id")),
        "{report:?}"
    );
}

/// Runs `statement` behind the triggers' back, as an attacker with the owner's rights could.
pub async fn tamper(raw: &sea_orm::DatabaseConnection, statement: &str) {
    let postgres = raw.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    let (disable, enable) = if postgres {
        (
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete",
            "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete",
        )
    } else {
        (
            "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete",
            "",
        )
    };
    raw.execute_unprepared(disable)
        .await
        .expect("disable trigger");
    raw.execute_unprepared(statement).await.expect("tamper");
    if !enable.is_empty() {
        raw.execute_unprepared(enable)
            .await
            .expect("enable trigger");
    }
}

/// Twenty concurrent audited changes in one organisation: a gapless chain that verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_appends_keep_one_chain() {
    let checks = crate::support::Checks::begin();
    let database = TestDatabase::new(Backend::Postgres).await;
    let (alpha, _) = database.organisation("Alpha").await;
    let handle = TenantDb::for_operator(&database.db, alpha);
    let renames = (0..20).map(|n| {
        let handle = handle.clone();
        tokio::spawn(async move { organisations::rename(&handle, &format!("Alpha {n}")).await })
    });
    for result in futures::future::join_all(renames).await {
        result.expect("task").expect("rename");
    }
    let events = events(&database, alpha).await;
    assert_eq!(events.len(), 22);
    assert!(
        events
            .iter()
            .enumerate()
            .all(|(i, e)| e.seq == i as i64 + 1)
    );
    assert!(verify_chain(&handle).await.expect("verify").is_intact());
    checks.finish().await;
}

/// An organisation with four events: create, its admin, and two renames (events 3 and 4).
async fn renamed_twice(database: &TestDatabase) -> (TenantId, TenantDb) {
    let (alpha, _) = database.organisation("Alpha").await;
    let handle = TenantDb::for_operator(&database.db, alpha);
    for name in ["Alpha Logistics", "Alpha Freight"] {
        organisations::rename(&handle, name).await.expect("rename");
    }
    assert!(verify_chain(&handle).await.expect("verify").is_intact());
    (alpha, handle)
}

/// The event fields in the order the chain hashes them. Written out here, apart from the service's
/// copy, so a change to the format shows up as a failing test.
fn canonical_fields(event: &audit_event::Model) -> Vec<Value> {
    vec![
        json!(event.tenant_id.to_string()),
        json!(event.seq),
        json!(
            event
                .occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        ),
        json!(sea_orm::ActiveEnum::to_value(&event.actor_kind)),
        json!(event.actor_user_id.map(|id| id.to_string())),
        json!(event.actor_label),
        json!(event.client_addr),
        json!(event.request_id),
        json!(sea_orm::ActiveEnum::to_value(&event.outcome)),
        json!(event.action),
        json!(event.entity_type),
        json!(event.entity_id),
        json!(event.detail),
    ]
}

/// What the code before keyed chains stored: SHA-256(prev_hash || canonical(event)).
fn plain_sha256(prev_hash: &str, event: &audit_event::Model) -> String {
    let mut hasher = Sha256::new();
    hasher.update(hex::decode(prev_hash).expect("hex"));
    hasher.update(Value::Array(canonical_fields(event)).to_string());
    hex::encode(hasher.finalize())
}

/// HMAC-SHA-256 under `key` of prev_hash || canonical(event, its key id last).
fn hmac_under(key: &[u8]) -> impl Fn(&str, &audit_event::Model) -> String {
    let key = key.to_vec();
    move |prev_hash, event| {
        let mut fields = canonical_fields(event);
        fields.push(json!(event.key_id));
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
        mac.update(&hex::decode(prev_hash).expect("hex"));
        mac.update(Value::Array(fields).to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The database owner's rewrite: with the append-only triggers off, replaces event `seq`'s detail
/// (and its key id, if `key_id` is given), then recomputes its hash, every later event's links and
/// the chain head with `forge`, so the stored chain is consistent under `forge`.
async fn rewrite_history(
    database: &TestDatabase,
    tenant: TenantId,
    seq: i64,
    key_id: Option<&str>,
    forge: impl Fn(&str, &audit_event::Model) -> String,
) {
    let raw = database.raw().await;
    let postgres = raw.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    let disable = if postgres {
        "ALTER TABLE audit_events DISABLE TRIGGER USER"
    } else {
        "DROP TRIGGER IF EXISTS audit_events_no_update; \
         DROP TRIGGER IF EXISTS audit_events_no_delete"
    };
    raw.execute_unprepared(disable)
        .await
        .expect("disable triggers");
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(tenant))
        .order_by_asc(audit_event::Column::Seq)
        .all(&raw)
        .await
        .expect("events");
    let mut prev_hash = GENESIS_HASH.to_owned();
    for mut event in events {
        if event.seq < seq {
            prev_hash = event.hash;
            continue;
        }
        if event.seq == seq {
            event.detail =
                json!({"before": {"name": "Alpha"}, "after": {"name": "Forged"}}).to_string();
            if let Some(key_id) = key_id {
                event.key_id = Some(key_id.to_owned());
            }
        }
        event.prev_hash = prev_hash;
        event.hash = forge(&event.prev_hash, &event);
        audit_event::Entity::update_many()
            .col_expr(
                audit_event::Column::Detail,
                Expr::value(event.detail.clone()),
            )
            .col_expr(
                audit_event::Column::KeyId,
                Expr::value(event.key_id.clone()),
            )
            .col_expr(
                audit_event::Column::PrevHash,
                Expr::value(event.prev_hash.clone()),
            )
            .col_expr(audit_event::Column::Hash, Expr::value(event.hash.clone()))
            .filter(audit_event::Column::TenantId.eq(tenant))
            .filter(audit_event::Column::Seq.eq(event.seq))
            .exec(&raw)
            .await
            .expect("rewrite event");
        prev_hash = event.hash;
    }
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::LastHash, Expr::value(prev_hash))
        .filter(audit_head::Column::TenantId.eq(tenant))
        .exec(&raw)
        .await
        .expect("rewrite head");
    if postgres {
        raw.execute_unprepared("ALTER TABLE audit_events ENABLE TRIGGER USER")
            .await
            .expect("enable triggers");
    }
}

/// The chain check as it was before keys, from event `from_seq` on (the events before it were
/// signed with the key): every link and the head agree under plain SHA-256.
async fn plain_links_hold_from(database: &TestDatabase, tenant: TenantId, from_seq: i64) -> bool {
    let raw = database.raw().await;
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(tenant))
        .order_by_asc(audit_event::Column::Seq)
        .all(&raw)
        .await
        .expect("events");
    let mut prev_hash = GENESIS_HASH.to_owned();
    for event in events {
        let checked = event.seq >= from_seq;
        if checked
            && (event.prev_hash != prev_hash || plain_sha256(&prev_hash, &event) != event.hash)
        {
            return false;
        }
        prev_hash = event.hash;
    }
    let head = audit_head::Entity::find_by_id(tenant)
        .one(&raw)
        .await
        .expect("head")
        .expect("head row");
    head.last_hash == prev_hash
}

/// `vaskem audit verify` must exit 3 naming `seq` and `problem`.
fn cli_reports_broken_at(database: &TestDatabase, tenant: TenantId, seq: i64, problem: &str) {
    let output = crate::cli::vaskem(
        database,
        &["audit", "verify", "--org", &tenant.to_string()],
        None,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(i32::from(vaskem::cli::BROKEN_CHAIN_EXIT)),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("BROKEN at event {seq}: {problem}")),
        "{stdout}"
    );
}

/// The owner turns the triggers off, edits event 3 and recomputes every later hash and the head
/// with plain SHA-256, as the unkeyed chain did. That rewrite passed the old check; the key catches
/// it at the first rewritten event.
async fn owner_rewrite_rehashed_with_plain_sha256_is_caught(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, handle) = renamed_twice(&database).await;
    database.exempt(Invariant::AuditChain, "rewrites history without the key");
    rewrite_history(&database, alpha, 3, None, plain_sha256).await;
    assert!(
        plain_links_hold_from(&database, alpha, 3).await,
        "the rewrite is consistent under the unkeyed scheme"
    );

    let report = verify_chain(&handle).await.expect("verify");
    assert_eq!(report.first_broken_seq, Some(3), "{report:?}");
    assert_eq!(report.events_checked, 2);
    assert_eq!(
        report.problem.as_deref(),
        Some("hash does not match the event's contents")
    );
    cli_reports_broken_at(
        &database,
        alpha,
        3,
        "hash does not match the event's contents",
    );
}

/// An attacker without the key signs the rewrite with one of their own: keeping the event's key id
/// fails the hash check, naming their own key fails as an unknown key. The same recipe with the
/// real key verifies (what the key protects, and only that).
async fn owner_rewrite_signed_with_another_key_is_caught(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (alpha, handle) = renamed_twice(&database).await;
    let attacker = AuditKey::generate().expect("key");
    let attacker_secret = base64_decode(&attacker.to_base64());

    rewrite_history(&database, alpha, 3, None, hmac_under(&attacker_secret)).await;
    let report = verify_chain(&handle).await.expect("verify");
    assert_eq!(report.first_broken_seq, Some(3), "{report:?}");
    assert_eq!(report.events_checked, 2);
    cli_reports_broken_at(
        &database,
        alpha,
        3,
        "hash does not match the event's contents",
    );

    rewrite_history(
        &database,
        alpha,
        3,
        Some(attacker.id()),
        hmac_under(&attacker_secret),
    )
    .await;
    let unknown = format!("signed with unknown key {}", attacker.id());
    let report = verify_chain(&handle).await.expect("verify");
    assert_eq!(report.first_broken_seq, Some(3), "{report:?}");
    assert_eq!(report.problem.as_deref(), Some(unknown.as_str()));
    cli_reports_broken_at(&database, alpha, 3, &unknown);

    // The control: this recipe is the real one, so only the key made the difference above.
    let real_secret = base64_decode(&database.audit_key.to_base64());
    rewrite_history(
        &database,
        alpha,
        3,
        Some(database.audit_key.id()),
        hmac_under(&real_secret),
    )
    .await;
    let report = verify_chain(&handle).await.expect("verify");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 4);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}
