//! The HTTP edge: endpoints, transport rules and limits.

use serde_json::{Value, json};
use vaskem::graphql::QueryLimits;

use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::{Backend, TestApp, TestDatabase, assert_ok};

on_both_databases!(
    health_and_readiness,
    graphiql_points_at_graphql_with_credentials,
    post_takes_only_json,
    oversized_bodies_are_refused,
    batches_are_refused,
    get_runs_queries_but_not_mutations,
    anonymous_callers_get_no_introspection_or_suggestions,
    limits_refuse_deep_complex_and_directive_heavy_documents,
    errors_carry_a_code,
);

async fn health_and_readiness(backend: Backend) {
    let app = TestApp::start(backend).await;
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    assert!(ready.headers().contains_key("x-request-id"));
    assert_eq!(ready.headers()["x-content-type-options"], "nosniff");
    assert_eq!(ready.headers()["x-frame-options"], "DENY");
    assert_eq!(
        ready.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    let (status, body) = app
        .graphql("{ health { status version } }", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["health"]["status"], "ok");
}

async fn graphiql_points_at_graphql_with_credentials(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app
        .client
        .get(app.url("/graphiql"))
        .send()
        .await
        .expect("graphiql");
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response.headers()[name]
            .to_str()
            .expect("header")
            .to_owned()
    };
    assert!(header("content-type").starts_with("text/html"));
    let policy = header("content-security-policy");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-eval"), "{policy}");
    let page = response.text().await.expect("page");
    // Every script and stylesheet is served by us: no CDN on a page that holds a session.
    assert!(!page.contains("https://"), "{page}");
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "init.js",
    ] {
        assert!(
            page.contains(&format!("/graphiql/assets/{asset}")),
            "{asset} not referenced"
        );
        let served = app
            .client
            .get(app.url(&format!("/graphiql/assets/{asset}")))
            .send()
            .await
            .expect("asset");
        assert_eq!(served.status(), 200, "{asset}");
    }
    let init = app
        .client
        .get(app.url("/graphiql/assets/init.js"))
        .send()
        .await
        .expect("init");
    let init = init.text().await.expect("init.js");
    assert!(init.contains("url: '/graphql'"), "{init}");
    assert!(init.contains("credentials: 'include'"), "{init}");
    let missing = app
        .client
        .get(app.url("/graphiql/assets/../Cargo.toml"))
        .send()
        .await
        .expect("traversal");
    assert_eq!(missing.status(), 404);
}

async fn post_takes_only_json(backend: Backend) {
    let app = TestApp::start(backend).await;
    let document = r#"{"query":"{ health { status } }"}"#;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(document)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 415, "{content_type}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    }
    let missing = app
        .client
        .post(app.url("/graphql"))
        .body(document)
        .send()
        .await
        .expect("post");
    assert_eq!(missing.status(), 415);
    let accepted = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json; charset=utf-8")
        .body(document)
        .send()
        .await
        .expect("post");
    assert_eq!(accepted.status(), 200);
}

async fn oversized_bodies_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let padding = " ".repeat(vaskem::http::MAX_BODY_BYTES);
    let body = format!(r#"{{"query":"{{ health {{ status }} }}"{padding}}}"#);
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.expect("413 is a JSON error document");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    // Just under the limit is fine.
    let padding = " ".repeat(vaskem::http::MAX_BODY_BYTES - 100);
    let body = format!(r#"{{"query":"{{ health {{ status }} }}"{padding}}}"#);
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200);
}

async fn batches_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([{ "query": "{ health { status } }" }, { "query": "{ health { status } }" }]))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("batch")
    );
}

