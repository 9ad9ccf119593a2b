//! `cargo xtask dev`: the whole thing for development, in the foreground.
//!
//! A private PostgreSQL 17 (data in `.data/`) unless `DATABASE_URL` is set,
//! a private Redis unless `REDIS_URL` is set, a local S3 server (s3s-fs, data
//! in `.data/s3`) for project files unless `APP_S3_BUCKET` is set,
//! migrations, the demo tenant on first run, the API on 3000 and the built console on 8081 with `/api/`
//! reaching the API. Ctrl-C stops everything.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use xtask::install;
use xtask::paths::{data_root, port_in_use, random_hex, repo_root};
use xtask::procs::{run_visible, Supervisor};
use xtask::services::{self, Credentials, Postgres, PostgresOptions, DATABASE, OWNER_ROLE};

pub const API_PORT: u16 = 3000;
pub const CONSOLE_PORT: u16 = 8081;
pub const POSTGRES_PORT: u16 = 54329;
pub const REDIS_PORT: u16 = 63790;
/// The local S3 server, for project files: the API calls it on
/// [`S3_PORT`]; browsers reach it through its CORS front on
/// [`S3_FRONT_PORT`], which presigned URLs name.
pub const S3_PORT: u16 = 8014;
pub const S3_FRONT_PORT: u16 = 8015;

