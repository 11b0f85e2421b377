//! User administration: invite, deactivate and reactivate, reset passwords, change roles, set
//! per-user permission overrides.
//!
//! Acting on a user needs every permission that user holds (otherwise resetting their password
//! would be a way into more power than one has), granting needs every permission granted, and
//! an organisation always keeps at least one active owner.

use chrono::Utc;
use entity::{RoleId, UserId, role, session, user};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;

use crate::audit::AuditRecord;
use crate::auth::password::{self, PasswordHasher};
use crate::auth::permission::{Permission, PermissionSet};
use crate::auth::session::SignedIn;
use crate::error::{AppError, AppResult, on_duplicate};
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::roles::{self, check_can_grant};
use crate::service::text;
use crate::tenancy::{TenantDb, TenantTx};

/// What a user list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    /// Email or display name, case-insensitive, partial.
    pub search: Option<String>,
    pub active: Option<bool>,
    pub role_id: Option<RoleId>,
}

/// What a user list may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UserOrder {
    #[default]
    Email,
    DisplayName,
    /// Creation order (ids are time-ordered).
    Created,
}

/// A page of the organisation's users.
pub async fn list(
    caller: &SignedIn,
    filter: &UserFilter,
    order: UserOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<user::Model>> {
    let tx = caller.db.read().await?;
    let mut query = user::Entity::find();
    if let Some(pattern) = text::search_pattern(filter.search.as_deref())? {
        query = query.filter(
            Condition::any()
                .add(text::lower(user::Column::Email).like(pattern.clone()))
                .add(text::lower(user::Column::DisplayName).like(pattern)),
        );
    }
    if let Some(active) = filter.active {
        query = query.filter(user::Column::IsActive.eq(active));
    }
    if let Some(role_id) = filter.role_id {
        roles::find(&tx, role_id).await?;
        query = query.filter(user::Column::RoleId.eq(role_id));
    }
    let columns = match order {
        UserOrder::Email => vec![user::Column::Email, user::Column::Id],
        UserOrder::DisplayName => vec![user::Column::DisplayName, user::Column::Id],
        UserOrder::Created => vec![user::Column::Id],
    };
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

pub async fn get(caller: &SignedIn, id: UserId) -> AppResult<user::Model> {
    let tx = caller.db.read().await?;
    find(&tx, id).await
}

async fn find(tx: &TenantTx, id: UserId) -> AppResult<user::Model> {
    tx.find_by_id::<user::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "user" })
}

/// A user's effective permissions.
pub fn effective(user: &user::Model, role: &role::Model) -> PermissionSet {
    PermissionSet::effective(
        PermissionSet::from_stored(role.permissions),
        PermissionSet::from_stored(user.grant_mask),
        PermissionSet::from_stored(user.revoke_mask),
    )
}

/// Loads a user the caller means to act on, and checks the caller outranks them.
async fn target(
    tx: &TenantTx,
    caller: &SignedIn,
    id: UserId,
) -> AppResult<(user::Model, role::Model)> {
    let user = find(tx, id).await?;
    let role = roles::find(tx, user.role_id).await?;
    check_can_grant(caller.permissions, effective(&user, &role))?;
    Ok((user, role))
}

fn is_owner(user: &user::Model, role: &role::Model) -> bool {
    role.is_builtin && role.name == roles::OWNER && user.is_active && user.revoke_mask == 0
}

/// Refuses a change that would leave no active, unrestricted owner besides `leaving`.
async fn ensure_another_owner(
    tx: &TenantTx,
    leaving: &user::Model,
    role: &role::Model,
) -> AppResult<()> {
    if !is_owner(leaving, role) {
        return Ok(());
    }
    // Two owners demoting each other at once must not both succeed: every change that can remove
    // an owner first locks the Owner role's row, so they run one after the other and the second
    // counts what the first left.
    tx.one(
        role::Entity::find()
            .filter(role::Column::Id.eq(role.id))
            .lock_exclusive(),
    )
    .await?;
    let others = tx
        .count(
            user::Entity::find()
                .filter(user::Column::RoleId.eq(role.id))
                .filter(user::Column::IsActive.eq(true))
                .filter(user::Column::RevokeMask.eq(0))
                .filter(user::Column::Id.ne(leaving.id)),
        )
        .await?;
    if others == 0 {
        return Err(AppError::Conflict(
            "an organisation must keep at least one active owner".into(),
        ));
    }
    Ok(())
}

