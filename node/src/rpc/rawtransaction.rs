//! Bitcoin Core's `rpc/rawtransaction.cpp` methods, and the transaction JSON they share.
//!
//! `getrawtransaction` finds mempool transactions, and, without a transaction index, confirmed
//! ones by scanning the active chain's blocks from the tip down (or only `blockhash` when given).

use std::collections::HashMap;

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{
    Address, Amount, BlockHash, Network, OutPoint, Script, ScriptBuf, Sequence, Transaction, TxIn, TxOut,
    Txid, Witness,
};
use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::script::asm;
use crate::chain::ChainState;
use crate::descriptor::infer_descriptor;
use crate::Coin;

use super::blockchain::find_block;
use super::util::*;
use super::{CallResult, Dispatcher};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!("Rawtransactions", "getrawtransaction", ["txid", "verbosity|verbose", "blockhash"], 1, "Returns a transaction from the mempool or, without a txindex, from a scan of the active chain (or only blockhash).", getrawtransaction),
    builtin!("Rawtransactions", "decoderawtransaction", ["hexstring", "iswitness"], 1, "Returns a JSON object representing the serialized, hex-encoded transaction.", decoderawtransaction),
    builtin!("Rawtransactions", "decodescript", ["hexstring"], 1, "Decodes a hex-encoded script: asm, desc, type, address, and its P2SH and segwit wrappings where they exist.", decodescript),
    builtin!("Rawtransactions", "createrawtransaction", ["inputs", "outputs", "locktime", "replaceable"], 2, "Creates an unsigned transaction spending inputs ([{\"txid\",\"vout\",\"sequence\"}]) to outputs ({address: amount, \"data\": hex} or an array of such objects); returns its hex.", createrawtransaction),
];

/// Core's `GetTxnOutputType` name for `script`.
pub(crate) fn script_type(script: &Script) -> &'static str {
    if script.is_p2wpkh() {
        "witness_v0_keyhash"
    } else if script.is_p2pkh() {
        "pubkeyhash"
    } else if script.is_p2sh() {
        "scripthash"
    } else if script.is_p2wsh() {
        "witness_v0_scripthash"
    } else if script.is_p2tr() {
        "witness_v1_taproot"
    } else if script.as_bytes() == [0x51, 0x02, 0x4e, 0x73] {
        "anchor"
    } else if script.is_witness_program() {
        "witness_unknown"
    } else if crate::policy::is_null_data(script) {
        "nulldata"
    } else if script.is_p2pk() {
        "pubkey"
    } else if script.is_multisig() {
        "multisig"
    } else {
        "nonstandard"
    }
}

/// Core's `ScriptToUniv` with hex and address: `asm`, `desc`, `hex`, `address` (when the
/// script has one; never for P2PK), `type`.
pub(crate) fn script_pubkey_json(script: &Script) -> Value {
    let mut o = Map::new();
    o.insert("asm".into(), json!(asm(script, false)));
    o.insert("desc".into(), json!(infer_descriptor(script, &[])));
    o.insert("hex".into(), json!(hex(script.as_bytes())));
    if !script.is_p2pk() {
        if let Ok(address) = Address::from_script(script, Network::Regtest) {
            o.insert("address".into(), json!(address.to_string()));
        }
    }
    o.insert("type".into(), json!(script_type(script)));
    Value::Object(o)
}

/// The coins a transaction's inputs spent, when known (Core's undo data), and whether to show
/// them (`getblock` verbosity 3).
#[derive(Clone, Copy)]
pub(crate) struct Prevouts<'a> {
    pub(crate) coins: &'a HashMap<OutPoint, Coin>,
    pub(crate) show: bool,
}

