//! `cargo xtask stack`: the production topology on one machine, from the
//! same configuration files the images use: PostgreSQL 17 → pgbouncer
//! (transaction mode) → two API replicas (release build) → nginx serving the
//! built console and proxying `/api/`, with Redis beside them. Ctrl-C stops
//! all of it.

use std::process::Command;

use anyhow::{bail, Result};
use xtask::install;
use xtask::paths::{data_root, port_in_use, repo_root};
use xtask::procs::{run_visible, Supervisor};
use xtask::services::{self, DATABASE, OWNER_ROLE};
use xtask::stack::{self, NginxOptions};

use crate::dev::{
    api_binary, api_command, credentials, load_or_create_secrets, private_cluster, POSTGRES_PORT, REDIS_PORT,
    S3_FRONT_PORT, S3_PORT,
};

pub const NGINX_PORT: u16 = 8080;
pub const PGBOUNCER_PORT: u16 = 6432;
pub const REPLICA_PORTS: [u16; 2] = [3001, 3002];

pub fn run() -> Result<()> {
    install::packages(&[install::REDIS, install::PGBOUNCER, install::NGINX, install::NPM])?;
    install::service_user()?;
    for port in
        [NGINX_PORT, PGBOUNCER_PORT, POSTGRES_PORT, REDIS_PORT, S3_PORT, S3_FRONT_PORT].into_iter().chain(REPLICA_PORTS)
    {
        if port_in_use(port) {
            bail!("port {port} is already in use (is `cargo xtask dev` or another stack running?)");
        }
    }
    eprintln!("building the API (release)");
    run_visible(Command::new(xtask::web::cargo_bin()).current_dir(repo_root()).args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "api",
    ]))?;
    let dist = xtask::web::build()?;
    let binary = api_binary("release");
    let data = data_root()?;
    let secrets = load_or_create_secrets(&data.join("secrets.env"), &binary)?;
    let creds = credentials(&secrets);

    let mut sup = Supervisor::with_signal_handler()?;
    let pg = private_cluster(&mut sup, &data, &creds, &binary)?;
    let owner_url = pg.url(OWNER_ROLE, &creds.owner, DATABASE);
    api_command(&binary, "migrate", &[("DATABASE_OWNER_URL", owner_url.clone())])?;
    api_command(&binary, "seed-demo", &[("DATABASE_OWNER_URL", owner_url.clone())])?;
    let bouncer = services::start_pgbouncer(&mut sup, &data.join("stack/pgbouncer"), &pg, PGBOUNCER_PORT, &creds)?;
    let redis_url = services::start_redis(&mut sup, &data.join("redis"), REDIS_PORT, true)?;
    let s3s_fs = install::s3s_fs()?;
    let (s3_key, s3_secret) = (secrets["S3_ACCESS_KEY"].as_str(), secrets["S3_SECRET_KEY"].as_str());
    let mut storage = services::start_s3(&mut sup, &s3s_fs, &data.join("s3"), S3_PORT, s3_key, s3_secret)?;
    let console = [format!("http://localhost:{NGINX_PORT}"), format!("http://127.0.0.1:{NGINX_PORT}")];
    let origins: Vec<&str> = console.iter().map(String::as_str).collect();
    xtask::storage_front::start(&mut sup, &data.join("stack/s3-front"), S3_FRONT_PORT, S3_PORT, &origins)?;
    let storage_origin = format!("http://localhost:{S3_FRONT_PORT}");
    storage.push(("APP_S3_PUBLIC_ENDPOINT", storage_origin.clone()));

    let env: Vec<(String, String)> = [
        ("APP_ENV", "production".to_owned()),
        ("APP_HOST", "127.0.0.1".to_owned()),
        ("DATABASE_URL", format!("postgres://app:{}@127.0.0.1:{}/{DATABASE}", creds.app, bouncer.port)),
        (
            "PLATFORM_DATABASE_URL",
            format!("postgres://app_platform:{}@127.0.0.1:{}/{DATABASE}", creds.platform, bouncer.port),
        ),
        ("REDIS_URL", redis_url),
        ("APP_OPERATOR_TOKEN", secrets["APP_OPERATOR_TOKEN"].clone()),
        ("APP_PASETO_SIGNING_KEY", secrets["APP_PASETO_SIGNING_KEY"].clone()),
        ("APP_PASETO_REFRESH_KEY", secrets["APP_PASETO_REFRESH_KEY"].clone()),
        ("APP_ALLOWED_ORIGINS", format!("http://localhost:{NGINX_PORT},http://127.0.0.1:{NGINX_PORT}")),
        ("APP_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        ("APP_PUBLIC_URL", format!("http://localhost:{NGINX_PORT}")),
        ("APP_OUTBOX_DIR", data.join("stack/outbox").to_string_lossy().into_owned()),
    ]
    .into_iter()
    .chain(storage)
    .map(|(k, v)| (k.to_owned(), v))
    .chain(std::env::vars().filter(|(k, _)| matches!(k.as_str(), "APP_LOG" | "APP_SMTP_URL" | "APP_MAIL_FROM")))
    .collect();
    for (i, port) in REPLICA_PORTS.iter().enumerate() {
        stack::start_replica(&mut sup, &format!("api-{}", i + 1), &binary, *port, &env, None)?;
    }
    stack::start_nginx(
        &mut sup,
        &NginxOptions {
            dir: &data.join("stack/nginx"),
            port: NGINX_PORT,
            console: &dist,
            upstreams: &REPLICA_PORTS,
            storage_origin: &storage_origin,
        },
    )?;

    println!();
    println!("  Console  http://localhost:{NGINX_PORT}/");
    println!("  API      http://localhost:{NGINX_PORT}/api/   (reference: /api/docs)");
    println!(
        "  nginx → API replicas on {REPLICA_PORTS:?} → pgbouncer :{PGBOUNCER_PORT} → PostgreSQL 17 :{POSTGRES_PORT}"
    );
    println!("  Operator token and database passwords: {}", data.join("secrets.env").display());
    println!("  Ctrl-C stops everything.");
    println!();
    let outcome = sup.wait();
    sup.stop_all();
    outcome
}
