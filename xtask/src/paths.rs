//! Where things live: the repository, the git-ignored `.data/` folder, and
//! the unprivileged user services run as when we are root.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

/// PostgreSQL and pgbouncer refuse to run as root; as root we run them (and
/// Redis) as this system user.
pub const SERVICE_USER: &str = "tenantry";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// The folder for binaries, data, sockets and logs: `.data/` in the
/// repository, unless we are root and the service user cannot reach it (a
/// checkout inside a 0700 home folder); then a folder under /var/tmp named
/// after the checkout, with `.data` as a link to it.
pub fn data_root() -> Result<PathBuf> {
    let repo = repo_root();
    let local = repo.join(".data");
    if !is_root() || reachable_by_others(&repo) {
        std::fs::create_dir_all(&local).with_context(|| format!("creating {}", local.display()))?;
        return Ok(local);
    }
    let elsewhere = PathBuf::from(format!("/var/tmp/tenantry-{:016x}", fnv1a(repo.to_string_lossy().as_bytes())));
    match std::fs::symlink_metadata(&elsewhere) {
        Err(_) => std::fs::DirBuilder::new().mode(0o755).create(&elsewhere)?,
        // /var/tmp is shared: only a real folder of root's, not writable by
        // others, is ours to reuse.
        Ok(meta) if meta.is_dir() && meta.uid() == 0 && meta.mode() & 0o022 == 0 => {}
        Ok(_) => anyhow::bail!("{} exists but is not a folder owned by root and closed to others", elsewhere.display()),
    }
    if std::fs::symlink_metadata(&local).is_err() {
        std::os::unix::fs::symlink(&elsewhere, &local)?;
    }
    Ok(elsewhere)
}

/// True when every folder from `/` down to `path` lets other users through.
fn reachable_by_others(path: &Path) -> bool {
    path.ancestors().all(|dir| std::fs::metadata(dir).map(|m| m.permissions().mode() & 0o001 != 0).unwrap_or(false))
}

/// Gives a folder to the service user when we are root.
pub fn hand_to_service_user(dir: &Path) -> Result<()> {
    if is_root() {
        crate::procs::run(Command::new("chown").arg("-R").arg(format!("{SERVICE_USER}:{SERVICE_USER}")).arg(dir))?;
    }
    Ok(())
}

/// A small, stable, non-cryptographic hash (file names, folder names).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

/// A port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Whether something listens on 127.0.0.1:`port`.
pub fn port_in_use(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// 24 random bytes from the kernel, as 48 hex digits.
pub fn random_hex() -> Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
