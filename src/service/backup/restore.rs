//! Restoring a backup as a NEW organisation, in one transaction: all or nothing.
//!
//! The file is read three times, never held whole in memory:
//! 1. **Verify** ([`super::verify`]): format, version, signature, every table's count and hash,
//!    the audit chain's links (and HMACs, given the source's audit keys). Nothing is written
//!    before this passes.
//! 2. **Map**: every row's own id gets a fresh one (the only thing kept in memory: one pair of
//!    uuids per row), and each table's place in the file is noted. The rows read here must hash
//!    to exactly the verified digests, so the layout cannot smuggle in other rows.
//! 3. **Insert**: table by table, in foreign-key order (read from the database's catalogue),
//!    every row remapped and inserted through the tenant handle, which stamps the new
//!    organisation's id on its tenant column. A reference to a row the backup does not hold
//!    stops the restore and the transaction rolls back.
//!
//! **Which columns are ids** comes from the entities, not from a list: every uuid column is one
//! ([`classify`]). A uuid column that is its table's sole primary key (besides the tenant) is the
//! row's own id and gets a fresh one; every other uuid column refers to a row and takes the new
//! id of that row (the nil uuid, "no lot", stays nil). The tenant column is the tenant handle's.
//! A column of a type this module cannot carry fails [`TableSpec::of`], and a unit test checks
//! every table, so a new table or column cannot be silently dropped.
//!
//! **New ids keep the old ones' time**: the 48-bit millisecond prefix of a UUIDv7 is kept and the
//! rest is fresh, so keyset pages by id still follow creation order.
//!
//! **Not restored** ([`NOT_RESTORED`]): `sessions` and `backups`. Users come back inactive, must
//! change their password, and with a password hash no password matches (their hashes were never
//! exported), until an operator resets one (`vaskem user reset-password`).
//!
//! **The audit history is kept as history.** Each old event is restored with its sequence number,
//! time, actor label, action, outcome and detail unchanged, its actor and subject ids remapped,
//! and is re-chained: linked to the restored event before it and signed with this installation's
//! current audit key (the source's key is usually not ours, and a chain we cannot check is no
//! chain). So `vaskem audit verify --org NEW` checks the whole history. That the events were
//! re-chained is recorded once, in the restore event that follows them
//! (`organisation.restore`, whose detail names the source organisation, the file's SHA-256, its
//! export time, the rows per table and the range of restored events); the old events' own
//! detail is left exactly as it was.
//!
//! Per-organisation state comes back with its rows: document counters (the next order numbers),
//! stock balances (equal to the restored movements, as the export's snapshot guarantees), and the
//! audit head (written from the re-chained events, not copied).
//!
//! Reading the file is synchronous (a restore is an operator's command): it blocks the task's
//! thread while it reads.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::marker::PhantomData;

use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::VerifyingKey;
use entity::{
    TenantId, TenantScoped, TenantTableVisitor, audit_event, audit_head, organisation, user,
};
use futures_util::future::BoxFuture;
use sea_orm::sea_query::Value;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ColumnType, ConnectionTrait, DbErr, EntityName, IdenStatic,
    Iterable, PrimaryKeyToColumn, SqlErr, Statement,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::signing::{OrganisationHeader, TableDigest};
use super::verify::ExportedEvent;
use super::{VerifyProblem, is_withheld, verify};
use crate::audit::keys::AuditKeys;
use crate::audit::{self, AuditRecord};
use crate::error::AppError;
use crate::service::text;
use crate::tenancy::{Database, TenantDb, TenantTx};

/// A tenant table a restore leaves out, and why.
#[derive(Clone, Copy, Debug)]
pub struct NotRestored {
    pub table: &'static str,
    pub why: &'static str,
}

/// The only tenant tables a restore does not write. Everything else is restored.
pub const NOT_RESTORED: &[NotRestored] = &[
    NotRestored {
        table: "sessions",
        why: "a session is a sign-in to the source organisation: none may be live after a restore",
    },
    NotRestored {
        table: "backups",
        why: "the source organisation's exports and their files are not the new organisation's",
    },
];

