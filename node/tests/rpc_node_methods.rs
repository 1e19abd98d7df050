//! Built-in methods whose behaviour lives in the node's internals, checked against real node
//! state: `syncwithvalidationinterfacequeue` waits for deliveries in flight, `setmocktime`
//! moves the clock validation reads, `generatetoaddress` has no block cap, the mempool's
//! ancestry and `bip125-replaceable` answer in one voice, and `getblock 2` shows fees.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::{Address, Network, Sequence};
use interfaces::{BlockInfo, ChainNotifications, MempoolRemovalReason};
use node::rpc::Dispatcher;
use node::NodeState;
use serde_json::{json, Value};

fn call(d: &Dispatcher, method: &str, params: Value) -> Result<Value, (i64, String)> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let reply: Value = serde_json::from_str(&d.execute(&body, "/", "test").body).unwrap();
    match reply.get("error") {
        Some(e) => Err((e["code"].as_i64().unwrap(), e["message"].as_str().unwrap().to_string())),
        None => Ok(reply["result"].clone()),
    }
}

fn ok(d: &Dispatcher, method: &str, params: Value) -> Value {
    call(d, method, params.clone()).unwrap_or_else(|e| panic!("{method} {params}: {e:?}"))
}

fn address(key: &common::Key) -> String {
    Address::from_script(&key.p2wpkh(), Network::Regtest).unwrap().to_string()
}

/// Takes its time over every block, then says it has seen it.
#[derive(Default)]
struct Slow {
    done: AtomicBool,
}

impl ChainNotifications for Slow {
    fn transaction_added_to_mempool(&self, _tx: Vec<u8>) -> interfaces::Result<()> {
        Ok(())
    }
    fn transaction_removed_from_mempool(
        &self,
        _: [u8; 32],
        _: MempoolRemovalReason,
    ) -> interfaces::Result<()> {
        Ok(())
    }
    fn block_connected(&self, _block: BlockInfo) -> interfaces::Result<()> {
        std::thread::sleep(Duration::from_millis(400));
        self.done.store(true, Ordering::SeqCst);
        Ok(())
    }
    fn block_disconnected(&self, _block: BlockInfo) -> interfaces::Result<()> {
        Ok(())
    }
    fn updated_block_tip(&self) -> interfaces::Result<()> {
        Ok(())
    }
}

#[test]
fn syncwithvalidationinterfacequeue_waits_for_a_delivery_in_flight() {
    let node = Arc::new(NodeState::new(common::chain()));
    let slow = Arc::new(Slow::default());
    let _handler = node.handle_notifications(slow.clone());
    let d = Dispatcher::new(node.clone());
    let miner = {
        let node = node.clone();
        std::thread::spawn(move || node.generate(&common::Key::new(1).p2wpkh(), 1).unwrap())
    };
    // The block is connected (the tip moved) while its notification is still being delivered.
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.lock().chain.height() == 0 {
        assert!(Instant::now() < deadline, "the block was never connected");
        std::thread::yield_now();
    }
    assert!(!slow.done.load(Ordering::SeqCst), "the subscriber is still busy");
    assert_eq!(ok(&d, "syncwithvalidationinterfacequeue", json!([])), Value::Null);
    assert!(slow.done.load(Ordering::SeqCst), "sync returned before the notification was delivered");
    miner.join().unwrap();
    // Nothing queued: it returns at once.
    let start = Instant::now();
    ok(&d, "syncwithvalidationinterfacequeue", json!([]));
    assert!(start.elapsed() < Duration::from_millis(300));
}

#[test]
fn setmocktime_moves_block_times_and_the_future_time_rule() {
    let node = Arc::new(NodeState::new(common::chain()));
    let d = Dispatcher::new(node.clone());
    let to = address(&common::Key::new(1));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let later = now + 3 * 3600;

    // A block made three hours ahead is too far in the future for the real clock...
    assert_eq!(ok(&d, "setmocktime", json!([later])), Value::Null);
    let made = ok(&d, "generateblock", json!([to, [], false]));
    let hash = made["hash"].as_str().unwrap().to_string();
    ok(&d, "setmocktime", json!([0]));
    assert_eq!(ok(&d, "submitblock", json!([made["hex"]])), json!("time-too-new"));
    // ...and fine once the clock is there too; its time is the mocked one.
    ok(&d, "setmocktime", json!([later]));
    assert_eq!(ok(&d, "submitblock", json!([made["hex"]])), Value::Null);
    assert_eq!(ok(&d, "getblockheader", json!([hash]))["time"], json!(later));
    assert_eq!(ok(&d, "submitblock", json!([made["hex"]])), json!("duplicate"));
    let mined = ok(&d, "generatetoaddress", json!([1, to]));
    assert_eq!(
        ok(&d, "getblockheader", json!([mined[0]]))["time"],
        json!(later + 1),
        "after the median time past"
    );
    // uptime stays real.
    assert!(ok(&d, "uptime", json!([])).as_u64().unwrap() < 600);

    assert_eq!(
        call(&d, "setmocktime", json!([-1])),
        Err((-8, "Mocktime must be in the range [0, 4294967295], not -1.".into()))
    );
    assert_eq!(call(&d, "setmocktime", json!([])).unwrap_err().0, -1);
}

#[test]
fn generatetoaddress_has_no_block_cap() {
    let node = Arc::new(NodeState::new(common::chain()));
    let d = Dispatcher::new(node.clone());
    let hashes = ok(&d, "generatetoaddress", json!([10_001, address(&common::Key::new(1))]));
    assert_eq!(hashes.as_array().map(Vec::len), Some(10_001));
    assert_eq!(ok(&d, "getblockcount", json!([])), json!(10_001));
}

