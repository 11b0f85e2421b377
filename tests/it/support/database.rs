//! One database per test: a temporary SQLite file, or a fresh PostgreSQL database, each a copy
//! of the run's migrated template (`template.rs`), registered with the test's invariant checks
//! (`invariants.rs`).
//!
//! PostgreSQL comes from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`),
//! used only to create and drop the per-test databases. If it cannot be reached the test fails,
//! saying so: a PostgreSQL test is never skipped.

use std::sync::{Arc, Mutex};

use entity::TenantId;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use vaskem::audit::keys::{AuditKey, AuditKeys};
use vaskem::auth::password::PasswordHasher;
use vaskem::service::organisations::{self, NewOrganisation};
use vaskem::tenancy::Database;

use super::invariants::{self, Invariant};
use super::template;

/// Test passwords hash with few rounds; one test checks the production default separately.
pub const TEST_ROUNDS: u32 = 1_000;
pub const TEST_PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The login role PostgreSQL tests serve over, as production does: a member of the service role
/// that owns nothing. Created once per cluster (roles are cluster-wide).
pub const SERVING_ROLE: &str = "vaskem_test_web";
const SERVING_PASSWORD: &str = "vaskem-test-web";

pub struct TestDatabase {
    /// The owner's URL (migrations, fixtures, the operator's CLI).
    pub url: String,
    /// The owner's pool, for fixtures that create data directly.
    pub db: Database,
    /// The URL `vaskem serve` uses: on PostgreSQL the login role [`SERVING_ROLE`], on SQLite the
    /// same file as `url`.
    pub serving_url: String,
    /// The pool every [`super::TestApp`] serves over, on [`Self::serving_url`].
    pub serving: Database,
    /// This database's audit key, random per test database; every pool and CLI run on it uses it.
    pub audit_key: AuditKey,
    /// Where every node serving this database writes backups (a fresh folder), and the key it
    /// signs them with (random per test database).
    pub backups: Arc<vaskem::service::backup::requests::BackupSettings>,
    _backup_dir: tempfile::TempDir,
    /// Shared with the test's invariant checks, which keep the database until they have run.
    registration: Arc<Registration>,
}