/// Whether `table` is left out of restores.
pub fn is_not_restored(table: &str) -> bool {
    NOT_RESTORED.iter().any(|skip| skip.table == table)
}

/// What `vaskem backup restore` names the new organisation.
#[derive(Clone, Debug)]
pub struct RestoreTarget {
    pub name: String,
    pub slug: String,
}

/// What a restore created.
#[derive(Clone, Debug)]
pub struct RestoreSummary {
    pub organisation_id: TenantId,
    pub name: String,
    pub slug: String,
    /// The organisation the backup was taken of.
    pub source: OrganisationHeader,
    pub exported_at: String,
    /// The file's SHA-256 (hex).
    pub file_sha256: String,
    /// Rows written per table (the restore event not counted).
    pub rows: BTreeMap<String, u64>,
    /// Rows of the tables in [`NOT_RESTORED`] that the file held and the restore left out.
    pub left_out: BTreeMap<String, u64>,
    /// The restored users' emails (all inactive until an operator resets a password).
    pub users: Vec<String>,
    /// Every old id and the new id it became (the organisation's included): what a caller
    /// needs to relate the restored rows to the backup's.
    pub ids: HashMap<Uuid, Uuid>,
}

/// Why a restore wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("the backup is refused: {0}")]
    Refused(#[from] VerifyProblem),
    #[error(
        "the backup is refused: {table}.{column} refers to {id}, which is no row of the backup"
    )]
    Dangling {
        table: String,
        column: &'static str,
        id: Uuid,
    },
    #[error("the backup is refused: a row of {table}: {why}")]
    BadRow { table: String, why: String },
    #[error("the backup is refused: table {0} is not a table of this version of VasKem")]
    UnknownTable(String),
    #[error("the backup is refused: it is not laid out as an export writes it: {0}")]
    Layout(String),
    #[error("the backup changed while it was being restored (table {0}): nothing was written")]
    Changed(String),
    /// A bad name or slug, or a slug already taken.
    #[error("{0}")]
    Input(AppError),
    #[error("cannot read the backup: {0}")]
    Read(#[from] std::io::Error),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// A column type this module cannot carry: a bug caught by the classification test.
    #[error("cannot restore {table}.{column}: its type is not one a restore knows")]
    Unclassified {
        table: &'static str,
        column: &'static str,
    },
}

impl From<AppError> for RestoreError {
    fn from(err: AppError) -> Self {
        RestoreError::Input(err)
    }
}

/// Rows per INSERT: well under SQLite's 32,766 parameters for the widest table.
const BATCH: usize = 500;

