//! Processes seen from outside, through `/proc`: a node's children (its wallet process), and
//! whether a process still runs. [`WalletProcess`]: an `mpx-wallet` joining a node.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::binaries::{binary, Binary};
use crate::node::die_with_parent;

/// `(pid, command name)` of every process whose parent is `parent`.
pub fn children_of(parent: u32) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let (name, state_and_rest) = stat(pid)?;
            let ppid: u32 = state_and_rest.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent).then_some((pid, name))
        })
        .collect()
}

/// Whether `pid` runs (exists and is not a zombie).
pub fn is_alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(_, rest)| !rest.starts_with('Z'))
}

/// The command name and what follows it in `/proc/<pid>/stat` (the state first).
fn stat(pid: u32) -> Option<(String, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    Some((text[open + 1..close].to_string(), text[close + 1..].trim_start().to_string()))
}

/// Polls `condition` every 25 ms until it holds; panics with `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting until {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The single `mpx-wallet` child of `node_pid`, waiting up to `timeout` for one to run.
pub fn wallet_child(node_pid: u32, timeout: Duration) -> u32 {
    let mut found = None;
    wait_until("the node runs a wallet process", timeout, || {
        let wallets: Vec<u32> = children_of(node_pid)
            .into_iter()
            .filter(|(pid, name)| name == "mpx-wallet" && is_alive(*pid))
            .map(|(pid, _)| pid)
            .collect();
        found = (wallets.len() == 1).then(|| wallets[0]);
        found.is_some()
    });
    found.unwrap_or_default()
}

/// Sends SIGKILL to `pid`.
pub fn kill_9(pid: u32) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL)
        .unwrap_or_else(|e| panic!("kill -9 {pid}: {e}"));
}

/// An `mpx-wallet` process started by a test (stdout and stderr to `<log_dir>/wallet-<n>.*`).
/// Dropping it kills it.
#[derive(Debug)]
pub struct WalletProcess {
    child: Option<Child>,
    stderr_path: std::path::PathBuf,
}

impl WalletProcess {
    /// Starts `mpx-wallet args...`, its output kept under `log_dir` as `<name>.stdout/.stderr`.
    pub fn start(args: &[String], log_dir: &Path, name: &str) -> WalletProcess {
        let stderr_path = log_dir.join(format!("{name}.stderr"));
        let open = |path: &Path| {
            std::fs::File::options()
                .create(true)
                .append(true)
                .open(path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let mut command = Command::new(binary(Binary::Wallet));
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(open(&log_dir.join(format!("{name}.stdout"))))
            .stderr(open(&stderr_path));
        die_with_parent(&mut command);
        let child = command.spawn().unwrap_or_else(|e| panic!("cannot start mpx-wallet: {e}"));
        WalletProcess { child: Some(child), stderr_path }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits (up to `timeout`) for it to exit; its status.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("the wallet process was started");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return status;
            }
            assert!(Instant::now() < deadline, "mpx-wallet did not exit within {timeout:?}");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Sends SIGKILL and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for WalletProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
