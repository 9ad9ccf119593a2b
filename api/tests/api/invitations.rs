//! Invitations over HTTP, with the emails read from a real SMTP server:
//! an admin invites, the invitee accepts (with a new account, or signed in
//! as the existing one), revoked and used links stop working, emails are
//! capped and their subject is fixed, and no tenant reaches another's
//! invitations.

use api::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_error, spawn_app, spawn_app_with, wait_for_fresh_rate_window, PASSWORD};

const ACCEPT: &str = "/api/invitations/accept";

#[tokio::test]
async fn an_invitee_without_an_account_creates_one_and_joins_with_the_role() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let created = app.invite(&t.admin.token, "New.Person@Example.test", Role::User).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["email"], "new.person@example.test");
    assert_eq!(created["status"], "pending");
    assert!(created.get("token").is_none() && created.get("token_hash").is_none(), "{created}");

    let email = app.mail.wait_for("new.person@example.test", 1).await.unwrap();
    // A fixed subject: the tenant's name (the inviter's text) stays in the body.
    assert_eq!(email.subject(), api::emails::INVITATION_SUBJECT, "{}", email.data);
    assert!(email.data.contains("Tenant acme"), "{}", email.data);
    assert!(email.data.contains("/accept-invitation#token="), "{}", email.data);
    let token = email.code().unwrap();

    let no_password = app.post(ACCEPT, json!({ "token": token })).await;
    let body = assert_error(no_password, 400, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "password");
    let weak = app.post(ACCEPT, json!({ "token": token, "password": "password" })).await;
    assert_error(weak, 400, "validation_failed").await;

    let accepted =
        app.post(ACCEPT, json!({ "token": token, "password": "the invitee's passphrase", "display_name": "Nu" })).await;
    assert_eq!(accepted.status(), 200);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["created_account"], true);
    assert_eq!(accepted["role"], "user");

    let again = app.post(ACCEPT, json!({ "token": token })).await;
    assert_error(again, 400, "invalid_token").await;
    let invitee = access_token(&app, "new.person@example.test", "the invitee's passphrase").await;
    let members: Vec<String> = app
        .list_members(&invitee)
        .await
        .iter()
        .map(|m| format!("{}:{}", m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert!(members.contains(&"new.person@example.test:user".to_owned()));
    let row = app.list_invitations(&t.admin.token).await.into_iter().find(|i| i["id"] == created["id"]).unwrap();
    assert_eq!(row["status"], "accepted");
    for action in ["invitation.created", "invitation.accepted"] {
        assert_eq!(
            app.select_i64(&format!("SELECT count(*) FROM audit_log WHERE action = '{action}'")).await,
            1,
            "{action}"
        );
    }
}

#[tokio::test]
async fn an_invitee_with_an_account_joins_only_signed_in_as_that_account() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    app.invite(&t.admin.token, "mal@globex.test", Role::Viewer).await;
    let token = app.mail.wait_for("mal@globex.test", 1).await.unwrap().code().unwrap();
    let with_password = app.post(ACCEPT, json!({ "token": token, "password": "some new passphrase" })).await;
    assert_error(with_password, 409, "account_exists").await;
    // The link alone does not add an existing account to a tenant (a mail
    // scanner, or whoever read the email, would otherwise join it).
    assert_error(app.post(ACCEPT, json!({ "token": token })).await, 401, "sign_in_required").await;
    // Nor does someone else's session.
    assert_error(app.bearer_post(ACCEPT, &t.viewer.token, json!({ "token": token })).await, 403, "wrong_account").await;
    assert_eq!(app.select_i64("SELECT count(*) FROM invitations WHERE accepted_at IS NOT NULL").await, 0);
    let accepted = app.bearer_post(ACCEPT, &t.other_admin.token, json!({ "token": token })).await;
    assert_eq!(accepted.status(), 200);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["created_account"], false);
    // The old password still works; the user now picks between two tenants.
    let login = app
        .post(
            "/api/auth/login",
            json!({ "email": "mal@globex.test", "password": PASSWORD, "tenant": "acme", "token_delivery": "body" }),
        )
        .await;
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["tenant"]["role"], "viewer");
}

#[tokio::test]
async fn a_revoked_invitation_cannot_be_accepted() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let created: Value = app.invite(&t.admin.token, "late@example.test", Role::User).await.json().await.unwrap();
    let token = app.mail.wait_for("late@example.test", 1).await.unwrap().code().unwrap();
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/invitations/{id}");
    assert_eq!(app.bearer_delete(&path, &t.admin.token).await.status(), 204);
    assert_error(app.bearer_delete(&path, &t.admin.token).await, 404, "not_found").await;
    assert_error(
        app.post(ACCEPT, json!({ "token": token, "password": "a good passphrase" })).await,
        400,
        "invalid_token",
    )
    .await;
    assert_eq!(app.select_i64("SELECT count(*) FROM users WHERE email = 'late@example.test'").await, 0);
    assert_eq!(app.select_i64("SELECT count(*) FROM audit_log WHERE action = 'invitation.revoked'").await, 1);
    // Revoked, the email may be invited again.
    assert_eq!(app.invite(&t.admin.token, "late@example.test", Role::User).await.status(), 201);
}

