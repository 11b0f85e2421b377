//! Migrated templates, made once per run of the test binary: every migrated test database is a
//! copy of one (`CREATE DATABASE … TEMPLATE` on PostgreSQL, a file copy on SQLite) instead of
//! running every migration again. Also what else a run leaves on the PostgreSQL server: the names
//! of test databases and their removal.
//!
//! Test processes of other checkouts may share the PostgreSQL server, so every name is unique to
//! its run and says when it was made: `vaskem_tpl_<unix seconds>_<pid>_<random>` for the template,
//! `vaskem_tcopy_…` for the test databases. Nothing runs when a test binary exits, so the
//! template stays, and so may the last few test databases (see [`drop_later`]); each run drops
//! what matches those patterns, is more than an hour old and whose maker is no longer running, and
//! the SQLite template files likewise.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use migration::MigratorTrait;
use sea_orm::ConnectionTrait;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::sync::{OnceCell, Semaphore};

use super::database::{admin_connection, admin_url, database_url, ensure_serving_role};

const POSTGRES_PREFIX: &str = "vaskem_tpl_";
const COPY_PREFIX: &str = "vaskem_tcopy_";
const SQLITE_PREFIX: &str = "vaskem-template-";
const STALE_AFTER: Duration = Duration::from_secs(3600);

static POSTGRES: OnceCell<String> = OnceCell::const_new();
static DROPPER: OnceLock<UnboundedSender<String>> = OnceLock::new();
static SQLITE: OnceCell<PathBuf> = OnceCell::const_new();

/// The migrated PostgreSQL template's name, made on first use.
pub async fn postgres() -> &'static str {
    POSTGRES.get_or_init(make_postgres).await
}

/// A new test database's name.
pub fn test_database_name() -> String {
    format!("{COPY_PREFIX}{}", run_name('_'))
}

/// Drops the PostgreSQL database `name` in the background. `DROP DATABASE` forces a checkpoint
/// (1.2 to 1.8 s each on the shared test machine, measured), which no test needs to wait for;
/// concurrent drops share it. Drops still queued when the binary exits do not happen: a later
/// run removes those databases.
pub fn drop_later(name: String) {
    let dropper = DROPPER.get_or_init(|| {
        let (sender, mut names) = unbounded_channel::<String>();
        std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                // A few at once share checkpoints without crowding the server's connections,
                // which concurrent test runs share too.
                let at_once = Arc::new(Semaphore::new(4));
                while let Some(name) = names.recv().await {
                    let at_once = at_once.clone();
                    tokio::spawn(async move {
                        let Ok(_permit) = at_once.acquire_owned().await else {
                            return;
                        };
                        if let Ok(admin) = sea_orm::Database::connect(&admin_url()).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                }
            });
        });
        sender
    });
    let _ = dropper.send(name);
}

/// The migrated SQLite template file, made on first use.
pub async fn sqlite() -> &'static Path {
    SQLITE.get_or_init(make_sqlite).await
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// `<unix seconds>_<pid>_<random>`, with `separator` between the parts.
fn run_name(separator: char) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{}{separator}{}{separator}{}",
        now().as_secs(),
        std::process::id(),
        &random[..8]
    )
}

/// Whether a name `<prefix><unix seconds><separator>…` was made more than [`STALE_AFTER`] ago.
/// A run still going (a long fuzz run, say) keeps its names whatever their age: the process
/// that made them is alive (`/proc/<pid>`; the test runs share the machine with their server).
fn is_stale(name: &str, prefix: &str, separator: char) -> bool {
    let Some(rest) = name.strip_prefix(prefix) else {
        return false;
    };
    let mut parts = rest.split(separator);
    let made = parts.next().and_then(|seconds| seconds.parse::<u64>().ok());
    let maker_alive = parts
        .next()
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
    !maker_alive
        && made.is_some_and(|made| now().as_secs().saturating_sub(made) > STALE_AFTER.as_secs())
}

async fn make_postgres() -> String {
    let admin = admin_connection().await;
    let backend = admin.get_database_backend();
    let existing = admin
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            format!(
                "SELECT datname FROM pg_database
                 WHERE datname LIKE '{POSTGRES_PREFIX}%' OR datname LIKE '{COPY_PREFIX}%'"
            ),
        ))
        .await
        .expect("list old test databases");
    for row in existing {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        if is_stale(&name, POSTGRES_PREFIX, '_') || is_stale(&name, COPY_PREFIX, '_') {
            // Another run may be dropping it too; either way it goes.
            drop_later(name);
        }
    }
    let name = format!("{POSTGRES_PREFIX}{}", run_name('_'));
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the template database");
    // Roles are cluster-wide and the migrations grant to the service role; the grants are per
    // database and every copy carries them.
    ensure_serving_role().await;
    let conn = sea_orm::Database::connect(database_url(&name))
        .await
        .expect("connect to the template database");
    migration::Migrator::up(&conn, None)
        .await
        .expect("migrate the template database");
    conn.close().await.expect("close the template's connection");
    // A copy fails while anyone is connected to the template: refuse connections from now on.
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await
        .expect("close the template to connections");
    name
}

async fn make_sqlite() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_stale(&name, SQLITE_PREFIX, '-') {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let path = dir.join(format!("{SQLITE_PREFIX}{}.db", run_name('-')));
    let conn = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("create the SQLite template");
    migration::Migrator::up(&conn, None)
        .await
        .expect("migrate the SQLite template");
    // Closed, in its default rollback-journal mode, the file is the whole database.
    conn.close().await.expect("close the SQLite template");
    path
}
