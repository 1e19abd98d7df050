//! Bitcoin Core's `rpc/blockchain.cpp` methods: blocks, headers, the chain and its UTXO set.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use bitcoin::consensus::serialize;
use bitcoin::{Amount, Block, BlockHash, OutPoint, ScriptBuf, TxOut, Txid};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::output_script::parse_descriptor_range;
use super::rawtransaction::{block_prevouts, script_pubkey_json, tx_json, Prevouts};
use super::util::*;
use super::{CallResult, Dispatcher};
use crate::chain::ChainState;
use crate::descriptor::{infer_descriptor, Descriptor};
use crate::Coin;
use bitcoin::secp256k1::Secp256k1;

pub(crate) mod stats;
pub(crate) mod wait;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!(
        "Blockchain",
        "getbestblockhash",
        [],
        0,
        "Returns the hash of the best (tip) block.",
        getbestblockhash
    ),
    builtin!(
        "Blockchain",
        "getblock",
        ["blockhash", "verbosity|verbose"],
        1,
        "Returns a block: verbosity 0 hex, 1 object with txids (default), 2 with decoded transactions.",
        getblock
    ),
    builtin!(
        "Blockchain",
        "getblockchaininfo",
        [],
        0,
        "Returns an object with the state of the blockchain.",
        getblockchaininfo
    ),
    builtin!(
        "Blockchain",
        "getblockcount",
        [],
        0,
        "Returns the height of the most-work fully-validated chain.",
        getblockcount
    ),
    builtin!(
        "Blockchain",
        "getblockhash",
        ["height"],
        1,
        "Returns the hash of the block at height in the best chain.",
        getblockhash
    ),
    builtin!(
        "Blockchain",
        "getblockheader",
        ["blockhash", "verbose"],
        1,
        "Returns a block header: verbose true (default) an object, false hex.",
        getblockheader
    ),
    builtin!("Blockchain", "getdifficulty", [], 0, "Returns the proof-of-work difficulty as a multiple of the minimum difficulty.", getdifficulty),
    builtin!("Blockchain", "gettxout", ["txid", "n", "include_mempool"], 2, "Returns details about an unspent transaction output (null if spent or unknown).", gettxout),
    builtin!("Blockchain", "scantxoutset", ["action", "scanobjects"], 1, "Scans the UTXO set for outputs matching descriptors (strings, or {\"desc\", \"range\"} objects; ranged ones default to indexes 0..1000); action start, abort or status.", scantxoutset, usage = "scantxoutset \"action\" ( [scanobjects,...] )"),
    builtin!("hidden", "syncwithvalidationinterfacequeue", [], 0, "Waits until the notifications of every change made before the call have been delivered.", syncwithvalidationinterfacequeue),
];

pub(crate) fn find_block<'a>(chain: &'a ChainState, hash: &BlockHash) -> Result<&'a Block, RpcError> {
    chain.block(hash).ok_or_else(|| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Block not found"))
}

// ---- JSON shapes ----

pub(crate) fn header_json(chain: &ChainState, hash: &BlockHash, block: &Block) -> Value {
    let height = chain.block_height(hash).unwrap_or(0);
    let active = chain.is_active(hash);
    let confirmations = if active { i64::from(chain.height()) - i64::from(height) + 1 } else { -1 };
    let h = &block.header;
    let mut o = json!({
        "hash": hash.to_string(),
        "confirmations": confirmations,
        "height": height,
        "version": h.version.to_consensus(),
        "versionHex": format!("{:08x}", h.version.to_consensus()),
        "merkleroot": h.merkle_root.to_string(),
        "time": h.time,
        "mediantime": chain.median_time_past_of(height),
        "nonce": h.nonce,
        "bits": format!("{:08x}", h.bits.to_consensus()),
        "target": target_hex(h.bits.to_consensus()),
        "difficulty": real_value(difficulty(h.bits.to_consensus())),
        "chainwork": chain.block_chain_work(hash).map(|w| hex(&w.to_be_bytes())).unwrap_or_default(),
        "nTx": block.txdata.len(),
    });
    if height > 0 {
        o["previousblockhash"] = json!(h.prev_blockhash.to_string());
    }
    if active {
        if let Some(next) = chain.block_hash(height.saturating_add(1)) {
            o["nextblockhash"] = json!(next.to_string());
        }
    }
    o
}

