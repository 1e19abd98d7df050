//! Bitcoin Core's `rpc/blockchain.cpp` methods: blocks, headers, the chain and its UTXO set.

use bitcoin::consensus::serialize;
use bitcoin::{Block, BlockHash};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::rawtransaction::tx_json;
use super::util::*;
use super::{CallResult, Dispatcher};
use crate::chain::ChainState;

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
        ["blockhash", "verbosity"],
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
    builtin!("Blockchain", "getchaintips", [], 0, "Returns the tips of the block tree.", getchaintips),
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
    o["tx"] = if verbosity == 1 {
        json!(block.txdata.iter().map(|t| t.compute_txid().to_string()).collect::<Vec<_>>())
    } else {
        json!(block.txdata.iter().map(tx_json).collect::<Vec<_>>())
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
        "difficulty": real_value(difficulty(bits)),
        "time": chain.header(&tip).map_or(0, |h| h.time),
        "mediantime": chain.median_time_past(),
        "verificationprogress": 1,
        "initialblockdownload": false,
        "chainwork": hex(&chain.chain_work().to_be_bytes()),
        "size_on_disk": size_on_disk,
        "pruned": false,
        "warnings": "",
    }))
}

fn getchaintips(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getchaintips")?;
    let inner = d.node().lock();
    Ok(json!([{
        "height": inner.chain.height(),
        "hash": inner.chain.tip().to_string(),
        "branchlen": 0,
        "status": "active",
    }]))
}
