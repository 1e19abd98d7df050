//! Bitcoin Core's `rpc/mempool.cpp` methods: the mempool and what enters it.

use bitcoin::{Amount, Transaction, Txid};
use interfaces::RpcError;
use serde_json::{json, Value};

use super::amount::amount_from_value;
use super::util::*;
use super::{CallResult, Dispatcher};
use crate::mempool::MempoolError;
use crate::Inner;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[
    builtin!(
        "Blockchain",
        "getmempoolentry",
        ["txid"],
        1,
        "Returns mempool data for the given transaction.",
        getmempoolentry
    ),
    builtin!("Blockchain", "getmempoolinfo", [], 0, "Returns details on the mempool.", getmempoolinfo),
    builtin!(
        "Blockchain",
        "getrawmempool",
        ["verbose", "mempool_sequence"],
        0,
        "Returns the txids in the mempool (verbose: an object by txid).",
        getrawmempool
    ),
    builtin!("Blockchain", "savemempool", [], 0, "Dumps the mempool to disk (<datadir>/regtest/mempool.dat, Core's format); returns {\"filename\"}.", savemempool),
    builtin!("Blockchain", "importmempool", ["filepath", "options"], 1, "Imports transactions from a mempool.dat (Core's format) into the mempool; options use_current_time (default true), apply_fee_delta_priority, apply_unbroadcast_set (default false).", importmempool),
    builtin!("Blockchain", "getmempoolancestors", ["txid", "verbose"], 1, "Returns the in-mempool ancestors of a mempool transaction (verbose: entries by txid).", getmempoolancestors),
    builtin!("Blockchain", "getmempooldescendants", ["txid", "verbose"], 1, "Returns the in-mempool descendants of a mempool transaction (verbose: entries by txid).", getmempooldescendants),
    builtin!("Blockchain", "testmempoolaccept", ["rawtxs", "maxfeerate"], 1, "Tests whether raw transactions (1 to 25, each may spend the ones before it) would be accepted by the mempool, without adding them; maxfeerate in BTC/kvB (default 0.10).", testmempoolaccept),
    builtin!(
        "Rawtransactions",
        "sendrawtransaction",
        ["hexstring", "maxfeerate", "maxburnamount"],
        1,
        "Submits a raw transaction to the mempool; maxfeerate in BTC/kvB (default 0.10, 0 no limit).",
        sendrawtransaction
    ),
];

fn getmempoolinfo(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getmempoolinfo")?;
    let mut inner = d.node().lock();
    let now = u64::from(inner.chain.now());
    let pool = &mut inner.mempool;
    let min_fee = pool.min_fee_per_kvb(now);
    let limits = *pool.limits();
    Ok(json!({
        "loaded": true,
        "size": pool.len(),
        "bytes": pool.total_vsize(),
        "usage": pool.usage(),
        "total_fee": btc(pool.total_fee()),
        "maxmempool": limits.max_usage_bytes,
        "mempoolminfee": btc(Amount::from_sat(min_fee)),
        "minrelaytxfee": btc(Amount::from_sat(limits.min_relay_fee_per_kvb)),
        "incrementalrelayfee": btc(Amount::from_sat(limits.incremental_relay_fee_per_kvb)),
        "unbroadcastcount": 0,
        "fullrbf": false,
        "permitbaremultisig": pool.policy().permit_bare_multisig,
        "maxdatacarriersize": pool.standard().max_data_carrier_bytes,
        "limitclustercount": pool.policy().cluster_count,
        "limitclustersize": pool.policy().cluster_size_vbytes,
    }))
}

fn savemempool(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "savemempool")?;
    let path = d
        .mempool_file()
        .ok_or_else(|| RpcError::new(RpcError::MISC_ERROR, "The mempool was not loaded yet"))?;
    d.node()
        .save_mempool(&path)
        .map_err(|e| RpcError::new(RpcError::MISC_ERROR, format!("Unable to dump mempool to disk: {e}")))?;
    Ok(json!({"filename": path.display().to_string()}))
}

