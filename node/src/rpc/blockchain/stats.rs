//! Bitcoin Core's `getblockstats` (`rpc/blockchain.cpp`): per-block statistics computed from the
//! block and the coins it spent (kept per active block, Core's undo data), with Core's
//! definitions: fees and fee rates (sat/vB, integer, by weight) of the non-coinbase transactions,
//! their sizes, truncated medians, weight-weighted fee-rate percentiles, and the UTXO set's
//! growth in count and in bytes (each coin costs its serialized size plus 40 bytes; unspendable
//! outputs and the genesis coinbase never enter the set, which the `_actual` figures reflect).

use bitcoin::consensus::serialize;
use bitcoin::{Amount, BlockHash, Transaction, TxOut};
use interfaces::RpcError;
use serde_json::{json, Map, Value};

use super::super::util::*;
use super::super::{CallResult, Dispatcher};
use super::find_block;

/// This file's methods.
pub(crate) static METHODS: &[Builtin] = &[builtin!(
    "Blockchain",
    "getblockstats",
    ["hash_or_height", "stats"],
    1,
    "Compute per block statistics for a given window. All amounts are in satoshis.\nIt won't work \
     for some heights with pruning.\nstats: the values to plot (default: all), any of avgfee, \
     avgfeerate, avgtxsize, blockhash, feerate_percentiles, height, ins, maxfee, maxfeerate, \
     maxtxsize, medianfee, mediantime, mediantxsize, minfee, minfeerate, mintxsize, outs, subsidy, \
     swtotal_size, swtotal_weight, swtxs, time, total_out, total_size, total_weight, totalfee, \
     txs, utxo_increase, utxo_size_inc, utxo_increase_actual, utxo_size_inc_actual.",
    getblockstats,
    usage = "getblockstats hash_or_height ( stats )"
)];

/// What one coin costs the UTXO set besides its serialized output (Core's `PER_UTXO_OVERHEAD`).
const PER_UTXO_OVERHEAD: i64 = 40;

/// Every statistic, in the order Core's result has them.
const STATS: [&str; 31] = [
    "avgfee",
    "avgfeerate",
    "avgtxsize",
    "blockhash",
    "feerate_percentiles",
    "height",
    "ins",
    "maxfee",
    "maxfeerate",
    "maxtxsize",
    "medianfee",
    "mediantime",
    "mediantxsize",
    "minfee",
    "minfeerate",
    "mintxsize",
    "outs",
    "subsidy",
    "swtotal_size",
    "swtotal_weight",
    "swtxs",
    "time",
    "total_out",
    "total_size",
    "total_weight",
    "totalfee",
    "txs",
    "utxo_increase",
    "utxo_size_inc",
    "utxo_increase_actual",
    "utxo_size_inc_actual",
];

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn sats(amount: Amount) -> i64 {
    i64::try_from(amount.to_sat()).unwrap_or(i64::MAX)
}

/// Core's truncated median: the middle value, or the mean of the two middle ones (rounded down).
fn truncated_median(mut values: Vec<i64>) -> i64 {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => 0,
        _ if n % 2 == 0 => (values[n / 2 - 1] + values[n / 2]) / 2,
        _ => values[n / 2],
    }
}

/// The fee rates at the 10th, 25th, 50th, 75th and 90th percentiles of the block's weight.
fn percentiles_by_weight(mut rates: Vec<(i64, i64)>, total_weight: i64) -> [i64; 5] {
    let mut result = [0; 5];
    let Some(_) = rates.first() else { return result };
    rates.sort_by_key(|(rate, _)| *rate);
    let total = total_weight as f64;
    let marks = [total / 10.0, total / 4.0, total / 2.0, total * 3.0 / 4.0, total * 9.0 / 10.0];
    let mut next = 0;
    let mut cumulative = 0i64;
    for (rate, weight) in &rates {
        cumulative += weight;
        while next < marks.len() && cumulative as f64 >= marks[next] {
            result[next] = *rate;
            next += 1;
        }
    }
    let last = rates.last().map_or(0, |(rate, _)| *rate);
    result[next..].iter_mut().for_each(|r| *r = last);
    result
}

