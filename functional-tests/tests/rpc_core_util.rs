//! Bitcoin Core's utility and control RPCs through the real node: `validateaddress` (Core's
//! messages and error locations), message signing, `getmemoryinfo`, `logging` (changing what
//! `debug.log` gets at run time), `getindexinfo`, `estimaterawfee` and `getblockstats`.

use functional_tests::{RpcFailure, TestFramework, TestNode};
use serde_json::{json, Value};

fn rpc_error(node: &TestNode, method: &str, params: Value) -> (i64, String) {
    match node.rpc(method, params) {
        Err(RpcFailure::Rpc { code, message }) => (code, message),
        other => panic!("{method}: expected an RPC error, got {other:?}"),
    }
}

#[test]
fn addresses_and_messages() {
    let mut test = TestFramework::new("rpc_core_util_addresses", 1);
    test.start_all();
    let node = &test.nodes[0];

    let valid = node.call("validateaddress", json!(["BCRT1QPLMTZKC2XHARPPZDLNPAQL78RSHJ68U33RAH7R"]));
    assert_eq!(valid["isvalid"], json!(true));
    assert_eq!(valid["address"], json!("bcrt1qplmtzkc2xharppzdlnpaql78rshj68u33rah7r"));
    assert_eq!((valid["isscript"].clone(), valid["iswitness"].clone()), (json!(false), json!(true)));
    assert_eq!(
        (valid["witness_version"].clone(), valid["scriptPubKey"].as_str().map(str::len)),
        (json!(0), Some(44))
    );
    let legacy = node.call("validateaddress", json!(["mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"]));
    assert_eq!((legacy["isscript"].clone(), legacy["iswitness"].clone()), (json!(false), json!(false)));
    let script = legacy["scriptPubKey"].as_str().unwrap_or_default();
    assert!(script.starts_with("76a914") && script.ends_with("88ac"), "{legacy}");
    let unknown = node.call("validateaddress", json!(["bcrt1p424qxxyd0r"]));
    assert!(unknown.get("isscript").is_none(), "{unknown}");

    let cases = [
        ("bcrt1q049edschfnwystcqnsvyfpj23mpsg3jcedq9xv", "Invalid Bech32 checksum", json!([9])),
        ("bcrt1qax9suht3qv95sw33xavx8crpxduefdrsvgsklu", "Invalid Bech32 checksum", json!([22, 43])),
        ("bcrtq049ldschfnwystcqnsvyfpj23mpsg3jcedq9xv", "Missing separator", json!([])),
        ("17VZNX1SN5NtKa8UQFxwQbFeFc3iqRYhem", "Invalid or unsupported Base58-encoded address.", json!([])),
        (
            "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7k35mrzd",
            "Version 0 witness address must use Bech32 checksum",
            json!([]),
        ),
    ];
    for (address, error, locations) in cases {
        let answer = node.call("validateaddress", json!([address]));
        assert_eq!(
            answer,
            json!({"isvalid": false, "error_locations": locations, "error": error}),
            "{address}"
        );
    }
    let (code, message) = rpc_error(node, "validateaddress", json!([]));
    assert_eq!(code, -1);
    assert!(message.contains("Return information about the given bitcoin address."), "{message}");
    assert_eq!(
        rpc_error(node, "validateaddress", json!([null])),
        (-3, "JSON value of type null is not of expected type string".to_string())
    );

    // Core's test vector: the key, its P2PKH address and the signature Core makes.
    let key = "cUeKHd5orzT3mz8P9pxyREHfsWtVfgsfDjiZZBcjUBAaGk1BTj7N";
    let message = "This is just a test message";
    let signature = node.call("signmessagewithprivkey", json!([key, message]));
    assert_eq!(
        signature,
        json!("INbVnW4e6PeRmsv2Qgu8NuopvrVjkcxob+sX8OcZG0SALhWybUjzMLPdAsXI46YZGb0KQTRii+wWIQzRpG/U+S0=")
    );
    let address = "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB";
    assert_eq!(node.call("verifymessage", json!([address, signature, message])), json!(true));
    assert_eq!(node.call("verifymessage", json!([address, signature, "another"])), json!(false));
    let segwit = "bcrt1qtmp74ayg7p24uslctssvjm06q5phz4yrxucgnv";
    assert_eq!(
        rpc_error(node, "verifymessage", json!([segwit, signature, message])),
        (-3, "Address does not refer to key".into())
    );
    assert_eq!(
        rpc_error(node, "verifymessage", json!(["invalid_addr", signature, message])),
        (-5, "Invalid address".into())
    );
    assert_eq!(
        rpc_error(node, "verifymessage", json!([address, "invalid_sig", message])),
        (-3, "Malformed base64 encoding".into())
    );
    assert_eq!(
        rpc_error(node, "signmessagewithprivkey", json!(["invalid_key", message])),
        (-5, "Invalid private key".into())
    );
    let (code, usage) = rpc_error(node, "signmessagewithprivkey", json!(["a"]));
    assert!(code == -1 && usage.contains("signmessagewithprivkey"), "{usage}");
}

