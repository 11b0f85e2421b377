//! Cookie sessions over real HTTP: the cookie on the wire, server-side state, every-request checks.

use entity::session;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;
use vaskem::auth::session::cookie_token_hash;

use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::database::{TEST_PASSWORD, uuid_literal};
use crate::support::{Backend, TestApp, TestDatabase, assert_ok, gid};

on_both_databases!(
    login_sets_a_hardened_cookie_and_stores_only_its_hash,
    me_needs_a_session,
    wrong_password_and_unknown_email_fail_alike,
    logout_ends_the_session_on_the_server,
    signed_in_callers_may_introspect,
    deactivating_the_user_or_organisation_ends_sessions_at_once,
    a_session_cannot_point_at_another_organisations_user,
    audit_events_name_the_client_and_request,
    idle_and_expired_sessions_end,
    each_session_sees_only_its_own_organisation,
    the_cookie_names_its_organisation_and_only_that_one_counts,
);

const ME: &str = "{ me { id email organisation { id name } } }";

async fn login_sets_a_hardened_cookie_and_stores_only_its_hash(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, email) = app.database.organisation("Alpha").await;
    let session = app.login(&email.to_uppercase(), TEST_PASSWORD).await;

    let attributes: Vec<String> = session
        .set_cookie
        .split(';')
        .map(|part| part.trim().to_ascii_lowercase())
        .collect();
    assert!(attributes[0].starts_with("__host-vaskem_session="));
    for flag in ["secure", "httponly", "samesite=strict", "path=/"] {
        assert!(
            attributes.iter().any(|a| a == flag),
            "{flag} missing: {}",
            session.set_cookie
        );
    }
    assert!(
        !attributes.iter().any(|a| a.starts_with("domain")),
        "{}",
        session.set_cookie
    );
    // The organisation's id, then 256 bits of randomness, hex-encoded.
    let (_, token) = session
        .token
        .split_once('.')
        .expect("<organisation>.<token>");
    assert_eq!(token.len(), 64);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));

    let raw = app.database.raw().await;
    let stored = session::Entity::find().all(&raw).await.expect("sessions");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].token_hash, cookie_token_hash(&session.token));
    assert_ne!(stored[0].token_hash, token);

    // A second login gets a new token: no fixation.
    let again = app.login(&email, TEST_PASSWORD).await;
    assert_ne!(again.token, session.token);
}

async fn me_needs_a_session(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alpha, email) = app.database.organisation("Alpha").await;
    let (_, body) = app.graphql(ME, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    let (_, body) = app
        .graphql_in(
            Some(&crate::support::Session {
                token: "0".repeat(64),
                set_cookie: String::new(),
            }),
            ME,
            json!({}),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("UNAUTHENTICATED"),
        "a made-up token is nobody"
    );

    let session = app.login(&email, TEST_PASSWORD).await;
    let (_, body) = app.graphql_in(Some(&session), ME, json!({})).await;
    assert_ok(&body);
    assert_eq!(body["data"]["me"]["email"], email);
    assert_eq!(body["data"]["me"]["organisation"]["id"], gid(alpha));
    assert_eq!(body["data"]["me"]["organisation"]["name"], "Alpha");
}

async fn wrong_password_and_unknown_email_fail_alike(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alpha, email) = app.database.organisation("Alpha").await;
    let wrong = app
        .try_login(&email, "not the right password at all")
        .await
        .expect_err("wrong password");
    let unknown = app
        .try_login("nobody@nowhere.example", TEST_PASSWORD)
        .await
        .expect_err("unknown email");
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"));
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(error_code(&wrong), error_code(&unknown));

    let handle = vaskem::tenancy::TenantDb::for_operator(&app.database.db, alpha);
    let tx = handle.read().await.expect("read");
    let events = tx
        .all(entity::audit_event::Entity::find())
        .await
        .expect("events");
    let failed: Vec<_> = events.iter().filter(|e| e.action == "user.login").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].outcome, entity::Outcome::Failure);
    assert!(!failed[0].detail.contains("not the right password"));
}

