//! Registration with email verification, and password reset, over HTTP with
//! the emails read from a real SMTP server: the flows work end to end, the
//! tokens are single-use and expire, and known and unknown emails get the
//! same answer.

use std::time::Duration;

use api::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_error, spawn_app, spawn_app_with, wait_for_fresh_rate_window, PASSWORD};

/// The password the verifying mailbox owner chooses.
const CHOSEN: &str = "a fresh and long passphrase";

fn registration(email: &str, slug: &str) -> Value {
    json!({
        "email": email,
        "display_name": "Nia",
        "tenant_name": "Initech",
        "tenant_slug": slug,
    })
}

#[tokio::test]
async fn registering_then_verifying_creates_the_tenant_and_its_admin() {
    let app = spawn_app().await;
    let response = app.post("/api/auth/register", registration("Nia@Initech.test", "initech")).await;
    assert_eq!(response.status(), 202);
    // Nothing exists before the email is verified.
    assert_eq!(app.select_i64("SELECT count(*) FROM users WHERE email = 'nia@initech.test'").await, 0);
    assert_eq!(app.log_in("nia@initech.test", CHOSEN).await.status(), 401);

    let email = app.mail.wait_for("nia@initech.test", 1).await.unwrap();
    assert!(email.subject().contains("Verify"), "{}", email.data);
    assert!(email.data.contains("/verify-email#token="), "{}", email.data);
    let token = email.code().expect("a code in the email");

    // The password is chosen now, by whoever holds the link; a weak one is
    // refused without using the token up.
    let weak = app.post("/api/auth/verify-email", json!({ "token": token, "password": "password" })).await;
    assert_error(weak, 400, "validation_failed").await;
    let response = app.post("/api/auth/verify-email", json!({ "token": token, "password": CHOSEN })).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], "nia@initech.test");
    assert_eq!(body["tenant"]["slug"], "initech");
    assert_eq!(body["tenant"]["role"], "admin");

    // Used once: the same link again is refused and creates nothing more.
    let again = app.post("/api/auth/verify-email", json!({ "token": token, "password": CHOSEN })).await;
    assert_error(again, 400, "invalid_token").await;
    assert_eq!(app.select_i64("SELECT count(*) FROM tenants WHERE slug = 'initech'").await, 1);

    let session = app.log_in("nia@initech.test", CHOSEN).await;
    assert_eq!(session.status(), 200);
    let session: Value = session.json().await.unwrap();
    assert_eq!(session["tenant"]["slug"], "initech");
    let me: Value = app.get_json("/api/auth/me", session["access_token"].as_str().unwrap()).await;
    assert_eq!(me["display_name"], "Nia");
    assert!(me["permissions"].as_array().unwrap().iter().any(|p| p == "members:update"), "{me}");

    // The new tenant's audit log has the registration.
    let audit: Value =
        app.get_json("/api/audit?action=registration.verified", session["access_token"].as_str().unwrap()).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

#[tokio::test]
async fn registering_a_known_email_answers_alike_and_sends_a_notice_instead() {
    let app = spawn_app().await;
    app.tenant_with_member("known@acme.test", Role::User).await;

    let known = app.post("/api/auth/register", registration("known@acme.test", "known-co")).await;
    let unknown = app.post("/api/auth/register", registration("unknown@acme.test", "unknown-co")).await;
    assert_eq!((known.status().as_u16(), unknown.status().as_u16()), (202, 202));
    let (known, unknown): (Value, Value) = (known.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!(known, unknown, "the bodies differ");

    let notice = app.mail.wait_for("known@acme.test", 1).await.unwrap();
    assert!(notice.code().is_none(), "a known email gets no verification code: {}", notice.data);
    assert!(notice.subject().contains("tried to register"), "{}", notice.data);
    assert!(app.mail.wait_for("unknown@acme.test", 1).await.unwrap().code().is_some());
    // The account is untouched: the old password still works.
    assert_eq!(app.log_in("known@acme.test", PASSWORD).await.status(), 200);
    assert_eq!(app.select_i64("SELECT count(*) FROM tenants WHERE slug = 'known-co'").await, 0);
}

#[tokio::test]
async fn registration_refuses_bad_input_a_taken_slug_and_can_be_turned_off() {
    let app = spawn_app().await;
    app.seed_tenant("acme").await;
    let body = assert_error(
        app.post("/api/auth/register", json!({ "email": "not-an-email", "tenant_name": "", "tenant_slug": "-x" }))
            .await,
        400,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "tenant_name", "tenant_slug"], "{body}");
    // Neither a role nor a password is taken at registration: the password
    // is the verifier's to choose.
    for extra in ["role", "password"] {
        let mut with_extra = registration("x@y.test", "xy");
        with_extra[extra] = json!("admin-chosen passphrase");
        assert_error(app.post("/api/auth/register", with_extra).await, 400, "validation_failed").await;
    }
    assert_error(app.post("/api/auth/register", registration("x@y.test", "acme")).await, 409, "slug_taken").await;

    let closed = spawn_app_with(vec![("APP_REGISTRATION_ENABLED", Some("false".into()))]).await;
    assert_error(closed.post("/api/auth/register", registration("x@y.test", "xy")).await, 403, "registration_disabled")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(closed.mail.all().is_empty());
}