async fn end_sessions(tx: &mut TenantTx, user: UserId) -> AppResult<()> {
    tx.update_many(
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(Some(Utc::now())))
            .filter(session::Column::UserId.eq(user))
            .filter(session::Column::RevokedAt.is_null()),
    )
    .await?;
    Ok(())
}

fn snapshot(user: &user::Model, role: &role::Model) -> serde_json::Value {
    let names = |mask: i64| {
        PermissionSet::from_stored(mask)
            .permissions()
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
    };
    json!({
        "email": user.email,
        "displayName": user.display_name,
        "active": user.is_active,
        "role": role.name,
        "grant": names(user.grant_mask),
        "revoke": names(user.revoke_mask),
        "mustChangePassword": user.must_change_password,
    })
}

pub struct InviteInput {
    pub email: String,
    pub display_name: String,
    pub role_id: RoleId,
}

/// A new user and the one-time password to hand them; they must change it at first sign-in.
pub struct Invited {
    pub user: user::Model,
    pub temporary_password: String,
}

pub async fn invite(
    caller: &SignedIn,
    hasher: &PasswordHasher,
    input: InviteInput,
) -> AppResult<Invited> {
    let email = text::email("email", &input.email)?;
    let display_name = match input.display_name.trim() {
        "" => email.clone(),
        name => text::single_line("displayName", name, 200)?,
    };
    let temporary_password = password::generate()?;
    let password_hash = hasher.hash(temporary_password.clone()).await?;
    let mut tx = caller.db.write().await?;
    let role = roles::find_to_assign(&tx, input.role_id).await?;
    check_can_grant(
        caller.permissions,
        PermissionSet::from_stored(role.permissions),
    )?;
    let taken = tx
        .one(user::Entity::find().filter(user::Column::Email.eq(email.as_str())))
        .await?;
    if taken.is_some() {
        return Err(AppError::Conflict(format!(
            "{email} is already a user here"
        )));
    }
    let email_shown = email.clone();
    let user = tx
        .insert(user::ActiveModel {
            id: Set(UserId::generate()),
            tenant_id: Set(tx.tenant()),
            email: Set(email),
            display_name: Set(display_name),
            password_hash: Set(password_hash),
            is_active: Set(true),
            created_at: Set(Utc::now()),
            role_id: Set(role.id),
            grant_mask: Set(0),
            revoke_mask: Set(0),
            must_change_password: Set(true),
        })
        .await
        .map_err(on_duplicate(|| {
            format!("{email_shown} is already a user here")
        }))?;
    tx.record(
        AuditRecord::new("user.invite", "user", user.id)
            .with_change(json!(null), snapshot(&user, &role)),
    )
    .await?;
    tx.commit().await?;
    Ok(Invited {
        user,
        temporary_password,
    })
}

