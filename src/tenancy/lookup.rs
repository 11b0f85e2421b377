//! The two reads the service makes before it knows whose request it is: a session by its token
//! hash, and users by email at login. Nothing else runs without a tenant.
//!
//! On PostgreSQL each runs as the service role with only its own key set (`app.session_token_hash`
//! or `app.login_email`), which a narrow SELECT policy matches; the explicit filter below is the
//! first wall, as everywhere else.

use entity::{session, user};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use super::{Database, Engine};

impl Database {
    /// The session whose token hashes to `token_hash`, whatever its state.
    pub(crate) async fn find_session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<session::Model>, DbErr> {
        let tx = self
            .begin_lookup("app.session_token_hash", token_hash)
            .await?;
        let found = session::Entity::find()
            .filter(session::Column::TokenHash.eq(token_hash))
            .one(&tx)
            .await?;
        tx.commit().await?;
        Ok(found)
    }

    /// Every user with this (normalised) email, oldest first.
    pub(crate) async fn find_users_by_login_email(
        &self,
        email: &str,
    ) -> Result<Vec<user::Model>, DbErr> {
        let tx = self.begin_lookup("app.login_email", email).await?;
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .order_by_asc(user::Column::CreatedAt)
            .all(&tx)
            .await?;
        tx.commit().await?;
        Ok(found)
    }

    async fn begin_lookup(
        &self,
        setting: &'static str,
        value: &str,
    ) -> Result<DatabaseTransaction, DbErr> {
        let tx = self.connection().begin().await?;
        if self.engine() == Engine::Postgres {
            self.engine().enter_lookup(&tx, setting, value).await?;
        }
        Ok(tx)
    }
}