#[tokio::test]
async fn verification_links_expire_and_malformed_tokens_are_refused() {
    let app = spawn_app().await;
    app.post("/api/auth/register", registration("late@initech.test", "late-co")).await;
    let token = app.mail.wait_for("late@initech.test", 1).await.unwrap().code().unwrap();
    app.execute_sql("UPDATE pending_registrations SET expires_at = now() - interval '1 second'").await;
    let expired = app.post("/api/auth/verify-email", json!({ "token": token, "password": CHOSEN })).await;
    assert_error(expired, 400, "invalid_token").await;
    let malformed = app.post("/api/auth/verify-email", json!({ "token": "nope", "password": CHOSEN })).await;
    assert_error(malformed, 400, "invalid_token").await;
    assert_eq!(app.select_i64("SELECT count(*) FROM users WHERE email = 'late@initech.test'").await, 0);
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let app = spawn_app().await;
    app.tenant_with_member("rey@acme.test", Role::User).await;
    let old_access = access_token(&app, "rey@acme.test", PASSWORD).await;

    let response = app.post("/api/auth/password/forgot", json!({ "email": "REY@acme.test" })).await;
    assert_eq!(response.status(), 202);
    let email = app.mail.wait_for("rey@acme.test", 1).await.unwrap();
    assert!(email.data.contains("30 minutes"), "{}", email.data);
    assert!(email.data.contains("/reset-password#token="), "{}", email.data);
    let token = email.code().unwrap();

    let weak = app.post("/api/auth/password/reset", json!({ "token": token, "new_password": "password1" })).await;
    assert_error(weak, 400, "validation_failed").await;
    let new_password = "a new and long passphrase";
    let done = app.post("/api/auth/password/reset", json!({ "token": token, "new_password": new_password })).await;
    assert_eq!(done.status(), 204);

    let again =
        app.post("/api/auth/password/reset", json!({ "token": token, "new_password": "another long one" })).await;
    assert_error(again, 400, "invalid_token").await;
    assert_eq!(app.log_in("rey@acme.test", PASSWORD).await.status(), 401);
    assert_eq!(app.log_in("rey@acme.test", new_password).await.status(), 200);
    let me = app.bearer_get("/api/auth/me", &old_access).await;
    assert_error(me, 401, "unauthenticated").await;
    assert_eq!(app.select_i64("SELECT count(*) FROM audit_log WHERE action = 'password.reset'").await, 1);
}

#[tokio::test]
async fn forgot_answers_alike_for_unknown_emails_and_reset_links_expire() {
    let app = spawn_app().await;
    app.tenant_with_member("rey@acme.test", Role::User).await;
    let known = app.post("/api/auth/password/forgot", json!({ "email": "rey@acme.test" })).await;
    let unknown = app.post("/api/auth/password/forgot", json!({ "email": "ghost@acme.test" })).await;
    assert_eq!((known.status().as_u16(), unknown.status().as_u16()), (202, 202));
    assert_eq!(known.json::<Value>().await.unwrap(), unknown.json::<Value>().await.unwrap());
    let token = app.mail.wait_for("rey@acme.test", 1).await.unwrap().code().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.mail.to("ghost@acme.test").is_empty(), "no email for an unknown address");

    // Issued for 30 minutes: stored so, and refused once past.
    let minutes = app
        .select_i64("SELECT round(extract(epoch FROM expires_at - created_at) / 60)::bigint FROM password_resets")
        .await;
    assert_eq!(minutes, 30);
    app.execute_sql("UPDATE password_resets SET expires_at = now() - interval '1 second'").await;
    let late = app
        .post("/api/auth/password/reset", json!({ "token": token, "new_password": "a new and long passphrase" }))
        .await;
    assert_error(late, 400, "invalid_token").await;
    assert_eq!(app.log_in("rey@acme.test", PASSWORD).await.status(), 200);
    // Only hashes are stored.
    assert_eq!(app.select_i64(&format!("SELECT count(*) FROM password_resets WHERE token_hash = '{token}'")).await, 0);
}

