//! The built console, loaded in Debian's headless Chromium from the API's
//! console port, renders the health it fetched from `/api/health`.

use tokio::process::Command;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn the_console_renders_the_health_in_a_real_browser() {
    let dist = testkit::env("TEST_CONSOLE_DIR");
    let chromium = testkit::env("TEST_CHROMIUM");
    let app = spawn_app_with(vec![("APP_CONSOLE_PORT", Some("0".into())), ("APP_CONSOLE_DIR", Some(dist))]).await;
    let console = app.console.clone().expect("a console port");

    // A client-side route falls back to index.html.
    let deep = app.client.get(format!("{console}/members/42")).send().await.unwrap();
    assert_eq!(deep.status(), 200);
    assert!(deep.text().await.unwrap().contains("<noscript>"));

    let profile = std::env::temp_dir().join(format!("tenantry-chromium-{}", uuid::Uuid::new_v4()));
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=15000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("{console}/"))
        .kill_on_drop(true)
        .output()
        .await
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&output.stdout);
    let status = rendered_text(&dom, r#"id="health-status">"#, "</strong>");
    assert_eq!(status.as_deref(), Some("ok"), "the rendered page lacks the health status:\n{dom}");
    assert!(dom.contains("<strong>Database</strong>: ok in"), "{dom}");
    assert!(dom.contains("<strong>Redis</strong>: ok in"), "{dom}");
}

/// The text between `open` and the next `close`, without Sycamore's
/// `<!---->` markers.
fn rendered_text(dom: &str, open: &str, close: &str) -> Option<String> {
    let start = dom.find(open)? + open.len();
    let len = dom[start..].find(close)?;
    Some(dom[start..start + len].replace("<!---->", ""))
}
