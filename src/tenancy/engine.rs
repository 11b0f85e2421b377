//! The database connection and the one seam where SQLite and PostgreSQL differ.
//!
//! Everything engine-specific about the tenant wall lives in [`Engine::enter_tenant`] and
//! [`Engine::transaction_options`]; the rest of the service runs the same code on both engines.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use entity::TenantId;
use migration::{Migrator, MigratorTrait, tenant_wall::SERVICE_ROLE};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, IsolationLevel, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};

use crate::audit::keys::AuditKeys;

/// Which database engine a [`Database`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Whose rights a tenant transaction runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    /// Web requests: on PostgreSQL `SET LOCAL ROLE` to the service role, which owns nothing,
    /// lacks BYPASSRLS and may only read and append the audit log. `vaskem serve` connects as a
    /// login role that is a member of the service role (see `serving.rs`), so even a `RESET ROLE`
    /// leaves it without the owner's rights.
    Service,
    /// The operator's CLI (`vaskem org create`, `vaskem audit verify`): the connecting role.
    Operator,
}

impl Engine {
    /// SeaORM's name for this engine, to build statements for it.
    pub fn backend(self) -> DatabaseBackend {
        match self {
            Engine::Sqlite => DatabaseBackend::Sqlite,
            Engine::Postgres => DatabaseBackend::Postgres,
        }
    }

    /// Whether writes wait for the write lock up front. SQLite's deferred transactions fail with
    /// SQLITE_BUSY when a read lock cannot be upgraded, so writers start `BEGIN IMMEDIATE` and queue
    /// on the busy timeout instead; PostgreSQL needs nothing special.
    pub fn transaction_options(self, write: bool) -> TransactionOptions {
        TransactionOptions {
            sqlite_transaction_mode: (self == Engine::Sqlite && write)
                .then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        }
    }

    /// A read-only transaction that sees one snapshot from its first statement to its end (a
    /// backup): REPEATABLE READ on PostgreSQL, where READ COMMITTED would let each table's query
    /// see a different moment. SQLite needs nothing: a deferred read transaction in WAL mode
    /// reads the snapshot its first read takes.
    pub fn snapshot_options(self) -> TransactionOptions {
        match self {
            Engine::Postgres => TransactionOptions {
                isolation_level: Some(IsolationLevel::RepeatableRead),
                access_mode: Some(AccessMode::ReadOnly),
                ..TransactionOptions::default()
            },
            Engine::Sqlite => TransactionOptions::default(),
        }
    }

    /// Runs after [`Engine::enter_tenant`] in a snapshot: on PostgreSQL, times are rendered in
    /// UTC for this transaction, so a backup's text does not depend on the server's time zone.
    pub(crate) async fn enter_snapshot(self, tx: &DatabaseTransaction) -> Result<(), DbErr> {
        if self == Engine::Postgres {
            tx.execute_unprepared("SELECT set_config('TimeZone', 'UTC', true)")
                .await?;
        }
        Ok(())
    }

