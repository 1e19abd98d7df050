//! Scripts, descriptors and relay policy through the real node, the way Bitcoin Core's test
//! framework's MiniWallet uses them: coins on a P2WSH(OP_TRUE) script mined with
//! `generatetodescriptor`, found with `scantxoutset`, spent with raw transactions (verified by
//! Core's interpreter), tested with `testmempoolaccept`; descriptors derived and analysed; the
//! UTXO set hashed as Core hashes it.

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::{sha256d, Hash, HashEngine};
use bitcoin::script::Builder;
use bitcoin::{
    absolute, transaction, Amount, Block, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid,
    Witness,
};
use functional_tests::{RpcFailure, TestFramework, TestNode};
use serde_json::{json, Value};

const TPRV: &str = "tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK";

fn op_true() -> ScriptBuf {
    Builder::new().push_opcode(bitcoin::opcodes::OP_TRUE).into_script()
}

fn p2wsh_op_true() -> ScriptBuf {
    ScriptBuf::new_p2wsh(&op_true().wscript_hash())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

/// A descriptor with its checksum, from the node itself.
fn with_checksum(node: &TestNode, descriptor: &str) -> String {
    node.call("getdescriptorinfo", json!([descriptor]))["descriptor"]
        .as_str()
        .expect("descriptor")
        .to_string()
}

/// Spends `outpoint` (a P2WSH(OP_TRUE) coin of `value`) to one P2WSH(OP_TRUE) output, paying `fee`.
fn spend_op_true(outpoint: OutPoint, value: Amount, fee: Amount, sequence: Sequence) -> Transaction {
    let mut witness = Witness::new();
    witness.push(op_true().as_bytes());
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn { previous_output: outpoint, script_sig: ScriptBuf::new(), sequence, witness }],
        output: vec![TxOut { value: value - fee, script_pubkey: p2wsh_op_true() }],
    }
}

fn rpc_error(node: &TestNode, method: &str, params: Value) -> (i64, String) {
    match node.rpc(method, params) {
        Err(RpcFailure::Rpc { code, message }) => (code, message),
        other => panic!("{method}: expected an RPC error, got {other:?}"),
    }
}

/// The coinbase outpoint and value of the block at `height`.
fn coinbase(node: &TestNode, height: u64) -> (OutPoint, Amount) {
    let hash = node.call("getblockhash", json!([height]));
    let block: Block =
        deserialize(&unhex(node.call("getblock", json!([hash, 0])).as_str().expect("hex"))).expect("block");
    let tx = &block.txdata[0];
    (OutPoint { txid: tx.compute_txid(), vout: 0 }, tx.output[0].value)
}

