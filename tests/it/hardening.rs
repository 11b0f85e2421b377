//! What an attacker tried from outside: documents that crashed or stalled the service, answers
//! that differed at the edge, forged forwarded addresses. Each case failed before its fix.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::on_both_databases;
use crate::stock::{ADJUST, warehouse};
use crate::support::app::{TestOptions, error_code};
use crate::support::{Backend, TestApp, TestDatabase, assert_ok};

on_both_databases!(
    deep_values_are_refused_without_crashing,
    alias_floods_and_fragment_bombs_are_refused_before_validation,
    a_document_hashes_at_most_one_password,
    a_document_verifies_the_chain_at_most_once,
    every_refusal_has_the_same_edge,
    oversized_bodies_can_always_read_their_413,
    adjust_stock_bounds_say_negative_is_allowed,
    guessable_passwords_are_refused_with_advice,
);

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or("")
}

async fn still_healthy(app: &TestApp) {
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("the server is still up");
    assert_eq!(health.status(), 200);
}

async fn deep_values_are_refused_without_crashing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let deep_list = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    let deep_object = format!("{}1{}", "{a: ".repeat(5_000), "}".repeat(5_000));
    let documents = [
        format!("{{ health(x: {deep_list}) {{ status }} }}"),
        format!("{{ health(x: {deep_object}) {{ status }} }}"),
        format!("query ($v: [Int] = {deep_list}) {{ health {{ status }} }}"),
        format!("{{ health @include(if: {deep_list}) {{ status }} }}"),
        format!(
            "{{ health {} status {} }}",
            "{ a ".repeat(5_000),
            "}".repeat(5_000)
        ),
    ];
    for document in &documents {
        let (status, body) = app.graphql(document, json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert!(message(&body).contains("nests deeper than"), "{body}");
        // Over GET too, where the document used to be parsed to tell queries from mutations.
        let response = app
            .client
            .get(app.url("/graphql"))
            .query(&[("query", document)])
            .send()
            .await
            .expect("GET");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    }
    // Variables nested deep are refused the same way.
    let mut value = json!(1);
    for _ in 0..60 {
        value = json!([value]);
    }
    let (_, body) = app
        .graphql(
            "query ($v: Int) { health { status } }",
            json!({ "v": value }),
        )
        .await;
    assert!(message(&body).contains("variables nest"), "{body}");
    still_healthy(&app).await;
}

async fn alias_floods_and_fragment_bombs_are_refused_before_validation(backend: Backend) {
    // 50,000 aliases of __typename (about 750 KB): once quadratic in the count. By default the
    // text is refused by its length before it is parsed at all...
    let flood: String = (0..50_000).map(|n| format!(" a{n}:__typename")).collect();
    let flood = format!("{{{flood} }}");
    let app = TestApp::start(backend).await;
    let (_, body) = app.graphql(&flood, json!({})).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        message(&body).contains("at most 65536 are accepted"),
        "{body}"
    );
    // ...and where an operator admits texts that long, the field count refuses it.
    let generous = TestApp::start_with(
        TestDatabase::new(backend).await,
        vaskem::graphql::QueryLimits {
            document_bytes: 1_048_576,
            ..vaskem::graphql::QueryLimits::default()
        },
    )
    .await;
    let (_, body) = generous.graphql(&flood, json!({})).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(message(&body).contains("50000 fields"), "{body}");
    // Without aliases __typename still counts as a field.
    let plain = " __typename".repeat(50_000);
    let (_, body) = generous.graphql(&format!("{{{plain} }}"), json!({})).await;
    assert!(message(&body).contains("50000 fields"), "{body}");
    // Fragments that each spread the next one twice: 2^30 fields in under 2 KB.
    let mut bomb = String::from("query { ...F0 }\n");
    for level in 0..30 {
        bomb.push_str(&format!(
            "fragment F{level} on Query {{ ...F{next} ...F{next} }}\n",
            next = level + 1
        ));
    }
    bomb.push_str("fragment F30 on Query { __typename }\n");
    let (_, body) = app.graphql(&bomb, json!({})).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    // 2^30 __typename and 2^31 - 1 spreads.
    assert!(message(&body).contains("3221225471 fields"), "{body}");
    // The same chain ending in a fragment nobody defined selects no field, but every walk over
    // it would still expand 2^31 spreads.
    let hollow = bomb.replace(
        "fragment F30 on Query { __typename }",
        "fragment F30 on Query { ...Nowhere }",
    );
    let (_, body) = app.graphql(&hollow, json!({})).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        message(&body).contains("once its fragments are expanded"),
        "{body}"
    );
    // Aliases have their own, lower cap.
    let aliased: String = (0..101)
        .map(|n| format!(" a{n}: health {{ status }}"))
        .collect();
    let (_, body) = app.graphql(&format!("{{{aliased} }}"), json!({})).await;
    assert!(message(&body).contains("101 aliases"), "{body}");
    // What the limits admit still runs, in request order.
    let admitted: String = (0..100).map(|n| format!(" a{n}: __typename")).collect();
    let (_, body) = app.graphql(&format!("{{{admitted} }}"), json!({})).await;
    assert_ok(&body);
    let keys: Vec<&String> = body["data"].as_object().expect("data").keys().collect();
    assert_eq!(keys.len(), 100);
    assert_eq!(keys[0], "a0");
    assert_eq!(keys[99], "a99");
    still_healthy(&app).await;
}

