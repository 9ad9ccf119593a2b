//! Members and the audit log over HTTP: what each role may see, and that no
//! one sees another tenant's.

use serde_json::{json, Value};

use api::domain::Role;

use crate::helpers::{assert_error, dead_port, spawn_app, spawn_app_with, within, TestApp};

#[tokio::test]
async fn each_role_gets_what_the_policy_allows() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let matrix = [
        (Some(&t.admin), "/api/users", 200),
        (Some(&t.user), "/api/users", 200),
        (Some(&t.viewer), "/api/users", 200),
        (Some(&t.other_admin), "/api/users", 200),
        (None, "/api/users", 401),
        (Some(&t.admin), "/api/audit", 200),
        (Some(&t.user), "/api/audit", 403),
        (Some(&t.viewer), "/api/audit", 403),
        (Some(&t.other_admin), "/api/audit", 200),
        (None, "/api/audit", 401),
    ];
    for (who, path, status) in matrix {
        let response = match who {
            Some(member) => app.bearer_get(path, &member.token).await,
            None => app.get(path).await,
        };
        assert_eq!(response.status().as_u16(), status, "{:?} GET {path}", who.map(|m| &m.email));
    }
    assert_error(app.bearer_get("/api/audit", &t.viewer.token).await, 403, "forbidden").await;
}

#[tokio::test]
async fn members_and_audit_entries_of_another_tenant_stay_invisible() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let emails = |members: Vec<Value>| -> Vec<String> {
        members.iter().map(|m| m["email"].as_str().unwrap().to_owned()).collect()
    };
    let ours = emails(app.list_members(&t.viewer.token).await);
    // seed_tenant's own admin, and the three two_tenants adds, as they joined.
    assert_eq!(ours, ["admin@acme.test", "ada@acme.test", "bob@acme.test", "cyd@acme.test"]);
    assert!(ours.iter().all(|e| e.ends_with("@acme.test")), "{ours:?}");
    let theirs = emails(app.list_members(&t.other_admin.token).await);
    assert!(theirs.iter().all(|e| e.ends_with("@globex.test")), "{theirs:?}");

    let audit = app.get_json("/api/audit", &t.admin.token).await;
    let actors: Vec<&str> =
        audit["items"].as_array().unwrap().iter().filter_map(|e| e["actor_user_id"].as_str()).collect();
    assert_eq!(actors.len(), 3, "three sign-ins in acme: {audit}");
    let mallory = t.other_admin.user_id.to_string();
    assert!(!actors.contains(&mallory.as_str()), "globex's sign-in leaked into acme's log");
}

#[tokio::test]
async fn the_audit_log_filters_and_pages() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let (admin, bob) = (&t.admin.token, t.user.user_id);
    let by_bob = app.get_json(&format!("/api/audit?actor={bob}&action=login.succeeded"), admin).await;
    let items = by_bob["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["actor_user_id"], bob.to_string());

    let first = app.get_json("/api/audit?limit=2", admin).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next"].as_str().expect("a second page").to_owned();
    let second = app.get_json(&format!("/api/audit?limit=2&cursor={cursor}"), admin).await;
    let ids = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(ids(&second).iter().all(|id| !ids(&first).contains(id)), "pages overlap");
    assert!(second["next"].is_null());

    let bad = app.bearer_get("/api/audit?limit=0", admin).await;
    let body = assert_error(bad, 400, "validation_failed").await;
    assert_eq!(body["error"]["details"][0]["field"], "limit");
}

