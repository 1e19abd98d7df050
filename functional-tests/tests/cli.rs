//! The rpc client and the wrapper against a real node: output formats, errors, `-rpcwait`,
//! `-named`, and `mpx rpc` / `mpx node` running the right executables.

use std::process::Command;

use functional_tests::{binary, die_with_parent, Binary, TestFramework};
use serde_json::{json, Value};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cli_prints_results_and_errors_like_bitcoin_cli() {
    let mut test = TestFramework::new("cli", 1);
    test.start_all();
    let node = &test.nodes[0];

    let count = node.cli(&["getblockcount"]);
    assert!(count.status.success());
    assert_eq!(text(&count.stdout), "0\n");

    // Strings bare, objects as pretty JSON.
    let genesis = node.cli(&["getblockhash", "0"]);
    assert_eq!(text(&genesis.stdout), "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206\n");
    let info = node.cli(&["getblockchaininfo"]);
    let shown = text(&info.stdout);
    assert!(shown.starts_with("{\n  \"chain\": \"regtest\","), "{shown}");
    assert_eq!(serde_json::from_str::<Value>(&shown).unwrap(), node.call("getblockchaininfo", json!([])));

    // Amounts exactly as bitcoin-cli shows bitcoind's: eight decimals.
    let mined = node.call("generatetoaddress", json!([1, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]));
    let block = node.cli(&["getblock", mined[0].as_str().unwrap(), "2"]);
    assert!(text(&block.stdout).contains("\"value\": 50.00000000,"), "{}", text(&block.stdout));

    let named = node.cli(&["-named", "getblockhash", "height=0"]);
    assert_eq!(named.stdout, genesis.stdout);

    let unknown = node.cli(&["nosuchmethod"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(text(&unknown.stderr), "error code: -32601\nerror message:\nMethod not found\n");
    assert!(unknown.stdout.is_empty());
}

#[test]
fn rpcwait_waits_for_a_node_that_is_still_starting() {
    let mut test = TestFramework::new("rpcwait", 1);
    let args = test.nodes[0].base_args();
    // The client starts first; it must wait for the cookie and the port rather than fail.
    let waiting = std::thread::spawn(move || {
        let mut command = Command::new(binary(Binary::Wrapper));
        command.arg("rpc").args(&args).args(["-rpcwait", "-rpcwaittimeout=60", "getblockcount"]);
        die_with_parent(&mut command);
        command.output().unwrap()
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    test.nodes[0].start(&[]);
    let output = waiting.join().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "0\n");

    // Without -rpcwait, a stopped node is an immediate, clear error.
    test.nodes[0].stop();
    let refused = test.nodes[0].cli(&["getblockcount"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).starts_with("error: "), "{}", text(&refused.stderr));
}

#[test]
fn wrapper_runs_the_node_and_the_client() {
    let version = Command::new(binary(Binary::Wrapper)).args(["node", "-version"]).output().unwrap();
    assert!(version.status.success());
    let first = text(&version.stdout).lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with("mpx-node daemon version v"), "{first}");
    assert!(first.ends_with(" mpx-node"), "the executable's name ends the first line: {first}");

    let mut test = TestFramework::new("wrapper", 1);
    test.start_all();
    let node = &test.nodes[0];
    let output = Command::new(binary(Binary::Wrapper))
        .arg("rpc")
        .args(node.base_args())
        .args(["-chain=regtest", "getbestblockhash"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(json!(text(&output.stdout).trim()), node.call("getbestblockhash", json!([])));
}
