//! Bitcoin Core's `rpc/mining.cpp` methods: making blocks.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{Block, ScriptBuf, Transaction, Txid, Weight};
use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::blockchain::target_hex;
use super::output_script::script_from_descriptor;
use super::util::*;
use super::{CallResult, Dispatcher};
use crate::chain::MAX_BLOCK_SIGOPS_COST;
use crate::mining::{assemble, last_block_stats, AssembleOptions};
use crate::state::{WaitEnd, WaitPoll};
use crate::BlockError;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!("Mining", "submitblock", ["hexdata", "dummy"], 1, "Submits a new block; null on success, else bitcoind's BIP22 result (\"duplicate\", \"inconclusive\" or the reject reason).", submitblock),
    builtin!("Generating", "generateblock", ["output", "transactions", "submit"], 2, "Mines a block with the given transactions (txids from the mempool or raw hex) paying to output (an address).", generateblock),
    builtin!("Generating", "generatetodescriptor", ["num_blocks", "descriptor", "maxtries"], 2, "Mines num_blocks blocks paying to the script of descriptor (unranged; a combo() pays its P2WPKH, or P2PKH for an uncompressed key); returns their hashes.", generatetodescriptor),
    builtin!("hidden", "generate", [], 0, "has been replaced by the -generate cli option. Refer to -help for more information.\n", generate),
    builtin!("Generating", "generatetoaddress", ["nblocks", "address", "maxtries"], 2, "Mines nblocks blocks paying to address; returns their hashes.", generatetoaddress),
    builtin!("Mining", "getblocktemplate", ["template_request"], 0, "Returns a block template for external mining software (BIP22/BIP23); the request must carry {\"rules\": [\"segwit\"]}. Modes \"template\" (long polling with longpollid) and \"proposal\".", getblocktemplate),
    builtin!("Mining", "getmininginfo", [], 0, "Returns mining-related information: height, the last template's weight and transactions, difficulty, target, pooled transactions, the next block.", getmininginfo),
    builtin!("Mining", "prioritisetransaction", ["txid", "dummy", "fee_delta"], 1, "Accepts the transaction into mined blocks at a higher (or lower) priority: fee_delta satoshis are added to the fee block templates count for it.", prioritisetransaction),
    builtin!("Mining", "getprioritisedtransactions", [], 0, "Returns every fee delta set with prioritisetransaction, by txid, and whether the transaction is in the mempool.", getprioritisedtransactions),
];

fn generatetoaddress(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "generatetoaddress")?;
    let nblocks = as_i64(required(args, 0, "generatetoaddress")?)?;
    let address = parse_address(required(args, 1, "generatetoaddress")?)?;
    if let Some(v) = arg(args, 2) {
        as_i64(v)?;
    }
    // No cap, as in bitcoind: mining takes the node's lock per block and stops at a shutdown.
    let count = u32::try_from(nblocks.max(0)).unwrap_or(u32::MAX);
    let hashes = d
        .node()
        .generate(&address.script_pubkey(), count)
        .map_err(|e| RpcError::new(RpcError::INTERNAL_ERROR, e.to_string()))?;
    Ok(json!(hashes.iter().map(ToString::to_string).collect::<Vec<_>>()))
}

fn generatetodescriptor(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "generatetodescriptor")?;
    let nblocks = as_i64(required(args, 0, "generatetodescriptor")?)?;
    let text = as_str(required(args, 1, "generatetodescriptor")?)?;
    if let Some(v) = arg(args, 2) {
        as_i64(v)?;
    }
    let script =
        script_from_descriptor(text)?.map_err(|e| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, e))?;
    let count = u32::try_from(nblocks.max(0)).unwrap_or(u32::MAX);
    let hashes = d
        .node()
        .generate(&script, count)
        .map_err(|e| RpcError::new(RpcError::INTERNAL_ERROR, e.to_string()))?;
    Ok(json!(hashes.iter().map(ToString::to_string).collect::<Vec<_>>()))
}

/// `generate` is gone from bitcoind (since 0.19); it stays as a hidden method that says where it
/// went, with Core's text.
fn generate(_d: &Dispatcher, _args: &[Value]) -> CallResult {
    let help = super::find_builtin("generate").map(|b| b.help).unwrap_or_default();
    Err(RpcError::new(RpcError::METHOD_NOT_FOUND, format!("generate\n\n{help}")))
}