/// Restores the backup in `file` (read three times: see the module documentation) as a new
/// organisation named by `target`. The file must be signed by `public_key`; with
/// `source_audit_keys` the source's audit HMACs are checked too. Writes nothing unless it
/// succeeds whole.
pub async fn restore<R: Read + Seek>(
    db: &Database,
    mut file: R,
    public_key: &VerifyingKey,
    source_audit_keys: Option<&AuditKeys>,
    target: RestoreTarget,
) -> Result<RestoreSummary, RestoreError> {
    let name = text::single_line("name", &target.name, 200)?;
    let slug = text::slug("slug", &target.slug)?;
    let specs = TableSpec::all()?;

    // 1. Verify, hashing the whole file on the way.
    file.seek(SeekFrom::Start(0))?;
    let mut hashing = Hashing::new(&mut file);
    let report = verify(&mut hashing, public_key, source_audit_keys)?;
    let file_sha256 = hex::encode(hashing.sha256.finalize());
    let source_id: Uuid = report
        .organisation
        .id
        .parse()
        .map_err(|_| RestoreError::BadRow {
            table: "organisation".into(),
            why: format!("{:?} is not a uuid", report.organisation.id),
        })?;

    // 2. Map every own id to a fresh one; note where each table's rows start.
    file.seek(SeekFrom::Start(0))?;
    let organisation_id = TenantId(fresh_like(source_id));
    let mut ids = IdMap::default();
    ids.insert(source_id, organisation_id.0);
    let places = {
        let mut reader = BufReader::with_capacity(1 << 16, &mut file);
        scan(&mut reader, &report.table_digests, |table, row| {
            let Some(spec) = specs.iter().find(|spec| spec.name == table) else {
                return Err(RestoreError::UnknownTable(table.to_owned()));
            };
            if let Some(own) = spec.own_id {
                let row: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(row).map_err(|err| spec.bad(err.to_string()))?;
                let column = spec.columns[own].name;
                let old = uuid_at(&row, column).map_err(|why| spec.bad(why))?;
                ids.insert(old, fresh_like(old));
            }
            Ok(())
        })?
    };

    // 3. Insert, in foreign-key order, in one transaction.
    let order = dependency_order(db, &specs).await?;
    let handle = TenantDb::for_operator(db, organisation_id);
    let mut tx = handle.write().await?;
    let mut summary = RestoreSummary {
        organisation_id,
        name: name.clone(),
        slug: slug.clone(),
        source: report.organisation.clone(),
        exported_at: report.exported_at.clone(),
        file_sha256,
        rows: BTreeMap::new(),
        left_out: BTreeMap::new(),
        users: Vec::new(),
        ids: HashMap::new(),
    };
    let mut chain = Chain::default();
    for index in order {
        let spec = &specs[index];
        let Some(place) = places.iter().find(|place| place.table == spec.name) else {
            // verify() checked the manifest against the file: a table of ours the backup lacks
            // was not in the version that wrote it, and has no rows to restore.
            continue;
        };
        if is_not_restored(spec.name) {
            summary.left_out.insert(spec.name.to_owned(), place.rows);
            continue;
        }
        if spec.name == audit_head::Entity.table_name() {
            // Written from the re-chained events below, not copied.
            continue;
        }
        file.seek(SeekFrom::Start(place.offset))?;
        let mut reader = BufReader::with_capacity(1 << 16, &mut file);
        let mut sha = Sha256::new();
        let mut count = 0_u64;
        let mut batch = Vec::with_capacity(BATCH);
        let mut events = Vec::new();
        loop {
            let Some(row) = next_row(&mut reader)? else {
                break;
            };
            sha.update(row.as_bytes());
            sha.update(b"\n");
            count += 1;
            if spec.name == audit_event::Entity.table_name() {
                let event = chain.restore(&tx, &ids, source_id, &row)?;
                events.push(audit_event::ActiveModel::from(event));
                if events.len() == BATCH {
                    tx.insert_rows::<audit_event::Entity>(std::mem::take(&mut events))
                        .await?;
                }
                continue;
            }
            let values = spec.remap(&row, &ids, source_id, (&name, &slug))?;
            if spec.name == user::Entity.table_name() {
                summary
                    .users
                    .push(spec.text(&values, user::Column::Email.as_str()));
            }
            batch.push(values);
            if batch.len() == BATCH {
                spec.insert(&mut tx, std::mem::take(&mut batch))
                    .await
                    .map_err(|err| spec.db_error(err, &slug))?;
            }
        }
        tx.insert_rows::<audit_event::Entity>(events).await?;
        spec.insert(&mut tx, batch)
            .await
            .map_err(|err| spec.db_error(err, &slug))?;
        if count != place.rows || hex::encode(sha.finalize()) != place.sha256 {
            return Err(RestoreError::Changed(spec.name.to_owned()));
        }
        summary.rows.insert(spec.name.to_owned(), count);
    }
    tx.insert(audit_head::ActiveModel {
        tenant_id: sea_orm::ActiveValue::Set(organisation_id),
        last_seq: sea_orm::ActiveValue::Set(chain.seq),
        last_hash: sea_orm::ActiveValue::Set(chain.hash()),
    })
    .await?;
    summary
        .rows
        .insert(audit_head::Entity.table_name().into(), 1);
    tx.record(
        AuditRecord::new("organisation.restore", "organisation", organisation_id).with_change(
            json!(null),
            json!({
                "name": name,
                "slug": slug,
                "source": {
                    "id": report.organisation.id,
                    "name": report.organisation.name,
                    "slug": report.organisation.slug,
                },
                "fileSha256": summary.file_sha256,
                "exportedAt": report.exported_at,
                "rows": summary.rows,
                "leftOut": summary.left_out,
                "restoredEvents": { "first": 1, "last": chain.seq, "rechained": true },
            }),
        ),
    )
    .await
    .map_err(RestoreError::Input)?;
    tx.commit().await.map_err(RestoreError::Input)?;
    summary.ids = ids.map;
    Ok(summary)
}

