//! Bitcoin Core's `rpc/mining.cpp` methods: making blocks.

use std::str::FromStr;

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::{Block, ScriptBuf, Transaction, Txid};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};
use crate::BlockError;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!("Mining", "submitblock", ["hexdata", "dummy"], 1, "Submits a new block; null on success, else bitcoind's BIP22 result (\"duplicate\", \"inconclusive\" or the reject reason).", submitblock),
    builtin!("Generating", "generateblock", ["output", "transactions", "submit"], 2, "Mines a block with the given transactions (txids from the mempool or raw hex) paying to output (an address).", generateblock),
    builtin!("Generating", "generatetoaddress", ["nblocks", "address", "maxtries"], 2, "Mines nblocks blocks paying to address; returns their hashes.", generatetoaddress),
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

fn generateblock(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "generateblock")?;
    let output = required(args, 0, "generateblock")?;
    let script: ScriptBuf = parse_address(output)
        .map_err(|_| RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Error: Invalid address or descriptor"))?
        .script_pubkey();
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
        let block = d.node().lock().chain.create_block(&script, txs).map_err(verify_error)?;
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
    // bitcoind's BIP22 answers: null when connected, "duplicate" for a known block,
    // "inconclusive" for a valid-looking block that does not extend the tip (bitcoind would keep
    // it on a side branch; this node does not keep side branches yet), else the reject reason.
    match d.node().submit_block(block) {
        Ok(_) => Ok(Value::Null),
        Err(BlockError::Duplicate(_)) => Ok(json!("duplicate")),
        Err(BlockError::NotOnTip(_)) => Ok(json!("inconclusive")),
        Err(e @ BlockError::Storage(_)) => Err(RpcError::new(RpcError::VERIFY_ERROR, e.to_string())),
        Err(e) => Ok(json!(e.reject_reason())),
    }
}
