//! API keys: created by admins and shown once, used as `X-API-Key` with the
//! key's role, revoked at once, confined to their tenant.

use api::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_with, wait_for_fresh_rate_window, within, TestApp};

const KEYS: &str = "/api/api-keys";

#[tokio::test]
async fn a_key_is_shown_once_and_acts_with_its_role() {
    let app = spawn_app().await;
    let admin = &app.two_tenants().await.admin.token;
    let created = app.bearer_post(KEYS, admin, json!({ "name": "reporting", "role": "viewer" })).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("tnt_{}_", created["prefix"].as_str().unwrap())));

    let listed = app.list_api_keys(admin).await;
    assert!(!json!(listed).to_string().contains(&key[17..]), "the secret must not be listed again");
    assert!(listed[0]["last_used_at"].is_null());

    assert_eq!(app.key_get("/api/users", &key).await.status(), 200, "viewers read members");
    assert_error(app.key_get("/api/audit", &key).await, 403, "forbidden").await;
    let listed = app.list_api_keys(admin).await;
    assert!(listed[0]["last_used_at"].is_string(), "the last use is recorded: {listed:?}");

    let admin_key: Value =
        app.bearer_post(KEYS, admin, json!({ "name": "ops", "role": "admin" })).await.json().await.unwrap();
    assert_eq!(app.key_get("/api/audit", admin_key["key"].as_str().unwrap()).await.status(), 200);
    let duplicate = app.bearer_post(KEYS, admin, json!({ "name": "ops", "role": "user" })).await;
    assert_error(duplicate, 409, "conflict").await;
}

#[tokio::test]
async fn revoked_expired_and_malformed_keys_are_refused() {
    let app = spawn_app().await;
    let admin = &app.two_tenants().await.admin.token;
    let created: Value =
        app.bearer_post(KEYS, admin, json!({ "name": "ci", "role": "user" })).await.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(app.key_get("/api/users", &key).await.status(), 200);
    let revoked = app.bearer_delete(&format!("{KEYS}/{id}"), admin).await;
    assert_eq!(revoked.status(), 204);
    assert_error(app.key_get("/api/users", &key).await, 401, "unauthenticated").await;

    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let short: Value = app
        .bearer_post(KEYS, admin, json!({ "name": "short", "role": "user", "expires_at": soon }))
        .await
        .json()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_error(app.key_get("/api/users", short["key"].as_str().unwrap()).await, 401, "unauthenticated").await;

    let tampered = format!("{}0", &key[..key.len() - 1]);
    for bad in ["", "tnt_", "nonsense", tampered.as_str()] {
        assert_error(app.key_get("/api/users", bad).await, 401, "unauthenticated").await;
    }
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    // A role outside the spec's enum is refused as the body is read; an
    // expiry in the past, once it is.
    for (body, field) in [
        (json!({ "name": "x", "role": "owner" }), "role"),
        (json!({ "name": "x", "role": "viewer", "expires_at": past }), "expires_at"),
    ] {
        let body = assert_error(app.bearer_post(KEYS, admin, body).await, 400, "validation_failed").await;
        let fields: Vec<&str> =
            body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!(fields, [field]);
    }
}

#[tokio::test]
async fn keys_stay_inside_their_tenant_and_only_admins_manage_them() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let forbidden = app.bearer_post(KEYS, &t.user.token, json!({ "name": "mine", "role": "user" })).await;
    assert_error(forbidden, 403, "forbidden").await;
    let created: Value = app
        .bearer_post(KEYS, &t.admin.token, json!({ "name": "acme-key", "role": "admin" }))
        .await
        .json()
        .await
        .unwrap();
    let (key, id) = (created["key"].as_str().unwrap().to_owned(), created["id"].as_str().unwrap().to_owned());

    // Globex's admin can neither see nor revoke it.
    assert_eq!(app.list_api_keys(&t.other_admin.token).await.len(), 0);
    let revoke = app.bearer_delete(&format!("{KEYS}/{id}"), &t.other_admin.token).await;
    assert_error(revoke, 404, "not_found").await;
    // The key sees acme's members only.
    let members: Value = app.key_get("/api/users", &key).await.json().await.unwrap();
    assert!(members["items"].as_array().unwrap().iter().all(|m| m["email"].as_str().unwrap().ends_with("@acme.test")));

    // A tenant suspended by hand in SQL (no invalidation published): its
    // keys stop within the cache's TTL (1 s).
    app.execute_sql("UPDATE tenants SET status = 'suspended' WHERE slug = 'acme'").await;
    within(std::time::Duration::from_millis(1500), "suspension", || async {
        app.key_get("/api/users", &key).await.status() == 401
    })
    .await;
    assert_error(app.key_get("/api/users", &key).await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_key_over_its_limit_gets_429() {
    let app = spawn_app_with(vec![("APP_API_KEY_LIMIT_PER_MINUTE", Some("3".into()))]).await;
    let admin = app.sign_in_as(Role::Admin).await;
    let key = app.api_key(&admin.token, "busy", Role::Viewer).await;
    wait_for_fresh_rate_window().await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.key_get("/api/users", &key).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
}

#[tokio::test]
async fn an_admin_key_makes_user_keys_but_never_another_admin_key() {
    let app = spawn_app().await;
    let admin = &app.two_tenants().await.admin.token;
    let admin_key = app.api_key(admin, "ci", Role::Admin).await;
    let by_key = |body: Value| {
        let request = app.client.post(app.url(KEYS)).header("x-api-key", &admin_key).json(&body);
        async move { request.send().await.unwrap() }
    };
    // A leaked admin key must not outlive its revocation through a successor.
    assert_error(by_key(json!({ "name": "successor", "role": "admin" })).await, 403, "forbidden").await;
    assert_eq!(by_key(json!({ "name": "reporting", "role": "viewer" })).await.status(), 201);
    // People can.
    let second = app.bearer_post(KEYS, admin, json!({ "name": "second-admin", "role": "admin" })).await;
    assert_eq!(second.status(), 201);
}

#[tokio::test]
async fn refused_keys_reach_the_security_log_with_their_prefix_only() {
    let app = spawn_app().await;
    let admin = &app.two_tenants().await.admin.token;
    let created: Value =
        app.bearer_post(KEYS, admin, json!({ "name": "ci", "role": "viewer" })).await.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    let prefix = created["prefix"].as_str().unwrap().to_owned();
    let wrong_secret = format!("{}{}", &key[..key.len() - 1], if key.ends_with('0') { '1' } else { '0' });
    assert_error(app.key_get("/api/users", &wrong_secret).await, 401, "unauthenticated").await;
    assert_error(app.key_get("/api/users", "not-a-key").await, 401, "unauthenticated").await;
    assert_eq!(security_events(&app, "api_key.refused").await, [prefix]);
    assert_eq!(security_events(&app, "api_key.malformed").await, ["malformed"]);
    let logged = security_events(&app, "api_key.refused").await.concat();
    assert!(!logged.contains(&key[17..]), "a secret reached the log");
}

async fn security_events(app: &TestApp, event: &str) -> Vec<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&app.db.superuser_url).await.unwrap();
    sqlx::query_scalar("SELECT subject FROM security_log WHERE event = $1 ORDER BY created_at")
        .bind(event)
        .fetch_all(&mut conn)
        .await
        .unwrap()
}
