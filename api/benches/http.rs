//! What Tenantry's request path costs against servers with less in them,
//! measured over HTTP with `wrk`, all in one run:
//!
//! - `GET /` through the production middleware stack against a bare hyper
//!   server answering the same bytes (P1);
//! - `GET /api/users` (20 members) with a bearer token — PASETO, session,
//!   role, Casbin, the tenant transaction under FORCE RLS — against the bare
//!   select of the same rows (P2), and against the usual way of doing it in
//!   application code: an HS256 JWT and `WHERE tenant_id = $1` in a plain
//!   transaction, no RLS (P2 app);
//! - the same route with the per-address rate limit on, for its cost;
//! - the API's resident memory after a minute of the P2 load (P7);
//! - sign-ins per second (argon2id at OWASP's cost), and the members list's
//!   p99 during a storm of them against its p99 alone (P8).
//!
//! Every database path goes through the same pgbouncer in transaction mode
//! as the runtime role (the baselines read copies of the tables without
//! row-level security, `testkit::plain_copy`), and each is correct there: the bare select is one simple-protocol
//! statement (its own implicit transaction), the app-level baseline runs in
//! an explicit transaction. The servers under test share one core (taskset
//! -c 0), `wrk` has the other; targets alternate round by round so drift of
//! the machine touches each alike. Figures are medians over the rounds.
//!
//! Run with `cargo xtask bench`, which starts PostgreSQL 17, pgbouncer and
//! Redis. `BENCH_SMOKE=1` runs one short round of each, unpinned: the test
//! suite does that so the bench cannot rot.
//!
//! The baselines are this same executable started again with
//! `BENCH_SERVE=hello|bare|app`. For experiments: `BENCH_ROUNDS`,
//! `BENCH_ROUND_SECS`, `BENCH_SOAK_SECS`, and `BENCH_API_ENV="K=V K=V"`
//! (settings added to the API's).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context, Result};
use xtask::paths::free_port;

const MEMBERS: usize = 20;
const CONNECTIONS: usize = 16;
const PASSWORD: &str = "bench passphrase for the http bench";
/// The HS256 secret of the app-level baseline (it signs and checks its own
/// tokens; nothing else trusts it).
const JWT_SECRET: &[u8] = b"app-level baseline secret, bench only";

struct Plan {
    tenants: usize,
    signed_in_per_tenant: usize,
    rounds: usize,
    round: Duration,
    soak: Duration,
    pinned: bool,
}

impl Plan {
    fn from_env() -> Self {
        if std::env::var_os("BENCH_SMOKE").is_some() {
            Self {
                tenants: 2,
                signed_in_per_tenant: 1,
                rounds: 1,
                round: Duration::from_secs(1),
                soak: Duration::from_secs(1),
                pinned: false,
            }
        } else {
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
            let number =
                |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
            Self {
                tenants: 10,
                signed_in_per_tenant: 3,
                rounds: number("BENCH_ROUNDS", 5) as usize,
                round: Duration::from_secs(number("BENCH_ROUND_SECS", 5)),
                soak: Duration::from_secs(number("BENCH_SOAK_SECS", 60)),
                pinned: cores >= 2,
            }
        }
    }
}

fn main() -> Result<()> {
    match std::env::var("BENCH_SERVE") {
        Ok(kind) => baseline::serve(&kind),
        Err(_) => tokio::runtime::Runtime::new()?.block_on(orchestrate(Plan::from_env())),
    }
}

/// One thing `wrk` is pointed at.
struct Target {
    name: &'static str,
    url: String,
    /// Rotated by the wrk script.
    requests: Vec<Req>,
}

/// One request of a wrk script: a GET, with an `Authorization` header when
/// given, or a JSON POST.
#[derive(Clone)]
struct Req {
    path: String,
    auth: Option<String>,
    json: Option<String>,
}

fn get(path: &str, auth: Option<String>) -> Req {
    Req { path: path.to_owned(), auth, json: None }
}