/// A fresh UUIDv7 with `old`'s millisecond prefix (see the module documentation).
fn fresh_like(old: Uuid) -> Uuid {
    let mut bytes = *Uuid::now_v7().as_bytes();
    bytes[..6].copy_from_slice(&old.as_bytes()[..6]);
    Uuid::from_bytes(bytes)
}

/// Old id → new id, for every row's own id (and the organisation's).
#[derive(Default)]
struct IdMap {
    map: HashMap<Uuid, Uuid>,
}

impl IdMap {
    fn insert(&mut self, old: Uuid, new: Uuid) {
        self.map.entry(old).or_insert(new);
    }

    fn get(&self, old: &Uuid) -> Option<Uuid> {
        self.map.get(old).copied()
    }
}

/// How a column's values are carried from JSON to the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Uuid,
    Text,
    Int,
    BigInt,
    Bool,
    Timestamp,
    Date,
}

/// What a column is to a restore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Stamped by the tenant handle.
    Tenant,
    /// The row's own id: gets a fresh one.
    OwnId,
    /// Another row's id: takes that row's new id.
    Reference,
    /// Carried as it is.
    Data,
}

#[derive(Clone, Debug)]
struct ColumnSpec {
    name: &'static str,
    kind: Kind,
    role: Role,
}

/// Which [`Kind`] a column type is; `None` for one a restore cannot carry.
fn classify(column_type: &ColumnType) -> Option<Kind> {
    Some(match column_type {
        ColumnType::Uuid => Kind::Uuid,
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => Kind::Text,
        ColumnType::Integer | ColumnType::SmallInteger => Kind::Int,
        ColumnType::BigInteger => Kind::BigInt,
        ColumnType::Boolean => Kind::Bool,
        ColumnType::TimestampWithTimeZone => Kind::Timestamp,
        ColumnType::Date => Kind::Date,
        _ => return None,
    })
}

/// One tenant table as a restore writes it.
struct TableSpec {
    name: &'static str,
    /// Every column but the tenant column, in the entity's order.
    columns: Vec<ColumnSpec>,
    /// Index in `columns` of the row's own id, if it has one.
    own_id: Option<usize>,
    /// Inserts this table's rows through the tenant handle.
    writer: Box<dyn Writer>,
}

impl TableSpec {
    fn of<E: TenantScoped + Default>() -> Result<Self, RestoreError> {
        let name = E::default().table_name();
        let tenant = IdenStatic::as_str(&E::tenant_column());
        let keys: Vec<&'static str> = <E::PrimaryKey as Iterable>::iter()
            .map(|key| IdenStatic::as_str(&key.into_column()))
            .filter(|key| *key != tenant)
            .collect();
        let mut columns = Vec::new();
        for column in E::Column::iter() {
            let column_name = IdenStatic::as_str(&column);
            let kind =
                classify(column.def().get_column_type()).ok_or(RestoreError::Unclassified {
                    table: name,
                    column: column_name,
                })?;
            let role = if column_name == tenant {
                Role::Tenant
            } else if kind != Kind::Uuid {
                Role::Data
            } else if keys == [column_name] {
                Role::OwnId
            } else {
                Role::Reference
            };
            columns.push(ColumnSpec {
                name: column_name,
                kind,
                role,
            });
        }
        let own_id = columns.iter().position(|column| column.role == Role::OwnId);
        Ok(Self {
            name,
            columns,
            own_id,
            writer: Box::new(EntityWriter::<E>(PhantomData)),
        })
    }

