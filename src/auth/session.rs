//! Cookie sessions: login, resolving a cookie to a signed-in user, logout.
//!
//! The cookie carries 256 random bits; the database keeps only their SHA-256, so a database leak
//! hands out no live session, and any node behind a load balancer can serve any request.

use std::sync::Arc;

use chrono::{Duration, Utc};
use entity::{SessionId, TenantId, organisation, role, session, user};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::password::PasswordHasher;
use super::permission::{Permission, PermissionSet};
use crate::audit::{AuditRecord, Outcome};
use crate::error::{AppError, AppResult};
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::tenancy::{
    Attempt, AttemptLimits, Database, LiveSession, RequestOrigin, RequestTransaction, TenantDb,
};

/// The session cookie. `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
pub const SESSION_COOKIE: &str = "__Host-vaskem_session";

/// How often a session's last-seen time is written, at most: not on every request.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// Session lifetimes, configurable on `vaskem serve`.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct SessionPolicy {
    /// Minutes without a request after which a session ends (1 to 1440).
    #[arg(
        long = "session-idle-minutes",
        env = "VASKEM_SESSION_IDLE_MINUTES",
        default_value_t = SessionPolicy::DEFAULT.idle_minutes,
        value_parser = clap::value_parser!(u32).range(1..=1440)
    )]
    pub idle_minutes: u32,
    /// Hours after sign-in at which a session ends, however active (1 to 720).
    #[arg(
        long = "session-lifetime-hours",
        env = "VASKEM_SESSION_LIFETIME_HOURS",
        default_value_t = SessionPolicy::DEFAULT.lifetime_hours,
        value_parser = clap::value_parser!(u32).range(1..=720)
    )]
    pub lifetime_hours: u32,
}

impl SessionPolicy {
    /// What `vaskem serve` uses when neither flag nor environment variable says otherwise: the
    /// one place these numbers are written (clap's defaults and `Default` both read it).
    pub const DEFAULT: Self = Self {
        idle_minutes: 30,
        lifetime_hours: 12,
    };
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A request whose session checked out: the only source of a user's [`TenantDb`].
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub db: TenantDb,
    pub session_id: SessionId,
    pub user: user::Model,
    pub role: role::Model,
    /// `(role | grant) & !revoke`, read fresh on every request.
    pub permissions: PermissionSet,
}

impl SignedIn {
    /// FORBIDDEN naming `permission` unless the user holds it. A user whose password was reset
    /// must choose a new one before anything else.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.user.must_change_password {
            return Err(AppError::PasswordChangeRequired);
        }
        if self.permissions.contains(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden {
                permission: permission.name(),
            })
        }
    }
}

