//! The daemon's life: start, the files it keeps, clean shutdown by RPC and by signal, a second
//! instance on the same datadir, `-daemon`, restart on the same data.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use functional_tests::{binary, Binary, TestFramework};
use nix::sys::signal::Signal;
use serde_json::json;

/// A regtest address (BIP173's P2WPKH example key); mining to it needs no wallet.
const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

#[test]
fn stop_removes_the_cookie_and_the_pid_file() {
    let mut test = TestFramework::new("stop_files", 1);
    let node = &mut test.nodes[0];
    node.start(&["-pid=node.pid"]);
    let cookie = node.cookie_file();
    let mode = std::fs::metadata(&cookie).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the cookie must be private");
    let pid_file = node.chain_datadir().join("node.pid");
    let written = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(written.trim(), node.pid().unwrap().to_string());

    node.stop();
    assert!(!cookie.exists(), "cookie left behind");
    assert!(!pid_file.exists(), "pid file left behind");
    let log = node.debug_log();
    assert!(log.contains("init done") && log.contains("Shutdown: done"), "{log}");
}

#[test]
fn sigterm_and_sigint_shut_down_cleanly() {
    let mut test = TestFramework::new("signals", 1);
    let node = &mut test.nodes[0];
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        node.start(&[]);
        node.call("generatetoaddress", json!([1, ADDRESS]));
        node.signal(signal);
        let status = node.wait_for_exit();
        assert!(status.success(), "{signal}: exit status {status}");
        assert!(!node.cookie_file().exists(), "{signal}: cookie left behind");
        assert!(node.debug_log().contains(&format!("{signal} received, shutting down")));
    }
    node.start(&[]);
    assert_eq!(node.call("getblockcount", json!([])), json!(2), "blocks mined before the signals are kept");
}

#[test]
fn sighup_reopens_the_log_file() {
    let mut test = TestFramework::new("sighup", 1);
    let node = &mut test.nodes[0];
    node.start(&[]);
    let log = node.chain_datadir().join("debug.log");
    let rotated = node.chain_datadir().join("debug.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    node.signal(Signal::SIGHUP);
    // The signal thread reopens (and so creates) the file and says so in it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node.debug_log().contains("log file reopened") {
        assert!(Instant::now() < deadline, "debug.log was not reopened");
        std::thread::sleep(Duration::from_millis(20));
    }
    node.stop();
    assert!(node.debug_log().contains("Shutdown: done"), "later lines go to the new file");
    assert!(std::fs::read_to_string(&rotated).unwrap().contains("init done"));
}

#[test]
fn a_second_node_on_the_same_datadir_is_refused() {
    let mut test = TestFramework::new("datadir_lock", 1);
    let node = &mut test.nodes[0];
    node.start(&[]);
    let cookie_before = std::fs::read_to_string(node.cookie_file()).unwrap();

    let output = Command::new(binary(Binary::Node))
        .arg(format!("-datadir={}", node.datadir().display()))
        .arg("-rpcport=1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    // Core's words, which its feature_filelock matches in full (with its CLIENT_NAME).
    let regtest = node.datadir().join("regtest");
    let expected = format!(
        "Error: Cannot obtain a lock on directory {}. mpx-node is probably already running.",
        regtest.display()
    );
    assert_eq!(stderr.trim_end(), expected);

    // The first node is untouched: same cookie, still serving.
    assert_eq!(std::fs::read_to_string(node.cookie_file()).unwrap(), cookie_before);
    assert_eq!(node.call("getblockcount", json!([])), json!(0));
}

/// Kills the daemon named in a pid file when dropped, so a failing test leaves no process.
struct PidFileGuard(std::path::PathBuf);

impl PidFileGuard {
    fn pid(&self) -> Option<nix::unistd::Pid> {
        let text = std::fs::read_to_string(&self.0).ok()?;
        Some(nix::unistd::Pid::from_raw(text.trim().parse().ok()?))
    }
}

impl Drop for PidFileGuard {
    fn drop(&mut self) {
        // Only a live mpx-node: a stale pid file's number may belong to another process by now.
        if let Some(pid) = self.pid().filter(|pid| is_running(*pid)) {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains("mpx-node") {
                let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
            }
        }
    }
}

/// Whether `pid` is a process that has not exited. An exited daemon is the child of init, which
/// may not reap it (a container without an init process): a zombie counts as exited.
fn is_running(pid: nix::unistd::Pid) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // "<pid> (<comm>) <state> ...": the state follows the last ')'.
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

#[test]
fn daemon_detaches_and_reports_start_up() {
    let test = TestFramework::new("daemon", 1);
    let node = &test.nodes[0];
    let guard = PidFileGuard(node.chain_datadir().join("daemon.pid"));
    let started = Command::new(binary(Binary::Node))
        .args(node.node_args())
        .args(["-daemon", "-pid=daemon.pid"])
        .output()
        .unwrap();
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    // The parent returned only once the child was serving.
    assert_eq!(node.call("getblockcount", json!([])), json!(0));
    let pid = guard.pid().expect("pid file");
    assert_ne!(pid.as_raw() as u32, std::process::id());

    // A second daemon on the same datadir reports the child's error through the parent.
    let second = Command::new(binary(Binary::Node)).args(node.base_args()).arg("-daemon").output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("Cannot obtain a lock"));

    assert_eq!(node.call("stop", json!([])), json!("mpx-node stopping"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while is_running(pid) {
        assert!(Instant::now() < deadline, "daemon still running after stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!guard.0.exists(), "pid file left behind");
}

#[test]
fn restart_resumes_at_the_same_tip() {
    let mut test = TestFramework::new("restart", 1);
    let node = &mut test.nodes[0];
    node.start(&[]);
    let hashes = node.call("generatetoaddress", json!([12, ADDRESS]));
    let tip = node.call("getbestblockhash", json!([]));
    assert_eq!(hashes[11], tip);
    let info = node.call("getblockchaininfo", json!([]));
    node.stop();

    node.start(&[]);
    assert_eq!(node.call("getbestblockhash", json!([])), tip);
    assert_eq!(node.call("getblockchaininfo", json!([])), info);
    let block = node.call("getblock", json!([tip, 2]));
    assert_eq!(block["height"], json!(12));
    // The chain goes on from there.
    node.call("generatetoaddress", json!([1, ADDRESS]));
    assert_eq!(node.call("getblockcount", json!([])), json!(13));
}

#[test]
fn several_nodes_run_side_by_side_on_their_own_data() {
    let mut test = TestFramework::new("two_nodes", 2);
    test.start_all();
    let (first, second) = (&test.nodes[0], &test.nodes[1]);
    assert_ne!(first.rpc_port(), second.rpc_port());
    first.call("generatetoaddress", json!([3, ADDRESS]));
    second.call("generatetoaddress", json!([1, ADDRESS]));
    assert_eq!(first.call("getblockcount", json!([])), json!(3));
    assert_eq!(second.call("getblockcount", json!([])), json!(1));
    // Same genesis (Bitcoin Core's regtest); each keeps its own tip.
    assert_eq!(first.call("getblockhash", json!([0])), second.call("getblockhash", json!([0])));
    assert_eq!(second.rpc("getblockhash", json!([3])).unwrap_err().code(), Some(-8));
}