    /// Every tenant table, in `entity::visit_tenant_tables`' order.
    fn all() -> Result<Vec<Self>, RestoreError> {
        struct Collect(Vec<Result<TableSpec, RestoreError>>);
        impl TenantTableVisitor for Collect {
            fn visit<E: TenantScoped + Default>(&mut self) {
                self.0.push(TableSpec::of::<E>());
            }
        }
        let mut collect = Collect(Vec::new());
        entity::visit_tenant_tables(&mut collect);
        collect.0.into_iter().collect()
    }

    fn bad(&self, why: impl Into<String>) -> RestoreError {
        RestoreError::BadRow {
            table: self.name.to_owned(),
            why: why.into(),
        }
    }

    /// The row's values for [`Self::columns`], remapped; the tenant column's is a placeholder
    /// the tenant handle overwrites.
    fn remap(
        &self,
        text: &str,
        ids: &IdMap,
        source: Uuid,
        (name, slug): (&str, &str),
    ) -> Result<Vec<Value>, RestoreError> {
        let row: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|err| self.bad(err.to_string()))?;
        if let Some(key) = row.keys().find(|key| {
            !self
                .columns
                .iter()
                .any(|column| column.name == key.as_str())
        }) {
            return Err(self.bad(format!("unknown column {key}")));
        }
        let is_users = self.name == user::Entity.table_name();
        let is_organisation = self.name == organisation::Entity.table_name();
        let mut values = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let value = match row.get(column.name) {
                Some(value) => value,
                None if is_withheld(self.name, column.name) => &serde_json::Value::Null,
                None => return Err(self.bad(format!("no column {}", column.name))),
            };
            let converted = match column.role {
                Role::Tenant => {
                    let tenant = uuid_at(&row, column.name).map_err(|why| self.bad(why))?;
                    if tenant != source {
                        return Err(self.bad(format!(
                            "{} is {tenant}, not the backup's organisation",
                            column.name
                        )));
                    }
                    Value::from(Some(tenant))
                }
                Role::OwnId | Role::Reference => {
                    let old = match value {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(text) => Some(
                            text.parse::<Uuid>()
                                .map_err(|_| self.bad(format!("{}: not a uuid", column.name)))?,
                        ),
                        _ => return Err(self.bad(format!("{}: not a uuid", column.name))),
                    };
                    let new = match old {
                        Some(old) if old.is_nil() => Some(old),
                        Some(old) => Some(ids.get(&old).ok_or(RestoreError::Dangling {
                            table: self.name.to_owned(),
                            column: column.name,
                            id: old,
                        })?),
                        None => None,
                    };
                    Value::from(new)
                }
                // The organisation's name and slug are the operator's, not the backup's.
                Role::Data if is_organisation && column.name == "name" => {
                    Value::from(Some(name.to_owned()))
                }
                Role::Data if is_organisation && column.name == "slug" => {
                    Value::from(Some(slug.to_owned()))
                }
                Role::Data => {
                    if is_users {
                        match column.name {
                            // Restored users are locked until an operator resets a password.
                            "password_hash" => Value::from(Some(unusable_password_hash()?)),
                            "is_active" => Value::from(Some(false)),
                            "must_change_password" => Value::from(Some(true)),
                            _ => self.data(column, value)?,
                        }
                    } else {
                        self.data(column, value)?
                    }
                }
            };
            values.push(converted);
        }
        Ok(values)
    }

    fn data(&self, column: &ColumnSpec, value: &serde_json::Value) -> Result<Value, RestoreError> {
        use serde_json::Value as J;
        let wrong = || self.bad(format!("{}: not a {:?}", column.name, column.kind));
        Ok(match (column.kind, value) {
            (Kind::Text, J::Null) => Value::from(None::<String>),
            (Kind::Text, J::String(text)) => Value::from(Some(text.clone())),
            (Kind::Int, J::Null) => Value::from(None::<i32>),
            (Kind::Int, J::Number(n)) => Value::from(Some(
                n.as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(wrong)?,
            )),
            (Kind::BigInt, J::Null) => Value::from(None::<i64>),
            (Kind::BigInt, J::Number(n)) => Value::from(Some(n.as_i64().ok_or_else(wrong)?)),
            (Kind::Bool, J::Null) => Value::from(None::<bool>),
            (Kind::Bool, J::Bool(b)) => Value::from(Some(*b)),
            (Kind::Timestamp, J::Null) => Value::from(None::<DateTime<Utc>>),
            (Kind::Timestamp, J::String(text)) => {
                Value::from(Some(parse_time(text).ok_or_else(wrong)?))
            }
            (Kind::Date, J::Null) => Value::from(None::<NaiveDate>),
            (Kind::Date, J::String(text)) => Value::from(Some(
                NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| wrong())?,
            )),
            _ => return Err(wrong()),
        })
    }

    /// The text value of `column` in `values` (for the summary).
    fn text(&self, values: &[Value], column: &str) -> String {
        self.columns
            .iter()
            .position(|spec| spec.name == column)
            .and_then(|index| values.get(index))
            .and_then(|value| match value {
                Value::String(Some(text)) => Some(text.to_string()),
                _ => None,
            })
            .unwrap_or_default()
    }

    async fn insert(&self, tx: &mut TenantTx, rows: Vec<Vec<Value>>) -> Result<(), DbErr> {
        if rows.is_empty() {
            return Ok(());
        }
        self.writer.insert(tx, &self.columns, rows).await
    }

    fn db_error(&self, err: DbErr, slug: &str) -> RestoreError {
        if self.name == organisation::Entity.table_name() {
            slug_taken(err, slug)
        } else {
            err.into()
        }
    }
}

