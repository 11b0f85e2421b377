//! The reads the service makes before it knows whose request it is: a session by its token hash
//! (with its user, role and organisation), and at sign-in an organisation by its slug and its
//! account by email. Nothing else runs without a tenant.
//!
//! On PostgreSQL each runs as the service role with only its own keys set
//! (`app.session_token_hash`, or `app.login_slug` and `app.login_email`), which narrow SELECT
//! policies match; the explicit filters below are the first wall, as everywhere else.

use chrono::{DateTime, Utc};
use entity::{TenantId, organisation, role, session, user};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, FromQueryResult,
    IdenStatic, Iterable, QueryFilter, TransactionTrait,
};

use super::{Database, Engine, Privilege};

/// A live session and what a request needs of its caller, as read by
/// [`Database::begin_with_session`].
#[derive(Debug)]
pub(crate) struct LiveSession {
    pub session: session::Model,
    /// Active, and in the session's organisation (which is active too).
    pub user: user::Model,
    pub role: role::Model,
}

/// Adds every column of `E`, from the table aliased `table`, as `{table}_{column}`.
fn select_columns<E: EntityTrait>(query: &mut SelectStatement, table: &'static str) {
    for column in E::Column::iter() {
        query.expr_as(
            Expr::col((table, column)),
            format!("{table}_{}", column.as_str()),
        );
    }
}

impl Database {
    /// Begins a request's transaction with its session check: one statement reads the session
    /// the token hashes to, if it is live (not revoked, not past its lifetime, seen since
    /// `idle_since`), with its user (active, of the session's organisation), the user's role and
    /// the organisation (active), and the transaction goes on as a tenant transaction of that
    /// organisation.
    ///
    /// With `claimed`, the organisation the cookie names, the transaction enters that tenant
    /// first (on PostgreSQL: the usual tenant statement) and the check is an ordinary tenant
    /// query that also requires the session to be that organisation's: a claim that is wrong
    /// finds nothing. Without one (a cookie from before cookies named it), the check runs as a
    /// pre-tenant lookup by the token alone and, on PostgreSQL, enters the session's
    /// organisation in the same statement; with no live session it is entered into none.
    pub(crate) async fn begin_with_session(
        &self,
        token_hash: &str,
        claimed: Option<TenantId>,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<(DatabaseTransaction, Option<LiveSession>), DbErr> {
        let mut query = Query::select();
        let tx = match claimed {
            Some(tenant) => {
                let tx = self.connection().begin().await?;
                self.count_transaction_statement();
                self.engine()
                    .enter_tenant(&tx, tenant, Privilege::Service)
                    .await?;
                query.and_where(Expr::col(("s", session::Column::TenantId)).eq(tenant));
                tx
            }
            None => {
                self.begin_lookup(&[("app.session_token_hash", token_hash)])
                    .await?
            }
        };
        if claimed.is_none() && self.engine() == Engine::Postgres {
            // Evaluated for the one row that passes every condition below, and only then.
            query.expr_as(
                Expr::cust("set_config('app.tenant_id', \"s\".\"tenant_id\"::text, true)"),
                "entered_tenant",
            );
        }
        select_columns::<session::Entity>(&mut query, "s");
        select_columns::<user::Entity>(&mut query, "u");
        select_columns::<role::Entity>(&mut query, "r");
        query
            .from_as(session::Entity, "s")
            .join_as(
                JoinType::InnerJoin,
                user::Entity,
                "u",
                Expr::col(("u", user::Column::Id))
                    .equals(("s", session::Column::UserId))
                    .and(
                        Expr::col(("u", user::Column::TenantId))
                            .equals(("s", session::Column::TenantId)),
                    ),
            )
            .join_as(
                JoinType::InnerJoin,
                role::Entity,
                "r",
                Expr::col(("r", role::Column::Id))
                    .equals(("u", user::Column::RoleId))
                    .and(
                        Expr::col(("r", role::Column::TenantId))
                            .equals(("u", user::Column::TenantId)),
                    ),
            )
            .join_as(
                JoinType::InnerJoin,
                organisation::Entity,
                "o",
                Expr::col(("o", organisation::Column::Id)).equals(("s", session::Column::TenantId)),
            )
            .and_where(Expr::col(("s", session::Column::TokenHash)).eq(token_hash))
            .and_where(Expr::col(("s", session::Column::RevokedAt)).is_null())
            .and_where(Expr::col(("s", session::Column::ExpiresAt)).gt(now))
            .and_where(Expr::col(("s", session::Column::LastSeenAt)).gt(idle_since))
            .and_where(Expr::col(("u", user::Column::IsActive)).eq(true))
            .and_where(Expr::col(("o", organisation::Column::IsActive)).eq(true));
        let row = tx
            .query_one_raw(self.connection().get_database_backend().build(&query))
            .await?;
        let live = match row {
            Some(row) => Some(LiveSession {
                session: session::Model::from_query_result(&row, "s_")?,
                user: user::Model::from_query_result(&row, "u_")?,
                role: role::Model::from_query_result(&row, "r_")?,
            }),
            None => None,
        };
        Ok((tx, live))
    }

    /// The organisation with this slug and, if it has one, its account with this (normalised)
    /// email: all sign-in reads before it knows whose request it is.
    pub(crate) async fn find_login_account(
        &self,
        slug: &str,
        email: &str,
    ) -> Result<Option<(organisation::Model, Option<user::Model>)>, DbErr> {
        let tx = self
            .begin_lookup(&[("app.login_slug", slug), ("app.login_email", email)])
            .await?;
        let Some(organisation) = organisation::Entity::find()
            .filter(organisation::Column::Slug.eq(slug))
            .one(&tx)
            .await?
        else {
            self.commit_lookup(tx).await?;
            return Ok(None);
        };
        let account = user::Entity::find()
            .filter(user::Column::TenantId.eq(organisation.id))
            .filter(user::Column::Email.eq(email))
            .one(&tx)
            .await?;
        self.commit_lookup(tx).await?;
        Ok(Some((organisation, account)))
    }

    async fn begin_lookup(
        &self,
        settings: &[(&'static str, &str)],
    ) -> Result<DatabaseTransaction, DbErr> {
        let tx = self.connection().begin().await?;
        self.count_transaction_statement();
        if self.engine() == Engine::Postgres {
            self.engine().enter_lookup(&tx, settings).await?;
        }
        Ok(tx)
    }
}

impl Database {
    async fn commit_lookup(&self, tx: DatabaseTransaction) -> Result<(), DbErr> {
        self.count_transaction_statement();
        tx.commit().await
    }
}
