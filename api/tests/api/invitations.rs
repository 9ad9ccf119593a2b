//! Invitations over HTTP, with the emails read from a real SMTP server:
//! an admin invites, the invitee accepts (with a new account or an existing
//! one), revoked and used links stop working, and no tenant reaches
//! another's invitations.

use std::sync::OnceLock;

use serde_json::{json, Value};
use sqlx::Connection;

use crate::helpers::{access_token, assert_error, spawn_app, TestApp};

const PASSWORD: &str = "invitations test passphrase";

fn hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| api::password::hash(PASSWORD).unwrap())
}

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
    testkit::seed_member(&app.db, acme, "ada@acme.test", hash(), "admin").await.unwrap();
    testkit::seed_member(&app.db, acme, "cyd@acme.test", hash(), "viewer").await.unwrap();
    testkit::seed_member(&app.db, globex, "mal@globex.test", hash(), "admin").await.unwrap();
    let admin = access_token(&app, "ada@acme.test", PASSWORD).await;
    let viewer = access_token(&app, "cyd@acme.test", PASSWORD).await;
    let other_admin = access_token(&app, "mal@globex.test", PASSWORD).await;
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
    assert!(email.subject().contains("Tenant acme"), "{}", email.data);
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
async fn an_invitee_with_an_account_joins_without_a_password() {
    let w = world().await;
    invite(&w, &w.admin, "mal@globex.test", "viewer").await;
    let token = w.app.mail.wait_for("mal@globex.test", 1).await.unwrap().code().unwrap();
    let with_password = accept(&w, json!({ "token": token, "password": "some new passphrase" })).await;
    assert_error(with_password, 409, "account_exists").await;
    let accepted = accept(&w, json!({ "token": token })).await;
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
    let bad = invite(&w, &w.admin, "not an email", "owner").await;
    let body = assert_error(bad, 400, "validation_failed").await;
    assert_eq!(body["error"]["details"].as_array().unwrap().len(), 2, "{body}");
}
