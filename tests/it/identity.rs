//! Roles, overrides and user administration: no escalation, an owner always remains, and every
//! change is audited without secrets.

use serde_json::{Value, json};
use vaskem::auth::permission::Permission;

use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::database::TEST_PASSWORD;
use crate::support::{Backend, Session, TestApp, assert_ok, gid};

on_both_databases!(
    me_shows_role_and_effective_permissions,
    nobody_grants_what_they_lack,
    lifting_a_revoke_is_granting,
    an_organisation_keeps_an_active_owner,
    invited_user_must_change_the_temporary_password,
    overrides_grant_and_revoke,
    deactivation_ends_sessions_at_once,
    password_change_ends_other_sessions,
    sessions_can_be_listed_and_revoked,
    another_organisations_ids_are_not_found,
    custom_roles_lifecycle,
    audit_viewer_filters_and_pages,
);

const ME: &str = "{ me { id email role { id name } permissions granted revoked mustChangePassword organisation { id name } } }";

async fn me(app: &TestApp, session: &Session) -> Value {
    let (_, body) = app.graphql_in(Some(session), ME, json!({})).await;
    assert_ok(&body);
    body["data"]["me"].clone()
}

async fn role_id(app: &TestApp, session: &Session, name: &str) -> String {
    let (_, body) = app
        .graphql_in(Some(session), "{ roles { nodes { id name } } }", json!({}))
        .await;
    body["data"]["roles"]["nodes"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|role| role["name"] == name)
        .and_then(|role| role["id"].as_str())
        .unwrap_or_else(|| panic!("no role {name}: {body}"))
        .to_owned()
}

async fn user_id(app: &TestApp, session: &Session, email: &str) -> String {
    let (_, body) = app
        .graphql_in(Some(session), "{ users { nodes { id email } } }", json!({}))
        .await;
    body["data"]["users"]["nodes"]
        .as_array()
        .expect("users")
        .iter()
        .find(|user| user["email"] == email)
        .and_then(|user| user["id"].as_str())
        .unwrap_or_else(|| panic!("no user {email}: {body}"))
        .to_owned()
}

async fn invite(app: &TestApp, session: &Session, email: &str, role: &str) -> (String, String) {
    let role_id = role_id(app, session, role).await;
    let (_, body) = app
        .graphql_in(
            Some(session),
            "mutation ($input: InviteUserInput!) { inviteUser(input: $input) { user { id } temporaryPassword } }",
            json!({ "input": { "email": email, "roleId": role_id } }),
        )
        .await;
    assert_ok(&body);
    let invited = &body["data"]["inviteUser"];
    (
        invited["user"]["id"].as_str().expect("id").to_owned(),
        invited["temporaryPassword"]
            .as_str()
            .expect("password")
            .to_owned(),
    )
}

/// Invites a user with `role` and signs them in with a password of their own.
async fn colleague(app: &TestApp, admin: &Session, role: &str) -> (String, String, Session) {
    let email = format!(
        "{}-{}@example.com",
        role.to_lowercase(),
        uuid::Uuid::new_v4().simple()
    );
    let (id, temporary) = invite(app, admin, &email, role).await;
    let first = app.login(&email, &temporary).await;
    let (_, changed) = app
        .graphql_in(
            Some(&first),
            "mutation ($c: String!, $n: String!) { changePassword(input: {current: $c, new: $n}) { user { id } userErrors { field message code } } }",
            json!({ "c": temporary, "n": TEST_PASSWORD }),
        )
        .await;
    assert!(
        changed["data"]["changePassword"]["user"]["id"].is_string(),
        "{changed}"
    );
    (id, email, first)
}

