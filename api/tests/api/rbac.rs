//! The permission matrix over HTTP: every tenant endpoint × admin, user,
//! viewer, an API key (viewer role), another tenant's admin and nobody, with
//! the status each must get. A viewer writes nowhere; another tenant's admin
//! has no rights here; ids of another tenant are 404.

use std::collections::HashMap;

use api::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Who {
    Admin,
    User,
    Viewer,
    Key,
    OtherAdmin,
    Nobody,
}

const EVERYONE: [Who; 6] = [Who::Admin, Who::User, Who::Viewer, Who::Key, Who::OtherAdmin, Who::Nobody];

struct World {
    app: TestApp,
    bearer: HashMap<Who, String>,
    key: String,
    viewer_id: uuid::Uuid,
    other_member_id: uuid::Uuid,
    /// The open invitation `seed_tenant` gave acme.
    invitation_id: uuid::Uuid,
    /// The project `seed_tenant` gave acme (owned by no one), and its
    /// pending upload.
    project_id: uuid::Uuid,
    file_id: uuid::Uuid,
    /// A project of acme's user.
    users_project_id: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let t = app.two_tenants().await;
    let key = app.api_key(&t.admin.token, "matrix", Role::Viewer).await;
    let (invitation_id, project_id, file_id) = {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&app.db.superuser_url).await.unwrap();
        let id = |sql: &'static str| sqlx::query_scalar::<_, uuid::Uuid>(sql).bind(t.admin.tenant);
        (
            id("SELECT id FROM invitations WHERE tenant_id = $1").fetch_one(&mut conn).await.unwrap(),
            id("SELECT id FROM projects WHERE tenant_id = $1").fetch_one(&mut conn).await.unwrap(),
            id("SELECT id FROM project_files WHERE tenant_id = $1").fetch_one(&mut conn).await.unwrap(),
        )
    };
    let users_project_id = app.create_project(&t.user.token, "Bob's").await["id"].as_str().unwrap().to_owned();
    let (viewer_id, other_member_id) = (t.viewer.user_id, t.other_admin.user_id);
    let bearer = HashMap::from([
        (Who::Admin, t.admin.token),
        (Who::User, t.user.token),
        (Who::Viewer, t.viewer.token),
        (Who::OtherAdmin, t.other_admin.token),
    ]);
    World { app, bearer, key, viewer_id, other_member_id, invitation_id, project_id, file_id, users_project_id }
}