#[test]
fn miniwallet_coins_are_mined_found_spent_and_tested_like_bitcoind() {
    let mut test = TestFramework::new("scripts_miniwallet", 1);
    test.start_all();
    let node = &test.nodes[0];
    let descriptor = with_checksum(node, &format!("raw({})", hex(p2wsh_op_true().as_bytes())));

    // Mined to a descriptor; found again by scanning the UTXO set.
    let hashes = node.call("generatetodescriptor", json!([101, descriptor]));
    assert_eq!(hashes.as_array().map(Vec::len), Some(101));
    let scan = node.call("scantxoutset", json!(["start", [descriptor]]));
    assert_eq!(scan["success"], json!(true));
    assert_eq!(scan["unspents"].as_array().map(Vec::len), Some(101));
    assert_eq!(scan["total_amount"].to_string(), "5050.00000000");

    // A P2WSH spend (the node used to refuse any script but P2WPKH and P2PKH).
    let (outpoint, value) = coinbase(node, 1);
    let good = spend_op_true(outpoint, value, Amount::from_sat(1_000), Sequence::MAX);
    let tested = node.call("testmempoolaccept", json!([[hex(&serialize(&good))]]));
    assert_eq!(tested[0]["allowed"], json!(true), "{tested}");
    assert_eq!(tested[0]["fees"]["base"].to_string(), "0.00001000");
    assert_eq!(node.call("getmempoolinfo", json!([]))["size"], json!(0), "testmempoolaccept changes nothing");

    // A witness that does not satisfy the script is refused by the interpreter.
    let mut bad = good.clone();
    bad.input[0].witness = Witness::from_slice(&[vec![0x00u8]]);
    let (code, message) = rpc_error(node, "sendrawtransaction", json!([hex(&serialize(&bad))]));
    assert_eq!(code, -26);
    assert!(message.starts_with("mandatory-script-verify-flag-failed"), "{message}");

    // Policy: a non-standard output, two dust outputs, missing inputs, a relative lock time.
    let mut nonstandard = good.clone();
    nonstandard.output[0].script_pubkey = ScriptBuf::from_bytes(vec![0x51, 0x51]);
    let mut dusty = good.clone();
    dusty.output.push(TxOut { value: Amount::from_sat(1), script_pubkey: p2wsh_op_true() });
    dusty.output.push(TxOut { value: Amount::from_sat(1), script_pubkey: p2wsh_op_true() });
    let missing = spend_op_true(
        OutPoint { txid: Txid::all_zeros(), vout: 7 },
        value,
        Amount::from_sat(1_000),
        Sequence::MAX,
    );
    let locked = spend_op_true(outpoint, value, Amount::from_sat(1_000), Sequence::from_height(1000));
    for (tx, reason) in [
        (&nonstandard, "scriptpubkey"),
        (&dusty, "dust"),
        (&missing, "missing-inputs"),
        (&locked, "non-BIP68-final"),
    ] {
        let result = node.call("testmempoolaccept", json!([[hex(&serialize(tx))]]));
        assert_eq!(result[0]["allowed"], json!(false), "{reason}: {result}");
        assert_eq!(result[0]["reject-reason"], json!(reason));
    }

    // A package: the child spends the parent, tested together; then both enter for real.
    let child = spend_op_true(
        OutPoint { txid: good.compute_txid(), vout: 0 },
        good.output[0].value,
        Amount::from_sat(1_000),
        Sequence::MAX,
    );
    let package = node.call("testmempoolaccept", json!([[hex(&serialize(&good)), hex(&serialize(&child))]]));
    assert_eq!(package[0]["allowed"], json!(true), "{package}");
    assert_eq!(package[1]["allowed"], json!(true), "{package}");
    node.call("sendrawtransaction", json!([hex(&serialize(&good))]));
    node.call("sendrawtransaction", json!([hex(&serialize(&child))]));
    let ancestors = node.call("getmempoolancestors", json!([child.compute_txid().to_string()]));
    assert_eq!(ancestors, json!([good.compute_txid().to_string()]));

    // generateblock mines them as bitcoind does: the coinbase claims the subsidy, not the fees.
    let mined = node.call(
        "generateblock",
        json!([descriptor, [good.compute_txid().to_string(), child.compute_txid().to_string()]]),
    );
    let block = node.call("getblock", json!([mined["hash"], 2]));
    assert_eq!(block["tx"].as_array().map(Vec::len), Some(3));
    assert_eq!(block["tx"][0]["vout"][0]["value"].to_string(), "50.00000000");
    assert_eq!(node.call("getmempoolinfo", json!([]))["size"], json!(0));

    // Merkle proofs: the child has an unspent output (found through the UTXO set); the parent's
    // only output is spent, so without -txindex its block must be named.
    let child_txid = child.compute_txid().to_string();
    let proof = node.call("gettxoutproof", json!([[child_txid]]));
    assert_eq!(node.call("verifytxoutproof", json!([proof])), json!([child_txid]));
    let good_txid = good.compute_txid().to_string();
    let (code, message) = rpc_error(node, "gettxoutproof", json!([[good_txid]]));
    assert_eq!((code, message.as_str()), (-5, "Transaction not yet in block"));
    let both = node.call("gettxoutproof", json!([[good_txid, child_txid], mined["hash"]]));
    let mut proven: Vec<Value> =
        node.call("verifytxoutproof", json!([both])).as_array().cloned().unwrap_or_default();
    proven.sort_by_key(|v| v.to_string());
    let mut expected = vec![json!(good_txid), json!(child_txid)];
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(proven, expected);
}

