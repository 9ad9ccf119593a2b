//! The spec is usable by people who never read our code: a Python client
//! generated from `/api/openapi.json` by a standard generator
//! (openapi-python-client) creates a project with an API key, uploads a
//! file through the presigned URL to the real S3 server and downloads it
//! back (`python_client.py`).

use api::domain::Role;
use testkit::s3::S3Server;

use crate::helpers::{spawn_app_with, TestApp};

async fn generate_client(app: &TestApp, dir: &std::path::Path) {
    let text = app.get("/api/openapi.json").await.text().await.unwrap();
    std::fs::write(dir.join("openapi.json"), &text).unwrap();
    let generator = std::path::Path::new(&testkit::env("TEST_PYTOOLS")).join("openapi-python-client");
    let output = tokio::process::Command::new(generator)
        .args(["generate", "--path", "openapi.json", "--output-path", "client", "--overwrite"])
        .current_dir(dir)
        .output()
        .await
        .expect("openapi-python-client runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn a_generated_python_client_creates_a_project_and_round_trips_a_file() {
    let s3 = S3Server::start().unwrap();
    let app = spawn_app_with(s3.settings().into_iter().map(|(k, v)| (k, Some(v))).collect()).await;
    let ada = app.sign_in_as(Role::Admin).await;
    let key = app.api_key(&ada.token, "python", Role::Admin).await;
    let dir = std::env::temp_dir().join(format!("tenantry-python-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    generate_client(&app, &dir).await;

    let python = std::path::Path::new(&testkit::env("TEST_PYTOOLS")).join("python");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/python_client.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .args([app.address.as_str(), key.as_str()])
        .env("PYTHONPATH", dir.join("client"))
        .output()
        .await
        .expect("python runs");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the generated client's round trip failed:\n{said}");
    assert!(said.contains("round trip ok"), "{said}");
    let stored =
        app.select_i64("SELECT count(*) FROM project_files WHERE status = 'ready' AND name = 'report.txt'").await;
    assert_eq!(stored, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
