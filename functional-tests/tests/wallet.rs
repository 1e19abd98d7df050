//! The wallet end to end through the node's RPC: mining to it, sending between wallets,
//! restarts, `kill -9` while sending, and the wallet's error replies.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use functional_tests::{RpcEndpoint, RpcFailure, TestFramework, TestNode};
use serde_json::{json, Value};

/// Satoshis of an amount as the node prints it (`50.00000000`), read exactly from its text.
fn sats(amount: &Value) -> i64 {
    let text = amount.to_string();
    let (sign, digits) = text.strip_prefix('-').map_or((1, text.as_str()), |rest| (-1, rest));
    sign * interfaces::parse_btc(digits).unwrap_or_else(|e| panic!("{amount} is not an amount: {e}"))
}

const COIN: i64 = 100_000_000;
/// Somewhere to mine to that belongs to no wallet.
const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

fn new_address(node: &TestNode, wallet: &str) -> String {
    node.wallet_call(wallet, "getnewaddress", json!([])).as_str().expect("an address string").to_string()
}

fn balance(node: &TestNode, wallet: &str) -> i64 {
    sats(&node.wallet_call(wallet, "getbalance", json!([])))
}

/// Creates `wallet` and mines 101 blocks to it: 50 BTC spendable, 5000 immature.
fn funded_wallet(node: &TestNode, wallet: &str) -> String {
    node.call("createwallet", json!([wallet]));
    let address = new_address(node, wallet);
    node.call("generatetoaddress", json!([101, address]));
    address
}

#[test]
fn mining_101_blocks_gives_a_balance_of_50() {
    let mut test = TestFramework::new("wallet_mine", 1);
    test.start_all();
    let node = &test.nodes[0];
    let created = node.call("createwallet", json!(["w1"]));
    assert_eq!(created["name"], json!("w1"));
    let address = new_address(node, "w1");
    assert!(address.starts_with("bcrt1q"), "a P2WPKH regtest address: {address}");

    node.call("generatetoaddress", json!([100, address]));
    assert_eq!(balance(node, "w1"), 0, "100 confirmations: still immature");
    node.call("generatetoaddress", json!([1, address]));
    let shown = node.wallet_call("w1", "getbalance", json!([]));
    assert_eq!(shown.to_string(), "50.00000000");
    let balances = node.wallet_call("w1", "getbalances", json!([]));
    assert_eq!(sats(&balances["mine"]["trusted"]), 50 * COIN);
    assert_eq!(sats(&balances["mine"]["untrusted_pending"]), 0);
    assert_eq!(sats(&balances["mine"]["immature"]), 100 * 50 * COIN);
    let unspent = node.wallet_call("w1", "listunspent", json!([]));
    assert_eq!(unspent.as_array().map(Vec::len), Some(1), "{unspent}");
    assert_eq!(sats(&unspent[0]["amount"]), 50 * COIN);
    assert_eq!(unspent[0]["address"], json!(address));
    assert_eq!(unspent[0]["confirmations"], json!(101));
    // Core's query options: immature coinbases on request, a running sum that stops the list.
    let all = node.wallet_call(
        "w1",
        "listunspent",
        json!([0, 9_999_999, null, true, {"include_immature_coinbase": true}]),
    );
    assert_eq!(all.as_array().map(Vec::len), Some(101));
    let enough = node.wallet_call(
        "w1",
        "listunspent",
        json!([0, 9_999_999, null, true, {"include_immature_coinbase": true, "minimumSumAmount": 120}]),
    );
    assert_eq!(enough.as_array().map(Vec::len), Some(3));
    let info = node.wallet_call("w1", "getwalletinfo", json!([]));
    assert_eq!(info["walletname"], json!("w1"));
    // The only loaded wallet answers without /wallet/<name> too.
    assert_eq!(sats(&node.call("getbalance", json!([]))), 50 * COIN);
}