/// The target `bits` stands for, as 64 hex digits (Core's `GetTarget(...).GetHex()`).
pub(crate) fn target_hex(bits: u32) -> String {
    hex(&bitcoin::Target::from_compact(bitcoin::CompactTarget::from_consensus(bits)).to_be_bytes())
}

/// Core's `coinbase_tx` object of `getblock` 1 and 2.
fn coinbase_json(tx: &bitcoin::Transaction) -> Value {
    let Some(input) = tx.input.first() else { return Value::Null };
    let mut o = json!({
        "version": tx.version.0,
        "locktime": tx.lock_time.to_consensus_u32(),
        "sequence": input.sequence.0,
        "coinbase": hex(input.script_sig.as_bytes()),
    });
    if let Some(item) = input.witness.iter().next() {
        o["witness"] = json!(hex(item));
    }
    o
}

fn getblockcount(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblockcount")?;
    Ok(json!(d.node().lock().chain.height()))
}

fn getbestblockhash(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getbestblockhash")?;
    Ok(json!(d.node().lock().chain.tip().to_string()))
}

fn getblockhash(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblockhash")?;
    let height = as_i64(required(args, 0, "getblockhash")?)?;
    let out_of_range = || RpcError::new(RpcError::INVALID_PARAMETER, "Block height out of range");
    let height = u32::try_from(height).map_err(|_| out_of_range())?;
    let hash = d.node().lock().chain.block_hash(height).ok_or_else(out_of_range)?;
    Ok(json!(hash.to_string()))
}

fn getblock(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblock")?;
    let hash: BlockHash = parse_hash(required(args, 0, "getblock")?, "blockhash")?;
    let verbosity = match arg(args, 1) {
        None => 1,
        Some(Value::Bool(b)) => i64::from(*b),
        Some(v) => as_i64(v)?,
    };
    let inner = d.node().lock();
    let block = find_block(&inner.chain, &hash)?;
    if verbosity <= 0 {
        return Ok(json!(hex(&serialize(block))));
    }
    let mut o = header_json(&inner.chain, &hash, block);
    o["strippedsize"] = json!(
        serialize(&block.header).len()
            + block.txdata.iter().map(|t| t.base_size()).sum::<usize>()
            + bitcoin::VarInt::from(block.txdata.len()).size()
    );
    o["size"] = json!(block.total_size());
    o["weight"] = json!(block.weight().to_wu());
    if let Some(coinbase) = block.txdata.first() {
        o["coinbase_tx"] = coinbase_json(coinbase);
    }
    o["tx"] = if verbosity == 1 {
        json!(block.txdata.iter().map(|t| t.compute_txid().to_string()).collect::<Vec<_>>())
    } else {
        // 2: decoded transactions with their fees; 3: and the coins they spent.
        let coins = block_prevouts(&inner.chain, &hash);
        let prevouts = Prevouts { coins: &coins, show: verbosity >= 3 };
        json!(block.txdata.iter().map(|t| tx_json(t, Some(prevouts))).collect::<Vec<_>>())
    };
    Ok(o)
}

fn getblockheader(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblockheader")?;
    let hash: BlockHash = parse_hash(required(args, 0, "getblockheader")?, "blockhash")?;
    let verbose = arg(args, 1).map(as_bool).transpose()?.unwrap_or(true);
    let inner = d.node().lock();
    let block = find_block(&inner.chain, &hash)?;
    if !verbose {
        return Ok(json!(hex(&serialize(&block.header))));
    }
    Ok(header_json(&inner.chain, &hash, block))
}