#[test]
fn descriptors_derive_and_describe_like_bitcoind() {
    let mut test = TestFramework::new("scripts_descriptors", 1);
    test.start_all();
    let node = &test.nodes[0];

    // Core's vectors (rpc_deriveaddresses.py).
    let ranged = with_checksum(node, &format!("wpkh({TPRV}/1/1/*)"));
    assert_eq!(
        node.call("deriveaddresses", json!([ranged, [1, 2]])),
        json!([
            "bcrt1qhku5rq7jz8ulufe2y6fkcpnlvpsta7rq4442dy",
            "bcrt1qpgptk2gvshyl0s9lqshsmx932l9ccsv265tvaq"
        ])
    );
    let (code, message) = rpc_error(node, "deriveaddresses", json!([format!("wpkh({TPRV}/1/1/0)")]));
    assert_eq!((code, message.as_str()), (-5, "Missing checksum"));
    let (code, message) = rpc_error(node, "deriveaddresses", json!([ranged]));
    assert_eq!((code, message.as_str()), (-8, "Range must be specified for a ranged descriptor"));

    let info = node.call("getdescriptorinfo", json!([format!("wpkh({TPRV}/1/<0;1>/*)")]));
    assert_eq!(info["isrange"], json!(true));
    assert_eq!(info["hasprivatekeys"], json!(true));
    assert_eq!(info["multipath_expansion"].as_array().map(Vec::len), Some(2));
    let public = info["descriptor"].as_str().unwrap_or_default();
    assert!(public.starts_with("wpkh(tpub") && public.contains("/1/0/*)#"), "{public}");

    // Scanning a ranged descriptor finds a coin at one of its indexes, with its key origin.
    let at_five =
        node.call("deriveaddresses", json!([ranged, [5, 5]]))[0].as_str().unwrap_or_default().to_string();
    node.call("generatetoaddress", json!([1, at_five]));
    let scan = node.call("scantxoutset", json!(["start", [{"desc": ranged, "range": 10}]]));
    assert_eq!(scan["unspents"].as_array().map(Vec::len), Some(1), "{scan}");
    let desc = scan["unspents"][0]["desc"].as_str().unwrap_or_default();
    assert!(desc.starts_with("wpkh([0c5f9a1e/1/1/5]"), "{desc}");

    // decodescript: a 1-of-1 multisig with its P2SH and P2WSH wrappings.
    let multi = "51210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f8179851ae";
    let decoded = node.call("decodescript", json!([multi]));
    assert_eq!(decoded["type"], json!("multisig"));
    assert!(decoded["p2sh"].as_str().is_some_and(|a| a.starts_with('2')));
    assert_eq!(decoded["segwit"]["type"], json!("witness_v0_scripthash"));

    // createmultisig: P2SH by default, P2WSH for bech32, with Core's descriptor; bech32m refused.
    let keys = json!([
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
        "025cbdf0646e5db4eaa398f365f2ea7a0e3d419b7e0330e39ce92bddedcac4f9bc"
    ]);
    let legacy = node.call("createmultisig", json!([2, keys]));
    assert!(legacy["address"].as_str().is_some_and(|a| a.starts_with('2')), "{legacy}");
    assert!(legacy["redeemScript"].as_str().is_some_and(|s| s.starts_with("52") && s.ends_with("52ae")));
    let segwit = node.call("createmultisig", json!([1, keys, "bech32"]));
    assert!(segwit["address"].as_str().is_some_and(|a| a.starts_with("bcrt1q")), "{segwit}");
    assert!(segwit["descriptor"].as_str().is_some_and(|d| d.starts_with("wsh(multi(1,")));
    let (code, _) = rpc_error(node, "createmultisig", json!([1, keys, "bech32m"]));
    assert_eq!(code, -5);

    // createrawtransaction → decoderawtransaction round trip.
    let raw = node.call(
        "createrawtransaction",
        json!([[{"txid": "aa".repeat(32), "vout": 1}], [{at_five.clone(): 1.5}, {"data": "00ff"}]]),
    );
    let decoded = node.call("decoderawtransaction", json!([raw]));
    assert_eq!(decoded["vin"][0]["sequence"], json!(0xffff_fffdu32), "replaceable by default");
    assert_eq!(decoded["vout"][0]["value"].to_string(), "1.50000000");
    assert_eq!(decoded["vout"][1]["scriptPubKey"]["type"], json!("nulldata"));
}

#[test]
fn utxo_set_hash_is_cores_hash_serialized_3() {
    let mut test = TestFramework::new("scripts_utxo_hash", 1);
    test.start_all();
    let node = &test.nodes[0];
    let descriptor = with_checksum(node, &format!("raw({})", hex(p2wsh_op_true().as_bytes())));
    node.call("generatetodescriptor", json!([105, descriptor]));

    // Recomputed here from the blocks, the way Core defines it: every unspent output as
    // outpoint, height * 2 + coinbase (u32 LE) and the output, ordered by txid bytes then index,
    // double SHA-256.
    let mut coins = Vec::new();
    for height in 1..=105u32 {
        let (outpoint, value) = coinbase(node, u64::from(height));
        coins.push((outpoint, height, TxOut { value, script_pubkey: p2wsh_op_true() }));
    }
    coins.sort_by_key(|c| (c.0.txid.to_byte_array(), c.0.vout));
    let mut engine = sha256d::Hash::engine();
    for (outpoint, height, output) in &coins {
        engine.input(&serialize(outpoint));
        engine.input(&((height << 1) | 1).to_le_bytes());
        engine.input(&serialize(output));
    }
    let expected = sha256d::Hash::from_engine(engine).to_string();
    let info = node.call("gettxoutsetinfo", json!([]));
    assert_eq!(info["hash_serialized_3"], json!(expected));
    assert_eq!(info["txouts"], json!(105));
    assert_eq!(info["transactions"], json!(105));
    assert_eq!(info["height"], json!(105));
    let (code, _) = rpc_error(node, "gettxoutsetinfo", json!(["muhash"]));
    assert_eq!(code, -8, "MuHash is refused, not faked");
}