#[tokio::test]
async fn expired_invitations_cannot_be_accepted_and_may_be_renewed() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    app.invite(&t.admin.token, "slow@example.test", Role::User).await;
    let token = app.mail.wait_for("slow@example.test", 1).await.unwrap().code().unwrap();
    assert_error(app.invite(&t.admin.token, "slow@example.test", Role::Viewer).await, 409, "conflict").await;
    app.execute_sql(
        "UPDATE invitations SET expires_at = now() - interval '1 second' WHERE email = 'slow@example.test'",
    )
    .await;
    assert_error(
        app.post(ACCEPT, json!({ "token": token, "password": "a good passphrase" })).await,
        400,
        "invalid_token",
    )
    .await;
    let listed = app.list_invitations(&t.admin.token).await;
    assert!(listed.iter().any(|i| i["email"] == "slow@example.test" && i["status"] == "expired"));
    assert_eq!(app.invite(&t.admin.token, "slow@example.test", Role::Viewer).await.status(), 201);
}

#[tokio::test]
async fn only_admins_invite_and_no_tenant_reaches_another_tenants_invitations() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    assert_error(app.invite(&t.viewer.token, "x@example.test", Role::User).await, 403, "forbidden").await;
    assert_error(app.bearer_get("/api/invitations", &t.viewer.token).await, 403, "forbidden").await;

    let created: Value = app.invite(&t.admin.token, "x@example.test", Role::User).await.json().await.unwrap();
    let path = format!("/api/invitations/{}", created["id"].as_str().unwrap());
    assert_error(app.bearer_delete(&path, &t.other_admin.token).await, 404, "not_found").await;
    let others = app.list_invitations(&t.other_admin.token).await;
    assert!(others.iter().all(|i| i["email"] != "x@example.test"), "{others:?}");
    assert_eq!(
        app.select_i64("SELECT count(*) FROM invitations WHERE email = 'x@example.test' AND revoked_at IS NULL").await,
        1
    );

    // No one picks the tenant or sets the status through the body.
    let smuggled = json!({ "email": "y@example.test", "role": "user", "tenant_id": uuid::Uuid::new_v4() });
    let smuggled = app.bearer_post("/api/invitations", &t.admin.token, smuggled).await;
    assert_error(smuggled, 400, "validation_failed").await;
    // A member's email is not invited again.
    assert_error(app.invite(&t.admin.token, "CYD@acme.test", Role::Admin).await, 409, "already_member").await;
    for (email, role, field) in [("x@example.test", "owner", "role"), ("not an email", "user", "email")] {
        let invite = app.bearer_post("/api/invitations", &t.admin.token, json!({ "email": email, "role": role })).await;
        let body = assert_error(invite, 400, "validation_failed").await;
        assert_eq!(body["error"]["details"][0]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn invitation_emails_to_one_address_are_capped_revocations_included() {
    // A per-minute budget high enough that only the daily caps bite.
    let app = spawn_app_with(vec![("APP_ONBOARDING_LIMIT_PER_MINUTE", Some("300".into()))]).await;
    let admin = app.sign_in_as(Role::Admin).await.token;
    wait_for_fresh_rate_window().await;
    let (mut created, mut refused) = (0, 0);
    for _ in 0..25 {
        let response = app.invite(&admin, "target@example.test", Role::User).await;
        match response.status().as_u16() {
            201 => {
                created += 1;
                // Revoke and invite again: each new invitation is a new email.
                let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
                let path = format!("/api/invitations/{id}");
                assert_eq!(app.bearer_delete(&path, &admin).await.status(), 204);
            }
            429 => {
                assert!(response.headers().contains_key("retry-after"));
                assert_error(response, 429, "too_many_emails").await;
                refused += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created, refused), (20, 5));
    app.mail.wait_for("target@example.test", 20).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail.to("target@example.test").len(), 20, "at most the daily cap of emails");
}

#[tokio::test]
async fn a_tenant_sends_at_most_its_daily_invitations() {
    let app = spawn_app_with(vec![("APP_INVITATIONS_PER_TENANT_PER_DAY", Some("3".into()))]).await;
    let admin = app.sign_in_as(Role::Admin).await.token;
    let invite = |i: u32| {
        let email = format!("person{i}@example.test");
        let app = &app;
        let admin = &admin;
        async move { app.invite(admin, &email, Role::Viewer).await }
    };
    for i in 0..3 {
        assert_eq!(invite(i).await.status(), 201);
    }
    assert_error(invite(3).await, 429, "too_many_invitations").await;
    assert_eq!(
        app.select_i64("SELECT count(*) FROM invitations WHERE email = 'person3@example.test'").await,
        0,
        "a refused invitation is not stored"
    );
}

#[tokio::test]
async fn an_invitation_sent_again_with_its_idempotency_key_is_one_invitation_and_one_email() {
    let app = spawn_app().await;
    let ada = app.sign_in_as(Role::Admin).await;
    let send = || {
        app.client
            .post(app.url("/api/invitations"))
            .bearer_auth(&ada.token)
            .header("idempotency-key", "invite-once")
            .json(&json!({ "email": "once@example.test", "role": "user" }))
            .send()
    };
    let (first, second) = tokio::join!(send(), send());
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!((first.status().as_u16(), second.status().as_u16()), (201, 201));
    let (first, second): (Value, Value) = (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(first["id"], second["id"]);
    app.mail.wait_for("once@example.test", 1).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.mail.to("once@example.test").len(), 1, "one email");
    assert_eq!(app.select_i64("SELECT count(*) FROM invitations WHERE email = 'once@example.test'").await, 1);
}
