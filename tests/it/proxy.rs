//! `--trust-proxy`: only a named proxy's `X-Forwarded-Proto` and `X-Forwarded-For` are believed,
//! for redirects, HSTS, the lockout's client address and the audit log. From anyone else they are
//! claims, and change nothing.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::app::{LOGIN, TestOptions, error_code};
use crate::support::database::TEST_PASSWORD;
use crate::support::{Backend, TestApp, TestDatabase};
use vaskem::auth::session::LoginThrottle;

on_both_databases!(
    only_the_proxys_forwarded_entry_counts,
    a_trusted_proxys_scheme_decides_hsts_and_redirects,
    forged_forwarded_addresses_change_neither_lockouts_nor_the_audit_log,
);

/// The tests' client connects from 127.0.0.1.
const LOOPBACK: &str = "127.0.0.0/8";

fn trusting(range: &str) -> TestOptions {
    TestOptions {
        trusted_proxies: vec![range.parse().expect("a range")],
        ..TestOptions::default()
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn get(app: &TestApp, path: &str, proto: Option<&str>) -> reqwest::Response {
    let mut request = no_redirects()
        .get(app.url(path))
        .header("host", "wms.example:8080");
    if let Some(proto) = proto {
        request = request.header("x-forwarded-proto", proto);
    }
    request.send().await.expect("GET")
}

async fn post_health(app: &TestApp, proto: &str) -> reqwest::Response {
    no_redirects()
        .post(app.url("/graphql"))
        .header("x-forwarded-proto", proto)
        .json(&json!({ "query": "{ health { status } }" }))
        .send()
        .await
        .expect("POST")
}

fn hsts(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("strict-transport-security")
        .and_then(|value| value.to_str().ok())
}

async fn a_trusted_proxys_scheme_decides_hsts_and_redirects(backend: Backend) {
    let database = Arc::new(TestDatabase::new(backend).await);
    let proxied = TestApp::start_configured(database.clone(), trusting(LOOPBACK)).await;

    // The proxy says the client came over HTTPS: HSTS on every answer, errors included.
    for path in ["/healthz", "/graphiql", "/no/such/path"] {
        let response = get(&proxied, path, Some("https")).await;
        assert_eq!(
            hsts(&response),
            Some("max-age=63072000; includeSubDomains"),
            "{path}"
        );
    }
    let api = post_health(&proxied, "https").await;
    assert_eq!(api.status(), 200);
    assert!(hsts(&api).is_some());
    // It said nothing: the connection itself is plain HTTP, so no HSTS and no redirect.
    let unsaid = get(&proxied, "/graphiql", None).await;
    assert_eq!(unsaid.status(), 200);
    assert_eq!(hsts(&unsaid), None);

    // The proxy says plain HTTP: pages go to HTTPS, the API is refused, as the redirect
    // listener does, and the answers keep the edge's headers.
    let page = get(&proxied, "/graphiql?tab=2&x=%20y", Some("http")).await;
    assert_eq!(page.status(), 308);
    assert_eq!(
        page.headers()["location"],
        "https://wms.example/graphiql?tab=2&x=%20y"
    );
    assert!(page.headers().contains_key("x-request-id"));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(hsts(&page), None);
    let refused = post_health(&proxied, "http").await;
    assert_eq!(refused.status(), 403);
    assert!(!refused.headers().contains_key("location"));
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("HTTPS only")),
        "{body}"
    );

    // With --public-url the redirect goes there, whatever Host says.
    let mut public = trusting(LOOPBACK);
    public.security_txt.public_url = Some("https://wms.example.com:8443".to_owned());
    let published = proxied.another_node(public).await;
    let page = get(&published, "/graphiql", Some("http")).await;
    assert_eq!(
        page.headers()["location"],
        "https://wms.example.com:8443/graphiql"
    );

    // From a client that is no trusted proxy both headers are ignored: no HSTS it asked for,
    // no redirect it asked for.
    for untrusting in [
        proxied.another_node(TestOptions::default()).await,
        proxied.another_node(trusting("10.0.0.0/8")).await,
    ] {
        let claimed_https = get(&untrusting, "/healthz", Some("https")).await;
        assert_eq!(hsts(&claimed_https), None);
        let claimed_http = get(&untrusting, "/graphiql", Some("http")).await;
        assert_eq!(claimed_http.status(), 200);
        assert_eq!(post_health(&untrusting, "http").await.status(), 200);
    }
}

/// A sign-in to `email`'s organisation sent with `X-Forwarded-For: forwarded`; the answer's body.
async fn login_as(app: &TestApp, email: &str, password: &str, forwarded: &str) -> (Value, String) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", forwarded)
        .json(&json!({
            "query": LOGIN,
            "variables": {
                "organisation": app.database.slug_of(email).await,
                "email": email,
                "password": password,
            },
        }))
        .send()
        .await
        .expect("login");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.split(';').next())
        .unwrap_or_default()
        .to_owned();
    (response.json().await.expect("JSON"), cookie)
}