fn slug_taken(err: DbErr, slug: &str) -> RestoreError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => RestoreError::Input(AppError::Conflict(
            format!("an organisation with the slug {slug:?} already exists"),
        )),
        _ => err.into(),
    }
}

/// A PBKDF2 PHC string no password matches: a random salt and a random "hash" (finding a
/// password for it is inverting PBKDF2), well-formed so a sign-in attempt fails as a wrong
/// password, never as an error.
fn unusable_password_hash() -> Result<String, RestoreError> {
    use base64::Engine as _;
    let mut salt = [0_u8; 16];
    let mut hash = [0_u8; 32];
    getrandom::fill(&mut salt)
        .and_then(|()| getrandom::fill(&mut hash))
        .map_err(|err| RestoreError::Input(AppError::Internal(format!("no randomness: {err}"))))?;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!(
        "$pbkdf2-sha256$i=600000,l=32${}${}",
        b64.encode(salt),
        b64.encode(hash)
    ))
}

/// A time as either engine exports it.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z"]
        .iter()
        .find_map(|format| DateTime::parse_from_str(text, format).ok())
        .map(|time| time.with_timezone(&Utc))
}

fn uuid_at(row: &serde_json::Map<String, serde_json::Value>, column: &str) -> Result<Uuid, String> {
    row.get(column)
        .and_then(serde_json::Value::as_str)
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| format!("{column}: not a uuid"))
}

/// Inserts rows of one entity's table through the tenant handle.
trait Writer: Send + Sync {
    fn insert<'a>(
        &'a self,
        tx: &'a mut TenantTx,
        columns: &'a [ColumnSpec],
        rows: Vec<Vec<Value>>,
    ) -> BoxFuture<'a, Result<(), DbErr>>;
}

struct EntityWriter<E>(PhantomData<fn() -> E>);

impl<E: TenantScoped + Default> Writer for EntityWriter<E> {
    fn insert<'a>(
        &'a self,
        tx: &'a mut TenantTx,
        columns: &'a [ColumnSpec],
        rows: Vec<Vec<Value>>,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        let models = rows
            .into_iter()
            .map(|row| {
                let mut model = <E::ActiveModel as ActiveModelTrait>::default();
                for ((column, spec), value) in E::Column::iter().zip(columns).zip(row) {
                    // The tenant column is the handle's to stamp.
                    if spec.role != Role::Tenant {
                        model.try_set(column, value)?;
                    }
                }
                Ok(model)
            })
            .collect::<Result<Vec<_>, DbErr>>();
        match models {
            Ok(models) => Box::pin(tx.insert_rows::<E>(models)),
            Err(err) => Box::pin(async move { Err(err) }),
        }
    }
}

