//! End-to-end through the production topology on one machine: nginx
//! (rendered from `ops/nginx/`, the plain-HTTP variant) in front of two
//! `tenantry-api` replicas, which reach PostgreSQL 17 through pgbouncer.
//! Both nginx variants' headers are checked against a stand-in API in
//! `xtask/tests/deploy_files/nginx.rs`; here, with the real one.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use xtask::procs::Supervisor;
use xtask::stack::{self, NginxOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tenantry-api");
const OPERATOR_TOKEN: &str = "operator-token-for-stack-tests-0123456789";

struct Stack {
    sup: Supervisor,
    url: String,
    replicas: Vec<(String, u16)>,
    env: Vec<(String, String)>,
    dir: PathBuf,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.sup.stop_all();
        // Kept after a failure: the replicas' and nginx's logs are there.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn free_port() -> u16 {
    xtask::paths::free_port().unwrap()
}

async fn start_stack() -> Stack {
    start_stack_with(&[]).await
}

/// A stack whose replicas get `overrides` on top of the defaults.
async fn start_stack_with(overrides: &[(&str, &str)]) -> Stack {
    let db = testkit::database().await.unwrap();
    xtask::install::service_user().unwrap();
    let dir = xtask::paths::data_root().unwrap().join(format!("stack-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let env: Vec<(String, String)> = [
        ("APP_ENV", "production".to_owned()),
        ("APP_HOST", "127.0.0.1".to_owned()),
        ("DATABASE_URL", db.pooled_app_url.clone()),
        ("PLATFORM_DATABASE_URL", db.pooled_platform_url.clone()),
        ("REDIS_URL", testkit::redis_url()),
        ("REDIS_KEY_PREFIX", format!("test:{}:", db.name)),
        ("APP_OPERATOR_TOKEN", OPERATOR_TOKEN.to_owned()),
        ("APP_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        ("APP_RATE_LIMIT_PER_MINUTE", "0".to_owned()),
        ("APP_DRAIN_TIMEOUT_SECS", "10".to_owned()),
    ]
    .into_iter()
    .filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k))
    .map(|(k, v)| (k.to_owned(), v))
    .chain(overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    .collect();
    // Replicas share one set of token keys, as in production.
    let (signing, _, refresh) = api::auth::tokens::TokenKeys::generate_hex().unwrap();
    let mut env = env;
    env.push(("APP_PASETO_SIGNING_KEY".into(), signing));
    env.push(("APP_PASETO_REFRESH_KEY".into(), refresh));
    let console = PathBuf::from(testkit::env("TEST_CONSOLE_DIR"));
    let replicas = vec![("api-1".to_owned(), free_port()), ("api-2".to_owned(), free_port())];
    let ports: Vec<u16> = replicas.iter().map(|r| r.1).collect();
    let nginx_port = free_port();
    let mut sup = Supervisor::new();
    let (dir_c, env_c, replicas_c) = (dir.clone(), env.clone(), replicas.clone());
    let sup = tokio::task::spawn_blocking(move || {
        for (name, port) in &replicas_c {
            stack::start_replica(&mut sup, name, BIN.as_ref(), *port, &env_c, Some(&dir_c.join(format!("{name}.log"))))
                .unwrap();
        }
        stack::start_nginx(
            &mut sup,
            &NginxOptions {
                dir: &dir_c.join("nginx"),
                port: nginx_port,
                console: &console,
                upstreams: &ports,
                storage_origin: "",
            },
        )
        .unwrap();
        sup
    })
    .await
    .unwrap();
    Stack { sup, url: format!("http://127.0.0.1:{nginx_port}"), replicas, env, dir }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_restarting_one_at_a_time_under_load_fail_no_request() {
    let mut stack = start_stack().await;
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut load = Vec::new();
    for worker in 0..6 {
        let (client, url, stop, ok, failed, failures) =
            (client.clone(), stack.url.clone(), stop.clone(), ok.clone(), failed.clone(), failures.clone());
        load.push(tokio::spawn(async move {
            let paths = ["/api/health", "/api/tenants?limit=5", "/"];
            let mut n = worker;
            while !stop.load(Ordering::SeqCst) {
                let path = paths[n % paths.len()];
                n += 1;
                let outcome = client.get(format!("{url}{path}")).bearer_auth(OPERATOR_TOKEN).send().await;
                match outcome {
                    Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    Ok(r) => {
                        failures.lock().unwrap().push(format!("{path}: {}", r.status()));
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(e) => {
                        failures.lock().unwrap().push(format!("{path}: {e}"));
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    for (name, port) in stack.replicas.clone() {
        let mut sup = std::mem::take(&mut stack.sup);
        let env = stack.env.clone();
        let log = stack.dir.join(format!("{name}.log"));
        let (sup, status) = tokio::task::spawn_blocking(move || {
            let status = sup.stop(&name).unwrap();
            stack::start_replica(&mut sup, &name, BIN.as_ref(), port, &env, Some(&log)).unwrap();
            (sup, status)
        })
        .await
        .unwrap();
        stack.sup = sup;
        assert!(status.success(), "a replica exited with {status} after SIGTERM");
        // As an orchestrator's update delay would: let nginx's passive check
        // take the new replica back (fail_timeout=2s, counted in whole
        // seconds, so up to 3 s) before the next one goes.
        tokio::time::sleep(Duration::from_millis(4000)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for task in load {
        task.await.unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(ok > 200, "too little load to mean anything: {ok} requests");
    eprintln!("rolling restart of 2 replicas under load: {ok} requests answered 200, {failed} failed");
    let failures = failures.lock().unwrap();
    let first: Vec<&String> = failures.iter().take(10).collect();
    assert_eq!(failed, 0, "{failed} of {} failed, first: {first:?}; logs in {}", ok + failed, stack.dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_serves_the_console_and_proxies_the_api_with_its_headers() {
    let stack = start_stack().await;
    let client = reqwest::Client::new();

    let index = client.get(format!("{}/members/7", stack.url)).send().await.unwrap();
    assert_eq!(index.status(), 200);
    let h = index.headers().clone();
    assert_eq!(h["cache-control"], "no-cache");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("'wasm-unsafe-eval'")
            && csp.contains("frame-ancestors 'none'")
            && csp.contains("base-uri 'none'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    assert!(h.contains_key("referrer-policy"));
    assert!(!h.contains_key("strict-transport-security"), "HSTS over plain HTTP");
    let html = index.text().await.unwrap();
    let wasm_name = std::fs::read_dir(testkit::env("TEST_CONSOLE_DIR"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".wasm"))
        .unwrap();
    assert!(html.contains("<noscript>"));

    let wasm = client.get(format!("{}/{wasm_name}", stack.url)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(wasm.headers()["content-encoding"], "gzip");
    assert!(wasm.headers()["cache-control"].to_str().unwrap().contains("immutable"));

    let health =
        client.get(format!("{}/api/health", stack.url)).header("x-request-id", "through-nginx-1").send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["x-request-id"], "through-nginx-1");
    assert_eq!(health.headers().get_all("x-request-id").iter().count(), 1, "the request id, once");
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    let api_csp = health.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(api_csp.starts_with("default-src 'none'") && api_csp.contains("base-uri 'none'"), "{api_csp}");
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["checks"]["database"]["status"], "ok");

    let generated = client.get(format!("{}/api/nope", stack.url)).send().await.unwrap();
    assert_eq!(generated.status(), 404);
    let id = generated.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = generated.json().await.unwrap();
    assert_eq!(body["error"]["request_id"], id.as_str(), "nginx's id reaches the API");

    let big = client
        .post(format!("{}/api/tenants", stack.url))
        .header("content-type", "application/json")
        .body(vec![b'x'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    let body: serde_json::Value = big.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");

    let mut limited = 0;
    for _ in 0..60 {
        let r = client.post(format!("{}/api/auth/login", stack.url)).json(&serde_json::json!({})).send().await.unwrap();
        // Answers of the token endpoints are never stored, whoever made them.
        let cache: Vec<_> = r.headers().get_all("cache-control").iter().collect();
        assert_eq!(cache, ["no-store"], "{}", r.status());
        if r.status() == 429 {
            limited += 1;
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        }
    }
    assert!(limited > 0, "limit_req never answered 429 on /api/auth/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_nginx_the_api_works_and_clients_cannot_forge_their_address() {
    let stack = start_stack_with(&[("APP_RATE_LIMIT_PER_MINUTE", "5")]).await;
    // All six requests must fall into one one-minute window of the limiter.
    let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60;
    if second > 45 {
        tokio::time::sleep(Duration::from_secs(61 - second)).await;
    }
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/api/tenants", stack.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&serde_json::json!({ "slug": "edge", "name": "Edge Ltd" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let listed: serde_json::Value = client
        .get(format!("{}/api/tenants", stack.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["slug"], "edge");
    // Five requests a minute per client address. Each further request claims
    // another address; nginx overwrites X-Real-IP, so the API still counts
    // them all against 127.0.0.1.
    let mut statuses = Vec::new();
    for i in 0..4 {
        let forged = format!("203.0.113.{i}");
        let r = client
            .get(format!("{}/api/health", stack.url))
            .header("x-real-ip", &forged)
            .header("x-forwarded-for", &forged)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429], "forged addresses escaped the limit");
}

/// Swagger UI at /api/docs runs its inline script and styles under the CSP
/// nginx gives that page (and only that page): Chromium renders the
/// operations, and reports no policy violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_reference_renders_under_its_content_security_policy() {
    let stack = start_stack().await;
    let url = format!("{}/api/docs", stack.url);
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'unsafe-inline'") && csp.contains("base-uri 'none'"), "{csp}");
    let profile = stack.dir.join("chromium-profile");
    let dump = tokio::process::Command::new(testkit::env("TEST_CHROMIUM"))
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .args(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(&url)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), dump).await.expect("Chromium finished").unwrap();
    let (dom, log) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let violations: Vec<&str> = log.lines().filter(|l| l.contains("Content Security Policy")).collect();
    assert!(violations.is_empty(), "{violations:#?}");
    // An operation as Swagger UI renders it (the document alone has no such attribute).
    assert!(dom.contains("data-path=\"/api/health\""), "Swagger UI did not render the operations");
}
