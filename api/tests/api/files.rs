//! Project files through the API and a real S3 server (s3s-fs, which checks
//! signatures as S3 does): upload through the presigned URL, completion,
//! download, deletion; limits enforced by the signature and again at
//! completion; another tenant's ids; storage stopping mid-test.

use api::domain::Role;
use serde_json::{json, Value};
use testkit::s3::S3Server;

use crate::helpers::{assert_error, spawn_app_with, within, TestApp};

const SECOND: std::time::Duration = std::time::Duration::from_secs(1);

/// The app with files stored on `s3`, housekeeping every second.
async fn app_with(s3: &S3Server, extra: &[(&'static str, &str)]) -> TestApp {
    let mut overrides: Vec<(&'static str, Option<String>)> =
        s3.settings().into_iter().map(|(k, v)| (k, Some(v))).collect();
    overrides.push(("APP_HOUSEKEEPING_SECS", Some("1".into())));
    overrides.extend(extra.iter().map(|(k, v)| (*k, Some(v.to_string()))));
    spawn_app_with(overrides).await
}

impl TestApp {
    /// Starts an upload, which must succeed: `{ file, upload }`.
    async fn start_upload(&self, token: &str, project: &str, name: &str, content_type: &str, size: usize) -> Value {
        let body = json!({ "name": name, "content_type": content_type, "size": size });
        let response = self.bearer_post(&format!("/api/projects/{project}/files"), token, body).await;
        assert_eq!(response.status(), 201, "starting the upload of {name}");
        response.json().await.unwrap()
    }

    /// Sends `request` (a presigned request the API answered) with `bytes`.
    async fn to_storage(&self, request: &Value, bytes: Vec<u8>, content_type: Option<&str>) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(request["method"].as_str().unwrap().as_bytes()).unwrap();
        let mut builder = self.client.request(method, request["url"].as_str().unwrap());
        for (name, value) in request["headers"].as_object().unwrap() {
            let value = match (name.as_str(), content_type) {
                ("content-type", Some(other)) => other,
                _ => value.as_str().unwrap(),
            };
            builder = builder.header(name, value);
        }
        if !bytes.is_empty() || method_is_put(request) {
            builder = builder.body(bytes);
        }
        builder.send().await.unwrap()
    }

    /// Uploads `bytes` as a new ready file of `project`: the file.
    pub async fn upload_file(&self, token: &str, project: &str, name: &str, bytes: &[u8]) -> Value {
        let started = self.start_upload(token, project, name, "text/plain", bytes.len()).await;
        let put = self.to_storage(&started["upload"], bytes.to_vec(), None).await;
        assert!(put.status().is_success(), "PUT to storage: {}", put.status());
        let file_id = started["file"]["id"].as_str().unwrap();
        let done =
            self.bearer_post(&format!("/api/projects/{project}/files/{file_id}/complete"), token, json!({})).await;
        assert_eq!(done.status(), 200);
        done.json().await.unwrap()
    }
}

fn method_is_put(request: &Value) -> bool {
    request["method"] == "PUT"
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_file_goes_up_to_storage_and_comes_back_down() {
    let s3 = S3Server::start().unwrap();
    let app = app_with(&s3, &[]).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let bytes = b"one small step".to_vec();

    let started = app.start_upload(&ada.token, &project, "notes ü.txt", "text/plain", bytes.len()).await;
    let file = &started["file"];
    assert_eq!(file["status"], "pending");
    let key = format!("tenants/{}/projects/{project}/{}", ada.tenant, id(file));
    assert!(started["upload"]["url"].as_str().unwrap().contains(&key), "the key is made of ids only");
    assert!(!started["upload"]["url"].as_str().unwrap().contains("notes"), "never of the name");

    // Not uploaded yet: completing is refused.
    let complete = format!("/api/projects/{project}/files/{}/complete", id(file));
    assert_error(app.bearer_post(&complete, &ada.token, json!({})).await, 409, "upload_missing").await;
    let download = format!("/api/projects/{project}/files/{}/download", id(file));
    assert_error(app.bearer_get(&download, &ada.token).await, 409, "not_ready").await;

    let put = app.to_storage(&started["upload"], bytes.clone(), None).await;
    assert!(put.status().is_success(), "{}", put.status());
    assert_eq!(s3.object(&key).as_deref(), Some(&bytes[..]));
    let ready = app.bearer_post(&complete, &ada.token, json!({})).await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    let usage = app.get_json("/api/files/usage", &ada.token).await;
    assert_eq!(usage, json!({ "bytes": bytes.len(), "files": 1 }));
    // Completing again answers the same and counts nothing twice.
    assert_eq!(app.bearer_post(&complete, &ada.token, json!({})).await.status(), 200);
    assert_eq!(app.get_json("/api/files/usage", &ada.token).await["bytes"], bytes.len());

    let link = app.get_json(&download, &ada.token).await;
    assert_eq!(link["method"], "GET");
    let got = app.to_storage(&link, Vec::new(), None).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);

    let listed = app.get_json(&format!("/api/projects/{project}/files"), &ada.token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let path = format!("/api/projects/{project}/files/{}", id(file));
    assert_eq!(app.bearer_delete(&path, &ada.token).await.status(), 204);
    assert_error(app.bearer_get(&path, &ada.token).await, 404, "not_found").await;
    within(5 * SECOND, "the object deleted from storage", || async { s3.object(&key).is_none() }).await;
    // The key stays queued while upload URLs signed for it may still work,
    // then is forgotten.
    let queued = format!("SELECT count(*) FROM storage_deletions WHERE object_key = '{key}'");
    assert_eq!(app.select_i64(&queued).await, 1);
    app.execute_sql("UPDATE storage_deletions SET queued_at = now() - interval '1 hour'").await;
    within(5 * SECOND, "the deletion forgotten", || async { app.select_i64(&queued).await == 0 }).await;
    assert_eq!(app.get_json("/api/files/usage", &ada.token).await, json!({ "bytes": 0, "files": 0 }));
}

#[tokio::test]
async fn storage_refuses_bytes_the_signature_does_not_allow() {
    let s3 = S3Server::start().unwrap();
    let app = app_with(&s3, &[]).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let started = app.start_upload(&ada.token, &project, "a.txt", "text/plain", 10).await;
    let key = format!("tenants/{}/projects/{project}/{}", ada.tenant, id(&started["file"]));

    let longer = app.to_storage(&started["upload"], vec![b'x'; 11], None).await;
    assert_eq!(longer.status(), 403, "another size");
    let typed = app.to_storage(&started["upload"], vec![b'x'; 10], Some("text/html")).await;
    assert_eq!(typed.status(), 403, "another type");
    let mut tampered = started["upload"].clone();
    let url = tampered["url"].as_str().unwrap().replace(&id(&started["file"]), &uuid::Uuid::new_v4().to_string());
    tampered["url"] = json!(url);
    assert_eq!(app.to_storage(&tampered, vec![b'x'; 10], None).await.status(), 403, "another key");
    assert!(s3.object(&key).is_none(), "nothing stored");
    assert!(app.to_storage(&started["upload"], vec![b'x'; 10], None).await.status().is_success());
}

#[tokio::test]
async fn limits_are_checked_when_signing_and_again_on_completion() {
    let s3 = S3Server::start().unwrap();
    let app =
        app_with(&s3, &[("APP_FILES_MAX_BYTES", "100"), ("APP_FILES_ALLOWED_TYPES", "text/plain,image/png")]).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let files = format!("/api/projects/{project}/files");
    let body = assert_error(
        app.bearer_post(
            &files,
            &ada.token,
            json!({ "name": "big.exe", "content_type": "application/x-msdownload", "size": 101 }),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["size", "content_type"]);
    for bad in [
        json!({ "name": "../x", "content_type": "text/plain", "size": 1 }),
        json!({ "name": "x", "content_type": "text/plain; charset=utf-8", "size": 1 }),
        json!({ "name": "x", "content_type": "text/plain", "size": -1 }),
    ] {
        assert_error(app.bearer_post(&files, &ada.token, bad).await, 400, "validation_failed").await;
    }

    // An object that is not what was declared (written past the API, as a
    // misbehaving store or client could) is refused at completion and removed.
    let started = app.start_upload(&ada.token, &project, "a.txt", "text/plain", 5).await;
    let key = format!("tenants/{}/projects/{project}/{}", ada.tenant, id(&started["file"]));
    let object = s3.root.join(testkit::s3::BUCKET).join(&key);
    std::fs::create_dir_all(object.parent().unwrap()).unwrap();
    std::fs::write(&object, b"not five bytes").unwrap();
    let complete = format!("{files}/{}/complete", id(&started["file"]));
    assert_error(app.bearer_post(&complete, &ada.token, json!({})).await, 409, "upload_mismatch").await;
    assert!(s3.object(&key).is_none(), "the wrong object is removed");
    assert_eq!(app.get_json(&format!("{files}/{}", id(&started["file"])), &ada.token).await["status"], "pending");
    // The file can still be uploaded properly.
    assert!(app.to_storage(&started["upload"], b"12345".to_vec(), None).await.status().is_success());
    assert_eq!(app.bearer_post(&complete, &ada.token, json!({})).await.status(), 200);
}

#[tokio::test]
async fn another_tenants_files_are_not_found_and_their_links_not_obtainable() {
    let s3 = S3Server::start().unwrap();
    let app = app_with(&s3, &[]).await;
    let world = app.two_tenants().await;
    let mal = &world.other_admin.token;
    let project = id(&app.create_project(mal, "Globex").await);
    let file = app.upload_file(mal, &project, "secret.txt", b"globex only").await;
    let base = format!("/api/projects/{project}/files/{}", id(&file));
    let ada = &world.admin.token;

    assert_error(app.bearer_get(&base, ada).await, 404, "not_found").await;
    assert_error(app.bearer_get(&format!("{base}/download"), ada).await, 404, "not_found").await;
    assert_error(app.bearer_post(&format!("{base}/complete"), ada, json!({})).await, 404, "not_found").await;
    assert_error(app.bearer_delete(&base, ada).await, 404, "not_found").await;
    assert_error(app.bearer_get(&format!("/api/projects/{project}/files"), ada).await, 404, "not_found").await;
    let attach = json!({ "name": "x.txt", "content_type": "text/plain", "size": 1 });
    assert_error(app.bearer_post(&format!("/api/projects/{project}/files"), ada, attach).await, 404, "not_found").await;
    // A file id of theirs under a project of ours is not found either.
    let ours = id(&app.create_project(ada, "Acme").await);
    let crossed = format!("/api/projects/{ours}/files/{}", id(&file));
    assert_error(app.bearer_get(&format!("{crossed}/download"), ada).await, 404, "not_found").await;
    assert_error(app.bearer_delete(&crossed, ada).await, 404, "not_found").await;

    assert_eq!(app.get_json(&base, mal).await["status"], "ready", "unchanged");
    assert_eq!(app.get_json("/api/files/usage", ada).await["bytes"], 0);
    assert_eq!(app.get_json("/api/files/usage", mal).await["bytes"], 11);
}

#[tokio::test]
async fn users_attach_files_to_their_own_projects_only() {
    let s3 = S3Server::start().unwrap();
    let app = app_with(&s3, &[]).await;
    let world = app.two_tenants().await;
    let admins = id(&app.create_project(&world.admin.token, "Admin's").await);
    let bobs = id(&app.create_project(&world.user.token, "Bob's").await);
    let attach = json!({ "name": "x.txt", "content_type": "text/plain", "size": 1 });
    let on_admins = app.bearer_post(&format!("/api/projects/{admins}/files"), &world.user.token, attach.clone()).await;
    assert_error(on_admins, 403, "forbidden").await;
    let by_viewer = app.bearer_post(&format!("/api/projects/{bobs}/files"), &world.viewer.token, attach.clone()).await;
    assert_error(by_viewer, 403, "forbidden").await;
    let file = app.upload_file(&world.user.token, &bobs, "bob.txt", b"b").await;
    // Everyone in the tenant reads and downloads it.
    let download = format!("/api/projects/{bobs}/files/{}/download", id(&file));
    assert_eq!(app.bearer_get(&download, &world.viewer.token).await.status(), 200);
    let path = format!("/api/projects/{bobs}/files/{}", id(&file));
    assert_error(app.bearer_delete(&path, &world.viewer.token).await, 403, "forbidden").await;
    assert_eq!(app.bearer_delete(&path, &world.user.token).await.status(), 204);
}

#[tokio::test]
async fn with_storage_stopped_completion_is_503_and_the_database_unchanged() {
    let mut s3 = S3Server::start().unwrap();
    let app = app_with(&s3, &[("APP_S3_TIMEOUT_MS", "1000")]).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let kept = app.upload_file(&ada.token, &project, "kept.txt", b"kept").await;
    let started = app.start_upload(&ada.token, &project, "late.txt", "text/plain", 4).await;
    assert!(app.to_storage(&started["upload"], b"late".to_vec(), None).await.status().is_success());

    let health = app.get("/api/health").await.json::<Value>().await.unwrap();
    assert_eq!(health["checks"]["storage"]["status"], "ok", "{health}");
    s3.stop();
    // Reported, not required: the process stays ready without storage.
    let health = app.get("/api/health").await;
    assert_eq!(health.status(), 200);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["checks"]["storage"]["status"], "error", "{health}");
    let complete = format!("/api/projects/{project}/files/{}/complete", id(&started["file"]));
    let refused = app.bearer_post(&complete, &ada.token, json!({})).await;
    assert_error(refused, 503, "unavailable").await;
    let pending = format!("SELECT count(*) FROM project_files WHERE status = 'pending' AND project_id = '{project}'");
    assert_eq!(app.select_i64(&pending).await, 1);
    assert_eq!(app.get_json("/api/files/usage", &ada.token).await["bytes"], 4, "only the kept file counts");

    // Deleting while storage is away: the row goes, the object waits in the queue.
    let kept_key = format!("tenants/{}/projects/{project}/{}", ada.tenant, id(&kept));
    let path = format!("/api/projects/{project}/files/{}", id(&kept));
    assert_eq!(app.bearer_delete(&path, &ada.token).await.status(), 204);
    let queued = format!("SELECT count(*) FROM storage_deletions WHERE object_key = '{kept_key}'");
    assert_eq!(app.select_i64(&queued).await, 1);
    assert!(s3.object(&kept_key).is_some());

    // Storage back: housekeeping deletes the object, completion works.
    s3.restart().unwrap();
    within(10 * SECOND, "the queued object deleted", || async { s3.object(&kept_key).is_none() }).await;
    assert_eq!(app.bearer_post(&complete, &ada.token, json!({})).await.status(), 200);
}

#[tokio::test]
async fn uploads_never_completed_are_swept_with_their_objects() {
    let s3 = S3Server::start().unwrap();
    let app = app_with(&s3, &[("APP_FILES_PENDING_SECS", "120"), ("APP_FILES_UPLOAD_URL_SECS", "60")]).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let stale = app.start_upload(&ada.token, &project, "stale.txt", "text/plain", 3).await;
    assert!(app.to_storage(&stale["upload"], b"abc".to_vec(), None).await.status().is_success());
    let fresh = app.start_upload(&ada.token, &project, "fresh.txt", "text/plain", 3).await;
    let stale_key = format!("tenants/{}/projects/{project}/{}", ada.tenant, id(&stale["file"]));
    app.execute_sql(&format!(
        "UPDATE project_files SET created_at = now() - interval '3 minutes' WHERE id = '{}'",
        id(&stale["file"])
    ))
    .await;
    let files = format!("SELECT count(*) FROM project_files WHERE project_id = '{project}'");
    within(10 * SECOND, "the stale upload swept", || async { app.select_i64(&files).await == 1 }).await;
    within(10 * SECOND, "its object deleted", || async { s3.object(&stale_key).is_none() }).await;
    let left = app.get_json(&format!("/api/projects/{project}/files/{}", id(&fresh["file"])), &ada.token).await;
    assert_eq!(left["status"], "pending", "a recent upload stays");
}

#[tokio::test]
async fn without_storage_configured_files_answer_503() {
    let app = crate::helpers::spawn_app().await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let attach = json!({ "name": "x.txt", "content_type": "text/plain", "size": 1 });
    assert_error(
        app.bearer_post(&format!("/api/projects/{project}/files"), &ada.token, attach).await,
        503,
        "storage_off",
    )
    .await;
    assert_eq!(app.select_i64(&format!("SELECT count(*) FROM project_files WHERE project_id = '{project}'")).await, 0);
}

#[tokio::test]
async fn deleting_a_project_deletes_its_files_and_their_objects() {
    let s3 = S3Server::start().unwrap();
    let app = app_with(&s3, &[]).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let file = app.upload_file(&ada.token, &project, "a.txt", b"abc").await;
    let key = format!("tenants/{}/projects/{project}/{}", ada.tenant, id(&file));
    assert!(s3.object(&key).is_some());
    assert_eq!(app.bearer_delete(&format!("/api/projects/{project}"), &ada.token).await.status(), 204);
    within(5 * SECOND, "the object deleted", || async { s3.object(&key).is_none() }).await;
    assert_eq!(app.get_json("/api/files/usage", &ada.token).await, json!({ "bytes": 0, "files": 0 }));
}

#[tokio::test]
async fn storage_that_never_answers_is_503_within_the_timeout() {
    // A server that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let s3 = S3Server::start().unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let app = app_with(&s3, &[("APP_S3_ENDPOINT", &endpoint), ("APP_S3_TIMEOUT_MS", "800")]).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let started = app.start_upload(&ada.token, &project, "a.txt", "text/plain", 1).await;
    let complete = format!("/api/projects/{project}/files/{}/complete", id(&started["file"]));
    let began = std::time::Instant::now();
    assert_error(app.bearer_post(&complete, &ada.token, json!({})).await, 503, "unavailable").await;
    let waited = began.elapsed();
    assert!(waited < 3 * SECOND, "answered after {waited:?}");
    let pending = format!("SELECT count(*) FROM project_files WHERE status = 'pending' AND project_id = '{project}'");
    assert_eq!(app.select_i64(&pending).await, 1, "nothing changed");
    held.abort();
}

#[tokio::test]
async fn an_upload_url_used_after_its_file_was_deleted_leaves_nothing_behind() {
    let s3 = S3Server::start().unwrap();
    let app = app_with(&s3, &[]).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let started = app.start_upload(&ada.token, &project, "late.txt", "text/plain", 4).await;
    let key = format!("tenants/{}/projects/{project}/{}", ada.tenant, id(&started["file"]));
    let path = format!("/api/projects/{project}/files/{}", id(&started["file"]));
    assert_eq!(app.bearer_delete(&path, &ada.token).await.status(), 204);
    // The URL still works at storage; the object it writes is removed.
    assert!(app.to_storage(&started["upload"], b"late".to_vec(), None).await.status().is_success());
    assert!(s3.object(&key).is_some());
    within(5 * SECOND, "the late object deleted", || async { s3.object(&key).is_none() }).await;
}

#[tokio::test]
async fn a_repeated_upload_request_answers_the_same_pending_file_and_never_a_completed_one() {
    let s3 = S3Server::start().unwrap();
    let app = app_with(&s3, &[]).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let files = format!("/api/projects/{project}/files");
    let send = || {
        app.client
            .post(app.url(&files))
            .bearer_auth(&ada.token)
            .header("idempotency-key", "upload-1")
            .json(&json!({ "name": "a.txt", "content_type": "text/plain", "size": 3 }))
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 201);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["file"]["id"], first["file"]["id"], "the same file");
    let count = format!("SELECT count(*) FROM project_files WHERE project_id = '{project}'");
    assert_eq!(app.select_i64(&count).await, 1);
    assert!(app.to_storage(&again["upload"], b"abc".to_vec(), None).await.status().is_success());
    let complete = format!("{files}/{}/complete", id(&first["file"]));
    assert_eq!(app.bearer_post(&complete, &ada.token, json!({})).await.status(), 200);
    // Completed: a repeat gets no URL to overwrite it with.
    assert_error(send().await.unwrap(), 409, "already_completed").await;
    // Deleted: a repeat finds nothing.
    assert_eq!(app.bearer_delete(&format!("{files}/{}", id(&first["file"])), &ada.token).await.status(), 204);
    assert_error(send().await.unwrap(), 404, "not_found").await;
}

/// The CORS front `cargo xtask dev` and `stack` put before the local S3
/// server: the console's origin gets its preflight answered and may PUT and
/// GET through presigned URLs naming the front; other origins get no CORS
/// grant; signatures still hold through it.
#[tokio::test]
async fn the_local_storage_front_answers_cors_for_the_console_and_keeps_signatures() {
    let s3 = S3Server::start().unwrap();
    let front_port = crate::helpers::dead_port();
    let dir = std::env::temp_dir().join(format!("tenantry-s3-front-{}", uuid::Uuid::new_v4().simple()));
    let console = "http://localhost:8081";
    let (s3_port, dir_c) = (s3.port, dir.clone());
    let _front = tokio::task::spawn_blocking(move || {
        let mut sup = xtask::procs::Supervisor::new();
        xtask::storage_front::start(&mut sup, &dir_c, front_port, s3_port, &[console]).unwrap();
        sup
    })
    .await
    .unwrap();
    let public = format!("http://127.0.0.1:{front_port}");
    let app = app_with(&s3, &[("APP_S3_PUBLIC_ENDPOINT", &public)]).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let project = id(&app.create_project(&ada.token, "Apollo").await);
    let started = app.start_upload(&ada.token, &project, "cors.txt", "text/plain", 4).await;
    let url = started["upload"]["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&public), "presigned for the front: {url}");

    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight(console).await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(allowed.headers()["access-control-allow-origin"], console);
    assert!(allowed.headers()["access-control-allow-methods"].to_str().unwrap().contains("PUT"));
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none_or(|v| v.is_empty()), "{:?}", other.headers());

    let put = app
        .client
        .put(&url)
        .header("origin", console)
        .header("content-type", "text/plain")
        .body(b"cors".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "the signature holds through the front");
    assert_eq!(put.headers()["access-control-allow-origin"], console);
    let complete = format!("/api/projects/{project}/files/{}/complete", id(&started["file"]));
    assert_eq!(app.bearer_post(&complete, &ada.token, json!({})).await.status(), 200);
    let link =
        app.get_json(&format!("/api/projects/{project}/files/{}/download", id(&started["file"])), &ada.token).await;
    let got = app.client.get(link["url"].as_str().unwrap()).header("origin", console).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["access-control-allow-origin"], console);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"cors");
    let _ = std::fs::remove_dir_all(&dir);
}
