//! The services the launcher starts: a private PostgreSQL 17 cluster,
//! pgbouncer in transaction mode (configured from `ops/pgbouncer/`), and
//! Redis. Each runs in the foreground as a child of the supervisor.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::paths::{hand_to_service_user, repo_root};
use crate::procs::{as_service_user, run, Supervisor};

/// Passwords for the cluster's roles.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub superuser: String,
    pub owner: String,
    pub app: String,
    /// The platform role `app_platform` (sign-in, onboarding, provisioning).
    pub platform: String,
}

/// Owner role name; the runtime role is `app` and the platform role
/// `app_platform` (fixed by the migrations).
pub const OWNER_ROLE: &str = "app_owner";
pub const DATABASE: &str = "appdb";
/// pgbouncer's admin-console user (`admin_users`), which has no PostgreSQL
/// role.
pub const PGBOUNCER_ADMIN: &str = "pgbouncer_admin";

/// A reachable PostgreSQL server.
#[derive(Clone, Debug)]
pub struct Postgres {
    pub host: String,
    pub port: u16,
}

impl Postgres {
    pub fn url(&self, user: &str, password: &str, database: &str) -> String {
        format!("postgres://{user}:{password}@{}:{}/{database}", self.host, self.port)
    }

    /// The server and superuser password of a
    /// `postgres://user:password@host:port/db` URL (a CI service container).
    pub fn from_url(url: &str) -> Result<(Self, String)> {
        let rest = url.split_once("://").map(|(_, r)| r).context("a postgres:// URL")?;
        let (auth, location) = rest.rsplit_once('@').context("the URL names no user")?;
        let password = auth.split_once(':').map(|(_, p)| p.to_owned()).unwrap_or_default();
        let host_port = location.split(['/', '?']).next().unwrap_or_default();
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().context("the URL's port")?),
            None => (host_port.to_owned(), 5432),
        };
        Ok((Self { host, port }, password))
    }
}

/// Options for a cluster.
#[derive(Debug)]
pub struct PostgresOptions<'a> {
    pub binaries: &'a Path,
    /// Holds `pgdata/` and `postgres.log`.
    pub dir: &'a Path,
    pub port: u16,
    pub superuser_password: &'a str,
    /// Durability off, for throwaway test clusters.
    pub ephemeral: bool,
}

