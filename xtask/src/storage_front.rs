//! CORS in front of the local S3 server. s3s-fs answers no preflight, so a
//! browser on the console's origin could not PUT to it; hosted buckets
//! (Wasabi, AWS, MinIO) answer CORS themselves (docs/deploy.md, "File
//! storage"). This nginx answers the preflight for the allowed origins and
//! passes everything else to s3s-fs with the `Host` the client used, which
//! is part of the signature: presigned URLs name this front
//! (`APP_S3_PUBLIC_ENDPOINT`), the API calls s3s-fs directly.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::paths::hand_to_service_user;
use crate::procs::{as_service_user, run, Supervisor};
use crate::services::wait_for_port;
use crate::stack::NGINX;

const CONFIG: &str = r#"# CORS in front of the local S3 server (xtask/src/storage_front.rs).
worker_processes 1;
pid {RUN}/nginx.pid;
error_log stderr warn;

events {
    worker_connections 256;
}

http {
    client_body_temp_path {RUN}/client_body;
    proxy_temp_path {RUN}/proxy;
    fastcgi_temp_path {RUN}/fastcgi;
    uwsgi_temp_path {RUN}/uwsgi;
    scgi_temp_path {RUN}/scgi;
    access_log off;
    # Sizes are the signature's business.
    client_max_body_size 0;

    map $http_origin $cors_origin {
        default "";
{ORIGINS}    }

    server {
        listen 127.0.0.1:{PORT};

        location / {
            if ($request_method = OPTIONS) {
                add_header Access-Control-Allow-Origin $cors_origin always;
                add_header Access-Control-Allow-Methods "GET, PUT" always;
                add_header Access-Control-Allow-Headers "content-type" always;
                add_header Access-Control-Max-Age 3600 always;
                add_header Vary Origin always;
                return 204;
            }
            add_header Access-Control-Allow-Origin $cors_origin always;
            add_header Access-Control-Expose-Headers "etag" always;
            add_header Vary Origin always;
            proxy_pass http://127.0.0.1:{UPSTREAM};
            proxy_set_header Host $http_host;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_http_version 1.1;
        }
    }
}
"#;

/// Renders the front's configuration into `dir` and checks it.
pub fn render(dir: &Path, port: u16, upstream: u16, origins: &[&str]) -> Result<std::path::PathBuf> {
    let run_dir = dir.join("run");
    std::fs::create_dir_all(&run_dir)?;
    let origins: String = origins.iter().map(|o| format!("        \"{o}\" $http_origin;\n")).collect();
    let text = CONFIG
        .replace("{RUN}", &run_dir.to_string_lossy())
        .replace("{ORIGINS}", &origins)
        .replace("{PORT}", &port.to_string())
        .replace("{UPSTREAM}", &upstream.to_string());
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, text)?;
    hand_to_service_user(dir)?;
    run(as_service_user(NGINX).args(["-e", "stderr", "-t", "-q", "-c"]).arg(&conf))
        .context("checking the storage front's nginx configuration")?;
    Ok(conf)
}

/// Starts the front on `port` for the S3 server on `upstream`, answering
/// CORS for `origins`.
pub fn start(sup: &mut Supervisor, dir: &Path, port: u16, upstream: u16, origins: &[&str]) -> Result<()> {
    let conf = render(dir, port, upstream, origins)?;
    let log = File::create(dir.join("error.log"))?;
    let mut cmd = as_service_user(NGINX);
    cmd.args(["-e", "stderr", "-g", "daemon off;", "-c"]).arg(&conf).stdout(log.try_clone()?).stderr(log);
    sup.spawn("storage-front", &mut cmd, "QUIT")?;
    wait_for_port(sup, port, Duration::from_secs(20)).context("waiting for the storage front")
}
