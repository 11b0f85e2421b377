//! The `vaskem` command line: `serve`, `migrate`, `org create`, `audit verify`, `backup`, `schema`.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use entity::TenantId;

use crate::audit::keys::{self, AuditKeys};
use crate::auth::AuthSettings;
use crate::auth::password::{
    DEFAULT_MIN_LENGTH, DEFAULT_MIN_SCORE, DEFAULT_ROUNDS, LOWEST_MIN_LENGTH, PasswordHasher,
};
use crate::auth::session::{LoginThrottle, SessionPolicy};
use crate::graphql::{QueryLimits, Schemas, global_id, parse_id};
use crate::http::AppState;
use crate::service::backup::{self, BackupKey};
use crate::service::organisations::{self, NewOrganisation};
use crate::service::users;
use crate::tenancy::{Database, Engine, TenantDb};
use crate::{audit, graphql};
use migration::tenant_wall::SERVICE_ROLE;

/// The exit code of `vaskem audit verify` for a broken chain and of `vaskem stock verify` for a
/// disagreeing balance (1 is any error, 2 a usage error).
pub const BROKEN_CHAIN_EXIT: u8 = 3;

/// The SQLite file used when no database is named: created in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://vaskem.db?mode=rwc";

/// The audit key file used when no key is configured: created in the working directory by the
/// first command that writes an audit event.
pub const DEFAULT_AUDIT_KEY_FILE: &str = "vaskem-audit.key";

/// The environment variable that may hold the audit key itself (containers without a key file).
pub const AUDIT_KEY_ENV: &str = "VASKEM_AUDIT_KEY";

/// The backup signing key file used when none is named: created in the working directory by the
/// first command that needs it.
pub const DEFAULT_BACKUP_KEY_FILE: &str = "vaskem-backup.key";

#[derive(Parser, Debug)]
#[command(
    name = "vaskem",
    version,
    about = "Multi-tenant warehouse-management backend"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    audit_keys: AuditKeyArgs,
}

/// Where the audit keys come from. The key itself is taken only from a file or the environment
/// (`VASKEM_AUDIT_KEY`), never from a flag, which other users could read in the process list.
#[derive(Args, Debug, Clone)]
pub struct AuditKeyArgs {
    /// File of audit keys, one base64 key (32 bytes) per line; the last signs, all verify.
    /// Without it (and without VASKEM_AUDIT_KEY), `vaskem-audit.key` in the working directory,
    /// created on first use.
    #[arg(long, global = true, env = "VASKEM_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
}

/// What a command needs the audit keys for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyUse {
    /// It appends events: with no key configured, the default key file is created.
    Sign,
    /// It only verifies: a missing key is an error (a new key would verify nothing).
    Verify,
}

impl AuditKeyArgs {
    /// The key ring, from `VASKEM_AUDIT_KEY` or a key file; setting both is an error rather than
    /// a silent choice, since two nodes configured differently would sign with different keys.
    fn load(&self, usage: KeyUse) -> anyhow::Result<AuditKeys> {
        let inline = std::env::var(AUDIT_KEY_ENV)
            .ok()
            .filter(|value| !value.trim().is_empty());
        match (inline, &self.audit_key_file) {
            (Some(_), Some(_)) => anyhow::bail!(
                "both {AUDIT_KEY_ENV} and an audit key file (--audit-key-file or \
                 VASKEM_AUDIT_KEY_FILE) are set; use one"
            ),
            (Some(value), None) => AuditKeys::parse_inline(&value)
                .map_err(|err| anyhow::anyhow!("{AUDIT_KEY_ENV}: {err}")),
            (None, Some(path)) => AuditKeys::load(path)
                .map_err(|err| anyhow::anyhow!("audit key file {}: {err}", path.display())),
            (None, None) => {
                let path = Path::new(DEFAULT_AUDIT_KEY_FILE);
                if usage == KeyUse::Verify {
                    return AuditKeys::load(path).map_err(|err| {
                        anyhow::anyhow!(
                            "no audit key: {DEFAULT_AUDIT_KEY_FILE} in the working directory: \
                             {err}; name the key file with --audit-key-file or \
                             VASKEM_AUDIT_KEY_FILE, or give the key in {AUDIT_KEY_ENV}"
                        )
                    });
                }
                let (ring, created) = keys::load_or_create(path)
                    .map_err(|err| anyhow::anyhow!("audit key file {}: {err}", path.display()))?;
                if created {
                    let shown = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
                    tracing::warn!(
                        path = %shown.display(),
                        "no audit key was configured: created a new one. Back this file up and \
                         give every node the same copy (--audit-key-file or \
                         VASKEM_AUDIT_KEY_FILE); without it the audit log cannot be verified"
                    );
                }
                Ok(ring)
            }
        }
    }

