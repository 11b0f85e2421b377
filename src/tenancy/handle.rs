//! [`TenantDb`] and [`TenantTx`]: the tenant-scoped data handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use entity::{TenantId, TenantScoped, UserId};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, DeleteMany,
    FromQueryResult, IntoActiveModel, Iterable, PaginatorTrait, PrimaryKeyToColumn,
    PrimaryKeyTrait, QueryFilter, Select, TransactionTrait, UpdateMany, sea_query::OnConflict,
};

use super::{Database, Privilege};
use crate::audit::{self, AuditRecord, keys::AuditKeys};
use crate::error::{AppError, AppResult};

/// Who is acting, for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user.
    User { id: UserId, email: String },
    /// The operator's command line.
    Cli,
}

/// Where a request came from, for the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestOrigin {
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
}

/// One organisation's view of the database: the only handle services get.
///
/// Why it is hard to bypass by accident:
/// - It holds the pool privately and exposes no connection; the raw pool ([`Database`]) gives
///   resolvers and services nothing to query with, and its `connection()` is crate-private.
/// - The tenant is fixed when the handle is built, from the authenticated session (or by the
///   operator's CLI); no method takes a tenant id, so a client-supplied one has nowhere to go.
/// - Queries are executed *by* the handle ([`TenantTx::all`], [`TenantTx::update_many`], …), which
///   adds the tenant filter at execution time and accepts only [`TenantScoped`] entities, so a
///   query built without the filter is still filtered.
/// - On PostgreSQL the same transaction also sets `app.tenant_id` and runs as the service role, so
///   row-level security stops whatever slips past the first wall.
#[derive(Clone, Debug)]
pub struct TenantDb {
    db: Database,
    tenant: TenantId,
    actor: Actor,
    origin: RequestOrigin,
    privilege: Privilege,
}

impl TenantDb {
    /// A handle for a signed-in user's request. Call only with a tenant taken from a verified
    /// session (`auth::session::authenticate` does).
    pub fn for_user(
        db: &Database,
        tenant: TenantId,
        user: UserId,
        email: String,
        origin: RequestOrigin,
    ) -> Self {
        Self {
            db: db.clone(),
            tenant,
            actor: Actor::User { id: user, email },
            origin,
            privilege: Privilege::Service,
        }
    }

    /// A handle for the operator's command line, acting on one organisation.
    pub fn for_operator(db: &Database, tenant: TenantId) -> Self {
        Self {
            db: db.clone(),
            tenant,
            actor: Actor::Cli,
            origin: RequestOrigin::default(),
            privilege: Privilege::Operator,
        }
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Starts a transaction for reading.
    pub async fn read(&self) -> Result<TenantTx, DbErr> {
        self.begin(false).await
    }

    /// Starts a transaction that will write (and so must record an audit event before commit).
    pub async fn write(&self) -> Result<TenantTx, DbErr> {
        self.begin(true).await
    }

    async fn begin(&self, write: bool) -> Result<TenantTx, DbErr> {
        let engine = self.db.engine();
        let tx = self
            .db
            .connection()
            .begin_with_options(engine.transaction_options(write))
            .await?;
        engine
            .enter_tenant(&tx, self.tenant, self.privilege)
            .await?;
        let statements = self.db.statement_counter();
        // BEGIN, and on PostgreSQL the tenant setting and the role.
        statements.fetch_add(1, Ordering::Relaxed);
        Ok(TenantTx {
            tx,
            statements,
            audit_keys: self.db.audit_keys(),
            tenant: self.tenant,
            actor: self.actor.clone(),
            origin: self.origin.clone(),
            wrote: false,
            audited: false,
        })
    }
}

/// One transaction inside one organisation. Dropping it without [`TenantTx::commit`] rolls back.
pub struct TenantTx {
    tx: DatabaseTransaction,
    statements: Arc<AtomicU64>,
    audit_keys: Arc<AuditKeys>,
    tenant: TenantId,
    actor: Actor,
    origin: RequestOrigin,
    wrote: bool,
    audited: bool,
}

impl TenantTx {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    fn scoped<E: TenantScoped>(&self, query: Select<E>) -> Select<E> {
        self.count_statement();
        query.filter(E::tenant_column().eq(self.tenant))
    }

    fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    /// All rows `query` selects, within this organisation.
    pub async fn all<E: TenantScoped>(&self, query: Select<E>) -> Result<Vec<E::Model>, DbErr> {
        self.scoped(query).all(&self.tx).await
    }