/// Core's `TxToUniv` with the hex: `txid` .. `vout`, then `fee` when the spent coins are known
/// (never for a coinbase), then `hex`.
pub(crate) fn tx_json(tx: &Transaction, prevouts: Option<Prevouts<'_>>) -> Value {
    let prevouts = prevouts.filter(|_| !tx.is_coinbase());
    let mut total_in = Some(Amount::ZERO);
    let vin: Vec<Value> = tx
        .input
        .iter()
        .map(|i| {
            let mut o = Map::new();
            if tx.is_coinbase() {
                o.insert("coinbase".into(), json!(hex(i.script_sig.as_bytes())));
            } else {
                o.insert("txid".into(), json!(i.previous_output.txid.to_string()));
                o.insert("vout".into(), json!(i.previous_output.vout));
                o.insert(
                    "scriptSig".into(),
                    json!({"asm": asm(&i.script_sig, true), "hex": hex(i.script_sig.as_bytes())}),
                );
            }
            if !i.witness.is_empty() {
                o.insert("txinwitness".into(), json!(i.witness.iter().map(hex).collect::<Vec<_>>()));
            }
            if let Some(p) = prevouts {
                let coin = p.coins.get(&i.previous_output);
                total_in = total_in.and_then(|t| t.checked_add(coin?.output.value));
                if let (true, Some(coin)) = (p.show, coin) {
                    o.insert(
                        "prevout".into(),
                        json!({
                            "generated": coin.is_coinbase,
                            "height": coin.height,
                            "value": btc(coin.output.value),
                            "scriptPubKey": script_pubkey_json(&coin.output.script_pubkey),
                        }),
                    );
                }
            }
            o.insert("sequence".into(), json!(i.sequence.0));
            Value::Object(o)
        })
        .collect();
    let vout: Vec<Value> = tx
        .output
        .iter()
        .enumerate()
        .map(|(n, o)| json!({"value": btc(o.value), "n": n, "scriptPubKey": script_pubkey_json(&o.script_pubkey)}))
        .collect();
    let mut o = json!({
        "txid": tx.compute_txid().to_string(),
        "hash": tx.compute_wtxid().to_string(),
        "version": tx.version.0,
        "size": tx.total_size(),
        "vsize": tx.vsize(),
        "weight": tx.weight().to_wu(),
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": vin,
        "vout": vout,
    });
    if prevouts.is_some() {
        let total_out = tx.output.iter().try_fold(Amount::ZERO, |a, o| a.checked_add(o.value));
        if let Some(fee) = total_in.zip(total_out).and_then(|(i, o)| i.checked_sub(o)) {
            o["fee"] = btc(fee);
        }
    }
    o["hex"] = json!(hex(&serialize(tx)));
    o
}

fn decode_failed() -> RpcError {
    RpcError::new(RpcError::DESERIALIZATION_ERROR, "TX decode failed")
}

/// A transaction from hex, as Core's `DecodeHexTx`: with or without witness serialisation
/// (`iswitness` forces one), the whole string consumed.
pub(crate) fn decode_tx(text: &str, witness: Option<bool>) -> Option<Transaction> {
    let bytes = unhex(text)?;
    let with_witness = || deserialize::<Transaction>(&bytes).ok();
    // Without witness: a transaction with no inputs reads as a witness marker, so it is read
    // field by field by the legacy rules (rust-bitcoin has no switch), only when asked.
    let legacy = || {
        let tx = deserialize::<Transaction>(&bytes).ok()?;
        tx.input.iter().all(|i| i.witness.is_empty()).then_some(tx)
    };
    match witness {
        Some(false) => legacy(),
        Some(true) | None => with_witness(),
    }
}

fn decoderawtransaction(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "decoderawtransaction")?;
    let text = as_str(required(args, 0, "decoderawtransaction")?)?;
    let witness = arg(args, 1).map(as_bool).transpose()?;
    let tx = decode_tx(text, witness).ok_or_else(decode_failed)?;
    let mut o = tx_json(&tx, None);
    if let Some(map) = o.as_object_mut() {
        map.remove("hex");
    }
    Ok(o)
}

