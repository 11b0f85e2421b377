//! [`TenantDb`] and [`TenantTx`]: the tenant-scoped data handle.

use std::sync::{Arc, Mutex};

use entity::{TenantId, TenantScoped, UserId};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ColumnType, ConnectionTrait,
    DatabaseTransaction, DbErr, DeleteMany, FromQueryResult, IdenStatic, IntoActiveModel, Iterable,
    PaginatorTrait, PrimaryKeyToColumn, PrimaryKeyTrait, QueryFilter, QueryTrait, Select,
    SelectTwo, Statement, StreamTrait, TransactionOptions, TransactionTrait, UpdateMany,
    sea_query::OnConflict,
};

use super::engine::JsonColumn;
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

impl Actor {
    /// The user who acts; None for the operator's command line (what `created_by`-style columns
    /// store).
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User { id, .. } => Some(*id),
            Actor::Cli => None,
        }
    }
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
    /// A read request's one transaction, already inside this tenant, which [`TenantDb::read`]
    /// hands out instead of beginning another.
    shared: Option<Arc<RequestTransaction>>,
}

/// The one transaction a read request's resolvers and data loaders share: begun (and entered
/// into the tenant) by the session check, ended by the HTTP edge once the response is built.
///
/// Sharing it saves a BEGIN, a tenant setting and a COMMIT per resolver and loader, and holds one
/// pooled connection per request instead of one per batch. Its statements take turns (SeaORM
/// locks the connection per statement). Writes never use it: [`TenantDb::write`] always begins
/// its own transaction, so a mutation's change commits or fails on its own.
#[derive(Debug)]
pub struct RequestTransaction {
    db: Database,
    tx: Mutex<Option<Arc<DatabaseTransaction>>>,
}

impl RequestTransaction {
    pub(crate) fn new(db: &Database, tx: DatabaseTransaction) -> Self {
        Self {
            db: db.clone(),
            tx: Mutex::new(Some(Arc::new(tx))),
        }
    }

    fn current(&self) -> Option<Arc<DatabaseTransaction>> {
        self.tx.lock().ok().and_then(|tx| tx.clone())
    }

