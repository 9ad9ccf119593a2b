//! `cargo xtask test`: the whole suite against real services.
//!
//! Starts a throwaway PostgreSQL 17 cluster, pgbouncer in transaction mode
//! in front of it and Redis, each on a free port (never the machine's own
//! 5432/6379), builds the console for the browser test, runs every test with
//! cargo-nextest (or `cargo test` where nextest is missing) and ends with
//! one line: `N passed, N failed`.
//!
//! Service URLs already in the environment (`TEST_PG_URL`,
//! `TEST_PGBOUNCER_URL`, `TEST_REDIS_URL`, as CI service containers would
//! give) are used instead of starting our own.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use xtask::install;
use xtask::paths::{free_port, repo_root};
use xtask::procs::Supervisor;
use xtask::services::{self, Credentials, PostgresOptions};

/// Role passwords of the throwaway test cluster (tests create the roles).
const TEST_OWNER_PASSWORD: &str = "owner-test-password";
const TEST_APP_PASSWORD: &str = "app-test-password";
const TEST_PLATFORM_PASSWORD: &str = "platform-test-password";
const TEST_SUPERUSER_PASSWORD: &str = "superuser-test-password";

pub fn run(extra: &[String]) -> Result<()> {
    let given = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut wanted = vec![install::NPM, install::NGINX, install::WRK];
    if given("TEST_REDIS_URL").is_none() {
        wanted.push(install::REDIS);
    }
    if given("TEST_PGBOUNCER_URL").is_none() {
        wanted.push(install::PGBOUNCER);
    }
    install::packages(&wanted)?;
    install::service_user()?;
    let browser = install::browser()?;
    let driver = install::browser_driver()?;
    let axe = install::axe()?;
    let tools = install::python_tools()?;
    let s3s_fs = install::s3s_fs()?;
    let dist = xtask::web::build()?;

    let mut sup = Supervisor::with_signal_handler()?;
    let scratch = services::scratch_dir("test")?;
    let creds = Credentials {
        superuser: TEST_SUPERUSER_PASSWORD.into(),
        owner: given("TEST_OWNER_PASSWORD").unwrap_or_else(|| TEST_OWNER_PASSWORD.into()),
        app: given("TEST_APP_PASSWORD").unwrap_or_else(|| TEST_APP_PASSWORD.into()),
        platform: given("TEST_PLATFORM_PASSWORD").unwrap_or_else(|| TEST_PLATFORM_PASSWORD.into()),
    };
    let mut env: Vec<(&str, String)> = vec![
        ("TEST_OWNER_PASSWORD", creds.owner.clone()),
        ("TEST_APP_PASSWORD", creds.app.clone()),
        ("TEST_PLATFORM_PASSWORD", creds.platform.clone()),
        ("TEST_CONSOLE_DIR", dist.to_string_lossy().into_owned()),
        ("TEST_CHROMIUM", browser.to_string_lossy().into_owned()),
        ("TEST_CHROMEDRIVER", driver.to_string_lossy().into_owned()),
        ("TEST_AXE", axe.to_string_lossy().into_owned()),
        ("TEST_SCREENSHOTS", xtask::web::screenshots_dir()?.to_string_lossy().into_owned()),
        ("TEST_CHECK_JSONSCHEMA", tools.join("check-jsonschema").to_string_lossy().into_owned()),
        ("TEST_ACTIONLINT", tools.join("actionlint").to_string_lossy().into_owned()),
        ("TEST_PYTOOLS", tools.to_string_lossy().into_owned()),
        ("TEST_S3FS", s3s_fs.to_string_lossy().into_owned()),
    ];

    // PostgreSQL: the given server, or a throwaway cluster of our own.
    let (pg, superuser_password) = match given("TEST_PG_URL") {
        Some(url) => services::Postgres::from_url(&url)?,
        None => {
            let binaries = install::postgres_binaries()?;
            let pg = services::start_postgres(
                &mut sup,
                PostgresOptions {
                    binaries: &binaries,
                    dir: &scratch.join("postgres"),
                    port: free_port()?,
                    superuser_password: &creds.superuser,
                    ephemeral: true,
                },
            )?;
            (pg, creds.superuser.clone())
        }
    };
    env.push(("TEST_PG_URL", pg.url("postgres", &superuser_password, "postgres")));
    // pgbouncer: the given one, or ours in front of that PostgreSQL.
    let bouncer_url = match given("TEST_PGBOUNCER_URL") {
        Some(url) => url,
        None => {
            let creds = Credentials { superuser: superuser_password.clone(), ..creds.clone() };
            // Every test has a database of its own, so a pool of its own in
            // pgbouncer: idle server connections of finished tests are
            // closed soon, or together they would fill PostgreSQL.
            let idle = "server_idle_timeout = 5\n";
            let dir = scratch.join("pgbouncer");
            let bouncer = services::start_pgbouncer_with(&mut sup, &dir, &pg, free_port()?, &creds, idle)?;
            format!("postgres://127.0.0.1:{}", bouncer.port)
        }
    };
    env.push(("TEST_PGBOUNCER_URL", bouncer_url));
    let redis_url = match given("TEST_REDIS_URL") {
        Some(url) => url,
        None => services::start_redis(&mut sup, &scratch.join("redis"), free_port()?, false)?,
    };
    env.push(("TEST_REDIS_URL", redis_url));

    let mut outcome = run_tests(&env, extra, &sup);
    // The whole suite also runs the HTTP bench in its smoke mode, so the
    // bench command cannot rot; a filtered run skips it.
    if extra.is_empty() {
        if let Ok((passed, failed)) = &mut outcome {
            match bench_smoke(&env) {
                Ok(()) => *passed += 1,
                Err(err) => {
                    eprintln!("FAILED: the HTTP bench in smoke mode: {err:#}");
                    *failed += 1;
                }
            }
        }
    }
    sup.stop_all();
    let _ = std::fs::remove_dir_all(&scratch);
    let (passed, failed) = outcome?;
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        bail!("{failed} test(s) failed");
    }
    Ok(())
}

