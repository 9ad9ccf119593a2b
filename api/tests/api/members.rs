//! Members and the audit log over HTTP: what each role may see, and that no
//! one sees another tenant's.

use serde_json::{json, Value};

use crate::helpers::{access_token, assert_error, password_hash, spawn_app, TestApp, PASSWORD};

struct World {
    app: TestApp,
    acme: uuid::Uuid,
    tokens: std::collections::HashMap<&'static str, String>,
    users: std::collections::HashMap<&'static str, uuid::Uuid>,
}

async fn world() -> World {
    let app = spawn_app().await;
    let acme = testkit::seed_tenant(&app.db, "acme", 1).await.unwrap();
    let globex = testkit::seed_tenant(&app.db, "globex", 1).await.unwrap();
    let mut users = std::collections::HashMap::new();
    for (who, tenant, email, role) in [
        ("admin", acme, "ada@acme.test", "admin"),
        ("user", acme, "bob@acme.test", "user"),
        ("viewer", acme, "cyd@acme.test", "viewer"),
        ("other_admin", globex, "mal@globex.test", "admin"),
    ] {
        users.insert(who, testkit::seed_member(&app.db, tenant, email, password_hash(), role).await.unwrap());
    }
    let mut tokens = std::collections::HashMap::new();
    for (who, email) in [
        ("admin", "ada@acme.test"),
        ("user", "bob@acme.test"),
        ("viewer", "cyd@acme.test"),
        ("other_admin", "mal@globex.test"),
    ] {
        tokens.insert(who, access_token(&app, email, PASSWORD).await);
    }
    World { app, acme, tokens, users }
}

async fn get(w: &World, who: Option<&str>, path: &str) -> reqwest::Response {
    let mut request = w.app.client.get(w.app.url(path));
    if let Some(who) = who {
        request = request.bearer_auth(&w.tokens[who]);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn each_role_gets_what_the_policy_allows() {
    let w = world().await;
    let matrix = [
        (Some("admin"), "/api/users", 200),
        (Some("user"), "/api/users", 200),
        (Some("viewer"), "/api/users", 200),
        (Some("other_admin"), "/api/users", 200),
        (None, "/api/users", 401),
        (Some("admin"), "/api/audit", 200),
        (Some("user"), "/api/audit", 403),
        (Some("viewer"), "/api/audit", 403),
        (Some("other_admin"), "/api/audit", 200),
        (None, "/api/audit", 401),
    ];
    for (who, path, status) in matrix {
        let response = get(&w, who, path).await;
        assert_eq!(response.status().as_u16(), status, "{who:?} GET {path}");
    }
    assert_error(get(&w, Some("viewer"), "/api/audit").await, 403, "forbidden").await;
}

#[tokio::test]
async fn members_and_audit_entries_of_another_tenant_stay_invisible() {
    let w = world().await;
    let emails = |body: Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap().to_owned()).collect()
    };
    let ours = emails(get(&w, Some("viewer"), "/api/users").await.json().await.unwrap());
    // seed_tenant's own admin, and the three seeded here, by email.
    assert_eq!(ours, ["ada@acme.test", "admin@acme.test", "bob@acme.test", "cyd@acme.test"]);
    assert!(ours.iter().all(|e| e.ends_with("@acme.test")), "{ours:?}");
    let theirs = emails(get(&w, Some("other_admin"), "/api/users").await.json().await.unwrap());
    assert!(theirs.iter().all(|e| e.ends_with("@globex.test")), "{theirs:?}");

    let audit: Value = get(&w, Some("admin"), "/api/audit").await.json().await.unwrap();
    let actors: Vec<&str> =
        audit["items"].as_array().unwrap().iter().filter_map(|e| e["actor_user_id"].as_str()).collect();
    assert_eq!(actors.len(), 3, "three sign-ins in acme: {audit}");
    let mallory = w.users["other_admin"].to_string();
    assert!(!actors.contains(&mallory.as_str()), "globex's sign-in leaked into acme's log");
}