async fn logout_ends_the_session_on_the_server(backend: Backend) {
    let app = TestApp::start(backend).await;
    let session = app.member_of_new_organisation("Alpha").await.session;
    let (_, body) = app
        .graphql_in(
            Some(&session),
            "mutation { logout { sessionId } }",
            json!({}),
        )
        .await;
    assert!(body["data"]["logout"]["sessionId"].is_string(), "{body}");
    // The old cookie, replayed, is worthless.
    let (_, body) = app.graphql_in(Some(&session), ME, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

async fn signed_in_callers_may_introspect(backend: Backend) {
    let app = TestApp::start(backend).await;
    let session = app.member_of_new_organisation("Alpha").await.session;
    let (_, body) = app
        .graphql_in(
            Some(&session),
            "{ __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "Query",
        "{body}"
    );
    let (_, body) = app
        .graphql_in(Some(&session), "{ healt { status } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains("Did you mean"), "{message}");
}

async fn deactivating_the_user_or_organisation_ends_sessions_at_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alpha, alpha_email) = app.database.organisation("Alpha").await;
    let (_, beta_email) = app.database.organisation("Beta").await;
    let alpha_session = app.login(&alpha_email, TEST_PASSWORD).await;
    let beta_session = app.login(&beta_email, TEST_PASSWORD).await;
    let raw = app.database.raw().await;

    raw.execute_unprepared(&format!(
        "UPDATE users SET is_active = false WHERE email = '{beta_email}'"
    ))
    .await
    .expect("deactivate user");
    let (_, body) = app.graphql_in(Some(&beta_session), ME, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    assert!(app.try_login(&beta_email, TEST_PASSWORD).await.is_err());

    let (_, body) = app.graphql_in(Some(&alpha_session), ME, json!({})).await;
    assert_ok(&body);
    let organisation_id = uuid_literal(raw.get_database_backend(), alpha.0);
    raw.execute_unprepared(&format!(
        "UPDATE organisations SET is_active = false WHERE id = {organisation_id}"
    ))
    .await
    .expect("deactivate organisation");
    let (_, body) = app.graphql_in(Some(&alpha_session), ME, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

async fn a_session_cannot_point_at_another_organisations_user(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, alpha_email) = app.database.organisation("Alpha").await;
    let (beta, _) = app.database.organisation("Beta").await;
    let session = app.login(&alpha_email, TEST_PASSWORD).await;
    let raw = app.database.raw().await;
    let beta_id = uuid_literal(raw.get_database_backend(), beta.0);
    // Forging the session's organisation is refused by the composite foreign key
    // (tenant_id, user_id) → users (tenant_id, id), even for the table owner.
    let forged = raw
        .execute_unprepared(&format!("UPDATE sessions SET tenant_id = {beta_id}"))
        .await;
    let err = forged.expect_err("cross-organisation session").to_string();
    assert!(err.to_lowercase().contains("foreign key"), "{err}");
    let (_, body) = app.graphql_in(Some(&session), ME, json!({})).await;
    assert_ok(&body);
}

async fn audit_events_name_the_client_and_request(backend: Backend) {
    let app = TestApp::start(backend).await;
    let member = app.member_of_new_organisation("Alpha").await;
    let (alpha, email, session) = (member.tenant, member.email, member.session);
    let (_, body) = app
        .graphql_in(
            Some(&session),
            "mutation { renameOrganisation(input: {name: \"Alpha Two\"}) { organisation { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["renameOrganisation"]["organisation"]["name"], "Alpha Two",
        "{body}"
    );
    let handle = vaskem::tenancy::TenantDb::for_operator(&app.database.db, alpha);
    let tx = handle.read().await.expect("read");
    let events = tx
        .all(entity::audit_event::Entity::find())
        .await
        .expect("events");
    let rename = events
        .iter()
        .find(|e| e.action == "organisation.rename")
        .expect("rename event");
    assert_eq!(rename.actor_kind, entity::ActorKind::User);
    assert_eq!(rename.actor_label, email);
    assert!(rename.actor_user_id.is_some());
    assert_eq!(rename.client_addr.as_deref(), Some("127.0.0.1"));
    let request_id = rename.request_id.as_deref().expect("request id");
    assert!(request_id.parse::<uuid::Uuid>().is_ok(), "{request_id}");
    let login = events
        .iter()
        .find(|e| e.action == "user.login")
        .expect("login event");
    assert_ne!(login.request_id, rename.request_id);
    assert!(
        !login.detail.contains(&session.token),
        "the token never enters the log"
    );
}

async fn each_session_sees_only_its_own_organisation(backend: Backend) {
    let app = TestApp::start_with(
        TestDatabase::with_pool(backend, 1).await,
        vaskem::graphql::QueryLimits::default(),
    )
    .await;
    let (alpha, alpha_email) = app.database.organisation("Alpha").await;
    let (beta, beta_email) = app.database.organisation("Beta").await;
    let alpha_session = app.login(&alpha_email, TEST_PASSWORD).await;
    let beta_session = app.login(&beta_email, TEST_PASSWORD).await;

    // With one pooled connection, Alpha's request and then Beta's share it.
    let (_, body) = app
        .graphql_in(
            Some(&alpha_session),
            "mutation { renameOrganisation(input: {name: \"Alpha Renamed\"}) { organisation { id name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["renameOrganisation"]["organisation"]["id"],
        gid(alpha),
        "{body}"
    );
    let (_, body) = app.graphql_in(Some(&beta_session), ME, json!({})).await;
    assert_eq!(body["data"]["me"]["organisation"]["id"], gid(beta));
    assert_eq!(body["data"]["me"]["organisation"]["name"], "Beta");
    let (_, body) = app.graphql_in(Some(&alpha_session), ME, json!({})).await;
    assert_eq!(body["data"]["me"]["organisation"]["name"], "Alpha Renamed");
}

async fn idle_and_expired_sessions_end(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, email) = app.database.organisation("Alpha").await;
    let raw = app.database.raw().await;
    let backend_kind = raw.get_database_backend();
    let shift = |column: &str, minutes: i64| {
        let when = chrono::Utc::now() + chrono::Duration::minutes(minutes);
        sea_orm::Statement::from_sql_and_values(
            backend_kind,
            if backend_kind == sea_orm::DatabaseBackend::Postgres {
                format!("UPDATE sessions SET {column} = $1")
            } else {
                format!("UPDATE sessions SET {column} = ?")
            },
            [when.into()],
        )
    };

    // Idle past the limit (30 minutes by default).
    let idle = app.login(&email, TEST_PASSWORD).await;
    raw.execute_raw(shift("last_seen_at", -31))
        .await
        .expect("age");
    let (_, body) = app.graphql_in(Some(&idle), ME, json!({})).await;
    assert_eq!(
        error_code(&body),
        Some("UNAUTHENTICATED"),
        "idle session: {body}"
    );

    // Active, but past its absolute lifetime.
    let old = app.login(&email, TEST_PASSWORD).await;
    raw.execute_raw(shift("expires_at", -1))
        .await
        .expect("expire");
    let (_, body) = app.graphql_in(Some(&old), ME, json!({})).await;
    assert_eq!(
        error_code(&body),
        Some("UNAUTHENTICATED"),
        "expired session: {body}"
    );

    // Seen a while ago but within the limit: still good, and its last-seen time moves on.
    let recent = app.login(&email, TEST_PASSWORD).await;
    raw.execute_raw(shift("last_seen_at", -10))
        .await
        .expect("age");
    raw.execute_raw(shift("expires_at", 60))
        .await
        .expect("extend");
    let (_, body) = app.graphql_in(Some(&recent), ME, json!({})).await;
    assert_ok(&body);
    let sessions = session::Entity::find().all(&raw).await.expect("sessions");
    let touched = sessions
        .iter()
        .find(|s| s.token_hash == cookie_token_hash(&recent.token))
        .expect("session");
    assert!(chrono::Utc::now() - touched.last_seen_at < chrono::Duration::minutes(1));
}

/// The cookie is `<organisation id>.<token>`: the organisation lets the check enter the tenant
/// first, and is only a claim. Naming another organisation, or something that is no id, finds no
/// session; a token alone (a cookie from before) is still looked up by the token.
async fn the_cookie_names_its_organisation_and_only_that_one_counts(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alpha, alpha_email) = app.database.organisation("Alpha").await;
    let (beta, _) = app.database.organisation("Beta").await;
    let session = app.login(&alpha_email, TEST_PASSWORD).await;
    let (organisation, token) = session
        .token
        .split_once('.')
        .expect("<organisation>.<token>");
    assert_eq!(organisation, alpha.to_string());
    assert_eq!(token.len(), 64, "256 random bits in hex");
    let with = |value: String| crate::support::Session {
        token: value,
        set_cookie: String::new(),
    };
    let (_, body) = app.graphql_in(Some(&session), ME, json!({})).await;
    assert_eq!(
        body["data"]["me"]["organisation"]["id"],
        gid(alpha),
        "{body}"
    );
    for value in [
        format!("{beta}.{token}"),
        format!("{}.{token}", uuid::Uuid::new_v4()),
        format!("not-an-id.{token}"),
        format!("{alpha}.{}", "0".repeat(64)),
        format!("{alpha}."),
    ] {
        let (_, body) = app
            .graphql_in(Some(&with(value.clone())), ME, json!({}))
            .await;
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "{value}: {body}"
        );
    }
    let (_, body) = app
        .graphql_in(Some(&with(token.to_owned())), ME, json!({}))
        .await;
    assert_eq!(
        body["data"]["me"]["organisation"]["id"],
        gid(alpha),
        "the token alone: {body}"
    );
}