fn importmempool(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "importmempool")?;
    let path = std::path::PathBuf::from(as_str(required(args, 0, "importmempool")?)?);
    let mut options = crate::MempoolImport {
        use_current_time: true,
        apply_fee_delta_priority: false,
        apply_unbroadcast_set: false,
    };
    if let Some(given) = arg(args, 1) {
        let given = given.as_object().ok_or_else(|| type_error(given, "object"))?;
        for (key, value) in given {
            let flag = as_bool(value)?;
            match key.as_str() {
                "use_current_time" => options.use_current_time = flag,
                "apply_fee_delta_priority" => options.apply_fee_delta_priority = flag,
                "apply_unbroadcast_set" => options.apply_unbroadcast_set = flag,
                other => {
                    return Err(RpcError::new(RpcError::TYPE_ERROR, format!("Unexpected key {other}")));
                }
            }
        }
    }
    d.node().import_mempool(&path, &options).map_err(|_| {
        RpcError::new(RpcError::MISC_ERROR, "Unable to import mempool file, see debug.log for details.")
    })?;
    Ok(json!({}))
}

/// Core's `entryToJSON`. `bip125-replaceable` is kept although bitcoind now shows it only with
/// `-deprecatedrpc=bip125`: it costs nothing, and widely used clients (the Rust
/// `bitcoincore-rpc` 0.19 types) fail to parse an entry without it. Its value is the mempool's
/// one answer ([`crate::Mempool::signals_rbf`]). There is no cluster linearization here, so a
/// transaction's chunk is itself (`chunkweight`, `fees.chunk`).
fn mempool_entry_json(inner: &Inner, txid: &Txid) -> Value {
    let pool = &inner.mempool;
    let Some(entry) = pool.get(txid) else { return Value::Null };
    let mut depends: Vec<String> = entry
        .tx
        .input
        .iter()
        .map(|i| i.previous_output.txid)
        .filter(|t| pool.contains(t))
        .map(|t| t.to_string())
        .collect();
    depends.sort();
    depends.dedup();
    let spentby: Vec<String> = pool.children(&entry.tx).iter().map(ToString::to_string).collect();
    // Fees as block templates count them: with `prioritisetransaction`'s deltas (Core's
    // "modified" fees, which the ancestor and descendant sums use too).
    let modified = |t: &Txid| Amount::from_sat(u64::try_from(pool.modified_fee(t).unwrap_or(0)).unwrap_or(0));
    let own = modified(txid);
    let sum = |set: &std::collections::HashSet<Txid>| {
        set.iter()
            .filter_map(|t| pool.get(t).map(|e| (t, e)))
            .fold((1usize, entry.vsize, own), |(n, size, fee), (t, e)| {
                (n + 1, size + e.vsize, fee + modified(t))
            })
    };
    let (ancestor_count, ancestor_size, ancestor_fees) = sum(&pool.ancestors(txid));
    let (descendant_count, descendant_size, descendant_fees) = sum(&pool.descendants(txid));
    json!({
        "vsize": entry.vsize,
        "weight": entry.tx.weight().to_wu(),
        "time": entry.time,
        "height": entry.height,
        "descendantcount": descendant_count,
        "descendantsize": descendant_size,
        "ancestorcount": ancestor_count,
        "ancestorsize": ancestor_size,
        "wtxid": entry.tx.compute_wtxid().to_string(),
        "chunkweight": entry.tx.weight().to_wu(),
        "fees": {
            "base": btc(entry.fee),
            "modified": btc(own),
            "ancestor": btc(ancestor_fees),
            "descendant": btc(descendant_fees),
            "chunk": btc(entry.fee),
        },
        "depends": depends,
        "spentby": spentby,
        "unbroadcast": false,
        "bip125-replaceable": pool.signals_rbf(txid).unwrap_or(false),
    })
}

