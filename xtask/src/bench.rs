//! `cargo xtask bench [--smoke] [NAME...]`: the request path over HTTP
//! against its baselines (`http`), the tenant transaction against a bare
//! select (`tenant_tx`), an authenticated request with the access cache off
//! and on (`access_checks`), the token verification (`token_verify`) and
//! one authorization decision (`decisions`); database paths through
//! pgbouncer in transaction mode; each comparison measured in one run.
//! Names pick benches; `--smoke` runs the smoke mode of those that have
//! one, built with the test profile.

use std::process::Command;

use anyhow::Result;

use xtask::install;
use xtask::paths::{free_port, repo_root};
use xtask::procs::{run_visible, Supervisor};
use xtask::services::{self, Credentials, PostgresOptions};

/// Each bench: its package and name.
const BENCHES: [(&str, &str); 5] = [
    ("db", "tenant_tx"),
    ("api", "access_checks"),
    ("api", "token_verify"),
    ("policies", "decisions"),
    ("api", "http"),
];

pub fn run(args: &[String]) -> Result<()> {
    let smoke = args.iter().any(|a| a == "--smoke");
    let names: Vec<&str> = args.iter().map(String::as_str).filter(|a| *a != "--smoke").collect();
    if let Some(unknown) = names.iter().find(|n| !BENCHES.iter().any(|(_, b)| b == *n)) {
        anyhow::bail!("no bench `{unknown}`; there are {:?}", BENCHES.map(|(_, b)| b));
    }
    install::packages(&[install::PGBOUNCER, install::REDIS, install::WRK])?;
    install::service_user()?;
    let binaries = install::postgres_binaries()?;
    let mut sup = Supervisor::with_signal_handler()?;
    let scratch = services::scratch_dir("bench")?;
    let creds = Credentials {
        superuser: "bench-superuser".into(),
        owner: "bench-owner".into(),
        app: "bench-app".into(),
        platform: "bench-platform".into(),
    };
    let pg = services::start_postgres(
        &mut sup,
        PostgresOptions {
            binaries: &binaries,
            dir: &scratch.join("postgres"),
            port: free_port()?,
            superuser_password: &creds.superuser,
            ephemeral: false,
        },
    )?;
    let bouncer = services::start_pgbouncer(&mut sup, &scratch.join("pgbouncer"), &pg, free_port()?, &creds)?;
    let redis = services::start_redis(&mut sup, &scratch.join("redis"), free_port()?, false)?;
    let bench = |package: &str, name: &str| {
        run_visible(
            command(package, name, smoke)
                .env("TEST_PG_URL", pg.url("postgres", &creds.superuser, "postgres"))
                .env("TEST_PGBOUNCER_URL", format!("postgres://127.0.0.1:{}", bouncer.port))
                .env("TEST_REDIS_URL", &redis)
                .env("TEST_OWNER_PASSWORD", &creds.owner)
                .env("TEST_APP_PASSWORD", &creds.app)
                .env("TEST_PLATFORM_PASSWORD", &creds.platform),
        )
    };
    let outcome = BENCHES
        .iter()
        .filter(|(_, name)| names.is_empty() || names.contains(name))
        .try_for_each(|(package, name)| bench(package, name));
    sup.stop_all();
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}

/// The cargo command that runs one bench: in release mode, or in its smoke
/// mode (`BENCH_SMOKE=1`) with the test profile's build.
pub(crate) fn command(package: &str, name: &str, smoke: bool) -> Command {
    let mut cmd = Command::new(xtask::web::cargo_bin());
    cmd.current_dir(repo_root());
    if smoke {
        cmd.env("BENCH_SMOKE", "1").args(["test", "-p", package, "--bench", name]);
    } else {
        cmd.args(["bench", "-p", package, "--bench", name]);
    }
    cmd
}