/// A test database as the invariant checks see it; the database itself (the PostgreSQL database
/// or the SQLite file's directory) goes when the last holder lets go.
pub struct Registration {
    label: String,
    url: String,
    audit_keys: Mutex<Vec<AuditKey>>,
    exemptions: Mutex<Vec<(Invariant, &'static str)>>,
    _storage: Storage,
}

impl Registration {
    /// The PostgreSQL database's name or the SQLite file's path.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The keys the chain verifies with: the database's own, and any a test added.
    pub fn audit_keys(&self) -> Vec<AuditKey> {
        self.audit_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The invariants a test broke on purpose, each with its reason.
    pub fn exemptions(&self) -> Vec<(Invariant, &'static str)> {
        self.exemptions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Where the data lives; dropping it removes the database.
enum Storage {
    Sqlite { _dir: tempfile::TempDir },
    Postgres(String),
}

impl TestDatabase {
    /// A new, migrated, empty database.
    pub async fn new(backend: Backend) -> Self {
        Self::with_pool(backend, 10).await
    }

    pub async fn with_pool(backend: Backend, max_connections: u32) -> Self {
        Self::build(backend, max_connections, true).await
    }

    /// A new database with no tables at all (but the serving login role exists), for tests of
    /// who migrates it.
    pub async fn unmigrated(backend: Backend) -> Self {
        Self::build(backend, 2, false).await
    }

    async fn build(backend: Backend, max_connections: u32, migrate: bool) -> Self {
        let (url, label, storage) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("test.db");
                if migrate {
                    std::fs::copy(template::sqlite().await, &path)
                        .expect("copy the SQLite template");
                }
                let label = path.display().to_string();
                (
                    format!("sqlite://{label}?mode=rwc"),
                    label,
                    Storage::Sqlite { _dir: dir },
                )
            }
            Backend::Postgres => {
                let name = template::test_database_name();
                let create = if migrate {
                    format!(
                        "CREATE DATABASE {name} TEMPLATE {}",
                        template::postgres().await
                    )
                } else {
                    ensure_serving_role().await;
                    format!("CREATE DATABASE {name}")
                };
                admin_connection()
                    .await
                    .execute_unprepared(&create)
                    .await
                    .expect("create test database");
                (database_url(&name), name.clone(), Storage::Postgres(name))
            }
        };
        let audit_key = AuditKey::generate().expect("audit key");
        let registration = Arc::new(Registration {
            label,
            url: url.clone(),
            audit_keys: Mutex::new(vec![audit_key.clone()]),
            exemptions: Mutex::new(Vec::new()),
            _storage: storage,
        });
        invariants::register(registration.clone());
        let db = Database::connect_with_pool(
            &url,
            max_connections,
            AuditKeys::new(vec![audit_key.clone()]),
        )
        .await
        .expect("connect to test database");
        let serving_url = match backend {
            Backend::Sqlite => url.clone(),
            Backend::Postgres => serving_url(&url),
        };
        let serving = match backend {
            Backend::Sqlite => db.clone(),
            Backend::Postgres => Database::connect_with_pool(
                &serving_url,
                max_connections,
                AuditKeys::new(vec![audit_key.clone()]),
            )
            .await
            .expect("connect as the serving role"),
        };
        let backup_dir = tempfile::tempdir().expect("backup folder");
        let backups = Arc::new(vaskem::service::backup::requests::BackupSettings {
            dir: backup_dir.path().join("backups"),
            key: Arc::new(vaskem::service::backup::BackupKey::generate().expect("backup key")),
        });
        Self {
            url,
            db,
            serving_url,
            serving,
            audit_key,
            backups,
            _backup_dir: backup_dir,
            registration,
        }
    }

    /// Lets the teardown pass `invariant` broken in this database, for a test that breaks it on
    /// purpose; `why` is printed with the test's output when it is.
    pub fn exempt(&self, invariant: Invariant, why: &'static str) {
        self.registration
            .exemptions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((invariant, why));
    }

    /// Lets the teardown verify the audit chain with `key` as well (a test that signs with keys of
    /// its own, as rotation does).
    pub fn verify_audit_with(&self, key: AuditKey) {
        self.registration
            .audit_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(key);
    }

    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Another serving pool on this test database, with its audit key.
    pub async fn another_pool(&self, max_connections: u32) -> Database {
        Database::connect_with_pool(
            &self.serving_url,
            max_connections,
            AuditKeys::new(vec![self.audit_key.clone()]),
        )
        .await
        .expect("connect")
    }

    /// A plain connection as the owner, for looking behind the service's back.
    pub async fn raw(&self) -> DatabaseConnection {
        sea_orm::Database::connect(&self.url)
            .await
            .expect("raw connection")
    }

    /// Creates an organisation through the real service; returns its id and admin email.
    pub async fn organisation(&self, name: &str) -> (TenantId, String) {
        let email = format!(
            "admin-{}@{}.example",
            uuid::Uuid::new_v4().simple(),
            name.to_lowercase().replace(' ', "-")
        );
        let created = organisations::create(
            &self.db,
            &PasswordHasher::with_rounds(TEST_ROUNDS),
            NewOrganisation {
                name: name.to_owned(),
                // Tests create many organisations of one name in a database: slugs stay unique.
                slug: Some(format!(
                    "{}-{}",
                    vaskem::service::text::slug_from_name(name),
                    &uuid::Uuid::new_v4().simple().to_string()[..8]
                )),
                admin_email: email.clone(),
                admin_password: TEST_PASSWORD.to_owned(),
            },
        )
        .await
        .expect("create organisation");
        (created.organisation_id, email)
    }
}

impl TestDatabase {
    /// The slug of the organisation whose account `email` is (test emails are unique across
    /// organisations), read past the tenant wall as the database owner.
    pub async fn slug_of(&self, email: &str) -> String {
        self.find_slug_of(email)
            .await
            .unwrap_or_else(|| panic!("no account {email}"))
    }

    /// [`Self::slug_of`], or `None` for an email no organisation has.
    pub async fn find_slug_of(&self, email: &str) -> Option<String> {
        use sea_orm::ConnectionTrait;
        let raw = self.raw().await;
        let backend = raw.get_database_backend();
        let row = raw
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                "SELECT o.slug FROM organisations o JOIN users u ON u.tenant_id = o.id
                 WHERE u.email = $1",
                [email.to_lowercase().into()],
            ))
            .await
            .expect("slug query")?;
        Some(row.try_get::<String>("", "slug").expect("slug"))
    }

    /// How many audit events `tenant` has.
    pub async fn audit_event_count(&self, tenant: TenantId) -> u64 {
        use sea_orm::EntityTrait;
        let tx = vaskem::tenancy::TenantDb::for_operator(&self.db, tenant)
            .read()
            .await
            .expect("read");
        tx.count(entity::audit_event::Entity::find())
            .await
            .expect("count")
    }

