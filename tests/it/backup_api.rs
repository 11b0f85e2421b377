//! Backups through the API: `exportBackup` (its permission, the password asked again, the rate
//! limit, the audit events), `backups` and `backup(id:)`, and the download at `/backups/{handle}`
//! (the session and permission it needs, another organisation's handle, its headers, a file that
//! verifies and matches the size and SHA-256 the API reported).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vaskem::audit::keys::AuditKeys;
use vaskem::auth::permission::Permission;
use vaskem::service::backup;

use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::database::TEST_PASSWORD;
use crate::support::fixtures::call;
use crate::support::{Backend, Session, TestApp};

on_both_databases!(
    an_administrator_exports_and_downloads_a_verifiable_backup,
    the_password_is_asked_again_and_the_rate_is_limited,
    downloads_need_the_session_the_permission_and_the_organisation,
);

const EXPORT: &str = "mutation ($p: String!) { exportBackup(input: { password: $p }) { backup { id status requestedByEmail expiresAt byteSize sha256 } downloadUrl userErrors { field message } } }";
const ONE: &str = "query ($id: ID!) { backup(id: $id) { id status rows byteSize sha256 finishedAt requestedByEmail } }";

/// Asks for a backup; returns (backup id, download path).
async fn export(app: &TestApp, s: &Session) -> (String, String) {
    let data = app.ok(s, EXPORT, json!({ "p": TEST_PASSWORD })).await;
    let answer = &data["exportBackup"];
    (
        answer["backup"]["id"].as_str().expect("id").to_owned(),
        answer["downloadUrl"].as_str().expect("url").to_owned(),
    )
}

/// Asks `backup(id:)` until the export has ended.
async fn finished(app: &TestApp, s: &Session, id: &str) -> Value {
    for _ in 0..200 {
        let data = app.ok(s, ONE, json!({ "id": id })).await;
        if data["backup"]["status"] != "RUNNING" {
            return data["backup"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("backup {id} still RUNNING after 10 s");
}

async fn get(app: &TestApp, session: Option<&Session>, path: &str) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(session) = session {
        request = request.header(
            "cookie",
            format!(
                "{}={}",
                vaskem::auth::session::SESSION_COOKIE,
                session.token
            ),
        );
    }
    request.send().await.expect("GET")
}

async fn audit_actions(app: &TestApp, s: &Session, n: usize) -> Vec<String> {
    let data = app
        .ok(
            s,
            "query ($n: Int!) { auditEvents(first: $n) { nodes { action outcome } } }",
            json!({ "n": n }),
        )
        .await;
    data["auditEvents"]["nodes"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap_or(""),
                e["outcome"].as_str().unwrap_or("")
            )
        })
        .collect()
}

async fn an_administrator_exports_and_downloads_a_verifiable_backup(backend: Backend) {
    let app = TestApp::start(backend).await;
    let w = app.organisation_with_stock_setup("Backed Up").await;
    let s = &w.session;
    app.adjust(s, &w.product, &w.a, 7).await;

    let data = app.ok(s, EXPORT, json!({ "p": TEST_PASSWORD })).await;
    let answer = &data["exportBackup"];
    assert_eq!(answer["backup"]["status"], "RUNNING", "{data}");
    assert!(answer["backup"]["byteSize"].is_null());
    let id = answer["backup"]["id"].as_str().expect("id").to_owned();
    let url = answer["downloadUrl"].as_str().expect("url").to_owned();
    let handle = url.strip_prefix("/backups/").expect("under /backups/");
    assert_eq!(handle.len(), 64, "{url}");
    assert!(handle.bytes().all(|b| b.is_ascii_hexdigit()), "{url}");

    let done = finished(&app, s, &id).await;
    assert_eq!(done["status"], "READY", "{done}");
    assert!(done["rows"].as_i64().expect("rows") > 10, "{done}");
    assert!(done["finishedAt"].is_string());

    let response = get(&app, Some(s), &url).await;
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    let disposition = headers["content-disposition"].to_str().expect("text");
    assert!(
        disposition.starts_with("attachment; filename=\"vaskem-backed-up-")
            && disposition.ends_with("Z.json\""),
        "{disposition}"
    );
    let bytes = response.bytes().await.expect("body");
    assert_eq!(Some(bytes.len() as i64), done["byteSize"].as_i64());
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        done["sha256"].as_str().expect("sha256")
    );
    let audit_keys = AuditKeys::new(vec![app.database.audit_key.clone()]);
    let report = backup::verify(
        &bytes[..],
        &app.database.backups.key.verifying_key(),
        Some(&audit_keys),
    )
    .expect("the download verifies");
    assert_eq!(Some(report.rows as i64), done["rows"].as_i64());
    // The handle is nowhere in the file (only its digest is stored, and withheld).
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(handle));
    assert!(!text.contains(&hex::encode(Sha256::digest(handle.as_bytes()))));

    // Listed with who asked; audited from request to download.
    let list = app
        .ok(
            s,
            "{ backups(first: 5) { totalCount nodes { id status requestedByEmail } }
               failed: backups(filter: { statuses: [FAILED] }) { totalCount }
               oldest: backups(sort: { direction: ASC }, first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["backups"]["totalCount"], 1);
    assert_eq!(list["failed"]["totalCount"], 0);
    assert_eq!(list["oldest"]["nodes"][0]["id"], id.as_str());
    assert_eq!(list["backups"]["nodes"][0]["id"], id.as_str());
    assert_eq!(list["backups"]["nodes"][0]["status"], "READY");
    assert!(
        list["backups"]["nodes"][0]["requestedByEmail"]
            .as_str()
            .is_some_and(|e| e.contains('@'))
    );
    let actions = audit_actions(&app, s, 3).await;
    assert_eq!(
        actions,
        [
            "backup.download SUCCESS",
            "backup.finish SUCCESS",
            "backup.export SUCCESS"
        ],
    );
}

