//! Roles: the built-in ones every organisation starts with, and custom ones its admins make.
//!
//! Nobody can hand out a permission they do not hold: creating or changing a role needs every
//! permission the role will carry (and, when changing, every one it carried before).

use chrono::Utc;
use entity::{RoleId, role, user};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;

use crate::audit::AuditRecord;
use crate::auth::permission::{Permission, PermissionSet};
use crate::error::{AppError, AppResult, on_duplicate};
use crate::service::paging::{self, ListOrder, Page, PageRequest};
use crate::service::text;
use crate::tenancy::{TenantDb, TenantTx};

pub const OWNER: &str = "Owner";

/// The built-in roles: (name, description, permissions).
pub fn builtin_roles() -> Vec<(&'static str, &'static str, PermissionSet)> {
    use Permission::*;
    let views = [
        ProductsView,
        WarehousesView,
        LocationsView,
        StockView,
        SuppliersView,
        ReceiptsView,
        CustomersView,
        OrdersView,
        PickingView,
        DispatchView,
        CarriersView,
        ShipmentsView,
        OrganisationView,
        ReportsView,
    ];
    let operator = [
        StockAdjust,
        StockTransfer,
        StockCount,
        ReceiptsReceive,
        PickingPerform,
        DispatchPerform,
        ShipmentsUpdate,
    ];
    let manager = [
        ProductsCreate,
        ProductsEdit,
        ProductsArchive,
        WarehousesManage,
        LocationsManage,
        StockCountApprove,
        SuppliersManage,
        ReceiptsCreate,
        CustomersManage,
        OrdersCreate,
        OrdersEdit,
        OrdersCancel,
        CarriersManage,
        ShipmentsCreate,
        UsersView,
        RolesView,
        AuditView,
        ReportsExport,
        IntegrationsView,
    ];
    let viewer = PermissionSet::of(&views);
    let operator = viewer.union(PermissionSet::of(&operator));
    let manager = operator.union(PermissionSet::of(&manager));
    vec![
        (
            OWNER,
            "Everything, including users, roles, backups and settings.",
            PermissionSet::ALL,
        ),
        (
            "Manager",
            "Runs the warehouse: all operations and master data; sees users and the audit log.",
            manager,
        ),
        (
            "Operator",
            "Does the floor work: receiving, stock moves and counts, picking, dispatch.",
            operator,
        ),
        (
            "Viewer",
            "Sees everything operational, changes nothing.",
            viewer,
        ),
    ]
}

/// Creates the built-in roles in a new organisation; returns the Owner role's id.
pub(crate) async fn create_builtin(tx: &mut TenantTx) -> AppResult<RoleId> {
    let mut owner = None;
    for (name, description, permissions) in builtin_roles() {
        let created = tx
            .insert(role::ActiveModel {
                id: Set(RoleId::generate()),
                tenant_id: Set(tx.tenant()),
                name: Set(name.to_owned()),
                description: Set(description.to_owned()),
                permissions: Set(permissions.to_stored()),
                is_builtin: Set(true),
                created_at: Set(Utc::now()),
            })
            .await?;
        if name == OWNER {
            owner = Some(created.id);
        }
    }
    owner.ok_or_else(|| AppError::Internal("no Owner role defined".into()))
}

/// What a role list may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct RoleFilter {
    /// Name, case-insensitive, partial.
    pub search: Option<String>,
    pub builtin: Option<bool>,
}

/// What a role list may be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RoleOrder {
    #[default]
    Name,
    /// Creation order (ids are time-ordered).
    Created,
}

/// A page of the organisation's roles.
pub async fn list(
    db: &TenantDb,
    filter: &RoleFilter,
    order: RoleOrder,
    descending: bool,
    request: &PageRequest,
) -> AppResult<Page<role::Model>> {
    let mut query = role::Entity::find();
    if let Some(pattern) = text::search_pattern(filter.search.as_deref())? {
        query = query.filter(text::lower(role::Column::Name).like(pattern));
    }
    if let Some(builtin) = filter.builtin {
        query = query.filter(role::Column::IsBuiltin.eq(builtin));
    }
    let columns = match order {
        RoleOrder::Name => vec![role::Column::Name, role::Column::Id],
        RoleOrder::Created => vec![role::Column::Id],
    };
    let tx = db.read().await?;
    paging::page(&tx, query, &ListOrder::new(columns, descending), request).await
}

pub async fn get(db: &TenantDb, id: RoleId) -> AppResult<role::Model> {
    let tx = db.read().await?;
    find(&tx, id).await
}

pub(crate) async fn find(tx: &TenantTx, id: RoleId) -> AppResult<role::Model> {
    tx.find_by_id::<role::Entity>(id)
        .await?
        .ok_or(AppError::NotFound { entity: "role" })
}

/// The role a user is about to be given, share-locked until the change commits: deleting the
/// role (which locks it exclusively, then counts its holders) waits for the new holder, or this
/// waits for the deletion and finds no role. Without it the two pass each other and the user's
/// foreign key fails.
pub(crate) async fn find_to_assign(tx: &TenantTx, id: RoleId) -> AppResult<role::Model> {
    tx.one(role::Entity::find_by_id(id).lock_shared())
        .await?
        .ok_or(AppError::NotFound { entity: "role" })
}

fn clean_name(name: &str) -> AppResult<String> {
    text::single_line("name", name, 100)
}

