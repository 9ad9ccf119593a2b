//! Sign-in and sessions over HTTP: log-in with both token deliveries,
//! rotation and replay, the cookie's origin check, log-out, and answers that
//! do not tell whether an email exists.

use api::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_with, PASSWORD};

const ORIGIN: &str = "http://localhost:8081";

fn refresh_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-tenantry_refresh="))
        .map(str::to_owned)
}

#[tokio::test]
async fn a_browser_log_in_sets_a_locked_down_cookie_and_the_access_token_works() {
    let app = spawn_app().await;
    let ada = app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let response = app.post("/api/auth/login", json!({ "email": "Ada@Acme.test", "password": PASSWORD })).await;
    assert_eq!(response.status(), 200);
    let cookie = refresh_cookie(&response).expect("a refresh cookie");
    // `__Host-`: Secure, Path=/ and no Domain, so no sibling subdomain or
    // plain-HTTP page can plant or overwrite it.
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/;"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.to_lowercase().contains("domain="), "{cookie}");
    // Tokens are never cached, with or without nginx in front.
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let body: Value = response.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "the cookie carries it: {body}");
    assert_eq!(body["tenant"]["slug"], "acme");
    assert_eq!(body["token_type"], "Bearer");
    let access = body["access_token"].as_str().unwrap();
    assert!(access.starts_with("v4.public."));

    let who: Value = app.bearer_get("/api/auth/me", access).await.json().await.unwrap();
    assert_eq!(who["email"], "ada@acme.test");
    assert_eq!(who["tenant"]["id"], ada.tenant.to_string());
    assert_eq!(who["tenant"]["role"], "admin");
    let permissions: Vec<&str> = who["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(permissions.contains(&"api_keys:create") && permissions.contains(&"projects:delete"), "{permissions:?}");
    assert_eq!(who["tenants"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn body_delivery_rotates_and_a_replay_ends_the_session() {
    let app = spawn_app_with(vec![("APP_REFRESH_GRACE_MS", Some("0".into()))]).await;
    app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let r1 = app.sign_in("ada@acme.test", PASSWORD).await.refresh_token;
    let refresh = |token: String| app.post("/api/auth/refresh", json!({ "refresh_token": token }));
    let second: Value = refresh(r1.clone()).await.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    let third: Value = refresh(r2.clone()).await.json().await.unwrap();
    let r3 = third["refresh_token"].as_str().unwrap().to_owned();
    let access3 = third["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.bearer_get("/api/auth/me", &access3).await.status(), 200);

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_error(refresh(r1).await, 401, "unauthenticated").await;
    assert_error(refresh(r3).await, 401, "unauthenticated").await;
    assert_error(app.bearer_get("/api/auth/me", &access3).await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn two_tabs_refreshing_with_one_cookie_both_stay_signed_in() {
    let app = spawn_app().await;
    app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let response = app.post("/api/auth/login", json!({ "email": "ada@acme.test", "password": PASSWORD })).await;
    let cookie = refresh_cookie(&response).unwrap();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let refresh = || {
        app.client
            .post(app.url("/api/auth/refresh"))
            .header("cookie", &pair)
            .header("origin", ORIGIN)
            .json(&json!({}))
            .send()
    };
    let (a, b) = tokio::join!(refresh(), refresh());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status(), b.status()), (reqwest::StatusCode::OK, reqwest::StatusCode::OK));
}

#[tokio::test]
async fn the_refresh_cookie_is_honoured_only_from_an_allowed_origin() {
    let app = spawn_app().await;
    app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let response = app.post("/api/auth/login", json!({ "email": "ada@acme.test", "password": PASSWORD })).await;
    let pair = refresh_cookie(&response).unwrap().split(';').next().unwrap().to_owned();
    for origin in [None, Some("https://evil.example")] {
        let mut request = app.client.post(app.url("/api/auth/refresh")).header("cookie", &pair).json(&json!({}));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        assert_error(request.send().await.unwrap(), 403, "forbidden_origin").await;
    }
    let ok =
        app.client.post(app.url("/api/auth/refresh")).header("cookie", &pair).header("origin", ORIGIN).json(&json!({}));
    let ok = ok.send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(refresh_cookie(&ok).is_some(), "the rotated token comes back in the cookie");
    // And JSON is required.
    let form = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header("cookie", &pair)
        .header("origin", ORIGIN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b");
    assert_error(form.send().await.unwrap(), 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn wrong_passwords_and_unknown_emails_get_the_same_answer() {
    let app = spawn_app().await;
    app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let wrong = app.post("/api/auth/login", json!({ "email": "ada@acme.test", "password": "not the password" })).await;
    let unknown =
        app.post("/api/auth/login", json!({ "email": "nobody@acme.test", "password": "not the password" })).await;
    let wrong_tenant = app
        .post("/api/auth/login", json!({ "email": "ada@acme.test", "password": PASSWORD, "tenant": "globex" }))
        .await;
    let mut bodies = Vec::new();
    for response in [wrong, unknown, wrong_tenant] {
        let body = assert_error(response, 401, "invalid_credentials").await;
        bodies.push(body["error"]["message"].as_str().unwrap().to_owned());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
}

#[tokio::test]
async fn logging_out_ends_the_session_and_logging_out_everywhere_ends_them_all() {
    let app = spawn_app().await;
    app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let first = app.sign_in("ada@acme.test", PASSWORD).await;
    let out = app.post("/api/auth/logout", json!({ "refresh_token": first.refresh_token })).await;
    assert_eq!(out.status(), 204);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_error(app.bearer_get("/api/auth/me", &first.access_token).await, 401, "unauthenticated").await;
    let again = app.post("/api/auth/refresh", json!({ "refresh_token": first.refresh_token })).await;
    assert_error(again, 401, "unauthenticated").await;

    let second = app.sign_in("ada@acme.test", PASSWORD).await;
    let third = app.sign_in("ada@acme.test", PASSWORD).await;
    let all = app.client.post(app.url("/api/auth/logout-all")).bearer_auth(&second.access_token).send().await.unwrap();
    assert_eq!(all.status(), 204);
    assert_error(app.bearer_get("/api/auth/me", &third.access_token).await, 401, "unauthenticated").await;
    let refreshed = app.post("/api/auth/refresh", json!({ "refresh_token": third.refresh_token })).await;
    assert_error(refreshed, 401, "unauthenticated").await;
}

#[tokio::test]
async fn sign_outs_reach_the_audit_log_and_junk_tokens_the_security_log() {
    let app = spawn_app().await;
    app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let session = app.sign_in("ada@acme.test", PASSWORD).await;
    let logout = |token: &str| app.post("/api/auth/logout", json!({ "refresh_token": token }));
    assert_eq!(logout(&session.refresh_token).await.status(), 204);
    assert_eq!(logout("v4.local.not-a-token").await.status(), 204);
    let audited = app.select_i64("SELECT count(*) FROM audit_log WHERE action = 'session.logout'").await;
    let junk = app.select_i64("SELECT count(*) FROM security_log WHERE event = 'logout.invalid_token'").await;
    assert_eq!((audited, junk), (1, 1));
}

#[tokio::test]
async fn me_needs_a_valid_access_token() {
    let app = spawn_app().await;
    assert_error(app.get("/api/auth/me").await, 401, "unauthenticated").await;
    for bad in ["garbage", "v4.public.AAAA", "v4.local.AAAA"] {
        assert_error(app.bearer_get("/api/auth/me", bad).await, 401, "unauthenticated").await;
    }
}

#[tokio::test]
async fn users_change_their_own_display_name_and_only_theirs() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let changed = app.bearer_patch("/api/auth/me", &t.user.token, json!({ "display_name": "Bob Builder" })).await;
    assert_eq!(changed.status(), 200);
    let me: Value = changed.json().await.unwrap();
    assert_eq!((me["display_name"].as_str(), me["email"].as_str()), (Some("Bob Builder"), Some("bob@acme.test")));
    // The account's name, the same everywhere it shows; no one else's.
    let members = app.get_json("/api/users?q=bob", &t.admin.token).await;
    assert_eq!(members["items"][0]["display_name"], "Bob Builder");
    let ada = app.get_json("/api/auth/me", &t.admin.token).await;
    assert_ne!(ada["display_name"], "Bob Builder");
    let cleared = app.bearer_patch("/api/auth/me", &t.user.token, json!({ "display_name": "" })).await;
    assert_eq!(cleared.status(), 200);

    for (body, field) in [
        (json!({ "display_name": "x".repeat(201) }), "display_name"),
        (json!({ "display_name": "tab\there" }), "display_name"),
        (json!({ "display_name": "Bob", "email": "mal@globex.test" }), "email"),
    ] {
        let refused = app.bearer_patch("/api/auth/me", &t.user.token, body).await;
        let error = assert_error(refused, 400, "validation_failed").await;
        assert_eq!(error["error"]["details"][0]["field"], field, "{error}");
    }
    let anonymous = app.client.patch(format!("{}/api/auth/me", app.address)).json(&json!({ "display_name": "x" }));
    assert_eq!(anonymous.send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn the_demo_seed_creates_accounts_of_each_role_that_can_sign_in() {
    let app = spawn_app().await;
    let bin = env!("CARGO_BIN_EXE_tenantry-api");
    let run = || {
        std::process::Command::new(bin)
            .arg("seed-demo")
            .env_clear()
            .env("DATABASE_OWNER_URL", &app.db.owner_url)
            .output()
    };
    let first = run().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let printed = String::from_utf8_lossy(&first.stdout).into_owned();
    let password_of = |email: &str| -> String {
        printed.lines().find(|l| l.contains(email)).and_then(|l| l.split_whitespace().last()).unwrap().to_owned()
    };
    for (tenant, email, role) in [
        ("demo", "admin@demo.tenantry.test", "admin"),
        ("demo", "user@demo.tenantry.test", "user"),
        ("demo", "viewer@demo.tenantry.test", "viewer"),
        ("globex", "admin@globex.tenantry.test", "admin"),
        ("globex", "user@demo.tenantry.test", "viewer"),
    ] {
        let response = app
            .post("/api/auth/login", json!({ "email": email, "password": password_of(email), "tenant": tenant }))
            .await;
        assert_eq!(response.status(), 200, "{email} in {tenant}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["tenant"]["role"], role, "{email} in {tenant}");
    }
    let second = run().unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("already present"));
}

#[tokio::test]
async fn users_see_and_end_their_own_sessions_only() {
    let app = spawn_app().await;
    let ada = app.tenant_with_member("ada@acme.test", Role::Admin).await;
    app.seed_member(ada.tenant, "bea@acme.test", Role::User).await;
    let sign_in = |email: &'static str, agent: &'static str| {
        let app = &app;
        async move {
            let body: Value = app
                .client
                .post(app.url("/api/auth/login"))
                .header("user-agent", agent)
                .json(&json!({ "email": email, "password": PASSWORD, "token_delivery": "body" }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
        }
    };
    let (laptop, _) = sign_in("ada@acme.test", "laptop-browser").await;
    let (_, phone_refresh) = sign_in("ada@acme.test", "phone-app").await;
    let (bea, _) = sign_in("bea@acme.test", "bea-browser").await;

    let list = |access: String| {
        let app = &app;
        async move { app.get_json("/api/auth/sessions", &access).await["items"].as_array().unwrap().clone() }
    };
    let sessions = list(laptop.clone()).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let phone = sessions.iter().find(|s| s["user_agent"] == "phone-app").expect("the phone session");
    let current = sessions.iter().find(|s| s["current"] == true).expect("the current session");
    assert_eq!(current["user_agent"], "laptop-browser");
    let phone_id = phone["id"].as_str().unwrap().to_owned();

    // Bea cannot end Ada's session: it is not hers.
    let phone_session = format!("/api/auth/sessions/{phone_id}");
    assert_error(app.bearer_delete(&phone_session, &bea).await, 404, "not_found").await;

    assert_eq!(app.bearer_delete(&phone_session, &laptop).await.status(), 204);
    let refreshed = app.post("/api/auth/refresh", json!({ "refresh_token": phone_refresh })).await;
    assert_error(refreshed, 401, "unauthenticated").await;
    assert_eq!(list(laptop.clone()).await.len(), 1);

    let bad = app.bearer_delete("/api/auth/sessions/nope", &laptop).await;
    let body = assert_error(bad, 400, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "id");
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_the_old_password() {
    let app = spawn_app().await;
    app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let access = app.sign_in("ada@acme.test", PASSWORD).await.access_token;
    let elsewhere = app.sign_in("ada@acme.test", PASSWORD).await.access_token;
    let change = |current: &str, new: &str| {
        app.bearer_post("/api/auth/password", &access, json!({ "current_password": current, "new_password": new }))
    };
    assert_error(change("wrong", "a brand new passphrase").await, 403, "wrong_password").await;
    let short = assert_error(change(PASSWORD, "short").await, 400, "validation_failed").await;
    assert_eq!(short["error"]["details"][0]["field"], "new_password");
    let common = assert_error(change(PASSWORD, "password123").await, 400, "validation_failed").await;
    assert!(common["error"]["details"][0]["message"].as_str().unwrap().contains("common"));
    assert_eq!(change(PASSWORD, "a brand new passphrase").await.status(), 204);

    assert_eq!(app.bearer_get("/api/auth/me", &access).await.status(), 200, "this session goes on");
    assert_error(app.bearer_get("/api/auth/me", &elsewhere).await, 401, "unauthenticated").await;
    assert_error(app.log_in("ada@acme.test", PASSWORD).await, 401, "invalid_credentials").await;
    assert_eq!(app.log_in("ada@acme.test", "a brand new passphrase").await.status(), 200);
}