async fn orchestrate(plan: Plan) -> Result<()> {
    let wrk = which("wrk").context("wrk is not installed (cargo xtask install)")?;
    let db = testkit::database().await?;
    let scratch = std::env::temp_dir().join(format!("tenantry-http-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;

    // Tenants of 20 members each; the first `signed_in_per_tenant` sign in.
    let hash = api::password::hash(PASSWORD)?;
    let mut tenants = Vec::new();
    for t in 0..plan.tenants {
        let slug = format!("bench{t}");
        let tenant = testkit::seed_tenant(&db, &slug, 0).await?;
        let mut users = Vec::new();
        for m in 1..MEMBERS {
            let email = format!("member{m:02}@{slug}.test");
            users.push((email.clone(), testkit::seed_member(&db, tenant, &email, &hash, "user").await?));
        }
        tenants.push((slug, tenant, users));
    }

    // The baselines read copies without row-level security, as the runtime
    // role through the same pgbouncer (it lets no other role in).
    testkit::plain_copy(&db, &["users", "memberships"]).await?;
    let baseline_url = db.pooled_app_url.clone();

    let mut servers = Servers::default();
    let api_port = free_port()?;
    let (signing, _, refresh) = api::auth::tokens::TokenKeys::generate_hex()?;
    let mut api_env: HashMap<String, String> = [
        ("APP_HOST", "127.0.0.1".to_owned()),
        ("APP_PORT", api_port.to_string()),
        ("DATABASE_URL", db.pooled_app_url.clone()),
        ("PLATFORM_DATABASE_URL", db.pooled_platform_url.clone()),
        ("APP_MIGRATE_ON_START", "false".to_owned()),
        ("DATABASE_MAX_CONNECTIONS", CONNECTIONS.to_string()),
        ("REDIS_URL", testkit::redis_url()),
        ("REDIS_KEY_PREFIX", format!("bench:{}:", db.name)),
        ("APP_PASETO_SIGNING_KEY", signing),
        ("APP_PASETO_REFRESH_KEY", refresh),
        ("APP_RATE_LIMIT_PER_MINUTE", "0".to_owned()),
        ("APP_LOGIN_LIMIT_PER_MINUTE", "0".to_owned()),
        ("APP_OUTBOX_DIR", String::new()),
        // As in production: a JSON line per request (to /dev/null here).
        ("APP_LOG_FORMAT", "json".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    // `BENCH_API_ENV="K=V K=V"` adds to (or overrides) the API's settings,
    // for experiments.
    let extra = std::env::var("BENCH_API_ENV").unwrap_or_default();
    for pair in extra.split_whitespace() {
        let (key, value) = pair.split_once('=').with_context(|| format!("BENCH_API_ENV: {pair} is not K=V"))?;
        api_env.insert(key.to_owned(), value.to_owned());
    }
    let api_pid = servers.start_api(plan.pinned, api_port, &api_env)?;
    // A second API process with the per-address limit on (a budget wrk
    // cannot exhaust), to show what the limiter's Redis round trip costs.
    let limited_port = free_port()?;
    api_env.insert("APP_PORT".into(), limited_port.to_string());
    api_env.insert("APP_RATE_LIMIT_PER_MINUTE".into(), "100000000".to_owned());
    servers.start_api(plan.pinned, limited_port, &api_env)?;

    let client = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{api_port}");
    wait_until_up(&client, &format!("{api}/")).await?;
    wait_until_up(&client, &format!("http://127.0.0.1:{limited_port}/")).await?;
    let resident_when_up = resident_kib(api_pid)?;
    let liveness = client.get(format!("{api}/")).send().await?;
    let content_type = liveness.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let hello_body = scratch.join("hello.body");
    std::fs::write(&hello_body, liveness.bytes().await?)?;

    let hello_port = servers.start_baseline(
        plan.pinned,
        "hello",
        &[("BENCH_HELLO_BODY", hello_body.to_string_lossy().into_owned()), ("BENCH_HELLO_TYPE", content_type)],
    )?;
    let bare_port = servers.start_baseline(plan.pinned, "bare", &[("BENCH_DATABASE_URL", baseline_url.clone())])?;
    let app_port = servers.start_baseline(plan.pinned, "app", &[("BENCH_DATABASE_URL", baseline_url)])?;

    // Tokens: PASETO from Tenantry's sign-in, HS256 for the app baseline.
    let mut tenantry_requests = Vec::new();
    let mut app_requests = Vec::new();
    let mut bare_requests = Vec::new();
    let expires = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() + 3600;
    for (slug, tenant, users) in &tenants {
        for (email, user) in users.iter().take(plan.signed_in_per_tenant) {
            let token = sign_in(&client, &api, email).await?;
            tenantry_requests.push(get("/api/users", Some(format!("Bearer {token}"))));
            let jwt = baseline::jwt(&serde_json::json!({ "sub": user, "tid": tenant, "exp": expires }));
            app_requests.push(get("/api/users", Some(format!("Bearer {jwt}"))));
        }
        bare_requests.push(get(&format!("/tenants/{tenant}/users"), None));
        // Each target answers this tenant's 20 members and no one else.
        let expect = |body: serde_json::Value, target: &str| -> Result<()> {
            let items = body["items"].as_array().with_context(|| format!("{target}: no items in {body}"))?;
            ensure!(items.len() == MEMBERS, "{target}: {} members of {slug}, not {MEMBERS}", items.len());
            for item in items {
                let email = item["email"].as_str().unwrap_or_default();
                ensure!(email.ends_with(&format!("@{slug}.test")), "{target}: {email} in {slug}'s list");
            }
            Ok(())
        };
        let auth = tenantry_requests.last().and_then(|r| r.auth.as_deref());
        expect(get_json(&client, &format!("{api}/api/users"), auth).await?, "tenantry")?;
        let auth = app_requests.last().and_then(|r| r.auth.as_deref());
        expect(get_json(&client, &format!("http://127.0.0.1:{app_port}/api/users"), auth).await?, "app")?;
        let path = &bare_requests.last().expect("a path per tenant").path;
        expect(get_json(&client, &format!("http://127.0.0.1:{bare_port}{path}"), None).await?, "bare")?;
    }

    let targets = [
        Target {
            name: "hyper, same bytes",
            url: format!("http://127.0.0.1:{hello_port}"),
            requests: vec![get("/", None)],
        },
        Target { name: "tenantry GET /", url: api.clone(), requests: vec![get("/", None)] },
        Target { name: "bare select", url: format!("http://127.0.0.1:{bare_port}"), requests: bare_requests },
        Target { name: "app-level JWT + WHERE", url: format!("http://127.0.0.1:{app_port}"), requests: app_requests },
        Target { name: "tenantry /api/users", url: api.clone(), requests: tenantry_requests.clone() },
        Target {
            name: "tenantry, rate limit on",
            url: format!("http://127.0.0.1:{limited_port}"),
            requests: tenantry_requests.clone(),
        },
    ];
    let wrk = Wrk { binary: wrk, pinned: plan.pinned, scratch: scratch.clone() };
    println!(
        "HTTP paths through pgbouncer (transaction mode): {} tenants x {MEMBERS} members, {} signed in, \
         {CONNECTIONS} connections, {} rounds of {:?}{}",
        plan.tenants,
        tenantry_requests.len(),
        plan.rounds,
        plan.round,
        if plan.pinned { "; servers on core 0, wrk on core 1" } else { "; unpinned (smoke)" }
    );
    let resident_at_start = resident_kib(api_pid)?;
    // Warm every path once, then alternate.
    for target in &targets {
        wrk.run(target, Duration::from_secs(1))?;
    }
    let mut runs: Vec<Vec<Run>> = targets.iter().map(|_| Vec::new()).collect();
    for _ in 0..plan.rounds {
        for (target, runs) in targets.iter().zip(runs.iter_mut()) {
            runs.push(wrk.run(target, plan.round)?);
        }
    }
    let soak = wrk.run(&targets[4], plan.soak)?;
    let rss = resident_kib(api_pid)?;

    // A sign-in storm: correct passwords as fast as a second wrk sends
    // them, while the first measures the members list; against the list
    // alone, measured just before.
    let sign_ins = Target {
        name: "sign-in storm",
        url: api.clone(),
        requests: tenants
            .iter()
            .flat_map(|(_, _, users)| users.iter().skip(plan.signed_in_per_tenant))
            .map(|(email, _)| Req {
                path: "/api/auth/login".to_owned(),
                auth: None,
                json: Some(
                    serde_json::json!({ "email": email, "password": PASSWORD, "token_delivery": "body" }).to_string(),
                ),
            })
            .collect(),
    };
    let (mut alone, mut calm, mut stormy, mut storm) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..plan.rounds {
        alone.push(wrk.run(&sign_ins, plan.round)?);
        // Sign-ins still queued when wrk stops finish before the next run.
        std::thread::sleep(Duration::from_secs(2));
        calm.push(wrk.run(&targets[4], plan.round)?);
        let (list, signing_in) = std::thread::scope(|scope| {
            let signing_in = scope.spawn(|| wrk.run(&sign_ins, plan.round));
            let list = wrk.run(&targets[4], plan.round);
            (list, signing_in.join().expect("the storm's wrk thread"))
        });
        stormy.push(list?);
        storm.push(signing_in?);
        std::thread::sleep(Duration::from_secs(2));
    }
    let (alone, calm, stormy, storm) =
        (Summary::of(&alone), Summary::of(&calm), Summary::of(&stormy), Summary::of(&storm));

    println!("{:<26} {:>10} {:>12} {:>12}", "target", "req/s", "median ms", "p99 ms");
    let summaries: Vec<Summary> = runs.iter().map(|r| Summary::of(r)).collect();
    for (target, s) in targets.iter().zip(&summaries) {
        println!("{:<26} {:>10.0} {:>12.3} {:>12.3}", target.name, s.per_second, s.median_ms, s.p99_ms);
    }
    let ratio = |a: usize, b: usize| summaries[a].per_second / summaries[b].per_second;
    println!(
        "the API held {:.1} MB resident when up, {:.1} MB after the sign-ins, {:.1} MB after {:?} more of the \
         P2 load at {:.0} req/s",
        resident_when_up as f64 / 1024.0,
        resident_at_start as f64 / 1024.0,
        rss as f64 / 1024.0,
        plan.soak,
        soak.per_second,
    );
    println!("P1 {:.2}x  (tenantry GET / over hyper; target 0.9x)", ratio(1, 0));
    println!("P2 {:.2}x  (tenantry /api/users over the bare select; target 0.9x)", ratio(4, 2));
    println!("P2 app {:.2}x  (tenantry /api/users over the app-level baseline; target 1.0x)", ratio(4, 3));
    println!("rate limit {:.2}x  (limit on over off)", ratio(5, 4));
    println!(
        "sign-ins alone: {:.0}/s (median {:.1} ms); a storm of them: {:.0}/s while the members list ran at \
         {:.0} req/s, p99 {:.3} ms (alone: {:.0} req/s, p99 {:.3} ms)",
        alone.per_second,
        alone.median_ms,
        storm.per_second,
        stormy.per_second,
        stormy.p99_ms,
        calm.per_second,
        calm.p99_ms
    );
    println!("P7 {:.1} MB  (target 64 MB)", rss as f64 / 1024.0);
    println!(
        "P8 {:.0} sign-ins/s on {} (target 50 per core), p99 of other requests {:.2}x during a storm (target 1.5x)",
        alone.per_second,
        if plan.pinned { "one core" } else { "the machine" },
        stormy.p99_ms / calm.p99_ms
    );

    drop(servers);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// The processes this bench started; stopped when dropped.
#[derive(Default)]
struct Servers(Vec<Child>);

impl Servers {
    fn start_api(&mut self, pinned: bool, port: u16, env: &HashMap<String, String>) -> Result<u32> {
        let mut cmd = on_core(pinned, 0, Path::new(env!("CARGO_BIN_EXE_tenantry-api")));
        cmd.env_clear().envs(env).stdout(Stdio::null()).stderr(Stdio::null());
        let child = cmd.spawn().with_context(|| format!("starting the API on {port}"))?;
        let pid = child.id();
        self.0.push(child);
        Ok(pid)
    }

    /// Starts this executable as a baseline server; returns its port.
    fn start_baseline(&mut self, pinned: bool, kind: &str, env: &[(&str, String)]) -> Result<u16> {
        let mut cmd = on_core(pinned, 0, &std::env::current_exe()?);
        cmd.env("BENCH_SERVE", kind).envs(env.iter().map(|(k, v)| (k, v))).stdout(Stdio::piped());
        let mut child = cmd.spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
        self.0.push(child);
        line.trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .with_context(|| format!("{kind}: {line}"))
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn on_core(pinned: bool, core: usize, program: &Path) -> Command {
    if pinned {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", &core.to_string()]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

struct Wrk {
    binary: PathBuf,
    pinned: bool,
    scratch: PathBuf,
}

/// One `wrk` run's figures.
struct Run {
    per_second: f64,
    median_ms: f64,
    p99_ms: f64,
}

impl Wrk {
    fn run(&self, target: &Target, time: Duration) -> Result<Run> {
        let script = self.scratch.join(format!("{}.lua", target.name.replace([' ', ',', '/', '+'], "_")));
        std::fs::write(&script, lua_script(&target.requests))?;
        let output = on_core(self.pinned, 1, &self.binary)
            .args(["-t1", &format!("-c{CONNECTIONS}"), &format!("-d{}s", time.as_secs().max(1))])
            // Sign-ins queue behind each other in a storm: slow, not lost.
            .args(["--timeout", "10s", "--latency", "-s"])
            .arg(&script)
            .arg(&target.url)
            .output()?;
        let text = String::from_utf8_lossy(&output.stdout);
        ensure!(
            output.status.success(),
            "wrk failed on {}: {text}{}",
            target.name,
            String::from_utf8_lossy(&output.stderr)
        );
        // Every answer must be a success: a fast error is not a result.
        if let Some(line) = text.lines().find(|l| l.contains("Non-2xx") || l.contains("Socket errors")) {
            bail!("{}: {}", target.name, line.trim());
        }
        let field = |prefix: &str| -> Result<String> {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(prefix).map(|rest| rest.trim().to_owned()))
                .with_context(|| format!("no `{prefix}` in wrk's output: {text}"))
        };
        Ok(Run {
            per_second: field("Requests/sec:")?.parse()?,
            median_ms: millis(&field("50%")?)?,
            p99_ms: millis(&field("99%")?)?,
        })
    }
}

/// A wrk script that rotates over the given requests.
fn lua_script(requests: &[Req]) -> String {
    let mut lua = String::from("local requests = {}\n");
    for Req { path, auth, json } in requests {
        if let Some(json) = json {
            // A long string: the JSON's quotes need no escaping.
            lua.push_str(&format!(
                "table.insert(requests, wrk.format(\"POST\", \"{path}\", \
                 {{ [\"Content-Type\"] = \"application/json\" }}, [[{json}]]))\n"
            ));
            continue;
        }
        let headers = auth.as_ref().map(|a| format!("{{ [\"Authorization\"] = \"{a}\" }}")).unwrap_or("nil".into());
        lua.push_str(&format!("table.insert(requests, wrk.format(\"GET\", \"{path}\", {headers}))\n"));
    }
    lua.push_str("local i = 0\nrequest = function()\n  i = i % #requests + 1\n  return requests[i]\nend\n");
    lua
}

/// wrk's durations: `850.00us`, `1.23ms`, `2.00s`.
fn millis(text: &str) -> Result<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).with_context(|| format!("no unit in {text}"))?;
    let (value, unit) = text.split_at(split);
    let value: f64 = value.parse()?;
    Ok(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => bail!("unknown unit in {text}"),
    })
}

struct Summary {
    per_second: f64,
    median_ms: f64,
    p99_ms: f64,
}

impl Summary {
    fn of(runs: &[Run]) -> Self {
        let median = |f: fn(&Run) -> f64| {
            let mut values: Vec<f64> = runs.iter().map(f).collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        Self { per_second: median(|r| r.per_second), median_ms: median(|r| r.median_ms), p99_ms: median(|r| r.p99_ms) }
    }
}

async fn sign_in(client: &reqwest::Client, api: &str, email: &str) -> Result<String> {
    let body: serde_json::Value = client
        .post(format!("{api}/api/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": PASSWORD, "token_delivery": "body" }))
        .send()
        .await?
        .json()
        .await?;
    body["access_token"].as_str().map(str::to_owned).with_context(|| format!("no token for {email}: {body}"))
}

async fn get_json(client: &reqwest::Client, url: &str, auth: Option<&str>) -> Result<serde_json::Value> {
    let mut request = client.get(url);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await?;
    let status = response.status();
    let body = response.text().await?;
    ensure!(status == 200, "{url}: {status} {body}");
    Ok(serde_json::from_str(&body)?)
}

async fn wait_until_up(client: &reqwest::Client, url: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = client.get(url).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        ensure!(Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn resident_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).context("no VmRSS value")?.parse()?)
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| Path::new(dir).join(program)).find(|path| path.is_file())
}

/// The servers Tenantry is compared with, each as small as it can be while
/// being correct through pgbouncer in transaction mode.
mod baseline {
    use std::convert::Infallible;
    use std::time::{SystemTime, UNIX_EPOCH};

    use anyhow::{bail, Context, Result};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use bytes::Bytes;
    use hmac::{Hmac, Mac};
    use http_body_util::Full;
    use hyper::body::Incoming;
    use hyper::{Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;
    use sha2::Sha256;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::{PgPool, Row};
    use uuid::Uuid;

    use super::{CONNECTIONS, JWT_SECRET};

    /// The members query, for one tenant, filtered in the query itself.
    const MEMBERS_SQL: &str = "SELECT m.user_id, u.email, u.display_name, m.role, m.created_at AS joined_at \
                               FROM baseline.memberships m JOIN baseline.users u ON u.id = m.user_id \
                               WHERE m.tenant_id = $1 ORDER BY u.email, m.user_id";

    #[derive(serde::Serialize)]
    struct Member {
        user_id: Uuid,
        email: String,
        display_name: String,
        role: String,
        joined_at: chrono::DateTime<chrono::Utc>,
    }

    #[derive(Clone)]
    enum Kind {
        Hello { body: Bytes, content_type: String },
        Bare(PgPool),
        App(PgPool),
    }

    pub fn serve(kind: &str) -> Result<()> {
        tokio::runtime::Runtime::new()?.block_on(async {
            let pool = || -> Result<PgPool> {
                let url = std::env::var("BENCH_DATABASE_URL")?;
                Ok(PgPoolOptions::new()
                    .max_connections(CONNECTIONS as u32)
                    .test_before_acquire(false)
                    .connect_lazy_with(url.parse::<PgConnectOptions>()?.statement_cache_capacity(0)))
            };
            let kind = match kind {
                "hello" => Kind::Hello {
                    body: std::fs::read(std::env::var("BENCH_HELLO_BODY")?)?.into(),
                    content_type: std::env::var("BENCH_HELLO_TYPE")?,
                },
                "bare" => Kind::Bare(pool()?),
                "app" => Kind::App(pool()?),
                other => bail!("no baseline {other}"),
            };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            println!("listening on {}", listener.local_addr()?.port());
            loop {
                let (stream, _) = listener.accept().await?;
                let kind = kind.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| answer(kind.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        })
    }

    async fn answer(kind: Kind, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let reply = match kind {
            Kind::Hello { body, content_type } => Ok(Response::builder()
                .header("content-type", content_type)
                .body(Full::new(body))
                .expect("a valid response")),
            Kind::Bare(pool) => bare(&pool, req.uri().path()).await,
            Kind::App(pool) => app(&pool, &req).await,
        };
        Ok(reply.unwrap_or_else(|err| {
            Response::builder().status(err.status).body(Full::new(Bytes::from(err.message))).expect("a valid response")
        }))
    }

    struct Refusal {
        status: StatusCode,
        message: String,
    }

    impl<E: std::fmt::Display> From<E> for Refusal {
        fn from(err: E) -> Self {
            Self { status: StatusCode::INTERNAL_SERVER_ERROR, message: err.to_string() }
        }
    }

    fn refuse(status: StatusCode, message: &str) -> Refusal {
        Refusal { status, message: message.to_owned() }
    }

    /// `/tenants/<uuid>/users`: one simple-protocol statement (its own
    /// transaction), the typed id rendered into it.
    async fn bare(pool: &PgPool, path: &str) -> Result<Response<Full<Bytes>>, Refusal> {
        let tenant: Uuid = path
            .strip_prefix("/tenants/")
            .and_then(|rest| rest.strip_suffix("/users"))
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "no such path"))?;
        let sql = MEMBERS_SQL.replace("$1", &format!("'{tenant}'"));
        let rows = sqlx::raw_sql(&sql).fetch_all(pool).await?;
        json(rows.iter().map(member).collect::<Result<_, _>>()?)
    }

    /// `/api/users` with an HS256 bearer token; the tenant from its claims,
    /// filtered in the query, in a transaction.
    async fn app(pool: &PgPool, req: &Request<Incoming>) -> Result<Response<Full<Bytes>>, Refusal> {
        let token = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "no token"))?;
        let claims = verify(token).map_err(|_| refuse(StatusCode::UNAUTHORIZED, "bad token"))?;
        let tenant: Uuid = claims["tid"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "no tenant"))?;
        let mut tx = pool.begin().await?;
        let rows = sqlx::query(MEMBERS_SQL).bind(tenant).persistent(false).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        json(rows.iter().map(member).collect::<Result<_, _>>()?)
    }

    fn member(row: &sqlx::postgres::PgRow) -> Result<Member, sqlx::Error> {
        Ok(Member {
            user_id: row.try_get("user_id")?,
            email: row.try_get("email")?,
            display_name: row.try_get("display_name")?,
            role: row.try_get("role")?,
            joined_at: row.try_get("joined_at")?,
        })
    }

    fn json(items: Vec<Member>) -> Result<Response<Full<Bytes>>, Refusal> {
        let body = serde_json::to_vec(&serde_json::json!({ "items": items }))?;
        Ok(Response::builder()
            .header("content-type", "application/json; charset=utf-8")
            .body(Full::new(body.into()))?)
    }

    /// An HS256 JWT over `claims`.
    pub fn jwt(claims: &serde_json::Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut mac = Hmac::<Sha256>::new_from_slice(JWT_SECRET).expect("any key length");
        mac.update(format!("{header}.{payload}").as_bytes());
        format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// Checks the header's algorithm, the signature and `exp`, as JWT
    /// libraries do; returns the claims.
    fn verify(token: &str) -> Result<serde_json::Value> {
        let mut parts = token.split('.');
        let (header, payload, signature) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(p), Some(s), None) => (h, p, s),
            _ => bail!("not three parts"),
        };
        let head: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header)?)?;
        anyhow::ensure!(head["alg"] == "HS256", "algorithm");
        let mut mac = Hmac::<Sha256>::new_from_slice(JWT_SECRET).expect("any key length");
        mac.update(&token.as_bytes()[..header.len() + 1 + payload.len()]);
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature)?)?;
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        anyhow::ensure!(claims["exp"].as_u64().context("no exp")? > now, "expired");
        Ok(claims)
    }
}