fn generateblock(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "generateblock")?;
    let output = as_str(required(args, 0, "generateblock")?)?;
    // A descriptor first, then an address, as Core.
    let script: ScriptBuf = match script_from_descriptor(output)? {
        Ok(script) => script,
        Err(_) => parse_address(&json!(output))
            .map_err(|_| {
                RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Error: Invalid address or descriptor")
            })?
            .script_pubkey(),
    };
    let list = required(args, 1, "generateblock")?;
    let items = list.as_array().ok_or_else(|| type_error(list, "array"))?;
    let submit = arg(args, 2).map(as_bool).transpose()?.unwrap_or(true);
    let mut txs = Vec::with_capacity(items.len());
    {
        let inner = d.node().lock();
        for item in items {
            let s = as_str(item)?;
            if let Ok(txid) = Txid::from_str(s) {
                let entry = inner.mempool.get(&txid).ok_or_else(|| {
                    RpcError::new(
                        RpcError::INVALID_ADDRESS_OR_KEY,
                        format!("Transaction {s} not in mempool."),
                    )
                })?;
                txs.push(entry.tx.clone());
            } else {
                let tx: Transaction = unhex(s).and_then(|b| deserialize(&b).ok()).ok_or_else(|| {
                    RpcError::new(
                        RpcError::DESERIALIZATION_ERROR,
                        format!("Transaction decode failed for {s}"),
                    )
                })?;
                txs.push(tx);
            }
        }
    }
    let verify_error = |e: crate::BlockError| {
        RpcError::new(RpcError::VERIFY_ERROR, format!("TestBlockValidity failed: {}", e.reject_reason()))
    };
    if !submit {
        let block = d.node().lock().chain.create_block_without_fees(&script, txs).map_err(verify_error)?;
        return Ok(json!({"hash": block.block_hash().to_string(), "hex": hex(&serialize(&block))}));
    }
    let hash = d.node().generate_block(&script, txs).map_err(verify_error)?;
    Ok(json!({"hash": hash.to_string()}))
}

fn submitblock(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "submitblock")?;
    let hexdata = as_str(required(args, 0, "submitblock")?)?;
    let block: Block = unhex(hexdata)
        .and_then(|b| deserialize(&b).ok())
        .ok_or_else(|| RpcError::new(RpcError::DESERIALIZATION_ERROR, "Block decode failed"))?;
    // bitcoind's BIP22 answers: null when the block is on the active chain, "inconclusive" when
    // it was stored on a side branch with less work, "duplicate" (-invalid, -inconclusive) for
    // a known block, else the reject reason.
    match d.node().submit_block(block) {
        Ok(hash) if d.node().lock().chain.is_active(&hash) => Ok(Value::Null),
        Ok(_) => Ok(json!("inconclusive")),
        Err(BlockError::Duplicate(hash)) => {
            let inner = d.node().lock();
            Ok(json!(if inner.chain.is_invalid(&hash) {
                "duplicate-invalid"
            } else if inner.chain.is_active(&hash) {
                "duplicate"
            } else {
                "duplicate-inconclusive"
            }))
        }
        Err(BlockError::NotOnTip(_)) => Ok(json!("inconclusive")),
        Err(e @ BlockError::Storage(_)) => Err(RpcError::new(RpcError::VERIFY_ERROR, e.to_string())),
        Err(e) => Ok(json!(e.reject_reason())),
    }
}

/// How long a long poll waits before it first looks at the mempool, then how often (Core's).
const LONGPOLL_FIRST_CHECK: Duration = Duration::from_secs(60);
const LONGPOLL_CHECK: Duration = Duration::from_secs(10);