fn getblockchaininfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getblockchaininfo")?;
    let inner = d.node().lock();
    let chain = &inner.chain;
    let tip = chain.tip();
    let bits = chain.header(&tip).map_or(0, |h| h.bits.to_consensus());
    let size_on_disk: usize = (0..=chain.height())
        .filter_map(|h| chain.block_hash(h).and_then(|b| chain.block(&b)).map(|b| b.total_size() + 8))
        .sum();
    Ok(json!({
        "chain": "regtest",
        "blocks": chain.height(),
        "headers": chain.height(),
        "bestblockhash": tip.to_string(),
        "bits": format!("{bits:08x}"),
        "target": target_hex(bits),
        "difficulty": real_value(difficulty(bits)),
        "time": chain.header(&tip).map_or(0, |h| h.time),
        "mediantime": chain.median_time_past(),
        "verificationprogress": 1,
        "initialblockdownload": false,
        "chainwork": hex(&chain.chain_work().to_be_bytes()),
        "size_on_disk": size_on_disk,
        "pruned": false,
        // Core (since v28) gives the warnings as an array of strings.
        "warnings": [],
    }))
}

fn getdifficulty(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getdifficulty")?;
    let inner = d.node().lock();
    let bits = inner.chain.header(&inner.chain.tip()).map_or(0, |h| h.bits.to_consensus());
    Ok(real_value(difficulty(bits)))
}

fn syncwithvalidationinterfacequeue(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "syncwithvalidationinterfacequeue")?;
    d.node().sync_notifications();
    Ok(Value::Null)
}

fn gettxout(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "gettxout")?;
    let txid: Txid = parse_hash(required(args, 0, "gettxout")?, "txid")?;
    let n = as_i64(required(args, 1, "gettxout")?)?;
    let vout =
        u32::try_from(n).map_err(|_| RpcError::new(RpcError::TYPE_ERROR, "JSON integer out of range"))?;
    let include_mempool = arg(args, 2).map(as_bool).transpose()?.unwrap_or(true);
    let outpoint = OutPoint { txid, vout };
    let inner = d.node().lock();
    let chain = &inner.chain;
    // (output, height: None in the mempool, coinbase)
    let coin: Option<(TxOut, Option<u32>, bool)> = if include_mempool {
        if inner.mempool.spender(&outpoint).is_some() {
            None
        } else if let Some(coin) = chain.utxos().get(&outpoint) {
            Some((coin.output.clone(), Some(coin.height), coin.is_coinbase))
        } else {
            let output = inner.mempool.get(&txid).and_then(|e| e.tx.output.get(vout as usize).cloned());
            output.filter(|o| !o.script_pubkey.is_op_return()).map(|o| (o, None, false))
        }
    } else {
        chain.utxos().get(&outpoint).map(|c| (c.output.clone(), Some(c.height), c.is_coinbase))
    };
    let Some((output, height, coinbase)) = coin else { return Ok(Value::Null) };
    let confirmations = height.map_or(0, |h| i64::from(chain.height()) - i64::from(h) + 1);
    Ok(json!({
        "bestblock": chain.tip().to_string(),
        "confirmations": confirmations,
        "value": btc(output.value),
        "scriptPubKey": script_pubkey_json(&output.script_pubkey),
        "coinbase": coinbase,
    }))
}

/// Whether a `scantxoutset` is running, and whether it was asked to stop (one at a time per
/// process, as in bitcoind).
static SCAN_IN_PROGRESS: AtomicBool = AtomicBool::new(false);
static SCAN_ABORT: AtomicBool = AtomicBool::new(false);

/// Holds the one scan place while a scan runs.
struct ScanReservation;

impl ScanReservation {
    fn reserve() -> Option<ScanReservation> {
        (!SCAN_IN_PROGRESS.swap(true, Ordering::SeqCst)).then_some(ScanReservation)
    }
}

impl Drop for ScanReservation {
    fn drop(&mut self) {
        SCAN_IN_PROGRESS.store(false, Ordering::SeqCst);
    }
}

