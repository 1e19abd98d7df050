//! The mempool across restarts and its options, through the real node: `mempool.dat` written at
//! shutdown and read at start (`-persistmempool`, on by default), `savemempool` /
//! `importmempool`, and `-maxmempool` / `-minrelaytxfee` in `getmempoolinfo`, as bitcoind.

use functional_tests::{TestFramework, TestNode};
use serde_json::{json, Value};

const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

fn pool(node: &TestNode) -> Vec<String> {
    let mut txids: Vec<String> = node
        .call("getrawmempool", json!([]))
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    txids.sort();
    txids
}

#[test]
fn the_mempool_survives_a_restart_and_moves_between_files() {
    let mut test = TestFramework::new("mempool_persist", 1);
    test.start_all();
    let sent: Vec<String> = {
        let node = &test.nodes[0];
        node.call("createwallet", json!(["w"]));
        let address = node.wallet_call("w", "getnewaddress", json!([]));
        node.call("generatetoaddress", json!([103, address]));
        let mut sent: Vec<String> = (0..3)
            .map(|_| {
                node.wallet_call("w", "sendtoaddress", json!([ELSEWHERE, 1]))
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        sent.sort();
        assert_eq!(pool(node), sent);
        node.call("prioritisetransaction", json!([sent[0], 0, 1234]));
        let info = node.call("getmempoolinfo", json!([]));
        assert_eq!(info["maxmempool"], json!(300_000_000));
        assert_eq!(info["minrelaytxfee"].to_string(), "0.00000100", "Core's current default");
        sent
    };

    // Restart: the pool comes back from mempool.dat, with its fee delta.
    test.nodes[0].stop();
    assert!(test.nodes[0].chain_datadir().join("mempool.dat").is_file());
    test.nodes[0].start(&[]);
    {
        let node = &test.nodes[0];
        assert_eq!(pool(node), sent);
        let entry = node.call("getmempoolentry", json!([sent[0]]));
        assert_ne!(entry["fees"]["modified"], entry["fees"]["base"], "the prioritisation came back: {entry}");
        assert!(node
            .debug_log()
            .contains("Imported mempool transactions from file: 3 succeeded, 0 failed, 0 expired"));
        // savemempool names the file it wrote.
        let saved = node.call("savemempool", json!([]));
        let file = saved["filename"].as_str().unwrap_or_default().to_string();
        assert!(file.ends_with("mempool.dat"), "{saved}");
        std::fs::copy(&file, test.nodes[0].datadir().join("copy.dat")).expect("copy the saved pool");
    }

    // Without -persistmempool the pool starts empty; importmempool brings a saved one back.
    test.nodes[0].stop();
    test.nodes[0].start(&["-persistmempool=0", "-maxmempool=5", "-minrelaytxfee=0.00001"]);
    let node = &test.nodes[0];
    assert!(pool(node).is_empty());
    let info = node.call("getmempoolinfo", json!([]));
    assert_eq!(info["maxmempool"], json!(5_000_000));
    assert_eq!(info["minrelaytxfee"].to_string(), "0.00001000");
    let copy = node.datadir().join("copy.dat");
    assert_eq!(node.call("importmempool", json!([copy.display().to_string()])), json!({}));
    assert_eq!(pool(node), sent);
    let bad = node.rpc("importmempool", json!(["/nonexistent/mempool.dat"]));
    assert!(matches!(bad, Err(functional_tests::RpcFailure::Rpc { code: -1, .. })), "{bad:?}");
    let _: Value = node.call("generatetoaddress", json!([1, ELSEWHERE]));
    assert!(pool(node).is_empty());
}
