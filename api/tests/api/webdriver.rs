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
            "goog:loggingPrefs": { "browser": "ALL" },
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
            if started.elapsed() > Duration::from_secs(10) {
                panic!("no {css} on the page: {answer}\nthe browser's console:\n{}", self.console_log().await);
            }
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
            if started.elapsed() > Duration::from_secs(10) {
                panic!("{css} says {text:?}, not {expected:?}\nthe browser's console:\n{}", self.console_log().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Browser {
    /// What the page wrote to the browser's console (errors, panics).
    pub async fn console_log(&self) -> String {
        let answer: Result<Value, _> = async {
            self.client
                .post(format!("{}/se/log", self.session))
                .json(&json!({ "type": "browser" }))
                .send()
                .await?
                .json()
                .await
        }
        .await;
        match answer {
            Ok(answer) => answer["value"]
                .as_array()
                .map(|lines| {
                    lines
                        .iter()
                        .map(|l| l["message"].as_str().unwrap_or_default().to_owned())
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default(),
            Err(error) => format!("(no log: {error})"),
        }
    }

    /// Runs `script` in the page (a function body; `arguments` are `args`)
    /// and answers what it returns.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.command("/execute/sync", json!({ "script": script, "args": args })).await
    }

    /// Runs `script` in the page; it calls `arguments[arguments.length - 1]`
    /// with its answer when done.
    pub async fn execute_async(&self, script: &str, args: Value) -> Value {
        self.command("/execute/async", json!({ "script": script, "args": args })).await
    }

    /// Whether `css` matches nothing on the page, waiting up to 10 s for it
    /// to go.
    pub async fn absent(&self, css: &str) -> bool {
        let started = std::time::Instant::now();
        loop {
            let count = self.execute("return document.querySelectorAll(arguments[0]).length", json!([css])).await;
            if count == 0 {
                return true;
            }
            if started.elapsed() > Duration::from_secs(10) {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The viewport's size in CSS pixels (the window is sized to it).
    pub async fn resize(&self, width: u32, height: u32) {
        self.command("/window/rect", json!({ "width": width, "height": height })).await;
    }

    /// Emulates the system's colour scheme (`light` or `dark`) through the
    /// DevTools protocol.
    pub async fn color_scheme(&self, scheme: &str) {
        let features = json!([{ "name": "prefers-color-scheme", "value": scheme }]);
        self.command(
            "/goog/cdp/execute",
            json!({ "cmd": "Emulation.setEmulatedMedia", "params": { "features": features } }),
        )
        .await;
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let answer: Value =
            self.client.get(format!("{}/screenshot", self.session)).send().await.unwrap().json().await.unwrap();
        let encoded = answer["value"].as_str().unwrap_or_else(|| panic!("no screenshot: {answer}"));
        base64::engine::general_purpose::STANDARD.decode(encoded).expect("a base64 PNG")
    }

    /// Opens a new tab and answers its handle (the current tab stays).
    pub async fn new_tab(&self) -> String {
        let answer = self.command("/window/new", json!({ "type": "tab" })).await;
        answer["handle"].as_str().expect("a window handle").to_owned()
    }

    /// The current tab's handle.
    pub async fn tab(&self) -> String {
        let answer: Value =
            self.client.get(format!("{}/window", self.session)).send().await.unwrap().json().await.unwrap();
        answer["value"].as_str().expect("a window handle").to_owned()
    }

    /// Makes `handle` the tab the next commands act on.
    pub async fn switch_to(&self, handle: &str) {
        self.command("/window", json!({ "handle": handle })).await;
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