async fn a_document_hashes_at_most_one_password(backend: Backend) {
    let app = TestApp::start(backend).await;
    let member = app.member_of_new_organisation("Alpha").await;
    let events_before = app.database.audit_event_count(member.tenant).await;
    let organisation = app.database.slug_of(&member.email).await;
    let login = |alias: &str| {
        format!(
            "{alias}: login(input: {{organisation: \"{organisation}\", email: \"{}\", password: \"wrong password attempt\"}}) {{ user {{ id }} }}",
            member.email
        )
    };
    // Two aliases, or one hidden in a fragment: refused before either is tried.
    for document in [
        format!("mutation {{ {} {} }}", login("a"), login("b")),
        format!(
            "mutation {{ {} ...M }} fragment M on Mutation {{ {} }}",
            login("a"),
            login("b")
        ),
        format!(
            "mutation {{ {} changePassword(input: {{current: \"x\", new: \"y\"}}) {{ user {{ id }} }} }}",
            login("a")
        ),
    ] {
        let (_, body) = app
            .graphql_in(Some(&member.session), &document, json!({}))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert!(message(&body).contains("at most one of"), "{body}");
        assert!(body["data"].is_null(), "nothing ran: {body}");
    }
    // Nothing was tried: no failure was audited or counted (five more failures would lock).
    assert_eq!(
        app.database.audit_event_count(member.tenant).await,
        events_before
    );
    for _ in 0..4 {
        let (_, body) = app
            .graphql(&format!("mutation {{ {} }}", login("a")), json!({}))
            .await;
        assert_ne!(
            body["errors"][0]["extensions"]["reason"], "LOCKED_OUT",
            "{body}"
        );
    }
    app.login(&member.email, crate::support::database::TEST_PASSWORD)
        .await;
}

async fn a_document_verifies_the_chain_at_most_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let member = app.member_of_new_organisation("Alpha").await;
    let (_, body) = app
        .graphql_in(
            Some(&member.session),
            "{ a: verifyAuditChain { intact } b: verifyAuditChain { intact } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        message(&body).contains("verifyAuditChain at most once"),
        "{body}"
    );
    let (_, body) = app
        .graphql_in(
            Some(&member.session),
            "{ verifyAuditChain { intact } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["verifyAuditChain"]["intact"], true, "{body}");
}

/// The headers every answer carries, whoever gives it.
fn assert_edge(response: &reqwest::Response, what: &str) {
    let headers = response.headers();
    assert!(headers.contains_key("x-request-id"), "{what}: {headers:?}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(
        headers["cross-origin-opener-policy"], "same-origin",
        "{what}"
    );
    assert_eq!(
        headers["cross-origin-resource-policy"], "same-origin",
        "{what}"
    );
    let permissions = headers["permissions-policy"].to_str().unwrap_or_default();
    assert!(
        permissions.contains("camera=()") && permissions.contains("geolocation=()"),
        "{what}: {permissions}"
    );
    assert!(
        !permissions.contains("self") && !permissions.contains('*'),
        "{what}: nothing granted: {permissions}"
    );
    assert!(
        headers.contains_key("content-security-policy"),
        "{what}: {headers:?}"
    );
}

