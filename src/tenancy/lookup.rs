//! The two reads the service makes before it knows whose request it is: a session by its token
//! hash, and at sign-in an organisation by its slug and its account by email. Nothing else runs
//! without a tenant.
//!
//! On PostgreSQL each runs as the service role with only its own keys set
//! (`app.session_token_hash`, or `app.login_slug` and `app.login_email`), which narrow SELECT
//! policies match; the explicit filter below is the first wall, as everywhere else.

use entity::{organisation, session, user};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, TransactionTrait,
};

use super::{Database, Engine};

impl Database {
    /// The session whose token hashes to `token_hash`, whatever its state.
    pub(crate) async fn find_session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<session::Model>, DbErr> {
        let tx = self
            .begin_lookup(&[("app.session_token_hash", token_hash)])
            .await?;
        let found = session::Entity::find()
            .filter(session::Column::TokenHash.eq(token_hash))
            .one(&tx)
            .await?;
        tx.commit().await?;
        Ok(found)
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
            tx.commit().await?;
            return Ok(None);
        };
        let account = user::Entity::find()
            .filter(user::Column::TenantId.eq(organisation.id))
            .filter(user::Column::Email.eq(email))
            .one(&tx)
            .await?;
        tx.commit().await?;
        Ok(Some((organisation, account)))
    }

    async fn begin_lookup(
        &self,
        settings: &[(&'static str, &str)],
    ) -> Result<DatabaseTransaction, DbErr> {
        let tx = self.connection().begin().await?;
        if self.engine() == Engine::Postgres {
            self.engine().enter_lookup(&tx, settings).await?;
        }
        Ok(tx)
    }
}
