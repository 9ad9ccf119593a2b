//! The tenant admin console as admins use it, in Chromium against the real
//! API, PostgreSQL, Redis and the SMTP test server: inviting, changing
//! roles, removing, API keys, signing out everywhere; a session shared by
//! two tabs; and every screen checked by axe-core and photographed, light
//! and dark, wide and narrow.

use std::time::Duration;

use api::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, within, TestApp, PASSWORD};
use crate::webdriver::Browser;

/// An app serving the console on a port known before it starts, so that
/// the refresh cookie is accepted from its origin and emailed links point
/// at it.
async fn console_app() -> (TestApp, String) {
    console_app_with(crate::helpers::dead_port(), Vec::new()).await
}

async fn console_app_with(port: u16, mut overrides: crate::helpers::Overrides) -> (TestApp, String) {
    let origin = format!("http://127.0.0.1:{port}");
    overrides.extend([
        ("APP_CONSOLE_PORT", Some(port.to_string())),
        ("APP_CONSOLE_DIR", Some(testkit::env("TEST_CONSOLE_DIR"))),
        ("APP_ALLOWED_ORIGINS", Some(origin.clone())),
        ("APP_PUBLIC_URL", Some(origin.clone())),
    ]);
    (spawn_app_with(overrides).await, origin)
}

async fn sign_in(browser: &Browser, console: &str, email: &str, password: &str) {
    browser.open(&format!("{console}/sign-in")).await;
    browser.type_into("#email", email).await;
    browser.type_into("#password", password).await;
    browser.click("#sign-in-submit").await;
    browser.wait_for_path("/").await;
    browser.text_containing("#signed-in-as", "").await;
}

#[tokio::test]
async fn an_admin_runs_the_tenant_from_the_console() {
    let (app, console) = console_app().await;
    let ada = app.tenant_with_member("ada@acme.test", Role::Admin).await;
    // Ada is the only admin (the seeded one goes).
    let gone = app
        .select_i64(
            "WITH gone AS (DELETE FROM memberships WHERE user_id = \
             (SELECT id FROM users WHERE email = 'admin@acme.test') RETURNING 1) SELECT count(*) FROM gone",
        )
        .await;
    assert_eq!(gone, 1);
    let admin = Browser::start().await;
    sign_in(&admin, &console, &ada.email, PASSWORD).await;

    // Invite a person as an admin; the email holds the link.
    admin.click("#nav-members").await;
    admin.wait_for_path("/members").await;
    admin.text_containing("#members-table", &ada.email).await;
    admin.click("#invite-open").await;
    admin.type_into("#invite-email", "bo@acme.test").await;
    admin.click("#invite-role option[value='admin']").await;
    admin.click("#invite-submit").await;
    admin.text_containing("#invite-done", "Invitation sent to bo@acme.test").await;
    admin.click("#invite-dialog .actions button.secondary").await;
    admin.text_containing("#invitations-table", "bo@acme.test").await;
    let link = app.mail.wait_for("bo@acme.test", 1).await.unwrap().link().expect("a link in the invitation");
    assert!(link.starts_with(&format!("{console}/accept-invitation#token=")), "{link}");

    // The person accepts in a browser of their own, then signs in.
    let bo = Browser::start().await;
    bo.open(&link).await;
    bo.type_into("#display-name", "Bo").await;
    bo.type_into("#password", "bo's own passphrase").await;
    bo.click("#submit").await;
    bo.text_containing("#outcome", "You joined the tenant as admin").await;
    sign_in(&bo, &console, "bo@acme.test", "bo's own passphrase").await;
    bo.click("#nav-members").await;
    bo.text_containing("#invite-open", "Invite").await;

    // The admin makes them a viewer: their open console loses the invite
    // button within seconds, and the API refuses them a forced request.
    let bo_id = app.select_text("SELECT id::text FROM users WHERE email = 'bo@acme.test'").await;
    admin.open(&format!("{console}/members")).await;
    admin.click(&format!("#role-{bo_id} option[value='viewer']")).await;
    within(Duration::from_secs(10), "the role change", || async {
        app.select_text(&format!("SELECT role FROM memberships WHERE user_id = '{bo_id}'")).await == "viewer"
    })
    .await;
    assert!(bo.absent("#invite-open").await, "a viewer's console still offers to invite");
    bo.text_containing("#members-table", "bo@acme.test").await;
    let viewer = app.sign_in("bo@acme.test", "bo's own passphrase").await.access_token;
    assert_eq!(app.invite(&viewer, "cy@acme.test", Role::User).await.status(), 403);

    // The last admin cannot be demoted; the console says it as the API does.
    let ada_id = ada.user_id;
    admin.click(&format!("#role-{ada_id} option[value='user']")).await;
    admin.text_containing("#members-error", "last admin").await;

    // The admin removes them: their open console is signed out within
    // seconds, and says why.
    admin.click("button[aria-label='Remove bo@acme.test']").await;
    admin.click("#members-confirm-confirm").await;
    assert!(admin.absent("#members-table tr[data-email='bo@acme.test']").await, "the removed member is still listed");
    let started = std::time::Instant::now();
    bo.wait_for_path("/sign-in").await;
    bo.text_containing("#session-ended", "Your session has ended").await;
    assert!(started.elapsed() < Duration::from_secs(10));

    // An API key: the secret once, never again; then revoked.
    admin.open(&format!("{console}/api-keys")).await;
    admin.type_into("#key-name", "ci").await;
    admin.click("#create-key-submit").await;
    let secret = admin.text_containing("#new-key-secret", "tnt_").await;
    let works = app.client.get(format!("{}/api/users", app.address)).header("X-API-Key", secret.trim());
    assert_eq!(works.send().await.unwrap().status(), 200);
    admin.open(&format!("{console}/api-keys")).await;
    admin.text_containing("tr[data-name='ci']", "Viewer").await;
    assert!(admin.absent("#new-key-secret").await, "the secret is shown again after a reload");
    admin.click("button[aria-label='Revoke ci']").await;
    admin.click("#api-keys-confirm-confirm").await;
    assert!(admin.absent("tr[data-name='ci']").await, "the revoked key is still listed");
    assert_eq!(app.select_i64("SELECT count(*) FROM api_keys").await, 0);

    // Signing out everywhere ends this console's session too.
    admin.open(&format!("{console}/account")).await;
    admin.text_containing("#sessions-table", "This device").await;
    admin.click("#sign-out-everywhere").await;
    admin.click("#sessions-confirm-confirm").await;
    admin.wait_for_path("/sign-in").await;
    admin.open(&format!("{console}/members")).await;
    admin.wait_for_path("/sign-in").await;
}

