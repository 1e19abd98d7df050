//! The node's IPC socket (`-ipcbind`) as its clients use it: Bitcoin Core's socket conventions,
//! `mpx-cli -ipcconnect` (no cookie, same output as HTTP), a pycapnp client written as Core's
//! are, and wallet processes that join a running node with `-ipcconnect` (and what happens when
//! either side is killed).

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use functional_tests::{wait_until, RpcFailure, TestFramework, TestNode, WalletProcess};
use serde_json::json;

/// Somewhere to mine to that belongs to no wallet.
const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const WAIT: Duration = Duration::from_secs(30);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn outcome(output: &Output) -> (Option<i32>, String, String) {
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn ipcbind_follows_bitcoin_cores_socket_conventions() {
    let mut test = TestFramework::new("socket_conventions", 1);
    let node = &mut test.nodes[0];
    let chain_dir = node.chain_datadir();
    std::fs::create_dir_all(&chain_dir).expect("chain datadir");
    // A stale socket left by a process that died: replaced.
    let default_socket = chain_dir.join("node.sock");
    drop(std::os::unix::net::UnixListener::bind(&default_socket).expect("bind a stale socket"));
    assert!(default_socket.exists());

    node.start(&["-ipcbind=unix", "-ipcbind=unix:sub/dir/other.sock"]);
    let other = chain_dir.join("sub/dir/other.sock");
    for socket in [&default_socket, &other] {
        let meta = std::fs::symlink_metadata(socket).expect("the socket file exists");
        assert!(meta.file_type().is_socket(), "{}", socket.display());
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "owner-only: {}", socket.display());
        let line = format!("Listening for IPC requests on address unix:{}", socket.display());
        assert!(node.debug_log().contains(&line), "{line}");
        assert!(std::os::unix::net::UnixStream::connect(socket).is_ok());
    }
    node.stop();
    assert!(!default_socket.exists() && !other.exists(), "socket files removed at shutdown");

    // A path that cannot be a socket: one line, exit 1, nothing started.
    let refused = node.try_start(&["-ipcbind=unix:/proc/no/such.sock"]).expect_err("refused");
    assert!(refused.contains("exited with exit status: 1"), "{refused}");
    assert!(refused.contains("cannot listen on unix:/proc/no/such.sock"), "{refused}");
}

#[test]
fn cli_over_the_socket_answers_as_over_http_without_credentials() {
    let mut test = TestFramework::new("socket_cli", 2);
    test.nodes[0].start(&["-ipcbind=unix"]);
    test.nodes[1].start(&[]);
    let node = &test.nodes[0];
    node.call("generatetoaddress", json!([2, ELSEWHERE]));

    let http = node.cli(&["getblockchaininfo"]);
    let socket = node.cli(&["-ipcconnect=unix", "getblockchaininfo"]);
    assert_eq!(outcome(&socket), outcome(&http));
    assert!(text(&socket.stdout).contains("\"blocks\": 2"));
    let http = node.cli(&["nosuchmethod"]);
    let socket = node.cli(&["-ipcconnect=unix", "nosuchmethod"]);
    assert_eq!(outcome(&socket), outcome(&http));
    assert_eq!(socket.status.code(), Some(1));

    // The socket's permission is the authentication: wrong credentials do not matter there.
    let wrong = ["-rpcuser=nobody", "-rpcpassword=wrong"];
    let http = node.cli(&[wrong[0], wrong[1], "getblockcount"]);
    assert!(text(&http.stderr).contains("Authorization failed"), "{}", text(&http.stderr));
    let socket = node.cli(&[wrong[0], wrong[1], "-ipcconnect=unix", "getblockcount"]);
    assert_eq!(outcome(&socket), (Some(0), "2\n".to_string(), String::new()));

    // -rpcwallet becomes the /wallet/<name> endpoint.
    node.call("createwallet", json!(["my wallet"]));
    node.call("createwallet", json!(["other"]));
    let balance = node.cli(&["-ipcconnect=unix", "-rpcwallet=my wallet", "getbalance"]);
    assert_eq!(outcome(&balance), (Some(0), "0.00000000\n".to_string(), String::new()));

    // auto: the socket when a node listens there, HTTP otherwise.
    let auto = node.cli(&["-ipcconnect=auto", "-rpcport=1", "getblockcount"]);
    assert_eq!(outcome(&auto).1, "2\n", "port 1 is unused: the answer came over the socket");
    let fallback = test.nodes[1].cli(&["-ipcconnect=auto", "getblockcount"]);
    assert_eq!(outcome(&fallback), (Some(0), "0\n".to_string(), String::new()));
    let required = test.nodes[1].cli(&["-ipcconnect=unix", "getblockcount"]);
    assert_eq!(required.status.code(), Some(1));
    assert!(text(&required.stderr).contains("cannot connect to unix:"), "{}", text(&required.stderr));
}

