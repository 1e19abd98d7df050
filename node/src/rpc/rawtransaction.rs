//! Bitcoin Core's `rpc/rawtransaction.cpp` methods, and the transaction JSON they share.
//!
//! `getrawtransaction` finds mempool transactions, and, without a transaction index, confirmed
//! ones by scanning the active chain's blocks from the tip down (or only `blockhash` when given).

use bitcoin::consensus::serialize;
use bitcoin::{Address, BlockHash, Network, Transaction, Txid};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::blockchain::find_block;
use super::util::*;
use super::{CallResult, Dispatcher};

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!("Rawtransactions", "getrawtransaction", ["txid", "verbose", "blockhash"], 1, "Returns a transaction from the mempool or, without a txindex, from a scan of the active chain (or only blockhash).", getrawtransaction),
];

pub(crate) fn script_type(script: &bitcoin::Script) -> &'static str {
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
    } else if script.is_op_return() {
        "nulldata"
    } else if script.is_p2pk() {
        "pubkey"
    } else {
        "nonstandard"
    }
}

/// A decoded transaction as `decoderawtransaction` / `getrawtransaction` verbose show it.
pub(crate) fn tx_json(tx: &Transaction) -> Value {
    let vin: Vec<Value> = tx
        .input
        .iter()
        .map(|i| {
            let witness: Vec<String> = i.witness.iter().map(hex).collect();
            let mut o = if tx.is_coinbase() {
                json!({"coinbase": hex(i.script_sig.as_bytes())})
            } else {
                json!({
                    "txid": i.previous_output.txid.to_string(),
                    "vout": i.previous_output.vout,
                    "scriptSig": {"asm": i.script_sig.to_asm_string(), "hex": hex(i.script_sig.as_bytes())},
                })
            };
            if !witness.is_empty() {
                o["txinwitness"] = json!(witness);
            }
            o["sequence"] = json!(i.sequence.0);
            o
        })
        .collect();
    let vout: Vec<Value> = tx
        .output
        .iter()
        .enumerate()
        .map(|(n, o)| {
            let mut spk = json!({
                "asm": o.script_pubkey.to_asm_string(),
                "desc": "",
                "hex": hex(o.script_pubkey.as_bytes()),
                "type": script_type(&o.script_pubkey),
            });
            if let Ok(address) = Address::from_script(&o.script_pubkey, Network::Regtest) {
                spk["address"] = json!(address.to_string());
            }
            if let Some(map) = spk.as_object_mut() {
                map.remove("desc");
            }
            json!({"value": btc(o.value), "n": n, "scriptPubKey": spk})
        })
        .collect();
    json!({
        "txid": tx.compute_txid().to_string(),
        "hash": tx.compute_wtxid().to_string(),
        "version": tx.version.0,
        "size": tx.total_size(),
        "vsize": tx.vsize(),
        "weight": tx.weight().to_wu(),
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": vin,
        "vout": vout,
    })
}

fn getrawtransaction(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getrawtransaction")?;
    let txid: Txid = parse_hash(required(args, 0, "getrawtransaction")?, "parameter 1")?;
    let verbose = match arg(args, 1) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => as_i64(v)? != 0,
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
    if !verbose {
        return Ok(json!(hex(&serialize(&tx))));
    }
    let mut o = tx_json(&tx);
    o["hex"] = json!(hex(&serialize(&tx)));
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