fn decodescript(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "decodescript")?;
    let text = as_str(required(args, 0, "decodescript")?)?;
    let bytes = unhex(text).ok_or_else(|| {
        RpcError::new(
            RpcError::INVALID_PARAMETER,
            format!("argument must be hexadecimal string (not '{text}')"),
        )
    })?;
    let script = ScriptBuf::from_bytes(bytes);
    let mut o = script_pubkey_json(&script);
    if let Some(map) = o.as_object_mut() {
        map.remove("hex");
    }
    let kind = script_type(&script);
    // Core: P2SH can wrap any script but P2SH itself, witness programs, OP_RETURN outputs and
    // anchors; P2WSH (or P2WPKH for a key) only a script whose keys are all compressed and that
    // is not itself a witness program or P2SH.
    // Core's `IsUnspendable` (an OP_RETURN script, or one over MAX_SCRIPT_SIZE, 10,000 bytes) and
    // `HasValidOps` (every instruction parses, no opcode above OP_NOP10) rule wrapping out.
    let unspendable = script.is_op_return() || script.len() > 10_000;
    // Nor is a script with OP_CHECKSIGADD or a BIP342 OP_SUCCESSx opcode wrapped.
    let is_op_success = |op: u8| matches!(op, 80 | 98 | 126..=129 | 131..=134 | 137..=138 | 141..=142 | 149..=153 | 187..=254);
    let valid_ops = script.instructions().all(|i| match i {
        Ok(bitcoin::script::Instruction::Op(op)) => {
            op.to_u8() <= 0xb9 && op.to_u8() != 0xba && !is_op_success(op.to_u8())
        }
        Ok(bitcoin::script::Instruction::PushBytes(_)) => true,
        Err(_) => false,
    });
    let can_wrap = !unspendable
        && valid_ops
        && matches!(
            kind,
            "multisig"
                | "nonstandard"
                | "pubkey"
                | "pubkeyhash"
                | "witness_v0_keyhash"
                | "witness_v0_scripthash"
        );
    if !can_wrap {
        return Ok(o);
    }
    o["p2sh"] = json!(address_string(&script.to_p2sh()));
    let pushes_compressed_keys_only =
        script.instructions().filter_map(|i| i.ok()?.push_bytes().map(|b| b.len())).all(|len| len != 65);
    let segwit = match kind {
        "pubkey" if pushes_compressed_keys_only => script
            .instructions()
            .next()
            .and_then(|i| i.ok()?.push_bytes().map(|b| bitcoin::PublicKey::from_slice(b.as_bytes())))
            .and_then(Result::ok)
            .and_then(|k| k.wpubkey_hash().ok())
            .map(|hash| ScriptBuf::new_p2wpkh(&hash)),
        "pubkeyhash" => script
            .as_bytes()
            .get(3..23)
            .and_then(|h| bitcoin::WPubkeyHash::from_slice(h).ok())
            .map(|hash| ScriptBuf::new_p2wpkh(&hash)),
        "multisig" if pushes_compressed_keys_only => Some(script.to_p2wsh()),
        "nonstandard" => Some(script.to_p2wsh()),
        _ => None,
    };
    if let Some(segwit) = segwit {
        let mut inner = script_pubkey_json(&segwit);
        inner["p2sh-segwit"] = json!(address_string(&segwit.to_p2sh()));
        o["segwit"] = inner;
    }
    Ok(o)
}

fn address_string(script: &Script) -> String {
    Address::from_script(script, Network::Regtest).map(|a| a.to_string()).unwrap_or_default()
}