async fn get_runs_queries_but_not_mutations(backend: Backend) {
    let app = TestApp::start(backend).await;
    let query = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ health { status } }")])
        .send()
        .await
        .expect("get");
    assert_eq!(query.status(), 200);
    let body: Value = query.json().await.expect("json");
    assert_eq!(body["data"]["health"]["status"], "ok");

    for (document, operation) in [
        (
            "mutation { renameOrganisation(input: {name: \"x\"}) { organisation { name } } }",
            None,
        ),
        (
            "query A { health { status } } mutation B { renameOrganisation(input: {name: \"x\"}) { organisation { name } } }",
            Some("B"),
        ),
    ] {
        let mut params = vec![("query", document)];
        if let Some(operation) = operation {
            params.push(("operationName", operation));
        }
        let response = app
            .client
            .get(app.url("/graphql"))
            .query(&params)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 405, "{document}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    }
}

async fn anonymous_callers_get_no_introspection_or_suggestions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, body) = app
        .graphql("{ __schema { types { name } } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert!(body["data"].is_null() || body["data"]["__schema"].is_null());
    let (_, body) = app
        .graphql("{ __type(name: \"Query\") { name } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let (_, body) = app.graphql("{ healt { status } }", json!({})).await;
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(!message.contains("Did you mean"), "{message}");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    // __typename is not introspection of the schema.
    let (_, body) = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query");
}

async fn limits_refuse_deep_complex_and_directive_heavy_documents(backend: Backend) {
    let limits = QueryLimits {
        depth: 2,
        complexity: 3,
        directives: 2,
        ..QueryLimits::default()
    };
    let app = TestApp::start_with(TestDatabase::new(backend).await, limits).await;
    let (_, ok) = app.graphql("{ health { status } }", json!({})).await;
    assert_ok(&ok);

    let (_, deep) = app
        .graphql(
            "{ health { status } organisation { name } a: health { status version } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&deep), Some("BAD_USER_INPUT"), "{deep}");
    assert!(
        deep["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("complex"),
        "{deep}"
    );

    let (_, directives) = app
        .graphql(
            "{ health @include(if: true) @skip(if: false) @include(if: true) { status } }",
            json!({}),
        )
        .await;
    assert_eq!(
        error_code(&directives),
        Some("BAD_USER_INPUT"),
        "{directives}"
    );
    assert!(
        directives["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("directive"),
        "{directives}"
    );

    let deep_limits = QueryLimits {
        depth: 1,
        ..QueryLimits::default()
    };
    let app = TestApp::start_with(TestDatabase::new(backend).await, deep_limits).await;
    let (_, deep) = app.graphql("{ health { status } }", json!({})).await;
    assert_eq!(error_code(&deep), Some("BAD_USER_INPUT"), "{deep}");
    assert!(
        deep["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("nested too deep"),
        "{deep}"
    );
}

async fn errors_carry_a_code(backend: Backend) {
    let app = TestApp::start(backend).await;
    for document in [
        "{",
        "{ organisation { nope } }",
        "query ($n: Int!) { health { status } }",
    ] {
        let (_, body) = app.graphql(document, json!({})).await;
        let errors = body["errors"].as_array().expect("errors");
        assert!(!errors.is_empty(), "{document}");
        for error in errors {
            let code = error["extensions"]["code"].as_str().expect("code");
            assert!(
                [
                    "UNAUTHENTICATED",
                    "FORBIDDEN",
                    "NOT_FOUND",
                    "BAD_USER_INPUT",
                    "CONFLICT",
                    "INTERNAL"
                ]
                .contains(&code),
                "{error}"
            );
        }
    }
    let (_, body) = app.graphql("{ organisation { name } }", json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

#[test]
fn internal_errors_hide_their_cause() {
    let err = vaskem::error::AppError::Database(sea_orm::DbErr::Custom(
        "relation \"users\" violates secret detail".into(),
    ));
    let graphql = err.into_graphql();
    assert_eq!(graphql.message, "internal error");
    let extensions = graphql.extensions.expect("extensions");
    assert_eq!(
        extensions.get("code"),
        Some(&async_graphql::Value::from("INTERNAL"))
    );
}
