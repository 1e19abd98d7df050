//! Mining to a wallet, sending between wallets through the mempool into a block, fees, coinbase
//! maturity, and the send errors.

mod common;

use common::*;
use interfaces::{Chain, FoundBlockRequest};
use serde_json::json;

#[test]
fn mine_101_blocks_then_send_to_a_second_wallet() {
    let env = Env::new();
    let address = env.funded("w1");
    assert!(address.starts_with("bcrt1q"), "{address}");
    assert_eq!(env.call("w1", "getbalance", json!([])).to_string(), "50.00000000");
    let b = env.call("w1", "getbalances", json!([]));
    assert_eq!(sats(&b["mine"]["trusted"]), 50 * COIN);
    assert_eq!(sats(&b["mine"]["untrusted_pending"]), 0);
    assert_eq!(sats(&b["mine"]["immature"]), 100 * 50 * COIN);
    assert_eq!(b["lastprocessedblock"]["height"], json!(101));
    let tip = env.node.lock().chain.tip().to_string();
    assert_eq!(b["lastprocessedblock"]["hash"], json!(tip));

    let unspent = env.call("w1", "listunspent", json!([]));
    assert_eq!(unspent.as_array().unwrap().len(), 1, "{unspent}");
    assert_eq!(unspent[0]["address"], json!(address));
    assert_eq!(unspent[0]["confirmations"], json!(101));
    assert_eq!(unspent[0]["amount"].to_string(), "50.00000000");
    assert_eq!(unspent[0]["spendable"], json!(true));
    assert_eq!(unspent[0]["safe"], json!(true));

    env.create("w2");
    let to = env.new_address("w2");
    let txid = env.call("w1", "sendtoaddress", json!([to, 10]));
    let txid = txid.as_str().unwrap().to_string();
    assert_eq!(env.mempool(), vec![txid.clone()]);
    let chain = env.chain();
    let raw: [u8; 32] = interfaces::hash_from_hex(&txid).unwrap();
    assert!(chain.is_in_mempool(raw).unwrap());

    // Unconfirmed: the receiver's is untrusted, the sender's change is trusted.
    let b2 = env.call("w2", "getbalances", json!([]));
    assert_eq!(sats(&b2["mine"]["untrusted_pending"]), 10 * COIN);
    assert_eq!(sats(&b2["mine"]["trusted"]), 0);
    let tx = env.call("w1", "gettransaction", json!([txid]));
    let fee = -sats(&tx["fee"]);
    assert!(fee > 0 && fee < 100_000, "{tx}");
    assert_eq!(sats(&tx["amount"]), -10 * COIN);
    assert_eq!(tx["confirmations"], json!(0));
    assert_eq!(tx["trusted"], json!(true));
    assert_eq!(tx["details"][0]["category"], json!("send"));
    assert_eq!(tx["details"][0]["address"], json!(to));
    // Fallback fee, 20 sat/vB: a 1-in 2-out P2WPKH transaction is ~141 vB.
    assert!((2_700..=3_000).contains(&fee), "fee {fee}");
    assert_eq!(env.balance("w1"), 40 * COIN - fee);
    assert_eq!(env.balance("w2"), 0, "untrusted pending is not in getbalance");

    env.mine(1);
    assert!(env.mempool().is_empty());
    assert_eq!(env.balance("w2"), 10 * COIN);
    // Block 2's coinbase matured with block 102; the change is confirmed.
    assert_eq!(env.balance("w1"), 90 * COIN - fee);
    let tx = env.call("w1", "gettransaction", json!([txid]));
    assert_eq!(tx["confirmations"], json!(1));
    assert_eq!(tx["blockheight"], json!(102));
    let received = env.call("w2", "gettransaction", json!([txid]));
    assert_eq!(sats(&received["amount"]), 10 * COIN);
    assert!(received.get("fee").is_none());
    assert_eq!(received["details"][0]["category"], json!("receive"));

    let list = env.call("w1", "listtransactions", json!(["*", 500]));
    let list = list.as_array().unwrap();
    let count = |c: &str| list.iter().filter(|e| e["category"] == json!(c)).count();
    assert_eq!((count("generate"), count("immature"), count("send")), (2, 99, 1));
    assert_eq!(list.last().unwrap()["category"], json!("send"), "most recent last");
    let recent = env.call("w1", "listtransactions", json!([]));
    assert_eq!(recent.as_array().unwrap().len(), 10);

    // The block the wallet saw is the chain's.
    let found =
        chain.find_block(chain.get_tip().unwrap().unwrap().hash, FoundBlockRequest::default()).unwrap();
    assert!(found.unwrap().in_active_chain);
}

