//! The shared failed-sign-in counters (`login_throttles`), kept in the database so every node
//! behind a load balancer enforces the same lockout.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, TransactionTrait, Value};

use super::{Database, Engine};

/// One counter's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: i32,
    /// Unix seconds; 0 when not locked.
    pub locked_until: i64,
}

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

    /// The current state of each key (missing keys read as zero).
    pub(crate) async fn throttle_states(
        &self,
        keys: &[String],
    ) -> Result<Vec<ThrottleState>, DbErr> {
        let tx = self.begin_throttle().await?;
        let mut states = Vec::with_capacity(keys.len());
        for key in keys {
            let row = tx
                .query_one_raw(self.statement(
                    "SELECT failures, locked_until FROM login_throttles WHERE key = $1",
                    vec![key.clone().into()],
                ))
                .await?;
            states.push(match row {
                Some(row) => ThrottleState {
                    failures: row.try_get("", "failures")?,
                    locked_until: row.try_get("", "locked_until")?,
                },
                None => ThrottleState::default(),
            });
        }
        tx.commit().await?;
        Ok(states)
    }

    /// Counts one failure against `key` within a window of `window_seconds`; at `max_failures`
    /// the key is locked for `lockout_seconds` and its count starts again.
    pub(crate) async fn record_throttle_failure(
        &self,
        key: &str,
        now: i64,
        window_seconds: i64,
        max_failures: i32,
        lockout_seconds: i64,
    ) -> Result<ThrottleState, DbErr> {
        let tx = self.begin_throttle().await?;
        let row = tx
            .query_one_raw(self.statement(
                "INSERT INTO login_throttles (key, failures, window_start, locked_until)
                 VALUES ($1, 1, $2, 0)
                 ON CONFLICT (key) DO UPDATE SET
                   failures = CASE WHEN login_throttles.window_start <= $3 THEN 1
                                   ELSE login_throttles.failures + 1 END,
                   window_start = CASE WHEN login_throttles.window_start <= $3 THEN $2
                                       ELSE login_throttles.window_start END
                 RETURNING failures, locked_until",
                vec![key.into(), now.into(), (now - window_seconds).into()],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("upsert returned no row".into()))?;
        let mut state = ThrottleState {
            failures: row.try_get("", "failures")?,
            locked_until: row.try_get("", "locked_until")?,
        };
        if state.failures >= max_failures {
            state = ThrottleState {
                failures: 0,
                locked_until: now + lockout_seconds,
            };
            tx.execute_raw(self.statement(
                "UPDATE login_throttles SET failures = 0, window_start = $2, locked_until = $3
                 WHERE key = $1",
                vec![key.into(), now.into(), state.locked_until.into()],
            ))
            .await?;
        }
        tx.commit().await?;
        Ok(state)
    }

    /// Forgets `key`'s failures (after a successful sign-in).
    pub(crate) async fn clear_throttle(&self, key: &str) -> Result<(), DbErr> {
        let tx = self.begin_throttle().await?;
        tx.execute_raw(self.statement(
            "DELETE FROM login_throttles WHERE key = $1 AND locked_until = 0",
            vec![key.into()],
        ))
        .await?;
        tx.commit().await
    }
}