pub fn run() -> Result<()> {
    let external_db = std::env::var("DATABASE_URL").ok().filter(|v| !v.is_empty());
    let external_redis = std::env::var("REDIS_URL").ok().filter(|v| !v.is_empty());
    let unset = |name: &str| std::env::var(name).map(|v| v.is_empty()).unwrap_or(true);
    if external_db.is_some() && unset("DATABASE_OWNER_URL") {
        bail!("DATABASE_URL is set but DATABASE_OWNER_URL is not: migrations need the owner role, directly (not through pgbouncer)");
    }
    if external_db.is_some() && unset("PLATFORM_DATABASE_URL") {
        bail!("DATABASE_URL is set but PLATFORM_DATABASE_URL is not: sign-in and onboarding use the role app_platform");
    }
    let external_s3 = std::env::var("APP_S3_BUCKET").ok().filter(|v| !v.is_empty());
    let mut wanted = vec![install::NPM];
    if external_s3.is_none() {
        wanted.push(install::NGINX);
    }
    if external_redis.is_none() {
        wanted.push(install::REDIS);
    }
    install::packages(&wanted)?;
    for port in [API_PORT, CONSOLE_PORT] {
        if port_in_use(port) {
            bail!("port {port} is already in use; stop whatever listens there (an earlier `cargo xtask dev`?)");
        }
    }

    eprintln!("building the API");
    run_visible(
        Command::new(xtask::web::cargo_bin()).current_dir(repo_root()).args(["build", "--quiet", "-p", "api"]),
    )?;
    let dist = xtask::web::build()?;
    let binary = api_binary("debug");

    let data = data_root()?;
    let secrets = load_or_create_secrets(&data.join("secrets.env"), &binary)?;
    let mut sup = Supervisor::with_signal_handler()?;
    let mut env: BTreeMap<&str, String> = BTreeMap::new();

    match external_db {
        Some(url) => {
            eprintln!("using the database at DATABASE_URL");
            env.insert("DATABASE_URL", url);
            env.insert("DATABASE_OWNER_URL", std::env::var("DATABASE_OWNER_URL")?);
            env.insert("PLATFORM_DATABASE_URL", std::env::var("PLATFORM_DATABASE_URL")?);
        }
        None => {
            if port_in_use(POSTGRES_PORT) {
                bail!("port {POSTGRES_PORT} (PostgreSQL) is already in use");
            }
            let creds = credentials(&secrets);
            let pg = private_cluster(&mut sup, &data, &creds, &binary)?;
            let owner_url = pg.url(OWNER_ROLE, &creds.owner, DATABASE);
            let app_url = pg.url("app", &creds.app, DATABASE);
            env.insert("DATABASE_URL", app_url);
            env.insert("PLATFORM_DATABASE_URL", pg.url("app_platform", &creds.platform, DATABASE));
            env.insert("DATABASE_OWNER_URL", owner_url);
        }
    }
    match external_redis {
        Some(url) => {
            eprintln!("using the Redis at REDIS_URL");
            env.insert("REDIS_URL", url);
        }
        None => {
            if port_in_use(REDIS_PORT) {
                bail!("port {REDIS_PORT} (Redis) is already in use");
            }
            let url = services::start_redis(&mut sup, &data.join("redis"), REDIS_PORT, true)?;
            env.insert("REDIS_URL", url);
        }
    }

    match external_s3 {
        Some(_) => eprintln!("using the S3 bucket of APP_S3_BUCKET"),
        None => {
            for port in [S3_PORT, S3_FRONT_PORT] {
                if port_in_use(port) {
                    bail!("port {port} (the S3 server or its CORS front) is already in use");
                }
            }
            let s3s_fs = install::s3s_fs()?;
            // The front's nginx runs as the service user (when root), which
            // an external database and Redis would not have created.
            install::service_user()?;
            let keys = (secrets["S3_ACCESS_KEY"].as_str(), secrets["S3_SECRET_KEY"].as_str());
            env.extend(services::start_s3(&mut sup, &s3s_fs, &data.join("s3"), S3_PORT, keys.0, keys.1)?);
            let console = [format!("http://localhost:{CONSOLE_PORT}"), format!("http://127.0.0.1:{CONSOLE_PORT}")];
            let origins: Vec<&str> = console.iter().map(String::as_str).collect();
            xtask::storage_front::start(&mut sup, &data.join("s3-front"), S3_FRONT_PORT, S3_PORT, &origins)?;
            env.insert("APP_S3_PUBLIC_ENDPOINT", format!("http://localhost:{S3_FRONT_PORT}"));
        }
    }

    api_command(&binary, "migrate", &[("DATABASE_OWNER_URL", env["DATABASE_OWNER_URL"].clone())])?;
    api_command(&binary, "seed-demo", &[("DATABASE_OWNER_URL", env["DATABASE_OWNER_URL"].clone())])?;

    env.insert("APP_ENV", "development".into());
    env.insert("APP_PORT", API_PORT.to_string());
    env.insert("APP_CONSOLE_PORT", CONSOLE_PORT.to_string());
    env.insert("APP_CONSOLE_DIR", dist.to_string_lossy().into_owned());
    env.insert("APP_OPERATOR_TOKEN", secrets["APP_OPERATOR_TOKEN"].clone());
    env.insert("APP_PASETO_SIGNING_KEY", secrets["APP_PASETO_SIGNING_KEY"].clone());
    env.insert("APP_PASETO_REFRESH_KEY", secrets["APP_PASETO_REFRESH_KEY"].clone());
    // Without APP_SMTP_URL, emails (verification, reset, invitation links)
    // land here and in the log.
    env.insert("APP_OUTBOX_DIR", data.join("outbox").to_string_lossy().into_owned());
    env.insert("APP_PUBLIC_URL", format!("http://localhost:{CONSOLE_PORT}"));
    let mut api = Command::new(&binary);
    api.envs(&env).envs(std::env::vars().filter(|(k, _)| {
        matches!(k.as_str(), "APP_LOG" | "RUST_BACKTRACE" | "APP_SMTP_URL" | "APP_MAIL_FROM")
            || k.starts_with("APP_S3_")
            || k.starts_with("APP_FILES_")
    }));
    sup.spawn("api", &mut api, "TERM")?;
    services::wait_for_port(&mut sup, CONSOLE_PORT, Duration::from_secs(30))?;

    println!();
    println!("  API      http://localhost:{API_PORT}/   (reference: http://localhost:{API_PORT}/api/docs)");
    println!("  Console  http://localhost:{CONSOLE_PORT}/");
    println!("  Operator token and database passwords: {}", data.join("secrets.env").display());
    println!("  Ctrl-C stops everything.");
    println!();
    let outcome = sup.wait();
    sup.stop_all();
    outcome
}

