//! `vaskem serve --redirect-http ADDR`: pages go to HTTPS with a 308 to the same host, path and
//! query; the API is refused without a redirect, whatever the method.

use crate::on_both_databases;
use crate::support::process::ServiceProcess;
use crate::support::{Backend, TestDatabase};

on_both_databases!(plain_http_sends_pages_to_https_and_refuses_the_api);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

async fn plain_http_sends_pages_to_https_and_refuses_the_api(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let redirect_port = free_port();
    let service = ServiceProcess::start_with(
        &database,
        &database.serving_url,
        &["--redirect-http", &format!("127.0.0.1:{redirect_port}")],
    );
    service.wait_ready().await;
    let plain = format!("http://127.0.0.1:{redirect_port}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let response = client
            .request(method.clone(), format!("{plain}/graphiql?tab=2&x=%20y"))
            .header("host", "wms.example:8080")
            .send()
            .await
            .expect("page");
        assert_eq!(response.status(), 308, "{method}");
        assert_eq!(
            response.headers()["location"],
            "https://wms.example/graphiql?tab=2&x=%20y",
            "{method}"
        );
        assert!(!response.headers().contains_key("strict-transport-security"));
    }

    let post = client
        .post(format!("{plain}/graphql"))
        .header("host", "wms.example")
        .header("content-type", "application/json")
        .body(r#"{"query":"{ health { status } }"}"#)
        .send()
        .await
        .expect("API over POST");
    let get = client
        .get(format!("{plain}/graphql?query=%7Bhealth%7Bstatus%7D%7D"))
        .header("host", "wms.example")
        .send()
        .await
        .expect("API over GET");
    let form = client
        .post(format!("{plain}/graphiql"))
        .header("host", "wms.example")
        .body("anything")
        .send()
        .await
        .expect("a POST to a page");
    for (what, response) in [
        ("POST /graphql", post),
        ("GET /graphql", get),
        ("POST /graphiql", form),
    ] {
        assert_eq!(response.status(), 403, "{what}");
        assert!(!response.headers().contains_key("location"), "{what}");
        let body: serde_json::Value = response.json().await.expect("JSON");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("HTTPS only"),
            "{what}: {body}"
        );
    }

    // The service itself still answers on its own address.
    let health = client
        .get(format!("{}/healthz", service.base_url))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
}
