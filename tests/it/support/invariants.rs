//! The teardown: what every test database must still hold when its test returns. Each
//! organisation's audit chain verifies, and every stock balance equals the sum of its movements
//! (on hand) and of the allocations held there (reserved).
//!
//! A [`TestDatabase`] registers itself with the [`Checks`] running on the thread that creates it
//! (the test's own thread: `#[tokio::test]` polls the test body there), and refuses to be created
//! outside one, so no database escapes the check. `on_both_databases!` opens the checks around the
//! test body; a test written with `#[tokio::test]` calls [`Checks::begin`] first and
//! [`Checks::finish`] last. Registered databases live until the checks are done, even if the test
//! dropped its handle. A test that breaks an invariant on purpose says so on that database with
//! [`TestDatabase::exempt`], naming the invariant and why.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use sea_orm::{ConnectionTrait, EntityTrait};
use vaskem::audit::keys::AuditKeys;
use vaskem::tenancy::{Database, TenantDb};

use super::database::{Registration, TestDatabase};

/// An invariant the teardown checks on every database a test used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invariant {
    /// Every organisation's audit chain verifies (`vaskem audit verify`).
    AuditChain,
    /// Every stock balance equals the sum of its movements (`vaskem stock verify`).
    StockLedger,
}

/// One broken invariant, naming the database and the organisation.
#[derive(Clone, Debug)]
pub struct Violation {
    pub invariant: Invariant,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The stock-ledger check, in one place so a move of the ledger's module changes one line.
pub async fn ledger_mismatches(
    handle: &TenantDb,
) -> Result<Vec<vaskem::service::ledger::BalanceMismatch>, vaskem::error::AppError> {
    vaskem::service::ledger::verify(handle).await
}

thread_local! {
    /// The databases created on this thread since its [`Checks`] began; `None` outside one.
    static REGISTERED: RefCell<Option<Vec<Arc<Registration>>>> = const { RefCell::new(None) };
}

/// Adds a new database to the running checks; panics outside one.
pub(super) fn register(registration: Arc<Registration>) {
    REGISTERED.with(|registered| match registered.borrow_mut().as_mut() {
        Some(list) => list.push(registration),
        None => panic!(
            "a TestDatabase was created outside the invariant checks: create it in the test \
             body of an on_both_databases! test, or between Checks::begin() and finish()"
        ),
    });
}

/// The invariant checks of one test (see the module documentation).
#[must_use = "call finish() after the test body"]
pub struct Checks {
    finished: bool,
}

impl Checks {
    /// Starts collecting the databases this thread creates.
    pub fn begin() -> Self {
        REGISTERED.with(|registered| {
            let mut registered = registered.borrow_mut();
            assert!(registered.is_none(), "invariant checks are already running");
            *registered = Some(Vec::new());
        });
        Self { finished: false }
    }

    /// Checks every database created since [`Self::begin`] and fails naming each violation not
    /// exempted; then the databases are removed.
    pub async fn finish(mut self) {
        self.finished = true;
        let databases = REGISTERED.with(|registered| registered.borrow_mut().take());
        let mut failures = Vec::new();
        for database in databases.unwrap_or_default() {
            let exemptions = database.exemptions();
            for violation in check(&database).await {
                match exemptions
                    .iter()
                    .find(|(broken, _)| *broken == violation.invariant)
                {
                    Some((_, why)) => eprintln!("exempt ({why}): {violation}"),
                    None => failures.push(violation.message),
                }
            }
        }
        assert!(
            failures.is_empty(),
            "the test left broken invariants behind:\n  {}",
            failures.join("\n  ")
        );
    }
}

impl Drop for Checks {
    fn drop(&mut self) {
        // A panicking test drops its databases unchecked: its own failure is the report.
        REGISTERED.with(|registered| registered.borrow_mut().take());
        if !self.finished && !std::thread::panicking() {
            panic!("Checks dropped without finish(): the test's databases went unchecked");
        }
    }
}

/// Every violation in `database` now, exemptions ignored (tests of the check call this).
pub async fn violations(database: &TestDatabase) -> Vec<Violation> {
    check(database.registration()).await
}

/// The database's violations. A database that cannot be read at all fails the test here: that
/// is no invariant a test may be exempt from.
async fn check(database: &Registration) -> Vec<Violation> {
    let label = database.label();
    let unreadable = |what: &str, err: sea_orm::DbErr| -> ! {
        panic!("database {label}: the teardown cannot {what}: {err}")
    };
    let raw = sea_orm::Database::connect(database.url())
        .await
        .unwrap_or_else(|err| unreadable("connect", err));
    let backend = raw.get_database_backend();
    // A database a test never migrated (tests of who migrates) has nothing to hold.
    let tables_sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'organisations'"
        }
        _ => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'organisations'",
    };
    let migrated = raw
        .query_one_raw(sea_orm::Statement::from_string(backend, tables_sql))
        .await
        .unwrap_or_else(|err| unreadable("read its tables", err))
        .is_some();
    let organisations = if migrated {
        entity::organisation::Entity::find()
            .all(&raw)
            .await
            .unwrap_or_else(|err| unreadable("list its organisations", err))
    } else {
        Vec::new()
    };
    let _ = raw.close().await;
    if organisations.is_empty() {
        return Vec::new();
    }
    let pool =
        Database::connect_with_pool(database.url(), 2, AuditKeys::new(database.audit_keys()))
            .await
            .unwrap_or_else(|err| unreadable("open a pool", err));
    let mut found = Vec::new();
    for organisation in organisations {
        let name = format!(
            "database {label}: organisation {:?} ({})",
            organisation.name, organisation.id
        );
        let handle = TenantDb::for_operator(&pool, organisation.id);
        match vaskem::audit::verify_chain(&handle).await {
            Ok(report) if report.is_intact() => {}
            Ok(report) => found.push(Violation {
                invariant: Invariant::AuditChain,
                message: format!(
                    "{name}: audit chain broken at event {}: {}",
                    report.first_broken_seq.unwrap_or_default(),
                    report.problem.unwrap_or_default()
                ),
            }),
            Err(err) => found.push(Violation {
                invariant: Invariant::AuditChain,
                message: format!("{name}: audit chain could not be verified: {err}"),
            }),
        }
        match ledger_mismatches(&handle).await {
            Ok(mismatches) => {
                for m in mismatches {
                    found.push(Violation {
                        invariant: Invariant::StockLedger,
                        message: format!("{name}: stock balance of {m}"),
                    });
                }
            }
            Err(err) => found.push(Violation {
                invariant: Invariant::StockLedger,
                message: format!("{name}: stock ledger could not be verified: {err}"),
            }),
        }
    }
    found
}