fn scantxoutset(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "scantxoutset")?;
    let action = as_str(required(args, 0, "scantxoutset")?)?;
    match action {
        "status" => {
            // A scan holds the node's lock from start to end, so none is ever seen half-way.
            if SCAN_IN_PROGRESS.load(Ordering::SeqCst) {
                return Ok(json!({"progress": 0}));
            }
            Ok(Value::Null)
        }
        "abort" => {
            if !SCAN_IN_PROGRESS.load(Ordering::SeqCst) {
                return Ok(json!(false));
            }
            SCAN_ABORT.store(true, Ordering::SeqCst);
            Ok(json!(true))
        }
        "start" => {
            let Some(_reservation) = ScanReservation::reserve() else {
                return Err(RpcError::new(
                    RpcError::INVALID_PARAMETER,
                    "Scan already in progress, use action \"abort\" or \"status\"",
                ));
            };
            let Some(objects) = arg(args, 1) else {
                return Err(RpcError::new(
                    RpcError::MISC_ERROR,
                    "scanobjects argument is required for the start action",
                ));
            };
            let objects = objects.as_array().ok_or_else(|| type_error(objects, "array"))?;
            let mut needles: HashMap<ScriptBuf, String> = HashMap::new();
            let secp = Secp256k1::new();
            for object in objects {
                // Core's EvalDescriptorStringOrObject: the range is read before the descriptor,
                // and ignored for an unranged one. A ranged one defaults to indexes 0..=1000.
                let (text, range) = match object {
                    Value::String(s) => (s.as_str(), None),
                    Value::Object(o) => {
                        let desc = o.get("desc").filter(|v| !v.is_null()).ok_or_else(|| {
                            RpcError::new(
                                RpcError::INVALID_PARAMETER,
                                "Descriptor needs to be provided in scan object",
                            )
                        })?;
                        let range = o
                            .get("range")
                            .filter(|r| !r.is_null())
                            .map(parse_descriptor_range)
                            .transpose()?;
                        (as_str(desc)?, range)
                    }
                    _ => {
                        return Err(RpcError::new(
                            RpcError::INVALID_PARAMETER,
                            "Scan object needs to be either a string or an object",
                        ))
                    }
                };
                let descriptor = Descriptor::parse(text, false)
                    .map_err(|e| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, e))?;
                let (begin, end) = if descriptor.is_range() { range.unwrap_or((0, 1000)) } else { (0, 0) };
                for one in descriptor.multipath_expansion() {
                    for index in begin..=end {
                        let expanded = one
                            .expand(&secp, index)
                            .map_err(|e| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, e))?;
                        for script in &expanded.scripts {
                            let inferred = infer_descriptor(script, &expanded.keys);
                            needles.entry(script.clone()).or_insert(inferred);
                        }
                    }
                }
            }
            SCAN_ABORT.store(false, Ordering::SeqCst);
            let inner = d.node().lock();
            let chain = &inner.chain;
            let mut found: Vec<(&OutPoint, &Coin)> = Vec::new();
            let mut count = 0u64;
            let mut success = true;
            for (outpoint, coin) in chain.utxos().iter() {
                if count % 10_000 == 0 && SCAN_ABORT.load(Ordering::SeqCst) {
                    success = false;
                    break;
                }
                count += 1;
                if needles.contains_key(&coin.output.script_pubkey) {
                    found.push((outpoint, coin));
                }
            }
            // bitcoind lists them by outpoint.
            found.sort_by_key(|(outpoint, _)| **outpoint);
            let mut total = Amount::ZERO;
            let unspents: Vec<Value> = found
                .iter()
                .map(|(outpoint, coin)| {
                    total += coin.output.value;
                    json!({
                        "txid": outpoint.txid.to_string(),
                        "vout": outpoint.vout,
                        "scriptPubKey": hex(coin.output.script_pubkey.as_bytes()),
                        "desc": needles.get(&coin.output.script_pubkey).cloned().unwrap_or_default(),
                        "amount": btc(coin.output.value),
                        "coinbase": coin.is_coinbase,
                        "height": coin.height,
                        "blockhash": chain.block_hash(coin.height).map(|h| h.to_string()).unwrap_or_default(),
                        "confirmations": i64::from(chain.height()) - i64::from(coin.height) + 1,
                    })
                })
                .collect();
            Ok(json!({
                "success": success,
                "txouts": count,
                "height": chain.height(),
                "bestblock": chain.tip().to_string(),
                "unspents": unspents,
                "total_amount": btc(total),
            }))
        }
        other => Err(RpcError::new(RpcError::INVALID_PARAMETER, format!("Invalid action '{other}'"))),
    }
}