#[tokio::test]
async fn a_member_removed_behind_the_apis_back_loses_access_within_a_second() {
    use sqlx::Connection;
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let bob = &t.user.token;
    assert_eq!(app.bearer_get("/api/users", bob).await.status(), 200);
    let mut owner = sqlx::PgConnection::connect(&app.db.owner_url).await.unwrap();
    let mut tx = owner.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1::text, true)")
        .bind(t.admin.tenant)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("DELETE FROM memberships WHERE user_id = $1").bind(t.user.user_id).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    // Through the API a removal is in force at once (the invalidation is
    // published); in SQL by hand, when the cached role expires (1 s).
    within(std::time::Duration::from_millis(1500), "removal", || async {
        app.bearer_get("/api/users", bob).await.status() == 401
    })
    .await;
    assert_error(app.bearer_get("/api/users", bob).await, 401, "unauthenticated").await;
    assert_error(app.bearer_get("/api/auth/me", bob).await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn admins_change_roles_and_remove_members_but_never_the_last_admin() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let (admin, viewer) = (&t.admin.token, &t.viewer.token);
    let (bob, cyd, ada) = (t.user.user_id, t.viewer.user_id, t.admin.user_id);
    let changed = app.bearer_patch(&format!("/api/users/{bob}"), admin, json!({ "role": "viewer" })).await;
    assert_eq!(changed.status(), 200);
    let body: Value = changed.json().await.unwrap();
    assert_eq!((body["role"].as_str(), body["email"].as_str()), (Some("viewer"), Some("bob@acme.test")));
    // Bob is a viewer from his next request on.
    assert_eq!(app.bearer_get("/api/audit", &t.user.token).await.status(), 403);

    // Only admins may.
    let by_viewer = app.bearer_patch(&format!("/api/users/{bob}"), viewer, json!({ "role": "admin" })).await;
    assert_error(by_viewer, 403, "forbidden").await;
    assert_error(app.bearer_delete(&format!("/api/users/{bob}"), viewer).await, 403, "forbidden").await;

    // Demote the seeded admin; Ada is then the last one.
    let members = app.list_members(admin).await;
    let seeded =
        members.iter().find(|m| m["email"] == "admin@acme.test").unwrap()["user_id"].as_str().unwrap().to_owned();
    let demoted = app.bearer_patch(&format!("/api/users/{seeded}"), admin, json!({ "role": "user" })).await;
    assert_eq!(demoted.status(), 200);
    let last = app.bearer_patch(&format!("/api/users/{ada}"), admin, json!({ "role": "user" })).await;
    assert_error(last, 409, "last_admin").await;
    assert_error(app.bearer_delete(&format!("/api/users/{ada}"), admin).await, 409, "last_admin").await;

    // Removal ends access at once.
    assert_eq!(app.bearer_delete(&format!("/api/users/{cyd}"), admin).await.status(), 204);
    assert_error(app.bearer_get("/api/users", viewer).await, 401, "unauthenticated").await;

    let audit = app.get_json("/api/audit?action=member.removed", admin).await;
    assert_eq!(audit["items"][0]["target"], cyd.to_string());
    let changes = app.get_json("/api/audit?action=member.role_changed", admin).await;
    assert_eq!(changes["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn another_tenants_member_is_not_found_and_left_unchanged() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let (admin, mallory) = (&t.admin.token, t.other_admin.user_id);
    let patch = app.bearer_patch(&format!("/api/users/{mallory}"), admin, json!({ "role": "viewer" })).await;
    assert_error(patch, 404, "not_found").await;
    assert_error(app.bearer_delete(&format!("/api/users/{mallory}"), admin).await, 404, "not_found").await;
    let theirs = app.bearer_get("/api/audit", &t.other_admin.token).await;
    assert_eq!(theirs.status(), 200, "Mallory is still globex's admin");
    let unknown = uuid::Uuid::new_v4();
    assert_error(app.bearer_delete(&format!("/api/users/{unknown}"), admin).await, 404, "not_found").await;
}

#[tokio::test]
async fn role_changes_reject_bad_input_naming_the_field() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let path = format!("/api/users/{}", t.user.user_id);
    for (body, field) in [
        (json!({ "role": "owner" }), "role"),
        (json!({ "role": "viewer", "tenant_id": uuid::Uuid::new_v4() }), "tenant_id"),
        (json!({}), "role"),
    ] {
        let response = app.bearer_patch(&path, &t.admin.token, body.clone()).await;
        let error = assert_error(response, 400, "validation_failed").await;
        assert_eq!(error["error"]["details"][0]["field"], field, "{body}");
    }
    let bad_id = app.bearer_patch("/api/users/not-a-uuid", &t.admin.token, json!({ "role": "viewer" })).await;
    let error = assert_error(bad_id, 400, "validation_failed").await;
    assert_eq!(error["error"]["details"][0]["field"], "id");
}

#[tokio::test]
async fn a_suspended_tenants_members_are_refused() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    app.execute_sql(&format!("UPDATE tenants SET status = 'suspended' WHERE id = '{}'", t.admin.tenant)).await;
    // Suspended by hand in SQL, not through the API: no invalidation is
    // published, so each replica's cached role lasts its TTL (1 s) at most.
    let admin = &t.admin.token;
    within(std::time::Duration::from_millis(1500), "suspension", || async {
        app.bearer_get("/api/users", admin).await.status() == 401
    })
    .await;
    assert_error(app.bearer_get("/api/users", admin).await, 401, "unauthenticated").await;
    assert_error(app.bearer_get("/api/auth/me", admin).await, 401, "unauthenticated").await;
    let others = app.bearer_get("/api/users", &t.other_admin.token).await;
    assert_eq!(others.status(), 200, "other tenants carry on");
}

