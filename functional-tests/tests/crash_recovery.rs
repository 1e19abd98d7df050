//! `kill -9` at any moment loses nothing that was acknowledged and never corrupts the data:
//! the node restarts at a tip at least as high as the last block an RPC call returned, with a
//! chain that validates (it is re-validated at every start) and keeps growing.
//!
//! Damage a crash cannot cause (a flipped byte in the middle of `blocks/blocks.dat`) is never
//! repaired by dropping blocks: the node refuses to start until it is run with `-reindex`.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use functional_tests::{binary, die_with_parent, Binary, RpcEndpoint, TestFramework, TestNode};
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

/// Offsets of the records of a block file (magic, length u32 LE, checksum, payload).
fn record_offsets(data: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = 0usize;
    while pos + 12 <= data.len() {
        offsets.push(pos);
        let len = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().unwrap());
        pos += 12 + len as usize;
    }
    offsets
}

/// Every file under `dir` with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(snapshot(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            files.push((path, bytes));
        }
    }
    files.sort();
    files
}

/// Runs `mpx-node` on `node`'s datadir with `args` and returns how it ended; stops it should it
/// have started after all, so no daemon outlives the test.
fn run_node(node: &TestNode, args: &[&str]) -> Output {
    let mut command = Command::new(binary(Binary::Node));
    command.args(node.node_args()).args(args);
    die_with_parent(&mut command);
    let output = command.output().unwrap();
    if output.status.success() {
        let _ = node.rpc("stop", json!([]));
    }
    output
}

#[test]
fn a_corrupt_block_file_refuses_to_start_until_reindex() {
    let mut test = TestFramework::new("corrupt_blocks", 1);
    let node = &mut test.nodes[0];
    node.start(&[]);
    node.call("createwallet", json!(["w"]));
    let address = node.wallet_call("w", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([30, address]));
    node.stop();

    // One byte flipped inside the block at height 16.
    let blocks = node.chain_datadir().join("blocks");
    let path = blocks.join("blocks.dat");
    let mut data = std::fs::read(&path).unwrap();
    let offsets = record_offsets(&data);
    assert_eq!(offsets.len(), 30);
    let damaged = offsets[15];
    data[damaged + 40] ^= 0x01;
    std::fs::write(&path, &data).unwrap();
    let wallets = snapshot(&node.chain_datadir().join("wallets"));

    // Refused, in the foreground and through -daemon (whose parent prints the child's line):
    // exit status 1 and one line naming the file and the offset and the way out.
    let expected_start =
        format!("Error: Corrupted block database detected: {} at byte offset {damaged}: ", path.display());
    for args in [&["-wallet=w"][..], &["-daemon", "-wallet=w"]] {
        let output = run_node(node, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.starts_with(&expected_start), "{args:?}: {stderr}");
        assert!(stderr.contains("Please restart with -reindex"), "{args:?}: {stderr}");
    }
    assert!(node.debug_log().contains("Corrupted block database detected"));
    // Nothing was changed: not the block file, not the wallet (it was never loaded).
    assert_eq!(std::fs::read(&path).unwrap(), data, "the block file is unchanged byte for byte");
    assert_eq!(snapshot(&node.chain_datadir().join("wallets")), wallets);

    // -reindex: the 15 blocks before the damaged one; the original file kept aside.
    node.start(&["-reindex", "-wallet=w"]);
    assert_eq!(node.call("getblockcount", json!([])), json!(15));
    let aside: Vec<_> = std::fs::read_dir(&blocks)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("blocks.dat.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), data, "the set-aside file is the original");
    assert_eq!(std::fs::read(&path).unwrap(), &data[..damaged]);
    let log = node.debug_log();
    assert!(log.contains("Reindex: kept 15 blocks"), "{log}");
    assert!(
        log.contains("1 damaged stretch(es)") && log.contains("14 intact block(s) that no longer connect"),
        "{log}"
    );
    // The wallet follows the rebuilt chain: 15 immature coinbases.
    let balances = node.wallet_call("w", "getbalances", json!([]));
    assert_eq!(balances["mine"]["immature"].to_string(), "750.00000000");

    // From now on a plain start works, and the chain grows again.
    node.stop();
    node.start(&[]);
    assert_eq!(node.call("getblockcount", json!([])), json!(15));
    node.call("generatetoaddress", json!([1, ADDRESS]));
    assert_eq!(node.call("getblockcount", json!([])), json!(16));
}
