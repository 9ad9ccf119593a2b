//! The production topology's moving parts on one machine: API replicas and
//! nginx, configured from `ops/nginx/nginx.conf.template`, the file the web
//! image ships.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::paths::{hand_to_service_user, repo_root};
use crate::procs::{as_service_user, run, Supervisor};
use crate::services::wait_for_port;

/// Where Debian's nginx package installs its binary and MIME table.
pub const NGINX: &str = "/usr/sbin/nginx";
pub const MIME_TYPES: &str = "/etc/nginx/mime.types";

/// Starts one API replica (`tenantry-api serve`) on `port` and waits until
/// it listens. Its log goes to `log` when given, else to our stderr.
pub fn start_replica(
    sup: &mut Supervisor,
    name: &str,
    binary: &Path,
    port: u16,
    env: &[(String, String)],
    log: Option<&Path>,
) -> Result<()> {
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("APP_PORT", port.to_string());
    if let Some(log) = log {
        let file = File::options().create(true).append(true).open(log)?;
        cmd.stdout(file.try_clone()?).stderr(file);
    }
    // SIGTERM: readiness turns 503, in-flight requests finish, exit 0.
    sup.spawn(name, &mut cmd, "TERM")?;
    wait_for_port(sup, port, Duration::from_secs(30)).with_context(|| format!("waiting for {name}"))
}

/// What nginx is given.
#[derive(Debug)]
pub struct NginxOptions<'a> {
    /// Holds the rendered config, a copy of the console, logs and temp files.
    pub dir: &'a Path,
    pub port: u16,
    /// The built console (`web/dist`).
    pub console: &'a Path,
    /// Ports of the API replicas on 127.0.0.1.
    pub upstreams: &'a [u16],
}

/// Renders the template into `dir/nginx.conf` (with a copy of the console
/// the service user can read) and checks it with `nginx -t`.
pub fn render_nginx(opts: &NginxOptions<'_>) -> Result<PathBuf> {
    let run_dir = opts.dir.join("run");
    let www = opts.dir.join("www");
    std::fs::create_dir_all(&run_dir)?;
    let _ = std::fs::remove_dir_all(&www);
    run(Command::new("cp").arg("-r").arg(opts.console).arg(&www))?;
    let servers: String =
        opts.upstreams.iter().map(|p| format!("        server 127.0.0.1:{p} max_fails=3 fail_timeout=2s;\n")).collect();
    let template = std::fs::read_to_string(repo_root().join("ops/nginx/nginx.conf.template"))?;
    let config = template
        .replace("${NGINX_RUN_DIR}", &run_dir.to_string_lossy())
        .replace("${NGINX_MIME_TYPES}", MIME_TYPES)
        .replace("${NGINX_ACCESS_LOG}", &opts.dir.join("access.log").to_string_lossy())
        .replace("${NGINX_PORT}", &opts.port.to_string())
        .replace("${NGINX_ROOT}", &www.to_string_lossy())
        .replace("${API_UPSTREAM_SERVERS}\n", &servers);
    let conf = opts.dir.join("nginx.conf");
    std::fs::write(&conf, config)?;
    hand_to_service_user(opts.dir)?;
    run(as_service_user(NGINX).arg("-t").arg("-q").arg("-e").arg("stderr").arg("-c").arg(&conf))
        .context("nginx -t on the rendered configuration")?;
    Ok(conf)
}

/// Renders, checks and starts nginx in the foreground.
pub fn start_nginx(sup: &mut Supervisor, opts: &NginxOptions<'_>) -> Result<()> {
    let conf = render_nginx(opts)?;
    let log = File::create(opts.dir.join("error.log"))?;
    let mut cmd = as_service_user(NGINX);
    cmd.args(["-e", "stderr", "-g", "daemon off;", "-c"]).arg(&conf).stdout(log.try_clone()?).stderr(log);
    // QUIT: finish the requests in flight, then stop.
    sup.spawn("nginx", &mut cmd, "QUIT")?;
    wait_for_port(sup, opts.port, Duration::from_secs(20)).context("waiting for nginx")
}
