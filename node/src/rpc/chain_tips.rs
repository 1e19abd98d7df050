//! Bitcoin Core's methods over the block tree rather than the active chain (from its
//! `rpc/blockchain.cpp`): `getchaintips`, and the hidden `invalidateblock` / `reconsiderblock`
//! its tests use to force reorganisations.

use bitcoin::BlockHash;
use interfaces::RpcError;
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};
use crate::BlockError;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!("Blockchain", "getchaintips", [], 0, "Returns the tips of the block tree: the active tip, and each side branch's tip with its length and status (valid-fork, valid-headers, invalid).", getchaintips),
    builtin!("hidden", "invalidateblock", ["blockhash"], 1, "Permanently marks a block as invalid, as if it violated a consensus rule; the best remaining chain becomes active.", invalidateblock),
    builtin!("hidden", "reconsiderblock", ["blockhash"], 1, "Removes invalidity status of a block, its ancestors and its descendants, reconsidering them for activation.", reconsiderblock),
];

fn getchaintips(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getchaintips")?;
    let tips = d.node().lock().chain.chain_tips();
    Ok(json!(tips
        .iter()
        .map(|t| json!({"height": t.height, "hash": t.hash.to_string(), "branchlen": t.branch_len, "status": t.status}))
        .collect::<Vec<_>>()))
}

fn block_error(e: BlockError) -> RpcError {
    match e {
        BlockError::UnknownBlock(_) => RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Block not found"),
        other => RpcError::new(RpcError::DATABASE_ERROR, other.to_string()),
    }
}

fn invalidateblock(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "invalidateblock")?;
    let hash: BlockHash = parse_hash(required(args, 0, "invalidateblock")?, "blockhash")?;
    d.node().invalidate_block(&hash).map_err(block_error)?;
    Ok(Value::Null)
}

fn reconsiderblock(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "reconsiderblock")?;
    let hash: BlockHash = parse_hash(required(args, 0, "reconsiderblock")?, "blockhash")?;
    d.node().reconsider_block(&hash).map_err(block_error)?;
    Ok(Value::Null)
}
