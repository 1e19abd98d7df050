//! `kill -9` at any moment loses nothing that was acknowledged and never corrupts the data:
//! the node restarts at a tip at least as high as the last block an RPC call returned, with a
//! chain that validates (it is re-validated at every start) and keeps growing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use functional_tests::{RpcEndpoint, TestFramework};
use serde_json::json;

const ADDRESS: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

#[test]
fn kill_9_while_mining_keeps_every_acknowledged_block() {
    let mut test = TestFramework::new("kill_mining", 1);
    let node = &mut test.nodes[0];
    node.start(&[]);
    // Different kill points: at once (possibly mid-batch), after one batch, after several.
    for batches in [0u64, 1, 4] {
        let before = node.call("getblockcount", json!([])).as_u64().unwrap();
        let acknowledged = Arc::new(AtomicU64::new(before));
        let miner = {
            let (endpoint, acknowledged) = (node.endpoint(), acknowledged.clone());
            std::thread::spawn(move || mine_until_error(&endpoint, &acknowledged))
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while acknowledged.load(Ordering::SeqCst) < before + 5 * batches {
            assert!(Instant::now() < deadline, "mining made no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        node.kill();
        miner.join().unwrap();

        node.start(&[]);
        let height = node.call("getblockcount", json!([])).as_u64().unwrap();
        let acked = acknowledged.load(Ordering::SeqCst);
        assert!(height >= acked, "restarted at {height}, but {acked} blocks were acknowledged");
        if batches > 0 {
            assert!(height > before);
        }
        let info = node.call("getblockchaininfo", json!([]));
        assert_eq!(info["blocks"], json!(height));
        assert_eq!(info["bestblockhash"], node.call("getblockhash", json!([height])));
        node.call("generatetoaddress", json!([1, ADDRESS]));
        assert_eq!(node.call("getblockcount", json!([])), json!(height + 1));
    }
}

/// Mines 5 blocks per call until a call fails (the node was killed), recording the height each
/// successful call reached.
fn mine_until_error(node: &RpcEndpoint, acknowledged: &AtomicU64) {
    while node.call("generatetoaddress", json!([5, ADDRESS])).is_ok_and(|hashes| hashes.is_array()) {
        acknowledged.fetch_add(5, Ordering::SeqCst);
    }
}
