//! Signing in under attack: lockouts shared by every node, aliased attempts, unknown emails,
//! hash upgrades, timing, and two real service processes on one PostgreSQL database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use vaskem::auth::AuthSettings;
use vaskem::auth::password::PasswordHasher;
use vaskem::auth::session::{LoginThrottle, SessionPolicy};
use vaskem::tenancy::TenantDb;

use crate::on_both_databases;
use crate::support::app::{TestOptions, error_code};
use crate::support::database::{TEST_PASSWORD, TEST_ROUNDS};
use crate::support::process::ServiceProcess;
use crate::support::{Backend, TestApp, TestDatabase, assert_ok};

on_both_databases!(
    an_account_locks_after_repeated_failures_on_every_node,
    aliased_logins_are_refused_whole,
    parallel_attempts_cannot_outrun_the_limit,
    sign_in_is_per_organisation,
    unknown_emails_are_throttled_like_known_ones,
    one_client_address_locks_across_accounts,
    failures_are_slowed_down,
    weaker_hashes_are_upgraded_at_sign_in,
    unknown_and_known_emails_take_about_as_long,
);

fn options(throttle: LoginThrottle) -> TestOptions {
    TestOptions {
        auth: AuthSettings {
            throttle,
            ..TestOptions::default().auth
        },
        ..TestOptions::default()
    }
}

fn strict() -> LoginThrottle {
    LoginThrottle {
        account_max_failures: 3,
        client_max_failures: 50,
        window_minutes: 15,
        lockout_minutes: 15,
        slowdown_ms: 0,
    }
}

