//! Just enough of the W3C WebDriver protocol, over HTTP, to drive Debian's
//! headless Chromium through ChromeDriver: open a page, fill in and submit
//! a form, read an element's text.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::process::{Child, Command};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    _driver: Child,
    client: reqwest::Client,
    session: String,
    _profile: tempdir::Dir,
}

mod tempdir {
    /// A folder removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Browser {
    pub async fn start() -> Self {
        let port = crate::helpers::dead_port();
        let driver = Command::new(testkit::env("TEST_CHROMEDRIVER"))
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver runs");
        let base = format!("http://127.0.0.1:{port}");
        // Bounded, so a stuck browser fails the test instead of hanging it.
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        crate::helpers::within(Duration::from_secs(15), "chromedriver ready", || {
            let request = client.get(format!("{base}/status"));
            async move { request.send().await.is_ok_and(|r| r.status() == 200) }
        })
        .await;
        let profile = std::env::temp_dir().join(format!("tenantry-webdriver-{}", uuid::Uuid::new_v4()));
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": testkit::env("TEST_CHROMIUM"),
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", format!("--user-data-dir={}", profile.display())],
            },
        }}});
        let created: Value =
            client.post(format!("{base}/session")).json(&capabilities).send().await.unwrap().json().await.unwrap();
        let session = created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}"));
        Self { _driver: driver, client, session: format!("{base}/session/{session}"), _profile: tempdir::Dir(profile) }
    }

    async fn command(&self, path: &str, body: Value) -> Value {
        let answer: Value =
            self.client.post(format!("{}{path}", self.session)).json(&body).send().await.unwrap().json().await.unwrap();
        assert!(answer["value"].get("error").is_none(), "{path}: {answer}");
        answer["value"].clone()
    }

    pub async fn open(&self, url: &str) {
        self.command("/url", json!({ "url": url })).await;
    }

    /// The address of the page once its path is `path` (waits up to 10 s):
    /// client-side navigation changes it without a load.
    pub async fn wait_for_path(&self, path: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let answer: Value =
                self.client.get(format!("{}/url", self.session)).send().await.unwrap().json().await.unwrap();
            let url = answer["value"].as_str().unwrap_or_default().to_owned();
            let current = url.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]));
            if current.is_some_and(|p| p.split(['?', '#']).next() == Some(path)) {
                return url;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "the page is at {url}, not {path}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element of `css`, once it is on the page (waits up to 10 s).
    async fn find(&self, css: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let answer: Value = self
                .client
                .post(format!("{}/element", self.session))
                .json(&json!({ "using": "css selector", "value": css }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(id) = answer["value"][ELEMENT].as_str() {
                return id.to_owned();
            }
            assert!(started.elapsed() < Duration::from_secs(10), "no {css} on the page: {answer}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(&format!("/element/{element}/value"), json!({ "text": text })).await;
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(&format!("/element/{element}/click"), json!({})).await;
    }

    /// The text of `css` once it contains `expected` (waits up to 10 s).
    pub async fn text_containing(&self, css: &str, expected: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let element = self.find(css).await;
            let answer: Value = self
                .client
                .get(format!("{}/element/{element}/text", self.session))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let text = answer["value"].as_str().unwrap_or_default().to_owned();
            if text.contains(expected) {
                return text;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "{css} says {text:?}, not {expected:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the browser with the session; the driver dies with its Child.
        // On a thread of its own with a client of its own: the test's
        // runtime, blocked here, cannot drive the test client's connections.
        let session = self.session.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(runtime) = runtime {
                let _ = runtime.block_on(reqwest::Client::new().delete(session).send());
            }
        })
        .join();
    }
}