/// The restored audit chain as it grows.
#[derive(Default)]
struct Chain {
    seq: i64,
    hash: Option<String>,
}

impl Chain {
    fn hash(&self) -> String {
        self.hash
            .clone()
            .unwrap_or_else(|| crate::audit::GENESIS_HASH.to_owned())
    }

    /// The exported event `text`, remapped and re-chained after the events before it.
    fn restore(
        &mut self,
        tx: &TenantTx,
        ids: &IdMap,
        source: Uuid,
        text: &str,
    ) -> Result<audit_event::Model, RestoreError> {
        let table = audit_event::Entity.table_name();
        let bad = |why: String| RestoreError::BadRow {
            table: table.to_owned(),
            why,
        };
        let exported: ExportedEvent =
            serde_json::from_str(text).map_err(|err| bad(err.to_string()))?;
        let mut event = exported.model().map_err(bad)?;
        if event.tenant_id.0 != source {
            return Err(bad(format!(
                "event {} is another organisation's",
                event.seq
            )));
        }
        event.tenant_id = tx.tenant();
        if let Some(actor) = event.actor_user_id {
            event.actor_user_id = Some(entity::UserId(ids.get(&actor.0).ok_or(
                RestoreError::Dangling {
                    table: table.to_owned(),
                    column: "actor_user_id",
                    id: actor.0,
                },
            )?));
        }
        // The subject is text (an id, or a name for some events): an id the backup holds is
        // remapped, anything else (an id of a row since deleted, a session) stays as history.
        if let Some(subject) = event
            .entity_id
            .as_deref()
            .and_then(|text| text.parse::<Uuid>().ok())
            .and_then(|old| ids.get(&old))
        {
            event.entity_id = Some(subject.to_string());
        }
        let prev = self.hash();
        audit::rechain(tx, &prev, &mut event).map_err(RestoreError::Input)?;
        self.seq = event.seq;
        self.hash = Some(event.hash.clone());
        Ok(event)
    }
}

/// Where one table's rows are in the file, and what they hash to.
struct TablePlace {
    table: String,
    /// Byte offset of the table's first row line.
    offset: u64,
    rows: u64,
    sha256: String,
}

/// Reads the document's tables (laid out as [`super::export`] writes them: a line per row),
/// calling `each` per row, and checks every table's rows against the verified `digests`.
fn scan<R: BufRead>(
    reader: &mut R,
    digests: &[TableDigest],
    mut each: impl FnMut(&str, &str) -> Result<(), RestoreError>,
) -> Result<Vec<TablePlace>, RestoreError> {
    let mut offset = 0_u64;
    let mut line = String::new();
    let read_line = |reader: &mut R, line: &mut String, offset: &mut u64| {
        line.clear();
        let read = reader.read_line(line)?;
        *offset += read as u64;
        Ok::<usize, std::io::Error>(read)
    };
    // The header line, then the line opening the tables.
    read_line(reader, &mut line, &mut offset)?;
    read_line(reader, &mut line, &mut offset)?;
    if line.trim_end() != "\"tables\":{" {
        return Err(RestoreError::Layout(
            "no \"tables\" line after the header".into(),
        ));
    }
    let mut places = Vec::new();
    loop {
        if read_line(reader, &mut line, &mut offset)? == 0 {
            return Err(RestoreError::Layout("the tables do not end".into()));
        }
        let opening = line.trim_end();
        if opening == "}," {
            break;
        }
        let table: String = opening
            .strip_suffix(":[")
            .and_then(|quoted| serde_json::from_str(quoted).ok())
            .ok_or_else(|| {
                RestoreError::Layout(format!("expected a table, found {opening:.40}"))
            })?;
        let start = offset;
        let mut sha = Sha256::new();
        let mut rows = 0_u64;
        loop {
            if read_line(reader, &mut line, &mut offset)? == 0 {
                return Err(RestoreError::Layout(format!("table {table} does not end")));
            }
            let row = line.trim_end_matches('\n');
            if row == "]" || row == "]," {
                break;
            }
            let row = row.strip_suffix(',').unwrap_or(row);
            sha.update(row.as_bytes());
            sha.update(b"\n");
            rows += 1;
            each(&table, row)?;
        }
        let sha256 = hex::encode(sha.finalize());
        let verified = digests.iter().find(|digest| digest.table == table);
        if verified.is_none_or(|digest| digest.rows != rows || digest.sha256 != sha256) {
            return Err(RestoreError::Layout(format!(
                "table {table} as laid out is not the table that verified"
            )));
        }
        places.push(TablePlace {
            table,
            offset: start,
            rows,
            sha256,
        });
    }
    Ok(places)
}