/// Starts the private PostgreSQL 17 cluster of `.data/postgres` on
/// [`POSTGRES_PORT`] (initialising it on first use) and makes sure its roles
/// and database exist (`tenantry-api bootstrap`).
pub fn private_cluster(sup: &mut Supervisor, data: &Path, creds: &Credentials, binary: &Path) -> Result<Postgres> {
    install::service_user()?;
    let binaries = install::postgres_binaries()?;
    let pg = services::start_postgres(
        sup,
        PostgresOptions {
            binaries: &binaries,
            dir: &data.join("postgres"),
            port: POSTGRES_PORT,
            superuser_password: &creds.superuser,
            ephemeral: false,
        },
    )?;
    api_command(
        binary,
        "bootstrap",
        &[
            ("DATABASE_SUPERUSER_URL", pg.url("postgres", &creds.superuser, "postgres")),
            ("DATABASE_OWNER_URL", pg.url(OWNER_ROLE, &creds.owner, DATABASE)),
            ("DATABASE_URL", pg.url("app", &creds.app, DATABASE)),
            ("PLATFORM_DATABASE_URL", pg.url("app_platform", &creds.platform, DATABASE)),
        ],
    )?;
    Ok(pg)
}

/// The `tenantry-api` binary of a cargo profile (`debug`, `release`).
pub fn api_binary(profile: &str) -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(Into::into).unwrap_or_else(|| repo_root().join("target"));
    target.join(profile).join("tenantry-api")
}

/// Runs a one-shot `tenantry-api` command with the given environment.
pub fn api_command(binary: &Path, command: &str, env: &[(&str, String)]) -> Result<()> {
    let mut cmd = Command::new(binary);
    cmd.arg(command).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_visible(&mut cmd).with_context(|| format!("tenantry-api {command}"))
}

pub fn credentials(secrets: &BTreeMap<String, String>) -> Credentials {
    Credentials {
        superuser: secrets["PG_SUPERUSER_PASSWORD"].clone(),
        owner: secrets["APP_OWNER_PASSWORD"].clone(),
        app: secrets["APP_DB_PASSWORD"].clone(),
        platform: secrets["PLATFORM_DB_PASSWORD"].clone(),
    }
}

/// The private cluster's passwords, the operator token and the token keys
/// (from `tenantry-api keygen`), generated on first run and kept (mode 0600)
/// in `.data/secrets.env`, so sessions survive restarts.
pub fn load_or_create_secrets(path: &Path, api: &Path) -> Result<BTreeMap<String, String>> {
    const KEYS: [&str; 7] = [
        "PG_SUPERUSER_PASSWORD",
        "APP_OWNER_PASSWORD",
        "APP_DB_PASSWORD",
        "PLATFORM_DB_PASSWORD",
        "APP_OPERATOR_TOKEN",
        "S3_ACCESS_KEY",
        "S3_SECRET_KEY",
    ];
    let mut secrets: BTreeMap<String, String> = std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut changed = false;
    for key in KEYS {
        if !secrets.contains_key(key) {
            secrets.insert(key.to_owned(), random_hex()?);
            changed = true;
        }
    }
    if !secrets.contains_key("APP_PASETO_SIGNING_KEY") || !secrets.contains_key("APP_PASETO_REFRESH_KEY") {
        let output = Command::new(api).arg("keygen").output().context("tenantry-api keygen")?;
        if !output.status.success() {
            bail!("tenantry-api keygen failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        for line in String::from_utf8_lossy(&output.stdout).lines().filter(|l| !l.starts_with('#')) {
            if let Some((k, v)) = line.split_once('=') {
                secrets.insert(k.to_owned(), v.to_owned());
            }
        }
        changed = true;
    }
    if changed {
        let text: String = secrets.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(path, text)?;
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    }
    Ok(secrets)
}