async fn call(w: &World, who: Who, method: Method, path: &str, body: Option<Value>) -> u16 {
    let mut request = w.app.client.request(method, w.app.url(path));
    request = match who {
        Who::Key => request.header("x-api-key", &w.key),
        Who::Nobody => request,
        person => request.bearer_auth(&w.bearer[&person]),
    };
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn every_endpoint_answers_every_caller_as_the_policy_says() {
    let w = world().await;
    let random = uuid::Uuid::new_v4();
    let (viewer, other, invitation) = (w.viewer_id, w.other_member_id, w.invitation_id);
    let (project, file, bobs) = (w.project_id, w.file_id, &w.users_project_id);
    // Statuses in the order of EVERYONE: admin, user, viewer, key, other tenant's admin, nobody.
    let matrix: Vec<(Method, String, Option<Value>, [u16; 6])> = vec![
        (Method::GET, "/api/users".into(), None, [200, 200, 200, 200, 200, 401]),
        (Method::GET, "/api/audit".into(), None, [200, 403, 403, 403, 200, 401]),
        (Method::GET, "/api/api-keys".into(), None, [200, 403, 403, 403, 200, 401]),
        // A role change to the role the member has: allowed or not, it changes nothing.
        (
            Method::PATCH,
            format!("/api/users/{viewer}"),
            Some(json!({ "role": "viewer" })),
            [200, 403, 403, 403, 404, 401],
        ),
        (
            Method::PATCH,
            format!("/api/users/{other}"),
            Some(json!({ "role": "admin" })),
            [404, 403, 403, 403, 200, 401],
        ),
        (Method::DELETE, format!("/api/users/{random}"), None, [404, 403, 403, 403, 404, 401]),
        (Method::DELETE, format!("/api/api-keys/{random}"), None, [404, 403, 403, 403, 404, 401]),
        (Method::GET, "/api/invitations".into(), None, [200, 403, 403, 403, 200, 401]),
        (Method::DELETE, format!("/api/invitations/{random}"), None, [404, 403, 403, 403, 404, 401]),
        // Acme's invitation: its admin revokes it (first); the others may not.
        (Method::DELETE, format!("/api/invitations/{invitation}"), None, [204, 403, 403, 403, 404, 401]),
        // Public: the token decides, not the caller.
        (
            Method::POST,
            "/api/invitations/accept".into(),
            Some(json!({ "token": "0".repeat(64) })),
            [400, 400, 400, 400, 400, 400],
        ),
        (Method::GET, "/api/auth/me".into(), None, [200, 200, 200, 401, 200, 401]),
        (Method::GET, "/api/auth/sessions".into(), None, [200, 200, 200, 401, 200, 401]),
        (Method::GET, "/api/tenants".into(), None, [401, 401, 401, 401, 401, 401]),
        // Projects: everyone reads; users change what they own (acme's seeded
        // project is owned by no one); another tenant's ids are 404.
        (Method::GET, "/api/projects".into(), None, [200, 200, 200, 200, 200, 401]),
        (Method::GET, format!("/api/projects/{project}"), None, [200, 200, 200, 200, 404, 401]),
        (
            Method::PATCH,
            format!("/api/projects/{project}"),
            Some(json!({ "description": "by an admin" })),
            [200, 403, 403, 403, 404, 401],
        ),
        (
            Method::PATCH,
            format!("/api/projects/{bobs}"),
            Some(json!({ "description": "by its owner" })),
            [200, 200, 403, 403, 404, 401],
        ),
        (Method::DELETE, format!("/api/projects/{random}"), None, [404, 404, 403, 403, 404, 401]),
        // Files follow their project; storage is not configured in this app
        // (503 once authorized).
        (Method::GET, format!("/api/projects/{project}/files"), None, [200, 200, 200, 200, 404, 401]),
        (Method::GET, format!("/api/projects/{project}/files/{file}"), None, [200, 200, 200, 200, 404, 401]),
        (Method::GET, format!("/api/projects/{project}/files/{file}/download"), None, [409, 409, 409, 409, 404, 401]),
        (
            Method::POST,
            format!("/api/projects/{project}/files"),
            Some(json!({ "name": "a.txt", "content_type": "text/plain", "size": 1 })),
            [503, 403, 403, 403, 404, 401],
        ),
        (
            Method::POST,
            format!("/api/projects/{project}/files/{file}/complete"),
            Some(json!({})),
            [503, 403, 403, 403, 404, 401],
        ),
        (Method::DELETE, format!("/api/projects/{project}/files/{random}"), None, [404, 403, 403, 403, 404, 401]),
        (Method::GET, "/api/files/usage".into(), None, [200, 200, 200, 200, 200, 401]),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, expected) in &matrix {
        for (who, want) in EVERYONE.iter().zip(expected) {
            let got = call(&w, *who, method.clone(), path, body.clone()).await;
            if got != *want {
                wrong.push(format!("{who:?} {method} {path}: got {got}, want {want}"));
            }
        }
    }
    // Creating keys: each caller tries once, with a name of its own.
    for (who, want) in EVERYONE.iter().zip([201, 403, 403, 403, 201, 401]) {
        let body = json!({ "name": format!("by-{who:?}"), "role": "viewer" });
        let got = call(&w, *who, Method::POST, "/api/api-keys", Some(body)).await;
        if got != want {
            wrong.push(format!("{who:?} POST /api/api-keys: got {got}, want {want}"));
        }
    }
    for (who, want) in EVERYONE.iter().zip([201, 403, 403, 403, 201, 401]) {
        let body = json!({ "email": format!("{who:?}@invited.test"), "role": "viewer" });
        let got = call(&w, *who, Method::POST, "/api/invitations", Some(body)).await;
        if got != want {
            wrong.push(format!("{who:?} POST /api/invitations: got {got}, want {want}"));
        }
    }
    for (who, want) in EVERYONE.iter().zip([201, 201, 403, 403, 201, 401]) {
        let body = json!({ "name": format!("by-{who:?}") });
        let got = call(&w, *who, Method::POST, "/api/projects", Some(body)).await;
        if got != want {
            wrong.push(format!("{who:?} POST /api/projects: got {got}, want {want}"));
        }
    }
    assert!(wrong.is_empty(), "matrix mismatches:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_viewer_writes_nowhere_and_nothing_changed() {
    let w = world().await;
    let before = w.app.list_members(&w.bearer[&Who::Admin]).await;
    for who in [Who::Viewer, Who::Key] {
        for (method, path, body) in [
            (Method::PATCH, format!("/api/users/{}", w.viewer_id), Some(json!({ "role": "admin" }))),
            (Method::DELETE, format!("/api/users/{}", w.viewer_id), None),
            (Method::POST, "/api/api-keys".to_owned(), Some(json!({ "name": "sneaky", "role": "admin" }))),
            (Method::POST, "/api/invitations".to_owned(), Some(json!({ "email": "me@sneaky.test", "role": "admin" }))),
            (Method::DELETE, format!("/api/invitations/{}", w.invitation_id), None),
            (Method::POST, "/api/projects".to_owned(), Some(json!({ "name": "sneaky" }))),
            (Method::PATCH, format!("/api/projects/{}", w.project_id), Some(json!({ "name": "sneaky" }))),
            (Method::DELETE, format!("/api/projects/{}", w.project_id), None),
            (Method::DELETE, format!("/api/projects/{}/files/{}", w.project_id, w.file_id), None),
        ] {
            assert_eq!(call(&w, who, method.clone(), &path, body).await, 403, "{who:?} {method} {path}");
        }
    }
    let after = w.app.list_members(&w.bearer[&Who::Admin]).await;
    assert_eq!(before, after);
}
