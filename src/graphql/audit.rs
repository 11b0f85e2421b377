//! The audit log viewer.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::audit_event;

use super::{ApiResult, parse_id, signed_in};
use crate::audit::{self, AuditFilter};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;
use crate::error::AppError;

/// Largest page `auditEvents` returns.
pub const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 50;

/// Who acted.
#[derive(SimpleObject)]
pub struct AuditActor {
    /// `user` or `cli`.
    kind: String,
    user_id: Option<ID>,
    /// The user's email at the time, or "command line".
    label: String,
}

/// One recorded action. Events are immutable and hash-chained per organisation.
#[derive(SimpleObject)]
pub struct AuditEvent {
    /// 1, 2, 3, … per organisation, without gaps.
    sequence: i64,
    occurred_at: DateTime<Utc>,
    actor: AuditActor,
    client_address: Option<String>,
    request_id: Option<String>,
    /// `success`, `failure` or `denied`.
    outcome: String,
    /// e.g. `user.invite`, `role.update`, `organisation.rename`.
    action: String,
    entity_type: String,
    entity_id: Option<String>,
    /// `{"before": {…}, "after": {…}}` of the fields that changed. Never holds a secret.
    detail: Json<serde_json::Value>,
    hash: String,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(event: audit_event::Model) -> Self {
        Self {
            sequence: event.seq,
            occurred_at: event.occurred_at,
            actor: AuditActor {
                kind: event.actor_kind,
                user_id: event.actor_user_id.map(|id| ID(id.to_string())),
                label: event.actor_label,
            },
            client_address: event.client_addr,
            request_id: event.request_id,
            outcome: event.outcome,
            action: event.action,
            entity_type: event.entity_type,
            entity_id: event.entity_id,
            detail: Json(serde_json::from_str(&event.detail).unwrap_or(serde_json::Value::Null)),
            hash: event.hash,
        }
    }
}

/// Narrows `auditEvents`; every field given must match.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    actor_user_id: Option<ID>,
    action: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    /// Events at or after this time.
    from: Option<DateTime<Utc>>,
    /// Events before this time.
    to: Option<DateTime<Utc>>,
}

/// Whether the organisation's audit chain is intact.
#[derive(SimpleObject)]
pub struct AuditChainReport {
    intact: bool,
    events_checked: u64,
    /// The first event whose link does not hold.
    first_broken_sequence: Option<i64>,
    problem: Option<String>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit log, newest first, `first` at a time (at most 100) after the cursor `after`.
    #[graphql(
        guard = "RequirePermission(Permission::AuditView)",
        directive = requires::apply(Permission::AuditView)
    )]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditEventFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, AuditEvent, EmptyFields, EmptyFields>> {
        let db = &signed_in(ctx)?.db;
        let limit = match first {
            None => DEFAULT_PAGE,
            Some(n) if n >= 1 && n as usize <= MAX_PAGE => n as usize,
            Some(_) => {
                return Err(
                    AppError::bad_input("first", format!("first must be 1 to {MAX_PAGE}")).into(),
                );
            }
        };
        let before = match after {
            None => None,
            Some(cursor) => Some(
                cursor
                    .parse::<i64>()
                    .map_err(|_| AppError::bad_input("after", "not a cursor from this list"))?,
            ),
        };
        let filter = filter.unwrap_or_default();
        let filter = AuditFilter {
            actor_user_id: filter
                .actor_user_id
                .map(|id| parse_id(&id, "actorUserId"))
                .transpose()?,
            action: filter.action,
            entity_type: filter.entity_type,
            entity_id: filter.entity_id,
            from: filter.from,
            to: filter.to,
        };
        let (events, more) = audit::page(db, &filter, before, limit as u64).await?;
        let mut connection = Connection::new(before.is_some(), more);
        connection.edges.extend(
            events
                .into_iter()
                .map(|event| Edge::new(event.seq.to_string(), AuditEvent::from(event))),
        );
        Ok(connection)
    }

    /// Recomputes the organisation's audit hash chain.
    #[graphql(
        guard = "RequirePermission(Permission::AuditVerify)",
        directive = requires::apply(Permission::AuditVerify)
    )]
    async fn verify_audit_chain(&self, ctx: &Context<'_>) -> ApiResult<AuditChainReport> {
        let report = audit::verify_chain(&signed_in(ctx)?.db).await?;
        Ok(AuditChainReport {
            intact: report.is_intact(),
            events_checked: report.events_checked,
            first_broken_sequence: report.first_broken_seq,
            problem: report.problem,
        })
    }
}