/// The next row of the table whose rows `reader` is at, or `None` at its end.
fn next_row<R: BufRead>(reader: &mut R) -> Result<Option<String>, RestoreError> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(RestoreError::Layout("a table does not end".into()));
    }
    let row = line.trim_end_matches('\n');
    if row == "]" || row == "]," {
        return Ok(None);
    }
    Ok(Some(row.strip_suffix(',').unwrap_or(row).to_owned()))
}

/// Indexes into `specs` ordered so that every table comes after the tables its foreign keys
/// point at (read from the database's catalogue, so it follows the migrations); ties keep
/// `specs`' order. A table's references to itself are left to the file's order (rows in key
/// order, and keys are time-ordered: a row refers to an older one).
async fn dependency_order(db: &Database, specs: &[TableSpec]) -> Result<Vec<usize>, RestoreError> {
    let sql = db.engine().foreign_keys_sql();
    let conn = db.connection();
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await?;
    let mut needs: Vec<Vec<usize>> = vec![Vec::new(); specs.len()];
    for row in rows {
        let table: String = row.try_get("", "tbl")?;
        let target: String = row.try_get("", "target")?;
        let position = |name: &str| specs.iter().position(|spec| spec.name == name);
        if let (Some(from), Some(to)) = (position(&table), position(&target))
            && from != to
        {
            needs[from].push(to);
        }
    }
    let mut done = vec![false; specs.len()];
    let mut order = Vec::with_capacity(specs.len());
    while order.len() < specs.len() {
        let next = (0..specs.len())
            .find(|&index| !done[index] && needs[index].iter().all(|&need| done[need]))
            .ok_or_else(|| DbErr::Custom("the tenant tables' foreign keys form a cycle".into()))?;
        done[next] = true;
        order.push(next);
    }
    Ok(order)
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    sha256: Sha256,
}

impl<R> Hashing<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            sha256: Sha256::new(),
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.sha256.update(&buf[..read]);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column of every tenant table is one a restore can carry, and every uuid column is
    /// classified as the tenant, an own id or a reference: a new table or column type fails here.
    #[test]
    fn every_tenant_column_is_classified() {
        let specs = match TableSpec::all() {
            Ok(specs) => specs,
            Err(err) => panic!("{err}"),
        };
        assert_eq!(specs.len(), entity::tenant_scoped_tables().len());
        for spec in &specs {
            for column in &spec.columns {
                if column.kind == Kind::Uuid {
                    assert_ne!(column.role, Role::Data, "{}.{}", spec.name, column.name);
                }
            }
        }
        for skip in NOT_RESTORED {
            assert!(
                specs.iter().any(|spec| spec.name == skip.table),
                "{}",
                skip.table
            );
        }
    }

    #[test]
    fn new_ids_keep_the_old_time() {
        let old = Uuid::now_v7();
        let new = fresh_like(old);
        assert_ne!(old, new);
        assert_eq!(old.as_bytes()[..6], new.as_bytes()[..6]);
    }
}