pub async fn set_active(caller: &SignedIn, id: UserId, active: bool) -> AppResult<user::Model> {
    let mut tx = caller.db.write().await?;
    let (before, role) = target(&tx, caller, id).await?;
    if before.is_active == active {
        return Ok(before);
    }
    if !active {
        ensure_another_owner(&tx, &before, &role).await?;
        end_sessions(&mut tx, id).await?;
    }
    tx.update_many(
        user::Entity::update_many()
            .col_expr(user::Column::IsActive, Expr::value(active))
            .filter(user::Column::Id.eq(id)),
    )
    .await?;
    let after = user::Model {
        is_active: active,
        ..before.clone()
    };
    let action = if active {
        "user.reactivate"
    } else {
        "user.deactivate"
    };
    tx.record(
        AuditRecord::new(action, "user", id)
            .with_change(snapshot(&before, &role), snapshot(&after, &role)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The operator's reset (`vaskem user reset-password`): sets a new one-time password for the
/// user with `email` in `db`'s organisation, activates them, ends their sessions and makes them
/// choose a new password at sign-in. The way into a restored organisation, whose users come back
/// inactive and with no usable password. Returns the user and the one-time password.
pub async fn operator_reset_password(
    db: &TenantDb,
    hasher: &PasswordHasher,
    email: &str,
) -> AppResult<(user::Model, String)> {
    let email = text::email("email", email)?;
    let temporary_password = password::generate()?;
    let password_hash = hasher.hash(temporary_password.clone()).await?;
    let mut tx = db.write().await?;
    let before = tx
        .one(user::Entity::find().filter(user::Column::Email.eq(email.as_str())))
        .await?
        .ok_or(AppError::NotFound { entity: "user" })?;
    let role = roles::find(&tx, before.role_id).await?;
    tx.update_many(
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
            .col_expr(user::Column::MustChangePassword, Expr::value(true))
            .col_expr(user::Column::IsActive, Expr::value(true))
            .filter(user::Column::Id.eq(before.id)),
    )
    .await?;
    end_sessions(&mut tx, before.id).await?;
    let after = user::Model {
        must_change_password: true,
        is_active: true,
        ..before.clone()
    };
    tx.record(
        AuditRecord::new("user.password_reset", "user", before.id)
            .with_change(snapshot(&before, &role), snapshot(&after, &role)),
    )
    .await?;
    tx.commit().await?;
    Ok((after, temporary_password))
}

/// Sets a new one-time password, ends the user's sessions and makes them choose a new one.
pub async fn reset_password(
    caller: &SignedIn,
    hasher: &PasswordHasher,
    id: UserId,
) -> AppResult<String> {
    let temporary_password = password::generate()?;
    let password_hash = hasher.hash(temporary_password.clone()).await?;
    let mut tx = caller.db.write().await?;
    let (before, role) = target(&tx, caller, id).await?;
    tx.update_many(
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
            .col_expr(user::Column::MustChangePassword, Expr::value(true))
            .filter(user::Column::Id.eq(id)),
    )
    .await?;
    end_sessions(&mut tx, id).await?;
    let after = user::Model {
        must_change_password: true,
        ..before.clone()
    };
    tx.record(
        AuditRecord::new("user.password_reset", "user", id)
            .with_change(snapshot(&before, &role), snapshot(&after, &role)),
    )
    .await?;
    tx.commit().await?;
    Ok(temporary_password)
}

pub async fn change_role(caller: &SignedIn, id: UserId, role_id: RoleId) -> AppResult<user::Model> {
    let mut tx = caller.db.write().await?;
    let (before, old_role) = target(&tx, caller, id).await?;
    let new_role = roles::find_to_assign(&tx, role_id).await?;
    let after = user::Model {
        role_id: new_role.id,
        ..before.clone()
    };
    // The whole role, and what the user can do with it (their grants included).
    check_can_grant(
        caller.permissions,
        PermissionSet::from_stored(new_role.permissions).union(effective(&after, &new_role)),
    )?;
    if old_role.id != new_role.id {
        ensure_another_owner(&tx, &before, &old_role).await?;
    }
    tx.update_many(
        user::Entity::update_many()
            .col_expr(user::Column::RoleId, Expr::value(new_role.id))
            .filter(user::Column::Id.eq(id)),
    )
    .await?;
    tx.record(
        AuditRecord::new("user.change_role", "user", id)
            .with_change(snapshot(&before, &old_role), snapshot(&after, &new_role)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn set_overrides(
    caller: &SignedIn,
    id: UserId,
    grant: &[Permission],
    revoke: &[Permission],
) -> AppResult<user::Model> {
    let grant = PermissionSet::of(grant);
    let revoke = PermissionSet::of(revoke);
    check_can_grant(caller.permissions, grant.union(revoke))?;
    let mut tx = caller.db.write().await?;
    let (before, role) = target(&tx, caller, id).await?;
    let after = user::Model {
        grant_mask: grant.to_stored(),
        revoke_mask: revoke.to_stored(),
        ..before.clone()
    };
    // Lifting a revoke hands a permission back just as a grant does: the caller must hold
    // everything the user will be able to do afterwards (which also stops anyone lifting a revoke
    // placed on themselves).
    check_can_grant(caller.permissions, effective(&after, &role))?;
    if revoke != PermissionSet::EMPTY {
        ensure_another_owner(&tx, &before, &role).await?;
    }
    tx.update_many(
        user::Entity::update_many()
            .col_expr(user::Column::GrantMask, Expr::value(grant.to_stored()))
            .col_expr(user::Column::RevokeMask, Expr::value(revoke.to_stored()))
            .filter(user::Column::Id.eq(id)),
    )
    .await?;
    tx.record(
        AuditRecord::new("user.set_overrides", "user", id)
            .with_change(snapshot(&before, &role), snapshot(&after, &role)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
