//! What the per-replica access cache saves on an authenticated request:
//! `GET /api/users` with a bearer token, against the same application with
//! the cache off (`APP_ACCESS_CACHE_TTL_MS=0`: the session checked in Redis
//! and the role read from PostgreSQL on every request) and on (the default
//! TTL), both through pgbouncer, measured in this run in alternating rounds.
//!
//! Run with `cargo xtask bench` (it starts PostgreSQL 17, pgbouncer and
//! Redis).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use api::config::Settings;
use api::startup::Application;

const USERS: usize = 50;
const CONCURRENCY: usize = 16;
const ROUNDS: usize = 3;
const ROUND_TIME: Duration = Duration::from_secs(4);
const PASSWORD: &str = "bench passphrase for access checks";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let db = testkit::database().await?;
    let tenant = testkit::seed_tenant(&db, "bench", 0).await?;
    let hash = api::password::hash(PASSWORD)?;
    let mut emails = Vec::new();
    for i in 0..USERS {
        let email = format!("user{i}@bench.test");
        testkit::seed_member(&db, tenant, &email, &hash, if i % 2 == 0 { "user" } else { "viewer" }).await?;
        emails.push(email);
    }
    let (signing, _, refresh) = api::auth::tokens::TokenKeys::generate_hex()?;
    let mut bases = Vec::new();
    for ttl in ["0", "1000"] {
        let vars: HashMap<String, String> = [
            ("APP_HOST", "127.0.0.1".to_owned()),
            ("APP_PORT", "0".to_owned()),
            ("DATABASE_URL", db.pooled_app_url.clone()),
            ("PLATFORM_DATABASE_URL", db.pooled_platform_url.clone()),
            ("APP_MIGRATE_ON_START", "false".to_owned()),
            ("DATABASE_MAX_CONNECTIONS", CONCURRENCY.to_string()),
            ("REDIS_URL", testkit::redis_url()),
            ("REDIS_KEY_PREFIX", format!("bench:{}:", db.name)),
            ("APP_PASETO_SIGNING_KEY", signing.clone()),
            ("APP_PASETO_REFRESH_KEY", refresh.clone()),
            ("APP_RATE_LIMIT_PER_MINUTE", "0".to_owned()),
            ("APP_LOGIN_LIMIT_PER_MINUTE", "0".to_owned()),
            ("APP_OUTBOX_DIR", String::new()),
            ("APP_ACCESS_CACHE_TTL_MS", ttl.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let app = Application::build(Settings::from_map(&vars)?).await?;
        bases.push(format!("http://127.0.0.1:{}", app.port()));
        tokio::spawn(app.run_until_stopped());
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build()?;
    let mut tokens = Vec::new();
    for email in &emails {
        let body: serde_json::Value = client
            .post(format!("{}/api/auth/login", bases[0]))
            .json(&serde_json::json!({ "email": email, "password": PASSWORD, "token_delivery": "body" }))
            .send()
            .await?
            .json()
            .await?;
        tokens.push(body["access_token"].as_str().ok_or_else(|| anyhow::anyhow!("no token: {body}"))?.to_owned());
    }

    println!("GET /api/users with a bearer token, cache off vs on, through pgbouncer");
    println!("{USERS} members signed in, {CONCURRENCY} concurrent clients, {ROUNDS} rounds of {ROUND_TIME:?} each");
    for base in &bases {
        run(&client, base, &tokens, Duration::from_secs(1)).await?;
    }
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        off.extend(run(&client, &bases[0], &tokens, ROUND_TIME).await?);
        on.extend(run(&client, &bases[1], &tokens, ROUND_TIME).await?);
    }
    let seconds = ROUNDS as f64 * ROUND_TIME.as_secs_f64();
    let (off, on) = (Summary::of(&mut off, seconds), Summary::of(&mut on, seconds));
    println!("{:<28} {:>10} {:>12} {:>12}", "variant", "req/s", "median ms", "p95 ms");
    off.print("cache off (TTL 0)");
    on.print("cache on (TTL 1 s)");
    println!(
        "ratio on/off: throughput {:.2}x, median latency {:.2}x",
        on.per_second / off.per_second,
        on.median_ms / off.median_ms
    );
    Ok(())
}

async fn run(client: &reqwest::Client, base: &str, tokens: &[String], time: Duration) -> anyhow::Result<Vec<Duration>> {
    let deadline = Instant::now() + time;
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (client, url, tokens) = (client.clone(), format!("{base}/api/users"), tokens.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = worker;
            while Instant::now() < deadline {
                let token = &tokens[n % tokens.len()];
                n += 1;
                let started = Instant::now();
                let response = client.get(&url).bearer_auth(token).send().await?;
                anyhow::ensure!(response.status() == 200, "status {}", response.status());
                response.bytes().await?;
                latencies.push(started.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

struct Summary {
    per_second: f64,
    median_ms: f64,
    p95_ms: f64,
}

impl Summary {
    fn of(latencies: &mut [Duration], seconds: f64) -> Self {
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0;
        Self { per_second: latencies.len() as f64 / seconds, median_ms: at(0.5), p95_ms: at(0.95) }
    }

    fn print(&self, name: &str) {
        println!("{name:<28} {:>10.0} {:>12.3} {:>12.3}", self.per_second, self.median_ms, self.p95_ms);
    }
}
