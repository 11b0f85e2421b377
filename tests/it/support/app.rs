//! The real service, in-process on an ephemeral port, with an HTTP client that keeps cookies.

use std::sync::Arc;

use serde_json::{Value, json};
use vaskem::auth::AuthSettings;
use vaskem::auth::password::PasswordHasher;
use vaskem::auth::session::{LoginThrottle, SESSION_COOKIE, SessionPolicy};
use vaskem::graphql::{QueryLimits, Schemas};
use vaskem::{AppState, app};

use super::database::{Backend, TEST_PASSWORD, TEST_ROUNDS, TestDatabase};

/// What a test may change about the app it starts.
#[derive(Clone)]
pub struct TestOptions {
    pub limits: QueryLimits,
    pub auth: AuthSettings,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub connections: vaskem::http::server::ConnectionLimits,
    pub security_txt: vaskem::http::security_txt::SecurityTxt,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            limits: QueryLimits::default(),
            auth: AuthSettings {
                hasher: PasswordHasher::with_rounds(TEST_ROUNDS),
                sessions: SessionPolicy::default(),
                throttle: LoginThrottle {
                    slowdown_ms: 0,
                    ..LoginThrottle::default()
                },
            },
            trusted_proxies: Vec::new(),
            connections: vaskem::http::server::ConnectionLimits::default(),
            security_txt: vaskem::http::security_txt::SecurityTxt::default(),
        }
    }
}

/// The sign-in mutation, taking `$organisation`, `$email` and `$password`.
pub const LOGIN: &str = "mutation ($organisation: String!, $email: String!, $password: String!) { login(input: {organisation: $organisation, email: $email, password: $password}) { user { id email } } }";

pub struct TestApp {
    /// Shared with any further node started on the same database.
    pub database: Arc<TestDatabase>,
    pub base_url: String,
    pub client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(TestDatabase::new(backend).await, QueryLimits::default()).await
    }

    pub async fn start_with(database: TestDatabase, limits: QueryLimits) -> Self {
        Self::start_configured(
            Arc::new(database),
            TestOptions {
                limits,
                ..TestOptions::default()
            },
        )
        .await
    }

    /// Another node of the same service: its own connection pool on the same database.
    pub async fn another_node(&self, options: TestOptions) -> Self {
        let pool = self.database.another_pool(5).await;
        Self::serve(self.database.clone(), pool, options).await
    }

    /// Serves over the database's serving pool: on PostgreSQL a login role that owns nothing, as
    /// in production.
    pub async fn start_configured(database: Arc<TestDatabase>, options: TestOptions) -> Self {
        let pool = database.serving.clone();
        Self::serve(database, pool, options).await
    }

    async fn serve(
        database: Arc<TestDatabase>,
        pool: vaskem::tenancy::Database,
        options: TestOptions,
    ) -> Self {
        let state = AppState {
            db: pool,
            schemas: Schemas::new(options.limits),
            auth: options.auth,
            trusted_proxies: options.trusted_proxies,
            client_timeout: options.connections.client_timeout(),
            security_txt: options.security_txt,
            backups: database.backups.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            vaskem::http::server::serve(
                listener,
                app(state),
                options.connections,
                std::future::pending(),
            )
            .await;
        });
        Self {
            database,
            base_url: format!("http://{address}"),
            client: client(),
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// POSTs a GraphQL document anonymously; returns the HTTP status and the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> (u16, Value) {
        self.graphql_in(None, query, variables).await
    }

    /// POSTs a GraphQL document, with `session`'s cookie if given.
    pub async fn graphql_in(
        &self,
        session: Option<&Session>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(session) = session {
            request = request.header("cookie", format!("{SESSION_COOKIE}={}", session.token));
        }
        let response = request.send().await.expect("POST /graphql");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// Creates an organisation and signs its administrator in.
    pub async fn member_of_new_organisation(&self, name: &str) -> Member {
        let (tenant, email) = self.database.organisation(name).await;
        let session = self.login(&email, TEST_PASSWORD).await;
        Member {
            tenant,
            email,
            session,
        }
    }

    /// Signs in through the API; panics if that fails.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        self.try_login(email, password)
            .await
            .unwrap_or_else(|body| panic!("login failed: {body}"))
    }

    /// Signs in to the organisation `email` belongs to (an email no organisation has tries one
    /// that does not exist); on failure returns the response body.
    pub async fn try_login(&self, email: &str, password: &str) -> Result<Session, Value> {
        let organisation = self
            .database
            .find_slug_of(email)
            .await
            .unwrap_or_else(|| "no-such-organisation".to_owned());
        self.try_login_to(&organisation, email, password).await
    }

    /// Signs in to the organisation with this slug; on failure returns the response body.
    pub async fn try_login_to(
        &self,
        organisation: &str,
        email: &str,
        password: &str,
    ) -> Result<Session, Value> {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({
                "query": LOGIN,
                "variables": { "organisation": organisation, "email": email, "password": password },
            }))
            .send()
            .await
            .expect("login");
        let set_cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with(SESSION_COOKIE))
            .map(str::to_owned);
        let body: Value = response.json().await.expect("JSON body");
        match set_cookie {
            Some(set_cookie) if body["errors"].is_null() => {
                let token = set_cookie
                    .split(';')
                    .next()
                    .and_then(|pair| pair.split_once('='))
                    .map(|(_, value)| value.to_owned())
                    .expect("cookie value");
                Ok(Session { token, set_cookie })
            }
            _ => Err(body),
        }
    }
}

/// A signed-in administrator of a fresh organisation.
pub struct Member {
    pub tenant: entity::TenantId,
    pub email: String,
    pub session: Session,
}

/// A signed-in session as the client holds it.
///
/// Tests send the cookie by hand: it is `Secure`, and a client's cookie jar rightly will not send
/// it over the plain HTTP these in-process tests use.
#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
    /// The whole `Set-Cookie` header as sent on the wire.
    pub set_cookie: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("http client")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}
