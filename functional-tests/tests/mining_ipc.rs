//! Mining over the node's socket as a Stratum v2 template provider does it (a pycapnp client
//! written as Bitcoin Core's are), and mining over JSON-RPC (`getblocktemplate` ->
//! `submitblock`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use functional_tests::{wait_until, TestFramework};
use serde_json::json;

/// Somewhere to mine to that belongs to no wallet.
const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn a_template_provider_mines_through_the_socket() {
    let has_pycapnp = Command::new("python3")
        .args(["-c", "import capnp"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(has_pycapnp, "pycapnp is missing: python3 -m pip install pycapnp==2.2.4");
    let mut test = TestFramework::new("mining_ipc", 1);
    test.nodes[0].start(&["-ipcbind=unix", "-debug=ipc"]);
    let node = &test.nodes[0];
    node.call("createwallet", json!(["payer"]));
    node.call("createwallet", json!(["miner"]));
    let payer = node.wallet_call("payer", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, payer]));
    let payout = node.wallet_call("miner", "getnewaddress", json!([]));
    let payout = payout.as_str().expect("an address");

    let imports = test.path("imports");
    std::fs::create_dir_all(imports.join("mp")).expect("imports dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::copy(root.join("framework/schema/proxy.capnp"), imports.join("mp/proxy.capnp")).expect("copy");
    let output = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mining_ipc_client.py"))
        .arg(node.chain_datadir().join("node.sock"))
        .arg(root.join("ipc/schema"))
        .arg(&imports)
        .args([payout, "payer", ELSEWHERE])
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout.lines().filter(|line| line.starts_with("ok ")).count(), 28, "{stdout}");
    assert!(stdout.contains("disconnecting during waitNext"), "{stdout}");

    // The wallet the client's coinbase paid sees the block.
    wait_until("the miner wallet sees its coinbase", WAIT, || {
        node.wallet_call("miner", "getbalances", json!([]))["mine"]["immature"].as_f64() == Some(50.0)
    });
    // The disconnect canceled the wait, in libmultiprocess's words, and the node goes on.
    wait_until("the node cancels the wait", WAIT, || {
        let log = node.debug_log();
        log.contains("canceled while executing.") && log.contains("IPC server: socket disconnected.")
    });
    assert_eq!(node.call("getblockcount", json!([])), json!(103));
}