#[test]
fn sending_to_a_second_wallet_goes_through_the_mempool_into_a_block() {
    let mut test = TestFramework::new("wallet_send", 1);
    test.start_all();
    let node = &test.nodes[0];
    funded_wallet(node, "w1");
    node.call("createwallet", json!(["w2"]));
    let to = new_address(node, "w2");

    let txid = node.wallet_call("w1", "sendtoaddress", json!([to, 10]));
    assert_eq!(node.call("getrawmempool", json!([])), json!([txid]));
    let pending = node.wallet_call("w2", "getbalances", json!([]));
    assert_eq!(sats(&pending["mine"]["untrusted_pending"]), 10 * COIN);
    assert_eq!(sats(&pending["mine"]["trusted"]), 0);
    let sent = node.wallet_call("w1", "gettransaction", json!([txid]));
    let fee = -sats(&sent["fee"]);
    assert!(fee > 0 && fee < COIN / 100, "fee {fee}");
    assert_eq!(sent["confirmations"], json!(0));

    node.call("generatetoaddress", json!([1, ELSEWHERE]));
    assert_eq!(node.call("getrawmempool", json!([])), json!([]));
    assert_eq!(balance(node, "w2"), 10 * COIN);
    // w1: the 50 it had, minus 10 and the fee, plus block 2's coinbase, which has just matured.
    assert_eq!(balance(node, "w1"), 50 * COIN - 10 * COIN - fee + 50 * COIN);
    let confirmed = node.wallet_call("w1", "gettransaction", json!([txid]));
    assert_eq!(confirmed["confirmations"], json!(1));
    let received = node.wallet_call("w2", "listtransactions", json!([]));
    assert_eq!(received.as_array().map(Vec::len), Some(1), "{received}");
    assert_eq!(received[0]["category"], json!("receive"));
    assert_eq!(received[0]["txid"], txid);
    assert_eq!(sats(&received[0]["amount"]), 10 * COIN);
}

#[test]
fn a_restart_keeps_the_tip_the_wallets_and_their_balances() {
    let mut test = TestFramework::new("wallet_restart", 1);
    let node = &mut test.nodes[0];
    node.start(&[]);
    funded_wallet(node, "w1");
    node.call("createwallet", json!(["w2"]));
    let to = new_address(node, "w2");
    let txid = node.wallet_call("w1", "sendtoaddress", json!([to, 3]));
    node.call("generatetoaddress", json!([1, ELSEWHERE]));
    let tip = node.call("getbestblockhash", json!([]));
    let before = (balance(node, "w1"), balance(node, "w2"));
    let unspent = node.wallet_call("w1", "listunspent", json!([]));
    node.stop();

    node.start(&["-wallet=w1", "-wallet=w2"]);
    assert_eq!(node.call("getbestblockhash", json!([])), tip);
    assert_eq!(node.call("listwallets", json!([])), json!(["w1", "w2"]));
    assert_eq!((balance(node, "w1"), balance(node, "w2")), before);
    assert_eq!(node.wallet_call("w1", "listunspent", json!([])), unspent);
    assert_eq!(node.wallet_call("w2", "gettransaction", json!([txid]))["confirmations"], json!(1));
    // Keys survived too: the reloaded wallet can still sign.
    let again = node.wallet_call("w2", "sendtoaddress", json!([new_address(node, "w1"), 1]));
    assert_eq!(node.call("getrawmempool", json!([])), json!([again]));
    node.stop();

    // Without -wallet nothing is loaded, and loadwallet brings it back.
    node.start(&[]);
    assert_eq!(node.call("listwallets", json!([])), json!([]));
    node.call("loadwallet", json!(["w2"]));
    assert!(balance(node, "w2") > 0);
}

