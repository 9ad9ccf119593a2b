//! Builds the Sycamore console into `web/dist/`: the wasm32 build (rustup's
//! target where it exists, Debian's Rust with build-std where it does not),
//! wasm-bindgen, wasm-opt (binaryen from npm, installed on first use), then
//! content-hashed file names so nginx can cache them forever.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::install;
use crate::paths::{fnv1a, repo_root};
use crate::procs::{run, run_visible};

const TARGET: &str = "wasm32-unknown-unknown";

/// The cargo that launched us (rustup's), or `cargo` on PATH.
pub fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

pub fn rustup_has_wasm_target() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == TARGET))
        .unwrap_or(false)
}

/// Where cargo builds: `CARGO_TARGET_DIR` when set (two checkouts or two
/// people sharing a machine keep their builds apart), else `target/`.
fn target_root(repo: &Path) -> Result<PathBuf> {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => std::path::absolute(dir).context("resolving CARGO_TARGET_DIR"),
        None => Ok(repo.join("target")),
    }
}

/// Where the console's browser tests write their screenshots.
pub fn screenshots_dir() -> Result<PathBuf> {
    Ok(target_root(&repo_root())?.join("console-screenshots"))
}

/// The workspace's release profile is tuned for the API's speed; the
/// console is downloaded before it runs, so it is built for size instead
/// (measured: 172 KB gzipped wasm with the workspace profile, 105 KB with
/// this one, both after `wasm-opt -Oz`).
fn for_size(cmd: &mut Command) -> &mut Command {
    cmd.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
}

/// Builds the console; returns the `dist` folder.
pub fn build() -> Result<PathBuf> {
    let repo = repo_root();
    let target_root = target_root(&repo)?;
    let target_dir = target_root.join("web");
    let wasm = if rustup_has_wasm_target() {
        eprintln!("building the console with rustup's {TARGET} target");
        run_visible(
            for_size(&mut Command::new(cargo_bin()))
                .current_dir(&repo)
                .args(["build", "--quiet", "--release", "-p", "web", "--target", TARGET, "--target-dir"])
                .arg(&target_dir),
        )?;
        target_dir.join(TARGET).join("release/web.wasm")
    } else {
        install::packages(&install::DEBIAN_RUST_WEB)?;
        eprintln!("building the console with Debian's Rust and build-std ({TARGET})");
        let dir = target_root.join("web-debian");
        let mut cmd = Command::new("/usr/bin/cargo");
        // Our environment comes from rustup's cargo; none of it applies to
        // Debian's toolchain.
        for var in ["CARGO", "RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN", "RUSTC_WRAPPER", "RUSTFLAGS", "CARGO_TARGET_DIR"] {
            cmd.env_remove(var);
        }
        let path = std::env::var("PATH").unwrap_or_default();
        let path: Vec<&str> =
            path.split(':').filter(|p| !p.contains(".rustup") && !p.ends_with(".cargo/bin")).collect();
        run_visible(
            for_size(&mut cmd)
                .current_dir(&repo)
                .env("PATH", path.join(":"))
                .env("RUSTC", "/usr/bin/rustc")
                .env("RUSTC_BOOTSTRAP", "1")
                // lld-22's wasm linker, named directly: Debian's `rust-lld`
                // comes only with rust-web-llvm, which pulls all of LLVM.
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", "/usr/bin/wasm-ld-22")
                // Rebuilding std anyway, build it to abort at once on a
                // panic: no panic messages or their formatting in the
                // download (measured: 15 KB of 210 KB gzipped).
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", "-Zunstable-options -Cpanic=immediate-abort")
                .args(["build", "--quiet", "--release", "-p", "web", "--target", TARGET])
                .args(["-Z", "build-std=std,panic_abort", "--target-dir"])
                .arg(&dir),
        )?;
        dir.join(TARGET).join("release/web.wasm")
    };
    package(&repo.join("web"), &wasm)
}

/// wasm-bindgen, wasm-opt, hashed names, index.html.
fn package(web: &Path, wasm: &Path) -> Result<PathBuf> {
    let bindgen = install::wasm_bindgen()?;
    let staging = web.join("dist.partial");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    run(Command::new(&bindgen)
        .args(["--target", "web", "--no-typescript", "--out-name", "web", "--out-dir"])
        .arg(&staging)
        .arg(wasm))?;
    let bg = staging.join("web_bg.wasm");
    let optimised = staging.join("web_opt.wasm");
    run(Command::new(install::wasm_opt()?).arg("-Oz").arg(&bg).arg("-o").arg(&optimised))?;
    std::fs::rename(&optimised, &bg)?;
    let wasm_bytes = std::fs::read(&bg)?;
    let js_bytes = std::fs::read(staging.join("web.js"))?;
    let css_bytes = std::fs::read(web.join("assets/style.css"))?;
    let stamp = format!("{:012x}", fnv1a(&[wasm_bytes.as_slice(), &js_bytes].concat()) >> 16);
    let wasm_name = format!("web-{stamp}.wasm");
    let js_name = format!("web-{stamp}.js");
    let css_name = format!("style-{:012x}.css", fnv1a(&css_bytes) >> 16);
    std::fs::rename(&bg, staging.join(&wasm_name))?;
    std::fs::rename(staging.join("web.js"), staging.join(&js_name))?;
    std::fs::write(staging.join(&css_name), &css_bytes)?;
    // A module instead of an inline script, so the CSP needs no
    // 'unsafe-inline'; it names the hashed wasm explicitly.
    let boot = format!(
        "import init from './{js_name}';\ninit({{ module_or_path: new URL('./{wasm_name}', import.meta.url) }});\n"
    );
    let boot_name = format!("boot-{:012x}.js", fnv1a(boot.as_bytes()) >> 16);
    std::fs::write(staging.join(&boot_name), boot)?;
    let index = std::fs::read_to_string(web.join("index.html"))?
        .replace("{{STYLE}}", &css_name)
        .replace("{{BOOT}}", &boot_name);
    std::fs::write(staging.join("index.html"), index)?;
    let dist = web.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::rename(&staging, &dist).context("replacing web/dist")?;
    eprintln!("console: {} ({} KB wasm)", dist.display(), wasm_bytes.len() / 1024);
    report_first_load(&dist, &[&wasm_name, &js_name, &boot_name, &css_name])?;
    Ok(dist)
}

/// What a browser downloads before the console runs, at most this many
/// bytes gzipped (wasm, JS and CSS; index.html is a few hundred bytes).
pub const FIRST_LOAD_BUDGET: usize = 200 * 1000;

/// Prints the first load, gzipped as nginx serves it (`gzip -9`, the most
/// it could be squeezed, is what the budget counts), file by file.
fn report_first_load(dist: &Path, files: &[&str]) -> Result<()> {
    let mut total = 0;
    let mut parts = Vec::new();
    for name in files {
        let gzipped = run_output(Command::new("gzip").arg("-9").arg("-c").arg(dist.join(name)))?.len();
        total += gzipped;
        parts.push(format!("{name} {gzipped}"));
    }
    let verdict = if total <= FIRST_LOAD_BUDGET { "within" } else { "OVER" };
    eprintln!(
        "console first load: {total} bytes gzipped, {verdict} the budget of {FIRST_LOAD_BUDGET} ({})",
        parts.join(", ")
    );
    Ok(())
}

fn run_output(cmd: &mut Command) -> Result<Vec<u8>> {
    let output = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    anyhow::ensure!(output.status.success(), "{cmd:?} failed");
    Ok(output.stdout)
}