#[test]
fn memory_logging_indexes_and_fees() {
    let mut test = TestFramework::new("rpc_core_util_control", 1);
    test.start_all();
    let node = &test.nodes[0];

    let memory = &node.call("getmemoryinfo", json!([]))["locked"];
    for field in ["used", "free", "total", "chunks_used", "chunks_free"] {
        assert!(memory[field].as_u64().is_some_and(|n| n > 0), "{field}: {memory}");
    }
    assert_eq!(
        memory["used"].as_u64().unwrap_or(0) + memory["free"].as_u64().unwrap_or(0),
        memory["total"].as_u64().unwrap_or(1)
    );
    let xml = node.call("getmemoryinfo", json!({"mode": "mallocinfo"}));
    assert!(xml.as_str().is_some_and(|x| x.starts_with("<malloc")), "{xml}");
    assert_eq!(rpc_error(node, "getmemoryinfo", json!(["foobar"])), (-8, "unknown mode foobar".into()));

    // The node starts without -debug: rpc off; turning it on makes debug.log show requests.
    let status = node.call("logging", json!([]));
    let names: Vec<&String> = status.as_object().map(|o| o.keys().collect()).unwrap_or_default();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "alphabetical");
    assert_eq!(status["rpc"], json!(false));
    let marker = "logging_marker_method_name";
    let _ = node.rpc(marker, json!([]));
    assert!(!node.debug_log().contains(marker));
    let status = node.call("logging", json!([["rpc", "qt"]]));
    assert_eq!((status["rpc"].clone(), status["qt"].clone()), (json!(true), json!(true)));
    let _ = node.rpc(marker, json!([]));
    functional_tests::wait_until("the rpc category's line", std::time::Duration::from_secs(5), || {
        node.debug_log().contains(&format!("method={marker}"))
    });
    let status = node.call("logging", json!([["all"], ["qt"]]));
    assert!(
        status.as_object().is_some_and(|o| o.iter().all(|(k, v)| (k == "qt") != (v == &json!(true)))),
        "{status}"
    );
    assert_eq!(rpc_error(node, "logging", json!([["nope"]])), (-8, "unknown logging category nope".into()));
    let help = node.call("help", json!(["logging"]));
    assert!(help.as_str().is_some_and(|h| h.contains(&format!(
        "valid logging categories are: {}",
        sorted.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    ))));

    // Through a process spawned for it in the multiprocess node (as Core's bitcoin-echo), in this
    // one otherwise.
    let served = || node.debug_log().matches("serving its node").count();
    let before = served();
    assert_eq!(node.call("echoipc", json!(["hello"])), json!("hello"));
    let spawned = usize::from(functional_tests::multiprocess());
    functional_tests::wait_until("the echo process's log line", std::time::Duration::from_secs(5), || {
        served() == before + spawned
    });

    assert_eq!(node.call("getindexinfo", json!([])), json!({}));
    assert_eq!(node.call("getindexinfo", json!(["txindex"])), json!({}));

    let raw = node.call("estimaterawfee", json!([1]));
    let horizons: Vec<&String> = raw.as_object().map(|o| o.keys().collect()).unwrap_or_default();
    assert_eq!(horizons, ["short", "medium", "long"]);
    assert_eq!(
        raw["short"]["errors"],
        json!(["Insufficient data or no feerate found which meets threshold"])
    );
    assert_eq!(raw["short"]["scale"], json!(1));
    // Nothing tracked: one failing range over every bucket, up to Core's INF_FEERATE.
    let fail = &raw["short"]["fail"];
    assert_eq!((fail["startrange"].to_string(), fail["endrange"].to_string()), ("0".into(), "1e+99".into()));
    assert_eq!(raw["long"]["decay"].to_string(), "0.99931");
    let long_only = node.call("estimaterawfee", json!([100, 0.5]));
    assert_eq!(long_only.as_object().map(|o| o.len()), Some(1));
    assert_eq!(
        rpc_error(node, "estimaterawfee", json!([1009])),
        (-8, "Invalid conf_target, must be between 1 and 1008".into())
    );
    assert_eq!(rpc_error(node, "estimaterawfee", json!([1, 2])), (-8, "Invalid threshold".into()));
}

#[test]
fn block_statistics() {
    let mut test = TestFramework::new("rpc_core_util_blockstats", 1);
    test.start_all();
    let node = &test.nodes[0];
    let genesis = node.call("getblockstats", json!([0]));
    assert_eq!(
        genesis["blockhash"],
        json!("0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206")
    );
    assert_eq!((genesis["utxo_increase"].clone(), genesis["utxo_size_inc"].clone()), (json!(1), json!(116)));
    assert_eq!(
        (genesis["utxo_increase_actual"].clone(), genesis["utxo_size_inc_actual"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(genesis.as_object().map(|o| o.len()), Some(31));

    node.call("generatetoaddress", json!([2, "bcrt1qtmp74ayg7p24uslctssvjm06q5phz4yrxucgnv"]));
    let one = node.call("getblockstats", json!([1]));
    assert_eq!(
        (one["txs"].clone(), one["ins"].clone(), one["subsidy"].clone()),
        (json!(1), json!(0), json!(5_000_000_000u64))
    );
    // A P2WPKH payout (31 bytes) and the witness commitment (47), each plus 40.
    assert_eq!(one["utxo_size_inc"], json!(31 + 40 + 47 + 40));
    assert_eq!(one["utxo_size_inc_actual"], json!(31 + 40));
    let by_hash = node.call("getblockstats", json!([one["blockhash"], ["minfee", "height"]]));
    assert_eq!(by_hash, json!({"height": 1, "minfee": 0}));
    assert_eq!(
        rpc_error(node, "getblockstats", json!([3])),
        (-8, "Target block height 3 after current tip 2".into())
    );
    assert_eq!(
        rpc_error(node, "getblockstats", json!([-1])),
        (-8, "Target block height -1 is negative".into())
    );
    assert_eq!(
        rpc_error(node, "getblockstats", json!([1, ["minfee", "aaa"]])),
        (-8, "Invalid selected statistic 'aaa'".into())
    );
    assert_eq!(
        rpc_error(node, "getblockstats", json!([])),
        (-1, "getblockstats hash_or_height ( stats )".into())
    );
}