/// A fresh session, for the login response.
pub struct NewSession {
    /// The cookie value; shown to the client once, stored nowhere.
    pub token: String,
    pub user: user::Model,
    pub role: role::Model,
    pub organisation: organisation::Model,
    pub max_age_seconds: i64,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session cookie's value: the organisation's id, a dot, and the token.
///
/// The organisation lets a request's session check enter its tenant before it reads the
/// session, so that on PostgreSQL the check is an ordinary tenant query (the lookup by token
/// alone runs row-level-security policies with subqueries, several times the work). It is only a
/// claim: the session found must be that organisation's, or there is none.
pub fn cookie_value(organisation: TenantId, token: &str) -> String {
    format!("{organisation}.{token}")
}

/// What a cookie value claims: the organisation (if it names one) and the token. A value that
/// names something other than an organisation id has no token.
fn read_cookie(value: &str) -> (Option<TenantId>, Option<&str>) {
    match value.split_once('.') {
        // Cookies set before they named the organisation: the token alone.
        None => (None, Some(value)),
        Some((organisation, token)) => match uuid::Uuid::parse_str(organisation) {
            Ok(id) => (Some(TenantId(id)), Some(token)),
            Err(_) => (None, None),
        },
    }
}

/// The stored hash of the token a cookie value carries.
pub fn cookie_token_hash(value: &str) -> String {
    hash_token(read_cookie(value).1.unwrap_or(value))
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

/// What a request is allowed to do with the transaction its session check began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// A query: its resolvers and loaders all read through the session check's transaction.
    Read,
    /// A mutation: the session check's transaction ends at once, and every change runs in a
    /// transaction of its own.
    Write,
}

/// A checked session, and what is left to do once the request's response is built.
pub struct Authenticated {
    pub signed_in: SignedIn,
    pub after_request: AfterRequest,
}

/// What a signed-in request still owes once its response is built: ending its shared read
/// transaction, and the session's last-seen time when due.
#[must_use = "ends the request's transaction"]
pub struct AfterRequest {
    transaction: Arc<RequestTransaction>,
    touch: Option<(TenantDb, SessionId)>,
}

impl AfterRequest {
    pub async fn run(self) -> AppResult<()> {
        self.transaction.finish().await?;
        if let Some((db, session_id)) = self.touch {
            // Its own short transaction, after the read one has ended: the read needed no write
            // lock (SQLite could not upgrade it), and no second pooled connection is held
            // while the first is.
            let tx = db.write().await?;
            tx.update_bookkeeping(
                session::Entity::update_many()
                    .col_expr(session::Column::LastSeenAt, Expr::value(Utc::now()))
                    .filter(session::Column::Id.eq(session_id)),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

/// Resolves a session token to a signed-in user, or `None` if it is not (or no longer) valid.
///
/// Checked on every request, in one statement ([`Database::begin_with_session`]): the session is
/// live (not revoked, not idle too long, not past its lifetime), its user exists *in the
/// session's organisation* and is active, and that organisation is active. The tenant comes from
/// the session row alone, never from the client. For a [`RequestKind::Read`] the handle goes on
/// reading through the transaction the check began.
pub async fn authenticate(
    db: &Database,
    cookie: &str,
    policy: &SessionPolicy,
    origin: RequestOrigin,
    kind: RequestKind,
) -> AppResult<Option<Authenticated>> {
    let (claimed, Some(token)) = read_cookie(cookie) else {
        return Ok(None);
    };
    let now = Utc::now();
    let idle_since = now - Duration::minutes(i64::from(policy.idle_minutes));
    let (tx, live) = db
        .begin_with_session(&hash_token(token), claimed, now, idle_since)
        .await?;
    let transaction = Arc::new(RequestTransaction::new(db, tx));
    let Some(LiveSession {
        session,
        user,
        role,
    }) = live
    else {
        transaction.finish().await?;
        return Ok(None);
    };
    let permissions = PermissionSet::effective(
        PermissionSet::from_stored(role.permissions),
        PermissionSet::from_stored(user.grant_mask),
        PermissionSet::from_stored(user.revoke_mask),
    );
    let handle = TenantDb::for_user(db, session.tenant_id, user.id, user.email.clone(), origin);
    let handle = match kind {
        RequestKind::Read => handle.reading_through(transaction.clone()),
        RequestKind::Write => {
            transaction.finish().await?;
            handle
        }
    };
    // The last-seen time is written at most once a minute, not on every request.
    let touch_due = now - session.last_seen_at >= Duration::seconds(TOUCH_INTERVAL_SECONDS);
    let after_request = AfterRequest {
        transaction,
        touch: touch_due.then(|| (handle.clone(), session.id)),
    };
    Ok(Some(Authenticated {
        signed_in: SignedIn {
            db: handle,
            session_id: session.id,
            user,
            role,
            permissions,
        },
        after_request,
    }))
}

/// Limits on failed sign-ins, configurable on `vaskem serve`. Counters live in the database, so
/// every node enforces the same limits.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct LoginThrottle {
    /// Failed sign-ins for one organisation's account (known or not) before it is locked (1 to
    /// 1000).
    #[arg(
        long = "login-max-failures-per-account",
        env = "VASKEM_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        default_value_t = LoginThrottle::DEFAULT.account_max_failures,
        value_parser = clap::value_parser!(i32).range(1..=1000)
    )]
    pub account_max_failures: i32,
    /// Failed sign-ins from one client address before it is locked (1 to 100000).
    #[arg(
        long = "login-max-failures-per-client",
        env = "VASKEM_LOGIN_MAX_FAILURES_PER_CLIENT",
        default_value_t = LoginThrottle::DEFAULT.client_max_failures,
        value_parser = clap::value_parser!(i32).range(1..=100_000)
    )]
    pub client_max_failures: i32,
    /// Minutes over which failures are counted (1 to 1440).
    #[arg(
        long = "login-failure-window-minutes",
        env = "VASKEM_LOGIN_FAILURE_WINDOW_MINUTES",
        default_value_t = LoginThrottle::DEFAULT.window_minutes,
        value_parser = clap::value_parser!(i64).range(1..=1440)
    )]
    pub window_minutes: i64,
    /// Minutes a locked account or address must wait (1 to 1440).
    #[arg(
        long = "login-lockout-minutes",
        env = "VASKEM_LOGIN_LOCKOUT_MINUTES",
        default_value_t = LoginThrottle::DEFAULT.lockout_minutes,
        value_parser = clap::value_parser!(i64).range(1..=1440)
    )]
    pub lockout_minutes: i64,
    /// Extra delay per failure already counted, from the second failure on (milliseconds, 0 to
    /// 5000; one sign-in waits at most 5 s).
    #[arg(
        long = "login-slowdown-ms",
        env = "VASKEM_LOGIN_SLOWDOWN_MS",
        default_value_t = LoginThrottle::DEFAULT.slowdown_ms,
        value_parser = clap::value_parser!(u64).range(0..=5000)
    )]
    pub slowdown_ms: u64,
}

