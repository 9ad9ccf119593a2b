//! The built console, loaded in Debian's headless Chromium from the API's
//! console port, renders the health it fetched from `/api/health`.

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn the_console_renders_the_health_in_a_real_browser() {
    let dist = testkit::env("TEST_CONSOLE_DIR");
    let app = spawn_app_with(vec![("APP_CONSOLE_PORT", Some("0".into())), ("APP_CONSOLE_DIR", Some(dist))]).await;
    let console = app.console.clone().expect("a console port");

    // A client-side route falls back to index.html.
    let deep = app.client.get(format!("{console}/members/42")).send().await.unwrap();
    assert_eq!(deep.status(), 200);
    assert!(deep.text().await.unwrap().contains("<noscript>"));

    // Signed out, the console lands on the sign-in page, which shows the
    // service's health.
    let browser = crate::webdriver::Browser::start().await;
    browser.open(&format!("{console}/")).await;
    browser.wait_for_path("/sign-in").await;
    browser.text_containing("#health-status", "ok").await;
    browser.text_containing("#health", "Database: ok in").await;
    browser.text_containing("#health", "Redis: ok in").await;
}

/// The links of the registration, reset and invitation emails, followed in
/// Chromium (driven through ChromeDriver): each page does its job against
/// the API, and the accounts work afterwards.
#[tokio::test]
async fn the_emailed_links_work_in_a_real_browser() {
    use api::domain::Role;
    use serde_json::{json, Value};

    let dist = testkit::env("TEST_CONSOLE_DIR");
    let app = spawn_app_with(vec![
        ("APP_CONSOLE_PORT", Some("0".into())),
        ("APP_CONSOLE_DIR", Some(dist)),
        ("APP_PUBLIC_URL", Some("https://console.tenantry.test".into())),
    ])
    .await;
    let console = app.console.clone().expect("a console port");
    let followed = |link: Option<String>| {
        let link = link.expect("a link in the email");
        assert!(link.starts_with("https://console.tenantry.test/"), "{link}");
        link.replacen("https://console.tenantry.test", &console, 1)
    };
    let browser = crate::webdriver::Browser::start().await;

    // Registration: opening the link does nothing by itself (a mail scanner
    // opens links); whoever holds it chooses the password and submits.
    let registration = json!({ "email": "nia@initech.test", "tenant_name": "Initech", "tenant_slug": "initech" });
    assert_eq!(app.post("/api/auth/register", registration).await.status(), 202);
    let link = followed(app.mail.wait_for("nia@initech.test", 1).await.unwrap().link());
    assert!(link.contains("/verify-email#token="), "{link}");
    browser.open(&link).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let accounts = app.select_i64("SELECT count(*) FROM users WHERE email = 'nia@initech.test'").await;
    assert_eq!(accounts, 0, "opening the link created the account");
    browser.type_into("#password", "the first passphrase").await;
    browser.click("#submit").await;
    browser.text_containing("#outcome", "Initech (initech) is ready").await;
    assert_eq!(app.log_in("nia@initech.test", "the first passphrase").await.status(), 200);

    // Forgot password, from its page; then the reset link.
    browser.open(&format!("{console}/forgot-password")).await;
    browser.type_into("#email", "nia@initech.test").await;
    browser.click("#submit").await;
    browser.text_containing("#outcome", "reset link").await;
    let link = followed(app.mail.wait_for("nia@initech.test", 2).await.unwrap().link());
    browser.open(&link).await;
    browser.type_into("#new-password", "the second passphrase").await;
    browser.click("#submit").await;
    browser.text_containing("#outcome", "Your password is changed").await;
    assert_eq!(app.log_in("nia@initech.test", "the first passphrase").await.status(), 401);
    let nia = app.sign_in("nia@initech.test", "the second passphrase").await.access_token;

    // An invitation to someone without an account.
    assert_eq!(app.invite(&nia, "ola@initech.test", Role::User).await.status(), 201);
    let link = followed(app.mail.wait_for("ola@initech.test", 1).await.unwrap().link());
    browser.open(&link).await;
    browser.type_into("#display-name", "Ola").await;
    browser.type_into("#password", "ola's own passphrase").await;
    browser.click("#submit").await;
    browser.text_containing("#outcome", "Your account is created. You joined the tenant as user").await;
    let ola: Value = app.log_in("ola@initech.test", "ola's own passphrase").await.json().await.unwrap();
    assert_eq!(ola["tenant"]["slug"], "initech");

    // A link used twice: the page says why it fails.
    browser.open(&link).await;
    browser.click("#submit").await;
    browser.text_containing("#outcome", "not valid").await;

    // An invitation to someone who has an account: the page asks them to
    // sign in as it, and only then accepts.
    assert_eq!(app.invite(&nia, "ola@other.test", Role::Viewer).await.status(), 201);
    let other = app.seed_tenant("other").await;
    let hash = api::password::hash("ola's other passphrase").unwrap();
    testkit::seed_member(&app.db, other, "ola@other.test", &hash, "user").await.unwrap();
    let link = followed(app.mail.wait_for("ola@other.test", 1).await.unwrap().link());
    // A fresh page (the same path with another fragment would not reload).
    browser.open(&format!("{console}/")).await;
    browser.open(&link).await;
    browser.click("#submit").await;
    browser.text_containing("#outcome", "sign in as it").await;
    browser.type_into("#email", "ola@other.test").await;
    browser.type_into("#current-password", "ola's other passphrase").await;
    browser.click("#sign-in-submit").await;
    browser.text_containing("#outcome", "You joined the tenant as viewer").await;
    let joined = app
        .post(
            "/api/auth/login",
            json!({ "email": "ola@other.test", "password": "ola's other passphrase", "tenant": "initech", "token_delivery": "body" }),
        )
        .await;
    assert_eq!(joined.status(), 200);
}

