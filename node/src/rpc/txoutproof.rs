//! Bitcoin Core's `rpc/txoutproof.cpp`: merkle proofs that transactions are in a block
//! (`gettxoutproof`, `verifytxoutproof`), as serialized `CMerkleBlock`s.
//!
//! Finding the block without `blockhash` follows Core: a transaction with an unspent output is
//! found through the UTXO set; any other only with `-txindex` (here a scan of the active chain's
//! blocks, which answers what an index would).

use std::collections::HashSet;

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::merkle_tree::MerkleBlock;
use bitcoin::{BlockHash, OutPoint, Txid};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!("Blockchain", "gettxoutproof", ["txids", "blockhash"], 1, "Returns a hex-encoded proof that the given transactions were included in a block (found from their unspent outputs, with -txindex from any, or in blockhash).", gettxoutproof),
    builtin!("Blockchain", "verifytxoutproof", ["proof"], 1, "Verifies a proof made by gettxoutproof; returns the txids it commits to, or an empty list when its block is not in the active chain.", verifytxoutproof),
];

fn gettxoutproof(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "gettxoutproof")?;
    let list = required(args, 0, "gettxoutproof")?;
    let items = list.as_array().ok_or_else(|| type_error(list, "array"))?;
    if items.is_empty() {
        return Err(RpcError::new(RpcError::INVALID_PARAMETER, "Parameter 'txids' cannot be empty"));
    }
    let mut wanted: Vec<Txid> = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for item in items {
        let txid: Txid = parse_hash(item, "txid")?;
        if !seen.insert(txid) {
            return Err(RpcError::new(
                RpcError::INVALID_PARAMETER,
                format!("Invalid parameter, duplicated txid: {txid}"),
            ));
        }
        wanted.push(txid);
    }
    let given: Option<BlockHash> = arg(args, 1).map(|v| parse_hash(v, "blockhash")).transpose()?;
    let inner = d.node().lock();
    let chain = &inner.chain;
    let hash = match given {
        Some(hash) => {
            if chain.block_height(&hash).is_none() {
                return Err(RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Block not found"));
            }
            hash
        }
        None => {
            // Any unspent output of any of the transactions names the block.
            // (Core's `AccessByTxid`: outputs up to what a block could hold.)
            const MAX_OUTPUTS_PER_BLOCK: u32 = 111_111;
            let from_utxos = wanted.iter().find_map(|txid| {
                (0..MAX_OUTPUTS_PER_BLOCK)
                    .find_map(|vout| chain.utxos().get(&OutPoint { txid: *txid, vout }))
                    .and_then(|coin| chain.block_hash(coin.height))
            });
            let from_index = || {
                d.txindex()
                    .then(|| super::rawtransaction::find_confirmed(chain, &wanted[0]).map(|(_, hash)| hash))?
            };
            from_utxos.or_else(from_index).ok_or_else(|| {
                RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Transaction not yet in block")
            })?
        }
    };
    let block = chain
        .block(&hash)
        .ok_or_else(|| RpcError::new(RpcError::MISC_ERROR, "Can't read block from disk"))?;
    let in_block: HashSet<Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
    if !wanted.iter().all(|t| in_block.contains(t)) {
        return Err(RpcError::new(
            RpcError::INVALID_ADDRESS_OR_KEY,
            "Not all transactions found in specified or retrieved block",
        ));
    }
    let proof = MerkleBlock::from_block_with_predicate(block, |t| seen.contains(t));
    Ok(json!(hex(&serialize(&proof))))
}

fn verifytxoutproof(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "verifytxoutproof")?;
    let text = as_str(required(args, 0, "verifytxoutproof")?)?;
    let proof: MerkleBlock = unhex(text)
        .and_then(|bytes| deserialize(&bytes).ok())
        .ok_or_else(|| RpcError::new(RpcError::DESERIALIZATION_ERROR, "Proof decode failed"))?;
    let mut matches = Vec::new();
    let mut indexes = Vec::new();
    let root = proof.txn.extract_matches(&mut matches, &mut indexes).map_err(|_| {
        RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Proof does not commit to its transactions")
    })?;
    if root != proof.header.merkle_root {
        return Ok(json!([]));
    }
    let hash = proof.header.block_hash();
    let inner = d.node().lock();
    if !inner.chain.is_active(&hash) {
        if inner.chain.block_height(&hash).is_none() {
            return Err(RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Block not found in chain"));
        }
        return Ok(json!([]));
    }
    Ok(json!(matches.iter().map(ToString::to_string).collect::<Vec<_>>()))
}
