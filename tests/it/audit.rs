//! The audit log: append-only in the database, written in the change's own transaction, chained.

use entity::{audit_event, organisation};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use serde_json::{Value, json};
use vaskem::audit::{AuditRecord, verify_chain};
use vaskem::service::organisations;
use vaskem::tenancy::TenantDb;

use crate::on_both_databases;
use crate::support::{Backend, TestDatabase};

on_both_databases!(
    database_refuses_update_and_delete,
    committed_change_has_its_event,
    rolled_back_change_leaves_no_event,
    change_without_event_is_not_committed,
    failed_mutation_leaves_no_trace,
    verify_finds_an_edited_event,
    verify_finds_a_deleted_newest_event,
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
    assert_eq!(rename.actor_kind, "cli");
    assert_eq!(rename.outcome, "success");
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
    tamper(&raw, "DELETE FROM audit_events WHERE seq = 3").await;
    let report = verify_chain(&handle).await.expect("verify");
    assert_eq!(report.first_broken_seq, Some(3), "{report:?}");
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
}