fn coin_size(output: &TxOut) -> i64 {
    to_i64(serialize(output).len()) + PER_UTXO_OVERHEAD
}

fn getblockstats(d: &Dispatcher, args: &[Value]) -> CallResult {
    if args.is_empty() || args.len() > 2 || args[0].is_null() {
        let usage = super::super::find_builtin("getblockstats").map(Builtin::synopsis).unwrap_or_default();
        return Err(RpcError::new(RpcError::MISC_ERROR, usage));
    }
    let selected: Vec<&str> = match arg(args, 1) {
        None => Vec::new(),
        Some(Value::Array(names)) => names.iter().map(as_str).collect::<Result<_, _>>()?,
        Some(other) => return Err(type_error(other, "array")),
    };
    if let Some(bad) = selected.iter().find(|s| !STATS.contains(s)) {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMETER,
            format!("Invalid selected statistic '{bad}'"),
        ));
    }
    let inner = d.node().lock();
    let chain = &inner.chain;
    let hash: BlockHash = match &args[0] {
        Value::Number(_) => {
            let height = as_i64(&args[0])?;
            if height < 0 {
                return Err(RpcError::new(
                    RpcError::INVALID_PARAMETER,
                    format!("Target block height {height} is negative"),
                ));
            }
            let tip = chain.height();
            u32::try_from(height).ok().and_then(|h| chain.block_hash(h)).ok_or_else(|| {
                RpcError::new(
                    RpcError::INVALID_PARAMETER,
                    format!("Target block height {height} after current tip {tip}"),
                )
            })?
        }
        other => parse_hash(other, "hash_or_height")?,
    };
    let block = find_block(chain, &hash)?;
    let height = chain.block_height(&hash).unwrap_or(0);
    let spent = chain.spent_coins(&hash).unwrap_or_default();
    if spent.len() < block.txdata.iter().skip(1).map(|tx| tx.input.len()).sum::<usize>() {
        return Err(RpcError::new(RpcError::MISC_ERROR, "Can't read undo data from disk"));
    }
    let mut spent_values = spent.iter().map(|(_, coin)| &coin.output);

    let (mut ins, mut outs, mut total_out, mut total_size, mut total_weight) = (0i64, 0i64, 0i64, 0i64, 0i64);
    let (mut totalfee, mut swtxs, mut swtotal_size, mut swtotal_weight) = (0i64, 0i64, 0i64, 0i64);
    let (mut utxo_size_inc, mut utxo_size_inc_actual, mut utxos_actual) = (0i64, 0i64, 0i64);
    let (mut fees, mut sizes, mut rates) = (Vec::new(), Vec::new(), Vec::new());
    for (i, tx) in block.txdata.iter().enumerate() {
        let is_coinbase = i == 0;
        outs += to_i64(tx.output.len());
        let mut tx_out = 0i64;
        for output in &tx.output {
            tx_out += sats(output.value);
            let size = coin_size(output);
            utxo_size_inc += size;
            // The genesis coinbase never enters the UTXO set, nor does an unspendable output.
            if height == 0 || output.script_pubkey.is_op_return() || output.script_pubkey.len() > 10_000 {
                continue;
            }
            utxos_actual += 1;
            utxo_size_inc_actual += size;
        }
        if is_coinbase {
            continue;
        }
        ins += to_i64(tx.input.len());
        total_out += tx_out;
        let size = to_i64(serialize(tx).len());
        let weight = to_i64(tx.weight().to_wu().try_into().unwrap_or(usize::MAX));
        sizes.push(size);
        total_size += size;
        total_weight += weight;
        if has_witness(tx) {
            swtxs += 1;
            swtotal_size += size;
            swtotal_weight += weight;
        }
        let mut tx_in = 0i64;
        for _ in &tx.input {
            let output = spent_values
                .next()
                .ok_or_else(|| RpcError::new(RpcError::MISC_ERROR, "Can't read undo data from disk"))?;
            tx_in += sats(output.value);
            let size = coin_size(output);
            utxo_size_inc -= size;
            utxo_size_inc_actual -= size;
        }
        let fee = tx_in - tx_out;
        totalfee += fee;
        fees.push(fee);
        rates.push((if weight > 0 { fee * 4 / weight } else { 0 }, weight));
    }
    let non_coinbase = to_i64(block.txdata.len().saturating_sub(1));
    let min_or_zero = |v: Option<i64>| v.unwrap_or(0);
    let mut all = Map::new();
    let mut put = |name: &str, value: Value| {
        all.insert(name.to_string(), value);
    };
    put("avgfee", json!(if non_coinbase > 0 { totalfee / non_coinbase } else { 0 }));
    put("avgfeerate", json!(if total_weight > 0 { totalfee * 4 / total_weight } else { 0 }));
    put("avgtxsize", json!(if non_coinbase > 0 { total_size / non_coinbase } else { 0 }));
    put("blockhash", json!(hash.to_string()));
    put("feerate_percentiles", json!(percentiles_by_weight(rates.clone(), total_weight)));
    put("height", json!(height));
    put("ins", json!(ins));
    put("maxfee", json!(fees.iter().copied().max().unwrap_or(0)));
    put("maxfeerate", json!(rates.iter().map(|(r, _)| *r).max().unwrap_or(0)));
    put("maxtxsize", json!(sizes.iter().copied().max().unwrap_or(0)));
    put("medianfee", json!(truncated_median(fees.clone())));
    put("mediantime", json!(chain.median_time_past_of(height)));
    put("mediantxsize", json!(truncated_median(sizes.clone())));
    put("minfee", json!(min_or_zero(fees.iter().copied().min())));
    put("minfeerate", json!(min_or_zero(rates.iter().map(|(r, _)| *r).min())));
    put("mintxsize", json!(min_or_zero(sizes.iter().copied().min())));
    put("outs", json!(outs));
    put("subsidy", json!(sats(chain.params().subsidy(height))));
    put("swtotal_size", json!(swtotal_size));
    put("swtotal_weight", json!(swtotal_weight));
    put("swtxs", json!(swtxs));
    put("time", json!(block.header.time));
    put("total_out", json!(total_out));
    put("total_size", json!(total_size));
    put("total_weight", json!(total_weight));
    put("totalfee", json!(totalfee));
    put("txs", json!(block.txdata.len()));
    put("utxo_increase", json!(outs - ins));
    put("utxo_size_inc", json!(utxo_size_inc));
    put("utxo_increase_actual", json!(utxos_actual - ins));
    put("utxo_size_inc_actual", json!(utxo_size_inc_actual));
    if selected.is_empty() {
        return Ok(Value::Object(all));
    }
    // Core answers the selected ones in name order, each once.
    let mut chosen: Vec<(String, Value)> =
        all.into_iter().filter(|(name, _)| selected.contains(&name.as_str())).collect();
    chosen.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Value::Object(chosen.into_iter().collect()))
}

fn has_witness(tx: &Transaction) -> bool {
    tx.input.iter().any(|input| !input.witness.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_truncate() {
        assert_eq!(truncated_median(vec![]), 0);
        assert_eq!(truncated_median(vec![3, 1, 2]), 2);
        assert_eq!(truncated_median(vec![2880, 43200, 19740, 19740]), 19740);
        assert_eq!(truncated_median(vec![1, 2]), 1);
    }

    #[test]
    fn percentiles_follow_weight() {
        assert_eq!(percentiles_by_weight(vec![], 0), [0; 5]);
        assert_eq!(percentiles_by_weight(vec![(20, 500), (301, 500)], 1000), [20, 20, 20, 301, 301]);
        assert_eq!(percentiles_by_weight(vec![(5, 100)], 100), [5; 5]);
    }
}