#[tokio::test]
async fn the_audit_log_filters_and_pages() {
    let w = world().await;
    let bob = w.users["user"];
    let by_bob: Value =
        get(&w, Some("admin"), &format!("/api/audit?actor={bob}&action=login.succeeded")).await.json().await.unwrap();
    let items = by_bob["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["actor_user_id"], bob.to_string());

    let first: Value = get(&w, Some("admin"), "/api/audit?limit=2").await.json().await.unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let after = first["next_after"].as_str().expect("a second page").to_owned();
    let second: Value =
        get(&w, Some("admin"), &format!("/api/audit?limit=2&after={after}")).await.json().await.unwrap();
    let ids = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(ids(&second).iter().all(|id| !ids(&first).contains(id)), "pages overlap");
    assert!(second["next_after"].is_null());

    let bad = get(&w, Some("admin"), "/api/audit?limit=0").await;
    let body = assert_error(bad, 400, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "limit");
}

#[tokio::test]
async fn a_member_removed_behind_the_apis_back_loses_access_within_a_second() {
    use sqlx::Connection;
    let w = world().await;
    assert_eq!(get(&w, Some("user"), "/api/users").await.status(), 200);
    let mut owner = sqlx::PgConnection::connect(&w.app.db.owner_url).await.unwrap();
    let mut tx = owner.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1::text, true)").bind(w.acme).execute(&mut *tx).await.unwrap();
    sqlx::query("DELETE FROM memberships WHERE user_id = $1").bind(w.users["user"]).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    // Through the API a removal is in force at once (the invalidation is
    // published); in SQL by hand, when the cached role expires (1 s).
    crate::helpers::within(std::time::Duration::from_millis(1500), "removal", || async {
        get(&w, Some("user"), "/api/users").await.status() == 401
    })
    .await;
    assert_error(get(&w, Some("user"), "/api/users").await, 401, "unauthenticated").await;
    assert_error(get(&w, Some("user"), "/api/auth/me").await, 401, "unauthenticated").await;
}