async fn the_password_is_asked_again_and_the_rate_is_limited(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Careful").await;
    let s = &owner.session;

    // A wrong password: a userError on `password`, a failed event, no backup.
    let wrong = call(&app, s, EXPORT, json!({ "p": "not my password" })).await;
    assert_eq!(
        wrong["data"]["exportBackup"]["userErrors"][0]["field"], "password",
        "{wrong}"
    );
    assert!(wrong["data"]["exportBackup"]["backup"].is_null());
    assert_eq!(audit_actions(&app, s, 1).await, ["backup.export FAILURE"]);
    let none = app.ok(s, "{ backups { totalCount } }", json!({})).await;
    assert_eq!(none["backups"]["totalCount"], 0);

    // Three an hour; the fourth is RATE_LIMITED with when to try again, and leaves nothing.
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(export(&app, s).await.0);
    }
    for id in &ids {
        finished(&app, s, id).await;
    }
    let fourth = call(&app, s, EXPORT, json!({ "p": TEST_PASSWORD })).await;
    assert_eq!(error_code(&fourth), Some("RATE_LIMITED"), "{fourth}");
    let retry = fourth["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_i64()
        .expect("retryAfterSeconds");
    assert!((1..=3600).contains(&retry), "{fourth}");
    assert!(
        fourth["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 3 backups an hour")),
        "{fourth}"
    );
    let three = app.ok(s, "{ backups { totalCount } }", json!({})).await;
    assert_eq!(three["backups"]["totalCount"], 3);

    // The limit is the organisation's own: another one is not held up by it.
    let other = app.member_of_new_organisation("Elsewhere").await;
    export(&app, &other.session).await;
}

async fn downloads_need_the_session_the_permission_and_the_organisation(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Guarded").await;
    let s = &owner.session;
    let (id, url) = export(&app, s).await;
    finished(&app, s, &id).await;

    // No session: 401. A session without the permission: 403 naming it, for the mutation too.
    assert_eq!(get(&app, None, &url).await.status().as_u16(), 401);
    let clerk_email = app
        .database
        .user_with_permissions(owner.tenant, &[Permission::ProductsView])
        .await;
    let clerk = app.login(&clerk_email, TEST_PASSWORD).await;
    let refused = get(&app, Some(&clerk), &url).await;
    assert_eq!(refused.status().as_u16(), 403);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(body.to_string().contains("BACKUPS_DOWNLOAD"), "{body}");
    let mutation = call(&app, &clerk, EXPORT, json!({ "p": TEST_PASSWORD })).await;
    assert_eq!(error_code(&mutation), Some("FORBIDDEN"));
    assert!(
        mutation.to_string().contains("BACKUPS_DOWNLOAD"),
        "{mutation}"
    );

    // Another organisation's administrator with the handle: exactly like a handle that does
    // not exist.
    let stranger = app.member_of_new_organisation("Stranger").await;
    let theirs = get(&app, Some(&stranger.session), &url).await;
    assert_eq!(theirs.status().as_u16(), 404);
    let theirs: Value = theirs.json().await.expect("json");
    let missing = get(&app, Some(s), &format!("/backups/{}", "0".repeat(64))).await;
    assert_eq!(missing.status().as_u16(), 404);
    let missing: Value = missing.json().await.expect("json");
    assert_eq!(theirs, missing);
    let foreign = call(&app, &stranger.session, ONE, json!({ "id": id })).await;
    assert_eq!(error_code(&foreign), Some("NOT_FOUND"), "{foreign}");
    // Not a handle at all.
    assert_eq!(
        get(&app, Some(s), "/backups/nope").await.status().as_u16(),
        404
    );
    // The owner still can.
    assert_eq!(get(&app, Some(s), &url).await.status().as_u16(), 200);
}

/// Six requests at once from one organisation: exactly three get a backup, the rest are
/// RATE_LIMITED (the organisation's row is locked while counting).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_parallel_requests_respect_the_hourly_limit() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let owner = app.member_of_new_organisation("Rush").await;
    let s = &owner.session;
    let attempts = (0..6).map(|_| call(&app, s, EXPORT, json!({ "p": TEST_PASSWORD })));
    let replies = futures::future::join_all(attempts).await;
    let (made, refused): (Vec<&Value>, Vec<&Value>) =
        replies.iter().partition(|r| r["errors"].is_null());
    assert_eq!(made.len(), 3, "{replies:?}");
    for reply in refused {
        assert_eq!(error_code(reply), Some("RATE_LIMITED"), "{reply}");
    }
    for reply in made {
        let id = reply["data"]["exportBackup"]["backup"]["id"]
            .as_str()
            .expect("id");
        assert_eq!(finished(&app, s, id).await["status"], "READY");
    }
    checks.finish().await;
}
