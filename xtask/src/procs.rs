//! Child processes: started in our process group (so a terminal's Ctrl-C
//! reaches them too), stopped by us in reverse order, never left behind.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::paths::{is_root, SERVICE_USER};

/// Runs a command to completion; fails with its output if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {shown}"))?;
    if !output.status.success() {
        bail!(
            "{shown} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Runs a command with inherited output; fails if it fails.
pub fn run_visible(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// A command for `program`, run as the service user when we are root.
pub fn as_service_user(program: impl AsRef<std::ffi::OsStr>) -> Command {
    if is_root() {
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={SERVICE_USER}"))
            .arg(format!("--regid={SERVICE_USER}"))
            .arg("--init-groups")
            .arg("--")
            .arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// One started service.
struct Running {
    name: String,
    child: Child,
    /// The signal that asks it to stop cleanly (postgres: INT = fast shutdown).
    stop_signal: &'static str,
}

/// The services this launcher started, stopped in reverse order on drop.
pub struct Supervisor {
    running: Vec<Running>,
    interrupted: Arc<AtomicBool>,
}

impl Supervisor {
    /// Installs the SIGINT/SIGTERM handler: a signal only raises a flag, and
    /// the main loop stops the children in order.
    pub fn new() -> Result<Self> {
        let interrupted = Arc::new(AtomicBool::new(false));
        let flag = interrupted.clone();
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
            .context("installing the signal handler")?;
        Ok(Self {
            running: Vec::new(),
            interrupted,
        })
    }

    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    pub fn spawn(
        &mut self,
        name: &str,
        cmd: &mut Command,
        stop_signal: &'static str,
    ) -> Result<u32> {
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {name}: {cmd:?}"))?;
        let pid = child.id();
        self.running.push(Running {
            name: name.to_owned(),
            child,
            stop_signal,
        });
        Ok(pid)
    }

    /// Fails if a started service has exited on its own.
    pub fn check_alive(&mut self) -> Result<()> {
        for r in &mut self.running {
            if let Some(status) = r.child.try_wait()? {
                bail!("{} exited unexpectedly ({status})", r.name);
            }
        }
        Ok(())
    }

    /// Waits until interrupted or a service exits.
    pub fn wait(&mut self) -> Result<()> {
        while !self.interrupted() {
            self.check_alive()?;
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    /// Stops everything, newest first: the polite signal, then SIGKILL after
    /// a grace period.
    pub fn stop_all(&mut self) {
        while let Some(mut r) = self.running.pop() {
            if matches!(r.child.try_wait(), Ok(Some(_))) {
                continue;
            }
            let _ = Command::new("kill")
                .arg(format!("-{}", r.stop_signal))
                .arg(r.child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                match r.child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(50))
                    }
                    _ => {
                        eprintln!("{} did not stop in time; killing it", r.name);
                        let _ = r.child.kill();
                        let _ = r.child.wait();
                        break;
                    }
                }
            }
            eprintln!("stopped {}", r.name);
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_all();
    }
}