    /// The key file `vaskem audit new-key` appends to.
    fn file_to_rotate(&self) -> anyhow::Result<PathBuf> {
        if self.audit_key_file.is_none() && std::env::var_os(AUDIT_KEY_ENV).is_some() {
            anyhow::bail!(
                "{AUDIT_KEY_ENV} is set, and new-key writes a key file: name one with \
                 --audit-key-file, then move its keys into {AUDIT_KEY_ENV}"
            );
        }
        Ok(self
            .audit_key_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_AUDIT_KEY_FILE)))
    }
}

/// Where the backup signing key comes from: a file only (never a flag, which other users could
/// read in the process list), as with the audit keys.
#[derive(Args, Debug, Clone)]
pub struct BackupKeyArgs {
    /// File holding the Ed25519 key backups are signed with (base64 of 32 bytes, one line).
    /// Without it, `vaskem-backup.key` in the working directory, created on first use.
    #[arg(long, env = "VASKEM_BACKUP_KEY_FILE")]
    pub backup_key_file: Option<PathBuf>,
}

impl BackupKeyArgs {
    fn load(&self, usage: KeyUse) -> anyhow::Result<BackupKey> {
        if let Some(path) = &self.backup_key_file {
            return BackupKey::load(path)
                .map_err(|err| anyhow::anyhow!("backup key file {}: {err}", path.display()));
        }
        let path = Path::new(DEFAULT_BACKUP_KEY_FILE);
        if usage == KeyUse::Verify {
            return BackupKey::load(path).map_err(|err| {
                anyhow::anyhow!(
                    "no backup key: {DEFAULT_BACKUP_KEY_FILE} in the working directory: {err}; \
                     name the key file with --backup-key-file or VASKEM_BACKUP_KEY_FILE, or give \
                     the public key with --public-key"
                )
            });
        }
        let (key, created) = BackupKey::load_or_create(path)
            .map_err(|err| anyhow::anyhow!("backup key file {}: {err}", path.display()))?;
        if created {
            let shown = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
            tracing::warn!(
                path = %shown.display(),
                "no backup key was configured: created a new one. Back this file up and keep it \
                 secret (--backup-key-file or VASKEM_BACKUP_KEY_FILE); `vaskem backup \
                 public-key` prints what verifiers need"
            );
        }
        Ok(key)
    }
}

impl BackupKeyArgs {
    /// The key a backup's signature is checked with: `--public-key` (base64) if given, else the
    /// backup key file's.
    fn public_key(&self, given: Option<&str>) -> anyhow::Result<ed25519_dalek::VerifyingKey> {
        match given {
            Some(text) => backup::signing::public_key_from_base64(text)
                .map_err(|err| anyhow::anyhow!("--public-key: {err}")),
            None => Ok(self.load(KeyUse::Verify)?.verifying_key()),
        }
    }
}

impl AuditKeyArgs {
    /// The audit keys if any are configured or the default key file exists; never creates one
    /// (`vaskem backup verify` recomputes the chain's HMACs only when it has them).
    fn load_if_present(&self) -> anyhow::Result<Option<AuditKeys>> {
        let configured = self.audit_key_file.is_some()
            || std::env::var(AUDIT_KEY_ENV).is_ok_and(|value| !value.trim().is_empty());
        if configured || Path::new(DEFAULT_AUDIT_KEY_FILE).exists() {
            return self.load(KeyUse::Verify).map(Some);
        }
        Ok(None)
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP service (migrates the database first; on PostgreSQL only over
    /// --migrate-database-url, or the connection itself if --allow-owner-connection).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage organisations (tenants).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Inspect the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check the stock ledger.
    #[command(subcommand)]
    Stock(StockCommand),
    /// Signed backups of one organisation: export, verify, the public key.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Manage an organisation's users as the operator.
    #[command(subcommand)]
    User(UserCommand),
    /// Create a demo organisation full of believable data and print its login (on any database).
    Demo(DemoArgs),
    /// Print the GraphQL schema (SDL); `schema.graphql` must equal it.
    Schema,
    /// Print the permission matrix; `docs/PERMISSIONS.md` must equal it.
    Permissions,
}

#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// Database to use: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Args, Debug, Clone)]
pub struct PasswordArgs {
    /// PBKDF2-HMAC-SHA256 iterations for new password hashes (1,000 to 10,000,000).
    #[arg(long, env = "VASKEM_PASSWORD_ROUNDS", default_value_t = DEFAULT_ROUNDS,
          value_parser = clap::value_parser!(u32).range(1_000..=10_000_000))]
    pub password_rounds: u32,
    /// Shortest new password accepted, in characters (8 to 64; passwords of up to 128 are
    /// accepted, never truncated).
    #[arg(long, env = "VASKEM_PASSWORD_MIN_LENGTH", default_value_t = DEFAULT_MIN_LENGTH as u16,
          value_parser = clap::value_parser!(u16).range(LOWEST_MIN_LENGTH as i64..=64))]
    pub password_min_length: u16,
    /// Lowest strength a new password must reach, as scored by zxcvbn (0 to 4).
    #[arg(long, env = "VASKEM_PASSWORD_MIN_SCORE", default_value_t = DEFAULT_MIN_SCORE,
          value_parser = clap::value_parser!(u8).range(0..=4))]
    pub password_min_score: u8,
}