fn getblocktemplate(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblocktemplate")?;
    let request = match arg(args, 0) {
        Some(Value::Object(o)) => o.clone(),
        Some(v) => return Err(type_error(v, "object")),
        None => Map::new(),
    };
    let mode = match request.get("mode") {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) => "template",
        Some(_) => return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Invalid mode")),
    };
    let node = d.node();
    if mode == "proposal" {
        let data = request
            .get("data")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::new(RpcError::TYPE_ERROR, "Missing data String key for proposal"))?;
        let block: Block = unhex(data)
            .and_then(|b| deserialize(&b).ok())
            .ok_or_else(|| RpcError::new(RpcError::DESERIALIZATION_ERROR, "Block decode failed"))?;
        let inner = node.lock();
        if inner.chain.header(&block.block_hash()).is_some() {
            return Ok(json!("duplicate"));
        }
        return Ok(match inner.chain.test_block_validity(&block, false, true) {
            Ok(()) => Value::Null,
            Err(BlockError::NotOnTip(_)) => json!("inconclusive-not-best-prevblk"),
            Err(e) => json!(e.reject_reason()),
        });
    }
    let mut rules = Vec::new();
    if let Some(Value::Array(list)) = request.get("rules") {
        for rule in list {
            rules.push(as_str(rule)?.to_string());
        }
    }
    if mode != "template" {
        return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Invalid mode"));
    }
    if let Some(longpollid) = request.get("longpollid").filter(|v| !v.is_null()) {
        longpoll(d, longpollid)?;
    }
    if !rules.iter().any(|r| r == "segwit") {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            "getblocktemplate must be called with the segwit rule set (call with {\"rules\": [\"segwit\"]})",
        ));
    }

    let changes = node.watch().mempool_changes;
    let inner = node.lock();
    let options = AssembleOptions::from_client(&interfaces::BlockCreateOptions::default())
        .map_err(|e| RpcError::new(RpcError::INTERNAL_ERROR, e))?;
    let template = assemble(&inner.chain, &inner.mempool, &options)
        .map_err(|e| RpcError::new(RpcError::INTERNAL_ERROR, e.to_string()))?;
    let median_time_past = inner.chain.median_time_past();
    drop(inner);
    let block = &template.block;
    let position: HashMap<Txid, usize> =
        block.txdata.iter().enumerate().map(|(i, tx)| (tx.compute_txid(), i)).collect();
    let transactions: Vec<Value> = block
        .txdata
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, tx)| {
            let depends: Vec<usize> = tx
                .input
                .iter()
                .filter_map(|input| position.get(&input.previous_output.txid).copied())
                .collect();
            json!({
                "data": hex(&serialize(tx)),
                "txid": tx.compute_txid().to_string(),
                "hash": tx.compute_wtxid().to_string(),
                "depends": depends,
                "fee": template.fees.get(i - 1).copied().unwrap_or(0),
                "sigops": template.sigops.get(i - 1).copied().unwrap_or(0),
                "weight": tx.weight().to_wu(),
            })
        })
        .collect();
    let coinbase_value =
        block.txdata.first().and_then(|cb| cb.output.first()).map_or(0, |o| o.value.to_sat());
    let bits = block.header.bits.to_consensus();
    let mut result = json!({
        "capabilities": ["proposal"],
        "version": block.header.version.to_consensus(),
        "rules": ["csv", "!segwit", "taproot"],
        "vbavailable": {},
        "vbrequired": 0,
        "previousblockhash": block.header.prev_blockhash.to_string(),
        "transactions": transactions,
        "coinbaseaux": {},
        "coinbasevalue": coinbase_value,
        "longpollid": format!("{}{}", block.header.prev_blockhash, changes),
        "target": target_hex(bits),
        "mintime": median_time_past.saturating_add(1),
        "mutable": ["time", "transactions", "prevblock"],
        "noncerange": "00000000ffffffff",
        "sigoplimit": MAX_BLOCK_SIGOPS_COST,
        "sizelimit": 4_000_000,
        "weightlimit": Weight::MAX_BLOCK.to_wu(),
        "curtime": block.header.time,
        "bits": format!("{bits:08x}"),
        "height": template.height,
    });
    if let (Some(commitment), Some(o)) = (template.coinbase.required_outputs.first(), result.as_object_mut())
    {
        if let Ok(output) = deserialize::<bitcoin::TxOut>(commitment) {
            o.insert("default_witness_commitment".into(), json!(hex(output.script_pubkey.as_bytes())));
        }
    }
    Ok(result)
}

/// BIP22 long polling: returns when the tip is no longer the one `longpollid` names, or (looked
/// at after a minute, then every 10 s) the mempool changed since; at once on a shutdown.
fn longpoll(d: &Dispatcher, longpollid: &Value) -> Result<(), RpcError> {
    let node = d.node();
    let (watched, seen) = match longpollid {
        Value::String(s) => {
            let hash: bitcoin::BlockHash = parse_hash(&json!(s.get(..64).unwrap_or(s)), "longpollid")?;
            let seen = s.get(64..).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
            (hash, seen)
        }
        _ => {
            let watch = node.watch();
            (watch.tip, watch.mempool_changes)
        }
    };
    let mut next_check = Instant::now() + LONGPOLL_FIRST_CHECK;
    loop {
        let end = node.wait_watch(Some(next_check), |watch| {
            if watch.tip != watched {
                WaitPoll::Ready(())
            } else {
                WaitPoll::Pending(None)
            }
        });
        match end {
            WaitEnd::Ready(()) | WaitEnd::Cancelled => return Ok(()),
            WaitEnd::Shutdown => return Err(RpcError::new(-9, "Shutting down")),
            WaitEnd::Timeout => {
                if node.watch().mempool_changes != seen {
                    return Ok(());
                }
                next_check = Instant::now() + LONGPOLL_CHECK;
            }
        }
    }
}

