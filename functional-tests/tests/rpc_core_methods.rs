//! The RPCs Bitcoin Core's test framework and client libraries call first, through the real
//! `mpx-node` and `mpx-cli`, asserting bitcoind's shapes, codes and texts.

use std::time::{Duration, Instant};

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use bitcoin::{Address, Block, CompressedPublicKey, Network, PrivateKey};
use functional_tests::{RpcFailure, TestFramework, TestNode};
use serde_json::{json, Value};

/// A fixed key, its WIF and its P2WPKH address.
fn key() -> (PrivateKey, String) {
    let secret = SecretKey::from_slice(&[7u8; 32]).expect("a valid secret");
    let private = PrivateKey::new(secret, Network::Regtest);
    let public = CompressedPublicKey::from_private_key(&Secp256k1::new(), &private).expect("compressed");
    (private, Address::p2wpkh(&public, Network::Regtest).to_string())
}

fn rpc_error(node: &TestNode, method: &str, params: Value) -> (i64, String) {
    match node.rpc(method, params) {
        Err(RpcFailure::Rpc { code, message }) => (code, message),
        other => panic!("{method}: expected an RPC error, got {other:?}"),
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default()
}

#[test]
fn node_information_methods_answer_in_core_shapes() {
    let mut test = TestFramework::new("rpc_core_info", 1);
    test.start_all();
    let node = &test.nodes[0];

    let net = node.call("getnetworkinfo", json!([]));
    assert_eq!(
        keys(&net),
        [
            "version",
            "subversion",
            "protocolversion",
            "localservices",
            "localservicesnames",
            "localrelay",
            "timeoffset",
            "networkactive",
            "connections",
            "connections_in",
            "connections_out",
            "networks",
            "relayfee",
            "incrementalfee",
            "localaddresses",
            "warnings"
        ]
    );
    assert_eq!(net["version"], json!(319_900));
    let subversion = net["subversion"].as_str().unwrap_or_default();
    assert!(subversion.starts_with("/mpx:") && subversion.ends_with('/'), "{subversion}");
    assert_eq!(net["connections"], json!(0));
    assert_eq!(net["relayfee"].to_string(), "0.00000100", "Core's default since v29");
    assert_eq!(net["warnings"], json!([]));
    assert_eq!(net["localaddresses"], json!([]));
    let names: Vec<&Value> =
        net["networks"].as_array().map(|a| a.iter().map(|n| &n["name"]).collect()).unwrap_or_default();
    assert_eq!(names, [&json!("ipv4"), &json!("ipv6"), &json!("onion"), &json!("i2p"), &json!("cjdns")]);

    let chain = node.call("getblockchaininfo", json!([]));
    assert_eq!(chain["warnings"], json!([]));
    assert_eq!(chain["target"], json!(format!("7fffff{}", "0".repeat(58))));
    assert_eq!(node.call("getdifficulty", json!([])).to_string(), "4.656542373906925e-10");

    assert_eq!(
        node.call("estimatesmartfee", json!([6])),
        json!({"errors": ["Insufficient data or no feerate found"], "blocks": 0})
    );
    assert_eq!(
        rpc_error(node, "estimatesmartfee", json!([0])),
        (-8, "Invalid conf_target, must be between 1 and 1008".into())
    );
    assert_eq!(
        rpc_error(node, "estimatesmartfee", json!([2, "fast"])),
        (
            -8,
            "Invalid estimate_mode parameter, must be one of: \"unset\", \"economical\", \"conservative\""
                .into()
        )
    );

    assert_eq!(node.call("echo", json!(["a", 1, {"b": [true]}])), json!(["a", 1, {"b": [true]}]));
    assert_eq!(node.call("echojson", json!({"arg1": 5})), json!([null, 5]));
    assert_eq!(rpc_error(node, "echo", json!([0, 1, 2, 3, 4, 5, 6, 7, 8, "trigger_internal_bug"])).0, -1);

    let info = node.call("getrpcinfo", json!([]));
    assert_eq!(info["active_commands"].as_array().map(Vec::len), Some(1));
    assert_eq!(info["active_commands"][0]["method"], json!("getrpcinfo"));
    assert!(info["active_commands"][0]["duration"].is_u64());
    let logpath = info["logpath"].as_str().unwrap_or_default();
    assert_eq!(std::path::Path::new(logpath), node.chain_datadir().join("debug.log"));
    assert!(std::path::Path::new(logpath).exists());

    // Hidden test methods answer `help <name>` but stay out of the list, as in bitcoind.
    let help = node.call("help", json!([]));
    let help = help.as_str().unwrap_or_default();
    assert!(help.contains("getnetworkinfo") && help.contains("scantxoutset"), "{help}");
    assert!(!help.contains("setmocktime") && !help.contains("echojson"), "{help}");
    assert!(node
        .call("help", json!(["setmocktime"]))
        .as_str()
        .unwrap_or_default()
        .starts_with("setmocktime"));

    // Through mpx-cli too.
    let out = node.cli(&["getnetworkinfo"]);
    assert!(out.status.success(), "{out:?}");
    let shown: Value = serde_json::from_slice(&out.stdout).expect("JSON from mpx-cli");
    assert_eq!(shown["version"], json!(319_900));
    let out = node.cli(&["syncwithvalidationinterfacequeue"]);
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
}

#[test]
fn chain_methods_gettxout_submitblock_scantxoutset_and_getblock() {
    let mut test = TestFramework::new("rpc_core_chain", 1);
    test.start_all();
    let node = &test.nodes[0];
    let (private, address) = key();
    let hashes = node.call("generatetoaddress", json!([101, address]));
    let first = node.call("getblock", json!([hashes[0], 2]));
    let coinbase = &first["tx"][0];
    let txid = coinbase["txid"].as_str().unwrap_or_default().to_string();

    // gettxout: an unspent coinbase output, and nothing for a missing one.
    let out = node.call("gettxout", json!([txid, 0]));
    assert_eq!(keys(&out), ["bestblock", "confirmations", "value", "scriptPubKey", "coinbase"]);
    assert_eq!(out["confirmations"], json!(101));
    assert_eq!(out["coinbase"], json!(true));
    assert_eq!(out["value"].to_string(), "50.00000000");
    assert_eq!(keys(&out["scriptPubKey"]), ["asm", "desc", "hex", "address", "type"]);
    assert_eq!(out["scriptPubKey"]["address"], json!(address));
    assert_eq!(node.call("gettxout", json!([txid, 5])), Value::Null);

    // getblock: target, coinbase_tx, and transactions with hex and descriptors.
    assert_eq!(first["target"], json!(format!("7fffff{}", "0".repeat(58))));
    assert_eq!(keys(&first["coinbase_tx"]), ["version", "locktime", "sequence", "coinbase", "witness"]);
    assert_eq!(coinbase["hex"].as_str().map(str::is_empty), Some(false));
    let desc = coinbase["vout"][0]["scriptPubKey"]["desc"].as_str().unwrap_or_default();
    assert!(desc.starts_with(&format!("addr({address})#")), "{desc}");
    assert!(coinbase["vout"][0]["scriptPubKey"]["asm"].as_str().unwrap_or_default().starts_with("0 "));
    assert_eq!(node.call("getblockheader", json!([hashes[0]]))["target"], first["target"]);

    // scantxoutset over the real UTXO set: addr(), raw() and combo() of the WIF key agree.
    let by_addr = node.call("scantxoutset", json!(["start", [format!("addr({address})")]]));
    assert_eq!(keys(&by_addr), ["success", "txouts", "height", "bestblock", "unspents", "total_amount"]);
    assert_eq!(by_addr["success"], json!(true));
    assert_eq!(by_addr["height"], json!(101));
    assert_eq!(by_addr["unspents"].as_array().map(Vec::len), Some(101));
    assert_eq!(by_addr["total_amount"].to_string(), "5050.00000000");
    let unspent = &by_addr["unspents"][0];
    assert_eq!(
        keys(unspent),
        [
            "txid",
            "vout",
            "scriptPubKey",
            "desc",
            "amount",
            "coinbase",
            "height",
            "blockhash",
            "confirmations"
        ]
    );
    assert!(unspent["desc"].as_str().unwrap_or_default().starts_with(&format!("addr({address})#")));
    let spk = out["scriptPubKey"]["hex"].as_str().unwrap_or_default().to_string();
    let by_raw = node.call("scantxoutset", json!(["start", [{"desc": format!("raw({spk})")}]]));
    assert_eq!(by_raw["unspents"], by_addr["unspents"]);
    let pubkey = private.public_key(&Secp256k1::new()).to_string();
    let by_combo = node.call("scantxoutset", json!(["start", [format!("combo({})", private.to_wif())]]));
    assert_eq!(by_combo["total_amount"].to_string(), "5050.00000000");
    let combo_desc = by_combo["unspents"][0]["desc"].as_str().unwrap_or_default();
    assert!(combo_desc.starts_with(&format!("wpkh({pubkey})#")), "{combo_desc}");
    assert_eq!(node.call("scantxoutset", json!(["status"])), Value::Null);
    assert_eq!(node.call("scantxoutset", json!(["abort"])), json!(false));
    assert_eq!(rpc_error(node, "scantxoutset", json!(["begin"])), (-8, "Invalid action 'begin'".into()));
    let (code, message) =
        rpc_error(node, "scantxoutset", json!(["start", [format!("addr({address})#00000000")]]));
    assert_eq!(code, -5);
    assert!(
        message.starts_with("Provided checksum '00000000' does not match computed checksum"),
        "{message}"
    );

    // submitblock: bitcoind's BIP22 answers.
    let tip = node.call("getbestblockhash", json!([]));
    let tip_hex = node.call("getblock", json!([tip, 0]));
    assert_eq!(node.call("submitblock", json!([tip_hex])), json!("duplicate"));
    assert_eq!(rpc_error(node, "submitblock", json!(["00"])), (-22, "Block decode failed".into()));
    let made = node.call("generateblock", json!([address, [], false]));
    let bytes = hex_bytes(made["hex"].as_str().unwrap_or_default());
    let block: Block = bitcoin::consensus::deserialize(&bytes).expect("a block");
    // A wrong merkle root (with the proof of work ground again) and a failing proof of work.
    let mut bad_root = block.clone();
    bad_root.header.merkle_root = bitcoin::TxMerkleNode::all_zeros();
    grind(&mut bad_root, true);
    assert_eq!(node.call("submitblock", json!([block_hex(&bad_root)])), json!("bad-txnmrklroot"));
    let mut bad_pow = block.clone();
    grind(&mut bad_pow, false);
    assert_eq!(node.call("submitblock", json!([block_hex(&bad_pow)])), json!("high-hash"));
    assert_eq!(node.call("submitblock", json!([made["hex"]])), Value::Null);
    assert_eq!(node.call("getbestblockhash", json!([])), made["hash"]);

    // No cap message: a bad count is simply zero blocks, as in bitcoind.
    assert_eq!(node.call("generatetoaddress", json!([0, address])), json!([]));
}

#[test]
fn mempool_methods_and_the_wallets_replaceable_flag_agree() {
    let mut test = TestFramework::new("rpc_core_mempool", 1);
    test.start_all();
    let node = &test.nodes[0];
    node.call("createwallet", json!(["w"]));
    let mine = node.wallet_call("w", "getnewaddress", json!([]));
    node.call("generatetoaddress", json!([101, mine]));
    let (_, elsewhere) = key();
    let txid = node.wallet_call("w", "sendtoaddress", json!([elsewhere, 1]));

    let entry = node.call("getmempoolentry", json!([txid]));
    assert_eq!(entry["bip125-replaceable"], json!(true));
    assert_eq!(node.call("getrawmempool", json!([true]))[txid.as_str().unwrap_or_default()], entry);
    let wallet_view = node.wallet_call("w", "gettransaction", json!([txid]));
    assert_eq!(wallet_view["bip125-replaceable"], json!("yes"), "the same truth in the wallet");
    assert_eq!(entry["height"], json!(101));
    assert_eq!(entry["ancestorcount"], json!(1));
    assert_eq!(
        rpc_error(node, "getmempoolentry", json!(["11".repeat(32)])),
        (-5, "Transaction not in mempool".into())
    );

    // gettxout sees the mempool: the spent coin is gone unless the mempool is left out, and the
    // new outputs are there with 0 confirmations.
    let tx = node.call("getrawtransaction", json!([txid, true]));
    let spent = &tx["vin"][0];
    assert_eq!(node.call("gettxout", json!([spent["txid"], spent["vout"]])), Value::Null);
    let confirmed = node.call("gettxout", json!([spent["txid"], spent["vout"], false]));
    assert_eq!(confirmed["confirmations"], json!(101));
    let fresh = node.call("gettxout", json!([txid, 0]));
    assert_eq!(fresh["confirmations"], json!(0));
    assert_eq!(fresh["coinbase"], json!(false));
    assert_eq!(node.call("gettxout", json!([txid, 0, false])), Value::Null);

    // Mined: getblock 2 shows the fee the mempool entry had.
    let block = node.call("generatetoaddress", json!([1, mine]));
    let shown = node.call("getblock", json!([block[0], 2]));
    assert_eq!(shown["tx"][1]["txid"], txid);
    assert_eq!(shown["tx"][1]["fee"], entry["fees"]["base"]);
    node.call("syncwithvalidationinterfacequeue", json!([]));
    assert_eq!(node.wallet_call("w", "gettransaction", json!([txid]))["confirmations"], json!(1));
}

#[test]
fn setmocktime_and_stop_with_wait() {
    let mut test = TestFramework::new("rpc_core_time", 1);
    test.start_all();
    let node = &mut test.nodes[0];
    let (_, address) = key();
    let future = 4_000_000_000u64;
    assert_eq!(node.call("setmocktime", json!([future])), Value::Null);
    let hashes = node.call("generatetoaddress", json!([1, address]));
    assert_eq!(node.call("getblockheader", json!([hashes[0]]))["time"], json!(future));
    assert!(node.call("uptime", json!([])).as_u64().unwrap_or(u64::MAX) < 600, "uptime stays real");
    assert_eq!(
        rpc_error(node, "setmocktime", json!([-5])),
        (-8, "Mocktime must be in the range [0, 4294967295], not -5.".into())
    );

    let start = Instant::now();
    assert_eq!(node.call("stop", json!({"wait": 700})), json!("mpx-node stopping"));
    assert!(start.elapsed() >= Duration::from_millis(700), "stop answered before its wait");
    assert!(node.wait_for_exit().success());
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .filter_map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

fn block_hex(block: &Block) -> String {
    bitcoin::consensus::encode::serialize_hex(block)
}

/// Changes the nonce until the proof of work holds (`valid`) or fails.
fn grind(block: &mut Block, valid: bool) {
    let target = bitcoin::Target::from_compact(block.header.bits);
    loop {
        block.header.nonce = block.header.nonce.wrapping_add(1);
        if target.is_met_by(block.block_hash()) == valid {
            return;
        }
    }
}

#[test]
fn importdescriptors_answers_each_request_in_cores_shape() {
    let mut test = TestFramework::new("rpc_core_import", 1);
    test.start_all();
    let node = &test.nodes[0];
    node.call("createwallet", json!(["w"]));
    let (private, address) = key();
    node.call("generatetoaddress", json!([1, address]));
    // A public wpkh() descriptor with its checksum, as the node infers it.
    let scan = node.call("scantxoutset", json!(["start", [format!("combo({})", private.to_wif())]]));
    let wpkh = scan["unspents"][0]["desc"].as_str().unwrap_or_default().to_string();
    assert!(wpkh.starts_with("wpkh("), "{wpkh}");
    let combo = format!("combo({})", private.to_wif());

    let results = node.wallet_call(
        "w",
        "importdescriptors",
        json!([[
            {"desc": format!("{combo}#00000000"), "timestamp": "now"},
            {"desc": combo, "timestamp": "now"},
            {"desc": wpkh, "timestamp": 0},
            {"desc": wpkh, "timestamp": "now", "active": true},
            {"timestamp": "now"},
        ]]),
    );
    let results = results.as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 5);
    for r in &results {
        assert_eq!(r["success"], json!(false), "{r}");
        assert_eq!(keys(r), ["success", "error"]);
    }
    let code = |i: usize| results[i]["error"]["code"].as_i64();
    let message = |i: usize| results[i]["error"]["message"].as_str().unwrap_or_default().to_string();
    assert_eq!(code(0), Some(-5));
    assert!(
        message(0).starts_with("Provided checksum '00000000' does not match computed checksum '"),
        "{}",
        message(0)
    );
    assert_eq!((code(1), message(1).as_str()), (Some(-5), "Missing checksum"));
    // A public descriptor into a wallet with private keys, as Core refuses it.
    assert_eq!(
        (code(2), message(2).as_str()),
        (Some(-4), "Cannot import descriptor without private keys to a wallet with private keys enabled")
    );
    assert_eq!((code(3), message(3).as_str()), (Some(-8), "Active descriptors must be ranged"));
    assert_eq!((code(4), message(4).as_str()), (Some(-8), "Descriptor not found."));
    // A request without a timestamp fails the whole call, as in Core.
    assert_eq!(
        rpc_error(node, "importdescriptors", json!([[{"desc": wpkh}]])),
        (-3, "Missing required timestamp field for key".into())
    );
    assert_eq!(
        rpc_error(node, "importdescriptors", json!(["not an array"])),
        (-3, "JSON value of type string is not of expected type array".into())
    );
}
