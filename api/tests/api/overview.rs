//! The tenant at a glance (`GET /api/overview`): its counts, each only for
//! a role that may read what it counts, and never another tenant's.

use serde_json::json;

use api::domain::Role;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_overview_counts_what_each_role_may_read() {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    app.api_key(&t.admin.token, "ci", Role::Viewer).await;
    assert_eq!(app.invite(&t.admin.token, "dee@acme.test", Role::User).await.status(), 201);
    let archived = app.bearer_post("/api/projects", &t.user.token, json!({ "name": "Old" })).await;
    let archived: serde_json::Value = archived.json().await.unwrap();
    let id = archived["id"].as_str().unwrap();
    let change = app.bearer_patch(&format!("/api/projects/{id}"), &t.user.token, json!({ "status": "archived" })).await;
    assert_eq!(change.status(), 200);
    // Globex has its own of everything; none of it counts for acme.
    app.api_key(&t.other_admin.token, "theirs", Role::Admin).await;

    let admin = app.get_json("/api/overview", &t.admin.token).await;
    assert_eq!(admin["members"], json!({ "admins": 2, "users": 1, "viewers": 1 }), "{admin}");
    // The seeded one and Dee's.
    assert_eq!(admin["pending_invitations"], 2);
    assert_eq!(admin["active_api_keys"], 1);
    assert_eq!(admin["projects"], json!({ "active": 1, "archived": 1 }));

    // A viewer reads members and projects, not invitations or keys.
    let viewer = app.get_json("/api/overview", &t.viewer.token).await;
    assert_eq!(viewer["members"]["viewers"], 1);
    assert_eq!(viewer["projects"]["active"], 1);
    assert!(viewer.get("pending_invitations").is_none() && viewer.get("active_api_keys").is_none(), "{viewer}");

    assert_eq!(app.get("/api/overview").await.status(), 401);
}