    /// A user of `tenant` holding exactly `permissions` (through a custom role made for them),
    /// signed in with [`TEST_PASSWORD`]; returns the email.
    pub async fn user_with_permissions(
        &self,
        tenant: TenantId,
        permissions: &[vaskem::auth::permission::Permission],
    ) -> String {
        use entity::{RoleId, UserId, role, user};
        use sea_orm::ActiveValue::Set;
        use vaskem::auth::permission::PermissionSet;

        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let hash = PasswordHasher::with_rounds(TEST_ROUNDS)
            .hash(TEST_PASSWORD.to_owned())
            .await
            .expect("hash");
        let handle = vaskem::tenancy::TenantDb::for_operator(&self.db, tenant);
        let mut tx = handle.write().await.expect("write");
        let role = tx
            .insert(role::ActiveModel {
                id: Set(RoleId::generate()),
                tenant_id: Set(tenant),
                name: Set(format!("test role {}", uuid::Uuid::new_v4().simple())),
                description: Set(String::new()),
                permissions: Set(PermissionSet::of(permissions).to_stored()),
                is_builtin: Set(false),
                created_at: Set(chrono::Utc::now()),
            })
            .await
            .expect("role");
        let user = tx
            .insert(user::ActiveModel {
                id: Set(UserId::generate()),
                tenant_id: Set(tenant),
                email: Set(email.clone()),
                display_name: Set(email.clone()),
                password_hash: Set(hash),
                is_active: Set(true),
                created_at: Set(chrono::Utc::now()),
                role_id: Set(role.id),
                grant_mask: Set(0),
                revoke_mask: Set(0),
                must_change_password: Set(false),
            })
            .await
            .expect("user");
        tx.record(vaskem::audit::AuditRecord::new(
            "test.user",
            "user",
            user.id,
        ))
        .await
        .expect("audit");
        tx.commit().await.expect("commit");
        email
    }
}

/// Creates [`SERVING_ROLE`] if the cluster has none and makes it a member of the service role;
/// tolerates other tests doing the same at the same moment.
pub(super) async fn ensure_serving_role() {
    let admin = admin_connection().await;
    let service = migration::tenant_wall::SERVICE_ROLE;
    // The first migration creates the service role too; creating it here as well lets a test
    // start from a database nothing has migrated yet.
    admin
        .execute_unprepared(&format!(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{service}') THEN
                 CREATE ROLE {service} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
               END IF;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
             END $$;
             DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SERVING_ROLE}') THEN
                 CREATE ROLE {SERVING_ROLE} LOGIN PASSWORD '{SERVING_PASSWORD}'
                   NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
               END IF;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
             END $$;
             DO $$ BEGIN
               IF NOT pg_has_role('{SERVING_ROLE}', '{service}', 'MEMBER') THEN
                 GRANT {service} TO {SERVING_ROLE};
               END IF;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
             END $$;"
        ))
        .await
        .expect("create the serving login role");
}

/// `owner_url` with the serving role's name and password in place of the owner's.
fn serving_url(owner_url: &str) -> String {
    let rest = owner_url
        .strip_prefix("postgres://")
        .or_else(|| owner_url.strip_prefix("postgresql://"))
        .expect("a postgres:// URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("postgres://{SERVING_ROLE}:{SERVING_PASSWORD}@{host}")
}

/// The owner's URL of the database `name` on the test server.
pub(super) fn database_url(name: &str) -> String {
    let base = admin_url();
    match base.rfind('/') {
        Some(slash) if slash > "postgres://".len() => format!("{}/{name}", &base[..slash]),
        _ => panic!("TEST_DATABASE_URL must name a database: {base}"),
    }
}

pub(super) async fn admin_connection() -> DatabaseConnection {
    let url = admin_url();
    match sea_orm::Database::connect(&url).await {
        Ok(conn) => conn,
        Err(err) => panic!(
            "PostgreSQL is required for the postgres tests and is not reachable at {url}: {err}\n\
             Start it, set TEST_DATABASE_URL, or run `bash .ci/run`, which installs and starts it."
        ),
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Self::Postgres(name) = self {
            template::drop_later(std::mem::take(name));
        }
    }
}

/// `id` as a literal in raw SQL: PostgreSQL takes the text form, SQLite stores uuids as 16-byte
/// blobs.
pub fn uuid_literal(backend: sea_orm::DatabaseBackend, id: uuid::Uuid) -> String {
    if backend == sea_orm::DatabaseBackend::Postgres {
        format!("'{id}'")
    } else {
        format!("X'{}'", id.simple())
    }
}