fn getmininginfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getmininginfo")?;
    let inner = d.node().lock();
    let chain = &inner.chain;
    let height = chain.height();
    let bits = chain.header(&chain.tip()).map_or(0, |h| h.bits.to_consensus());
    let next_bits = chain.params().pow_bits.to_consensus();
    let mut o = Map::new();
    o.insert("blocks".into(), json!(height));
    if let Some((weight, txs)) = last_block_stats() {
        o.insert("currentblockweight".into(), json!(weight));
        o.insert("currentblocktx".into(), json!(txs));
    }
    o.insert("bits".into(), json!(format!("{bits:08x}")));
    o.insert("difficulty".into(), real_value(difficulty(bits)));
    o.insert("target".into(), json!(target_hex(bits)));
    o.insert("networkhashps".into(), real_value(network_hashps(chain, 120)));
    o.insert("pooledtx".into(), json!(inner.mempool.len()));
    o.insert("blockmintxfee".into(), json!(0.00001));
    o.insert("chain".into(), json!("regtest"));
    o.insert(
        "next".into(),
        json!({
            "height": height.saturating_add(1),
            "bits": format!("{next_bits:08x}"),
            "difficulty": real_value(difficulty(next_bits)),
            "target": target_hex(next_bits),
        }),
    );
    o.insert("warnings".into(), json!([]));
    Ok(Value::Object(o))
}

/// Core's `GetNetworkHashPS` over the last `lookup` blocks: the work done between the earliest
/// and the latest block time among them, per second.
fn network_hashps(chain: &crate::ChainState, lookup: u32) -> f64 {
    let height = chain.height();
    if height == 0 {
        return 0.0;
    }
    let start = height.saturating_sub(lookup.min(height));
    let (mut min_time, mut max_time) = (u32::MAX, 0u32);
    for h in start..=height {
        if let Some(header) = chain.block_hash(h).and_then(|hash| chain.header(&hash)) {
            min_time = min_time.min(header.time);
            max_time = max_time.max(header.time);
        }
    }
    if max_time <= min_time {
        return 0.0;
    }
    let work = |h: u32| chain.block_hash(h).and_then(|hash| chain.block_chain_work(&hash));
    let (Some(end_work), Some(start_work)) = (work(height), work(start)) else { return 0.0 };
    let diff = end_work - start_work;
    let bytes = diff.to_be_bytes();
    let value = bytes.iter().fold(0f64, |acc, b| acc * 256.0 + f64::from(*b));
    value / f64::from(max_time - min_time)
}

fn prioritisetransaction(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "prioritisetransaction")?;
    let txid: Txid = parse_hash(required(args, 0, "prioritisetransaction")?, "txid")?;
    if let Some(dummy) = arg(args, 1).filter(|v| !v.is_null()) {
        let value = dummy.as_f64().ok_or_else(|| type_error(dummy, "number"))?;
        if value != 0.0 {
            return Err(RpcError::new(
                RpcError::INVALID_PARAMETER,
                "Priority is no longer supported, dummy argument to prioritisetransaction must be 0.",
            ));
        }
    }
    let delta = as_i64(required(args, 2, "prioritisetransaction")?)?;
    d.node().prioritise_transaction(txid, delta);
    Ok(json!(true))
}

fn getprioritisedtransactions(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getprioritisedtransactions")?;
    let inner = d.node().lock();
    let mut deltas: Vec<(&Txid, &i64)> = inner.mempool.deltas().iter().collect();
    deltas.sort_by_key(|(txid, _)| txid.to_byte_array());
    let mut o = Map::new();
    for (txid, delta) in deltas {
        let mut entry = json!({"fee_delta": delta, "in_mempool": inner.mempool.contains(txid)});
        if let (Some(fee), Some(e)) = (inner.mempool.modified_fee(txid), entry.as_object_mut()) {
            e.insert("modified_fee".into(), json!(fee));
        }
        o.insert(txid.to_string(), entry);
    }
    Ok(Value::Object(o))
}