async fn every_refusal_has_the_same_edge(backend: Backend) {
    let app = TestApp::start(backend).await;
    let oversized = format!(
        r#"{{"query":"{{ health {{ status }} }}"{}}}"#,
        " ".repeat(vaskem::http::MAX_BODY_BYTES)
    );
    let post = |content_type: &'static str, body: String| {
        app.client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases = [
        ("413", post("application/json", oversized).await),
        ("415", post("text/plain", "{}".into()).await),
        ("400", post("application/json", "[{}]".into()).await),
        (
            "405",
            app.client
                .get(app.url("/graphql"))
                .query(&[("query", "mutation { logout { sessionId } }")])
                .send()
                .await,
        ),
        (
            "GET without query",
            app.client.get(app.url("/graphql")).send().await,
        ),
        ("PUT", app.client.put(app.url("/graphql")).send().await),
        (
            "POST /graphiql",
            app.client.post(app.url("/graphiql")).send().await,
        ),
        ("404", app.client.get(app.url("/nope")).send().await),
    ];
    for (what, response) in cases {
        let response = response.expect(what);
        assert_edge(&response, what);
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{what}: {status}");
        let body: Value = response.json().await.expect("a JSON error document");
        let expected = if what == "404" {
            "NOT_FOUND"
        } else {
            "BAD_USER_INPUT"
        };
        assert_eq!(error_code(&body), Some(expected), "{what}: {body}");
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{what}");
    }
    let response = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert!(message(&body).contains("`query` parameter"), "{body}");
    // A subscription is refused once, not once per layer that noticed.
    let (_, body) = app
        .graphql("subscription { health { status } }", json!({}))
        .await;
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

/// Sends `head` and then `body_bytes` spaces over a raw connection and returns what came back.
async fn raw_exchange(app: &TestApp, head: &str, body_bytes: usize) -> String {
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    // The server may answer (and close) before the whole body is sent; that is its right when
    // the declared length is absurd, so write errors are not the test's concern, reading is.
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < body_bytes {
        let size = chunk.len().min(body_bytes - sent);
        if stream.write_all(&chunk[..size]).await.is_err() {
            break;
        }
        sent += size;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn oversized_bodies_can_always_read_their_413(backend: Backend) {
    let app = TestApp::start(backend).await;
    let too_big = vaskem::http::MAX_BODY_BYTES + 1;
    // A declared length over the limit: the whole body is still read, so the client sees the 413.
    for _ in 0..5 {
        let head = format!(
            "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {too_big}\r\n\r\n"
        );
        let answer = raw_exchange(&app, &head, too_big).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.200}");
        assert!(answer.contains("x-request-id"), "{answer:.400}");
    }
    // Chunked, with no declared length: the same.
    let head = "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n";
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
    for _ in 0..(too_big / 0x10000 + 2) {
        stream.write_all(chunk.as_bytes()).await.expect("chunk");
    }
    stream.write_all(b"0\r\n\r\n").await.expect("end");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.200}");
    // An absurd declared length is refused at once, unread, and the connection closed.
    let head = "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000000000\r\n\r\n";
    let answer = raw_exchange(&app, head, 0).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.200}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer:.400}"
    );
    still_healthy(&app).await;
}

async fn adjust_stock_bounds_say_negative_is_allowed(backend: Backend) {
    let app = TestApp::start(backend).await;
    let member = app.member_of_new_organisation("Alpha").await;
    let w = warehouse(&app, &member.session).await;
    let (_, body) = app
        .graphql_in(
            Some(&member.session),
            ADJUST,
            json!({ "i": { "productId": w.product, "locationId": w.a, "change": -2_000_000_000, "reason": "x" } }),
        )
        .await;
    let error = &body["data"]["adjustStock"]["userErrors"][0];
    assert_eq!(error["field"], "change", "{body}");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or("")
            .contains("-1000000000 to 1000000000"),
        "{body}"
    );
}

async fn guessable_passwords_are_refused_with_advice(backend: Backend) {
    let app = TestApp::start(backend).await;
    let member = app.member_of_new_organisation("Alpha").await;
    for weak in [
        "aaaaaaaaaaaaaaa",
        "123456789012345",
        "passwordpassword",
        "qwertyuiopasdfgh",
    ] {
        let (_, body) = app
            .graphql_in(
                Some(&member.session),
                "mutation ($c: String!, $n: String!) { changePassword(input: {current: $c, new: $n}) { user { id } userErrors { field message code } } }",
                json!({ "c": crate::support::database::TEST_PASSWORD, "n": weak }),
            )
            .await;
        let error = &body["data"]["changePassword"]["userErrors"][0];
        assert_eq!(error["code"], "BAD_USER_INPUT", "{weak}: {body}");
        let text = error["message"].as_str().unwrap_or("");
        assert!(text.contains("too easy to guess"), "{weak}: {body}");
        assert!(body["data"]["changePassword"]["user"].is_null(), "{body}");
    }
}