    /// Ends the transaction (a COMMIT: it only read). Call once the request's resolvers and
    /// loaders are done; a handle still reading then would begin its own transaction.
    pub async fn finish(&self) -> Result<(), DbErr> {
        let Some(tx) = self.tx.lock().ok().and_then(|mut tx| tx.take()) else {
            return Ok(());
        };
        self.db.count_transaction_statement();
        match Arc::try_unwrap(tx) {
            Ok(tx) => tx.commit().await,
            // Someone still holds it (a loader task outliving the response): the last one to
            // let go rolls it back, which for a read is the same as committing.
            Err(_) => Ok(()),
        }
    }
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
            shared: None,
        }
    }

    /// This handle, reading through `shared` (a transaction already inside this handle's
    /// tenant, as the session check leaves it) instead of beginning transactions of its own.
    pub(crate) fn reading_through(mut self, shared: Arc<RequestTransaction>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// A handle for the operator's command line, acting on one organisation.
    pub fn for_operator(db: &Database, tenant: TenantId) -> Self {
        Self {
            db: db.clone(),
            tenant,
            actor: Actor::Cli,
            origin: RequestOrigin::default(),
            privilege: Privilege::Operator,
            shared: None,
        }
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// This handle without the request's shared read transaction, for work that outlives the
    /// request (a backup written after its mutation answered): same tenant, actor and origin.
    pub fn detached(&self) -> Self {
        Self {
            shared: None,
            ..self.clone()
        }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// A transaction for reading: the request's shared one if it has one, else a new one.
    pub async fn read(&self) -> Result<TenantTx, DbErr> {
        match self.shared.as_ref().and_then(|shared| shared.current()) {
            Some(tx) => Ok(self.wrap(Transaction::Shared(tx))),
            None => self.begin(false).await,
        }
    }

    /// Starts a transaction that will write (and so must record an audit event before commit).
    pub async fn write(&self) -> Result<TenantTx, DbErr> {
        self.begin(true).await
    }

    /// A read-only transaction that sees one snapshot of the organisation until it ends, never
    /// the request's shared one (a backup reads every table in it, and must not see a write
    /// committed between two of them).
    pub async fn snapshot(&self) -> Result<TenantTx, DbErr> {
        let engine = self.db.engine();
        let tx = self.begin_with(engine.snapshot_options()).await?;
        engine.enter_snapshot(tx.conn()).await?;
        Ok(tx)
    }

    async fn begin(&self, write: bool) -> Result<TenantTx, DbErr> {
        self.begin_with(self.db.engine().transaction_options(write))
            .await
    }

    async fn begin_with(&self, options: TransactionOptions) -> Result<TenantTx, DbErr> {
        let engine = self.db.engine();
        let tx = self.db.connection().begin_with_options(options).await?;
        self.db.count_transaction_statement();
        engine
            .enter_tenant(&tx, self.tenant, self.privilege)
            .await?;
        Ok(self.wrap(Transaction::Own(tx)))
    }

    fn wrap(&self, tx: Transaction) -> TenantTx {
        TenantTx {
            tx,
            db: self.db.clone(),
            audit_keys: self.db.audit_keys(),
            tenant: self.tenant,
            actor: self.actor.clone(),
            origin: self.origin.clone(),
            wrote: false,
            audited: false,
        }
    }
}

/// A tenant transaction of its own, or the read request's shared one.
enum Transaction {
    Own(DatabaseTransaction),
    Shared(Arc<DatabaseTransaction>),
}

impl Transaction {
    fn connection(&self) -> &DatabaseTransaction {
        match self {
            Transaction::Own(tx) => tx,
            Transaction::Shared(tx) => tx,
        }
    }
}

/// One transaction inside one organisation. Dropping it without [`TenantTx::commit`] rolls back
/// (a read request's shared transaction is ended by the request instead).
pub struct TenantTx {
    tx: Transaction,
    db: Database,
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
        query.filter(E::tenant_column().eq(self.tenant))
    }

    /// What the statements run on: this transaction's connection.
    fn conn(&self) -> &DatabaseTransaction {
        self.tx.connection()
    }

    /// Refuses to write through a read request's shared transaction: changes go through
    /// [`TenantDb::write`], in a transaction of their own with its audit event.
    fn writable(&mut self) -> Result<&DatabaseTransaction, DbErr> {
        match &self.tx {
            Transaction::Own(tx) => {
                self.wrote = true;
                Ok(tx)
            }
            Transaction::Shared(_) => Err(DbErr::Custom(
                "refused to write through a read request's shared transaction".into(),
            )),
        }
    }

    /// All rows `query` selects, within this organisation.
    pub async fn all<E: TenantScoped>(&self, query: Select<E>) -> Result<Vec<E::Model>, DbErr> {
        self.scoped(query).all(self.conn()).await
    }

    /// Rows of `query` with the row of `F` each joins, both within this organisation.
    pub async fn all_with<E, F>(
        &self,
        query: SelectTwo<E, F>,
    ) -> Result<Vec<(E::Model, Option<F::Model>)>, DbErr>
    where
        E: TenantScoped,
        F: TenantScoped,
    {
        query
            .filter(E::tenant_column().eq(self.tenant))
            .filter(F::tenant_column().eq(self.tenant))
            .all(self.conn())
            .await
    }

    /// Rows of `query` (typically an aggregate) read into `M`, within this organisation.
    pub async fn all_as<E, M>(&self, query: Select<E>) -> Result<Vec<M>, DbErr>
    where
        E: TenantScoped,
        M: FromQueryResult + Send + Sync,
    {
        self.scoped(query).into_model::<M>().all(self.conn()).await
    }

    /// Every row of `E`'s table in this organisation, one JSON object of `columns` each (the
    /// database writes the text; see `Engine::rows_as_json`), in primary-key order, streamed:
    /// never more than the driver's buffer in memory. The tenant condition is added here, like
    /// every other read of this handle. For backups, which need every table whole.
    pub async fn stream_rows_as_json<E>(
        &self,
        columns: &[E::Column],
    ) -> Result<BoxStream<'_, Result<String, DbErr>>, DbErr>
    where
        E: TenantScoped + Default,
    {
        let engine = self.db.engine();
        let json_columns: Vec<JsonColumn<'_>> = columns
            .iter()
            .map(|column| JsonColumn {
                name: IdenStatic::as_str(column),
                boolean: matches!(column.def().get_column_type(), ColumnType::Boolean),
            })
            .collect();
        let order_by: Vec<&str> = <E::PrimaryKey as Iterable>::iter()
            .map(|key| IdenStatic::as_str(&key.into_column()))
            .collect();
        let sql = engine.rows_as_json(
            E::default().table_name(),
            IdenStatic::as_str(&E::tenant_column()),
            &json_columns,
            &order_by,
        );
        let statement = Statement::from_sql_and_values(
            ConnectionTrait::get_database_backend(self.conn()),
            sql,
            [self.tenant.into()],
        );
        let rows = self.conn().stream_raw(statement).await?;
        Ok(rows
            .map(|row| row.and_then(|row| row.try_get::<String>("", "row")))
            .boxed())
    }

    /// The first row `query` selects, within this organisation.
    pub async fn one<E: TenantScoped>(&self, query: Select<E>) -> Result<Option<E::Model>, DbErr> {
        self.scoped(query).one(self.conn()).await
    }

    /// How many rows `query` selects, within this organisation.
    pub async fn count<E>(&self, query: Select<E>) -> Result<u64, DbErr>
    where
        E: TenantScoped,
        E::Model: Sync,
    {
        self.scoped(query).count(self.conn()).await
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
        model.insert(self.writable()?).await
    }

    /// Inserts `models` into this organisation in one statement; each one's tenant column is set
    /// here, whatever it held. For a restore, which writes whole tables of rows. The statement is
    /// built before the returned future runs, so the models need not be `Send`.
    pub fn insert_rows<E>(
        &mut self,
        models: Vec<E::ActiveModel>,
    ) -> impl Future<Output = Result<(), DbErr>> + Send + '_
    where
        E: TenantScoped,
        E::ActiveModel: ActiveModelBehavior,
    {
        let tenant: sea_orm::Value = self.tenant.into();
        let statement = (!models.is_empty()).then(|| {
            let models = models.into_iter().map(|mut model| {
                model.set(E::tenant_column(), tenant.clone());
                model
            });
            E::insert_many(models).build(self.db.engine().backend())
        });
        let tx = self.writable();
        async move {
            if let Some(statement) = statement {
                tx?.execute_raw(statement).await?;
            }
            Ok(())
        }
    }

    /// Inserts `model` unless a row with the same primary key exists; returns whether it did.
    pub async fn insert_if_absent<A, E>(&mut self, model: A) -> Result<bool, DbErr>
    where
        E: TenantScoped,
        A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A>,
    {
        let keys: Vec<E::Column> = <E::PrimaryKey as Iterable>::iter()
            .map(|key| key.into_column())
            .collect();
        self.insert_if_absent_on(model, keys).await
    }

    /// Inserts `model` unless a row with the same values in `unique` (the columns of a unique
    /// index) exists; returns whether it did. Concurrent inserts of one key do not fail: on
    /// PostgreSQL the later waits for the earlier to commit and then does nothing.
    pub async fn insert_if_absent_on<A, E>(
        &mut self,
        mut model: A,
        unique: impl IntoIterator<Item = E::Column>,
    ) -> Result<bool, DbErr>
    where
        E: TenantScoped,
        A: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
        E::Model: IntoActiveModel<A>,
    {
        model.set(E::tenant_column(), self.tenant.into());
        let tx = self.writable()?;
        match E::insert(model)
            .on_conflict(OnConflict::columns(unique).do_nothing().to_owned())
            .exec(tx)
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
        let tenant = self.tenant;
        let result = update
            .filter(E::tenant_column().eq(tenant))
            .exec(self.writable()?)
            .await?;
        Ok(result.rows_affected)
    }

    /// Runs `delete` on this organisation's rows only; returns how many rows went.
    pub async fn delete_many<E: TenantScoped>(
        &mut self,
        delete: DeleteMany<E>,
    ) -> Result<u64, DbErr> {
        let tenant = self.tenant;
        let result = delete
            .filter(E::tenant_column().eq(tenant))
            .exec(self.writable()?)
            .await?;
        Ok(result.rows_affected)
    }

    /// Runs `update` as bookkeeping that is not a change anyone made (a session's last-seen time):
    /// it needs no audit event. Never use it for data a user changed.
    pub(crate) async fn update_bookkeeping<E: TenantScoped>(
        &self,
        update: UpdateMany<E>,
    ) -> Result<u64, DbErr> {
        let Transaction::Own(tx) = &self.tx else {
            return Err(DbErr::Custom(
                "refused to write through a read request's shared transaction".into(),
            ));
        };
        let result = update
            .filter(E::tenant_column().eq(self.tenant))
            .exec(tx)
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
        if let Transaction::Own(tx) = self.tx {
            self.db.count_transaction_statement();
            tx.commit().await?;
        }
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
