//! [`TestNode`]: one `mpx-node` process on its own data directory and RPC port.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::binaries::{binary, Binary};
use crate::rpc::{RpcEndpoint, RpcFailure};

/// How long a node may take to start answering RPC, or to exit after `stop`.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);
/// How often start-up polls the RPC port.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// One node under test. Dropping it kills the process if it still runs.
#[derive(Debug)]
pub struct TestNode {
    /// Position in [`TestFramework::nodes`](crate::TestFramework).
    pub index: usize,
    datadir: PathBuf,
    rpc_port: u16,
    p2p_port: u16,
    process: Option<Child>,
    binary: Binary,
}

impl TestNode {
    /// A node (not started) whose data lives in `datadir`.
    pub(crate) fn new(index: usize, datadir: PathBuf) -> TestNode {
        TestNode {
            index,
            datadir,
            rpc_port: free_port(),
            p2p_port: free_port(),
            process: None,
            binary: Binary::Node,
        }
    }

    /// Runs `binary` from the next start on (default [`Binary::Node`], the node under test).
    pub fn use_binary(&mut self, binary: Binary) {
        self.binary = binary;
    }

    /// The `-datadir`.
    pub fn datadir(&self) -> &Path {
        &self.datadir
    }

    /// `<datadir>/regtest`: the chain's files, `debug.log`, the cookie and the wallets.
    pub fn chain_datadir(&self) -> PathBuf {
        self.datadir.join("regtest")
    }

    /// The RPC port the node is (or will be) started with.
    pub fn rpc_port(&self) -> u16 {
        self.rpc_port
    }

    /// The P2P port the node listens on (on 127.0.0.1), for `addnode`.
    pub fn p2p_port(&self) -> u16 {
        self.p2p_port
    }

    /// `127.0.0.1:<p2p port>`, what another node's `addnode` names.
    pub fn p2p_addr(&self) -> String {
        format!("127.0.0.1:{}", self.p2p_port)
    }

    /// The options a node process needs besides [`base_args`](TestNode::base_args): its own P2P
    /// port on loopback (so that nodes of tests running side by side never share 18444).
    pub fn node_args(&self) -> Vec<String> {
        let mut args = self.base_args();
        // A -bind with its port, as Core's test framework does, so a `port=` in bitcoin.conf is
        // still the node's to check.
        args.push(format!("-bind=127.0.0.1:{}", self.p2p_port));
        args
    }

    /// The options every start passes: the datadir and the RPC port.
    pub fn base_args(&self) -> Vec<String> {
        vec![format!("-datadir={}", self.datadir.display()), format!("-rpcport={}", self.rpc_port)]
    }

