//! Projects through the API: the whole life of one, pages and filters, the
//! owner rule, lost updates prevented by ETags, idempotent creation, and
//! another tenant's ids.

use api::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

impl TestApp {
    /// Creates a project, which must succeed: its body.
    pub async fn create_project(&self, token: &str, name: &str) -> Value {
        let response = self.bearer_post("/api/projects", token, json!({ "name": name })).await;
        assert_eq!(response.status(), 201, "creating {name}");
        response.json().await.unwrap()
    }

    /// `PATCH` with an `If-Match`.
    async fn patch_if_match(&self, path: &str, token: &str, etag: &str, body: Value) -> reqwest::Response {
        self.client.patch(self.url(path)).bearer_auth(token).header("if-match", etag).json(&body).send().await.unwrap()
    }

    /// `POST /api/projects` with an `Idempotency-Key`.
    async fn create_with_key(&self, token: &str, key: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/projects"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

fn etag(response: &reqwest::Response) -> String {
    response.headers().get("etag").expect("an ETag").to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_project_is_created_read_changed_archived_and_deleted() {
    let app = spawn_app().await;
    let ada = app.sign_in_as(Role::Admin).await;
    let response = app
        .bearer_post(
            "/api/projects",
            &ada.token,
            json!({ "name": "  Apollo ", "description": "to the moon\nand back" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created_tag = etag(&response);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let project: Value = response.json().await.unwrap();
    assert_eq!(project["name"], "Apollo");
    assert_eq!(project["status"], "active");
    assert_eq!(project["owner_id"], ada.user_id.to_string());
    assert_eq!(location, format!("/api/projects/{}", project["id"].as_str().unwrap()));

    let read = app.bearer_get(&location, &ada.token).await;
    assert_eq!(read.status(), 200);
    assert_eq!(etag(&read), created_tag);

    let changed = app.patch_if_match(&location, &ada.token, &created_tag, json!({ "status": "archived" })).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(etag(&changed), created_tag, "a change makes a new ETag");
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["status"], "archived");
    assert_eq!(changed["description"], "to the moon\nand back", "absent fields stay");

    assert_eq!(app.bearer_delete(&location, &ada.token).await.status(), 204);
    assert_error(app.bearer_get(&location, &ada.token).await, 404, "not_found").await;
    let audit = app.get_json("/api/audit?action=project.deleted", &ada.token).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_projects_are_refused_field_by_field() {
    let app = spawn_app().await;
    let ada = app.sign_in_as(Role::Admin).await;
    let body = assert_error(
        app.bearer_post("/api/projects", &ada.token, json!({ "name": " ", "description": "bell\u{7}" })).await,
        400,
        "validation_failed",
    )
    .await;
    let mut fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["description", "name"]);
    app.create_project(&ada.token, "Apollo").await;
    assert_error(app.bearer_post("/api/projects", &ada.token, json!({ "name": "Apollo" })).await, 409, "conflict")
        .await;
    let project = app.create_project(&ada.token, "Gemini").await;
    let path = format!("/api/projects/{}", project["id"].as_str().unwrap());
    assert_error(app.bearer_patch(&path, &ada.token, json!({ "name": "Apollo" })).await, 409, "conflict").await;
    let stranger = uuid::Uuid::new_v4();
    let body = assert_error(
        app.bearer_patch(&path, &ada.token, json!({ "owner_id": stranger })).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["field"], "owner_id");
    for query in ["limit=0", "limit=101", "cursor=not-ours", "status=deleted", "owner_id=x"] {
        assert_error(app.bearer_get(&format!("/api/projects?{query}"), &ada.token).await, 400, "validation_failed")
            .await;
    }
}

#[tokio::test]
async fn lists_page_by_cursor_and_filter_by_status_owner_and_name() {
    let app = spawn_app().await;
    let world = app.two_tenants().await;
    let (ada, bob) = (&world.admin, &world.user);
    for name in ["Alpha 50%", "Beta", "alphabet", "Gamma"] {
        app.create_project(&ada.token, name).await;
    }
    let bobs = app.create_project(&bob.token, "Bob's own").await;
    let path = format!("/api/projects/{}", bobs["id"].as_str().unwrap());
    assert_eq!(app.bearer_patch(&path, &bob.token, json!({ "status": "archived" })).await.status(), 200);

    // Every project once, in pages of two, in a stable order (the seeded
    // tenant's own project first).
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let query = next.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = app.get_json(&format!("/api/projects?limit=2{query}"), &ada.token).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|p| p["name"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(cursor) => next = Some(cursor.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert_eq!(&seen[1..], ["Alpha 50%", "Beta", "alphabet", "Gamma", "Bob's own"]);

    let names = |page: Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(app.get_json("/api/projects?q=ALPHA", &ada.token).await), ["Alpha 50%", "alphabet"]);
    assert_eq!(names(app.get_json("/api/projects?q=50%25", &ada.token).await), ["Alpha 50%"], "% is literal");
    assert_eq!(names(app.get_json("/api/projects?status=archived", &ada.token).await), ["Bob's own"]);
    let owner = format!("/api/projects?owner_id={}", bob.user_id);
    assert_eq!(names(app.get_json(&owner, &ada.token).await), ["Bob's own"]);
    // Another tenant lists its own projects only.
    let theirs = names(app.get_json("/api/projects?limit=100", &world.other_admin.token).await);
    assert_eq!(theirs.len(), 1, "{theirs:?}");
}

#[tokio::test]
async fn a_user_changes_their_own_projects_and_not_a_colleagues() {
    let app = spawn_app().await;
    let world = app.two_tenants().await;
    let bob = &world.user;
    let eve = app.member(bob.tenant, "eve@acme.test", Role::User).await;
    let bobs = app.create_project(&bob.token, "Bob's").await;
    let path = format!("/api/projects/{}", bobs["id"].as_str().unwrap());

    assert_error(app.bearer_patch(&path, &eve.token, json!({ "name": "Eve's now" })).await, 403, "forbidden").await;
    assert_error(app.bearer_delete(&path, &eve.token).await, 403, "forbidden").await;
    assert_error(app.bearer_patch(&path, &world.viewer.token, json!({ "name": "x" })).await, 403, "forbidden").await;
    assert_error(app.bearer_post("/api/projects", &world.viewer.token, json!({ "name": "x" })).await, 403, "forbidden")
        .await;
    assert_eq!(app.get_json(&path, &eve.token).await["name"], "Bob's", "unchanged, and readable by colleagues");

    assert_eq!(app.bearer_patch(&path, &bob.token, json!({ "name": "Bob's best" })).await.status(), 200);
    // Handing it over moves the right to change it.
    let handed = app.bearer_patch(&path, &bob.token, json!({ "owner_id": eve.user_id })).await;
    assert_eq!(handed.status(), 200);
    assert_error(app.bearer_patch(&path, &bob.token, json!({ "name": "back" })).await, 403, "forbidden").await;
    assert_eq!(app.bearer_patch(&path, &eve.token, json!({ "name": "Eve's" })).await.status(), 200);
    // Admins change anything.
    assert_eq!(app.bearer_delete(&path, &world.admin.token).await.status(), 204);
}

#[tokio::test]
async fn two_changes_from_one_read_cannot_both_win() {
    let app = spawn_app().await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = app.create_project(&ada.token, "Contested").await;
    let path = format!("/api/projects/{}", project["id"].as_str().unwrap());
    let read_tag = etag(&app.bearer_get(&path, &ada.token).await);

    let (a, b) = tokio::join!(
        app.patch_if_match(&path, &ada.token, &read_tag, json!({ "description": "first" })),
        app.patch_if_match(&path, &ada.token, &read_tag, json!({ "description": "second" })),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let (winner, loser) = if a.status() == 200 { (a, b) } else { (b, a) };
    let current = etag(&winner);
    assert_eq!(etag(&loser), current, "the 412 carries the current ETag");
    let winner: Value = winner.json().await.unwrap();
    let body = assert_error(loser, 412, "precondition_failed").await;
    assert!(body["error"]["message"].as_str().unwrap().contains(&current));
    assert_eq!(app.get_json(&path, &ada.token).await["description"], winner["description"]);

    // A delete based on an old read is refused too; on the current one it goes.
    let stale = app.client.delete(app.url(&path)).bearer_auth(&ada.token).header("if-match", &read_tag).send().await;
    assert_error(stale.unwrap(), 412, "precondition_failed").await;
    let fresh = app.client.delete(app.url(&path)).bearer_auth(&ada.token).header("if-match", &current).send().await;
    assert_eq!(fresh.unwrap().status(), 204);
}

#[tokio::test]
async fn an_idempotency_key_creates_once_and_replays_the_first_answer() {
    let app = spawn_app().await;
    let ada = app.sign_in_as(Role::Admin).await;
    let count = "SELECT count(*) FROM projects WHERE name = 'Once'";

    // Eight concurrent requests with one key: one project, one answer.
    let requests = (0..8).map(|_| app.create_with_key(&ada.token, "key-1", json!({ "name": "Once" })));
    let responses = futures_util::future::join_all(requests).await;
    let mut ids = Vec::new();
    for response in responses {
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every request answered the same project");
    assert_eq!(app.select_i64(count).await, 1);

    // Later, the same key and body: the same answer, still one project.
    let again: Value = app.create_with_key(&ada.token, "key-1", json!({ "name": "Once" })).await.json().await.unwrap();
    assert_eq!(again["id"].as_str().unwrap(), ids[0]);
    assert_eq!(app.select_i64(count).await, 1);

    // The same key with another body is refused and creates nothing.
    let other = app.create_with_key(&ada.token, "key-1", json!({ "name": "Twice" })).await;
    assert_error(other, 422, "idempotency_key_reused").await;
    assert_eq!(app.select_i64("SELECT count(*) FROM projects WHERE name = 'Twice'").await, 0);
    // As is a key that is not one.
    let bad = app.create_with_key(&ada.token, "with space", json!({ "name": "Twice" })).await;
    assert_error(bad, 400, "validation_failed").await;
    // A refused creation does not keep its key.
    let taken = app.create_with_key(&ada.token, "key-2", json!({ "name": "Once" })).await;
    assert_error(taken, 409, "conflict").await;
    assert_eq!(app.create_with_key(&ada.token, "key-2", json!({ "name": "Thrice" })).await.status(), 201);
    // Keys older than 24 hours count as new.
    app.execute_sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'key-1'").await;
    let renewed = app.create_with_key(&ada.token, "key-1", json!({ "name": "Twice" })).await;
    assert_eq!(renewed.status(), 201);
}

#[tokio::test]
async fn another_tenants_project_is_not_found_and_unchanged() {
    let app = spawn_app().await;
    let world = app.two_tenants().await;
    let theirs = app.create_project(&world.other_admin.token, "Globex secret").await;
    let path = format!("/api/projects/{}", theirs["id"].as_str().unwrap());
    let ada = &world.admin.token;
    assert_error(app.bearer_get(&path, ada).await, 404, "not_found").await;
    assert_error(app.bearer_patch(&path, ada, json!({ "name": "mine" })).await, 404, "not_found").await;
    assert_error(app.bearer_delete(&path, ada).await, 404, "not_found").await;
    // A user in acme gets 404 too, not 403: existence is not revealed.
    assert_error(app.bearer_patch(&path, &world.user.token, json!({ "name": "mine" })).await, 404, "not_found").await;
    assert_eq!(app.get_json(&path, &world.other_admin.token).await["name"], "Globex secret");
}

#[tokio::test]
async fn api_keys_work_on_projects_with_their_role() {
    let app = spawn_app().await;
    let ada = app.sign_in_as(Role::Admin).await;
    let user_key = app.api_key(&ada.token, "ci", Role::User).await;
    let viewer_key = app.api_key(&ada.token, "dashboard", Role::Viewer).await;
    let created = app
        .client
        .post(app.url("/api/projects"))
        .header("x-api-key", &user_key)
        .json(&json!({ "name": "From CI" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert!(created.get("owner_id").is_none(), "a key owns nothing: {created}");
    let path = format!("/api/projects/{}", created["id"].as_str().unwrap());
    assert_eq!(app.key_get(&path, &viewer_key).await.status(), 200);
    let refused =
        app.client.post(app.url("/api/projects")).header("x-api-key", &viewer_key).json(&json!({ "name": "x" }));
    assert_error(refused.send().await.unwrap(), 403, "forbidden").await;
    // A user key owns nothing, so it changes nothing; an admin does.
    let change = app.client.patch(app.url(&path)).header("x-api-key", &user_key).json(&json!({ "name": "y" }));
    assert_error(change.send().await.unwrap(), 403, "forbidden").await;
    assert_eq!(app.bearer_patch(&path, &ada.token, json!({ "name": "y" })).await.status(), 200);
}