/// Refuses to hand out permissions the caller does not hold.
pub(crate) fn check_can_grant(caller: PermissionSet, wanted: PermissionSet) -> AppResult<()> {
    match wanted.minus(caller).permissions().first() {
        None => Ok(()),
        Some(missing) => Err(AppError::Forbidden {
            permission: missing.name(),
        }),
    }
}

fn snapshot(role: &role::Model) -> serde_json::Value {
    json!({
        "name": role.name,
        "description": role.description,
        "permissions": PermissionSet::from_stored(role.permissions)
            .permissions()
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>(),
    })
}

pub struct RoleInput {
    pub name: String,
    pub description: String,
    pub permissions: Vec<Permission>,
}

pub async fn create(
    db: &TenantDb,
    caller: PermissionSet,
    input: RoleInput,
) -> AppResult<role::Model> {
    let name = clean_name(&input.name)?;
    let description = text::multi_line("description", &input.description, 500)?;
    let permissions = PermissionSet::of(&input.permissions);
    check_can_grant(caller, permissions)?;
    let mut tx = db.write().await?;
    ensure_name_free(&tx, &name, None).await?;
    let name_shown = name.clone();
    let created = tx
        .insert(role::ActiveModel {
            id: Set(RoleId::generate()),
            tenant_id: Set(tx.tenant()),
            name: Set(name),
            description: Set(description),
            permissions: Set(permissions.to_stored()),
            is_builtin: Set(false),
            created_at: Set(Utc::now()),
        })
        .await
        .map_err(on_duplicate(|| {
            format!("a role named {name_shown:?} already exists")
        }))?;
    tx.record(
        AuditRecord::new("role.create", "role", created.id)
            .with_change(json!(null), snapshot(&created)),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

async fn ensure_name_free(tx: &TenantTx, name: &str, except: Option<RoleId>) -> AppResult<()> {
    let existing = tx
        .one(role::Entity::find().filter(role::Column::Name.eq(name)))
        .await?;
    match existing {
        Some(role) if Some(role.id) != except => Err(AppError::Conflict(format!(
            "a role named {name:?} already exists"
        ))),
        _ => Ok(()),
    }
}

pub async fn update(
    db: &TenantDb,
    caller: PermissionSet,
    id: RoleId,
    input: RoleInput,
) -> AppResult<role::Model> {
    let name = clean_name(&input.name)?;
    let description = text::multi_line("description", &input.description, 500)?;
    let permissions = PermissionSet::of(&input.permissions);
    let mut tx = db.write().await?;
    let before = find(&tx, id).await?;
    if before.name == OWNER && before.is_builtin {
        return Err(AppError::Conflict(
            "the Owner role always holds every permission".into(),
        ));
    }
    if before.is_builtin && name != before.name {
        return Err(AppError::Conflict(
            "built-in roles cannot be renamed".into(),
        ));
    }
    // Changing a role is acting on everyone who holds it, so the caller needs what the role
    // gains, what it held, and everything each holder holds (per-user grants included): the rule
    // for acting on a user.
    let holders = tx
        .all(user::Entity::find().filter(user::Column::RoleId.eq(id)))
        .await?;
    let held = holders.iter().fold(
        PermissionSet::from_stored(before.permissions),
        |held, holder| held.union(super::users::effective(holder, &before)),
    );
    check_can_grant(caller, permissions.union(held))?;
    ensure_name_free(&tx, &name, Some(id)).await?;
    tx.update_many(
        role::Entity::update_many()
            .col_expr(role::Column::Name, Expr::value(name.clone()))
            .col_expr(role::Column::Description, Expr::value(description.clone()))
            .col_expr(
                role::Column::Permissions,
                Expr::value(permissions.to_stored()),
            )
            .filter(role::Column::Id.eq(id)),
    )
    .await
    .map_err(on_duplicate(|| {
        format!("a role named {name:?} already exists")
    }))?;
    let after = role::Model {
        name,
        description,
        permissions: permissions.to_stored(),
        ..before.clone()
    };
    tx.record(
        AuditRecord::new("role.update", "role", id)
            .with_change(snapshot(&before), snapshot(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete(db: &TenantDb, caller: PermissionSet, id: RoleId) -> AppResult<()> {
    let mut tx = db.write().await?;
    // Exclusive before the holders are counted: a user being given this role meanwhile holds it
    // share-locked (`find_to_assign`), so the count sees them, or they see no role.
    let role = tx
        .one(role::Entity::find_by_id(id).lock_exclusive())
        .await?
        .ok_or(AppError::NotFound { entity: "role" })?;
    if role.is_builtin {
        return Err(AppError::Conflict(
            "built-in roles cannot be deleted".into(),
        ));
    }
    check_can_grant(caller, PermissionSet::from_stored(role.permissions))?;
    let holders = tx
        .count(user::Entity::find().filter(user::Column::RoleId.eq(id)))
        .await?;
    if holders > 0 {
        return Err(AppError::Conflict(format!(
            "role is held by {holders} user(s); give them another role first"
        )));
    }
    tx.delete_many(role::Entity::delete_many().filter(role::Column::Id.eq(id)))
        .await?;
    tx.record(
        AuditRecord::new("role.delete", "role", id).with_change(snapshot(&role), json!(null)),
    )
    .await?;
    tx.commit().await
}