    /// A statement selecting one JSON object per row of `table` (its `columns`, in that order)
    /// whose `tenant_column` equals the statement's one parameter, ordered by `order_by`, as a
    /// text column named `row`.
    ///
    /// The database builds the text: on PostgreSQL `row_to_json`, the rate `COPY` itself runs
    /// at; on SQLite `json_object`, with the 16-byte uuid blobs written as uuid text and booleans
    /// as `true`/`false` (SQLite stores them as 0 and 1), so a row reads alike from either
    /// engine. Other values are as the engine stores them: timestamps are RFC 3339 text in UTC
    /// on both (a snapshot sets PostgreSQL's time zone, see [`Engine::enter_snapshot`]).
    pub(crate) fn rows_as_json(
        self,
        table: &str,
        tenant_column: &str,
        columns: &[JsonColumn<'_>],
        order_by: &[&str],
    ) -> String {
        let order = order_by
            .iter()
            .map(|column| format!("t.\"{column}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match self {
            Engine::Postgres => {
                let selected = columns
                    .iter()
                    .map(|column| format!("\"{}\"", column.name))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "SELECT row_to_json(t)::text AS row FROM (SELECT {selected} FROM \"{table}\" \
                     WHERE \"{tenant_column}\" = $1) t ORDER BY {order}"
                )
            }
            Engine::Sqlite => {
                let pairs = columns
                    .iter()
                    .map(|column| {
                        let name = column.name;
                        let value = if column.boolean {
                            format!(
                                "CASE WHEN t.\"{name}\" IS NULL THEN NULL WHEN t.\"{name}\" \
                                 THEN json('true') ELSE json('false') END"
                            )
                        } else {
                            let hex = format!("hex(t.\"{name}\")");
                            format!(
                                "CASE typeof(t.\"{name}\") WHEN 'blob' THEN lower(substr({hex}, 1, 8) \
                                 || '-' || substr({hex}, 9, 4) || '-' || substr({hex}, 13, 4) || '-' \
                                 || substr({hex}, 17, 4) || '-' || substr({hex}, 21)) \
                                 ELSE t.\"{name}\" END"
                            )
                        };
                        format!("'{name}', {value}")
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "SELECT json_object({pairs}) AS row FROM \"{table}\" t \
                     WHERE t.\"{tenant_column}\" = ? ORDER BY {order}"
                )
            }
        }
    }

    /// Runs first in every tenant transaction. On PostgreSQL it sets `app.tenant_id` for this
    /// transaction only (`set_config(.., true)`: a plain `SET` would outlive the transaction and
    /// leak to the next user of the pooled connection) and, for requests, drops to the service
    /// role and asks for generic plans ([`GENERIC_PLANS`]) in the same statement
    /// (`set_config('role', .., true)` is `SET LOCAL ROLE`).
    pub async fn enter_tenant(
        self,
        tx: &DatabaseTransaction,
        tenant: TenantId,
        privilege: Privilege,
    ) -> Result<(), DbErr> {
        if self != Engine::Postgres {
            return Ok(());
        }
        let statement = match privilege {
            Privilege::Service => Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                format!(
                    "SELECT set_config('app.tenant_id', $1, true), set_config('role', $2, true), \
                     {GENERIC_PLANS}"
                ),
                [tenant.to_string().into(), SERVICE_ROLE.into()],
            ),
            Privilege::Operator => Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT set_config('app.tenant_id', $1, true)",
                [tenant.to_string().into()],
            ),
        };
        tx.execute_raw(statement).await?;
        Ok(())
    }
}

impl Engine {
    /// A catalogue query listing every foreign key as `tbl` (the referring table) and `target`
    /// (the referred one): the order a restore must insert tables in.
    pub(crate) fn foreign_keys_sql(self) -> &'static str {
        match self {
            Engine::Postgres => {
                "SELECT cl.relname::text AS tbl, rf.relname::text AS target FROM pg_constraint c \
                 JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_class rf ON rf.oid = c.confrelid \
                 WHERE c.contype = 'f'"
            }
            Engine::Sqlite => {
                "SELECT m.name AS tbl, p.\"table\" AS target FROM sqlite_master m \
                 JOIN pragma_foreign_key_list(m.name) p WHERE m.type = 'table'"
            }
        }
    }

    /// Runs first in a pre-tenant lookup (see `lookup.rs`): sets only the lookup's keys and drops
    /// to the service role, in one statement, so the narrow lookup policies are all that match.
    pub(crate) async fn enter_lookup(
        self,
        tx: &DatabaseTransaction,
        settings: &[(&'static str, &str)],
    ) -> Result<(), DbErr> {
        let mut sql = format!("SELECT set_config('role', $1, true), {GENERIC_PLANS}");
        let mut values: Vec<sea_orm::Value> = vec![SERVICE_ROLE.into()];
        for (setting, value) in settings {
            let at = values.len();
            sql.push_str(&format!(", set_config(${}, ${}, true)", at + 1, at + 2));
            values.push((*setting).into());
            values.push((*value).into());
        }
        tx.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            sql,
            values,
        ))
        .await?;
        Ok(())
    }
}

/// A column [`Engine::rows_as_json`] writes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JsonColumn<'a> {
    pub name: &'a str,
    /// Stored as 0/1 on SQLite, written as `true`/`false`.
    pub boolean: bool,
}

