//! Child processes: started in our process group (so a terminal's Ctrl-C
//! reaches them too), stopped by us in reverse order, never left behind.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::paths::{is_root, SERVICE_USER};

/// The program and its arguments, for messages. Not `{cmd:?}`: that also
/// prints the environment given to the command, which carries passwords.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs a command to completion; fails with its output if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = describe(cmd);
    let output = cmd.stdin(Stdio::null()).output().with_context(|| format!("starting {shown}"))?;
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
    let shown = describe(cmd);
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
#[derive(Debug)]
struct Running {
    name: String,
    child: Child,
    /// The signal that asks it to stop cleanly (postgres: INT = fast shutdown).
    stop_signal: &'static str,
}

/// The services this launcher started, stopped in reverse order on drop.
#[derive(Debug)]
pub struct Supervisor {
    running: Vec<Running>,
    interrupted: Arc<AtomicBool>,
}

impl Supervisor {
    /// A supervisor for a program that handles signals itself (a test).
    pub fn new() -> Self {
        Self { running: Vec::new(), interrupted: Arc::new(AtomicBool::new(false)) }
    }

    /// A supervisor that also takes SIGINT and SIGTERM: a signal only raises
    /// a flag, and the main loop stops the children in order.
    pub fn with_signal_handler() -> Result<Self> {
        let sup = Self::new();
        let flag = sup.interrupted.clone();
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).context("installing the signal handler")?;
        Ok(sup)
    }

    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    pub fn spawn(&mut self, name: &str, cmd: &mut Command, stop_signal: &'static str) -> Result<u32> {
        let child = cmd.stdin(Stdio::null()).spawn().with_context(|| format!("starting {name}: {}", describe(cmd)))?;
        let pid = child.id();
        self.running.push(Running { name: name.to_owned(), child, stop_signal });
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

    /// Stops one service by name (politely, then SIGKILL after 30 s) and
    /// returns its exit status.
    pub fn stop(&mut self, name: &str) -> Result<std::process::ExitStatus> {
        let index = self.running.iter().position(|r| r.name == name).with_context(|| format!("no service `{name}`"))?;
        let mut r = self.running.remove(index);
        terminate(&mut r, Duration::from_secs(30))
    }

    /// Stops everything, newest first: the polite signal, then SIGKILL after
    /// a grace period.
    pub fn stop_all(&mut self) {
        while let Some(mut r) = self.running.pop() {
            let _ = terminate(&mut r, Duration::from_secs(15));
        }
    }
}

/// Sends the polite signal, waits up to `grace`, then kills.
fn terminate(r: &mut Running, grace: Duration) -> Result<std::process::ExitStatus> {
    if let Some(status) = r.child.try_wait()? {
        return Ok(status);
    }
    let _ = Command::new("kill").arg(format!("-{}", r.stop_signal)).arg(r.child.id().to_string()).status();
    let deadline = Instant::now() + grace;
    loop {
        if let Some(status) = r.child.try_wait()? {
            eprintln!("stopped {}", r.name);
            return Ok(status);
        }
        if Instant::now() >= deadline {
            eprintln!("{} did not stop in time; killing it", r.name);
            r.child.kill()?;
            return Ok(r.child.wait()?);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_all();
    }
}
