//! The multiprocess node (`mpx-multiprocess-node`, `mpx -m node`): its wallets in a spawned
//! `mpx-wallet`, followed across processes with `-debug=ipc`, and the faults of either process.
//!
//! These start `mpx-multiprocess-node` themselves, so they run in the default pass only (the
//! `MPX_TEST_MULTIPROCESS=1` pass runs every other scenario against it).

use std::time::Duration;

use functional_tests::{
    is_alive, kill_9, multiprocess, wait_until, wallet_child, Binary, RpcFailure, TestFramework, TestNode,
};
use serde_json::{json, Value};

const COIN: i64 = 100_000_000;
/// How long a wallet process may take to appear, or to come back after a crash (back-off
/// included).
const WALLET_TIMEOUT: Duration = Duration::from_secs(30);

fn sats(amount: &Value) -> i64 {
    interfaces::parse_btc(&amount.to_string()).unwrap_or_else(|e| panic!("{amount} is not an amount: {e}"))
}

fn multiprocess_test(name: &str, count: usize) -> Option<TestFramework> {
    if multiprocess() {
        eprintln!("{name}: runs in the default pass (it starts the multiprocess node itself)");
        return None;
    }
    let mut test = TestFramework::new(name, count);
    for node in &mut test.nodes {
        node.use_binary(Binary::MultiprocessNode);
    }
    Some(test)
}

fn node_pid(node: &TestNode) -> u32 {
    node.pid().expect("the node runs")
}

fn address(node: &TestNode, wallet: &str) -> String {
    node.wallet_call(wallet, "getnewaddress", json!([])).as_str().expect("an address").to_string()
}

/// The wallet's balance equals the sum of what it can spend.
fn assert_balance_is_utxo_sum(node: &TestNode, wallet: &str) -> i64 {
    let balance = sats(&node.wallet_call(wallet, "getbalance", json!([])));
    let unspent = node.wallet_call(wallet, "listunspent", json!([]));
    let sum: i64 = unspent.as_array().expect("a list").iter().map(|utxo| sats(&utxo["amount"])).sum();
    assert_eq!(balance, sum, "{wallet}: balance vs listunspent {unspent}");
    balance
}

#[test]
fn wallets_live_in_a_child_process_traced_by_debug_ipc() {
    let Some(mut test) = multiprocess_test("mp_child", 1) else { return };
    let node = &mut test.nodes[0];
    node.start(&["-debug=ipc"]);
    let node_pid = node_pid(node);
    let wallet_pid = wallet_child(node_pid, WALLET_TIMEOUT);

    node.call("createwallet", json!(["w1"]));
    let to = address(node, "w1");
    node.call("generatetoaddress", json!([101, to]));
    assert_eq!(sats(&node.wallet_call("w1", "getbalance", json!([]))), 50 * COIN);

    // One request followed across both processes, each line tagged with its process.
    let log = node.debug_log();
    let node_tag = format!("{{mpx-multiprocess-node-{node_pid}/");
    let wallet_tag = format!("{{mpx-wallet-{wallet_pid}/");
    let traced = |tag: &str, text: &str| log.lines().any(|line| line.contains(tag) && line.contains(text));
    assert!(traced(&node_tag, "IPC client send RpcActor.execute$Params"), "node sends the call");
    assert!(traced(&wallet_tag, "IPC server recv request"), "the wallet process receives it");
    assert!(traced(&wallet_tag, "IPC server post request"), "and runs it on a server thread");
    assert!(traced(&wallet_tag, "IPC client send Chain."), "the wallet calls the node back");
    assert!(traced(&node_tag, "Process ") && log.contains(&format!("pid {wallet_pid} launched")));

    // `stop` stops the wallet process (wallets flushed) before the node exits.
    node.stop();
    assert!(!is_alive(wallet_pid), "the wallet process exited before the node");
    let log = node.debug_log();
    assert!(log.contains("wallet unloaded wallet=w1"), "wallets flushed and closed");
    assert!(
        log.contains(&format!("Process {}", ""))
            && log.contains(&format!("pid {wallet_pid} exited with status 0"))
    );

    // Everything is back after a restart.
    node.start(&[]);
    node.call("loadwallet", json!(["w1"]));
    assert_eq!(sats(&node.wallet_call("w1", "getbalance", json!([]))), 50 * COIN);
}

#[test]
fn a_killed_wallet_process_is_restarted_and_loses_nothing() {
    let Some(mut test) = multiprocess_test("mp_wallet_kill", 1) else { return };
    let node = &mut test.nodes[0];
    node.start(&[]);
    let first = wallet_child(node_pid(node), WALLET_TIMEOUT);
    node.call("createwallet", json!(["payer"]));
    node.call("createwallet", json!(["payee"]));
    let mine_to = address(node, "payer");
    node.call("generatetoaddress", json!([101, mine_to]));
    let mut txids = Vec::new();
    for amount in ["1.5", "2.25", "0.125"] {
        let to = address(node, "payee");
        let amount: Value = serde_json::from_str(amount).expect("number");
        let txid = node.wallet_call("payer", "sendtoaddress", json!([to, amount]));
        txids.push(txid.as_str().expect("a txid").to_string());
    }

    kill_9(first);
    // The node keeps serving its own RPCs at once.
    assert!(node.rpc("getblockcount", json!([])).is_ok());
    // Wallet RPCs answer "restarting" (-28, which -rpcwait clients retry) until the new
    // process is in; never "Method not found".
    match node.wallet_rpc("payer", "getbalance", json!([])) {
        Ok(_) => {} // already back
        Err(RpcFailure::Rpc { code, message }) => {
            assert_eq!(code, -28, "{message}");
            assert!(message.contains("Wallet process restarting"), "{message}");
        }
        Err(other) => panic!("unexpected failure: {other}"),
    }
    let mut second = 0;
    wait_until("a new wallet process serves the wallets", WALLET_TIMEOUT, || {
        second = wallet_child(node_pid(node), WALLET_TIMEOUT);
        second != first && node.wallet_rpc("payer", "getbalance", json!([])).is_ok()
    });
    assert!(!is_alive(first));
    assert!(node.debug_log().contains(&format!("pid {first} exited unexpectedly")));

    // Both wallets are back (loaded at run time, not at start-up), every acknowledged payment
    // is there, and the balances are what the coins say.
    let loaded = node.call("listwallets", json!([]));
    assert!(
        loaded.as_array().is_some_and(|l| l.contains(&json!("payer")) && l.contains(&json!("payee"))),
        "{loaded}"
    );
    for txid in &txids {
        let tx = node.wallet_call("payer", "gettransaction", json!([txid]));
        assert_eq!(tx["txid"], json!(txid));
    }
    node.call("generatetoaddress", json!([1, mine_to]));
    assert_eq!(assert_balance_is_utxo_sum(node, "payee"), (150_000_000 + 225_000_000 + 12_500_000));
    assert_balance_is_utxo_sum(node, "payer");
}

#[test]
fn a_killed_node_takes_its_wallet_process_with_it() {
    let Some(mut test) = multiprocess_test("mp_node_kill", 1) else { return };
    let node = &mut test.nodes[0];
    node.start(&[]);
    let wallet_pid = wallet_child(node_pid(node), WALLET_TIMEOUT);
    node.kill();
    wait_until("the orphaned wallet process exits", Duration::from_secs(10), || !is_alive(wallet_pid));
    // And both come back.
    node.start(&[]);
    let wallet_pid = wallet_child(node_pid(node), WALLET_TIMEOUT);
    assert!(is_alive(wallet_pid));
    node.call("createwallet", json!(["again"]));
    node.stop();
}