#[tokio::test]
async fn with_sessions_unknowable_a_bearer_caller_gets_503_not_401() {
    use api::auth::tokens::{KeyMaterial, TokenKeys};
    let (signing, _, refresh) = TokenKeys::generate_hex().unwrap();
    let app = spawn_app_with(vec![
        ("REDIS_URL", Some(format!("redis://127.0.0.1:{}", dead_port()))),
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
    assert_error(app.bearer_get("/api/users", &token).await, 503, "unavailable").await;
}

/// Every item of the list at `path`, walked in pages of two: their `key`.
async fn walk(app: &TestApp, path: &str, token: &str, key: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = app.get_json(&format!("{path}?limit=2{query}"), token).await;
        let items = page["items"].as_array().unwrap_or_else(|| panic!("{path}: {page}"));
        assert!(items.len() <= 2, "{path}: a page larger than its limit");
        seen.extend(items.iter().map(|i| i[key].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn members_keys_and_invitations_page_by_cursor_each_once() {
    let app = spawn_app().await;
    let ada = app.sign_in_as(Role::Admin).await;
    for n in 0..3 {
        app.seed_member(ada.tenant, &format!("member{n}@acme.test"), Role::Viewer).await;
        app.api_key(&ada.token, &format!("key-{n}"), Role::Viewer).await;
        assert_eq!(app.invite(&ada.token, &format!("invitee{n}@acme.test"), Role::User).await.status(), 201);
    }
    let members = walk(&app, "/api/users", &ada.token, "email").await;
    assert_eq!(members.len(), 5, "the seeded admin, Ada and three more: {members:?}");
    let keys = walk(&app, "/api/api-keys", &ada.token, "name").await;
    assert_eq!(keys, ["key-0", "key-1", "key-2"], "oldest first");
    let invitations = walk(&app, "/api/invitations", &ada.token, "email").await;
    assert_eq!(invitations.len(), 4, "the seeded one and three: {invitations:?}");
    assert_eq!(invitations[0], "invitee2@acme.test", "newest first");
    let unique: std::collections::HashSet<&String> = members.iter().collect();
    assert_eq!(unique.len(), members.len(), "no member twice");
    for list in ["/api/users", "/api/api-keys", "/api/invitations"] {
        assert_error(app.bearer_get(&format!("{list}?cursor=bm9wZQ"), &ada.token).await, 400, "validation_failed")
            .await;
    }
}

#[tokio::test]
async fn members_are_searched_by_email_or_name_and_filtered_by_role() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let admin = &t.admin.token;
    let emails = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap().to_owned()).collect()
    };
    let viewers = app.get_json("/api/users?role=viewer", admin).await;
    assert_eq!(emails(&viewers), ["cyd@acme.test"]);
    let admins = app.get_json("/api/users?role=admin", admin).await;
    assert_eq!(admins["items"].as_array().unwrap().len(), 2, "{admins}");
    // In any case; another tenant's members never match.
    assert_eq!(emails(&app.get_json("/api/users?q=BOB", admin).await), ["bob@acme.test"]);
    assert!(emails(&app.get_json("/api/users?q=mal", admin).await).is_empty());
    assert!(emails(&app.get_json("/api/users?q=bob&role=viewer", admin).await).is_empty());
    // LIKE's characters are searched for, not obeyed.
    assert!(emails(&app.get_json("/api/users?q=%25", admin).await).is_empty());
    assert!(emails(&app.get_json("/api/users?q=_", admin).await).is_empty());
    // A search pages like the list.
    let first = app.get_json("/api/users?q=acme&limit=2", admin).await;
    let cursor = first["next"].as_str().expect("a second page").to_owned();
    let second = app.get_json(&format!("/api/users?q=acme&limit=2&cursor={cursor}"), admin).await;
    assert_eq!(emails(&first).len() + emails(&second).len(), 4);
    assert!(emails(&second).iter().all(|e| !emails(&first).contains(e)), "pages overlap");

    let bad = app.bearer_get("/api/users?role=owner", admin).await;
    assert_eq!(assert_error(bad, 400, "validation_failed").await["error"]["details"][0]["field"], "role");
    let bad = app.bearer_get("/api/users?q=a%00b", admin).await;
    assert_eq!(assert_error(bad, 400, "validation_failed").await["error"]["details"][0]["field"], "q");
}

#[tokio::test]
async fn the_audit_log_filters_by_time() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let admin = &t.admin.token;
    let count = |page: Value| page["items"].as_array().unwrap().len();
    let all = count(app.get_json("/api/audit?limit=100", admin).await);
    assert!(all > 0);
    assert_eq!(count(app.get_json("/api/audit?limit=100&since=2000-01-01T00:00:00Z", admin).await), all);
    assert_eq!(count(app.get_json("/api/audit?limit=100&until=2000-01-01T00:00:00Z", admin).await), 0);
    assert_eq!(count(app.get_json("/api/audit?limit=100&since=2999-01-01T00:00:00Z", admin).await), 0);
    let bad = app.bearer_get("/api/audit?since=yesterday", admin).await;
    assert_eq!(assert_error(bad, 400, "validation_failed").await["error"]["details"][0]["field"], "since");
    // A time PostgreSQL cannot hold is the caller's mistake, not a 500.
    let far = app.bearer_get("/api/audit?until=200000-01-01T00:00:00Z", admin).await;
    assert_eq!(assert_error(far, 400, "validation_failed").await["error"]["details"][0]["field"], "until");
}