async fn an_account_locks_after_repeated_failures_on_every_node(backend: Backend) {
    let database = Arc::new(TestDatabase::new(backend).await);
    let first = TestApp::start_configured(database.clone(), options(strict())).await;
    let second = first.another_node(options(strict())).await;
    let (alpha, email) = first.database.organisation("Alpha").await;
    for _ in 0..2 {
        let body = first
            .try_login(&email, "wrong password, again")
            .await
            .expect_err("wrong");
        assert_eq!(
            body["errors"][0]["extensions"]["reason"],
            json!(null),
            "{body}"
        );
    }
    // The third failure happens on the other node; the lock is shared through the database.
    let body = second
        .try_login(&email, "wrong password, again")
        .await
        .expect_err("wrong");
    assert_eq!(
        body["errors"][0]["extensions"]["reason"], "LOCKED_OUT",
        "{body}"
    );
    let locked = first
        .try_login(&email, TEST_PASSWORD)
        .await
        .expect_err("locked out");
    assert_eq!(error_code(&locked), Some("UNAUTHENTICATED"));
    assert_eq!(locked["errors"][0]["extensions"]["reason"], "LOCKED_OUT");
    let wait = locked["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_i64()
        .expect("seconds");
    assert!((1..=15 * 60).contains(&wait), "{wait}");
    assert!(
        locked["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("wait")
    );

    // Failures and the lockout are in the organisation's audit log; no password is.
    let tx = TenantDb::for_operator(&database.db, alpha)
        .read()
        .await
        .expect("read");
    let events = tx
        .all(<entity::audit_event::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("events");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "user.login" && e.outcome == entity::Outcome::Failure)
            .count(),
        3
    );
    assert_eq!(
        events.iter().filter(|e| e.action == "user.lockout").count(),
        1
    );
    assert!(events.iter().all(|e| !e.detail.contains("wrong password")));
}

async fn aliased_logins_are_refused_whole(backend: Backend) {
    let app = TestApp::start_configured(
        Arc::new(TestDatabase::new(backend).await),
        options(strict()),
    )
    .await;
    let (_, email) = app.database.organisation("Alpha").await;
    let organisation = app.database.slug_of(&email).await;
    // Twenty guesses in one document, the last one right: refused before any is tried (a
    // document may hash one password), so none counts and the account is not locked.
    let mut fields: Vec<String> = (0..19)
        .map(|n| {
            format!(
                "a{n}: login(input: {{organisation: \"{organisation}\", email: \"{email}\", password: \"wrong guess number {n}\"}}) {{ user {{ id }} }}"
            )
        })
        .collect();
    fields.push(format!(
        "right: login(input: {{organisation: \"{organisation}\", email: \"{email}\", password: \"{TEST_PASSWORD}\"}}) {{ user {{ id }} }}"
    ));
    let (_, body) = app
        .graphql(&format!("mutation {{ {} }}", fields.join(" ")), json!({}))
        .await;
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert!(body["data"].is_null(), "{body}");
    assert!(
        app.try_login(&email, TEST_PASSWORD).await.is_ok(),
        "nothing was counted"
    );
}

async fn parallel_attempts_cannot_outrun_the_limit(backend: Backend) {
    let database = Arc::new(TestDatabase::new(backend).await);
    let app = TestApp::start_configured(database.clone(), options(strict())).await;
    let (alpha, email) = app.database.organisation("Alpha").await;
    let attempts = (0..20).map(|n| {
        let app = &app;
        let email = email.clone();
        async move {
            app.try_login(&email, &format!("parallel wrong guess {n}"))
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;
    assert!(results.iter().all(Result::is_err));
    // Only as many passwords were checked as the limit allows: one audit event per check.
    let tx = TenantDb::for_operator(&database.db, alpha)
        .read()
        .await
        .expect("read");
    let events = tx
        .all(<entity::audit_event::Entity as sea_orm::EntityTrait>::find())
        .await
        .expect("events");
    let checked = events
        .iter()
        .filter(|e| e.action == "user.login" && e.outcome == entity::Outcome::Failure)
        .count();
    assert_eq!(checked, 3, "passwords checked in a burst of 20");
    assert!(
        app.try_login(&email, TEST_PASSWORD).await.is_err(),
        "locked"
    );
}

/// The attack that worked while sign-in took whichever account an email matched: another
/// organisation registers the same address, then clears its lockout by signing in there.
async fn sign_in_is_per_organisation(backend: Backend) {
    let database = Arc::new(TestDatabase::new(backend).await);
    let app = TestApp::start_configured(database.clone(), options(strict())).await;
    let (alpha, email) = app.database.organisation("Alpha").await;
    let alpha_slug = app.database.slug_of(&email).await;
    let beta = app.member_of_new_organisation("Beta").await;
    let beta_slug = app.database.slug_of(&beta.email).await;
    // Beta's admin invites Alpha's admin's address, and that account takes the same password.
    let (_, roles) = app
        .graphql_in(
            Some(&beta.session),
            "{ roles { nodes { id name } } }",
            json!({}),
        )
        .await;
    let viewer = roles["data"]["roles"]["nodes"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["name"] == "Viewer")
        .expect("viewer")["id"]
        .clone();
    let (_, body) = app
        .graphql_in(
            Some(&beta.session),
            "mutation ($i: InviteUserInput!) { inviteUser(input: $i) { temporaryPassword } }",
            json!({ "i": { "email": email, "roleId": viewer } }),
        )
        .await;
    let temporary = body["data"]["inviteUser"]["temporaryPassword"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let shared = app
        .try_login_to(&beta_slug, &email, &temporary)
        .await
        .expect("the invited account signs in to Beta");
    let (_, body) = app
        .graphql_in(
            Some(&shared),
            "mutation ($c: String!, $n: String!) { changePassword(input: {current: $c, new: $n}) { userErrors { message } } }",
            json!({ "c": temporary, "n": TEST_PASSWORD }),
        )
        .await;
    assert_ok(&body);
    // Same email, same password: each organisation's account signs in to its own organisation.
    for (slug, tenant) in [(&alpha_slug, alpha), (&beta_slug, beta.tenant)] {
        let session = app
            .try_login_to(slug, &email, TEST_PASSWORD)
            .await
            .expect("signs in");
        let (_, body) = app
            .graphql_in(
                Some(&session),
                "{ me { organisation { id slug } } }",
                json!({}),
            )
            .await;
        assert_eq!(body["data"]["me"]["organisation"]["slug"], slug.as_str());
        assert_eq!(
            body["data"]["me"]["organisation"]["id"],
            crate::support::gid(tenant)
        );
    }
    // Two failures on Alpha's account, then a success at Beta: Alpha's count is not cleared,
    // so its third failure locks it (the limit is 3).
    let events_at_beta = app.database.audit_event_count(beta.tenant).await;
    for _ in 0..2 {
        app.try_login_to(&alpha_slug, &email, "a wrong guess at alpha")
            .await
            .expect_err("wrong");
    }
    app.try_login_to(&beta_slug, &email, TEST_PASSWORD)
        .await
        .expect("Beta signs in");
    let body = app
        .try_login_to(&alpha_slug, &email, "a third wrong guess")
        .await
        .expect_err("wrong");
    assert_eq!(
        body["errors"][0]["extensions"]["reason"], "LOCKED_OUT",
        "{body}"
    );
    assert!(
        app.try_login_to(&alpha_slug, &email, TEST_PASSWORD)
            .await
            .is_err()
    );
    // ...while Beta's account with the same email is untouched.
    app.try_login_to(&beta_slug, &email, TEST_PASSWORD)
        .await
        .expect("Beta is not locked");
    // Alpha's failures and lockout are audited in Alpha; Beta's log gained only its own sign-ins.
    let failures = |tenant| {
        let database = database.clone();
        async move {
            let tx = TenantDb::for_operator(&database.db, tenant)
                .read()
                .await
                .expect("read");
            tx.all(<entity::audit_event::Entity as sea_orm::EntityTrait>::find())
                .await
                .expect("events")
                .into_iter()
                .filter(|e| e.outcome == entity::Outcome::Failure || e.action == "user.lockout")
                .count()
        }
    };
    assert!(failures(alpha).await >= 3, "Alpha sees its failures");
    assert_eq!(failures(beta.tenant).await, 0, "Beta sees none of them");
    assert_eq!(
        app.database.audit_event_count(beta.tenant).await,
        events_at_beta + 2,
        "two sign-ins at Beta, nothing else"
    );
    // An unknown organisation, an unknown email and a wrong password fail alike.
    let (fresh, fresh_email) = app.database.organisation("Gamma").await;
    let _ = fresh;
    let gamma = app.database.slug_of(&fresh_email).await;
    let mut answers = Vec::new();
    for (slug, address, password) in [
        ("no-such-organisation", fresh_email.as_str(), TEST_PASSWORD),
        (gamma.as_str(), "nobody@gamma.example", TEST_PASSWORD),
        (
            gamma.as_str(),
            fresh_email.as_str(),
            "not the password at all",
        ),
        (alpha_slug.as_str(), fresh_email.as_str(), TEST_PASSWORD),
    ] {
        let body = app
            .try_login_to(slug, address, password)
            .await
            .expect_err("fails");
        answers.push(body["errors"][0].clone());
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );
    assert_eq!(answers[0]["extensions"]["code"], "UNAUTHENTICATED");
}

async fn unknown_emails_are_throttled_like_known_ones(backend: Backend) {
    let app = TestApp::start_configured(
        Arc::new(TestDatabase::new(backend).await),
        options(strict()),
    )
    .await;
    let mut replies = Vec::new();
    for _ in 0..4 {
        replies.push(
            app.try_login("nobody@nowhere.example", "some password here")
                .await
                .expect_err("unknown"),
        );
    }
    let reasons: Vec<_> = replies
        .iter()
        .map(|r| r["errors"][0]["extensions"]["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [
            json!(null),
            json!(null),
            json!("LOCKED_OUT"),
            json!("LOCKED_OUT")
        ]
    );
}

async fn one_client_address_locks_across_accounts(backend: Backend) {
    let throttle = LoginThrottle {
        account_max_failures: 100,
        client_max_failures: 4,
        ..strict()
    };
    let app = TestApp::start_configured(
        Arc::new(TestDatabase::new(backend).await),
        options(throttle),
    )
    .await;
    let (_, email) = app.database.organisation("Alpha").await;
    for n in 0..4 {
        app.try_login(&format!("spray{n}@example.com"), "password spraying")
            .await
            .expect_err("unknown");
    }
    let body = app
        .try_login(&email, TEST_PASSWORD)
        .await
        .expect_err("address locked");
    assert_eq!(body["errors"][0]["extensions"]["reason"], "LOCKED_OUT");
}

async fn failures_are_slowed_down(backend: Backend) {
    let throttle = LoginThrottle {
        slowdown_ms: 300,
        ..strict()
    };
    let app = TestApp::start_configured(
        Arc::new(TestDatabase::new(backend).await),
        options(throttle),
    )
    .await;
    let (_, email) = app.database.organisation("Alpha").await;
    let started = Instant::now();
    app.try_login(&email, "wrong password one")
        .await
        .expect_err("wrong");
    let first = started.elapsed();
    let started = Instant::now();
    app.try_login(&email, "wrong password two")
        .await
        .expect_err("wrong");
    let second = started.elapsed();
    // The configured delay is a floor, not a timing race: the second attempt waits at least it.
    assert!(
        second >= Duration::from_millis(300),
        "second attempt took {second:?}"
    );
    assert!(second > first, "{first:?} then {second:?}");
}

async fn weaker_hashes_are_upgraded_at_sign_in(backend: Backend) {
    let database = Arc::new(TestDatabase::new(backend).await);
    let (alpha, email) = database.organisation("Alpha").await;
    let stronger = TestOptions {
        auth: AuthSettings {
            hasher: PasswordHasher::with_rounds(TEST_ROUNDS * 2),
            ..TestOptions::default().auth
        },
        ..TestOptions::default()
    };
    let app = TestApp::start_configured(database.clone(), stronger).await;
    let stored = |database: Arc<TestDatabase>| async move {
        let tx = TenantDb::for_operator(&database.db, alpha)
            .read()
            .await
            .expect("read");
        let users = tx
            .all(<entity::user::Entity as sea_orm::EntityTrait>::find())
            .await
            .expect("users");
        users[0].password_hash.clone()
    };
    assert!(
        stored(database.clone())
            .await
            .starts_with("$pbkdf2-sha256$i=1000,")
    );
    app.login(&email, TEST_PASSWORD).await;
    let upgraded = stored(database.clone()).await;
    assert!(upgraded.starts_with("$pbkdf2-sha256$i=2000,"), "{upgraded}");
    app.login(&email, TEST_PASSWORD).await;
}

/// Measured, not asserted to the millisecond: both paths run one PBKDF2 computation, so their
/// medians should be of the same order. The ratio is printed for the record.
async fn unknown_and_known_emails_take_about_as_long(backend: Backend) {
    let realistic = TestOptions {
        auth: AuthSettings {
            hasher: PasswordHasher::with_rounds(100_000),
            sessions: SessionPolicy::default(),
            throttle: LoginThrottle {
                account_max_failures: 1_000,
                client_max_failures: 1_000,
                slowdown_ms: 0,
                ..LoginThrottle::default()
            },
        },
        ..TestOptions::default()
    };
    let app =
        TestApp::start_configured(Arc::new(TestDatabase::new(backend).await), realistic).await;
    let (_, email) = app.database.organisation("Alpha").await;
    // One good sign-in upgrades the stored hash to the service's 100,000 rounds, so both paths
    // below do the same amount of hashing.
    app.login(&email, TEST_PASSWORD).await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for n in 0..7 {
        let started = Instant::now();
        app.try_login(&email, &format!("wrong password {n}"))
            .await
            .expect_err("wrong");
        known.push(started.elapsed());
        let started = Instant::now();
        app.try_login(&format!("ghost{n}@example.com"), "wrong password")
            .await
            .expect_err("unknown");
        unknown.push(started.elapsed());
    }
    known.sort();
    unknown.sort();
    let ratio = unknown[3].as_secs_f64() / known[3].as_secs_f64();
    println!(
        "login timing ({backend:?}): known {:?}, unknown {:?}, ratio {ratio:.2}",
        known[3], unknown[3]
    );
    assert!((0.2..5.0).contains(&ratio), "unknown/known = {ratio:.2}");
}

/// Two `vaskem serve` processes on one PostgreSQL database behave as one service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_processes_behave_as_one() {
    let checks = crate::support::Checks::begin();
    let database = TestDatabase::new(Backend::Postgres).await;
    let (_, email) = database.organisation("Alpha").await;
    let (_, colleague_email) = database.organisation("Beta").await;
    let a = ServiceProcess::start(&database);
    let b = ServiceProcess::start(&database);
    a.wait_ready().await;
    b.wait_ready().await;
    let login = "mutation ($o: String!, $e: String!, $p: String!) { login(input: {organisation: $o, email: $e, password: $p}) { user { id } } }";
    let alpha = database.slug_of(&email).await;
    let beta = database.slug_of(&colleague_email).await;
    let me = "{ me { email } }";

    let (token, _) = a
        .graphql(
            None,
            login,
            json!({ "o": alpha, "e": email, "p": TEST_PASSWORD }),
        )
        .await;
    let token = token.expect("session cookie from A");
    let (_, body) = b.graphql(Some(&token), me, json!({})).await;
    assert_eq!(
        body["data"]["me"]["email"], email,
        "a session made on A works on B: {body}"
    );
    let (_, body) = a
        .graphql(Some(&token), "mutation { logout { sessionId } }", json!({}))
        .await;
    assert!(body["data"]["logout"]["sessionId"].is_string(), "{body}");
    let (_, body) = b.graphql(Some(&token), me, json!({})).await;
    assert_eq!(
        error_code(&body),
        Some("UNAUTHENTICATED"),
        "logout on A is seen by B at once"
    );

    // Deactivation on one node ends the session on the other.
    let (owner, _) = a
        .graphql(
            None,
            login,
            json!({ "o": beta, "e": colleague_email, "p": TEST_PASSWORD }),
        )
        .await;
    let owner = owner.expect("owner session");
    let (_, body) = a
        .graphql(
            Some(&owner),
            "mutation ($i: InviteUserInput!) { inviteUser(input: $i) { user { id } temporaryPassword } }",
            json!({ "i": { "email": "worker@beta.example", "roleId": viewer_role(&a, &owner).await } }),
        )
        .await;
    let worker_id = body["data"]["inviteUser"]["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let temporary = body["data"]["inviteUser"]["temporaryPassword"]
        .as_str()
        .expect("pw")
        .to_owned();
    let (worker, _) = b
        .graphql(
            None,
            login,
            json!({ "o": beta, "e": "worker@beta.example", "p": temporary }),
        )
        .await;
    let worker = worker.expect("worker session");
    let (_, body) = b.graphql(Some(&worker), me, json!({})).await;
    assert_eq!(body["data"]["me"]["email"], "worker@beta.example");
    let (_, body) = a
        .graphql(
            Some(&owner),
            "mutation ($id: ID!) { deactivateUser(input: {id: $id}) { user { active } } }",
            json!({ "id": worker_id }),
        )
        .await;
    assert_eq!(
        body["data"]["deactivateUser"]["user"]["active"], false,
        "{body}"
    );
    let (_, body) = b.graphql(Some(&worker), me, json!({})).await;
    assert_eq!(
        error_code(&body),
        Some("UNAUTHENTICATED"),
        "deactivation on A is seen by B at once"
    );
    checks.finish().await;
}

async fn viewer_role(node: &ServiceProcess, token: &str) -> String {
    let (_, body) = node
        .graphql(Some(token), "{ roles { nodes { id name } } }", json!({}))
        .await;
    body["data"]["roles"]["nodes"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["name"] == "Viewer")
        .and_then(|r| r["id"].as_str())
        .expect("viewer")
        .to_owned()
}