#[test]
fn send_errors() {
    let env = Env::new();
    env.funded("w1");
    let e = env.fail("w1", "sendtoaddress", json!([ELSEWHERE, 51]));
    assert_eq!((e.code, e.message.as_str()), (-6, "Insufficient funds"));
    // Immature coinbase outputs are not spendable, even those with 100 confirmations.
    let e = env.fail("w1", "sendtoaddress", json!([ELSEWHERE, 50.1]));
    assert_eq!(e.code, -6);
    let e = env.fail("w1", "sendtoaddress", json!(["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", 1]));
    assert_eq!(
        (e.code, e.message.as_str()),
        (-5, "Invalid Bitcoin address: bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")
    );
    assert_eq!(env.fail("w1", "sendtoaddress", json!(["garbage", 1])).code, -5);
    let e = env.fail("w1", "sendtoaddress", json!([ELSEWHERE, 0]));
    assert_eq!((e.code, e.message.as_str()), (-3, "Invalid amount for send"));
    let e = env.fail("w1", "sendtoaddress", json!([ELSEWHERE, -1]));
    assert_eq!((e.code, e.message.as_str()), (-3, "Amount out of range"));
    let e = env.fail("w1", "sendtoaddress", json!([ELSEWHERE, "0.000000001"]));
    assert_eq!((e.code, e.message.as_str()), (-3, "Invalid amount"));
    let e = env.fail("w1", "sendtoaddress", json!([ELSEWHERE, true]));
    assert_eq!((e.code, e.message.as_str()), (-3, "Amount is not a number or string"));
    let e = env.fail("w1", "sendtoaddress", json!([ELSEWHERE, 1, 5]));
    assert_eq!(
        (e.code, e.message.as_str()),
        (-3, "JSON value of type number is not of expected type string")
    );
    let e = env.fail(
        "w1",
        "sendtoaddress",
        json!({"address": ELSEWHERE, "amount": 1, "conf_target": 2, "fee_rate": 3}),
    );
    assert_eq!(e.code, -8);
    assert!(e.message.starts_with("Cannot specify both conf_target and fee_rate"), "{e:?}");
    let e = env.fail("w1", "sendtoaddress", json!({"address": ELSEWHERE, "amount": 1, "fee_rate": 0.5}));
    assert_eq!(
        (e.code, e.message.as_str()),
        (-6, "Fee rate (0.500 sat/vB) is lower than the minimum fee rate setting (1.000 sat/vB)")
    );
    let e =
        env.fail("w1", "sendtoaddress", json!({"address": ELSEWHERE, "amount": 1, "estimate_mode": "fast"}));
    assert_eq!(e.code, -8);
    // With fee_rate only "unset" may accompany it, compared case-sensitively as Core does.
    let e = env.fail(
        "w1",
        "sendtoaddress",
        json!({"address": ELSEWHERE, "amount": 1, "fee_rate": 0.5, "estimate_mode": "UNSET"}),
    );
    assert_eq!((e.code, e.message.as_str()), (-8, "Cannot specify both estimate_mode and fee_rate"));
    let e = env.fail(
        "w1",
        "sendtoaddress",
        json!({"address": ELSEWHERE, "amount": 1, "fee_rate": 0.5, "estimate_mode": "unset"}),
    );
    assert_eq!(e.code, -6, "\"unset\" passes on to the fee-rate check: {e:?}");
    let e = env.fail("w1", "sendtoaddress", json!({"address": ELSEWHERE, "amount": 1, "fee_rate": 100_000}));
    assert_eq!(
        (e.code, e.message.as_str()),
        (-6, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)")
    );
    // Core takes any fee_rate in its money range and refuses the fee it leads to.
    for rate in [json!(1_000_000_000), json!("2100000000000")] {
        let e = env.fail("w1", "sendtoaddress", json!({"address": ELSEWHERE, "amount": 1, "fee_rate": rate}));
        assert_eq!(
            (e.code, e.message.as_str()),
            (-6, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)")
        );
    }
    let e = env.fail(
        "w1",
        "sendtoaddress",
        json!({"address": ELSEWHERE, "amount": 1, "fee_rate": "2100000000000.001"}),
    );
    assert_eq!((e.code, e.message.as_str()), (-3, "Amount out of range"));
    let e = env.fail("w1", "sendtoaddress", json!([ELSEWHERE]));
    assert_eq!(e.code, -1);
    assert!(e.message.starts_with("sendtoaddress \"address\" \"amount\""), "{e:?}");
    // Nothing was spent by the failures.
    assert_eq!(env.balance("w1"), 50 * COIN);
    assert!(env.mempool().is_empty());
}

#[test]
fn fee_rate_subtract_fee_and_verbose() {
    let env = Env::new();
    env.funded("w1");
    // An explicit fee rate (sat/vB), named parameters, verbose result.
    let r = env.call(
        "w1",
        "sendtoaddress",
        json!({"address": ELSEWHERE, "amount": 1, "fee_rate": 2, "verbose": true}),
    );
    assert_eq!(r["fee_reason"], json!("PayTxFee set"));
    let tx = env.call("w1", "gettransaction", json!([r["txid"]]));
    let fee = -sats(&tx["fee"]);
    assert!((270..=300).contains(&fee), "2 sat/vB on ~141 vB: {fee}");
    assert_eq!(tx["bip125-replaceable"], json!("yes"));

    // Subtracting the fee: the recipient gets the amount less the fee, the wallet spends exactly it.
    let before = env.balance("w1");
    let txid = env.call("w1", "sendtoaddress", json!([ELSEWHERE, 5, "c", "t", true]));
    let tx = env.call("w1", "gettransaction", json!([txid]));
    let fee = -sats(&tx["fee"]);
    assert!(fee > 0);
    assert_eq!(sats(&tx["amount"]), -(5 * COIN - fee));
    assert_eq!(sats(&tx["details"][0]["amount"]), -(5 * COIN - fee));
    assert_eq!((tx["comment"].clone(), tx["to"].clone()), (json!("c"), json!("t")));
    assert_eq!(env.balance("w1"), before - 5 * COIN);
    // Spending the whole balance that way leaves nothing.
    let all = env.balance("w1");
    let all_btc = interfaces::format_btc(all);
    env.call(
        "w1",
        "sendtoaddress",
        json!({"address": ELSEWHERE, "amount": all_btc, "subtractfeefromamount": true, "replaceable": false}),
    );
    assert_eq!(env.balance("w1"), 0);
    assert_eq!(env.mempool().len(), 3);
    env.mine(1);
    assert!(env.mempool().is_empty());
    assert_eq!(env.balance("w1"), 50 * COIN, "block 2's coinbase matured");
}