fn nextest_available() -> bool {
    Command::new(xtask::web::cargo_bin())
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `cargo xtask bench`'s HTTP bench, one short round of each target, with
/// the test build's binaries.
fn bench_smoke(env: &[(&str, String)]) -> Result<()> {
    eprintln!("== the HTTP bench, smoke mode");
    let status = crate::bench::command("api", "http", true)
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .status()
        .context("starting the bench")?;
    if !status.success() {
        bail!("exited with {status}");
    }
    Ok(())
}

/// Runs the suite, echoing its output; returns (passed, failed).
fn run_tests(env: &[(&str, String)], extra: &[String], sup: &Supervisor) -> Result<(u64, u64)> {
    let nextest = nextest_available();
    let mut cmd = Command::new(xtask::web::cargo_bin());
    cmd.current_dir(repo_root()).envs(env.iter().map(|(k, v)| (*k, v)));
    if nextest {
        cmd.args(["nextest", "run", "--workspace", "--no-fail-fast", "--color", "never"]);
    } else {
        eprintln!("cargo-nextest not found; running `cargo test` instead");
        cmd.args(["test", "--workspace", "--no-fail-fast", "--color", "never"]);
    }
    cmd.args(extra).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().context("starting the test runner")?;
    let stdout = child.stdout.take().context("test runner stdout")?;
    let stderr = child.stderr.take().context("test runner stderr")?;
    // Both streams are echoed as they come and scanned for the counts.
    let echo_out = std::thread::spawn(move || scan(BufReader::new(stdout), false));
    let counts_err = scan(BufReader::new(stderr), true);
    let counts_out = echo_out.join().map_err(|_| anyhow::anyhow!("output thread panicked"))?;
    let status = child.wait()?;
    if sup.interrupted() {
        bail!("interrupted");
    }
    let (passed, failed) = if nextest { counts_err.nextest.or(counts_out.nextest) } else { None }
        .unwrap_or((counts_out.libtest.0 + counts_err.libtest.0, counts_out.libtest.1 + counts_err.libtest.1));
    if !status.success() && failed == 0 {
        // A build failure, say: count it, so the summary cannot read green.
        return Ok((passed, 1));
    }
    Ok((passed, failed))
}

#[derive(Default)]
struct Counts {
    /// From nextest's `Summary ... N tests run: N passed, N failed, ...`.
    nextest: Option<(u64, u64)>,
    /// Summed over libtest's `test result: ... N passed; N failed; ...`.
    libtest: (u64, u64),
}

fn scan(reader: impl BufRead, to_stderr: bool) -> Counts {
    let mut counts = Counts::default();
    for line in reader.lines().map_while(Result::ok) {
        if to_stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
        if line.contains("tests run:") || line.contains("test run:") {
            counts.nextest = Some((number_before(&line, " passed"), number_before(&line, " failed")));
        } else if line.starts_with("test result:") {
            counts.libtest.0 += number_before(&line, " passed");
            counts.libtest.1 += number_before(&line, " failed");
        }
    }
    counts
}

/// The number just before `word` in `line` (0 if absent).
fn number_before(line: &str, word: &str) -> u64 {
    line.find(word)
        .and_then(|end| {
            let head = &line[..end];
            let start = head.rfind(|c: char| !c.is_ascii_digit()).map(|i| i + 1).unwrap_or(0);
            head[start..].parse().ok()
        })
        .unwrap_or(0)
}
