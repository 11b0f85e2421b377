//! The audit log: the append-only writer and the keyed hash-chain verifier.
//!
//! Each organisation's events form a chain: event n stores
//! `hash = HMAC-SHA-256(key, prev_hash || canonical(event n))`, where `prev_hash` is event n-1's
//! hash (32 zero bytes for the first) and `key` is the audit key the event's `key_id` names (see
//! [`keys`]). Editing, deleting or reordering any stored event breaks every later link, which
//! [`verify_chain`] finds. The database itself refuses UPDATE, DELETE and TRUNCATE, and it never
//! holds the key: whoever can switch those triggers off (the database owner) still cannot
//! recompute the hashes of a rewritten history.

pub mod keys;

use chrono::{SubsecRound, Utc};
use entity::{ActorKind, audit_event, audit_head};
use hmac::Mac;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::service::bounds::check_time;
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::tenancy::{Actor, TenantDb, TenantTx};
use keys::AuditKey;

/// The hash that precedes an organisation's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How an audited attempt ended.
pub use entity::Outcome;

/// What a service tells the audit log about one action.
#[derive(Clone, Debug)]
pub struct AuditRecord {
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<String>,
    pub outcome: Outcome,
    pub detail: Value,
}

impl AuditRecord {
    /// A successful `action` on one entity, with no detail yet.
    pub fn new(action: &'static str, entity_type: &'static str, entity_id: impl ToString) -> Self {
        Self {
            action,
            entity_type,
            entity_id: Some(entity_id.to_string()),
            outcome: Outcome::Success,
            detail: json!({}),
        }
    }

    /// Records the fields whose values differ between `before` and `after` (two JSON objects).
    /// Callers pass only non-secret fields; a created entity has `before = null`.
    pub fn with_change(mut self, before: Value, after: Value) -> Self {
        self.detail = diff(&before, &after);
        self
    }

    pub fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
}

/// `{"before": {changed fields}, "after": {changed fields}}`.
fn diff(before: &Value, after: &Value) -> Value {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let mut changed_before = serde_json::Map::new();
            let mut changed_after = serde_json::Map::new();
            for (key, new_value) in new {
                let old_value = old.get(key).unwrap_or(&Value::Null);
                if old_value != new_value {
                    changed_before.insert(key.clone(), old_value.clone());
                    changed_after.insert(key.clone(), new_value.clone());
                }
            }
            for (key, old_value) in old {
                if !new.contains_key(key) {
                    changed_before.insert(key.clone(), old_value.clone());
                    changed_after.insert(key.clone(), Value::Null);
                }
            }
            json!({ "before": changed_before, "after": changed_after })
        }
        _ => json!({ "before": before, "after": after }),
    }
}

/// The bytes hashed for one event: a JSON array of its fields in a fixed order, the signing key's
/// id last. `detail` enters as the stored text, so what is hashed is exactly what is stored.
fn canonical(event: &audit_event::Model) -> Vec<u8> {
    let fields = json!([
        event.tenant_id.to_string(),
        event.seq,
        event
            .occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        event.actor_kind.to_value(),
        event.actor_user_id.map(|id| id.to_string()),
        event.actor_label,
        event.client_addr,
        event.request_id,
        event.outcome.to_value(),
        event.action,
        event.entity_type,
        event.entity_id,
        event.detail,
        event.key_id,
    ]);
    fields.to_string().into_bytes()
}

fn chain_hash(key: &AuditKey, prev_hash: &str, event: &audit_event::Model) -> String {
    let mut mac = key.mac();
    // A malformed stored prev_hash still hashes (as its text) and so fails verification.
    match hex::decode(prev_hash) {
        Ok(bytes) => mac.update(&bytes),
        Err(_) => mac.update(prev_hash.as_bytes()),
    }
    mac.update(&canonical(event));
    hex::encode(mac.finalize().into_bytes())
}

/// Why `event`'s stored hash is not its HMAC under the key its `key_id` names, if it is not: the
/// check [`verify_chain`] makes, for an event read from somewhere else (a backup file). The link
/// to the previous event (its `prev_hash`) is the caller's to check.
pub fn event_hash_problem(keys: &keys::AuditKeys, event: &audit_event::Model) -> Option<String> {
    let Some(key_id) = event.key_id.as_deref() else {
        return Some("event has no key id (written before the chain was keyed)".into());
    };
    let Some(key) = keys.get(key_id) else {
        return Some(format!("signed with unknown key {key_id}"));
    };
    (chain_hash(key, &event.prev_hash, event) != event.hash)
        .then(|| "hash does not match the event's contents".into())
}

