//! API keys: created by admins and shown once, used as `X-API-Key` with the
//! key's role, revoked at once, confined to their tenant.

use serde_json::{json, Value};

use crate::helpers::{access_token, assert_error, password_hash, spawn_app, TestApp, PASSWORD};

struct World {
    app: TestApp,
    admin: String,
    user: String,
    other_admin: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let acme = testkit::seed_tenant(&app.db, "acme", 1).await.unwrap();
    let globex = testkit::seed_tenant(&app.db, "globex", 1).await.unwrap();
    let admin = app.member(acme, "ada@acme.test", "admin").await;
    let user = app.member(acme, "bob@acme.test", "user").await;
    let other_admin = app.member(globex, "mal@globex.test", "admin").await;
    World { app, admin, user, other_admin }
}

async fn create(w: &World, bearer: &str, body: Value) -> reqwest::Response {
    w.app.client.post(w.app.url("/api/api-keys")).bearer_auth(bearer).json(&body).send().await.unwrap()
}

async fn with_key(w: &World, key: &str, path: &str) -> reqwest::Response {
    w.app.client.get(w.app.url(path)).header("x-api-key", key).send().await.unwrap()
}

#[tokio::test]
async fn a_key_is_shown_once_and_acts_with_its_role() {
    let w = world().await;
    let created = create(&w, &w.admin, json!({ "name": "reporting", "role": "viewer" })).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("tnt_{}_", created["prefix"].as_str().unwrap())));

    let listed: Value =
        w.app.client.get(w.app.url("/api/api-keys")).bearer_auth(&w.admin).send().await.unwrap().json().await.unwrap();
    assert!(!listed.to_string().contains(&key[17..]), "the secret must not be listed again");
    assert!(listed["items"][0]["last_used_at"].is_null());

    assert_eq!(with_key(&w, &key, "/api/users").await.status(), 200, "viewers read members");
    assert_error(with_key(&w, &key, "/api/audit").await, 403, "forbidden").await;
    let listed: Value =
        w.app.client.get(w.app.url("/api/api-keys")).bearer_auth(&w.admin).send().await.unwrap().json().await.unwrap();
    assert!(listed["items"][0]["last_used_at"].is_string(), "the last use is recorded: {listed}");

    let admin_key: Value = create(&w, &w.admin, json!({ "name": "ops", "role": "admin" })).await.json().await.unwrap();
    assert_eq!(with_key(&w, admin_key["key"].as_str().unwrap(), "/api/audit").await.status(), 200);
    let duplicate = create(&w, &w.admin, json!({ "name": "ops", "role": "user" })).await;
    assert_error(duplicate, 409, "conflict").await;
}

#[tokio::test]
async fn revoked_expired_and_malformed_keys_are_refused() {
    let w = world().await;
    let created: Value = create(&w, &w.admin, json!({ "name": "ci", "role": "user" })).await.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(with_key(&w, &key, "/api/users").await.status(), 200);
    let revoked =
        w.app.client.delete(w.app.url(&format!("/api/api-keys/{id}"))).bearer_auth(&w.admin).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    assert_error(with_key(&w, &key, "/api/users").await, 401, "unauthenticated").await;

    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let short: Value = create(&w, &w.admin, json!({ "name": "short", "role": "user", "expires_at": soon }))
        .await
        .json()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_error(with_key(&w, short["key"].as_str().unwrap(), "/api/users").await, 401, "unauthenticated").await;

    let tampered = format!("{}0", &key[..key.len() - 1]);
    for bad in ["", "tnt_", "nonsense", tampered.as_str()] {
        assert_error(with_key(&w, bad, "/api/users").await, 401, "unauthenticated").await;
    }
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    // A role outside the spec's enum is refused as the body is read; an
    // expiry in the past, once it is.
    for (body, field) in [
        (json!({ "name": "x", "role": "owner" }), "role"),
        (json!({ "name": "x", "role": "viewer", "expires_at": past }), "expires_at"),
    ] {
        let body = assert_error(create(&w, &w.admin, body).await, 400, "validation_failed").await;
        let fields: Vec<&str> =
            body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!(fields, [field]);
    }
}

