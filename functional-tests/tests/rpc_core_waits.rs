//! Bitcoin Core's waits for the tip (`waitfornewblock`, `waitforblock`, `waitforblockheight`)
//! through the real node: woken by a new block, ended by their timeout or by the node's
//! shutdown, answering Core's `{"hash", "height"}`.

use std::time::{Duration, Instant};

use functional_tests::{RpcFailure, TestFramework};
use serde_json::{json, Value};

const ADDRESS: &str = "bcrt1qtmp74ayg7p24uslctssvjm06q5phz4yrxucgnv";

fn tip(node: &functional_tests::TestNode) -> Value {
    let hash = node.call("getbestblockhash", json!([]));
    let height = node.call("getblockcount", json!([]));
    json!({"hash": hash, "height": height})
}

#[test]
fn waits_end_on_a_new_block_or_their_timeout() {
    let mut test = TestFramework::new("rpc_core_waits", 1);
    test.start_all();
    let node = &test.nodes[0];
    let endpoint = node.endpoint();

    // Woken by a block mined while it waits.
    let waiter = std::thread::spawn(move || endpoint.call("waitfornewblock", json!([60_000])));
    std::thread::sleep(Duration::from_millis(300));
    let mined = node.call("generatetoaddress", json!([1, ADDRESS]));
    let woke = waiter.join().expect("the waiting thread");
    assert_eq!(woke.ok(), Some(json!({"hash": mined[0], "height": 1})));

    // A timeout answers the tip as it is.
    let started = Instant::now();
    assert_eq!(node.call("waitfornewblock", json!([200])), tip(node));
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(node.call("waitforblockheight", json!([5, 100])), tip(node));
    let unknown = "11".repeat(32);
    assert_eq!(node.call("waitforblock", json!([unknown, 100])), tip(node));

    // Conditions that already hold answer at once.
    assert_eq!(node.call("waitforblockheight", json!([1])), tip(node));
    assert_eq!(node.call("waitforblock", json!([mined[0]])), tip(node));
    let genesis = node.call("getblockhash", json!([0]));
    assert_eq!(node.call("waitfornewblock", json!({"current_tip": genesis})), tip(node));

    // waitforblockheight is woken by the block that reaches the height.
    let endpoint = node.endpoint();
    let waiter = std::thread::spawn(move || endpoint.call("waitforblockheight", json!({"height": 3})));
    node.call("generatetoaddress", json!([2, ADDRESS]));
    assert_eq!(waiter.join().expect("the waiting thread").ok(), Some(tip(node)));

    for (method, params) in [
        ("waitfornewblock", json!([-1])),
        ("waitforblock", json!([mined[0], -1])),
        ("waitforblockheight", json!([1, -1])),
    ] {
        match node.rpc(method, params) {
            Err(RpcFailure::Rpc { code, message }) => {
                assert_eq!((code, message.as_str()), (-1, "Negative timeout"))
            }
            other => panic!("{method}: {other:?}"),
        }
    }
}

#[test]
fn a_waiting_client_does_not_hold_up_the_shutdown() {
    let mut test = TestFramework::new("rpc_core_waits_stop", 1);
    test.start_all();
    let node = &mut test.nodes[0];
    let endpoint = node.endpoint();
    let waiter = std::thread::spawn(move || endpoint.call("waitfornewblock", json!([])));
    functional_tests::wait_until("the wait to be active", Duration::from_secs(10), || {
        let info = node.call("getrpcinfo", json!([]));
        info["active_commands"].as_array().is_some_and(|a| a.iter().any(|c| c["method"] == "waitfornewblock"))
    });
    let started = Instant::now();
    node.stop();
    assert!(started.elapsed() < Duration::from_secs(10), "stop took {:?}", started.elapsed());
    // As Core: the wait ends with the tip it had (genesis here).
    let answer = waiter.join().expect("the waiting thread").expect("an answer before the server closed");
    assert_eq!(answer["height"], json!(0));
}