fn getmempoolentry(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getmempoolentry")?;
    let txid: Txid = parse_hash(required(args, 0, "getmempoolentry")?, "txid")?;
    let inner = d.node().lock();
    if !inner.mempool.contains(&txid) {
        return Err(RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Transaction not in mempool"));
    }
    Ok(mempool_entry_json(&inner, &txid))
}

fn getrawmempool(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "getrawmempool")?;
    let verbose = arg(args, 0).map(as_bool).transpose()?.unwrap_or(false);
    let inner = d.node().lock();
    if !verbose {
        return Ok(json!(inner.mempool.txids().iter().map(ToString::to_string).collect::<Vec<_>>()));
    }
    let mut map = serde_json::Map::new();
    for txid in inner.mempool.txids() {
        map.insert(txid.to_string(), mempool_entry_json(&inner, txid));
    }
    Ok(Value::Object(map))
}

fn sendrawtransaction(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "sendrawtransaction")?;
    let hexstring = as_str(required(args, 0, "sendrawtransaction")?)?;
    let decode_failed = || {
        RpcError::new(
            RpcError::DESERIALIZATION_ERROR,
            "TX decode failed. Make sure the tx has at least one input.",
        )
    };
    let tx: Transaction = super::rawtransaction::decode_tx(hexstring, None).ok_or_else(decode_failed)?;
    let max_rate = max_fee_rate(arg(args, 1))?;
    let max_fee = max_fee_for(max_rate, tx.vsize() as u64);
    let txid = tx.compute_txid();
    {
        let inner = d.node().lock();
        if inner.mempool.contains(&txid) {
            return Ok(json!(txid.to_string()));
        }
        if outputs_in_utxo_set(&inner.chain, &tx, txid) {
            return Err(RpcError::new(
                RpcError::VERIFY_ALREADY_IN_CHAIN,
                "Transaction outputs already in utxo set",
            ));
        }
    }
    match d.node().submit_transaction(tx, max_fee) {
        Ok(txid) => Ok(json!(txid.to_string())),
        Err(e) => Err(mempool_rpc_error(&e)),
    }
}

fn ancestors_or_descendants(d: &Dispatcher, args: &[Value], name: &str, descendants: bool) -> CallResult {
    check_count(args, name)?;
    let txid: Txid = parse_hash(required(args, 0, name)?, "txid")?;
    let verbose = arg(args, 1).map(as_bool).transpose()?.unwrap_or(false);
    let inner = d.node().lock();
    if !inner.mempool.contains(&txid) {
        return Err(RpcError::new(RpcError::INVALID_ADDRESS_OR_KEY, "Transaction not in mempool"));
    }
    let set = if descendants { inner.mempool.descendants(&txid) } else { inner.mempool.ancestors(&txid) };
    // In the pool's order (parents first), as the txids Core lists.
    let ordered: Vec<&Txid> = inner.mempool.txids().iter().filter(|t| set.contains(*t)).collect();
    if !verbose {
        return Ok(json!(ordered.iter().map(ToString::to_string).collect::<Vec<_>>()));
    }
    let mut map = serde_json::Map::new();
    for t in ordered {
        map.insert(t.to_string(), mempool_entry_json(&inner, t));
    }
    Ok(Value::Object(map))
}

fn getmempoolancestors(d: &Dispatcher, args: &[Value]) -> CallResult {
    ancestors_or_descendants(d, args, "getmempoolancestors", false)
}

fn getmempooldescendants(d: &Dispatcher, args: &[Value]) -> CallResult {
    ancestors_or_descendants(d, args, "getmempooldescendants", true)
}

/// Core's `MAX_PACKAGE_COUNT`: the most transactions `testmempoolaccept` tests at once.
const MAX_PACKAGE_COUNT: usize = 25;