/// Requests' statements are prepared once per pooled connection, but PostgreSQL re-plans a
/// prepared statement on every run while it judges a custom plan cheaper, and with the tenant's
/// row-level-security predicate in every query it judged so for every request: planning was about
/// half of PostgreSQL's time for a product screen (bench/perf/README.md). Every request query is
/// keyed by tenant and id or keyset, where the generic plan is the one a custom plan picks
/// anyway, so requests ask for it, for their transaction only.
const GENERIC_PLANS: &str = "set_config('plan_cache_mode', 'force_generic_plan', true)";

/// Advisory lock key for migrations ("VASKEM" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x5641_534B_454D;

/// The process's connection pool. Hands out tenant handles; never handed to resolvers.
#[derive(Clone, Debug)]
pub struct Database {
    conn: DatabaseConnection,
    engine: Engine,
    /// The audit key ring, held here so every tenant handle's audit writer and verifier reach it.
    /// It never goes into the database.
    audit_keys: Arc<AuditKeys>,
    /// Statements sent on this pool (BEGIN and COMMIT included), counted so tests can prove what
    /// a request costs: a fixed number of statements whatever its page size (no N+1).
    statements: Arc<AtomicU64>,
}

impl Database {
    /// How many connections a pool holds unless told otherwise (`--database-pool-size`).
    pub const DEFAULT_POOL_SIZE: u32 = 10;

    /// Connects with a pool sized for a small service; audit events are signed and verified with
    /// `audit_keys`.
    pub async fn connect(url: &str, audit_keys: AuditKeys) -> Result<Self, DbErr> {
        Self::connect_with_pool(url, Self::DEFAULT_POOL_SIZE, audit_keys).await
    }

    /// Connects with at most `max_connections` pooled connections.
    pub async fn connect_with_pool(
        url: &str,
        max_connections: u32,
        audit_keys: AuditKeys,
    ) -> Result<Self, DbErr> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let mut conn = sea_orm::Database::connect(options).await?;
        // The engine is what the driver connected to, not a guess from the URL's spelling.
        let engine = match conn.get_database_backend() {
            DatabaseBackend::Postgres => Engine::Postgres,
            DatabaseBackend::Sqlite => Engine::Sqlite,
            other => {
                return Err(DbErr::Custom(format!(
                    "{other:?} is not supported: DATABASE_URL must be sqlite: or postgres://"
                )));
            }
        };
        // Every statement the pool runs is counted here, whichever code path sent it; the
        // transaction wrappers add the BEGIN and COMMIT that SeaORM sends outside this hook.
        let statements: Arc<AtomicU64> = Arc::default();
        let counter = statements.clone();
        conn.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        if engine == Engine::Sqlite {
            // WAL lets readers proceed while one writer works; it persists in the file.
            // (sqlx turns foreign keys on for every SQLite connection it opens.)
            conn.execute_unprepared("PRAGMA journal_mode = WAL").await?;
        }
        Ok(Self {
            conn,
            engine,
            audit_keys: Arc::new(audit_keys),
            statements,
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// How many statements this pool has sent so far, BEGIN and COMMIT included.
    pub fn statements_run(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Counts a BEGIN, COMMIT or ROLLBACK (SeaORM sends those past the metric hook).
    pub(crate) fn count_transaction_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn audit_keys(&self) -> Arc<AuditKeys> {
        self.audit_keys.clone()
    }

    /// Applies pending migrations. On PostgreSQL they run in one transaction holding an advisory
    /// lock, so several nodes starting at once migrate one after another (and a failure changes
    /// nothing).
    pub async fn migrate(&self) -> Result<(), DbErr> {
        match self.engine {
            Engine::Sqlite => Migrator::up(&self.conn, None).await,
            Engine::Postgres => {
                let tx = self.conn.begin().await?;
                tx.execute_unprepared(&format!(
                    "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
                ))
                .await?;
                Migrator::up(&tx, None).await?;
                tx.commit().await
            }
        }
    }

    /// Readiness: can we reach the database right now?
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }

    /// The raw pool, for the tenant handle and the operator-only system queries in this crate.
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }
}