#[test]
fn a_pycapnp_client_uses_the_node_socket_as_bitcoin_cores_clients_do() {
    functional_tests::pycapnp::require_pycapnp();
    let mut test = TestFramework::new("socket_pycapnp", 1);
    test.nodes[0].start(&["-ipcbind=unix", "-debug=ipc"]);
    let node = &test.nodes[0];
    node.call("generatetoaddress", json!([3, ELSEWHERE]));
    let imports = functional_tests::pycapnp::schema_imports(test.root());
    let output = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node_socket_client.py"))
        .arg(node.chain_datadir().join("node.sock"))
        .arg(functional_tests::pycapnp::schema_dir())
        .arg(&imports)
        .arg("3")
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs");
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout.lines().filter(|line| line.starts_with("ok ")).count(), 7, "{stdout}");
    // The node traced it with libmultiprocess's words; the client's thread name shows.
    let log = node.debug_log();
    assert!(log.contains("IPC server: socket connected."));
    assert!(log.contains("IPC server recv request  #1 Init.construct$Params"), "construct is request #1");
    // The serving thread is named as libmultiprocess names it, with the client's thread name.
    let posted = log
        .lines()
        .find(|line| line.contains("IPC server post request") && line.contains("pythread"))
        .unwrap_or_default();
    let node_pid = node.pid().unwrap_or_default();
    let exe = functional_tests::Binary::Node.name();
    assert!(posted.contains(&format!("{{{exe}-{node_pid}/ipc-worker-")), "{posted}");
    assert!(posted.ends_with(" (from pythread)}"), "{posted}");
    wait_until("the node logs the disconnect", WAIT, || {
        node.debug_log().contains("IPC server: socket disconnected.")
    });
}

/// An `mpx-wallet -ipcconnect=unix` on `node`'s datadir (`name` for its output files).
fn join(test: &TestFramework, node: &TestNode, name: &str, extra: &[&str]) -> WalletProcess {
    let mut args = vec![format!("-datadir={}", node.datadir().display()), "-ipcconnect=unix".to_string()];
    args.extend(extra.iter().map(|arg| arg.to_string()));
    WalletProcess::start(&args, test.root(), name)
}

fn code(result: Result<serde_json::Value, RpcFailure>) -> Option<i64> {
    match result {
        Err(RpcFailure::Rpc { code, .. }) => Some(code),
        _ => None,
    }
}

#[test]
fn wallet_processes_join_a_running_node_and_leave_it_running() {
    let mut test = TestFramework::new("socket_wallets", 1);
    test.nodes[0].start(&["-disablewallet", "-ipcbind=unix"]);
    let node = &test.nodes[0];
    assert_eq!(code(node.rpc("listwallets", json!([]))), Some(-32601), "no wallets of its own");

    let mut first = join(&test, node, "wallet-a", &[]);
    wait_until("the wallet process registers its methods", WAIT, || {
        node.rpc("listwallets", json!([])).is_ok()
    });
    node.call("createwallet", json!(["a"]));
    node.call("createwallet", json!(["b"]));
    node.call("unloadwallet", json!(["b"]));
    let to = node.wallet_call("a", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, to]));
    assert_eq!(node.wallet_call("a", "getbalance", json!([])).to_string(), "50.00000000");

    // A second process serves its own wallet beside the first.
    let second = join(&test, node, "wallet-b", &["-wallet=b"]);
    wait_until("the second process serves b", WAIT, || node.wallet_rpc("b", "getbalance", json!([])).is_ok());
    assert_eq!(node.wallet_call("a", "getbalance", json!([])).to_string(), "50.00000000");

    // kill -9 of the first: its methods go at once, the node and the other process stay.
    first.kill();
    wait_until("wallet a is gone with its process", Duration::from_secs(5), || {
        code(node.wallet_rpc("a", "getbalance", json!([]))) == Some(-18)
    });
    assert!(node.rpc("getblockcount", json!([])).is_ok());
    assert!(node.wallet_rpc("b", "getbalance", json!([])).is_ok());

    // Started again, it reattaches with everything.
    let _first = join(&test, node, "wallet-a2", &["-wallet=a"]);
    wait_until("wallet a is back", WAIT, || node.wallet_rpc("a", "getbalance", json!([])).is_ok());
    assert_eq!(node.wallet_call("a", "getbalance", json!([])).to_string(), "50.00000000");

    // kill -9 of the node: each wallet process says so in one line and exits non-zero.
    let mut second = second;
    let mut first = _first;
    test.nodes[0].kill();
    for wallet in [&mut first, &mut second] {
        let status = wallet.wait_for_exit(Duration::from_secs(10));
        assert_eq!(status.code(), Some(1));
        let stderr = wallet.stderr();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("Error: lost the connection to the node at unix:"), "{stderr}");
    }
}

#[test]
fn clients_that_misbehave_on_the_socket_disturb_nobody() {
    use std::io::Write;
    let mut test = TestFramework::new("socket_misbehave", 1);
    test.nodes[0].start(&["-ipcbind=unix"]);
    let node = &test.nodes[0];
    let socket = node.chain_datadir().join("node.sock");
    // One connects and says nothing; one sends garbage; one sends half a message and vanishes.
    let idle = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    let mut garbage = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    let _ = garbage.write_all(&[0xff; 4096]);
    let mut half = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    // A segment table announcing one segment of 1000 words, then 8 bytes of it.
    let _ = half.write_all(&[0, 0, 0, 0, 0xe8, 0x03, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    drop(half);
    for _ in 0..3 {
        let answer = node.cli(&["-ipcconnect=unix", "getblockcount"]);
        assert_eq!(outcome(&answer), (Some(0), "0\n".to_string(), String::new()));
    }
    assert!(node.rpc("getblockcount", json!([])).is_ok());
    drop(idle);
    drop(garbage);
    test.nodes[0].stop();
}
