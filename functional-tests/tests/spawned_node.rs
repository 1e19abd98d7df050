//! A node spawned by a front end over a socketpair (`<node> -ipcfd N`), as the gui spawns it:
//! the front end starts it through `Node::init`, follows its start-up messages and new tips
//! through callbacks, runs RPCs through `Node::execute_rpc`, and stops it; a front end that
//! vanishes takes the node with it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use functional_tests::{binary, wait_until, Binary};
use interfaces::Node;

/// Somewhere to mine to that belongs to no wallet.
const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

fn spawn(ipc: &ipc::Ipc, datadir: &std::path::Path) -> ipc::SpawnedProcess {
    // A port nothing listens on now (the node's RPC server is not what is tested here).
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
    // -listen=0: no P2P port shared with nodes of other tests.
    let args = [
        format!("-datadir={}", datadir.display()).into(),
        format!("-rpcport={port}").into(),
        "-listen=0".into(),
    ];
    ipc.spawn(&binary(Binary::Node), &args).expect("the node starts and serves its Init")
}

fn rpc(node: &dyn Node, method: &str, params: serde_json::Value) -> serde_json::Value {
    let request = serde_json::json!({"method": method, "params": params, "id": 1}).to_string();
    let reply = node.execute_rpc(request, "/".into()).expect("execute_rpc");
    let reply: serde_json::Value = serde_json::from_str(&reply).expect("a JSON reply");
    assert!(reply["error"].is_null(), "{method}: {reply}");
    reply["result"].clone()
}

#[test]
fn a_front_end_starts_follows_and_stops_its_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ipc = ipc::Ipc::new().expect("event loop");
    let ipc::SpawnedProcess { init, connection, child } = spawn(&ipc, dir.path());
    let node = init.make_node().expect("make_node");
    let messages = Arc::new(Mutex::new(Vec::new()));
    let seen = messages.clone();
    let _messages = node
        .handle_init_message(Box::new(move |message| {
            seen.lock().expect("lock").push(message);
            Ok(())
        }))
        .expect("subscribe to init messages");
    let tips = Arc::new(Mutex::new(Vec::new()));
    let seen = tips.clone();
    let _tips = node
        .handle_notify_block_tip(Box::new(move |tip| {
            seen.lock().expect("lock").push(tip.height);
            Ok(())
        }))
        .expect("subscribe to tips");
    assert!(node.get_block_count().is_err(), "not started before init");

    node.init().expect("the node starts");
    let said = messages.lock().expect("lock").clone();
    assert!(said.iter().any(|m| m.starts_with("Loading block index")), "{said:?}");
    assert_eq!(said.last().map(String::as_str), Some("Done loading"), "{said:?}");
    assert_eq!(node.get_block_count().expect("count"), 0);
    assert!(node.list_rpc_commands().expect("commands").iter().any(|c| c == "getblockcount"));

    rpc(&*node, "generatetoaddress", serde_json::json!([3, ELSEWHERE]));
    // The node tells the new tip after each batch of blocks it connects (not necessarily after
    // each block): heights only go up, and the last one is the tip.
    wait_until("the tip notification for height 3", Duration::from_secs(10), || {
        tips.lock().expect("lock").last() == Some(&3)
    });
    let seen = tips.lock().expect("lock").clone();
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "{seen:?}");
    assert_eq!(node.get_block_count().expect("count"), 3);

    // Every loaded wallet as objects (in the multiprocess pass: from the wallet process, through
    // the node, to here).
    rpc(&*node, "createwallet", serde_json::json!(["w1"]));
    rpc(&*node, "createwallet", serde_json::json!(["w2"]));
    let wallets = node.wallet_loader().expect("wallets").get_wallets().expect("get_wallets");
    let names: Vec<String> = wallets.iter().map(|w| w.get_wallet_name().expect("name")).collect();
    assert_eq!(names, ["w1", "w2"]);
    assert!(wallets[1].get_new_address(String::new()).expect("an address").starts_with("bcrt1"));
    drop(wallets);

    node.shutdown().expect("the node stops");
    drop((_messages, _tips, node, init));
    connection.disconnect();
    let status = child.wait().expect("the node exits");
    assert!(status.success(), "{status}");
}

#[test]
fn a_vanished_front_end_takes_its_node_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ipc = ipc::Ipc::new().expect("event loop");
    let ipc::SpawnedProcess { init, connection, child } = spawn(&ipc, dir.path());
    let node = init.make_node().expect("make_node");
    node.init().expect("the node starts");
    rpc(&*node, "generatetoaddress", serde_json::json!([1, ELSEWHERE]));
    drop((node, init));
    connection.disconnect(); // as if the front end died
    let status = child.wait().expect("the node exits");
    assert!(status.success(), "a clean stop: {status}");
    // Its datadir is free again, and the block is there.
    let ipc::SpawnedProcess { init, connection, child } = spawn(&ipc, dir.path());
    let node = init.make_node().expect("make_node");
    node.init().expect("starts again on the same datadir");
    assert_eq!(node.get_block_count().expect("count"), 1);
    node.shutdown().expect("stop");
    drop((node, init));
    connection.disconnect();
    assert!(child.wait().expect("exit").success());
}
