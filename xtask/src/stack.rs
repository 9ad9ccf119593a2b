//! The production topology's moving parts on one machine: API replicas and
//! nginx, configured from the templates in `ops/nginx/` (the plain or the
//! TLS variant, and the parts they share), the files the web image ships.

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
    /// The origin of file storage's presigned URLs, which the console
    /// may call (its CSP `connect-src`); empty when files are off.
    pub storage_origin: &'a str,
}

/// The HTTPS listener of the TLS variant (`nginx-tls.conf.template`); the
/// plain port of [`NginxOptions`] then only redirects to it.
#[derive(Debug)]
pub struct NginxTls<'a> {
    pub port: u16,
    /// PEM: the certificate, then its chain.
    pub certificate: &'a Path,
    pub certificate_key: &'a Path,
}

/// Renders the plain-HTTP variant into `dir/nginx.conf` (with a copy of the
/// console the service user can read) and checks it with `nginx -t`.
pub fn render_nginx(opts: &NginxOptions<'_>) -> Result<PathBuf> {
    render(opts, None)
}

/// Renders the TLS variant into `dir/nginx-tls.conf`, with copies of the
/// certificate and key the service user can read, and checks it.
pub fn render_nginx_tls(opts: &NginxOptions<'_>, tls: &NginxTls<'_>) -> Result<PathBuf> {
    render(opts, Some(tls))
}

/// Renders the main template of the variant and the shared parts in
/// `ops/nginx/tenantry/` beside it, as the web image's entrypoint does.
fn render(opts: &NginxOptions<'_>, tls: Option<&NginxTls<'_>>) -> Result<PathBuf> {
    let run_dir = opts.dir.join("run");
    let www = opts.dir.join("www");
    std::fs::create_dir_all(&run_dir)?;
    let _ = std::fs::remove_dir_all(&www);
    run(Command::new("cp").arg("-r").arg(opts.console).arg(&www))?;
    let servers: String =
        opts.upstreams.iter().map(|p| format!("        server 127.0.0.1:{p} max_fails=3 fail_timeout=2s;\n")).collect();
    let mut values = vec![
        ("${NGINX_RUN_DIR}", run_dir.to_string_lossy().into_owned()),
        ("${NGINX_MIME_TYPES}", MIME_TYPES.to_owned()),
        ("${NGINX_ACCESS_LOG}", opts.dir.join("access.log").to_string_lossy().into_owned()),
        ("${NGINX_PORT}", opts.port.to_string()),
        ("${NGINX_ROOT}", www.to_string_lossy().into_owned()),
        ("${API_UPSTREAM_SERVERS}\n", servers),
        ("${NGINX_STORAGE_ORIGIN}", opts.storage_origin.to_owned()),
    ];
    let main = match tls {
        None => "nginx.conf",
        Some(tls) => {
            let certs = opts.dir.join("tls");
            std::fs::create_dir_all(&certs)?;
            std::fs::copy(tls.certificate, certs.join("fullchain.pem")).context("copying the certificate")?;
            std::fs::copy(tls.certificate_key, certs.join("privkey.pem")).context("copying the key")?;
            values.push(("${NGINX_TLS_PORT}", tls.port.to_string()));
            values.push(("${NGINX_TLS_CERTIFICATE}", certs.join("fullchain.pem").to_string_lossy().into_owned()));
            values.push(("${NGINX_TLS_CERTIFICATE_KEY}", certs.join("privkey.pem").to_string_lossy().into_owned()));
            "nginx-tls.conf"
        }
    };
    let templates = repo_root().join("ops/nginx");
    let mut files = vec![PathBuf::from(format!("{main}.template"))];
    for entry in std::fs::read_dir(templates.join("tenantry"))? {
        let name = entry?.file_name();
        if name.to_string_lossy().ends_with(".conf.template") {
            files.push(Path::new("tenantry").join(name));
        }
    }
    std::fs::create_dir_all(opts.dir.join("tenantry"))?;
    for file in &files {
        let text =
            std::fs::read_to_string(templates.join(file)).with_context(|| format!("reading {}", file.display()))?;
        let rendered = values.iter().fold(text, |text, (placeholder, value)| text.replace(placeholder, value));
        if let Some(at) = rendered.find("${NGINX_").or_else(|| rendered.find("${API_")) {
            let name: String = rendered[at..].chars().take_while(|c| *c != '}').collect();
            anyhow::bail!("{}: no value for {name}}}", file.display());
        }
        std::fs::write(opts.dir.join(file.with_extension("")), rendered)?;
    }
    let conf = opts.dir.join(main);
    hand_to_service_user(opts.dir)?;
    run(as_service_user(NGINX).arg("-t").arg("-q").arg("-e").arg("stderr").arg("-c").arg(&conf))
        .context("nginx -t on the rendered configuration")?;
    Ok(conf)
}

/// Renders, checks and starts nginx in the foreground.
pub fn start_nginx(sup: &mut Supervisor, opts: &NginxOptions<'_>) -> Result<()> {
    start(sup, opts, None)
}

/// Renders, checks and starts the TLS variant in the foreground.
pub fn start_nginx_tls(sup: &mut Supervisor, opts: &NginxOptions<'_>, tls: &NginxTls<'_>) -> Result<()> {
    start(sup, opts, Some(tls))
}

fn start(sup: &mut Supervisor, opts: &NginxOptions<'_>, tls: Option<&NginxTls<'_>>) -> Result<()> {
    let conf = render(opts, tls)?;
    let log = File::create(opts.dir.join("error.log"))?;
    let mut cmd = as_service_user(NGINX);
    cmd.args(["-e", "stderr", "-g", "daemon off;", "-c"]).arg(&conf).stdout(log.try_clone()?).stderr(log);
    // QUIT: finish the requests in flight, then stop.
    sup.spawn("nginx", &mut cmd, "QUIT")?;
    for port in std::iter::once(opts.port).chain(tls.map(|t| t.port)) {
        wait_for_port(sup, port, Duration::from_secs(20)).context("waiting for nginx")?;
    }
    Ok(())
}