impl PasswordArgs {
    fn hasher(&self) -> PasswordHasher {
        PasswordHasher::new(self.password_rounds, usize::from(self.password_min_length))
            .with_min_score(self.password_min_score)
    }
}

#[derive(Args, Debug)]
struct DemoArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    passwords: PasswordArgs,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "VASKEM_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The TLS certificate chain (PEM) to serve HTTPS with; needs --tls-key. Reloaded on SIGHUP
    /// and when the file changes, without dropping connections.
    #[arg(long = "tls-cert", env = "VASKEM_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(long = "tls-key", env = "VASKEM_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Also listen on this address for plain HTTP, only to send pages to HTTPS (308 to the same
    /// host, path and query; to --public-url when given) and to refuse API requests, which have
    /// already sent their credentials in clear.
    #[arg(long = "redirect-http", env = "VASKEM_REDIRECT_HTTP")]
    redirect_http: Option<SocketAddr>,
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    passwords: PasswordArgs,
    #[command(flatten)]
    limits: QueryLimits,
    #[command(flatten)]
    sessions: SessionPolicy,
    #[command(flatten)]
    throttle: LoginThrottle,
    #[command(flatten)]
    connections: crate::http::server::ConnectionLimits,
    #[command(flatten)]
    security_txt: crate::http::security_txt::SecurityTxt,
    /// Most database connections the server holds open (1 to 1000).
    #[arg(long, env = "VASKEM_DATABASE_POOL_SIZE", default_value_t = Database::DEFAULT_POOL_SIZE,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    database_pool_size: u32,
    /// Reverse proxies whose X-Forwarded-For is believed: addresses or CIDR ranges,
    /// comma-separated (`127.0.0.1,10.0.0.0/8`). A request from one of them counts as coming from
    /// the last address it appended; from anyone else the header is ignored.
    #[arg(
        long = "trust-proxy",
        env = "VASKEM_TRUST_PROXY",
        value_delimiter = ',',
        value_parser = proxy_range
    )]
    trust_proxy: Vec<ipnet::IpNet>,
    /// PostgreSQL: the schema owner's URL, used only to apply migrations before serving; requests
    /// go over `--database-url`, a login role that owns nothing.
    #[arg(long, env = "VASKEM_MIGRATE_DATABASE_URL")]
    migrate_database_url: Option<String>,
    /// PostgreSQL: serve even over a superuser or table-owner connection (local use only; without
    /// `--migrate-database-url` it then migrates over that connection).
    #[arg(long, env = "VASKEM_ALLOW_OWNER_CONNECTION", default_value_t = false)]
    allow_owner_connection: bool,
    /// Where backups asked for through the API (`exportBackup`) are written, a folder per
    /// organisation, readable by the service's user only. With several app nodes, give them all
    /// the same shared folder: a download may reach another node than the export ran on.
    #[arg(
        long = "backup-dir",
        env = "VASKEM_BACKUP_DIR",
        default_value = "vaskem-backups"
    )]
    backup_dir: PathBuf,
    #[command(flatten)]
    backup_key: BackupKeyArgs,
}

#[derive(Subcommand, Debug)]
enum OrgCommand {
    /// Create an organisation and its first administrator; prints the organisation's id.
    ///
    /// The administrator's password is read from VASKEM_ADMIN_PASSWORD, or else one line of stdin.
    Create {
        #[arg(long)]
        name: String,
        /// What sign-in names the organisation by: 3 to 63 of a-z, 0-9 and '-', unique (made
        /// from the name when not given).
        #[arg(long)]
        slug: Option<String>,
        #[arg(long)]
        admin_email: String,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        passwords: PasswordArgs,
    },
    /// Deactivate an organisation: its users' sessions end at once and nobody can sign in.
    Deactivate(OrganisationRef),
    /// Reactivate a deactivated organisation.
    Activate(OrganisationRef),
}

