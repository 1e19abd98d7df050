//! Bitcoin Core's `rpc/rawtransaction.cpp` methods, and the transaction JSON they share.
//!
//! `getrawtransaction` finds mempool transactions, and, without a transaction index, confirmed
//! ones by scanning the active chain's blocks from the tip down (or only `blockhash` when given).

use std::collections::HashMap;

use bitcoin::consensus::serialize;
use bitcoin::{Address, Amount, BlockHash, Network, OutPoint, Script, Transaction, Txid};
use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::script::{asm, infer_descriptor};
use crate::chain::ChainState;
use crate::Coin;

use super::blockchain::find_block;
use super::util::*;
use super::{CallResult, Dispatcher};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!("Rawtransactions", "getrawtransaction", ["txid", "verbose", "blockhash"], 1, "Returns a transaction from the mempool or, without a txindex, from a scan of the active chain (or only blockhash).", getrawtransaction),
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
    } else if script.is_op_return() {
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
        (0..=chain.height()).rev().find_map(|h| {
            let bh = chain.block_hash(h)?;
            let block = chain.block(&bh)?;
            block.txdata.iter().find(|t| t.compute_txid() == txid).map(|t| (t.clone(), Some(bh)))
        })
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