#[test]
fn kill_9_while_sending_loses_no_acknowledged_transaction() {
    let mut test = TestFramework::new("wallet_kill", 1);
    let node = &mut test.nodes[0];
    node.start(&[]);
    funded_wallet(node, "w1");
    // More mature coins, so sends do not all chain on one unconfirmed change output.
    node.call("generatetoaddress", json!([20, new_address(node, "w1")]));
    node.call("createwallet", json!(["w2"]));
    let to = new_address(node, "w2");
    let total_before = balance(node, "w1");

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let sender = {
        let (endpoint, acknowledged, to) = (node.endpoint(), acknowledged.clone(), to.clone());
        std::thread::spawn(move || send_until_error(&endpoint, &to, &acknowledged))
    };
    // Kill once a few sends are acknowledged (more are in flight by then).
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "sending made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    node.kill();
    sender.join().unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();

    node.start(&["-wallet=w1", "-wallet=w2"]);
    for txid in &acknowledged {
        let tx = node.wallet_call("w1", "gettransaction", json!([txid]));
        assert_eq!(tx["confirmations"], json!(0), "{txid}");
    }
    // The wallet puts its unconfirmed transactions back into the (empty) mempool on load.
    let mempool = node.call("getrawmempool", json!([]));
    for txid in &acknowledged {
        assert!(mempool.as_array().unwrap().contains(txid), "{txid} not rebroadcast: {mempool}");
    }
    node.call("generatetoaddress", json!([1, ELSEWHERE]));
    let received = balance(node, "w2");
    assert!(received >= acknowledged.len() as i64 * COIN / 10, "w2 got {received}");
    // Every send the wallet recorded, acknowledged or not (the kill may fall between the two).
    let history = node.wallet_call("w1", "listtransactions", json!(["*", 10_000]));
    let fees: i64 = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["category"] == "send")
        .map(|entry| -sats(&entry["fee"]))
        .sum();
    // Nothing created or lost: w1 now + w2 + fees = w1 before + the coinbase that just matured.
    assert_eq!(balance(node, "w1") + received + fees, total_before + 50 * COIN);
}

/// Sends 0.1 BTC per call until a call fails (the node was killed), recording acknowledged txids.
fn send_until_error(node: &RpcEndpoint, to: &str, acknowledged: &Mutex<Vec<Value>>) {
    while let Ok(txid @ Value::String(_)) = node.wallet_call("w1", "sendtoaddress", json!([to, 0.1])) {
        acknowledged.lock().unwrap().push(txid);
    }
}

fn error_code(result: Result<Value, RpcFailure>) -> Option<i64> {
    result.err().and_then(|e| e.code())
}

#[test]
fn wallet_errors_are_bitcoind_errors_and_lose_nothing() {
    let mut test = TestFramework::new("wallet_errors", 1);
    test.start_all();
    let node = &test.nodes[0];
    assert_eq!(error_code(node.rpc("getbalance", json!([]))), Some(-18), "no wallet loaded");
    funded_wallet(node, "w1");
    let to = new_address(node, "w1");

    assert_eq!(
        node.wallet_rpc("w1", "sendtoaddress", json!([to, 1000])),
        Err(RpcFailure::Rpc { code: -6, message: "Insufficient funds".into() })
    );
    assert_eq!(error_code(node.wallet_rpc("w1", "sendtoaddress", json!(["bcrt1qbad", 1]))), Some(-5));
    assert_eq!(
        error_code(node.wallet_rpc("w1", "sendtoaddress", json!([ELSEWHERE.replace("bcrt", "bc"), 1]))),
        Some(-5)
    );
    assert_eq!(error_code(node.wallet_rpc("w1", "sendtoaddress", json!([to, "lots"]))), Some(-3));
    assert_eq!(error_code(node.wallet_rpc("w1", "sendtoaddress", json!([to, 0]))), Some(-3));
    assert_eq!(error_code(node.wallet_rpc("w1", "sendtoaddress", json!([to, 0.000000001]))), Some(-3));
    assert_eq!(error_code(node.wallet_rpc("nosuch", "getbalance", json!([]))), Some(-18));
    assert_eq!(error_code(node.rpc("createwallet", json!(["w1"]))), Some(-4), "exists and is loaded");
    assert_eq!(error_code(node.rpc("loadwallet", json!(["w1"]))), Some(-35));
    assert_eq!(error_code(node.rpc("loadwallet", json!(["nosuch"]))), Some(-18));
    assert_eq!(error_code(node.rpc("createwallet", json!(["../escape"]))), Some(-4));

    node.call("createwallet", json!(["w2"]));
    assert_eq!(error_code(node.rpc("getbalance", json!([]))), Some(-19), "two wallets, none named");
    node.call("unloadwallet", json!(["w2"]));
    assert_eq!(node.call("listwallets", json!([])), json!(["w1"]));

    // None of that cost anything.
    assert_eq!(balance(node, "w1"), 50 * COIN);
    assert_eq!(node.call("getrawmempool", json!([])), json!([]));
}

