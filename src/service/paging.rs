//! Keyset pagination for every list: rows ordered by a sort column and then by key columns that
//! make the order total, continued from a cursor that holds the last row's values of those
//! columns. No OFFSET anywhere, so page 1,000 costs what page 1 costs and rows inserted meanwhile
//! neither repeat nor vanish.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ColumnType, EntityTrait, IdenStatic, ModelTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, Select, Value,
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use entity::TenantScoped;

use crate::tenancy::TenantTx;

/// Where a page starts, how long it is, and whether the caller wants the total.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    /// A cursor from an earlier page of the same list in the same order.
    pub after: Option<String>,
    pub limit: u64,
    pub want_total: bool,
}

/// One page: each row with the cursor that continues after it.
pub struct Page<T> {
    pub rows: Vec<(String, T)>,
    pub has_more: bool,
    /// How many rows the whole list has, when asked for (one more query).
    pub total: Option<u64>,
}

impl<T> Page<T> {
    /// The same page with each row turned into something else, or the first failure.
    pub fn try_map<U, E>(self, f: impl Fn(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            rows: self
                .rows
                .into_iter()
                .map(|(cursor, row)| Ok((cursor, f(row)?)))
                .collect::<Result<_, E>>()?,
            has_more: self.has_more,
            total: self.total,
        })
    }
}

/// A list's order: `columns` compared left to right, all ascending or all descending. The last
/// columns must make the order total (a primary key), or rows could repeat across pages.
pub struct ListOrder<E: EntityTrait> {
    pub columns: Vec<E::Column>,
    pub descending: bool,
}

impl<E: EntityTrait> ListOrder<E> {
    pub fn new(columns: Vec<E::Column>, descending: bool) -> Self {
        Self {
            columns,
            descending,
        }
    }

    /// Names the list and its order, so that a cursor from another list or order is refused
    /// rather than misread.
    fn signature(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|c| c.as_str()).collect();
        format!(
            "{}:{}{}",
            E::default().table_name(),
            names.join(","),
            if self.descending { "-" } else { "+" }
        )
    }
}

/// A cursor's content: the order it belongs to and the last row's values in that order.
#[derive(Serialize, Deserialize)]
struct CursorData {
    o: String,
    k: Vec<KeyValue>,
}

/// The column values a cursor can hold.
#[derive(Serialize, Deserialize, Clone, Debug)]
enum KeyValue {
    #[serde(rename = "s")]
    Text(String),
    #[serde(rename = "i")]
    Int(i64),
    #[serde(rename = "u")]
    Uuid(uuid::Uuid),
    #[serde(rename = "t")]
    Time(chrono::DateTime<chrono::Utc>),
    #[serde(rename = "d")]
    Day(chrono::NaiveDate),
}

impl KeyValue {
    fn from_value(value: Value) -> AppResult<Self> {
        Ok(match value {
            Value::String(Some(s)) => Self::Text(s),
            Value::BigInt(Some(i)) => Self::Int(i),
            Value::Uuid(Some(u)) => Self::Uuid(u),
            Value::ChronoDateTimeUtc(Some(t)) => Self::Time(t),
            Value::ChronoDate(Some(d)) => Self::Day(d),
            other => {
                return Err(AppError::Internal(format!(
                    "cannot page by a column holding {other:?}"
                )));
            }
        })
    }

    /// The value as SQL, if it fits the column's type (a forged cursor must not reach the
    /// database as a type error).
    fn into_value(self, column_type: &ColumnType) -> Option<Value> {
        use ColumnType as T;
        match (self, column_type) {
            (Self::Text(s), T::String(_) | T::Text | T::Char(_)) => Some(s.into()),
            (Self::Int(i), T::BigInteger) => Some(i.into()),
            (Self::Uuid(u), T::Uuid) => Some(u.into()),
            (Self::Time(t), T::TimestampWithTimeZone) => {
                crate::service::bounds::check_time("after", t).ok()?;
                Some(t.into())
            }
            (Self::Day(d), T::Date) => {
                crate::service::bounds::check_day("after", d).ok()?;
                Some(d.into())
            }
            _ => None,
        }
    }
}

fn not_a_cursor() -> AppError {
    AppError::bad_input(
        "after",
        "after is not a cursor from this list in this order",
    )
}

fn encode<E: EntityTrait>(ordering: &ListOrder<E>, model: &E::Model) -> AppResult<String> {
    let k = ordering
        .columns
        .iter()
        .map(|c| KeyValue::from_value(model.get(*c)))
        .collect::<AppResult<Vec<_>>>()?;
    let data = CursorData {
        o: ordering.signature(),
        k,
    };
    let json = serde_json::to_vec(&data).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Reads a cursor into the condition "comes after it in this order".
fn after_condition<E: EntityTrait>(ordering: &ListOrder<E>, cursor: &str) -> AppResult<Expr> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| not_a_cursor())?;
    let data: CursorData = serde_json::from_slice(&bytes).map_err(|_| not_a_cursor())?;
    if data.o != ordering.signature() || data.k.len() != ordering.columns.len() {
        return Err(not_a_cursor());
    }
    let values = data
        .k
        .into_iter()
        .zip(&ordering.columns)
        .map(|(key, column)| key.into_value(column.def().get_column_type()))
        .collect::<Option<Vec<Value>>>()
        .ok_or_else(not_a_cursor)?;
    // A row-value comparison, (c1, c2, …) > (v1, v2, …): every column runs the same way, and
    // both engines can answer it from an index on (tenant_id, c1, c2, …) as a range.
    let columns = Expr::tuple(ordering.columns.iter().map(|c| Expr::col(*c)));
    let values = Expr::tuple(values.into_iter().map(Expr::val));
    Ok(if ordering.descending {
        columns.lt(values)
    } else {
        columns.gt(values)
    })
}

/// One page of `query` (already filtered) in `ordering`, inside the caller's organisation.
pub async fn page<E>(
    tx: &TenantTx,
    query: Select<E>,
    ordering: &ListOrder<E>,
    request: &PageRequest,
) -> AppResult<Page<E::Model>>
where
    E: TenantScoped,
    E::Model: Sync,
{
    let total = if request.want_total {
        Some(tx.count(query.clone()).await?)
    } else {
        None
    };
    let mut query = query;
    if let Some(cursor) = &request.after {
        query = query.filter(after_condition(ordering, cursor)?);
    }
    let direction = if ordering.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    for column in &ordering.columns {
        query = query.order_by(*column, direction.clone());
    }
    let mut rows = tx.all(query.limit(request.limit + 1)).await?;
    let has_more = rows.len() as u64 > request.limit;
    rows.truncate(usize::try_from(request.limit).unwrap_or(usize::MAX));
    let rows = rows
        .into_iter()
        .map(|row| Ok((encode(ordering, &row)?, row)))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Page {
        rows,
        has_more,
        total,
    })
}
