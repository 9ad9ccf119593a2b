//! `cargo xtask bench`: the tenant transaction against a bare select, both
//! through pgbouncer in transaction mode, measured in one run.

use std::process::Command;

use anyhow::Result;

use xtask::install;
use xtask::paths::{free_port, repo_root};
use xtask::procs::{run_visible, Supervisor};
use xtask::services::{self, Credentials, PostgresOptions};

pub fn run() -> Result<()> {
    install::packages(&[install::PGBOUNCER])?;
    install::service_user()?;
    let binaries = install::postgres_binaries()?;
    let mut sup = Supervisor::with_signal_handler()?;
    let scratch = services::scratch_dir("bench")?;
    let creds =
        Credentials { superuser: "bench-superuser".into(), owner: "bench-owner".into(), app: "bench-app".into() };
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
    let outcome = run_visible(
        Command::new(xtask::web::cargo_bin())
            .current_dir(repo_root())
            .args(["bench", "-p", "db", "--bench", "tenant_tx"])
            .env("TEST_PG_URL", pg.url("postgres", &creds.superuser, "postgres"))
            .env("TEST_PGBOUNCER_URL", format!("postgres://127.0.0.1:{}", bouncer.port))
            .env("TEST_OWNER_PASSWORD", &creds.owner)
            .env("TEST_APP_PASSWORD", &creds.app)
            .env("BENCH_SUPERUSER_PASSWORD", &creds.superuser),
    );
    sup.stop_all();
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}