/// A file uploaded from the project page goes straight to storage (through
/// the CORS front `cargo xtask dev` runs), is completed, and is listed
/// ready; its bytes in storage are the file's.
#[tokio::test]
async fn files_upload_from_the_console_straight_to_storage() {
    let s3 = testkit::s3::S3Server::start().unwrap();
    let port = crate::helpers::dead_port();
    let front_port = crate::helpers::dead_port();
    let origin = format!("http://127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("tenantry-s3-front-{}", uuid::Uuid::new_v4().simple()));
    let (s3_port, front_dir, front_origin) = (s3.port, dir.clone(), origin.clone());
    let _front = tokio::task::spawn_blocking(move || {
        let mut sup = xtask::procs::Supervisor::new();
        xtask::storage_front::start(&mut sup, &front_dir, front_port, s3_port, &[front_origin.as_str()]).unwrap();
        sup
    })
    .await
    .unwrap();
    let mut overrides: crate::helpers::Overrides = s3.settings().into_iter().map(|(k, v)| (k, Some(v))).collect();
    overrides.push(("APP_S3_PUBLIC_ENDPOINT", Some(format!("http://127.0.0.1:{front_port}"))));
    let (app, console) = console_app_with(port, overrides).await;
    let ada = app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let browser = Browser::start().await;
    sign_in(&browser, &console, &ada.email, PASSWORD).await;

    browser.open(&format!("{console}/projects")).await;
    browser.click("#project-new").await;
    browser.type_into("#project-name", "Apollo").await;
    browser.click("#project-submit").await;
    browser.text_containing("#project-title", "Apollo").await;

    let file = dir.join("flight-plan.txt");
    std::fs::write(&file, "T-minus ten: all systems go\n").unwrap();
    browser.type_into("#upload-file", &file.to_string_lossy()).await;
    browser.click("#upload-submit").await;
    browser.text_containing("#upload-status", "flight-plan.txt is uploaded").await;
    browser.text_containing("#files-table tr[data-name='flight-plan.txt']", "ready").await;
    let key = app
        .select_text(
            "SELECT 'tenants/' || tenant_id || '/projects/' || project_id || '/' || id FROM project_files \
             WHERE name = 'flight-plan.txt' AND status = 'ready'",
        )
        .await;
    assert_eq!(s3.object(&key).as_deref(), Some(&b"T-minus ten: all systems go\n"[..]));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two tabs of one browser share the refresh cookie: reloaded at the same
/// moment they renew one at a time and both stay signed in (a replayed
/// refresh token would end the session); signing out in one signs out the
/// other.
#[tokio::test]
async fn two_tabs_share_one_session() {
    let (app, console) = console_app().await;
    let ada = app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let browser = Browser::start().await;
    sign_in(&browser, &console, &ada.email, PASSWORD).await;
    let first = browser.tab().await;
    let second = browser.new_tab().await;
    browser.switch_to(&second).await;
    browser.open(&format!("{console}/members")).await;
    browser.text_containing("#members-table", &ada.email).await;

    for _ in 0..3 {
        // Both reload at the same millisecond, by the page's clock.
        let now = browser.execute("return Date.now()", json!([])).await.as_f64().unwrap();
        let at = now + 800.0;
        for tab in [&first, &second] {
            browser.switch_to(tab).await;
            browser.execute("setTimeout(() => location.reload(), arguments[0] - Date.now())", json!([at])).await;
        }
        tokio::time::sleep(Duration::from_millis(1200)).await;
        for tab in [&first, &second] {
            browser.switch_to(tab).await;
            browser.text_containing("#signed-in-as", &ada.email).await;
        }
    }
    let refreshed = app.select_i64("SELECT count(*) FROM audit_log WHERE action = 'session.reuse_detected'").await;
    assert_eq!(refreshed, 0, "a refresh token was replayed");

    browser.switch_to(&first).await;
    browser.click("#user-menu").await;
    browser.click("#sign-out").await;
    browser.wait_for_path("/sign-in").await;
    browser.switch_to(&second).await;
    browser.wait_for_path("/sign-in").await;
}

/// Every screen: no serious or critical axe-core violation, light and
/// dark; a screenshot of each, light and dark, 1280 and 360 pixels wide,
/// written for people to look at.
#[tokio::test]
async fn every_screen_is_accessible_and_photographed() {
    let (app, console) = console_app().await;
    let ada = app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let token = app.sign_in(&ada.email, PASSWORD).await.access_token;
    // Something on every screen.
    for (email, role) in [("bo@acme.test", Role::User), ("cy@acme.test", Role::Viewer)] {
        app.seed_member(ada.tenant, email, role).await;
    }
    assert_eq!(app.invite(&token, "dee@acme.test", Role::User).await.status(), 201);
    app.api_key(&token, "ci", Role::Viewer).await;
    let project: Value = app
        .bearer_post("/api/projects", &token, json!({ "name": "Apollo", "description": "The launch site." }))
        .await
        .json()
        .await
        .unwrap();
    let project = project["id"].as_str().expect("a project id").to_owned();

    let axe = std::fs::read_to_string(testkit::env("TEST_AXE")).expect("axe-core's script");
    let shots = screenshot_dir();
    let browser = Browser::start().await;
    let public = [("sign-in", "/sign-in", "#sign-in"), ("register", "/register", "#register-form")];
    for (name, path, ready) in public {
        browser.open(&format!("{console}{path}")).await;
        browser.text_containing(ready, "").await;
        check_screen(&browser, &axe, &shots, name).await;
    }
    sign_in(&browser, &console, &ada.email, PASSWORD).await;
    let screens = [
        ("dashboard", "/".to_owned(), "#tile-members"),
        ("members", "/members".to_owned(), "#invitations-table"),
        ("api-keys", "/api-keys".to_owned(), "#api-keys-table"),
        ("projects", "/projects".to_owned(), "#projects-table"),
        ("project", format!("/projects/{project}"), "#files-title"),
        ("audit", "/audit".to_owned(), "#audit-entries"),
        ("account", "/account".to_owned(), "#sessions-table"),
        ("not-found", "/nowhere".to_owned(), "#not-found"),
    ];
    for (name, path, ready) in screens {
        browser.open(&format!("{console}{path}")).await;
        browser.text_containing(ready, "").await;
        check_screen(&browser, &axe, &shots, name).await;
    }
    // A dialog open.
    browser.open(&format!("{console}/members")).await;
    browser.click("#invite-open").await;
    check_screen(&browser, &axe, &shots, "invite-dialog").await;
}

/// axe-core in both schemes, then four screenshots.
async fn check_screen(browser: &Browser, axe: &str, shots: &std::path::Path, name: &str) {
    for scheme in ["light", "dark"] {
        browser.color_scheme(scheme).await;
        browser.resize(1280, 860).await;
        let violations = axe_violations(browser, axe).await;
        assert!(violations.is_empty(), "{name} ({scheme}): {:#}", Value::from(violations));
        std::fs::write(shots.join(format!("{name}-{scheme}-desktop.png")), browser.screenshot().await).unwrap();
        browser.resize(360, 780).await;
        let narrow = axe_violations(browser, axe).await;
        assert!(narrow.is_empty(), "{name} ({scheme}, 360 px): {:#}", Value::from(narrow));
        std::fs::write(shots.join(format!("{name}-{scheme}-mobile.png")), browser.screenshot().await).unwrap();
    }
    browser.color_scheme("light").await;
}

/// The serious and critical violations axe-core finds on the page.
async fn axe_violations(browser: &Browser, axe: &str) -> Vec<Value> {
    let loaded = browser.execute("return typeof window.axe", json!([])).await;
    if loaded != "object" {
        // The CSP of the console allows no inline script, but WebDriver's
        // scripts run as the browser's, not the page's.
        browser.execute(&format!("{axe}\n;return true;"), json!([])).await;
    }
    let result = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + n.failureSummary) }))))
                .catch(e => done([{ id: 'axe-error', help: String(e) }]));",
            json!([]),
        )
        .await;
    result.as_array().cloned().unwrap_or_default()
}

/// Where the screenshots go: `TEST_SCREENSHOTS`, else a folder beside the
/// test run's other files.
fn screenshot_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("TEST_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("tenantry-console-screenshots"));
    std::fs::create_dir_all(&dir).expect("a folder for screenshots");
    dir
}
