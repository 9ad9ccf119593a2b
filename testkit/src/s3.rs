//! A real S3 server for a test: s3s-fs (from crates.io, installed and
//! pinned by `cargo xtask`) over a folder of its own, on a free port, with
//! its own credentials. It checks SigV4 signatures and presigned URLs the
//! way S3 does. Stopped when dropped; [`S3Server::stop`] stops it sooner
//! (storage going away mid-test).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The variable naming the s3s-fs binary (`cargo xtask test` sets it).
pub const S3FS: &str = "TEST_S3FS";

pub const ACCESS_KEY: &str = "tenantry-test-access";
pub const SECRET_KEY: &str = "tenantry-test-secret-0123456789";
pub const BUCKET: &str = "tenantry-files";

#[derive(Debug)]
pub struct S3Server {
    child: Option<Child>,
    pub port: u16,
    pub root: PathBuf,
}

impl S3Server {
    /// Starts a server with the bucket [`BUCKET`] and waits until it answers.
    pub fn start() -> Result<Self> {
        let root = std::env::temp_dir().join(format!("tenantry-s3-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join(BUCKET)).context("creating the S3 server's folder")?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = Self { child: None, port, root };
        server.restart()?;
        Ok(server)
    }

    /// Starts the server again (after [`Self::stop`]) on the same port and
    /// folder, and waits until it answers.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        let binary = crate::env(S3FS);
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&self.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {binary}"))?;
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("the S3 server did not listen on {} within 10 s", self.port);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The API's settings for this server.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("APP_S3_ENDPOINT", self.endpoint()),
            ("APP_S3_BUCKET", BUCKET.to_owned()),
            ("APP_S3_REGION", "us-east-1".to_owned()),
            ("APP_S3_PATH_STYLE", "true".to_owned()),
            ("APP_S3_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("APP_S3_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
        ]
    }

    /// The stored object's bytes, read from the server's folder.
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join(BUCKET).join(key)).ok()
    }

    /// Stops the server; storage is unreachable from then on.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
