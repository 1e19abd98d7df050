//! Bitcoin Core's UTXO-set statistics (`gettxoutsetinfo`, from its `rpc/blockchain.cpp`).
//!
//! `hash_serialized_3` is computed exactly as Core does (double SHA-256 over every coin as
//! outpoint, `height * 2 + coinbase` and the output, in the coins database's key order: txid
//! bytes, then output index), so two nodes with the same set, ours or bitcoind, agree. There is
//! no coin statistics index (`use_index` is refused) and no MuHash.

use bitcoin::consensus::Encodable;
use bitcoin::hashes::{sha256d, Hash, HashEngine};
use bitcoin::{Amount, OutPoint};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::util::*;
use super::{CallResult, Dispatcher};
use crate::Coin;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!("Blockchain", "gettxoutsetinfo", ["hash_type", "hash_or_height", "use_index"], 0, "Returns statistics about the unspent transaction output set at the tip: txouts, transactions, bogosize, total_amount, and its hash (hash_type \"hash_serialized_3\" (default) or \"none\").", gettxoutsetinfo),
];

/// Core's `GetBogoSize`: a rough, implementation-independent size of one coin.
fn bogosize(coin: &Coin) -> u64 {
    (32 + 4 + 4 + 8 + 2 + coin.output.script_pubkey.len()) as u64
}

/// Core's `TxOutSer` of one coin into `engine`.
fn hash_coin(engine: &mut <sha256d::Hash as Hash>::Engine, outpoint: &OutPoint, coin: &Coin) {
    let mut bytes = Vec::with_capacity(80 + coin.output.script_pubkey.len());
    // Writing into a Vec cannot fail.
    let _ = outpoint.consensus_encode(&mut bytes);
    let code = (coin.height << 1) | u32::from(coin.is_coinbase);
    bytes.extend_from_slice(&code.to_le_bytes());
    let _ = coin.output.consensus_encode(&mut bytes);
    engine.input(&bytes);
}

fn gettxoutsetinfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "gettxoutsetinfo")?;
    let hash_type = arg(args, 0).map(as_str).transpose()?.unwrap_or("hash_serialized_3");
    if !matches!(hash_type, "hash_serialized_3" | "none" | "muhash") {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            format!("'{hash_type}' is not a valid hash_type"),
        ));
    }
    if hash_type == "muhash" {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            "hash_type muhash is not supported by this node",
        ));
    }
    if arg(args, 1).is_some() {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            "Querying specific block heights requires coinstatsindex",
        ));
    }
    if arg(args, 2).map(as_bool).transpose()?.unwrap_or(false) {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            "coinstatsindex is not available on this node",
        ));
    }
    let inner = d.node().lock();
    let chain = &inner.chain;
    let mut coins: Vec<(&OutPoint, &Coin)> = chain.utxos().iter().collect();
    // The coins database's key order: txid as stored (internal byte order), then index.
    coins.sort_by(|a, b| (a.0.txid.as_byte_array(), a.0.vout).cmp(&(b.0.txid.as_byte_array(), b.0.vout)));
    let mut engine = sha256d::Hash::engine();
    let mut total = Amount::ZERO;
    let mut size = 0u64;
    let mut transactions = 0u64;
    let mut previous_txid = None;
    for (outpoint, coin) in &coins {
        if previous_txid != Some(outpoint.txid) {
            transactions += 1;
            previous_txid = Some(outpoint.txid);
        }
        total = total.checked_add(coin.output.value).unwrap_or(Amount::MAX_MONEY);
        size += bogosize(coin);
        if hash_type == "hash_serialized_3" {
            hash_coin(&mut engine, outpoint, coin);
        }
    }
    let mut out = serde_json::Map::new();
    out.insert("height".into(), json!(chain.height()));
    out.insert("bestblock".into(), json!(chain.tip().to_string()));
    out.insert("txouts".into(), json!(coins.len()));
    out.insert("bogosize".into(), json!(size));
    if hash_type == "hash_serialized_3" {
        // Shown as Core shows a uint256: reversed.
        out.insert("hash_serialized_3".into(), json!(sha256d::Hash::from_engine(engine).to_string()));
    }
    out.insert("total_amount".into(), btc(total));
    out.insert("transactions".into(), json!(transactions));
    // The set lives in memory here (rebuilt from the block file at start): its bogosize is the
    // nearest honest figure for Core's on-disk chainstate size.
    out.insert("disk_size".into(), json!(size));
    Ok(Value::Object(out))
}
