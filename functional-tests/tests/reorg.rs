//! Reorganisations through the real node: `invalidateblock` / `reconsiderblock` (Bitcoin Core's
//! tests force reorgs with them), side branches, the mempool taking transactions back, a wallet
//! (in process, or in its own process with MPX_TEST_MULTIPROCESS=1) following the tip down and
//! up again, and invalidations kept across a restart.

use functional_tests::{TestFramework, TestNode};
use serde_json::{json, Value};

/// Mined to nobody's wallet.
const ELSEWHERE: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

fn count(node: &TestNode) -> u64 {
    node.call("getblockcount", json!([])).as_u64().expect("a height")
}

fn mempool(node: &TestNode) -> Vec<String> {
    let pool = node.call("getrawmempool", json!([]));
    pool.as_array()
        .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn tips(node: &TestNode) -> Vec<(u64, String)> {
    let tips = node.call("getchaintips", json!([]));
    tips.as_array()
        .map(|a| {
            a.iter()
                .map(|t| {
                    (t["branchlen"].as_u64().unwrap_or(99), t["status"].as_str().unwrap_or("").to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn confirmations(node: &TestNode, txid: &Value) -> i64 {
    node.wallet_call("w", "gettransaction", json!([txid]))["confirmations"].as_i64().expect("confirmations")
}

#[test]
fn invalidating_a_block_returns_its_transactions_and_the_wallet_follows() {
    let mut test = TestFramework::new("reorg_invalidate", 1);
    test.start_all();
    let node = &test.nodes[0];
    node.call("createwallet", json!(["w"]));
    let address = node.wallet_call("w", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, address]));
    let txid = node.wallet_call("w", "sendtoaddress", json!([ELSEWHERE, 1.5]));
    let mined = node.call("generatetoaddress", json!([1, ELSEWHERE]))[0].clone();
    assert_eq!(confirmations(node, &txid), 1);
    assert!(mempool(node).is_empty());

    // Take the block off: the payment is back in the mempool, unconfirmed in the wallet.
    assert_eq!(node.call("invalidateblock", json!([mined])), Value::Null);
    assert_eq!(count(node), 101);
    assert_eq!(mempool(node), [txid.as_str().unwrap_or_default().to_string()]);
    node.call("syncwithvalidationinterfacequeue", json!([]));
    assert_eq!(confirmations(node, &txid), 0);
    assert_eq!(tips(node), [(0, "active".to_string()), (1, "invalid".to_string())]);
    let (code, _) = match node.rpc("invalidateblock", json!(["00".repeat(32)])) {
        Err(functional_tests::RpcFailure::Rpc { code, message }) => (code, message),
        other => panic!("expected an error, got {other:?}"),
    };
    assert_eq!(code, -5, "Block not found");

    // A block mined meanwhile is on another branch; reconsidering the old one does not displace
    // it (equal work: the active block stays), one more block on the old branch does.
    // (Paid elsewhere: the same coinbase in the same second would rebuild the invalid block.)
    node.call("generatetoaddress", json!([1, "bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5"]));
    assert!(mempool(node).is_empty(), "mined again in the new block");
    assert_eq!(node.call("reconsiderblock", json!([mined])), Value::Null);
    assert_eq!(count(node), 102);
    assert_ne!(node.call("getbestblockhash", json!([])), mined);
    assert_eq!(tips(node), [(0, "active".to_string()), (1, "valid-fork".to_string())]);
    node.call("syncwithvalidationinterfacequeue", json!([]));
    assert_eq!(confirmations(node, &txid), 1);
}

#[test]
fn side_branches_take_over_by_work_and_invalidations_survive_a_restart() {
    let mut test = TestFramework::new("reorg_branches", 1);
    test.start_all();
    let node = &test.nodes[0];
    node.call("generatetoaddress", json!([10, ELSEWHERE]));
    let fork_point = node.call("getblockhash", json!([8]));
    let old_nine = node.call("getblockhash", json!([9]));
    let old_ten = node.call("getbestblockhash", json!([]));

    // Build a rival branch from height 8: invalidate 9, mine 3 (heights 9..11), keep their hex.
    node.call("invalidateblock", json!([old_nine]));
    assert_eq!(node.call("getbestblockhash", json!([])), fork_point);
    let rival = node.call("generatetoaddress", json!([3, "bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5"]));
    let rival_hex: Vec<Value> = rival
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|h| node.call("getblock", json!([h, 0])))
        .collect();
    assert_eq!(count(node), 11);

    // Back to the old branch: reconsider it, and take the rival's first block off.
    node.call("reconsiderblock", json!([old_nine]));
    node.call("invalidateblock", json!([rival[0]]));
    assert_eq!(node.call("getbestblockhash", json!([])), old_ten);
    node.call("reconsiderblock", json!([rival[0]]));
    assert_eq!(count(node), 11, "the rival branch has more work: it is active again");

    // Submitting known blocks: duplicate.
    assert_eq!(node.call("submitblock", json!([rival_hex[2]])), json!("duplicate"));

    // An invalidation survives a restart.
    node.call("invalidateblock", json!([rival[1]]));
    assert_eq!(node.call("getbestblockhash", json!([])), old_ten);
    let mut test = test;
    test.nodes[0].stop();
    test.nodes[0].start(&[]);
    let node = &test.nodes[0];
    assert_eq!(node.call("getbestblockhash", json!([])), old_ten);
    let statuses: Vec<String> = tips(node).into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, ["active", "invalid"]);
    node.call("reconsiderblock", json!([rival[1]]));
    assert_eq!(node.call("getbestblockhash", json!([])), rival[2]);
}