fn testmempoolaccept(d: &Dispatcher, args: &[Value]) -> CallResult {
    check_count(args, "testmempoolaccept")?;
    let rawtxs = required(args, 0, "testmempoolaccept")?;
    let rawtxs = rawtxs.as_array().ok_or_else(|| type_error(rawtxs, "array"))?;
    if rawtxs.is_empty() || rawtxs.len() > MAX_PACKAGE_COUNT {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            format!("Array must contain between 1 and {MAX_PACKAGE_COUNT} transactions."),
        ));
    }
    let max_rate = max_fee_rate(arg(args, 1))?;
    let mut txs = Vec::with_capacity(rawtxs.len());
    for raw in rawtxs {
        let tx = super::rawtransaction::decode_tx(as_str(raw)?, None).ok_or_else(|| {
            RpcError::new(
                RpcError::DESERIALIZATION_ERROR,
                format!("TX decode failed: {}", as_str(raw).unwrap_or_default()),
            )
        })?;
        txs.push(tx);
    }
    let inner = d.node().lock();
    // A scratch copy of the pool takes each transaction in turn, so later ones may spend earlier
    // ones; the node's own pool is never touched.
    let mut scratch = inner.mempool.clone();
    let mut failed = false;
    let mut results = Vec::with_capacity(txs.len());
    for tx in txs {
        let txid = tx.compute_txid();
        let mut result = serde_json::Map::new();
        result.insert("txid".into(), json!(txid.to_string()));
        result.insert("wtxid".into(), json!(tx.compute_wtxid().to_string()));
        if failed {
            // Core stops at the first failure of a package; the rest are left untested.
            results.push(Value::Object(result));
            continue;
        }
        let vsize = tx.vsize() as u64;
        let max_fee = max_fee_for(max_rate, vsize);
        let outcome = if outputs_in_utxo_set(&inner.chain, &tx, txid) {
            Err("txn-already-known".to_string())
        } else {
            scratch.accept(&inner.chain, tx, max_fee).map_err(|e| match e {
                MempoolError::Invalid(crate::BlockError::MissingOrSpent { .. }) => {
                    "missing-inputs".to_string()
                }
                other => other.reject_reason(),
            })
        };
        match outcome {
            Ok((_, fee)) => {
                result.insert("allowed".into(), json!(true));
                result.insert("vsize".into(), json!(vsize));
                let rate = Amount::from_sat(fee.to_sat().saturating_mul(1000) / vsize.max(1));
                result.insert(
                    "fees".into(),
                    json!({"base": btc(fee), "effective-feerate": btc(rate), "effective-includes": [tx_wtxid(&scratch, &txid)]}),
                );
            }
            Err(reason) => {
                failed = true;
                result.insert("allowed".into(), json!(false));
                result.insert("reject-reason".into(), json!(reason));
            }
        }
        results.push(Value::Object(result));
    }
    Ok(Value::Array(results))
}

fn tx_wtxid(pool: &crate::mempool::Mempool, txid: &Txid) -> String {
    pool.get(txid).map(|e| e.tx.compute_wtxid().to_string()).unwrap_or_default()
}

/// `maxfeerate` (BTC/kvB) of `sendrawtransaction` and `testmempoolaccept`: Core's 0.10 when not
/// given, 0 for no limit.
fn max_fee_rate(value: Option<&Value>) -> Result<Amount, RpcError> {
    Ok(match value {
        None => Amount::from_sat(10_000_000),
        Some(value) => Amount::from_sat(amount_from_value(value)?.unsigned_abs()),
    })
}

/// The most a transaction of `vsize` may pay at `rate` (`None`: no limit).
fn max_fee_for(rate: Amount, vsize: u64) -> Option<Amount> {
    (rate > Amount::ZERO).then(|| Amount::from_sat(rate.to_sat().saturating_mul(vsize) / 1000))
}

/// Whether any output of `txid` is in the UTXO set: the transaction is confirmed already.
fn outputs_in_utxo_set(chain: &crate::ChainState, tx: &Transaction, txid: Txid) -> bool {
    (0..tx.output.len())
        .filter_map(|v| u32::try_from(v).ok())
        .any(|vout| chain.utxos().get(&bitcoin::OutPoint { txid, vout }).is_some())
}

/// bitcoind's code and message for a refused transaction.
pub(crate) fn mempool_rpc_error(e: &MempoolError) -> RpcError {
    match e {
        MempoolError::MaxFeeExceeded { .. } => RpcError::new(
            RpcError::VERIFY_ERROR,
            "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
        ),
        MempoolError::Invalid(crate::BlockError::MissingOrSpent { .. }) => {
            RpcError::new(RpcError::VERIFY_ERROR, "bad-txns-inputs-missingorspent")
        }
        other => RpcError::new(RpcError::VERIFY_REJECTED, other.reject_reason()),
    }
}