/// Re-links `event` (from a restored backup) to `prev_hash` and signs it with the transaction's
/// current audit key: the event's contents stay as they were, its `prev_hash`, `key_id` and
/// `hash` become this chain's.
pub(crate) fn rechain(
    tx: &TenantTx,
    prev_hash: &str,
    event: &mut audit_event::Model,
) -> AppResult<()> {
    let key = tx.audit_keys().signing().cloned().ok_or_else(|| {
        AppError::Internal("no audit key is configured, so no event can be recorded".into())
    })?;
    event.prev_hash = prev_hash.to_owned();
    event.key_id = Some(key.id().to_owned());
    event.hash = chain_hash(&key, prev_hash, event);
    Ok(())
}

/// Appends one event to the transaction's organisation chain. Called through [`TenantTx::record`].
pub(crate) async fn append(
    tx: &mut TenantTx,
    record: AuditRecord,
) -> AppResult<audit_event::Model> {
    let key = tx.audit_keys().signing().cloned().ok_or_else(|| {
        AppError::Internal("no audit key is configured, so no event can be recorded".into())
    })?;
    // Locking the head row serialises appends per organisation: a second writer waits here and then
    // reads the first one's committed head.
    let head = tx
        .one(audit_head::Entity::find().lock_exclusive())
        .await?
        .ok_or_else(|| AppError::Internal("organisation has no audit chain head".into()))?;
    let (actor_kind, actor_user_id, actor_label) = match tx.actor() {
        Actor::User { id, email } => (ActorKind::User, Some(*id), email.clone()),
        Actor::Cli => (ActorKind::Cli, None, "command line".to_owned()),
    };
    let origin = tx.origin().clone();
    let mut event = audit_event::Model {
        tenant_id: tx.tenant(),
        seq: head.last_seq + 1,
        occurred_at: Utc::now().trunc_subsecs(6),
        actor_kind,
        actor_user_id,
        actor_label,
        client_addr: origin.client_addr,
        request_id: origin.request_id,
        outcome: record.outcome,
        action: record.action.to_owned(),
        entity_type: record.entity_type.to_owned(),
        entity_id: record.entity_id,
        detail: record.detail.to_string(),
        prev_hash: head.last_hash.clone(),
        hash: String::new(),
        key_id: Some(key.id().to_owned()),
    };
    event.hash = chain_hash(&key, &head.last_hash, &event);
    let stored = tx
        .insert(audit_event::ActiveModel::from(event).reset_all())
        .await?;
    let moved = tx
        .update_many(
            audit_head::Entity::update_many()
                .col_expr(audit_head::Column::LastSeq, stored.seq.into())
                .col_expr(audit_head::Column::LastHash, stored.hash.clone().into())
                .filter(audit_head::Column::LastSeq.eq(head.last_seq)),
        )
        .await?;
    if moved != 1 {
        return Err(AppError::Conflict(
            "audit chain moved concurrently; retry".into(),
        ));
    }
    Ok(stored)
}

/// Creates an organisation's empty chain. Part of creating the organisation.
pub(crate) async fn start_chain(tx: &mut TenantTx) -> AppResult<()> {
    tx.insert(audit_head::ActiveModel {
        tenant_id: Set(tx.tenant()),
        last_seq: Set(0),
        last_hash: Set(GENESIS_HASH.to_owned()),
    })
    .await?;
    Ok(())
}

/// What [`verify_chain`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    pub events_checked: u64,
    /// The first sequence number whose link does not hold, if any.
    pub first_broken_seq: Option<i64>,
    pub problem: Option<String>,
    /// The last event's hash, when the chain is intact. The database owner can cut the newest
    /// events off and rewind the head to match; an operator who notes this hash outside the
    /// database can tell later.
    pub last_hash: Option<String>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.first_broken_seq.is_none()
    }
}

const VERIFY_BATCH: u64 = 500;

