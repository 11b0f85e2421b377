//! Cookie sessions: login, resolving a cookie to a signed-in user, logout.
//!
//! The cookie carries 256 random bits; the database keeps only their SHA-256, so a database leak
//! hands out no live session, and any node behind a load balancer can serve any request.

use chrono::{Duration, Utc};
use entity::{SessionId, TenantId, UserId, organisation, session, user};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::password::PasswordHasher;
use crate::audit::{AuditRecord, Outcome};
use crate::error::{AppError, AppResult};
use crate::tenancy::{Database, RequestOrigin, TenantDb};

/// The session cookie. `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
pub const SESSION_COOKIE: &str = "__Host-vaskem_session";

/// How often a session's last-seen time is written, at most: not on every request.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// Session lifetimes, configurable on `vaskem serve`.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct SessionPolicy {
    /// Minutes without a request after which a session ends.
    #[arg(
        long = "session-idle-minutes",
        env = "VASKEM_SESSION_IDLE_MINUTES",
        default_value_t = 30
    )]
    pub idle_minutes: u32,
    /// Hours after sign-in at which a session ends, however active.
    #[arg(
        long = "session-lifetime-hours",
        env = "VASKEM_SESSION_LIFETIME_HOURS",
        default_value_t = 12
    )]
    pub lifetime_hours: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_minutes: 30,
            lifetime_hours: 12,
        }
    }
}

/// A request whose session checked out: the only source of a user's [`TenantDb`].
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub db: TenantDb,
    pub session_id: SessionId,
    pub user: user::Model,
}

/// A fresh session, for the login response.
pub struct NewSession {
    /// The cookie value; shown to the client once, stored nowhere.
    pub token: String,
    pub user: user::Model,
    pub max_age_seconds: i64,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> AppResult<String> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|err| AppError::Internal(format!("no randomness: {err}")))?;
    Ok(hex::encode(bytes))
}

pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Resolves a session token to a signed-in user, or `None` if it is not (or no longer) valid.
///
/// Checked on every request: the session is live (not revoked, not idle too long, not past its
/// lifetime), its user exists *in the session's organisation* and is active, and that
/// organisation is active. The tenant comes from the session row alone, never from the client.
pub async fn authenticate(
    db: &Database,
    token: &str,
    policy: &SessionPolicy,
    origin: RequestOrigin,
) -> AppResult<Option<SignedIn>> {
    let Some(session) = db.find_session_by_token_hash(&hash_token(token)).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    let idle_limit = Duration::minutes(i64::from(policy.idle_minutes));
    if session.revoked_at.is_some()
        || now >= session.expires_at
        || now - session.last_seen_at >= idle_limit
    {
        return Ok(None);
    }
    let probe = TenantDb::for_user(
        db,
        session.tenant_id,
        session.user_id,
        String::new(),
        origin.clone(),
    );
    let tx = probe.read().await?;
    // Looked up through the session's tenant: a user of another organisation is simply absent.
    let Some(user) = tx.find_by_id::<user::Entity>(session.user_id).await? else {
        return Ok(None);
    };
    let organisation_active = tx
        .find_by_id::<organisation::Entity>(session.tenant_id)
        .await?
        .is_some_and(|organisation| organisation.is_active);
    if !user.is_active || !organisation_active || user.tenant_id != session.tenant_id {
        return Ok(None);
    }
    if now - session.last_seen_at >= Duration::seconds(TOUCH_INTERVAL_SECONDS) {
        tx.update_bookkeeping(
            session::Entity::update_many()
                .col_expr(session::Column::LastSeenAt, Expr::value(now))
                .filter(session::Column::Id.eq(session.id)),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(SignedIn {
        db: TenantDb::for_user(db, session.tenant_id, user.id, user.email.clone(), origin),
        session_id: session.id,
        user,
    }))
}

/// Checks an email and password and opens a new session.
pub async fn login(
    db: &Database,
    hasher: &PasswordHasher,
    policy: &SessionPolicy,
    email: &str,
    password: String,
    origin: RequestOrigin,
) -> AppResult<NewSession> {
    let email = normalise_email(email);
    let candidates = db.find_users_by_login_email(&email).await?;
    if candidates.is_empty() {
        // The same work as a real check, so timing does not tell which emails exist.
        hasher.hash(password).await?;
        return Err(AppError::InvalidCredentials);
    }
    let mut matched = None;
    for candidate in &candidates {
        if hasher
            .verify(password.clone(), candidate.password_hash.clone())
            .await?
        {
            matched = Some(candidate.clone());
            break;
        }
    }
    let Some(user) = matched else {
        let first = &candidates[0];
        record_failed_login(db, first.tenant_id, first.id, &first.email, origin).await?;
        return Err(AppError::InvalidCredentials);
    };

    let handle = TenantDb::for_user(
        db,
        user.tenant_id,
        user.id,
        user.email.clone(),
        origin.clone(),
    );
    let mut tx = handle.write().await?;
    let organisation_active = tx
        .find_by_id::<organisation::Entity>(user.tenant_id)
        .await?
        .is_some_and(|organisation| organisation.is_active);
    if !user.is_active || !organisation_active {
        drop(tx);
        record_failed_login(db, user.tenant_id, user.id, &user.email, origin).await?;
        return Err(AppError::InvalidCredentials);
    }
    let token = new_token()?;
    let now = Utc::now();
    let lifetime = Duration::hours(i64::from(policy.lifetime_hours));
    let session = tx
        .insert(session::ActiveModel {
            id: Set(SessionId::generate()),
            tenant_id: Set(user.tenant_id),
            user_id: Set(user.id),
            token_hash: Set(hash_token(&token)),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(now + lifetime),
            revoked_at: Set(None),
            client_addr: Set(origin.client_addr.clone()),
        })
        .await?;
    tx.record(
        AuditRecord::new("user.login", "user", user.id)
            .with_change(json!(null), json!({ "session": session.id.to_string() })),
    )
    .await?;
    tx.commit().await?;
    Ok(NewSession {
        token,
        user,
        max_age_seconds: lifetime.num_seconds(),
    })
}

async fn record_failed_login(
    db: &Database,
    tenant: TenantId,
    user: UserId,
    email: &str,
    origin: RequestOrigin,
) -> AppResult<()> {
    let handle = TenantDb::for_user(db, tenant, user, email.to_owned(), origin);
    let mut tx = handle.write().await?;
    tx.record(AuditRecord::new("user.login", "user", user).with_outcome(Outcome::Failure))
        .await?;
    tx.commit().await
}

/// Ends the caller's session on the server.
pub async fn logout(signed_in: &SignedIn) -> AppResult<()> {
    let mut tx = signed_in.db.write().await?;
    tx.update_many(
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(Some(Utc::now())))
            .filter(session::Column::Id.eq(signed_in.session_id)),
    )
    .await?;
    tx.record(AuditRecord::new("user.logout", "user", signed_in.user.id))
        .await?;
    tx.commit().await
}