async fn forged_forwarded_addresses_change_neither_lockouts_nor_the_audit_log(backend: Backend) {
    let throttle = LoginThrottle {
        account_max_failures: 100,
        client_max_failures: 4,
        window_minutes: 15,
        lockout_minutes: 15,
        slowdown_ms: 0,
    };
    let mut direct_options = TestOptions::default();
    direct_options.auth.throttle = throttle;
    let database = Arc::new(TestDatabase::new(backend).await);
    let direct = TestApp::start_configured(database.clone(), direct_options.clone()).await;
    let (_, email) = database.organisation("Alpha").await;

    // An attacker who writes a fresh X-Forwarded-For on every guess is still one address.
    for n in 0..4 {
        let (body, _) = login_as(
            &direct,
            &email,
            "not the password, guess",
            &format!("198.51.100.{n}"),
        )
        .await;
        assert!(body["errors"].is_array(), "{body}");
    }
    let (body, _) = login_as(&direct, &email, TEST_PASSWORD, "198.51.100.200").await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"], "LOCKED_OUT",
        "the lockout counted the connection's address: {body}"
    );

    // Behind a trusted proxy the forwarded address is the client's: this one is not locked.
    let mut proxied_options = trusting(LOOPBACK);
    proxied_options.auth = direct_options.auth;
    let proxied = direct.another_node(proxied_options).await;
    let (body, cookie) = login_as(&proxied, &email, TEST_PASSWORD, "203.0.113.9").await;
    assert!(body["errors"].is_null(), "{body}");

    let events = proxied
        .client
        .post(proxied.url("/graphql"))
        .header("cookie", cookie)
        .json(&json!({
            "query": "{ auditEvents(first: 50) { nodes { action outcome clientAddress } } }"
        }))
        .send()
        .await
        .expect("auditEvents")
        .json::<Value>()
        .await
        .expect("JSON");
    let logins: Vec<(String, String)> = events["data"]["auditEvents"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("events: {events}"))
        .iter()
        .filter(|event| event["action"] == "user.login")
        .map(|event| {
            (
                event["outcome"].as_str().unwrap_or_default().to_owned(),
                event["clientAddress"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let failures_from = |address: &str| {
        logins
            .iter()
            .filter(|(outcome, from)| outcome == "FAILURE" && from == address)
            .count()
    };
    assert_eq!(failures_from("127.0.0.1"), 4, "{logins:?}");
    assert!(
        logins
            .iter()
            .all(|(_, from)| !from.starts_with("198.51.100.")),
        "a forged address reached the audit log: {logins:?}"
    );
    assert!(
        logins
            .iter()
            .any(|(outcome, from)| outcome == "SUCCESS" && from == "203.0.113.9"),
        "{logins:?}"
    );
}

/// The address a session signed in through `app` with `X-Forwarded-For: forwarded` records.
async fn session_address(app: &TestApp, email: &str, forwarded: &str) -> Value {
    let (body, cookie) = login_as(app, email, TEST_PASSWORD, forwarded).await;
    assert!(body["errors"].is_null(), "{body}");
    let body: Value = app
        .client
        .post(app.url("/graphql"))
        .header("cookie", cookie)
        .json(&json!({ "query": "{ mySessions(first: 1) { nodes { clientAddress current } } }" }))
        .send()
        .await
        .expect("mySessions")
        .json()
        .await
        .expect("JSON");
    body["data"]["mySessions"]["nodes"][0]["clientAddress"].clone()
}

async fn only_the_proxys_forwarded_entry_counts(backend: Backend) {
    let database = std::sync::Arc::new(TestDatabase::new(backend).await);
    let (_, email) = database.organisation("Alpha").await;
    // The tests' client connects from 127.0.0.1: trusted as a proxy here.
    let app = TestApp::start_configured(database.clone(), trusting("127.0.0.0/8")).await;
    assert_eq!(
        session_address(&app, &email, "203.0.113.9, 198.51.100.7").await,
        "198.51.100.7"
    );
    // The proxy's own entry is no address: unknown, never the client's claim before it.
    assert_eq!(
        session_address(&app, &email, "203.0.113.9, not-an-address").await,
        Value::Null
    );
    assert_eq!(
        session_address(&app, &email, "203.0.113.9, ").await,
        Value::Null
    );

    // From a peer outside the trusted ranges the header is the client's own claim: ignored.
    let direct = app.another_node(trusting("10.0.0.0/8")).await;
    assert_eq!(
        session_address(&direct, &email, "203.0.113.9, 198.51.100.7").await,
        "127.0.0.1"
    );
    let untrusting = app.another_node(TestOptions::default()).await;
    assert_eq!(
        session_address(&untrusting, &email, "198.51.100.7").await,
        "127.0.0.1"
    );
}