#[test]
fn mempool_entries_show_ancestry_replaceability_and_block_fees() {
    let mut chain = common::chain();
    let key = common::Key::new(1);
    common::mine(&mut chain, 101, &key.p2wpkh());
    let node = Arc::new(NodeState::new(chain));
    let d = Dispatcher::new(node.clone());
    let funding = common::coinbase_of(&node.lock().chain, 1);
    // The parent signals BIP125; the child does not, but inherits it from its parent.
    let mut parent = common::unsigned(&[funding.0], vec![common::out(49_0000_0000, key.p2wpkh())]);
    parent.input[0].sequence = Sequence::ENABLE_RBF_NO_LOCKTIME;
    common::sign_p2wpkh(&mut parent, std::slice::from_ref(&funding.1), &key);
    let parent_out = (common::outpoint(&parent, 0), parent.output[0].clone());
    let mut child = common::unsigned(&[parent_out.0], vec![common::out(48_9999_0000, key.p2wpkh())]);
    child.input[0].sequence = Sequence::MAX;
    common::sign_p2wpkh(&mut child, std::slice::from_ref(&parent_out.1), &key);
    let hex = |tx: &bitcoin::Transaction| bitcoin::consensus::encode::serialize_hex(tx);
    let parent_id = ok(&d, "sendrawtransaction", json!([hex(&parent), 0]));
    let child_id = ok(&d, "sendrawtransaction", json!([hex(&child)]));

    let entry = ok(&d, "getmempoolentry", json!([child_id]));
    let keys: Vec<&str> = entry.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "vsize",
            "weight",
            "time",
            "height",
            "descendantcount",
            "descendantsize",
            "ancestorcount",
            "ancestorsize",
            "wtxid",
            "chunkweight",
            "fees",
            "depends",
            "spentby",
            "unbroadcast",
            "bip125-replaceable"
        ]
    );
    assert_eq!(entry["ancestorcount"], json!(2));
    assert_eq!(entry["descendantcount"], json!(1));
    assert_eq!(entry["depends"], json!([parent_id]));
    assert_eq!(entry["fees"]["base"].to_string(), "0.00010000");
    assert_eq!(entry["fees"]["ancestor"].to_string(), "1.00010000");
    assert_eq!(entry["bip125-replaceable"], json!(true), "inherited from the parent");
    let parent_entry = ok(&d, "getmempoolentry", json!([parent_id]));
    assert_eq!(parent_entry["spentby"], json!([child_id]));
    assert_eq!(parent_entry["descendantcount"], json!(2));
    let verbose = ok(&d, "getrawmempool", json!([true]));
    assert_eq!(verbose[child_id.as_str().unwrap()], entry, "one answer in both places");
    assert_eq!(
        call(&d, "getmempoolentry", json!(["00".repeat(32)])),
        Err((-5, "Transaction not in mempool".into()))
    );

    let block = ok(&d, "generatetoaddress", json!([1, address(&key)]));
    let shown = ok(&d, "getblock", json!([block[0], 2]));
    assert!(shown["tx"][0].get("fee").is_none(), "a coinbase has no fee");
    assert_eq!(shown["tx"][1]["fee"].to_string(), "1.00000000");
    assert_eq!(shown["tx"][2]["fee"].to_string(), "0.00010000");
    assert_eq!(shown["tx"][2]["hex"], json!(hex(&child)));
    let spk = &shown["tx"][2]["vout"][0]["scriptPubKey"];
    assert_eq!(spk["asm"], json!(format!("0 {}", &spk["hex"].as_str().unwrap()[4..])));
    assert!(spk["desc"].as_str().unwrap().starts_with(&format!("addr({})#", address(&key))), "{spk}");
    let with_prevouts = ok(&d, "getblock", json!([block[0], 3]));
    assert_eq!(with_prevouts["tx"][2]["vin"][0]["prevout"]["value"].to_string(), "49.00000000");
    assert_eq!(with_prevouts["tx"][1]["vin"][0]["prevout"]["generated"], json!(true));
}

/// Named arguments by bitcoind's rules (Core's rpc_named_arguments and interface_bitcoin_cli):
/// an explicit null counts, holes before a given name are nulls, `args` carries positional ones.
#[test]
fn named_arguments_follow_bitcoinds_rules() {
    let d = Dispatcher::new(Arc::new(NodeState::new(common::chain())));
    assert_eq!(ok(&d, "echojson", json!({"arg9": null})), Value::Array(vec![Value::Null; 10]));
    assert_eq!(ok(&d, "echojson", json!({"arg1": 5})), json!([null, 5]));
    assert_eq!(ok(&d, "echojson", json!({})), json!([]));
    assert_eq!(ok(&d, "echojson", json!({"args": [["data=test"], 42]})), json!([["data=test"], 42]));
    assert_eq!(
        ok(&d, "echojson", json!({"args": [0, 1], "arg3": 3, "arg5": 5})),
        json!([0, 1, null, 3, null, 5])
    );
    assert_eq!(
        call(&d, "echojson", json!({"args": [0, 1], "arg1": 3})),
        Err((-8, "Parameter arg1 specified twice both as positional and named argument".to_string()))
    );
    assert_eq!(
        call(&d, "echojson", json!({"nope": 1})),
        Err((-8, "Unknown named parameter nope".to_string()))
    );
}
