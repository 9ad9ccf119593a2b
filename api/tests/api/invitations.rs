//! Invitations over HTTP, with the emails read from a real SMTP server:
//! an admin invites, the invitee accepts (with a new account, or signed in
//! as the existing one), revoked and used links stop working, emails are
//! capped and their subject is fixed, and no tenant reaches another's
//! invitations.

use serde_json::{json, Value};
use sqlx::Connection;

use crate::helpers::{access_token, assert_error, password_hash, spawn_app, TestApp, PASSWORD};

struct World {
    app: TestApp,
    admin: String,
    viewer: String,
    other_admin: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let acme = testkit::seed_tenant(&app.db, "acme", 0).await.unwrap();
    let globex = testkit::seed_tenant(&app.db, "globex", 0).await.unwrap();
    let admin = app.member(acme, "ada@acme.test", "admin").await;
    let viewer = app.member(acme, "cyd@acme.test", "viewer").await;
    let other_admin = app.member(globex, "mal@globex.test", "admin").await;
    World { app, admin, viewer, other_admin }
}

async fn invite(w: &World, token: &str, email: &str, role: &str) -> reqwest::Response {
    w.app
        .client
        .post(w.app.url("/api/invitations"))
        .bearer_auth(token)
        .json(&json!({ "email": email, "role": role }))
        .send()
        .await
        .unwrap()
}

async fn accept(w: &World, body: Value) -> reqwest::Response {
    w.app.client.post(w.app.url("/api/invitations/accept")).json(&body).send().await.unwrap()
}

async fn accept_as(w: &World, access: &str, body: Value) -> reqwest::Response {
    w.app.client.post(w.app.url("/api/invitations/accept")).bearer_auth(access).json(&body).send().await.unwrap()
}

