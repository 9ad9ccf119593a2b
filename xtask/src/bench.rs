//! `cargo xtask bench`: the tenant transaction against a bare select, and
//! an authenticated API request with the access cache off and on, all
//! through pgbouncer in transaction mode, each pair measured in one run.

use std::process::Command;

use anyhow::Result;

use xtask::install;
use xtask::paths::{free_port, repo_root};
use xtask::procs::{run_visible, Supervisor};
use xtask::services::{self, Credentials, PostgresOptions};

pub fn run() -> Result<()> {
    install::packages(&[install::PGBOUNCER, install::REDIS])?;
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
            Command::new(xtask::web::cargo_bin())
                .current_dir(repo_root())
                .args(["bench", "-p", package, "--bench", name])
                .env("TEST_PG_URL", pg.url("postgres", &creds.superuser, "postgres"))
                .env("TEST_PGBOUNCER_URL", format!("postgres://127.0.0.1:{}", bouncer.port))
                .env("TEST_REDIS_URL", &redis)
                .env("TEST_OWNER_PASSWORD", &creds.owner)
                .env("TEST_APP_PASSWORD", &creds.app)
                .env("TEST_PLATFORM_PASSWORD", &creds.platform)
                .env("BENCH_SUPERUSER_PASSWORD", &creds.superuser),
        )
    };
    let outcome = bench("db", "tenant_tx")
        .and_then(|()| bench("api", "access_checks"))
        .and_then(|()| bench("api", "token_verify"));
    sup.stop_all();
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}