async fn me_shows_role_and_effective_permissions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let me = me(&app, &owner.session).await;
    assert_eq!(me["role"]["name"], "Owner");
    assert_eq!(me["permissions"].as_array().expect("permissions").len(), 48);
    assert_eq!(me["organisation"]["id"], gid(owner.tenant));
    let (_, roles) = app
        .graphql_in(
            Some(&owner.session),
            "{ roles { nodes { name builtin permissions } } }",
            json!({}),
        )
        .await;
    let names: Vec<&str> = roles["data"]["roles"]["nodes"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|role| role["name"].as_str())
        .collect();
    assert_eq!(names, ["Manager", "Operator", "Owner", "Viewer"]);
}

async fn nobody_grants_what_they_lack(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    // A user administrator who lacks backups.
    let admin_email = app
        .database
        .user_with_permissions(
            owner.tenant,
            &[
                Permission::UsersView,
                Permission::UsersManage,
                Permission::UsersOverride,
                Permission::UsersInvite,
                Permission::RolesView,
                Permission::RolesManage,
            ],
        )
        .await;
    let admin = app.login(&admin_email, TEST_PASSWORD).await;
    let admin_id = user_id(&app, &admin, &admin_email).await;

    // Grant yourself a bit you lack.
    let (_, body) = app
        .graphql_in(
            Some(&admin),
            "mutation ($id: ID!) { setUserOverrides(input: {id: $id, grant: [BACKUPS_DOWNLOAD], revoke: []}) { user { id } } }",
            json!({ "id": admin_id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["permission"],
        "BACKUPS_DOWNLOAD"
    );
    // Make yourself Owner.
    let owner_role = role_id(&app, &admin, "Owner").await;
    let (_, body) = app
        .graphql_in(
            Some(&admin),
            "mutation ($id: ID!, $role: ID!) { changeUserRole(input: {id: $id, roleId: $role}) { user { id } } }",
            json!({ "id": admin_id, "role": owner_role }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // A role with more than you hold.
    let (_, body) = app
        .graphql_in(
            Some(&admin),
            "mutation { createRole(input: { name: \"Backup\", permissions: [BACKUPS_DOWNLOAD] }) { role { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // Invite someone as Owner.
    let (_, body) = app
        .graphql_in(
            Some(&admin),
            "mutation ($role: ID!) { inviteUser(input: { email: \"boss@example.com\", roleId: $role }) { temporaryPassword } }",
            json!({ "role": owner_role }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // Take over the owner's account by resetting their password.
    let owner_id = user_id(&app, &admin, &owner.email).await;
    let (_, body) = app
        .graphql_in(
            Some(&admin),
            "mutation ($id: ID!) { resetUserPassword(input: {id: $id}) { temporaryPassword } }",
            json!({ "id": owner_id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // Nothing changed: the admin still has exactly their permissions.
    let me = me(&app, &admin).await;
    assert!(
        !me["permissions"]
            .as_array()
            .expect("list")
            .iter()
            .any(|p| p == "BACKUPS_DOWNLOAD")
    );
}

async fn lifting_a_revoke_is_granting(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let set = "mutation ($id: ID!, $g: [Permission!]!, $r: [Permission!]!) { setUserOverrides(input: {id: $id, grant: $g, revoke: $r}) { user { permissions } } }";

    // A user administrator whose AUDIT_VIEW the owner revoked cannot lift it themselves.
    let admin_email = app
        .database
        .user_with_permissions(
            owner.tenant,
            &[
                Permission::UsersView,
                Permission::UsersOverride,
                Permission::AuditView,
            ],
        )
        .await;
    let admin_id = user_id(&app, &owner.session, &admin_email).await;
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            set,
            json!({ "id": admin_id, "g": [], "r": ["AUDIT_VIEW"] }),
        )
        .await;
    assert_ok(&body);
    let admin = app.login(&admin_email, TEST_PASSWORD).await;
    let (_, body) = app
        .graphql_in(
            Some(&admin),
            set,
            json!({ "id": admin_id, "g": [], "r": [] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["permission"], "AUDIT_VIEW");

    // Someone holding all but BACKUPS_DOWNLOAD cannot make a restricted owner whole again.
    let (second_owner, _, _) = colleague(&app, &owner.session, "Owner").await;
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            set,
            json!({ "id": second_owner, "g": [], "r": ["BACKUPS_DOWNLOAD"] }),
        )
        .await;
    assert_ok(&body);
    let almost: Vec<Permission> = Permission::ALL
        .iter()
        .copied()
        .filter(|p| *p != Permission::BackupsDownload)
        .collect();
    let deputy_email = app
        .database
        .user_with_permissions(owner.tenant, &almost)
        .await;
    let deputy = app.login(&deputy_email, TEST_PASSWORD).await;
    let (_, body) = app
        .graphql_in(
            Some(&deputy),
            set,
            json!({ "id": second_owner, "g": [], "r": [] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["permission"],
        "BACKUPS_DOWNLOAD"
    );
}

async fn an_organisation_keeps_an_active_owner(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let owner_id = user_id(&app, &owner.session, &owner.email).await;
    let viewer_role = role_id(&app, &owner.session, "Viewer").await;
    let attempts = [
        (
            "mutation ($id: ID!, $role: ID!) { changeUserRole(input: {id: $id, roleId: $role}) { user { id } } }",
            json!({ "id": owner_id, "role": viewer_role }),
        ),
        (
            "mutation ($id: ID!) { deactivateUser(input: {id: $id}) { user { id } } }",
            json!({ "id": owner_id }),
        ),
        (
            "mutation ($id: ID!) { setUserOverrides(input: {id: $id, grant: [], revoke: [AUDIT_VIEW]}) { user { id } } }",
            json!({ "id": owner_id }),
        ),
    ];
    for (document, variables) in &attempts {
        let (_, body) = app
            .graphql_in(Some(&owner.session), document, variables.clone())
            .await;
        assert_eq!(error_code(&body), Some("CONFLICT"), "{document}: {body}");
    }
    assert_eq!(me(&app, &owner.session).await["role"]["name"], "Owner");

    // With a second owner, the first may step down.
    let (_, _, _second) = colleague(&app, &owner.session, "Owner").await;
    let (_, body) = app
        .graphql_in(Some(&owner.session), attempts[0].0, attempts[0].1.clone())
        .await;
    assert_ok(&body);
    assert_eq!(me(&app, &owner.session).await["role"]["name"], "Viewer");
}

async fn invited_user_must_change_the_temporary_password(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let (_, temporary) = invite(&app, &owner.session, "new@alpha.example", "Manager").await;
    let first = app.login("new@alpha.example", &temporary).await;
    assert_eq!(me(&app, &first).await["mustChangePassword"], true);
    let (_, body) = app
        .graphql_in(Some(&first), "{ users { nodes { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("changePassword")
    );
    assert_eq!(
        body["errors"][0]["extensions"]["reason"], "PASSWORD_CHANGE_REQUIRED",
        "told apart from a missing permission: {body}"
    );
    // Rules apply to the new password: too short, common, then fine.
    for (new, expected) in [
        ("short", Some("BAD_USER_INPUT")),
        ("1q2w3e4r5t6y7u8i9o0p", Some("BAD_USER_INPUT")),
        (TEST_PASSWORD, None),
    ] {
        let (_, body) = app
            .graphql_in(
                Some(&first),
                "mutation ($c: String!, $n: String!) { changePassword(input: {current: $c, new: $n}) { user { id } userErrors { field message code } } }",
                json!({ "c": temporary, "n": new }),
            )
            .await;
        // A rule broken is the caller's to fix: reported in `userErrors`, not as an error.
        assert!(body["errors"].is_null(), "{new}: {body}");
        assert_eq!(
            body["data"]["changePassword"]["userErrors"][0]["code"].as_str(),
            expected,
            "{new}: {body}"
        );
        if expected.is_some() {
            assert_eq!(
                body["data"]["changePassword"]["userErrors"][0]["field"], "new",
                "{body}"
            );
        }
    }
    let (_, body) = app
        .graphql_in(Some(&first), "{ users { nodes { id } } }", json!({}))
        .await;
    assert_ok(&body);
    // The temporary password no longer works.
    assert!(
        app.try_login("new@alpha.example", &temporary)
            .await
            .is_err()
    );
}

async fn overrides_grant_and_revoke(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let (id, _, session) = colleague(&app, &owner.session, "Viewer").await;
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($id: ID!) { setUserOverrides(input: {id: $id, grant: [STOCK_ADJUST, AUDIT_VIEW], revoke: [PRODUCTS_VIEW, AUDIT_VIEW]}) { user { permissions granted revoked } } }",
            json!({ "id": id }),
        )
        .await;
    assert_ok(&body);
    let me = me(&app, &session).await;
    let permissions: Vec<&str> = me["permissions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(permissions.contains(&"STOCK_ADJUST"));
    assert!(
        !permissions.contains(&"PRODUCTS_VIEW"),
        "revoked from the role"
    );
    assert!(
        !permissions.contains(&"AUDIT_VIEW"),
        "a revoke beats a grant"
    );
    // The change applies to the live session at once.
    let (_, body) = app
        .graphql_in(
            Some(&session),
            "{ auditEvents { edges { node { action } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
}

async fn deactivation_ends_sessions_at_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let (id, email, session) = colleague(&app, &owner.session, "Operator").await;
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($id: ID!) { deactivateUser(input: {id: $id}) { user { active } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["deactivateUser"]["user"]["active"], false,
        "{body}"
    );
    let (_, body) = app.graphql_in(Some(&session), ME, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    assert!(app.try_login(&email, TEST_PASSWORD).await.is_err());
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($id: ID!) { reactivateUser(input: {id: $id}) { user { active } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["reactivateUser"]["user"]["active"], true,
        "{body}"
    );
    // Sessions ended by deactivation stay ended; a new sign-in works.
    let (_, body) = app.graphql_in(Some(&session), ME, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    app.login(&email, TEST_PASSWORD).await;
}

async fn password_change_ends_other_sessions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let laptop = app.login(&owner.email, TEST_PASSWORD).await;
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($c: String!, $n: String!) { changePassword(input: {current: $c, new: $n}) { user { id } userErrors { field message code } } }",
            json!({ "c": TEST_PASSWORD, "n": "a brand new passphrase here" }),
        )
        .await;
    assert!(
        body["data"]["changePassword"]["user"]["id"].is_string(),
        "{body}"
    );
    me(&app, &owner.session).await;
    let (_, body) = app.graphql_in(Some(&laptop), ME, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    // A wrong current password changes nothing.
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($c: String!, $n: String!) { changePassword(input: {current: $c, new: $n}) { user { id } userErrors { field message code } } }",
            json!({ "c": "not my password at all", "n": "another new passphrase" }),
        )
        .await;
    assert_eq!(
        body["data"]["changePassword"]["userErrors"][0]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert!(body["data"]["changePassword"]["user"].is_null(), "{body}");
    app.login(&owner.email, "a brand new passphrase here").await;
    // Guessing the current password counts against the account like failed sign-ins: after the
    // limit (5 by default) the account is locked, and each failure is in the audit log.
    let mut locked = None;
    for guess in 0..6 {
        let (_, body) = app
            .graphql_in(
                Some(&owner.session),
                "mutation ($c: String!, $n: String!) { changePassword(input: {current: $c, new: $n}) { user { id } } }",
                json!({ "c": format!("guess number {guess}"), "n": "another new passphrase" }),
            )
            .await;
        if body["errors"][0]["extensions"]["reason"] == "LOCKED_OUT" {
            locked = Some(guess);
            break;
        }
    }
    // The sign-in just before reset the count: five wrong guesses lock, the fifth says so.
    assert_eq!(locked, Some(4), "locked after {locked:?}");
    let (_, log) = app
        .graphql_in(
            Some(&owner.session),
            "{ auditEvents(filter: {action: \"user.password_change\"}) { nodes { outcome } } }",
            json!({}),
        )
        .await;
    let failures = log["data"]["auditEvents"]["nodes"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["outcome"] == "FAILURE")
        .count();
    // One wrong guess earlier in this test, five now.
    assert_eq!(failures, 6, "{log}");
    // The lock holds for sign-in too.
    assert!(
        app.try_login(&owner.email, "a brand new passphrase here")
            .await
            .is_err()
    );
}

async fn sessions_can_be_listed_and_revoked(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = app.member_of_new_organisation("Alpha").await;
    let beta = app.member_of_new_organisation("Beta").await;
    let phone = app.login(&alpha.email, TEST_PASSWORD).await;
    let (_, body) = app
        .graphql_in(
            Some(&alpha.session),
            "{ mySessions { nodes { id current clientAddress } } }",
            json!({}),
        )
        .await;
    let sessions = body["data"]["mySessions"]["nodes"]
        .as_array()
        .expect("sessions")
        .clone();
    assert_eq!(sessions.len(), 2, "{body}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions
        .iter()
        .find(|s| s["current"] == false)
        .expect("phone")["id"]
        .clone();

    // Beta cannot end Alpha's session: it does not exist for Beta.
    let (_, body) = app
        .graphql_in(
            Some(&beta.session),
            "mutation ($id: ID!) { revokeSession(input: {id: $id}) { sessionId } }",
            json!({ "id": other }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let (_, body) = app
        .graphql_in(
            Some(&alpha.session),
            "mutation ($id: ID!) { revokeSession(input: {id: $id}) { sessionId } }",
            json!({ "id": other }),
        )
        .await;
    assert!(
        body["data"]["revokeSession"]["sessionId"].is_string(),
        "{body}"
    );
    let (_, body) = app.graphql_in(Some(&phone), ME, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

async fn another_organisations_ids_are_not_found(backend: Backend) {
    let app = TestApp::start(backend).await;
    let alpha = app.member_of_new_organisation("Alpha").await;
    let beta = app.member_of_new_organisation("Beta").await;
    let beta_user = user_id(&app, &beta.session, &beta.email).await;
    let beta_role = role_id(&app, &beta.session, "Viewer").await;
    let alpha_user = user_id(&app, &alpha.session, &alpha.email).await;
    let missing = gid(entity::UserId::generate());
    let missing_role = gid(entity::RoleId::generate());
    let cases = [
        (
            "query ($id: ID!) { user(id: $id) { id } }",
            json!({ "id": beta_user }),
            json!({ "id": missing }),
        ),
        (
            "mutation ($id: ID!) { deactivateUser(input: {id: $id}) { user { id } } }",
            json!({ "id": beta_user }),
            json!({ "id": missing }),
        ),
        (
            "mutation ($id: ID!) { reactivateUser(input: {id: $id}) { user { id } } }",
            json!({ "id": beta_user }),
            json!({ "id": missing }),
        ),
        (
            "mutation ($id: ID!) { resetUserPassword(input: {id: $id}) { temporaryPassword } }",
            json!({ "id": beta_user }),
            json!({ "id": missing }),
        ),
        (
            "mutation ($id: ID!) { setUserOverrides(input: {id: $id, grant: [], revoke: []}) { user { id } } }",
            json!({ "id": beta_user }),
            json!({ "id": missing }),
        ),
        (
            "mutation ($id: ID!, $r: ID!) { changeUserRole(input: {id: $id, roleId: $r}) { user { id } } }",
            json!({ "id": beta_user, "r": beta_role }),
            json!({ "id": missing, "r": missing_role }),
        ),
        (
            "mutation ($id: ID!, $r: ID!) { changeUserRole(input: {id: $id, roleId: $r}) { user { id } } }",
            json!({ "id": alpha_user, "r": beta_role }),
            json!({ "id": alpha_user, "r": missing_role }),
        ),
        (
            "mutation ($r: ID!) { inviteUser(input: { email: \"x@alpha.example\", roleId: $r }) { temporaryPassword } }",
            json!({ "r": beta_role }),
            json!({ "r": missing_role }),
        ),
        (
            "mutation ($id: ID!) { updateRole(input: { id: $id, name: \"x\", permissions: [] }) { role { id } } }",
            json!({ "id": beta_role }),
            json!({ "id": missing_role }),
        ),
        (
            "mutation ($id: ID!) { deleteRole(input: {id: $id}) { roleId } }",
            json!({ "id": beta_role }),
            json!({ "id": missing_role }),
        ),
    ];
    for (document, theirs, nobodys) in cases {
        let (_, foreign) = app.graphql_in(Some(&alpha.session), document, theirs).await;
        let (_, absent) = app
            .graphql_in(Some(&alpha.session), document, nobodys)
            .await;
        assert_eq!(
            error_code(&foreign),
            Some("NOT_FOUND"),
            "{document}: {foreign}"
        );
        assert_eq!(
            foreign["errors"][0]["message"], absent["errors"][0]["message"],
            "{document}"
        );
    }
    // Beta is untouched.
    assert_eq!(me(&app, &beta.session).await["role"]["name"], "Owner");
}

async fn custom_roles_lifecycle(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation { createRole(input: { name: \"Auditor\", description: \"Reads the log\", permissions: [AUDIT_VIEW, AUDIT_VERIFY] }) { role { id name permissions builtin } } }",
            json!({}),
        )
        .await;
    let role = &body["data"]["createRole"]["role"];
    assert_eq!(
        role["permissions"],
        json!(["AUDIT_VIEW", "AUDIT_VERIFY"]),
        "{body}"
    );
    assert_eq!(role["builtin"], false);
    let id = role["id"].as_str().expect("id").to_owned();
    let (_, duplicate) = app
        .graphql_in(
            Some(&owner.session),
            "mutation { createRole(input: { name: \"Auditor\", permissions: [] }) { role { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&duplicate), Some("CONFLICT"));
    let (_, updated) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($id: ID!) { updateRole(input: { id: $id, name: \"Auditor\", permissions: [AUDIT_VIEW] }) { role { permissions } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        updated["data"]["updateRole"]["role"]["permissions"],
        json!(["AUDIT_VIEW"]),
        "{updated}"
    );
    // Owner cannot be edited; built-ins cannot be deleted.
    let owner_role = role_id(&app, &owner.session, "Owner").await;
    let (_, body) = app
        .graphql_in(Some(&owner.session), "mutation ($id: ID!) { updateRole(input: { id: $id, name: \"Owner\", permissions: [] }) { role { id } } }", json!({ "id": owner_role }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($id: ID!) { deleteRole(input: {id: $id}) { roleId } }",
            json!({ "id": owner_role }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    // A held role cannot be deleted; a free one can.
    let (user, _, _) = colleague(&app, &owner.session, "Auditor").await;
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($id: ID!) { deleteRole(input: {id: $id}) { roleId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let viewer = role_id(&app, &owner.session, "Viewer").await;
    app.ok(
        &owner.session,
        "mutation ($id: ID!, $r: ID!) { changeUserRole(input: {id: $id, roleId: $r}) { user { id } userErrors { field message } } }",
        json!({ "id": user, "r": viewer }),
    )
    .await;
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($id: ID!) { deleteRole(input: {id: $id}) { roleId } }",
            json!({ "id": id }),
        )
        .await;
    assert!(body["data"]["deleteRole"]["roleId"].is_string(), "{body}");
}

async fn audit_viewer_filters_and_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let (user, _, _) = colleague(&app, &owner.session, "Viewer").await;
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "mutation ($id: ID!) { resetUserPassword(input: {id: $id}) { temporaryPassword } }",
            json!({ "id": user }),
        )
        .await;
    let temporary = body["data"]["resetUserPassword"]["temporaryPassword"]
        .as_str()
        .expect("password")
        .to_owned();

    let page = "query ($first: Int, $after: String, $filter: AuditEventFilter) {
        auditEvents(first: $first, after: $after, filter: $filter) {
            edges { cursor node { sequence action outcome entityType entityId actor { kind label } detail } }
            pageInfo { hasNextPage endCursor }
        } }";
    // Page through everything, three at a time, newest first.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (_, body) = app
            .graphql_in(
                Some(&owner.session),
                page,
                json!({ "first": 3, "after": after }),
            )
            .await;
        let events = &body["data"]["auditEvents"];
        assert_ok(&body);
        for edge in events["edges"].as_array().expect("edges") {
            seen.push(edge["node"]["sequence"].as_i64().expect("seq"));
        }
        if events["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = events["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let expected: Vec<i64> = (1..=seen.len() as i64).rev().collect();
    assert_eq!(seen, expected, "every event once, newest first");
    assert!(seen.len() >= 6);

    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            page,
            json!({ "filter": { "action": "user.password_reset", "entityId": user } }),
        )
        .await;
    let edges = body["data"]["auditEvents"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(edges.len(), 1, "{body}");
    let reset = &edges[0]["node"];
    assert_eq!(reset["actor"]["label"], owner.email);
    // The log shows the same id the API uses for the user.
    assert_eq!(reset["entityId"], user.as_str());
    assert_eq!(reset["detail"]["after"]["mustChangePassword"], true);
    // No secret anywhere in the log.
    let (_, everything) = app
        .graphql_in(Some(&owner.session), page, json!({ "first": 100 }))
        .await;
    let text = everything.to_string();
    assert!(
        !text.contains(&temporary) && !text.contains(TEST_PASSWORD) && !text.contains("pbkdf2")
    );

    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            page,
            json!({ "filter": { "entityType": "role" } }),
        )
        .await;
    assert!(
        body["data"]["auditEvents"]["edges"]
            .as_array()
            .expect("edges")
            .is_empty()
    );
    let (_, body) = app
        .graphql_in(Some(&owner.session), page, json!({ "first": 101 }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let (_, body) = app
        .graphql_in(
            Some(&owner.session),
            "{ verifyAuditChain { intact eventsChecked firstBrokenSequence } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["verifyAuditChain"]["intact"], true, "{body}");
    assert_eq!(
        body["data"]["verifyAuditChain"]["eventsChecked"],
        seen.len() as i64
    );
}

/// Two owners demoting each other at the same moment, over and over: one must always remain.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_demotions_leave_an_owner() {
    let checks = crate::support::Checks::begin();
    let app = TestApp::start(Backend::Postgres).await;
    let demote = "mutation ($id: ID!, $r: ID!) { changeUserRole(input: {id: $id, roleId: $r}) { user { id } } }";
    for round in 0..10 {
        let first = app
            .member_of_new_organisation(&format!("Alpha {round}"))
            .await;
        let (second_id, _, second) = colleague(&app, &first.session, "Owner").await;
        let first_id = user_id(&app, &first.session, &first.email).await;
        let viewer = role_id(&app, &first.session, "Viewer").await;
        let (a, b) = tokio::join!(
            app.graphql_in(
                Some(&first.session),
                demote,
                json!({ "id": second_id, "r": viewer })
            ),
            app.graphql_in(
                Some(&second),
                demote,
                json!({ "id": first_id, "r": viewer })
            ),
        );
        let succeeded = [&a.1, &b.1]
            .iter()
            .filter(|body| crate::support::reply::succeeded(body))
            .count();
        assert_eq!(
            succeeded, 1,
            "round {round}: exactly one demotion may succeed: {a:?} {b:?}"
        );
    }
    checks.finish().await;
}