/// Initialises the cluster on first use and starts it.
pub fn start_postgres(sup: &mut Supervisor, opts: PostgresOptions<'_>) -> Result<Postgres> {
    let data = opts.dir.join("pgdata");
    if !data.join("PG_VERSION").exists() {
        eprintln!("initialising PostgreSQL 17 in {}", data.display());
        std::fs::create_dir_all(&data)?;
        let pwfile = opts.dir.join("superuser.pw");
        std::fs::write(&pwfile, opts.superuser_password)?;
        hand_to_service_user(opts.dir)?;
        let initdb = run(as_service_user(opts.binaries.join("bin/initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-E", "UTF8", "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display())));
        std::fs::remove_file(&pwfile)?;
        initdb?;
    }
    hand_to_service_user(opts.dir)?;
    let log = opts.dir.join("postgres.log");
    let log_file = File::create(&log)?;
    let mut cmd = as_service_user(opts.binaries.join("bin/postgres"));
    cmd.arg("-D")
        .arg(&data)
        .arg("-p")
        .arg(opts.port.to_string())
        // TCP on loopback only, with SCRAM: no Unix socket, whose local
        // `trust` would let any user of the machine in as superuser.
        .args(["-c", "unix_socket_directories=", "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300"])
        .env("LD_LIBRARY_PATH", opts.binaries.join("lib"))
        .stdout(log_file.try_clone()?)
        .stderr(log_file);
    if opts.ephemeral {
        cmd.args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
    }
    // SIGINT is PostgreSQL's fast shutdown: roll back open transactions and
    // stop cleanly.
    sup.spawn("postgresql", &mut cmd, "INT")?;
    wait_for_log(sup, &log, "database system is ready to accept connections", Duration::from_secs(60))
        .context("waiting for PostgreSQL")?;
    Ok(Postgres { host: "127.0.0.1".into(), port: opts.port })
}

/// A running pgbouncer.
#[derive(Clone, Debug)]
pub struct Pgbouncer {
    pub port: u16,
}

/// Starts pgbouncer in front of `postgres` with `ops/pgbouncer/pgbouncer.ini`
/// (the file the images ship), its ports and paths filled in. Every
/// database name is forwarded, so per-test databases work.
pub fn start_pgbouncer(
    sup: &mut Supervisor,
    dir: &Path,
    postgres: &Postgres,
    port: u16,
    creds: &Credentials,
) -> Result<Pgbouncer> {
    start_pgbouncer_with(sup, dir, postgres, port, creds, "")
}

/// [`start_pgbouncer`] with `extra` lines appended to the `[pgbouncer]`
/// section (the file's last).
pub fn start_pgbouncer_with(
    sup: &mut Supervisor,
    dir: &Path,
    postgres: &Postgres,
    port: u16,
    creds: &Credentials,
    extra: &str,
) -> Result<Pgbouncer> {
    std::fs::create_dir_all(dir)?;
    let template = std::fs::read_to_string(repo_root().join("ops/pgbouncer/pgbouncer.ini"))?;
    let userlist = dir.join("userlist.txt");
    let config = template
        .replace("${PGBOUNCER_DATABASES}", &format!("* = host={} port={}", postgres.host, postgres.port))
        .replace("${PGBOUNCER_LISTEN_ADDR}", "127.0.0.1")
        .replace("${PGBOUNCER_PORT}", &port.to_string())
        .replace("${PGBOUNCER_AUTH_FILE}", &userlist.to_string_lossy())
        .replace("${PGBOUNCER_SOCKET_DIR}", &dir.to_string_lossy());
    let ini = dir.join("pgbouncer.ini");
    std::fs::write(&ini, format!("{config}\n{extra}"))?;
    // Plain passwords let pgbouncer answer SCRAM to clients and use SCRAM
    // towards PostgreSQL; the file is readable by the service user only.
    // The owner and the superuser are not here: migrations and bootstrap
    // go to PostgreSQL directly. `pgbouncer_admin` exists for pgbouncer's
    // admin console only (no PostgreSQL role); it shares the superuser's
    // password in these private clusters.
    let users = [("app", &creds.app), ("app_platform", &creds.platform), (PGBOUNCER_ADMIN, &creds.superuser)];
    let lines: String = users.iter().map(|(u, p)| format!("\"{u}\" \"{p}\"\n")).collect();
    std::fs::write(&userlist, lines)?;
    std::fs::set_permissions(&userlist, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    hand_to_service_user(dir)?;
    let log = dir.join("pgbouncer.log");
    let log_file = File::create(&log)?;
    hand_to_service_user(&log)?;
    let mut cmd = as_service_user("/usr/sbin/pgbouncer");
    cmd.arg(&ini).stdout(log_file.try_clone()?).stderr(log_file);
    sup.spawn("pgbouncer", &mut cmd, "INT")?;
    wait_for_port(sup, port, Duration::from_secs(20)).context("waiting for pgbouncer")?;
    Ok(Pgbouncer { port })
}

/// Starts a Redis that keeps nothing on disk unless `dir` is given a dump.
pub fn start_redis(sup: &mut Supervisor, dir: &Path, port: u16, persist: bool) -> Result<String> {
    std::fs::create_dir_all(dir)?;
    hand_to_service_user(dir)?;
    let log = File::create(dir.join("redis.log"))?;
    let mut cmd = as_service_user("/usr/bin/redis-server");
    cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--dir"])
        .arg(dir)
        .args(["--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"])
        .stdout(log.try_clone()?)
        .stderr(log);
    if !persist {
        cmd.args(["--save", ""]);
    }
    sup.spawn("redis", &mut cmd, "TERM")?;
    wait_for_port(sup, port, Duration::from_secs(20)).context("waiting for Redis")?;
    Ok(format!("redis://127.0.0.1:{port}"))
}

/// The bucket the local S3 server serves.
pub const S3_BUCKET: &str = "tenantry-files";

/// Starts the local S3 server (s3s-fs over `dir`, with the bucket
/// [`S3_BUCKET`]) on `port`, with the given keys; the API's `APP_S3_*`
/// settings for it. The same settings would point at Wasabi or AWS.
pub fn start_s3(
    sup: &mut Supervisor,
    binary: &Path,
    dir: &Path,
    port: u16,
    access_key: &str,
    secret_key: &str,
) -> Result<Vec<(&'static str, String)>> {
    std::fs::create_dir_all(dir.join(S3_BUCKET))?;
    let log = File::create(dir.with_extension("log"))?;
    let mut cmd = Command::new(binary);
    cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", access_key, "--secret-key", secret_key])
        .arg(dir)
        .stdout(log.try_clone()?)
        .stderr(log);
    sup.spawn("s3", &mut cmd, "TERM")?;
    wait_for_port(sup, port, Duration::from_secs(20)).context("waiting for the S3 server")?;
    Ok(vec![
        ("APP_S3_ENDPOINT", format!("http://127.0.0.1:{port}")),
        ("APP_S3_BUCKET", S3_BUCKET.to_owned()),
        ("APP_S3_REGION", "us-east-1".to_owned()),
        ("APP_S3_PATH_STYLE", "true".to_owned()),
        ("APP_S3_ACCESS_KEY_ID", access_key.to_owned()),
        ("APP_S3_SECRET_ACCESS_KEY", secret_key.to_owned()),
    ])
}

fn wait_for_log(sup: &mut Supervisor, log: &Path, line: &str, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if std::fs::read_to_string(log).unwrap_or_default().contains(line) {
            return Ok(());
        }
        if let Err(err) = sup.check_alive() {
            bail!("{err}; its log:\n{}", tail(log));
        }
        if Instant::now() > deadline {
            bail!("not ready after {limit:?}; its log:\n{}", tail(log));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn wait_for_port(sup: &mut Supervisor, port: u16, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    while !crate::paths::port_in_use(port) {
        sup.check_alive()?;
        if Instant::now() > deadline {
            bail!("nothing listens on port {port} after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A folder for one run's throwaway services, removed afterwards.
pub fn scratch_dir(name: &str) -> Result<PathBuf> {
    let dir = crate::paths::data_root()?.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