/// Recomputes the organisation's whole chain, in batches, and reports the first broken link.
pub async fn verify_chain(db: &TenantDb) -> AppResult<ChainReport> {
    let tx = db.read().await?;
    let mut expected_seq = 1_i64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut checked = 0_u64;
    let broken = |seq: i64, checked: u64, problem: String| ChainReport {
        events_checked: checked,
        first_broken_seq: Some(seq),
        problem: Some(problem),
        last_hash: None,
    };
    loop {
        let batch = tx
            .all(
                audit_event::Entity::find()
                    .filter(audit_event::Column::Seq.gte(expected_seq))
                    .order_by_asc(audit_event::Column::Seq)
                    .limit(VERIFY_BATCH),
            )
            .await?;
        let batch_len = batch.len() as u64;
        for event in batch {
            if event.seq != expected_seq {
                return Ok(broken(
                    expected_seq,
                    checked,
                    format!("event {expected_seq} is missing"),
                ));
            }
            if event.prev_hash != prev_hash {
                return Ok(broken(
                    event.seq,
                    checked,
                    "prev_hash does not match the previous event".into(),
                ));
            }
            let Some(key_id) = event.key_id.as_deref() else {
                return Ok(broken(
                    event.seq,
                    checked,
                    "event has no key id (written before the chain was keyed)".into(),
                ));
            };
            let Some(key) = tx.audit_keys().get(key_id) else {
                return Ok(broken(
                    event.seq,
                    checked,
                    format!("signed with unknown key {key_id}"),
                ));
            };
            if chain_hash(key, &prev_hash, &event) != event.hash {
                return Ok(broken(
                    event.seq,
                    checked,
                    "hash does not match the event's contents".into(),
                ));
            }
            prev_hash = event.hash;
            expected_seq += 1;
            checked += 1;
        }
        if batch_len < VERIFY_BATCH {
            break;
        }
    }
    // The head remembers the tip, so deleting the newest events is caught too.
    let Some(head) = tx.one(audit_head::Entity::find()).await? else {
        return Ok(broken(1, 0, "the chain's head record is missing".into()));
    };
    if head.last_seq != expected_seq - 1 || head.last_hash != prev_hash {
        return Ok(broken(
            expected_seq,
            checked,
            format!(
                "chain ends at {} but its head says {}",
                expected_seq - 1,
                head.last_seq
            ),
        ));
    }
    Ok(ChainReport {
        events_checked: checked,
        first_broken_seq: None,
        problem: None,
        last_hash: Some(prev_hash),
    })
}

/// What the audit viewer filters on; every field narrows the result.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor_user_id: Option<entity::UserId>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub from: Option<chrono::DateTime<Utc>>,
    pub to: Option<chrono::DateTime<Utc>>,
}

/// One page of events matching `filter`, in sequence order (`descending`: newest first).
pub async fn page(
    db: &TenantDb,
    filter: &AuditFilter,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<audit_event::Model>> {
    let mut query = audit_event::Entity::find();
    if let Some(user) = filter.actor_user_id {
        query = query.filter(audit_event::Column::ActorUserId.eq(user));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_event::Column::Action.eq(action.as_str()));
    }
    if let Some(entity_type) = &filter.entity_type {
        query = query.filter(audit_event::Column::EntityType.eq(entity_type.as_str()));
    }
    if let Some(entity_id) = &filter.entity_id {
        query = query.filter(audit_event::Column::EntityId.eq(entity_id.as_str()));
    }
    if let Some(from) = filter.from {
        check_time("filter.from", from)?;
        query = query.filter(audit_event::Column::OccurredAt.gte(from));
    }
    if let Some(to) = filter.to {
        check_time("filter.to", to)?;
        query = query.filter(audit_event::Column::OccurredAt.lt(to));
    }
    let tx = db.read().await?;
    // The sequence is gapless and total per organisation: the log's own order.
    let ordering = ListOrder::new(vec![audit_event::Column::Seq], descending);
    paging::page(&tx, query, &ordering, request).await
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use entity::TenantId;

    use super::*;

    #[test]
    fn diff_keeps_only_changed_fields() {
        let change = diff(
            &json!({"name": "Old", "active": true}),
            &json!({"name": "New", "active": true}),
        );
        assert_eq!(
            change,
            json!({"before": {"name": "Old"}, "after": {"name": "New"}})
        );
    }

    #[test]
    fn any_field_change_changes_the_hash() {
        let key = AuditKey::from_bytes([1; keys::KEY_LEN]);
        let event = audit_event::Model {
            tenant_id: TenantId::generate(),
            seq: 1,
            occurred_at: DateTime::<Utc>::UNIX_EPOCH,
            actor_kind: ActorKind::Cli,
            actor_user_id: None,
            actor_label: "command line".into(),
            client_addr: None,
            request_id: None,
            outcome: Outcome::Success,
            action: "organisation.create".into(),
            entity_type: "organisation".into(),
            entity_id: None,
            detail: "{}".into(),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
            key_id: Some(key.id().to_owned()),
        };
        let original = chain_hash(&key, GENESIS_HASH, &event);
        let mut edited = event.clone();
        edited.action = "organisation.delete".into();
        assert_ne!(original, chain_hash(&key, GENESIS_HASH, &edited));
        assert_ne!(original, chain_hash(&key, &original, &event));
        let mut relabelled = event.clone();
        relabelled.key_id = Some("0123456789abcdef".into());
        assert_ne!(original, chain_hash(&key, GENESIS_HASH, &relabelled));
        // The same event under another key: someone without the key cannot recompute it.
        let other = AuditKey::from_bytes([2; keys::KEY_LEN]);
        assert_ne!(original, chain_hash(&other, GENESIS_HASH, &event));
    }
}
