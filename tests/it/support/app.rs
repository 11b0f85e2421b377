//! The real service, in-process on an ephemeral port, with an HTTP client that keeps cookies.

use std::net::SocketAddr;

use serde_json::{Value, json};
use vaskem::auth::password::PasswordHasher;
use vaskem::graphql::{QueryLimits, Schemas};
use vaskem::{AppState, app};

use super::database::{Backend, TEST_ROUNDS, TestDatabase};

pub struct TestApp {
    pub database: TestDatabase,
    pub base_url: String,
    pub client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(TestDatabase::new(backend).await, QueryLimits::default()).await
    }

    pub async fn start_with(database: TestDatabase, limits: QueryLimits) -> Self {
        let state = AppState {
            db: database.db.clone(),
            schemas: Schemas::new(limits),
            hasher: PasswordHasher::with_rounds(TEST_ROUNDS),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app(state).into_make_service_with_connect_info::<SocketAddr>(),
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

    /// POSTs a GraphQL document; returns the HTTP status and the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> (u16, Value) {
        self.graphql_as(&self.client, query, variables).await
    }

    pub async fn graphql_as(
        &self,
        client: &reqwest::Client,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let response = client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }
}

/// A fresh client with its own cookie jar.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("http client")
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