fn createrawtransaction(_d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "createrawtransaction")?;
    let inputs = required(args, 0, "createrawtransaction")?;
    let outputs = required(args, 1, "createrawtransaction")?;
    let lock_time = match arg(args, 2) {
        None => 0,
        Some(v) => u32::try_from(as_i64(v)?).map_err(|_| {
            RpcError::new(RpcError::INVALID_PARAMETER, "Invalid parameter, locktime out of range")
        })?,
    };
    // BIP125 signalling is the default, as in current bitcoind.
    let replaceable = arg(args, 3).map(as_bool).transpose()?.unwrap_or(true);
    let tx = build_raw_transaction(inputs, outputs, lock_time, replaceable)?;
    Ok(json!(hex(&serialize(&tx))))
}

/// Core's `ConstructTransaction`: inputs and outputs from their JSON, each input's sequence from
/// its own `sequence`, else BIP125's 0xfffffffd when `replaceable`, else one that enables the lock
/// time when there is one.
pub(crate) fn build_raw_transaction(
    inputs: &Value,
    outputs: &Value,
    lock_time: u32,
    replaceable: bool,
) -> Result<Transaction, RpcError> {
    let invalid = |m: String| RpcError::new(RpcError::INVALID_PARAMETER, m);
    let inputs = inputs.as_array().ok_or_else(|| type_error(inputs, "array"))?;
    let default_sequence = if replaceable {
        Sequence::ENABLE_RBF_NO_LOCKTIME
    } else if lock_time != 0 {
        Sequence::ENABLE_LOCKTIME_NO_RBF
    } else {
        Sequence::MAX
    };
    let mut tx_inputs = Vec::with_capacity(inputs.len());
    for input in inputs {
        let o = input.as_object().ok_or_else(|| type_error(input, "object"))?;
        let txid: Txid = parse_hash(o.get("txid").unwrap_or(&Value::Null), "txid")?;
        let vout = o.get("vout").ok_or_else(|| invalid("Invalid parameter, missing vout key".into()))?;
        let vout = vout.as_i64().ok_or_else(|| invalid("Invalid parameter, missing vout key".into()))?;
        let vout =
            u32::try_from(vout).map_err(|_| invalid("Invalid parameter, vout cannot be negative".into()))?;
        let sequence = match o.get("sequence") {
            None => default_sequence,
            Some(v) => Sequence(
                v.as_i64()
                    .and_then(|s| u32::try_from(s).ok())
                    .ok_or_else(|| invalid("Invalid parameter, sequence number is out of range".into()))?,
            ),
        };
        tx_inputs.push(TxIn {
            previous_output: OutPoint { txid, vout },
            script_sig: ScriptBuf::new(),
            sequence,
            witness: Witness::new(),
        });
    }
    // Outputs: one object, or an array of one-key objects (order kept).
    let pairs: Vec<(&String, &Value)> = match outputs {
        Value::Object(map) => map.iter().collect(),
        Value::Array(items) => {
            let mut pairs = Vec::new();
            for item in items {
                let map = item.as_object().ok_or_else(|| {
                    invalid("Invalid parameter, key-value pair not an object as expected".into())
                })?;
                if map.len() != 1 {
                    return Err(invalid(
                        "Invalid parameter, key-value pair must contain exactly one key".into(),
                    ));
                }
                pairs.extend(map.iter());
            }
            pairs
        }
        other => return Err(type_error(other, "object")),
    };
    let mut seen_addresses = std::collections::HashSet::new();
    let mut seen_data = false;
    let mut tx_outputs = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        if key == "data" {
            if seen_data {
                return Err(invalid("Invalid parameter, duplicate key: data".into()));
            }
            seen_data = true;
            let data = as_str(value)?;
            let bytes = unhex(data)
                .ok_or_else(|| invalid(format!("Data must be hexadecimal string (not '{data}')")))?;
            let push = bitcoin::script::PushBytesBuf::try_from(bytes)
                .map_err(|_| invalid("Invalid parameter, data too large".into()))?;
            tx_outputs.push(TxOut { value: Amount::ZERO, script_pubkey: ScriptBuf::new_op_return(push) });
            continue;
        }
        let address = parse_address(&json!(key)).map_err(|_| {
            RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, format!("Invalid Bitcoin address: {key}"))
        })?;
        if !seen_addresses.insert(key.clone()) {
            return Err(invalid(format!("Invalid parameter, duplicated address: {key}")));
        }
        let sats = super::amount::amount_from_value(value)?;
        let value = u64::try_from(sats)
            .map(Amount::from_sat)
            .map_err(|_| RpcError::new(RpcError::TYPE_ERROR, "Amount out of range"))?;
        tx_outputs.push(TxOut { value, script_pubkey: address.script_pubkey() });
    }
    Ok(Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: bitcoin::absolute::LockTime::from_consensus(lock_time),
        input: tx_inputs,
        output: tx_outputs,
    })
}

