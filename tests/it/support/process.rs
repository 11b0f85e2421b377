//! A real `vaskem serve` process on a test database.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use vaskem::auth::session::SESSION_COOKIE;

use super::database::{TEST_ROUNDS, TestDatabase};

/// A real `vaskem serve` process; killed when dropped. Its log goes to a file [`Self::log`] reads.
pub struct ServiceProcess {
    child: Child,
    pub base_url: String,
    log: tempfile::NamedTempFile,
}

impl ServiceProcess {
    /// `vaskem serve` as production runs it: over the serving login role.
    pub fn start(database: &TestDatabase) -> Self {
        Self::start_with(database, &database.serving_url, &[])
    }

    /// `vaskem serve` over `url` with further arguments.
    pub fn start_with(database: &TestDatabase, url: &str, args: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let log = tempfile::NamedTempFile::new().expect("log file");
        let child = serve_command(database, url)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("log file"))
            .spawn()
            .expect("start vaskem serve");
        Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    pub async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(response) = client.get(format!("{}/readyz", self.base_url)).send().await
                && response.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "vaskem serve at {} did not become ready; its log:\n{}",
            self.base_url,
            self.log()
        );
    }

    pub async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: serde_json::Value,
    ) -> (Option<String>, serde_json::Value) {
        let mut request = reqwest::Client::new()
            .post(format!("{}/graphql", self.base_url))
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.header("cookie", format!("{SESSION_COOKIE}={token}"));
        }
        let response = request.send().await.expect("post");
        let token = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{SESSION_COOKIE}=")))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        (token, response.json().await.expect("json"))
    }
}

/// `vaskem serve` over `url`, with `database`'s audit key and test password rounds.
pub fn serve_command(database: &TestDatabase, url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vaskem"));
    command
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("VASKEM_AUDIT_KEY", database.audit_key.to_base64())
        .env_remove("VASKEM_AUDIT_KEY_FILE")
        .env_remove("VASKEM_MIGRATE_DATABASE_URL")
        .env_remove("VASKEM_ALLOW_OWNER_CONNECTION")
        .env("VASKEM_PASSWORD_ROUNDS", TEST_ROUNDS.to_string());
    command
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
