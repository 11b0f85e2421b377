//! Organisations (tenants): creating one with its first administrator, reading and renaming it.

use chrono::Utc;
use entity::{TenantId, UserId, organisation, user};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, SqlErr,
    sea_query::Expr,
};
use serde_json::json;

use crate::audit::{self, AuditRecord};
use crate::auth::password::{self, PasswordHasher};
use crate::error::{AppError, AppResult};
use crate::service::{roles, text};
use crate::tenancy::{Database, TenantDb};

/// What `vaskem org create` asks for.
pub struct NewOrganisation {
    pub name: String,
    /// What sign-in names the organisation by; made from the name when not given.
    pub slug: Option<String>,
    pub admin_email: String,
    pub admin_password: String,
}

/// The ids a new organisation starts with.
#[derive(Clone, Debug)]
pub struct CreatedOrganisation {
    pub organisation_id: TenantId,
    pub slug: String,
    pub admin_user_id: UserId,
}

fn clean_name(name: &str) -> AppResult<String> {
    text::single_line("name", name, 200)
}

/// Creates an organisation, its audit chain and its first administrator, in one transaction.
pub async fn create(
    db: &Database,
    hasher: &PasswordHasher,
    input: NewOrganisation,
) -> AppResult<CreatedOrganisation> {
    let name = clean_name(&input.name)?;
    let slug = match &input.slug {
        Some(slug) => text::slug("slug", slug)?,
        None => text::slug("slug", &text::slug_from_name(&name)).map_err(|_| {
            AppError::bad_input("slug", "no slug can be made from this name: give one")
        })?,
    };
    let email = text::email("adminEmail", &input.admin_email)?;
    hasher.check_policy(&input.admin_password, &email)?;
    let password_hash = hasher.hash(input.admin_password).await?;

    let organisation_id = TenantId::generate();
    let admin_user_id = UserId::generate();
    let now = Utc::now();
    let mut tx = TenantDb::for_operator(db, organisation_id).write().await?;
    tx.insert(organisation::ActiveModel {
        id: Set(organisation_id),
        name: Set(name.clone()),
        slug: Set(slug.clone()),
        is_active: Set(true),
        created_at: Set(now),
        receipt_tolerance_percent: Set(0),
    })
    .await
    .map_err(|err| match err.sql_err() {
        // Slugs are the one key shared by all organisations: only the operator creates them.
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict(format!(
            "an organisation with the slug {slug:?} already exists"
        )),
        _ => err.into(),
    })?;
    audit::start_chain(&mut tx).await?;
    let owner_role = roles::create_builtin(&mut tx).await?;
    tx.insert(user::ActiveModel {
        id: Set(admin_user_id),
        tenant_id: Set(organisation_id),
        email: Set(email.clone()),
        display_name: Set(email.clone()),
        password_hash: Set(password_hash),
        is_active: Set(true),
        created_at: Set(now),
        role_id: Set(owner_role),
        grant_mask: Set(0),
        revoke_mask: Set(0),
        must_change_password: Set(false),
    })
    .await?;
    tx.record(
        AuditRecord::new("organisation.create", "organisation", organisation_id)
            .with_change(json!(null), json!({ "name": name, "slug": slug })),
    )
    .await?;
    tx.record(
        AuditRecord::new("user.create", "user", admin_user_id).with_change(
            json!(null),
            json!({ "email": email, "active": true, "role": roles::OWNER }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedOrganisation {
        organisation_id,
        slug,
        admin_user_id,
    })
}

/// The caller's own organisation.
pub async fn current(db: &TenantDb) -> AppResult<organisation::Model> {
    let tx = db.read().await?;
    tx.find_by_id::<organisation::Entity>(db.tenant())
        .await?
        .ok_or(AppError::NotFound {
            entity: "organisation",
        })
}

/// Renames the caller's organisation.
pub async fn rename(db: &TenantDb, new_name: &str) -> AppResult<organisation::Model> {
    let name = clean_name(new_name)?;
    let mut tx = db.write().await?;
    let before = tx
        .find_by_id::<organisation::Entity>(db.tenant())
        .await?
        .ok_or(AppError::NotFound {
            entity: "organisation",
        })?;
    tx.update_many(
        organisation::Entity::update_many()
            .col_expr(organisation::Column::Name, Expr::value(name.clone())),
    )
    .await?;
    tx.record(
        AuditRecord::new("organisation.rename", "organisation", before.id)
            .with_change(json!({ "name": before.name }), json!({ "name": name })),
    )
    .await?;
    tx.commit().await?;
    Ok(organisation::Model { name, ..before })
}

/// Sets how far past the ordered quantity a receipt may go, in percent (0 to 100). Audited as
/// `organisation.set_receipt_tolerance`.
pub async fn set_receipt_tolerance(db: &TenantDb, percent: i32) -> AppResult<organisation::Model> {
    if !(0..=100).contains(&percent) {
        return Err(AppError::bad_input(
            "percent",
            "a tolerance is 0 to 100 percent",
        ));
    }
    let mut tx = db.write().await?;
    let before = tx
        .find_by_id::<organisation::Entity>(db.tenant())
        .await?
        .ok_or(AppError::NotFound {
            entity: "organisation",
        })?;
    tx.update_many(organisation::Entity::update_many().col_expr(
        organisation::Column::ReceiptTolerancePercent,
        Expr::value(percent),
    ))
    .await?;
    tx.record(
        AuditRecord::new(
            "organisation.set_receipt_tolerance",
            "organisation",
            before.id,
        )
        .with_change(
            json!({ "receiptTolerancePercent": before.receipt_tolerance_percent }),
            json!({ "receiptTolerancePercent": percent }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(organisation::Model {
        receipt_tolerance_percent: percent,
        ..before
    })
}

/// The demo organisation's credentials, returned once so the console can show them.
pub struct DemoCredentials {
    pub organisation_id: TenantId,
    /// `demo`, or `demo-` and a random suffix when that is taken.
    pub slug: String,
    pub email: String,
    pub password: String,
}

/// On the first start of an empty SQLite database, creates a demo organisation whose
/// administrator gets a random password. PostgreSQL deployments create organisations with
/// `vaskem org create` instead.
pub async fn create_demo_if_empty(
    db: &Database,
    hasher: &PasswordHasher,
) -> AppResult<Option<DemoCredentials>> {
    if db.engine() != crate::tenancy::Engine::Sqlite {
        return Ok(None);
    }
    // SQLite has no row-level security, and this runs before any tenant exists: counting every
    // organisation is the one cross-tenant read the service makes.
    let existing = organisation::Entity::find().count(db.connection()).await?;
    if existing > 0 {
        return Ok(None);
    }
    create_demo(db, hasher).await.map(Some)
}

/// Creates a demo organisation, fills it with a small warehouse, and returns its login.
pub async fn create_demo(db: &Database, hasher: &PasswordHasher) -> AppResult<DemoCredentials> {
    let email = "admin@demo.vaskem.example".to_owned();
    let password = password::generate()?;
    // The operator's command: reading whether the slug is free crosses tenants on purpose.
    let taken = organisation::Entity::find()
        .filter(organisation::Column::Slug.eq("demo"))
        .count(db.connection())
        .await?
        > 0;
    let slug = if taken {
        format!("demo-{}", password::generate()?[..6].to_lowercase())
    } else {
        "demo".to_owned()
    };
    let created = create(
        db,
        hasher,
        NewOrganisation {
            name: "Demo Warehouse Co".into(),
            slug: Some(slug.clone()),
            admin_email: email.clone(),
            admin_password: password.clone(),
        },
    )
    .await?;
    crate::service::demo::fill(&TenantDb::for_operator(db, created.organisation_id)).await?;
    Ok(DemoCredentials {
        organisation_id: created.organisation_id,
        slug,
        email,
        password,
    })
}

/// Deactivates or reactivates an organisation (the operator's CLI). Deactivation ends every
/// session of its users at once and stops them signing in.
pub async fn set_active(db: &TenantDb, active: bool) -> AppResult<organisation::Model> {
    use entity::session;
    use sea_orm::ColumnTrait;
    use sea_orm::QueryFilter;

    let mut tx = db.write().await?;
    let before = tx
        .find_by_id::<organisation::Entity>(db.tenant())
        .await?
        .ok_or(AppError::NotFound {
            entity: "organisation",
        })?;
    tx.update_many(
        organisation::Entity::update_many()
            .col_expr(organisation::Column::IsActive, Expr::value(active)),
    )
    .await?;
    if !active {
        tx.update_many(
            session::Entity::update_many()
                .col_expr(session::Column::RevokedAt, Expr::value(Some(Utc::now())))
                .filter(session::Column::RevokedAt.is_null()),
        )
        .await?;
    }
    let action = if active {
        "organisation.reactivate"
    } else {
        "organisation.deactivate"
    };
    tx.record(
        AuditRecord::new(action, "organisation", before.id).with_change(
            json!({ "active": before.is_active }),
            json!({ "active": active }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(organisation::Model {
        is_active: active,
        ..before
    })
}
