//! Document numbers (`PO-000042`) counted per organisation: one organisation's numbers never
//! show how many documents another has made, and two documents never share a number.

use entity::document_counter;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::error::{AppError, AppResult};
use crate::tenancy::TenantTx;

/// The next number of `kind` in this organisation, formatted as `PREFIX-000001`. The counter row
/// is locked until the transaction ends, so concurrent documents queue for their numbers (and a
/// document that is rolled back gives its number back).
pub async fn next(tx: &mut TenantTx, kind: &'static str, prefix: &str) -> AppResult<String> {
    tx.insert_if_absent_on(
        document_counter::ActiveModel {
            tenant_id: Set(tx.tenant()),
            kind: Set(kind.to_owned()),
            last_number: Set(0),
        },
        [
            document_counter::Column::TenantId,
            document_counter::Column::Kind,
        ],
    )
    .await?;
    let counter = tx
        .one(
            document_counter::Entity::find()
                .filter(document_counter::Column::Kind.eq(kind))
                .lock_exclusive(),
        )
        .await?
        .ok_or_else(|| AppError::Internal(format!("document counter {kind} vanished")))?;
    let number = counter.last_number + 1;
    tx.update_many(
        document_counter::Entity::update_many()
            .col_expr(
                document_counter::Column::LastNumber,
                sea_orm::sea_query::Expr::value(number),
            )
            .filter(document_counter::Column::Kind.eq(kind)),
    )
    .await?;
    Ok(format!("{prefix}-{number:06}"))
}