    /// Whether the process runs (was started and has not been seen to exit).
    pub fn is_running(&mut self) -> bool {
        match &mut self.process {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The process id of the running node.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(Child::id)
    }

    /// Starts the node with `extra_args` after the base ones and waits until RPC answers.
    /// Panics (failing the test) with the node's stderr if it exits or does not answer in time.
    pub fn start(&mut self, extra_args: &[&str]) {
        if let Err(message) = self.try_start(extra_args) {
            panic!("node{} did not start: {message}", self.index);
        }
    }

    /// [`start`](TestNode::start) returning the failure instead of panicking.
    pub fn try_start(&mut self, extra_args: &[&str]) -> Result<(), String> {
        assert!(self.process.is_none(), "node{} is already running", self.index);
        std::fs::create_dir_all(&self.datadir).map_err(|e| e.to_string())?;
        let stderr_path = self.datadir.join("stderr.log");
        // Appended across restarts: what a crashed run printed stays next to the next run's.
        let stderr = append(&stderr_path)?;
        let stdout = append(&self.datadir.join("stdout.log"))?;
        let mut command = Command::new(binary(self.binary));
        let args = match self.binary {
            Binary::Wallet | Binary::Cli | Binary::Wrapper => self.base_args(),
            _ => self.node_args(),
        };
        command.args(args).args(extra_args).stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        die_with_parent(&mut command);
        let child = command.spawn().map_err(|e| format!("cannot spawn {}: {e}", self.binary.name()))?;
        self.process = Some(child);
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        loop {
            match self.rpc("getblockcount", json!([])) {
                Ok(_) => return Ok(()),
                // Answered, but not ready: keep waiting.
                Err(RpcFailure::Rpc { code: -28, .. }) => {}
                Err(RpcFailure::Rpc { code, message }) => {
                    return Err(format!("getblockcount failed with {code}: {message}"));
                }
                Err(RpcFailure::Transport(_)) => {}
            }
            if let Some(status) = self.try_wait() {
                let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                let last = stderr.lines().last().unwrap_or_default();
                return Err(format!("exited with {status} during start-up; stderr: {last}"));
            }
            if Instant::now() > deadline {
                self.kill();
                return Err(format!("no RPC answer within {PROCESS_TIMEOUT:?}"));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    fn try_wait(&mut self) -> Option<ExitStatus> {
        let child = self.process.as_mut()?;
        let status = child.try_wait().ok().flatten()?;
        self.process = None;
        Some(status)
    }

    /// Calls `method`; the result or the failure.
    pub fn rpc(&self, method: &str, params: Value) -> Result<Value, RpcFailure> {
        self.endpoint().call(method, params)
    }

    /// Calls `method` on the wallet `wallet` (through `/wallet/<name>`).
    pub fn wallet_rpc(&self, wallet: &str, method: &str, params: Value) -> Result<Value, RpcFailure> {
        self.endpoint().wallet_call(wallet, method, params)
    }

    /// The node's RPC address and cookie, to call it from another thread.
    pub fn endpoint(&self) -> RpcEndpoint {
        RpcEndpoint {
            addr: SocketAddr::new(Ipv4Addr::LOCALHOST.into(), self.rpc_port),
            cookie_file: self.cookie_file(),
        }
    }

    /// Calls `method` and returns its result; panics (failing the test) on any error.
    pub fn call(&self, method: &str, params: Value) -> Value {
        self.rpc(method, params.clone())
            .unwrap_or_else(|e| panic!("node{}: {method} {params} failed: {e}", self.index))
    }

    /// [`call`](TestNode::call) on the wallet `wallet`.
    pub fn wallet_call(&self, wallet: &str, method: &str, params: Value) -> Value {
        self.wallet_rpc(wallet, method, params.clone())
            .unwrap_or_else(|e| panic!("node{} wallet {wallet:?}: {method} {params} failed: {e}", self.index))
    }

    /// Posts `body` as is (for malformed requests); returns the HTTP status and body.
    pub fn post_raw(&self, path: &str, body: &[u8]) -> Result<(u16, String), RpcFailure> {
        self.endpoint().post_raw(path, body)
    }

    /// Runs `mpx-cli` against this node with `args` after `-datadir` and `-rpcport`.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_to_output(Command::new(binary(Binary::Cli)).args(self.base_args()).args(args))
    }

    /// Stops the node with the `stop` RPC and waits for it to exit successfully.
    pub fn stop(&mut self) {
        let reply = self.call("stop", json!([]));
        assert_eq!(reply, json!("mpx-node stopping"));
        let status = self.wait_for_exit();
        assert!(status.success(), "node{} exited with {status} after stop", self.index);
    }

    /// Waits (up to a minute) for the process to exit and returns its status.
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        loop {
            assert!(self.process.is_some(), "node{} is not running", self.index);
            if let Some(status) = self.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!("node{} did not exit within {PROCESS_TIMEOUT:?}", self.index);
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Sends `signal` to the running node.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = self.pid().unwrap_or_else(|| panic!("node{} is not running", self.index));
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
        nix::sys::signal::kill(pid, signal)
            .unwrap_or_else(|e| panic!("cannot signal node{}: {e}", self.index));
    }

    /// Kills the node with SIGKILL (no clean-up at all) and reaps it; does nothing if it is not
    /// running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The node's `debug.log` so far.
    pub fn debug_log(&self) -> String {
        std::fs::read_to_string(self.chain_datadir().join("debug.log")).unwrap_or_default()
    }

    /// The cookie file the node writes at start.
    pub fn cookie_file(&self) -> PathBuf {
        self.chain_datadir().join(".cookie")
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.kill();
    }
}

fn append(path: &Path) -> Result<File, String> {
    File::options().create(true).append(true).open(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `command` with stdin closed and returns its output.
pub(crate) fn run_to_output(command: &mut Command) -> Output {
    command.stdin(Stdio::null());
    die_with_parent(command);
    command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

/// Makes the child get SIGKILL if the thread that started it exits (a test that panics
/// without unwinding, or a killed test binary), so no node outlives its test.
pub fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs between fork and exec and only calls prctl, which is
    // async-signal-safe, touching no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The first port handed to test nodes: below the kernel's ephemeral range (32768 and up on
/// Linux), so a port cannot be taken by some connection's local end between a node's stop and
/// its restart, and above the well-known ones.
const PORT_BASE: u32 = 12_000;
/// Ports each test process may use; processes (test binaries running side by side) get
/// disjoint blocks by pid, as Bitcoin Core's test framework does with its port seed.
const PORTS_PER_PROCESS: u32 = 200;
/// Blocks available between the base and the ephemeral range.
const PORT_BLOCKS: u32 = (32_768 - PORT_BASE) / PORTS_PER_PROCESS;

/// A port for a new node: the next of this process's block that nothing listens on now. It stays
/// the node's across restarts.
fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let block = std::process::id() % PORT_BLOCKS;
    for _ in 0..PORTS_PER_PROCESS {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % PORTS_PER_PROCESS;
        let port = u16::try_from(PORT_BASE + block * PORTS_PER_PROCESS + offset).unwrap_or(u16::MAX);
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in this process's block of {PORTS_PER_PROCESS}")
}
