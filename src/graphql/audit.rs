//! The audit log viewer.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::audit_event;

use super::{
    ApiResult, ListConnection, SortDirection, connection, global_id, page_request,
    parse_optional_id, signed_in,
};
use crate::audit::{self, AuditFilter};
use crate::auth::guard::{RequirePermission, requires};
use crate::auth::permission::Permission;

/// What kind of actor an event records.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditActorKind {
    /// A signed-in user, through the API (`userId` says who).
    User,
    /// The operator, through the `vaskem` command line.
    Cli,
}

impl From<entity::ActorKind> for AuditActorKind {
    fn from(kind: entity::ActorKind) -> Self {
        match kind {
            entity::ActorKind::User => Self::User,
            entity::ActorKind::Cli => Self::Cli,
        }
    }
}

/// How an audited attempt ended.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditOutcome {
    Success,
    /// Refused: wrong credentials, bad input.
    Failure,
    /// Refused by a rule: a locked-out account, a deactivated user.
    Denied,
}

impl From<entity::Outcome> for AuditOutcome {
    fn from(outcome: entity::Outcome) -> Self {
        match outcome {
            entity::Outcome::Success => Self::Success,
            entity::Outcome::Failure => Self::Failure,
            entity::Outcome::Denied => Self::Denied,
        }
    }
}

/// Who acted.
#[derive(SimpleObject)]
pub struct AuditActor {
    kind: AuditActorKind,
    user_id: Option<ID>,
    /// The user's email at the time, or "command line".
    label: String,
}

/// One event of a document's timeline, with the stock movements it posted.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct TimelineEntry {
    event: AuditEvent,
    #[graphql(skip)]
    posted: Vec<entity::stock_movement::Model>,
}

impl From<crate::service::timeline::Entry> for TimelineEntry {
    fn from(entry: crate::service::timeline::Entry) -> Self {
        Self {
            event: entry.event.into(),
            posted: entry.movements,
        }
    }
}

#[async_graphql::ComplexObject]
impl TimelineEntry {
    /// The stock movements the event posted (empty for one that moved nothing); null (with a
    /// FORBIDDEN error) without STOCK_VIEW.
    #[graphql(directive = requires::apply(Permission::StockView))]
    async fn movements(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<Vec<super::stock::StockMovement>>> {
        if !crate::auth::guard::may_see(ctx, Permission::StockView) {
            return Ok(None);
        }
        Ok(Some(self.posted.iter().cloned().map(Into::into).collect()))
    }
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
    outcome: AuditOutcome,
    /// e.g. `user.invite`, `role.update`, `organisation.rename`.
    action: String,
    entity_type: String,
    entity_id: Option<ID>,
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
                kind: event.actor_kind.into(),
                user_id: event.actor_user_id.map(global_id),
                label: event.actor_label,
            },
            client_address: event.client_addr,
            request_id: event.request_id,
            outcome: event.outcome.into(),
            action: event.action,
            entity_type: event.entity_type.clone(),
            entity_id: event
                .entity_id
                .map(|raw| ID(api_entity_id(&event.entity_type, raw))),
            detail: Json(serde_json::from_str(&event.detail).unwrap_or(serde_json::Value::Null)),
            hash: event.hash,
        }
    }
}

/// The GraphQL type behind an audit entity type, where the API has one.
fn api_type(entity_type: &str) -> Option<&'static str> {
    Some(match entity_type {
        "carrier" => "Carrier",
        "carrier_service" => "CarrierService",
        "customer_return" => "CustomerReturn",
        "location" => "Location",
        "movement" => "StockMovement",
        "organisation" => "Organisation",
        "product" => "Product",
        "putaway_task" => "PutAwayTask",
        "role" => "Role",
        "session" => "Session",
        "shipment" => "Shipment",
        "user" => "User",
        "warehouse" => "Warehouse",
        _ => return None,
    })
}

/// The log stores plain keys (it is immutable and outlives any API encoding); the API shows
/// them as the same global ids it uses everywhere else.
fn api_entity_id(entity_type: &str, raw: String) -> String {
    match (api_type(entity_type), raw.parse::<uuid::Uuid>()) {
        (Some(type_name), Ok(key)) => super::ids::encode(type_name, key).0,
        _ => raw,
    }
}

/// Narrows `auditEvents`; every field given must match.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    actor_user_id: Option<ID>,
    action: Option<String>,
    entity_type: Option<String>,
    /// An id as the API shows it (`product { id }`, or an event's `entityId`).
    entity_id: Option<ID>,
    /// Events at or after this time.
    from: Option<DateTime<Utc>>,
    /// Events before this time.
    to: Option<DateTime<Utc>>,
}

/// What the audit log may be ordered by.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuditEventSortField {
    /// The log's own order.
    #[default]
    Sequence,
}

/// The audit log's order (newest first when no sort is given).
#[derive(InputObject)]
pub struct AuditEventSort {
    #[graphql(default)]
    field: AuditEventSortField,
    /// Newest first unless asked otherwise.
    #[graphql(default_with = "SortDirection::Desc")]
    direction: SortDirection,
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
    /// The audit log, newest first unless `sort` says otherwise, `first` at a time (at most 100)
    /// after the cursor `after`.
    #[graphql(
        complexity = "super::list_complexity(first, child_complexity)",
        guard = "RequirePermission(Permission::AuditView)",
        directive = requires::apply(Permission::AuditView)
    )]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditEventFilter>,
        sort: Option<AuditEventSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ListConnection<AuditEvent>> {
        let request = page_request(ctx, first, after)?;
        let descending = sort.is_none_or(|sort| sort.direction.descending());
        let filter = filter.unwrap_or_default();
        let filter = AuditFilter {
            actor_user_id: parse_optional_id(filter.actor_user_id, "filter.actorUserId")?,
            action: filter.action,
            entity_type: filter.entity_type,
            entity_id: filter
                .entity_id
                .map(|id| super::ids::decode(&id).map_or(id.0, |(_, key)| key.to_string())),
            from: filter.from,
            to: filter.to,
        };
        let page = audit::page(&signed_in(ctx)?.db, &filter, descending, &request).await?;
        Ok(connection(&request, page, AuditEvent::from))
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
