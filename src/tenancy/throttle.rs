//! The shared failed-sign-in counters (`login_throttles`), kept in the database so every node
//! behind a load balancer enforces the same lockout.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, TransactionTrait, Value};

use super::{Database, Engine};

impl Database {
    fn statement(&self, sql: &str, values: Vec<Value>) -> Statement {
        let backend = match self.engine() {
            Engine::Postgres => DatabaseBackend::Postgres,
            Engine::Sqlite => DatabaseBackend::Sqlite,
        };
        Statement::from_sql_and_values(backend, sql, values)
    }

    async fn begin_throttle(&self) -> Result<sea_orm::DatabaseTransaction, DbErr> {
        let tx = self
            .connection()
            .begin_with_options(self.engine().transaction_options(true))
            .await?;
        if self.engine() == Engine::Postgres {
            tx.execute_unprepared(&format!(
                "SET LOCAL ROLE {}",
                migration::tenant_wall::SERVICE_ROLE
            ))
            .await?;
        }
        Ok(tx)
    }

    /// Takes one sign-in attempt on `key`, atomically: concurrent attempts get consecutive
    /// numbers, so no burst of parallel requests can check more passwords than the limit. A locked
    /// key, or one whose attempts in this window are used up (it locks now), is refused.
    pub(crate) async fn take_attempt(
        &self,
        key: &str,
        now: i64,
        limits: AttemptLimits,
    ) -> Result<Attempt, DbErr> {
        let tx = self.begin_throttle().await?;
        let row = tx
            .query_one_raw(self.statement(
                "INSERT INTO login_throttles (key, failures, window_start, locked_until)
                 VALUES ($1, 1, $2, 0)
                 ON CONFLICT (key) DO UPDATE SET
                   failures = CASE WHEN login_throttles.locked_until > $2 THEN login_throttles.failures
                                   WHEN login_throttles.window_start <= $3 THEN 1
                                   ELSE login_throttles.failures + 1 END,
                   window_start = CASE WHEN login_throttles.locked_until > $2 THEN login_throttles.window_start
                                       WHEN login_throttles.window_start <= $3 THEN $2
                                       ELSE login_throttles.window_start END
                 RETURNING failures, locked_until",
                vec![key.into(), now.into(), (now - limits.window_seconds).into()],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("upsert returned no row".into()))?;
        let number: i32 = row.try_get("", "failures")?;
        let locked_until: i64 = row.try_get("", "locked_until")?;
        let attempt = if locked_until > now {
            Attempt::Refused { locked_until }
        } else if number > limits.max_failures {
            let locked_until = now + limits.lockout_seconds;
            self.lock(&tx, key, now, locked_until).await?;
            Attempt::Refused { locked_until }
        } else {
            Attempt::Allowed { number }
        };
        tx.commit().await?;
        Ok(attempt)
    }

    /// After attempt `number` failed: at the limit the key locks; returns until when.
    pub(crate) async fn attempt_failed(
        &self,
        key: &str,
        number: i32,
        now: i64,
        limits: AttemptLimits,
    ) -> Result<Option<i64>, DbErr> {
        if number < limits.max_failures {
            return Ok(None);
        }
        let tx = self.begin_throttle().await?;
        let locked_until = now + limits.lockout_seconds;
        self.lock(&tx, key, now, locked_until).await?;
        tx.commit().await?;
        Ok(Some(locked_until))
    }

    /// After a successful sign-in the attempt does not count: `forget` drops the key's count
    /// (the account's), otherwise it is given back (the client address's).
    pub(crate) async fn attempt_succeeded(
        &self,
        key: &str,
        now: i64,
        forget: bool,
    ) -> Result<(), DbErr> {
        let tx = self.begin_throttle().await?;
        let sql = if forget {
            "DELETE FROM login_throttles WHERE key = $1 AND locked_until <= $2"
        } else {
            "UPDATE login_throttles SET failures = failures - 1
             WHERE key = $1 AND failures > 0 AND locked_until <= $2"
        };
        tx.execute_raw(self.statement(sql, vec![key.into(), now.into()]))
            .await?;
        tx.commit().await
    }

    async fn lock(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        key: &str,
        now: i64,
        locked_until: i64,
    ) -> Result<(), DbErr> {
        tx.execute_raw(self.statement(
            "UPDATE login_throttles SET failures = 0, window_start = $2, locked_until = $3
             WHERE key = $1",
            vec![key.into(), now.into(), locked_until.into()],
        ))
        .await?;
        Ok(())
    }
}

/// The limits for one kind of key.
#[derive(Clone, Copy, Debug)]
pub struct AttemptLimits {
    pub max_failures: i32,
    pub window_seconds: i64,
    pub lockout_seconds: i64,
}

/// What [`Database::take_attempt`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead; this is attempt `number` in the current window.
    Allowed { number: i32 },
    /// Locked until this Unix second.
    Refused { locked_until: i64 },
}