    /// Rows of `query` (typically an aggregate) read into `M`, within this organisation.
    pub async fn all_as<E, M>(&self, query: Select<E>) -> Result<Vec<M>, DbErr>
    where
        E: TenantScoped,
        M: FromQueryResult + Send + Sync,
    {
        self.scoped(query).into_model::<M>().all(&self.tx).await
    }

    /// The first row `query` selects, within this organisation.
    pub async fn one<E: TenantScoped>(&self, query: Select<E>) -> Result<Option<E::Model>, DbErr> {
        self.scoped(query).one(&self.tx).await
    }

    /// How many rows `query` selects, within this organisation.
    pub async fn count<E>(&self, query: Select<E>) -> Result<u64, DbErr>
    where
        E: TenantScoped,
        E::Model: Sync,
    {
        self.scoped(query).count(&self.tx).await
    }

    /// The row with this primary key, if it exists *in this organisation*.
    pub async fn find_by_id<E>(
        &self,
        id: <E::PrimaryKey as PrimaryKeyTrait>::ValueType,
    ) -> Result<Option<E::Model>, DbErr>
    where
        E: TenantScoped,
    {
        self.one(E::find_by_id(id)).await
    }

    /// Inserts `model` into this organisation; its tenant column is set here, whatever it held.
    pub async fn insert<A, E>(&mut self, mut model: A) -> Result<E::Model, DbErr>
    where
        E: TenantScoped,
        A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A>,
    {
        model.set(E::tenant_column(), self.tenant.into());
        self.count_statement();
        self.wrote = true;
        model.insert(&self.tx).await
    }

    /// Inserts `model` unless a row with the same primary key exists; returns whether it did.
    pub async fn insert_if_absent<A, E>(&mut self, mut model: A) -> Result<bool, DbErr>
    where
        E: TenantScoped,
        A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A>,
    {
        model.set(E::tenant_column(), self.tenant.into());
        self.count_statement();
        self.wrote = true;
        let keys: Vec<E::Column> = <E::PrimaryKey as Iterable>::iter()
            .map(|key| key.into_column())
            .collect();
        match E::insert(model)
            .on_conflict(OnConflict::columns(keys).do_nothing().to_owned())
            .exec(&self.tx)
            .await
        {
            Ok(_) => Ok(true),
            Err(DbErr::RecordNotInserted) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Runs `update` on this organisation's rows only; returns how many rows changed.
    pub async fn update_many<E: TenantScoped>(
        &mut self,
        update: UpdateMany<E>,
    ) -> Result<u64, DbErr> {
        self.count_statement();
        self.wrote = true;
        let result = update
            .filter(E::tenant_column().eq(self.tenant))
            .exec(&self.tx)
            .await?;
        Ok(result.rows_affected)
    }

    /// Runs `delete` on this organisation's rows only; returns how many rows went.
    pub async fn delete_many<E: TenantScoped>(
        &mut self,
        delete: DeleteMany<E>,
    ) -> Result<u64, DbErr> {
        self.count_statement();
        self.wrote = true;
        let result = delete
            .filter(E::tenant_column().eq(self.tenant))
            .exec(&self.tx)
            .await?;
        Ok(result.rows_affected)
    }

    /// Runs `update` as bookkeeping that is not a change anyone made (a session's last-seen time):
    /// it needs no audit event. Never use it for data a user changed.
    pub(crate) async fn update_bookkeeping<E: TenantScoped>(
        &self,
        update: UpdateMany<E>,
    ) -> Result<u64, DbErr> {
        self.count_statement();
        let result = update
            .filter(E::tenant_column().eq(self.tenant))
            .exec(&self.tx)
            .await?;
        Ok(result.rows_affected)
    }

    /// Appends `record` to this organisation's audit chain, in this transaction.
    pub async fn record(&mut self, record: AuditRecord) -> AppResult<entity::audit_event::Model> {
        let event = audit::append(self, record).await?;
        self.audited = true;
        Ok(event)
    }

    /// Commits. A transaction that wrote but recorded no audit event is rolled back instead: every
    /// committed change has its event.
    pub async fn commit(self) -> AppResult<()> {
        if self.wrote && !self.audited {
            return Err(AppError::Internal(
                "refused to commit a change without its audit event".into(),
            ));
        }
        self.tx.commit().await?;
        Ok(())
    }

    pub(crate) fn actor(&self) -> &Actor {
        &self.actor
    }

    pub(crate) fn origin(&self) -> &RequestOrigin {
        &self.origin
    }

    pub(crate) fn audit_keys(&self) -> &AuditKeys {
        &self.audit_keys
    }
}
