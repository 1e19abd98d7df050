//! `NodeInit` and the `Node` it makes, driven as a front end drives them: subscribe, init,
//! watch the tip, run RPC commands, shut down.

use std::sync::{Arc, Mutex};

use interfaces::{ErrorKind, Init};
use node::interface::NodeInit;

const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

fn config(datadir: &std::path::Path) -> config::Config {
    // Port 0 is not a valid -rpcport: take one the OS says is free.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // -listen=0: no P2P port to collide with another node on this machine.
    let args =
        [format!("-datadir={}", datadir.display()), format!("-rpcport={port}"), "-listen=0".to_string()];
    match config::parse(config::Program::Node, args) {
        Ok(config::Action::Run(config)) => *config,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_front_end_drives_the_node_through_its_interfaces() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    std::fs::create_dir_all(&config.chain_datadir).unwrap();
    let init = NodeInit::new(config, None);
    let node = init.make_node().unwrap();

    // Before init: subscriptions work, queries say why they cannot answer.
    let messages = Arc::new(Mutex::new(Vec::new()));
    let seen = messages.clone();
    let _messages_handler = node
        .handle_init_message(Box::new(move |m| {
            seen.lock().unwrap().push(m);
            Ok(())
        }))
        .unwrap();
    let tips = Arc::new(Mutex::new(Vec::new()));
    let seen = tips.clone();
    let tip_handler = node
        .handle_notify_block_tip(Box::new(move |tip| {
            seen.lock().unwrap().push(tip.height);
            Ok(())
        }))
        .unwrap();
    assert_eq!(node.get_block_count().unwrap_err().kind(), ErrorKind::Unavailable);
    assert_eq!(init.make_chain().err().map(|e| e.kind()), Some(ErrorKind::Unavailable));

    node.init().unwrap();
    assert_eq!(node.init().unwrap_err().kind(), ErrorKind::AlreadyExists);
    assert_eq!(messages.lock().unwrap().first().map(String::as_str), Some("Loading block index…"));
    assert_eq!(messages.lock().unwrap().last().map(String::as_str), Some("Done loading"));

    // The console path: a JSON-RPC request in, the response text out.
    let reply = node
        .execute_rpc(
            format!(r#"{{"method":"generatetoaddress","params":[2,"{ADDRESS}"],"id":7}}"#),
            "/".into(),
        )
        .unwrap();
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["id"], 7);
    assert_eq!(reply["result"].as_array().map(Vec::len), Some(2));
    assert_eq!(node.get_block_count().unwrap(), 2);
    assert_eq!(*tips.lock().unwrap(), vec![2], "one tip notification per generate call");
    let chain = init.make_chain().unwrap();
    assert_eq!(chain.get_tip().unwrap().map(|t| t.hash), Some(node.get_best_block_hash().unwrap()));
    assert!(node.get_last_block_time().unwrap() > 1_600_000_000);
    assert_eq!(node.get_mempool_size().unwrap(), 0);
    assert!(node.list_rpc_commands().unwrap().iter().any(|m| m == "getblockchaininfo"));
    assert_eq!(node.wallet_loader().err().map(|e| e.kind()), Some(ErrorKind::Unavailable));
    assert_eq!(init.make_echo().unwrap().echo("hi".into()).unwrap(), "hi");
    assert!(init.make_mining().unwrap().is_test_chain().unwrap());
    let rpc = init.make_rpc().unwrap();
    let count =
        rpc.execute_rpc(r#"{"method":"getblockcount","id":1}"#.into(), "/".into(), "".into()).unwrap();
    assert!(count.contains("\"result\":2"), "{count}");

    // A dropped handler is not called again.
    drop(tip_handler);
    node.execute_rpc(format!(r#"{{"method":"generatetoaddress","params":[1,"{ADDRESS}"]}}"#), "/".into())
        .unwrap();
    assert_eq!(*tips.lock().unwrap(), vec![2]);

    assert!(!node.shutdown_requested().unwrap());
    node.start_shutdown().unwrap();
    assert!(node.shutdown_requested().unwrap());
    node.shutdown().unwrap();
    assert_eq!(node.get_block_count().unwrap_err().kind(), ErrorKind::Unavailable);
}