#[test]
fn sendmany_pays_several_and_splits_the_fee_among_the_payers() {
    let mut test = TestFramework::new("wallet_sendmany", 1);
    test.start_all();
    let node = &test.nodes[0];
    funded_wallet(node, "w1");
    node.call("createwallet", json!(["w2"]));
    let a = new_address(node, "w2");
    let b = new_address(node, "w2");
    let txid =
        node.wallet_call("w1", "sendmany", json!(["", {a.clone(): 1.0, b.clone(): 2.0}, 1, "", [b.clone()]]));
    let tx = node.call("getrawtransaction", json!([txid, true]));
    let paid = |address: &str| -> i64 {
        tx["vout"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["scriptPubKey"]["address"] == json!(address))
            .map(|o| sats(&o["value"]))
            .sum()
    };
    assert_eq!(paid(&a), COIN, "a receives its amount");
    let fee = 2 * COIN - paid(&b);
    assert!(fee > 0 && fee < 100_000, "b pays the fee: {fee}");
    let spent = node.wallet_call("w1", "gettransaction", json!([txid]));
    assert_eq!(-sats(&spent["fee"]), fee);
    // Core's checks.
    let dummy = node.wallet_rpc("w1", "sendmany", json!(["x", {a.clone(): 1.0}]));
    assert!(matches!(dummy, Err(RpcFailure::Rpc { code: -8, .. })), "{dummy:?}");
    let bad = node.wallet_rpc("w1", "sendmany", json!(["", {"nonsense": 1.0}]));
    assert!(matches!(bad, Err(RpcFailure::Rpc { code: -5, .. })), "{bad:?}");
}

#[test]
fn locked_coins_are_not_spent_and_persistent_locks_survive_a_reload() {
    let mut test = TestFramework::new("wallet_locks", 1);
    test.start_all();
    let node = &test.nodes[0];
    funded_wallet(node, "w1");
    let unspent = node.wallet_call("w1", "listunspent", json!([]));
    let coin = json!({"txid": unspent[0]["txid"], "vout": unspent[0]["vout"]});
    let err = |params: Value| match node.wallet_rpc("w1", "lockunspent", params) {
        Err(RpcFailure::Rpc { code, message }) => (code, message),
        other => panic!("expected an error, got {other:?}"),
    };
    assert_eq!(err(json!([true, [coin]])), (-8, "Invalid parameter, expected locked output".to_string()));
    assert_eq!(node.wallet_call("w1", "lockunspent", json!([false, [coin]])), json!(true));
    assert_eq!(err(json!([false, [coin]])), (-8, "Invalid parameter, output already locked".to_string()));
    assert_eq!(node.wallet_call("w1", "listlockunspent", json!([])), json!([coin]));
    // The only spendable coin is locked: nothing to pay with.
    let send = node.wallet_rpc("w1", "sendtoaddress", json!([ELSEWHERE, 1]));
    assert!(matches!(send, Err(RpcFailure::Rpc { code: -6, .. })), "{send:?}");
    // A lock for this load only: gone after unload/load.
    node.call("unloadwallet", json!(["w1"]));
    node.call("loadwallet", json!(["w1"]));
    assert_eq!(node.wallet_call("w1", "listlockunspent", json!([])), json!([]));
    // A persistent one stays, until unlocked.
    node.wallet_call("w1", "lockunspent", json!([false, [coin], true]));
    node.call("unloadwallet", json!(["w1"]));
    node.call("loadwallet", json!(["w1"]));
    assert_eq!(node.wallet_call("w1", "listlockunspent", json!([])), json!([coin]));
    node.wallet_call("w1", "lockunspent", json!([true]));
    assert_eq!(node.wallet_call("w1", "listlockunspent", json!([])), json!([]));
    let zeros = json!({"txid": "00".repeat(32), "vout": 0});
    assert_eq!(err(json!([false, [zeros]])), (-8, "Invalid parameter, unknown transaction".to_string()));
    let far = json!({"txid": unspent[0]["txid"], "vout": 999});
    assert_eq!(err(json!([false, [far]])), (-8, "Invalid parameter, vout index out of bounds".to_string()));
    assert!(node.wallet_call("w1", "sendtoaddress", json!([ELSEWHERE, 1])).is_string());
}