impl LoginThrottle {
    /// What `vaskem serve` uses when neither flag nor environment variable says otherwise: the
    /// one place these numbers are written (clap's defaults and `Default` both read it).
    pub const DEFAULT: Self = Self {
        account_max_failures: 5,
        client_max_failures: 20,
        window_minutes: 15,
        lockout_minutes: 15,
        slowdown_ms: 500,
    };
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The most a single sign-in is slowed down.
const MAX_SLOWDOWN_MS: u64 = 5_000;

/// One organisation's account: the same email in another organisation is another account, with
/// its own count (an unknown organisation or email is counted the same way).
fn account_key(organisation: &str, email: &str) -> String {
    let account = format!("{organisation}\n{email}");
    format!(
        "account:{}",
        hex::encode(Sha256::digest(account.as_bytes()))
    )
}

/// The client address's throttle key. Callers whose address is unknown (behind a proxy that sent
/// none usable) share one key: not knowing an address must not exempt anyone from the limit.
fn client_key(origin: &RequestOrigin) -> String {
    format!(
        "client:{}",
        origin.client_addr.as_deref().unwrap_or("unknown")
    )
}

/// Checks an organisation's account (its slug, an email) and password and opens a new session.
///
/// Before checking, a locked account or client address is refused and repeated failures are
/// slowed down; each failure counts against both, and is audited in the account's organisation.
/// An unknown organisation, an unknown email and a wrong password are treated exactly alike.
/// Nothing here reads or changes another organisation's accounts.
#[expect(
    clippy::too_many_arguments,
    reason = "the settings and the three credentials"
)]
pub async fn login(
    db: &Database,
    hasher: &PasswordHasher,
    policy: &SessionPolicy,
    throttle: &LoginThrottle,
    organisation: &str,
    email: &str,
    password: String,
    origin: RequestOrigin,
) -> AppResult<NewSession> {
    let slug = organisation.trim().to_lowercase();
    let email = normalise_email(email);
    let window_seconds = throttle.window_minutes * 60;
    let lockout_seconds = throttle.lockout_minutes * 60;
    let keys = [
        (
            account_key(&slug, &email),
            AttemptLimits {
                max_failures: throttle.account_max_failures,
                window_seconds,
                lockout_seconds,
            },
            true,
        ),
        (
            client_key(&origin),
            AttemptLimits {
                max_failures: throttle.client_max_failures,
                window_seconds,
                lockout_seconds,
            },
            false,
        ),
    ];
    let now = Utc::now().timestamp();
    // Take an attempt on every key before any password is checked.
    let mut taken = Vec::with_capacity(keys.len());
    let mut locked_until = None;
    for (key, limits, forget_on_success) in &keys {
        match db.take_attempt(key, now, *limits).await? {
            Attempt::Allowed { number } => taken.push((key, *limits, *forget_on_success, number)),
            Attempt::Refused {
                locked_until: until,
            } => {
                locked_until = locked_until.max(Some(until));
            }
        }
    }
    if let Some(until) = locked_until {
        // Refused before any check: the attempts taken on other keys are given back.
        for (key, _, _, _) in &taken {
            db.attempt_succeeded(key, now, false).await?;
        }
        return Err(AppError::LockedOut {
            retry_after_seconds: (until - now).max(1),
        });
    }
    let earlier_failures = taken
        .iter()
        .map(|(_, _, _, number)| number - 1)
        .max()
        .unwrap_or(0);
    if earlier_failures >= 1 && throttle.slowdown_ms > 0 {
        let delay = throttle
            .slowdown_ms
            .saturating_mul(u64::try_from(earlier_failures).unwrap_or(0))
            .min(MAX_SLOWDOWN_MS);
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }

    let outcome = check_credentials(db, hasher, &slug, &email, password.clone()).await?;
    let Some(user) = outcome.user else {
        let mut locked = None;
        for (key, limits, _, number) in &taken {
            if let Some(until) = db.attempt_failed(key, *number, now, *limits).await? {
                locked = locked.max(Some(until - now));
            }
        }
        match outcome.known_user {
            Some(known) => record_failed_login(db, &known, origin.clone(), locked).await?,
            None if locked.is_some() => {
                tracing::warn!(client = ?origin.client_addr, "sign-in locked for an unknown organisation or email");
            }
            None => {}
        }
        return Err(match locked {
            Some(retry_after_seconds) => AppError::LockedOut {
                retry_after_seconds,
            },
            None => AppError::InvalidCredentials,
        });
    };
    for (key, _, forget, _) in &taken {
        db.attempt_succeeded(key, now, *forget).await?;
    }

    let handle = TenantDb::for_user(
        db,
        user.tenant_id,
        user.id,
        user.email.clone(),
        origin.clone(),
    );
    let mut tx = handle.write().await?;
    // A hash made with weaker parameters is replaced now that we know the password.
    let upgrade_hash = hasher.needs_rehash(&user.password_hash);
    if upgrade_hash {
        let upgraded = hasher.hash(password).await?;
        tx.update_bookkeeping(
            user::Entity::update_many()
                .col_expr(user::Column::PasswordHash, Expr::value(upgraded))
                .filter(user::Column::Id.eq(user.id)),
        )
        .await?;
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
    tx.record(AuditRecord::new("user.login", "user", user.id).with_change(
        json!(null),
        json!({ "session": session.id.to_string(), "passwordHashUpgraded": upgrade_hash }),
    ))
    .await?;
    let role = tx
        .find_by_id::<role::Entity>(user.role_id)
        .await?
        .ok_or(AppError::NotFound { entity: "role" })?;
    let organisation = tx
        .find_by_id::<organisation::Entity>(user.tenant_id)
        .await?
        .ok_or(AppError::NotFound {
            entity: "organisation",
        })?;
    tx.commit().await?;
    Ok(NewSession {
        token,
        user,
        role,
        organisation,
        max_age_seconds: lifetime.num_seconds(),
    })
}

struct CredentialCheck {
    /// The account signed in to, if the password matched an active user of an active organisation.
    user: Option<user::Model>,
    /// For a failure: the account the email named, if any, to audit the failure in its organisation.
    known_user: Option<user::Model>,
}

async fn check_credentials(
    db: &Database,
    hasher: &PasswordHasher,
    slug: &str,
    email: &str,
    password: String,
) -> AppResult<CredentialCheck> {
    // No stored slug or email holds control characters, and PostgreSQL cannot even compare a
    // NUL byte.
    let plausible = !slug.chars().any(char::is_control)
        && !email.chars().any(char::is_control)
        && slug.len() <= crate::service::text::MAX_SLUG_CHARS
        && email.len() <= 254;
    let found = if plausible {
        db.find_login_account(slug, email).await?
    } else {
        None
    };
    let Some((organisation, Some(account))) = found else {
        // The same work as a real check, so timing does not tell which organisations and
        // emails exist.
        hasher.hash(password).await?;
        return Ok(CredentialCheck {
            user: None,
            known_user: None,
        });
    };
    let matches = hasher
        .verify(password, account.password_hash.clone())
        .await?;
    let active = account.is_active && organisation.is_active;
    Ok(CredentialCheck {
        user: (matches && active).then(|| account.clone()),
        known_user: Some(account),
    })
}

/// Audits a failed (and, if it tipped the limit, locked) sign-in in the named account's
/// organisation. The password is never recorded.
async fn record_failed_login(
    db: &Database,
    user: &user::Model,
    origin: RequestOrigin,
    locked_for_seconds: Option<i64>,
) -> AppResult<()> {
    let handle = TenantDb::for_user(db, user.tenant_id, user.id, user.email.clone(), origin);
    let mut tx = handle.write().await?;
    tx.record(AuditRecord::new("user.login", "user", user.id).with_outcome(Outcome::Failure))
        .await?;
    if let Some(seconds) = locked_for_seconds {
        tx.record(
            AuditRecord::new("user.lockout", "user", user.id)
                .with_outcome(Outcome::Denied)
                .with_change(json!(null), json!({ "lockedForSeconds": seconds })),
        )
        .await?;
    }
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

/// Checks that the caller knows their own password, before a sensitive operation (changing it,
/// exporting the organisation's data). A wrong `password` is audited as a failed `action`, is
/// BAD_USER_INPUT on `field`, and counts against the same per-account limit as sign-in, so a
/// stolen session cannot brute-force its way around the lockout.
pub async fn reauthenticate(
    db: &Database,
    (hasher, throttle): (&PasswordHasher, &LoginThrottle),
    signed_in: &SignedIn,
    password: String,
    (field, action): (&'static str, &'static str),
) -> AppResult<()> {
    let organisation = crate::service::organisations::current(&signed_in.db).await?;
    let key = account_key(&organisation.slug, &normalise_email(&signed_in.user.email));
    let limits = AttemptLimits {
        max_failures: throttle.account_max_failures,
        window_seconds: throttle.window_minutes * 60,
        lockout_seconds: throttle.lockout_minutes * 60,
    };
    let now = Utc::now().timestamp();
    let number = match db.take_attempt(&key, now, limits).await? {
        Attempt::Allowed { number } => number,
        Attempt::Refused { locked_until } => {
            return Err(AppError::LockedOut {
                retry_after_seconds: (locked_until - now).max(1),
            });
        }
    };
    if !hasher
        .verify(password, signed_in.user.password_hash.clone())
        .await?
    {
        let locked = db.attempt_failed(&key, number, now, limits).await?;
        let mut tx = signed_in.db.write().await?;
        tx.record(
            AuditRecord::new(action, "user", signed_in.user.id)
                .with_outcome(Outcome::Failure)
                .with_change(json!(null), json!({ "reason": "wrong current password" })),
        )
        .await?;
        tx.commit().await?;
        if let Some(until) = locked {
            return Err(AppError::LockedOut {
                retry_after_seconds: (until - now).max(1),
            });
        }
        return Err(AppError::bad_input(
            field,
            "the current password is not right",
        ));
    }
    db.attempt_succeeded(&key, now, false).await?;
    Ok(())
}

/// Changes the caller's own password: the current one must be right, the new one must meet the
/// rules. Every other session of the user ends; this one stays.
pub async fn change_password(
    db: &Database,
    (hasher, throttle): (&PasswordHasher, &LoginThrottle),
    signed_in: &SignedIn,
    current: String,
    new: String,
) -> AppResult<()> {
    reauthenticate(
        db,
        (hasher, throttle),
        signed_in,
        current,
        ("current", "user.password_change"),
    )
    .await?;
    // The rules name their field `password` (as for `org create`); here it is the input's `new`.
    hasher
        .check_policy(&new, &signed_in.user.email)
        .map_err(|err| match err {
            AppError::BadUserInput { message, .. } => AppError::BadUserInput {
                field: Some("new"),
                message,
            },
            other => other,
        })?;
    if hasher
        .verify(new.clone(), signed_in.user.password_hash.clone())
        .await?
    {
        return Err(AppError::bad_input(
            "new",
            "choose a password different from the current one",
        ));
    }
    let new_hash = hasher.hash(new).await?;
    let mut tx = signed_in.db.write().await?;
    tx.update_many(
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(new_hash))
            .col_expr(user::Column::MustChangePassword, Expr::value(false))
            .filter(user::Column::Id.eq(signed_in.user.id)),
    )
    .await?;
    let ended = tx
        .update_many(
            session::Entity::update_many()
                .col_expr(session::Column::RevokedAt, Expr::value(Some(Utc::now())))
                .filter(session::Column::UserId.eq(signed_in.user.id))
                .filter(session::Column::Id.ne(signed_in.session_id))
                .filter(session::Column::RevokedAt.is_null()),
        )
        .await?;
    tx.record(
        AuditRecord::new("user.password_change", "user", signed_in.user.id).with_change(
            json!({ "mustChangePassword": signed_in.user.must_change_password }),
            json!({ "mustChangePassword": false, "otherSessionsEnded": ended }),
        ),
    )
    .await?;
    tx.commit().await
}

/// What the caller's session list may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SessionOrder {
    /// When the session began (ids are time-ordered).
    #[default]
    Created,
    LastSeen,
}

