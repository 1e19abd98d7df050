//! `NodeChain`, the `interfaces::Chain` a wallet uses: tip, blocks, broadcast into the mempool,
//! RPC registration.

mod common;

use std::sync::Arc;

use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use common::*;
use interfaces::{Chain, ErrorKind, FoundBlockRequest, Rpc, RpcActor, RpcCommand, RpcReply, RpcRequest};
use node::rpc::Dispatcher;
use node::{NodeChain, NodeState};

struct Fixed;

impl RpcActor for Fixed {
    fn execute(&self, _request: RpcRequest) -> interfaces::Result<RpcReply> {
        Ok(RpcReply::result("\"hi\""))
    }
}

#[test]
fn chain_interface() {
    let key = Key::new(1);
    let node = Arc::new(NodeState::new(mature_chain(&key)));
    let dispatcher = Arc::new(Dispatcher::new(node.clone()));
    let chain = NodeChain::new(dispatcher.clone());

    let tip = chain.get_tip().unwrap().unwrap();
    assert_eq!(tip.height, 100);
    assert_eq!(chain.get_block_hash(100).unwrap(), Some(tip.hash));
    assert_eq!(chain.get_block_hash(101).unwrap(), None);
    let found = chain
        .find_block(tip.hash, FoundBlockRequest { want_header: true, want_data: true })
        .unwrap()
        .unwrap();
    assert!(found.in_active_chain && found.next_hash.is_none());
    assert_eq!(found.header.unwrap().len(), 80);
    assert!(found.data.is_some());
    assert_eq!(chain.find_block([7; 32], FoundBlockRequest::default()).unwrap(), None);
    // max_time is the largest header time up to the block (kept in the index, not rescanned).
    let expected_max = (0..=100)
        .map(|h| {
            let hash = chain.get_block_hash(h).unwrap().unwrap();
            chain.find_block(hash, FoundBlockRequest::default()).unwrap().unwrap().time
        })
        .max()
        .unwrap();
    assert_eq!(found.max_time, expected_max);

    let tx = spend(&coinbase_of(&node.lock().chain, 1), &key, key.p2wpkh(), 10_000);
    let txid = chain.broadcast_transaction(serialize(&tx), 0).unwrap();
    assert_eq!(txid, tx.compute_txid().to_byte_array());
    assert!(chain.is_in_mempool(txid).unwrap());
    assert_eq!(chain.broadcast_transaction(serialize(&tx), 0).unwrap(), txid, "again is fine");
    let double = spend(&coinbase_of(&node.lock().chain, 1), &key, key.p2pkh(), 20_000);
    let err = chain.broadcast_transaction(serialize(&double), 0).unwrap_err();
    assert_eq!((err.kind(), err.message()), (ErrorKind::Rejected, "txn-mempool-conflict"));
    let pricey = spend(&coinbase_of(&node.lock().chain, 2), &key, key.p2wpkh(), 10_000);
    assert!(chain.broadcast_transaction(serialize(&pricey), 9_999).is_err());

    node.generate(&key.p2wpkh(), 1).unwrap();
    chain.wait_for_notifications_if_tip_changed(tip.hash).unwrap();
    assert!(!chain.is_in_mempool(txid).unwrap());
    assert_eq!(chain.relay_min_fee().unwrap(), 100);

    let handler = chain
        .handle_rpc(RpcCommand {
            category: "wallet".into(),
            name: "hello".into(),
            arg_names: vec![],
            help: "hello".into(),
            actor: Arc::new(Fixed),
        })
        .unwrap();
    let reply =
        dispatcher.execute_rpc(r#"{"id":1,"method":"hello"}"#.into(), "/".into(), "u".into()).unwrap();
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply, serde_json::json!({"result": "hi", "error": null, "id": 1}));
    drop(handler);
    assert!(!chain.shutdown_requested().unwrap());
}