async fn send(w: &World, who: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = w.app.client.request(method, w.app.url(path)).bearer_auth(&w.tokens[who]);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn admins_change_roles_and_remove_members_but_never_the_last_admin() {
    use reqwest::Method;
    let w = world().await;
    let (bob, cyd, ada) = (w.users["user"], w.users["viewer"], w.users["admin"]);
    let changed =
        send(&w, "admin", Method::PATCH, &format!("/api/users/{bob}"), Some(json!({ "role": "viewer" }))).await;
    assert_eq!(changed.status(), 200);
    let body: Value = changed.json().await.unwrap();
    assert_eq!((body["role"].as_str(), body["email"].as_str()), (Some("viewer"), Some("bob@acme.test")));
    // Bob is a viewer from his next request on.
    assert_eq!(get(&w, Some("user"), "/api/audit").await.status(), 403);

    // Only admins may.
    let by_viewer =
        send(&w, "viewer", Method::PATCH, &format!("/api/users/{bob}"), Some(json!({ "role": "admin" }))).await;
    assert_error(by_viewer, 403, "forbidden").await;
    assert_error(send(&w, "viewer", Method::DELETE, &format!("/api/users/{bob}"), None).await, 403, "forbidden").await;

    // Demote the seeded admin; Ada is then the last one.
    let members: Value = get(&w, Some("admin"), "/api/users").await.json().await.unwrap();
    let seeded = members["items"].as_array().unwrap().iter().find(|m| m["email"] == "admin@acme.test").unwrap()
        ["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let demoted =
        send(&w, "admin", Method::PATCH, &format!("/api/users/{seeded}"), Some(json!({ "role": "user" }))).await;
    assert_eq!(demoted.status(), 200);
    let last = send(&w, "admin", Method::PATCH, &format!("/api/users/{ada}"), Some(json!({ "role": "user" }))).await;
    assert_error(last, 409, "last_admin").await;
    assert_error(send(&w, "admin", Method::DELETE, &format!("/api/users/{ada}"), None).await, 409, "last_admin").await;

    // Removal ends access at once.
    assert_eq!(send(&w, "admin", Method::DELETE, &format!("/api/users/{cyd}"), None).await.status(), 204);
    assert_error(get(&w, Some("viewer"), "/api/users").await, 401, "unauthenticated").await;

    let audit: Value = get(&w, Some("admin"), "/api/audit?action=member.removed").await.json().await.unwrap();
    assert_eq!(audit["items"][0]["target"], cyd.to_string());
    let changes: Value = get(&w, Some("admin"), "/api/audit?action=member.role_changed").await.json().await.unwrap();
    assert_eq!(changes["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn another_tenants_member_is_not_found_and_left_unchanged() {
    use reqwest::Method;
    let w = world().await;
    let mallory = w.users["other_admin"];
    let patch =
        send(&w, "admin", Method::PATCH, &format!("/api/users/{mallory}"), Some(json!({ "role": "viewer" }))).await;
    assert_error(patch, 404, "not_found").await;
    assert_error(send(&w, "admin", Method::DELETE, &format!("/api/users/{mallory}"), None).await, 404, "not_found")
        .await;
    assert_eq!(get(&w, Some("other_admin"), "/api/audit").await.status(), 200, "Mallory is still globex's admin");
    let unknown = uuid::Uuid::new_v4();
    assert_error(send(&w, "admin", Method::DELETE, &format!("/api/users/{unknown}"), None).await, 404, "not_found")
        .await;
}

#[tokio::test]
async fn role_changes_reject_bad_input_naming_the_field() {
    use reqwest::Method;
    let w = world().await;
    let bob = w.users["user"];
    let path = format!("/api/users/{bob}");
    for (body, field) in [
        (json!({ "role": "owner" }), "role"),
        (json!({ "role": "viewer", "tenant_id": uuid::Uuid::new_v4() }), "tenant_id"),
        (json!({}), "role"),
    ] {
        let response = send(&w, "admin", Method::PATCH, &path, Some(body.clone())).await;
        let error = assert_error(response, 400, "validation_failed").await;
        assert_eq!(error["error"]["details"][0]["field"], field, "{body}");
    }
    let bad_id = send(&w, "admin", Method::PATCH, "/api/users/not-a-uuid", Some(json!({ "role": "viewer" }))).await;
    let error = assert_error(bad_id, 400, "validation_failed").await;
    assert_eq!(error["error"]["details"][0]["field"], "id");
}

#[tokio::test]
async fn a_suspended_tenants_members_are_refused() {
    use sqlx::Connection;
    let w = world().await;
    let mut superuser = sqlx::PgConnection::connect(&w.app.db.superuser_url).await.unwrap();
    sqlx::query("UPDATE tenants SET status = 'suspended' WHERE id = $1")
        .bind(w.acme)
        .execute(&mut superuser)
        .await
        .unwrap();
    // Suspended by hand in SQL, not through the API: no invalidation is
    // published, so each replica's cached role lasts its TTL (1 s) at most.
    crate::helpers::within(std::time::Duration::from_millis(1500), "suspension", || async {
        get(&w, Some("admin"), "/api/users").await.status() == 401
    })
    .await;
    assert_error(get(&w, Some("admin"), "/api/users").await, 401, "unauthenticated").await;
    assert_error(get(&w, Some("admin"), "/api/auth/me").await, 401, "unauthenticated").await;
    assert_eq!(get(&w, Some("other_admin"), "/api/users").await.status(), 200, "other tenants carry on");
}

#[tokio::test]
async fn with_sessions_unknowable_a_bearer_caller_gets_503_not_401() {
    use api::auth::tokens::{KeyMaterial, TokenKeys};
    let (signing, _, refresh) = TokenKeys::generate_hex().unwrap();
    let app = crate::helpers::spawn_app_with(vec![
        ("REDIS_URL", Some(format!("redis://127.0.0.1:{}", crate::helpers::dead_port()))),
        ("APP_PASETO_SIGNING_KEY", Some(signing.clone())),
        ("APP_PASETO_REFRESH_KEY", Some(refresh.clone())),
    ])
    .await;
    let keys = TokenKeys::new(
        "tenantry",
        "tenantry-api",
        std::time::Duration::from_secs(600),
        &KeyMaterial { signing_key_hex: &signing, previous_keys: &[], refresh_key_hex: &refresh },
    )
    .unwrap();
    let token = keys.issue_access(db::UserId::random(), db::TenantId::random(), db::SessionId::random()).unwrap();
    let response = app.client.get(app.url("/api/users")).bearer_auth(token).send().await.unwrap();
    assert_error(response, 503, "unavailable").await;
}
