//! `spawn_app`: the real application on a free port, against its own
//! database (through pgbouncer) and the suite's Redis; and what every test
//! file asserts with. Seeded tenants and members are in `fixtures`,
//! requests in `requests`.

use std::collections::HashMap;

use api::config::Settings;
use api::startup::Application;

pub const OPERATOR_TOKEN: &str = "operator-token-for-tests-0123456789abcdef";

/// The password of every member the tests seed.
pub const PASSWORD: &str = "a seeded member's long passphrase";

/// [`PASSWORD`]'s argon2id hash, computed once per test binary.
pub fn password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| api::password::hash(PASSWORD).unwrap())
}

pub struct TestApp {
    pub db: testkit::TestDatabase,
    pub address: String,
    pub console: Option<String>,
    pub client: reqwest::Client,
    /// The SMTP server the app sends its emails to.
    pub mail: testkit::smtp::SmtpServer,
}

/// Settings overrides; `None` removes a variable.
pub type Overrides = Vec<(&'static str, Option<String>)>;

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Vec::new()).await
}

pub async fn spawn_app_with(overrides: Overrides) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        api::telemetry::init("info", api::config::LogFormat::Pretty);
    }
    let db = testkit::database().await.expect("a test database");
    let mail = testkit::smtp::SmtpServer::start().await.expect("an SMTP server");
    let mut vars: HashMap<String, String> = [
        ("APP_HOST", "127.0.0.1".to_owned()),
        ("APP_PORT", "0".to_owned()),
        ("DATABASE_URL", db.pooled_app_url.clone()),
        ("PLATFORM_DATABASE_URL", db.pooled_platform_url.clone()),
        ("DATABASE_OWNER_URL", db.owner_url.clone()),
        ("APP_MIGRATE_ON_START", "false".to_owned()),
        ("REDIS_URL", testkit::redis_url()),
        ("REDIS_KEY_PREFIX", format!("test:{}:", db.name)),
        ("APP_OPERATOR_TOKEN", OPERATOR_TOKEN.to_owned()),
        ("APP_SMTP_URL", mail.url()),
        ("APP_OUTBOX_DIR", String::new()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (key, value) in overrides {
        match value {
            Some(v) => vars.insert(key.to_owned(), v),
            None => vars.remove(key),
        };
    }
    let settings = Settings::from_map(&vars).expect("valid test settings");
    let app = Application::build(settings).await.expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let console = app.console_port().map(|p| format!("http://127.0.0.1:{p}"));
    tokio::spawn(app.run_until_stopped());
    TestApp { db, address, console, client: reqwest::Client::new(), mail }
}

impl TestApp {
    /// As the database superuser, past row-level security: the one number
    /// `sql` selects.
    pub async fn select_i64(&self, sql: &str) -> i64 {
        let mut conn = self.superuser().await;
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn select_text(&self, sql: &str) -> String {
        let mut conn = self.superuser().await;
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// As the database superuser, past row-level security: runs `sql`.
    pub async fn execute_sql(&self, sql: &str) {
        let mut conn = self.superuser().await;
        sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn superuser(&self) -> sqlx::PgConnection {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&self.db.superuser_url).await.expect("a superuser connection")
    }
}

/// Waits, when needed, until the rate limiter's one-minute window has at
/// least 15 seconds left, so a burst of requests falls into one window.
pub async fn wait_for_fresh_rate_window() {
    let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60;
    if second > 45 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - second)).await;
    }
}

/// A port nothing listens on.
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Signs in, which must succeed: the access token.
pub async fn access_token(app: &TestApp, email: &str, password: &str) -> String {
    app.sign_in(email, password).await.access_token
}

/// Asserts the one error shape and returns the body.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let header_id = response.headers().get("x-request-id").expect("x-request-id header").to_str().unwrap().to_owned();
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    let error = &body["error"];
    assert_eq!(error["code"], code, "code in {body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "message in {body}");
    assert_eq!(error["request_id"], header_id.as_str(), "request_id matches the header in {body}");
    body
}

/// Polls `check` every 20 ms until it holds, for at most `limit`; returns
/// how long it took, or panics naming `what`.
pub async fn within<F, Fut>(limit: std::time::Duration, what: &str, mut check: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