/// A transaction of the active chain and its block, by a scan from the tip down (what a
/// transaction index would answer; this node keeps none).
pub(crate) fn find_confirmed<'a>(chain: &'a ChainState, txid: &Txid) -> Option<(&'a Transaction, BlockHash)> {
    (0..=chain.height()).rev().find_map(|h| {
        let hash = chain.block_hash(h)?;
        chain.block(&hash)?.txdata.iter().find(|t| t.compute_txid() == *txid).map(|t| (t, hash))
    })
}

/// The coins the block `hash` spent, by outpoint.
pub(crate) fn block_prevouts(chain: &ChainState, hash: &BlockHash) -> HashMap<OutPoint, Coin> {
    chain.spent_coins(hash).map(|c| c.iter().cloned().collect()).unwrap_or_default()
}

fn getrawtransaction(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getrawtransaction")?;
    let txid: Txid = parse_hash(required(args, 0, "getrawtransaction")?, "parameter 1")?;
    let verbosity = match arg(args, 1) {
        None => 0,
        Some(Value::Bool(b)) => i64::from(*b),
        Some(v) => as_i64(v)?,
    };
    let blockhash: Option<BlockHash> = arg(args, 2).map(|v| parse_hash(v, "parameter 3")).transpose()?;
    let inner = d.node().lock();
    let chain = &inner.chain;
    let found: Option<(Transaction, Option<BlockHash>)> = if let Some(bh) = blockhash {
        let block = find_block(chain, &bh)?;
        block.txdata.iter().find(|t| t.compute_txid() == txid).map(|t| (t.clone(), Some(bh)))
    } else if let Some(entry) = inner.mempool.get(&txid) {
        Some((entry.tx.clone(), None))
    } else {
        find_confirmed(chain, &txid).map(|(tx, bh)| (tx.clone(), Some(bh)))
    };
    let Some((tx, in_block)) = found else {
        let message = if blockhash.is_some() {
            "No such transaction found in the provided block. Use gettransaction for wallet transactions."
        } else {
            "No such mempool or blockchain transaction. Use gettransaction for wallet transactions."
        };
        return Err(RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, message));
    };
    if verbosity <= 0 {
        return Ok(json!(hex(&serialize(&tx))));
    }
    // Verbosity 2 adds the fee and the spent coins, known for a confirmed transaction (Core
    // reads them from the block's undo data; a mempool transaction gets neither, as there).
    let coins = match (verbosity >= 2, in_block) {
        (true, Some(bh)) => Some(block_prevouts(chain, &bh)),
        _ => None,
    };
    let mut o = tx_json(&tx, coins.as_ref().map(|coins| Prevouts { coins, show: true }));
    if let Some(bh) = in_block {
        let height = chain.block_height(&bh).unwrap_or(0);
        o["blockhash"] = json!(bh.to_string());
        o["in_active_chain"] = json!(chain.is_active(&bh));
        o["confirmations"] = json!(i64::from(chain.height()) - i64::from(height) + 1);
        if let Some(h) = chain.header(&bh) {
            o["time"] = json!(h.time);
            o["blocktime"] = json!(h.time);
        }
    }
    Ok(o)
}