/// A page of the caller's live sessions, optionally only those from one client address.
pub async fn my_sessions(
    signed_in: &SignedIn,
    client_address: Option<&str>,
    order: SessionOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<session::Model>> {
    let tx = signed_in.db.read().await?;
    let now = Utc::now();
    let mut query = session::Entity::find()
        .filter(session::Column::UserId.eq(signed_in.user.id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now));
    if let Some(address) = client_address {
        query = query.filter(session::Column::ClientAddr.eq(address));
    }
    let columns = match order {
        SessionOrder::Created => vec![session::Column::Id],
        SessionOrder::LastSeen => vec![session::Column::LastSeenAt, session::Column::Id],
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

/// Ends one of the caller's own sessions; anyone else's is "not found".
pub async fn revoke_session(signed_in: &SignedIn, id: SessionId) -> AppResult<()> {
    let mut tx = signed_in.db.write().await?;
    let ended = tx
        .update_many(
            session::Entity::update_many()
                .col_expr(session::Column::RevokedAt, Expr::value(Some(Utc::now())))
                .filter(session::Column::Id.eq(id))
                .filter(session::Column::UserId.eq(signed_in.user.id))
                .filter(session::Column::RevokedAt.is_null()),
        )
        .await?;
    if ended == 0 {
        return Err(AppError::NotFound { entity: "session" });
    }
    tx.record(AuditRecord::new("session.revoke", "session", id))
        .await?;
    tx.commit().await
}