#[tokio::test]
async fn forgot_and_register_are_limited_per_address_and_mail_per_email() {
    let app = spawn_app_with(vec![("APP_ONBOARDING_LIMIT_PER_MINUTE", Some("6".into()))]).await;
    app.tenant_with_member("rey@acme.test", Role::User).await;
    wait_for_fresh_rate_window().await;
    // Per email: a third of the budget gets emails; past it, the same answer
    // and no email (no one can make an address unusable, or flood it).
    for _ in 0..3 {
        assert_eq!(app.post("/api/auth/password/forgot", json!({ "email": "rey@acme.test" })).await.status(), 202);
    }
    app.mail.wait_for("rey@acme.test", 2).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.mail.to("rey@acme.test").len(), 2);
    // Per address: other emails from the same client, up to the budget.
    for i in 0..3 {
        let r = app.post("/api/auth/password/forgot", json!({ "email": format!("other{i}@acme.test") })).await;
        assert_eq!(r.status(), 202);
    }
    let refused = app.post("/api/auth/password/forgot", json!({ "email": "fresh@acme.test" })).await;
    assert!(refused.headers().get("retry-after").is_some());
    assert_error(refused, 429, "rate_limited").await;
    for i in 0..6 {
        app.post("/api/auth/register", registration(&format!("r{i}@x.test"), &format!("r{i}"))).await;
    }
    let refused = app.post("/api/auth/register", registration("last@x.test", "last")).await;
    assert_error(refused, 429, "rate_limited").await;
}

#[tokio::test]
async fn an_address_gets_at_most_twenty_emails_a_day_from_one_route() {
    // A per-minute budget high enough that only the daily cap bites.
    let app = spawn_app_with(vec![("APP_ONBOARDING_LIMIT_PER_MINUTE", Some("300".into()))]).await;
    app.tenant_with_member("rey@acme.test", Role::User).await;
    wait_for_fresh_rate_window().await;
    for _ in 0..24 {
        assert_eq!(app.post("/api/auth/password/forgot", json!({ "email": "rey@acme.test" })).await.status(), 202);
    }
    app.mail.wait_for("rey@acme.test", 20).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.mail.to("rey@acme.test").len(), 20);
}

#[tokio::test]
async fn switching_tenant_needs_the_sessions_refresh_token_and_opens_one_session() {
    let app = spawn_app().await;
    let acme = app.seed_tenant("acme").await;
    let globex = app.seed_tenant("globex").await;
    app.seed_tenant("initech").await;
    app.seed_member(acme, "rey@both.test", Role::Admin).await;
    app.seed_member(globex, "rey@both.test", Role::Viewer).await;
    let session = app.sign_in("rey@both.test", PASSWORD).await;
    let (access, refresh) = (&session.access_token, &session.refresh_token);
    let other = app.sign_in("rey@both.test", PASSWORD).await;
    let switch = |body: Value| app.bearer_post("/api/auth/switch-tenant", access, body);

    // An access token alone does not open a session; nor does the refresh
    // token of another session.
    assert_error(switch(json!({ "tenant": "globex" })).await, 401, "unauthenticated").await;
    let foreign_refresh = json!({ "tenant": "globex", "refresh_token": other.refresh_token });
    assert_error(switch(foreign_refresh).await, 401, "unauthenticated").await;
    let not_mine = json!({ "tenant": "initech", "refresh_token": refresh });
    assert_error(switch(not_mine).await, 404, "not_found").await;

    // Two switches racing with the same tokens: one session, not two.
    let body = json!({ "tenant": "globex", "refresh_token": refresh });
    let (first, second) = tokio::join!(switch(body.clone()), switch(body));
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "one switch wins");
    let switched: Value = if first.status() == 200 { first.json().await } else { second.json().await }.unwrap();
    assert_eq!(switched["tenant"]["slug"], "globex");
    assert_eq!(switched["tenant"]["role"], "viewer");
    assert!(switched["refresh_token"].is_string(), "delivered like the token that was sent");
    let me: Value = app.get_json("/api/auth/me", switched["access_token"].as_str().unwrap()).await;
    assert_eq!(me["tenant"]["slug"], "globex");
    let old = app.bearer_get("/api/auth/me", access).await;
    assert_error(old, 401, "unauthenticated").await;
    // Two sessions remain: the untouched one and the switched one.
    let sessions: Value = app.get_json("/api/auth/sessions", switched["access_token"].as_str().unwrap()).await;
    assert_eq!(sessions["items"].as_array().unwrap().len(), 2, "{sessions}");
}