#[tokio::test]
async fn keys_stay_inside_their_tenant_and_only_admins_manage_them() {
    use sqlx::Connection;
    let w = world().await;
    assert_error(create(&w, &w.user, json!({ "name": "mine", "role": "user" })).await, 403, "forbidden").await;
    let created: Value =
        create(&w, &w.admin, json!({ "name": "acme-key", "role": "admin" })).await.json().await.unwrap();
    let (key, id) = (created["key"].as_str().unwrap().to_owned(), created["id"].as_str().unwrap().to_owned());

    // Globex's admin can neither see nor revoke it.
    let theirs: Value = w
        .app
        .client
        .get(w.app.url("/api/api-keys"))
        .bearer_auth(&w.other_admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    let revoke = w
        .app
        .client
        .delete(w.app.url(&format!("/api/api-keys/{id}")))
        .bearer_auth(&w.other_admin)
        .send()
        .await
        .unwrap();
    assert_error(revoke, 404, "not_found").await;
    // The key sees acme's members only.
    let members: Value = with_key(&w, &key, "/api/users").await.json().await.unwrap();
    assert!(members["items"].as_array().unwrap().iter().all(|m| m["email"].as_str().unwrap().ends_with("@acme.test")));

    // A tenant suspended by hand in SQL (no invalidation published): its
    // keys stop within the cache's TTL (1 s).
    let mut superuser = sqlx::PgConnection::connect(&w.app.db.superuser_url).await.unwrap();
    sqlx::query("UPDATE tenants SET status = 'suspended' WHERE slug = 'acme'").execute(&mut superuser).await.unwrap();
    crate::helpers::within(std::time::Duration::from_millis(1500), "suspension", || async {
        with_key(&w, &key, "/api/users").await.status() == 401
    })
    .await;
    assert_error(with_key(&w, &key, "/api/users").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_key_over_its_limit_gets_429() {
    let app = crate::helpers::spawn_app_with(vec![("APP_API_KEY_LIMIT_PER_MINUTE", Some("3".into()))]).await;
    let acme = testkit::seed_tenant(&app.db, "acme", 1).await.unwrap();
    testkit::seed_member(&app.db, acme, "ada@acme.test", password_hash(), "admin").await.unwrap();
    let admin = access_token(&app, "ada@acme.test", PASSWORD).await;
    let key = app.api_key(&admin, "busy", "viewer").await;
    crate::helpers::wait_for_fresh_rate_window().await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            app.client.get(app.url("/api/users")).header("x-api-key", &key).send().await.unwrap().status().as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
}

async fn security_events(w: &World, event: &str) -> Vec<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&w.app.db.superuser_url).await.unwrap();
    sqlx::query_scalar("SELECT subject FROM security_log WHERE event = $1 ORDER BY created_at")
        .bind(event)
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_key_makes_user_keys_but_never_another_admin_key() {
    let w = world().await;
    let created: Value = create(&w, &w.admin, json!({ "name": "ci", "role": "admin" })).await.json().await.unwrap();
    let admin_key = created["key"].as_str().unwrap().to_owned();
    let by_key = |body: Value| {
        let request = w.app.client.post(w.app.url("/api/api-keys")).header("x-api-key", &admin_key).json(&body);
        async move { request.send().await.unwrap() }
    };
    // A leaked admin key must not outlive its revocation through a successor.
    assert_error(by_key(json!({ "name": "successor", "role": "admin" })).await, 403, "forbidden").await;
    assert_eq!(by_key(json!({ "name": "reporting", "role": "viewer" })).await.status(), 201);
    // People can.
    assert_eq!(create(&w, &w.admin, json!({ "name": "second-admin", "role": "admin" })).await.status(), 201);
}

#[tokio::test]
async fn refused_keys_reach_the_security_log_with_their_prefix_only() {
    let w = world().await;
    let created: Value = create(&w, &w.admin, json!({ "name": "ci", "role": "viewer" })).await.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    let prefix = created["prefix"].as_str().unwrap().to_owned();
    let wrong_secret = format!("{}{}", &key[..key.len() - 1], if key.ends_with('0') { '1' } else { '0' });
    assert_error(with_key(&w, &wrong_secret, "/api/users").await, 401, "unauthenticated").await;
    assert_error(with_key(&w, "not-a-key", "/api/users").await, 401, "unauthenticated").await;
    assert_eq!(security_events(&w, "api_key.refused").await, [prefix]);
    assert_eq!(security_events(&w, "api_key.malformed").await, ["malformed"]);
    let logged = security_events(&w, "api_key.refused").await.concat();
    assert!(!logged.contains(&key[17..]), "a secret reached the log");
}