async fn list(w: &World, token: &str) -> Value {
    let r = w.app.client.get(w.app.url("/api/invitations")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn members(w: &World, token: &str) -> Vec<String> {
    let body: Value =
        w.app.client.get(w.app.url("/api/users")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}:{}", m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect()
}

async fn count(w: &World, sql: &str) -> i64 {
    let mut conn = sqlx::PgConnection::connect(&w.app.db.superuser_url).await.unwrap();
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

#[tokio::test]
async fn an_invitee_without_an_account_creates_one_and_joins_with_the_role() {
    let w = world().await;
    let created = invite(&w, &w.admin, "New.Person@Example.test", "user").await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["email"], "new.person@example.test");
    assert_eq!(created["status"], "pending");
    assert!(created.get("token").is_none() && created.get("token_hash").is_none(), "{created}");

    let email = w.app.mail.wait_for("new.person@example.test", 1).await.unwrap();
    // A fixed subject: the tenant's name (the inviter's text) stays in the body.
    assert_eq!(email.subject(), api::emails::INVITATION_SUBJECT, "{}", email.data);
    assert!(email.data.contains("Tenant acme"), "{}", email.data);
    assert!(email.data.contains("/accept-invitation#token="), "{}", email.data);
    let token = email.code().unwrap();

    let no_password = accept(&w, json!({ "token": token })).await;
    let body = assert_error(no_password, 400, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "password");
    let weak = accept(&w, json!({ "token": token, "password": "password" })).await;
    assert_error(weak, 400, "validation_failed").await;

    let accepted =
        accept(&w, json!({ "token": token, "password": "the invitee's passphrase", "display_name": "Nu" })).await;
    assert_eq!(accepted.status(), 200);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["created_account"], true);
    assert_eq!(accepted["role"], "user");

    let again = accept(&w, json!({ "token": token })).await;
    assert_error(again, 400, "invalid_token").await;
    let invitee = access_token(&w.app, "new.person@example.test", "the invitee's passphrase").await;
    assert!(members(&w, &invitee).await.contains(&"new.person@example.test:user".to_owned()));
    let listed = list(&w, &w.admin).await;
    let row = listed["items"].as_array().unwrap().iter().find(|i| i["id"] == created["id"]).unwrap().clone();
    assert_eq!(row["status"], "accepted");
    for action in ["invitation.created", "invitation.accepted"] {
        assert_eq!(
            count(&w, &format!("SELECT count(*) FROM audit_log WHERE action = '{action}'")).await,
            1,
            "{action}"
        );
    }
}

#[tokio::test]
async fn an_invitee_with_an_account_joins_only_signed_in_as_that_account() {
    let w = world().await;
    invite(&w, &w.admin, "mal@globex.test", "viewer").await;
    let token = w.app.mail.wait_for("mal@globex.test", 1).await.unwrap().code().unwrap();
    let with_password = accept(&w, json!({ "token": token, "password": "some new passphrase" })).await;
    assert_error(with_password, 409, "account_exists").await;
    // The link alone does not add an existing account to a tenant (a mail
    // scanner, or whoever read the email, would otherwise join it).
    assert_error(accept(&w, json!({ "token": token })).await, 401, "sign_in_required").await;
    // Nor does someone else's session.
    assert_error(accept_as(&w, &w.viewer, json!({ "token": token })).await, 403, "wrong_account").await;
    assert_eq!(count(&w, "SELECT count(*) FROM invitations WHERE accepted_at IS NOT NULL").await, 0);
    let accepted = accept_as(&w, &w.other_admin, json!({ "token": token })).await;
    assert_eq!(accepted.status(), 200);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["created_account"], false);
    // The old password still works; the user now picks between two tenants.
    let login = w
        .app
        .client
        .post(w.app.url("/api/auth/login"))
        .json(&json!({ "email": "mal@globex.test", "password": PASSWORD, "tenant": "acme", "token_delivery": "body" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["tenant"]["role"], "viewer");
}

#[tokio::test]
async fn a_revoked_invitation_cannot_be_accepted() {
    let w = world().await;
    let created: Value = invite(&w, &w.admin, "late@example.test", "user").await.json().await.unwrap();
    let token = w.app.mail.wait_for("late@example.test", 1).await.unwrap().code().unwrap();
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/invitations/{id}");
    let revoked = w.app.client.delete(w.app.url(&path)).bearer_auth(&w.admin).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    let twice = w.app.client.delete(w.app.url(&path)).bearer_auth(&w.admin).send().await.unwrap();
    assert_error(twice, 404, "not_found").await;
    assert_error(accept(&w, json!({ "token": token, "password": "a good passphrase" })).await, 400, "invalid_token")
        .await;
    assert_eq!(count(&w, "SELECT count(*) FROM users WHERE email = 'late@example.test'").await, 0);
    assert_eq!(count(&w, "SELECT count(*) FROM audit_log WHERE action = 'invitation.revoked'").await, 1);
    // Revoked, the email may be invited again.
    assert_eq!(invite(&w, &w.admin, "late@example.test", "user").await.status(), 201);
}

#[tokio::test]
async fn expired_invitations_cannot_be_accepted_and_may_be_renewed() {
    let w = world().await;
    invite(&w, &w.admin, "slow@example.test", "user").await;
    let token = w.app.mail.wait_for("slow@example.test", 1).await.unwrap().code().unwrap();
    assert_error(invite(&w, &w.admin, "slow@example.test", "viewer").await, 409, "conflict").await;
    count(&w, "WITH u AS (UPDATE invitations SET expires_at = now() - interval '1 second' WHERE email = 'slow@example.test' RETURNING 1) SELECT count(*) FROM u").await;
    assert_error(accept(&w, json!({ "token": token, "password": "a good passphrase" })).await, 400, "invalid_token")
        .await;
    let listed = list(&w, &w.admin).await;
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["email"] == "slow@example.test" && i["status"] == "expired"));
    assert_eq!(invite(&w, &w.admin, "slow@example.test", "viewer").await.status(), 201);
}

