//! Sign-in and sessions over HTTP: log-in with both token deliveries,
//! rotation and replay, the cookie's origin check, log-out, and answers that
//! do not tell whether an email exists.

use serde_json::{json, Value};

use crate::helpers::{assert_error, password_hash, spawn_app, spawn_app_with, TestApp, PASSWORD};

const ORIGIN: &str = "http://localhost:8081";

/// A tenant `acme` with `ada@acme.test` as admin; returns the tenant id.
async fn seed(app: &TestApp) -> uuid::Uuid {
    let tenant = testkit::seed_tenant(&app.db, "acme", 2).await.unwrap();
    testkit::seed_member(&app.db, tenant, "ada@acme.test", password_hash(), "admin").await.unwrap();
    tenant
}

async fn login(app: &TestApp, body: Value) -> reqwest::Response {
    app.client.post(app.url("/api/auth/login")).json(&body).send().await.unwrap()
}

fn refresh_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-tenantry_refresh="))
        .map(str::to_owned)
}

async fn me(app: &TestApp, access: &str) -> reqwest::Response {
    app.client.get(app.url("/api/auth/me")).bearer_auth(access).send().await.unwrap()
}

#[tokio::test]
async fn a_browser_log_in_sets_a_locked_down_cookie_and_the_access_token_works() {
    let app = spawn_app().await;
    let tenant = seed(&app).await;
    let response = login(&app, json!({ "email": "Ada@Acme.test", "password": PASSWORD })).await;
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

    let who: Value = me(&app, access).await.json().await.unwrap();
    assert_eq!(who["email"], "ada@acme.test");
    assert_eq!(who["tenant"]["id"], tenant.to_string());
    assert_eq!(who["tenant"]["role"], "admin");
    let permissions: Vec<&str> = who["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(permissions.contains(&"api_keys:create") && permissions.contains(&"projects:delete"), "{permissions:?}");
    assert_eq!(who["tenants"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn body_delivery_rotates_and_a_replay_ends_the_session() {
    let app = spawn_app_with(vec![("APP_REFRESH_GRACE_MS", Some("0".into()))]).await;
    seed(&app).await;
    let body: Value = login(&app, json!({ "email": "ada@acme.test", "password": PASSWORD, "token_delivery": "body" }))
        .await
        .json()
        .await
        .unwrap();
    let r1 = body["refresh_token"].as_str().expect("a refresh token in the body").to_owned();
    let refresh = |token: String| {
        let app = &app;
        async move {
            app.client.post(app.url("/api/auth/refresh")).json(&json!({ "refresh_token": token })).send().await.unwrap()
        }
    };
    let second: Value = refresh(r1.clone()).await.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    let third: Value = refresh(r2.clone()).await.json().await.unwrap();
    let r3 = third["refresh_token"].as_str().unwrap().to_owned();
    let access3 = third["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(&app, &access3).await.status(), 200);

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_error(refresh(r1).await, 401, "unauthenticated").await;
    assert_error(refresh(r3).await, 401, "unauthenticated").await;
    assert_error(me(&app, &access3).await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn two_tabs_refreshing_with_one_cookie_both_stay_signed_in() {
    let app = spawn_app().await;
    seed(&app).await;
    let response = login(&app, json!({ "email": "ada@acme.test", "password": PASSWORD })).await;
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
    seed(&app).await;
    let response = login(&app, json!({ "email": "ada@acme.test", "password": PASSWORD })).await;
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
    seed(&app).await;
    let wrong = login(&app, json!({ "email": "ada@acme.test", "password": "not the password" })).await;
    let unknown = login(&app, json!({ "email": "nobody@acme.test", "password": "not the password" })).await;
    let wrong_tenant = login(&app, json!({ "email": "ada@acme.test", "password": PASSWORD, "tenant": "globex" })).await;
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
    seed(&app).await;
    let session = |_: u8| async {
        let body: Value =
            login(&app, json!({ "email": "ada@acme.test", "password": PASSWORD, "token_delivery": "body" }))
                .await
                .json()
                .await
                .unwrap();
        (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
    };
    let (access1, refresh1) = session(1).await;
    let out =
        app.client.post(app.url("/api/auth/logout")).json(&json!({ "refresh_token": refresh1 })).send().await.unwrap();
    assert_eq!(out.status(), 204);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_error(me(&app, &access1).await, 401, "unauthenticated").await;
    let again =
        app.client.post(app.url("/api/auth/refresh")).json(&json!({ "refresh_token": refresh1 })).send().await.unwrap();
    assert_error(again, 401, "unauthenticated").await;

    let (access2, _) = session(2).await;
    let (access3, refresh3) = session(3).await;
    let all = app.client.post(app.url("/api/auth/logout-all")).bearer_auth(&access2).send().await.unwrap();
    assert_eq!(all.status(), 204);
    assert_error(me(&app, &access3).await, 401, "unauthenticated").await;
    let refreshed =
        app.client.post(app.url("/api/auth/refresh")).json(&json!({ "refresh_token": refresh3 })).send().await.unwrap();
    assert_error(refreshed, 401, "unauthenticated").await;
}

#[tokio::test]
async fn sign_outs_reach_the_audit_log_and_junk_tokens_the_security_log() {
    use sqlx::Connection;
    let app = spawn_app().await;
    seed(&app).await;
    let body: Value = login(&app, json!({ "email": "ada@acme.test", "password": PASSWORD, "token_delivery": "body" }))
        .await
        .json()
        .await
        .unwrap();
    let logout =
        |token: &str| app.client.post(app.url("/api/auth/logout")).json(&json!({ "refresh_token": token })).send();
    assert_eq!(logout(body["refresh_token"].as_str().unwrap()).await.unwrap().status(), 204);
    assert_eq!(logout("v4.local.not-a-token").await.unwrap().status(), 204);
    let mut conn = sqlx::PgConnection::connect(&app.db.superuser_url).await.unwrap();
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'session.logout'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let junk: i64 = sqlx::query_scalar("SELECT count(*) FROM security_log WHERE event = 'logout.invalid_token'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!((audited, junk), (1, 1));
}

#[tokio::test]
async fn me_needs_a_valid_access_token() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/auth/me")).send().await.unwrap();
    assert_error(response, 401, "unauthenticated").await;
    for bad in ["garbage", "v4.public.AAAA", "v4.local.AAAA"] {
        assert_error(me(&app, bad).await, 401, "unauthenticated").await;
    }
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
        let response = login(&app, json!({ "email": email, "password": password_of(email), "tenant": tenant })).await;
        assert_eq!(response.status(), 200, "{email} in {tenant}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["tenant"]["role"], role, "{email} in {tenant}");
    }
    let second = run().unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("already present"));
}

#[tokio::test]
async fn sign_in_is_refused_while_its_limits_cannot_be_counted() {
    let redis = format!("redis://127.0.0.1:{}", crate::helpers::dead_port());
    let app = spawn_app_with(vec![("REDIS_URL", Some(redis))]).await;
    seed(&app).await;
    let response = login(&app, json!({ "email": "ada@acme.test", "password": PASSWORD })).await;
    assert_error(response, 503, "unavailable").await;
}

#[tokio::test]
async fn users_see_and_end_their_own_sessions_only() {
    let app = spawn_app().await;
    let tenant = seed(&app).await;
    testkit::seed_member(&app.db, tenant, "bea@acme.test", password_hash(), "user").await.unwrap();
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
        async move {
            let body: Value = app
                .client
                .get(app.url("/api/auth/sessions"))
                .bearer_auth(access)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["items"].as_array().unwrap().clone()
        }
    };
    let sessions = list(laptop.clone()).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let phone = sessions.iter().find(|s| s["user_agent"] == "phone-app").expect("the phone session");
    let current = sessions.iter().find(|s| s["current"] == true).expect("the current session");
    assert_eq!(current["user_agent"], "laptop-browser");
    let phone_id = phone["id"].as_str().unwrap().to_owned();

    // Bea cannot end Ada's session: it is not hers.
    let theirs =
        app.client.delete(app.url(&format!("/api/auth/sessions/{phone_id}"))).bearer_auth(&bea).send().await.unwrap();
    assert_error(theirs, 404, "not_found").await;

    let ended = app
        .client
        .delete(app.url(&format!("/api/auth/sessions/{phone_id}")))
        .bearer_auth(&laptop)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 204);
    let refreshed = app
        .client
        .post(app.url("/api/auth/refresh"))
        .json(&json!({ "refresh_token": phone_refresh }))
        .send()
        .await
        .unwrap();
    assert_error(refreshed, 401, "unauthenticated").await;
    assert_eq!(list(laptop.clone()).await.len(), 1);

    let bad = app.client.delete(app.url("/api/auth/sessions/nope")).bearer_auth(&laptop).send().await.unwrap();
    let body = assert_error(bad, 400, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "id");
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_the_old_password() {
    let app = spawn_app().await;
    seed(&app).await;
    let sign_in = |password: &'static str| {
        let app = &app;
        async move { login(app, json!({ "email": "ada@acme.test", "password": password, "token_delivery": "body" })).await }
    };
    let here: Value = sign_in(PASSWORD).await.json().await.unwrap();
    let elsewhere: Value = sign_in(PASSWORD).await.json().await.unwrap();
    let access = here["access_token"].as_str().unwrap();
    let change = |current: &'static str, new: &'static str| {
        app.client
            .post(app.url("/api/auth/password"))
            .bearer_auth(access)
            .json(&json!({ "current_password": current, "new_password": new }))
            .send()
    };
    assert_error(change("wrong", "a brand new passphrase").await.unwrap(), 403, "wrong_password").await;
    let short = assert_error(change(PASSWORD, "short").await.unwrap(), 400, "validation_failed").await;
    assert_eq!(short["error"]["details"][0]["field"], "new_password");
    let common = assert_error(change(PASSWORD, "password123").await.unwrap(), 400, "validation_failed").await;
    assert!(common["error"]["details"][0]["message"].as_str().unwrap().contains("common"));
    assert_eq!(change(PASSWORD, "a brand new passphrase").await.unwrap().status(), 204);

    assert_eq!(me(&app, access).await.status(), 200, "this session goes on");
    let other = elsewhere["access_token"].as_str().unwrap();
    assert_error(me(&app, other).await, 401, "unauthenticated").await;
    assert_error(sign_in(PASSWORD).await, 401, "invalid_credentials").await;
    assert_eq!(sign_in("a brand new passphrase").await.status(), 200);
}