#[derive(Args, Debug)]
struct OrganisationRef {
    /// The organisation's id.
    #[arg(long = "org", value_parser = organisation_id)]
    organisation: TenantId,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Give a user a one-time password (printed once), activate them and make them choose a new
    /// password at sign-in; ends their sessions. The way into a restored organisation.
    ResetPassword {
        /// The organisation's id.
        #[arg(long = "org", value_parser = organisation_id)]
        organisation: TenantId,
        /// The user's email.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        passwords: PasswordArgs,
    },
}

#[derive(Subcommand, Debug)]
enum StockCommand {
    /// Recompute every balance from the movements; exit 3 and list them if any disagree.
    Verify(OrganisationRef),
}

#[derive(Subcommand, Debug)]
enum BackupCommand {
    /// Write one organisation's signed backup (JSON) to FILE, read from one snapshot; FILE
    /// appears only once complete. Progress goes to stderr when it is a terminal.
    Export {
        /// The organisation's id.
        #[arg(long = "org", value_parser = organisation_id)]
        organisation: TenantId,
        /// Where to write the backup.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        key: BackupKeyArgs,
    },
    /// Check a backup from the file alone: format, signature, every table's rows and hash, the
    /// audit chain's links (and its HMACs when an audit key is configured); names the first
    /// thing that does not match and exits 3.
    Verify {
        /// The backup file.
        file: PathBuf,
        /// The public key to check the signature with (base64, as `backup public-key` prints
        /// it); without it, the backup key file's.
        #[arg(long)]
        public_key: Option<String>,
        #[command(flatten)]
        key: BackupKeyArgs,
    },
    /// Restore a backup as a NEW organisation, in one transaction (all or nothing): verifies the
    /// file first, gives every row a fresh id, restores users inactive with no usable password,
    /// keeps the audit history (re-chained under this installation's audit key). Prints the new
    /// organisation's id; `vaskem user reset-password` then lets someone in.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// The new organisation's name.
        #[arg(long)]
        name: String,
        /// The new organisation's sign-in name: 3 to 63 of a-z, 0-9 and '-', unique.
        #[arg(long)]
        slug: String,
        /// The public key to check the signature with (base64, as `backup public-key` prints
        /// it); without it, the backup key file's.
        #[arg(long)]
        public_key: Option<String>,
        #[command(flatten)]
        key: BackupKeyArgs,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print the public key backups are verified with (base64), creating the key file if needed.
    PublicKey {
        #[command(flatten)]
        key: BackupKeyArgs,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Recompute an organisation's audit hash chain and report the first broken link.
    Verify {
        /// The organisation's id.
        #[arg(long = "org", value_parser = organisation_id)]
        organisation: TenantId,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Append a fresh key to the audit key file (creating it if needed): it signs from now on,
    /// the older keys still verify. Copy the file to every node and restart them.
    NewKey,
}

/// The service needs no privilege: a process running as root turns any flaw into the whole
/// machine. It still starts (a container may map root to nobody), but says so where an operator
/// looks first.
fn warn_if_root() {
    if rustix::process::geteuid().is_root() {
        tracing::warn!(
            "running as root: run VasKem as a dedicated unprivileged user (the Docker image and \
             deploy/vaskem.service do); to listen on a port below 1024 give it only \
             CAP_NET_BIND_SERVICE, or put nginx in front"
        );
    }
}

/// How often the TLS files are checked for a new certificate (SIGHUP reloads at once).
const TLS_RELOAD_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// A proxy's address (`127.0.0.1`, a single host) or range (`10.0.0.0/8`).
fn proxy_range(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map(|range| range.trunc())
        .map_err(|_| format!("{value:?} is no IP address or CIDR range"))
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command, cli.audit_keys)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    // Migration progress is noise on every command; `VASKEM_LOG=info` shows it again.
    let filter = tracing_subscriber::EnvFilter::try_from_env("VASKEM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sea_orm_migration=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn connect(args: &DatabaseArgs, audit_keys: AuditKeys) -> anyhow::Result<Database> {
    let db = Database::connect(&args.database_url, audit_keys)
        .await
        .map_err(|err| anyhow::anyhow!("cannot open the database: {err}"))?;
    db.migrate().await?;
    Ok(db)
}

/// For commands that only read: an SQLite file that does not exist is an error, not a new file.
async fn connect_existing(args: &DatabaseArgs, audit_keys: AuditKeys) -> anyhow::Result<Database> {
    let url = args.database_url.replace("mode=rwc", "mode=rw");
    connect(&DatabaseArgs { database_url: url }, audit_keys).await
}

async fn dispatch(command: Command, key_args: AuditKeyArgs) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => serve(*args, key_args.load(KeyUse::Sign)?).await,
        Command::Migrate(database) => {
            connect(&database, AuditKeys::none()).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Org(OrgCommand::Create {
            name,
            slug,
            admin_email,
            database,
            passwords,
        }) => {
            let admin_password = read_admin_password()?;
            let db = connect(&database, key_args.load(KeyUse::Sign)?).await?;
            let hasher = passwords.hasher();
            let created = organisations::create(
                &db,
                &hasher,
                NewOrganisation {
                    name,
                    slug,
                    admin_email,
                    admin_password,
                },
            )
            .await?;
            // Stdout is the id alone, for scripts; people read the sign-in name on stderr.
            println!("{}", global_id(created.organisation_id).as_str());
            eprintln!("sign in with organisation: {}", created.slug);
            Ok(ExitCode::SUCCESS)
        }
        Command::Org(OrgCommand::Deactivate(target)) => {
            set_organisation_active(target, false, key_args.load(KeyUse::Sign)?).await
        }
        Command::Org(OrgCommand::Activate(target)) => {
            set_organisation_active(target, true, key_args.load(KeyUse::Sign)?).await
        }
        Command::Stock(StockCommand::Verify(target)) => {
            let db = connect_existing(&target.database, AuditKeys::none()).await?;
            let handle = TenantDb::for_operator(&db, target.organisation);
            if organisations::current(&handle).await.is_err() {
                eprintln!("error: no organisation with id {}", target.organisation);
                return Ok(ExitCode::FAILURE);
            }
            let mismatches = crate::service::ledger::verify(&handle).await?;
            if mismatches.is_empty() {
                println!("stock balances agree with the movements and allocations");
                return Ok(ExitCode::SUCCESS);
            }
            for m in &mismatches {
                println!("MISMATCH {m}");
            }
            Ok(ExitCode::from(BROKEN_CHAIN_EXIT))
        }
        Command::Audit(AuditCommand::Verify {
            organisation,
            database,
        }) => {
            let db = connect_existing(&database, key_args.load(KeyUse::Verify)?).await?;
            let handle = TenantDb::for_operator(&db, organisation);
            if organisations::current(&handle).await.is_err() {
                eprintln!("error: no organisation with id {organisation}");
                return Ok(ExitCode::FAILURE);
            }
            let report = audit::verify_chain(&handle).await?;
            match report.first_broken_seq {
                None => {
                    println!(
                        "audit chain intact: {} events verified, last hash {}",
                        report.events_checked,
                        report.last_hash.unwrap_or_default()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(seq) => {
                    println!(
                        "audit chain BROKEN at event {seq}: {} ({} events verified before it)",
                        report.problem.unwrap_or_default(),
                        report.events_checked
                    );
                    Ok(ExitCode::from(BROKEN_CHAIN_EXIT))
                }
            }
        }
        Command::Audit(AuditCommand::NewKey) => {
            let path = key_args.file_to_rotate()?;
            let key = keys::append_new_key(&path)
                .map_err(|err| anyhow::anyhow!("audit key file {}: {err}", path.display()))?;
            println!(
                "appended audit key {} to {}: it signs from now on; copy the file to every node \
                 and restart them",
                key.id(),
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup(command) => run_backup(command, &key_args).await,
        Command::User(UserCommand::ResetPassword {
            organisation,
            email,
            database,
            passwords,
        }) => {
            let db = connect_existing(&database, key_args.load(KeyUse::Sign)?).await?;
            let handle = TenantDb::for_operator(&db, organisation);
            match users::operator_reset_password(&handle, &passwords.hasher(), &email).await {
                Ok((user, password)) => {
                    // Stdout is the password alone, for scripts; shown only now.
                    println!("{password}");
                    eprintln!(
                        "{} is active; this one-time password is shown only now, and must be \
                         changed at sign-in",
                        user.email
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(crate::error::AppError::NotFound { .. }) => {
                    eprintln!("error: no user {email} in organisation {organisation}");
                    Ok(ExitCode::FAILURE)
                }
                Err(err) => Err(err.into()),
            }
        }
        Command::Demo(args) => {
            let db = connect(&args.database, key_args.load(KeyUse::Sign)?).await?;
            let demo = organisations::create_demo(&db, &args.passwords.hasher()).await?;
            print_demo_login(&demo);
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(ExitCode::SUCCESS)
        }
        Command::Permissions => {
            print!("{}", graphql::permission_matrix());
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn run_backup(command: BackupCommand, audit_keys: &AuditKeyArgs) -> anyhow::Result<ExitCode> {
    match command {
        BackupCommand::Export {
            organisation,
            out,
            database,
            key,
        } => {
            let key = key.load(KeyUse::Sign)?;
            let db = connect_existing(&database, AuditKeys::none()).await?;
            let handle = TenantDb::for_operator(&db, organisation);
            let mut progress = Progress::new(std::io::stderr().is_terminal());
            let summary =
                match backup::export_to_file(&handle, &key, &out, &mut |rows| progress.show(rows))
                    .await
                {
                    Ok(summary) => summary,
                    Err(backup::ExportError::NoOrganisation) => {
                        eprintln!("error: no organisation with id {organisation}");
                        return Ok(ExitCode::FAILURE);
                    }
                    Err(err) => return Err(err.into()),
                };
            progress.done();
            println!(
                "wrote {}: {} rows in {} tables, {} bytes, sha256 {}, audit chain to event {}",
                out.display(),
                summary.rows,
                summary.tables,
                summary.bytes,
                summary.sha256,
                summary.audit_head.seq
            );
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Verify {
            file,
            public_key,
            key,
        } => {
            let public_key = key.public_key(public_key.as_deref())?;
            let audit_keys = audit_keys.load_if_present()?;
            let input = std::fs::File::open(&file)
                .map_err(|err| anyhow::anyhow!("cannot open {}: {err}", file.display()))?;
            match backup::verify(input, &public_key, audit_keys.as_ref()) {
                Ok(report) => {
                    let hashes = if report.audit_hashes_recomputed {
                        "links and HMACs checked with the audit key"
                    } else {
                        "links checked; no audit key, so HMACs not recomputed"
                    };
                    println!(
                        "backup verified: {} ({}) exported {}; {} rows in {} tables; audit chain \
                         to event {} ({hashes}); signed by {}",
                        report.organisation.name,
                        report.organisation.slug,
                        report.exported_at,
                        report.rows,
                        report.tables,
                        report.audit_head.seq,
                        report.public_key
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(problem) => {
                    println!("backup REFUSED: {problem}");
                    Ok(ExitCode::from(BROKEN_CHAIN_EXIT))
                }
            }
        }
        BackupCommand::Restore {
            file,
            name,
            slug,
            public_key,
            key,
            database,
        } => {
            let public_key = key.public_key(public_key.as_deref())?;
            let db = connect_existing(&database, audit_keys.load(KeyUse::Sign)?).await?;
            let input = std::fs::File::open(&file)
                .map_err(|err| anyhow::anyhow!("cannot open {}: {err}", file.display()))?;
            let target = backup::RestoreTarget { name, slug };
            match backup::restore(&db, input, &public_key, None, target).await {
                Ok(summary) => {
                    // Stdout is the id alone, for scripts; people read the rest on stderr.
                    println!("{}", global_id(summary.organisation_id).as_str());
                    let rows: u64 = summary.rows.values().sum();
                    eprintln!(
                        "restored {} ({}) exported {} as {} ({}): {rows} rows, {} ids remapped",
                        summary.source.name,
                        summary.source.slug,
                        summary.exported_at,
                        summary.name,
                        summary.slug,
                        summary.ids.len()
                    );
                    eprintln!(
                        "its {} users are inactive with no usable password; let one in with:\n  \
                         vaskem user reset-password --org {} --email EMAIL",
                        summary.users.len(),
                        global_id(summary.organisation_id).as_str()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(backup::RestoreError::Input(err)) => Err(err.into()),
                Err(
                    err @ (backup::RestoreError::Database(_)
                    | backup::RestoreError::Read(_)
                    | backup::RestoreError::Unclassified { .. }),
                ) => Err(anyhow::anyhow!("restore failed, nothing written: {err}")),
                Err(err) => {
                    println!("restore REFUSED, nothing written: {err}");
                    Ok(ExitCode::from(BROKEN_CHAIN_EXIT))
                }
            }
        }
        BackupCommand::PublicKey { key } => {
            println!("{}", key.load(KeyUse::Sign)?.public_key_base64());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `backup export`'s progress line (rows done, rows per second), redrawn at most a few times a
/// second, and only on a terminal: a script's stderr gets no carriage returns.
struct Progress {
    on_terminal: bool,
    started: std::time::Instant,
    last_shown: Option<std::time::Instant>,
}

impl Progress {
    const EVERY: std::time::Duration = std::time::Duration::from_millis(250);

    fn new(on_terminal: bool) -> Self {
        Self {
            on_terminal,
            started: std::time::Instant::now(),
            last_shown: None,
        }
    }

    fn show(&mut self, rows: u64) {
        if !self.on_terminal || self.last_shown.is_some_and(|at| at.elapsed() < Self::EVERY) {
            return;
        }
        self.last_shown = Some(std::time::Instant::now());
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        eprint!("\r{rows} rows, {:.0} rows/s   ", rows as f64 / seconds);
    }

    fn done(&self) {
        if self.on_terminal && self.last_shown.is_some() {
            eprintln!();
        }
    }
}

async fn set_organisation_active(
    target: OrganisationRef,
    active: bool,
    audit_keys: AuditKeys,
) -> anyhow::Result<ExitCode> {
    let db = connect_existing(&target.database, audit_keys).await?;
    let handle = TenantDb::for_operator(&db, target.organisation);
    match organisations::set_active(&handle, active).await {
        Ok(organisation) => {
            let state = if active { "active" } else { "deactivated" };
            println!(
                "{} ({}) is {state}",
                organisation.name,
                global_id(organisation.id).as_str()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(crate::error::AppError::NotFound { .. }) => {
            eprintln!("error: no organisation with id {}", target.organisation);
            Ok(ExitCode::FAILURE)
        }
        Err(err) => Err(err.into()),
    }
}

/// Printed once, to the console only: the password is stored nowhere in clear.
fn print_demo_login(demo: &organisations::DemoCredentials) {
    println!(
        "  organisation: {}\n  id:           {}\n  email:        {}\n  password:     {}\n\
         This password is shown only now.\n",
        demo.slug,
        global_id(demo.organisation_id).as_str(),
        demo.email,
        demo.password
    );
}

fn read_admin_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("VASKEM_ADMIN_PASSWORD") {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password(
            "Password for the first administrator (not shown): ",
        )?);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    // Only the line ending goes: spaces are part of a password.
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_owned())
}

async fn serve(args: ServeArgs, audit_keys: AuditKeys) -> anyhow::Result<ExitCode> {
    warn_if_root();
    // Bind first: a demo password printed by a process that then cannot listen would be lost.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {}: {err}", args.listen))?;
    let redirect_listener = match args.redirect_http {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .map_err(|err| anyhow::anyhow!("cannot listen on {address}: {err}"))?,
        ),
        None => None,
    };
    tracing::info!(
        signing = audit_keys.signing().map(|key| key.id()).unwrap_or_default(),
        keys = audit_keys.ids().len(),
        "audit keys loaded"
    );
    let backup_key = args.backup_key.load(KeyUse::Sign)?;
    let db = connect_to_serve(&args, audit_keys).await?;
    let hasher = args.passwords.hasher();
    if let Some(demo) = organisations::create_demo_if_empty(&db, &hasher).await? {
        println!("\nFirst start on an empty database: created the demo organisation.");
        print_demo_login(&demo);
    }
    let redirects = redirect_listener.map(|listener| {
        (
            listener,
            crate::http::redirect::app(args.security_txt.public_url.clone()),
        )
    });
    let state = AppState {
        db,
        schemas: Schemas::new(args.limits),
        auth: AuthSettings {
            hasher,
            sessions: args.sessions,
            throttle: args.throttle,
        },
        trusted_proxies: args.trust_proxy,
        security_txt: args.security_txt,
        client_timeout: args.connections.client_timeout(),
        backups: std::sync::Arc::new(crate::service::backup::requests::BackupSettings {
            dir: args.backup_dir.clone(),
            key: std::sync::Arc::new(backup_key),
        }),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let files = crate::http::tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            };
            let (acceptor, current) = crate::http::tls::acceptor(&files)?;
            tokio::spawn(crate::http::tls::keep_current(
                files,
                current,
                TLS_RELOAD_POLL,
            ));
            tracing::info!(address = %listener.local_addr()?, "VasKem listening (HTTPS, TLS 1.2 and 1.3)");
            Some(acceptor)
        }
        _ => {
            tracing::info!(
                address = %listener.local_addr()?,
                "VasKem listening over plain HTTP, for local use: give --tls-cert and --tls-key, \
                 or put a TLS proxy in front, before anyone else reaches it"
            );
            None
        }
    };
    let redirecting = async {
        if let Some((listener, redirect)) = redirects {
            if let Ok(address) = listener.local_addr() {
                tracing::info!(%address, "redirecting plain HTTP to HTTPS");
            }
            crate::http::server::serve(listener, redirect, args.connections, shutdown_signal())
                .await;
        }
    };
    tokio::join!(
        crate::http::server::serve_maybe_tls(
            listener,
            crate::app(state),
            args.connections,
            tls,
            shutdown_signal(),
        ),
        redirecting,
    );
    Ok(ExitCode::SUCCESS)
}

/// Opens the serving pool. On PostgreSQL an owner connection is refused unless allowed, migrations
/// run over `--migrate-database-url` when given, and a serving role that may not migrate refuses a
/// schema with pending migrations instead of trying.
async fn connect_to_serve(args: &ServeArgs, audit_keys: AuditKeys) -> anyhow::Result<Database> {
    let db = Database::connect_with_pool(
        &args.database.database_url,
        args.database_pool_size,
        audit_keys,
    )
    .await
    .map_err(|err| anyhow::anyhow!("cannot open the database: {err}"))?;
    let role = db
        .connection_role()
        .await
        .map_err(|err| anyhow::anyhow!("cannot check the database role: {err}"))?;
    let owner = role.as_ref().is_some_and(|role| role.is_owner());
    if let Some(role) = role.as_ref().filter(|role| role.is_owner()) {
        let reasons = role.owner_reasons.join("; ");
        if !args.allow_owner_connection {
            anyhow::bail!(
                "refusing to serve over an owner connection: role {} {reasons}, so a `RESET \
                 ROLE` in any request would escape row-level security. Serve over a login role \
                 that is a member of {SERVICE_ROLE} and owns nothing (README, \"PostgreSQL in \
                 production\"), giving the owner's URL to --migrate-database-url; or, for local \
                 use only, pass --allow-owner-connection",
                role.name
            );
        }
        tracing::warn!(
            role = %role.name,
            reasons = %reasons,
            "serving over an owner connection because of --allow-owner-connection: for local \
             use only, never in production (row-level security can be escaped with RESET ROLE)"
        );
    }
    if let Some(url) = &args.migrate_database_url {
        let owner_db = Database::connect_with_pool(url, 1, AuditKeys::none())
            .await
            .map_err(|err| anyhow::anyhow!("cannot open the migration database URL: {err}"))?;
        owner_db.migrate().await?;
    } else if db.engine() == Engine::Sqlite || owner {
        db.migrate().await?;
    } else {
        let pending = db.pending_migrations().await.map_err(|err| {
            anyhow::anyhow!(
                "cannot read the schema version as this role ({err}); run `vaskem migrate` with \
                 the owner's URL first, or give it to --migrate-database-url"
            )
        })?;
        if !pending.is_empty() {
            anyhow::bail!(
                "the database has {} pending migration(s) ({}), and this role may not apply them: \
                 run `vaskem migrate` with the owner's URL first, or give it to \
                 --migrate-database-url",
                pending.len(),
                pending.join(", ")
            );
        }
    }
    if !db.may_act_as_service_role().await? {
        anyhow::bail!(
            "the database role may not act as {SERVICE_ROLE}, which every request runs as: \
             `GRANT {SERVICE_ROLE} TO <role>` as the owner (README, \"PostgreSQL in production\")"
        );
    }
    Ok(db)
}

/// Ctrl-C, or SIGTERM (what `docker stop` and systemd send).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

/// An organisation as `--org` names it: its id as the API shows it (`organisation { id }`), or
/// the bare UUID an operator may find in the database.
fn organisation_id(text: &str) -> Result<TenantId, String> {
    if let Ok(uuid) = text.parse::<TenantId>() {
        return Ok(uuid);
    }
    parse_id::<TenantId>(&async_graphql::ID(text.to_owned()), "org")
        .map_err(|_| "not an organisation id".to_owned())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command};
    use crate::auth::session::{LoginThrottle, SessionPolicy};
    use crate::graphql::QueryLimits;
    use crate::http::server::ConnectionLimits;

    /// `vaskem serve` with no flags runs on the same numbers as `Default` (tests, embedders):
    /// both read one constant per settings type.
    #[test]
    fn serve_without_flags_uses_the_defaults() {
        let Ok(cli) = Cli::try_parse_from(["vaskem", "serve"]) else {
            panic!("`vaskem serve` parses");
        };
        let Command::Serve(args) = cli.command else {
            panic!("serve");
        };
        assert_eq!(
            format!("{:?}", args.limits),
            format!("{:?}", QueryLimits::default())
        );
        assert_eq!(
            format!("{:?}", args.sessions),
            format!("{:?}", SessionPolicy::default())
        );
        assert_eq!(
            format!("{:?}", args.throttle),
            format!("{:?}", LoginThrottle::default())
        );
        assert_eq!(
            format!("{:?}", args.connections),
            format!("{:?}", ConnectionLimits::default())
        );
        assert!(
            args.trust_proxy.is_empty(),
            "no proxy is trusted unless named"
        );
        assert_eq!(
            format!("{:?}", args.security_txt),
            format!("{:?}", crate::http::security_txt::SecurityTxt::default())
        );
    }

    #[test]
    fn proxies_are_addresses_or_ranges() {
        let parsed = |value: &str| super::proxy_range(value).map(|range| range.to_string());
        assert_eq!(parsed("127.0.0.1").as_deref(), Ok("127.0.0.1/32"));
        assert_eq!(parsed("10.1.2.3/8").as_deref(), Ok("10.0.0.0/8"));
        assert_eq!(parsed("::1").as_deref(), Ok("::1/128"));
        assert!(parsed("10.0.0.0/33").is_err());
        assert!(parsed("proxy.example").is_err());
    }
}