/// Signing in and out of the console in Chromium: a signed-out visitor is
/// sent to the sign-in page, a wrong password is said so, the right one
/// shows who is signed in, a reload keeps the session (the refresh cookie),
/// an unknown path is a not-found page, and signing out ends the session.
#[tokio::test]
async fn signing_in_and_out_works_in_a_real_browser() {
    use api::domain::Role;

    let dist = testkit::env("TEST_CONSOLE_DIR");
    // The refresh cookie is used only from allowed origins, so the
    // console's origin is known before the start.
    let port = crate::helpers::dead_port();
    let app = spawn_app_with(vec![
        ("APP_CONSOLE_PORT", Some(port.to_string())),
        ("APP_CONSOLE_DIR", Some(dist)),
        ("APP_ALLOWED_ORIGINS", Some(format!("http://127.0.0.1:{port}"))),
    ])
    .await;
    let console = app.console.clone().expect("a console port");
    assert_eq!(console, format!("http://127.0.0.1:{port}"));
    let ada = app.tenant_with_member("ada@acme.test", Role::Admin).await;
    let browser = crate::webdriver::Browser::start().await;

    browser.open(&format!("{console}/")).await;
    browser.wait_for_path("/sign-in").await;
    browser.type_into("#email", &ada.email).await;
    browser.type_into("#password", "not the passphrase").await;
    browser.click("#sign-in-submit").await;
    browser.text_containing("#sign-in-error", "not valid").await;

    // A deep link opened signed out: sign in, then back to it, query kept.
    browser.open(&format!("{console}/audit?action=login.succeeded")).await;
    let at = browser.wait_for_path("/sign-in").await;
    assert!(at.contains("next=%2Faudit%3Faction%3Dlogin.succeeded"), "{at}");
    browser.type_into("#email", &ada.email).await;
    browser.type_into("#password", crate::helpers::PASSWORD).await;
    browser.click("#sign-in-submit").await;
    let back = browser.wait_for_path("/audit").await;
    assert!(back.ends_with("/audit?action=login.succeeded"), "{back}");
    browser.text_containing("#signed-in-as", &ada.email).await;

    // A new page load: the access token was in memory only; the session
    // comes back through the refresh cookie.
    browser.open(&format!("{console}/")).await;
    browser.text_containing("#dashboard-context", "your role: Admin").await;

    browser.open(&format!("{console}/members/42/nowhere")).await;
    browser.text_containing("#not-found", "").await;

    browser.open(&format!("{console}/")).await;
    browser.click("#user-menu").await;
    browser.click("#sign-out").await;
    browser.wait_for_path("/sign-in").await;
    browser.open(&format!("{console}/")).await;
    browser.wait_for_path("/sign-in").await;
    // The sign-out reached the API and ended the session there.
    let ended = app.select_i64("SELECT count(*) FROM audit_log WHERE action = 'session.logout'").await;
    assert_eq!(ended, 1);
}