/// GraphiQL opens with a document a newcomer runs first: it must be valid against the schema
/// (it once held a `login` that failed validation).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiqls_starting_document_is_valid() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Sqlite).await;
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/graphiql/init.js"
    ))
    .expect("init.js");
    let document: String = script
        .lines()
        .skip_while(|line| !line.contains("var defaultQuery"))
        .skip(1)
        .take_while(|line| !line.contains("].join"))
        .filter_map(|line| {
            let line = line.trim().trim_end_matches(',');
            line.strip_prefix('\'')?
                .strip_suffix('\'')
                .map(str::to_owned)
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(document.contains("organisation: \"demo\""), "{document}");
    for operation in ["SignIn", "WhoAmI"] {
        let body: Value = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": document, "operationName": operation }))
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("JSON");
        // Valid: it runs, and fails only for want of the real password or a session.
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "{operation}: {body}"
        );
    }
    checks.finish().await;
}

/// A client that sends a request a byte at a time, or nothing, is cut off; connections past the
/// cap are closed on arrival, and the service keeps answering everyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_surplus_connections_cannot_exhaust_the_server() {
    let checks = crate::support::Checks::begin();
    use std::time::{Duration, Instant};
    let database = std::sync::Arc::new(TestDatabase::new(Backend::Sqlite).await);
    let app = TestApp::start_configured(
        database,
        TestOptions {
            connections: vaskem::http::server::ConnectionLimits {
                max_connections: 4,
                client_timeout_seconds: 2,
            },
            ..TestOptions::default()
        },
    )
    .await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let connect = || tokio::net::TcpStream::connect(address.clone());
    // Reads until the server closes the connection; what it sent, and how long that took.
    async fn until_closed(stream: &mut tokio::net::TcpStream) -> (String, Duration) {
        let started = Instant::now();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer));
        assert!(read.await.is_ok(), "the server never closed the connection");
        (
            String::from_utf8_lossy(&answer).into_owned(),
            started.elapsed(),
        )
    }

    // Half a request line and then silence: closed once the header time is up.
    let mut slow_headers = connect().await.expect("connect");
    slow_headers
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let (_, waited) = until_closed(&mut slow_headers).await;
    assert!(waited >= Duration::from_secs(1), "{waited:?}");

    // Headers, then a body that never finishes: 408.
    let mut slow_body = connect().await.expect("connect");
    slow_body
        .write_all(b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"query\":")
        .await
        .expect("write");
    let (answer, _) = until_closed(&mut slow_body).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:.200}");
    assert!(answer.contains("x-request-id"), "{answer:.400}");

    // Four idle connections take every slot: a fifth is closed at once, long before the
    // timeout would close it, and with nothing sent.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(connect().await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut surplus = connect().await.expect("the kernel still accepts");
    let (answer, waited) = until_closed(&mut surplus).await;
    assert!(answer.is_empty(), "{answer}");
    assert!(waited < Duration::from_secs(1), "{waited:?}");
    // Once the idle ones time out, the service answers again.
    for mut stream in idle {
        until_closed(&mut stream).await;
    }
    still_healthy(&app).await;
    checks.finish().await;
}

/// A small document once bought a response of megabytes: one validation error per repeated
/// argument or directive. Those count against the field limit now, and no response lists more
/// than 50 errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_cannot_outgrow_the_document() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Sqlite).await;
    let repeated = format!("{{ health({}) {{ status }} }}", "a:1 ".repeat(15_000));
    let (_, body) = app.graphql(&repeated, json!({})).await;
    assert_eq!(
        body["errors"].as_array().map(Vec::len),
        Some(1),
        "{body:.300}"
    );
    assert!(message(&body).contains("15002 fields"), "{body:.300}");
    let directives = format!("query Q {} {{ __typename }}", "@a ".repeat(5_000));
    let (_, body) = app.graphql(&directives, json!({})).await;
    assert_eq!(
        body["errors"].as_array().map(Vec::len),
        Some(1),
        "{body:.300}"
    );
    // Within the limits, every argument wrong: the first 50 errors and a count of the rest.
    let arguments: String = (0..900).map(|n| format!("a{n}: 1 ")).collect();
    let (_, body) = app
        .graphql(
            &format!("{{ health({arguments}) {{ status }} }}"),
            json!({}),
        )
        .await;
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 51, "{body:.300}");
    assert_eq!(errors[50]["message"], "850 more errors left out");
    assert!(
        errors
            .iter()
            .all(|e| e["extensions"]["code"] == "BAD_USER_INPUT"),
        "{body:.300}"
    );
    // Unknown fields of an input object are not counted above; the cap still holds.
    let fields: String = (0..3_000).map(|n| format!("x{n}: 1, ")).collect();
    let (_, body) = app
        .graphql(
            &format!("{{ products(filter: {{{fields}}}) {{ nodes {{ sku }} }} }}"),
            json!({}),
        )
        .await;
    assert!(
        body["errors"].as_array().map_or(0, Vec::len) <= 51,
        "{body:.300}"
    );
    checks.finish().await;
}