#[tokio::test]
async fn only_admins_invite_and_no_tenant_reaches_another_tenants_invitations() {
    let w = world().await;
    assert_error(invite(&w, &w.viewer, "x@example.test", "user").await, 403, "forbidden").await;
    let listing = w.app.client.get(w.app.url("/api/invitations")).bearer_auth(&w.viewer).send().await.unwrap();
    assert_error(listing, 403, "forbidden").await;

    let created: Value = invite(&w, &w.admin, "x@example.test", "user").await.json().await.unwrap();
    let path = format!("/api/invitations/{}", created["id"].as_str().unwrap());
    let foreign = w.app.client.delete(w.app.url(&path)).bearer_auth(&w.other_admin).send().await.unwrap();
    assert_error(foreign, 404, "not_found").await;
    let others = list(&w, &w.other_admin).await;
    assert!(others["items"].as_array().unwrap().iter().all(|i| i["email"] != "x@example.test"), "{others}");
    assert_eq!(
        count(&w, "SELECT count(*) FROM invitations WHERE email = 'x@example.test' AND revoked_at IS NULL").await,
        1
    );

    // No one picks the tenant or sets the status through the body.
    let smuggled = w
        .app
        .client
        .post(w.app.url("/api/invitations"))
        .bearer_auth(&w.admin)
        .json(&json!({ "email": "y@example.test", "role": "user", "tenant_id": uuid::Uuid::new_v4() }))
        .send()
        .await
        .unwrap();
    assert_error(smuggled, 400, "validation_failed").await;
    // A member's email is not invited again.
    assert_error(invite(&w, &w.admin, "CYD@acme.test", "admin").await, 409, "already_member").await;
    for (email, role, field) in [("x@example.test", "owner", "role"), ("not an email", "user", "email")] {
        let body = assert_error(invite(&w, &w.admin, email, role).await, 400, "validation_failed").await;
        assert_eq!(body["error"]["details"][0]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn invitation_emails_to_one_address_are_capped_revocations_included() {
    // A per-minute budget high enough that only the daily caps bite.
    let app = crate::helpers::spawn_app_with(vec![("APP_ONBOARDING_LIMIT_PER_MINUTE", Some("300".into()))]).await;
    let acme = testkit::seed_tenant(&app.db, "acme", 0).await.unwrap();
    testkit::seed_member(&app.db, acme, "ada@acme.test", password_hash(), "admin").await.unwrap();
    let admin = access_token(&app, "ada@acme.test", PASSWORD).await;
    crate::helpers::wait_for_fresh_rate_window().await;
    let (mut created, mut refused) = (0, 0);
    for _ in 0..25 {
        let response = app
            .client
            .post(app.url("/api/invitations"))
            .bearer_auth(&admin)
            .json(&json!({ "email": "target@example.test", "role": "user" }))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            201 => {
                created += 1;
                // Revoke and invite again: each new invitation is a new email.
                let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
                let path = format!("/api/invitations/{id}");
                assert_eq!(app.client.delete(app.url(&path)).bearer_auth(&admin).send().await.unwrap().status(), 204);
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
    let app = crate::helpers::spawn_app_with(vec![("APP_INVITATIONS_PER_TENANT_PER_DAY", Some("3".into()))]).await;
    let acme = testkit::seed_tenant(&app.db, "acme", 0).await.unwrap();
    testkit::seed_member(&app.db, acme, "ada@acme.test", password_hash(), "admin").await.unwrap();
    let admin = access_token(&app, "ada@acme.test", PASSWORD).await;
    let invite = |i: u32| {
        let request = app
            .client
            .post(app.url("/api/invitations"))
            .bearer_auth(&admin)
            .json(&json!({ "email": format!("person{i}@example.test"), "role": "viewer" }));
        async move { request.send().await.unwrap() }
    };
    for i in 0..3 {
        assert_eq!(invite(i).await.status(), 201);
    }
    assert_error(invite(3).await, 429, "too_many_invitations").await;
    assert_eq!(
        count_in(&app, "SELECT count(*) FROM invitations WHERE email = 'person3@example.test'").await,
        0,
        "a refused invitation is not stored"
    );
}

async fn count_in(app: &TestApp, sql: &str) -> i64 {
    let mut conn = sqlx::PgConnection::connect(&app.db.superuser_url).await.unwrap();
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}