#[test]
fn fallbackfee_zero_refuses_to_guess_a_fee_as_bitcoind() {
    let mut test = TestFramework::new("wallet_fallbackfee", 1);
    test.nodes[0].start(&["-fallbackfee=0"]);
    let node = &test.nodes[0];
    funded_wallet(node, "w1");
    match node.wallet_rpc("w1", "sendtoaddress", json!([ELSEWHERE, 1])) {
        Err(RpcFailure::Rpc { code, message }) => {
            assert_eq!(code, -6);
            assert_eq!(
                message,
                "Fee estimation failed. Fallbackfee is disabled. Wait a few blocks or enable -fallbackfee."
            );
        }
        other => panic!("expected the fee estimation error, got {other:?}"),
    }
    // An explicit fee rate needs no estimate.
    let sent =
        node.wallet_call("w1", "sendtoaddress", json!({"address": ELSEWHERE, "amount": 1, "fee_rate": 2}));
    assert!(sent.is_string(), "{sent}");
}

#[test]
fn backupwallet_writes_a_copy_that_loads_as_the_wallet() {
    let mut test = TestFramework::new("wallet_backup", 1);
    test.start_all();
    let node = &test.nodes[0];
    funded_wallet(node, "w1");
    let backup = test.nodes[0].datadir().join("w1.bak");
    assert_eq!(node.wallet_call("w1", "backupwallet", json!([backup.display().to_string()])), Value::Null);
    // Written again over an existing file, as bitcoind does.
    assert_eq!(node.wallet_call("w1", "backupwallet", json!([backup.display().to_string()])), Value::Null);
    let failed = node.wallet_rpc("w1", "backupwallet", json!(["/nonexistent/dir/w1.bak"]));
    assert!(matches!(failed, Err(RpcFailure::Rpc { code: -4, .. })), "{failed:?}");
    // The copy is a whole wallet: put in place of another wallet's file, it loads with the same coins.
    let wallets = test.nodes[0].chain_datadir().join("wallets");
    std::fs::create_dir_all(wallets.join("restored")).expect("a wallet directory");
    std::fs::copy(&backup, wallets.join("restored").join("wallet.sqlite")).expect("copy the backup");
    node.call("loadwallet", json!(["restored"]));
    assert_eq!(balance(node, "restored"), balance(node, "w1"));
}

#[test]
fn walletnotify_runs_for_new_and_confirmed_transactions() {
    let mut test = TestFramework::new("wallet_walletnotify", 1);
    let out = test.path("notified");
    std::fs::create_dir_all(&out).expect("a directory for the notifications");
    let command = format!("-walletnotify=echo %s %w %b %h >> {}/log", out.display());
    test.nodes[0].start(&[&command]);
    let node = &test.nodes[0];
    funded_wallet(node, "w1");
    let txid =
        node.wallet_call("w1", "sendtoaddress", json!([ELSEWHERE, 1])).as_str().unwrap_or("").to_string();
    let mined = node.call("generatetoaddress", json!([1, ELSEWHERE]))[0].as_str().unwrap_or("").to_string();
    // The commands run on threads of their own: wait for both lines of the payment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let log = std::fs::read_to_string(out.join("log")).unwrap_or_default();
        let lines: Vec<String> = log.lines().filter(|l| l.starts_with(&txid)).map(str::to_string).collect();
        if lines.len() >= 2 || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(lines.contains(&format!("{txid} w1 unconfirmed -1")), "{lines:?}");
    assert!(lines.contains(&format!("{txid} w1 {mined} 102")), "{lines:?}");
}
